// Tests for pruneTrace: what is kept when a trace is cut to a budget, that group rows count against
// the budget, how hidden siblings are summarised, and focusing on one subtree.
import { describe, it, expect } from "vitest";
import { buildSpanTree, subtreeNodes, type SpanNode } from "../../src/analysis/span-tree.js";
import { MAX_GROUPS_PER_PARENT, pruneTrace, type PrunedTrace } from "../../src/analysis/prune.js";
import type { Span } from "../../src/analysis/span.js";
import { ids, nodeById, runnerRouterModal, span } from "./span-builder.js";

/** Rows the reader sees: one per shown span, one per collapsed group. */
const rows = (p: PrunedTrace) => p.shown.length + p.groups.length;

/** Every shown span hangs under a shown span (or is a root, or the focus). */
function expectConnected(p: PrunedTrace, focus: SpanNode | null = null) {
  const shown = new Set(p.shown);
  for (const n of p.shown) if (n.parent && n !== focus) expect(shown.has(n.parent)).toBe(true);
}

/** Nothing disappears: every hidden span is counted in exactly one group, directly or below one. */
function expectAccounted(p: PrunedTrace) {
  const inGroups = p.groups.reduce((sum, g) => sum + g.count + g.descendants, 0);
  expect(p.shown.length + p.hiddenSpans).toBe(p.totalSpans);
  expect(inGroups).toBe(p.hiddenSpans);
}

/**
 * root (0..1000) with 30 short "step" children, a four-deep chain ending in a failure, and a tail
 * that ends last. 37 spans.
 */
function failureDeepInside(): Span[] {
  return [
    span("root", { start: 0, end: 1000, service: "runner", operation: "execute_question" }),
    ...Array.from({ length: 30 }, (_, i) => span(`step${i}`, { parent: "root", start: 10 + i * 10, end: 12 + i * 10, operation: "step" })),
    span("d1", { parent: "root", start: 5, end: 400, operation: "call_router" }),
    span("d2", { parent: "d1", start: 6, end: 300, service: "router", operation: "inference_request" }),
    span("d3", { parent: "d2", start: 7, end: 200, service: "router", operation: "pick_provider" }),
    span("d4", { parent: "d3", start: 8, end: 21, service: "modal", operation: "generate", status: "failed", error: "boom" }),
    span("tail", { parent: "root", start: 900, end: 1000, operation: "save_result" }),
    span("tail1", { parent: "tail", start: 910, end: 990, operation: "write_receipt" }),
  ];
}

/** root with 200 parallel "router.retry" children lasting 1..200 ms. */
function repeatedSiblings(): Span[] {
  return [
    span("root", { start: 0, end: 1000, service: "runner", operation: "execute_question" }),
    ...Array.from({ length: 200 }, (_, i) =>
      span(`retry${String(i + 1).padStart(3, "0")}`, { parent: "root", start: 0, end: i + 1, service: "router", operation: "retry" }),
    ),
  ];
}

describe("pruneTrace: within budget", () => {
  it.each([5, 6, 500])("hides nothing when the trace fits (budget %i)", (budget) => {
    const tree = buildSpanTree(runnerRouterModal());
    const p = pruneTrace(tree, budget);
    expect(p.shown).toEqual(tree.nodes);
    expect(p.groups).toEqual([]);
    expect(p.hiddenSpans).toBe(0);
    expect(p.totalSpans).toBe(5);
  });
});

