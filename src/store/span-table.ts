// Reads the trace_spans table (or any table that follows its contract) through a ReadOnlyDatabase:
// whole traces, traces by correlation value, recent roots and failures. The column vocabulary comes
// from SpanSql; every statement is built from validated, quoted identifiers; every value is a parameter.

import type { Span } from "../analysis/span.js";
import type { ReadOnlyDatabase, Row } from "./database.js";
import { quoteTableName, validateCorrelationKey, type ColumnMapping } from "./span-columns.js";
import { SpanSql } from "./span-sql.js";
import { DAY_MS } from "../analysis/defaults.js";

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/** What the trace tools need from the span table, and nothing more: handlers depend on this. */
export interface SpanReader {
  readonly correlationKeys: readonly string[];
  /** All spans of these traces, by start time, at most `limit` (+1 to detect a cut). */
  spansOfTraces(traceIds: readonly string[], limit: number): Promise<{ spans: Span[]; truncated: boolean }>;
  /** Trace ids having a span whose metadata[key] equals value, most recent first. */
  traceIdsByCorrelation(key: string, value: string, limit: number, window?: TimeRange): Promise<string[]>;
  /** The same for several values at once. */
  traceIdsByCorrelationValues(key: string, values: readonly string[], limit: number, window?: TimeRange): Promise<string[]>;
  /** Root spans (no parent) in a window, most recent first: the executions to sample. */
  recentRoots(options: RootQuery): Promise<{ roots: RootSpan[]; more: boolean }>;
  /** The most recent failing spans of the 7 days before `nowMs`, for "did you mean" hints. */
  recentFailures(limit: number, nowMs?: number): Promise<RecentFailure[]>;
}

export interface RootQuery {
  window: TimeRange;
  limit: number;
  service?: string;
  operation?: string;
  /** Only roots that did not fail and are not still running. */
  successOnly?: boolean;
}

export interface RootSpan {
  traceId: string;
  spanId: string;
  service: string;
  operation: string;
  status: string;
  correlation: Record<string, string>;
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

const MAX_IN_LIST = 5000;

export class SpanTable implements SpanReader {
  private columns: Promise<SpanSql> | null = null;

  constructor(
    private readonly db: ReadOnlyDatabase,
    readonly table: string,
    readonly correlationKeys: readonly string[],
    readonly columnMapping: ColumnMapping = {},
  ) {
    quoteTableName(table);
    correlationKeys.forEach(validateCorrelationKey);
  }

  /** The table's SQL vocabulary, read once; a missing table or column is an error that says what to do. */
  sql(): Promise<SpanSql> {
    this.columns ??= SpanSql.read(this.db, this.table, this.columnMapping).catch((err) => {
      this.columns = null; // try again next call: the table may be created meanwhile
      throw err;
    });
    return this.columns;
  }

