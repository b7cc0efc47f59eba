// list_failed_spans: what is failing in a window, grouped into clusters (service, operation, status,
// error signature) with duration shape, success rate and the metadata values that set the failures
// apart from successes — plus a keyset-paged list of the failing spans themselves.

import { createHash } from "node:crypto";
import { z } from "zod";
import { IMMEDIATE_MS } from "../analysis/defaults.js";
import { failureReportSchema, renderFailureReport, type FailureReport } from "../analysis/failure-report.js";
import { isoTime, round } from "../analysis/format.js";
import { parseWindow, type TimeWindow } from "../analysis/time-window.js";
import { InputError } from "../errors.js";
import { describeClusters, prefetchClusterContext } from "../investigation/failure-clusters.js";
import { FailureQueries, type FailureFilter, type FailureStatus, type PageCursor } from "../store/failure-queries.js";
import { ChangeQueries } from "../store/change-queries.js";
import { validateMetadataKey } from "../store/span-columns.js";
import { defineTool, READ_ONLY } from "./tool-definition.js";

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
    .describe(`Below this a failure counts as 'immediate' (faster than a network round trip). Default from TRACE_DOCTOR_IMMEDIATE_MS (${IMMEDIATE_MS}).`),
  max_clusters: z.number().int().min(1).max(50).default(10).describe("Most clusters to return (1-50)."),
  limit: z.number().int().min(0).max(100).default(10).describe("Failing spans per page (0-100); 0 for clusters only."),
  cursor: z.string().max(1000).optional().describe("next_cursor from the previous answer, with the same filters, for the next page of spans."),
});

export type ListFailedSpansInput = z.infer<typeof listFailedSpansInput>;

const description = `List what is failing in a time window (default: the last 24 h), grouped into clusters by service, operation, status and error signature (ids and numbers masked).
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

export default defineTool({
  name: "list_failed_spans",
  title: "List failed spans",
  description,
  annotations: READ_ONLY,
  inputSchema: listFailedSpansInput,
  outputSchema: failureReportSchema,
  async handler(ctx, input) {
    const nowMs = ctx.now();
    let window = parseWindow(input.since, input.until, nowMs);
    let after: PageCursor | null = null;
    for (const key of Object.keys(input.metadata ?? {})) validateMetadataKey(key);
    if (input.min_duration_ms !== undefined && input.max_duration_ms !== undefined && input.min_duration_ms > input.max_duration_ms) {
      throw new InputError(`min_duration_ms (${input.min_duration_ms}) is greater than max_duration_ms (${input.max_duration_ms}): nothing can match.`);
    }
    if (input.cursor) {
      const c = decodeCursor(input.cursor);
      if (!c) throw new InputError("cursor is not one this tool issued: pass next_cursor from a previous answer unchanged, or omit it for the first page.");
      // A relative window would move between calls; the cursor pins the window of the first page.
      window = { fromMs: c.w[0], toMs: c.w[1] };
      if (c.f !== filterFingerprint(input, window)) {
        throw new InputError("cursor was issued for different filters: repeat the same filters as the first call (since, until, service, ...), or omit the cursor.");
      }
      after = c.k;
    }

    const correlationKey = ctx.spans.correlationKeys[0]!;
    const filter: FailureFilter = {
      window,
      unfinishedBeforeMs: nowMs - ctx.settings.unfinishedAfterMs,
      ...(input.service !== undefined && { service: input.service }),
      ...(input.operation !== undefined && { operation: input.operation }),
      ...(input.statuses && { statuses: input.statuses as FailureStatus[] }),
      ...(input.min_duration_ms !== undefined && { minDurationMs: input.min_duration_ms }),
      ...(input.max_duration_ms !== undefined && { maxDurationMs: input.max_duration_ms }),
      ...(input.metadata && { metadata: Object.fromEntries(Object.entries(input.metadata).map(([k, v]) => [k, String(v)])) }),
      ...(input.trace_id !== undefined && { traceId: input.trace_id }),
      ...(input.job_id !== undefined && { correlation: { key: correlationKey, value: input.job_id } }),
    };
    const immediateMs = input.immediate_ms ?? ctx.settings.immediateMs;
    const queries = new FailureQueries(ctx.spans);

    const first = after === null;
    const spare = ctx.spans.idleConnections();
    const clustered = first ? queries.clusters(filter, input.max_clusters, correlationKey, immediateMs) : Promise.resolve({ clusters: [], clusterTotal: 0, failureTotal: 0 });
    const paged = input.limit > 0 ? queries.page(filter, input.limit, after) : Promise.resolve({ spans: [], hasMore: false });
    // Started after the two above, so they take the first connections.
    const prefetched = first ? prefetchClusterContext(queries, filter, spare, input.max_clusters, immediateMs) : undefined;
    const { clusterPage, page, clusters } = await Promise.all([clustered, paged])
      .then(async ([clusterPage, page]) => ({ clusterPage, page, clusters: await describeClusters(queries, filter, clusterPage.clusters, immediateMs, new ChangeQueries(ctx.spans), prefetched) }))
      // What the guess read ahead and the answer did not need stops here, answer or error.
      .finally(() => prefetched?.stop());

    const lastSpan = page.spans[page.spans.length - 1];
    const output: FailureReport = {
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
        ...(summary.capped && { window_counts_capped: true }),
        services_in_window: summary.services,
        suggestions: suggestions(input, summary),
      };
    }
    return output;
  },
  render: (output, input, ctx) => renderFailureReport(output, { immediateMs: input.immediate_ms ?? ctx.settings.immediateMs }),
});

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
