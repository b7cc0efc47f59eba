// The span as the analysis core sees it: one row of trace_spans, normalised by the store.
// Times are epoch milliseconds so the core never parses dates or cares about time zones.

import { round } from "./format.js";

export interface Span {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  service: string;
  operation: string;
  /** Epoch ms. */
  startMs: number;
  /** Epoch ms; null while running or if the span never finished. */
  endMs: number | null;
  /** As stored, or derived from completed_at; null when neither is known. */
  durationMs: number | null;
  /** Lower-cased status as stored: started, completed, failed, error, timeout, or anything else. */
  status: string;
  errorMessage: string | null;
  metadata: Record<string, unknown>;
  /** Set when the stored metadata was not a JSON object (an array, string, number, null, or not JSON): read as {}. */
  metadataNotObject?: boolean;
}

/** "service.operation": the one name of a hop, as baselines and answers key it (formatHop quotes it for text). */
export function hopName(service: string, operation: string): string {
  return `${service}.${operation}`;
}

const FAILURE_STATUSES = new Set(["failed", "error", "timeout"]);

/** Failure as the product defines it: failed, error or timeout, in any case. */
export function isFailureStatus(status: string): boolean {
  return FAILURE_STATUSES.has(status.toLowerCase());
}

/** A span that was started but never marked finished. */
export function isUnfinished(span: Span): boolean {
  return span.status.toLowerCase() === "started" && knownEndMs(span) === null;
}

/** The end as stored: completed_at, or start plus duration; null when neither is known. */
function recordedEndMs(span: Span): number | null {
  if (span.endMs !== null) return span.endMs;
  if (span.durationMs !== null) return span.startMs + span.durationMs;
  return null;
}

/** A span whose recorded end is before its start (clocks or writes disagree): flagged, its end not trusted. */
export function endsBeforeStart(span: Span): boolean {
  const end = recordedEndMs(span);
  return end !== null && end < span.startMs;
}

/** The end of a span when it is known and not before its start. */
export function knownEndMs(span: Span): number | null {
  const end = recordedEndMs(span);
  return end !== null && end >= span.startMs ? end : null;
}

/** A span as plain JSON for an answer: ISO start, derived duration, no nulls, 'unfinished' when it is. */
export interface SpanRecord {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  service: string;
  operation: string;
  status: string;
  started_at: string;
  duration_ms?: number;
  error?: string;
}

export function spanRecord(s: Span, maxErrorChars = 2000): SpanRecord {
  const end = knownEndMs(s);
  return {
    trace_id: s.traceId,
    span_id: s.spanId,
    ...(s.parentSpanId ? { parent_span_id: s.parentSpanId } : {}),
    service: s.service,
    operation: s.operation,
    status: isUnfinished(s) ? "unfinished" : s.status,
    started_at: new Date(s.startMs).toISOString(),
    ...(end !== null && Number.isFinite(end) ? { duration_ms: round(end - s.startMs, 3) } : {}),
    ...(s.errorMessage ? { error: s.errorMessage.slice(0, maxErrorChars) } : {}),
  };
}
