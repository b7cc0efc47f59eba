// Builds the tree of one trace (or of several joined by a correlation key such as job_id) from flat
// spans and measures it: depth, layout end, self time, critical path (critical-path.ts), and the flags
// messy traces need (orphans, cycles, clock skew, unfinished). Iterative: 10,000 deep must not overflow.

import { endsBeforeStart, isUnfinished, knownEndMs, type Span } from "./span.js";
import { findCriticalPath, type CriticalSegment } from "./critical-path.js";

export const SPAN_FLAGS = [
  "orphan", // parent_span_id names a span that is not in the data
  "parent_cycle", // parent links loop; the loop was cut here
  "unfinished", // status 'started' with no end
  "starts_before_parent", // clock skew, or a mis-parented span
  "ends_after_parent", // a child that outlives its parent (fire-and-forget, or skew)
  "duplicate_span_id", // the same span id appears twice in one trace; the later row is a root
  "negative_duration", // completed_at before started_at (or duration_ms < 0): its end is not trusted
  "metadata_not_object", // stored metadata is an array, string, number, null or not JSON: read as {}
] as const;
export type SpanFlag = (typeof SPAN_FLAGS)[number];

export interface SpanNode {
  span: Span;
  parent: SpanNode | null;
  children: SpanNode[];
  depth: number;
  /** Set when the node was attached to its parent by a correlation key rather than parent_span_id. */
  linkedBy: string | null;
  flags: SpanFlag[];
  /** End used for layout: the known end, or for an unfinished span the latest end below it. */
  layoutEndMs: number;
  /** Time inside the span not covered by any child (null when the span's end is unknown). */
  selfMs: number | null;
  /** Time this span itself holds the critical path (0 when it is not on it). */
  criticalMs: number;
  /** On the critical path: criticalMs > 0. */
  critical: boolean;
}

export interface SpanTree {
  roots: SpanNode[];
  /** Depth-first, children by start time: the order a waterfall is read in. */
  nodes: SpanNode[];
  traceIds: string[];
  startMs: number;
  endMs: number;
  /** Spans holding part of the critical path (from the root that ends last), top-down. */
  criticalPath: SpanNode[];
  /** Who held the critical path when, in time order; their lengths sum to that root's duration. */
  criticalSegments: CriticalSegment<SpanNode>[];
}

export interface BuildOptions {
  /** Metadata keys (e.g. job_id) that may join a root of one trace under a span of another. */
  correlationKeys?: string[];
}

export function buildSpanTree(spans: readonly Span[], options: BuildOptions = {}): SpanTree {
  const nodes = spans.map(makeNode);
  linkParents(nodes);
  breakCycles(nodes);
  let roots = nodes.filter((n) => n.parent === null);
  if (options.correlationKeys?.length) roots = linkByCorrelation(roots, nodes, options.correlationKeys);
  roots.sort(byStart);
  for (const n of nodes) n.children.sort(byStart);

  const order = depthFirst(roots);
  computeLayoutEnds(order);
  for (const n of order) flagAgainstParent(n);
  for (const n of order) n.selfMs = selfTime(n);
  const path = findCriticalPath(roots);
  for (const [n, ms] of path.criticalMs) {
    n.criticalMs = ms;
    n.critical = ms > 0;
  }
  const criticalPath = order.filter((n) => n.critical);

  const startMs = roots.length ? Math.min(...roots.map((r) => r.span.startMs)) : 0;
  let endMs = startMs;
  for (const n of order) endMs = Math.max(endMs, n.layoutEndMs);
  const traceIds = [...new Set(order.map((n) => n.span.traceId))];
  return { roots, nodes: order, traceIds, startMs, endMs, criticalPath, criticalSegments: path.segments };
}

