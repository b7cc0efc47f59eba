// What healthy executions of one root operation look like in full, learned from a sample of them:
// how long they take (p50/p95), and for every hop how often it appears, how many times per execution,
// how long each occurrence takes, how long after its caller it starts, how much of the critical path it
// holds, whether it calls another service, and the metadata values it carries. One execution is
// compared against this (comparison.ts).

import { knownEndMs } from "./span.js";
import { subtreeNodes, type SpanNode } from "./span-tree.js";
import { findCriticalPath } from "./critical-path.js";
import { hopOf } from "./gaps.js";
import { scalarText } from "./metadata-keys.js";
import { spread } from "./quantile.js";

export interface Spread {
  p50: number;
  p95: number;
  max: number;
}

export interface HopProfile {
  hop: string;
  service: string;
  operation: string;
  /** Executions that contain it, and their share of all. */
  executions: number;
  share: number;
  /** Occurrences per execution that has it. */
  count: Spread;
  /** Each occurrence's duration. */
  durationMs: Spread;
  /** Start of its first occurrence, from the execution's start. */
  offsetMs: Spread;
  /** Start after its caller started (the hand-off, for a hop of another service). */
  handoffMs: Spread;
  /** Per execution, over all of them (0 where absent): time it holds the critical path. */
  criticalMs: Spread;
  usualParent: string | null;
  /** Share of its occurrences that have a child of another service: it calls out. */
  callsOut: number;
  /** Scalar metadata of its first occurrence: key → value → executions carrying it. */
  metadata: Map<string, Map<string, number>>;
}

export interface BaselineProfile {
  rootHop: string;
  executions: number;
  durationMs: Spread;
  /** Every hop seen, the root's own among them; in usual start order. */
  hops: Map<string, HopProfile>;
  /** Hops of services other than the root's, most common first: the calls out healthy executions make. */
  outgoing: Array<{ hop: string; share: number }>;
  /** A few of the executions learned from, to cite. */
  exampleTraceIds: string[];
}

interface Tally {
  service: string;
  operation: string;
  executions: number;
  counts: number[];
  durations: number[];
  offsets: number[];
  handoffs: number[];
  critical: number[];
  parents: Map<string, number>;
  occurrences: number;
  callingOut: number;
  metadata: Map<string, Map<string, number>>;
}

const durationOf = (n: SpanNode) => {
  const end = knownEndMs(n.span);
  return end === null ? null : end - n.span.startMs;
};

/** Learns the profile of `rootHop` from successful executions (their roots). */
export function learnProfile(rootHop: string, executions: readonly SpanNode[]): BaselineProfile {
  const tallies = new Map<string, Tally>();
  const rootDurations: number[] = [];
  for (const root of executions) {
    const d = durationOf(root);
    if (d !== null) rootDurations.push(d);
    const critical = findCriticalPath([root]).criticalMs;
    const seen = new Map<string, { first: SpanNode; count: number; critical: number }>();
    for (const n of subtreeNodes(root)) {
      const h = hopOf(n);
      let t = tallies.get(h);
      if (!t) {
        t = { service: n.span.service, operation: n.span.operation, executions: 0, counts: [], durations: [], offsets: [], handoffs: [], critical: [], parents: new Map(), occurrences: 0, callingOut: 0, metadata: new Map() };
        tallies.set(h, t);
      }
      const nd = durationOf(n);
      if (nd !== null) t.durations.push(nd);
      if (n.parent) t.handoffs.push(n.span.startMs - n.parent.span.startMs);
      t.occurrences++;
      if (n.children.some((c) => c.span.service !== n.span.service)) t.callingOut++;
      const s = seen.get(h);
      if (s) {
        s.count++;
        s.critical += critical.get(n) ?? 0;
        if (n.span.startMs < s.first.span.startMs) s.first = n;
      } else seen.set(h, { first: n, count: 1, critical: critical.get(n) ?? 0 });
    }
    for (const [h, s] of seen) {
      const t = tallies.get(h)!;
      t.executions++;
      t.counts.push(s.count);
      t.critical.push(s.critical);
      t.offsets.push(s.first.span.startMs - root.span.startMs);
      const parent = s.first.parent && s.first !== root ? hopOf(s.first.parent) : "";
      t.parents.set(parent, (t.parents.get(parent) ?? 0) + 1);
      for (const [key, value] of Object.entries(s.first.span.metadata)) {
        const text = scalarText(value);
        if (text === null) continue;
        const values = t.metadata.get(key) ?? new Map<string, number>();
        values.set(text, (values.get(text) ?? 0) + 1);
        t.metadata.set(key, values);
      }
    }
  }
  const n = executions.length;
  const hops = new Map<string, HopProfile>();
  const profiles = [...tallies.entries()].map(([hop, t]): HopProfile => {
    // Executions without the hop hold none of the critical path: count them as zeros.
    const critical = [...t.critical, ...new Array<number>(Math.max(0, n - t.critical.length)).fill(0)];
    const usual = [...t.parents.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
    return {
      hop,
      service: t.service,
      operation: t.operation,
      executions: t.executions,
      share: n ? t.executions / n : 0,
      count: spread(t.counts),
      durationMs: spread(t.durations),
      offsetMs: spread(t.offsets),
      handoffMs: spread(t.handoffs),
      criticalMs: spread(critical),
      usualParent: usual || null,
      callsOut: t.occurrences ? t.callingOut / t.occurrences : 0,
      metadata: t.metadata,
    };
  });
  profiles.sort((a, b) => a.offsetMs.p50 - b.offsetMs.p50 || a.hop.localeCompare(b.hop));
  for (const p of profiles) hops.set(p.hop, p);
  const rootService = executions[0]?.span.service;
  const outgoing = profiles
    .filter((p) => p.service !== rootService)
    .map((p) => ({ hop: p.hop, share: p.share }))
    .sort((a, b) => b.share - a.share || a.hop.localeCompare(b.hop));
  return {
    rootHop,
    executions: n,
    durationMs: spread(rootDurations),
    hops,
    outgoing,
    exampleTraceIds: executions.slice(0, 3).map((e) => e.span.traceId),
  };
}
