// list_failed_spans against real databases (PGlite, and Postgres when available) with hand-built rows
// around a fixed "now": clusters, duration shape, success rates, distinguishing metadata, unfinished
// spans, every filter, keyset paging, the errors a model can act on, and the SQL error signature.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorSignature } from "../../src/analysis/failure-clusters.js";
import { formatMs } from "../../src/analysis/format.js";
import { CONTRASTED_CLUSTERS, GUESS_SAMPLE, OPERATION_COUNT_EXACT, OPERATION_SLICE_SAMPLE, OPERATION_SLICES, WINDOW_SUMMARY_CAP } from "../../src/analysis/defaults.js";
import type { ReadOnlyDatabase, Row as DbRow } from "../../src/store/database.js";
import { SpanSql } from "../../src/store/span-sql.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans, type SpanRowInput } from "../../src/store/span-writer.js";
import type { FailureReport } from "../../src/analysis/failure-report.js";
import listFailedSpans from "../../src/tools/list-failed-spans.js";
import { backends, type TestDatabase } from "../support/test-databases.js";
import { connectTools, type ToolClient } from "../support/tool-client.js";

/** 2025-10-22T18:30:00Z: every row is placed relative to it. */
const NOW = Date.UTC(2025, 9, 22, 18, 30, 0);
const MIN = 60_000;
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * MIN).toISOString();

interface Row {
  trace: string;
  span: string;
  parent?: string;
  service: string;
  operation: string;
  minutesAgo: number;
  /** null: never finished (no completed_at, no duration_ms). */
  duration: number | null;
  status: string;
  error?: string;
  metadata?: Record<string, unknown>;
}

