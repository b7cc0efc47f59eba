// Completion of prompt and resource arguments from live data: recent failing job and trace ids,
// services, operations, service edges, metadata values and unresolved Sentry issues. Every lookup
// reads a bounded sample of recent rows through indexes (started_at, the failures index, trace_id),
// so it stays fast on millions of spans; any error or a slow answer yields [] — never a client error.

import { logError } from "../log.js";
import { COMPLETION_LIMITS, CompletionQueries, type SpanValueSource } from "../store/completion-queries.js";
import type { SpanTable } from "../store/span-table.js";

/** Where an argument's completions come from; `metadata:<key>` completes values of that metadata key. */
export type CompletionSource = SpanValueSource | "sentry_issues";

const FIXED_SOURCES = ["job_ids", "trace_ids", "services", "operations", "edges", "sentry_issues"] as const;

export function isCompletionSource(value: string): value is CompletionSource {
  return (FIXED_SOURCES as readonly string[]).includes(value) || /^metadata:[A-Za-z0-9_.\-]{1,64}$/.test(value);
}

export interface ArgumentCompleter {
  /** At most MAX_COMPLETIONS values starting with prefix (case-insensitive); never throws. */
  complete(source: CompletionSource, prefix: string): Promise<string[]>;
}

/** The one Sentry call completion needs (SentryClient has it). */
export interface SentryIssueSearch {
  searchIssues(query: string, limit: number): Promise<{ issues: Array<{ id: string; shortId?: string | null; title?: string | null }> }>;
}

export interface SpanArgumentCompleterOptions {
  sentry?: SentryIssueSearch | null;
  /** How far back completion looks (default 24 h). */
  windowMs?: number;
  /** How long an answer is reused for the same source and prefix (default 10 s; 0 turns caching off). */
  cacheTtlMs?: number;
  /** Completion gives up after this long and answers [] (default 3 s). */
  timeoutMs?: number;
  now?: () => number;
}

export const MAX_COMPLETIONS = COMPLETION_LIMITS.maxValues;
const DAY_MS = 24 * 3_600_000;
const SENTRY_SAMPLE = 100;
const CACHE_ENTRIES = 200;

type CompletionSpans = Pick<SpanTable, "sql" | "query" | "correlationKeys">;

export class SpanArgumentCompleter implements ArgumentCompleter {
  private readonly cache = new Map<string, { atMs: number; values: string[] }>();
  private readonly logged = new Set<string>();
  private readonly sentry: SentryIssueSearch | null;
  private readonly windowMs: number;
  private readonly cacheTtlMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly queries: CompletionQueries;

  constructor(spans: CompletionSpans, options: SpanArgumentCompleterOptions = {}) {
    this.queries = new CompletionQueries(spans);
    this.sentry = options.sentry ?? null;
    this.windowMs = options.windowMs ?? DAY_MS;
    this.cacheTtlMs = options.cacheTtlMs ?? 10_000;
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.now = options.now ?? Date.now;
  }

  async complete(source: CompletionSource, prefix: string): Promise<string[]> {
    const key = `${source}\u0000${prefix.toLowerCase()}`;
    const hit = this.cache.get(key);
    if (hit && this.now() - hit.atMs < this.cacheTtlMs) return hit.values;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), this.timeoutMs);
        timer.unref();
      });
      const answer = await Promise.race([this.lookup(source, prefix), timeout]);
      if (answer === "timeout") {
        this.logOnce(`completion of ${source} took over ${this.timeoutMs} ms; answered with no values`);
        return [];
      }
      const values = bounded(answer, prefix);
      this.remember(key, values);
      return values;
    } catch (err) {
      this.logOnce(`completion of ${source} failed: ${(err as Error).message}`);
      return [];
    } finally {
      clearTimeout(timer);
    }
  }

  private async lookup(source: CompletionSource, prefix: string): Promise<string[]> {
    if (source === "sentry_issues") return this.sentryIssues();
    return this.queries.values(source, prefix.trim().toLowerCase(), new Date(this.now() - this.windowMs).toISOString());
  }

  /** Short ids of unresolved issues, most recently seen first. */
  private async sentryIssues(): Promise<string[]> {
    if (!this.sentry) return [];
    const { issues } = await this.sentry.searchIssues("is:unresolved", SENTRY_SAMPLE);
    return issues.map((i) => i.shortId || i.id);
  }

  private remember(key: string, values: string[]): void {
    if (this.cacheTtlMs <= 0) return;
    this.cache.delete(key);
    this.cache.set(key, { atMs: this.now(), values });
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Operators learn that completion is failing once per reason, not once per keystroke. */
  private logOnce(message: string): void {
    if (this.logged.has(message) || this.logged.size > 50) return;
    this.logged.add(message);
    logError(message);
  }
}

/** Prefix-filtered (case-insensitive), de-duplicated, non-empty, at most MAX_COMPLETIONS, order kept. */
function bounded(values: readonly string[], prefix: string): string[] {
  const needle = prefix.trim().toLowerCase();
  const out: string[] = [];
  for (const v of values) {
    if (typeof v !== "string" || !v || out.includes(v) || !v.toLowerCase().startsWith(needle)) continue;
    out.push(v);
    if (out.length === MAX_COMPLETIONS) break;
  }
  return out;
}
