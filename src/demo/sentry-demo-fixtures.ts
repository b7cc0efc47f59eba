// What the user's Sentry would hold for the demo span rows, built deterministically from them: one
// runner issue per distinct error of the failed runner.execute_question spans (Sentry groups by the
// captured error), with one event per such span, and a small unrelated database-insert issue on two
// successful jobs. Shapes follow the Sentry REST API.
//
// As in reality, each event's contexts.trace.trace_id is the Go SDK's own trace id: it never equals the
// trace_id the runner wrote to trace_spans, so events link to spans only by job_id and time.

import { mulberry32, type Rng } from "./seeded-random.js";
import type { DemoSpanRow } from "./demo-dataset.js";
import { sentryStatsHistogram, type SentryFixtureIssue, type SentryFixtures } from "./sentry-api-server.js";

const DEFAULT_ORG = "project-beacon";
const DEFAULT_SEED = 4711;
const HOUR_MS = 3_600_000;

const PROJECT = { id: "3", name: "runner", slug: "runner", platform: "go" };
const ENVIRONMENT = "fly-lhr";
const RELEASE = "runner@dev";
const SERVER_NAME = "runner-fly-lhr-1";
const GO_VERSION = "go1.22.1";
const SDK = { name: "sentry.go", version: "0.29.0" };
const MODULE = "github.com/project-beacon/runner-app/internal/worker";
const SOURCE_FILE = "internal/worker/job_runner.go";
const GROUPING_CONFIG = { id: "newstyle:2023-01-11", enhancements: "KLUv_SAYwQAAkwKRs25ld3N0eWxlOjIwMjMtMDEtMTGQ" };

interface IssueSpec {
  id: string;
  shortId: string;
  title: string;
  culprit: string;
  metadata: { type: string; value: string; filename: string; function: string; in_app_frame_mix: string };
  priority: string;
}

/** The runner's generic error: what a failed runner span without an error message is grouped under too. */
const EXECUTION_FAILED = "execution failed";
const EXECUTION_CULPRIT = "worker.(*JobRunner).executeQuestion";

function executionIssueMetadata(value: string): IssueSpec["metadata"] {
  return { type: "*errors.errorString", value, filename: SOURCE_FILE, function: "(*JobRunner).executeQuestion", in_app_frame_mix: "mixed" };
}

const EXECUTION_ISSUE: IssueSpec = {
  id: "4711",
  shortId: "RUNNER-1A",
  title: "Execution failed",
  culprit: EXECUTION_CULPRIT,
  metadata: executionIssueMetadata(EXECUTION_FAILED),
  priority: "high",
};

/** Sentry numbers short ids in base 36: RUNNER-1A is 46; 1B (47) is the database issue. */
const FIRST_OTHER_EXECUTION_ISSUE = { id: 4713, shortIdNumber: 48 };

/** The issue of the `index`-th other error message of failed runner spans: 4713 / RUNNER-1C, 4714 / RUNNER-1D, … */
function otherExecutionIssue(index: number, message: string): IssueSpec {
  return {
    id: String(FIRST_OTHER_EXECUTION_ISSUE.id + index),
    shortId: `RUNNER-${(FIRST_OTHER_EXECUTION_ISSUE.shortIdNumber + index).toString(36).toUpperCase()}`,
    title: message,
    culprit: EXECUTION_CULPRIT,
    metadata: executionIssueMetadata(message),
    priority: "high",
  };
}

const DB_ERROR_VALUE = 'pq: duplicate key value violates unique constraint "executions_pkey"';
const DATABASE_ISSUE: IssueSpec = {
  id: "4712",
  shortId: "RUNNER-1B",
  title: DB_ERROR_VALUE,
  culprit: "worker.(*JobRunner).insertExecution",
  metadata: {
    type: "*pq.Error",
    value: DB_ERROR_VALUE,
    filename: SOURCE_FILE,
    function: "(*JobRunner).insertExecution",
    in_app_frame_mix: "mixed",
  },
  priority: "medium",
};



