// Prunes a span tree to a span budget by priority, never silently: failures and their ancestors
// first, then the critical path, then flagged spans, then the rest by depth and duration. Spans left
// out are summarised under their nearest shown parent as groups of like siblings (count, p50, total),
// so repeated siblings collapse into one line and nothing disappears without a trace.

import { isFailureStatus } from "./span.js";
import type { SpanNode, SpanTree } from "./span-tree.js";

export interface HiddenGroup {
  /** The shown span these hidden children hang under. */
  parent: SpanNode;
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
function tierOf(n: SpanNode): number {
  if (n.parent === null) return 0;
  if (isFailureStatus(n.span.status) || n.flags.includes("unfinished")) return 1;
  if (n.critical) return 2;
  if (n.flags.length || n.linkedBy) return 3;
  return 4;
}

export function pruneTrace(tree: SpanTree, maxSpans: number, subtreeOf: SpanNode | null = null): PrunedTrace {
  const universe = subtreeOf ? subtreeNodes(subtreeOf) : tree.nodes;
  const inUniverse = subtreeOf ? new Set(universe) : null;
  if (universe.length <= maxSpans) {
    return { shown: universe, groups: [], hiddenSpans: 0, totalSpans: universe.length };
  }

  const candidates = [...universe].sort(
    (a, b) =>
      tierOf(a) - tierOf(b) ||
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

  for (const n of candidates) {
    if (shown.size + hiddenChildGroups.size >= maxSpans && shown.size > 0) break;
    if (shown.has(n)) continue;
    // Ancestors first, so every shown span hangs under shown spans.
    const chain: SpanNode[] = [];
    for (let a: SpanNode | null = n; a && !shown.has(a) && (a === n || !inUniverse || inUniverse.has(a)); a = a.parent) {
      chain.push(a);
      if (a === subtreeOf) break;
    }
    for (let i = chain.length - 1; i >= 0; i--) show(chain[i]!);
  }

  const ordered = universe.filter((n) => shown.has(n));
  const groups = summariseHidden(ordered, shown, inUniverse);
  return { shown: ordered, groups, hiddenSpans: universe.length - ordered.length, totalSpans: universe.length };
}

function duration(n: SpanNode): number {
  return n.layoutEndMs - n.span.startMs;
}

export function subtreeNodes(root: SpanNode): SpanNode[] {
  const out: SpanNode[] = [];
  const stack = [root];
  while (stack.length) {
    const n = stack.pop()!;
    out.push(n);
    for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
  }
  return out;
}

function summariseHidden(ordered: SpanNode[], shown: Set<SpanNode>, inUniverse: Set<SpanNode> | null): HiddenGroup[] {
  const groups: HiddenGroup[] = [];
  for (const parent of ordered) {
    const byKind = new Map<string, SpanNode[]>();
    for (const c of parent.children) {
      if (shown.has(c) || (inUniverse && !inUniverse.has(c))) continue;
      const key = `${c.span.service}\u0000${c.span.operation}`;
      const list = byKind.get(key) ?? [];
      list.push(c);
      byKind.set(key, list);
    }
    for (const members of byKind.values()) {
      const durations = members.map(duration).sort((a, b) => a - b);
      let descendants = 0;
      let failed = 0;
      for (const m of members) {
        const below = subtreeNodes(m);
        descendants += below.length - 1;
        failed += below.filter((b) => isFailureStatus(b.span.status)).length;
      }
      groups.push({
        parent,
        service: members[0]!.span.service,
        operation: members[0]!.span.operation,
        count: members.length,
        descendants,
        failed,
        firstStartMs: members.reduce((min, m) => Math.min(min, m.span.startMs), Infinity),
        p50Ms: durations.length ? durations[Math.floor((durations.length - 1) / 2)]! : null,
        totalMs: durations.reduce((a, b) => a + b, 0),
        sampleSpanIds: members.slice(0, 3).map((m) => m.span.spanId),
      });
    }
  }
  return groups;
}
