// Boils a Sentry event down to what a diagnosis needs, bounded: tags, contexts (execution, trace, …),
// the exception with in-app frames first, the newest breadcrumbs, and the ids that join it to spans
// (contexts.trace.trace_id, and correlation values such as job_id from tags or contexts).

import {
  breadcrumbsEntryData,
  exceptionEntryData,
  type SentryBreadcrumb,
  type SentryEvent,
  type SentryFrame,
} from "./sentry-schemas.js";

export interface EventFrame {
  function?: string;
  file?: string;
  line?: number;
  module?: string;
  in_app: boolean;
}

export interface EventException {
  type?: string;
  value?: string;
  handled?: boolean;
  /** Most recent call first, in-app frames before system frames. */
  frames: EventFrame[];
  frames_omitted: number;
}

export interface EventBreadcrumb {
  timestamp?: string;
  level?: string;
  category?: string;
  message?: string;
  data?: Record<string, unknown>;
}

export interface EventSummary {
  event_id: string;
  date?: string;
  received?: string;
  title?: string;
  message?: string;
  release?: string;
  tags: Array<{ key: string; value: string }>;
  tags_omitted: number;
  contexts: Record<string, Record<string, unknown>>;
  exceptions: EventException[];
  breadcrumbs: EventBreadcrumb[];
  breadcrumbs_total: number;
  trace_id?: string;
  span_id?: string;
  /** Correlation values found on the event, by key: where each came from. */
  correlation: Array<{ key: string; value: string; from: string }>;
}

export interface SummaryLimits {
  maxBreadcrumbs: number;
  maxFrames: number;
  maxTags?: number;
  correlationKeys: readonly string[];
  /** Sentry tag keys that carry a correlation value under another name (tag key → correlation key). */
  tagAliases?: Record<string, string>;
}

const MAX_CONTEXT_KEYS = 20;
const MAX_VALUE_CHARS = 300;

function clip(value: unknown): unknown {
  if (typeof value === "string") return value.length > MAX_VALUE_CHARS ? `${value.slice(0, MAX_VALUE_CHARS)}…` : value;
  if (value && typeof value === "object") {
    const kept = withoutNulls(value);
    const json = JSON.stringify(kept);
    return json.length > MAX_VALUE_CHARS ? `${json.slice(0, MAX_VALUE_CHARS)}…` : kept;
  }
  return value;
}

