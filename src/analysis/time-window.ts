// Time windows as tools accept them: absolute (ISO 8601) or relative to now ("90s", "15m", "2h",
// "7d", "1w"). A value that is neither is rejected with an example, never guessed at.

import { InputError } from "../errors.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RELATIVE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/i;

export interface TimeWindow {
  fromMs: number;
  toMs: number;
}

/** A time the tools cannot read: bad input, said with an example. */
export class TimeWindowError extends InputError {}

/** A point in time: ISO 8601, or a duration back from now ("2h" means two hours ago). */
export function parseTimePoint(value: string, nowMs: number, field: string): number {
  const text = value.trim();
  const rel = RELATIVE.exec(text);
  if (rel) return nowMs - Number(rel[1]) * UNIT_MS[rel[2]!.toLowerCase()]!;
  if (/^now$/i.test(text)) return nowMs;
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    // A time with no zone is read as UTC, never as the server's local time.
    const zoned = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text) ? `${text}Z` : text;
    const ms = Date.parse(zoned);
    if (Number.isFinite(ms)) return ms;
  }
  throw new TimeWindowError(
    `${field} ${JSON.stringify(value)} is not a time: use ISO 8601 (2025-10-22T12:00:00Z) or a duration back from now (30m, 2h, 7d).`,
  );
}

export function parseWindow(since: string | undefined, until: string | undefined, nowMs: number, defaultSince = "24h"): TimeWindow {
  const fromMs = parseTimePoint(since ?? defaultSince, nowMs, "since");
  const toMs = until === undefined ? nowMs : parseTimePoint(until, nowMs, "until");
  if (fromMs >= toMs) {
    throw new TimeWindowError(`The window is empty: since (${new Date(fromMs).toISOString()}) is not before until (${new Date(toMs).toISOString()}).`);
  }
  return { fromMs, toMs };
}

export function describeWindow(w: TimeWindow): string {
  return `${new Date(w.fromMs).toISOString()} → ${new Date(w.toMs).toISOString()}`;
}
