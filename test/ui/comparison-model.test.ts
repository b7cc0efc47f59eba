// The comparison's model, table-driven on compare_executions answers as the demo data gives them (the
// slow hand-off and the 13 ms failure): recognition by shape, rows with the bar against the healthy
// band on each row's own scale, verdicts, counts, the first divergence, the lists, and lenient reading.

import { describe, expect, it } from "vitest";
import { buildComparison, scaleRow, times, verdictClass, type CompareRow, type ComparisonModel } from "../../src/ui/view/comparison-model.js";

type Json = Record<string, unknown>;

const hop = (name: string, fields: Json = {}): Json => ({ hop: name, verdict: "usual", count: 1, baseline_share: 1, baseline_count: 1, baseline_max_count: 1, span_ids: [`${name}-1`], ...fields });

/** The demo's slow job, as compare_executions answers it (a router cold start: 5.8 s before router began). */
const slowHandoff = (): Json => ({
  resolved: { by: "job_id", value: "bias-detection-1761092367936", key: "job_id" },
  execution: { trace_ids: ["50c3c5a5"], root_span_id: "94d690f1", root: "runner.execute_question", status: "completed", started_at: "2025-10-22T00:19:27.936Z", duration_ms: 7789, job_id: "bias-detection-1761092367936" },
  baseline: { mode: "sample", root_operation: "runner.execute_question", executions: 103, since: "2025-10-21T00:19:27.936Z", until: "2025-10-22T01:19:27.936Z", example_trace_ids: ["08cf76e6"] },
  duration: { verdict: "slow", ms: 7789, p50_ms: 2347, p95_ms: 4997.5, ratio: 3.32, extra_ms: 5442 },
  first_divergence: { kind: "late_start", offset_ms: 39, hop: "router.inference_request", span_id: "54bb353c", sentence: "router.inference_request started at +5.81s; successful runs start it by +39ms (p95)." },
  where_time_went: [{ kind: "queueing", hop: "runner.call_router", extra_ms: 5777, share: 1, span_ids: ["43c18f2f"], sentence: "router.inference_request started 5.80s after runner.call_router called it." }],
  hops: [
    hop("runner.call_router", { verdict: "slow", slowest_ms: 7772, total_ms: 7772, baseline_p50_ms: 2332, baseline_p95_ms: 4983.7, offset_ms: 4, usual_offset_ms: 2, span_ids: ["43c18f2f"] }),
    hop("router.inference_request", { slowest_ms: 1956, baseline_p50_ms: 2293, baseline_p95_ms: 4803.2, offset_ms: 5806, usual_offset_ms: 22, span_ids: ["54bb353c"] }),
    hop("router.select_provider", { slowest_ms: 5, baseline_p50_ms: 5, baseline_p95_ms: 8, offset_ms: 5809, usual_offset_ms: 24 }),
  ],
  hops_total: 3,
  repeated: [],
  metadata_differences: [{ hop: "router.inference_request", span_id: "54bb353c", key: "cold_start", value: "true", baseline: [{ value: "true", share: 0.01 }], outcome: false }],
  metadata_differences_total: 1,
  retries: [],
  failing_spans: [],
  failing_spans_total: 0,
  notes: [],
});

