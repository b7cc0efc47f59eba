// The spans that belong to a Sentry event: by the event's trace id, and by each correlation value it
// carries (a job_id tag, or job_id in any context), since Sentry's own trace ids rarely match the ones
// the services write to trace_spans.

import { round } from "../analysis/format.js";
import { spanRecord, type Span } from "../analysis/span.js";
import type { JoinedSpans } from "../analysis/sentry-report.js";
import { TraceDoctorError } from "../errors.js";
import type { EventSummary } from "../sentry/event-summary.js";
import type { SpanReader } from "../store/span-table.js";

/** The spans that belong to the event: by Sentry's trace id, and by each correlation value it carries. */
export async function spansOfEvent(
  spans: SpanReader,
  summary: EventSummary | null,
  asked: { trace_id?: string | undefined; job_id?: string | undefined; max_spans: number },
  maxTraceSpans: number,
): Promise<JoinedSpans> {
  const notes: string[] = [];
  const matchedBy: string[] = [];
  const traceIds = new Set<string>();
  try {
    const traceCandidates = [...new Set([asked.trace_id, summary?.trace_id].filter((t): t is string => !!t))];
    for (const tid of traceCandidates) {
      const found = await spans.spansOfTraces([tid], 1);
      if (found.spans.length) {
        traceIds.add(tid);
        matchedBy.push(`trace_id ${tid}`);
      } else if (tid === summary?.trace_id) {
        notes.push(`Sentry's trace id ${tid} matches no span in trace_spans: the services' own tracing writes its own trace ids, so the join relies on correlation values.`);
      }
    }
    const values = [...(summary?.correlation ?? [])];
    if (asked.job_id && spans.correlationKeys[0] && !values.some((v) => v.value === asked.job_id)) {
      values.push({ key: spans.correlationKeys[0], value: asked.job_id, from: "the job_id asked about" });
    }
    for (const c of values.slice(0, 5)) {
      const ids = await spans.traceIdsByCorrelation(c.key, c.value, 10);
      if (ids.length) matchedBy.push(`${c.key} ${c.value} (from ${c.from})`);
      else notes.push(`No span has ${c.key} = ${c.value} (from ${c.from}).`);
      for (const id of ids) traceIds.add(id);
    }
    if (!summary && !values.length) notes.push("There is no event, so no span could be joined by its trace id or correlation values.");
    else if (!summary?.trace_id && !values.length) notes.push("The event carries no trace id and no correlation value, so no span could be joined.");
    if (!traceIds.size) return { matched_by: matchedBy, trace_ids: [], rows: [], total: 0, truncated: false, notes };
    const loaded = await spans.spansOfTraces([...traceIds], maxTraceSpans);
    const firstStart = new Map<string, number>();
    for (const s of loaded.spans) firstStart.set(s.traceId, Math.min(firstStart.get(s.traceId) ?? Infinity, s.startMs));
    const rows = loaded.spans.slice(0, asked.max_spans).map((s) => spanRow(s, firstStart.get(s.traceId) ?? s.startMs));
    return {
      matched_by: matchedBy,
      trace_ids: [...traceIds],
      rows,
      total: loaded.spans.length,
      truncated: loaded.truncated || loaded.spans.length > rows.length,
      notes,
    };
  } catch (err) {
    if (err instanceof TraceDoctorError && (err.code === "cancelled" || err.code === "timeout")) throw err;
    notes.push(`Could not read trace_spans: ${(err as Error).message}`);
    return { matched_by: matchedBy, trace_ids: [...traceIds], rows: [], total: 0, truncated: false, notes };
  }
}

function spanRow(s: Span, traceStart: number): JoinedSpans["rows"][number] {
  return { ...spanRecord(s, 300), offset_ms: round(s.startMs - traceStart) };
}
