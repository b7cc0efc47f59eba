// Where time or hops went missing in an execution: hops that successful executions of the same
// root operation always have and this one lacks, slow hand-offs between services (compared with the
// same edge in successful executions), idle and untraced time inside a span's own bounds, work that
// began after its caller ended, orphans, spans that never finished, and clock skew.

import { hopName, isFailureStatus, knownEndMs } from "./span.js";
import { subtreeNodes, type SpanNode, type SpanTree } from "./span-tree.js";
import { isAsynchronousChild } from "./critical-path.js";
import { formatHop, formatLabel, formatMs, round } from "./format.js";
import { quantile } from "./quantile.js";

export const GAP_KINDS = [
  "missing_hop",
  "slow_handoff",
  "idle_between_siblings",
  "untraced_time",
  "detached_work",
  "orphan",
  "unfinished",
  "clock_skew",
] as const;
export type GapKind = (typeof GAP_KINDS)[number];

export const SEVERITIES = ["high", "medium", "low"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface GapFinding {
  kind: GapKind;
  severity: Severity;
  /** The spans the finding is about (present ones); evidence to cite. */
  span_ids: string[];
  trace_ids: string[];
  /** Where it starts, from the execution's start. */
  offset_ms?: number;
  size_ms?: number;
  /** For hops and hand-offs: "runner.call_router → router.inference_request". */
  edge?: string;
  /** The missing hop(s), for missing_hop. */
  missing?: string[];
  sentence: string;
}

export interface GapThresholds {
  /** Gaps shorter than this are noise. */
  minGapMs: number;
  /** Without a baseline, a cross-service hand-off slower than this is reported. */
  slowHandoffMs: number;
  /** A hop present in at least this share of successful executions is expected. */
  expectedShare: number;
}

export const DEFAULT_GAP_THRESHOLDS: GapThresholds = { minGapMs: 50, slowHandoffMs: 250, expectedShare: 0.9 };

export const hopOf = (n: SpanNode) => hopName(n.span.service, n.span.operation);

export interface Handoff {
  edge: string;
  parent: SpanNode;
  child: SpanNode;
  /**
   * The time the call took to arrive: the child's start minus the moment the parent could have called
   * it — its own start, or the end of the last of its other children to return before the child began
   * (calls made one after another wait for each other, which is not the callee's hand-off).
   */
  delayMs: number;
  /** That other child, when the delay is counted from its end. */
  after: SpanNode | null;
}

/** Cross-service parent → child hops under a root, in depth-first order. */
export function handoffsOf(root: SpanNode): Handoff[] {
  const out: Handoff[] = [];
  for (const n of subtreeNodes(root)) {
    const p = n.parent;
    if (!p || p.span.service === n.span.service) continue;
    const free = freeFrom(p, n);
    out.push({ edge: `${hopOf(p)} → ${hopOf(n)}`, parent: p, child: n, delayMs: n.span.startMs - free.ms, after: free.after });
  }
  return out;
}

/** When `parent` was last free to call `child`: its start, or the latest end of another child that returned before this one started. */
function freeFrom(parent: SpanNode, child: SpanNode): { ms: number; after: SpanNode | null } {
  let ms = parent.span.startMs;
  let after: SpanNode | null = null;
  for (const s of parent.children) {
    if (s === child) continue;
    const end = knownEndMs(s.span);
    if (end !== null && s.span.startMs >= parent.span.startMs && end <= child.span.startMs && end > ms) [ms, after] = [end, s];
  }
  return { ms, after };
}

export interface EdgeStats {
  edge: string;
  count: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  worst: Handoff[];
}

export function edgeStats(handoffs: Handoff[], worst = 3): EdgeStats[] {
  const byEdge = new Map<string, Handoff[]>();
  for (const h of handoffs) {
    const list = byEdge.get(h.edge) ?? [];
    list.push(h);
    byEdge.set(h.edge, list);
  }
  return [...byEdge.entries()]
    .map(([edge, list]) => {
      const delays = list.map((h) => h.delayMs).sort((a, b) => a - b);
      return {
        edge,
        count: list.length,
        p50Ms: quantile(delays, 0.5),
        p95Ms: quantile(delays, 0.95),
        maxMs: delays[delays.length - 1]!,
        worst: [...list].sort((a, b) => b.delayMs - a.delayMs).slice(0, worst),
      };
    })
    .sort((a, b) => b.p95Ms - a.p95Ms || a.edge.localeCompare(b.edge));
}

export interface HopStats {
  hop: string;
  service: string;
  operation: string;
  /** Successful executions that contain it. */
  executions: number;
  share: number;
  /** Typical offset of its first occurrence from the execution start. */
  p50OffsetMs: number;
  /** The hop it usually hangs under. */
  usualParent: string | null;
}

export interface Baseline {
  rootHop: string;
  executions: number;
  hops: HopStats[];
  edges: Map<string, EdgeStats>;
}

/** What successful executions of one root operation look like: which hops, when, and how fast hand-offs are. */
export function learnBaseline(rootHop: string, executions: SpanNode[]): Baseline {
  const seen = new Map<string, { service: string; operation: string; count: number; offsets: number[]; parents: Map<string, number> }>();
  const handoffs: Handoff[] = [];
  for (const root of executions) {
    const firsts = new Map<string, SpanNode>();
    for (const n of subtreeNodes(root)) {
      if (n === root) continue;
      const hop = hopOf(n);
      const prev = firsts.get(hop);
      if (!prev || n.span.startMs < prev.span.startMs) firsts.set(hop, n);
    }
    for (const [hop, n] of firsts) {
      const s = seen.get(hop) ?? { service: n.span.service, operation: n.span.operation, count: 0, offsets: [] as number[], parents: new Map<string, number>() };
      s.count++;
      s.offsets.push(n.span.startMs - root.span.startMs);
      const parent = n.parent ? hopOf(n.parent) : "";
      s.parents.set(parent, (s.parents.get(parent) ?? 0) + 1);
      seen.set(hop, s);
    }
    handoffs.push(...handoffsOf(root));
  }
  const hops: HopStats[] = [...seen.entries()]
    .map(([hop, s]) => {
      const usual = [...s.parents.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
      return {
        hop,
        service: s.service,
        operation: s.operation,
        executions: s.count,
        share: executions.length ? s.count / executions.length : 0,
        p50OffsetMs: quantile([...s.offsets].sort((a, b) => a - b), 0.5),
        usualParent: usual || null,
      };
    })
    .sort((a, b) => a.p50OffsetMs - b.p50OffsetMs);
  return { rootHop, executions: executions.length, hops, edges: new Map(edgeStats(handoffs).map((e) => [e.edge, e])) };
}

export interface HandoffReport {
  edge: string;
  parent_span_id: string;
  child_span_id: string;
  delay_ms: number;
  linked_by?: string;
  baseline_p50_ms?: number;
  baseline_p95_ms?: number;
}

export interface ExpectedHop {
  hop: string;
  share: number;
  present: boolean;
  usual_offset_ms: number;
}

export interface GapAnalysis {
  findings: GapFinding[];
  handoffs: HandoffReport[];
  expectedHops: ExpectedHop[];
}

const SEVERITY_ORDER: Record<Severity, number> = { high: 0, medium: 1, low: 2 };

/** Everything odd about one execution (the tree's first root and what hangs under it). */
export function findGaps(tree: SpanTree, baseline: Baseline | null, t: GapThresholds = DEFAULT_GAP_THRESHOLDS): GapAnalysis {
  const findings: GapFinding[] = [];
  const start = tree.startMs;
  const off = (n: SpanNode) => round(n.span.startMs - start);
  const ids = (...ns: SpanNode[]) => ({ span_ids: ns.map((n) => n.span.spanId), trace_ids: [...new Set(ns.map((n) => n.span.traceId))] });

  // Hand-offs, compared with the same edge in successful executions.
  const handoffs: HandoffReport[] = [];
  for (const root of tree.roots) {
    for (const h of handoffsOf(root)) {
      const base = baseline?.edges.get(h.edge);
      handoffs.push({
        edge: h.edge,
        parent_span_id: h.parent.span.spanId,
        child_span_id: h.child.span.spanId,
        delay_ms: round(h.delayMs),
        ...(h.child.linkedBy ? { linked_by: h.child.linkedBy } : {}),
        ...(base ? { baseline_p50_ms: round(base.p50Ms), baseline_p95_ms: round(base.p95Ms) } : {}),
      });
      const slow = base && base.count >= 5 ? h.delayMs > Math.max(1.5 * base.p95Ms, base.p50Ms + t.minGapMs) : h.delayMs > t.slowHandoffMs;
      if (!slow) continue;
      const severity: Severity = h.delayMs >= 1000 && (!base || h.delayMs > 5 * base.p50Ms) ? "high" : "medium";
      findings.push({
        kind: "slow_handoff",
        severity,
        ...ids(h.parent, h.child),
        offset_ms: off(h.parent),
        size_ms: round(h.delayMs),
        edge: h.edge,
        sentence: `${formatHop(h.child.span.service, h.child.span.operation)} started ${formatMs(h.delayMs)} after ${
          h.after ? `${formatHop(h.parent.span.service, h.parent.span.operation)}'s call before it (${formatHop(h.after.span.service, h.after.span.operation)}) returned` : `${formatHop(h.parent.span.service, h.parent.span.operation)} called it`
        }${
          base ? ` (successful executions: p50 ${formatMs(base.p50Ms)}, p95 ${formatMs(base.p95Ms)} over ${base.count})` : ` (over ${formatMs(t.slowHandoffMs)}; no baseline for this edge)`
        }: time spent queueing, connecting or cold-starting before ${h.child.span.service} began work.`,
      });
    }
  }

  // Idle time between siblings, and untraced time at the start or end of a span with children: only
  // inside the span's own bounds. A child that began after the span ended is detached work instead.
  for (const n of tree.nodes) {
    const end = knownEndMs(n.span);
    if (!n.children.length || end === null) continue;
    const begin = n.span.startMs;
    const duration = end - begin;
    const inside: Array<{ node: SpanNode; startMs: number; endMs: number }> = [];
    for (const c of n.children) {
      if (detachedFrom(c, end)) {
        findings.push(detached(n, c, end, off(c), ids(n, c)));
        continue;
      }
      // The parent did not wait for asynchronous work: it neither covers the parent's time nor bounds a gap.
      if (isAsynchronousChild(c.span, n.span)) continue;
      // Wholly before the parent: clock skew, reported from the flags below.
      if (c.span.startMs < begin && c.layoutEndMs <= begin) continue;
      const s = Math.max(c.span.startMs, begin);
      inside.push({ node: c, startMs: s, endMs: Math.max(s, Math.min(c.layoutEndMs, end)) });
    }
    if (!inside.length) continue;
    inside.sort((a, b) => a.startMs - b.startMs);
    const first = inside[0]!;
    const lead = first.startMs - begin;
    if (lead >= t.minGapMs && first.node.span.service === n.span.service) {
      findings.push(untraced(n, first.node, "before", lead, duration, off(n), ids(n, first.node)));
    }
    let lastEnd = first.endMs;
    let lastNode = first.node;
    // A child that never finished did not return: the time after it is not idle or untraced, it is unknown.
    const returned = (k: SpanNode) => knownEndMs(k.span) !== null;
    for (const k of inside.slice(1)) {
      const gap = k.startMs - lastEnd;
      if (gap >= t.minGapMs && returned(lastNode)) {
        findings.push({
          kind: "idle_between_siblings",
          severity: severityByShare(gap, duration),
          ...ids(lastNode, k.node),
          offset_ms: round(lastEnd - start),
          size_ms: round(gap),
          sentence: `${formatMs(gap)} passed inside ${formatHop(n.span.service, n.span.operation)} between the end of ${formatHop(lastNode.span.service, lastNode.span.operation)} and the start of ${formatHop(k.node.span.service, k.node.span.operation)}, with no span covering it (untraced work, a wait, or a retry back-off).`,
        });
      }
      if (k.endMs > lastEnd) {
        lastEnd = k.endMs;
        lastNode = k.node;
      }
    }
    const tail = end - lastEnd;
    if (tail >= t.minGapMs && returned(lastNode)) findings.push(untraced(n, lastNode, "after", tail, duration, round(lastEnd - start), ids(n, lastNode)));
  }

  // Flags the tree already knows.
  for (const n of tree.nodes) {
    for (const flag of n.flags) {
      if (flag === "unfinished") {
        findings.push({
          kind: "unfinished",
          severity: "high",
          ...ids(n),
          offset_ms: off(n),
          sentence: `${formatHop(n.span.service, n.span.operation)} was started and never finished (status 'started', no end): the process crashed or was killed, or its completion was never written.`,
        });
      } else if (flag === "orphan") {
        findings.push({
          kind: "orphan",
          severity: "medium",
          ...ids(n),
          offset_ms: off(n),
          sentence: `${formatHop(n.span.service, n.span.operation)} names parent ${JSON.stringify(n.span.parentSpanId)}, which is not in the data: its caller's span was never written or is in a trace not loaded.`,
        });
      } else if ((flag === "starts_before_parent" || flag === "ends_after_parent") && n.parent) {
        // A child that began after its parent ended is already a detached_work finding.
        const parentEnd = knownEndMs(n.parent.span);
        if (flag === "ends_after_parent" && parentEnd !== null && detachedFrom(n, parentEnd)) continue;
        // Asynchronous work outliving its producer is what asynchronous means, not skew.
        if (flag === "ends_after_parent" && isAsynchronousChild(n.span, n.parent.span)) continue;
        const p = n.parent;
        const size = flag === "starts_before_parent" ? p.span.startMs - n.span.startMs : (knownEndMs(n.span) ?? 0) - (knownEndMs(p.span) ?? 0);
        findings.push({
          kind: "clock_skew",
          severity: size >= 1000 ? "medium" : "low",
          ...ids(p, n),
          offset_ms: off(n),
          size_ms: round(size),
          sentence:
            flag === "starts_before_parent"
              ? `${formatHop(n.span.service, n.span.operation)} starts ${formatMs(size)} before its parent ${formatHop(p.span.service, p.span.operation)}: the hosts' clocks disagree (or the parent link is wrong), so offsets across this edge are off by at least that much.`
              : `${formatHop(n.span.service, n.span.operation)} ends ${formatMs(size)} after its parent ${formatHop(p.span.service, p.span.operation)}: work that outlived its caller (fire-and-forget, a caller that gave up) or clock skew.`,
        });
      }
    }
  }

  const expectedHops = baseline ? missingHops(tree, baseline, t, findings) : [];
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || (b.size_ms ?? 0) - (a.size_ms ?? 0));
  return { findings, handoffs, expectedHops };
}

