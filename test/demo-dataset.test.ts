// Tests for the demo dataset generator: determinism, time bounds, tree integrity, and the failure story it tells.
import { describe, it, expect } from "vitest";
import { generateDemoDataset, type DemoSpanRow } from "../src/demo/demo-dataset.js";

const NOW = new Date("2025-10-22T18:00:00.000Z");
const NOW_MS = NOW.getTime();
const DAY_MS = 24 * 3_600_000;
const HOUR_MS = 3_600_000;
const FAILURE_WINDOW_MS = 6 * HOUR_MS;
const REJECTED_MESSAGE = "router returned 502: provider rejected the request";
const LOST_MESSAGE = "router connection reset (EOF)";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const { rows, manifest } = generateDemoDataset({ now: NOW });

const jobIdOf = (row: DemoSpanRow): unknown => row.metadata["job_id"];
const startMs = (row: DemoSpanRow): number => Date.parse(row.started_at);
const isOp = (service: string, operation: string) => (row: DemoSpanRow) =>
  row.service === service && row.operation === operation;

const roots = rows.filter(isOp("runner", "execute_question"));
const routerSpans = rows.filter(isOp("router", "inference_request"));
const jobsWithRouterSpan = new Set(routerSpans.map(jobIdOf));
const isFailingCohort = (root: DemoSpanRow): boolean =>
  root.metadata["region"] === "US" &&
  root.metadata["model"] === "llama3.2-1b" &&
  root.metadata["provider_id"] === "modal-us-east";

function childrenOf(parent: DemoSpanRow): DemoSpanRow[] {
  return rows.filter((row) => row.trace_id === parent.trace_id && row.parent_span_id === parent.span_id);
}

function rootOfJob(jobId: string): DemoSpanRow {
  const root = roots.find((row) => jobIdOf(row) === jobId);
  if (!root) throw new Error(`no runner root for ${jobId}`);
  return root;
}

function callOf(root: DemoSpanRow): DemoSpanRow {
  const call = childrenOf(root).find((row) => row.operation === "call_router");
  if (!call) throw new Error(`no call_router under ${String(jobIdOf(root))}`);
  return call;
}

function routerOfJob(jobId: unknown): DemoSpanRow {
  const router = routerSpans.find((row) => jobIdOf(row) === jobId);
  if (!router) throw new Error(`no router span for ${String(jobId)}`);
  return router;
}

/** Every span of a job: its runner trace, plus its router's trace when that is a separate one. */
function spansOfJob(jobId: unknown): DemoSpanRow[] {
  const traces = new Set([rootOfJob(String(jobId)).trace_id, ...routerSpans.filter((r) => jobIdOf(r) === jobId).map((r) => r.trace_id)]);
  return rows.filter((row) => traces.has(row.trace_id));
}

const endMs = (row: DemoSpanRow): number => Date.parse(row.completed_at!);
const coldRouters = routerSpans.filter((row) => row.metadata["cold_start"] === true);
const slowHandoffJobs = new Set(coldRouters.map(jobIdOf));

