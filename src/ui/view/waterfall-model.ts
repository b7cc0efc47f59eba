// The waterfall as plain data, from get_trace's answer (and find_gaps', when the host let the view ask):
// one row per shown span, collapsed group and missing hop, each bar placed in percent of the time axis,
// critical-path segments, hand-off lead-ins, the header and the notes. Pure, so it is tested in Node;
// waterfall-dom.ts only draws it.

import { formatMs, formatOffset } from "../../analysis/format.js";
import { percentShares } from "../../analysis/waterfall.js";
import type { GapOverlay, TraceData, TraceGroup, TraceSpan } from "./trace-data.js";

export type StatusClass = "ok" | "failed" | "timeout" | "unfinished" | "other";

/** A stretch of the time axis, in percent of its width. */
export interface Extent {
  left: number;
  width: number;
}

export interface SpanRow {
  kind: "span";
  key: string;
  spanId: string;
  depth: number;
  service: string;
  operation: string;
  /** Index into the view's service palette. */
  color: number;
  status: StatusClass;
  /** The status as the span wrote it, upper-cased unless it is a success. */
  statusText: string;
  bar: Extent;
  /** No known end (never finished): the bar runs to the end of the axis. */
  openEnded: boolean;
  durationText: string;
  /** One line for a hover: what, status, how long, when, and the error's start. */
  hover: string;
  critical: boolean;
  criticalSegments: Extent[];
  /** Time from the caller's start to this span's start, when the caller is another service. */
  leadIn?: Extent & { text: string; slow: boolean };
  badges: string[];
  error?: string;
  /** Spans hidden in collapsed groups directly under this one. */
  hiddenChildren: number;
  /** Whether anything hangs under it (shown or hidden): a subtree worth opening. */
  hasChildren: boolean;
  details: Array<[string, string]>;
  metadata: Array<[string, string]>;
  /** find_gaps sentences about this span. */
  notes: string[];
}

export interface GroupRow {
  kind: "group";
  key: string;
  depth: number;
  label: string;
  color: number;
  bar: Extent;
  durationText: string;
  count: number;
  failed: number;
  parentSpanId?: string;
  sampleSpanIds: string[];
  details: Array<[string, string]>;
}

export interface MissingRow {
  kind: "missing";
  key: string;
  depth: number;
  hop: string;
  callerSpanId: string;
  /** Where the hop usually starts, when that is on the axis. */
  expected?: Extent;
  expectedText: string;
  /** Missing because an earlier hop is (not the cut itself). */
  consequence: boolean;
  sentence: string;
}

export type Row = SpanRow | GroupRow | MissingRow;

export interface WaterfallModel {
  title: string;
  status: StatusClass;
  facts: Array<[string, string]>;
  axis: { startMs: number; endMs: number };
  ticks: Array<{ at: number; label: string }>;
  rows: Row[];
  critical: Array<{ label: string; ms: string; share: number; color: number }>;
  findings: string[];
  gapFindings: Array<{ severity: string; kind: string; sentence: string; spanIds: string[] }>;
  notes: string[];
  focusSpanId?: string;
  /** The id get_trace answered for, to ask it for more of the same trace. */
  source?: { by: "trace_id" | "job_id"; value: string };
}

const SUCCESS = new Set(["completed", "ok", "success", "succeeded"]);
const FAILED = new Set(["failed", "error", "errored", "failure"]);

export function statusClass(status: string): StatusClass {
  const s = status.toLowerCase();
  if (SUCCESS.has(s)) return "ok";
  if (FAILED.has(s)) return "failed";
  if (s === "timeout" || s === "timed_out") return "timeout";
  if (s === "unfinished" || s === "started" || s === "running") return "unfinished";
  return "other";
}

const FLAG_WORDS: Record<string, string> = {
  orphan: "orphan: parent missing",
  parent_cycle: "parent loop cut here",
  unfinished: "never finished",
  starts_before_parent: "starts before parent",
  ends_after_parent: "ends after parent",
  duplicate_span_id: "duplicate span id",
  negative_duration: "ends before it starts",
  metadata_not_object: "metadata not an object",
};

/** A slow hand-off, as find_gaps judges one: beyond 1.5× the edge's p95 in successful executions. */
const SLOW_HANDOFF_FACTOR = 1.5;
const TICKS = 4;

