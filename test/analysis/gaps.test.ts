// Tests for the gap finder: one scenario per finding type (missing hop, slow hand-off, idle time,
// untraced time, detached work, orphan, unfinished, clock skew), the near misses that must stay quiet,
// the baseline learnt from successful executions, and the aggregate over many executions.
import { describe, it, expect } from "vitest";
import { buildSpanTree, type SpanNode } from "../../src/analysis/span-tree.js";
import type { Span } from "../../src/analysis/span.js";
import {
  aggregateGaps,
  DEFAULT_GAP_THRESHOLDS,
  edgeStats,
  findGaps,
  handoffsOf,
  learnBaseline,
  succeeded,
  type Baseline,
  type GapFinding,
} from "../../src/analysis/gaps.js";
import { mulberry32 } from "../../src/demo/seeded-random.js";
import { runnerRouterModal, span } from "./span-builder.js";

const ROOT = "runner.execute_question";
const RUNNER_TO_ROUTER = "runner.call_router → router.inference_request";
const ROUTER_TO_MODAL = "router.inference_request → modal.run_inference";

/**
 * One successful execution, as the seeds describe it: runner.execute_question → runner.call_router →
 * router.inference_request (routerDelay ms after the call) → modal.run_inference, then runner.save_result.
 */
function okExecution(n: number, routerDelay = 5): Span[] {
  const at = n * 10_000;
  const trace = `t${n}`;
  return [
    span(`${n}-run`, { trace, start: at, end: at + 1000, service: "runner", operation: "execute_question", metadata: { job_id: `job-${n}` } }),
    span(`${n}-call`, { trace, parent: `${n}-run`, start: at + 10, end: at + 990, service: "runner", operation: "call_router" }),
    span(`${n}-route`, { trace, parent: `${n}-call`, start: at + 10 + routerDelay, end: at + 980, service: "router", operation: "inference_request" }),
    span(`${n}-modal`, { trace, parent: `${n}-route`, start: at + 15 + routerDelay, end: at + 970, service: "modal", operation: "run_inference" }),
    span(`${n}-save`, { trace, parent: `${n}-run`, start: at + 992, end: at + 998, service: "runner", operation: "save_result" }),
  ];
}

/** The 13 ms failure: the runner's own spans, failed, and nothing below call_router. */
function immediateFailure(id = "f", at = 100_000): Span[] {
  return [
    span(`${id}-run`, { trace: `t${id}`, start: at, end: at + 13, status: "failed", error: "execution failed", service: "runner", operation: "execute_question" }),
    span(`${id}-call`, { trace: `t${id}`, parent: `${id}-run`, start: at + 1, end: at + 12, status: "failed", service: "runner", operation: "call_router" }),
  ];
}

const roots = (spans: Span[]): SpanNode[] => buildSpanTree(spans).roots;

/** A baseline from successful executions with these runner → router delays. */
function baselineWith(delays: number[]): Baseline {
  return learnBaseline(ROOT, roots(delays.flatMap((d, i) => okExecution(i, d))));
}

const kinds = (findings: GapFinding[]) => findings.map((f) => `${f.severity}:${f.kind}`);
const only = (findings: GapFinding[], kind: GapFinding["kind"]) => findings.filter((f) => f.kind === kind);

describe("handoffsOf and edgeStats", () => {
  it("lists cross-service parent → child hops depth-first with the time each call took to arrive", () => {
    const [root] = roots(runnerRouterModal());
    expect(handoffsOf(root!).map((h) => [h.edge, h.parent.span.spanId, h.child.span.spanId, h.delayMs])).toEqual([
      ["runner.call_router → router.inference_request", "r2", "r3", 5],
      ["router.inference_request → modal.generate", "r3", "r4", 5],
    ]);
  });

  it("gives p50/p95/max per edge with the worst hand-offs first, edges by p95", () => {
    const handoffs = [5, 6, 7, 8, 9, 400].flatMap((d, i) => handoffsOf(roots(okExecution(i, d))[0]!));
    const [slow, fast] = edgeStats(handoffs);
    expect(slow).toMatchObject({ edge: RUNNER_TO_ROUTER, count: 6, p50Ms: 7.5, maxMs: 400 });
    expect(slow!.p95Ms).toBeCloseTo(302.25, 6);
    expect(slow!.worst.map((h) => [h.child.span.spanId, h.delayMs])).toEqual([
      ["5-route", 400],
      ["4-route", 9],
      ["3-route", 8],
    ]);
    expect(fast).toMatchObject({ edge: ROUTER_TO_MODAL, count: 6, p50Ms: 5, p95Ms: 5, maxMs: 5 });
    expect(edgeStats(handoffs, 1)[0]!.worst).toHaveLength(1);
  });
});

