// Finding the spans of one execution: by trace_id or job_id (an id of the wrong kind is tried as the
// other), with the hops that share its job_id in other trace ids, in one statement. Shared by
// get_trace, find_gaps and diagnose; a miss is a NotFoundError naming recent failing traces instead.

import type { Span } from "../analysis/span.js";
import { formatHop, formatMs, isoTime } from "../analysis/format.js";
import { LINK_MARGIN_MS, MAX_TRACES_PER_JOB } from "../analysis/defaults.js";
import { InputError, NotFoundError } from "../errors.js";
import type { SpanReader } from "../store/span-table.js";

export interface Resolved {
  by: "trace_id" | "job_id";
  value: string;
  key?: string;
  note?: string;
}

export interface Resolution {
  loaded: { spans: Span[]; truncated: boolean };
  resolved: Resolved;
}

export interface TraceLookup {
  trace_id?: string | undefined;
  job_id?: string | undefined;
  include_linked: boolean;
}

/** One of trace_id and job_id, or an InputError that says what to give. */
export function requireOneId(input: { trace_id?: string | undefined; job_id?: string | undefined }, neitherHint?: string): void {
  if (input.trace_id && input.job_id) throw new InputError("Give trace_id or job_id, not both.");
  if (!input.trace_id && !input.job_id) {
    throw new InputError(
      neitherHint ??
        "Give a trace_id (e.g. 4bf92f3577b34da6a3ce929d0e0e4736) or a job_id (e.g. bias-detection-1761135900618). If you have neither, find failing traces with list_failed_spans.",
    );
  }
}

/**
 * The spans asked for; an id given as the wrong kind is tried as the other kind before giving up.
 * Nothing found is a NotFoundError naming recent failing traces to ask about instead.
 */
export async function findExecution(spans: SpanReader, input: TraceLookup, limit: number, nowMs: number): Promise<Resolution> {
  const found = await lookupTrace(spans, input, limit);
  if (found) return found;
  throw new NotFoundError(await notFoundMessage(spans, input.trace_id ?? input.job_id!, nowMs));
}

/** One statement (two on a partitioned table that has to widen): see SpanReader.execution. */
async function lookupTrace(spans: SpanReader, input: TraceLookup, limit: number): Promise<Resolution | null> {
  const id = input.trace_id ?? input.job_id!;
  const first = input.trace_id ? "trace_id" : "job_id";
  const found = await spans.execution({ id, first, limit, linked: input.include_linked, linkMarginMs: LINK_MARGIN_MS, maxTraces: MAX_TRACES_PER_JOB });
  if (found.by === null) return null;
  const notes: string[] = [];
  if (first === "trace_id" && found.by === "job_id") notes.push(`No trace has id ${id}, but it is the ${found.key} of ${found.traceCount} trace(s): showing those.`);
  else if (found.by === "job_id" && found.moreTraces) notes.push(`${found.key} ${id} has more than ${MAX_TRACES_PER_JOB} traces; showing the ${MAX_TRACES_PER_JOB} most recent.`);
  if (first === "job_id" && found.by === "trace_id") notes.push(`No span has ${spans.correlationKeys.join("/")} = ${id}, but it is a trace id: showing that trace.`);
  if (found.widenedAfterMs !== undefined) {
    notes.push(`Not in the partitions of the last ${Math.round(found.widenedAfterMs / 3_600_000)} hours, so every partition was searched.`);
  }
  const resolved: Resolved = { by: found.by, value: id, ...(found.key !== undefined && { key: found.key }), ...(notes.length && { note: notes.join(" ") }) };
  return { loaded: { spans: found.spans, truncated: found.truncated }, resolved };
}

async function notFoundMessage(spans: SpanReader, id: string, nowMs: number): Promise<string> {
  const lines = [
    `No spans found for ${JSON.stringify(id)}: it is neither a trace_id nor a ${spans.correlationKeys.join("/")} value in span metadata. Check the id is complete (not a shortened prefix).`,
  ];
  const recent = onePerTrace(await spans.recentFailures(25, nowMs).catch(() => [])).slice(0, 5);
  if (recent.length) {
    lines.push("Recent failing spans you could ask about instead (get_trace with trace_id or job_id):");
    for (const f of recent) {
      const corr = Object.entries(f.correlation)
        .map(([k, v]) => ` ${k}=${v}`)
        .join("");
      lines.push(`- trace_id=${f.traceId}${corr} · ${formatHop(f.service, f.operation)} ${f.status} at ${isoTime(f.startMs)} (${formatMs(nowMs - f.startMs)} ago)`);
    }
  } else {
    lines.push("No failing spans in the last 7 days either; list_failed_spans can search other windows.");
  }
  return lines.join("\n");
}

function onePerTrace<T extends { traceId: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => !seen.has(i.traceId) && seen.add(i.traceId));
}

