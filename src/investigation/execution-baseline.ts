// What healthy looks like for an execution: many executions loaded at once (each root's trace plus the
// traces sharing its correlation values, joined into one forest), and the baseline learned from the
// successful executions of the same root operation in the day before. Shared by find_gaps and diagnose.

import { buildSpanTree, type SpanNode, type SpanTree } from "../analysis/span-tree.js";
import { hopOf, learnBaseline, succeeded, type Baseline } from "../analysis/gaps.js";
import { BASELINE_SPAN_LIMIT, LINK_MARGIN_MS, LOOKAHEAD_MS, LOOKBACK_MS, MIN_BASELINE_EXECUTIONS } from "../analysis/defaults.js";
import type { RootSpan, SpanReader, TimeRange } from "../store/span-table.js";

/**
 * Many executions at once: the roots' traces plus the traces that share their correlation values, in
 * one forest (hops joined by job_id hang under their caller). Returns the forest's roots.
 */
export async function loadExecutions(
  spans: SpanReader,
  roots: readonly RootSpan[],
  window: TimeRange,
  spanLimit: number,
): Promise<{ executions: SpanNode[]; truncated: boolean }> {
  if (!roots.length) return { executions: [], truncated: false };
  const traceIds = new Set(roots.map((r) => r.traceId));
  const margin = { fromMs: window.fromMs - LINK_MARGIN_MS, toMs: window.toMs + LINK_MARGIN_MS };
  for (const key of spans.correlationKeys) {
    const values = [...new Set(roots.map((r) => r.correlation[key]).filter((v): v is string => !!v))];
    for (const id of await spans.traceIdsByCorrelationValues(key, values, values.length * 4 + 10, margin)) traceIds.add(id);
  }
  const loaded = await spans.spansOfTraces([...traceIds], spanLimit);
  const tree = buildSpanTree(loaded.spans, { correlationKeys: [...spans.correlationKeys] });
  return { executions: tree.roots, truncated: loaded.truncated };
}

/**
 * What successful executions of the same root operation look like, from up to `sample` of them in the
 * 24 h before this execution (itself excluded). Null baseline when fewer than 5 succeeded.
 */
export async function executionBaseline(
  spans: SpanReader,
  tree: SpanTree,
  sample: number,
  nowMs: number,
): Promise<{ baseline: Baseline | null; successes: number; window: TimeRange; more: boolean }> {
  const root = tree.roots[0]!;
  const rootHop = hopOf(root);
  const window = { fromMs: root.span.startMs - LOOKBACK_MS, toMs: Math.min(nowMs, root.span.startMs + LOOKAHEAD_MS) };
  const sampled = await spans.recentRoots({ window, limit: sample, service: root.span.service, operation: root.span.operation, successOnly: true });
  const own = new Set(tree.traceIds);
  const { executions } = await loadExecutions(spans, sampled.roots.filter((r) => !own.has(r.traceId)), window, BASELINE_SPAN_LIMIT);
  const successes = executions.filter((e) => hopOf(e) === rootHop && succeeded(e));
  return {
    baseline: successes.length >= MIN_BASELINE_EXECUTIONS ? learnBaseline(rootHop, successes) : null,
    successes: successes.length,
    window,
    more: sampled.more,
  };
}
