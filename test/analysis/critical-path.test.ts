// Tests for the critical path: Jaeger UI's nine published cases (same spans, same time split, same
// sections), clipping, asynchronous children, unfinished spans, several roots, and the 100 % invariant.
import { describe, it, expect } from "vitest";
import { buildSpanTree, type SpanNode, type SpanTree } from "../../src/analysis/span-tree.js";
import { findCriticalPath, followsFromParent, isAsynchronousChild, spanKindOf } from "../../src/analysis/critical-path.js";
import type { Span } from "../../src/analysis/span.js";
import { mulberry32 } from "../../src/demo/seeded-random.js";
import { JAEGER_CASES, jaegerSplit } from "./jaeger-critical-path-cases.js";
import { T0, span } from "./span-builder.js";

/** Time each span holds the path, by span id; spans holding none are left out. */
const splitOf = (tree: SpanTree): Record<string, number> =>
  Object.fromEntries(tree.nodes.filter((n) => n.criticalMs > 0).map((n) => [n.span.spanId, n.criticalMs]));

const segmentsOf = (tree: SpanTree): Array<[string, number, number]> =>
  tree.criticalSegments.map((s) => [s.node.span.spanId, s.startMs - T0, s.endMs - T0]);

describe("critical path: Jaeger UI's test cases", () => {
  it.each(JAEGER_CASES)("$name", ({ spans, sections }) => {
    const tree = buildSpanTree(spans);
    // Same span set and same time per span.
    expect(splitOf(tree)).toEqual(jaegerSplit(sections));
    expect(new Set(tree.criticalPath.map((n) => n.span.spanId))).toEqual(new Set(sections.map(([id]) => id)));
    // Same sections: Jaeger lists them latest first, we in time order.
    expect(segmentsOf(tree)).toEqual([...sections].reverse());
  });
});

describe("critical path: clipping to the parent's bounds", () => {
  // Parent p runs 0..100 unless a case says otherwise; split is what each span holds.
  const cases: Array<{ name: string; spans: Span[]; split: Record<string, number> }> = [
    {
      name: "a child that starts before its parent holds the path from the parent's start",
      spans: [span("p", { start: 0, end: 100 }), span("c", { parent: "p", start: -50, end: 30 })],
      split: { c: 30, p: 70 },
    },
    {
      name: "a child that ends after its parent holds the path up to the parent's end",
      spans: [span("p", { start: 0, end: 100 }), span("c", { parent: "p", start: 60, end: 400 })],
      split: { p: 60, c: 40 },
    },
    {
      name: "a child wider than its parent on both sides holds all of it",
      spans: [span("p", { start: 0, end: 100 }), span("c", { parent: "p", start: -10, end: 110 })],
      split: { c: 100 },
    },
    {
      name: "a child that starts exactly at its parent's end is dropped",
      spans: [span("p", { start: 0, end: 100 }), span("c", { parent: "p", start: 100, end: 150 })],
      split: { p: 100 },
    },
    {
      name: "a child that ends exactly at its parent's start is dropped",
      spans: [span("p", { start: 0, end: 100 }), span("c", { parent: "p", start: -30, end: 0 })],
      split: { p: 100 },
    },
    {
      name: "a grandchild is clipped to its parent's clipped bounds, not its own",
      spans: [
        span("p", { start: 0, end: 100 }),
        span("c", { parent: "p", start: 50, end: 300 }),
        // Inside c's own bounds, but after p (and so clipped c) ended.
        span("g", { parent: "c", start: 150, end: 250 }),
        span("g2", { parent: "c", start: 60, end: 200 }),
      ],
      split: { p: 50, c: 10, g2: 40 },
    },
    {
      name: "a child that starts after its parent ended takes its children off the path with it",
      spans: [
        span("p", { start: 0, end: 100 }),
        span("late", { parent: "p", start: 4800, end: 4900 }),
        span("late1", { parent: "late", start: 4810, end: 4890 }),
      ],
      split: { p: 100 },
    },
    {
      // 0.25 rather than stLogin.get's 0.16 ms: epoch ms near 2025 hold quarters exactly.
      name: "the stLogin.get case: a sub-millisecond span whose child began 4.7 s after it ended",
      spans: [span("get", { start: 0, end: 0.25 }), span("child", { parent: "get", start: 4700, end: 4710 })],
      split: { get: 0.25 },
    },
  ];

  it.each(cases)("$name", ({ spans, split }) => {
    const tree = buildSpanTree(spans);
    expect(splitOf(tree)).toEqual(split);
  });
});