/** The demo's 13 ms failure: runner.call_router fails at once and every hop after it is missing. */
const immediateFailure = (): Json => ({
  resolved: { by: "trace_id", value: "0cd6a27a" },
  execution: { trace_ids: ["0cd6a27a"], root_span_id: "566a1cce", root: "runner.execute_question", status: "failed", started_at: "2025-10-22T16:52:06.484Z", duration_ms: 13 },
  baseline: { mode: "sample", root_operation: "runner.execute_question", executions: 300, example_trace_ids: [], note: "the 300 most recent; raise sample to look further back" },
  duration: { verdict: "fast", ms: 13, p50_ms: 2389.5, p95_ms: 5576, ratio: 0.01, extra_ms: 0 },
  first_divergence: { kind: "failed", offset_ms: 11, hop: "runner.call_router", span_id: "b4cedce3", sentence: "runner.call_router failed at +11ms, after 10ms." },
  where_time_went: [],
  hops: [
    hop("runner.call_router", { verdict: "failed", slowest_ms: 10, baseline_p50_ms: 2365, baseline_p95_ms: 5552.9, offset_ms: 1, usual_offset_ms: 2, span_ids: ["b4cedce3"] }),
    hop("router.inference_request", { verdict: "missing", count: 0, baseline_p50_ms: 2315.5, baseline_p95_ms: 5233.8, usual_offset_ms: 24, span_ids: [] }),
  ],
  hops_total: 5,
  repeated: [],
  metadata_differences: [
    { hop: "runner.execute_question", span_id: "566a1cce", key: "has_output", value: "false", baseline: [{ value: "true", share: 1 }], outcome: true },
    { hop: "runner.call_router", span_id: "b4cedce3", key: "http_status", baseline: [{ value: "200", share: 1 }], outcome: true },
  ],
  metadata_differences_total: 3,
  retries: [],
  failing_spans: [
    { span_id: "b4cedce3", trace_id: "0cd6a27a", hop: "runner.call_router", status: "failed", role: "cause", sentence: "runner.call_router failed after 10ms: the failure starts here." },
    { span_id: "566a1cce", trace_id: "0cd6a27a", hop: "runner.execute_question", status: "failed", error: "execution failed", role: "propagated", sentence: "runner.execute_question failed after 13ms." },
  ],
  failing_spans_total: 2,
  notes: [],
});

const build = (value: unknown): ComparisonModel => {
  const m = buildComparison(value);
  if (!m) throw new Error("not a comparison");
  return m;
};
const row = (m: ComparisonModel, name: string): CompareRow => m.rows.find((r) => !r.total && r.hop === name)!;

describe("recognising compare_executions' answer", () => {
  it.each([
    ["the slow hand-off", true, slowHandoff()],
    ["the 13 ms failure", true, immediateFailure()],
    ["the bare shape: baseline, hops, duration", true, { baseline: {}, hops: [], duration: {} }],
    ["get_trace's answer", false, { spans: [], trace_ids: ["t"], duration_ms: 3 }],
    ["find_gaps' answer", false, { mode: "trace", findings: [], handoffs: [] }],
    ["hops that are not a list", false, { baseline: {}, hops: {}, duration: {} }],
    ["a duration that is a number", false, { baseline: {}, hops: [], duration: 13 }],
    ["no baseline", false, { hops: [], duration: {} }],
    ["null", false, null],
  ])("%s → a comparison: %s", (_name, recognised, value) => expect(buildComparison(value) !== null).toBe(recognised));
});

