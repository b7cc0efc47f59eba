// Reads the trace_spans table (or any table that follows its contract) through a ReadOnlyDatabase.
// It learns the table's columns once, so it copes with the contract's variants: ids typed uuid,
// duration_ms float or absent (derived from completed_at), metadata as json/jsonb/text, extra columns.
// Every statement is built from validated, quoted identifiers; every value is a parameter.

import type { Span } from "../analysis/span.js";
import { DatabaseError, type ReadOnlyDatabase, type Row } from "./database.js";

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const CORRELATION_KEY = /^[A-Za-z0-9_.\-]{1,64}$/;

export function splitTableName(table: string): { schema: string | null; name: string } {
  const parts = table.split(".");
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p))) {
    throw new Error(
      `Invalid table name ${JSON.stringify(table)}: use letters, digits and underscores, optionally schema-qualified (e.g. trace_spans or tracing.trace_spans).`,
    );
  }
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: null, name: parts[0]! };
}

export function quoteTableName(table: string): string {
  const { schema, name } = splitTableName(table);
  return schema ? `"${schema}"."${name}"` : `"${name}"`;
}

export function validateCorrelationKey(key: string): string {
  if (!CORRELATION_KEY.test(key)) {
    throw new Error(`Invalid correlation key ${JSON.stringify(key)}: use letters, digits, '_', '.', '-' (e.g. job_id).`);
  }
  return key;
}

/** What the tools need from the span table, and nothing more: handlers depend on this. */
export interface SpanReader {
  readonly correlationKeys: readonly string[];
  /** All spans of these traces, by start time, at most `limit` (+1 to detect a cut). */
  spansOfTraces(traceIds: readonly string[], limit: number): Promise<{ spans: Span[]; truncated: boolean }>;
  /** Trace ids having a span whose metadata[key] equals value, most recent first. */
  traceIdsByCorrelation(key: string, value: string, limit: number, window?: { fromMs: number; toMs: number }): Promise<string[]>;
  /** The most recent failing spans, for "did you mean" hints. */
  recentFailures(limit: number): Promise<RecentFailure[]>;
}

export interface RecentFailure {
  traceId: string;
  spanId: string;
  service: string;
  operation: string;
  status: string;
  startMs: number;
  correlation: Record<string, string>;
}

interface ColumnInfo {
  type: string;
}

const REQUIRED = ["trace_id", "span_id", "service", "operation", "started_at", "status"] as const;
const MAX_IN_LIST = 1000;

export class SpanTable implements SpanReader {
  readonly quoted: string;
  private columns: Promise<Map<string, ColumnInfo>> | null = null;

  constructor(
    private readonly db: ReadOnlyDatabase,
    readonly table: string,
    readonly correlationKeys: readonly string[],
  ) {
    this.quoted = quoteTableName(table);
    correlationKeys.forEach(validateCorrelationKey);
  }

  /** Column names and types, read once; a missing table or column is an error that says what to do. */
  async describe(): Promise<Map<string, ColumnInfo>> {
    this.columns ??= this.readColumns().catch((err) => {
      this.columns = null; // try again next call: the table may be created meanwhile
      throw err;
    });
    return this.columns;
  }

