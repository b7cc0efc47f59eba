// Tests that the analysis core copes with big and deep traces: 10,000 spans wide, 10,000 deep, and a
// 10,000-span parent loop all build, prune to a budget and render, with the failure still found.
import { describe, it, expect } from "vitest";
import { buildSpanTree } from "../../src/analysis/span-tree.js";
import { pruneTrace } from "../../src/analysis/prune.js";
import { buildTraceReport } from "../../src/analysis/trace-report.js";
import { renderWaterfall } from "../../src/analysis/waterfall.js";
import type { Span } from "../../src/analysis/span.js";
import { nodeById, span } from "./span-builder.js";

const BUDGET = 200;

/** A root with 99 calls, each with 100 steps: 10,000 spans; step c57-s42 failed. */
function wideTrace(): Span[] {
  const spans = [span("root", { start: 0, end: 100_000, service: "runner", operation: "execute_question", metadata: { job_id: "big" } })];
  for (let c = 0; c < 99; c++) {
    const call = `c${c}`;
    spans.push(span(call, { parent: "root", start: c * 1000, end: c * 1000 + 990, service: "router", operation: "inference_request", metadata: { job_id: "big", call: c } }));
    for (let s = 0; s < 100; s++) {
      const failed = c === 57 && s === 42;
      spans.push(
        span(`${call}-s${s}`, {
          parent: call,
          start: c * 1000 + s * 9,
          end: c * 1000 + s * 9 + 8,
          service: "modal",
          operation: "generate",
          ...(failed ? { status: "failed", error: "CUDA out of memory" } : {}),
        }),
      );
    }
  }
  return spans;
}

/** s0 → s1 → … → s9999, each inside its parent; the deepest span failed. */
function deepChain(n: number): Span[] {
  return Array.from({ length: n }, (_, i) =>
    span(`s${i}`, { parent: i ? `s${i - 1}` : null, start: i, end: 2 * n - i, ...(i === n - 1 ? { status: "failed", error: "bottom" } : {}) }),
  );
}

describe("scale: 10,000 spans wide", () => {
  const spans = wideTrace();
  const tree = buildSpanTree(spans, { correlationKeys: ["job_id"] });
  const pruned = pruneTrace(tree, BUDGET);
  const report = buildTraceReport(tree, pruned, { metadata: "changed" });
  const text = renderWaterfall(report, { maxSpansHint: 500 });

  it("builds the whole tree", () => {
    expect(spans).toHaveLength(10_000);
    expect(tree.nodes).toHaveLength(10_000);
    expect(tree.roots).toHaveLength(1);
    expect(nodeById(tree, "c57-s42").depth).toBe(2);
  });

  it("prunes to the budget, keeping the failure and its ancestors", () => {
    const shown = new Set(pruned.shown.map((n) => n.span.spanId));
    for (const id of ["root", "c57", "c57-s42"]) expect(shown.has(id)).toBe(true);
    // Calls and steps run one after another, so nearly every span is critical: only the budget decides.
    expect(tree.criticalPath.length).toBeGreaterThan(BUDGET);
    // However many spans hold it, the path adds up to the root's 100 s exactly once.
    expect(tree.nodes.reduce((sum, n) => sum + n.criticalMs, 0)).toBe(100_000);
    for (const n of pruned.shown) if (n.parent) expect(shown.has(n.parent.span.spanId)).toBe(true);
    expect(pruned.shown.length + pruned.groups.length).toBeLessThanOrEqual(BUDGET);
    expect(pruned.shown.length + pruned.hiddenSpans).toBe(10_000);
    expect(pruned.groups.reduce((sum, g) => sum + g.count + g.descendants, 0)).toBe(pruned.hiddenSpans);
  });

  it("reports and renders within bounds, naming the failure", () => {
    expect(report.failed_span_ids).toEqual(["c57-s42"]);
    expect(report.truncated).toBe(true);
    expect(report.spans.length).toBe(pruned.shown.length);
    expect(text).toContain("#c57-s42");
    expect(text).toContain('error="CUDA out of memory"');
    expect(text).toContain(`Shown ${pruned.shown.length} of 10000 spans`);
    expect(text.split("\n").length).toBeLessThan(BUDGET + 20);
  });
});

describe("scale: 10,000 deep", () => {
  const N = 10_000;

  it("builds a 10,000-deep chain without overflowing the stack", () => {
    const tree = buildSpanTree(deepChain(N), { correlationKeys: ["job_id"] });
    expect(tree.nodes).toHaveLength(N);
    expect(tree.nodes[N - 1]!.depth).toBe(N - 1);
    expect(tree.criticalPath).toHaveLength(N);
    // Each span holds 1 ms at either end of its child; the deepest holds its own 2 ms.
    expect(tree.nodes.every((n) => n.criticalMs === 2)).toBe(true);
    expect(tree.criticalSegments).toHaveLength(2 * N - 1);
    expect(tree.nodes[0]!.selfMs).toBe(2);
  });

  it("prunes, reports and renders it within the budget, counting the hidden failure", () => {
    const tree = buildSpanTree(deepChain(N));
    const pruned = pruneTrace(tree, BUDGET);
    expect(pruned.shown.length + pruned.groups.length).toBeLessThanOrEqual(BUDGET);
    expect(pruned.shown.length + pruned.hiddenSpans).toBe(N);
    expect(pruned.groups.reduce((sum, g) => sum + g.failed, 0)).toBe(1);
    const report = buildTraceReport(tree, pruned, { metadata: "changed" });
    const text = renderWaterfall(report, { maxSpansHint: 500 });
    expect(report.failed_span_ids).toEqual([`s${N - 1}`]);
    expect(text).toContain("1 failed");
    expect(text.split("\n").length).toBeLessThan(BUDGET + 20);
  });

  it("shows the failure when focused just above it", () => {
    const tree = buildSpanTree(deepChain(N));
    const focus = nodeById(tree, `s${N - 50}`);
    const pruned = pruneTrace(tree, BUDGET, focus);
    expect(pruned.shown.map((n) => n.span.spanId)).toContain(`s${N - 1}`);
    expect(pruned.totalSpans).toBe(50);
  });

  it("cuts a 10,000-span parent loop once", () => {
    const ring = Array.from({ length: N }, (_, i) => span(`s${i}`, { parent: `s${(i + N - 1) % N}`, start: i, end: 2 * N - i }));
    const tree = buildSpanTree(ring);
    expect(tree.roots.map((r) => r.span.spanId)).toEqual(["s0"]);
    expect(tree.nodes.filter((n) => n.flags.includes("parent_cycle"))).toHaveLength(1);
    expect(tree.nodes[N - 1]!.depth).toBe(N - 1);
    expect(() => renderWaterfall(buildTraceReport(tree, pruneTrace(tree, BUDGET), { metadata: "all" }), { maxSpansHint: 500 })).not.toThrow();
  });
});