export function buildWaterfall(data: TraceData, gaps: GapOverlay | null = null): WaterfallModel {
  const colors = new Map<string, number>();
  const colorOf = (service: string) => {
    if (!colors.has(service)) colors.set(service, colors.size);
    return colors.get(service)!;
  };
  for (const s of data.services) colorOf(s);

  const byId = new Map<string, TraceSpan>();
  for (const s of data.spans) if (!byId.has(s.span_id)) byId.set(s.span_id, s);
  const endOf = (s: TraceSpan) => (s.duration_ms === undefined ? undefined : s.offset_ms + s.duration_ms);

  // The axis covers what is shown: the whole trace, or the focused subtree (offsets stay from the trace start).
  const starts = [...data.spans.map((s) => s.offset_ms), ...data.collapsed.map((g) => g.offset_ms)];
  const ends = [
    ...data.spans.map((s) => endOf(s) ?? s.offset_ms),
    ...data.collapsed.map((g) => g.offset_ms + (g.p50_ms ?? 0)),
    ...(data.focus_span_id ? [] : [data.duration_ms]),
  ];
  const startMs = starts.length ? Math.min(...starts, data.focus_span_id ? Infinity : 0) : 0;
  let endMs = ends.length ? Math.max(...ends) : startMs;
  if (!(endMs > startMs)) endMs = startMs + 1;
  const pct = (ms: number) => Math.max(0, Math.min(100, ((ms - startMs) / (endMs - startMs)) * 100));
  const extent = (from: number, to: number): Extent => ({ left: round2(pct(from)), width: round2(Math.max(0, pct(to) - pct(from))) });

  const minDepth = data.spans.length ? Math.min(...data.spans.map((s) => s.depth)) : 0;
  const criticalMs = new Map(data.critical_path.map((c) => [c.span_id, c.critical_ms]));
  const handoffs = new Map((gaps?.handoffs ?? []).map((h) => [`${h.parent_span_id}>${h.child_span_id}`, h]));
  const slowByFinding = new Set((gaps?.findings ?? []).filter((f) => f.kind === "slow_handoff").flatMap((f) => f.span_ids));
  const notesOf = new Map<string, string[]>();
  for (const f of gaps?.findings ?? []) {
    if (f.kind === "missing_hop") continue; // drawn as rows of their own
    for (const id of f.span_ids) notesOf.set(id, [...(notesOf.get(id) ?? []), `${f.kind.replace(/_/g, " ")} (${f.severity}): ${f.sentence}`]);
  }
  const groupsUnder = new Map<string, TraceGroup[]>();
  for (const g of data.collapsed) if (g.parent_span_id !== undefined) groupsUnder.set(g.parent_span_id, [...(groupsUnder.get(g.parent_span_id) ?? []), g]);
  const missingUnder = new Map<string, GapOverlay["missing"]>();
  for (const m of gaps?.missing ?? []) if (byId.has(m.caller_span_id)) missingUnder.set(m.caller_span_id, [...(missingUnder.get(m.caller_span_id) ?? []), m]);

  const rows: Row[] = [];
  const seenKeys = new Set<string>();
  const uniqueKey = (base: string) => {
    let key = base;
    for (let i = 2; seenKeys.has(key); i++) key = `${base}#${i}`;
    seenKeys.add(key);
    return key;
  };

  const spanRow = (s: TraceSpan): SpanRow => {
    const end = endOf(s);
    const status = statusClass(s.status);
    const criticalChildren = data.spans.filter((c) => c.parent_span_id === s.span_id && c.critical && endOf(c) !== undefined);
    const row: SpanRow = {
      kind: "span",
      key: uniqueKey(`span:${s.span_id}`),
      spanId: s.span_id,
      depth: s.depth - minDepth,
      service: s.service,
      operation: s.operation,
      color: colorOf(s.service),
      status,
      statusText: status === "ok" ? s.status : s.status.toUpperCase(),
      bar: extent(s.offset_ms, end ?? endMs),
      openEnded: end === undefined,
      durationText: end === undefined ? "never finished" : formatMs(s.duration_ms!),
      hover: `${s.service}.${s.operation} · ${status === "ok" ? s.status : s.status.toUpperCase()} · ${end === undefined ? "never finished" : formatMs(s.duration_ms!)} at ${formatOffset(s.offset_ms)}${s.error ? ` · error: ${s.error.length > 300 ? `${s.error.slice(0, 300)}…` : s.error}` : ""}`,
      critical: s.critical,
      criticalSegments:
        s.critical && end !== undefined
          ? subtract([s.offset_ms, end], criticalChildren.map((c) => [c.offset_ms, endOf(c)!] as [number, number])).map(([a, b]) => extent(a, b)).filter((e) => e.width > 0)
          : [],
      badges: [...s.flags.filter((f) => !(f === "unfinished" && status === "unfinished")).map((f) => FLAG_WORDS[f] ?? f), ...(s.linked_by ? [`joined by ${s.linked_by}`] : [])],
      hiddenChildren: (groupsUnder.get(s.span_id) ?? []).reduce((n, g) => n + g.count + g.hidden_descendants, 0),
      hasChildren: groupsUnder.has(s.span_id) || data.spans.some((c) => c.parent_span_id === s.span_id),
      details: spanDetails(s, criticalMs.get(s.span_id)),
      metadata: s.metadata,
      notes: notesOf.get(s.span_id) ?? [],
    };
    if (s.error) row.error = s.error;
    const parent = s.parent_span_id === undefined ? undefined : byId.get(s.parent_span_id);
    if (parent && parent.service !== s.service && s.offset_ms > parent.offset_ms) {
      const delay = s.offset_ms - parent.offset_ms;
      const base = handoffs.get(`${parent.span_id}>${s.span_id}`);
      const baseline = base?.baseline_p50_ms !== undefined ? ` (successful executions: p50 ${formatMs(base.baseline_p50_ms)}${base.baseline_p95_ms !== undefined ? `, p95 ${formatMs(base.baseline_p95_ms)}` : ""})` : "";
      row.leadIn = {
        ...extent(parent.offset_ms, s.offset_ms),
        text: `hand-off ${parent.service} → ${s.service}: ${formatMs(delay)}${baseline}`,
        slow: slowByFinding.has(s.span_id) || (base?.baseline_p95_ms !== undefined && delay > SLOW_HANDOFF_FACTOR * base.baseline_p95_ms),
      };
    }
    return row;
  };

  const groupRow = (g: TraceGroup, depth: number): GroupRow => {
    const what = g.kinds ? `spans of ${g.kinds} kinds` : `${g.service}.${g.operation}`;
    const p50 = g.p50_ms === undefined ? "" : `p50 ${formatMs(g.p50_ms)} · `;
    return {
      kind: "group",
      key: uniqueKey(`group:${g.parent_span_id ?? "root"}:${g.service}.${g.operation}`),
      depth,
      label: `×${g.count} ${what}${g.parent_span_id === undefined ? " (roots)" : ""}`,
      color: colorOf(g.service),
      bar: extent(g.offset_ms, g.offset_ms + (g.p50_ms ?? 0)),
      durationText: `${p50}total ${formatMs(g.total_ms)}`,
      count: g.count,
      failed: g.failed,
      ...(g.parent_span_id !== undefined ? { parentSpanId: g.parent_span_id } : {}),
      sampleSpanIds: g.sample_span_ids,
      details: [
        ["Hidden", `${g.count} span(s)${g.hidden_descendants ? ` and ${g.hidden_descendants} more below them` : ""}`],
        ["First starts", formatOffset(g.offset_ms)],
        ...(g.p50_ms !== undefined ? [["p50", formatMs(g.p50_ms)] as [string, string]] : []),
        ["Total", formatMs(g.total_ms)],
        ["Failed", String(g.failed)],
        ...(g.sample_span_ids.length ? [["Examples", g.sample_span_ids.join(", ")] as [string, string]] : []),
      ],
    };
  };

  const missingRows = (m: GapOverlay["missing"][number], depth: number): MissingRow[] =>
    m.hops.map((hop, i) => {
      const onAxis = m.offset_ms !== undefined && m.offset_ms >= startMs && m.offset_ms <= endMs;
      const row: MissingRow = {
        kind: "missing",
        key: uniqueKey(`missing:${m.caller_span_id}:${hop}`),
        depth: depth + (i === 0 ? 0 : 1),
        hop,
        callerSpanId: m.caller_span_id,
        expectedText: i > 0 ? "missing as a consequence" : m.offset_ms === undefined ? "missing" : `missing · usually at ${formatOffset(m.offset_ms)}`,
        consequence: i > 0,
        sentence: m.sentence,
      };
      if (i === 0 && onAxis) row.expected = extent(m.offset_ms!, m.offset_ms!);
      return row;
    });

  // Depth-first, like the text: a span's collapsed groups and missing hops follow its last shown descendant.
  const open: SpanRow[] = [];
  const closeUntil = (depth: number) => {
    while (open.length && open[open.length - 1]!.depth >= depth) {
      const done = open.pop()!;
      for (const g of groupsUnder.get(done.spanId) ?? []) rows.push(groupRow(g, done.depth + 1));
      for (const m of missingUnder.get(done.spanId) ?? []) rows.push(...missingRows(m, done.depth + 1));
      missingUnder.delete(done.spanId); // a repeated span id draws its missing hops once
    }
  };
  for (const s of data.spans) {
    const row = spanRow(s);
    closeUntil(row.depth);
    rows.push(row);
    open.push(row);
  }
  closeUntil(0);
  for (const g of data.collapsed) if (g.parent_span_id === undefined) rows.push(groupRow(g, 0));

  const byCritical = data.critical_path.filter((c) => c.critical_ms > 0).sort((a, b) => b.critical_ms - a.critical_ms);
  const shares = percentShares(byCritical.map((c) => c.critical_ms), data.duration_ms) ?? byCritical.map(() => 0);
  const first = data.spans.find((s) => s.depth === minDepth);
  const roots = data.spans.filter((s) => s.depth === minDepth).length;
  const model: WaterfallModel = {
    title: first ? `${first.service}.${first.operation}${roots > 1 ? ` + ${roots - 1} more root(s)` : ""}` : "Empty trace",
    status: data.failed_span_ids.length ? "failed" : data.spans.some((s) => statusClass(s.status) === "unfinished") ? "unfinished" : data.spans.length ? "ok" : "other",
    facts: facts(data, Math.max(0, ...rows.filter((r) => r.kind === "span").map((r) => r.depth)) + 1),
    axis: { startMs, endMs },
    ticks: Array.from({ length: TICKS + 1 }, (_, i) => ({ at: (100 * i) / TICKS, label: tickLabel(startMs + ((endMs - startMs) * i) / TICKS, endMs - startMs) })),
    rows,
    critical: byCritical.map((c, i) => ({ label: `${c.service}.${c.operation}`, ms: formatMs(c.critical_ms), share: shares[i] ?? 0, color: colorOf(c.service) })),
    findings: data.findings,
    gapFindings: (gaps?.findings ?? []).map((f) => ({ severity: f.severity, kind: f.kind, sentence: f.sentence, spanIds: f.span_ids })),
    notes: notes(data),
  };
  if (data.focus_span_id) model.focusSpanId = data.focus_span_id;
  if (data.resolved) model.source = { by: data.resolved.by, value: data.resolved.value };
  return model;
}