describe("pruneTrace: over budget", () => {
  it.each([8, 9, 12, 20, 36])("keeps the failure, its ancestors and the critical path, within %i rows", (budget) => {
    const tree = buildSpanTree(failureDeepInside());
    const p = pruneTrace(tree, budget);
    const shown = ids(p.shown);
    for (const id of ["root", "d1", "d2", "d3", "d4"]) expect(shown).toContain(id);
    for (const n of tree.criticalPath) expect(shown).toContain(n.span.spanId);
    expect(rows(p)).toBeLessThanOrEqual(budget);
    expect(p.hiddenSpans).toBeGreaterThan(0);
    expect(p.totalSpans).toBe(37);
    expectConnected(p);
    expectAccounted(p);
    // Shown spans stay in waterfall order.
    expect(shown).toEqual(ids(tree.nodes).filter((id) => shown.includes(id)));
  });

  it("fills the rest of the budget with the longest spans and summarises the others", () => {
    const tree = buildSpanTree(failureDeepInside());
    const p = pruneTrace(tree, 12);
    // 7 must-keep spans + 1 group of steps leaves room for 4 steps (all 2ms: earliest first).
    expect(ids(p.shown)).toEqual(["root", "d1", "d2", "d3", "d4", "step0", "step1", "step2", "step3", "tail", "tail1"]);
    expect(p.groups).toHaveLength(1);
    const g = p.groups[0]!;
    expect(g.parent?.span.spanId).toBe("root");
    expect([g.service, g.operation, g.count, g.descendants, g.failed]).toEqual(["svc", "step", 26, 0, 0]);
    expect(g.p50Ms).toBe(2);
    expect(g.totalMs).toBe(52);
    expect(g.sampleSpanIds).toEqual(["step4", "step5", "step6"]);
    expect(rows(p)).toBe(12);
  });

  it("counts group rows against the budget even when one span has many kinds of children", () => {
    // x has ten children of ten different operations: showing x would cost ten group rows.
    const tree = buildSpanTree([
      span("root", { start: 0, end: 100 }),
      span("c", { parent: "root", start: 0, end: 100, operation: "critical" }),
      span("x", { parent: "root", start: 5, end: 60, operation: "x" }),
      ...Array.from({ length: 10 }, (_, k) => span(`x${k}`, { parent: "x", start: 6, end: 7 + k, operation: `op${k}` })),
      ...[1, 2, 3].map((k) => span(`l${k}`, { parent: "root", start: 10, end: 12, operation: "l" })),
    ]);
    for (const budget of [4, 5, 6, 8, 10, 13]) {
      const p = pruneTrace(tree, budget);
      expect(rows(p), `budget ${budget}`).toBeLessThanOrEqual(budget);
      expect(ids(p.shown)).toContain("c");
      expectConnected(p);
      expectAccounted(p);
    }
    expect(ids(pruneTrace(tree, 5).shown)).toEqual(["root", "c", "l1"]);
  });

  it("collapses 200 repeated siblings into one row with count, p50 and total", () => {
    const tree = buildSpanTree(repeatedSiblings());
    const p = pruneTrace(tree, 10);
    // Root, the sibling that ends last (critical), then the longest ones: 200, 199 … 193.
    expect(ids(p.shown)).toEqual(["root", ...[193, 194, 195, 196, 197, 198, 199, 200].map((i) => `retry${i}`)]);
    expect(p.groups).toHaveLength(1);
    const g = p.groups[0]!;
    expect(g.parent?.span.spanId).toBe("root");
    expect([g.service, g.operation]).toEqual(["router", "retry"]);
    expect(g.count).toBe(192);
    // Hidden durations are 1..192 ms: lower median 96, sum 192·193/2.
    expect(g.p50Ms).toBe(96);
    expect(g.totalMs).toBe(18_528);
    expect(g.firstStartMs).toBe(tree.startMs);
    expect(g.sampleSpanIds).toHaveLength(3);
    expect(p.hiddenSpans + p.shown.length).toBe(201);
    expect(p.hiddenSpans).toBe(192);
    expect(rows(p)).toBe(10);
  });

  it("groups hidden children by service and operation under each shown parent", () => {
    const tree = buildSpanTree([
      span("root", { start: 0, end: 100 }),
      ...Array.from({ length: 5 }, (_, i) => span(`a${i}`, { parent: "root", start: 1, end: 2, service: "router", operation: "retry" })),
      ...Array.from({ length: 5 }, (_, i) => span(`b${i}`, { parent: "root", start: 1, end: 2, service: "modal", operation: "retry" })),
      span("last", { parent: "root", start: 0, end: 100, operation: "last" }),
    ]);
    const p = pruneTrace(tree, 4);
    expect(ids(p.shown)).toEqual(["root", "last"]);
    expect(p.groups.map((g) => [g.service, g.operation, g.count])).toEqual([
      ["router", "retry", 5],
      ["modal", "retry", 5],
    ]);
  });

  it("counts failures and descendants hidden inside a group", () => {
    const tree = buildSpanTree([
      span("root", { start: 0, end: 100 }),
      span("last", { parent: "root", start: 0, end: 100, operation: "last" }),
      ...Array.from({ length: 6 }, (_, i) => span(`f${i}`, { parent: "root", start: 1, end: 5, operation: "call", status: "failed" })),
      ...Array.from({ length: 6 }, (_, i) => span(`f${i}-child`, { parent: `f${i}`, start: 2, end: 3, operation: "inner", status: "error" })),
    ]);
    // Budget 4: a failed call costs two rows (itself and its hidden child), so none fits beside the
    // root, the critical span and the group; the group says how many failures it holds.
    const p = pruneTrace(tree, 4);
    expect(rows(p)).toBeLessThanOrEqual(4);
    expectAccounted(p);
    const calls = p.groups.find((g) => g.operation === "call")!;
    expect(calls.parent?.span.spanId).toBe("root");
    expect(calls.failed).toBe(calls.count * 2);
    expect(calls.descendants).toBe(calls.count);
    expect(ids(p.shown)).toEqual(["root", "last"]);
    expect([calls.count, calls.failed]).toEqual([6, 12]);
  });

  it("keeps the root and its summary row even with a budget of one", () => {
    const tree = buildSpanTree(runnerRouterModal());
    const p = pruneTrace(tree, 1);
    expect(ids(p.shown)).toEqual(["r1"]);
    // The one documented overshoot: a shown root always has its hidden children summarised.
    expect(p.groups.map((g) => [g.operation, g.count, g.descendants])).toEqual([
      ["call_router", 1, 2],
      ["save_result", 1, 0],
    ]);
    expectAccounted(p);
  });
});

