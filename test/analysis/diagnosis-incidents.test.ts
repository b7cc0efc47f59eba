// diagnose() on incidents outside the demo's taxonomy (test/fixtures/incidents.ts) and on public traces
// recorded elsewhere, with the evidence built in memory the way the tool builds it: for each class the
// right kind ranks first with checks from its own evidence, and the healthy runs beside it get no
// failure verdict and no slowness verdict.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { learnProfile } from "../../src/analysis/baseline-profile.js";
import { changeAtOnset, type SampledExecution } from "../../src/analysis/change-onset.js";
import { compareExecution } from "../../src/analysis/comparison.js";
import { diagnose, type DiagnosisEvidence, type HypothesisKind } from "../../src/analysis/diagnosis.js";
import { findGaps, hopOf, learnBaseline, succeeded } from "../../src/analysis/gaps.js";
import { buildSpanTree } from "../../src/analysis/span-tree.js";
import { isFailureStatus } from "../../src/analysis/span.js";
import { convertTrace } from "../fixtures/convert-trace.js";
import { allIncidents, BILLING_RELEASE_MS, spansOf, type Incident } from "../fixtures/incidents.js";

const incidents = allIncidents();

/** The evidence diagnose gets for one execution of an incident, the healthy runs before it as its baseline. */
function evidenceFor(inc: Incident, traceId: string, extra: Partial<DiagnosisEvidence> = {}): DiagnosisEvidence {
  const all = spansOf(inc.rows);
  const tree = buildSpanTree(all.filter((s) => s.traceId === traceId), { correlationKeys: ["job_id"] });
  const root = tree.roots[0]!;
  const others = buildSpanTree(all.filter((s) => s.traceId !== traceId)).roots.filter((r) => hopOf(r) === hopOf(root) && succeeded(r) && r.span.startMs < root.span.startMs);
  const baseline = learnBaseline(hopOf(root), others);
  return {
    tree,
    gaps: findGaps(tree, baseline),
    baselineExecutions: baseline.executions,
    immediateMs: 100,
    cluster: null,
    sentry: null,
    notChecked: [],
    comparison: compareExecution(tree, learnProfile(hopOf(root), others), { identityKeys: ["job_id"] }),
    ...extra,
  };
}

const FAILURE_KINDS: HypothesisKind[] = ["immediate_caller_failure", "in_process_failure", "downstream_rejected", "upstream_overload", "timeout", "pool_exhaustion", "bad_change", "localized_outage", "lost_request"];