describe("buildComparison", () => {
  it("draws the slow hand-off: the slow verdict and its ratios, the late start as the first divergence, where the time went", () => {
    const m = build(slowHandoff());
    expect(m).toMatchObject({ title: "runner.execute_question", status: "ok", statusText: "OK", source: { by: "job_id", value: "bias-detection-1761092367936" } });
    expect(m.verdict).toEqual({
      kind: "slow",
      word: "SLOW",
      ratios: "3.3× p50 · 1.6× p95 · +5.44s over p50",
      text: "7.79s against healthy p50 2.35s, p95 5.00s over 103 successful runs from 2025-10-21 00:19:27 UTC to 2025-10-22 01:19:27 UTC.",
    });
    expect(m.facts).toEqual([
      ["Trace", "50c3c5a5"],
      ["Job", "bias-detection-1761092367936"],
      ["Started", "2025-10-22 00:19:27 UTC"],
    ]);
    // The execution first, then each hop in the answer's order.
    expect(m.rows.map((r) => [r.hop, r.verdict, r.divergence])).toEqual([
      ["runner.execute_question", "slow", false],
      ["runner.call_router", "slow", false],
      ["router.inference_request", "usual", true],
      ["router.select_provider", "usual", false],
    ]);
    expect(m.rows[0]).toMatchObject({ total: true, badges: [["SLOW", "slow"]], cells: ["7.79s", "3.3×", "2.35s · 5.00s", "", ""], spanId: "94d690f1" });
    expect(row(m, "runner.call_router")).toMatchObject({ service: "runner", operation: "call_router", badges: [["SLOW", "slow"]], cells: ["7.77s", "3.3×", "2.33s · 4.98s", "×1 · ×1", "+4ms · +2ms"], countDiffers: false });
    expect(row(m, "router.inference_request")).toMatchObject({ late: true, spanId: "54bb353c", cells: ["1.96s", "0.85×", "2.29s · 4.80s", "×1 · ×1", "+5.81s · +22ms"] });
    // One colour per service, in the order met.
    expect(m.rows.map((r) => r.color)).toEqual([0, 0, 1, 1]);
    expect(m.divergence).toEqual({ text: "First divergence at +39ms · late start", hop: "router.inference_request", sentence: "router.inference_request started at +5.81s; successful runs start it by +39ms (p95).", spanId: "54bb353c" });
    expect(m.time).toEqual([{ kind: "queueing", hop: "runner.call_router", extra: "+5.78s", share: 100, sentence: "router.inference_request started 5.80s after runner.call_router called it.", spanId: "43c18f2f" }]);
    expect(m.metadata).toEqual([{ hop: "router.inference_request", key: "cold_start", value: "true", absent: false, baseline: "true 1%", outcome: false, spanId: "54bb353c" }]);
    expect(m.failing).toEqual([]);
    expect(m.notes).toEqual([]);
  });

  it("draws the 13 ms failure: failed and fast, the failing hop, the missing ones with only their band, roles and absent values", () => {
    const m = build(immediateFailure());
    expect(m).toMatchObject({ status: "failed", statusText: "FAILED", source: { by: "trace_id", value: "0cd6a27a" } });
    expect(m.verdict).toMatchObject({ kind: "fast", word: "FAST", ratios: "<0.01× p50 · <0.01× p95" });
    expect(m.rows[0]).toMatchObject({ verdict: "failed", badges: [["FAILED", "failed"], ["FAST", "fast"]] });
    const failed = row(m, "runner.call_router");
    expect(failed).toMatchObject({ verdict: "failed", divergence: true, late: false, spanId: "b4cedce3", badges: [["FAILED", "failed"]] });
    const missing = row(m, "router.inference_request");
    expect(missing).toMatchObject({ verdict: "missing", badges: [], cells: ["missing", "", "2.32s · 5.23s", "×0 · ×1", "— · +24ms"], countDiffers: true });
    expect(missing.bar).toBeUndefined();
    expect(missing.spanId).toBeUndefined();
    expect(missing.band).toEqual({ left: 40.22, width: 50.69 });
    expect(m.divergence?.text).toBe("First divergence at +11ms · failed");
    expect(m.failing.map((f) => [f.role, f.hop, f.statusText, f.error ?? null])).toEqual([
      ["cause", "runner.call_router", "FAILED", null],
      ["propagated", "runner.execute_question", "FAILED", "execution failed"],
    ]);
    expect(m.metadata.map((d) => [d.key, d.value, d.absent, d.baseline, d.outcome])).toEqual([
      ["has_output", "false", false, "true 100%", true],
      ["http_status", "(absent)", true, "200 100%", true],
    ]);
    // What the server cut is said, with the baseline's own note.
    expect(m.notes).toEqual(["Baseline: the 300 most recent; raise sample to look further back.", "2 of 5 hops shown: the server cut the rest.", "2 of 3 metadata differences shown: the server cut the rest."]);
  });

  it.each([
    ["a repeated hop", "repeated", "REPEATED", "×12 · ×1–2", true, { verdict: "repeated", count: 12, baseline_count: 1, baseline_max_count: 2, slowest_ms: 30 }],
    ["an extra hop, never in healthy runs", "extra", "EXTRA", "×1 · —", true, { verdict: "extra", baseline_share: 0, baseline_count: undefined, baseline_max_count: undefined }],
    ["a hop that never finished", "unfinished", "UNFINISHED", "×1 · ×1", false, { verdict: "unfinished", slowest_ms: undefined }],
    ["a verdict from a newer server", "usual", "THROTTLED", "×1 · ×1", false, { verdict: "throttled" }],
  ])("%s is coloured %s, badged %s, counted %s (differs: %s)", (_name, verdict, badge, count, differs, fields) => {
    const r = row(build({ ...slowHandoff(), hops: [hop("db.query", fields)] }), "db.query");
    expect(r).toMatchObject({ verdict, badges: [[badge, verdictClass(verdict)]], countDiffers: differs });
    expect(r.cells[3]).toBe(count);
    if (verdict === "unfinished") expect(r.cells[0]).toBe("never finished");
  });

  it.each([
    ["one chosen execution", { mode: "one", root_operation: "runner.execute_question", executions: 1, trace_id: "good-1", example_trace_ids: ["good-1"] }, "over one chosen execution, trace good-1."],
    ["a sample without its window", { mode: "sample", executions: 1, example_trace_ids: [] }, "over 1 successful run."],
  ])("says what it compares with: %s", (_name, baseline, said) => {
    expect(build({ ...slowHandoff(), baseline }).verdict.text.endsWith(said)).toBe(true);
  });

  it("highlights the divergence's span when a hop occurs twice, and the hop's first row when no span is named", () => {
    const twice = { ...slowHandoff(), hops: [hop("db.query", { span_ids: ["q1"] }), hop("db.query", { span_ids: ["q2"] })], first_divergence: { kind: "slow_hop", hop: "db.query", span_id: "q2", sentence: "s" } };
    expect(build(twice).rows.filter((r) => r.divergence).map((r) => r.spanId)).toEqual(["q2"]);
    const noSpan = { ...twice, first_divergence: { kind: "missing_hop", hop: "db.query", sentence: "s" } };
    expect(build(noSpan).rows.filter((r) => r.divergence).map((r) => r.spanId)).toEqual(["q1"]);
    expect(build({ ...twice, first_divergence: undefined }).divergence).toBeNull();
  });

  it("reads leniently: wrong types dropped, unknown fields ignored, values from the data kept as text", () => {
    const hostile = '<img src=x onerror="parent.postMessage(1, \'*\')">';
    const m = build({
      ...immediateFailure(),
      execution: { trace_ids: ["t", 7], root: 42, status: "FAILED", duration_ms: "13" },
      hops: [hop("a.b", { count: "3", slowest_ms: "9" }), { verdict: "slow" }, "nonsense"],
      metadata_differences: [{ hop: "a.b", key: hostile, value: { nested: hostile }, baseline: [{ value: 1, share: "x" }, {}], future: true }, { hop: "no key" }],
      failing_spans: [{ hop: "a.b", status: "failed", role: "cause", sentence: "no span id" }],
      resolved: { by: "span_id", value: "x" },
      something_new: [1, 2, 3],
    });
    expect(m.title).toBe("runner.execute_question"); // the baseline's root operation, as the execution's is not a string
    expect(m.facts[0]).toEqual(["Trace", "t"]);
    expect(m.rows.map((r) => r.hop)).toEqual(["runner.execute_question", "a.b"]);
    expect(row(m, "a.b")).toMatchObject({ cells: ["never finished", "", "—", "×1 · ×1", "—"] });
    expect(m.metadata).toEqual([{ hop: "a.b", key: hostile, value: `{"nested":${JSON.stringify(hostile)}}`, absent: false, baseline: "1 0%", outcome: false }]);
    expect(m.failing).toEqual([]);
    // A lookup the view cannot ask get_trace for: the execution's trace id instead.
    expect(m.source).toEqual({ by: "trace_id", value: "t" });
  });
});