describe("pruneTrace: focus on a subtree", () => {
  function wide(): Span[] {
    return [
      span("root", { start: 0, end: 1000 }),
      ...Array.from({ length: 10 }, (_, i) => span(`c${i}`, { parent: "root", start: i * 100, end: i * 100 + 90, operation: "child" })),
      ...Array.from({ length: 20 }, (_, j) =>
        span(`c5-${j}`, { parent: "c5", start: 500 + j * 4, end: 503 + j * 4, operation: "grandchild", ...(j === 17 ? { status: "timeout" } : {}) }),
      ),
      span("c2-0", { parent: "c2", start: 210, end: 220, operation: "grandchild" }),
    ];
  }

  it("shows the whole subtree when it fits, and nothing outside it", () => {
    const tree = buildSpanTree(wide());
    const focus = nodeById(tree, "c5");
    const p = pruneTrace(tree, 50, focus);
    expect(p.shown).toEqual(subtreeNodes(focus));
    expect(p.shown[0]).toBe(focus);
    expect(p.totalSpans).toBe(21);
    expect(p.hiddenSpans).toBe(0);
    expect(p.groups).toEqual([]);
  });

  it("prunes inside the subtree, keeping its failure, and groups only its own spans", () => {
    const tree = buildSpanTree(wide());
    const focus = nodeById(tree, "c5");
    const p = pruneTrace(tree, 6, focus);
    const subtree = new Set(subtreeNodes(focus));
    expect(p.shown[0]).toBe(focus);
    expect(ids(p.shown)).toContain("c5-17");
    expect(p.shown.every((n) => subtree.has(n))).toBe(true);
    expect(p.groups.every((g) => g.parent !== null && subtree.has(g.parent))).toBe(true);
    expect(p.totalSpans).toBe(21);
    expect(rows(p)).toBeLessThanOrEqual(6);
    expectConnected(p, focus);
    expectAccounted(p);
  });

  it("starts from the focus even when a failure far below it cannot fit", () => {
    const chain = Array.from({ length: 50 }, (_, i) =>
      span(`s${i}`, { parent: i ? `s${i - 1}` : null, start: i, end: 1000 - i, ...(i === 49 ? { status: "failed" } : {}) }),
    );
    const tree = buildSpanTree(chain);
    const focus = nodeById(tree, "s10");
    const p = pruneTrace(tree, 10, focus);
    expect(p.shown[0]).toBe(focus);
    expect(rows(p)).toBeLessThanOrEqual(10);
    expect(p.totalSpans).toBe(40);
    expectConnected(p, focus);
    expectAccounted(p);
    // The failure is hidden, but its group says so.
    expect(p.groups).toHaveLength(1);
    expect(p.groups[0]!.failed).toBe(1);
  });
});

describe("pruneTrace: bounded group rows", () => {
  it("merges the rarest kinds of hidden children into one row past MAX_GROUPS_PER_PARENT", () => {
    const spans = [span("root", { start: 0, end: 1000 })];
    for (let k = 0; k < 20; k++) {
      for (let i = 0; i <= k % 3; i++) spans.push(span(`k${k}-${i}`, { parent: "root", start: 10 + k, end: 20 + k, operation: `GET /items/${k}` }));
    }
    const p = pruneTrace(buildSpanTree(spans), 3);
    expect(p.shown.map((n) => n.span.spanId)).toEqual(["root"]);
    expect(p.groups).toHaveLength(MAX_GROUPS_PER_PARENT);
    const merged = p.groups.find((g) => g.kinds > 1)!;
    expect(merged.service).toBe("*");
    expect(merged.kinds).toBe(20 - (MAX_GROUPS_PER_PARENT - 1));
    expectAccounted(p);
  });

  it("summarises roots that did not fit in a parentless group row", () => {
    const spans = Array.from({ length: 30 }, (_, i) => span(`orphan${i}`, { parent: `gone${i}`, start: i, end: i + 5, operation: "tick" }));
    const p = pruneTrace(buildSpanTree(spans), 10);
    const rootsRow = p.groups.find((g) => g.parent === null)!;
    expect(rootsRow.count + p.shown.length).toBe(30);
    expect(rootsRow.operation).toBe("tick");
    expectAccounted(p);
  });
});
