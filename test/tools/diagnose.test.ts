// diagnose end to end on real databases (PGlite and Postgres) seeded with the demo dataset: for every
// pattern the demo holds, the right hypothesis ranks first with the right evidence; near misses
// (a 13 ms success, a slow but healthy job) must not be called failures.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDemoDataset, type DemoManifest } from "../../src/demo/demo-dataset.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans, type SpanRowInput } from "../../src/store/span-writer.js";
import diagnose, { carriesNewValue } from "../../src/tools/diagnose.js";
import { buildSpanTree } from "../../src/analysis/span-tree.js";
import type { Span } from "../../src/analysis/span.js";
import { backends, type TestDatabase } from "../support/test-databases.js";
import { demoSentryFixtures } from "../../src/demo/sentry-demo-fixtures.js";
import { SentryClient } from "../../src/sentry/sentry-client.js";
import { startTestSentry } from "../support/sentry-stand-in.js";
import { connectTools, type ToolClient } from "../support/tool-client.js";

const NOW = new Date("2025-10-22T18:00:00.000Z");

function nearMisses(): SpanRowInput[] {
  const at = (offsetMs: number) => new Date(NOW.getTime() - 3 * 3_600_000 + offsetMs).toISOString();
  const row = (trace: string, span: string, parent: string | null, service: string, operation: string, start: number, end: number, metadata: Record<string, unknown> = {}): SpanRowInput => ({
    trace_id: trace,
    span_id: span,
    parent_span_id: parent,
    service,
    operation,
    started_at: at(start),
    completed_at: at(end),
    duration_ms: end - start,
    status: "completed",
    error_message: null,
    metadata,
  });
  return [
    // A cached answer: 13 ms, completed, no downstream hop.
    row("near-fast", "nf-r", null, "runner", "execute_question", 0, 13, { job_id: "near-fast-ok", region: "US", model: "llama3.2-1b" }),
    // Slow but healthy: usual hand-offs, a long model call.
    row("near-slow", "ns-r", null, "runner", "execute_question", 0, 9000, { job_id: "near-slow-ok", region: "EU" }),
    row("near-slow", "ns-c", "ns-r", "runner", "call_router", 1, 8990),
    row("near-slow", "ns-i", "ns-c", "router", "inference_request", 25, 8980),
    row("near-slow", "ns-p", "ns-i", "router", "select_provider", 27, 30),
    row("near-slow", "ns-m", "ns-i", "modal", "run_inference", 40, 8970),
    row("near-slow", "ns-s", "ns-r", "runner", "store_result", 8991, 8999),
  ];
}

