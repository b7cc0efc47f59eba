// Reads the trace_spans table (or any table that follows its contract) through a ReadOnlyDatabase:
// whole traces, traces by correlation value, recent roots and failures. The column vocabulary comes
// from SpanSql; every statement is built from validated, quoted identifiers; every value is a parameter.

import type { Span } from "../analysis/span.js";
import { DatabaseError, type ReadOnlyDatabase, type Row } from "./database.js";
import { fingerprintSql, readPartitionMap, recentPartitions, type PartitionMap } from "./recent-partitions.js";
import { actualColumn, quoteTableName, validateCorrelationKey, type ColumnMapping } from "./span-columns.js";
import { SpanSql } from "./span-sql.js";
import { DAY_MS, HOUR_MS } from "../analysis/defaults.js";
import { logDebug } from "../log.js";
import { outsideScope } from "../request-scope.js";

export interface TimeRange {
  fromMs: number;
  toMs: number;
}

/** One execution asked for by an id that may be a trace id or a correlation value (job_id). */
export interface ExecutionQuery {
  id: string;
  /** The kind the id is tried as first; the other kind is the fallback. */
  first: "trace_id" | "job_id";
  /** Most spans to read (+1 to detect a cut). */
  limit: number;
  /** Found as a trace: also the spans of other traces sharing its correlation values and overlapping it in time. */
  linked: boolean;
  /** How far before the trace's first span and after its last end a linked hop may start. */
  linkMarginMs: number;
  /** A job lookup joins at most this many traces, the most recent. */
  maxTraces: number;
}

export interface ExecutionRows {
  /** How the id matched; null when it matched nothing. */
  by: "trace_id" | "job_id" | null;
  /** The correlation key a job lookup matched under. */
  key?: string;
  /** Traces of the job (up to maxTraces), and whether it had more. */
  traceCount: number;
  moreTraces: boolean;
  /** The matched spans, then the linked hops, each by start time. */
  spans: Span[];
  linked: number;
  truncated: boolean;
  /** Partitioned tables: nothing was found in the partitions of the last `recentMs`, so every partition was searched. */
  widenedAfterMs?: number;
}

/** What the trace tools need from the span table, and nothing more: handlers depend on this. */
export interface SpanReader {
  readonly correlationKeys: readonly string[];
  /**
   * One execution in one statement: the id as a trace (with its linked hops) or as a job (its most
   * recent traces), the other kind tried when the first matches nothing. On a partitioned table the
   * recent partitions are searched first and the search widens only when nothing is found there.
   */
  execution(query: ExecutionQuery): Promise<ExecutionRows>;
  /** All spans of these traces, by start time, at most `limit` (+1 to detect a cut). */
  spansOfTraces(traceIds: readonly string[], limit: number): Promise<{ spans: Span[]; truncated: boolean }>;
  /**
   * For samples of many executions: at most `perTrace` spans of each trace (the first the index yields),
   * so one huge trace can neither stall the read nor crowd the others out; says which traces were cut.
   */
  spansOfTracesCapped(traceIds: readonly string[], perTrace: number, limit: number): Promise<{ spans: Span[]; truncated: boolean; cappedTraces: string[] }>;
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

/**
 * On a partitioned table, a lookup without a time searches the partitions of this last stretch first
 * (those holding spans from now minus this, onward). A match whose first span is within RECENT_GUARD_MS
 * of the oldest time those partitions are complete from may have older spans, so it is read again from
 * every partition: traces and jobs are taken to last under half a day.
 */
export const RECENT_LOOKUP_MS = DAY_MS;
const RECENT_GUARD_MS = 12 * HOUR_MS;
/** Spans stamped up to this far in the future (clock skew) are still found by the recent search. */
const FUTURE_SKEW_MS = HOUR_MS;

/**
 * Where executionOnce() looks: every partition (or the plain table); the parent bounded to a recent
 * range (planned per call, pruned to the partitions the range covers); or partitions by name, whose
 * plan Postgres caches, as on a plain table.
 */
type LookupScope = { kind: "all" } | { kind: "range"; range: TimeRange } | { kind: "named"; names: readonly string[] };
const ALL: LookupScope = { kind: "all" };

/** What executionOnce()'s statement text depends on. */
interface ExecutionShape {
  kind: "trace_id" | "job_id";
  scope: LookupScope["kind"];
  /** The partitions a named scope reads. */
  names: readonly string[];
  /** A trace's linked hops (kind trace_id). */
  linked: boolean;
}

/** executionOnce()'s rows, and for a named scope the fingerprint of the children it saw. */
type ScopedRows = ExecutionRows & { fingerprint?: string };

export class SpanTable implements SpanReader {
  private columns: Promise<SpanSql> | null = null;
  /** executionOnce()'s statement per shape (a handful, plus one per day's set of recent partitions). */
  private readonly executionTexts = new Map<string, string>();
  /** A partitioned table's children, read when a lookup first needs them; null when they cannot be named. */
  private partitionMap: Promise<PartitionMap | null> | null = null;

