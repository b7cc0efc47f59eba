// list_failed_spans: what is failing in a window, grouped into clusters (service, operation, status,
// error signature) with duration shape, success rate and the metadata values that set the failures
// apart from successes — plus a keyset-paged list of the failing spans themselves.

import { createHash } from "node:crypto";
import { z } from "zod";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { contrastMetadata, durationShape, shapeSentence, type DurationShape } from "../analysis/failure-clusters.js";
import { renderFailureReport } from "../analysis/failure-report.js";
import { isoTime } from "../analysis/format.js";
import { parseWindow, type TimeWindow } from "../analysis/time-window.js";
import { FailureQueries, type FailureFilter, type FailureStatus, type PageCursor } from "../store/failure-queries.js";
import { validateMetadataKey } from "../store/span-sql.js";
import type { SpanTable } from "../store/span-table.js";
import { toolError, toolErrorFrom, toolResult } from "./result.js";

const CONTRASTED_CLUSTERS = 5;
const CONTRAST_SAMPLE = 2000;

export const listFailedSpansInput = z.object({
  since: z.string().max(40).optional().describe("Window start: ISO 8601, or a duration back from now (30m, 2h, 7d). Default 24h."),
  until: z.string().max(40).optional().describe("Window end: ISO 8601 or a duration back from now. Default now."),
  service: z.string().min(1).max(200).optional().describe("Only this service (exact), e.g. runner."),
  operation: z.string().min(1).max(200).optional().describe("Only this operation (exact), e.g. execute_question."),
  statuses: z
    .array(z.enum(["failed", "error", "timeout", "unfinished"]))
    .min(1)
    .optional()
    .describe("Which failures: failed, error, timeout, and unfinished (still 'started' long after it should have ended). Default all."),
  min_duration_ms: z.number().min(0).optional().describe("Only failures lasting at least this long."),
  max_duration_ms: z.number().min(0).optional().describe("Only failures lasting at most this long (e.g. 100 for immediate failures)."),
  metadata: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .describe('Metadata equality filters, any key: {"region": "US", "provider_id": "modal-us-east"}.'),
  trace_id: z.string().min(1).max(200).optional().describe("Only spans of this trace."),
  job_id: z.string().min(1).max(200).optional().describe("Only spans whose metadata carries this job id (the first correlation key)."),
  immediate_ms: z
    .number()
    .int()
    .min(1)
    .max(60_000)
    .optional()
    .describe("Below this a failure counts as 'immediate' (faster than a network round trip). Default from TRACE_DOCTOR_IMMEDIATE_MS (100)."),
  max_clusters: z.number().int().min(1).max(50).default(10).describe("Most clusters to return (1-50)."),
  limit: z.number().int().min(0).max(100).default(10).describe("Failing spans per page (0-100); 0 for clusters only."),
  cursor: z.string().max(1000).optional().describe("next_cursor from the previous answer, with the same filters, for the next page of spans."),
});

export type ListFailedSpansInput = z.infer<typeof listFailedSpansInput>;

const distinguishing = z.object({
  key: z.string(),
  value: z.string(),
  failure_share: z.number(),
  success_share: z.number(),
  failures: z.number(),
  successes: z.number(),
});

export const listFailedSpansOutput = z.object({
  window: z.object({ since: z.string(), until: z.string() }),
  filters: z.record(z.string(), z.unknown()),
  total_failures: z.number().optional().describe("On the first page only."),
  cluster_total: z.number().optional().describe("On the first page only."),
  clusters: z.array(
    z.object({
      service: z.string(),
      operation: z.string(),
      status: z.string(),
      error_signature: z.string(),
      example_error: z.string().optional(),
      count: z.number(),
      first_seen: z.string(),
      last_seen: z.string(),
      duration_ms: z.object({ min: z.number(), p50: z.number(), p95: z.number(), max: z.number() }).optional(),
      shape: z.enum(["immediate", "timeout-like", "spread", "unfinished", "unknown"]),
      shape_note: z.string(),
      operation_total: z.number().optional(),
      operation_failed: z.number().optional(),
      operation_success_rate: z.number().optional(),
      distinguishing: z.array(distinguishing).optional(),
      contrast_sample: z.object({ failures: z.number(), successes: z.number() }).optional(),
      example_trace_ids: z.array(z.string()),
      example_job_ids: z.array(z.string()),
    }),
  ),
  clusters_truncated: z.boolean(),
  spans: z.array(
    z.object({
      trace_id: z.string(),
      span_id: z.string(),
      service: z.string(),
      operation: z.string(),
      status: z.string(),
      started_at: z.string(),
      duration_ms: z.number().optional(),
      error: z.string().optional(),
      job_id: z.string().optional(),
    }),
  ),
  has_more: z.boolean(),
  next_cursor: z.string().optional(),
  page: z.enum(["first", "next"]),
  empty: z
    .object({ window_spans: z.number(), window_failures: z.number(), services_in_window: z.array(z.string()), suggestions: z.array(z.string()) })
    .optional(),
});