/** FNV-1a over a string: folds the rows into the seed, so other datasets get other ids. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

class Ids {
  private readonly used = new Set<string>();

  constructor(
    private readonly rng: Rng,
    reserved: Iterable<string>,
  ) {
    for (const id of reserved) this.used.add(id.toLowerCase());
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.rng() * (max - min + 1));
  }

  hex(length: number): string {
    let id = "";
    do {
      id = "";
      while (id.length < length) id += Math.floor(this.rng() * 0x100000000).toString(16).padStart(8, "0");
      id = id.slice(0, length);
    } while (this.used.has(id));
    this.used.add(id);
    return id;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const str = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : "");

function endMs(row: DemoSpanRow): number {
  return Date.parse(row.completed_at ?? row.started_at);
}

type Frame = Record<string, unknown>;

function frame(input: {
  fn: string;
  module: string;
  filename: string;
  absPath: string;
  lineNo: number;
  inApp: boolean;
  context: Array<[number, string]>;
}): Frame {
  return {
    filename: input.filename,
    absPath: input.absPath,
    module: input.module,
    package: null,
    platform: null,
    instructionAddr: null,
    symbolAddr: null,
    function: input.fn,
    rawFunction: null,
    symbol: null,
    context: input.context,
    lineNo: input.lineNo,
    colNo: null,
    inApp: input.inApp,
    trust: null,
    errors: null,
    lock: null,
    sourceLink: null,
    vars: null,
  };
}

/** `lines` numbered from `first`. */
function numbered(first: number, lines: string[]): Array<[number, string]> {
  return lines.map((line, i) => [first + i, line]);
}

const GOEXIT_FRAME = frame({
  fn: "runtime.goexit",
  module: "runtime",
  filename: "runtime/asm_amd64.s",
  absPath: "/usr/local/go/src/runtime/asm_amd64.s",
  lineNo: 1695,
  inApp: false,
  context: [],
});

const RUN_FRAME = frame({
  fn: "worker.(*JobRunner).Run",
  module: MODULE,
  filename: SOURCE_FILE,
  absPath: `/app/${SOURCE_FILE}`,
  lineNo: 88,
  inApp: true,
  context: numbered(83, [
    "\tfor _, q := range job.Questions {",
    "\t\tif ctx.Err() != nil {",
    "\t\t\treturn ctx.Err()",
    "\t\t}",
    "\t\tstart := time.Now()",
    "\t\tif err := r.executeQuestion(ctx, job, q, start); err != nil {",
    "\t\t\tfailed++",
    "\t\t\tcontinue",
    "\t\t}",
    "\t\tsucceeded++",
    "\t}",
  ]),
});

const EXECUTE_FRAME = frame({
  fn: "worker.(*JobRunner).executeQuestion",
  module: MODULE,
  filename: SOURCE_FILE,
  absPath: `/app/${SOURCE_FILE}`,
  lineNo: 241,
  inApp: true,
  context: numbered(236, [
    '\t\t\t"has_receipt":  receiptJSON != nil,',
    "\t\t})",
    '\t\tscope.SetTag("execution_region", region)',
    '\t\tscope.SetTag("execution_model", modelID)',
    '\t\tscope.SetTag("execution_provider", providerID)',
    "\t\tsentry.CaptureException(err)",
    "\t})",
    "\tsentrySpan.Status = sentry.SpanStatusInternalError",
    "\treturn err",
    "}",
    "",
  ]),
});

const EXECUTE_CALLS_INSERT_FRAME = frame({
  fn: "worker.(*JobRunner).executeQuestion",
  module: MODULE,
  filename: SOURCE_FILE,
  absPath: `/app/${SOURCE_FILE}`,
  lineNo: 268,
  inApp: true,
  context: numbered(263, [
    '\t\tCategory: "execution",',
    '\t\tMessage:  "Execution completed successfully",',
    "\t\tLevel:    sentry.LevelInfo,",
    "\t})",
    "\tsentrySpan.Status = sentry.SpanStatusOK",
    "\treturn r.insertExecution(ctx, spec, providerID, region, outputJSON, receiptJSON)",
    "}",
    "",
    "func (r *JobRunner) insertExecution(ctx context.Context, spec *models.JobSpec, providerID, region string, outputJSON, receiptJSON []byte) error {",
    "\t_, insErr := r.db.ExecContext(ctx, insertExecutionSQL, spec.ID, providerID, region, outputJSON, receiptJSON)",
    "\tif insErr == nil {",
  ]),
});

