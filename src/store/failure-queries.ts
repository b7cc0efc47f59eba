// The set-based queries behind list_failed_spans: failure clusters aggregated in Postgres, a keyset
// page of failing spans, success counts per operation, and metadata value counts for one cluster on
// bounded samples of failures and successes. Nothing is fetched whole into Node to be filtered.

import type { Row } from "./database.js";
import { validateMetadataKey } from "./span-columns.js";
import type { SpanSql } from "./span-sql.js";
import type { Span } from "../analysis/span.js";
import { looksLikeUuid, toSpan, type SpanTable, type TimeRange } from "./span-table.js";

export type FailureStatus = "failed" | "error" | "timeout" | "unfinished";

export interface FailureFilter {
  window: TimeRange;
  /** A span still 'started' that began before this instant counts as unfinished. */
  unfinishedBeforeMs: number;
  service?: string;
  operation?: string;
  statuses?: FailureStatus[];
  minDurationMs?: number;
  maxDurationMs?: number;
  metadata?: Record<string, string>;
  traceId?: string;
  /** Correlation key and value, e.g. job_id = bias-detection-1761135900618. */
  correlation?: { key: string; value: string };
}

export interface ClusterRow {
  service: string;
  operation: string;
  status: string;
  signature: string;
  /** 'immediate' when the failure ended under the immediate threshold, else 'slower'. */
  band: "immediate" | "slower";
  count: number;
  firstMs: number;
  lastMs: number;
  minMs: number | null;
  p05Ms: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
  exampleError: string | null;
  exampleTraceIds: string[];
  exampleCorrelation: string[];
}

export interface ClusterPage {
  clusters: ClusterRow[];
  clusterTotal: number;
  failureTotal: number;
}

export interface OperationCounts {
  service: string;
  operation: string;
  total: number;
  failed: number;
  succeeded: number;
}

export interface ValueCountRows {
  failures: Map<string, Map<string, number>>;
  failureTotal: number;
  successes: Map<string, Map<string, number>>;
  successTotal: number;
}

export interface PageCursor {
  startedAt: string;
  traceId: string;
  spanId: string;
}

