// diagnose end to end on real databases (PGlite and Postgres) seeded with the demo dataset: for every
// pattern the demo holds, the right hypothesis ranks first with the right evidence; near misses
// (a 13 ms success, a slow but healthy job) must not be called failures.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDemoDataset, type DemoManifest } from "../../src/demo/demo-dataset.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans, type SpanRowInput } from "../../src/store/span-writer.js";
import { diagnoseInput, diagnoseTool, type DiagnoseOutput } from "../../src/tools/diagnose.js";
import { backends, type TestDatabase } from "../support/test-databases.js";
import { startSentryApiServer } from "../../src/demo/sentry-api-server.js";
import { demoSentryFixtures } from "../../src/demo/sentry-demo-fixtures.js";
import { SentryClient } from "../../src/sentry/sentry-client.js";

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
  const run = async (args: Record<string, unknown>) => {
    const r = await diagnoseTool(spans, diagnoseInput.parse(args), {
      maxTraceSpans: 20_000,
      immediateMs: 100,
      unfinishedAfterMs: 600_000,
      sentry: null,
      sentryMissing: ["SENTRY_AUTH_TOKEN", "SENTRY_ORG"],
      jobTagKeys: ["job_id"],
      now: () => NOW.getTime(),
    });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    return r.structuredContent as DiagnoseOutput;
  };

  beforeAll(async () => {
    db = await open();
    await applySchema(db.writer, db.table());
    const data = generateDemoDataset({ now: NOW });
    ex = data.manifest.examples;
    rows = data.rows;
    await insertSpans(db.writer, [...data.rows, ...nearMisses()], db.table());
    spans = new SpanTable(db.reader, db.table(), ["job_id"]);
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
    const server = await startSentryApiServer({ fixtures: demoSentryFixtures(rows, { org: "project-beacon" }), token: "t0k3n-for-tests" });
    try {
      const sentry = new SentryClient({ baseUrl: server.url, token: "t0k3n-for-tests", org: "project-beacon", sleep: async () => {} });
      const r = await diagnoseTool(spans, diagnoseInput.parse({ issue: "RUNNER-1A" }), {
        maxTraceSpans: 20_000,
        immediateMs: 100,
        unfinishedAfterMs: 600_000,
        sentry,
        sentryMissing: [],
        jobTagKeys: ["job_id"],
        now: () => NOW.getTime(),
      });
      const out = r.structuredContent as DiagnoseOutput;
      expect(out.subject.by).toBe("issue");
      expect(out.hypotheses[0]!.kind).toBe("immediate_caller_failure");
      const event = out.hypotheses[0]!.evidence.find((e) => e.type === "sentry_event")!;
      expect(event.id).toMatch(/^[0-9a-f]{32}$/);
      expect(event.note).toMatch(/RUNNER-1A/);
      expect(out.not_checked.join(" ")).not.toMatch(/Sentry/);
    } finally {
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

  it("near miss: a slow but healthy job has no slow hand-off and no timeout", async () => {
    const out = await run({ job_id: "near-slow-ok" });
    expect(out.hypotheses.map((h) => h.kind)).toEqual(["insufficient_evidence"]);
  });

  it("by trace_id gives the same diagnosis as by job_id", async () => {
    const byTrace = await run({ trace_id: ex.immediateFailureTraceId });
    expect(byTrace.hypotheses[0]!.kind).toBe("immediate_caller_failure");
    expect(byTrace.subject).toMatchObject({ by: "trace_id", job_id: ex.immediateFailureJobId });
  });

  it("refuses a Sentry issue without Sentry, and bad input, with messages that say what to do", async () => {
    const opts = { maxTraceSpans: 20_000, immediateMs: 100, unfinishedAfterMs: 600_000, sentry: null, sentryMissing: ["SENTRY_ORG"], jobTagKeys: ["job_id"] };
    const noSentry = await diagnoseTool(spans, diagnoseInput.parse({ issue: "RUNNER-1A" }), opts);
    expect(noSentry.isError).toBe(true);
    expect(JSON.stringify(noSentry.content)).toMatch(/set SENTRY_ORG, or give the job_id or trace_id/);
    const both = await diagnoseTool(spans, diagnoseInput.parse({ job_id: "a", trace_id: "b" }), opts);
    expect(JSON.stringify(both.content)).toMatch(/not job_id and trace_id/);
    const unknown = await diagnoseTool(spans, diagnoseInput.parse({ job_id: "nope" }), opts);
    expect(unknown.isError).toBe(true);
    expect(JSON.stringify(unknown.content)).toMatch(/No spans found/);
  });
});
