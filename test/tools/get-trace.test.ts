// get_trace against real databases: the demo dataset and the table contract's variants, on PGlite
// and on Postgres, through the real SpanTable and the tool handler.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDemoDataset, type DemoManifest } from "../../src/demo/demo-dataset.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans } from "../../src/store/span-writer.js";
import getTrace from "../../src/tools/get-trace.js";
import { backends, type TestDatabase } from "../support/test-databases.js";
import { toolsFor } from "../support/tool-client.js";

const NOW = new Date();

function textOf(result: { content: Array<{ type: string; text?: string }> }): string {
  return result.content.map((c) => c.text ?? "").join("\n");
}

const call = async (spans: SpanTable, args: Record<string, unknown>) => (await toolsFor(spans)).call("get_trace", args);
const parse = (result: { structuredContent?: unknown }) => getTrace.outputSchema.parse(result.structuredContent);

describe.each(await backends())("get_trace on $name", ({ open }) => {
  let db: TestDatabase;
  let spans: SpanTable;
  let manifest: DemoManifest;

  beforeAll(async () => {
    db = await open();
    await applySchema(db.writer, db.table());
    const data = generateDemoDataset({ now: NOW });
    manifest = data.manifest;
    await insertSpans(db.writer, data.rows, db.table());
    spans = new SpanTable(db.reader, db.table(), ["job_id"]);
  });
  afterAll(() => db?.close());

  it("shows the 13 ms failing job by job_id: runner spans only, failed, no router hop", async () => {
    const result = await call(spans, { job_id: manifest.examples.immediateFailureJobId });
    expect(result.isError).toBeFalsy();
    const out = parse(result);
    expect(out.resolved).toMatchObject({ by: "job_id", key: "job_id" });
    expect(out.trace_ids).toEqual([manifest.examples.immediateFailureTraceId]);
    expect(out.services).toEqual(["runner"]);
    expect(out.duration_ms).toBe(13);
    expect(out.status_counts).toEqual({ failed: 2 });
    expect(out.spans.map((s) => `${s.service}.${s.operation}`)).toEqual(["runner.execute_question", "runner.call_router"]);
    expect(out.spans[0]!.metadata).toMatchObject({ region: "US", model: "llama3.2-1b", provider_id: "modal-us-east", has_output: false });
    const text = textOf(result);
    expect(text).toContain("runner.execute_question FAILED");
    expect(text).toContain('error="execution failed"');
    expect(text).not.toContain("router.inference_request");
  });

  it("shows a successful job with every hop, offsets and the critical path", async () => {
    const result = await call(spans, { trace_id: manifest.examples.successTraceId });
    const out = parse(result);
    expect(out.services).toEqual(["runner", "router", "modal"]);
    expect(out.span_count).toBe(6);
    const byOp = Object.fromEntries(out.spans.map((s) => [s.operation, s]));
    expect(byOp.inference_request!.depth).toBe(2);
    expect(byOp.run_inference!.critical).toBe(true);
    expect(byOp.run_inference!.offset_ms).toBeGreaterThan(byOp.inference_request!.offset_ms);
    expect(out.critical_path[0]!.operation).toBe("execute_question");
    expect(out.truncated).toBe(false);
  });

  it("joins the router hop that wrote its own trace_id, by job_id, from either side", async () => {
    const { linkedByJobIdRunnerTraceId: runner, linkedByJobIdRouterTraceId: router, linkedByJobIdJobId: job } = manifest.examples;
    for (const args of [{ trace_id: runner }, { job_id: job }, { trace_id: router }]) {
      const out = parse(await call(spans, args));
      expect(new Set(out.trace_ids)).toEqual(new Set([runner, router]));
      const hop = out.spans.find((s) => s.operation === "inference_request")!;
      expect(hop.linked_by).toBe("job_id");
      expect(hop.trace_id).toBe(router);
      expect(out.roots).toHaveLength(1);
      expect(out.roots[0]!.operation).toBe("execute_question");
    }
  });

  it("keeps a trace to itself when include_linked is false", async () => {
    const out = parse(await call(spans, { trace_id: manifest.examples.linkedByJobIdRunnerTraceId, include_linked: false }));
    expect(out.trace_ids).toEqual([manifest.examples.linkedByJobIdRunnerTraceId]);
    expect(out.services).not.toContain("router");
  });

  it("accepts a job id passed as trace_id, and says so", async () => {
    const result = await call(spans, { trace_id: manifest.examples.immediateFailureJobId });
    const out = parse(result);
    expect(out.trace_ids).toEqual([manifest.examples.immediateFailureTraceId]);
    expect(out.resolved.note).toMatch(/No trace has id .* job_id/);
    expect(textOf(result)).toContain("showing those");
  });

  it("answers an unknown id with isError, what it searched, and recent failing traces", async () => {
    const result = await call(spans, { trace_id: "no-such-trace" });
    expect(result.isError).toBe(true);
    const text = textOf(result);
    expect(text).toContain('"no-such-trace"');
    expect(text).toMatch(/Recent failing spans/);
    expect(text).toMatch(/trace_id=[0-9a-f]{32} job_id=bias-detection-\d+/);
  });

  it("rejects neither or both ids with a message naming what to give", async () => {
    expect(textOf(await call(spans, {}))).toMatch(/Give a trace_id .* or a job_id/);
    expect(textOf(await call(spans, { trace_id: "a", job_id: "b" }))).toMatch(/not both/);
  });

  it("focuses on a subtree, and rejects a focus span that is not in the trace", async () => {
    const all = parse(await call(spans, { trace_id: manifest.examples.successTraceId }));
    const router = all.spans.find((s) => s.operation === "inference_request")!;
    const focused = parse(await call(spans, { trace_id: manifest.examples.successTraceId, focus_span_id: router.span_id }));
    expect(focused.spans.map((s) => s.service)).toEqual(["router", "router", "modal"]);
    const bad = await call(spans, { trace_id: manifest.examples.successTraceId, focus_span_id: "nope" });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/Span nope is not in/);
  });
});