/** Builds WHERE clauses with numbered parameters. */
class Where {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];
  constructor(params: unknown[] = []) {
    this.params = [...params];
  }
  param(value: unknown, cast = ""): string {
    this.params.push(value);
    return `$${this.params.length}${cast}`;
  }
  add(clause: string): this {
    this.clauses.push(clause);
    return this;
  }
  get sql(): string {
    return this.clauses.length ? this.clauses.join(" AND ") : "TRUE";
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

export class FailureQueries {
  constructor(private readonly spans: SpanTable) {}

  /** The failure predicate plus every filter except the status/duration ones, shared with successes. */
  private scope(t: SpanSql, f: FailureFilter, w: Where): void {
    w.add(`${t.startedAt} >= ${w.param(iso(f.window.fromMs), "::timestamptz")}`);
    w.add(`${t.startedAt} < ${w.param(iso(f.window.toMs), "::timestamptz")}`);
    if (f.service !== undefined) w.add(`${t.service} = ${w.param(f.service)}`);
    if (f.operation !== undefined) w.add(`${t.operation} = ${w.param(f.operation)}`);
    for (const [key, value] of Object.entries(f.metadata ?? {})) {
      validateMetadataKey(key);
      w.add(`${t.field(key)} = ${w.param(value)}`);
    }
    if (f.traceId !== undefined) {
      // Compare in the column's own type so the trace_id index serves; a non-uuid never matches a uuid column.
      w.add(t.isUuid("trace_id") && !looksLikeUuid(f.traceId) ? "FALSE" : `${t.traceId} = ${w.param(f.traceId, t.isUuid("trace_id") ? "::uuid" : "::text")}`);
    }
    if (f.correlation) w.add(`${t.field(f.correlation.key)} = ${w.param(f.correlation.value)}`);
  }

  /** Failure-only clauses: which statuses count, unfinished spans, duration bounds. */
  private failureWhere(t: SpanSql, f: FailureFilter): Where {
    const w = new Where();
    this.scope(t, f, w);
    w.add(t.failureIndexPredicate);
    const statuses = f.statuses?.length ? f.statuses : (["failed", "error", "timeout", "unfinished"] as FailureStatus[]);
    const arms: string[] = [];
    const plain = statuses.filter((s) => s !== "unfinished");
    if (plain.length) arms.push(`${t.lowerStatus} = ANY(${w.param(plain, "::text[]")})`);
    if (statuses.includes("unfinished")) {
      arms.push(`(${t.lowerStatus} = 'started' AND ${t.noEnd} AND ${t.startedAt} < ${w.param(iso(f.unfinishedBeforeMs), "::timestamptz")})`);
    }
    w.add(`(${arms.join(" OR ")})`);
    if (f.minDurationMs !== undefined) w.add(`${t.durationMs} >= ${w.param(f.minDurationMs)}`);
    if (f.maxDurationMs !== undefined) w.add(`${t.durationMs} <= ${w.param(f.maxDurationMs)}`);
    return w;
  }

  private statusClass(t: SpanSql): string {
    return `CASE WHEN ${t.lowerStatus} = 'started' THEN 'unfinished' ELSE ${t.lowerStatus} END`;
  }

  /** Failures under the immediate threshold never share a cluster with slow ones of the same error. */
  private band(t: SpanSql, w: Where, immediateMs: number): string {
    return `CASE WHEN ${t.durationMs} < ${w.param(immediateMs)} THEN 'immediate' ELSE 'slower' END`;
  }

  async clusters(f: FailureFilter, limit: number, correlationKey: string, immediateMs: number): Promise<ClusterPage> {
    const t = await this.spans.sql();
    const w = this.failureWhere(t, f);
    const band = this.band(t, w, immediateMs);
    const limitParam = w.param(limit);
    const rows = await this.spans.query(
      `WITH f AS (
         SELECT ${t.service}::text AS service, ${t.operation}::text AS operation, ${this.statusClass(t)} AS status,
                ${t.errorSignature} AS signature, ${band} AS band, ${t.errorMessage} AS error, ${t.startedAt} AS started_at,
                ${t.traceId}::text AS trace_id, ${t.durationMs} AS duration_ms, ${t.field(correlationKey)} AS correlation
           FROM ${t.from} WHERE ${w.sql}
       )
       SELECT service, operation, status, signature, band, count(*)::int AS count,
              (EXTRACT(EPOCH FROM min(started_at)) * 1000)::float8 AS first_ms,
              (EXTRACT(EPOCH FROM max(started_at)) * 1000)::float8 AS last_ms,
              min(duration_ms) AS min_ms,
              percentile_cont(0.05) WITHIN GROUP (ORDER BY duration_ms) AS p05_ms,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms,
              max(duration_ms) AS max_ms,
              (array_agg(error ORDER BY started_at DESC))[1] AS example_error,
              (array_agg(trace_id ORDER BY started_at DESC))[1:3] AS example_trace_ids,
              (array_agg(correlation ORDER BY started_at DESC) FILTER (WHERE correlation IS NOT NULL))[1:3] AS example_correlation,
              (count(*) OVER ())::int AS cluster_total,
              (sum(count(*)) OVER ())::int AS failure_total
         FROM f
        GROUP BY service, operation, status, signature, band
        ORDER BY count(*) DESC, service, operation, status, signature, band
        LIMIT ${limitParam}`,
      w.params,
    );
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return {
      clusters: rows.map((r) => ({
        service: String(r.service),
        operation: String(r.operation),
        status: String(r.status),
        signature: String(r.signature ?? ""),
        band: r.band === "immediate" ? "immediate" : "slower",
        count: Number(r.count),
        firstMs: Number(r.first_ms),
        lastMs: Number(r.last_ms),
        minMs: num(r.min_ms),
        p05Ms: num(r.p05_ms),
        p50Ms: num(r.p50_ms),
        p95Ms: num(r.p95_ms),
        maxMs: num(r.max_ms),
        exampleError: r.example_error == null ? null : String(r.example_error),
        exampleTraceIds: (r.example_trace_ids as string[] | null) ?? [],
        exampleCorrelation: (r.example_correlation as string[] | null) ?? [],
      })),
      clusterTotal: rows.length ? Number(rows[0]!.cluster_total) : 0,
      failureTotal: rows.length ? Number(rows[0]!.failure_total) : 0,
    };
  }

  /** Newest first, keyset-paged on (started_at, trace_id, span_id): stable under inserts. */
  async page(f: FailureFilter, limit: number, after: PageCursor | null): Promise<{ spans: Array<Span & { cursor: PageCursor }>; hasMore: boolean }> {
    const t = await this.spans.sql();
    const w = this.failureWhere(t, f);
    if (after) {
      const at = w.param(after.startedAt, "::timestamptz");
      w.add(`${t.startedAt} <= ${at}`);
      w.add(`(${t.startedAt}, ${t.traceId}::text, ${t.spanId}::text) < (${at}, ${w.param(after.traceId)}, ${w.param(after.spanId)})`);
    }
    const rows = await this.spans.query(
      `SELECT ${t.select}, to_char(${t.startedAt} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_key
         FROM ${t.from} WHERE ${w.sql}
        ORDER BY ${t.startedAt} DESC, ${t.traceId}::text DESC, ${t.spanId}::text DESC
        LIMIT ${w.param(limit + 1)}`,
      w.params,
    );
    return {
      spans: rows.slice(0, limit).map((r) => ({
        ...toSpan(r),
        cursor: { startedAt: String(r.started_key), traceId: String(r.trace_id), spanId: String(r.span_id) },
      })),
      hasMore: rows.length > limit,
    };
  }

  /** Totals per operation in the same scope (window, metadata filters), all statuses: one index range per operation. */
  async operationCounts(f: FailureFilter, operations: Array<{ service: string; operation: string }>): Promise<OperationCounts[]> {
    if (!operations.length) return [];
    const t = await this.spans.sql();
    const w = new Where();
    const services = w.param(operations.map((o) => o.service), "::text[]");
    const ops = w.param(operations.map((o) => o.operation), "::text[]");
    this.scope(t, { ...f, service: undefined, operation: undefined }, w);
    const rows = await this.spans.query(
      `SELECT op.service, op.operation, c.total, c.failed, c.succeeded
         FROM unnest(${services}, ${ops}) AS op(service, operation)
         CROSS JOIN LATERAL (
           SELECT count(*)::int AS total,
                  count(*) FILTER (WHERE ${t.isFailure})::int AS failed,
                  count(*) FILTER (WHERE ${t.isSuccess})::int AS succeeded
             FROM ${t.from}
            WHERE ${t.service} = op.service AND ${t.operation} = op.operation AND ${w.sql}
         ) c`,
      w.params,
    );
    return rows.map((r) => ({
      service: String(r.service),
      operation: String(r.operation),
      total: Number(r.total),
      failed: Number(r.failed),
      succeeded: Number(r.succeeded),
    }));
  }

  /**
   * Metadata value counts for one cluster's failures and for successes of the same operation in the
   * same scope: the most recent `sample` of each, so the cost is bounded whatever the table's size.
   */
  async valueCounts(
    f: FailureFilter,
    cluster: { service: string; operation: string; status: string; signature: string; band: string },
    sample: number,
    immediateMs: number,
  ): Promise<ValueCountRows> {
    const t = await this.spans.sql();
    const fw = this.failureWhere(t, { ...f, service: cluster.service, operation: cluster.operation });
    fw.add(`${this.statusClass(t)} = ${fw.param(cluster.status)}`);
    fw.add(`${t.errorSignature} = ${fw.param(cluster.signature)}`);
    fw.add(`${this.band(t, fw, immediateMs)} = ${fw.param(cluster.band)}`);
    const sw = new Where(fw.params);
    this.scope(t, { ...f, service: cluster.service, operation: cluster.operation }, sw);
    sw.add(t.isSuccess);
    const sampleParam = sw.param(sample);
    const scalar = `jsonb_typeof(e.value) IN ('string', 'number', 'boolean')`;
    const rows = await this.spans.query<Row & { side: string; key: string | null; value: string | null; n: number }>(
      `WITH fail AS (SELECT ${t.metadataJsonb} AS m FROM ${t.from} WHERE ${fw.sql} ORDER BY ${t.startedAt} DESC LIMIT ${sampleParam}),
            ok AS (SELECT ${t.metadataJsonb} AS m FROM ${t.from} WHERE ${sw.sql} ORDER BY ${t.startedAt} DESC LIMIT ${sampleParam})
       SELECT 'f' AS side, e.key, e.value #>> '{}' AS value, count(*)::int AS n FROM fail, jsonb_each(CASE WHEN jsonb_typeof(fail.m) = 'object' THEN fail.m ELSE '{}'::jsonb END) e WHERE ${scalar} GROUP BY 2, 3
       UNION ALL
       SELECT 's', e.key, e.value #>> '{}', count(*)::int FROM ok, jsonb_each(CASE WHEN jsonb_typeof(ok.m) = 'object' THEN ok.m ELSE '{}'::jsonb END) e WHERE ${scalar} GROUP BY 2, 3
       UNION ALL SELECT 'F', NULL, NULL, (SELECT count(*) FROM fail)::int
       UNION ALL SELECT 'S', NULL, NULL, (SELECT count(*) FROM ok)::int`,
      sw.params,
    );
    const out: ValueCountRows = { failures: new Map(), failureTotal: 0, successes: new Map(), successTotal: 0 };
    for (const r of rows) {
      if (r.side === "F") out.failureTotal = Number(r.n);
      else if (r.side === "S") out.successTotal = Number(r.n);
      else {
        const side = r.side === "f" ? out.failures : out.successes;
        const values = side.get(String(r.key)) ?? new Map<string, number>();
        values.set(String(r.value), Number(r.n));
        side.set(String(r.key), values);
      }
    }
    return out;
  }

  /** For an empty answer: how many spans the window holds at all, and which services wrote them. */
  async windowSummary(f: FailureFilter): Promise<{ spans: number; failing: number; services: string[] }> {
    const t = await this.spans.sql();
    const w = new Where();
    w.add(`${t.startedAt} >= ${w.param(iso(f.window.fromMs), "::timestamptz")}`);
    w.add(`${t.startedAt} < ${w.param(iso(f.window.toMs), "::timestamptz")}`);
    const rows = await this.spans.query(
      `SELECT count(*)::int AS spans, count(*) FILTER (WHERE ${t.isFailure})::int AS failing,
              (SELECT array_agg(s) FROM (SELECT DISTINCT ${t.service}::text AS s FROM ${t.from} WHERE ${w.sql} LIMIT 20) x) AS services
         FROM ${t.from} WHERE ${w.sql}`,
      w.params,
    );
    const r = rows[0] ?? {};
    return { spans: Number(r.spans ?? 0), failing: Number(r.failing ?? 0), services: ((r.services as string[] | null) ?? []).sort() };
  }
}
