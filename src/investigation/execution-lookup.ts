// Finding the spans of one execution: by trace_id or job_id (an id of the wrong kind is tried as the
// other), with the hops that share its job_id in other trace ids. Shared by get_trace, find_gaps and
// diagnose; a miss is a NotFoundError naming recent failing traces instead.

import { knownEndMs, type Span } from "../analysis/span.js";
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

async function lookupTrace(spans: SpanReader, input: TraceLookup, limit: number): Promise<Resolution | null> {
  if (input.trace_id) {
    const loaded = await spans.spansOfTraces([input.trace_id], limit);
    if (loaded.spans.length) {
      return { loaded: input.include_linked ? await withLinkedHops(spans, loaded, limit) : loaded, resolved: { by: "trace_id", value: input.trace_id } };
    }
    const asJob = await byCorrelation(spans, input.trace_id, limit);
    if (asJob) {
      asJob.resolved.note = `No trace has id ${input.trace_id}, but it is the ${asJob.resolved.key} of ${asJob.traceCount} trace(s): showing those.`;
      return asJob;
    }
    return null;
  }
  const job = input.job_id!;
  const byJob = await byCorrelation(spans, job, limit);
  if (byJob) return byJob;
  const asTrace = await spans.spansOfTraces([job], limit);
  if (asTrace.spans.length) {
    return {
      loaded: input.include_linked ? await withLinkedHops(spans, asTrace, limit) : asTrace,
      resolved: { by: "trace_id", value: job, note: `No span has ${spans.correlationKeys.join("/")} = ${job}, but it is a trace id: showing that trace.` },
    };
  }
  return null;
}

async function byCorrelation(spans: SpanReader, value: string, limit: number): Promise<(Resolution & { traceCount: number }) | null> {
  for (const key of spans.correlationKeys) {
    const traceIds = await spans.traceIdsByCorrelation(key, value, MAX_TRACES_PER_JOB + 1);
    if (!traceIds.length) continue;
    const loaded = await spans.spansOfTraces(traceIds.slice(0, MAX_TRACES_PER_JOB), limit);
    const note =
      traceIds.length > MAX_TRACES_PER_JOB
        ? `${key} ${value} has more than ${MAX_TRACES_PER_JOB} traces; showing the ${MAX_TRACES_PER_JOB} most recent.`
        : undefined;
    return { loaded, resolved: { by: "job_id", value, key, ...(note ? { note } : {}) }, traceCount: Math.min(traceIds.length, MAX_TRACES_PER_JOB) };
  }
  return null;
}

/** Hops in other trace ids that share this trace's job_id and overlap it in time. */
export async function withLinkedHops(spans: SpanReader, loaded: { spans: Span[]; truncated: boolean }, limit: number) {
  const own = new Set(loaded.spans.map((s) => s.traceId));
  const fromMs = loaded.spans.reduce((min, s) => Math.min(min, s.startMs), Infinity) - LINK_MARGIN_MS;
  const toMs = loaded.spans.reduce((max, s) => Math.max(max, knownEndMs(s) ?? s.startMs), -Infinity) + LINK_MARGIN_MS;
  const linked = new Set<string>();
  for (const key of spans.correlationKeys) {
    const values = [...new Set(loaded.spans.map((s) => s.metadata[key]).filter((v) => v !== undefined && v !== null && v !== "").map(String))].slice(0, 5);
    // One statement per key for all its values, not one per value.
    for (const id of await spans.traceIdsByCorrelationValues(key, values, values.length * 10, { fromMs, toMs })) if (!own.has(id)) linked.add(id);
  }
  if (!linked.size || loaded.truncated) return loaded;
  const extra = await spans.spansOfTraces([...linked], Math.max(1, limit - loaded.spans.length));
  return { spans: [...loaded.spans, ...extra.spans], truncated: extra.truncated };
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

