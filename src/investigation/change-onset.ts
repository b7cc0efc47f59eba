// Change onset as the tools ask it: where a failure cluster began (read, or located by bisection when
// its failures are too many to read), the operation's spans just before and just after, and what
// appeared with the failures (analysis/change-onset.ts). Used by diagnose for one execution's cluster
// and by list_failed_spans for the clusters it contrasts. Every read is bounded.

import { changeAtOnset, type ChangeOnset, type SampledExecution } from "../analysis/change-onset.js";
import { LOOKBACK_MS } from "../analysis/defaults.js";
import type { ClusterKey } from "../store/baseline-queries.js";
import type { ChangeQueries } from "../store/change-queries.js";
import type { TimeRange } from "../store/span-table.js";

/** Spans of the operation read on each side of the onset. */
export const ONSET_SAMPLE = 200;
/** Spans per bisection probe, and the most probes: about a minute's resolution over a day. */
const PROBE_SPANS = 50;
const MAX_PROBES = 12;
const RESOLUTION_MS = 60_000;

export interface OnsetQuestion {
  cluster: ClusterKey;
  /** The window the cluster was read in. */
  window: TimeRange;
  /** The earliest failure read. */
  earliestMs: number;
  /** True when more failures exist than were read: the real onset is at or before earliestMs. */
  sampled: boolean;
  /** The failures read (for the values they carry), or the values to check when only counts are known. */
  failures: readonly SampledExecution[];
  values?: Array<{ key: string; value: string; share: number }>;
  immediateMs: number;
}

/** What appeared when the cluster's failures began, with `located` saying how the onset was found. */
export async function onsetOfCluster(queries: ChangeQueries, q: OnsetQuestion): Promise<ChangeOnset & { located: "read" | "bisected" }> {
  const onsetMs = q.sampled ? await bisectOnset(queries, q) : q.earliestMs;
  const op = { service: q.cluster.service, operation: q.cluster.operation };
  const [before, after] = await Promise.all([
    queries.around(op, onsetMs, "before", ONSET_SAMPLE, { fromMs: onsetMs - LOOKBACK_MS, toMs: onsetMs }),
    queries.around(op, onsetMs, "after", ONSET_SAMPLE, { fromMs: onsetMs, toMs: q.window.toMs }),
  ]);
  const result = changeAtOnset({ onsetMs, failures: q.failures, before, after, ...(q.values ? { values: q.values } : {}) });
  return { ...result, located: q.sampled ? "bisected" : "read" };
}

/**
 * The earliest failure of the cluster, to a minute, without reading them all: probe the spans just
 * before a moment; failures there move the onset back, none move the search forward.
 */
async function bisectOnset(queries: ChangeQueries, q: OnsetQuestion): Promise<number> {
  let lo = q.window.fromMs;
  let hi = q.earliestMs;
  for (let i = 0; i < MAX_PROBES && hi - lo > RESOLUTION_MS; i++) {
    const mid = Math.floor((lo + hi) / 2);
    const found = await queries.earliestClusterFailureBefore(q.cluster, mid, q.window.fromMs, PROBE_SPANS, q.immediateMs);
    if (found === null) lo = mid;
    else hi = found;
  }
  return hi;
}
