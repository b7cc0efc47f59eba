// find_gaps against real databases (PGlite, and Postgres when available) with hand-built executions
// around a fixed "now": the 13 ms failure's missing router hop, hand-offs against their baselines, a
// slow hand-off, the aggregate view, and the errors a model can act on.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans, type SpanRowInput } from "../../src/store/span-writer.js";
import type { GapReport } from "../../src/analysis/gap-report.js";
import findGaps from "../../src/tools/find-gaps.js";
import { backends, type TestDatabase } from "../support/test-databases.js";
import { connectTools, type ToolClient } from "../support/tool-client.js";

const NOW = Date.UTC(2025, 9, 22, 18, 30, 0);
const MIN = 60_000;

interface Hop {
  trace: string;
  span: string;
  parent?: string;
  service: string;
  operation: string;
  /** ms from the execution's start */
  start: number;
  end: number;
  status?: string;
  error?: string;
}

/** One execution's spans, placed `minutesAgo` before NOW, every span carrying the job id. */
function execution(minutesAgo: number, job: string, hops: Hop[], metadata: Record<string, unknown> = {}): SpanRowInput[] {
  const t0 = NOW - minutesAgo * MIN;
  return hops.map((h) => ({
    trace_id: h.trace,
    span_id: h.span,
    parent_span_id: h.parent ?? null,
    service: h.service,
    operation: h.operation,
    started_at: new Date(t0 + h.start).toISOString(),
    completed_at: new Date(t0 + h.end).toISOString(),
    duration_ms: h.end - h.start,
    status: h.status ?? "completed",
    error_message: h.error ?? null,
    metadata: { job_id: job, ...metadata },
  }));
}

/**
 * A successful runner → router → modal execution. With `ownTrace`, the router writes its own trace id
 * and can be joined to the runner only by job_id, as in the seeds.
 */
function success(id: string, minutesAgo: number, routerDelay: number, ownTrace: boolean): SpanRowInput[] {
  const routerTrace = ownTrace ? `${id}r` : id;
  const stretch = Math.max(0, routerDelay - 5);
  return execution(minutesAgo, `job-${id}`, [
    { trace: id, span: `${id}-run`, service: "runner", operation: "execute_question", start: 0, end: 1000 + stretch },
    { trace: id, span: `${id}-call`, parent: `${id}-run`, service: "runner", operation: "call_router", start: 10, end: 990 + stretch },
    {
      trace: routerTrace,
      span: `${id}-route`,
      ...(ownTrace ? {} : { parent: `${id}-call` }),
      service: "router",
      operation: "inference_request",
      start: 10 + routerDelay,
      end: 985 + stretch,
    },
    { trace: routerTrace, span: `${id}-modal`, parent: `${id}-route`, service: "modal", operation: "run_inference", start: 15 + routerDelay, end: 975 + stretch },
  ], { region: "US" });
}

const OK_IDS = Array.from({ length: 10 }, (_, i) => `g${i}`);
/** Runner → router delays of the ten successes: 5, 6 or 7 ms. */
const delayOf = (i: number) => 5 + (i % 3);

const ROWS: SpanRowInput[] = [
  // Ten successes between 100 and 55 minutes ago; g0, g3, g6, g9 have the router hop in its own trace.
  ...OK_IDS.flatMap((id, i) => success(id, 100 - 5 * i, delayOf(i), i % 3 === 0)),
  // A success whose router hop began 2 s after call_router.
  ...success("gslow", 50, 2000, false),
  // The 13 ms failure: the runner's spans, failed, and no router span anywhere.
  ...execution(40, "job-fail", [
    { trace: "gfail", span: "gfail-run", service: "runner", operation: "execute_question", start: 0, end: 13, status: "failed", error: "execution failed" },
    { trace: "gfail", span: "gfail-call", parent: "gfail-run", service: "runner", operation: "call_router", start: 1, end: 12, status: "failed" },
  ], { region: "US" }),
  // An operation with only two successes before its failure: too few to learn from.
  ...["b0", "b1"].flatMap((id, i) =>
    execution(90 - i * 10, `job-${id}`, [
      { trace: id, span: `${id}-run`, service: "runner", operation: "execute_batch", start: 0, end: 500 },
      { trace: id, span: `${id}-load`, parent: `${id}-run`, service: "runner", operation: "load_questions", start: 5, end: 495 },
    ]),
  ),
  ...execution(30, "job-bfail", [{ trace: "bfail", span: "bfail-run", service: "runner", operation: "execute_batch", start: 0, end: 20, status: "failed" }]),
];