describe("learnBaseline", () => {
  it("learns which hops successful executions have, how often, when, and under what", () => {
    const executions = roots([
      ...okExecution(0),
      ...okExecution(1),
      // The router hop hangs directly under the root here, and call_router starts later.
      span("2-run", { trace: "t2", start: 20_000, end: 21_000, service: "runner", operation: "execute_question" }),
      span("2-call", { trace: "t2", parent: "2-run", start: 20_030, end: 20_900, service: "runner", operation: "call_router" }),
      span("2-route", { trace: "t2", parent: "2-run", start: 20_040, end: 20_800, service: "router", operation: "inference_request" }),
      // Two call_router spans: the execution counts once, at the first one's offset.
      span("3-run", { trace: "t3", start: 30_000, end: 31_000, service: "runner", operation: "execute_question" }),
      span("3-call", { trace: "t3", parent: "3-run", start: 30_020, end: 30_100, service: "runner", operation: "call_router" }),
      span("3-call-b", { trace: "t3", parent: "3-run", start: 30_200, end: 30_300, service: "runner", operation: "call_router" }),
      span("3-route", { trace: "t3", parent: "3-call", start: 30_025, end: 30_090, service: "router", operation: "inference_request" }),
      span("3-retry", { trace: "t3", parent: "3-run", start: 30_400, end: 30_500, service: "runner", operation: "retry" }),
    ]);
    const b = learnBaseline(ROOT, executions);
    expect(b.rootHop).toBe(ROOT);
    expect(b.executions).toBe(4);
    const byHop = Object.fromEntries(b.hops.map((h) => [h.hop, h]));
    expect(Object.keys(byHop)).not.toContain(ROOT);
    expect(byHop["runner.call_router"]).toMatchObject({ executions: 4, share: 1, p50OffsetMs: 15, usualParent: ROOT });
    expect(byHop["router.inference_request"]).toMatchObject({ executions: 4, share: 1, usualParent: "runner.call_router", service: "router", operation: "inference_request" });
    expect(byHop["modal.run_inference"]).toMatchObject({ executions: 2, share: 0.5, p50OffsetMs: 20 });
    expect(byHop["runner.retry"]).toMatchObject({ executions: 1, share: 0.25, p50OffsetMs: 400 });
    // Hops in the order they usually happen.
    expect(b.hops.map((h) => h.p50OffsetMs)).toEqual([...b.hops.map((h) => h.p50OffsetMs)].sort((x, y) => x - y));
    expect(b.edges.get(RUNNER_TO_ROUTER)?.count).toBe(3);
    expect(b.edges.get("runner.execute_question → router.inference_request")?.count).toBe(1);
  });
});

