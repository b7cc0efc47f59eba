// The critical path of a span tree with Jaeger's semantics: which span held up the end-to-end time
// at each instant, as segments, and per span how long it held the path (criticalMs).
// Pure and iterative: a 10,000-deep chain of spans must not overflow the stack.
//
// The walk, as in Jaeger UI's CriticalPath (our own code, same semantics, same nine test cases):
//   1. Start from the root that ends last (ties: the one that started first). Jaeger UI walks every
//      root and Jaeger's MCP tool the first it finds; one path to the trace's end is what we report.
//   2. Clip every child to its parent's clipped bounds; drop a child that starts at or after its
//      parent's end, or ends at or before its parent's start, and everything below it.
//   3. Drop asynchronous children (see below) and everything below them: the parent never waited.
//   4. In a span, walk back from its end: the child that finished last (ties: the one that started
//      first) holds the path from its start to its end; the span itself holds the time between that
//      child's end and the cursor. Descend into the child, then continue in the span from the child's
//      start with the last child that finished at or before it; when none is left, the span holds
//      the rest back to its own start, and the walk returns to its parent.
//
// Worked example (ms; `late` outlives root and is clipped to 100):
//
//            0    10   20   30   40   50   60   70   80   90  100  110  120
//   root     [=================================================]
//   a             [=========]
//   b                            [===================]
//   b1                             [=======]
//   late                                                  [=========------]
//
//   late   90..100  (the last to finish, clipped to root)        late 10
//   root   80..90   (nothing ran between b's end and late's start)
//   b      60..80,  b1 45..60,  b 40..45                         b 25, b1 15
//   root   30..40,  a 10..30,   root 0..10                       root 30, a 20
//   Sum: 10 + 30 + 25 + 15 + 20 = 100 = root's duration. It always is: every instant of the root's
//   (clipped) span belongs to exactly one span on the path, so the shares never exceed 100 %.
//
// Asynchronous children, read from span metadata (keys and values case-insensitive):
//   - span kind under `span.kind`, `span_kind` or `kind`: "producer"/"consumer", the OTel enum
//     names "SPAN_KIND_PRODUCER"/"SPAN_KIND_CONSUMER", or the OTel numbers 4/5 (also as strings).
//     A consumer child of a producer parent is asynchronous (Jaeger's rule); a consumer under any
//     other kind, and a producer under anything, is blocking.
//   - a follows-from reference to the parent: `ref_type`, `reference_type` or `refType` equal to
//     "follows_from", "FOLLOWS_FROM" or "follows-from" makes the child asynchronous whatever its kind
//     (OpenTracing: the parent does not depend on it). Jaeger UI ignores this; it is our addition.
//
// Deliberate difference from Jaeger: a child that ends exactly when the later one starts is taken
// (Jaeger requires it to end strictly before, so back-to-back siblings lose the earlier one and the
// parent is blamed for its time: jaegertracing/jaeger issues #9173 and #9148). Ends are each span's
// layout end, so an unfinished span lasts as long as what ran under it.

import type { Span } from "./span.js";

/** What the walk needs of a tree node; SpanNode has it. */
export interface CriticalPathNode<N> {
  span: Span;
  children: readonly N[];
  /** The end used for a span: its known end, or for an unfinished span the latest end below it. */
  layoutEndMs: number;
}

export interface CriticalSegment<N> {
  node: N;
  startMs: number;
  endMs: number;
}

export interface CriticalPath<N> {
  /** The root the walk started from: the one that ends last. */
  root: N | null;
  /** In time order; contiguous, covering the root from its start to its end. */
  segments: CriticalSegment<N>[];
  /** Time each span itself holds the path; spans off the path are absent. */
  criticalMs: Map<N, number>;
}

export type SpanKind = "internal" | "server" | "client" | "producer" | "consumer";

