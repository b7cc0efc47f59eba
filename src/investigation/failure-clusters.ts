// Failure clusters described the way the tools answer with them: a cluster row from Postgres, the
// success rate of its operation and the metadata contrast against successes, composed once for
// list_failed_spans (a window's clusters) and diagnose (the cluster one execution falls in, from
// bounded samples). Values only failures carry are checked for change onset: one that first appeared
// when the failures began is a candidate cause, not an outcome.

import { contrastMetadata, durationShape, errorSignature, shapeSentence, type DistinguishingValue, type DurationShape, type ValueCounts } from "../analysis/failure-clusters.js";
import type { ClusterEvidence } from "../analysis/diagnosis.js";
import type { ChangeOnset, SampledExecution } from "../analysis/change-onset.js";
import type { FailureClusterReport } from "../analysis/failure-report.js";
import { CLUSTER_SAMPLE, CONTRAST_SAMPLE, CONTRASTED_CLUSTERS, GUESS_SAMPLE, LOOKAHEAD_MS, LOOKBACK_MS, OUTCOME_SAMPLE, PREFETCH_MIN_IDLE } from "../analysis/defaults.js";
import { isoTime, round } from "../analysis/format.js";
import { isOutcomeKey, scalarText } from "../analysis/metadata-keys.js";
import { quantile } from "../analysis/quantile.js";
import { isFailureStatus, knownEndMs, type Span } from "../analysis/span.js";
import type { SpanNode } from "../analysis/span-tree.js";
import type { BaselineQueries, ClusterKey } from "../store/baseline-queries.js";
import type { ChangeQueries } from "../store/change-queries.js";
import type { ClusterRow, FailureFilter, FailureQueries, PrefetchedContext } from "../store/failure-queries.js";
import { onsetOfCluster } from "./change-onset.js";

const statsOf = (c: ClusterRow) => ({ count: c.count, minMs: c.minMs, p05Ms: c.p05Ms, p50Ms: c.p50Ms, p95Ms: c.p95Ms, maxMs: c.maxMs });

/** Each cluster with its shape and success rate; the largest few also with what sets them apart. */
export async function describeClusters(
  queries: FailureQueries,
  filter: FailureFilter,
  clusters: readonly ClusterRow[],
  immediateMs: number,
  changes?: ChangeQueries,
  prefetched?: PrefetchedContext,
): Promise<FailureClusterReport[]> {
  // The success rates and the contrasts depend only on the clusters: one statement per operation, all at once
  // (or started ahead, from guessed clusters: see prefetchClusterContext).
  const { counts, contrasts } = await queries.clusterContext(filter, clusters, CONTRASTED_CLUSTERS, CONTRAST_SAMPLE, immediateMs, prefetched);
  const distinguishing = contrasts.map((v) => (v ? contrastMetadata(v.failures, v.failureTotal, v.successes, v.successTotal) : []));
  // Change onset, apart from the contrast above: only for values no success carries, one bounded pair of reads each.
  const contrasted = clusters.slice(0, CONTRASTED_CLUSTERS);
  const onsets = changes
    ? await Promise.all(contrasted.map((c, i) => onsetOfValues(changes, filter, c, distinguishing[i]!, immediateMs)))
    : [];
  return clusters.map((c, i) => {
    const stats = statsOf(c);
    const shape: DurationShape = durationShape(stats, c.status, { immediateMs });
    const op = counts.find((o) => o.service === c.service && o.operation === c.operation);
    const v = contrasts[i];
    const onset = onsets[i];
    return {
      service: c.service,
      operation: c.operation,
      status: c.status,
      error_signature: c.signature,
      ...(c.exampleError ? { example_error: c.exampleError } : {}),
      count: c.count,
      first_seen: isoTime(c.firstMs),
      last_seen: isoTime(c.lastMs),
      ...(c.minMs !== null && { duration_ms: { min: round(c.minMs), p50: round(c.p50Ms!), p95: round(c.p95Ms!), max: round(c.maxMs!) } }),
      shape,
      shape_note: shapeSentence(shape, stats, { immediateMs }),
      ...(op && {
        operation_total: op.total,
        operation_failed: op.failed,
        operation_success_rate: op.total ? round(op.succeeded / op.total, 3) : 0,
        ...(op.sampled && { operation_counts_sampled: op.sampled }),
      }),
      // The contrast is counted for the largest clusters only (CONTRASTED_CLUSTERS).
      ...(v && {
        distinguishing: distinguishing[i]!,
        contrast_sample: { failures: v.failureTotal, successes: v.successTotal },
      }),
      ...(onset?.candidates.length && { change_at_onset: onset.candidates.map(candidateReport) }),
      example_trace_ids: c.exampleTraceIds,
      example_job_ids: c.exampleCorrelation,
    };
  });
}

/**
 * With connections to spare, the per-operation context of the clusters the newest GUESS_SAMPLE
 * failures suggest, started now: it runs beside the window's cluster statement instead of after it,
 * and describeClusters keeps what the real clusters confirm (the answer is the same either way).
 * Undefined when the pool has no room for it (or there is no pool), or the scope is one trace or job:
 * nothing is read ahead.
 */
export function prefetchClusterContext(queries: FailureQueries, filter: FailureFilter, spareConnections: number, maxClusters: number, immediateMs: number): PrefetchedContext | undefined {
  // One trace's or one job's failures are clustered in a few ms: nothing to read ahead of.
  if (spareConnections < PREFETCH_MIN_IDLE || filter.traceId !== undefined || filter.correlation !== undefined) return undefined;
  const guesses = queries.guessClusters(filter, GUESS_SAMPLE, maxClusters, immediateMs);
  return queries.prefetchContext(filter, guesses, CONTRASTED_CLUSTERS, CONTRAST_SAMPLE, immediateMs);
}