describe("findGaps: missing hops", () => {
  const baseline = baselineWith([5, 6, 7, 8, 9, 10]);

  it("finds the cut point of the 13 ms failure: high, citing call_router, with modal as a consequence", () => {
    const { findings, expectedHops } = findGaps(buildSpanTree(immediateFailure()), baseline);
    const [cut, ...rest] = only(findings, "missing_hop");
    expect(cut).toMatchObject({
      kind: "missing_hop",
      severity: "high",
      span_ids: ["f-call"],
      trace_ids: ["tf"],
      edge: RUNNER_TO_ROUTER,
      missing: ["router.inference_request", "modal.run_inference"],
      offset_ms: 17.5,
    });
    expect(cut!.sentence).toContain("appears in 100% of 6 successful runner.execute_question executions");
    expect(cut!.sentence).toContain("runner.call_router f-call is here and failed after 11ms, so the request most likely never reached router");
    expect(cut!.sentence).toContain("Missing as a consequence: modal.run_inference");
    // modal is a consequence, not a finding of its own; save_result is the same-service hop after an early failure.
    expect(rest.map((f) => [f.severity, f.missing])).toEqual([["low", ["runner.save_result"]]]);
    expect(rest[0]!.span_ids).toEqual(["f-run"]);
    expect(rest[0]!.sentence).toContain("The execution ended at +13ms, before the point where it usually runs.");
    expect(expectedHops.map((h) => [h.hop, h.present])).toEqual([
      ["runner.call_router", true],
      ["router.inference_request", false],
      ["modal.run_inference", false],
      ["runner.save_result", false],
    ]);
    expect(kinds(findings)).toEqual(["high:missing_hop", "low:missing_hop"]);
  });

  it("rates a missing same-service hop medium when the execution did not fail", () => {
    const spans = okExecution(9).filter((s) => s.operation !== "save_result");
    const { findings } = findGaps(buildSpanTree(spans), baseline);
    expect(only(findings, "missing_hop").map((f) => [f.severity, f.missing, f.edge])).toEqual([
      ["medium", ["runner.save_result"], "runner.execute_question → runner.save_result"],
    ]);
  });

  it("judges nothing missing without a baseline, or when every expected hop is there", () => {
    expect(findGaps(buildSpanTree(immediateFailure()), null)).toMatchObject({ findings: [], expectedHops: [] });
    const ok = findGaps(buildSpanTree(okExecution(9, 7)), baseline);
    expect(ok.findings).toEqual([]);
    expect(ok.expectedHops.every((h) => h.present)).toBe(true);
  });

  it("does not expect a hop that only some successful executions have", () => {
    const withRetry = [...okExecution(0), ...okExecution(1), ...okExecution(2), ...okExecution(3), ...okExecution(4)];
    withRetry.push(span("0-retry", { trace: "t0", parent: "0-run", start: 995, end: 996, service: "runner", operation: "retry" }));
    const b = learnBaseline(ROOT, roots(withRetry));
    const { expectedHops, findings } = findGaps(buildSpanTree(okExecution(9)), b);
    expect(expectedHops.map((h) => h.hop)).not.toContain("runner.retry");
    expect(findings).toEqual([]);
  });
});

/** An execution whose router hop arrives `delay` ms after call_router, everything else stretched to fit. */
function handoffAfter(delay: number): Span[] {
  return [
    span("s-run", { trace: "ts", start: 0, end: delay + 1000, service: "runner", operation: "execute_question" }),
    span("s-call", { trace: "ts", parent: "s-run", start: 10, end: delay + 990, service: "runner", operation: "call_router" }),
    span("s-route", { trace: "ts", parent: "s-call", start: 10 + delay, end: delay + 980, service: "router", operation: "inference_request" }),
    span("s-modal", { trace: "ts", parent: "s-route", start: 15 + delay, end: delay + 970, service: "modal", operation: "run_inference" }),
    span("s-save", { trace: "ts", parent: "s-run", start: delay + 992, end: delay + 998, service: "runner", operation: "save_result" }),
  ];
}

