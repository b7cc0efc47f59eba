// A change as a cause: metadata values (any key — release, version, deploy, config, image, feature
// flag) that the failures carry, that no earlier execution carried, and that first appeared when the
// failures began — with the values the key had before and the failure rate before and after. Values
// of keys that only describe the outcome (error codes, status text) are kept apart, never ranked.

import { isChangeKey, isOutcomeKey, scalarText } from "./metadata-keys.js";
import { round } from "./format.js";

/** One span of the operation, as the onset analysis needs it. */
export interface SampledExecution {
  startMs: number;
  failed: boolean;
  metadata: Record<string, unknown>;
  traceId?: string;
}

export interface ChangeCandidate {
  key: string;
  value: string;
  firstSeenMs: number;
  /** The values the key had in the executions before, most common first (empty: the key is new). */
  previous: Array<{ value: string; share: number }>;
  /** Failure rate of the operation before the value first appeared, in the sample before. */
  failureRateBefore: number;
  /** Failure rate of the executions carrying the value, in the sample after. */
  failureRateAfter: number;
  /** Share of the failures that carry it. */
  failureShare: number;
  /** Sample sizes behind the two rates. */
  before: number;
  after: number;
  /** The key names a release, version, deploy, image, config or flag. */
  changeKey: boolean;
}

export interface OutcomeValue {
  key: string;
  value: string;
  failureShare: number;
}

export interface ChangeOnset {
  onsetMs: number;
  candidates: ChangeCandidate[];
  outcomes: OutcomeValue[];
  /** Why nothing could be judged, when nothing could. */
  note?: string;
}

export interface OnsetThresholds {
  /** A candidate is carried by at least this share of the failures... */
  minFailureShare: number;
  /** ...and the failure rate rose by at least this much when it appeared. */
  minRateRise: number;
  /** Fewer executions than this before the onset and nothing is judged. */
  minBefore: number;
  /** The value must first appear within this long after the first failure. */
  slackMs: number;
}

export const DEFAULT_ONSET_THRESHOLDS: OnsetThresholds = { minFailureShare: 0.8, minRateRise: 0.3, minBefore: 5, slackMs: 60_000 };

function valuesOf(e: SampledExecution): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(e.metadata)) {
    const text = scalarText(v);
    if (text !== null) out.set(k, text);
  }
  return out;
}

/**
 * Values carried by most of `failures` (the cluster) — the values to check: by the share that carries
 * them, outcome keys excluded, ids (a different value on nearly every failure) excluded.
 */
export function valuesToCheck(failures: readonly SampledExecution[], minShare = DEFAULT_ONSET_THRESHOLDS.minFailureShare): Array<{ key: string; value: string; share: number; outcome: boolean }> {
  const counts = new Map<string, Map<string, number>>();
  for (const f of failures) {
    for (const [k, v] of valuesOf(f)) {
      const values = counts.get(k) ?? new Map<string, number>();
      values.set(v, (values.get(v) ?? 0) + 1);
      counts.set(k, values);
    }
  }
  const out: Array<{ key: string; value: string; share: number; outcome: boolean }> = [];
  const n = failures.length;
  for (const [key, values] of counts) {
    if (values.size > 1 && values.size > Math.max(3, 0.5 * n)) continue;
    for (const [value, c] of values) {
      if (c < Math.min(3, n) || c / n < minShare) continue;
      out.push({ key, value, share: round(c / n, 3), outcome: isOutcomeKey(key) });
    }
  }
  return out.sort((a, b) => a.key.localeCompare(b.key) || a.value.localeCompare(b.value));
}

/**
 * The failures' onset against executions of the same operation just before it and just after it:
 * which values appeared with the failures — absent from every success before the onset, first seen
 * no later than the onset — with the failure rate before the value first appeared and among the
 * executions carrying it. `before` ends at the onset; `after` starts there. The values checked are
 * those most `failures` carry, or `values` when only their shares are known.
 */
