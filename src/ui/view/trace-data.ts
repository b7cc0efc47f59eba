// Reads the structured answers the waterfall view draws — get_trace's, find_gaps' — out of whatever the
// host hands over, leniently: a field of the wrong type is dropped, unknown fields are ignored, so a
// newer server or another tool whose answer holds get_trace's shape still draws what it can.

export interface TraceSpan {
  span_id: string;
  trace_id: string;
  parent_span_id?: string;
  service: string;
  operation: string;
  status: string;
  depth: number;
  offset_ms: number;
  duration_ms?: number;
  self_ms?: number;
  critical: boolean;
  error?: string;
  flags: string[];
  linked_by?: string;
  /** Key and value as written by the service; values that are not strings as JSON. */
  metadata: Array<[string, string]>;
}

export interface TraceGroup {
  parent_span_id?: string;
  kinds?: number;
  service: string;
  operation: string;
  count: number;
  hidden_descendants: number;
  failed: number;
  offset_ms: number;
  p50_ms?: number;
  total_ms: number;
  sample_span_ids: string[];
}

export interface TraceData {
  resolved?: { by: "trace_id" | "job_id"; value: string; note?: string };
  trace_ids: string[];
  services: string[];
  start_time?: string;
  duration_ms: number;
  span_count: number;
  status_counts: Array<[string, number]>;
  failed_span_ids: string[];
  critical_path: Array<{ span_id: string; service: string; operation: string; critical_ms: number }>;
  spans: TraceSpan[];
  collapsed: TraceGroup[];
  shown_spans: number;
  hidden_spans: number;
  truncated: boolean;
  read_truncated: boolean;
  findings: string[];
  focus_span_id?: string;
  focus_span_count?: number;
  /** The server cut the answer to fit its budget. */
  answer_cut: boolean;
}

/** What find_gaps adds to a waterfall: hops that should be there and are not, and hand-off baselines. */
export interface GapOverlay {
  missing: Array<{ caller_span_id: string; hops: string[]; offset_ms?: number; severity: string; sentence: string }>;
  handoffs: Array<{ parent_span_id: string; child_span_id: string; delay_ms: number; baseline_p50_ms?: number; baseline_p95_ms?: number }>;
  /** Every finding's sentence with the spans it is about, most severe first. */
  findings: Array<{ kind: string; severity: string; span_ids: string[]; sentence: string }>;
}

export type Json = Record<string, unknown>;