describe("findGaps: slow hand-offs", () => {
  it("reports a 2 s hand-off against a baseline of a few ms as high, citing both spans", () => {
    const { findings, handoffs } = findGaps(buildSpanTree(handoffAfter(2000)), baselineWith([5, 6, 7, 8, 9, 10]));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      kind: "slow_handoff",
      severity: "high",
      span_ids: ["s-call", "s-route"],
      trace_ids: ["ts"],
      edge: RUNNER_TO_ROUTER,
      offset_ms: 10,
      size_ms: 2000,
    });
    expect(findings[0]!.sentence).toMatch(/router\.inference_request started 2\.00s after runner\.call_router called it \(successful executions: p50 8ms, p95 10ms over 6\)/);
    expect(handoffs).toEqual([
      { edge: RUNNER_TO_ROUTER, parent_span_id: "s-call", child_span_id: "s-route", delay_ms: 2000, baseline_p50_ms: 7.5, baseline_p95_ms: 9.8 },
      { edge: ROUTER_TO_MODAL, parent_span_id: "s-route", child_span_id: "s-modal", delay_ms: 5, baseline_p50_ms: 5, baseline_p95_ms: 5 },
    ]);
  });

  // Baseline delays 100..300 ms: p50 200, p95 290, so slow means over max(1.5 × 290, 200 + 50) = 435.
  const wide = baselineWith([100, 140, 180, 220, 260, 300]);
  it.each([
    ["within the baseline's p95, though over slow_handoff_ms", wide, 290, []],
    ["just under 1.5 × p95", wide, 435, []],
    ["over 1.5 × p95, under a second", wide, 440, ["medium:slow_handoff"]],
    ["without a baseline, over slow_handoff_ms", null, 300, ["medium:slow_handoff"]],
    ["without a baseline, under slow_handoff_ms", null, 200, []],
    ["without a baseline, over a second", null, 1500, ["high:slow_handoff"]],
    // With fewer than 5 hand-offs on the edge the baseline is shown but the fixed threshold decides.
    ["with a baseline of 4, over slow_handoff_ms", baselineWith([5, 5, 5, 5]), 300, ["medium:slow_handoff"]],
  ])("%s", (_, baseline, delay, expected) => {
    const { findings } = findGaps(buildSpanTree(handoffAfter(delay)), baseline);
    expect(kinds(findings.filter((f) => f.kind !== "missing_hop"))).toEqual(expected);
  });

  it("says when there is no baseline, and honours slow_handoff_ms", () => {
    const [f] = findGaps(buildSpanTree(handoffAfter(300)), null).findings;
    expect(f!.sentence).toContain("(over 250ms; no baseline for this edge)");
    expect(findGaps(buildSpanTree(handoffAfter(200)), null, { ...DEFAULT_GAP_THRESHOLDS, slowHandoffMs: 100 }).findings).toHaveLength(1);
  });

  /** web-bff.render calls catalog.get, then pricing.get_price `wait` ms after catalog returns. */
  function sequential(n: number, catalogMs: number, wait = 2): Span[] {
    const at = n * 10_000;
    const trace = `q${n}`;
    const pricingAt = at + 10 + catalogMs + wait;
    return [
      span(`${n}-page`, { trace, start: at, end: pricingAt + 40, service: "web-bff", operation: "render" }),
      span(`${n}-cat`, { trace, parent: `${n}-page`, start: at + 5, end: at + 10 + catalogMs, service: "catalog", operation: "get" }),
      span(`${n}-price`, { trace, parent: `${n}-page`, start: pricingAt, end: pricingAt + 30, service: "pricing", operation: "get_price" }),
    ];
  }
  const sequentialBaseline = () => learnBaseline("web-bff.render", buildSpanTree([1, 2, 3, 4, 5, 6].flatMap((n) => sequential(n, 40 + n))).roots);

  it("counts a call made after the one before it returned from that return, not from the caller's start", () => {
    // catalog took 700 ms instead of ~45: pricing waited for it, which is no hand-off of pricing's.
    const { findings, handoffs } = findGaps(buildSpanTree(sequential(9, 700)), sequentialBaseline());
    expect(findings.filter((f) => f.kind === "slow_handoff")).toEqual([]);
    expect(handoffs.find((h) => h.child_span_id === "9-price")).toMatchObject({ delay_ms: 2, baseline_p50_ms: 2 });
    expect(handoffs.find((h) => h.child_span_id === "9-cat")).toMatchObject({ delay_ms: 5 });
  });

  it("still reports a slow hand-off after the call before it returned, naming that call", () => {
    const { findings } = findGaps(buildSpanTree(sequential(9, 45, 900)), sequentialBaseline());
    const slow = findings.filter((f) => f.kind === "slow_handoff");
    expect(slow).toHaveLength(1);
    expect(slow[0]).toMatchObject({ span_ids: ["9-page", "9-price"], size_ms: 900 });
    expect(slow[0]!.sentence).toMatch(/^pricing\.get_price started 900ms after web-bff\.render's call before it \(catalog\.get\) returned \(successful executions: p50 2ms/);
  });

  it("a call made while another is still running counts from the caller's start (parallel calls do not wait)", () => {
    const spans = [
      span("p", { trace: "tp", start: 0, end: 500, service: "web-bff", operation: "render" }),
      span("a", { trace: "tp", parent: "p", start: 5, end: 400, service: "catalog", operation: "get" }),
      span("b", { trace: "tp", parent: "p", start: 300, end: 450, service: "pricing", operation: "get_price" }),
    ];
    expect(handoffsOf(buildSpanTree(spans).roots[0]!).find((h) => h.child.span.spanId === "b")).toMatchObject({ delayMs: 300, after: null });
  });

  it("marks a hand-off joined by job_id", () => {
    const spans = [
      span("a", { trace: "ta", start: 0, end: 100, service: "runner", operation: "execute_question", metadata: { job_id: "j" } }),
      span("b", { trace: "ta", parent: "a", start: 1, end: 99, service: "runner", operation: "call_router", metadata: { job_id: "j" } }),
      span("c", { trace: "tb", start: 6, end: 90, service: "router", operation: "inference_request", metadata: { job_id: "j" } }),
    ];
    const { handoffs, findings } = findGaps(buildSpanTree(spans, { correlationKeys: ["job_id"] }), null);
    expect(handoffs).toEqual([{ edge: RUNNER_TO_ROUTER, parent_span_id: "b", child_span_id: "c", delay_ms: 5, linked_by: "job_id" }]);
    expect(findings).toEqual([]);
  });
});