describe("helpers", () => {
  it.each([
    // ms, p50, p95 → the bar, the band and the p50 marker in percent of the row's scale (the largest × 1.1)
    [7772, 2332, 4983.7, { bar: { left: 0, width: 90.91 }, band: { left: 27.28, width: 31.01 }, p50At: 27.28 }],
    [10, 2365, 5552.9, { bar: { left: 0, width: 0.16 }, band: { left: 38.72, width: 52.19 }, p50At: 38.72 }],
    [undefined, 2315.5, 5233.8, { band: { left: 40.22, width: 50.69 }, p50At: 40.22 }],
    [5, undefined, undefined, { bar: { left: 0, width: 90.91 } }],
    [0, 0, 0, { bar: { left: 0, width: 0 }, band: { left: 0, width: 0 }, p50At: 0 }],
    [undefined, undefined, undefined, {}],
  ])("scaleRow(%s, %s, %s)", (ms, p50, p95, expected) => expect(scaleRow(ms, p50, p95)).toEqual(expected));

  it.each([
    [12.57, "13×"],
    [3.32, "3.3×"],
    [1, "1×"],
    [0.853, "0.85×"],
    [0.0054, "<0.01×"],
  ])("times(%d) = %s", (x, text) => expect(times(x)).toBe(text));
});
