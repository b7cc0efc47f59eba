// One execution against healthy executions of the same root operation (baseline-profile.ts): whether
// it is slow and by how much, where the extra time went (repeated identical calls, one slow hop,
// untraced time, queueing), each hop present, missing or extra with its duration against p50/p95,
// repeated operations, metadata that differs, and the first point where it left the usual path.

import { isFailureStatus, knownEndMs } from "./span.js";
import { subtreeNodes, type SpanNode, type SpanTree } from "./span-tree.js";
import { hopOf } from "./gaps.js";
import type { BaselineProfile, HopProfile } from "./baseline-profile.js";
import { errorSignature } from "./failure-clusters.js";
import { POOL_WAIT_NAME } from "./error-evidence.js";
import { findRetries, type RetrySequence } from "./retries.js";
import { isOutcomeKey, scalarText } from "./metadata-keys.js";
import { formatHop, formatLabel, formatMs, round } from "./format.js";
import { MIN_BASELINE_EXECUTIONS, MIN_GAP_MS, EXPECTED_HOP_SHARE } from "./defaults.js";

export const DURATION_VERDICTS = ["slow", "usual", "fast", "unknown"] as const;
export type DurationVerdictKind = (typeof DURATION_VERDICTS)[number];
export const HOP_VERDICTS = ["usual", "slow", "failed", "unfinished", "repeated", "missing", "extra"] as const;
export type HopVerdict = (typeof HOP_VERDICTS)[number];
export const TIME_KINDS = ["n_plus_one", "slow_hop", "untraced_time", "queueing", "retry_backoff"] as const;
export type TimeKind = (typeof TIME_KINDS)[number];
export const DIVERGENCE_KINDS = ["failed", "unfinished", "missing_hop", "extra_hop", "repeated", "slow_hop", "late_start"] as const;
export type DivergenceKind = (typeof DIVERGENCE_KINDS)[number];

export interface ComparisonThresholds {
  /** Slower than this many times the baseline's p95 is slow. */
  slowFactor: number;
  /** Differences smaller than this are noise. */
  minGapMs: number;
  /** A hop in at least this share of healthy executions is expected. */
  expectedShare: number;
  /** A hop or value in less than this share of healthy executions is unusual. */
  rareShare: number;
  /** Fewer healthy executions than this and durations and counts are not judged (1 when comparing with one chosen execution). */
  minExecutions: number;
}

export const DEFAULT_COMPARISON_THRESHOLDS: ComparisonThresholds = {
  slowFactor: 1.5,
  minGapMs: MIN_GAP_MS,
  expectedShare: EXPECTED_HOP_SHARE,
  rareShare: 0.05,
  minExecutions: MIN_BASELINE_EXECUTIONS,
};

export interface DurationVerdict {
  ms: number | null;
  p50Ms: number;
  p95Ms: number;
  /** ms / p50. */
  ratio: number | null;
  verdict: DurationVerdictKind;
  /** Beyond the baseline's p50. */
  extraMs: number;
}

export interface HopComparison {
  hop: string;
  service: string;
  operation: string;
  verdict: HopVerdict;
  count: number;
  /** Share of healthy executions that have it (0: never). */
  baselineShare: number;
  baselineCount?: number;
  baselineMaxCount?: number;
  slowestMs?: number;
  totalMs?: number;
  baselineP50Ms?: number;
  baselineP95Ms?: number;
  offsetMs?: number;
  usualOffsetMs?: number;
  /** The first few occurrences, to cite. */
  nodes: SpanNode[];
}

export interface TimeContribution {
  kind: TimeKind;
  hop: string;
  extraMs: number;
  /** Of the execution's time beyond the baseline p50. */
  share: number;
  nodes: SpanNode[];
  sentence: string;
}

export interface RepeatedHop {
  hop: string;
  parentHop: string | null;
  count: number;
  baselineCount: number;
  baselineMaxCount: number;
  /** Every occurrence has the same metadata once ids and numbers are masked: the same call each time. */
  identical: boolean;
  /** One after another rather than in parallel. */
  sequential: boolean;
  eachP50Ms: number;
  totalMs: number;
  nodes: SpanNode[];
}

export interface MetadataDifference {
  hop: string;
  key: string;
  /** Null: healthy executions carry the key and this one does not. */
  value: string | null;
  /** The values healthy executions carry, most common first, with their share. */
  baseline: Array<{ value: string; share: number }>;
  /** The key reports how the work ended (error code, status): a symptom, not a cause. */
  outcome: boolean;
  node: SpanNode;
}

