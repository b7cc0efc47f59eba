// Deterministic generator of the demo dataset: a day of runner → router → Modal spans in which
// US / llama3.2-1b / modal-us-east jobs start failing in ~13 ms, with one case of every other failure
// pattern for contrast: ASIA provider timeouts (~30 s), crashed workers (runner spans never finish),
// EU / mistral-7b requests the provider rejects at once (401 → 502 in ~50 ms, one 2-hour window),
// requests the router received and then crashed on (router span never finishes, runner sees EOF), and
// successful jobs slowed by a router cold start (3–6 s between the runner's call and the router's span).

import type { Span } from "../analysis/span.js";
import type { SpanRowInput } from "../store/span-writer.js";
import { mulberry32, type Rng } from "./seeded-random.js";

/** One row of trace_spans, as it would be inserted (times as ISO strings, metadata as JSON). */
export type DemoSpanRow = SpanRowInput;

export interface DemoManifest {
  /** ISO of the anchor time used. */
  now: string;
  seed: number;
  /** Number of jobs generated. */
  jobs: number;
  spans: number;
  /** A few named job ids / trace ids a demo script or test can ask about. */
  examples: {
    /** A 13 ms failing job (US / llama3.2-1b / modal-us-east, no router span). */
    immediateFailureJobId: string;
    /** Its runner trace id. */
    immediateFailureTraceId: string;
    /** A successful job whose router hop shares the runner's trace_id. */
    successJobId: string;
    successTraceId: string;
    /** A successful job whose router+modal spans have a different trace_id (linked only by job_id). */
    linkedByJobIdJobId: string;
    linkedByJobIdRunnerTraceId: string;
    linkedByJobIdRouterTraceId: string;
    /** A provider timeout in ASIA (modal.run_inference ~30 s). */
    timeoutJobId: string;
    /**
     * Router received it, the provider refused it at once: EU / mistral-7b / modal-eu-west, runner fails in
     * ~40–70 ms with "router returned 502: provider rejected the request", modal.run_inference 401 in 2–6 ms.
     */
    downstreamRejectedJobId: string;
    /** Its runner trace id (its router hop shares it). */
    downstreamRejectedTraceId: string;
    /**
     * Router received it and crashed: router.inference_request stays 'started' (never finished, no
     * select_provider, no modal span); the runner fails after ~1.2–1.6 s with "router connection reset (EOF)".
     */
    lostRequestJobId: string;
    /** Its runner trace id (its router hop shares it). */
    lostRequestTraceId: string;
    /** A successful job slowed by a router cold start: router.inference_request starts 3–6 s after runner.call_router. */
    slowHandoffJobId: string;
    /** Its runner trace id (its router hop shares it). */
    slowHandoffTraceId: string;
  };
}

const DEFAULT_SEED = 1761135900;
const DEFAULT_JOBS = 400;
/** Below this there is no room for the failing cluster, the contrast failures and the example successes. */
const MIN_JOBS = 10;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** The failure began this long before `now`; every US/llama3.2-1b job since then fails. */
const FAILURE_WINDOW_MS = 6 * HOUR_MS;
/** Jobs start at least this long before `now`, so even a 30 s timeout has finished by then. */
const END_MARGIN_MS = 2 * MINUTE_MS;

const IMMEDIATE_FAILURE_SHARE = 0.11;
const PROVIDER_TIMEOUT_SHARE = 0.0125;
/** The runner→router trace header is only sometimes propagated. */
const SHARED_TRACE_SHARE = 0.6;
const COLD_START_SHARE = 0.08;

/** How long the router takes to pick up a request when it is warm, and when it has to cold-start first. */
const HANDOFF_MS: readonly [number, number] = [5, 40];
const COLD_HANDOFF_MS: readonly [number, number] = [3000, 6000];
/** How long the runner waits on a reset connection before it gives up on a lost request. */
const LOST_REQUEST_MS: readonly [number, number] = [1200, 1600];

const ROUTER_URL = "https://beacon-hybrid-router.railway.app/inference";

const REGIONS = ["US", "EU", "ASIA"] as const;
type Region = (typeof REGIONS)[number];

const PROVIDER_BY_REGION: Record<Region, string> = {
  US: "modal-us-east",
  EU: "modal-eu-west",
  ASIA: "modal-asia-pacific",
};

const MODELS = ["llama3.2-1b", "mistral-7b", "qwen2.5-1.5b"] as const;
type Model = (typeof MODELS)[number];

const GPU_BY_MODEL: Record<Model, string> = {
  "llama3.2-1b": "A10G",
  "mistral-7b": "A100",
  "qwen2.5-1.5b": "A10G",
};