function severityByShare(gap: number, duration: number): Severity {
  if (gap >= 1000 && gap >= 0.5 * duration) return "high";
  if (gap >= 0.2 * duration) return "medium";
  return "low";
}

/** A child that began at or after its parent's end and ran past it: its parent did not wait for it. */
function detachedFrom(child: SpanNode, parentEnd: number): boolean {
  return child.span.startMs > parentEnd || (child.span.startMs === parentEnd && child.layoutEndMs > parentEnd);
}

function detached(
  parent: SpanNode,
  child: SpanNode,
  parentEnd: number,
  offset: number,
  evidence: { span_ids: string[]; trace_ids: string[] },
): GapFinding {
  const delay = child.span.startMs - parentEnd;
  const asynchronous = isAsynchronousChild(child.span, parent.span);
  const childEnd = knownEndMs(child.span);
  const lasted = childEnd === null ? "never finished" : `lasted ${formatMs(childEnd - child.span.startMs)}`;
  return {
    kind: "detached_work",
    severity: !asynchronous && delay >= 1000 ? "medium" : "low",
    ...evidence,
    offset_ms: offset,
    size_ms: round(delay),
    sentence:
      `${formatHop(child.span.service, child.span.operation)} began ${formatMs(delay)} after its parent ${formatHop(parent.span.service, parent.span.operation)} had ended ` +
      `(the parent lasted ${formatMs(parentEnd - parent.span.startMs)}; the child ${lasted}): fire-and-forget or asynchronous work that outlived its caller, or clock skew.` +
      (asynchronous ? " It is marked asynchronous (a consumer of a producer, or follows-from), so its caller was not meant to wait for it." : ""),
  };
}

