// Argument completion from live data, on PGlite and Postgres with the demo day: each source, prefix
// filtering (case-insensitive), the cap of 20, the recent window — and that no error ever escapes.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDemoDataset, type DemoManifest, type DemoSpanRow } from "../../src/demo/demo-dataset.js";
import { MAX_COMPLETIONS, SpanArgumentCompleter, type SentryIssueSearch } from "../../src/prompts/argument-completion.js";
import type { ReadOnlyDatabase, Row } from "../../src/store/database.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans } from "../../src/store/span-writer.js";
import { backends, type TestDatabase } from "../support/test-databases.js";

const NOW_MS = Date.now();
const DAY_MS = 24 * 3_600_000;
const FAILING = new Set(["failed", "error", "timeout"]);

/** Distinct values of the failing rows in the last 24 h, by their newest failing span. */
function expectedFailing(rows: DemoSpanRow[], value: (r: DemoSpanRow) => string | undefined): string[] {
  const newest = new Map<string, number>();
  for (const r of rows) {
    const v = value(r);
    const at = Date.parse(r.started_at);
    if (!v || !FAILING.has(r.status.toLowerCase()) || at < NOW_MS - DAY_MS) continue;
    newest.set(v, Math.max(newest.get(v) ?? 0, at));
  }
  return [...newest].sort((a, b) => b[1] - a[1]).map(([v]) => v);
}

class CountingDatabase implements ReadOnlyDatabase {
  statements = 0;
  constructor(private readonly inner: ReadOnlyDatabase) {}
  get label() {
    return this.inner.label;
  }
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    this.statements++;
    return this.inner.query<T>(sql, params);
  }
  close() {
    return this.inner.close();
  }
}