function spanDetails(s: TraceSpan, criticalMs: number | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [
    ["Span", s.span_id],
    ["Trace", s.trace_id],
    ["Parent", s.parent_span_id ?? "none (a root)"],
    ["Status", s.status],
    ["Starts", formatOffset(s.offset_ms)],
    ["Duration", s.duration_ms === undefined ? "never finished" : formatMs(s.duration_ms)],
  ];
  if (s.self_ms !== undefined) out.push(["Self time", formatMs(s.self_ms)]);
  if (criticalMs !== undefined) out.push(["Critical path", formatMs(criticalMs)]);
  if (s.linked_by) out.push(["Joined", `by ${s.linked_by} and time: trace_id was not propagated`]);
  if (s.flags.length) out.push(["Flags", s.flags.map((f) => FLAG_WORDS[f] ?? f).join("; ")]);
  return out;
}

function facts(data: TraceData, depth: number): Array<[string, string]> {
  const out: Array<[string, string]> = [[data.trace_ids.length > 1 ? "Traces" : "Trace", data.trace_ids.join(", ") || "?"]];
  if (data.start_time) out.push(["Started", data.start_time.replace("T", " ").replace(/Z$/, " UTC")]);
  out.push(["Duration", formatMs(data.duration_ms)]);
  out.push(["Services", data.services.join(", ") || "?"]);
  out.push(["Spans", data.focus_span_id ? `${data.focus_span_count ?? data.shown_spans} in this subtree of ${data.span_count}` : String(data.span_count)]);
  out.push(["Depth", String(depth)]);
  if (data.status_counts.length) out.push(["Status", data.status_counts.map(([s, n]) => `${s} ${n}`).join(", ")]);
  return out;
}