export interface Divergence {
  kind: DivergenceKind;
  offsetMs: number;
  hop: string;
  /** The span where it shows; null for a hop that is missing (then its caller, when present). */
  node: SpanNode | null;
  sentence: string;
}

export interface Comparison {
  rootHop: string;
  baselineExecutions: number;
  duration: DurationVerdict;
  hops: HopComparison[];
  extraTime: TimeContribution[];
  repeated: RepeatedHop[];
  metadata: MetadataDifference[];
  firstDivergence: Divergence | null;
  /** The calls to other services healthy executions make (share ≥ 50%), and the most common one's share. */
  outgoing: { hops: string[]; maxShare: number };
  exampleTraceIds: string[];
}

const durationOf = (n: SpanNode) => {
  const end = knownEndMs(n.span);
  return end === null ? null : end - n.span.startMs;
};
const label = (h: string) => formatLabel(h);
const hopText = (n: SpanNode) => formatHop(n.span.service, n.span.operation);
const failed = (n: SpanNode) => isFailureStatus(n.span.status);
const unfinished = (n: SpanNode) => n.flags.includes("unfinished");


export interface ComparisonOptions {
  thresholds?: ComparisonThresholds;
  /** Metadata keys that identify an execution (the correlation keys: job_id): they always differ, so they are never compared. */
  identityKeys?: readonly string[];
}

export function compareExecution(tree: SpanTree, profile: BaselineProfile, options: ComparisonOptions = {}): Comparison {
  const t = options.thresholds ?? DEFAULT_COMPARISON_THRESHOLDS;
  const identity = new Set(options.identityKeys ?? []);
  const root = tree.roots[0]!;
  const start = tree.startMs;
  /** Enough healthy executions to judge a hop's duration or count against. */
  const judged = (p: HopProfile | undefined): p is HopProfile => p !== undefined && p.executions >= t.minExecutions;
  const byHop = new Map<string, SpanNode[]>();
  for (const n of tree.nodes) if (n !== root) byHop.set(hopOf(n), [...(byHop.get(hopOf(n)) ?? []), n]);

  const duration = durationVerdict(root, profile, t);
  const isRepeated = (hop: string, count: number) => {
    const p = profile.hops.get(hop);
    if (!judged(p)) return count >= 10;
    return count > p.count.max && count >= Math.max(3, 3 * p.count.p50);
  };

  // Each hop present here, and each expected one that is not.
  const hops: HopComparison[] = [];
  for (const [hop, nodes] of byHop) {
    const p = profile.hops.get(hop);
    const durations = nodes.map(durationOf).filter((d): d is number => d !== null);
    const slowest = durations.length ? Math.max(...durations) : undefined;
    const share = p?.share ?? 0;
    let verdict: HopVerdict = "usual";
    if (nodes.some(unfinished)) verdict = "unfinished";
    else if (nodes.some(failed)) verdict = "failed";
    else if (isRepeated(hop, nodes.length)) verdict = "repeated";
    else if (judged(p) && slowest !== undefined && slowest > slowLimit(p, t)) verdict = "slow";
    else if (share < t.rareShare) verdict = "extra";
    hops.push({
      hop,
      service: nodes[0]!.span.service,
      operation: nodes[0]!.span.operation,
      verdict,
      count: nodes.length,
      baselineShare: round(share, 3),
      ...(p && { baselineCount: round(p.count.p50), baselineMaxCount: p.count.max, baselineP50Ms: round(p.durationMs.p50), baselineP95Ms: round(p.durationMs.p95), usualOffsetMs: round(p.offsetMs.p50) }),
      ...(slowest !== undefined && { slowestMs: round(slowest), totalMs: round(durations.reduce((a, b) => a + b, 0)) }),
      offsetMs: round(nodes[0]!.span.startMs - start),
      nodes: nodes.slice(0, 3),
    });
  }
  for (const p of profile.hops.values()) {
    if (p.hop === profile.rootHop || byHop.has(p.hop) || p.share < t.expectedShare) continue;
    hops.push({
      hop: p.hop,
      service: p.service,
      operation: p.operation,
      verdict: "missing",
      count: 0,
      baselineShare: round(p.share, 3),
      baselineCount: round(p.count.p50),
      baselineMaxCount: p.count.max,
      baselineP50Ms: round(p.durationMs.p50),
      baselineP95Ms: round(p.durationMs.p95),
      usualOffsetMs: round(p.offsetMs.p50),
      nodes: [],
    });
  }
  hops.sort((a, b) => (a.offsetMs ?? a.usualOffsetMs ?? 0) - (b.offsetMs ?? b.usualOffsetMs ?? 0) || a.hop.localeCompare(b.hop));

  const retries = findRetries(tree);
  // Attempts of a retry (and what runs under them) are shown as retries, not as repeated calls.
  const inRetry = new Set(retries.flatMap((r) => r.attempts.flatMap((a) => subtreeNodes(a))));
  const repeated = repeatedHops(new Map([...byHop].filter(([, ns]) => ns.filter((n) => inRetry.has(n)).length < ns.length / 2)), profile, isRepeated);
  return {
    rootHop: profile.rootHop,
    baselineExecutions: profile.executions,
    duration,
    hops,
    extraTime: duration.verdict === "slow" ? whereTimeWent(tree, byHop, profile, duration, repeated, retries, t) : [],
    repeated,
    metadata: metadataDifferences(root, byHop, profile, judged, identity, t),
    firstDivergence: firstDivergence(tree, byHop, profile, isRepeated, judged, t),
    outgoing: { hops: profile.outgoing.filter((o) => o.share >= 0.5).map((o) => o.hop), maxShare: round(profile.outgoing[0]?.share ?? 0, 3) },
    exampleTraceIds: profile.exampleTraceIds,
  };
}