describe("findGaps: idle and untraced time", () => {
  const root = (end = 1000) => span("root", { start: 0, end, service: "runner", operation: "execute_question" });
  const child = (id: string, start: number, end: number, service = "runner") => span(id, { parent: "root", start, end, service, operation: id });

  it.each([
    ["idle between siblings", [child("a", 0, 100), child("b", 700, 1000)], "idle_between_siblings", "medium", ["a", "b"], 100, 600],
    ["idle measured from the latest end, not the previous sibling", [child("a", 0, 500), child("b", 100, 300), child("c", 600, 1000)], "idle_between_siblings", "low", ["a", "c"], 500, 100],
    ["idle exactly min_gap_ms", [child("a", 0, 100), child("b", 150, 1000)], "idle_between_siblings", "low", ["a", "b"], 100, 50],
    ["untraced before the first child", [child("a", 300, 1000)], "untraced_time", "medium", ["root", "a"], 0, 300],
    ["untraced after the last child", [child("a", 0, 400)], "untraced_time", "medium", ["root", "a"], 400, 600],
    ["a small untraced tail is low", [child("a", 0, 900)], "untraced_time", "low", ["root", "a"], 900, 100],
  ] as const)("%s", (_, kids, kind, severity, spanIds, offset, size) => {
    const { findings } = findGaps(buildSpanTree([root(), ...kids]), null);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ kind, severity, span_ids: spanIds, trace_ids: ["t1"], offset_ms: offset, size_ms: size });
  });

  it("rates untraced time high when it is over a second and half the span", () => {
    const { findings } = findGaps(buildSpanTree([root(3000), child("a", 0, 1000)]), null);
    expect(findings.map((f) => [f.kind, f.severity, f.size_ms])).toEqual([["untraced_time", "high", 2000]]);
    expect(findings[0]!.sentence).toMatch(/^2\.00s of runner\.execute_question passed after runner\.a returned/);
  });

  it.each([
    ["a gap just under min_gap_ms", [child("a", 0, 100), child("b", 149, 1000)]],
    ["overlapping siblings", [child("a", 0, 600), child("b", 500, 1000)]],
    ["a lead and a tail under min_gap_ms", [child("a", 49, 951)]],
  ])("stays quiet for %s", (_, kids) => {
    expect(findGaps(buildSpanTree([root(), ...kids]), null).findings).toEqual([]);
  });

  it("treats a child of another service at the start as a hand-off, not untraced time", () => {
    const { findings, handoffs } = findGaps(buildSpanTree([root(), child("remote", 300, 1000, "router")]), null);
    expect(kinds(findings)).toEqual(["medium:slow_handoff"]);
    expect(handoffs.map((h) => [h.edge, h.delay_ms])).toEqual([["runner.execute_question → router.remote", 300]]);
  });

  it("uses min_gap_ms as given", () => {
    const spans = [root(), child("a", 0, 100), child("b", 130, 1000)];
    expect(findGaps(buildSpanTree(spans), null).findings).toEqual([]);
    expect(kinds(findGaps(buildSpanTree(spans), null, { ...DEFAULT_GAP_THRESHOLDS, minGapMs: 20 }).findings)).toEqual(["low:idle_between_siblings"]);
  });

  it("skips a span whose end is unknown", () => {
    const spans = [span("root", { start: 0, end: null, duration: null, service: "runner", status: "completed" }), child("a", 300, 400)];
    expect(findGaps(buildSpanTree(spans), null).findings).toEqual([]);
  });
});

