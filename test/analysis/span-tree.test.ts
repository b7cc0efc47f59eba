// Tests for buildSpanTree: tree shape, the flags messy traces need, self time, critical path, and
// joining hops from other traces by a correlation key (job_id) and time.
import { describe, it, expect } from "vitest";
import { buildSpanTree, type SpanFlag } from "../../src/analysis/span-tree.js";
import type { Span } from "../../src/analysis/span.js";
import { T0, ids, nodeById, runnerRouterModal, span } from "./span-builder.js";

describe("buildSpanTree: shape", () => {
  it("orders a runner → router → modal trace depth-first by start, with depths and offsets", () => {
    // Rows arrive in any order; the tree does not depend on it.
    const tree = buildSpanTree([...runnerRouterModal()].reverse());
    expect(ids(tree.roots)).toEqual(["r1"]);
    expect(ids(tree.nodes)).toEqual(["r1", "r2", "r3", "r4", "r5"]);
    expect(tree.nodes.map((n) => n.depth)).toEqual([0, 1, 2, 3, 1]);
    expect(tree.nodes.map((n) => n.span.startMs - tree.startMs)).toEqual([0, 10, 15, 20, 92]);
    expect(tree.startMs).toBe(T0);
    expect(tree.endMs).toBe(T0 + 100);
    expect(tree.traceIds).toEqual(["t1"]);
    expect(nodeById(tree, "r4").parent?.span.spanId).toBe("r3");
    expect(tree.nodes.every((n) => n.flags.length === 0 && n.linkedBy === null)).toBe(true);
  });

  it("orders siblings that start together by span id", () => {
    const tree = buildSpanTree([
      span("root", { start: 0, end: 50 }),
      span("b", { parent: "root", start: 5, end: 10 }),
      span("a", { parent: "root", start: 5, end: 10 }),
      span("c", { parent: "root", start: 1, end: 10 }),
    ]);
    expect(ids(tree.nodes)).toEqual(["root", "c", "a", "b"]);
  });

  it("keeps several roots, earliest first, and spans the whole set", () => {
    const tree = buildSpanTree([
      span("late", { start: 50, end: 120 }),
      span("early", { start: 0, end: 40 }),
      span("early-child", { parent: "early", start: 5, end: 30 }),
    ]);
    expect(ids(tree.roots)).toEqual(["early", "late"]);
    expect(ids(tree.nodes)).toEqual(["early", "early-child", "late"]);
    expect(nodeById(tree, "late").depth).toBe(0);
    expect(tree.startMs).toBe(T0);
    expect(tree.endMs).toBe(T0 + 120);
  });

  it("returns an empty tree for no spans", () => {
    const tree = buildSpanTree([]);
    expect(tree.roots).toEqual([]);
    expect(tree.nodes).toEqual([]);
    expect(tree.criticalPath).toEqual([]);
    expect(tree.endMs).toBe(tree.startMs);
  });

  it("links a parent found in another trace when the span id crossed a hop", () => {
    const tree = buildSpanTree([
      span("r1", { trace: "t1", start: 0, end: 100 }),
      span("x1", { trace: "t2", parent: "r1", start: 10, end: 50 }),
    ]);
    expect(ids(tree.roots)).toEqual(["r1"]);
    expect(nodeById(tree, "x1").parent?.span.spanId).toBe("r1");
    expect(nodeById(tree, "x1").flags).toEqual([]);
  });
});

