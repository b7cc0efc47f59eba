// Load, deadlines and cancellation on real Postgres: 200 concurrent mixed calls on one session finish
// with no error; a call that cannot get a connection in time is told the server is busy (not that the
// database is unreachable); a deadline or a client's cancellation stops the statement in Postgres;
// progress notifications reach a client that asks; the server's log lines reach a client that asks.

import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { LoggingMessageNotificationSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { generateDemoDataset, type DemoManifest } from "../../src/demo/demo-dataset.js";
import { BusyError, CancelledError, DeadlineError } from "../../src/errors.js";
import { runInScope, type RequestScope } from "../../src/request-scope.js";
import { PostgresDatabase } from "../../src/store/postgres.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans } from "../../src/store/span-writer.js";
import { requirePostgresOrSkip, TEST_DATABASE_URL } from "../support/test-databases.js";
import { connectTools, textOf, type ToolClient } from "../support/tool-client.js";

const ready = await requirePostgresOrSkip();
const NOW = new Date();

/** A scope like a tool call's: aborted at its deadline or by hand. */
function scope(timeoutMs: number): { scope: RequestScope; cancel: () => void; done: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("deadline")), timeoutMs);
  return {
    scope: { signal: controller.signal, deadlineMs: Date.now() + timeoutMs, timeoutMs, step: () => {} },
    cancel: () => controller.abort(),
    done: () => clearTimeout(timer),
  };
}