export type ListFailedSpansOutput = z.infer<typeof listFailedSpansOutput>;
export type FailureClusterOutput = ListFailedSpansOutput["clusters"][number];

export const listFailedSpansDescription = `List what is failing in a time window (default: the last 24 h), grouped into clusters by service, operation, status and error signature (ids and numbers masked).
Each cluster comes with its count, first/last seen, duration min/p50/p95/max and shape — "immediate" (faster than a network round trip: the request never left or was refused at once), "timeout-like" (piled up at one limit) or "spread" — the success rate of the same operation, and the metadata values that set the failures apart from successes (e.g. region=US in 100% of failures vs 30% of successes), with example trace and job ids.
Use it first when asked "what is failing?" or when you have no trace id yet; filter by service, operation, statuses, duration, metadata (any key, e.g. {"region":"US"}), trace_id or job_id. Also returns a page of the failing spans, newest first (limit, next_cursor).
Then call get_trace on an example trace to see one failure inside, and find_gaps to see which hops are missing or slow.`;

function filterFingerprint(input: ListFailedSpansInput, window: TimeWindow): string {
  const { cursor: _c, limit: _l, max_clusters: _m, ...rest } = input;
  return createHash("sha256").update(JSON.stringify([rest, window])).digest("base64url").slice(0, 16);
}

function encodeCursor(fingerprint: string, window: TimeWindow, at: PageCursor): string {
  return Buffer.from(JSON.stringify({ v: 1, f: fingerprint, w: [window.fromMs, window.toMs], k: at })).toString("base64url");
}

function decodeCursor(cursor: string): { f: string; w: [number, number]; k: PageCursor } | null {
  try {
    const c = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (c?.v !== 1 || typeof c.f !== "string" || !Array.isArray(c.w) || typeof c.k?.startedAt !== "string") return null;
    return c;
  } catch {
    return null;
  }
}

export interface ListFailedSpansOptions {
  immediateMs: number;
  unfinishedAfterMs: number;
  now?: () => number;
}