// The lenient readers, shared with comparison-model.ts: a value of the wrong type reads as absent.
export const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
export const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
export const objects = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** A value from the data as the view shows it: strings as they are, anything else as JSON. */
export function dataText(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function readSpan(s: Json): TraceSpan | null {
  const span_id = str(s.span_id);
  const service = str(s.service);
  const operation = str(s.operation);
  const offset_ms = num(s.offset_ms);
  if (span_id === undefined || service === undefined || operation === undefined || offset_ms === undefined) return null;
  const out: TraceSpan = {
    span_id,
    trace_id: str(s.trace_id) ?? "",
    service,
    operation,
    status: (str(s.status) ?? "unknown").toLowerCase(),
    depth: Math.max(0, Math.min(64, Math.floor(num(s.depth) ?? 0))),
    offset_ms,
    critical: s.critical === true,
    flags: strings(s.flags),
    metadata: isObject(s.metadata) ? Object.entries(s.metadata).map(([k, v]) => [k, dataText(v)]) : [],
  };
  const parent = str(s.parent_span_id);
  if (parent !== undefined) out.parent_span_id = parent;
  const duration = num(s.duration_ms);
  if (duration !== undefined && duration >= 0) out.duration_ms = duration;
  const self = num(s.self_ms);
  if (self !== undefined) out.self_ms = self;
  const error = str(s.error);
  if (error) out.error = error;
  const linked = str(s.linked_by);
  if (linked) out.linked_by = linked;
  return out;
}

function readGroup(g: Json): TraceGroup | null {
  const service = str(g.service);
  const operation = str(g.operation);
  const count = num(g.count);
  const offset_ms = num(g.offset_ms);
  if (service === undefined || operation === undefined || count === undefined || offset_ms === undefined) return null;
  const out: TraceGroup = {
    service,
    operation,
    count,
    hidden_descendants: num(g.hidden_descendants) ?? 0,
    failed: num(g.failed) ?? 0,
    offset_ms,
    total_ms: num(g.total_ms) ?? 0,
    sample_span_ids: strings(g.sample_span_ids),
  };
  const parent = str(g.parent_span_id);
  if (parent !== undefined) out.parent_span_id = parent;
  const kinds = num(g.kinds);
  if (kinds !== undefined) out.kinds = kinds;
  const p50 = num(g.p50_ms);
  if (p50 !== undefined) out.p50_ms = p50;
  return out;
}

/** get_trace's answer, or null when the value does not hold spans. */
export function readTrace(value: unknown): TraceData | null {
  if (!isObject(value) || !Array.isArray(value.spans)) return null;
  const spans = objects(value.spans).map(readSpan).filter((s): s is TraceSpan => s !== null);
  const collapsed = objects(value.collapsed).map(readGroup).filter((g): g is TraceGroup => g !== null);
  const counts = isObject(value.status_counts)
    ? Object.entries(value.status_counts).flatMap(([k, v]) => (typeof v === "number" ? [[k, v] as [string, number]] : []))
    : [];
  const out: TraceData = {
    trace_ids: strings(value.trace_ids),
    services: strings(value.services),
    duration_ms: num(value.duration_ms) ?? 0,
    span_count: num(value.span_count) ?? spans.length,
    status_counts: counts,
    failed_span_ids: strings(value.failed_span_ids),
    critical_path: objects(value.critical_path).flatMap((c) => {
      const span_id = str(c.span_id);
      const critical_ms = num(c.critical_ms);
      return span_id === undefined || critical_ms === undefined ? [] : [{ span_id, service: str(c.service) ?? "", operation: str(c.operation) ?? "", critical_ms }];
    }),
    spans,
    collapsed,
    shown_spans: num(value.shown_spans) ?? spans.length,
    hidden_spans: num(value.hidden_spans) ?? 0,
    truncated: value.truncated === true,
    read_truncated: value.read_truncated === true,
    findings: strings(value.findings),
    answer_cut: isObject(value.answer_cut),
  };
  if (isObject(value.resolved)) {
    const by = value.resolved.by;
    const v = str(value.resolved.value);
    if ((by === "trace_id" || by === "job_id") && v) {
      out.resolved = { by, value: v };
      const note = str(value.resolved.note);
      if (note) out.resolved.note = note;
    }
  }
  const start = str(value.start_time);
  if (start) out.start_time = start;
  const focus = str(value.focus_span_id);
  if (focus) out.focus_span_id = focus;
  const focusCount = num(value.focus_span_count);
  if (focusCount !== undefined) out.focus_span_count = focusCount;
  return out;
}

/** At most this many traces are drawn from one answer that holds several (a comparison). */
const MAX_SECTIONS = 4;

/**
 * The traces an answer holds: the answer itself when it is get_trace's shape, otherwise its top-level
 * fields that are (a tool that nests get_trace answers), titled by field name.
 */
export function findTraces(value: unknown): Array<{ title?: string; data: TraceData }> {
  const whole = readTrace(value);
  if (whole) return [{ data: whole }];
  if (!isObject(value)) return [];
  const out: Array<{ title?: string; data: TraceData }> = [];
  for (const [key, field] of Object.entries(value)) {
    const data = readTrace(field);
    if (data) out.push({ title: key, data });
    if (out.length >= MAX_SECTIONS) break;
  }
  return out;
}

/** find_gaps' answer for one execution, or null for anything else (its aggregate view included). */
export function readGaps(value: unknown): GapOverlay | null {
  if (!isObject(value) || value.mode !== "trace" || !Array.isArray(value.findings)) return null;
  const findings = objects(value.findings).map((f) => ({
    kind: str(f.kind) ?? "",
    severity: str(f.severity) ?? "",
    span_ids: strings(f.span_ids),
    sentence: str(f.sentence) ?? "",
    offset_ms: num(f.offset_ms),
    missing: strings(f.missing),
  }));
  return {
    missing: findings.flatMap((f) =>
      f.kind === "missing_hop" && f.missing.length && f.span_ids[0] !== undefined
        ? [{ caller_span_id: f.span_ids[0], hops: f.missing, ...(f.offset_ms !== undefined ? { offset_ms: f.offset_ms } : {}), severity: f.severity, sentence: f.sentence }]
        : [],
    ),
    handoffs: objects(value.handoffs).flatMap((h) => {
      const parent = str(h.parent_span_id);
      const child = str(h.child_span_id);
      const delay = num(h.delay_ms);
      if (parent === undefined || child === undefined || delay === undefined) return [];
      const p50 = num(h.baseline_p50_ms);
      const p95 = num(h.baseline_p95_ms);
      return [{ parent_span_id: parent, child_span_id: child, delay_ms: delay, ...(p50 !== undefined ? { baseline_p50_ms: p50 } : {}), ...(p95 !== undefined ? { baseline_p95_ms: p95 } : {}) }];
    }),
    findings: findings.map(({ kind, severity, span_ids, sentence }) => ({ kind, severity, span_ids, sentence })),
  };
}