/** Outputs carry no nulls: a null nested in event data says nothing a missing key does not. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== null).map(withoutNulls);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
  }
  return value;
}

const present = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined && v !== "";

export function summariseEvent(event: SentryEvent, limits: SummaryLimits): EventSummary {
  const allTags = (event.tags ?? []).filter((t) => present(t.key)).map((t) => ({ key: String(t.key), value: t.value == null ? "" : String(t.value) }));
  const maxTags = limits.maxTags ?? 40;
  const contexts: Record<string, Record<string, unknown>> = {};
  for (const [name, raw] of Object.entries(event.contexts ?? {})) {
    if (!raw || typeof raw !== "object" || Array.isArray(raw)) continue;
    const entries = Object.entries(raw as Record<string, unknown>).filter(([k, v]) => k !== "type" && present(v));
    if (entries.length) contexts[name] = Object.fromEntries(entries.slice(0, MAX_CONTEXT_KEYS).map(([k, v]) => [k, clip(v)]));
  }
  const trace = contexts.trace;
  const summary: EventSummary = {
    event_id: event.eventID ?? event.id,
    tags: allTags.slice(0, maxTags),
    tags_omitted: Math.max(0, allTags.length - maxTags),
    contexts,
    exceptions: exceptions(event, limits.maxFrames),
    ...breadcrumbs(event, limits.maxBreadcrumbs),
    correlation: correlationValues(allTags, contexts, limits),
  };
  if (present(event.dateCreated)) summary.date = event.dateCreated;
  if (present(event.dateReceived)) summary.received = event.dateReceived;
  if (present(event.title)) summary.title = event.title;
  if (present(event.message)) summary.message = event.message;
  const release = typeof event.release === "string" ? event.release : event.release?.version;
  if (present(release)) summary.release = release;
  if (trace && typeof trace.trace_id === "string") summary.trace_id = trace.trace_id;
  if (trace && typeof trace.span_id === "string") summary.span_id = trace.span_id;
  return summary;
}

function exceptions(event: SentryEvent, maxFrames: number): EventException[] {
  const out: EventException[] = [];
  for (const entry of event.entries ?? []) {
    if (entry.type !== "exception") continue;
    const parsed = exceptionEntryData.safeParse(entry.data);
    if (!parsed.success) continue;
    // Chained exceptions come oldest first; the last is the one raised.
    for (const value of [...(parsed.data.values ?? [])].reverse().slice(0, 3)) {
      const frames = [...(value.stacktrace?.frames ?? [])].reverse(); // most recent call first
      const inApp = frames.filter((f) => f.inApp === true);
      const system = frames.filter((f) => f.inApp !== true);
      const kept = [...inApp, ...system].slice(0, maxFrames).map(toFrame);
      const ex: EventException = { frames: kept, frames_omitted: frames.length - kept.length };
      if (present(value.type)) ex.type = value.type;
      if (present(value.value)) ex.value = value.value;
      if (typeof value.mechanism?.handled === "boolean") ex.handled = value.mechanism.handled;
      out.push(ex);
    }
  }
  return out;
}

function toFrame(f: SentryFrame): EventFrame {
  const frame: EventFrame = { in_app: f.inApp === true };
  if (present(f.function)) frame.function = f.function;
  const file = f.filename ?? f.absPath;
  if (present(file)) frame.file = file;
  const line = Number(f.lineNo);
  if (present(f.lineNo) && Number.isFinite(line)) frame.line = line;
  if (present(f.module)) frame.module = f.module;
  return frame;
}

/** The newest breadcrumbs are the ones next to the error: keep those, in time order. */
function breadcrumbs(event: SentryEvent, max: number): { breadcrumbs: EventBreadcrumb[]; breadcrumbs_total: number } {
  const all: SentryBreadcrumb[] = [];
  for (const entry of event.entries ?? []) {
    if (entry.type !== "breadcrumbs") continue;
    const parsed = breadcrumbsEntryData.safeParse(entry.data);
    if (parsed.success) all.push(...(parsed.data.values ?? []));
  }
  const kept = all.slice(Math.max(0, all.length - max)).map((b) => {
    const crumb: EventBreadcrumb = {};
    if (present(b.timestamp)) crumb.timestamp = typeof b.timestamp === "number" ? new Date(b.timestamp * 1000).toISOString() : b.timestamp;
    if (present(b.level)) crumb.level = b.level;
    if (present(b.category)) crumb.category = b.category;
    if (present(b.message)) crumb.message = String(clip(b.message));
    const data = Object.entries(b.data ?? {}).filter(([, v]) => present(v));
    if (data.length) crumb.data = Object.fromEntries(data.slice(0, 12).map(([k, v]) => [k, clip(v)]));
    return crumb;
  });
  return { breadcrumbs: kept, breadcrumbs_total: all.length };
}

/** Where the event says which job it belongs to: a tag first, then any context carrying the key. */
function correlationValues(
  tags: Array<{ key: string; value: string }>,
  contexts: Record<string, Record<string, unknown>>,
  limits: SummaryLimits,
): Array<{ key: string; value: string; from: string }> {
  const out: Array<{ key: string; value: string; from: string }> = [];
  const seen = new Set<string>();
  const add = (key: string, value: unknown, from: string) => {
    if (!present(value) || typeof value === "object") return;
    const id = `${key}\u0000${String(value)}`;
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ key, value: String(value), from });
  };
  for (const key of limits.correlationKeys) {
    for (const t of tags) if (t.key === key) add(key, t.value, `tag ${key}`);
    for (const [alias, target] of Object.entries(limits.tagAliases ?? {})) {
      if (target === key) for (const t of tags) if (t.key === alias) add(key, t.value, `tag ${alias}`);
    }
    for (const [name, ctx] of Object.entries(contexts)) if (key in ctx) add(key, ctx[key], `contexts.${name}.${key}`);
  }
  return out;
}