/**
 * Values only this cluster's failures carry (outcome keys aside) checked for onset: did they first
 * appear when the failures began, absent from the spans of the operation just before?
 */
async function onsetOfValues(changes: ChangeQueries, filter: FailureFilter, c: ClusterRow, values: DistinguishingValue[], immediateMs: number): Promise<ChangeOnset | null> {
  const onlyInFailures = values.filter((d) => d.success_share === 0 && !isOutcomeKey(d.key));
  if (!onlyInFailures.length) return null;
  return onsetOfCluster(changes, {
    cluster: { service: c.service, operation: c.operation, status: c.status, signature: c.signature, band: c.band },
    window: filter.window,
    earliestMs: c.firstMs,
    sampled: false,
    failures: [],
    values: onlyInFailures.map((d) => ({ key: d.key, value: d.value, share: d.failure_share })),
    immediateMs,
  });
}

function candidateReport(c: ChangeOnset["candidates"][number]): NonNullable<FailureClusterReport["change_at_onset"]>[number] {
  return {
    key: c.key,
    value: c.value,
    first_seen: isoTime(c.firstSeenMs),
    previous_values: c.previous,
    failure_rate_before: c.failureRateBefore,
    failure_rate_after: c.failureRateAfter,
    failure_share: c.failureShare,
    sample: { before: c.before, after: c.after },
  };
}

/** The failure cluster one execution falls in, read from bounded samples, and what its onset needs. */
export interface ExecutionCluster {
  cluster: ClusterEvidence;
  key: ClusterKey;
  window: { fromMs: number; toMs: number };
  /** The failures read, newest first. */
  failures: Span[];
  /** More failures exist than were read. */
  full: boolean;
}

/**
 * The failure cluster of the root's operation that this execution falls in (same status, error
 * signature and immediate band) over the day before it: its latest failures (at most CLUSTER_SAMPLE,
 * through an index), the outcomes of the operation's latest spans, and the contrast of the failures'
 * metadata with the healthy executions the baseline was learned from. Nothing window-wide.
 */
export async function clusterOfExecution(
  samples: BaselineQueries,
  root: SpanNode,
  successes: readonly SpanNode[],
  options: { immediateMs: number; unfinishedAfterMs: number; nowMs: number },
): Promise<ExecutionCluster | null> {
  const toMs = Math.min(options.nowMs, root.span.startMs + LOOKAHEAD_MS);
  const window = { fromMs: toMs - LOOKBACK_MS, toMs };
  const end = knownEndMs(root.span);
  const key: ClusterKey = {
    service: root.span.service,
    operation: root.span.operation,
    status: root.flags.includes("unfinished") ? "unfinished" : root.span.status.toLowerCase(),
    signature: errorSignature(root.span.errorMessage),
    band: end !== null && end - root.span.startMs < options.immediateMs ? "immediate" : "slower",
  };
  const [read, outcomes] = await Promise.all([
    samples.clusterFailures(key, window, CLUSTER_SAMPLE, { immediateMs: options.immediateMs, unfinishedBeforeMs: options.nowMs - options.unfinishedAfterMs }),
    samples.operationOutcomes(key, window, OUTCOME_SAMPLE),
  ]);
  if (!read.spans.length) return null;
  const durations = read.spans.flatMap((s) => {
    const e = knownEndMs(s);
    return e === null ? [] : [e - s.startMs];
  });
  const sorted = [...durations].sort((a, b) => a - b);
  // Interpolated like percentile_cont, so a sampled cluster reads like list_failed_spans' aggregate.
  const q = (p: number) => (sorted.length ? quantile(sorted, p) : null);
  const stats = { count: read.spans.length, minMs: sorted[0] ?? null, p05Ms: q(0.05), p50Ms: q(0.5), p95Ms: q(0.95), maxMs: sorted.length ? sorted[sorted.length - 1]! : null };
  const firstMs = Math.min(...read.spans.map((s) => s.startMs));
  const okRoots = successes.filter((s) => !isFailureStatus(s.span.status));
  return {
    key,
    window,
    failures: read.spans,
    full: read.full,
    cluster: {
      status: key.status,
      count: read.spans.length,
      shape: durationShape(stats, key.status, { immediateMs: options.immediateMs }),
      p05Ms: stats.p05Ms,
      p50Ms: stats.p50Ms,
      p95Ms: stats.p95Ms,
      firstSeen: isoTime(firstMs),
      distinguishing: contrastMetadata(metadataValueCounts(read.spans.map((s) => s.metadata)), read.spans.length, metadataValueCounts(okRoots.map((r) => r.span.metadata)), okRoots.length),
      operationTotal: outcomes.total,
      operationFailed: outcomes.failed,
      exampleTraceIds: [...new Set(read.spans.map((s) => s.traceId))].slice(0, 3),
      ...(read.full && { sampled: true }),
    },
  };
}

/** Failures read for the onset analysis, as it takes them. */
export function sampledFailures(spans: readonly Span[]): SampledExecution[] {
  return spans.map((s) => ({ startMs: s.startMs, failed: true, metadata: s.metadata, traceId: s.traceId }));
}

/** Scalar metadata values counted per key, as the SQL contrast counts them. */
function metadataValueCounts(metadata: ReadonlyArray<Record<string, unknown>>): ValueCounts {
  const out: ValueCounts = new Map();
  for (const m of metadata) {
    for (const [k, v] of Object.entries(m)) {
      const text = scalarText(v);
      if (text === null) continue;
      const values = out.get(k) ?? new Map<string, number>();
      values.set(text, (values.get(text) ?? 0) + 1);
      out.set(k, values);
    }
  }
  return out;
}