  /**
   * Whether the table can be read as the contract says: null when it can, else the reason (no table,
   * a missing or mistyped column, no database). For start-up, so a problem shows before the first call.
   */
  async problem(timeoutMs = 5000): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer from ${this.db.label} within ${timeoutMs} ms`), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([this.sql().then(() => null), late]);
    } catch (err) {
      return (err as Error).message;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs a statement against this table's database (read-only, one statement). */
  query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    return this.db.query<T>(sql, params);
  }

  get label(): string {
    return this.db.label;
  }

  async spansOfTraces(traceIds: readonly string[], limit: number): Promise<{ spans: Span[]; truncated: boolean }> {
    const t = await this.sql();
    let ids = [...new Set(traceIds)].slice(0, MAX_IN_LIST);
    if (t.isUuid("trace_id")) ids = ids.filter(looksLikeUuid);
    if (!ids.length) return { spans: [], truncated: false };
    const rows = await this.db.query(
      `SELECT ${t.select} FROM ${t.from}
        WHERE ${t.traceId} = ANY(${t.idArray("trace_id", 1)})
        ORDER BY ${t.startedAt}, ${t.spanId} LIMIT $2`,
      [ids, limit + 1],
    );
    return { spans: rows.slice(0, limit).map(toSpan), truncated: rows.length > limit };
  }

  async traceIdsByCorrelation(key: string, value: string, limit: number, window?: TimeRange): Promise<string[]> {
    return this.traceIdsByCorrelationValues(key, [value], limit, window);
  }

  async traceIdsByCorrelationValues(key: string, values: readonly string[], limit: number, window?: TimeRange): Promise<string[]> {
    if (!values.length) return [];
    const t = await this.sql();
    const params: unknown[] = [[...new Set(values)].slice(0, MAX_IN_LIST), limit];
    let timeFilter = "";
    if (window) {
      params.push(new Date(window.fromMs).toISOString(), new Date(window.toMs).toISOString());
      timeFilter = ` AND ${t.startedAt} BETWEEN $3::timestamptz AND $4::timestamptz`;
    }
    const rows = await this.db.query<{ trace_id: string }>(
      `SELECT ${t.traceId}::text AS trace_id FROM ${t.from}
        WHERE ${t.field(key)} = ANY($1::text[])${timeFilter}
        GROUP BY ${t.traceId} ORDER BY max(${t.startedAt}) DESC LIMIT $2`,
      params,
    );
    return rows.map((r) => r.trace_id);
  }

  async recentRoots(options: RootQuery): Promise<{ roots: RootSpan[]; more: boolean }> {
    const t = await this.sql();
    const params: unknown[] = [new Date(options.window.fromMs).toISOString(), new Date(options.window.toMs).toISOString(), options.limit + 1];
    const where = [`${t.startedAt} >= $1::timestamptz`, `${t.startedAt} < $2::timestamptz`, t.isRoot];
    if (options.service) {
      params.push(options.service);
      where.push(`${t.service} = $${params.length}`);
    }
    if (options.operation) {
      params.push(options.operation);
      where.push(`${t.operation} = $${params.length}`);
    }
    if (options.successOnly) where.push(t.isSuccess);
    const keys = this.correlationKeys;
    const rows = await this.db.query(
      `SELECT ${t.traceId}::text AS trace_id, ${t.spanId}::text AS span_id, ${t.service}::text AS service, ${t.operation}::text AS operation,
              lower(${t.status}::text) AS status${keys.map((k, i) => `, ${t.field(k)} AS k${i}`).join("")}
         FROM ${t.from} WHERE ${where.join(" AND ")}
        ORDER BY ${t.startedAt} DESC LIMIT $3`,
      params,
    );
    return {
      roots: rows.slice(0, options.limit).map((r) => ({
        traceId: String(r.trace_id),
        spanId: String(r.span_id),
        service: String(r.service),
        operation: String(r.operation),
        status: String(r.status),
        correlation: Object.fromEntries(keys.flatMap((k, i) => (r[`k${i}`] == null ? [] : [[k, String(r[`k${i}`])]]))),
      })),
      more: rows.length > options.limit,
    };
  }

  async recentFailures(limit: number, nowMs = Date.now()): Promise<RecentFailure[]> {
    const t = await this.sql();
    const keys = this.correlationKeys.slice(0, 3);
    const rows = await this.db.query(
      `SELECT ${t.traceId}::text AS trace_id, ${t.spanId}::text AS span_id, ${t.service}::text AS service, ${t.operation}::text AS operation,
              ${t.status}::text AS status, ${t.startMs} AS start_ms
              ${keys.map((k, i) => `, ${t.field(k)} AS k${i}`).join("")}
         FROM ${t.from}
        WHERE ${t.startedAt} > $2::timestamptz AND ${t.startedAt} <= $3::timestamptz AND ${t.isFailure}
        ORDER BY ${t.startedAt} DESC LIMIT $1`,
      [limit, new Date(nowMs - 7 * DAY_MS).toISOString(), new Date(nowMs).toISOString()],
    );
    return rows.map((r) => ({
      traceId: String(r.trace_id),
      spanId: String(r.span_id),
      service: String(r.service),
      operation: String(r.operation),
      status: String(r.status),
      startMs: Number(r.start_ms),
      correlation: Object.fromEntries(keys.flatMap((k, i) => (r[`k${i}`] == null ? [] : [[k, String(r[`k${i}`])]]))),
    }));
  }
}

export function looksLikeUuid(id: string): boolean {
  return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(id);
}

export function toSpan(r: Row): Span {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  const metadata = parseMetadata(r.metadata);
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
    metadata: metadata ?? {},
    ...(metadata === null ? { metadataNotObject: true } : {}),
  };
}

/** The metadata object, {} when there is none, or null when what is stored is not a JSON object. */
function parseMetadata(value: unknown): Record<string, unknown> | null {
  if (value === undefined) return {};
  if (value && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
  if (typeof value === "string") {
    if (!value.trim()) return {};
    try {
      const parsed: unknown = JSON.parse(value);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      return null;
    }
  }
  return null;
}