describe("findGaps: only inside a span's own bounds", () => {
  const parent = (start: number, end: number, metadata: Record<string, unknown> = {}) =>
    span("p", { start, end, service: "runner", operation: "execute_question", metadata });
  const child = (id: string, start: number, end: number | null, metadata: Record<string, unknown> = {}) =>
    span(id, { parent: "p", start, end, service: "runner", operation: id, metadata });
  const producer = { "span.kind": "producer" };
  const consumer = { "span.kind": "consumer" };
  const summary = (spans: Span[]) => findGaps(buildSpanTree(spans), null).findings.map((f) => [f.kind, f.severity, f.span_ids, f.offset_ms, f.size_ms]);

  it.each([
    // stLogin.get: 0.25 ms long, its child began 4.7 s after it ended. No "4.70s of untraced time".
    ["a child that began seconds after its sub-millisecond parent ended", [parent(0, 0.25), child("get", 4700, 4710)], [["detached_work", "medium", ["p", "get"], 4700, 4699.8]]],
    ["a child that began just after its parent ended", [parent(0, 100), child("bg", 120, 200)], [["detached_work", "low", ["p", "bg"], 120, 20]]],
    ["a child that began exactly as its parent ended", [parent(0, 100), child("bg", 100, 300)], [["detached_work", "low", ["p", "bg"], 100, 0]]],
    ["a zero-length child at its parent's end is neither", [parent(0, 100), child("z", 0, 100), child("end", 100, 100)], []],
    [
      "a child outliving its parent leaves no tail, only the lead and the skew",
      [parent(0, 1000), child("long", 300, 5000)],
      [
        ["clock_skew", "medium", ["p", "long"], 300, 4000],
        ["untraced_time", "medium", ["p", "long"], 0, 300],
      ],
    ],
    [
      "a child starting before its parent leaves no lead, only the tail and the skew",
      [parent(100, 1100), child("early", 0, 600)],
      [
        // Offsets are from the execution's start, p's start.
        ["untraced_time", "medium", ["p", "early"], 500, 500],
        ["clock_skew", "low", ["p", "early"], -100, 100],
      ],
    ],
    [
      "the tail is measured to the parent's end, not to a detached sibling",
      [parent(0, 1000), child("a", 0, 100), child("later", 1500, 1600)],
      [
        ["untraced_time", "medium", ["p", "a"], 100, 900],
        ["detached_work", "low", ["p", "later"], 1500, 500],
      ],
    ],
    ["a child wholly before its parent is skew, not coverage", [parent(500, 1000), child("before", 0, 100), child("a", 500, 1000)], [["clock_skew", "low", ["p", "before"], -500, 500]]],
    ["an asynchronous child alone leaves no gap, and may outlive its producer", [parent(0, 1000, producer), child("recv", 300, 2000, consumer)], []],
    [
      "an asynchronous child does not cover its producer's time",
      [parent(0, 1000, producer), child("flush", 0, 900), child("recv", 950, 1000, consumer)],
      [["untraced_time", "low", ["p", "flush"], 900, 100]],
    ],
    ["a follows-from child leaves no gap either", [parent(0, 1000), child("f", 400, 600, { ref_type: "FOLLOWS_FROM" })], []],
    ["an asynchronous child that began after its producer ended is low", [parent(0, 10, producer), child("recv", 5000, 5100, consumer)], [["detached_work", "low", ["p", "recv"], 5000, 4990]]],
  ] as const)("%s", (_, spans, expected) => {
    expect(summary([...spans])).toEqual(expected);
  });

  it("says what detached work is, and that asynchronous work was not waited for", () => {
    const [plain] = findGaps(buildSpanTree([parent(0, 0.25), child("get", 4700, 4710)]), null).findings;
    expect(plain!.sentence).toBe(
      "runner.get began 4.70s after its parent runner.execute_question had ended (the parent lasted 0.3ms; the child lasted 10ms): fire-and-forget or asynchronous work that outlived its caller, or clock skew.",
    );
    const [async] = findGaps(buildSpanTree([parent(0, 10, producer), child("recv", 5000, null, consumer)]), null).findings.filter((f) => f.kind === "detached_work");
    expect(async!.sentence).toContain("the child never finished");
    expect(async!.sentence).toContain("It is marked asynchronous (a consumer of a producer, or follows-from), so its caller was not meant to wait for it.");
  });

  it("never reports untraced or idle time past the span's end, over random trees", () => {
    const rnd = mulberry32(7);
    for (let trial = 0; trial < 200; trial++) {
      const spans = [parent(0, 1000)];
      for (let i = 0; i < 6; i++) {
        const start = Math.floor(rnd() * 3000) - 500;
        spans.push(child(`c${i}`, start, start + Math.floor(rnd() * 800)));
      }
      const tree = buildSpanTree(spans);
      for (const f of findGaps(tree, null).findings) {
        if (f.kind !== "untraced_time" && f.kind !== "idle_between_siblings") continue;
        expect(f.offset_ms!).toBeGreaterThanOrEqual(0);
        expect(f.offset_ms! + f.size_ms!).toBeLessThanOrEqual(1000);
      }
    }
  });
});

