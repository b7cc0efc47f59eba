// The waterfall's model, table-driven on hand-built get_trace and find_gaps answers: where bars go,
// critical-path segments, hand-off lead-ins, collapsed groups and missing hops in tree order, focus
// views, and lenient reading (wrong types dropped, unknown fields ignored, nested traces found).

import { describe, expect, it } from "vitest";
import { findTraces, readGaps, readTrace, type TraceData } from "../../src/ui/view/trace-data.js";
import { buildWaterfall, statusClass, subtract, tickLabel, type GroupRow, type MissingRow, type SpanRow } from "../../src/ui/view/waterfall-model.js";

type Json = Record<string, unknown>;

function span(id: string, fields: Json = {}): Json {
  return { span_id: id, trace_id: "t1", service: "runner", operation: id, status: "completed", depth: 0, offset_ms: 0, duration_ms: 10, critical: false, ...fields };
}

function trace(spans: Json[], fields: Json = {}): TraceData {
  const data = readTrace({
    resolved: { by: "trace_id", value: "t1" },
    trace_ids: ["t1"],
    services: [...new Set(spans.map((s) => s.service as string))],
    start_time: "2025-10-22T16:52:06.484Z",
    duration_ms: 13,
    span_count: spans.length,
    status_counts: { failed: 2 },
    failed_span_ids: [],
    critical_path: [],
    spans,
    collapsed: [],
    shown_spans: spans.length,
    hidden_spans: 0,
    truncated: false,
    read_truncated: false,
    findings: [],
    ...fields,
  });
  if (!data) throw new Error("not a trace");
  return data;
}

const spanRows = (rows: Array<{ kind: string }>) => rows.filter((r): r is SpanRow => r.kind === "span");

/** The demo's 13 ms failure, as get_trace answers it. */
const immediateFailure = () =>
  trace(
    [
      span("566a", { operation: "execute_question", status: "failed", duration_ms: 13, self_ms: 3, critical: true, error: "execution failed", metadata: { region: "US", has_output: false } }),
      span("b4ce", { operation: "call_router", parent_span_id: "566a", status: "failed", depth: 1, offset_ms: 1, duration_ms: 10, self_ms: 10, critical: true }),
    ],
    {
      failed_span_ids: ["566a", "b4ce"],
      critical_path: [
        { span_id: "566a", service: "runner", operation: "execute_question", duration_ms: 13, critical_ms: 3 },
        { span_id: "b4ce", service: "runner", operation: "call_router", duration_ms: 10, critical_ms: 10 },
      ],
      findings: ["2 span(s) failed."],
    },
  );

const gapsOfImmediateFailure = {
  mode: "trace",
  findings: [
    { kind: "missing_hop", severity: "high", span_ids: ["b4ce"], trace_ids: ["t1"], offset_ms: 24, edge: "runner.call_router → router.inference_request", missing: ["router.inference_request", "router.select_provider"], sentence: "router.inference_request is missing." },
    { kind: "missing_hop", severity: "low", span_ids: ["566a"], trace_ids: ["t1"], offset_ms: 12, missing: ["runner.store_result"], sentence: "runner.store_result is missing." },
  ],
  handoffs: [],
  notes: [],
};