const INSERT_FRAME = frame({
  fn: "worker.(*JobRunner).insertExecution",
  module: MODULE,
  filename: SOURCE_FILE,
  absPath: `/app/${SOURCE_FILE}`,
  lineNo: 285,
  inApp: true,
  context: numbered(280, [
    '\t\t\t"provider_id": providerID,',
    '\t\t\t"region":      region,',
    "\t\t})",
    '\t\tscope.SetTag("error_type", "database_insert")',
    '\t\tscope.SetTag("job_id", spec.ID)',
    "\t\tsentry.CaptureException(insErr)",
    "\t})",
    "\treturn insErr",
    "}",
    "",
    "// executionStatus maps an executor result onto the executions.status column.",
  ]),
});

function exceptionEntry(type: string, value: string, frames: Frame[]): Record<string, unknown> {
  return {
    type: "exception",
    data: {
      values: [
        {
          type,
          value,
          module: null,
          mechanism: { type: "generic", handled: true },
          stacktrace: { frames, framesOmitted: null, registers: null, hasSystemFrames: true },
          threadId: null,
          rawStacktrace: null,
        },
      ],
      hasSystemFrames: true,
      excOmitted: null,
    },
  };
}

function breadcrumb(atMs: number, message: string, data: Record<string, unknown>): Record<string, unknown> {
  return { timestamp: iso(atMs), type: "default", category: "execution", level: "info", message, data, event_id: null };
}

function sortedTags(tags: Record<string, string | undefined>): Array<{ key: string; value: string }> {
  return Object.entries(tags)
    .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));
}

function commonTags(): Record<string, string> {
  return {
    environment: ENVIRONMENT,
    level: "error",
    release: RELEASE,
    handled: "yes",
    mechanism: "generic",
    "os.name": "linux",
    runtime: `go ${GO_VERSION}`,
    "runtime.name": "go",
    server_name: SERVER_NAME,
  };
}

function baseContexts(ids: Ids, traceStatus: string): Record<string, unknown> {
  return {
    trace: { trace_id: ids.hex(32), span_id: ids.hex(16), op: "execute_question", status: traceStatus, type: "trace" },
    runtime: { name: "go", version: GO_VERSION, type: "runtime" },
    os: { name: "linux", type: "os" },
    device: { arch: "amd64", num_cpu: 2, type: "device" },
  };
}

interface EventInput {
  ids: Ids;
  issue: IssueSpec;
  fingerprint: string;
  atMs: number;
  tags: Record<string, string | undefined>;
  contexts: Record<string, unknown>;
  frames: Frame[];
  breadcrumbs: Array<Record<string, unknown>>;
}

function makeEvent(input: EventInput): Record<string, unknown> {
  const id = input.ids.hex(32);
  return {
    id,
    eventID: id,
    groupID: input.issue.id,
    projectID: PROJECT.id,
    title: input.issue.title,
    message: "",
    platform: "go",
    type: "error",
    dateCreated: iso(input.atMs),
    dateReceived: iso(input.atMs + input.ids.int(80, 600)),
    culprit: input.issue.culprit,
    location: null,
    dist: null,
    size: input.ids.int(5200, 6400),
    errors: [],
    tags: sortedTags(input.tags),
    contexts: input.contexts,
    entries: [
      exceptionEntry(input.issue.metadata.type, input.issue.metadata.value, input.frames),
      { type: "breadcrumbs", data: { values: input.breadcrumbs } },
    ],
    sdk: SDK,
    user: null,
    release: { version: RELEASE },
    metadata: { type: input.issue.metadata.type, value: input.issue.metadata.value },
    fingerprints: [input.fingerprint],
    groupingConfig: GROUPING_CONFIG,
    previousEventID: null,
    nextEventID: null,
    userReport: null,
    crashFile: null,
    resolvedWith: [],
    _meta: {},
  };
}

