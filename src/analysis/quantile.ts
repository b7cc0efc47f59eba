// The one percentile definition the core uses: linear interpolation between the closest ranks, the
// way Postgres' percentile_cont does, so figures from SQL and from Node agree.

/** The q-quantile (0–1) of values already sorted ascending; 0 for none. */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return 0;
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

/** p50, p95 and max of unsorted values. */
export function spread(values: readonly number[]): { p50: number; p95: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), max: sorted.length ? sorted[sorted.length - 1]! : 0 };
}
