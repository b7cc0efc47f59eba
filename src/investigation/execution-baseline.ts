// What healthy looks like for an execution: many executions loaded at once (each root's trace plus the
// traces sharing its correlation values, joined into one forest), and the baseline learned from the
// successful executions of the same root operation in the day before — the expected hops and hand-offs
// (gaps.ts) and the full profile one execution is compared against (baseline-profile.ts). Shared by
// find_gaps, diagnose and compare_executions.

import { buildSpanTree, type SpanNode, type SpanTree } from "../analysis/span-tree.js";
import type { Span } from "../analysis/span.js";
import { hopOf, learnBaseline, succeeded, type Baseline } from "../analysis/gaps.js";
import { learnProfile, type BaselineProfile } from "../analysis/baseline-profile.js";
import { BASELINE_SPAN_LIMIT, LINK_MARGIN_MS, LOOKBACK_MS, MAX_TRACES_PER_JOB, MIN_BASELINE_EXECUTIONS } from "../analysis/defaults.js";
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
): Promise<{ executions: SpanNode[]; truncated: boolean; cappedTraces: string[] }> {
  if (!roots.length) return { executions: [], truncated: false, cappedTraces: [] };
  const traceIds = new Set(roots.map((r) => r.traceId));
  const margin = { fromMs: window.fromMs - LINK_MARGIN_MS, toMs: window.toMs + LINK_MARGIN_MS };
  for (const key of spans.correlationKeys) {
    const values = [...new Set(roots.map((r) => r.correlation[key]).filter((v): v is string => !!v))];
    // No time bound in SQL: with one, Postgres ANDs a bitmap of the whole window to the index lookups
    // (a window-wide read that grows with the table); traces outside the window are dropped below.
    for (const id of await spans.traceIdsByCorrelationValues(key, values, values.length * 4 + 10)) traceIds.add(id);
  }
  const loaded = await spansInChunks(spans, [...traceIds], spanLimit);
  const inWindow = new Set(loaded.spans.filter((s) => s.startMs >= margin.fromMs && s.startMs <= margin.toMs).map((s) => s.traceId));
  const tree = buildSpanTree(
    loaded.spans.filter((s) => inWindow.has(s.traceId)),
    { correlationKeys: [...spans.correlationKeys] },
  );
  return { executions: tree.roots, truncated: loaded.truncated, cappedTraces: loaded.cappedTraces };
}

/** A sampled execution's trace is read to this many spans: one huge trace must not stall a sample or shrink it. */
export const SPANS_PER_SAMPLED_TRACE = 2000;

/** Trace ids per read: Postgres plans one lookup of several hundred ids as a parallel bitmap scan on a large table, chunks of this size as plain index lookups. */
const TRACES_PER_READ = 200;

async function spansInChunks(spans: SpanReader, traceIds: readonly string[], limit: number): Promise<{ spans: Span[]; truncated: boolean; cappedTraces: string[] }> {
  const chunks: string[][] = [];
  for (let i = 0; i < traceIds.length; i += TRACES_PER_READ) chunks.push(traceIds.slice(i, i + TRACES_PER_READ));
  const parts = await Promise.all(chunks.map((c) => spans.spansOfTracesCapped(c, SPANS_PER_SAMPLED_TRACE, limit)));
  const all = parts.flatMap((p) => p.spans);
  return { spans: all.slice(0, limit), truncated: all.length > limit || parts.some((p) => p.truncated), cappedTraces: parts.flatMap((p) => p.cappedTraces) };
}

/** What healthy looks like for one execution, and what it was learned from. */
export interface ExecutionBaseline {
  /** Expected hops and hand-offs; null when fewer than 5 succeeded. */
  baseline: Baseline | null;
  /** The full profile (durations, counts, metadata per hop); null when fewer than 5 succeeded or not asked for. */
  profile: BaselineProfile | null;
  /** The successful executions themselves (their roots), oldest first. */
  executions: SpanNode[];
  successes: number;
  window: TimeRange;
  more: boolean;
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
  options: { profile: boolean } = { profile: true },
): Promise<ExecutionBaseline> {
  const root = tree.roots[0]!;
  const rootHop = hopOf(root);
  // Before the execution only: runs after it (in an incident, often as slow or as broken) would be
  // judged as what healthy looked like.
  const window = { fromMs: root.span.startMs - LOOKBACK_MS, toMs: Math.min(nowMs, root.span.startMs) };
  const sampled = await spans.recentRoots({ window, limit: sample, service: root.span.service, operation: root.span.operation, successOnly: true });
  const own = new Set(tree.traceIds);
  const { executions } = await loadExecutions(spans, sampled.roots.filter((r) => !own.has(r.traceId)), window, BASELINE_SPAN_LIMIT);
  const successes = executions.filter((e) => hopOf(e) === rootHop && succeeded(e));
  const enough = successes.length >= MIN_BASELINE_EXECUTIONS;
  return {
    baseline: enough ? learnBaseline(rootHop, successes) : null,
    // The full profile costs as much CPU as the rest: only for callers that compare against it.
    profile: enough && options.profile ? learnProfile(rootHop, successes) : null,
    executions: successes,
    successes: successes.length,
    window,
    more: sampled.more,
  };
}

/**
 * One chosen execution as the baseline (compare_executions' baseline_trace_id): its trace and the
 * hops joined to it by job_id, as a profile of one. Null when it has no spans.
 */
export async function chosenBaseline(spans: SpanReader, traceId: string, limit: number): Promise<SpanNode | null> {
  const loaded = await spans.execution({ id: traceId, first: "trace_id", limit, linked: true, linkMarginMs: LINK_MARGIN_MS, maxTraces: MAX_TRACES_PER_JOB });
  // A baseline is named by its trace id: a job id that happens to match is not the trace asked for.
  if (loaded.by !== "trace_id" || !loaded.spans.length) return null;
  return buildSpanTree(loaded.spans, { correlationKeys: [...spans.correlationKeys] }).roots[0] ?? null;
}