function notes(data: TraceData): string[] {
  const out: string[] = [];
  if (data.resolved?.note) out.push(data.resolved.note);
  if (data.truncated) {
    out.push(
      `Showing ${data.shown_spans} of ${data.focus_span_count ?? data.span_count} spans; ${data.hidden_spans} hidden in ${data.collapsed.length} collapsed group(s): select a ×N row to open it.`,
    );
  }
  if (data.read_truncated) out.push("The trace has more spans than the server reads for one request; only the first ones by start time were read.");
  if (data.answer_cut) out.push("The server shortened this answer to fit its size budget: long values end in …[+N chars cut].");
  return out;
}

/** Tick labels: tenths of a millisecond on short axes, where whole ones would repeat. */
export function tickLabel(ms: number, rangeMs: number): string {
  if (ms === 0) return "0ms";
  if (rangeMs < 40 && Math.abs(ms) < 1000) return `${Number(ms.toFixed(1))}ms`;
  return formatMs(ms);
}

/** [from, to] less the union of `cuts`: the stretches a span holds the critical path itself. */
export function subtract(range: [number, number], cuts: Array<[number, number]>): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let at = range[0];
  for (const [a, b] of [...cuts].sort((x, y) => x[0] - y[0])) {
    if (b <= at) continue;
    if (a > at) out.push([at, Math.min(a, range[1])]);
    at = Math.max(at, b);
    if (at >= range[1]) break;
  }
  if (at < range[1]) out.push([at, range[1]]);
  return out.filter(([a, b]) => b > a);
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
