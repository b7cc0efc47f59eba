// Prunes a span tree to a span budget by priority, never silently: failures and their ancestors
// first, then the critical path, then flagged spans, then the rest by depth and duration. Spans left
// out are summarised under their nearest shown parent as groups of like siblings (count, p50, total),
// so repeated siblings collapse into one line and nothing disappears without a trace.

import { isFailureStatus } from "./span.js";
import { subtreeNodes, type SpanNode, type SpanTree } from "./span-tree.js";

export interface HiddenGroup {
  /** The shown span these hidden children hang under; null for roots that did not fit. */
  parent: SpanNode | null;
  /** 1, or how many kinds of span were merged into this row (service "*"). */
  kinds: number;
  service: string;
  operation: string;
  /** Hidden direct children in this group. */
  count: number;
  /** Further spans hidden below those children. */
  descendants: number;
  failed: number;
  firstStartMs: number;
  p50Ms: number | null;
  totalMs: number;
  /** A few span ids from the group, to pass back as focus_span_id. */
  sampleSpanIds: string[];
}

export interface PrunedTrace {
  /** Shown spans, depth-first. */
  shown: SpanNode[];
  groups: HiddenGroup[];
  hiddenSpans: number;
  totalSpans: number;
}

/** Priority tiers, lowest first: what a reader must not lose when a trace is cut. */
function tierOf(n: SpanNode, subtreeOf: SpanNode | null): number {
  if (n.parent === null || n === subtreeOf) return 0;
  if (isFailureStatus(n.span.status) || n.flags.includes("unfinished")) return 1;
  if (n.critical) return 2;
  if (n.flags.length || n.linkedBy) return 3;
  return 4;
}

/**
 * Rows (shown spans plus collapsed group rows) stay within maxSpans; the one overshoot is the first
 * span (a root, or the focus), which is always shown with the group rows of its children (one per
 * service+operation, so many when its children are of many kinds).
 */
export function pruneTrace(tree: SpanTree, maxSpans: number, subtreeOf: SpanNode | null = null): PrunedTrace {
  const universe = subtreeOf ? subtreeNodes(subtreeOf) : tree.nodes;
  const inUniverse = subtreeOf ? new Set(universe) : null;
  if (universe.length <= maxSpans) {
    return { shown: universe, groups: [], hiddenSpans: 0, totalSpans: universe.length };
  }

  const candidates = [...universe].sort(
    (a, b) =>
      tierOf(a, subtreeOf) - tierOf(b, subtreeOf) ||
      a.depth - b.depth ||
      duration(b) - duration(a) ||
      a.span.startMs - b.span.startMs,
  );

  // Group rows count against the budget too: keep, per shown parent, how many of its children are hidden.
  const shown = new Set<SpanNode>();
  const hiddenChildGroups = new Map<string, number>();
  const groupKey = (n: SpanNode) => `${n.parent?.span.spanId}\u0000${n.parent?.span.traceId}\u0000${n.span.service}\u0000${n.span.operation}`;
  const bump = (key: string, by: number) => {
    const v = (hiddenChildGroups.get(key) ?? 0) + by;
    if (v > 0) hiddenChildGroups.set(key, v);
    else hiddenChildGroups.delete(key);
  };
  const show = (n: SpanNode) => {
    shown.add(n);
    if (n.parent && shown.has(n.parent)) bump(groupKey(n), -1);
    for (const c of n.children) if (!shown.has(c) && (!inUniverse || inUniverse.has(c))) bump(groupKey(c), 1);
  };

  /** Rows showing a chain would add: its spans, plus the group rows it opens, minus those it empties. */
  const addedRows = (chain: SpanNode[]): number => {
    const delta = new Map<string, number>();
    const add = (key: string, by: number) => delta.set(key, (delta.get(key) ?? 0) + by);
    const inChain = new Set(chain);
    for (const a of chain) {
      if (a.parent && (shown.has(a.parent) || inChain.has(a.parent))) add(groupKey(a), -1);
      for (const c of a.children) if (!shown.has(c) && (!inUniverse || inUniverse.has(c))) add(groupKey(c), 1);
    }
    let added = chain.length;
    for (const [key, d] of delta) {
      const before = hiddenChildGroups.get(key) ?? 0;
      added += (before + d > 0 ? 1 : 0) - (before > 0 ? 1 : 0);
    }
    return added;
  };

  for (const n of candidates) {
    if (shown.has(n)) continue;
    const room = maxSpans - shown.size - hiddenChildGroups.size;
    // Ancestors first, so every shown span hangs under shown spans. A chain of k new spans costs at
    // least k-1 rows, so stop walking up once it cannot fit (this also keeps deep traces linear).
    const chain: SpanNode[] = [];
    let fits = true;
    for (let a: SpanNode | null = n; a && !shown.has(a) && (a === n || !inUniverse || inUniverse.has(a)); a = a.parent) {
      chain.push(a);
      if (a === subtreeOf) break;
      if (shown.size > 0 && chain.length - 1 > room) {
        fits = false;
        break;
      }
    }
    chain.reverse();
    // The first chain (a root) is always shown; after that, a chain goes in only if it fits whole.
    if (shown.size > 0 && (!fits || addedRows(chain) > room)) continue;
    for (const a of chain) show(a);
  }

  const ordered = universe.filter((n) => shown.has(n));
  // Roots that did not fit hang under no shown span: they get group rows of their own.
  const hiddenRoots = subtreeOf ? [] : tree.roots.filter((r) => !shown.has(r));
  const groups = summariseHidden(ordered, shown, inUniverse, hiddenRoots);
  return { shown: ordered, groups, hiddenSpans: universe.length - ordered.length, totalSpans: universe.length };
}