const RUNNER_TO_ROUTER = "runner.call_router → router.inference_request";
const ROUTER_TO_MODAL = "router.inference_request → modal.run_inference";

function textOf(result: { content: Array<{ type: string; text?: string }> }): string {
  return result.content.map((c) => c.text ?? "").join("\n");
}

describe.each(await backends())("find_gaps on $name", ({ open }) => {
  let db: TestDatabase;
  let spans: SpanTable;

  let tools: ToolClient;
  const call = (args: Record<string, unknown>) => tools.call("find_gaps", args);
  const run = async (args: Record<string, unknown>): Promise<{ out: GapReport; text: string }> => {
    const result = await call(args);
    expect(result.isError, textOf(result)).toBeFalsy();
    return { out: findGaps.outputSchema.parse(result.structuredContent), text: textOf(result) };
  };

  beforeAll(async () => {
    db = await open();
    await applySchema(db.writer, db.table());
    await insertSpans(db.writer, ROWS, db.table());
    spans = new SpanTable(db.reader, db.table(), ["job_id"]);
    tools = await connectTools({ spans, now: () => NOW });
  });
  afterAll(() => db?.close());

  describe("one execution", () => {
    it("reports the 13 ms failure's missing router hop as high, citing call_router, with modal as a consequence", async () => {
      const { out, text } = await run({ job_id: "job-fail" });
      expect(out.mode).toBe("trace");
      expect(out.resolved).toMatchObject({ by: "job_id", value: "job-fail", key: "job_id" });
      expect(out.trace_ids).toEqual(["gfail"]);
      expect(out.root).toEqual({ span_id: "gfail-run", service: "runner", operation: "execute_question", status: "failed", duration_ms: 13 });
      expect(out.baseline).toEqual({ root_operation: "runner.execute_question", successful_executions: 11 });
      const missing = out.findings.filter((f) => f.kind === "missing_hop");
      expect(missing).toHaveLength(1);
      expect(missing[0]).toMatchObject({
        severity: "high",
        span_ids: ["gfail-call"],
        trace_ids: ["gfail"],
        edge: RUNNER_TO_ROUTER,
        missing: ["router.inference_request", "modal.run_inference"],
      });
      expect(missing[0]!.sentence).toContain("appears in 100% of 11 successful runner.execute_question executions");
      expect(missing[0]!.sentence).toContain("so the request most likely never reached router");
      expect(out.findings[0]).toBe(missing[0]);
      expect(out.expected_hops!.map((h) => [h.hop, h.present])).toEqual([
        ["runner.call_router", true],
        ["router.inference_request", false],
        ["modal.run_inference", false],
      ]);
      expect(out.handoffs).toEqual([]);
      expect(text).toContain("[high] missing_hop");
      expect(text).toContain("router.inference_request MISSING");
      expect(text).toContain("Evidence: spans gfail-call");
    });

    it("lists a successful job's hand-offs, joined across trace ids by job_id, with baselines and nothing high", async () => {
      const { out, text } = await run({ job_id: "job-g9" });
      expect(new Set(out.trace_ids)).toEqual(new Set(["g9", "g9r"]));
      expect(out.root).toMatchObject({ span_id: "g9-run", status: "completed" });
      // The nine successes before it; the slow one came after, and the baseline is what came before.
      expect(out.baseline).toEqual({ root_operation: "runner.execute_question", successful_executions: 9 });
      expect(out.handoffs!.map((h) => [h.edge, h.parent_span_id, h.child_span_id, h.delay_ms, h.linked_by])).toEqual([
        [RUNNER_TO_ROUTER, "g9-call", "g9-route", 5, "job_id"],
        [ROUTER_TO_MODAL, "g9-route", "g9-modal", 5, undefined],
      ]);
      // Their delays: 5, 5, 5, 6, 6, 6, 7, 7, 7 ms.
      expect(out.handoffs![0]).toMatchObject({ baseline_p50_ms: 6, baseline_p95_ms: 7 });
      expect(out.handoffs![1]).toMatchObject({ baseline_p50_ms: 5, baseline_p95_ms: 5 });
      expect(out.findings.filter((f) => f.severity === "high")).toEqual([]);
      expect(out.findings.filter((f) => f.kind === "missing_hop" || f.kind === "slow_handoff")).toEqual([]);
      expect(out.expected_hops!.every((h) => h.present)).toBe(true);
      expect(text).toContain("[joined by job_id]");
    });

    it("reports a 2 s hand-off as slow against the other executions' few milliseconds", async () => {
      const { out } = await run({ trace_id: "gslow" });
      expect(out.resolved).toMatchObject({ by: "trace_id", value: "gslow" });
      const slow = out.findings.filter((f) => f.kind === "slow_handoff");
      expect(slow).toHaveLength(1);
      expect(slow[0]).toMatchObject({ severity: "high", span_ids: ["gslow-call", "gslow-route"], edge: RUNNER_TO_ROUTER, size_ms: 2000 });
      expect(slow[0]!.sentence).toMatch(/started 2\.00s after runner\.call_router called it \(successful executions: p50 6ms, p95 7ms over 10\)/);
      expect(out.handoffs![0]).toMatchObject({ edge: RUNNER_TO_ROUTER, delay_ms: 2000, baseline_p50_ms: 6, baseline_p95_ms: 7 });
    });

    it("says there are too few successes to judge missing hops, instead of guessing", async () => {
      const { out, text } = await run({ job_id: "job-bfail" });
      expect(out.root).toMatchObject({ operation: "execute_batch", status: "failed" });
      expect(out.baseline).toMatchObject({ root_operation: "runner.execute_batch", successful_executions: 2 });
      expect(out.findings.filter((f) => f.kind === "missing_hop")).toEqual([]);
      expect(out.expected_hops).toEqual([]);
      expect(out.notes).toEqual([
        "Only 2 successful runner.execute_batch execution(s) in the 24 h before this one: too few to learn which hops to expect, so missing hops are not judged.",
      ]);
      expect(text).toContain("Note: Only 2 successful");
    });
  });

  describe("aggregate", () => {
    it("gives hand-off delay per edge with the worst traces, and the failure's missing hops", async () => {
      const { out, text } = await run({});
      expect(out.mode).toBe("aggregate");
      // 12 execute_question + 3 execute_batch executions; the four router traces are joined in, not counted.
      expect(out.executions_sampled).toBe(15);
      expect(out.sample_truncated).toBe(false);
      expect(out.edges!.map((e) => [e.edge, e.count, e.p50_ms, e.max_ms])).toEqual([
        [RUNNER_TO_ROUTER, 11, 6, 2000],
        [ROUTER_TO_MODAL, 11, 5, 5],
      ]);
      expect(out.edges![0]!.worst[0]).toEqual({ trace_id: "gslow", parent_span_id: "gslow-call", child_span_id: "gslow-route", delay_ms: 2000 });
      expect(out.missing_hops).toEqual([
        { root_operation: "runner.execute_question", hop: "modal.run_inference", expected_share: 1, missing_in: 1, executions: 12, examples: [{ trace_id: "gfail", span_id: "gfail-run" }] },
        { root_operation: "runner.execute_question", hop: "router.inference_request", expected_share: 1, missing_in: 1, executions: 12, examples: [{ trace_id: "gfail", span_id: "gfail-run" }] },
      ]);
      expect(out.notes).toEqual(["runner.execute_batch: only 2 successful execution(s) in the sample, too few to learn its expected hops."]);
      expect(text).toContain("router.inference_request missing in 1 of 12 runner.execute_question executions");
    });

    it("narrows edges and missing hops to a service", async () => {
      const { out } = await run({ service: "modal" });
      expect(out.edges!.map((e) => e.edge)).toEqual([ROUTER_TO_MODAL]);
      expect(out.missing_hops!.map((m) => m.hop)).toEqual(["modal.run_inference"]);
    });

    it("looks only inside the window it is given", async () => {
      // 45 → 35 minutes ago holds only the failure: no successes, no hand-offs.
      const { out } = await run({ since: "45m", until: "35m" });
      expect(out.executions_sampled).toBe(1);
      expect(out.edges).toEqual([]);
      expect(out.missing_hops).toEqual([]);
      expect(out.notes).toEqual(["runner.execute_question: only 0 successful execution(s) in the sample, too few to learn its expected hops."]);
    });
  });

  describe("bad input", () => {
    it.each([
      ["both ids", { trace_id: "gfail", job_id: "job-fail" }, /Give trace_id or job_id, not both/],
      ["since with trace_id", { trace_id: "gfail", since: "2h" }, /since, until, service and operation apply to the aggregate view only/],
      ["service with job_id", { job_id: "job-fail", service: "runner" }, /apply to the aggregate view only/],
      ["an unknown id", { job_id: "no-such-job" }, /No spans found for "no-such-job": it is neither a trace_id nor a job_id value/],
      ["a bad window", { since: "yesterday" }, /since "yesterday" is not a time/],
    ])("answers %s with isError and what to do", async (_, args, message) => {
      const result = await call(args);
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(message);
    });
  });
});