/** Warm inference time on Modal: the bulk of a successful job's ~2–3 s. */
const INFERENCE_MS_BY_MODEL: Record<Model, readonly [number, number]> = {
  "llama3.2-1b": [1800, 2400],
  "mistral-7b": [2200, 2800],
  "qwen2.5-1.5b": [1900, 2500],
};

/** The cohort the user's Sentry issue is about. */
const FAILING_REGION: Region = "US";
const FAILING_MODEL: Model = "llama3.2-1b";

/** downstream_rejected: for two hours, 10–12 h before now, modal-eu-west refuses every EU/mistral-7b request. */
const REJECTED_REGION: Region = "EU";
const REJECTED_MODEL: Model = "mistral-7b";
const REJECTED_WINDOW_BEFORE_NOW_MS: readonly [number, number] = [12 * HOUR_MS, 10 * HOUR_MS];

const ERRORS = {
  /** The runner's generic message, as in the user's Sentry issue. */
  executionFailed: "execution failed",
  rejectedByRouter: "router returned 502: provider rejected the request",
  rejectedByProvider: "401 Unauthorized: invalid token",
  connectionReset: "router connection reset (EOF)",
} as const;

type JobKind =
  | "success"
  | "immediate-failure"
  | "provider-timeout"
  | "crashed-worker"
  | "downstream-rejected"
  | "lost-request"
  | "slow-handoff";
type Continuity = "shared-trace" | "linked-by-job-id";

interface JobPlan {
  kind: JobKind;
  startMs: number;
  region: Region;
  model: Model;
  questionId: string;
  continuity: Continuity;
  coldStart: boolean;
  /** Immediate failures only: the runner span's duration. */
  rootDurationMs?: number;
}

interface WrittenJob {
  jobId: string;
  runnerTraceId: string;
  /** The trace the router hop was written in; null when the request never reached the router. */
  routerTraceId: string | null;
}



/** Inclusive on both ends. */
function randomInt(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}

function randomHex(rng: Rng, length: number): string {
  let hex = "";
  while (hex.length < length) {
    hex += Math.floor(rng() * 0x100000000).toString(16).padStart(8, "0");
  }
  return hex.slice(0, length);
}