function duration(n: SpanNode): number {
  return n.layoutEndMs - n.span.startMs;
}


/** Past this many kinds of hidden children under one parent, the rarest kinds share one line. */
export const MAX_GROUPS_PER_PARENT = 6;

function summariseHidden(ordered: SpanNode[], shown: Set<SpanNode>, inUniverse: Set<SpanNode> | null, hiddenRoots: SpanNode[]): HiddenGroup[] {
  const groups: HiddenGroup[] = [];
  const summarise = (parent: SpanNode | null, hidden: SpanNode[]) => {
    const byKind = new Map<string, SpanNode[]>();
    for (const c of hidden) {
      const key = `${c.span.service}\u0000${c.span.operation}`;
      const list = byKind.get(key) ?? [];
      list.push(c);
      byKind.set(key, list);
    }
    const kinds = [...byKind.values()].sort((a, b) => b.length - a.length);
    const kept = kinds.slice(0, kinds.length > MAX_GROUPS_PER_PARENT ? MAX_GROUPS_PER_PARENT - 1 : MAX_GROUPS_PER_PARENT);
    for (const members of kept) groups.push(group(parent, members, 1));
    const rest = kinds.slice(kept.length);
    if (rest.length) groups.push(group(parent, rest.flat(), rest.length));
  };
  for (const parent of ordered) {
    summarise(parent, parent.children.filter((c) => !shown.has(c) && (!inUniverse || inUniverse.has(c))));
  }
  if (hiddenRoots.length) summarise(null, hiddenRoots);
  return groups;
}

function group(parent: SpanNode | null, members: SpanNode[], kinds: number): HiddenGroup {
  const durations = members.map(duration).sort((a, b) => a - b);
  let descendants = 0;
  let failed = 0;
  for (const m of members) {
    const below = subtreeNodes(m);
    descendants += below.length - 1;
    failed += below.filter((b) => isFailureStatus(b.span.status)).length;
  }
  return {
    parent,
    service: kinds > 1 ? "*" : members[0]!.span.service,
    operation: kinds > 1 ? `(${kinds} other kinds)` : members[0]!.span.operation,
    kinds,
    count: members.length,
    descendants,
    failed,
    firstStartMs: members.reduce((min, m) => Math.min(min, m.span.startMs), Infinity),
    p50Ms: durations.length ? durations[Math.floor((durations.length - 1) / 2)]! : null,
    totalMs: durations.reduce((a, b) => a + b, 0),
    sampleSpanIds: members.slice(0, 3).map((m) => m.span.spanId),
  };
}
