// Failure clusters described the way the tools answer with them: a cluster row from Postgres, the
// success rate of its operation and the metadata contrast against successes, composed once for
// list_failed_spans (a window's clusters) and diagnose (the cluster one execution falls in).

import { contrastMetadata, durationShape, errorSignature, shapeSentence, type DurationShape } from "../analysis/failure-clusters.js";
import type { ClusterEvidence } from "../analysis/diagnosis.js";
import type { FailureClusterReport } from "../analysis/failure-report.js";
import { CONTRAST_SAMPLE, CONTRASTED_CLUSTERS, LOOKAHEAD_MS, LOOKBACK_MS } from "../analysis/defaults.js";
import { isoTime, round } from "../analysis/format.js";
import { knownEndMs } from "../analysis/span.js";
import type { SpanNode } from "../analysis/span-tree.js";
import type { ClusterRow, FailureFilter, FailureQueries } from "../store/failure-queries.js";

const statsOf = (c: ClusterRow) => ({ count: c.count, minMs: c.minMs, p05Ms: c.p05Ms, p50Ms: c.p50Ms, p95Ms: c.p95Ms, maxMs: c.maxMs });

/** Each cluster with its shape and success rate; the largest few also with what sets them apart. */
export async function describeClusters(
  queries: FailureQueries,
  filter: FailureFilter,
  clusters: readonly ClusterRow[],
  immediateMs: number,
): Promise<FailureClusterReport[]> {
  // The success rates and the contrasts depend only on the clusters: one statement per operation, all at once.
  const { counts, contrasts } = await queries.clusterContext(filter, clusters, CONTRASTED_CLUSTERS, CONTRAST_SAMPLE, immediateMs);
  return clusters.map((c, i) => {
    const stats = statsOf(c);
    const shape: DurationShape = durationShape(stats, c.status, { immediateMs });
    const op = counts.find((o) => o.service === c.service && o.operation === c.operation);
    const v = contrasts[i];
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
      // Said only when p50/p95 are not over every failure of the cluster.
      ...(c.minMs !== null && c.durationSample !== null && { duration_sample: c.durationSample }),
      shape,
      shape_note: shapeSentence(shape, stats, { immediateMs }),
      ...(op && { operation_total: op.total, operation_failed: op.failed, operation_success_rate: op.total ? round(op.succeeded / op.total, 3) : 0 }),
      // The contrast is counted for the largest clusters only (CONTRASTED_CLUSTERS).
      ...(v && {
        distinguishing: contrastMetadata(v.failures, v.failureTotal, v.successes, v.successTotal),
        contrast_sample: { failures: v.failureTotal, successes: v.successTotal },
      }),
      example_trace_ids: c.exampleTraceIds,
      example_job_ids: c.exampleCorrelation,
    };
  });
}

/**
 * The failure cluster of the root's operation that this execution falls in (same status, error
 * signature and immediate band), over the day before it, with the contrast against successes.
 */
export async function clusterOfExecution(
  queries: FailureQueries,
  root: SpanNode,
  options: { immediateMs: number; unfinishedAfterMs: number; correlationKey: string; nowMs: number },
): Promise<ClusterEvidence | null> {
  const toMs = Math.min(options.nowMs, root.span.startMs + LOOKAHEAD_MS);
  const filter: FailureFilter = {
    window: { fromMs: toMs - LOOKBACK_MS, toMs },
    unfinishedBeforeMs: options.nowMs - options.unfinishedAfterMs,
    service: root.span.service,
    operation: root.span.operation,
  };
  const page = await queries.clusters(filter, 50, options.correlationKey, options.immediateMs);
  const end = knownEndMs(root.span);
  const band = end !== null && end - root.span.startMs < options.immediateMs ? "immediate" : "slower";
  const signature = errorSignature(root.span.errorMessage);
  const status = root.flags.includes("unfinished") ? "unfinished" : root.span.status.toLowerCase();
  const mine = page.clusters.find((c) => c.status === status && c.signature === signature && c.band === band);
  if (!mine) return null;
  const [counts, values] = await Promise.all([
    queries.operationCounts(filter, [{ service: root.span.service, operation: root.span.operation }]),
    queries.valueCounts(filter, mine, CONTRAST_SAMPLE, options.immediateMs),
  ]);
  return {
    status: mine.status,
    count: mine.count,
    shape: durationShape(statsOf(mine), mine.status, { immediateMs: options.immediateMs }),
    p05Ms: mine.p05Ms,
    p50Ms: mine.p50Ms,
    p95Ms: mine.p95Ms,
    firstSeen: isoTime(mine.firstMs),
    distinguishing: contrastMetadata(values.failures, values.failureTotal, values.successes, values.successTotal),
    operationTotal: counts[0]?.total ?? 0,
    operationFailed: counts[0]?.failed ?? 0,
    exampleTraceIds: mine.exampleTraceIds,
  };
}