describe("buildWaterfall", () => {
  it("places one bar per span in percent of the trace, failures as such, the critical path in the gaps between critical children", () => {
    const m = buildWaterfall(immediateFailure());
    const [root, call] = spanRows(m.rows);
    expect(m.rows).toHaveLength(2);
    expect(root).toMatchObject({ spanId: "566a", status: "failed", statusText: "FAILED", bar: { left: 0, width: 100 }, durationText: "13ms", error: "execution failed", depth: 0 });
    expect(call).toMatchObject({ spanId: "b4ce", depth: 1, bar: { left: 7.69, width: 76.92 } });
    // The root holds the path before and after its critical child: 1 ms + 2 ms = its critical_ms.
    expect(root!.criticalSegments).toEqual([
      { left: 0, width: 7.69 },
      { left: 84.62, width: 15.38 },
    ]);
    expect(call!.criticalSegments).toEqual([{ left: 7.69, width: 76.92 }]);
    expect(m.title).toBe("runner.execute_question");
    expect(m.status).toBe("failed");
    expect(m.critical).toEqual([
      { label: "runner.call_router", ms: "10ms", share: 77, color: 0 },
      { label: "runner.execute_question", ms: "3ms", share: 23, color: 0 },
    ]);
    expect(m.facts).toContainEqual(["Depth", "2"]);
    expect(m.ticks.map((t) => t.label)).toEqual(["0ms", "3.3ms", "6.5ms", "9.8ms", "13ms"]);
    expect(root!.metadata).toEqual([
      ["region", "US"],
      ["has_output", "false"],
    ]);
    expect(m.source).toEqual({ by: "trace_id", value: "t1" });
  });

  it("draws find_gaps' missing hops under their caller, after its subtree: the cut, then its consequences", () => {
    const m = buildWaterfall(immediateFailure(), readGaps(gapsOfImmediateFailure));
    expect(m.rows.map((r) => `${r.kind}:${r.depth}:${r.kind === "missing" ? r.hop : (r as SpanRow).spanId}`)).toEqual([
      "span:0:566a",
      "span:1:b4ce",
      "missing:2:router.inference_request",
      "missing:3:router.select_provider",
      "missing:1:runner.store_result",
    ]);
    const [cut, consequence, store] = m.rows.filter((r): r is MissingRow => r.kind === "missing");
    // +24 ms is past the 13 ms this execution lasted: said in words, not placed on the axis.
    expect(cut).toMatchObject({ consequence: false, expectedText: "missing · usually at +24ms", callerSpanId: "b4ce" });
    expect(cut!.expected).toBeUndefined();
    expect(consequence).toMatchObject({ consequence: true, expectedText: "missing as a consequence" });
    expect(store!.expected).toEqual({ left: 92.31, width: 0 });
    expect(m.gapFindings.map((f) => f.severity)).toEqual(["high", "low"]);
  });

  it("marks the hand-off to another service as a lead-in, slow when far beyond the edge's baseline", () => {
    const spans = [
      span("a", { duration_ms: 100 }),
      span("b", { service: "router", operation: "inference_request", parent_span_id: "a", depth: 1, offset_ms: 40, duration_ms: 50 }),
      span("c", { service: "router", operation: "select_provider", parent_span_id: "b", depth: 2, offset_ms: 45, duration_ms: 5 }),
    ];
    const gaps = readGaps({ mode: "trace", findings: [], handoffs: [{ edge: "runner.a → router.inference_request", parent_span_id: "a", child_span_id: "b", delay_ms: 40, baseline_p50_ms: 4, baseline_p95_ms: 8 }] });
    const rows = spanRows(buildWaterfall(trace(spans, { duration_ms: 100 }), gaps).rows);
    expect(rows[1]!.leadIn).toEqual({ left: 0, width: 40, text: "hand-off runner → router: 40ms (successful executions: p50 4ms, p95 8ms)", slow: true });
    expect(rows[2]!.leadIn).toBeUndefined(); // same service: no hand-off
    expect(rows.map((r) => r.color)).toEqual([0, 1, 1]);
  });

  it("puts collapsed groups after their parent's last shown descendant, roots' groups last, and counts what is hidden", () => {
    const spans = [span("a", { duration_ms: 100 }), span("b", { parent_span_id: "a", depth: 1, offset_ms: 10, duration_ms: 20 }), span("c", { parent_span_id: "b", depth: 2, offset_ms: 12, duration_ms: 5 }), span("d", { parent_span_id: "a", depth: 1, offset_ms: 50, duration_ms: 20 })];
    const collapsed = [
      { parent_span_id: "b", service: "modal", operation: "run_inference", count: 12, hidden_descendants: 3, failed: 2, offset_ms: 14, p50_ms: 4, total_ms: 60, sample_span_ids: ["x1", "x2"] },
      { service: "runner", operation: "execute_question", count: 2, hidden_descendants: 0, failed: 0, offset_ms: 0, total_ms: 30, sample_span_ids: ["r1"] },
    ];
    const m = buildWaterfall(trace(spans, { duration_ms: 100, collapsed, truncated: true, hidden_spans: 17, shown_spans: 4, span_count: 21 }));
    expect(m.rows.map((r) => r.key)).toEqual(["span:a", "span:b", "span:c", "group:b:modal.run_inference", "span:d", "group:root:runner.execute_question"]);
    const group = m.rows[3] as GroupRow;
    expect(group).toMatchObject({ depth: 2, label: "×12 modal.run_inference", failed: 2, parentSpanId: "b", sampleSpanIds: ["x1", "x2"], durationText: "p50 4ms · total 60ms", bar: { left: 14, width: 4 } });
    expect((m.rows[5] as GroupRow).label).toBe("×2 runner.execute_question (roots)");
    expect((m.rows[1] as SpanRow).hiddenChildren).toBe(15);
    expect(m.notes).toEqual(["Showing 4 of 21 spans; 17 hidden in 2 collapsed group(s): select a ×N row to open it."]);
  });

  it("runs a span that never finished to the end of the axis, and focuses the axis on a subtree", () => {
    const spans = [
      span("b", { parent_span_id: "a", depth: 1, offset_ms: 200, duration_ms: 100, status: "completed", critical: true }),
      span("c", { parent_span_id: "b", depth: 2, offset_ms: 220, status: "unfinished", flags: ["unfinished", "ends_after_parent"] }),
    ];
    delete spans[1]!.duration_ms;
    const m = buildWaterfall(trace(spans, { duration_ms: 5000, focus_span_id: "b", focus_span_count: 2 }));
    const [b, c] = spanRows(m.rows);
    expect(m.axis).toEqual({ startMs: 200, endMs: 300 });
    expect(b).toMatchObject({ depth: 0, bar: { left: 0, width: 100 } });
    expect(c).toMatchObject({ depth: 1, status: "unfinished", openEnded: true, durationText: "never finished", badges: ["ends after parent"], bar: { left: 20, width: 80 } });
    expect(m.facts).toContainEqual(["Spans", "2 in this subtree of 2"]);
    expect(m.focusSpanId).toBe("b");
  });

  it("keeps text from the spans exactly as written (the page inserts it as text), and keys repeated ids apart", () => {
    const hostile = `<script>alert(1)</script><img src=x onerror=alert(2)>`;
    const m = buildWaterfall(trace([span("x", { error: hostile, metadata: { "<b>": hostile } }), span("x", { offset_ms: 1 })]));
    const [first, second] = spanRows(m.rows);
    expect(first!.error).toBe(hostile);
    expect(first!.metadata).toEqual([["<b>", hostile]]);
    expect(first!.hover).toContain(hostile);
    expect([first!.key, second!.key]).toEqual(["span:x", "span:x#2"]);
  });
});