function slowLimit(p: HopProfile, t: ComparisonThresholds): number {
  return Math.max(t.slowFactor * p.durationMs.p95, p.durationMs.p50 + t.minGapMs);
}

function durationVerdict(root: SpanNode, profile: BaselineProfile, t: ComparisonThresholds): DurationVerdict {
  const ms = durationOf(root);
  const { p50, p95 } = profile.durationMs;
  const base = { ms: ms === null ? null : round(ms), p50Ms: round(p50), p95Ms: round(p95) };
  if (ms === null || profile.executions < t.minExecutions) return { ...base, ratio: null, verdict: "unknown", extraMs: 0 };
  const ratio = p50 > 0 ? round(ms / p50, 2) : null;
  const verdict: DurationVerdictKind =
    ms > Math.max(t.slowFactor * p95, p50 + 2 * t.minGapMs) ? "slow" : ms < 0.5 * p50 && p50 - ms > 2 * t.minGapMs ? "fast" : "usual";
  return { ...base, ratio, verdict, extraMs: round(Math.max(0, ms - p50)) };
}

/** The same call made many more times than healthy executions make it: the N+1 shape, or a loop. */
function repeatedHops(byHop: Map<string, SpanNode[]>, profile: BaselineProfile, isRepeated: (hop: string, count: number) => boolean): RepeatedHop[] {
  const out: RepeatedHop[] = [];
  for (const [hop, nodes] of byHop) {
    if (nodes.length < 3 || !isRepeated(hop, nodes.length)) continue;
    const p = profile.hops.get(hop);
    const sorted = [...nodes].sort((a, b) => a.span.startMs - b.span.startMs);
    const pairs = sorted.slice(1).map((n, k) => n.span.startMs >= (knownEndMs(sorted[k]!.span) ?? Infinity) - 1);
    const durations = nodes.map(durationOf).filter((d): d is number => d !== null).sort((a, b) => a - b);
    const signature = (n: SpanNode) =>
      Object.entries(n.span.metadata)
        .map(([k, v]) => [k, scalarText(v)] as const)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => `${k}=${errorSignature(v)}`)
        .sort()
        .join("\u0000");
    const first = signature(sorted[0]!);
    out.push({
      hop,
      parentHop: sorted[0]!.parent ? hopOf(sorted[0]!.parent) : null,
      count: nodes.length,
      baselineCount: round(p?.count.p50 ?? 0),
      baselineMaxCount: p?.count.max ?? 0,
      identical: sorted.every((n) => signature(n) === first && (n.parent ? hopOf(n.parent) : null) === (sorted[0]!.parent ? hopOf(sorted[0]!.parent) : null)),
      sequential: pairs.length > 0 && pairs.filter(Boolean).length >= 0.9 * pairs.length,
      eachP50Ms: round(durations[Math.floor((durations.length - 1) / 2)] ?? 0),
      totalMs: round(durations.reduce((a, b) => a + b, 0)),
      nodes: sorted.slice(0, 3),
    });
  }
  return out.sort((a, b) => b.totalMs - a.totalMs);
}

