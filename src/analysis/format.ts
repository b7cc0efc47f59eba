// Small, shared ways of writing numbers and untrusted text for a model to read.

/** 13ms, 2.41s, 1m05s, 2h03m: short and unambiguous. */
export function formatMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "?";
  const sign = ms < 0 ? "-" : "";
  const a = Math.abs(ms);
  if (a === 0) return "0ms";
  if (a < 1) return `${sign}${a.toFixed(1)}ms`;
  if (a < 1000) return `${sign}${Math.round(a)}ms`;
  if (a < 60_000) return `${sign}${(a / 1000).toFixed(a < 10_000 ? 2 : 1)}s`;
  // Round to the last unit shown first, so 119.7s carries into 2m00s instead of printing 1m60s.
  const s = Math.round(a / 1000);
  if (s < 3600) return `${sign}${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  const m = Math.round(a / 60_000);
  return `${sign}${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

/** Offsets carry an explicit sign so skew (a negative offset) stands out. */
export function formatOffset(ms: number): string {
  return ms < 0 ? formatMs(ms) : `+${formatMs(ms)}`;
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Text written by the monitored services (error messages, metadata values) is data, not instructions:
 * it is always JSON-quoted, so it cannot break out of its delimiters, and cut to a bound.
 */
export function quoteData(value: unknown, max = 200): string {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? String(value);
  const cut = text.length > max ? `${text.slice(0, max)}…(+${text.length - max} chars)` : text;
  return JSON.stringify(cut);
}

/** Metadata values that are plain ids or words need no quotes; anything else is quoted. */
export function formatDataValue(value: unknown, max = 80): string {
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string" && /^[\w.:@/+-]{1,80}$/.test(value)) return value;
  return quoteData(value, max);
}

/** service.operation as written by the services: plain names print bare, anything odd is quoted. */
export function formatHop(service: string, operation: string): string {
  return `${formatDataValue(service)}.${formatDataValue(operation)}`;
}

/** A label built from span names (an edge "a.b → c.d"): bare unless it holds quotes or control characters. */
export function formatLabel(text: string): string {
  return /^[^\x00-\x1f"\\\u2028\u2029]{1,300}$/.test(text) ? text : quoteData(text, 300);
}

/** Numbers as answers carry them: times to 0.1 ms by default, shares to 0.001 with digits = 3. */
export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