  constructor(
    private readonly db: ReadOnlyDatabase,
    readonly table: string,
    readonly correlationKeys: readonly string[],
    readonly columnMapping: ColumnMapping = {},
  ) {
    quoteTableName(table);
    correlationKeys.forEach(validateCorrelationKey);
  }

  /**
   * The table's SQL vocabulary, read once; a missing table or column is an error that says what to do.
   * Read outside the asking call's scope: calls that come meanwhile wait for the same read, and one
   * call's cancellation must not fail theirs.
   */
  sql(): Promise<SpanSql> {
    this.columns ??= outsideScope(() => SpanSql.read(this.db, this.table, this.columnMapping)).catch((err) => {
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

  /** Connections free for reads started ahead of need (0 on a database with no pool). */
  idleConnections(): number {
    return this.db.idleConnections?.() ?? 0;
  }

  get label(): string {
    return this.db.label;
  }

  async execution(q: ExecutionQuery, nowMs = Date.now()): Promise<ExecutionRows> {
    const t = await this.sql();
    if (!t.partitioned) return this.search(t, q, ALL);
    // Partitioned: the recent partitions are searched first, and every partition only when they miss.
    const found = (await this.namedSearch(t, q, nowMs)) ?? (await this.rangeSearch(t, q, nowMs));
    const firstStart = found.spans.reduce((min, s) => Math.min(min, s.startMs), Infinity);
    if (found.by !== null && firstStart >= found.completeFromMs + RECENT_GUARD_MS) return strip(found);
    const all = await this.search(t, q, ALL);
    return found.by === null ? { ...all, widenedAfterMs: RECENT_LOOKUP_MS } : all;
  }

  /**
   * The kind asked for first, the other only when it matched nothing: one statement in the common case,
   * and each statement plans (and runs) only its own kind. A named scope whose children changed since
   * the map was read ends the search early: `stale`.
   */
  private async search(t: SpanSql, q: ExecutionQuery, scope: LookupScope, fingerprint?: string): Promise<ScopedRows & { stale?: boolean }> {
    const found = await this.executionOnce(t, q, scope, q.first);
    if (fingerprint !== undefined && found.fingerprint !== fingerprint) return { ...found, stale: true };
    if (found.by !== null) return found;
    const other = await this.executionOnce(t, q, scope, q.first === "trace_id" ? "job_id" : "trace_id");
    return fingerprint !== undefined && other.fingerprint !== fingerprint ? { ...other, stale: true } : other;
  }

  /**
   * The recent partitions by name (their plans cached). Null when the table's children cannot be named
   * (partitioned some other way), or keep changing under the search.
   */
  private async namedSearch(t: SpanSql, q: ExecutionQuery, nowMs: number): Promise<(ExecutionRows & { completeFromMs: number }) | null> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const map = await this.partitions(t);
      if (map === null) return null;
      const recent = recentPartitions(map, nowMs - RECENT_LOOKUP_MS);
      if (!recent.names.length) return { ...NOTHING, completeFromMs: Infinity };
      try {
        const found = await this.search(t, q, { kind: "named", names: recent.names }, map.fingerprint);
        if (!found.stale) return { ...strip(found), completeFromMs: recent.completeFromMs };
      } catch (err) {
        // A named partition was dropped since the map was read.
        if (!(err instanceof DatabaseError && err.reason === "missing_table")) throw err;
      }
      logDebug(`${this.table}: its partitions changed; reading them again`);
      this.partitionMap = null;
    }
    return null;
  }

  /** The parent, bounded to the recent range: planned on every call. */
  private async rangeSearch(t: SpanSql, q: ExecutionQuery, nowMs: number): Promise<ExecutionRows & { completeFromMs: number }> {
    const range = { fromMs: nowMs - RECENT_LOOKUP_MS, toMs: nowMs + FUTURE_SKEW_MS };
    return { ...(await this.search(t, q, { kind: "range", range })), completeFromMs: range.fromMs };
  }

  /** The children and their bounds, read once (again after a change, or a failed read). */
  private partitions(t: SpanSql): Promise<PartitionMap | null> {
    this.partitionMap ??= outsideScope(() => readPartitionMap(this.db, t.from, actualColumn(this.columnMapping, "started_at"))).catch((err: unknown) => {
      logDebug(`${this.table}: cannot name its partitions (${(err as Error).message}); searching the parent`);
      this.partitionMap = null;
      return null;
    });
    return this.partitionMap;
  }

  /**
   * The statement behind execution(), for one kind. As a trace (tr), with its linked hops (ls: traces
   * sharing up to five of its values of each key within the margin). As a job: per correlation key the
   * most recent traces carrying the value (j0…; the first key that matches wins), their spans (js), and
   * a row (m) saying which key matched and how many traces it has.
   */
  private async executionOnce(t: SpanSql, q: ExecutionQuery, scope: LookupScope, kind: "trace_id" | "job_id"): Promise<ScopedRows> {
    const keys = this.correlationKeys;
    // A uuid column never holds an id that is not uuid-shaped.
    if (kind === "trace_id" && t.isUuid("trace_id") && !looksLikeUuid(q.id)) return NOTHING;
    const names = scope.kind === "named" ? scope.names : [];
    const shape: ExecutionShape = { kind, scope: scope.kind, names, linked: kind === "trace_id" && q.linked };
    const params: unknown[] = [q.id, q.limit + 1];
    if (kind === "job_id") params.push(q.maxTraces + 1);
    if (scope.kind === "range") params.push(new Date(scope.range.fromMs).toISOString(), new Date(scope.range.toMs).toISOString());
    if (shape.linked) params.push(q.linkMarginMs, q.limit);
    // The text depends only on the shape: built once per shape, so the statement's name and checks are too.
    const key = `${shape.kind}|${shape.scope}|${shape.linked}|${names.join(",")}`;
    let text = this.executionTexts.get(key);
    if (text === undefined) {
      if (this.executionTexts.size >= 32) this.executionTexts.clear(); // old days' sets of partitions
      text = this.executionText(t, shape);
      this.executionTexts.set(key, text);
    }
    const rows = await this.db.query(text, params);
    const fingerprint = scope.kind === "named" ? String(rows.find((r) => r.part === "p")?.trace_id) : undefined;
    const none: ScopedRows = fingerprint === undefined ? NOTHING : { ...NOTHING, fingerprint };
    const of = (part: string) => rows.filter((r) => r.part === part);
    if (kind === "job_id") {
      const meta = of("m")[0];
      if (meta?.job_key === null || meta?.job_key === undefined) return none;
      const spans = of("j");
      const count = Number(meta.job_traces);
      return {
        by: "job_id",
        ...(fingerprint === undefined ? {} : { fingerprint }),
        key: keys[Number(meta.job_key)]!,
        traceCount: Math.min(count, q.maxTraces),
        moreTraces: count > q.maxTraces,
        spans: spans.slice(0, q.limit).map(toSpan),
        linked: 0,
        truncated: spans.length > q.limit,
      };
    }
    const traceRows = of("t");
    if (!traceRows.length) return none;
    const own = traceRows.slice(0, q.limit).map(toSpan);
    const found = fingerprint === undefined ? {} : { fingerprint };
    if (traceRows.length > q.limit) return { by: "trace_id", ...found, traceCount: 1, moreTraces: false, spans: own, linked: 0, truncated: true };
    const extraLimit = Math.max(1, q.limit - own.length);
    const linked = of("l");
    return {
      by: "trace_id",
      ...found,
      traceCount: 1,
      moreTraces: false,
      spans: [...own, ...linked.slice(0, extraLimit).map(toSpan)],
      linked: Math.min(linked.length, extraLimit),
      truncated: linked.length > extraLimit,
    };
  }

  /**
   * The statement of executionOnce() for one shape. Parameters: $1 the id, $2 the span limit, then (a
   * job) $3 the trace limit, then the range's bounds, then (linked hops) the link margin and limit.
   * Each part's rows come in its CTE's order (by start time), which UNION ALL keeps: no sort on top.
   * A named scope reads its partitions as one relation, and adds a row (p) carrying the children's
   * fingerprint in its trace_id column.
   */
  private executionText(t: SpanSql, shape: ExecutionShape): string {
    const keys = this.correlationKeys;
    let next = shape.kind === "job_id" ? 4 : 3;
    // A recent range: constants, so pruning happens when the statement is planned.
    const ranged = shape.scope === "range";
    const since = ranged ? `$${next++}::timestamptz` : null;
    const until = ranged ? `$${next++}::timestamptz` : null;
    const bound = since === null ? "" : ` AND ${t.startedAt} >= ${since} AND ${t.startedAt} < ${until}`;
    // Named partitions: no time filter (the partitions are the bound), so the cached plan is the plain table's.
    const from =
      shape.scope !== "named"
        ? t.from
        : shape.names.length === 1
          ? `${shape.names[0]} AS p`
          : `(${shape.names.map((n) => `SELECT ${t.columnList} FROM ${n}`).join(" UNION ALL ")}) AS p`;
    const marker = (width: number) =>
      shape.scope === "named" ? `\nUNION ALL SELECT 'p', ${fingerprintSql(t.from)}, ${Array.from({ length: width - 1 }, () => "NULL").join(", ")}` : "";
    const order = `${t.startedAt}, ${t.spanId}`;
    const cols = "trace_id, span_id, parent_span_id, service, operation, start_ms, end_ms, duration_ms, status, error_message, metadata";
    if (shape.kind === "job_id") {
      const ctes = [
        ...keys.map(
          (k, i) => `j${i} AS (SELECT ${i} AS k, ${t.traceId} AS trace_id, max(${t.startedAt}) AS last FROM ${from}
                WHERE ${t.field(k)} = $1::text${bound} GROUP BY ${t.traceId} ORDER BY last DESC LIMIT $3)`,
        ),
        `jt AS (${keys.map((_, i) => `SELECT * FROM j${i}`).join(" UNION ALL ")})`,
        `jk AS (SELECT min(k) AS k FROM jt)`,
        `js AS (SELECT ${t.select} FROM ${from}
                WHERE ${t.traceId} = ANY(ARRAY(SELECT trace_id FROM jt WHERE k = (SELECT k FROM jk) ORDER BY last DESC LIMIT $3 - 1))${bound}
                ORDER BY ${order} LIMIT $2)`,
      ];
      return `WITH ${ctes.join(",\n")}
SELECT 'j' AS part, ${cols}, NULL::int AS job_key, NULL::bigint AS job_traces FROM js
UNION ALL SELECT 'm', ${cols.split(", ").map(() => "NULL").join(", ")}, jk.k, (SELECT count(*) FROM jt WHERE jt.k = jk.k) FROM jk${marker(cols.split(", ").length + 2)}`;
    }
    const uuid = t.isUuid("trace_id");
    const asTrace = `${t.traceId} = $1::${uuid ? "uuid" : "text"}`;
    const ctes = [
      `tr AS (SELECT ${t.select}${keys.map((k, i) => `, ${t.field(k)} AS k${i}`).join("")}
                FROM ${from} WHERE ${asTrace}${bound} ORDER BY ${order} LIMIT $2)`,
    ];
    const parts = [`SELECT 't' AS part, ${cols} FROM tr`];
    if (shape.linked) {
      const own = `${t.traceId} <> $1::${uuid ? "uuid" : "text"}`;
      const margin = `$${next++}::float8`;
      // Partitioned: the linked traces' spans are read within a day of the window, so the other partitions are pruned.
      // With a recent bound, a constant one too (the trace starts after it), so pruning happens at plan time.
      // A trace found in the recent partitions started after the bound (RECENT_GUARD_MS), and so did its hops.
      // Every partition otherwise (the widened search): pruned at run time to a day around the trace.
      const linkedBound =
        !t.partitioned || shape.scope === "named"
          ? ""
          : since === null
            ? ` AND ${t.startedAt} BETWEEN (SELECT lo FROM b) - interval '1 day' AND (SELECT hi FROM b) + interval '1 day'`
            : bound;
      const limit = `$${next++}::int`;
      ctes.push(
        // Bounds in whole milliseconds, as the linked window always was (Date truncates).
        `b AS (SELECT to_timestamp(trunc(min(start_ms) - ${margin}) / 1000.0) AS lo,
                      to_timestamp(trunc(max(coalesce(end_ms, start_ms + duration_ms, start_ms)) + ${margin}) / 1000.0) AS hi, count(*) AS n FROM tr)`,
        ...keys.flatMap((k, i) => [
          // Five values at most, the first in sort order: a trace rarely carries more than one.
          `v${i} AS (SELECT DISTINCT k${i} AS v FROM tr WHERE k${i} IS NOT NULL AND k${i} <> '' ORDER BY 1 LIMIT 5)`,
          `l${i} AS (SELECT ${t.traceId} AS trace_id FROM ${from}
                WHERE (SELECT n FROM b) <= ${limit} AND ${t.field(k)} = ANY(ARRAY(SELECT v FROM v${i}))
                  AND ${t.startedAt} BETWEEN (SELECT lo FROM b) AND (SELECT hi FROM b)${bound}
                GROUP BY ${t.traceId} ORDER BY max(${t.startedAt}) DESC LIMIT (SELECT count(*) FROM v${i}) * 10)`,
        ]),
        `ls AS (SELECT ${t.select} FROM ${from}
                WHERE ${t.traceId} = ANY(ARRAY(SELECT trace_id FROM (${keys.map((_, i) => `SELECT trace_id FROM l${i}`).join(" UNION ")}) l WHERE ${own.replace(t.traceId, "trace_id")}))${linkedBound}
                ORDER BY ${order} LIMIT greatest(1, ${limit} - (SELECT n FROM b)) + 1)`,
      );
      parts.push(`SELECT 'l', ${cols} FROM ls`);
    }
    return `WITH ${ctes.join(",\n")}\n${parts.join("\nUNION ALL ")}${marker(cols.split(", ").length)}`;
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

  async spansOfTracesCapped(traceIds: readonly string[], perTrace: number, limit: number): Promise<{ spans: Span[]; truncated: boolean; cappedTraces: string[] }> {
    const t = await this.sql();
    let ids = [...new Set(traceIds)].slice(0, MAX_IN_LIST);
    if (t.isUuid("trace_id")) ids = ids.filter(looksLikeUuid);
    if (!ids.length) return { spans: [], truncated: false, cappedTraces: [] };
    // One index walk per trace, stopped after perTrace + 1 rows: no ORDER BY, so a huge trace is never read whole.
    const rows = await this.db.query(
      `SELECT s.* FROM unnest(${t.idArray("trace_id", 1)}) AS ids(id)
        CROSS JOIN LATERAL (SELECT ${t.select} FROM ${t.from} WHERE ${t.traceId} = ids.id LIMIT $2) s
        LIMIT $3`,
      [ids, perTrace + 1, limit + 1],
    );
    const perTraceCount = new Map<string, number>();
    const kept: Row[] = [];
    const capped = new Set<string>();
    for (const r of rows.slice(0, limit)) {
      const id = String(r.trace_id);
      const n = (perTraceCount.get(id) ?? 0) + 1;
      perTraceCount.set(id, n);
      if (n > perTrace) capped.add(id);
      else kept.push(r);
    }
    const spans = kept.map(toSpan).sort((a, b) => a.startMs - b.startMs || a.spanId.localeCompare(b.spanId));
    return { spans, truncated: rows.length > limit, cappedTraces: [...capped] };
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

const NOTHING: ExecutionRows = { by: null, traceCount: 0, moreTraces: false, spans: [], linked: 0, truncated: false };

/** ExecutionRows without what only the search inside execution() needs. */
function strip<T extends ExecutionRows>(rows: T & { fingerprint?: string; stale?: boolean; completeFromMs?: number }): ExecutionRows {
  const { fingerprint: _f, stale: _s, completeFromMs: _c, ...out } = rows;
  return out;
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