describe.runIf(ready)("load, deadlines and cancellation on Postgres", () => {
  const schema = `td_load_${process.pid}_${randomBytes(3).toString("hex")}`;
  const app = `trace-doctor-test-${randomBytes(4).toString("hex")}`;
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  let db: PostgresDatabase;
  let tools: ToolClient;
  let manifest: DemoManifest;

  /** Statements of this test's server still running in Postgres. */
  const running = async (like: string) =>
    (await admin.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE $2`, [app, like])).rows[0].n as number;

  beforeAll(async () => {
    await admin.query(`CREATE SCHEMA ${schema}`);
    await applySchema(admin, `${schema}.trace_spans`);
    const data = generateDemoDataset({ now: NOW });
    manifest = data.manifest;
    await insertSpans(admin, data.rows, `${schema}.trace_spans`);
    // A view that sleeps per row: a slow table to cancel and time out.
    await admin.query(`CREATE VIEW ${schema}.slow_spans AS SELECT t.* FROM ${schema}.trace_spans t CROSS JOIN LATERAL pg_sleep(0.3 + 0 * length(t.span_id)) z`);
    db = new PostgresDatabase(TEST_DATABASE_URL!, { statementTimeoutMs: 20_000, poolMax: 4, applicationName: app });
    tools = await connectTools({ spans: new SpanTable(db, `${schema}.trace_spans`, ["job_id"]) });
  });
  afterAll(async () => {
    await tools?.close();
    await db?.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it("200 concurrent mixed calls on one session finish with no error", async () => {
    const ex = manifest.examples;
    const calls: Array<[string, Record<string, unknown>]> = [
      ["get_trace", { job_id: ex.immediateFailureJobId }],
      ["get_trace", { trace_id: ex.successTraceId }],
      ["list_failed_spans", { limit: 5 }],
      ["find_gaps", { job_id: ex.immediateFailureJobId }],
      ["diagnose", { job_id: ex.timeoutJobId }],
    ];
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => tools.call(calls[i % calls.length]![0], calls[i % calls.length]![1])));
    const errors = results.filter((r) => r.isError).map((r) => textOf(r).slice(0, 200));
    expect(errors).toEqual([]);
  }, 60_000);

  it("a call that cannot get a connection before its deadline is told the server is busy", async () => {
    const one = new PostgresDatabase(TEST_DATABASE_URL!, { statementTimeoutMs: 20_000, poolMax: 1, applicationName: app });
    const holder = scope(10_000);
    const waiter = scope(300);
    try {
      const holding = runInScope(holder.scope, () => one.query("SELECT pg_sleep(1.5)"));
      await new Promise((r) => setTimeout(r, 100));
      const error = await runInScope(waiter.scope, () => one.query("SELECT 1")).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BusyError);
      expect((error as Error).message).toMatch(/busy: this call waited \d+ ms behind 0 other\(s\) for one of its 1 database connections .* The database itself is fine/);
      expect((error as Error).message).not.toMatch(/Cannot connect|unreachable/);
      await holding;
    } finally {
      holder.done();
      waiter.done();
      await one.close();
    }
  });

  it("a deadline stops the statement in Postgres, not only the answer", async () => {
    const s = scope(400);
    const t0 = Date.now();
    const error = await runInScope(s.scope, () => db.query("SELECT pg_sleep(10)")).catch((e: unknown) => e);
    s.done();
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as Error).message).toMatch(/did not finish within its 400 ms deadline \(TRACE_DOCTOR_REQUEST_TIMEOUT_MS\)/);
    expect(Date.now() - t0).toBeLessThan(5000);
    await expect.poll(() => running("%pg_sleep(10)%"), { timeout: 3000 }).toBe(0);
  });

  it("a client's cancellation aborts the running statement in Postgres", async () => {
    const slow = await connectTools({ spans: new SpanTable(db, `${schema}.slow_spans`, ["job_id"]) });
    try {
      const controller = new AbortController();
      const call = slow.client.callTool({ name: "get_trace", arguments: { trace_id: manifest.examples.successTraceId } }, undefined, { signal: controller.signal });
      await expect.poll(() => running("%slow_spans%"), { timeout: 5000 }).toBeGreaterThan(0);
      controller.abort();
      await expect(call).rejects.toThrow();
      await expect.poll(() => running("%slow_spans%"), { timeout: 3000 }).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it("sends progress to a client that asks, for a call longer than a second", async () => {
    const slow = await connectTools({ spans: new SpanTable(db, `${schema}.slow_spans`, ["job_id"]) });
    try {
      const progress: Array<{ progress: number; message?: string }> = [];
      const result = (await slow.client.callTool({ name: "get_trace", arguments: { trace_id: manifest.examples.successTraceId } }, undefined, {
        onprogress: (p) => progress.push(p),
        timeout: 30_000,
      })) as CallToolResult;
      expect(result.isError, textOf(result)).toBeFalsy();
      expect(progress.length).toBeGreaterThan(0);
      expect(progress[0]!.message).toMatch(/^get_trace: /);
      expect(progress.map((p) => p.progress)).toEqual([...progress.map((p) => p.progress)].sort((a, b) => a - b));
    } finally {
      await slow.close();
    }
  });

  it("a deadline on a tool call answers with a timeout that says what to do", async () => {
    const slow = await connectTools({ spans: new SpanTable(db, `${schema}.slow_spans`, ["job_id"]), limits: { requestTimeoutMs: 500 } });
    try {
      const error = await slow.error("get_trace", { trace_id: manifest.examples.successTraceId });
      expect(error.code).toBe("timeout");
      expect(error.text).toMatch(/500 ms deadline/);
      await expect.poll(() => running("%slow_spans%"), { timeout: 3000 }).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it("logging/setLevel: the server's log lines arrive as notifications/message at that level", async () => {
    const messages: Array<{ level: string; data: unknown }> = [];
    tools.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void messages.push(n.params));
    await tools.call("get_trace", { trace_id: manifest.examples.successTraceId });
    expect(messages).toEqual([]);
    await tools.client.setLoggingLevel("debug");
    await tools.call("get_trace", { trace_id: manifest.examples.successTraceId });
    await expect.poll(() => messages.some((m) => m.level === "debug" && /get_trace: answered in \d+ ms/.test(String(m.data))), { timeout: 2000 }).toBe(true);
    await tools.client.setLoggingLevel("error");
    messages.length = 0;
    await tools.call("get_trace", { trace_id: manifest.examples.successTraceId });
    await new Promise((r) => setTimeout(r, 100));
    expect(messages).toEqual([]);
  });

  it("a cancelled scope never reaches the database", async () => {
    const s = scope(10_000);
    s.cancel();
    await expect(runInScope(s.scope, () => db.query("SELECT 1"))).rejects.toBeInstanceOf(CancelledError);
    s.done();
  });
});