describe.each<[keyof typeof incidents, HypothesisKind, RegExp, RegExp | null, HypothesisKind[]]>([
  ["cart", "handled_error", /redis HGETALL.*connection reset by peer.*the caller retried, and attempt 2 .* succeeded/, null, FAILURE_KINDS],
  ["product", "handled_error", /ml-ranker\.Rank .*UNAVAILABLE.*absorbed by a fallback — recommendations\.popular_items_fallback/, null, FAILURE_KINDS],
  ["orders", "latency_regression", /succeeded but took 4\.\d+s — \d+(\.\d+)?× its usual \d+ms .* n_plus_one: orders\.SELECT order_items ran 200×/, /batch it/, FAILURE_KINDS],
  ["search", "upstream_overload", /search-api answered HTTP 503 .* 4 attempts .*1 \+ 3 retries, exponential back-off: 100ms → 200ms → 400ms.* shedding load/, /shedding load/, ["downstream_rejected", "immediate_caller_failure"]],
  ["pdf", "in_process_failure", /failed after 4ms without calling out — its 25 successful runs make no call to another service either — so this is an immediate in-process failure/, /TemplateNotFound|error and stack trace/, ["immediate_caller_failure", "lost_request"]],
  ["checkout", "pool_exhaustion", /orders\.db\.pool\.acquire waited 5\.00s for a connection \(successful runs: p50 \dms, p95 \dms\).*pool was exhausted/, /pool's size/, ["lost_request"]],
])("incident %s", (name, kind, summary, checks, never) => {
  const inc = incidents[name];
  const ranked = diagnose(evidenceFor(inc, inc.traceId));

  it(`${kind} ranks first, saying so from the incident's own evidence`, () => {
    expect(ranked[0]!.kind).toBe(kind);
    expect(ranked[0]!.summary).toMatch(summary);
    expect(ranked[0]!.evidence.length).toBeGreaterThan(0);
    if (checks) expect(ranked[0]!.checks.join(" ")).toMatch(checks);
  });

  it(`never ${never.join(", ")}; no generic check that does not fit`, () => {
    expect(ranked.map((h) => h.kind).filter((k) => never.includes(k))).toEqual([]);
    const all = ranked.flatMap((h) => h.checks).join(" ");
    if (name === "search") expect(all).not.toMatch(/credentials|401\/403/);
    if (name === "checkout" || name === "pdf") expect(all).not.toMatch(/GPU/);
    expect(ranked.map((h) => h.summary).join(" ")).not.toMatch(/nothing in the spans points at a failure/);
  });

  it("near miss: a healthy run of the same operation gets no failure and no slowness verdict", () => {
    const healthy = diagnose(evidenceFor(inc, inc.healthyTraceId));
    expect(healthy.map((h) => h.kind)).toEqual(["insufficient_evidence"]);
    expect(healthy[0]!.summary).toMatch(/(within its usual range|above its p95 but not slow) .* nothing in the spans points at a failure/);
  });
});

describe("incident search with others like it", () => {
  it("upstream_overload says the execution is one of the cluster's failures, and cites the cluster", () => {
    const inc = incidents.search;
    const cluster = {
      status: "failed",
      count: 5,
      shape: "spread" as const,
      p05Ms: 700,
      p50Ms: 720,
      p95Ms: 760,
      firstSeen: "2025-10-22T17:20:00.000Z",
      distinguishing: [],
      operationTotal: 40,
      operationFailed: 5,
      exampleTraceIds: [inc.traceId, "search-other-1"],
    };
    const [top] = diagnose(evidenceFor(inc, inc.traceId, { cluster }));
    expect(top!.kind).toBe("upstream_overload");
    expect(top!.summary).toMatch(/This is one of 5 failures like it since 2025-10-22T17:20:00\.000Z: the overload is not this request's alone\./);
    expect(top!.evidence.map((e) => e.type)).toContain("cluster");
    // Alone in its cluster, nothing is claimed.
    const [single] = diagnose(evidenceFor(inc, inc.traceId, { cluster: { ...cluster, count: 1 } }));
    expect(single!.summary).not.toMatch(/one of \d+ failures like it/);
  });
});

describe("incident billing: release v42 went out and every invoice failed from then on", () => {
  const inc = incidents.billing;
  const all = spansOf(inc.rows);
  const roots = all.filter((s) => s.parentSpanId === null).map((s): SampledExecution => ({ startMs: s.startMs, failed: isFailureStatus(s.status), metadata: s.metadata, traceId: s.traceId }));
  const failures = roots.filter((r) => r.failed && r.metadata.release === "v42");
  // The onset as the tool finds it: the earliest failure of the cluster, shortly after the release went out.
  const onsetMs = Math.min(...failures.map((f) => f.startMs));
  const onset = changeAtOnset({ onsetMs, failures, before: roots.filter((r) => r.startMs < onsetMs), after: roots.filter((r) => r.startMs >= onsetMs) });

  it("bad_change ranks first, naming release=v42, its first-seen time, v41 before and the failure rates", () => {
    expect(onsetMs - BILLING_RELEASE_MS).toBeLessThan(5 * 60_000);
    const ranked = diagnose(evidenceFor(inc, inc.traceId, { onset }));
    expect(ranked[0]!.kind).toBe("bad_change");
    expect(ranked[0]!.summary).toMatch(/began when release=v42 first appeared, at 2025-10-22T15:0\d.*release was v41 \(100%\) and 2% failed; 100% of the 36 executions carrying v42 failed/);
    expect(ranked[0]!.evidence[0]).toMatchObject({ type: "change", id: "release=v42" });
    expect(ranked[0]!.checks.join(" ")).toMatch(/Diff release=v42 against release=v41/);
    // The payment call is missing because rendering failed first: a consequence, not a lost request.
    expect(ranked.map((h) => h.kind)).not.toContain("lost_request");
  });

  it("without the onset (not checked), the failure is still explained by its spans, never as lost", () => {
    const ranked = diagnose(evidenceFor(inc, inc.traceId));
    expect(ranked.map((h) => h.kind)).not.toContain("lost_request");
    expect(ranked.map((h) => h.kind)).not.toContain("bad_change");
  });

  it("near miss: a v41 card decline before the release is no bad change", () => {
    const ranked = diagnose(evidenceFor(inc, inc.unrelatedFailureJobId.replace("job-", ""), { onset }));
    expect(ranked.map((h) => h.kind)).not.toContain("bad_change");
  });
});

describe("near miss: slower than most but inside its range", () => {
  it("the order list at 61 ms (p95 ~51 ms) gets no slowness verdict", () => {
    const inc = incidents.orders;
    const ranked = diagnose(evidenceFor(inc, "orders-slightly-slow"));
    expect(ranked.map((h) => h.kind)).toEqual(["insufficient_evidence"]);
    expect(ranked[0]!.summary).toMatch(/above its p95 but not slow/);
  });
});

describe("public traces recorded elsewhere, with no baseline", () => {
  const read = (file: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/traces/${file}`, import.meta.url)), "utf8")) as unknown;
  it.each(["jaeger-ui-trace-graph.json", "jaeger-ui-genai.json", "zipkin-smartthings-oauth-authorization.json"])(
    "%s: its error spans under a successful root are cited as handled, never glossed over as healthy",
    (file) => {
      const tree = buildSpanTree(spansOf(convertTrace(read(file))));
      const ranked = diagnose({ tree, gaps: findGaps(tree, null), baselineExecutions: 0, immediateMs: 100, cluster: null, sentry: null, notChecked: [], comparison: null });
      const errors = tree.nodes.filter((n) => isFailureStatus(n.span.status)).map((n) => n.span.spanId);
      expect(errors.length).toBeGreaterThan(0);
      const handled = ranked.find((h) => h.kind === "handled_error")!;
      expect(handled).toBeDefined();
      expect(handled.evidence.map((e) => e.id)).toEqual(expect.arrayContaining(errors.slice(0, 6)));
      expect(ranked.map((h) => h.summary).join(" ")).not.toMatch(/nothing in the spans points at a failure/);
      expect(ranked.map((h) => h.kind).filter((k) => FAILURE_KINDS.includes(k))).toEqual([]);
    },
  );

  it.each(["otlp-jaeger-ui-nodejs.json", "zipkin-messaging.json"])("%s: no error, no failure verdict", (file) => {
    const tree = buildSpanTree(spansOf(convertTrace(read(file))));
    const ranked = diagnose({ tree, gaps: findGaps(tree, null), baselineExecutions: 0, immediateMs: 100, cluster: null, sentry: null, notChecked: [], comparison: null });
    expect(ranked.map((h) => h.kind).filter((k) => FAILURE_KINDS.includes(k) || k === "handled_error")).toEqual([]);
  });
});
