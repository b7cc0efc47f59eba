// Tests for the demo dataset generator: determinism, time bounds, tree integrity, and the failure story it tells.
import { describe, it, expect } from "vitest";
import { generateDemoDataset, type DemoSpanRow } from "../src/demo/demo-dataset.js";

const NOW = new Date("2025-10-22T18:00:00.000Z");
const NOW_MS = NOW.getTime();
const DAY_MS = 24 * 3_600_000;
const FAILURE_WINDOW_MS = 6 * 3_600_000;
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
    // No immediate failure anywhere outside the cohort.
    const fastFailures = roots.filter((root) => root.status === "failed" && (root.duration_ms ?? Infinity) < 1000);
    expect(fastFailures.every(isFailingCohort)).toBe(true);
  });
});

describe("generateDemoDataset: successes, trace continuity and contrast failures", () => {
  it("makes successful jobs take ~2–3 s, mostly in Modal, with a store_result and output", () => {
    const successes = roots.filter((root) => root.status === "completed");
    expect(successes.length).toBeGreaterThan(300);
    for (const root of successes) {
      expect(root.metadata["has_output"]).toBe(true);
      expect(root.metadata["has_receipt"]).toBe(true);
      expect(root.duration_ms).toBeGreaterThanOrEqual(1800);
      expect(root.duration_ms).toBeLessThan(8000);
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
      expect(handoffMs).toBeGreaterThanOrEqual(5);
      expect(handoffMs).toBeLessThanOrEqual(40);
    }
    for (const router of linkedOnly) {
      const root = rootOfJob(String(jobIdOf(router)));
      expect(router.trace_id).not.toBe(root.trace_id);
      expect(startMs(router)).toBeGreaterThan(startMs(root));
      const modal = childrenOf(router).find((row) => row.service === "modal");
      expect(modal?.operation).toBe("run_inference");
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
});