/**
 * The time beyond the baseline's p50, by hop: each hop's share of the critical path here against its
 * p50 in healthy executions. A repeated hop is N+1; a wait for a pooled resource or a callee that
 * started late is queueing; a caller's own time outside its children is untraced; the rest is one slow hop.
 */
function whereTimeWent(
  tree: SpanTree,
  byHop: Map<string, SpanNode[]>,
  profile: BaselineProfile,
  duration: DurationVerdict,
  repeated: RepeatedHop[],
  retries: RetrySequence[],
  t: ComparisonThresholds,
): TimeContribution[] {
  const root = tree.roots[0]!;
  const extra = Math.max(duration.extraMs, 1);
  const all = new Map(byHop);
  all.set(hopOf(root), [root]);
  const out: TimeContribution[] = [];
  for (const [hop, nodes] of all) {
    const here = nodes.reduce((sum, n) => sum + n.criticalMs, 0);
    const p = profile.hops.get(hop);
    const delta = here - (p?.criticalMs.p50 ?? 0);
    if (delta < Math.max(t.minGapMs, 0.05 * extra)) continue;
    const rep = repeated.find((r) => r.hop === hop);
    const cite = [...nodes].sort((a, b) => b.criticalMs - a.criticalMs).slice(0, 3);
    const lateChild = nodes
      .flatMap((n) => n.children.filter((c) => c.span.service !== n.span.service).map((c) => ({ c, late: c.span.startMs - n.span.startMs - (profile.hops.get(hopOf(c))?.handoffMs.p50 ?? 0) })))
      .sort((a, b) => b.late - a.late)[0];
    let kind: TimeKind;
    let sentence: string;
    const base = p ? `successful runs: p50 ${formatMs(p.durationMs.p50)}, p95 ${formatMs(p.durationMs.p95)}` : "absent from successful runs";
    if (rep) {
      kind = "n_plus_one";
      sentence = `${label(hop)} ran ${rep.count}× (successful runs: ${rep.baselineCount}×, at most ${rep.baselineMaxCount}×)${rep.sequential ? ", one after another" : ""}${rep.identical ? ", the same call each time" : ""}, p50 ${formatMs(rep.eachP50Ms)} each: repeated calls (N+1) — ${formatMs(delta)} more on the critical path.`;
    } else if (POOL_WAIT_NAME.test(nodes[0]!.span.operation) || /queue|wait|backlog/i.test(nodes[0]!.span.operation)) {
      kind = "queueing";
      sentence = `${label(hop)} waited ${formatMs(Math.max(...nodes.map((n) => durationOf(n) ?? 0)))} (${base}): queueing for a pooled resource — ${formatMs(delta)} more on the critical path.`;
    } else if (lateChild && lateChild.late >= 0.5 * delta) {
      kind = "queueing";
      const ch = profile.hops.get(hopOf(lateChild.c));
      sentence = `${hopText(lateChild.c)} started ${formatMs(lateChild.c.span.startMs - lateChild.c.parent!.span.startMs)} after ${label(hop)} called it (successful runs: p50 ${formatMs(ch?.handoffMs.p50 ?? null)}): queueing, connection set-up or a cold start before ${formatLabel(lateChild.c.span.service)} began — ${formatMs(delta)} more on the critical path.`;
    } else if (retries.some((r) => nodes.includes(r.parent) && r.waitsMs.reduce((a, b) => a + b, 0) >= 0.5 * delta)) {
      kind = "retry_backoff";
      const r = retries.find((x) => nodes.includes(x.parent))!;
      const waited = r.waitsMs.reduce((a, b) => a + b, 0);
      sentence = `${label(hop)} waited ${formatMs(waited)} between ${r.attempts.length} attempts of ${label(r.hop)} (${r.backoff} back-off: ${r.waitsMs.map((w) => formatMs(w)).join(" → ")}), ${r.outcome === "exhausted" ? "and every attempt failed" : "before one succeeded"} — ${formatMs(delta)} more on the critical path.`;
    } else if (nodes.some((n) => n.children.length > 0)) {
      kind = "untraced_time";
      sentence = `${formatMs(delta)} more passed inside ${label(hop)} outside any of its child spans than in successful runs (p50 ${formatMs(p?.criticalMs.p50 ?? 0)}): its own untraced work, or a wait nothing traced.`;
    } else {
      kind = "slow_hop";
      const slowest = Math.max(...nodes.map((n) => durationOf(n) ?? 0));
      sentence = `${label(hop)} took ${formatMs(slowest)} (${base}) — ${formatMs(delta)} more on the critical path.`;
    }
    out.push({ kind, hop, extraMs: round(delta), share: round(Math.min(1, delta / extra), 3), nodes: cite, sentence });
  }
  return out.sort((a, b) => b.extraMs - a.extraMs).slice(0, 5);
}

