// The queries behind argument completion: distinct values among a bounded sample of the newest rows,
// reached through indexes (started_at, the failures index, trace_id), so they stay fast on millions
// of spans. Which values to complete, caching and time limits live with the prompts.

import { validateMetadataKey } from "./span-columns.js";
import type { SpanSql } from "./span-sql.js";
import type { SpanTable } from "./span-table.js";

/** What can be completed from the span table. */
export type SpanValueSource = "job_ids" | "trace_ids" | "services" | "operations" | "edges" | `metadata:${string}`;

export interface CompletionLimits {
  /** Newest failing spans read for failing job and trace ids. */
  failingSample: number;
  /** Newest spans read for services, operations and metadata values. */
  valueSample: number;
  /** Newest child spans whose parents are looked up for edges. */
  edgeSample: number;
  maxValueLength: number;
  maxValues: number;
}

export const COMPLETION_LIMITS: CompletionLimits = { failingSample: 400, valueSample: 5000, edgeSample: 2000, maxValueLength: 200, maxValues: 20 };

export class CompletionQueries {
  constructor(
    private readonly spans: Pick<SpanTable, "sql" | "query" | "correlationKeys">,
    private readonly limits: CompletionLimits = COMPLETION_LIMITS,
  ) {}

  /** Values of a source starting with `needle` (lower-case), from spans started since `sinceIso`. */
  async values(source: SpanValueSource, needle: string, sinceIso: string): Promise<string[]> {
    const t = await this.spans.sql();
    switch (source) {
      case "job_ids": {
        const key = this.spans.correlationKeys[0];
        return key ? this.failingValues(t, t.field(key), needle, sinceIso) : [];
      }
      case "trace_ids":
        return this.failingValues(t, `${t.traceId}::text`, needle, sinceIso);
      case "services":
        return this.commonValues(t, `${t.service}::text`, needle, sinceIso);
      case "operations":
        return this.commonValues(t, `${t.operation}::text`, needle, sinceIso);
      case "edges":
        return this.edges(t, sinceIso);
      default: {
        if (!source.startsWith("metadata:")) return [];
        return this.commonValues(t, t.field(validateMetadataKey(source.slice("metadata:".length))), needle, sinceIso);
      }
    }
  }

  /** Distinct values among the newest failing spans, newest first (the failures index serves it). */
  private async failingValues(t: SpanSql, expr: string, needle: string, sinceIso: string): Promise<string[]> {
    const rows = await this.spans.query<{ v: string }>(
      `SELECT v FROM (
         SELECT ${expr} AS v, ${t.startedAt} AS started_at FROM ${t.from}
          WHERE ${t.failureIndexPredicate} AND ${t.isFailure}
            AND ${t.startedAt} >= $1::timestamptz AND starts_with(lower(${expr}), $2)
          ORDER BY ${t.startedAt} DESC LIMIT $3) recent
        GROUP BY v ORDER BY max(started_at) DESC LIMIT $4`,
      [sinceIso, needle, this.limits.failingSample, this.limits.maxValues],
    );
    return rows.map((r) => r.v);
  }

  /** Distinct values among the newest spans, most frequent first. */
  private async commonValues(t: SpanSql, expr: string, needle: string, sinceIso: string): Promise<string[]> {
    const rows = await this.spans.query<{ v: string }>(
      `SELECT v FROM (
         SELECT ${expr} AS v FROM ${t.from}
          WHERE ${t.startedAt} >= $1::timestamptz AND starts_with(lower(${expr}), $2) AND char_length(${expr}) <= ${this.limits.maxValueLength}
          ORDER BY ${t.startedAt} DESC LIMIT $3) recent
        GROUP BY v ORDER BY count(*) DESC, v LIMIT $4`,
      [sinceIso, needle, this.limits.valueSample, this.limits.maxValues],
    );
    return rows.map((r) => r.v);
  }

  /** "caller → callee" service pairs from the newest child spans whose parent is in another service. */
  private async edges(t: SpanSql, sinceIso: string): Promise<string[]> {
    if (!t.has("parent_span_id")) return [];
    const parent = t.col("parent_span_id");
    const rows = await this.spans.query<{ caller: string; callee: string }>(
      `SELECT p.${t.service}::text AS caller, c.service::text AS callee
         FROM (SELECT ${t.traceId} AS trace_id, ${parent}::text AS parent, ${t.service} AS service FROM ${t.from}
                WHERE ${t.startedAt} >= $1::timestamptz AND ${parent} IS NOT NULL
                ORDER BY ${t.startedAt} DESC LIMIT $2) c
         JOIN ${t.from} p ON p.${t.traceId} = c.trace_id AND p.${t.spanId}::text = c.parent
        WHERE p.${t.service} <> c.service
        GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 100`,
      [sinceIso, this.limits.edgeSample],
    );
    return rows.map((r) => `${r.caller} → ${r.callee}`);
  }
}