function makeNode(span: Span): SpanNode {
  return {
    span,
    parent: null,
    children: [],
    depth: 0,
    linkedBy: null,
    flags: [
      ...(isUnfinished(span) ? (["unfinished"] as const) : endsBeforeStart(span) ? (["negative_duration"] as const) : []),
      ...(span.metadataNotObject ? (["metadata_not_object"] as const) : []),
    ],
    layoutEndMs: span.startMs,
    selfMs: null,
    criticalMs: 0,
    critical: false,
  };
}

function byStart(a: SpanNode, b: SpanNode): number {
  return a.span.startMs - b.span.startMs || a.span.spanId.localeCompare(b.span.spanId);
}

/** Parent lookup prefers the same trace; a parent in another trace still counts (ids crossed a hop). */
function linkParents(nodes: SpanNode[]): void {
  const inTrace = new Map<string, SpanNode>();
  const anyTrace = new Map<string, SpanNode>();
  for (const n of nodes) {
    const key = `${n.span.traceId}\u0000${n.span.spanId}`;
    if (inTrace.has(key)) {
      n.flags.push("duplicate_span_id");
      continue;
    }
    inTrace.set(key, n);
    if (!anyTrace.has(n.span.spanId)) anyTrace.set(n.span.spanId, n);
  }
  for (const n of nodes) {
    const parentId = n.span.parentSpanId;
    if (!parentId || n.flags.includes("duplicate_span_id")) continue;
    const parent = inTrace.get(`${n.span.traceId}\u0000${parentId}`) ?? anyTrace.get(parentId);
    if (!parent || parent === n) {
      // A span naming itself as parent is a loop of one, not a span whose parent is missing.
      n.flags.push(parent === n ? "parent_cycle" : "orphan");
      continue;
    }
    n.parent = parent;
    parent.children.push(n);
  }
}

/** Nodes that never reach a root sit on a loop of parent links: cut each loop at its earliest span. */
function breakCycles(nodes: SpanNode[]): void {
  const reachable = new Set<SpanNode>(depthFirst(nodes.filter((n) => n.parent === null)));
  if (reachable.size === nodes.length) return;
  const stranded = nodes.filter((n) => !reachable.has(n)).sort(byStart);
  for (const n of stranded) {
    if (reachable.has(n)) continue;
    const parent = n.parent;
    if (parent) parent.children.splice(parent.children.indexOf(n), 1);
    n.parent = null;
    n.flags.push("parent_cycle");
    for (const m of depthFirst([n])) reachable.add(m);
  }
}

/**
 * A root from another trace that shares a correlation value (e.g. the router's own trace for the
 * same job_id) is hung under the deepest span of the correlated traces that was open when it began.
 */
function linkByCorrelation(roots: SpanNode[], nodes: SpanNode[], keys: string[]): SpanNode[] {
  const traceIds = new Set(nodes.map((n) => n.span.traceId));
  if (traceIds.size < 2) return roots;
  const byTrace = new Map<string, SpanNode[]>();
  for (const n of nodes) {
    const list = byTrace.get(n.span.traceId) ?? [];
    list.push(n);
    byTrace.set(n.span.traceId, list);
  }
  const depthOf = depthMap(roots);
  const index = new Map<string, Set<string>>();
  for (const key of keys) {
    for (const n of nodes) {
      const v = n.span.metadata[key];
      if (v === undefined || v === null || v === "") continue;
      const k = `${key}\u0000${String(v)}`;
      const set = index.get(k) ?? new Set<string>();
      set.add(n.span.traceId);
      index.set(k, set);
    }
  }
  const tracesWith = (key: string, value: unknown) => index.get(`${key}\u0000${String(value)}`) ?? [];
  const remaining: SpanNode[] = [];
  for (const root of roots) {
    const host = findHost(root, byTrace, keys, depthOf, tracesWith);
    if (!host) {
      remaining.push(root);
      continue;
    }
    root.parent = host.node;
    root.linkedBy = host.key;
    host.node.children.push(root);
  }
  return remaining;
}