describe.each(await backends())("diagnose on $name", ({ open }) => {
  let db: TestDatabase;
  let spans: SpanTable;
  let ex: DemoManifest["examples"];
  let rows: ReturnType<typeof generateDemoDataset>["rows"];
  let tools: ToolClient;
  const run = async (args: Record<string, unknown>) => (await tools.structured(diagnose, args)).out;

  beforeAll(async () => {
    db = await open();
    await applySchema(db.writer, db.table());
    const data = generateDemoDataset({ now: NOW });
    ex = data.manifest.examples;
    rows = data.rows;
    await insertSpans(db.writer, [...data.rows, ...nearMisses()], db.table());
    spans = new SpanTable(db.reader, db.table(), ["job_id"]);
    tools = await connectTools({ spans, sentryMissing: ["SENTRY_AUTH_TOKEN", "SENTRY_ORG"], now: () => NOW.getTime() });
  });
  afterAll(() => db?.close());

  it("the 13 ms job: immediate_caller_failure first, localized to US / modal-us-east / llama3.2-1b second", async () => {
    const out = await run({ job_id: ex.immediateFailureJobId });
    expect(out.hypotheses.map((h) => h.kind).slice(0, 2)).toEqual(["immediate_caller_failure", "localized_outage"]);
    const [first, second] = out.hypotheses;
    expect(first!.evidence.map((e) => e.id)).toContain(out.execution.root_span_id);
    expect(first!.evidence.some((e) => /missing_hop router\.inference_request/.test(e.note))).toBe(true);
    expect(second!.summary).toMatch(/region=US/);
    expect(second!.summary).toMatch(/provider_id=modal-us-east/);
    expect(out.not_checked.join(" ")).toMatch(/Sentry: not configured/);
    expect(out.root_cause).toBe(first!.summary);
  });

  it.each([
    ["timeoutJobId", "timeout", /timed out/],
    ["downstreamRejectedJobId", "downstream_rejected", /refused it at once/],
    ["lostRequestJobId", "lost_request", /never finished/],
    ["slowHandoffJobId", "slow_handoff", /cold start/],
  ] as const)("%s: %s ranks first", async (key, kind, summary) => {
    const out = await run({ job_id: ex[key] });
    expect(out.hypotheses[0]!.kind).toBe(kind);
    expect(out.hypotheses[0]!.summary).toMatch(summary);
    expect(out.hypotheses[0]!.evidence.length).toBeGreaterThan(0);
  });

  it("from a Sentry issue: diagnoses its recommended event's job and cites the event", async () => {
    const server = await startTestSentry({ fixtures: demoSentryFixtures(rows, { org: "project-beacon" }), token: "t0k3n-for-tests" });
    const sentry = new SentryClient({ baseUrl: server.url, token: "t0k3n-for-tests", org: "project-beacon", sleep: async () => {}, now: () => NOW.getTime() });
    const withSentry = await connectTools({ spans, sentry, now: () => NOW.getTime() });
    try {
      const { out } = await withSentry.structured(diagnose, { issue: "RUNNER-1A" });
      expect(out.subject.by).toBe("issue");
      expect(out.hypotheses[0]!.kind).toBe("immediate_caller_failure");
      const event = out.hypotheses[0]!.evidence.find((e) => e.type === "sentry_event")!;
      expect(event.id).toMatch(/^[0-9a-f]{32}$/);
      expect(event.note).toMatch(/RUNNER-1A/);
      expect(out.not_checked.join(" ")).not.toMatch(/Sentry/);
      // What Sentry refuses reads the same from diagnose as from sentry_issue_context, with its code.
      const missing = await withSentry.error("diagnose", { issue: "RUNNER-ZZZ" });
      expect(missing.code).toBe("not_found");
      expect(missing.text).toMatch(/Sentry has no short id RUNNER-ZZZ in organization project-beacon/);
      expect(missing.text).not.toMatch(/Unexpected|Internal error/);
      expect(await withSentry.error("sentry_issue_context", { issue: "RUNNER-ZZZ" })).toEqual(missing);
      for (const [status, code, text] of [
        [401, "upstream", /rejected the token \(401\)/],
        [403, "upstream", /may not read .* \(403\)/],
        [429, "busy", /rate-limited .* \(429\)/],
        [500, "upstream", /answered 500/],
      ] as const) {
        server.faults.length = 0;
        server.faults.push({ path: "/shortids/", status, headers: status === 429 ? { "Retry-After": "600" } : {} });
        const viaDiagnose = await withSentry.error("diagnose", { issue: "RUNNER-1A" });
        expect(viaDiagnose.code, String(status)).toBe(code);
        expect(viaDiagnose.text).toMatch(text);
        expect(await withSentry.error("sentry_issue_context", { issue: "RUNNER-1A" })).toEqual(viaDiagnose);
      }
    } finally {
      await withSentry.close();
      await server.close();
    }
  });

  it("a successful job is not a failure", async () => {
    const out = await run({ job_id: ex.successJobId });
    expect(out.hypotheses.map((h) => h.kind)).toEqual(["insufficient_evidence"]);
  });

  it("near miss: a 13 ms success is not an immediate failure", async () => {
    const out = await run({ job_id: "near-fast-ok" });
    expect(out.hypotheses.map((h) => h.kind)).not.toContain("immediate_caller_failure");
  });

  it("near miss: a slow but healthy job has no failure verdict, no slow hand-off and no timeout — only its slowness, with where the time went", async () => {
    // 9 s against a usual ~2.4 s (p95 ~5.4 s) is outside its usual range: since issue 9 that is said, not called healthy.
    const out = await run({ job_id: "near-slow-ok" });
    expect(out.hypotheses.map((h) => h.kind)).toEqual(["latency_regression"]);
    expect(out.hypotheses[0]!.summary).toMatch(/succeeded but took 9\.00s .* slow_hop: modal\.run_inference took 8\.93s/);
    expect(out.comparison?.duration.verdict).toBe("slow");
    expect(out.failing_spans).toEqual([]);
  });

  it("a healthy job within its usual range gets no slowness verdict", async () => {
    const out = await run({ job_id: ex.successJobId });
    expect(out.comparison?.duration.verdict).toBe("usual");
    expect(out.comparison?.first_divergence).toBeUndefined();
    expect(out.hypotheses[0]!.summary).toMatch(/within its usual range .* nothing in the spans points at a failure/);
  });

  it("cites every failing span with what it did to the outcome", async () => {
    const out = await run({ job_id: ex.immediateFailureJobId });
    expect(out.failing_spans.map((f) => [f.hop, f.role])).toEqual([
      ["runner.call_router", "cause"],
      ["runner.execute_question", "propagated"],
    ]);
    const timeout = await run({ job_id: ex.timeoutJobId });
    expect(timeout.failing_spans[0]).toMatchObject({ hop: "modal.run_inference", role: "cause", status: "timeout" });
    expect(timeout.failing_spans.slice(1).every((f) => f.role === "propagated")).toBe(true);
  });

  it("by trace_id gives the same diagnosis as by job_id", async () => {
    const byTrace = await run({ trace_id: ex.immediateFailureTraceId });
    expect(byTrace.hypotheses[0]!.kind).toBe("immediate_caller_failure");
    expect(byTrace.subject).toMatchObject({ by: "trace_id", job_id: ex.immediateFailureJobId });
  });

  it("refuses a Sentry issue without Sentry, and bad input, with messages that say what to do", async () => {
    const noSentry = await connectTools({ spans, sentryMissing: ["SENTRY_ORG"], now: () => NOW.getTime() });
    const refused = await noSentry.error("diagnose", { issue: "RUNNER-1A" });
    expect(refused).toMatchObject({ code: "not_configured" });
    expect(refused.text).toMatch(/set SENTRY_ORG .* diagnose by job_id or trace_id/);
    expect(await noSentry.error("sentry_issue_context", { issue: "RUNNER-1A" })).toEqual(refused);
    const both = await noSentry.error("diagnose", { job_id: "a", trace_id: "b" });
    expect(both).toMatchObject({ code: "bad_input", text: expect.stringMatching(/not job_id and trace_id/) });
    const unknown = await noSentry.error("diagnose", { job_id: "nope" });
    expect(unknown).toMatchObject({ code: "not_found", text: expect.stringMatching(/No spans found/) });
    await noSentry.close();
  });
});