function toRow(r: Row): SpanRowInput {
  const start = NOW - r.minutesAgo * MIN;
  return {
    trace_id: r.trace,
    span_id: r.span,
    parent_span_id: r.parent ?? null,
    service: r.service,
    operation: r.operation,
    started_at: new Date(start).toISOString(),
    completed_at: r.duration === null ? null : new Date(start + r.duration).toISOString(),
    duration_ms: r.duration,
    status: r.status,
    error_message: r.error ?? null,
    metadata: r.metadata ?? {},
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const UUIDS = ["8f14e45f-ceea-467f-a0e6-2b1c1a2b3c4d", "c9f0f895-fb98-4b91-99f5-1a1b2c3d4e5f", "45c48cce-2e2d-4fbd-b3a2-0a0b0c0d0e0f"];

// runner.execute_question failing in 12-14 ms, in any case of 'failed', all region=US, no output.
const immediate: Row[] = range(6).map((i) => ({
  trace: `ti${i}`,
  span: `si${i}`,
  service: "runner",
  operation: "execute_question",
  minutesAgo: [10, 20, 30, 40, 50, 50][i]!,
  duration: 12 + (i % 3),
  status: ["failed", "FAILED", "Failed", "failed", "FAILED", "failed"][i]!,
  error: `execution failed after ${12 + (i % 3)}ms (job ${i})`,
  metadata: { job_id: `job-i${i}`, region: "US", model: "llama3.2-1b", provider_id: "modal-us-east", attempt: 1, has_output: false },
}));
// The same error after 30 s: a different failure, which must not share the 13 ms cluster.
const slow: Row[] = range(3).map((i) => ({
  trace: `tw${i}`,
  span: `sw${i}`,
  service: "runner",
  operation: "execute_question",
  minutesAgo: [15, 35, 55][i]!,
  duration: [29_990, 30_000, 30_010][i]!,
  status: "failed",
  error: `execution failed after ${[29_990, 30_000, 30_010][i]}ms (job ${10 + i})`,
  metadata: { job_id: `job-w${i}`, region: ["EU", "US", "EU"][i], model: "llama3.2-1b", attempt: 1, has_output: false },
}));
// Successes of the same operation: 3 of 10 in US.
const successes: Row[] = range(10).map((i) => ({
  trace: `to${i}`,
  span: `so${i}`,
  service: "runner",
  operation: "execute_question",
  minutesAgo: 5 + 7 * i,
  duration: 900 + 10 * i,
  status: i === 0 ? "COMPLETED" : "completed",
  metadata: {
    job_id: `job-o${i}`,
    region: i < 3 ? "US" : "EU",
    provider_id: i < 3 ? "modal-us-east" : "modal-eu-west",
    model: "llama3.2-1b",
    attempt: 1,
    has_output: true,
  },
}));
// Successes of another operation, all in US: if they leaked into the contrast, region=US would not stand out.
const routerSuccesses: Row[] = range(20).map((i) => ({
  trace: `tr${i}`,
  span: `sr${i}`,
  service: "router",
  operation: "inference_request",
  minutesAgo: 3 + 3 * i,
  duration: 400,
  status: "completed",
  metadata: { region: "US" },
}));
const routerErrors: Row[] = range(3).map((i) => ({
  trace: `te${i}`,
  span: `se${i}`,
  service: "router",
  operation: "inference_request",
  minutesAgo: [25, 45, 65][i]!,
  duration: [200, 800, 2500][i]!,
  status: ["Error", "error", "ERROR"][i]!,
  error: `upstream 503 from "modal-us-east" for request ${UUIDS[i]}`,
  metadata: { region: "EU", attempt: 2 },
}));
const other: Row[] = [
  // A child failing with its parent, at the same instant, in the same trace.
  { trace: "ti0", span: "si0c", parent: "si0", service: "runner", operation: "call_router", minutesAgo: 10, duration: 11, status: "failed" },
  { trace: "tm0", span: "sm0", service: "modal", operation: "run_inference", minutesAgo: 100, duration: 60_000, status: "TIMEOUT", error: "deadline exceeded after 60s", metadata: { region: "US" } },
  // Started two hours ago and never finished; and one started two minutes ago, still legitimately running.
  { trace: "tu0", span: "su0", service: "runner", operation: "execute_question", minutesAgo: 120, duration: null, status: "started", metadata: { job_id: "job-u0", region: "US" } },
  { trace: "tu1", span: "su1", service: "runner", operation: "execute_question", minutesAgo: 2, duration: null, status: "started", metadata: { job_id: "job-u1", region: "US" } },
  // Two days ago: outside the default window.
  { trace: "tx0", span: "sx0", service: "runner", operation: "execute_question", minutesAgo: 2 * 24 * 60, duration: 13, status: "failed", error: "execution failed after 13ms (job 99)", metadata: { region: "US" } },
];
const ROWS = [...immediate, ...slow, ...successes, ...routerSuccesses, ...routerErrors, ...other];

/** Failing spans of the default window, newest first, ties broken by trace id then span id (descending). */
const FAILING_NEWEST_FIRST = [
  "si0c", "si0", "sw0", "si1", "se0", "si2", "sw1", "si3", "se1", "si5", "si4", "sw2", "se2", "sm0", "su0",
];

const OPTIONS = { immediateMs: 100, unfinishedAfterMs: 10 * MIN, now: () => NOW };

function textOf(result: { content: Array<{ type: string; text?: string }> }): string {
  return result.content.map((c) => c.text ?? "").join("\n");
}

describe.each(await backends())("list_failed_spans on $name", ({ open }) => {
  let db: TestDatabase;
  let spans: SpanTable;

  let tools: ToolClient;
  const clientWith = (o: typeof OPTIONS) => connectTools({ spans, settings: { immediateMs: o.immediateMs, unfinishedAfterMs: o.unfinishedAfterMs }, now: o.now });
  const call = async (args: Record<string, unknown>, options: Partial<typeof OPTIONS> = {}) =>
    (Object.keys(options).length ? await clientWith({ ...OPTIONS, ...options }) : tools).call("list_failed_spans", args);
  const run = async (args: Record<string, unknown>, options: Partial<typeof OPTIONS> = {}): Promise<FailureReport> => {
    const result = await call(args, options);
    expect(result.isError, textOf(result)).toBeFalsy();
    return listFailedSpans.outputSchema.parse(result.structuredContent);
  };
  const clusterKeys = (out: FailureReport) => out.clusters.map((c) => `${c.service}.${c.operation} ${c.status} ×${c.count}`);

  beforeAll(async () => {
    db = await open();
    await applySchema(db.writer, db.table());
    await insertSpans(db.writer, ROWS.map(toRow), db.table());
    spans = new SpanTable(db.reader, db.table(), ["job_id"]);
    tools = await clientWith(OPTIONS);
  });
  afterAll(() => db?.close());

  describe("clusters", () => {
    let out: FailureReport;
    let text: string;
    beforeAll(async () => {
      const result = await call({ limit: 100 });
      text = textOf(result);
      out = listFailedSpans.outputSchema.parse(result.structuredContent);
    });

    it("groups by service, operation, status, signature and the immediate band, largest first", () => {
      expect(clusterKeys(out)).toEqual([
        "runner.execute_question failed ×6",
        "router.inference_request error ×3",
        "runner.execute_question failed ×3",
        "modal.run_inference timeout ×1",
        "runner.call_router failed ×1",
        "runner.execute_question unfinished ×1",
      ]);
      expect(out.total_failures).toBe(15);
      expect(out.cluster_total).toBe(6);
      expect(out.clusters_truncated).toBe(false);
      expect(out.window).toEqual({ since: at(24 * 60), until: at(0) });
      expect(out.page).toBe("first");
      expect(out.empty).toBeUndefined();
    });

    it("keeps the 13 ms failures and the 30 s failures with the same error apart", () => {
      const [fast, , slower] = out.clusters;
      expect(fast!.error_signature).toBe("execution failed after <n>ms (job <n>)");
      expect(slower!.error_signature).toBe(fast!.error_signature);
      expect(fast).toMatchObject({
        count: 6,
        first_seen: at(50),
        last_seen: at(10),
        duration_ms: { min: 12, p50: 13, p95: 14, max: 14 },
        shape: "immediate",
        example_error: "execution failed after 12ms (job 0)",
        example_trace_ids: ["ti0", "ti1", "ti2"],
        example_job_ids: ["job-i0", "job-i1", "job-i2"],
      });
      expect(fast!.shape_note).toMatch(/^immediate: 95% end within 14 ms, under 100 ms/);
      expect(slower).toMatchObject({ count: 3, first_seen: at(55), last_seen: at(15), duration_ms: { min: 29_990, p50: 30_000, p95: 30_009, max: 30_010 }, shape: "timeout-like" });
    });

    it("reads statuses in any case and gives each cluster its shape", () => {
      const byKey = Object.fromEntries(out.clusters.map((c) => [`${c.operation} ${c.status}`, c]));
      expect(byKey["inference_request error"]).toMatchObject({
        error_signature: "upstream <n> from <str> for request <id>",
        duration_ms: { min: 200, p50: 800, p95: 2330, max: 2500 },
        shape: "spread",
      });
      expect(byKey["run_inference timeout"]).toMatchObject({ shape: "timeout-like", duration_ms: { min: 60_000, max: 60_000 } });
      expect(byKey["call_router failed"]).toMatchObject({ error_signature: "", shape: "immediate" });
      expect(byKey["call_router failed"]!.example_error).toBeUndefined();
    });

    it("gives the success rate of the same operation in scope", () => {
      const [fast, router] = out.clusters;
      // 6 + 3 failed, 10 completed, 2 still started.
      expect(fast).toMatchObject({ operation_total: 21, operation_failed: 9, operation_success_rate: 0.476 });
      expect(router).toMatchObject({ operation_total: 23, operation_failed: 3, operation_success_rate: 0.87 });
    });

    it("finds what sets the immediate failures apart, against successes of the same operation only", () => {
      const fast = out.clusters[0]!;
      expect(fast.contrast_sample).toEqual({ failures: 6, successes: 10 });
      // Conditions also seen among successes first; values only failures carry (outcomes) last.
      expect(fast.distinguishing).toEqual([
        { key: "provider_id", value: "modal-us-east", failure_share: 1, success_share: 0.3, failures: 6, successes: 3 },
        { key: "region", value: "US", failure_share: 1, success_share: 0.3, failures: 6, successes: 3 },
        { key: "has_output", value: "false", failure_share: 1, success_share: 0, failures: 6, successes: 0 },
      ]);
      // The slow cluster is mostly EU, like the successes: region does not set it apart, no output does.
      expect(out.clusters[2]!.distinguishing!.map((v) => `${v.key}=${v.value}`)).toEqual(["has_output=false"]);
      // Only the five largest clusters are contrasted.
      expect(out.clusters[5]!.distinguishing).toBeUndefined();
      expect(text).toContain("provider_id=modal-us-east in 100% of failures vs 30% of successes; region=US in 100% vs 30%");
      expect(text).toContain("only in failures (often an outcome, not a cause): has_output=false 100%");
    });

    it("counts a span still 'started' past the threshold as unfinished, and a recent one not at all", () => {
      const unfinished = out.clusters.find((c) => c.status === "unfinished")!;
      expect(unfinished).toMatchObject({ count: 1, shape: "unfinished", example_trace_ids: ["tu0"], example_job_ids: ["job-u0"] });
      expect(unfinished.duration_ms).toBeUndefined();
      expect(out.spans.find((s) => s.span_id === "su0")).toMatchObject({ status: "unfinished" });
      expect(out.spans.map((s) => s.span_id)).not.toContain("su1");
    });

    it("counts the recent one too when the threshold is shorter than its age", async () => {
      const short = await run({ statuses: ["unfinished"], limit: 10 }, { unfinishedAfterMs: MIN });
      expect(short.spans.map((s) => s.span_id)).toEqual(["su1", "su0"]);
      expect(clusterKeys(short)).toEqual(["runner.execute_question unfinished ×2"]);
    });

    it("lists the failing spans newest first, with job ids and errors", () => {
      expect(out.spans.map((s) => s.span_id)).toEqual(FAILING_NEWEST_FIRST);
      expect(out.spans[1]).toEqual({
        trace_id: "ti0",
        span_id: "si0",
        service: "runner",
        operation: "execute_question",
        status: "failed",
        started_at: at(10),
        duration_ms: 12,
        error: "execution failed after 12ms (job 0)",
        job_id: "job-i0",
      });
      expect(out.has_more).toBe(false);
      expect(out.next_cursor).toBeUndefined();
      expect(text).toMatch(/1\. runner\.execute_question FAILED ×6 error="execution failed after 12ms \(job 0\)"/);
    });

    it("cuts the cluster list at max_clusters and says so", async () => {
      const cut = await run({ max_clusters: 2, limit: 0 });
      expect(clusterKeys(cut)).toEqual(["runner.execute_question failed ×6", "router.inference_request error ×3"]);
      expect(cut).toMatchObject({ cluster_total: 6, total_failures: 15, clusters_truncated: true, spans: [] });
      expect(textOf(await call({ max_clusters: 2, limit: 0 }))).toContain("Showing 2 of 6 clusters");
    });
  });

  describe("filters", () => {
    it.each([
      ["since relative (inclusive)", { since: "30m" }, ["si0c", "si0", "sw0", "si1", "se0", "si2"]],
      ["since and until relative (until exclusive)", { since: "50m", until: "40m" }, ["se1", "si5", "si4"]],
      ["since and until absolute", { since: at(56), until: at(49) }, ["si5", "si4", "sw2"]],
      ["since wide enough for the old failure", { since: "7d", service: "runner", statuses: ["failed"], max_duration_ms: 13 }, ["si0c", "si0", "si1", "si3", "si4", "sx0"]],
      ["service", { service: "router" }, ["se0", "se1", "se2"]],
      ["operation", { operation: "call_router" }, ["si0c"]],
      ["service and operation", { service: "modal", operation: "run_inference" }, ["sm0"]],
      ["statuses: unfinished", { statuses: ["unfinished"] }, ["su0"]],
      ["statuses: timeout and error", { statuses: ["timeout", "error"] }, ["se0", "se1", "se2", "sm0"]],
      ["statuses: failed", { statuses: ["failed"] }, ["si0c", "si0", "sw0", "si1", "si2", "sw1", "si3", "si5", "si4", "sw2"]],
      ["min duration", { min_duration_ms: 1000 }, ["sw0", "sw1", "sw2", "se2", "sm0"]],
      ["max duration", { max_duration_ms: 100 }, ["si0c", "si0", "si1", "si2", "si3", "si5", "si4"]],
      ["duration band", { min_duration_ms: 100, max_duration_ms: 1000 }, ["se0", "se1"]],
      ["metadata string", { metadata: { region: "US" } }, ["si0", "si1", "si2", "sw1", "si3", "si5", "si4", "sm0", "su0"]],
      ["metadata number", { metadata: { attempt: 2 } }, ["se0", "se1", "se2"]],
      ["metadata boolean", { metadata: { has_output: false, region: "EU" } }, ["sw0", "sw2"]],
      ["trace_id", { trace_id: "ti0" }, ["si0c", "si0"]],
      ["job_id", { job_id: "job-i3" }, ["si3"]],
    ])("%s", async (_, filters, expected) => {
      const out = await run({ ...filters, limit: 100 });
      expect(out.spans.map((s) => s.span_id)).toEqual(expected);
      expect(out.total_failures).toBe(expected.length);
      expect(out.clusters.reduce((n, c) => n + c.count, 0)).toBe(expected.length);
      expect(out.filters).toMatchObject(filters);
    });

    it("computes success rates and contrasts inside the filtered scope", async () => {
      const out = await run({ metadata: { region: "US" }, operation: "execute_question", limit: 0 });
      const fast = out.clusters[0]!;
      // In US: 6 immediate + 1 slow failure, 3 successes, 2 started.
      expect(fast).toMatchObject({ count: 6, operation_total: 12, operation_failed: 7, contrast_sample: { failures: 6, successes: 3 } });
      expect(fast.distinguishing!.map((v) => v.key)).not.toContain("region");
    });
  });

  describe("paging", () => {
    it.each([1, 2, 4])("walks every failing span exactly once, newest first, %i per page", async (limit) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const out = await run({ limit, ...(cursor && { cursor }) });
        expect(out.spans.length).toBeLessThanOrEqual(limit);
        expect(out.page).toBe(pages === 0 ? "first" : "next");
        if (pages > 0) expect(out.clusters).toEqual([]);
        seen.push(...out.spans.map((s) => s.span_id));
        expect(out.has_more).toBe(out.next_cursor !== undefined);
        cursor = out.next_cursor;
        pages++;
      } while (cursor && pages < 50);
      expect(seen).toEqual(FAILING_NEWEST_FIRST);
      expect(pages).toBe(Math.ceil(FAILING_NEWEST_FIRST.length / limit));
    });

    it("keeps the first page's window when the next page is asked for later", async () => {
      const first = await run({ since: "30m", limit: 3 });
      expect(first.spans.map((s) => s.span_id)).toEqual(["si0c", "si0", "sw0"]);
      const next = await run({ since: "30m", limit: 3, cursor: first.next_cursor }, { now: () => NOW + 20 * MIN });
      expect(next.spans.map((s) => s.span_id)).toEqual(["si1", "se0", "si2"]);
      expect(next.window).toEqual(first.window);
      expect(next.has_more).toBe(false);
    });

    it("rejects a cursor issued for other filters, and one it never issued", async () => {
      const first = await run({ limit: 2 });
      const other = await call({ limit: 2, service: "runner", cursor: first.next_cursor });
      expect(other.isError).toBe(true);
      expect(textOf(other)).toMatch(/cursor was issued for different filters/);
      for (const cursor of ["garbage", Buffer.from('{"v":2}').toString("base64url"), first.next_cursor!.slice(0, 20)]) {
        const bad = await call({ limit: 2, cursor });
        expect(bad.isError, cursor).toBe(true);
        expect(textOf(bad)).toMatch(/cursor is not one this tool issued/);
      }
    });
  });

  describe("errors and empty answers", () => {
    it.each([
      ["a since that is not a time", { since: "yesterday" }, /since "yesterday" is not a time: use ISO 8601/],
      ["an until that is not a time", { until: "soon" }, /until "soon" is not a time/],
      ["an empty window", { since: "1h", until: "2h" }, /The window is empty/],
      ["min above max", { min_duration_ms: 500, max_duration_ms: 100 }, /min_duration_ms \(500\) is greater than max_duration_ms \(100\)/],
      ["a metadata key with a space", { metadata: { "a b": "x" } }, /Invalid metadata key "a b": use letters, digits/],
      ["a metadata key with SQL in it", { metadata: { "x'; drop": 1 } }, /Invalid metadata key "x'; drop"/],
    ])("answers %s with isError and the reason", async (_, args, message) => {
      const result = await call(args);
      expect(result.isError).toBe(true);
      expect(result.structuredContent).toBeUndefined();
      expect(textOf(result)).toMatch(message);
    });

    it("says what the window holds and what to try when filters match nothing", async () => {
      const result = await call({ service: "nope" });
      const out = listFailedSpans.outputSchema.parse(result.structuredContent);
      expect(out).toMatchObject({ total_failures: 0, cluster_total: 0, clusters: [], spans: [] });
      expect(out.empty).toEqual({
        window_spans: 46,
        window_failures: 14,
        services_in_window: ["modal", "router", "runner"],
        suggestions: [
          "The window has 14 failing span(s) without your filters: drop or loosen filters.",
          'No service named "nope" wrote spans in the window; services seen: modal, router, runner.',
        ],
      });
      expect(textOf(result)).toMatch(/Nothing matched\. The window holds 46 span\(s\), 14 failing\./);
    });

    it("says so when the window holds no spans at all", async () => {
      const out = await run({ since: "2020-01-01T00:00:00Z", until: "2020-01-02T00:00:00Z" });
      expect(out.empty).toMatchObject({ window_spans: 0, window_failures: 0, services_in_window: [] });
      expect(out.empty!.suggestions[0]).toMatch(/holds no spans at all: widen it/);
    });

    it("suggests widening the window when nothing failed in it", async () => {
      const out = await run({ since: "3m" });
      expect(out.empty).toMatchObject({ window_spans: 2, window_failures: 0 });
      expect(out.empty!.suggestions).toEqual(["Nothing failed in this window: widen it (since=7d), or include unfinished spans."]);
    });
  });
});