/** Metadata this execution carries that healthy ones (nearly) never do, and keys they always carry that it lacks. */
function metadataDifferences(
  root: SpanNode,
  byHop: Map<string, SpanNode[]>,
  profile: BaselineProfile,
  judged: (p: HopProfile | undefined) => p is HopProfile,
  identity: ReadonlySet<string>,
  t: ComparisonThresholds,
): MetadataDifference[] {
  const out: MetadataDifference[] = [];
  const firsts: Array<[string, SpanNode]> = [[hopOf(root), root], ...[...byHop.entries()].map(([h, ns]) => [h, ns[0]!] as [string, SpanNode])];
  for (const [hop, node] of firsts) {
    const p = profile.hops.get(hop);
    if (!judged(p)) continue;
    const here = new Map<string, string>();
    for (const [k, v] of Object.entries(node.span.metadata)) {
      const text = scalarText(v);
      if (text !== null && !identity.has(k)) here.set(k, text);
    }
    const top = (values: Map<string, number>) =>
      [...values.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 3)
        .map(([value, n]) => ({ value, share: round(n / p.executions, 3) }));
    for (const [key, value] of here) {
      const values = p.metadata.get(key);
      if (!values) {
        out.push({ hop, key, value, baseline: [], outcome: isOutcomeKey(key), node });
        continue;
      }
      const carrying = [...values.values()].reduce((a, b) => a + b, 0);
      // A key whose healthy values are mostly distinct (job ids, timestamps) says nothing by differing,
      // nor one spread thin over many values (a question id among forty): every value of it is rare.
      if (values.size > Math.max(3, 0.5 * carrying)) continue;
      if (values.size >= 10 && Math.max(...values.values()) / carrying < 0.2) continue;
      if ((values.get(value) ?? 0) / p.executions >= t.rareShare) continue;
      // Nor does an id that differs from the healthy ones only in its number (one chosen execution cannot show it is an id).
      if (idShaped(value, [...values.keys()])) continue;
      out.push({ hop, key, value, baseline: top(values), outcome: isOutcomeKey(key), node });
    }
    for (const [key, values] of p.metadata) {
      if (here.has(key) || identity.has(key)) continue;
      const carrying = [...values.values()].reduce((a, b) => a + b, 0);
      if (carrying / p.executions < t.expectedShare) continue;
      out.push({ hop, key, value: null, baseline: values.size > Math.max(3, 0.5 * carrying) ? [] : top(values), outcome: isOutcomeKey(key), node });
    }
  }
  return out.sort((a, b) => Number(a.outcome) - Number(b.outcome));
}

/** A value like job-1761151926484 or a hex id, shaped like every healthy value once numbers and ids are masked. */
function idShaped(value: string, healthy: readonly string[]): boolean {
  if (!/\d{6,}|[0-9a-f]{12,}/i.test(value)) return false;
  const shape = errorSignature(value);
  return healthy.every((h) => errorSignature(h) === shape);
}

const DIVERGENCE_ORDER: Record<DivergenceKind, number> = { failed: 0, unfinished: 1, missing_hop: 2, extra_hop: 3, repeated: 4, slow_hop: 5, late_start: 6 };