describe("diagnose asks the causing span's operation for a change only when that span carries something new", () => {
  const span = (id: string, startMs: number, metadata: Record<string, unknown>, status = "completed"): Span => ({
    traceId: id,
    spanId: id,
    parentSpanId: null,
    service: "tax",
    operation: "CalculateTax",
    startMs,
    endMs: startMs + 10,
    durationMs: 10,
    status,
    errorMessage: status === "completed" ? null : "boom",
    metadata,
  });
  const node = (s: Span) => buildSpanTree([s]).roots[0]!;
  const healthy = [1, 2, 3, 4].map((i) => node(span(`h${i}`, i * 1000, { version: "1.9.3", request_id: `r-${i}`, region: i % 2 ? "eu" : "us" })));

  it("a version no earlier healthy span had: yes", () => {
    expect(carriesNewValue(node(span("f", 10_000, { version: "2.0.0", request_id: "r-9", region: "eu" }, "error")), healthy)).toBe(true);
  });
  it("a key new to the operation: yes", () => {
    expect(carriesNewValue(node(span("f", 10_000, { version: "1.9.3", flag: "new-rules" }, "error")), healthy)).toBe(true);
  });
  it("only values seen before, an id of its own (a key whose every span has its own value) and an outcome: no", () => {
    expect(carriesNewValue(node(span("f", 10_000, { version: "1.9.3", request_id: "r-9", region: "us", http_status: 500 }, "error")), healthy)).toBe(false);
  });
  it("a value seen only after the failing span is new at its time", () => {
    expect(carriesNewValue(node(span("f", 2_500, { version: "1.9.3", region: "us" }, "error")), healthy)).toBe(false);
    expect(carriesNewValue(node(span("f", 1_500, { version: "1.9.3", region: "us" }, "error")), healthy)).toBe(true);
  });
});