describe("findGaps: orphans, unfinished spans, clock skew", () => {
  it("reports an orphan with the parent id it names", () => {
    const { findings } = findGaps(
      buildSpanTree([span("r", { start: 0, end: 100, service: "runner" }), span("o", { parent: "ghost", start: 20, end: 30, service: "router", operation: "upload" })]),
      null,
    );
    expect(findings).toEqual([
      expect.objectContaining({ kind: "orphan", severity: "medium", span_ids: ["o"], trace_ids: ["t1"], offset_ms: 20 }),
    ]);
    expect(findings[0]!.sentence).toContain('names parent "ghost", which is not in the data');
  });

  it("reports a span started and never finished as high, and no 'untraced' time after it (it never returned)", () => {
    const { findings } = findGaps(
      buildSpanTree([span("r", { start: 0, end: 100, service: "runner" }), span("u", { parent: "r", start: 10, end: null, service: "runner", operation: "call_router" })]),
      null,
    );
    expect(findings).toEqual([expect.objectContaining({ kind: "unfinished", severity: "high", span_ids: ["u"], offset_ms: 10 })]);
    expect(findings[0]!.sentence).toContain("runner.call_router was started and never finished");
    // Nor idle time between it and the sibling that followed (a retry, say).
    const retried = findGaps(
      buildSpanTree([
        span("r", { start: 0, end: 1000, service: "runner" }),
        span("u", { parent: "r", start: 0, end: null, service: "runner" }),
        span("v", { parent: "r", start: 600, end: 1000, service: "runner" }),
      ]),
      null,
    );
    expect(kinds(retried.findings)).toEqual(["high:unfinished"]);
  });

  it.each([
    ["child starts before its parent", 80, 190, "low", -20, 20, /router\.c starts 20ms before its parent runner\.p/],
    ["child starts a second before its parent", -1000, 190, "medium", -1100, 1100, /starts 1\.10s before its parent/],
    ["child ends after its parent", 150, 1500, "medium", 50, 1300, /router\.c ends 1\.30s after its parent runner\.p/],
    ["child ends just after its parent", 150, 250, "low", 50, 50, /ends 50ms after its parent/],
  ] as const)("reports clock skew: %s", (_, start, end, severity, offset, size, sentence) => {
    const { findings } = findGaps(
      buildSpanTree([span("p", { start: 100, end: 200, service: "runner" }), span("c", { parent: "p", start, end, service: "router" })]),
      null,
    );
    const skew = only(findings, "clock_skew");
    expect(skew).toHaveLength(1);
    expect(skew[0]).toMatchObject({ severity, span_ids: ["p", "c"], offset_ms: offset, size_ms: size });
    expect(skew[0]!.sentence).toMatch(sentence);
  });
});