/** Messages that exercise each mask of the signature; the SQL twin must agree with the JS one on all. */
const MESSAGES = [
  "execution failed",
  "timeout after 30012ms for job 17",
  "span 8f14e45f-ceea-467f-a0e6-2b1c1a2b3c4d not found (trace 4bf92f3577b34da6a3ce929d0e0e4736)",
  `upstream 503 from "modal-us-east": 'quota exceeded' at 3.5s`,
  "  connection\t\treset\n by   peer  ",
  "HTTP/2 503 from router-v3",
  "x_deadbeefcafe1234 deadbeefcafe DEADBEEFCAFE12",
  "can't reach host 'db1'",
  "naïve café 123abcdef012345 über",
  "line1\r\nline2",
  `${"very long ".repeat(30)}17`,
  "",
];

describe.each(await backends())("SQL error signature on $name", ({ open }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(() => db?.close());

  it("gives the same signature as errorSignature() for each message", async () => {
    const table = db.table("signatures");
    await applySchema(db.writer, table);
    await insertSpans(
      db.writer,
      [...MESSAGES, null].map((m, i) => toRow({ trace: "t", span: `s${i}`, service: "svc", operation: "op", minutesAgo: i, duration: 1, status: "failed", ...(m !== null && { error: m }) })),
      table,
    );
    const sql = await SpanSql.read(db.reader, table);
    const rows = await db.reader.query<{ span_id: string; error_message: string | null; sig: string }>(
      `SELECT span_id, error_message, ${sql.errorSignature} AS sig FROM ${sql.from} ORDER BY started_at DESC`,
    );
    expect(rows).toHaveLength(MESSAGES.length + 1);
    expect(rows.map((r) => r.sig)).toEqual(rows.map((r) => errorSignature(r.error_message)));
    // The masks did something: this is not a comparison of two identities.
    expect(rows.map((r) => r.sig)).toContain("timeout after <n>ms for job <n>");
  });
});

