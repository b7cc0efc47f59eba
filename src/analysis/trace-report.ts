// Turns a span tree and its pruned view into the structured report get_trace returns:
// plain data, no nulls, every list bounded, every cut counted.

import { isFailureStatus, knownEndMs } from "./span.js";
import type { HiddenGroup, PrunedTrace } from "./prune.js";
import type { SpanFlag, SpanNode, SpanTree } from "./span-tree.js";
import { formatDataValue, formatHop, formatMs, isoTime, round } from "./format.js";

export type MetadataMode = "changed" | "all" | "none";

export interface ReportSpan {
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
  flags?: SpanFlag[];
  linked_by?: string;
  metadata?: Record<string, unknown>;
}

export interface ReportGroup {
  /** Absent for roots that did not fit. */
  parent_span_id?: string;
  /** Present when several kinds of span were merged into this row. */
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

export interface TraceReport {
  trace_ids: string[];
  services: string[];
  roots: Array<{ span_id: string; trace_id: string; service: string; operation: string }>;
  start_time: string;
  duration_ms: number;
  span_count: number;
  status_counts: Record<string, number>;
  /** Every failing span of the trace, shown or collapsed, up to FAILED_IDS_CAP: none exists only as a count. */
  failed_span_ids: string[];
  failed_span_ids_truncated: boolean;
  /** Top-down; critical_ms is the time the span itself holds the path (they sum to its root's duration). */
  critical_path: Array<{ span_id: string; service: string; operation: string; duration_ms: number; self_ms?: number; critical_ms: number }>;
  spans: ReportSpan[];
  collapsed: ReportGroup[];
  shown_spans: number;
  hidden_spans: number;
  truncated: boolean;
  findings: string[];
  focus_span_id?: string;
  /** Spans in the focused subtree (what shown_spans and hidden_spans count). */
  focus_span_count?: number;
}

const LIST_CAP = 25;
/** Failing span ids listed outside the span budget; the answer budget will bound this further. */
export const FAILED_IDS_CAP = 5000;
const METADATA_KEYS_CAP = 12;

export function buildTraceReport(
  tree: SpanTree,
  pruned: PrunedTrace,
  options: { metadata: MetadataMode; focus?: SpanNode | null },
): TraceReport {
  const statusCounts: Record<string, number> = {};
  for (const n of tree.nodes) {
    const s = n.flags.includes("unfinished") ? "unfinished" : n.span.status.toLowerCase();
    statusCounts[s] = (statusCounts[s] ?? 0) + 1;
  }
  const failed = tree.nodes.filter((n) => isFailureStatus(n.span.status));
  const report: TraceReport = {
    trace_ids: tree.traceIds,
    services: [...new Set(tree.nodes.map((n) => n.span.service))],
    roots: tree.roots.slice(0, LIST_CAP).map((r) => ({
      span_id: r.span.spanId,
      trace_id: r.span.traceId,
      service: r.span.service,
      operation: r.span.operation,
    })),
    start_time: isoTime(tree.startMs),
    duration_ms: round(tree.endMs - tree.startMs),
    span_count: tree.nodes.length,
    status_counts: statusCounts,
    failed_span_ids: failed.slice(0, FAILED_IDS_CAP).map((n) => n.span.spanId),
    failed_span_ids_truncated: failed.length > FAILED_IDS_CAP,
    critical_path: tree.criticalPath.slice(0, LIST_CAP).map((n) => ({
      span_id: n.span.spanId,
      service: n.span.service,
      operation: n.span.operation,
      duration_ms: round(n.layoutEndMs - n.span.startMs),
      ...(n.selfMs !== null ? { self_ms: round(n.selfMs) } : {}),
      critical_ms: round(n.criticalMs),
    })),
    spans: pruned.shown.map((n) => reportSpan(n, tree.startMs, options.metadata)),
    collapsed: pruned.groups.map((g) => reportGroup(g, tree.startMs)),
    shown_spans: pruned.shown.length,
    hidden_spans: pruned.hiddenSpans,
    truncated: pruned.hiddenSpans > 0,
    findings: findings(tree),
  };
  if (options.focus) {
    report.focus_span_id = options.focus.span.spanId;
    report.focus_span_count = pruned.totalSpans;
  }
  return report;
}


function reportSpan(n: SpanNode, traceStart: number, mode: MetadataMode): ReportSpan {
  const s = n.span;
  const out: ReportSpan = {
    span_id: s.spanId,
    trace_id: s.traceId,
    service: s.service,
    operation: s.operation,
    status: n.flags.includes("unfinished") ? "unfinished" : s.status.toLowerCase(),
    depth: n.depth,
    offset_ms: round(s.startMs - traceStart),
    critical: n.critical,
  };
  if (s.parentSpanId) out.parent_span_id = s.parentSpanId;
  const end = knownEndMs(s);
  if (end !== null) out.duration_ms = round(end - s.startMs);
  if (n.selfMs !== null) out.self_ms = round(n.selfMs);
  if (s.errorMessage) out.error = s.errorMessage;
  if (n.flags.length) out.flags = [...n.flags];
  if (n.linkedBy) out.linked_by = n.linkedBy;
  const metadata = selectMetadata(n, mode);
  if (metadata) out.metadata = metadata;
  return out;
}

/**
 * "changed" keeps the keys whose value differs from the nearest ancestor carrying that key, so a
 * job_id or region is said once at the top and not on every line.
 */
export function selectMetadata(n: SpanNode, mode: MetadataMode): Record<string, unknown> | null {
  if (mode === "none") return null;
  const entries = Object.entries(n.span.metadata).filter(([, v]) => v !== null && v !== undefined && v !== "");
  const kept = mode === "all" ? entries : entries.filter(([k, v]) => !sameAsAncestor(n, k, v));
  if (!kept.length) return null;
  return Object.fromEntries(kept.slice(0, METADATA_KEYS_CAP));
}

function sameAsAncestor(n: SpanNode, key: string, value: unknown): boolean {
  for (let a = n.parent; a; a = a.parent) {
    if (key in a.span.metadata) return JSON.stringify(a.span.metadata[key]) === JSON.stringify(value);
  }
  return false;
}

function reportGroup(g: HiddenGroup, traceStart: number): ReportGroup {
  return {
    ...(g.parent ? { parent_span_id: g.parent.span.spanId } : {}),
    ...(g.kinds > 1 ? { kinds: g.kinds } : {}),
    service: g.service,
    operation: g.operation,
    count: g.count,
    hidden_descendants: g.descendants,
    failed: g.failed,
    offset_ms: round(g.firstStartMs - traceStart),
    ...(g.p50Ms !== null ? { p50_ms: round(g.p50Ms) } : {}),
    total_ms: round(g.totalMs),
    sample_span_ids: g.sampleSpanIds,
  };
}

/** Plain sentences about what is odd in the trace, each naming its span ids. */
function findings(tree: SpanTree): string[] {
  const out: string[] = [];
  const ids = (list: SpanNode[]) =>
    list.slice(0, 5).map((n) => formatDataValue(n.span.spanId)).join(", ") + (list.length > 5 ? ` and ${list.length - 5} more` : "");
  const flagged = (flag: SpanFlag) => tree.nodes.filter((n) => n.flags.includes(flag));

  const failed = tree.nodes.filter((n) => isFailureStatus(n.span.status));
  if (failed.length) {
    const deepest = failed.filter((n) => !n.children.some((c) => isFailureStatus(c.span.status)));
    out.push(
      `${failed.length} span(s) failed; the deepest failure(s), where the error starts: ${deepest
        .slice(0, 5)
        .map((n) => `${formatHop(n.span.service, n.span.operation)} ${formatDataValue(n.span.spanId)} (${formatDataValue(n.span.status)}, ${formatMs(knownEndMs(n.span) === null ? null : knownEndMs(n.span)! - n.span.startMs)})`)
        .join("; ")}${deepest.length > 5 ? ` and ${deepest.length - 5} more` : ""}.`,
    );
  }
  const unfinished = flagged("unfinished");
  if (unfinished.length) out.push(`${unfinished.length} span(s) never finished (status 'started', no end): ${ids(unfinished)}.`);
  const orphans = flagged("orphan");
  if (orphans.length) out.push(`${orphans.length} orphan span(s): their parent_span_id matches no span in the data: ${ids(orphans)}.`);
  const cycles = flagged("parent_cycle");
  if (cycles.length) out.push(`Parent links form a loop; cut at ${ids(cycles)}.`);
  const early = flagged("starts_before_parent");
  if (early.length) out.push(`${early.length} span(s) start before their parent (clock skew between hosts, or wrong parent): ${ids(early)}.`);
  const late = flagged("ends_after_parent");
  if (late.length) out.push(`${late.length} span(s) end after their parent (work that outlived its caller, or clock skew): ${ids(late)}.`);
  const negative = flagged("negative_duration");
  if (negative.length) out.push(`${negative.length} span(s) end before they start (completed_at before started_at, or a negative duration_ms): the clocks or the writes disagree, so their durations are not used: ${ids(negative)}.`);
  const oddMetadata = flagged("metadata_not_object");
  if (oddMetadata.length) out.push(`${oddMetadata.length} span(s) carry metadata that is not a JSON object (an array, a string, a number, null, or not JSON): read as empty, so their job_id and other keys are unknown: ${ids(oddMetadata)}.`);
  const dupes = flagged("duplicate_span_id");
  if (dupes.length) out.push(`${dupes.length} row(s) repeat a span id already seen in the same trace: ${ids(dupes)}.`);
  const linked = tree.nodes.filter((n) => n.linkedBy);
  for (const n of linked.slice(0, 5)) {
    out.push(
      `${formatHop(n.span.service, n.span.operation)} ${formatDataValue(n.span.spanId)} is in another trace (${formatDataValue(n.span.traceId)}); it was joined under ${n.parent ? `${formatHop(n.parent.span.service, n.parent.span.operation)} ${formatDataValue(n.parent.span.spanId)}` : "?"} by ${n.linkedBy} and time, since trace_id was not propagated.`,
    );
  }
  if (tree.roots.length > 1) {
    out.push(`${tree.roots.length} roots: the spans do not form one tree (${ids(tree.roots)}).`);
  }
  return out;
}