/** The contract's common variants: uuid ids, float or missing duration_ms, json metadata, extra columns. */
const VARIANTS: Array<{ name: string; ddl: (t: string) => string; insert: (t: string) => string }> = [
  {
    name: "uuid ids, float duration, extra columns",
    ddl: (t) => `CREATE TABLE ${t} (id bigserial primary key, trace_id uuid not null, span_id uuid not null, parent_span_id uuid,
      service text not null, operation text not null, started_at timestamptz not null, completed_at timestamptz,
      duration_ms double precision, status text not null, error_message text, metadata jsonb not null default '{}',
      tenant text default 'acme', attributes jsonb)`,
    insert: (t) => `INSERT INTO ${t} (trace_id, span_id, parent_span_id, service, operation, started_at, completed_at, duration_ms, status, error_message, metadata) VALUES
      ('11111111-1111-1111-1111-111111111111', 'aaaaaaaa-0000-0000-0000-000000000001', NULL, 'runner', 'execute_question', '2025-10-22T12:00:00.000Z', '2025-10-22T12:00:00.013Z', 13.4, 'FAILED', 'execution failed', '{"job_id":"job-1"}'),
      ('11111111-1111-1111-1111-111111111111', 'aaaaaaaa-0000-0000-0000-000000000002', 'aaaaaaaa-0000-0000-0000-000000000001', 'runner', 'call_router', '2025-10-22T12:00:00.001Z', '2025-10-22T12:00:00.012Z', 10.6, 'failed', NULL, '{}')`,
  },
  {
    name: "no duration_ms column, json (not jsonb) metadata",
    ddl: (t) => `CREATE TABLE ${t} (trace_id text not null, span_id text not null, parent_span_id text, service text not null,
      operation text not null, started_at timestamptz not null, completed_at timestamptz, status text not null,
      error_message text, metadata json)`,
    insert: (t) => `INSERT INTO ${t} VALUES
      ('11111111-1111-1111-1111-111111111111', 'aaaaaaaa-0000-0000-0000-000000000001', NULL, 'runner', 'execute_question', '2025-10-22T12:00:00.000Z', '2025-10-22T12:00:00.013Z', 'failed', 'execution failed', '{"job_id":"job-1"}'),
      ('11111111-1111-1111-1111-111111111111', 'aaaaaaaa-0000-0000-0000-000000000002', 'aaaaaaaa-0000-0000-0000-000000000001', 'runner', 'call_router', '2025-10-22T12:00:00.001Z', '2025-10-22T12:00:00.012Z', 'failed', NULL, NULL)`,
  },
  {
    name: "integer duration_ms NULL everywhere (derived from completed_at)",
    ddl: (t) => `CREATE TABLE ${t} (trace_id text not null, span_id text not null, parent_span_id text, service text not null,
      operation text not null, started_at timestamptz not null, completed_at timestamptz, duration_ms integer, status text not null,
      error_message text, metadata jsonb not null default '{}')`,
    insert: (t) => `INSERT INTO ${t} VALUES
      ('11111111-1111-1111-1111-111111111111', 'aaaaaaaa-0000-0000-0000-000000000001', NULL, 'runner', 'execute_question', '2025-10-22T12:00:00.000Z', '2025-10-22T12:00:00.013Z', NULL, 'failed', 'execution failed', '{"job_id":"job-1"}'),
      ('11111111-1111-1111-1111-111111111111', 'aaaaaaaa-0000-0000-0000-000000000002', 'aaaaaaaa-0000-0000-0000-000000000001', 'runner', 'call_router', '2025-10-22T12:00:00.001Z', '2025-10-22T12:00:00.012Z', NULL, 'failed', NULL, '{}')`,
  },
];