describe("critical path: asynchronous children", () => {
  const producer = (id: string, extra: Record<string, unknown> = {}) =>
    span(id, { start: 0, end: 100, metadata: { "span.kind": "producer", ...extra } });

  it("leaves a consumer under a producer, and everything below it, off the path", () => {
    const tree = buildSpanTree([
      producer("send"),
      span("recv", { parent: "send", start: 40, end: 90, metadata: { "span.kind": "consumer" } }),
      span("work", { parent: "recv", start: 50, end: 80 }),
    ]);
    expect(splitOf(tree)).toEqual({ send: 100 });
  });

  it("keeps a blocking sibling of an asynchronous child on the path", () => {
    const tree = buildSpanTree([
      producer("send"),
      span("recv", { parent: "send", start: 20, end: 99, metadata: { kind: "CONSUMER" } }),
      span("flush", { parent: "send", start: 10, end: 60, metadata: { "span.kind": "client" } }),
    ]);
    expect(splitOf(tree)).toEqual({ send: 50, flush: 50 });
  });

  it("leaves a follows-from child off the path whatever its kind", () => {
    const tree = buildSpanTree([
      span("p", { start: 0, end: 100 }),
      span("f", { parent: "p", start: 10, end: 90, metadata: { ref_type: "FOLLOWS_FROM" } }),
    ]);
    expect(splitOf(tree)).toEqual({ p: 100 });
  });

  // Which child → parent pairs are asynchronous, by the metadata each carries.
  const pairs: Array<[string, Record<string, unknown>, Record<string, unknown>, boolean]> = [
    ["span.kind consumer under producer", { "span.kind": "consumer" }, { "span.kind": "producer" }, true],
    ["span_kind, upper case", { span_kind: "CONSUMER" }, { span_kind: "PRODUCER" }, true],
    ["kind with OTel enum names", { kind: "SPAN_KIND_CONSUMER" }, { kind: "SPAN_KIND_PRODUCER" }, true],
    ["kind with OTel enum numbers", { kind: 5 }, { kind: 4 }, true],
    ["kind with OTel numbers as strings", { kind: "5" }, { kind: "4" }, true],
    ["a key in another case", { "Span.Kind": "consumer" }, { SPAN_KIND: "producer" }, true],
    ["ref_type follows_from", { ref_type: "follows_from" }, {}, true],
    ["reference_type FOLLOWS_FROM", { reference_type: "FOLLOWS_FROM" }, {}, true],
    ["refType follows-from", { refType: "follows-from" }, {}, true],
    ["ref_type child_of", { ref_type: "CHILD_OF" }, {}, false],
    ["consumer under a server span", { "span.kind": "consumer" }, { "span.kind": "server" }, false],
    ["consumer under a span of no kind", { "span.kind": "consumer" }, {}, false],
    ["producer under a server span", { "span.kind": "producer" }, { "span.kind": "server" }, false],
    ["client under a producer", { "span.kind": "client" }, { "span.kind": "producer" }, false],
    ["consumer under a consumer", { kind: 5 }, { kind: 5 }, false],
    ["kind numbers that are not producer and consumer", { kind: 3 }, { kind: 2 }, false],
    ["an unknown kind word", { kind: "batch" }, { kind: "producer" }, false],
    ["no metadata", {}, {}, false],
  ];

  it.each(pairs)("%s → asynchronous: %s", (_, child, parent, expected) => {
    const c = span("c", { parent: "p", metadata: child });
    const p = span("p", { metadata: parent });
    expect(isAsynchronousChild(c, p)).toBe(expected);
  });

  it.each([
    [{ "span.kind": "server" }, "server"],
    [{ "span.kind": " Client " }, "client"],
    [{ kind: "SPAN_KIND_INTERNAL" }, "internal"],
    [{ kind: 0 }, null],
    [{ kind: "SPAN_KIND_UNSPECIFIED" }, null],
    [{ kind: true }, null],
    // The first key present wins, in the order span.kind, span_kind, kind.
    [{ kind: "consumer", "span.kind": "producer" }, "producer"],
    [{ "span.kind": "", kind: "consumer" }, "consumer"],
  ] as const)("reads span kind %j as %s", (metadata, kind) => {
    expect(spanKindOf(metadata)).toBe(kind);
  });

  it("reads a follows-from reference only from the keys it documents", () => {
    expect(followsFromParent({ ref_type: "FollowsFrom" })).toBe(true);
    expect(followsFromParent({ link_type: "follows_from" })).toBe(false);
  });
});

