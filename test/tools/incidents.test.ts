// The incidents outside the demo's taxonomy (test/fixtures/incidents.ts) through the real tools on
// PGlite and Postgres: diagnose names each class with its own evidence, compare_executions says where
// the time went, list_failed_spans files a release that came with the failures as a candidate cause,
// and healthy runs beside them get no failure and no slowness verdict.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans } from "../../src/store/span-writer.js";
import compareExecutions from "../../src/tools/compare-executions.js";
import diagnose from "../../src/tools/diagnose.js";
import listFailedSpans from "../../src/tools/list-failed-spans.js";
import { allIncidents, INCIDENT_NOW, LEDGER_RELEASE_MS, TAX_RELEASE_MS } from "../fixtures/incidents.js";
import { backends, type TestDatabase } from "../support/test-databases.js";
import { connectTools, type ToolClient } from "../support/tool-client.js";

const incidents = allIncidents();

describe.each(await backends())("incidents on $name", ({ open }) => {
  let db: TestDatabase;
  let tools: ToolClient;
  const run = async (args: Record<string, unknown>) => (await tools.structured(diagnose, args)).out;

  beforeAll(async () => {
    db = await open();
    await applySchema(db.writer, db.table());
    await insertSpans(db.writer, Object.values(incidents).flatMap((i) => i.rows), db.table());
    tools = await connectTools({ spans: new SpanTable(db.reader, db.table(), ["job_id"]), now: () => INCIDENT_NOW });
  });
  afterAll(async () => {
    await tools?.close();
    await db?.close();
  });

  it.each<[keyof typeof incidents, string]>([
    ["cart", "handled_error"],
    ["product", "handled_error"],
    ["orders", "latency_regression"],
    ["billing", "bad_change"],
    ["search", "upstream_overload"],
    ["pdf", "in_process_failure"],
    ["checkout", "pool_exhaustion"],
    ["ledger", "bad_change"],
    ["tax", "bad_change"],
  ])("diagnose %s: %s first, and its healthy neighbour gets no verdict", async (name, kind) => {
    const inc = incidents[name];
    const out = await run({ job_id: inc.jobId });
    expect(out.hypotheses[0]!.kind).toBe(kind);
    expect(out.root_cause).toBe(out.hypotheses[0]!.summary);
    const healthy = await run({ job_id: inc.healthyJobId });
    expect(healthy.hypotheses.map((h) => h.kind)).toEqual(["insufficient_evidence"]);
    expect(healthy.comparison?.duration.verdict).toMatch(/usual|fast/);
    expect(healthy.failing_spans).toEqual([]);
  });

  it("the release: bad_change found from bounded reads, the failure rate before and after, v41 before", async () => {
    const out = await run({ job_id: incidents.billing.jobId });
    expect(out.change_onset).toMatchObject({ located: "read", candidates: expect.arrayContaining([expect.objectContaining({ key: "release", value: "v42", failure_rate_after: 1 })]) });
    expect(out.hypotheses[0]!.summary).toMatch(/release was v41 \(100%\)/);
    expect(out.hypotheses.map((h) => h.kind)).not.toContain("lost_request");
  });

  it("more failures than diagnose reads: the count is 'at least', and the onset is found by bisection, close to the release", async () => {
    const out = await run({ job_id: incidents.ledger.jobId });
    expect(out.change_onset?.located).toBe("bisected");
    const onset = Date.parse(out.change_onset!.onset);
    expect(Math.abs(onset - LEDGER_RELEASE_MS)).toBeLessThan(5 * 60_000);
    expect(out.change_onset!.candidates[0]).toMatchObject({ key: "version", value: "v8", failure_rate_after: 1 });
    expect(out.hypotheses[0]!.summary).toMatch(/began when version=v8 first appeared.* version was v7 \(100%\) and 0% failed/);
    const cluster = out.hypotheses[0]!.evidence.find((e) => e.type === "cluster")!;
    expect(cluster.note).toMatch(/^at least 200 failures like it .* \(sampled: the latest\)/);
  });

  it("a release stamped on the failing service's spans only: bad_change names that service, its onset and its version before", async () => {
    const out = await run({ job_id: incidents.tax.jobId });
    expect(out.change_onset).toMatchObject({ operation: "tax.CalculateTax", located: "read" });
    expect(Math.abs(Date.parse(out.change_onset!.onset) - TAX_RELEASE_MS)).toBeLessThan(2 * 3_600_000);
    expect(out.change_onset!.candidates).toEqual(expect.arrayContaining([expect.objectContaining({ key: "version", value: "2.0.0", failure_rate_before: 0, failure_rate_after: 1 })]));
    const top = out.hypotheses[0]!;
    expect(top.summary).toMatch(/^The failures of tax\.CalculateTax began when version=2\.0\.0 first appeared.* version was 1\.9\.3 \(100%\) and 0% failed.* storefront\."POST \/quote" failed because tax\.CalculateTax did/);
    const cause = out.failing_spans.find((f) => f.role === "cause")!;
    expect(cause.hop).toBe("tax.CalculateTax");
    expect(top.evidence.map((e) => e.id)).toEqual(expect.arrayContaining(["version=2.0.0", cause.span_id]));
    expect(top.checks[0]).toMatch(/changed in tax \(/);
    expect(out.not_checked.join(" ")).not.toMatch(/Change onset: not looked for/);
  });

  it("list_failed_spans files release=v42 as a candidate cause that appeared with the failures, not under 'only in failures'", async () => {
    const { out, text } = await tools.structured(listFailedSpans, { service: "billing", operation: "CreateInvoice", limit: 0 });
    const cluster = out.clusters.find((c) => c.error_signature === "invoice rendering failed")!;
    expect(cluster.change_at_onset).toEqual(
      expect.arrayContaining([expect.objectContaining({ key: "release", value: "v42", previous_values: [{ value: "v41", share: 1 }], failure_rate_after: 1 })]),
    );
    expect(cluster.change_at_onset!.find((c) => c.key === "release")!.failure_rate_before).toBeLessThan(0.05);
    const block = text.split("\n\n").find((b) => b.includes('error="invoice rendering failed"') && b.includes("×34"))!;
    expect(block).toMatch(/appeared with the failures \(a candidate cause, not an outcome\): release=v42 first seen 2025-10-22T15:0/);
    expect(block).not.toMatch(/only in failures[^\n]*release=v42/);
    // A card decline under v41 is a cluster of its own, with no candidate.
    expect(out.clusters.find((c) => c.error_signature === "payment declined")!.change_at_onset).toBeUndefined();
  });

  it("the retry storm: four attempts and their back-off, checks about shedding load, none about credentials", async () => {
    const out = await run({ job_id: incidents.search.jobId });
    expect(out.retries).toEqual([expect.objectContaining({ attempts: 4, outcome: "exhausted", backoff: "exponential", waits_ms: [100, 200, 400] })]);
    expect(out.hypotheses[0]!.checks.join(" ")).toMatch(/shedding load/);
    expect(out.hypotheses.flatMap((h) => h.checks).join(" ")).not.toMatch(/credential/);
    expect(out.failing_spans.filter((f) => f.role === "cause").map((f) => f.hop)).toEqual(["search-api.Query", "search-api.Query", "search-api.Query", "search-api.Query"]);
  });

  it("errors under a healthy root are cited with what absorbed them", async () => {
    const cart = await run({ job_id: incidents.cart.jobId });
    expect(cart.failing_spans).toEqual([expect.objectContaining({ hop: "cart.redis HGETALL", role: "retried", attempt: "1/2" })]);
    const product = await run({ job_id: incidents.product.jobId });
    expect(product.failing_spans).toEqual([expect.objectContaining({ hop: "ml-ranker.Rank", role: "fallback" })]);
    expect(product.hypotheses[0]!.evidence.map((e) => e.id)).toContain(product.failing_spans[0]!.span_id);
  });

  it("the 4 ms in-process failure is never 'faster than a network round trip'", async () => {
    const out = await run({ job_id: incidents.pdf.jobId });
    expect(out.hypotheses.map((h) => h.kind)).not.toContain("immediate_caller_failure");
    expect(out.hypotheses.map((h) => h.summary).join(" ")).not.toMatch(/faster than a network round trip/);
  });

  it("compare_executions on the order list: 100× slower, 200 identical SELECTs where healthy runs make 2", async () => {
    const { out, text } = await tools.structured(compareExecutions, { job_id: incidents.orders.jobId });
    expect(out.baseline).toMatchObject({ mode: "sample", root_operation: "api.GET /orders" });
    expect(out.duration.verdict).toBe("slow");
    expect(out.duration.ratio!).toBeGreaterThan(80);
    expect(out.where_time_went[0]).toMatchObject({ kind: "n_plus_one", hop: "orders.SELECT order_items" });
    expect(out.repeated[0]).toMatchObject({ count: 200, baseline_count: 2, identical: true, sequential: true });
    expect(out.first_divergence).toMatchObject({ kind: "repeated" });
    expect(text).toMatch(/^Duration: SLOW: 4\.\d+s — \d+(\.\d+)?× the usual/m);
  });

  it("compare_executions on the slightly slow order list: no slowness verdict", async () => {
    const { out } = await tools.structured(compareExecutions, { job_id: incidents.orders.slightlySlowJobId });
    expect(out.duration.verdict).toBe("usual");
    expect(out.where_time_went).toEqual([]);
  });

  it("compare_executions on the pool wait, against one chosen healthy run", async () => {
    const { out } = await tools.structured(compareExecutions, { trace_id: incidents.checkout.traceId, baseline_trace_id: incidents.checkout.healthyTraceId });
    expect(out.baseline).toMatchObject({ mode: "one", executions: 1, trace_id: incidents.checkout.healthyTraceId });
    expect(out.where_time_went[0]).toMatchObject({ kind: "queueing", hop: "orders.db.pool.acquire" });
    expect(out.failing_spans.find((f) => f.role === "cause")!.hop).toBe("orders.db.pool.acquire");
  });
});