function untraced(
  n: SpanNode,
  child: SpanNode,
  where: "before" | "after",
  size: number,
  duration: number,
  offset: number,
  evidence: { span_ids: string[]; trace_ids: string[] },
): GapFinding {
  const hop = formatHop(n.span.service, n.span.operation);
  const childHop = formatHop(child.span.service, child.span.operation);
  return {
    kind: "untraced_time",
    severity: severityByShare(size, duration),
    ...evidence,
    offset_ms: offset,
    size_ms: round(size),
    sentence:
      where === "before"
        ? `${formatMs(size)} of ${hop} passed before its first child ${childHop} began, with no span covering it.`
        : `${formatMs(size)} of ${hop} passed after ${childHop} returned, with no span covering it (response handling, a slow write, or waiting on something untraced).`,
  };
}

/**
 * Expected hops (in at least expectedShare of successful executions) absent here. A missing hop whose
 * usual parent is present is where the execution was cut; hops that usually hang below a missing hop
 * are listed as its consequences rather than as findings of their own.
 */
function missingHops(tree: SpanTree, baseline: Baseline, t: GapThresholds, findings: GapFinding[]): ExpectedHop[] {
  const root = tree.roots[0];
  if (!root || baseline.executions === 0) return [];
  const present = new Map<string, SpanNode>();
  for (const n of tree.nodes) if (!present.has(hopOf(n))) present.set(hopOf(n), n);
  const expected = baseline.hops.filter((h) => h.share >= t.expectedShare);
  const missing = expected.filter((h) => !present.has(h.hop));
  const byHop = new Map(baseline.hops.map((h) => [h.hop, h]));
  const cutOf = (hop: string): string => {
    let cur = hop;
    for (let guard = 0; guard < 50; guard++) {
      const parent = byHop.get(cur)?.usualParent;
      if (!parent || present.has(parent) || !missing.some((m) => m.hop === parent)) return cur;
      cur = parent;
    }
    return cur;
  };
  const consequences = new Map<string, string[]>();
  for (const m of missing) {
    const cut = cutOf(m.hop);
    if (cut !== m.hop) consequences.set(cut, [...(consequences.get(cut) ?? []), m.hop]);
  }
  const rootFailed = isFailureStatus(root.span.status);
  const executionEnd = tree.endMs - tree.startMs;
  for (const m of missing) {
    if (cutOf(m.hop) !== m.hop) continue;
    const parentHop = m.usualParent;
    const parent = parentHop ? present.get(parentHop) : undefined;
    const service = m.service;
    const crossService = parent !== undefined && parent.span.service !== service;
    const after = consequences.get(m.hop) ?? [];
    const pct = Math.round(m.share * 100);
    let sentence = `${formatLabel(m.hop)} is missing: it appears in ${pct}% of ${baseline.executions} successful ${formatLabel(baseline.rootHop)} executions (usually at +${formatMs(m.p50OffsetMs)}${parentHop ? `, under ${formatLabel(parentHop)}` : ""}), and this execution has none.`;
    if (crossService && parent && parentHop) {
      const pEnd = knownEndMs(parent.span);
      const outcome = isFailureStatus(parent.span.status)
        ? ` ${formatLabel(parentHop)} ${formatLabel(parent.span.spanId)} is here and ${formatLabel(parent.span.status)} after ${formatMs(pEnd === null ? null : pEnd - parent.span.startMs)}`
        : ` ${formatLabel(parentHop)} ${formatLabel(parent.span.spanId)} is here`;
      sentence += `${outcome}, so the request most likely never reached ${formatLabel(service)}.`;
    } else if (rootFailed && m.p50OffsetMs > executionEnd) {
      sentence += ` The execution ended at +${formatMs(executionEnd)}, before the point where it usually runs.`;
    }
    if (after.length) sentence += ` Missing as a consequence: ${after.map((h) => formatLabel(h)).join(", ")}.`;
    findings.push({
      kind: "missing_hop",
      severity: crossService ? "high" : rootFailed ? "low" : "medium",
      span_ids: parent ? [parent.span.spanId] : [root.span.spanId],
      trace_ids: [(parent ?? root).span.traceId],
      offset_ms: round(m.p50OffsetMs),
      ...(parentHop ? { edge: `${parentHop} → ${m.hop}` } : {}),
      missing: [m.hop, ...after],
      sentence,
    });
  }
  return expected.map((h) => ({ hop: h.hop, share: round(h.share, 3), present: present.has(h.hop), usual_offset_ms: round(h.p50OffsetMs) }));
}