describe("generateDemoDataset: shape and determinism", () => {
  it("gives identical output for the same seed, now and jobs, and different output for another seed", () => {
    expect(generateDemoDataset({ now: NOW })).toEqual({ rows, manifest });
    const other = generateDemoDataset({ now: NOW, seed: 42 });
    expect(other.rows).not.toEqual(rows);
    expect(other.manifest.examples.immediateFailureJobId).not.toBe(manifest.examples.immediateFailureJobId);
  });

  it("uses the documented defaults and honours the jobs option", () => {
    expect(manifest.seed).toBe(1761135900);
    expect(manifest.jobs).toBe(400);
    expect(roots).toHaveLength(400);
    expect(manifest.spans).toBe(rows.length);
    expect(manifest.now).toBe(NOW.toISOString());
    expect(generateDemoDataset({ now: NOW, jobs: 50 }).manifest.jobs).toBe(50);
    expect(generateDemoDataset({ now: NOW, jobs: 50 }).rows.filter(isOp("runner", "execute_question"))).toHaveLength(50);
    expect(() => generateDemoDataset({ now: NOW, jobs: 3 })).toThrow(RangeError);
  });

  it("puts every span within the 24 hours before now", () => {
    for (const row of rows) {
      expect(startMs(row)).toBeGreaterThanOrEqual(NOW_MS - DAY_MS);
      expect(startMs(row)).toBeLessThanOrEqual(NOW_MS);
      if (row.completed_at !== null) {
        expect(Date.parse(row.completed_at)).toBeLessThanOrEqual(NOW_MS);
        expect(Date.parse(row.completed_at)).toBeGreaterThanOrEqual(startMs(row));
      }
    }
  });

  it("anchors to the current time when now is not given", () => {
    const before = Date.now();
    const { rows: liveRows, manifest: liveManifest } = generateDemoDataset({ jobs: 20 });
    const anchor = Date.parse(liveManifest.now);
    expect(anchor).toBeGreaterThanOrEqual(before);
    expect(liveRows.every((row) => startMs(row) >= anchor - DAY_MS && startMs(row) <= anchor)).toBe(true);
  });

  it("orders rows by started_at", () => {
    for (let i = 1; i < rows.length; i++) {
      expect(startMs(rows[i]!)).toBeGreaterThanOrEqual(startMs(rows[i - 1]!));
    }
  });

  it("keeps durations consistent with completed_at, as integers", () => {
    for (const row of rows) {
      if (row.completed_at === null) {
        expect(row.duration_ms).toBeNull();
        expect(row.status).toBe("started");
      } else {
        expect(Number.isInteger(row.duration_ms)).toBe(true);
        expect(Date.parse(row.completed_at) - startMs(row)).toBe(row.duration_ms);
      }
      expect(row.started_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    }
  });

  it("uses unique 16-hex span ids, 32-hex runner trace ids and uuid router-only trace ids", () => {
    expect(new Set(rows.map((row) => row.span_id)).size).toBe(rows.length);
    for (const row of rows) expect(row.span_id).toMatch(/^[0-9a-f]{16}$/);
    for (const root of roots) expect(root.trace_id).toMatch(/^[0-9a-f]{32}$/);
    for (const router of routerSpans.filter((row) => row.parent_span_id === null)) {
      expect(router.trace_id).toMatch(UUID);
    }
  });

  it("resolves every non-root parent_span_id within the same trace", () => {
    const spansByTrace = new Map<string, Set<string>>();
    for (const row of rows) {
      const ids = spansByTrace.get(row.trace_id) ?? new Set<string>();
      ids.add(row.span_id);
      spansByTrace.set(row.trace_id, ids);
    }
    for (const row of rows.filter((r) => r.parent_span_id !== null)) {
      expect(spansByTrace.get(row.trace_id)?.has(row.parent_span_id!)).toBe(true);
    }
    // Only runner roots and router-only traces have no parent.
    const parentless = rows.filter((row) => row.parent_span_id === null);
    expect(parentless.every((row) => isOp("runner", "execute_question")(row) || isOp("router", "inference_request")(row))).toBe(true);
  });

  it("gives every job a unique job_id derived from its start time", () => {
    const jobIds = roots.map(jobIdOf);
    expect(new Set(jobIds).size).toBe(roots.length);
    for (const root of roots) {
      expect(root.metadata["job_id"]).toBe(`bias-detection-${startMs(root)}`);
      expect(root.metadata["executor"]).toBe("HybridExecutor");
      expect(root.metadata["question_id"]).toMatch(/^q-\d{3}$/);
    }
    for (const router of routerSpans) expect(jobIds).toContain(jobIdOf(router));
  });
});

describe("generateDemoDataset: the ~13 ms failure", () => {
  const cohortFailures = roots.filter((root) => isFailingCohort(root) && root.status === "failed");
  const firstFailureMs = Math.min(...cohortFailures.map(startMs));

  it("has several dozen US/llama3.2-1b/modal-us-east failures, about a tenth of all jobs, in the last 6 hours", () => {
    expect(cohortFailures.length).toBeGreaterThanOrEqual(30);
    expect(cohortFailures.length / roots.length).toBeGreaterThan(0.08);
    expect(cohortFailures.length / roots.length).toBeLessThan(0.14);
    for (const root of cohortFailures) expect(startMs(root)).toBeGreaterThanOrEqual(NOW_MS - FAILURE_WINDOW_MS);
  });

  it("fails every one in 11–15 ms, mostly 13, with no output, no receipt and no router or modal span", () => {
    for (const root of cohortFailures) {
      expect(root.duration_ms).toBeGreaterThanOrEqual(11);
      expect(root.duration_ms).toBeLessThanOrEqual(15);
      expect(root.error_message).toBe("execution failed");
      expect(root.metadata["has_output"]).toBe(false);
      expect(root.metadata["has_receipt"]).toBe(false);
      expect(jobsWithRouterSpan.has(jobIdOf(root))).toBe(false);
      expect(rows.some((row) => row.service === "modal" && row.trace_id === root.trace_id)).toBe(false);
      const children = childrenOf(root);
      expect(children.map((c) => c.operation)).toEqual(["call_router"]);
      const call = children[0]!;
      expect(call.status).toBe("failed");
      expect(call.error_message).toBeNull();
      expect(call.duration_ms).toBeGreaterThanOrEqual(9);
      expect(call.duration_ms).toBeLessThanOrEqual(12);
    }
    const thirteen = cohortFailures.filter((root) => root.duration_ms === 13).length;
    expect(thirteen / cohortFailures.length).toBeGreaterThan(0.4);
  });

  it("has a start: US/llama3.2-1b jobs before the first failure succeeded, and all since have failed", () => {
    const cohort = roots.filter(isFailingCohort);
    const before = cohort.filter((root) => startMs(root) < firstFailureMs);
    const since = cohort.filter((root) => startMs(root) >= firstFailureMs);
    expect(before.length).toBeGreaterThanOrEqual(10);
    expect(before.every((root) => root.status === "completed")).toBe(true);
    expect(since.every((root) => root.status === "failed")).toBe(true);
    const lastGood = Math.max(...before.map(startMs));
    expect(firstFailureMs - lastGood).toBeLessThan(60 * 60_000);
  });

  it("leaves US jobs with other models, and llama3.2-1b in other regions, succeeding during the failure", () => {
    const inWindow = roots.filter((root) => startMs(root) >= firstFailureMs);
    const usOtherModels = inWindow.filter((root) => root.metadata["region"] === "US" && root.metadata["model"] !== "llama3.2-1b");
    expect(usOtherModels.length).toBeGreaterThanOrEqual(10);
    const usOk = usOtherModels.filter((root) => root.status === "completed").length;
    expect(usOk / usOtherModels.length).toBeGreaterThanOrEqual(0.9);

    const llamaElsewhere = inWindow.filter((root) => root.metadata["model"] === "llama3.2-1b" && root.metadata["region"] !== "US");
    expect(llamaElsewhere.length).toBeGreaterThanOrEqual(5);
    expect(llamaElsewhere.some((root) => root.status === "completed")).toBe(true);
  });

  it("keeps its signature unique: no other runner failure says \"execution failed\" in under 100 ms", () => {
    const failed = roots.filter((root) => root.status === "failed");
    const fastGeneric = failed.filter((root) => root.error_message === "execution failed" && root.duration_ms! < 100);
    expect(fastGeneric.length).toBe(cohortFailures.length);
    expect(fastGeneric.every(isFailingCohort)).toBe(true);
    // Every failure in 11–15 ms (indeed under 20) is the cohort's, and the cohort fails in no other way.
    const veryFast = failed.filter((root) => root.duration_ms! < 20);
    expect(veryFast.length).toBeGreaterThanOrEqual(30);
    expect(veryFast.every(isFailingCohort)).toBe(true);
    expect(cohortFailures.every((root) => root.duration_ms! <= 15 && root.error_message === "execution failed")).toBe(true);
    // The only other sub-second failures are the downstream rejections, which say so and have a router span.
    const otherFast = failed.filter((root) => !isFailingCohort(root) && root.duration_ms! < 1000);
    expect(otherFast.length).toBe(6);
    for (const root of otherFast) {
      expect(root.error_message).toBe(REJECTED_MESSAGE);
      expect(jobsWithRouterSpan.has(jobIdOf(root))).toBe(true);
    }
  });

  it("leaves US, llama3.2-1b and modal-us-east as what sets the fast failures apart", () => {
    const fastFailures = roots.filter((root) => root.status === "failed" && root.duration_ms! < 100);
    const share = (key: string, value: string) => fastFailures.filter((root) => root.metadata[key] === value).length / fastFailures.length;
    expect(share("region", "US")).toBeGreaterThan(0.8);
    expect(share("model", "llama3.2-1b")).toBeGreaterThan(0.8);
    expect(share("provider_id", "modal-us-east")).toBeGreaterThan(0.8);
    // No failure of another kind is US or llama3.2-1b.
    const otherFailures = roots.filter((root) => root.status !== "completed" && !cohortFailures.includes(root));
    expect(otherFailures.length).toBeGreaterThanOrEqual(15);
    expect(otherFailures.some((root) => root.metadata["region"] === "US")).toBe(false);
    // Timeouts and crashed workers may run any model, but the rejected and lost requests never use llama3.2-1b.
    const newKinds = otherFailures.filter((root) => root.error_message === REJECTED_MESSAGE || root.error_message === LOST_MESSAGE);
    expect(newKinds).toHaveLength(9);
    expect(newKinds.some((root) => root.metadata["model"] === "llama3.2-1b")).toBe(false);
  });
});

describe("generateDemoDataset: successes, trace continuity and contrast failures", () => {
  it("makes successful jobs take ~2–3 s, mostly in Modal, with a store_result and output", () => {
    const successes = roots.filter((root) => root.status === "completed");
    expect(successes.length).toBeGreaterThanOrEqual(300);
    for (const root of successes) {
      expect(root.metadata["has_output"]).toBe(true);
      expect(root.metadata["has_receipt"]).toBe(true);
      expect(root.duration_ms).toBeGreaterThanOrEqual(1800);
      // Slow hand-offs (router cold starts) have their own test below.
      if (!slowHandoffJobs.has(jobIdOf(root))) expect(root.duration_ms).toBeLessThan(8000);
      expect(childrenOf(root).map((c) => c.operation).sort()).toEqual(["call_router", "store_result"]);
    }
    const warm = successes.map((root) => root.duration_ms!).filter((ms) => ms < 3200);
    expect(warm.length / successes.length).toBeGreaterThan(0.85);
    const coldStarts = rows.filter((row) => row.service === "modal" && row.metadata["cold_start"] === true);
    expect(coldStarts.length).toBeGreaterThan(0);
  });

  it("mixes hops sharing the runner's trace_id with hops linked only by job_id", () => {
    const shared = routerSpans.filter((router) => router.parent_span_id !== null);
    const linkedOnly = routerSpans.filter((router) => router.parent_span_id === null);
    for (const router of shared) {
      const parent = rows.find((row) => row.trace_id === router.trace_id && row.span_id === router.parent_span_id);
      expect(parent?.operation).toBe("call_router");
      expect(parent?.metadata["job_id"]).toBe(jobIdOf(router));
      const handoffMs = startMs(router) - startMs(parent!);
      // A warm router picks the request up within tens of ms; cold starts are tested below.
      if (router.metadata["cold_start"] === true) continue;
      expect(handoffMs).toBeGreaterThanOrEqual(5);
      expect(handoffMs).toBeLessThanOrEqual(40);
    }
    for (const router of linkedOnly) {
      const root = rootOfJob(String(jobIdOf(router)));
      expect(router.trace_id).not.toBe(root.trace_id);
      expect(startMs(router)).toBeGreaterThan(startMs(root));
      // A lost request's router span has no children: it never got that far.
      if (router.status === "started") continue;
      const modal = childrenOf(router).find((row) => row.service === "modal");
      expect(modal?.operation).toBe("run_inference");
    }
    // Router hops that share the runner's trace, and hops linked only by job_id, carry the same job_id and times.
    for (const router of routerSpans) {
      const call = callOf(rootOfJob(String(jobIdOf(router))));
      expect(startMs(router)).toBeGreaterThan(startMs(call));
    }
    const sharedShare = shared.length / routerSpans.length;
    expect(sharedShare).toBeGreaterThan(0.5);
    expect(sharedShare).toBeLessThan(0.7);
  });

  it("has a handful of ASIA provider timeouts at ~30 s", () => {
    const timeouts = rows.filter((row) => row.service === "modal" && row.status === "timeout");
    expect(timeouts.length).toBeGreaterThanOrEqual(3);
    expect(timeouts.length).toBeLessThanOrEqual(10);
    for (const modal of timeouts) {
      expect(modal.duration_ms).toBeGreaterThanOrEqual(29990);
      expect(modal.duration_ms).toBeLessThanOrEqual(30010);
      expect(modal.error_message).toBe("Function call timed out after 30s");
      const router = routerSpans.find((row) => row.trace_id === modal.trace_id && row.span_id === modal.parent_span_id)!;
      expect(router.status).toBe("error");
      expect(router.error_message).toBe("provider modal-asia-pacific timed out");
      const root = rootOfJob(String(jobIdOf(router)));
      expect(root.metadata["region"]).toBe("ASIA");
      expect(root.status).toBe("failed");
      expect(root.duration_ms).toBeGreaterThan(30000);
      expect(root.duration_ms).toBeLessThan(30150);
    }
  });

  it("has one or two crashed workers whose runner spans never finished", () => {
    const unfinished = roots.filter((root) => root.status === "started");
    expect(unfinished.length).toBeGreaterThanOrEqual(1);
    expect(unfinished.length).toBeLessThanOrEqual(2);
    for (const root of unfinished) {
      expect(root.completed_at).toBeNull();
      expect(root.duration_ms).toBeNull();
      const call = childrenOf(root).find((row) => row.operation === "call_router")!;
      expect(call.status).toBe("started");
      expect(call.completed_at).toBeNull();
      expect(NOW_MS - startMs(root)).toBeGreaterThan(3_600_000);
    }
  });
});

describe("generateDemoDataset: downstream_rejected (EU / mistral-7b / modal-eu-west refuses requests at once)", () => {
  const rejected = roots.filter((root) => root.error_message === REJECTED_MESSAGE);
  const windowStart = NOW_MS - 12 * HOUR_MS;
  const windowEnd = NOW_MS - 10 * HOUR_MS;
  const euMistral = roots.filter((root) => root.metadata["region"] === "EU" && root.metadata["model"] === "mistral-7b");

  it("has 6 such jobs, all EU/mistral-7b/modal-eu-west, spread over 10–12 h before now", () => {
    expect(rejected).toHaveLength(6);
    for (const root of rejected) {
      expect(root.metadata).toMatchObject({ region: "EU", model: "mistral-7b", provider_id: "modal-eu-west", has_output: false, has_receipt: false });
      expect(startMs(root)).toBeGreaterThanOrEqual(windowStart);
      expect(endMs(root)).toBeLessThanOrEqual(windowEnd);
    }
    const starts = rejected.map(startMs);
    // Spread over the window, not bunched: first and last at least 90 minutes apart.
    expect(Math.max(...starts) - Math.min(...starts)).toBeGreaterThanOrEqual(90 * 60_000);
  });

  it("fails the runner in 40–70 ms, and call_router with the same error and HTTP 502", () => {
    for (const root of rejected) {
      expect(root.status).toBe("failed");
      expect(root.duration_ms).toBeGreaterThanOrEqual(40);
      expect(root.duration_ms).toBeLessThanOrEqual(70);
      const call = callOf(root);
      expect(childrenOf(root).map((c) => c.operation)).toEqual(["call_router"]);
      expect(call.status).toBe("failed");
      expect(call.error_message).toBe(REJECTED_MESSAGE);
      expect(call.metadata["http_status"]).toBe(502);
      expect(endMs(call)).toBeLessThanOrEqual(endMs(root));
    }
  });

  it("shows the router received it: inference_request error in 20–40 ms, select_provider ok, modal 401 in 2–6 ms", () => {
    for (const root of rejected) {
      const call = callOf(root);
      const router = routerOfJob(jobIdOf(root));
      expect(router.status).toBe("error");
      expect(router.error_message).toBe("modal-eu-west: 401 Unauthorized (invalid token)");
      expect(router.duration_ms).toBeGreaterThanOrEqual(20);
      expect(router.duration_ms).toBeLessThanOrEqual(40);
      expect(router.metadata).toMatchObject({ region: "EU", model: "mistral-7b", provider_id: "modal-eu-west" });
      expect(startMs(router)).toBeGreaterThan(startMs(call));
      expect(endMs(router)).toBeLessThan(endMs(call));
      const children = childrenOf(router);
      expect(children.map((c) => `${c.service}.${c.operation}`)).toEqual(["router.select_provider", "modal.run_inference"]);
      const [select, modal] = children as [DemoSpanRow, DemoSpanRow];
      expect(select.status).toBe("completed");
      expect(select.error_message).toBeNull();
      expect(modal.status).toBe("error");
      expect(modal.error_message).toBe("401 Unauthorized: invalid token");
      expect(modal.duration_ms).toBeGreaterThanOrEqual(2);
      expect(modal.duration_ms).toBeLessThanOrEqual(6);
      expect(modal.metadata["provider_id"]).toBe("modal-eu-west");
      expect(startMs(modal)).toBeGreaterThanOrEqual(endMs(select));
      expect(endMs(modal)).toBeLessThan(endMs(router));
    }
  });

  it("leaves every other EU/mistral-7b job succeeding, and every one in the window failing", () => {
    const inWindow = euMistral.filter((root) => startMs(root) >= windowStart && startMs(root) <= windowEnd);
    const outside = euMistral.filter((root) => !inWindow.includes(root));
    expect(inWindow.map(jobIdOf).sort()).toEqual(rejected.map(jobIdOf).sort());
    expect(outside.length).toBeGreaterThanOrEqual(20);
    expect(outside.every((root) => root.status === "completed")).toBe(true);
    // Other EU models and other regions' mistral-7b jobs in the window still succeed.
    const neighbours = roots.filter(
      (root) => startMs(root) >= windowStart && startMs(root) <= windowEnd && !rejected.includes(root) && root.status !== "started",
    );
    expect(neighbours.length).toBeGreaterThanOrEqual(10);
    expect(neighbours.every((root) => root.status === "completed")).toBe(true);
  });
});

describe("generateDemoDataset: lost_request (the router got the request and crashed)", () => {
  const lost = roots.filter((root) => root.error_message === LOST_MESSAGE);

  it("has 3 such jobs, none in US, failing the runner after 1.2–1.6 s with a reset connection", () => {
    expect(lost).toHaveLength(3);
    for (const root of lost) {
      expect(root.status).toBe("failed");
      expect(root.metadata["region"]).not.toBe("US");
      expect(root.metadata["has_output"]).toBe(false);
      expect(root.duration_ms).toBeGreaterThanOrEqual(1200);
      expect(root.duration_ms).toBeLessThanOrEqual(1600);
      const call = callOf(root);
      expect(childrenOf(root).map((c) => c.operation)).toEqual(["call_router"]);
      expect(call.status).toBe("failed");
      expect(call.error_message).toBe(LOST_MESSAGE);
      expect(call.metadata["http_status"]).toBeUndefined();
      expect(endMs(call)).toBeLessThanOrEqual(endMs(root));
    }
  });

  it("leaves the router span started forever, with no select_provider and no modal span", () => {
    for (const root of lost) {
      const router = routerOfJob(jobIdOf(root));
      expect(router.status).toBe("started");
      expect(router.completed_at).toBeNull();
      expect(router.duration_ms).toBeNull();
      expect(router.error_message).toBeNull();
      expect(startMs(router)).toBeGreaterThan(startMs(callOf(root)));
      expect(startMs(router)).toBeLessThan(endMs(callOf(root)));
      expect(childrenOf(router)).toEqual([]);
      const ops = spansOfJob(jobIdOf(root)).map((row) => `${row.service}.${row.operation}`).sort();
      expect(ops).toEqual(["router.inference_request", "runner.call_router", "runner.execute_question"]);
      // Long enough ago that "still started" can only mean "never finished".
      expect(NOW_MS - startMs(router)).toBeGreaterThan(HOUR_MS);
    }
  });

  it("is the only kind of router or modal span that never finished", () => {
    const unfinished = rows.filter((row) => row.service !== "runner" && row.status === "started");
    expect(unfinished.map(jobIdOf).sort()).toEqual(lost.map(jobIdOf).sort());
  });
});

describe("generateDemoDataset: slow_handoff (router cold start on successful jobs)", () => {
  it("has 5 successful jobs whose router span starts 3–6 s after call_router, marked cold_start", () => {
    expect(coldRouters).toHaveLength(5);
    for (const router of coldRouters) {
      const root = rootOfJob(String(jobIdOf(router)));
      const call = callOf(root);
      const handoffMs = startMs(router) - startMs(call);
      expect(handoffMs).toBeGreaterThanOrEqual(3000);
      expect(handoffMs).toBeLessThanOrEqual(6000);
      expect(endMs(router)).toBeLessThan(endMs(call));
      // The whole job takes ~5–9 s.
      expect(root.duration_ms).toBeGreaterThanOrEqual(4800);
      expect(root.duration_ms).toBeLessThanOrEqual(9000);
    }
  });

  it("completes every span of those jobs, with Modal warm and otherwise normal timings", () => {
    for (const jobId of slowHandoffJobs) {
      const spans = spansOfJob(jobId);
      expect(spans.map((row) => `${row.service}.${row.operation}`).sort()).toEqual([
        "modal.run_inference",
        "router.inference_request",
        "router.select_provider",
        "runner.call_router",
        "runner.execute_question",
        "runner.store_result",
      ]);
      expect(spans.every((row) => row.status === "completed" && row.error_message === null)).toBe(true);
      const root = rootOfJob(String(jobId));
      expect(root.metadata["has_output"]).toBe(true);
      const router = routerOfJob(jobId);
      const modal = childrenOf(router).find((row) => row.service === "modal")!;
      expect(modal.metadata["cold_start"]).toBe(false);
      expect(modal.duration_ms).toBeGreaterThanOrEqual(1800);
      expect(modal.duration_ms).toBeLessThanOrEqual(2800);
      // Within the router, nothing is slow: the time went into the hand-off.
      expect(router.duration_ms! - modal.duration_ms!).toBeLessThan(100);
    }
  });

  it("marks no other router span as a cold start, and keeps every other hand-off under 50 ms", () => {
    const warm = routerSpans.filter((row) => row.metadata["cold_start"] !== true);
    expect(warm.every((row) => row.metadata["cold_start"] === undefined)).toBe(true);
    for (const router of warm) {
      const call = callOf(rootOfJob(String(jobIdOf(router))));
      expect(startMs(router) - startMs(call)).toBeLessThan(50);
    }
  });
});

describe("generateDemoDataset: manifest examples", () => {
  const { examples } = manifest;

  it("names an immediate failure that exists and has the described shape", () => {
    const root = rootOfJob(examples.immediateFailureJobId);
    expect(root.trace_id).toBe(examples.immediateFailureTraceId);
    expect(isFailingCohort(root)).toBe(true);
    expect(root.status).toBe("failed");
    expect(root.duration_ms).toBe(13);
    expect(jobsWithRouterSpan.has(examples.immediateFailureJobId)).toBe(false);
  });

  it("names a success whose router hop shares the runner's trace", () => {
    const root = rootOfJob(examples.successJobId);
    expect(root.trace_id).toBe(examples.successTraceId);
    expect(root.status).toBe("completed");
    const router = routerSpans.find((row) => jobIdOf(row) === examples.successJobId)!;
    expect(router.trace_id).toBe(examples.successTraceId);
    expect(rows.filter((row) => row.trace_id === examples.successTraceId).map((row) => row.service)).toContain("modal");
  });

  it("names a success linked to its router trace only by job_id", () => {
    const root = rootOfJob(examples.linkedByJobIdJobId);
    expect(root.trace_id).toBe(examples.linkedByJobIdRunnerTraceId);
    expect(root.status).toBe("completed");
    expect(examples.linkedByJobIdRouterTraceId).toMatch(UUID);
    const routerTrace = rows.filter((row) => row.trace_id === examples.linkedByJobIdRouterTraceId);
    expect(routerTrace.map((row) => `${row.service}.${row.operation}`).sort()).toEqual([
      "modal.run_inference",
      "router.inference_request",
      "router.select_provider",
    ]);
    const router = routerTrace.find(isOp("router", "inference_request"))!;
    expect(router.parent_span_id).toBeNull();
    expect(jobIdOf(router)).toBe(examples.linkedByJobIdJobId);
    expect(rows.filter((row) => row.trace_id === examples.linkedByJobIdRunnerTraceId).every((row) => row.service === "runner")).toBe(true);
  });

  it("names a provider timeout", () => {
    const root = rootOfJob(examples.timeoutJobId);
    expect(root.metadata["provider_id"]).toBe("modal-asia-pacific");
    expect(root.status).toBe("failed");
    const router = routerSpans.find((row) => jobIdOf(row) === examples.timeoutJobId)!;
    const modal = childrenOf(router).find((row) => row.service === "modal")!;
    expect(modal.status).toBe("timeout");
  });

  it("names a downstream rejection, its router hop in the runner's trace", () => {
    const root = rootOfJob(examples.downstreamRejectedJobId);
    expect(root.trace_id).toBe(examples.downstreamRejectedTraceId);
    expect(root.status).toBe("failed");
    expect(root.error_message).toBe(REJECTED_MESSAGE);
    expect(root.metadata["provider_id"]).toBe("modal-eu-west");
    const trace = rows.filter((row) => row.trace_id === examples.downstreamRejectedTraceId);
    expect(trace.map((row) => `${row.service}.${row.operation}:${row.status}`).sort()).toEqual([
      "modal.run_inference:error",
      "router.inference_request:error",
      "router.select_provider:completed",
      "runner.call_router:failed",
      "runner.execute_question:failed",
    ]);
  });

  it("names a lost request, its unfinished router span in the runner's trace", () => {
    const root = rootOfJob(examples.lostRequestJobId);
    expect(root.trace_id).toBe(examples.lostRequestTraceId);
    expect(root.error_message).toBe(LOST_MESSAGE);
    const trace = rows.filter((row) => row.trace_id === examples.lostRequestTraceId);
    expect(trace.map((row) => `${row.service}.${row.operation}:${row.status}`).sort()).toEqual([
      "router.inference_request:started",
      "runner.call_router:failed",
      "runner.execute_question:failed",
    ]);
    expect(routerOfJob(examples.lostRequestJobId).parent_span_id).toBe(callOf(root).span_id);
  });

  it("names a slow hand-off, its cold router span in the runner's trace", () => {
    const root = rootOfJob(examples.slowHandoffJobId);
    expect(root.trace_id).toBe(examples.slowHandoffTraceId);
    expect(root.status).toBe("completed");
    const router = routerOfJob(examples.slowHandoffJobId);
    expect(router.trace_id).toBe(examples.slowHandoffTraceId);
    expect(router.metadata["cold_start"]).toBe(true);
    expect(router.parent_span_id).toBe(callOf(root).span_id);
    expect(startMs(router) - startMs(callOf(root))).toBeGreaterThanOrEqual(3000);
  });

  it("names every example for any job count, and they exist in that dataset", () => {
    for (const jobs of [10, 20, 99, 100]) {
      const small = generateDemoDataset({ now: NOW, jobs });
      const smallRoots = small.rows.filter(isOp("runner", "execute_question"));
      expect(smallRoots).toHaveLength(jobs);
      const ex = small.manifest.examples;
      const pairs: Array<[string, string]> = [
        [ex.immediateFailureJobId, ex.immediateFailureTraceId],
        [ex.successJobId, ex.successTraceId],
        [ex.linkedByJobIdJobId, ex.linkedByJobIdRunnerTraceId],
        [ex.downstreamRejectedJobId, ex.downstreamRejectedTraceId],
        [ex.lostRequestJobId, ex.lostRequestTraceId],
        [ex.slowHandoffJobId, ex.slowHandoffTraceId],
      ];
      for (const [jobId, traceId] of pairs) {
        expect(smallRoots.find((root) => jobIdOf(root) === jobId)?.trace_id, `${jobs} jobs: ${jobId}`).toBe(traceId);
      }
      const statusOf = (jobId: string) => smallRoots.find((root) => jobIdOf(root) === jobId)?.error_message;
      expect(statusOf(ex.downstreamRejectedJobId)).toBe(REJECTED_MESSAGE);
      expect(statusOf(ex.lostRequestJobId)).toBe(LOST_MESSAGE);
      expect(small.rows.some((row) => row.trace_id === ex.slowHandoffTraceId && row.metadata["cold_start"] === true)).toBe(true);
      expect(smallRoots.filter((root) => root.status === "completed").length).toBeGreaterThanOrEqual(jobs >= 100 ? 70 : 4);
    }
  });
});