export async function listFailedSpans(spans: SpanTable, input: ListFailedSpansInput, options: ListFailedSpansOptions): Promise<CallToolResult> {
  const nowMs = (options.now ?? Date.now)();
  let window: TimeWindow;
  let after: PageCursor | null = null;
  try {
    window = parseWindow(input.since, input.until, nowMs);
    for (const key of Object.keys(input.metadata ?? {})) validateMetadataKey(key);
  } catch (err) {
    return toolError((err as Error).message);
  }
  if (input.min_duration_ms !== undefined && input.max_duration_ms !== undefined && input.min_duration_ms > input.max_duration_ms) {
    return toolError(`min_duration_ms (${input.min_duration_ms}) is greater than max_duration_ms (${input.max_duration_ms}): nothing can match.`);
  }
  if (input.cursor) {
    const c = decodeCursor(input.cursor);
    if (!c) return toolError("cursor is not one this tool issued: pass next_cursor from a previous answer unchanged, or omit it for the first page.");
    // A relative window would move between calls; the cursor pins the window of the first page.
    window = { fromMs: c.w[0], toMs: c.w[1] };
    if (c.f !== filterFingerprint(input, window)) {
      return toolError("cursor was issued for different filters: repeat the same filters as the first call (since, until, service, ...), or omit the cursor.");
    }
    after = c.k;
  }

  const filter: FailureFilter = {
    window,
    unfinishedBeforeMs: nowMs - options.unfinishedAfterMs,
    ...(input.service !== undefined && { service: input.service }),
    ...(input.operation !== undefined && { operation: input.operation }),
    ...(input.statuses && { statuses: input.statuses as FailureStatus[] }),
    ...(input.min_duration_ms !== undefined && { minDurationMs: input.min_duration_ms }),
    ...(input.max_duration_ms !== undefined && { maxDurationMs: input.max_duration_ms }),
    ...(input.metadata && { metadata: Object.fromEntries(Object.entries(input.metadata).map(([k, v]) => [k, String(v)])) }),
    ...(input.trace_id !== undefined && { traceId: input.trace_id }),
    ...(input.job_id !== undefined && { correlation: { key: spans.correlationKeys[0]!, value: input.job_id } }),
  };
  const immediateMs = input.immediate_ms ?? options.immediateMs;
  const correlationKey = spans.correlationKeys[0]!;
  const queries = new FailureQueries(spans);

  try {
    const first = after === null;
    const [clusterPage, page] = await Promise.all([
      first ? queries.clusters(filter, input.max_clusters, correlationKey, immediateMs) : Promise.resolve({ clusters: [], clusterTotal: 0, failureTotal: 0 }),
      input.limit > 0 ? queries.page(filter, input.limit, after) : Promise.resolve({ spans: [], hasMore: false }),
    ]);
    // The success rates and the contrasts depend only on the clusters: all of them at once.
    const contrasted = clusterPage.clusters.slice(0, CONTRASTED_CLUSTERS);
    const [counts, contrasts] = await Promise.all([
      queries.operationCounts(filter, uniqueOperations(clusterPage.clusters)),
      Promise.all(contrasted.map((c) => queries.valueCounts(filter, c, CONTRAST_SAMPLE, immediateMs))),
    ]);
    const clusters: FailureClusterOutput[] = clusterPage.clusters.map((c, i) => {
      const stats = { count: c.count, minMs: c.minMs, p05Ms: c.p05Ms, p50Ms: c.p50Ms, p95Ms: c.p95Ms, maxMs: c.maxMs };
      const shape: DurationShape = durationShape(stats, c.status, { immediateMs });
      const op = counts.find((o) => o.service === c.service && o.operation === c.operation);
      const v = contrasts[i];
      return {
        service: c.service,
        operation: c.operation,
        status: c.status,
        error_signature: c.signature,
        ...(c.exampleError ? { example_error: c.exampleError } : {}),
        count: c.count,
        first_seen: isoTime(c.firstMs),
        last_seen: isoTime(c.lastMs),
        ...(c.minMs !== null && { duration_ms: { min: round(c.minMs), p50: round(c.p50Ms!), p95: round(c.p95Ms!), max: round(c.maxMs!) } }),
        shape,
        shape_note: shapeSentence(shape, stats, { immediateMs }),
        ...(op && { operation_total: op.total, operation_failed: op.failed, operation_success_rate: op.total ? round(op.succeeded / op.total, 3) : 0 }),
        // The contrast costs one bounded query per cluster: done for the largest clusters only.
        ...(v && {
          distinguishing: contrastMetadata(v.failures, v.failureTotal, v.successes, v.successTotal),
          contrast_sample: { failures: v.failureTotal, successes: v.successTotal },
        }),
        example_trace_ids: c.exampleTraceIds,
        example_job_ids: c.exampleCorrelation,
      };
    });

    const lastSpan = page.spans[page.spans.length - 1];
    const output: ListFailedSpansOutput = {
      window: { since: isoTime(window.fromMs), until: isoTime(window.toMs) },
      filters: echoFilters(input),
      ...(first && { total_failures: clusterPage.failureTotal, cluster_total: clusterPage.clusterTotal }),
      clusters,
      clusters_truncated: first && clusterPage.clusterTotal > clusters.length,
      spans: page.spans.map((s) => ({
        trace_id: s.traceId,
        span_id: s.spanId,
        service: s.service,
        operation: s.operation,
        status: s.status === "started" ? "unfinished" : s.status,
        started_at: isoTime(s.startMs),
        ...(s.durationMs !== null && { duration_ms: round(s.durationMs) }),
        ...(s.errorMessage && { error: s.errorMessage.slice(0, 500) }),
        ...(s.metadata[correlationKey] != null && { job_id: String(s.metadata[correlationKey]) }),
      })),
      has_more: page.hasMore,
      ...(page.hasMore && lastSpan && { next_cursor: encodeCursor(filterFingerprint(input, window), window, lastSpan.cursor) }),
      page: first ? "first" : "next",
    };
    if (first && clusterPage.failureTotal === 0) {
      const summary = await queries.windowSummary(filter);
      output.empty = {
        window_spans: summary.spans,
        window_failures: summary.failing,
        services_in_window: summary.services,
        suggestions: suggestions(input, summary),
      };
    }
    return toolResult(output, renderFailureReport(output, { immediateMs }));
  } catch (err) {
    return toolErrorFrom(err);
  }
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function uniqueOperations(clusters: Array<{ service: string; operation: string }>) {
  const seen = new Map<string, { service: string; operation: string }>();
  for (const c of clusters) seen.set(`${c.service}\u0000${c.operation}`, { service: c.service, operation: c.operation });
  return [...seen.values()];
}

function echoFilters(input: ListFailedSpansInput): Record<string, unknown> {
  const { cursor: _c, limit: _l, max_clusters: _m, ...rest } = input;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

function suggestions(input: ListFailedSpansInput, summary: { spans: number; failing: number; services: string[] }): string[] {
  const out: string[] = [];
  if (summary.spans === 0) out.push("The window holds no spans at all: widen it (since=7d) or check the table and clock.");
  else if (summary.failing > 0) out.push(`The window has ${summary.failing} failing span(s) without your filters: drop or loosen filters.`);
  else out.push("Nothing failed in this window: widen it (since=7d), or include unfinished spans.");
  if (input.service && !summary.services.includes(input.service)) {
    out.push(`No service named ${JSON.stringify(input.service)} wrote spans in the window; services seen: ${summary.services.join(", ") || "none"}.`);
  }
  return out;
}