export interface MissingHopCount {
  hop: string;
  service: string;
  operation: string;
  /** Share of successful executions that have it. */
  expectedShare: number;
  /** Executions (of any outcome) that lack it. */
  missingIn: number;
  examples: Array<{ traceId: string; spanId: string }>;
}

export interface RootGroup {
  rootHop: string;
  executions: number;
  successful: number;
  failed: number;
  missing: MissingHopCount[];
}

export interface AggregateGaps {
  executions: number;
  groups: RootGroup[];
  edges: EdgeStats[];
  unfinished: SpanNode[];
  orphans: SpanNode[];
}

/**
 * Across many executions: hand-off delay per service edge, and for each root operation how often
 * each expected hop (learned from its successful executions) is missing.
 */
export function aggregateGaps(executions: SpanNode[], t: GapThresholds = DEFAULT_GAP_THRESHOLDS): AggregateGaps {
  const byRoot = new Map<string, SpanNode[]>();
  for (const e of executions) byRoot.set(hopOf(e), [...(byRoot.get(hopOf(e)) ?? []), e]);
  const groups: RootGroup[] = [];
  for (const [rootHop, list] of byRoot) {
    const ok = list.filter(succeeded);
    const group: RootGroup = { rootHop, executions: list.length, successful: ok.length, failed: list.length - ok.length, missing: [] };
    if (ok.length >= 5) {
      const baseline = learnBaseline(rootHop, ok);
      for (const h of baseline.hops.filter((h) => h.share >= t.expectedShare)) {
        const lacking = list.filter((e) => !subtreeNodes(e).some((n) => n !== e && hopOf(n) === h.hop));
        if (!lacking.length) continue;
        group.missing.push({
          hop: h.hop,
          service: h.service,
          operation: h.operation,
          expectedShare: round(h.share, 3),
          missingIn: lacking.length,
          examples: lacking.slice(0, 3).map((e) => ({ traceId: e.span.traceId, spanId: e.span.spanId })),
        });
      }
      group.missing.sort((a, b) => b.missingIn - a.missingIn || a.hop.localeCompare(b.hop));
    }
    groups.push(group);
  }
  groups.sort((a, b) => b.executions - a.executions);
  const all = executions.flatMap((e) => subtreeNodes(e));
  return {
    executions: executions.length,
    groups,
    edges: edgeStats(executions.flatMap((e) => handoffsOf(e))),
    unfinished: all.filter((n) => n.flags.includes("unfinished")),
    orphans: all.filter((n) => n.flags.includes("orphan")),
  };
}

/** A root that neither failed nor is still running. */
export function succeeded(root: SpanNode): boolean {
  return !isFailureStatus(root.span.status) && !root.flags.includes("unfinished") && root.span.status !== "started";
}