describe("buildSpanTree: flags", () => {
  // Each case lists the spans and the flags expected on each input row, in input order.
  const cases: Array<{ name: string; spans: Span[]; flags: SpanFlag[][]; roots: string[] }> = [
    {
      name: "orphan: parent missing from the data, shown as a root",
      spans: [span("a", { start: 0, end: 10 }), span("b", { parent: "gone", start: 2, end: 5 })],
      flags: [[], ["orphan"]],
      roots: ["a", "b"],
    },
    {
      name: "parent cycle a → b → a is cut at the earliest span",
      spans: [span("a", { parent: "b", start: 0, end: 10 }), span("b", { parent: "a", start: 1, end: 5 })],
      flags: [["parent_cycle"], []],
      roots: ["a"],
    },
    {
      name: "three-span cycle with a branch hanging off it",
      spans: [
        span("c", { parent: "b", start: 2, end: 4 }),
        span("a", { parent: "c", start: 0, end: 10 }),
        span("b", { parent: "a", start: 1, end: 8 }),
        span("d", { parent: "b", start: 3, end: 6 }),
      ],
      flags: [[], ["parent_cycle"], [], []],
      roots: ["a"],
    },
    {
      name: "a span that names itself as parent is a loop, not an orphan",
      spans: [span("a", { parent: "a", start: 0, end: 10 }), span("b", { parent: "a", start: 1, end: 5 })],
      flags: [["parent_cycle"], []],
      roots: ["a"],
    },
    {
      name: "duplicate span id: the later row is flagged and becomes a root",
      spans: [
        span("a", { start: 0, end: 10 }),
        span("b", { parent: "a", start: 1, end: 5 }),
        span("b", { parent: "a", start: 2, end: 6 }),
      ],
      flags: [[], [], ["duplicate_span_id"]],
      roots: ["a", "b"],
    },
    {
      name: "clock skew: child starts before its parent",
      spans: [span("p", { start: 10, end: 50 }), span("c", { parent: "p", start: 5, end: 20 })],
      flags: [[], ["starts_before_parent"]],
      roots: ["p"],
    },
    {
      name: "child ends after its parent",
      spans: [span("p", { start: 0, end: 50 }), span("c", { parent: "p", start: 10, end: 70 })],
      flags: [[], ["ends_after_parent"]],
      roots: ["p"],
    },
    {
      name: "child both starts before and ends after its parent",
      spans: [span("p", { start: 10, end: 50 }), span("c", { parent: "p", start: 5, end: 70 })],
      flags: [[], ["starts_before_parent", "ends_after_parent"]],
      roots: ["p"],
    },
    {
      name: "a child that ends exactly with its parent is not flagged",
      spans: [span("p", { start: 0, end: 50 }), span("c", { parent: "p", start: 0, end: 50 })],
      flags: [[], []],
      roots: ["p"],
    },
    {
      name: "unfinished: status 'started', no end, no duration; a child of it cannot end after it",
      spans: [span("p", { start: 0, end: null }), span("c", { parent: "p", start: 10, end: 30 })],
      flags: [["unfinished"], []],
      roots: ["p"],
    },
    {
      name: "status 'started' with a known end is not unfinished",
      spans: [span("p", { start: 0, end: 20, status: "started" })],
      flags: [[]],
      roots: ["p"],
    },
    {
      name: "status 'started' with only a duration is not unfinished",
      spans: [span("p", { start: 0, end: null, duration: 20, status: "STARTED" })],
      flags: [[]],
      roots: ["p"],
    },
    {
      name: "a failed span with no end is a failure, not unfinished",
      spans: [span("p", { start: 0, end: null, status: "failed" })],
      flags: [[]],
      roots: ["p"],
    },
  ];

  it.each(cases)("$name", ({ spans, flags, roots }) => {
    const tree = buildSpanTree(spans);
    const nodeOf = (s: Span) => tree.nodes.find((n) => n.span === s);
    expect(spans.map((s) => nodeOf(s)?.flags)).toEqual(flags);
    expect(ids(tree.roots)).toEqual(roots);
    // Nothing is lost, nothing is visited twice.
    expect(tree.nodes).toHaveLength(spans.length);
    expect(new Set(tree.nodes).size).toBe(spans.length);
  });

  it("shows an orphan's own children under it", () => {
    const tree = buildSpanTree([
      span("a", { start: 0, end: 10 }),
      span("o", { parent: "gone", start: 20, end: 40 }),
      span("o1", { parent: "o", start: 25, end: 30 }),
    ]);
    expect(ids(tree.nodes)).toEqual(["a", "o", "o1"]);
    expect(nodeById(tree, "o1").depth).toBe(1);
    expect(nodeById(tree, "o1").flags).toEqual([]);
  });

  it("sets a cut cycle's depths from the cut", () => {
    const tree = buildSpanTree([span("a", { parent: "b", start: 0, end: 10 }), span("b", { parent: "a", start: 1, end: 5 })]);
    expect(tree.nodes.map((n) => [n.span.spanId, n.depth])).toEqual([
      ["a", 0],
      ["b", 1],
    ]);
    expect(nodeById(tree, "a").parent).toBeNull();
  });
});

