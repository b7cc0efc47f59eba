// What is failing, as numbers a model can reason over: the error signature that groups failures,
// the duration shape of a cluster (too fast for a round trip, piled up at a limit, or spread), and
// the metadata values over-represented among failures compared with successes.

import { ID_LIKE_SHARE } from "./defaults.js";
import { round } from "./format.js";

/**
 * Masks what varies between occurrences of one error (ids, quoted values, numbers), so "timeout
 * after 30012ms for job 17" and "timeout after 29990ms for job 42" group together. The SQL twin of
 * this function lives in SpanSql.errorSignature; a test keeps them in step.
 */
export function errorSignature(message: string | null): string {
  if (!message) return "";
  return message
    .replace(/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g, "<id>")
    // A single quote opens a quoted value only after a non-word character: "can't" is a word.
    .replace(/"[^"]*"|(?<![A-Za-z0-9_])'[^']*'/g, "<str>")
    .replace(/\b[0-9a-fA-F]{12,}\b/g, "<hex>")
    .replace(/[0-9]+(\.[0-9]+)?/g, "<n>")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 200);
}

export type DurationShape = "immediate" | "timeout-like" | "spread" | "unfinished" | "unknown";

export interface DurationStats {
  count: number;
  minMs: number | null;
  p05Ms: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
}

export interface ShapeThresholds {
  /** Faster than this is faster than a network round trip plus any real work. */
  immediateMs: number;
}

/**
 * immediate: nearly all failures end before a round trip could complete;
 * timeout-like: they pile up at one value of a second or more (a limit someone configured);
 * spread: anything else.
 */
export function durationShape(stats: DurationStats, status: string, t: ShapeThresholds): DurationShape {
  if (status === "unfinished") return "unfinished";
  if (stats.p50Ms === null || stats.p95Ms === null || stats.p05Ms === null) return "unknown";
  if (stats.p95Ms < t.immediateMs) return "immediate";
  const band = stats.p95Ms - stats.p05Ms;
  if (stats.p50Ms >= 1000 && band <= Math.max(0.05 * stats.p50Ms, 50)) return "timeout-like";
  return "spread";
}

export function shapeSentence(shape: DurationShape, stats: DurationStats, t: ShapeThresholds): string {
  switch (shape) {
    case "immediate":
      // Whether the operation calls out is not known from failures alone: both readings are said.
      return `immediate: 95% end within ${Math.round(stats.p95Ms!)} ms, under ${t.immediateMs} ms — too fast for a network round trip: if the operation calls another service, the request most likely never left or was refused at once; if its work is in-process, it failed before doing it`;
    case "timeout-like":
      return `timeout-like: they pile up at ~${Math.round(stats.p50Ms!)} ms (p5–p95 within ${Math.round(stats.p95Ms! - stats.p05Ms!)} ms), the mark of a configured limit`;
    case "spread":
      return "spread: durations vary, so the failure is not a fixed limit or an instant refusal";
    case "unfinished":
      return "unfinished: the spans were started and never marked finished (crash, kill, or lost completion)";
    default:
      return "duration unknown";
  }
}

/** value counts per metadata key, on one side (failures or successes). */
export type ValueCounts = Map<string, Map<string, number>>;

export interface DistinguishingValue {
  key: string;
  value: string;
  /** Share of failures carrying key=value. */
  failure_share: number;
  /** Share of successes carrying it. */
  success_share: number;
  failures: number;
  successes: number;
}

export interface ContrastOptions {
  /** Report a value when at least this share of failures carry it... */
  minFailureShare?: number;
  /** ...and its share among failures exceeds its share among successes by at least this. */
  minDifference?: number;
  /** Keys whose failures (or successes) mostly carry distinct values (job ids, timestamps) say nothing: skip them. */
  maxDistinctShare?: number;
  /** ...and, in a cluster of one or two failures, so many carrying it would be this unlikely if failures carried it as often as successes do. */
  maxChance?: number;
  limit?: number;
}

/**
 * How likely at least `n` of `total` failures carry a value if each did so as often as the successes:
 * the binomial tail at the successes' share, smoothed so a value no success carries still has a chance
 * (half a success in one more). A cluster of one failure never shows a common value is a pattern.
 */
export function chanceOfAtLeast(n: number, total: number, successesWith: number, successTotal: number): number {
  const p = (successesWith + 0.5) / (successTotal + 1);
  if (n <= 0) return 1;
  if (p >= 1) return 1;
  // Sum the pmf from n to total in log space (total is a bounded sample).
  let logPmf = logChoose(total, n) + n * Math.log(p) + (total - n) * Math.log1p(-p);
  let sum = 0;
  for (let k = n; k <= total; k++) {
    sum += Math.exp(logPmf);
    logPmf += Math.log((total - k) / (k + 1)) + Math.log(p) - Math.log1p(-p);
  }
  return Math.min(1, sum);
}

function logChoose(n: number, k: number): number {
  let out = 0;
  for (let i = 1; i <= k; i++) out += Math.log((n - k + i) / i);
  return out;
}

/**
 * The metadata values over-represented among failures: region=US in 100% of failures vs 30% of
 * successes. Keys that behave like ids (almost every failure a different value) are skipped.
 */
export function contrastMetadata(
  failures: ValueCounts,
  failureTotal: number,
  successes: ValueCounts,
  successTotal: number,
  options: ContrastOptions = {},
): DistinguishingValue[] {
  const minFailureShare = options.minFailureShare ?? 0.5;
  const minDifference = options.minDifference ?? 0.25;
  const maxDistinctShare = options.maxDistinctShare ?? ID_LIKE_SHARE;
  const maxChance = options.maxChance ?? 0.05;
  // With no successes there is nothing to set failures apart from: "100% vs 0 of 0" would mislead.
  if (failureTotal === 0 || successTotal === 0) return [];
  const out: DistinguishingValue[] = [];
  for (const [key, values] of failures) {
    if (values.size > 1 && values.size > Math.max(3, maxDistinctShare * failureTotal)) continue;
    const okValues = successes.get(key);
    // A cluster of one or two failures cannot show a key is an id; its successes can (job_id, timestamps).
    if (okValues && okValues.size > 1 && okValues.size > Math.max(3, maxDistinctShare * successTotal)) continue;
    for (const [value, n] of values) {
      const failureShare = n / failureTotal;
      const ok = okValues?.get(value) ?? 0;
      const successShare = successTotal ? ok / successTotal : 0;
      // In a cluster of two, one failure is a coincidence, not a pattern.
      if (n < Math.min(3, failureTotal)) continue;
      if (failureShare < minFailureShare || failureShare - successShare < minDifference) continue;
      // A cluster of one or two failures carries every value it has at 50-100%: one failure in US when
      // a third of successes are in US is no pattern. Only a value that few successes carry is kept.
      if (failureTotal < 3 && chanceOfAtLeast(n, failureTotal, ok, successTotal) > maxChance) continue;
      out.push({ key, value, failure_share: round(failureShare, 3), success_share: round(successShare, 3), failures: n, successes: ok });
    }
  }
  // Conditions also seen in successes (region, provider) come before values only failures carry
  // (has_output=false), which are more often an outcome of the failure than its cause.
  const onlyInFailures = (v: DistinguishingValue) => (v.success_share === 0 ? 1 : 0);
  out.sort(
    (a, b) =>
      onlyInFailures(a) - onlyInFailures(b) ||
      b.failure_share - b.success_share - (a.failure_share - a.success_share) ||
      a.key.localeCompare(b.key),
  );
  return out.slice(0, options.limit ?? 6);
}