export function changeAtOnset(
  input: {
    onsetMs: number;
    failures: readonly SampledExecution[];
    before: readonly SampledExecution[];
    after: readonly SampledExecution[];
    values?: ReadonlyArray<{ key: string; value: string; share: number }>;
  },
  t: OnsetThresholds = DEFAULT_ONSET_THRESHOLDS,
): ChangeOnset {
  const { onsetMs, failures, before, after } = input;
  const checked = input.values
    ? input.values.filter((v) => v.share >= t.minFailureShare).map((v) => ({ ...v, outcome: isOutcomeKey(v.key) }))
    : valuesToCheck(failures, t.minFailureShare);
  const outcomes: OutcomeValue[] = [];
  const candidates: ChangeCandidate[] = [];
  const all = [...before, ...after].sort((a, b) => a.startMs - b.startMs).map((e) => ({ e, values: valuesOf(e) }));
  const failureValues = failures.map((f) => ({ e: f, values: valuesOf(f) }));
  let unseen = 0;
  for (const c of checked) {
    const carries = (x: { values: Map<string, string> }) => x.values.get(c.key) === c.value;
    // A value healthy executions carried before the failures began is no change.
    if (all.some((x) => carries(x) && !x.e.failed && x.e.startMs < onsetMs)) continue;
    if (c.outcome) {
      outcomes.push({ key: c.key, value: c.value, failureShare: c.share });
      continue;
    }
    const firstSeenMs = Math.min(...[...all, ...failureValues].filter(carries).map((x) => x.e.startMs));
    // It must be there when the failures begin, not arrive after they were already happening.
    if (!Number.isFinite(firstSeenMs) || firstSeenMs > onsetMs + t.slackMs) continue;
    const earlier = all.filter((x) => x.e.startMs < firstSeenMs);
    if (earlier.length < t.minBefore) {
      unseen++;
      continue;
    }
    const carrying = all.filter((x) => x.e.startMs >= firstSeenMs && carries(x));
    const rateBefore = earlier.filter((x) => x.e.failed).length / earlier.length;
    const rateAfter = carrying.length ? carrying.filter((x) => x.e.failed).length / carrying.length : 1;
    if (rateAfter - rateBefore < t.minRateRise) continue;
    const previousCounts = new Map<string, number>();
    for (const x of earlier) {
      const p = x.values.get(c.key);
      if (p !== undefined) previousCounts.set(p, (previousCounts.get(p) ?? 0) + 1);
    }
    const withKey = [...previousCounts.values()].reduce((a, b) => a + b, 0);
    // A key with a different value on nearly every earlier execution is an id, not a setting that changed.
    if (previousCounts.size > Math.max(3, 0.5 * withKey)) continue;
    candidates.push({
      key: c.key,
      value: c.value,
      firstSeenMs,
      previous: [...previousCounts.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 3)
        .map(([value, n]) => ({ value, share: round(n / earlier.length, 3) })),
      failureRateBefore: round(rateBefore, 3),
      failureRateAfter: round(rateAfter, 3),
      failureShare: c.share,
      before: earlier.length,
      after: carrying.length,
      changeKey: isChangeKey(c.key),
    });
  }
  // Release, version, deploy and flag keys first; then the sharpest rise; then the key's name.
  candidates.sort(
    (a, b) =>
      Number(b.changeKey) - Number(a.changeKey) ||
      b.failureRateAfter - b.failureRateBefore - (a.failureRateAfter - a.failureRateBefore) ||
      a.key.localeCompare(b.key),
  );
  return {
    onsetMs,
    candidates: candidates.slice(0, 5),
    outcomes: outcomes.slice(0, 5),
    ...(unseen && !candidates.length && { note: `${unseen} value(s) the failures carry were already there at the start of the ${all.length} spans read around the onset: what came before is not in the sample` }),
  };
}