function findHost(
  root: SpanNode,
  byTrace: Map<string, SpanNode[]>,
  keys: string[],
  depthOf: Map<SpanNode, number>,
  tracesWith: (key: string, value: unknown) => Iterable<string>,
): { node: SpanNode; key: string } | null {
  let best: { node: SpanNode; key: string } | null = null;
  for (const key of keys) {
    const value = root.span.metadata[key];
    if (value === undefined || value === null || value === "") continue;
    for (const traceId of tracesWith(key, value)) {
      if (traceId === root.span.traceId) continue;
      for (const m of byTrace.get(traceId) ?? []) {
        const end = knownEndMs(m.span);
        const open = m.span.startMs <= root.span.startMs && (end === null || end >= root.span.startMs);
        if (!open || isAncestorOrSelf(root, m)) continue;
        if (
          !best ||
          (depthOf.get(m) ?? 0) > (depthOf.get(best.node) ?? 0) ||
          ((depthOf.get(m) ?? 0) === (depthOf.get(best.node) ?? 0) && m.span.startMs > best.node.span.startMs)
        ) {
          best = { node: m, key };
        }
      }
    }
    if (best) return best;
  }
  return best;
}

function isAncestorOrSelf(candidate: SpanNode, of: SpanNode): boolean {
  for (let n: SpanNode | null = of; n; n = n.parent) if (n === candidate) return true;
  return false;
}

function depthMap(roots: SpanNode[]): Map<SpanNode, number> {
  const depth = new Map<SpanNode, number>();
  const stack: Array<readonly [SpanNode, number]> = roots.map((r) => [r, 0] as const);
  while (stack.length) {
    const [n, d] = stack.pop()!;
    depth.set(n, d);
    for (const c of n.children) stack.push([c, d + 1]);
  }
  return depth;
}

/** A span and everything below it, depth-first. */
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

/** Pre-order walk that also sets depth; children are visited in their stored order. */
export function depthFirst(roots: readonly SpanNode[]): SpanNode[] {
  const out: SpanNode[] = [];
  const stack: SpanNode[] = [...roots].reverse();
  for (const r of roots) r.depth = 0;
  while (stack.length) {
    const n = stack.pop()!;
    out.push(n);
    for (let i = n.children.length - 1; i >= 0; i--) {
      const c = n.children[i]!;
      c.depth = n.depth + 1;
      stack.push(c);
    }
  }
  return out;
}

/** Post-order (reverse of pre-order): an unfinished span lasts at least as long as what ran under it. */
function computeLayoutEnds(order: SpanNode[]): void {
  for (let i = order.length - 1; i >= 0; i--) {
    const n = order[i]!;
    const known = knownEndMs(n.span);
    let end = known ?? n.span.startMs;
    if (known === null) for (const c of n.children) end = Math.max(end, c.layoutEndMs);
    n.layoutEndMs = end;
  }
}

function flagAgainstParent(n: SpanNode): void {
  const p = n.parent;
  if (!p) return;
  if (n.span.startMs < p.span.startMs) n.flags.push("starts_before_parent");
  const parentEnd = knownEndMs(p.span);
  const end = knownEndMs(n.span);
  if (parentEnd !== null && end !== null && end > parentEnd) n.flags.push("ends_after_parent");
}

/** Duration minus the union of child intervals clipped to the span. */
function selfTime(n: SpanNode): number | null {
  const end = knownEndMs(n.span);
  if (end === null) return null;
  const start = n.span.startMs;
  if (!n.children.length) return Math.max(0, end - start);
  const intervals = n.children
    .map((c) => [Math.max(c.span.startMs, start), Math.min(c.layoutEndMs, end)] as const)
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let curS = -Infinity;
  let curE = -Infinity;
  for (const [s, e] of intervals) {
    if (s > curE) {
      if (curE > curS) covered += curE - curS;
      curS = s;
      curE = e;
    } else curE = Math.max(curE, e);
  }
  if (curE > curS) covered += curE - curS;
  return Math.max(0, end - start - covered);
}