/** Link each event to its neighbours; `events` is newest first. */
function linkNeighbours(events: Array<Record<string, unknown>>): void {
  events.forEach((event, i) => {
    event["previousEventID"] = events[i + 1]?.["eventID"] ?? null;
    event["nextEventID"] = events[i - 1]?.["eventID"] ?? null;
  });
}

function makeIssue(
  org: string,
  spec: IssueSpec,
  events: Array<Record<string, unknown>>,
  statsEndMs: number,
): Record<string, unknown> {
  const times = events.map((e) => Date.parse(str(e["dateCreated"])));
  const first = times.length > 0 ? Math.min(...times) : statsEndMs;
  const last = times.length > 0 ? Math.max(...times) : statsEndMs;
  return {
    id: spec.id,
    shareId: null,
    shortId: spec.shortId,
    title: spec.title,
    culprit: spec.culprit,
    permalink: `https://${org}.sentry.io/issues/${spec.id}/`,
    logger: null,
    level: "error",
    status: "unresolved",
    statusDetails: {},
    substatus: "ongoing",
    isPublic: false,
    platform: "go",
    priority: spec.priority,
    priorityLockedAt: null,
    project: { ...PROJECT },
    type: "error",
    issueType: "error",
    issueCategory: "error",
    metadata: spec.metadata,
    numComments: 0,
    assignedTo: null,
    isBookmarked: false,
    isSubscribed: false,
    subscriptionDetails: null,
    hasSeen: false,
    annotations: [],
    isUnhandled: false,
    count: String(events.length),
    userCount: 0,
    firstSeen: iso(first),
    lastSeen: iso(last),
    stats: { "24h": sentryStatsHistogram(times, statsEndMs, 24, HOUR_MS) },
  };
}

function isOp(row: DemoSpanRow, service: string, operation: string): boolean {
  return row.service === service && row.operation === operation;
}

/** Newest first, ties broken by span id, so the order never depends on the input order. */
function newestFirst(a: DemoSpanRow, b: DemoSpanRow): number {
  return endMs(b) - endMs(a) || (a.span_id < b.span_id ? -1 : a.span_id > b.span_id ? 1 : 0);
}

/** The error the runner captured for a failed span: its error message, or the generic one without. */
function capturedError(row: DemoSpanRow): string {
  return row.error_message || EXECUTION_FAILED;
}

function executionEvent(ids: Ids, row: DemoSpanRow, issue: IssueSpec, fingerprint: string): Record<string, unknown> {
  const m = row.metadata;
  const jobId = str(m["job_id"]);
  const region = str(m["region"]);
  const model = str(m["model"]);
  const providerId = str(m["provider_id"]);
  const startMs = Date.parse(row.started_at);
  const atMs = endMs(row);
  const durationMs = row.duration_ms ?? Math.max(0, atMs - startMs);
  return makeEvent({
    ids,
    issue,
    fingerprint,
    atMs,
    tags: {
      ...commonTags(),
      execution_region: region,
      execution_model: model,
      execution_provider: providerId,
      job_id: jobId,
    },
    contexts: {
      execution: {
        job_id: jobId,
        region,
        model_id: model,
        question_id: str(m["question_id"]),
        provider_id: providerId,
        status: "failed",
        duration_ms: durationMs,
        has_output: false,
        has_receipt: false,
        type: "default",
      },
      ...baseContexts(ids, "internal_error"),
    },
    frames: [GOEXIT_FRAME, RUN_FRAME, EXECUTE_FRAME],
    breadcrumbs: [
      breadcrumb(startMs, "Starting question execution", { job_id: jobId, region }),
      breadcrumb(startMs + Math.min(1, durationMs), "Calling executor", { executor_type: "*worker.HybridExecutor", region }),
      breadcrumb(startMs + durationMs, "Executor returned", { provider_id: providerId, status: "failed", duration_ms: durationMs, has_error: true }),
    ],
  });
}