describe("critical path: walking back through siblings", () => {
  const cases: Array<{ name: string; spans: Span[]; split: Record<string, number> }> = [
    {
      // Jaeger requires a strict "ended before"; it would drop a and blame root for 0..40 (issues #9173, #9148).
      name: "back-to-back siblings are both on the path",
      spans: [span("root", { start: 0, end: 100 }), span("a", { parent: "root", start: 0, end: 40 }), span("b", { parent: "root", start: 40, end: 100 })],
      split: { a: 40, b: 60 },
    },
    {
      name: "the sibling ending exactly at the boundary wins over an earlier one",
      spans: [
        span("root", { start: 0, end: 100 }),
        span("early", { parent: "root", start: 0, end: 20 }),
        span("prev", { parent: "root", start: 30, end: 50 }),
        span("last", { parent: "root", start: 50, end: 100 }),
      ],
      split: { root: 10, early: 20, prev: 20, last: 50 },
    },
    {
      name: "a sibling still running when the later one starts overlaps it and is skipped",
      spans: [span("root", { start: 0, end: 100 }), span("a", { parent: "root", start: 0, end: 51 }), span("b", { parent: "root", start: 50, end: 100 })],
      split: { root: 50, b: 50 },
    },
    {
      name: "of children ending together, the one that started first holds the path",
      spans: [span("root", { start: 0, end: 100 }), span("short", { parent: "root", start: 60, end: 90 }), span("long", { parent: "root", start: 10, end: 90 })],
      split: { root: 20, long: 80 },
    },
    {
      name: "zero-length children hold nothing and do not break the walk",
      spans: [
        span("root", { start: 0, end: 100 }),
        span("z1", { parent: "root", start: 100, end: 100 }),
        span("z2", { parent: "root", start: 50, end: 50 }),
        span("a", { parent: "root", start: 10, end: 50 }),
      ],
      split: { root: 60, a: 40 },
    },
  ];

  it.each(cases)("$name", ({ spans, split }) => {
    expect(splitOf(buildSpanTree(spans))).toEqual(split);
  });
});

describe("critical path: unfinished spans and several roots", () => {
  it("runs an unfinished span to the latest end below it", () => {
    const tree = buildSpanTree([
      span("root", { start: 0, end: 100 }),
      span("u", { parent: "root", start: 10, end: null }),
      span("u1", { parent: "u", start: 20, end: 70 }),
    ]);
    expect(splitOf(tree)).toEqual({ root: 40, u: 10, u1: 50 });
  });

  it("gives an unfinished leaf no time: it lasted no known time", () => {
    const tree = buildSpanTree([span("root", { start: 0, end: 100 }), span("u", { parent: "root", start: 10, end: null })]);
    expect(splitOf(tree)).toEqual({ root: 100 });
    expect(buildSpanTree([span("alone", { start: 0, end: null })]).criticalPath).toEqual([]);
  });

  it("starts from the root that ends last, the earlier one when two end together", () => {
    const later = buildSpanTree([span("a", { start: 0, end: 50 }), span("b", { start: 10, end: 60 }), span("orphan", { parent: "gone", start: 0, end: 40 })]);
    expect(splitOf(later)).toEqual({ b: 50 });
    const tie = buildSpanTree([span("late-start", { start: 30, end: 60 }), span("early-start", { start: 10, end: 60 })]);
    expect(splitOf(tie)).toEqual({ "early-start": 50 });
  });

  it("finds nothing in no roots", () => {
    expect(findCriticalPath<SpanNode>([])).toEqual({ root: null, segments: [], criticalMs: new Map() });
  });

  it("copes with a child whose stored end is before its start", () => {
    const tree = buildSpanTree([span("root", { start: 0, end: 100 }), span("bad", { parent: "root", start: 50, end: 20 })]);
    expect(splitOf(tree)).toEqual({ root: 100 });
  });
});

