// Hand-built spans for the analysis tests: times are offsets in ms from a fixed epoch, so a test
// reads as a timeline ("starts at 10, ends at 90") and the tree is visible in the table itself.

import type { Span } from "../../src/analysis/span.js";
import type { SpanNode, SpanTree } from "../../src/analysis/span-tree.js";

/** 2025-10-22T18:00:00Z, the hour of the user's failing executions. */
export const T0 = Date.UTC(2025, 9, 22, 18, 0, 0);

export interface SpanShape {
  parent?: string | null;
  /** Offset from T0 in ms. */
  start?: number;
  /** Offset from T0 in ms; null for a span with no completed_at. */
  end?: number | null;
  /** Overrides the duration derived from start/end (null: duration_ms missing). */
  duration?: number | null;
  trace?: string;
  service?: string;
  operation?: string;
  /** Defaults to 'completed' when the span has an end, 'started' when it has none. */
  status?: string;
  error?: string | null;
  metadata?: Record<string, unknown>;
}

/** One span; `span("r3", { parent: "r2", start: 15, end: 85, service: "router" })`. */
export function span(spanId: string, shape: SpanShape = {}): Span {
  const start = shape.start ?? 0;
  const end = shape.end === undefined ? start + 10 : shape.end;
  const duration = shape.duration !== undefined ? shape.duration : end === null ? null : end - start;
  return {
    traceId: shape.trace ?? "t1",
    spanId,
    parentSpanId: shape.parent ?? null,
    service: shape.service ?? "svc",
    operation: shape.operation ?? spanId,
    startMs: T0 + start,
    endMs: end === null ? null : T0 + end,
    durationMs: duration,
    status: shape.status ?? (end === null && duration === null ? "started" : "completed"),
    errorMessage: shape.error ?? null,
    metadata: shape.metadata ?? {},
  };
}

/** The runner → router → modal hop chain from the seeds, one trace, all completed. */
export function runnerRouterModal(): Span[] {
  return [
    span("r1", { start: 0, end: 100, service: "runner", operation: "execute_question" }),
    span("r2", { parent: "r1", start: 10, end: 90, service: "runner", operation: "call_router" }),
    span("r3", { parent: "r2", start: 15, end: 85, service: "router", operation: "inference_request" }),
    span("r4", { parent: "r3", start: 20, end: 80, service: "modal", operation: "generate" }),
    span("r5", { parent: "r1", start: 92, end: 98, service: "runner", operation: "save_result" }),
  ];
}

export function nodeById(tree: SpanTree, spanId: string): SpanNode {
  const found = tree.nodes.find((n) => n.span.spanId === spanId);
  if (!found) throw new Error(`no node ${spanId} in tree`);
  return found;
}

export const ids = (nodes: readonly SpanNode[]): string[] => nodes.map((n) => n.span.spanId);