function databaseEvent(
  ids: Ids,
  root: DemoSpanRow,
  store: DemoSpanRow,
  call: DemoSpanRow | undefined,
  fingerprint: string,
): Record<string, unknown> {
  const m = root.metadata;
  const jobId = str(m["job_id"]);
  const region = str(m["region"]);
  const providerId = str(m["provider_id"]);
  const startMs = Date.parse(root.started_at);
  const storeStartMs = Date.parse(store.started_at);
  const executorDoneMs = call ? endMs(call) : storeStartMs;
  const executorMs = Math.max(0, executorDoneMs - startMs);
  return makeEvent({
    ids,
    issue: DATABASE_ISSUE,
    fingerprint,
    atMs: endMs(store),
    tags: { ...commonTags(), error_type: "database_insert", job_id: jobId },
    contexts: {
      database: { operation: "insert_execution", job_id: jobId, provider_id: providerId, region, type: "default" },
      ...baseContexts(ids, "ok"),
    },
    frames: [GOEXIT_FRAME, RUN_FRAME, EXECUTE_CALLS_INSERT_FRAME, INSERT_FRAME],
    breadcrumbs: [
      breadcrumb(startMs, "Starting question execution", { job_id: jobId, region }),
      breadcrumb(startMs + 1, "Calling executor", { executor_type: "*worker.HybridExecutor", region }),
      breadcrumb(executorDoneMs, "Executor returned", { provider_id: providerId, status: "completed", duration_ms: executorMs, has_error: false }),
      breadcrumb(storeStartMs, "Execution completed successfully", { job_id: jobId }),
    ],
  });
}

/**
 * Sentry's 'recommended' event is the most helpful one, not necessarily the newest: here, the newest
 * event with the most common duration (13 ms for issue 4711 in the demo data, as in the user's notes).
 * Omitted when that is the latest event anyway.
 */
function recommended(events: Array<Record<string, unknown>>): { recommendedEventId?: string } {
  const durationOf = (e: Record<string, unknown>): unknown =>
    ((e["contexts"] as Record<string, Record<string, unknown>>)["execution"] ?? {})["duration_ms"];
  const counts = new Map<unknown, number>();
  for (const e of events) counts.set(durationOf(e), (counts.get(durationOf(e)) ?? 0) + 1);
  let mode: unknown;
  let best = 0;
  for (const [duration, n] of counts) {
    if (n > best) [mode, best] = [duration, n];
  }
  const pick = events.find((e) => durationOf(e) === mode);
  return pick && pick !== events[0] ? { recommendedEventId: str(pick["eventID"]) } : {};
}

/**
 * The Sentry fixtures for a demo dataset: deterministic for the same rows, org and seed.
 * Failed runner.execute_question spans are grouped by error message, one event per span:
 * issue 4711 "Execution failed" (RUNNER-1A) holds those failing with "execution failed" (or no message);
 * each other message gets an issue titled with it, 4713 / RUNNER-1C, 4714 / RUNNER-1D, … in the order
 * the messages first occur.
 * Issue 4712 (RUNNER-1B), a duplicate-key insert error on two successful jobs, at their store_result spans.
 */