describe.each(await backends())("argument completion on $name", ({ open }) => {
  let db: TestDatabase;
  let rows: DemoSpanRow[];
  let manifest: DemoManifest;
  let spans: SpanTable;
  let completer: SpanArgumentCompleter;

  beforeAll(async () => {
    db = await open();
    await applySchema(db.writer, db.table());
    const data = generateDemoDataset({ now: new Date(NOW_MS) });
    rows = data.rows;
    manifest = data.manifest;
    // One failing span outside the window: completion must not offer it.
    const old: DemoSpanRow = { ...rows.find((r) => r.status === "failed")!, trace_id: "old-trace-0001", span_id: "old-span-0001", started_at: new Date(NOW_MS - 3 * DAY_MS).toISOString(), completed_at: null, duration_ms: 5, metadata: { job_id: "bias-detection-old-1", region: "MARS" } };
    rows = [...rows, old];
    await insertSpans(db.writer, rows, db.table());
    spans = new SpanTable(db.reader, db.table(), ["job_id"]);
    completer = new SpanArgumentCompleter(spans, { now: () => NOW_MS, cacheTtlMs: 0 });
  });
  afterAll(() => db?.close());

  it("job_ids: the newest failing jobs first, at most 20", async () => {
    const expected = expectedFailing(rows, (r) => r.metadata.job_id as string | undefined);
    expect(expected.length).toBeGreaterThan(MAX_COMPLETIONS);
    expect(await completer.complete("job_ids", "")).toEqual(expected.slice(0, MAX_COMPLETIONS));
  });

  it("job_ids: prefix-filtered case-insensitively, including the 13 ms failure and never the old one", async () => {
    const job = manifest.examples.immediateFailureJobId;
    const prefix = job.slice(0, -3);
    const values = await completer.complete("job_ids", prefix.toUpperCase());
    expect(values).toContain(job);
    expect(values.every((v) => v.startsWith(prefix))).toBe(true);
    expect(values).toEqual(expectedFailing(rows, (r) => r.metadata.job_id as string | undefined).filter((v) => v.startsWith(prefix)).slice(0, 20));
    expect(await completer.complete("job_ids", "bias-detection-old")).toEqual([]);
    expect(await completer.complete("job_ids", manifest.examples.successJobId)).toEqual([]);
  });

  it("trace_ids: the newest failing traces, prefix-filtered", async () => {
    const expected = expectedFailing(rows, (r) => r.trace_id);
    expect(await completer.complete("trace_ids", "")).toEqual(expected.slice(0, 20));
    const trace = manifest.examples.immediateFailureTraceId;
    expect(await completer.complete("trace_ids", trace.slice(0, 6).toUpperCase())).toContain(trace);
    expect(await completer.complete("trace_ids", "old-trace")).toEqual([]);
  });

  it("services and operations: plain names seen recently, most frequent first", async () => {
    const services = await completer.complete("services", "");
    expect(new Set(services)).toEqual(new Set(rows.filter((r) => Date.parse(r.started_at) >= NOW_MS - DAY_MS).map((r) => r.service)));
    expect(await completer.complete("services", "RO")).toEqual(["router"]);
    const operations = await completer.complete("operations", "");
    expect(operations).toEqual(expect.arrayContaining(["execute_question", "call_router", "inference_request"]));
    expect(operations.every((o) => !o.includes("."))).toBe(true);
    expect(await completer.complete("operations", "Exec")).toEqual(["execute_question"]);
    expect(await completer.complete("operations", "zzz")).toEqual([]);
  });

  it("edges: caller → callee service pairs of recent parent/child spans", async () => {
    const edges = await completer.complete("edges", "");
    expect(edges).toEqual(expect.arrayContaining(["runner → router", "router → modal"]));
    expect(edges.every((e) => /^\S+ → \S+$/.test(e) && e.split(" → ")[0] !== e.split(" → ")[1])).toBe(true);
    expect(await completer.complete("edges", "ROUTER")).toEqual(edges.filter((e) => e.startsWith("router ")));
  });

  it("metadata:<key>: distinct values of that key, prefix-filtered and capped", async () => {
    expect(new Set(await completer.complete("metadata:region", ""))).toEqual(new Set(["US", "EU", "ASIA"]));
    expect(await completer.complete("metadata:region", "e")).toEqual(["EU"]);
    expect(await completer.complete("metadata:job_id", "")).toHaveLength(20);
    expect(await completer.complete("metadata:no_such_key", "")).toEqual([]);
    expect(await completer.complete("metadata:bad key'; drop", "")).toEqual([]);
  });

  it("looks only at the window it is given", async () => {
    const narrow = new SpanArgumentCompleter(spans, { now: () => NOW_MS - 2 * DAY_MS, windowMs: 2 * DAY_MS, cacheTtlMs: 0 });
    expect(await narrow.complete("metadata:region", "m")).toEqual(["MARS"]);
    expect(await narrow.complete("job_ids", "bias-detection-old")).toEqual(["bias-detection-old-1"]);
  });

  it("works on a uuid-typed table", async () => {
    const table = db.table("uuid_spans");
    await db.writer.query(`CREATE TABLE ${table} (trace_id uuid not null, span_id uuid not null, parent_span_id uuid, service text not null,
      operation text not null, started_at timestamptz not null, duration_ms double precision, status text not null, metadata json)`);
    const at = new Date(NOW_MS - 60_000).toISOString();
    await db.writer.query(`INSERT INTO ${table} VALUES
      ('11111111-1111-1111-1111-111111111111', 'aaaaaaaa-0000-0000-0000-000000000001', NULL, 'runner', 'execute_question', '${at}', 13.4, 'FAILED', '{"job_id":"job-1"}'),
      ('11111111-1111-1111-1111-111111111111', 'aaaaaaaa-0000-0000-0000-000000000002', 'aaaaaaaa-0000-0000-0000-000000000001', 'router', 'inference_request', '${at}', 10.6, 'completed', '{}')`);
    const c = new SpanArgumentCompleter(new SpanTable(db.reader, table, ["job_id"]), { now: () => NOW_MS });
    expect(await c.complete("job_ids", "JOB")).toEqual(["job-1"]);
    expect(await c.complete("trace_ids", "1111")).toEqual(["11111111-1111-1111-1111-111111111111"]);
    expect(await c.complete("edges", "")).toEqual(["runner → router"]);
  });

  it("never throws: a missing table, a hung query, a failing Sentry all answer []", async () => {
    const missing = new SpanArgumentCompleter(new SpanTable(db.reader, db.table("no_such_table"), ["job_id"]));
    for (const source of ["job_ids", "trace_ids", "services", "operations", "edges", "metadata:region"] as const) {
      expect(await missing.complete(source, "")).toEqual([]);
    }
    const hung = { correlationKeys: ["job_id"], sql: () => spans.sql(), query: () => new Promise<never>(() => {}) };
    const started = Date.now();
    expect(await new SpanArgumentCompleter(hung, { timeoutMs: 50 }).complete("services", "")).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
    const broken: SentryIssueSearch = { searchIssues: () => Promise.reject(new Error("HTTP 500")) };
    expect(await new SpanArgumentCompleter(spans, { sentry: broken }).complete("sentry_issues", "")).toEqual([]);
  });

  it("reuses an answer for the same source and prefix within its time to live", async () => {
    const counting = new CountingDatabase(db.reader);
    let now = NOW_MS;
    const cached = new SpanArgumentCompleter(new SpanTable(counting, db.table(), ["job_id"]), { now: () => now, cacheTtlMs: 10_000 });
    const first = await cached.complete("services", "r");
    const after = counting.statements;
    expect(await cached.complete("services", "R")).toEqual(first);
    expect(counting.statements).toBe(after);
    now += 11_000;
    await cached.complete("services", "r");
    expect(counting.statements).toBe(after + 1);
  });
});

describe("sentry_issues completion", () => {
  const issues = Array.from({ length: 30 }, (_, i) => ({ id: String(4700 + i), shortId: i % 2 ? `RUNNER-${i.toString(36).toUpperCase()}` : `ROUTER-${i}`, title: "Execution failed" }));
  const spans = { correlationKeys: ["job_id"], sql: () => Promise.reject(new Error("unused")), query: () => Promise.reject(new Error("unused")) };

  it("offers short ids of unresolved issues, prefix-filtered and capped", async () => {
    const queries: string[] = [];
    const sentry: SentryIssueSearch = {
      searchIssues: async (query) => {
        queries.push(query);
        return { issues: [...issues, { id: "9999", shortId: null, title: null }] };
      },
    };
    const c = new SpanArgumentCompleter(spans, { sentry });
    const all = await c.complete("sentry_issues", "");
    expect(all).toHaveLength(20);
    expect(all[0]).toBe("ROUTER-0");
    expect(queries).toEqual(["is:unresolved"]);
    expect(await c.complete("sentry_issues", "runner-")).toEqual(issues.filter((i) => i.shortId.startsWith("RUNNER-")).map((i) => i.shortId));
    expect(await c.complete("sentry_issues", "99")).toEqual(["9999"]);
  });

  it("offers nothing without a Sentry client", async () => {
    expect(await new SpanArgumentCompleter(spans).complete("sentry_issues", "")).toEqual([]);
    expect(await new SpanArgumentCompleter(spans, { sentry: null }).complete("sentry_issues", "R")).toEqual([]);
  });
});