describe.each(await backends())("list_failed_spans at the edges of its SQL on $name", ({ open }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(() => db?.close());

  it("treats metadata that is a JSON array, string, number or null as empty instead of failing", async () => {
    const table = db.table("odd_metadata");
    await applySchema(db.writer, table);
    const rows: Row[] = [
      ...range(4).map((i) => ({ trace: `f${i}`, span: `f${i}`, service: "svc", operation: "op", minutesAgo: i + 1, duration: 5, status: "failed", metadata: { region: "US" } })),
      ...range(4).map((i) => ({ trace: `s${i}`, span: `s${i}`, service: "svc", operation: "op", minutesAgo: i + 1, duration: 500, status: "completed", metadata: { region: i ? "EU" : "US" } })),
    ];
    await insertSpans(db.writer, rows.map(toRow), table);
    // One failure and one success of each non-object kind, written as raw jsonb.
    for (const [i, json] of ["[1, 2]", '"just text"', "42", "null"].entries()) {
      for (const [status, duration] of [["failed", 5], ["completed", 500]] as const) {
        await db.writer.query(
          `INSERT INTO ${table} (trace_id, span_id, service, operation, started_at, completed_at, duration_ms, status, metadata)
           VALUES ($1, $1, 'svc', 'op', $2::timestamptz, $2::timestamptz + make_interval(secs => $3::float8 / 1000), $3, $4, $5::jsonb)`,
          [`odd-${status}-${i}`, at(10 + i), duration, status, json],
        );
      }
    }
    const tools = await connectTools({ spans: new SpanTable(db.reader, table, ["job_id"]), now: () => NOW });
    try {
      const { out } = await tools.structured(listFailedSpans, { limit: 0 });
      const c = out.clusters[0]!;
      expect(c).toMatchObject({ count: 8, contrast_sample: { failures: 8, successes: 8 } });
      // The four object rows carry region=US: 4 of 8 failures vs 1 of 8 successes.
      expect(c.distinguishing).toContainEqual(expect.objectContaining({ key: "region", value: "US", failures: 4, successes: 1 }));
    } finally {
      await tools.close();
    }
  });

  it("counts every listed cluster's operation, also one with no cluster among the contrasted ones", async () => {
    const table = db.table("many_operations");
    await applySchema(db.writer, table);
    // CONTRASTED_CLUSTERS + 3 operations, one cluster each, op k failing (12 - k) times: the last three
    // operations have no contrasted cluster, so their statement reads counts only.
    const ops = CONTRASTED_CLUSTERS + 3;
    const rows: Row[] = range(ops).flatMap((k) => [
      ...range(12 - k).map((i) => ({ trace: `f${k}-${i}`, span: `f${k}-${i}`, service: "svc", operation: `op${k}`, minutesAgo: i + 1, duration: 5, status: "failed", error: `boom ${k}` })),
      ...range(3).map((i) => ({ trace: `s${k}-${i}`, span: `s${k}-${i}`, service: "svc", operation: `op${k}`, minutesAgo: i + 1, duration: 500, status: "completed" })),
    ]);
    await insertSpans(db.writer, rows.map(toRow), table);
    const tools = await connectTools({ spans: new SpanTable(db.reader, table, ["job_id"]), now: () => NOW });
    try {
      const { out } = await tools.structured(listFailedSpans, { limit: 0, max_clusters: ops });
      expect(out.clusters.map((c) => c.operation)).toEqual(range(ops).map((k) => `op${k}`));
      for (const [k, c] of out.clusters.entries()) {
        expect(c, `op${k}`).toMatchObject({ count: 12 - k, operation_total: 15 - k, operation_failed: 12 - k });
        // Only the largest clusters are contrasted with successes.
        expect(c.contrast_sample !== undefined, `op${k}`).toBe(k < CONTRASTED_CLUSTERS);
      }
    } finally {
      await tools.close();
    }
  });

  it("answers the same whether the contrasts were read ahead from guessed clusters or after the real ones", async () => {
    const table = db.table("read_ahead");
    await applySchema(db.writer, table);
    // Op a: GUESS_SAMPLE + 300 timeouts; the newest GUESS_SAMPLE carry 40 raw messages, the 300 older ones
    // 10 more, so a guess from the newest failures misses part of the cluster. Op b: a small cluster the
    // guess sees whole. Both with successes, and a value only the failures carry.
    const rows: Row[] = [
      ...range(GUESS_SAMPLE + 300).map((i) => ({
        trace: `a${i}`,
        span: `a${i}`,
        service: "svc",
        operation: "a",
        minutesAgo: 1 + i / 10,
        duration: 5000 + (i % 13),
        status: "timeout",
        error: `timeout after ${i < GUESS_SAMPLE ? i % 40 : 40 + (i % 10)}s`,
        metadata: { region: i % 4 ? "EU" : "US", pool: "p1" },
      })),
      ...range(60).map((i) => ({ trace: `as${i}`, span: `as${i}`, service: "svc", operation: "a", minutesAgo: 2 + i, duration: 300, status: "completed", metadata: { region: "EU", pool: "p2" } })),
      ...range(30).map((i) => ({ trace: `b${i}`, span: `b${i}`, service: "svc", operation: "b", minutesAgo: 0.5 + i / 20, duration: 4, status: "failed", error: "boom", metadata: { model: "m2" } })),
      ...range(40).map((i) => ({ trace: `bs${i}`, span: `bs${i}`, service: "svc", operation: "b", minutesAgo: 1 + i, duration: 40, status: "completed", metadata: { model: "m1" } })),
    ];
    await insertSpans(db.writer, rows.map(toRow), table);
    // The real database, with each statement's opening recorded, and with or without its idle connections.
    const recorded = (idle: boolean) => {
      const openings: string[] = [];
      const inner = db.reader;
      const reader: ReadOnlyDatabase = {
        label: inner.label,
        query: <T extends DbRow>(sql: string, params?: readonly unknown[]) => (openings.push(sql.trim().slice(0, 9)), inner.query<T>(sql, params)),
        idleConnections: () => (idle ? (inner.idleConnections?.() ?? 0) : 0),
        close: () => Promise.resolve(),
      };
      return { openings, spans: new SpanTable(reader, table, ["job_id"]) };
    };
    const answer = async (r: ReturnType<typeof recorded>) => {
      const tools = await connectTools({ spans: r.spans, now: () => NOW });
      try {
        return (await tools.structured(listFailedSpans, { limit: 5 })).out;
      } finally {
        await tools.close();
      }
    };
    const after = recorded(false);
    const ahead = recorded(true);
    const plain = await answer(after);
    const early = await answer(ahead);
    expect(early).toEqual(plain);
    expect(plain.clusters.map((c) => c.operation)).toEqual(["a", "b"]);
    expect(plain.clusters[1]!.distinguishing).toContainEqual(expect.objectContaining({ key: "model", value: "m2", failures: 30, successes: 0 }));
    const count = (r: ReturnType<typeof recorded>, opening: string) => r.openings.filter((o) => o === opening).length;
    // Without idle connections nothing is guessed: one context statement per operation.
    expect(count(after, "WITH r AS")).toBe(0);
    expect(count(after, "WITH x AS")).toBe(2);
    if (db.name === "postgres") {
      // Read ahead for both operations; op a read again, since its guess missed messages; op b reused.
      expect(count(ahead, "WITH r AS")).toBe(1);
      expect(count(ahead, "WITH x AS")).toBe(3);
      // One trace's failures: nothing is guessed.
      const tools = await connectTools({ spans: ahead.spans, now: () => NOW });
      try {
        expect((await tools.structured(listFailedSpans, { limit: 5, trace_id: "a1" })).out.clusters).toHaveLength(1);
      } finally {
        await tools.close();
      }
      expect(count(ahead, "WITH r AS")).toBe(1);
    } else {
      // PGlite has one connection and no pool: nothing is read ahead.
      expect(count(ahead, "WITH r AS")).toBe(0);
    }
  });

  it("estimates an operation's counts from time slices past OPERATION_COUNT_EXACT spans, and says so", async () => {
    const table = db.table("busy_operation");
    await applySchema(db.writer, table);
    // 24 h of one operation, OPERATION_COUNT_EXACT + 3,000 spans: a quiet first half with half of them
    // failing, then four times the traffic with a tenth failing. The newest spans alone would read 90%.
    const quiet = Math.round((OPERATION_COUNT_EXACT + 3000) / 5);
    const busy = OPERATION_COUNT_EXACT + 3000 - quiet;
    const half = 12 * 60;
    const rows: Row[] = [
      ...range(quiet).map((i) => ({ i, minutesAgo: half + 0.5 + ((i + 0.5) / quiet) * (half - 1), fail: i % 2 === 0 })),
      ...range(busy).map((i) => ({ i: quiet + i, minutesAgo: 0.5 + ((i + 0.5) / busy) * (half - 1), fail: i % 10 === 0 })),
    ].map(({ i, minutesAgo, fail }) => ({
      trace: `b${i}`,
      span: `b${i}`,
      service: "svc",
      operation: "busy",
      minutesAgo,
      duration: 40 + (i % 7),
      status: fail ? "failed" : "completed",
      ...(fail && { error: "upstream refused" }),
    }));
    await insertSpans(db.writer, rows.map(toRow), table);
    const failed = rows.filter((r) => r.status === "failed").length;
    const tools = await connectTools({ spans: new SpanTable(db.reader, table, ["job_id"]), now: () => NOW });
    try {
      const { out, text } = await tools.structured(listFailedSpans, { limit: 0 });
      const c = out.clusters[0]!;
      // The cluster itself is counted exactly; the operation's counts are estimates, and say from what.
      expect(c.count).toBe(failed);
      expect(c.operation_counts_sampled).toMatchObject({ slices: OPERATION_SLICES });
      expect(c.operation_counts_sampled!.spans).toBeLessThanOrEqual(OPERATION_SLICES * OPERATION_SLICE_SAMPLE);
      expect(c.operation_total! / rows.length).toBeGreaterThan(0.95);
      expect(c.operation_total! / rows.length).toBeLessThan(1.05);
      expect(c.operation_failed! / failed).toBeGreaterThan(0.95);
      expect(c.operation_failed! / failed).toBeLessThan(1.05);
      expect(c.operation_success_rate).toBeCloseTo(1 - failed / rows.length, 1);
      expect(text).toMatch(/in scope: ≈\d+ span\(s\), ≈\d+ failed, success rate ≈\d+% \(estimated from \d+ spans read across 24 slices of the window\)/);
      // A narrower scope with fewer spans than the limit is counted exactly again.
      const { out: recent } = await tools.structured(listFailedSpans, { since: "2h", limit: 0 });
      expect(recent.clusters[0]).not.toHaveProperty("operation_counts_sampled");
      expect(recent.clusters[0]!.operation_total).toBe(rows.filter((r) => r.minutesAgo < 120).length);
    } finally {
      await tools.close();
    }
  });

  it("counts the window of an empty answer up to WINDOW_SUMMARY_CAP, and says the count is a floor", async () => {
    const table = db.table("big_empty_window");
    await applySchema(db.writer, table);
    // WINDOW_SUMMARY_CAP + 500 spans in the last 2 h, 300 failing, from two services.
    const rows: Row[] = range(WINDOW_SUMMARY_CAP + 500).map((i) => ({
      trace: `w${i}`,
      span: `w${i}`,
      service: i % 2 ? "alpha" : "beta",
      operation: "op",
      minutesAgo: 0.5 + (i / (WINDOW_SUMMARY_CAP + 500)) * 119,
      duration: 20,
      status: i % 35 === 0 && i < 35 * 300 ? "failed" : "completed",
    }));
    await insertSpans(db.writer, rows.map(toRow), table);
    const tools = await connectTools({ spans: new SpanTable(db.reader, table, ["job_id"]), now: () => NOW });
    try {
      const { out, text } = await tools.structured(listFailedSpans, { since: "2h", service: "nope" });
      expect(out.empty).toMatchObject({ window_spans: WINDOW_SUMMARY_CAP, window_failures: 300, window_counts_capped: true, services_in_window: ["alpha", "beta"] });
      expect(text).toContain(`The window holds at least ${WINDOW_SUMMARY_CAP} span(s), 300 failing. Services seen among its newest spans: alpha, beta.`);
    } finally {
      await tools.close();
    }
  });

  it("merges messages that differ only in numbers into one cluster, with percentiles exact over all its failures", async () => {
    const table = db.table("many_messages");
    await applySchema(db.writer, table);
    // 2,100 timeouts whose messages differ in the number: one signature merged from many raw messages.
    const durations = range(2100).map((i) => 1000 + ((i * 37) % 500));
    const rows: Row[] = durations.map((d, i) => ({
      trace: `t${i}`,
      span: `s${i}`,
      service: "svc",
      operation: "op",
      minutesAgo: 1 + i / 10,
      duration: d,
      status: "timeout",
      error: `timeout after ${d}ms`,
    }));
    await insertSpans(db.writer, rows.map(toRow), table);
    const tools = await connectTools({ spans: new SpanTable(db.reader, table, ["job_id"]), now: () => NOW });
    try {
      const { out, text } = await tools.structured(listFailedSpans, { limit: 0 });
      expect(out.clusters).toHaveLength(1);
      const c = out.clusters[0]!;
      expect(c).toMatchObject({ count: 2100, error_signature: "timeout after <n>ms" });
      expect(c).not.toHaveProperty("duration_sample");
      // Interpolated as percentile_cont over all 2,100 durations, from the merged histograms.
      const sorted = [...durations].sort((a, b) => a - b);
      const cont = (p: number) => {
        const pos = p * (sorted.length - 1);
        const lo = Math.floor(pos);
        return sorted[lo]! + (pos - lo) * (sorted[Math.ceil(pos)]! - sorted[lo]!);
      };
      expect(c.duration_ms).toEqual({ min: sorted[0], p50: cont(0.5), p95: cont(0.95), max: sorted[sorted.length - 1] });
      expect(c.example_trace_ids).toEqual(["t0", "t1", "t2"]);
      expect(text).toContain(`p50 ${formatMs(cont(0.5))}, p95 ${formatMs(cont(0.95))})`);
    } finally {
      await tools.close();
    }
  });

  it("reads the percentiles of a cluster whose messages share durations, over its timed failures only", async () => {
    const table = db.table("shared_durations");
    await applySchema(db.writer, table);
    // 900 failures of one signature under 9 raw messages; the same durations recur under every message,
    // and every tenth failure never finished (no duration): the histograms of the messages overlap.
    const rows: Row[] = range(900).map((i) => ({
      trace: `d${i}`,
      span: `d${i}`,
      service: "svc",
      operation: "op",
      minutesAgo: 20 + i / 10,
      duration: i % 10 === 0 ? null : 2000 + ((i * 7) % 40) * 25,
      status: i % 10 === 0 ? "started" : "failed",
      error: `worker ${i % 9} lost`,
    }));
    await insertSpans(db.writer, rows.map(toRow), table);
    const tools = await connectTools({ spans: new SpanTable(db.reader, table, ["job_id"]), now: () => NOW });
    try {
      const { out } = await tools.structured(listFailedSpans, { limit: 0, statuses: ["failed"] });
      expect(out.clusters).toHaveLength(1);
      const c = out.clusters[0]!;
      const sorted = rows.filter((r) => r.duration !== null).map((r) => r.duration!).sort((a, b) => a - b);
      expect(c.count).toBe(sorted.length);
      const cont = (p: number) => {
        const pos = p * (sorted.length - 1);
        const lo = Math.floor(pos);
        return sorted[lo]! + (pos - lo) * (sorted[Math.ceil(pos)]! - sorted[lo]!);
      };
      expect(c.duration_ms).toEqual({ min: sorted[0], p50: cont(0.5), p95: cont(0.95), max: sorted[sorted.length - 1] });
      // The unfinished ones make a cluster of their own, with no durations to read.
      const all = (await tools.structured(listFailedSpans, { limit: 0, statuses: ["unfinished"] })).out;
      expect(all.clusters).toHaveLength(1);
      expect(all.clusters[0]).toMatchObject({ count: 90, status: "unfinished" });
      expect(all.clusters[0]).not.toHaveProperty("duration_ms");
    } finally {
      await tools.close();
    }
  });
});