export function demoSentryFixtures(rows: DemoSpanRow[], options: { org?: string; seed?: number } = {}): SentryFixtures {
  const org = options.org ?? DEFAULT_ORG;
  const failedRoots = rows
    .filter((r) => isOp(r, "runner", "execute_question") && r.status.toLowerCase() === "failed")
    .sort(newestFirst);
  const seed = ((options.seed ?? DEFAULT_SEED) ^ fnv1a(failedRoots.map((r) => r.span_id).join(","))) >>> 0;
  const rng = mulberry32(seed);
  // Row ids are reserved so no Sentry id (above all no Sentry trace id) can equal one of them.
  const ids = new Ids(rng, rows.flatMap((r) => [r.trace_id, r.span_id]));

  const latestRowMs = rows.reduce((max, r) => Math.max(max, endMs(r)), 0);
  const statsEndMs = Math.floor(latestRowMs / HOUR_MS) * HOUR_MS + HOUR_MS;

  // One issue per captured error; the other messages numbered by first occurrence (oldest event first).
  const otherIssues = new Map<string, IssueSpec>();
  for (const row of [...failedRoots].reverse()) {
    const message = capturedError(row);
    if (message !== EXECUTION_FAILED && !otherIssues.has(message)) {
      otherIssues.set(message, otherExecutionIssue(otherIssues.size, message));
    }
  }
  const issueOf = (row: DemoSpanRow): IssueSpec => otherIssues.get(capturedError(row)) ?? EXECUTION_ISSUE;

  // Events are made newest first across all runner issues and the other issues' fingerprints are drawn
  // last (below), so the ids drawn for an event do not depend on how the spans are grouped.
  const executionFingerprint = ids.hex(32);
  const executionEvents = new Map<IssueSpec, Array<Record<string, unknown>>>([[EXECUTION_ISSUE, []]]);
  for (const spec of otherIssues.values()) executionEvents.set(spec, []);
  for (const row of failedRoots) {
    const issue = issueOf(row);
    executionEvents.get(issue)!.push(executionEvent(ids, row, issue, executionFingerprint));
  }
  for (const events of executionEvents.values()) linkNeighbours(events);

  // Two successful jobs that reached store_result, picked by the seeded generator.
  const storeByJob = new Map<string, DemoSpanRow>();
  const callByTrace = new Map<string, DemoSpanRow>();
  for (const r of rows) {
    if (isOp(r, "runner", "store_result") && r.status.toLowerCase() === "completed") storeByJob.set(str(r.metadata["job_id"]), r);
    if (isOp(r, "runner", "call_router")) callByTrace.set(`${r.trace_id}/${r.parent_span_id ?? ""}`, r);
  }
  const candidates = rows
    .filter((r) => isOp(r, "runner", "execute_question") && r.status.toLowerCase() === "completed" && storeByJob.has(str(r.metadata["job_id"])))
    .sort((a, b) => Date.parse(a.started_at) - Date.parse(b.started_at) || (a.span_id < b.span_id ? -1 : 1));
  const databaseFingerprint = ids.hex(32);
  const chosen: DemoSpanRow[] = [];
  while (chosen.length < 2 && chosen.length < candidates.length) {
    const pick = candidates[ids.int(0, candidates.length - 1)];
    if (pick && !chosen.includes(pick)) chosen.push(pick);
  }
  const databaseEvents = chosen
    .map((root) => {
      const store = storeByJob.get(str(root.metadata["job_id"])) as DemoSpanRow;
      return databaseEvent(ids, root, store, callByTrace.get(`${root.trace_id}/${root.span_id}`), databaseFingerprint);
    })
    .sort((a, b) => Date.parse(str(b["dateCreated"])) - Date.parse(str(a["dateCreated"])));
  linkNeighbours(databaseEvents);

  for (const spec of otherIssues.values()) {
    const fingerprint = ids.hex(32);
    for (const event of executionEvents.get(spec)!) event["fingerprints"] = [fingerprint];
  }

  const executionEntry = (spec: IssueSpec): SentryFixtureIssue => {
    const events = executionEvents.get(spec)!;
    return { issue: makeIssue(org, spec, events, statsEndMs), events, ...recommended(events) };
  };
  const issues: SentryFixtureIssue[] = [executionEntry(EXECUTION_ISSUE)];
  if (databaseEvents.length > 0) {
    issues.push({ issue: makeIssue(org, DATABASE_ISSUE, databaseEvents, statsEndMs), events: databaseEvents });
  }
  for (const spec of otherIssues.values()) issues.push(executionEntry(spec));
  return { org, issues };
}