describe("reading answers leniently", () => {
  it("drops fields of the wrong type and ignores unknown ones", () => {
    const data = readTrace({
      spans: [span("a", { depth: "deep", duration_ms: "10", flags: ["orphan", 3], metadata: [1, 2], future_field: { x: 1 } }), { span_id: 7 }, "nonsense"],
      collapsed: [{ service: "s" }],
      findings: ["one", 2],
      status_counts: { failed: 1, odd: "x" },
      answer_cut: { budget_bytes: 1 },
      something_new: true,
    });
    expect(data).not.toBeNull();
    expect(data!.spans).toHaveLength(1);
    expect(data!.spans[0]).toMatchObject({ span_id: "a", depth: 0, flags: ["orphan"], metadata: [] });
    expect(data!.spans[0]!.duration_ms).toBeUndefined();
    expect(data!.collapsed).toEqual([]);
    expect(data!.findings).toEqual(["one"]);
    expect(data!.status_counts).toEqual([["failed", 1]]);
    expect(data!.answer_cut).toBe(true);
    expect(buildWaterfall(data!).notes).toContain("The server shortened this answer to fit its size budget: long values end in …[+N chars cut].");
  });

  it("finds the traces of an answer that nests get_trace answers, and none in other answers", () => {
    const one = { spans: [span("a")] };
    expect(findTraces(one)).toHaveLength(1);
    const compared = findTraces({ failing: one, baseline: { spans: [span("b")] }, verdict: "differs" });
    expect(compared.map((t) => t.title)).toEqual(["failing", "baseline"]);
    expect(findTraces({ mode: "trace", findings: [] })).toEqual([]);
    expect(findTraces(null)).toEqual([]);
    expect(readGaps({ mode: "aggregate", findings: [] })).toBeNull();
    expect(readGaps(one)).toBeNull();
  });
});

describe("helpers", () => {
  it.each([
    [[0, 10], [], [[0, 10]]],
    [[0, 10], [[2, 4]], [[0, 2], [4, 10]]],
    [[0, 10], [[6, 8], [1, 3]], [[0, 1], [3, 6], [8, 10]]],
    [[0, 10], [[-5, 15]], []],
    [[0, 10], [[2, 6], [4, 8]], [[0, 2], [8, 10]]],
  ] as Array<[[number, number], Array<[number, number]>, Array<[number, number]>]>)("subtract(%j, %j) = %j", (range, cuts, expected) => {
    expect(subtract(range, cuts)).toEqual(expected);
  });

  it.each([
    ["completed", "ok"],
    ["OK", "ok"],
    ["failed", "failed"],
    ["ERROR", "failed"],
    ["timeout", "timeout"],
    ["unfinished", "unfinished"],
    ["started", "unfinished"],
    ["cancelled", "other"],
  ])("status %s is drawn as %s", (status, drawn) => expect(statusClass(status)).toBe(drawn));

  it.each([
    [0, 13, "0ms"],
    [3.25, 13, "3.3ms"],
    [568, 2270, "568ms"],
    [1135, 2270, "1.14s"],
  ])("tick %d on a %d ms axis reads %s", (ms, range, label) => expect(tickLabel(ms, range)).toBe(label));
});