describe("findGaps: order", () => {
  it("sorts findings high → medium → low, larger first within a severity", () => {
    const spans = [
      span("root", { start: 0, end: 2000, service: "runner", operation: "execute_question" }),
      span("a", { parent: "root", start: 0, end: 100, service: "runner" }),
      span("b", { parent: "root", start: 400, end: 500, service: "runner" }),
      span("c", { parent: "root", start: 1200, end: 1990, service: "runner" }),
      span("u", { parent: "b", start: 410, end: null, service: "runner" }),
      span("o", { parent: "ghost", start: 10, end: 20, service: "runner" }),
      span("s", { parent: "c", start: 1190, end: 1980, service: "router" }),
    ];
    const { findings } = findGaps(buildSpanTree(spans), null);
    expect(findings.map((f) => `${f.severity}:${f.kind}:${f.size_ms ?? "-"}`)).toEqual([
      "high:unfinished:-",
      "medium:idle_between_siblings:700",
      "medium:orphan:-",
      "low:idle_between_siblings:300",
      "low:clock_skew:10",
    ]);
  });
});

describe("aggregateGaps", () => {
  // Six successes (one with a 400 ms hand-off), two 13 ms failures, and an operation with too few successes.
  const spans = [
    ...[5, 6, 7, 8, 9, 400].flatMap((d, i) => okExecution(i, d)),
    ...immediateFailure("f1", 100_000),
    ...immediateFailure("f2", 110_000),
    span("w1", { trace: "tw1", start: 200_000, end: 200_100, service: "runner", operation: "warmup" }),
    span("w2", { trace: "tw2", start: 210_000, end: 210_100, service: "runner", operation: "warmup", status: "failed" }),
  ];
  const result = aggregateGaps(roots(spans));

  it("counts executions per root operation and the expected hops each lacked", () => {
    expect(result.executions).toBe(10);
    expect(result.groups.map((g) => [g.rootHop, g.executions, g.successful, g.failed])).toEqual([
      [ROOT, 8, 6, 2],
      ["runner.warmup", 2, 1, 1],
    ]);
    const [main, warmup] = result.groups;
    expect(main!.missing.map((m) => [m.hop, m.missingIn, m.expectedShare])).toEqual([
      ["modal.run_inference", 2, 1],
      ["router.inference_request", 2, 1],
      ["runner.save_result", 2, 1],
    ]);
    expect(main!.missing[1]).toMatchObject({
      service: "router",
      operation: "inference_request",
      examples: [
        { traceId: "tf1", spanId: "f1-run" },
        { traceId: "tf2", spanId: "f2-run" },
      ],
    });
    // Fewer than five successes: nothing is expected, so nothing is missing.
    expect(warmup!.missing).toEqual([]);
  });

  it("gives per-edge p50/p95/max with the worst traces", () => {
    expect(result.edges.map((e) => [e.edge, e.count, e.p50Ms, Math.round(e.p95Ms * 100) / 100, e.maxMs])).toEqual([
      [RUNNER_TO_ROUTER, 6, 7.5, 302.25, 400],
      [ROUTER_TO_MODAL, 6, 5, 5, 5],
    ]);
    expect(result.edges[0]!.worst.map((h) => h.child.span.traceId)).toEqual(["t5", "t4", "t3"]);
  });

  it("collects unfinished spans and orphans across executions", () => {
    const messy = aggregateGaps(
      roots([
        ...okExecution(0),
        span("u", { trace: "tu", start: 50_000, end: null, service: "runner", operation: "execute_question" }),
        span("o", { trace: "t0", parent: "ghost", start: 500, end: 600, service: "router", operation: "inference_request" }),
      ]),
    );
    expect(messy.unfinished.map((n) => n.span.spanId)).toEqual(["u"]);
    expect(messy.orphans.map((n) => n.span.spanId)).toEqual(["o"]);
    expect(messy.groups.find((g) => g.rootHop === ROOT)).toMatchObject({ executions: 2, successful: 1, failed: 1 });
  });

  it("counts neither failed nor still-running roots as successes", () => {
    const [ok, failed, running, odd] = roots([
      span("a", { trace: "a", start: 0 }),
      span("b", { trace: "b", start: 1, status: "ERROR" }),
      span("c", { trace: "c", start: 2, end: null }),
      span("d", { trace: "d", start: 3, status: "cancelled" }),
    ]);
    expect([ok, failed, running, odd].map((n) => succeeded(n!))).toEqual([true, false, false, true]);
  });
});