describe("buildSpanTree: unfinished spans and missing times", () => {
  it("lays an unfinished span out to the latest end below it, with no self time", () => {
    const tree = buildSpanTree([
      span("root", { start: 0, end: null }),
      span("a", { parent: "root", start: 10, end: 30 }),
      span("b", { parent: "root", start: 20, end: null }),
      span("b1", { parent: "b", start: 25, end: 70 }),
    ]);
    expect(nodeById(tree, "b").layoutEndMs).toBe(T0 + 70);
    expect(nodeById(tree, "root").layoutEndMs).toBe(T0 + 70);
    expect(nodeById(tree, "root").selfMs).toBeNull();
    expect(nodeById(tree, "b").selfMs).toBeNull();
    expect(nodeById(tree, "a").selfMs).toBe(20);
    expect(tree.endMs).toBe(T0 + 70);
  });

  it("lays an unfinished leaf out as a point at its start", () => {
    const tree = buildSpanTree([span("root", { start: 5, end: null })]);
    expect(tree.nodes[0]!.layoutEndMs).toBe(T0 + 5);
    expect(tree.endMs).toBe(T0 + 5);
  });

  const times: Array<{ name: string; shape: Parameters<typeof span>[1]; layoutEnd: number; self: number | null }> = [
    { name: "end and duration both known", shape: { start: 10, end: 50 }, layoutEnd: 50, self: 40 },
    { name: "duration_ms null, completed_at known", shape: { start: 10, end: 50, duration: null }, layoutEnd: 50, self: 40 },
    { name: "completed_at null, duration_ms known: end derived", shape: { start: 10, end: null, duration: 25 }, layoutEnd: 35, self: 25 },
    { name: "fractional duration", shape: { start: 10, end: null, duration: 12.5 }, layoutEnd: 22.5, self: 12.5 },
    { name: "neither known", shape: { start: 10, end: null, duration: null }, layoutEnd: 10, self: null },
  ];

  it.each(times)("$name", ({ shape, layoutEnd, self }) => {
    const tree = buildSpanTree([span("s", shape)]);
    expect(tree.nodes[0]!.layoutEndMs).toBe(T0 + layoutEnd);
    expect(tree.nodes[0]!.selfMs).toBe(self);
  });
});