describe.each(await backends())("table variants on $name", ({ open }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(() => db?.close());

  it.each(VARIANTS.map((v, i) => [v.name, v, i] as const))("reads the same tree from: %s", async (_, variant, i) => {
    const table = db.table(`variant_${i}`);
    await db.writer.query(variant.ddl(table));
    await db.writer.query(variant.insert(table));
    const spans = new SpanTable(db.reader, table, ["job_id"]);
    for (const args of [{ trace_id: "11111111-1111-1111-1111-111111111111" }, { job_id: "job-1" }]) {
      const result = await call(spans, args);
      expect(result.isError, textOf(result)).toBeFalsy();
      const out = parse(result);
      expect(out.spans.map((s) => [s.operation, s.depth, s.status])).toEqual([
        ["execute_question", 0, "failed"],
        ["call_router", 1, "failed"],
      ]);
      expect(out.duration_ms).toBeCloseTo(13, 0);
      expect(out.spans[1]!.duration_ms).toBeCloseTo(11, 0);
    }
    // A uuid column given a non-uuid id is "not found", not a database error.
    const miss = await call(spans, { trace_id: "not-a-uuid" });
    expect(miss.isError).toBe(true);
    expect(textOf(miss)).toContain("No spans found");
  });

  it("names the missing table and how to fix it", async () => {
    const spans = new SpanTable(db.reader, db.table("absent"), ["job_id"]);
    const result = await call(spans, { trace_id: "x" });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/No table .*absent.*TRACE_DOCTOR_TABLE.*init-db/);
  });

  it("names missing required columns", async () => {
    const table = db.table("bad_shape");
    await db.writer.query(`CREATE TABLE ${table} (trace_id text, span_id text)`);
    const result = await call(new SpanTable(db.reader, table, ["job_id"]), { trace_id: "x" });
    expect(textOf(result)).toMatch(/lacks required column\(s\) service, operation, started_at, status/);
  });
});