/** A random trace: spans that often stick out of their parents, some unfinished, some asynchronous. */
function randomTrace(seed: number, size: number): Span[] {
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const spans: Span[] = [];
  const bounds: Array<[number, number]> = [];
  const roots = int(1, 3);
  for (let i = 0; i < size; i++) {
    const parent = i < roots ? -1 : int(0, i - 1);
    const [ps, pe] = parent < 0 ? [0, 1000] : bounds[parent]!;
    // Mostly inside the parent, sometimes across or past its edges; ends on a coarse grid so ties happen.
    const start = int(ps - 20, pe + 10);
    const end = Math.max(start, start + 5 * int(0, Math.max(1, Math.round((pe - start) / 5)) + 2));
    const roll = rnd();
    const metadata: Record<string, unknown> = roll < 0.1 ? { "span.kind": "producer" } : roll < 0.2 ? { "span.kind": "consumer" } : roll < 0.25 ? { ref_type: "follows_from" } : {};
    const unfinished = rnd() < 0.05;
    spans.push(span(`s${i}`, { parent: parent < 0 ? null : `s${parent}`, start, end: unfinished ? null : end, metadata }));
    bounds.push([start, end]);
  }
  return spans;
}

describe("critical path: invariants over random trees", () => {
  const seeds = Array.from({ length: 300 }, (_, i) => i + 1);

  it.each(seeds.map((s) => [s]))("seed %i: the path covers the top root exactly once, nothing async or outside on it", (seed) => {
    const tree = buildSpanTree(randomTrace(seed, 1 + (seed % 40)));
    const segments = tree.criticalSegments;
    const top = tree.roots.reduce((best, r) => (r.layoutEndMs > best.layoutEndMs || (r.layoutEndMs === best.layoutEndMs && r.span.startMs < best.span.startMs) ? r : best));
    const rootStart = top.span.startMs;
    const rootEnd = Math.max(rootStart, top.layoutEndMs);

    // The shares sum to the root's duration: never over 100 %.
    const total = tree.nodes.reduce((sum, n) => sum + n.criticalMs, 0);
    expect(total).toBeCloseTo(rootEnd - rootStart, 9);

    // Contiguous, in time order, from the root's start to its end.
    if (rootEnd > rootStart) {
      expect(segments[0]!.startMs).toBe(rootStart);
      expect(segments[segments.length - 1]!.endMs).toBe(rootEnd);
    } else expect(segments).toEqual([]);
    segments.forEach((s, i) => {
      expect(s.endMs).toBeGreaterThan(s.startMs);
      if (i) expect(s.startMs).toBe(segments[i - 1]!.endMs);
    });

    // criticalMs is the sum of each span's segments, and a span on the path is one of the top root's.
    const bySegments = new Map<SpanNode, number>();
    for (const s of segments) bySegments.set(s.node, (bySegments.get(s.node) ?? 0) + s.endMs - s.startMs);
    for (const n of tree.nodes) expect(n.criticalMs).toBeCloseTo(bySegments.get(n) ?? 0, 9);

    for (const s of segments) {
      // Inside the span's own bounds, and every link up to the root blocking and overlapping.
      expect(s.startMs).toBeGreaterThanOrEqual(s.node.span.startMs);
      expect(s.endMs).toBeLessThanOrEqual(Math.max(s.node.span.startMs, s.node.layoutEndMs));
      let n: SpanNode = s.node;
      while (n.parent) {
        expect(isAsynchronousChild(n.span, n.parent.span)).toBe(false);
        expect(s.startMs).toBeGreaterThanOrEqual(n.parent.span.startMs);
        expect(s.endMs).toBeLessThanOrEqual(Math.max(n.parent.span.startMs, n.parent.layoutEndMs));
        n = n.parent;
      }
      expect(n).toBe(top);
    }

    // The path list is exactly the spans holding time, top-down.
    expect(tree.criticalPath).toEqual(tree.nodes.filter((n) => n.criticalMs > 0));
  });
});