describe("buildSpanTree: self time", () => {
  // Parent runs 0..100; children as [start, end] offsets (end null: unfinished child).
  const cases: Array<{ name: string; children: Array<[number, number | null]>; self: number }> = [
    { name: "no children", children: [], self: 100 },
    { name: "one child", children: [[10, 40]], self: 70 },
    { name: "disjoint children", children: [[10, 20], [50, 70]], self: 70 },
    { name: "touching children", children: [[10, 20], [20, 30]], self: 80 },
    { name: "overlapping children count their union once", children: [[10, 40], [30, 60]], self: 50 },
    { name: "a child inside another", children: [[10, 60], [20, 30]], self: 50 },
    { name: "parallel identical children", children: [[0, 100], [0, 100], [0, 100]], self: 0 },
    { name: "child starting before the parent is clipped to it", children: [[-20, 10]], self: 90 },
    { name: "child outliving the parent is clipped to it", children: [[80, 150]], self: 80 },
    { name: "child entirely after the parent covers nothing", children: [[120, 150]], self: 100 },
    { name: "unfinished child covers what ran under it", children: [[40, null]], self: 100 },
  ];

  it.each(cases)("$name", ({ children, self }) => {
    const tree = buildSpanTree([
      span("p", { start: 0, end: 100 }),
      ...children.map(([start, end], i) => span(`c${i}`, { parent: "p", start, end })),
    ]);
    expect(nodeById(tree, "p").selfMs).toBe(self);
  });

  it("uses the layout end of an unfinished child that has finished children", () => {
    const tree = buildSpanTree([
      span("p", { start: 0, end: 100 }),
      span("c", { parent: "p", start: 10, end: null }),
      span("c1", { parent: "c", start: 20, end: 60 }),
    ]);
    // c covers 10..60 through its child.
    expect(nodeById(tree, "p").selfMs).toBe(50);
  });
});

describe("buildSpanTree: critical path", () => {
  // split: the time each span holds the path (criticalMs); the rest hold none. More in critical-path.test.ts.
  const cases: Array<{ name: string; spans: Span[]; path: string[]; split: Record<string, number> }> = [
    {
      // A parent wholly covered by its children holds none of the path (Jaeger's test8 case too).
      name: "sequential children hold the whole path, their parent none",
      spans: [
        span("root", { start: 0, end: 100 }),
        span("a", { parent: "root", start: 0, end: 40 }),
        span("b", { parent: "root", start: 40, end: 100 }),
      ],
      path: ["a", "b"],
      split: { a: 40, b: 60 },
    },
    {
      name: "sequential children with gaps between them",
      spans: [
        span("root", { start: 0, end: 100 }),
        span("a", { parent: "root", start: 10, end: 40 }),
        span("b", { parent: "root", start: 50, end: 90 }),
      ],
      path: ["root", "a", "b"],
      split: { root: 30, a: 30, b: 40 },
    },
    {
      name: "parallel children: only the one that ends last, and its own path",
      spans: [
        span("root", { start: 0, end: 100 }),
        span("a", { parent: "root", start: 0, end: 60 }),
        span("a1", { parent: "a", start: 0, end: 50 }),
        span("b", { parent: "root", start: 0, end: 90 }),
        span("b1", { parent: "b", start: 10, end: 80 }),
        span("b2", { parent: "b", start: 10, end: 30 }),
      ],
      path: ["root", "b", "b1"],
      split: { root: 10, b: 20, b1: 70 },
    },
    {
      name: "a child that outlives its parent is clipped to it, and what it did after the parent ended is off the path",
      spans: [
        span("root", { start: 0, end: 50 }),
        span("a", { parent: "root", start: 10, end: 80 }),
        span("a1", { parent: "a", start: 60, end: 80 }),
        span("early", { parent: "root", start: 0, end: 5 }),
      ],
      path: ["root", "early", "a"],
      split: { root: 5, early: 5, a: 40 },
    },
    {
      name: "a child entirely after its parent's end is not on the parent's path",
      spans: [
        span("root", { start: 0, end: 50 }),
        span("a", { parent: "root", start: 0, end: 40 }),
        span("after", { parent: "root", start: 60, end: 70 }),
      ],
      path: ["root", "a"],
      split: { root: 10, a: 40 },
    },
    {
      name: "several roots: the path starts at the root that ends last",
      spans: [
        span("first", { start: 0, end: 50 }),
        span("first1", { parent: "first", start: 0, end: 50 }),
        span("second", { start: 10, end: 90 }),
        span("second1", { parent: "second", start: 20, end: 90 }),
      ],
      path: ["second", "second1"],
      split: { second: 10, second1: 70 },
    },
    {
      name: "an unfinished span is on the path through what ran under it",
      spans: [
        span("root", { start: 0, end: null }),
        span("a", { parent: "root", start: 0, end: 20 }),
        span("b", { parent: "root", start: 5, end: 70 }),
      ],
      path: ["root", "b"],
      split: { root: 5, b: 65 },
    },
    {
      name: "the runner → router → modal chain with a save after it",
      spans: runnerRouterModal(),
      path: ["r1", "r2", "r3", "r4", "r5"],
      split: { r1: 14, r2: 10, r3: 10, r4: 60, r5: 6 },
    },
  ];

  it.each(cases)("$name", ({ spans, path, split }) => {
    const tree = buildSpanTree(spans);
    expect(ids(tree.criticalPath)).toEqual(path);
    expect(ids(tree.nodes.filter((n) => n.critical))).toEqual(path);
    expect(Object.fromEntries(tree.nodes.filter((n) => n.criticalMs > 0).map((n) => [n.span.spanId, n.criticalMs]))).toEqual(split);
    expect(tree.nodes.filter((n) => !n.critical).every((n) => n.criticalMs === 0)).toBe(true);
  });

  it("lists the path top-down: every span after the critical spans above it", () => {
    const tree = buildSpanTree([
      span("root", { start: 0, end: 100 }),
      span("a", { parent: "root", start: 0, end: 40 }),
      span("a1", { parent: "a", start: 5, end: 40 }),
      span("a11", { parent: "a1", start: 10, end: 35 }),
      span("b", { parent: "root", start: 40, end: 100 }),
      span("b1", { parent: "b", start: 50, end: 95 }),
    ]);
    const path = tree.criticalPath;
    path.forEach((n, i) => {
      for (let p = n.parent; p; p = p.parent) if (p.critical) expect(path.slice(0, i)).toContain(p);
    });
    // root is wholly covered by a then b, so it holds none of the path.
    expect(ids(path)).toEqual(["a", "a1", "a11", "b", "b1"]);
    expect(path.map((n) => n.criticalMs)).toEqual([5, 10, 25, 15, 45]);
  });

  it("gives the segments in time order, contiguous over the root", () => {
    const tree = buildSpanTree(runnerRouterModal());
    expect(tree.criticalSegments.map((s) => [s.node.span.spanId, s.startMs - T0, s.endMs - T0])).toEqual([
      ["r1", 0, 10],
      ["r2", 10, 15],
      ["r3", 15, 20],
      ["r4", 20, 80],
      ["r3", 80, 85],
      ["r2", 85, 90],
      ["r1", 90, 92],
      ["r5", 92, 98],
      ["r1", 98, 100],
    ]);
  });
});