/** The earliest moment this execution did something healthy ones do not. */
function firstDivergence(
  tree: SpanTree,
  byHop: Map<string, SpanNode[]>,
  profile: BaselineProfile,
  isRepeated: (hop: string, count: number) => boolean,
  judged: (p: HopProfile | undefined) => p is HopProfile,
  t: ComparisonThresholds,
): Divergence | null {
  const start = tree.startMs;
  const root = tree.roots[0]!;
  const found: Divergence[] = [];
  const at = (ms: number) => round(ms - start);
  for (const n of tree.nodes) {
    if (unfinished(n)) {
      // It diverged once it ran past what it usually takes, not when it started.
      const usual = profile.hops.get(hopOf(n));
      const due = n.span.startMs + (judged(usual) ? usual.durationMs.p95 : 0);
      found.push({ kind: "unfinished", offsetMs: at(due), hop: hopOf(n), node: n, sentence: `${hopText(n)} started at +${formatMs(n.span.startMs - start)} and never finished${judged(usual) ? ` (successful runs finish it within ${formatMs(usual.durationMs.p95)})` : ""}.` });
    }
    else if (failed(n) && !n.children.some(failed)) {
      const end = knownEndMs(n.span) ?? n.span.startMs;
      const p = profile.hops.get(hopOf(n));
      found.push({
        kind: "failed",
        offsetMs: at(end),
        hop: hopOf(n),
        node: n,
        sentence: `${hopText(n)} ${n.span.status} at +${formatMs(end - start)}, after ${formatMs(end - n.span.startMs)}${p ? ` (successful runs: it succeeds, p50 ${formatMs(p.durationMs.p50)})` : ""}.`,
      });
    }
  }
  for (const p of profile.hops.values()) {
    if (p.hop === profile.rootHop || byHop.has(p.hop) || p.share < t.expectedShare) continue;
    const parentHop = p.usualParent;
    const parent = parentHop === hopOf(root) ? root : parentHop ? byHop.get(parentHop)?.[0] : undefined;
    // A hop whose usual caller is missing too is a consequence of that caller's absence, not a divergence of its own.
    if (!parent) continue;
    // A step that waits for an earlier sibling still running (or failing) is missing only once that sibling is done.
    const blockedUntil = Math.max(
      start + p.offsetMs.p50,
      ...parent.children.filter((c) => c.span.startMs - start <= p.offsetMs.p50).map((c) => c.layoutEndMs),
    );
    found.push({
      kind: "missing_hop",
      offsetMs: at(blockedUntil),
      hop: p.hop,
      node: parent,
      sentence: `${label(p.hop)} usually starts at +${formatMs(p.offsetMs.p50)} under ${label(parentHop!)} (in ${Math.round(100 * p.share)}% of successful runs) and never did here.`,
    });
  }
  for (const [hop, nodes] of byHop) {
    const p = profile.hops.get(hop);
    const first = nodes[0]!;
    if ((p?.share ?? 0) < t.rareShare) {
      found.push({ kind: "extra_hop", offsetMs: at(first.span.startMs), hop, node: first, sentence: `${hopText(first)} ran at +${formatMs(first.span.startMs - start)}; successful runs ${p ? `rarely have it (${Math.round(100 * p.share)}%)` : "never have it"}.` });
    }
    if (!judged(p)) continue;
    if (isRepeated(hop, nodes.length)) {
      const beyond = [...nodes].sort((a, b) => a.span.startMs - b.span.startMs)[Math.min(nodes.length - 1, Math.max(1, Math.ceil(p.count.max)))]!;
      found.push({ kind: "repeated", offsetMs: at(beyond.span.startMs), hop, node: beyond, sentence: `${hopText(beyond)} ran a ${ordinal(Math.max(2, Math.ceil(p.count.max) + 1))} time at +${formatMs(beyond.span.startMs - start)}; successful runs call it at most ${p.count.max}× (${nodes.length}× here).` });
    }
    const limit = slowLimit(p, t);
    const slow = nodes.find((n) => (durationOf(n) ?? 0) > limit);
    if (slow) {
      found.push({ kind: "slow_hop", offsetMs: at(slow.span.startMs + p.durationMs.p95), hop, node: slow, sentence: `${hopText(slow)} was still running at +${formatMs(slow.span.startMs + p.durationMs.p95 - start)}, past its p95 of ${formatMs(p.durationMs.p95)}; it took ${formatMs(durationOf(slow))}.` });
    }
    const lateBy = first.span.startMs - start - (t.slowFactor * p.offsetMs.p95 + t.minGapMs);
    if (lateBy > 0) {
      found.push({ kind: "late_start", offsetMs: round(p.offsetMs.p95), hop, node: first, sentence: `${hopText(first)} started at +${formatMs(first.span.startMs - start)}; successful runs start it by +${formatMs(p.offsetMs.p95)} (p95).` });
    }
  }
  found.sort((a, b) => a.offsetMs - b.offsetMs || DIVERGENCE_ORDER[a.kind] - DIVERGENCE_ORDER[b.kind]);
  return found[0] ?? null;
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? "th" : n % 10 === 1 ? "st" : n % 10 === 2 ? "nd" : n % 10 === 3 ? "rd" : "th";
  return `${n}${s}`;
}