  private async readColumns(): Promise<Map<string, ColumnInfo>> {
    const rows = await this.db.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
      [this.quoted],
    );
    if (!rows.length) {
      throw new DatabaseError(
        `No table ${this.table} in ${this.db.label}. Set TRACE_DOCTOR_TABLE to the table holding your spans, or create it with \`trace-doctor init-db\` (schema.sql).`,
        "missing_table",
      );
    }
    const columns = new Map(rows.map((r) => [r.name, { type: r.type }]));
    const missing = REQUIRED.filter((c) => !columns.has(c));
    if (missing.length) {
      throw new DatabaseError(
        `Table ${this.table} lacks required column(s) ${missing.join(", ")}; the contract is in schema.sql (trace_id, span_id, service, operation, started_at, status; optional parent_span_id, completed_at, duration_ms, error_message, metadata).`,
        "missing_column",
      );
    }
    return columns;
  }

  /** The SELECT list that turns any variant of the table into the normalised shape. */
  private async selectList(): Promise<string> {
    const cols = await this.describe();
    const has = (c: string) => cols.has(c);
    const endMs = has("completed_at") ? `EXTRACT(EPOCH FROM completed_at) * 1000` : "NULL";
    const duration = has("duration_ms")
      ? `COALESCE(duration_ms::float8, ${endMs} - EXTRACT(EPOCH FROM started_at) * 1000)`
      : `${endMs} - EXTRACT(EPOCH FROM started_at) * 1000`;
    return [
      "trace_id::text AS trace_id",
      "span_id::text AS span_id",
      has("parent_span_id") ? "parent_span_id::text AS parent_span_id" : "NULL::text AS parent_span_id",
      "service::text AS service",
      "operation::text AS operation",
      "(EXTRACT(EPOCH FROM started_at) * 1000)::float8 AS start_ms",
      `(${endMs})::float8 AS end_ms`,
      `(${duration})::float8 AS duration_ms`,
      "status::text AS status",
      has("error_message") ? "error_message::text AS error_message" : "NULL::text AS error_message",
      `${await this.metadataExpr()} AS metadata`,
    ].join(", ");
  }

  private async metadataExpr(): Promise<string> {
    const cols = await this.describe();
    const type = cols.get("metadata")?.type;
    if (!type) return "'{}'::jsonb";
    return type === "jsonb" || type === "json" ? "metadata" : "metadata::text";
  }

  /** metadata->>'key' in a form an expression index on (metadata->>'key') can serve. */
  private async metadataField(key: string): Promise<string> {
    validateCorrelationKey(key);
    const cols = await this.describe();
    const type = cols.get("metadata")?.type;
    if (!type) return "NULL::text";
    const base = type === "jsonb" || type === "json" ? "metadata" : "(metadata::jsonb)";
    return `(${base}->>'${key}')`;
  }

  /** Compare ids in the column's own type so its index is used (uuid columns take uuid parameters). */
  private async idArrayParam(column: "trace_id" | "span_id", index: number): Promise<string> {
    const type = (await this.describe()).get(column)?.type ?? "text";
    return type === "uuid" ? `$${index}::uuid[]` : `$${index}::text[]`;
  }

  private async idIsUuid(column: "trace_id" | "span_id"): Promise<boolean> {
    return (await this.describe()).get(column)?.type === "uuid";
  }

  async spansOfTraces(traceIds: readonly string[], limit: number): Promise<{ spans: Span[]; truncated: boolean }> {
    let ids = [...new Set(traceIds)].slice(0, MAX_IN_LIST);
    if (await this.idIsUuid("trace_id")) ids = ids.filter(looksLikeUuid);
    if (!ids.length) return { spans: [], truncated: false };
    const sql = `SELECT ${await this.selectList()} FROM ${this.quoted}
      WHERE trace_id = ANY(${await this.idArrayParam("trace_id", 1)})
      ORDER BY started_at, span_id LIMIT $2`;
    const rows = await this.db.query(sql, [ids, limit + 1]);
    const truncated = rows.length > limit;
    return { spans: rows.slice(0, limit).map(toSpan), truncated };
  }

  async traceIdsByCorrelation(key: string, value: string, limit: number, window?: { fromMs: number; toMs: number }): Promise<string[]> {
    const field = await this.metadataField(key);
    const params: unknown[] = [value, limit];
    let timeFilter = "";
    if (window) {
      params.push(new Date(window.fromMs).toISOString(), new Date(window.toMs).toISOString());
      timeFilter = ` AND started_at BETWEEN $3::timestamptz AND $4::timestamptz`;
    }
    const rows = await this.db.query<{ trace_id: string }>(
      `SELECT trace_id::text AS trace_id FROM ${this.quoted}
        WHERE ${field} = $1${timeFilter}
        GROUP BY trace_id ORDER BY max(started_at) DESC LIMIT $2`,
      params,
    );
    return rows.map((r) => r.trace_id);
  }

  async recentFailures(limit: number): Promise<RecentFailure[]> {
    const keys = this.correlationKeys.slice(0, 3);
    const fields = await Promise.all(keys.map((k) => this.metadataField(k)));
    const rows = await this.db.query(
      `SELECT trace_id::text AS trace_id, span_id::text AS span_id, service::text AS service, operation::text AS operation,
              status::text AS status, (EXTRACT(EPOCH FROM started_at) * 1000)::float8 AS start_ms
              ${fields.map((f, i) => `, ${f} AS k${i}`).join("")}
         FROM ${this.quoted}
        WHERE started_at > now() - interval '7 days' AND lower(status::text) IN ('failed', 'error', 'timeout')
        ORDER BY started_at DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      traceId: String(r.trace_id),
      spanId: String(r.span_id),
      service: String(r.service),
      operation: String(r.operation),
      status: String(r.status),
      startMs: Number(r.start_ms),
      correlation: Object.fromEntries(
        keys.flatMap((k, i) => (r[`k${i}`] === null || r[`k${i}`] === undefined ? [] : [[k, String(r[`k${i}`])]])),
      ),
    }));
  }
}

function looksLikeUuid(id: string): boolean {
  return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(id);
}

function toSpan(r: Row): Span {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    traceId: String(r.trace_id),
    spanId: String(r.span_id),
    parentSpanId: r.parent_span_id === null || r.parent_span_id === undefined || r.parent_span_id === "" ? null : String(r.parent_span_id),
    service: String(r.service),
    operation: String(r.operation),
    startMs: Number(r.start_ms),
    endMs: num(r.end_ms),
    durationMs: num(r.duration_ms),
    status: String(r.status).toLowerCase(),
    errorMessage: r.error_message === null || r.error_message === undefined ? null : String(r.error_message),
    metadata: parseMetadata(r.metadata),
  };
}

function parseMetadata(value: unknown): Record<string, unknown> {
  if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  if (typeof value === "string" && value) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      return { raw: value };
    }
  }
  return {};
}