describe("buildSpanTree: joining other traces by correlation key", () => {
  const JOB = "bias-detection-1761135900618";
  const runnerTrace = (): Span[] => [
    span("r1", { trace: "t-runner", start: 0, end: 100, service: "runner", operation: "execute_question", metadata: { job_id: JOB } }),
    span("r2", { trace: "t-runner", parent: "r1", start: 10, end: 90, service: "runner", operation: "call_router", metadata: { job_id: JOB } }),
  ];
  const routerTrace = (start: number, jobId: unknown): Span[] => [
    span("x1", { trace: "t-router", start, end: start + 50, service: "router", operation: "inference_request", metadata: { job_id: jobId } }),
    span("x2", { trace: "t-router", parent: "x1", start: start + 5, end: start + 45, service: "modal", operation: "generate" }),
  ];

  it("hangs the router's root under runner.call_router when it starts inside it", () => {
    const tree = buildSpanTree([...runnerTrace(), ...routerTrace(15, JOB)], { correlationKeys: ["job_id"] });
    const x1 = nodeById(tree, "x1");
    expect(ids(tree.roots)).toEqual(["r1"]);
    expect(x1.parent?.span.spanId).toBe("r2");
    expect(x1.linkedBy).toBe("job_id");
    expect(x1.depth).toBe(2);
    expect(nodeById(tree, "x2").depth).toBe(3);
    expect(nodeById(tree, "x2").linkedBy).toBeNull();
    expect(ids(tree.nodes)).toEqual(["r1", "r2", "x1", "x2"]);
    expect(tree.traceIds).toEqual(["t-runner", "t-router"]);
    // The joined hop now covers call_router's time.
    expect(nodeById(tree, "r2").selfMs).toBe(80 - 50);
  });

  it("hangs it under the deepest span still open when it starts", () => {
    // call_router ended at 90; only execute_question is open at 95.
    const tree = buildSpanTree([...runnerTrace(), ...routerTrace(95, JOB)], { correlationKeys: ["job_id"] });
    expect(nodeById(tree, "x1").parent?.span.spanId).toBe("r1");
    expect(nodeById(tree, "x1").linkedBy).toBe("job_id");
  });

  it("uses the first correlation key that finds a host", () => {
    const spans = [
      span("r1", { trace: "t-runner", start: 0, end: 100, metadata: { request_id: "q1" } }),
      span("x1", { trace: "t-router", start: 20, end: 30, metadata: { job_id: "other", request_id: "q1" } }),
    ];
    const tree = buildSpanTree(spans, { correlationKeys: ["job_id", "request_id"] });
    expect(nodeById(tree, "x1").linkedBy).toBe("request_id");
  });

  const notJoined: Array<{ name: string; spans: () => Span[]; keys: string[] | undefined }> = [
    { name: "a different job_id", spans: () => [...runnerTrace(), ...routerTrace(15, "another-job")], keys: ["job_id"] },
    { name: "ending before any span of the job starts", spans: () => [...runnerTrace(), ...routerTrace(-60, JOB)], keys: ["job_id"] },
    { name: "starting after every span of the job has ended", spans: () => [...runnerTrace(), ...routerTrace(120, JOB)], keys: ["job_id"] },
    { name: "no job_id on the root", spans: () => [...runnerTrace(), ...routerTrace(15, undefined)], keys: ["job_id"] },
    { name: "an empty job_id", spans: () => [...runnerTrace(), ...routerTrace(15, "")], keys: ["job_id"] },
    { name: "no correlation keys asked for", spans: () => [...runnerTrace(), ...routerTrace(15, JOB)], keys: undefined },
  ];

  it.each(notJoined)("leaves the other trace's root alone with $name", ({ spans, keys }) => {
    const tree = buildSpanTree(spans(), keys ? { correlationKeys: keys } : {});
    const x1 = nodeById(tree, "x1");
    expect(x1.parent).toBeNull();
    expect(x1.linkedBy).toBeNull();
    expect(ids(tree.roots)).toContain("x1");
    expect(ids(tree.roots)).toContain("r1");
  });

  it("never joins a second root of the same trace", () => {
    const tree = buildSpanTree(
      [...runnerTrace(), span("r9", { trace: "t-runner", start: 20, end: 30, metadata: { job_id: JOB } })],
      { correlationKeys: ["job_id"] },
    );
    expect(nodeById(tree, "r9").parent).toBeNull();
    expect(ids(tree.roots)).toEqual(["r1", "r9"]);
  });

  it("does not make a loop when two traces' roots could each host the other", () => {
    const tree = buildSpanTree(
      [
        span("a", { trace: "ta", start: 0, end: 100, metadata: { job_id: JOB } }),
        span("b", { trace: "tb", start: 0, end: 100, metadata: { job_id: JOB } }),
      ],
      { correlationKeys: ["job_id"] },
    );
    expect(tree.roots).toHaveLength(1);
    expect(tree.nodes).toHaveLength(2);
    expect(tree.nodes.filter((n) => n.linkedBy === "job_id")).toHaveLength(1);
  });
});