/** A version-4-shaped uuid, as the router's uuid4() would produce. */
function randomUuid(rng: Rng): string {
  const hex = randomHex(rng, 32).split("");
  hex[12] = "4";
  hex[16] = "89ab"[randomInt(rng, 0, 3)] ?? "8";
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** A span as a job writer describes it: the core Span, with the end derived from the duration (null: never finished). */
type SpanInput = Omit<Span, "endMs" | "errorMessage"> & { errorMessage?: string | null };

/** Everything a job writer needs: the random source, unique ids, and the rows written so far. */
class DatasetWriter {
  readonly rows: DemoSpanRow[] = [];
  private readonly usedIds = new Set<string>();

  constructor(readonly rng: Rng) {}

  int(min: number, max: number): number {
    return randomInt(this.rng, min, max);
  }

  spanId(): string {
    return this.uniqueId(() => randomHex(this.rng, 16));
  }

  runnerTraceId(): string {
    return this.uniqueId(() => randomHex(this.rng, 32));
  }

  routerTraceId(): string {
    return this.uniqueId(() => randomUuid(this.rng));
  }

  /** Collisions are astronomically unlikely, but a duplicate id would corrupt every tree built on the data. */
  private uniqueId(make: () => string): string {
    let id = make();
    while (this.usedIds.has(id)) id = make();
    this.usedIds.add(id);
    return id;
  }

  span(input: SpanInput): void {
    this.rows.push({
      trace_id: input.traceId,
      span_id: input.spanId,
      parent_span_id: input.parentSpanId,
      service: input.service,
      operation: input.operation,
      started_at: new Date(input.startMs).toISOString(),
      completed_at: input.durationMs === null ? null : new Date(input.startMs + input.durationMs).toISOString(),
      duration_ms: input.durationMs,
      status: input.status,
      error_message: input.errorMessage ?? null,
      metadata: input.metadata,
    });
  }
}

function questionId(rng: Rng): string {
  return `q-${String(randomInt(rng, 1, 40)).padStart(3, "0")}`;
}

function randomContinuity(rng: Rng): Continuity {
  return rng() < SHARED_TRACE_SHARE ? "shared-trace" : "linked-by-job-id";
}

/** Mostly 13 ms, like the Sentry event, with a little jitter either side. */
function immediateFailureDuration(rng: Rng): number {
  const r = rng();
  if (r < 0.6) return 13;
  if (r < 0.75) return 12;
  if (r < 0.9) return 14;
  if (r < 0.95) return 11;
  return 15;
}

function isFailingCohort(region: Region, model: Model): boolean {
  return region === FAILING_REGION && model === FAILING_MODEL;
}

function isRejectedCohort(region: Region, model: Model): boolean {
  return region === REJECTED_REGION && model === REJECTED_MODEL;
}

interface PlanCounts {
  immediateFailures: number;
  providerTimeouts: number;
  crashedWorkers: number;
  downstreamRejected: number;
  lostRequests: number;
  slowHandoffs: number;
  /** Everything else; the new cases above are taken from this share. */
  successes: number;
}

function countJobs(jobs: number): PlanCounts {
  const immediateFailures = Math.max(1, Math.round(jobs * IMMEDIATE_FAILURE_SHARE));
  const providerTimeouts = Math.max(1, Math.round(jobs * PROVIDER_TIMEOUT_SHARE));
  const full = jobs >= 100;
  const crashedWorkers = full ? 2 : 1;
  const downstreamRejected = full ? 6 : 1;
  const lostRequests = full ? 3 : 1;
  const slowHandoffs = full ? 5 : 1;
  const successes =
    jobs - immediateFailures - providerTimeouts - crashedWorkers - downstreamRejected - lostRequests - slowHandoffs;
  return { immediateFailures, providerTimeouts, crashedWorkers, downstreamRejected, lostRequests, slowHandoffs, successes };
}

interface TimeBounds {
  dayStart: number;
  latestStart: number;
  failureStart: number;
  rejectedStart: number;
  rejectedEnd: number;
}

function inRejectedWindow(startMs: number, t: TimeBounds): boolean {
  return startMs >= t.rejectedStart && startMs <= t.rejectedEnd;
}

interface Plans {
  all: JobPlan[];
  /** The last US/llama3.2-1b success before the failure began: shares its trace with the router. */
  lastGoodSuccess: JobPlan;
  linkedSuccess: JobPlan;
  firstImmediateFailure: JobPlan;
  firstTimeout: JobPlan;
  firstDownstreamRejected: JobPlan;
  firstLostRequest: JobPlan;
  firstSlowHandoff: JobPlan;
}

/** Decide what every job is (kind, cohort, start time) before writing any span. */
function planJobs(rng: Rng, nowMs: number, jobs: number): Plans {
  const counts = countJobs(jobs);
  const dayStart = nowMs - DAY_MS + 1000;
  const latestStart = nowMs - END_MARGIN_MS;
  const failureStart = nowMs - FAILURE_WINDOW_MS;
  const bounds: TimeBounds = {
    dayStart,
    latestStart,
    failureStart,
    rejectedStart: nowMs - REJECTED_WINDOW_BEFORE_NOW_MS[0],
    rejectedEnd: nowMs - REJECTED_WINDOW_BEFORE_NOW_MS[1],
  };
  const all: JobPlan[] = [];

  const immediateFailures: JobPlan[] = [];
  for (let i = 0; i < counts.immediateFailures; i++) {
    immediateFailures.push({
      kind: "immediate-failure",
      startMs: randomInt(rng, failureStart, latestStart),
      region: FAILING_REGION,
      model: FAILING_MODEL,
      questionId: questionId(rng),
      continuity: "shared-trace",
      coldStart: false,
      // The first one becomes the manifest's example, so it gets exactly the 13 ms of the Sentry event.
      rootDurationMs: i === 0 ? 13 : immediateFailureDuration(rng),
    });
  }

  const timeouts: JobPlan[] = [];
  for (let i = 0; i < counts.providerTimeouts; i++) {
    timeouts.push({
      kind: "provider-timeout",
      startMs: randomInt(rng, dayStart, latestStart),
      region: "ASIA",
      model: pick(rng, MODELS),
      questionId: questionId(rng),
      continuity: randomContinuity(rng),
      coldStart: rng() < 0.3,
    });
  }

  // Crashed workers sit well in the past, so "still started" clearly means "never finished".
  for (let i = 0; i < counts.crashedWorkers; i++) {
    const region = pick(rng, ["EU", "ASIA"] as const);
    let model = pick(rng, MODELS);
    // EU/mistral-7b jobs outside the rejection window all succeed, so the rejection stands out.
    if (isRejectedCohort(region, model)) model = pick(rng, MODELS.filter((m) => m !== REJECTED_MODEL));
    all.push({
      kind: "crashed-worker",
      startMs: randomInt(rng, nowMs - 20 * HOUR_MS, nowMs - 2 * HOUR_MS),
      region,
      model,
      questionId: questionId(rng),
      continuity: randomContinuity(rng),
      coldStart: false,
    });
  }

  // Pinned so the failure has a visible start: a healthy US/llama3.2-1b job shortly before it.
  const lastGoodSuccess: JobPlan = {
    kind: "success",
    startMs: failureStart - randomInt(rng, 5 * MINUTE_MS, 40 * MINUTE_MS),
    region: FAILING_REGION,
    model: FAILING_MODEL,
    questionId: questionId(rng),
    continuity: "shared-trace",
    coldStart: false,
  };
  const linkedSuccess = plannedSuccess(rng, bounds);
  linkedSuccess.continuity = "linked-by-job-id";
  linkedSuccess.coldStart = false;
  all.push(lastGoodSuccess, linkedSuccess);
  for (let i = 2; i < counts.successes; i++) {
    all.push(plannedSuccess(rng, bounds));
  }

  // The later cases are planned after the older ones, so those keep their draws from the seed.
  // Each case's first job is the manifest's example, and writes its router hop in the runner's trace.
  const rejected: JobPlan[] = [];
  const slotMs = Math.floor((bounds.rejectedEnd - bounds.rejectedStart) / counts.downstreamRejected);
  for (let i = 0; i < counts.downstreamRejected; i++) {
    rejected.push({
      kind: "downstream-rejected",
      // One per slot, so the six spread over the whole window (and stay inside it).
      startMs: bounds.rejectedStart + i * slotMs + randomInt(rng, MINUTE_MS, slotMs - MINUTE_MS),
      region: REJECTED_REGION,
      model: REJECTED_MODEL,
      questionId: questionId(rng),
      continuity: i === 0 ? "shared-trace" : randomContinuity(rng),
      coldStart: false,
    });
  }

  const lost: JobPlan[] = [];
  for (let i = 0; i < counts.lostRequests; i++) {
    const region = pick(rng, ["EU", "ASIA"] as const);
    // Never the 13 ms cohort's model, nor the rejected cohort: llama3.2-1b and EU/mistral-7b stay distinctive.
    const model = pick(rng, MODELS.filter((m) => m !== FAILING_MODEL && !isRejectedCohort(region, m)));
    lost.push({
      kind: "lost-request",
      // Well in the past, like the crashed workers, so "still started" clearly means "never finished".
      startMs: randomInt(rng, nowMs - 20 * HOUR_MS, nowMs - 2 * HOUR_MS),
      region,
      model,
      questionId: questionId(rng),
      continuity: i === 0 ? "shared-trace" : randomContinuity(rng),
      coldStart: false,
    });
  }

  const slow: JobPlan[] = [];
  for (let i = 0; i < counts.slowHandoffs; i++) {
    const plan = plannedSuccess(rng, bounds);
    plan.kind = "slow-handoff";
    // The router is cold, Modal is not: the extra time is all in the hand-off.
    plan.coldStart = false;
    if (i === 0) plan.continuity = "shared-trace";
    slow.push(plan);
  }

  all.push(...immediateFailures, ...timeouts, ...rejected, ...lost, ...slow);
  const [firstImmediateFailure] = immediateFailures;
  const [firstTimeout] = timeouts;
  const [firstDownstreamRejected] = rejected;
  const [firstLostRequest] = lost;
  const [firstSlowHandoff] = slow;
  if (!firstImmediateFailure || !firstTimeout || !firstDownstreamRejected || !firstLostRequest || !firstSlowHandoff) {
    throw new Error("job plan is missing its examples");
  }
  return {
    all,
    lastGoodSuccess,
    linkedSuccess,
    firstImmediateFailure,
    firstTimeout,
    firstDownstreamRejected,
    firstLostRequest,
    firstSlowHandoff,
  };
}

function plannedSuccess(rng: Rng, t: TimeBounds): JobPlan {
  const startMs = randomInt(rng, t.dayStart, t.latestStart);
  const region = pick(rng, REGIONS);
  let model = pick(rng, MODELS);
  // Inside the failure window every US/llama3.2-1b job fails, so a success there must use another model.
  if (startMs >= t.failureStart && isFailingCohort(region, model)) {
    model = pick(rng, MODELS.filter((m) => m !== FAILING_MODEL));
  }
  // Likewise every EU/mistral-7b job in the rejection window is refused.
  if (inRejectedWindow(startMs, t) && isRejectedCohort(region, model)) {
    model = pick(rng, MODELS.filter((m) => m !== REJECTED_MODEL));
  }
  return {
    kind: "success",
    startMs,
    region,
    model,
    questionId: questionId(rng),
    continuity: randomContinuity(rng),
    coldStart: rng() < COLD_START_SHARE,
  };
}

/** Job ids are the start time in epoch ms, so two jobs may not start in the same millisecond. */
function orderAndSeparateStarts(plans: JobPlan[]): JobPlan[] {
  const ordered = [...plans].sort((a, b) => a.startMs - b.startMs);
  for (let i = 1; i < ordered.length; i++) {
    const previous = ordered[i - 1];
    const current = ordered[i];
    if (previous && current && current.startMs <= previous.startMs) current.startMs = previous.startMs + 1;
  }
  return ordered;
}

/**
 * A job's runner trace: its execute_question span, the call_router span under it, and when that call
 * started. The router hop hangs under the call.
 */
interface RunnerCall {
  traceId: string;
  rootSpanId: string;
  callSpanId: string;
  callStart: number;
}

/** Every job that reaches the router draws its runner ids and call start in this order. */
function openRunnerCall(w: DatasetWriter, plan: JobPlan): RunnerCall {
  const traceId = w.runnerTraceId();
  const rootSpanId = w.spanId();
  const callSpanId = w.spanId();
  return { traceId, rootSpanId, callSpanId, callStart: plan.startMs + w.int(1, 4) };
}

/** The parts of a span that differ between job kinds for the span shapes they share. */
type SpanOutcome = Pick<SpanInput, "durationMs" | "status" | "errorMessage">;

/** has_output / has_receipt: a job produced them exactly when its root span completed. */
function writeRunnerRoot(w: DatasetWriter, plan: JobPlan, jobId: string, call: RunnerCall, outcome: SpanOutcome): void {
  const succeeded = outcome.status === "completed";
  w.span({
    traceId: call.traceId,
    spanId: call.rootSpanId,
    parentSpanId: null,
    service: "runner",
    operation: "execute_question",
    startMs: plan.startMs,
    durationMs: outcome.durationMs,
    status: outcome.status,
    errorMessage: outcome.errorMessage,
    metadata: {
      job_id: jobId,
      question_id: plan.questionId,
      region: plan.region,
      model: plan.model,
      provider_id: PROVIDER_BY_REGION[plan.region],
      executor: "HybridExecutor",
      has_output: succeeded,
      has_receipt: succeeded,
    },
  });
}

/** httpStatus is left out when the runner never got an HTTP response (no answer, reset, swallowed error). */
function writeCallRouter(
  w: DatasetWriter,
  jobId: string,
  call: RunnerCall,
  outcome: SpanOutcome & { httpStatus?: number },
): void {
  const metadata = { url: ROUTER_URL, method: "POST", job_id: jobId };
  w.span({
    traceId: call.traceId,
    spanId: call.callSpanId,
    parentSpanId: call.rootSpanId,
    service: "runner",
    operation: "call_router",
    startMs: call.callStart,
    durationMs: outcome.durationMs,
    status: outcome.status,
    errorMessage: outcome.errorMessage,
    metadata: outcome.httpStatus === undefined ? metadata : { ...metadata, http_status: outcome.httpStatus },
  });
}

/** The router's inference_request span, before it is written: its trace, parent, id and start. */
interface RouterRequest {
  traceId: string;
  parentSpanId: string | null;
  spanId: string;
  startMs: number;
}

/**
 * Where the router hop is written: the runner's trace when the trace header got through, else its own.
 * handoffMs is the network + FastAPI delay between the runner's call and the router's span.
 */
function openRouterRequest(
  w: DatasetWriter,
  plan: JobPlan,
  call: RunnerCall,
  handoffMs: readonly [number, number],
): RouterRequest {
  const shared = plan.continuity === "shared-trace";
  const traceId = shared ? call.traceId : w.routerTraceId();
  const spanId = w.spanId();
  return {
    traceId,
    parentSpanId: shared ? call.callSpanId : null,
    spanId,
    startMs: call.callStart + w.int(handoffMs[0], handoffMs[1]),
  };
}

function writeInferenceRequest(
  w: DatasetWriter,
  plan: JobPlan,
  jobId: string,
  request: RouterRequest,
  outcome: SpanOutcome,
): void {
  w.span({
    traceId: request.traceId,
    spanId: request.spanId,
    parentSpanId: request.parentSpanId,
    service: "router",
    operation: "inference_request",
    startMs: request.startMs,
    durationMs: outcome.durationMs,
    status: outcome.status,
    errorMessage: outcome.errorMessage,
    metadata: {
      job_id: jobId,
      model: plan.model,
      region: plan.region,
      provider_id: PROVIDER_BY_REGION[plan.region],
      has_prompt: true,
      // Only a router that had to start up says so.
      ...(plan.kind === "slow-handoff" ? { cold_start: true } : {}),
    },
  });
}

/** The router's first step, shortly after it picks the request up; returns when it ended. */
function writeSelectProvider(w: DatasetWriter, plan: JobPlan, request: RouterRequest, maxMs: number): number {
  const startMs = request.startMs + w.int(1, 3);
  const durationMs = w.int(2, maxMs);
  w.span({
    traceId: request.traceId,
    spanId: w.spanId(),
    parentSpanId: request.spanId,
    service: "router",
    operation: "select_provider",
    startMs,
    durationMs,
    status: "completed",
    metadata: { region: plan.region, provider_id: PROVIDER_BY_REGION[plan.region] },
  });
  return startMs + durationMs;
}

/** httpStatus is left out unless Modal answered with an error status. */
function writeRunInference(
  w: DatasetWriter,
  plan: JobPlan,
  request: RouterRequest,
  startMs: number,
  outcome: SpanOutcome & { durationMs: number; httpStatus?: number },
): void {
  const metadata = {
    provider_id: PROVIDER_BY_REGION[plan.region],
    model: plan.model,
    gpu: GPU_BY_MODEL[plan.model],
    cold_start: plan.coldStart,
  };
  w.span({
    traceId: request.traceId,
    spanId: w.spanId(),
    parentSpanId: request.spanId,
    service: "modal",
    operation: "run_inference",
    startMs,
    durationMs: outcome.durationMs,
    status: outcome.status,
    errorMessage: outcome.errorMessage,
    metadata: outcome.httpStatus === undefined ? metadata : { ...metadata, http_status: outcome.httpStatus },
  });
}

interface RouterHopResult {
  traceId: string;
  endMs: number;
}

/**
 * The router's side of one request: inference_request → select_provider, run_inference.
 * Written in the runner's trace when the trace header got through, else in a trace of the router's own.
 */
function writeRouterHop(
  w: DatasetWriter,
  plan: JobPlan,
  jobId: string,
  call: RunnerCall,
  outcome: "completed" | "timeout",
): RouterHopResult {
  // Seconds when the router is cold.
  const request = openRouterRequest(w, plan, call, plan.kind === "slow-handoff" ? COLD_HANDOFF_MS : HANDOFF_MS);
  const selectEnd = writeSelectProvider(w, plan, request, 8);

  const modalStart = selectEnd + w.int(3, 15);
  const [minInference, maxInference] = INFERENCE_MS_BY_MODEL[plan.model];
  const modalMs =
    outcome === "timeout"
      ? w.int(29990, 30010)
      : w.int(minInference, maxInference) + (plan.coldStart ? w.int(1000, 4000) : 0);
  writeRunInference(w, plan, request, modalStart, {
    durationMs: modalMs,
    status: outcome === "timeout" ? "timeout" : "completed",
    errorMessage: outcome === "timeout" ? "Function call timed out after 30s" : null,
  });

  const routerEnd = modalStart + modalMs + w.int(2, 10);
  writeInferenceRequest(w, plan, jobId, request, {
    durationMs: routerEnd - request.startMs,
    status: outcome === "timeout" ? "error" : "completed",
    errorMessage: outcome === "timeout" ? `provider ${PROVIDER_BY_REGION[plan.region]} timed out` : null,
  });
  return { traceId: request.traceId, endMs: routerEnd };
}

function writeSuccessfulJob(w: DatasetWriter, plan: JobPlan, jobId: string): WrittenJob {
  const call = openRunnerCall(w, plan);
  const hop = writeRouterHop(w, plan, jobId, call, "completed");
  const callEnd = hop.endMs + w.int(5, 30);
  writeCallRouter(w, jobId, call, { durationMs: callEnd - call.callStart, status: "completed", httpStatus: 200 });

  const storeStart = callEnd + w.int(1, 3);
  const storeMs = w.int(8, 25);
  w.span({
    traceId: call.traceId,
    spanId: w.spanId(),
    parentSpanId: call.rootSpanId,
    service: "runner",
    operation: "store_result",
    startMs: storeStart,
    durationMs: storeMs,
    status: "completed",
    metadata: { job_id: jobId, table: "executions" },
  });

  const rootEnd = storeStart + storeMs + w.int(1, 3);
  writeRunnerRoot(w, plan, jobId, call, { durationMs: rootEnd - plan.startMs, status: "completed" });
  return { jobId, runnerTraceId: call.traceId, routerTraceId: hop.traceId };
}

/**
 * The failure to explain: the runner's HTTP call fails in ~10 ms and the client error is swallowed
 * (no error_message); the router never records the request, so there is no router or modal span.
 */
function writeImmediateFailure(w: DatasetWriter, plan: JobPlan, jobId: string): WrittenJob {
  // Not openRunnerCall: this job draws its call's timing before the call's span id.
  const traceId = w.runnerTraceId();
  const rootSpanId = w.spanId();
  const rootMs = plan.rootDurationMs ?? 13;
  const callOffset = rootMs >= 14 ? w.int(1, 2) : 1;
  const callMs = w.int(9, Math.min(12, rootMs - callOffset - 1));
  const call: RunnerCall = { traceId, rootSpanId, callSpanId: w.spanId(), callStart: plan.startMs + callOffset };
  writeCallRouter(w, jobId, call, { durationMs: callMs, status: "failed", errorMessage: null });
  writeRunnerRoot(w, plan, jobId, call, { durationMs: rootMs, status: "failed", errorMessage: ERRORS.executionFailed });
  return { jobId, runnerTraceId: traceId, routerTraceId: null };
}

/** Contrast: the request reaches Modal, which times out at 30 s; every hop above it reports the failure. */
function writeProviderTimeout(w: DatasetWriter, plan: JobPlan, jobId: string): WrittenJob {
  const call = openRunnerCall(w, plan);
  const hop = writeRouterHop(w, plan, jobId, call, "timeout");
  const callEnd = hop.endMs + w.int(5, 20);
  writeCallRouter(w, jobId, call, {
    durationMs: callEnd - call.callStart,
    status: "failed",
    errorMessage: "router returned HTTP 504 Gateway Timeout",
    httpStatus: 504,
  });
  const rootEnd = callEnd + w.int(1, 3);
  writeRunnerRoot(w, plan, jobId, call, {
    durationMs: rootEnd - plan.startMs,
    status: "failed",
    errorMessage: ERRORS.executionFailed,
  });
  return { jobId, runnerTraceId: call.traceId, routerTraceId: hop.traceId };
}

/**
 * Contrast: the worker died while waiting for the router. The router and Modal finished their work,
 * but the runner's spans stay 'started' forever.
 */
function writeCrashedWorker(w: DatasetWriter, plan: JobPlan, jobId: string): WrittenJob {
  const call = openRunnerCall(w, plan);
  const hop = writeRouterHop(w, plan, jobId, call, "completed");
  writeCallRouter(w, jobId, call, { durationMs: null, status: "started" });
  writeRunnerRoot(w, plan, jobId, call, { durationMs: null, status: "started" });
  return { jobId, runnerTraceId: call.traceId, routerTraceId: hop.traceId };
}

/**
 * downstream_rejected: the router receives the request, picks the provider, and the provider refuses it
 * at once (401, invalid token). The router answers 502 and the runner fails in ~40–70 ms — fast, but
 * with a router span and a modal span as evidence that the request got through.
 */
function writeDownstreamRejected(w: DatasetWriter, plan: JobPlan, jobId: string): WrittenJob {
  const call = openRunnerCall(w, plan);
  // Tighter timings than writeRouterHop's, so the whole job fits in the 40–70 ms below.
  const request = openRouterRequest(w, plan, call, [5, 15]);
  const selectEnd = writeSelectProvider(w, plan, request, 6);

  const modalStart = selectEnd + w.int(2, 8);
  const modalMs = w.int(2, 6);
  writeRunInference(w, plan, request, modalStart, {
    durationMs: modalMs,
    status: "error",
    errorMessage: ERRORS.rejectedByProvider,
    httpStatus: 401,
  });

  // At most 23 ms have passed since the router's start, so 20–40 ms always leaves room for the error response.
  const routerMs = w.int(Math.max(20, modalStart + modalMs - request.startMs + 2), 40);
  writeInferenceRequest(w, plan, jobId, request, {
    durationMs: routerMs,
    status: "error",
    errorMessage: `${PROVIDER_BY_REGION[plan.region]}: 401 Unauthorized (invalid token)`,
  });

  const callEnd = request.startMs + routerMs + w.int(2, 8);
  writeCallRouter(w, jobId, call, {
    durationMs: callEnd - call.callStart,
    status: "failed",
    errorMessage: ERRORS.rejectedByRouter,
    httpStatus: 502,
  });
  // callEnd is at most 67 ms after the start, so the root fits in 40–70 ms.
  const rootMs = w.int(Math.max(40, callEnd - plan.startMs + 1), 70);
  writeRunnerRoot(w, plan, jobId, call, { durationMs: rootMs, status: "failed", errorMessage: ERRORS.rejectedByRouter });
  return { jobId, runnerTraceId: call.traceId, routerTraceId: request.traceId };
}

/**
 * lost_request: the router records the request, then dies before it does anything with it. Its span
 * stays 'started' (no completed_at, no duration, no select_provider, no modal span); the runner sees
 * the connection reset and fails after ~1.2–1.6 s.
 */
function writeLostRequest(w: DatasetWriter, plan: JobPlan, jobId: string): WrittenJob {
  const call = openRunnerCall(w, plan);
  const request = openRouterRequest(w, plan, call, HANDOFF_MS);
  writeInferenceRequest(w, plan, jobId, request, { durationMs: null, status: "started" });

  const rootMs = w.int(LOST_REQUEST_MS[0], LOST_REQUEST_MS[1]);
  const callEnd = plan.startMs + rootMs - w.int(1, 3);
  writeCallRouter(w, jobId, call, {
    durationMs: callEnd - call.callStart,
    status: "failed",
    errorMessage: ERRORS.connectionReset,
  });
  writeRunnerRoot(w, plan, jobId, call, { durationMs: rootMs, status: "failed", errorMessage: ERRORS.connectionReset });
  return { jobId, runnerTraceId: call.traceId, routerTraceId: request.traceId };
}

const WRITERS: Record<JobKind, (w: DatasetWriter, plan: JobPlan, jobId: string) => WrittenJob> = {
  success: writeSuccessfulJob,
  "immediate-failure": writeImmediateFailure,
  "provider-timeout": writeProviderTimeout,
  "crashed-worker": writeCrashedWorker,
  "downstream-rejected": writeDownstreamRejected,
  "lost-request": writeLostRequest,
  // A success in every span; only the router's hand-off is slow (see writeRouterHop).
  "slow-handoff": writeSuccessfulJob,
};

function writtenFor(written: Map<JobPlan, WrittenJob>, plan: JobPlan): WrittenJob {
  const job = written.get(plan);
  if (!job) throw new Error(`example job was not written: ${plan.kind}`);
  return job;
}

/** Rows ordered by started_at; spans that start in the same millisecond keep the order they were written in. */
function sortByStart(rows: DemoSpanRow[]): DemoSpanRow[] {
  return rows
    .map((row, index) => ({ row, index, startMs: Date.parse(row.started_at) }))
    .sort((a, b) => a.startMs - b.startMs || a.index - b.index)
    .map((entry) => entry.row);
}

export function generateDemoDataset(options: { seed?: number; now?: Date; jobs?: number } = {}): {
  rows: DemoSpanRow[];
  manifest: DemoManifest;
} {
  const now = options.now ?? new Date();
  const nowMs = now.getTime();
  const seed = options.seed ?? DEFAULT_SEED;
  const jobs = options.jobs ?? DEFAULT_JOBS;
  if (!Number.isFinite(nowMs)) throw new RangeError("now must be a valid date");
  if (!Number.isInteger(seed)) throw new RangeError("seed must be an integer");
  if (!Number.isInteger(jobs) || jobs < MIN_JOBS) throw new RangeError(`jobs must be an integer >= ${MIN_JOBS}`);

  const rng = mulberry32(seed);
  const plans = planJobs(rng, nowMs, jobs);
  const writer = new DatasetWriter(rng);
  const written = new Map<JobPlan, WrittenJob>();
  for (const plan of orderAndSeparateStarts(plans.all)) {
    written.set(plan, WRITERS[plan.kind](writer, plan, `bias-detection-${plan.startMs}`));
  }

  const failure = writtenFor(written, plans.firstImmediateFailure);
  const success = writtenFor(written, plans.lastGoodSuccess);
  const linked = writtenFor(written, plans.linkedSuccess);
  const timeout = writtenFor(written, plans.firstTimeout);
  const rejected = writtenFor(written, plans.firstDownstreamRejected);
  const lost = writtenFor(written, plans.firstLostRequest);
  const slow = writtenFor(written, plans.firstSlowHandoff);
  const rows = sortByStart(writer.rows);
  return {
    rows,
    manifest: {
      now: now.toISOString(),
      seed,
      jobs,
      spans: rows.length,
      examples: {
        immediateFailureJobId: failure.jobId,
        immediateFailureTraceId: failure.runnerTraceId,
        successJobId: success.jobId,
        successTraceId: success.runnerTraceId,
        linkedByJobIdJobId: linked.jobId,
        linkedByJobIdRunnerTraceId: linked.runnerTraceId,
        linkedByJobIdRouterTraceId: linked.routerTraceId ?? "",
        timeoutJobId: timeout.jobId,
        downstreamRejectedJobId: rejected.jobId,
        downstreamRejectedTraceId: rejected.runnerTraceId,
        lostRequestJobId: lost.jobId,
        lostRequestTraceId: lost.runnerTraceId,
        slowHandoffJobId: slow.jobId,
        slowHandoffTraceId: slow.runnerTraceId,
      },
    },
  };
}
