// Completion of prompt and resource arguments from live data: recent failing job and trace ids,
// services, operations, service edges, metadata values and unresolved Sentry issues. Every lookup
// reads a bounded sample of recent rows through indexes (started_at, the failures index, trace_id),
// so it stays fast on millions of spans; any error or a slow answer yields [] — never a client error.

import { logError } from "../log.js";
import { FAILURE_INDEX_PREDICATE, FAILURE_STATUS_SQL, validateMetadataKey, type SpanSql } from "../store/span-sql.js";
import type { SpanTable } from "../store/span-table.js";
import type { CompletionSource } from "./prompt-library.js";

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

export const MAX_COMPLETIONS = 20;
const DAY_MS = 24 * 3_600_000;
/** Newest failing spans read for failing job and trace ids. */
const FAILING_SAMPLE = 400;
/** Newest spans read for services, operations and metadata values. */
const VALUE_SAMPLE = 5000;
/** Newest child spans whose parents are looked up for edges. */
const EDGE_SAMPLE = 2000;
const SENTRY_SAMPLE = 100;
const MAX_VALUE_LENGTH = 200;
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

  constructor(
    private readonly spans: CompletionSpans,
    options: SpanArgumentCompleterOptions = {},
  ) {
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
    const needle = prefix.trim().toLowerCase();
    switch (source) {
      case "job_ids": {
        const t = await this.spans.sql();
        const key = this.spans.correlationKeys[0];
        return key ? this.failingValues(t, t.field(key), needle) : [];
      }
      case "trace_ids":
        return this.failingValues(await this.spans.sql(), "trace_id::text", needle);
      case "services":
        return this.commonValues(await this.spans.sql(), "service::text", needle);
      case "operations":
        return this.commonValues(await this.spans.sql(), "operation::text", needle);
      case "edges":
        return this.edges(await this.spans.sql());
      case "sentry_issues":
        return this.sentryIssues();
      default: {
        if (!source.startsWith("metadata:")) return [];
        const t = await this.spans.sql();
        return this.commonValues(t, t.field(validateMetadataKey(source.slice("metadata:".length))), needle);
      }
    }
  }

  private since(): string {
    return new Date(this.now() - this.windowMs).toISOString();
  }

  /** Distinct values among the newest failing spans, newest first (the failures index serves it). */
  private async failingValues(t: SpanSql, expr: string, needle: string): Promise<string[]> {
    const rows = await this.spans.query<{ v: string }>(
      `SELECT v FROM (
         SELECT ${expr} AS v, started_at FROM ${t.from}
          WHERE ${FAILURE_INDEX_PREDICATE} AND lower(status) IN ${FAILURE_STATUS_SQL}
            AND started_at >= $1::timestamptz AND starts_with(lower(${expr}), $2)
          ORDER BY started_at DESC LIMIT $3) recent
        GROUP BY v ORDER BY max(started_at) DESC LIMIT $4`,
      [this.since(), needle, FAILING_SAMPLE, MAX_COMPLETIONS],
    );
    return rows.map((r) => r.v);
  }

  /** Distinct values among the newest spans, most frequent first. */
  private async commonValues(t: SpanSql, expr: string, needle: string): Promise<string[]> {
    const rows = await this.spans.query<{ v: string }>(
      `SELECT v FROM (
         SELECT ${expr} AS v FROM ${t.from}
          WHERE started_at >= $1::timestamptz AND starts_with(lower(${expr}), $2) AND char_length(${expr}) <= ${MAX_VALUE_LENGTH}
          ORDER BY started_at DESC LIMIT $3) recent
        GROUP BY v ORDER BY count(*) DESC, v LIMIT $4`,
      [this.since(), needle, VALUE_SAMPLE, MAX_COMPLETIONS],
    );
    return rows.map((r) => r.v);
  }

  /** "caller → callee" service pairs from the newest child spans whose parent is in another service. */
  private async edges(t: SpanSql): Promise<string[]> {
    if (!t.has("parent_span_id")) return [];
    const rows = await this.spans.query<{ caller: string; callee: string }>(
      `SELECT p.service::text AS caller, c.service::text AS callee
         FROM (SELECT trace_id, parent_span_id::text AS parent, service FROM ${t.from}
                WHERE started_at >= $1::timestamptz AND parent_span_id IS NOT NULL
                ORDER BY started_at DESC LIMIT $2) c
         JOIN ${t.from} p ON p.trace_id = c.trace_id AND p.span_id::text = c.parent
        WHERE p.service <> c.service
        GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 100`,
      [this.since(), EDGE_SAMPLE],
    );
    return rows.map((r) => `${r.caller} → ${r.callee}`);
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