const KIND_KEYS = ["span.kind", "span_kind", "kind"];
const REF_TYPE_KEYS = ["ref_type", "reference_type", "reftype"];
const KIND_NAMES = new Set<string>(["internal", "server", "client", "producer", "consumer"]);
/** OpenTelemetry's SpanKind enum: 0 is unspecified. */
const KIND_NUMBERS: Record<number, SpanKind> = { 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer" };

/** A metadata value by key, ignoring the key's case; the first of `keys` present wins. */
function metadataValue(metadata: Record<string, unknown>, keys: readonly string[]): unknown {
  // One pass and no allocation: this runs for every parent and child of every tree walked.
  let bestRank = keys.length;
  let best: unknown;
  let seen = 0;
  for (const k in metadata) {
    if (!Object.hasOwn(metadata, k)) continue;
    const rank = keys.indexOf(k.toLowerCase());
    // Of keys that differ only in case, the first written counts.
    if (rank < 0 || seen & (1 << rank)) continue;
    seen |= 1 << rank;
    const v = metadata[k];
    if (rank < bestRank && v !== null && v !== "") {
      bestRank = rank;
      best = v;
    }
  }
  return best;
}

/** The span kind recorded in a span's metadata, or null when there is none we recognise. */
export function spanKindOf(metadata: Record<string, unknown>): SpanKind | null {
  const value = metadataValue(metadata, KIND_KEYS);
  if (typeof value === "number") return KIND_NUMBERS[value] ?? null;
  if (typeof value !== "string") return null;
  const text = value.trim().toLowerCase().replace(/^span_kind_/, "");
  if (/^\d+$/.test(text)) return KIND_NUMBERS[Number(text)] ?? null;
  return KIND_NAMES.has(text) ? (text as SpanKind) : null;
}

/** True when the span's reference to its parent is follows-from rather than child-of. */
export function followsFromParent(metadata: Record<string, unknown>): boolean {
  const value = metadataValue(metadata, REF_TYPE_KEYS);
  return typeof value === "string" && value.toLowerCase().replace(/[^a-z]/g, "") === "followsfrom";
}

/** A child its parent did not wait for: a consumer of a producer, or a follows-from reference. */
export function isAsynchronousChild(child: Span, parent: Span): boolean {
  if (followsFromParent(child.metadata)) return true;
  return spanKindOf(child.metadata) === "consumer" && spanKindOf(parent.metadata) === "producer";
}

interface ClippedChild<N> {
  node: N;
  startMs: number;
  endMs: number;
}

/** One span being walked: its clipped bounds, its blocking children by end (latest first), the cursor. */
interface Frame<N> {
  node: N;
  startMs: number;
  endMs: number;
  children: ClippedChild<N>[];
  /** Children before this index are taken or overlap a later one; the cursor only moves back. */
  next: number;
  cursor: number;
}

/** A span's own end, never before its start (bad rows can carry a negative duration). */
function endOf<N extends CriticalPathNode<N>>(n: N): number {
  return Math.max(n.span.startMs, n.layoutEndMs);
}

/** Blocking children clipped to [startMs, endMs], those with nothing inside it left out. */
function clippedChildren<N extends CriticalPathNode<N>>(node: N, startMs: number, endMs: number): ClippedChild<N>[] {
  const out: ClippedChild<N>[] = [];
  for (const c of node.children) {
    if (isAsynchronousChild(c.span, node.span)) continue;
    const s = c.span.startMs;
    const e = endOf(c);
    // Jaeger's drop rule: a child starting inside the parent stays even when zero-length.
    const inside = s >= startMs ? s < endMs : e > startMs;
    if (!inside) continue;
    out.push({ node: c, startMs: Math.max(s, startMs), endMs: Math.min(e, endMs) });
  }
  // Stable: among equal ends the earliest start (the longest wait) comes first, then tree order.
  return out.sort((a, b) => b.endMs - a.endMs || a.startMs - b.startMs);
}

function frame<N extends CriticalPathNode<N>>(node: N, startMs: number, endMs: number): Frame<N> {
  return { node, startMs, endMs, children: clippedChildren(node, startMs, endMs), next: 0, cursor: endMs };
}

/** The critical path from the root that ends last; empty for no roots. */
export function findCriticalPath<N extends CriticalPathNode<N>>(roots: readonly N[]): CriticalPath<N> {
  const criticalMs = new Map<N, number>();
  if (!roots.length) return { root: null, segments: [], criticalMs };
  let root = roots[0]!;
  for (const r of roots) {
    if (endOf(r) > endOf(root) || (endOf(r) === endOf(root) && r.span.startMs < root.span.startMs)) root = r;
  }

  // Segments come out latest first; a span's pieces that touch are merged.
  const backwards: CriticalSegment<N>[] = [];
  const hold = (node: N, startMs: number, endMs: number) => {
    if (endMs <= startMs) return;
    criticalMs.set(node, (criticalMs.get(node) ?? 0) + endMs - startMs);
    const last = backwards[backwards.length - 1];
    if (last && last.node === node && last.startMs === endMs) last.startMs = startMs;
    else backwards.push({ node, startMs, endMs });
  };

  const stack: Frame<N>[] = [frame(root, root.span.startMs, endOf(root))];
  while (stack.length) {
    const f = stack[stack.length - 1]!;
    while (f.next < f.children.length && f.children[f.next]!.endMs > f.cursor) f.next++;
    const child = f.children[f.next];
    if (child) {
      f.next++;
      hold(f.node, child.endMs, f.cursor);
      f.cursor = child.startMs;
      stack.push(frame(child.node, child.startMs, child.endMs));
    } else {
      hold(f.node, f.startMs, f.cursor);
      stack.pop();
    }
  }
  return { root, segments: backwards.reverse(), criticalMs };
}
