// The set-based queries behind list_failed_spans: failure clusters aggregated in Postgres, a keyset
// page of failing spans, success counts per operation, and metadata value counts for one cluster on
// bounded samples of failures and successes. Postgres groups and counts; only the top values come back.

import type { Row } from "./database.js";
import { validateMetadataKey } from "./span-columns.js";
import { SpanSql } from "./span-sql.js";
import { ID_LIKE_SHARE, OPERATION_COUNT_EXACT, OPERATION_SLICE_SAMPLE, OPERATION_SLICES, WINDOW_SUMMARY_CAP } from "../analysis/defaults.js";
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
  /** Every raw error message with the cluster's signature, when there are few: the contrast matches them instead of masking rows. */
  messages: string[] | null;
}

/** What the contrast of a cluster reads by: its status class, raw messages (or signature when they are many) and band. */
export type ContrastedCluster = Pick<ClusterRow, "status" | "signature" | "band" | "messages">;

/** A cluster as the newest failures suggest it, before the window's clusters are known: the raw messages seen. */
export interface ClusterGuess extends ContrastedCluster {
  service: string;
  operation: string;
  messages: string[];
}

/** Per-operation context started ahead of the clusters, for guessed clusters, keyed by service and operation. */
export interface PrefetchedContext {
  ops: Promise<Map<string, PrefetchedOperation>>;
  /** No statement read ahead starts after this (the answer no longer waits for any). */
  stop(): void;
}

/** One guessed operation's statement: started in turn, or at once when the real clusters ask for it first. */
interface PrefetchedOperation {
  members: readonly ClusterGuess[];
  /** Starts the statement if it has not started (null once stopped or failed). */
  result(): Promise<OperationContext | null>;
}

interface OperationContext {
  counts: OperationCounts;
  contrasts: ValueCountRows[];
}

const opKey = (service: string, operation: string) => `${service}\u0000${operation}`;

/** Clusters (real or guessed) by operation, in first-seen order; the first `contrasted` of them as each operation's members. */
function byOperation<T extends { service: string; operation: string }>(items: readonly T[], contrasted: number): Map<string, { service: string; operation: string; members: T[] }> {
  const ops = new Map<string, { service: string; operation: string; members: T[] }>();
  items.forEach((c, i) => {
    const k = opKey(c.service, c.operation);
    const op = ops.get(k) ?? { service: c.service, operation: c.operation, members: [] };
    if (i < contrasted) op.members.push(c);
    ops.set(k, op);
  });
  return ops;
}

/** The status class of a raw status column, as the clusters report it ('started' is 'unfinished'). */
const statusClassOf = (column: string) => `CASE WHEN lower(${column}) = 'started' THEN 'unfinished' ELSE lower(${column}) END`;

/** Each distinct message of `groups` with its signature: the masks run once per distinct message. */
const maskedMessages = (groups: string) => `SELECT message, ${SpanSql.signatureOf("message")} AS signature FROM (SELECT DISTINCT message FROM ${groups}) d`;

/**
 * Where a guessed operation's members cover the real ones, which guessed member stands for each real
 * one: the same status class, signature and band, and the same raw messages (the guess saw each of the
 * real cluster's messages, so both read the same failures). Null when any real member is not covered.
 */
export function coveringMembers(guessed: readonly ClusterGuess[], real: readonly ContrastedCluster[]): number[] | null {
  const map: number[] = [];
  for (const c of real) {
    const messages = c.messages;
    const j = guessed.findIndex(
      (g) => g.status === c.status && g.signature === c.signature && g.band === c.band && messages !== null && messages.length === g.messages.length && messages.every((m) => g.messages.includes(m)),
    );
    if (j < 0) return null;
    map.push(j);
  }
  return map;
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
  /** Set when the operation had more spans in scope than OPERATION_COUNT_EXACT: the counts are estimates from this sample. */
  sampled?: { spans: number; slices: number };
}

/** One time slice of an operation's spans: its newest `read` (at most the slice sample), and the oldest of them. */
export interface SliceCounts {
  fromMs: number;
  toMs: number;
  read: number;
  failed: number;
  succeeded: number;
  oldestMs: number | null;
}

/**
 * An operation's counts estimated from time slices: a slice read to its end counts exactly; a slice
 * whose sample filled is scaled by the time the sample covered (its newest spans, back from the slice's
 * end), as a rate. Failures and successes keep each slice's own mix.
 */
export function estimateFromSlices(slices: readonly SliceCounts[], perSlice: number): { total: number; failed: number; succeeded: number; read: number } {
  let total = 0;
  let failed = 0;
  let succeeded = 0;
  let read = 0;
  for (const s of slices) {
    read += s.read;
    if (!s.read) continue;
    const covered = s.oldestMs === null ? 0 : s.toMs - s.oldestMs;
    const scale = s.read < perSlice || covered <= 0 ? 1 : Math.max(1, (s.toMs - s.fromMs) / covered);
    total += s.read * scale;
    failed += s.failed * scale;
    succeeded += s.succeeded * scale;
  }
  return { total: Math.round(total), failed: Math.round(failed), succeeded: Math.round(succeeded), read };
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
  /** Another set of clauses numbering its parameters in the same list: for statements with several WHEREs. */
  sibling(): Where {
    const w = new Where();
    (w as { params: unknown[] }).params = this.params;
    return w;
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

/** A signature with more raw messages than this is matched by masking rows, not by message list. */
const MAX_CLUSTER_MESSAGES = 200;
/** A cluster's example job ids come from at most this many of its newest failures. */
const EXAMPLE_WALK = 50;

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
  private failureWhere(t: SpanSql, f: FailureFilter, w = new Where()): Where {
    this.scope(t, f, w);
    w.add(t.failureIndexPredicate);
    const statuses = f.statuses?.length ? f.statuses : (["failed", "error", "timeout", "unfinished"] as FailureStatus[]);
    const arms: string[] = [];
    const plain = statuses.filter((s) => s !== "unfinished");
    if (plain.length === 3 && statuses.includes("unfinished")) {
      // Every failure status: within the index predicate, anything but a span still running.
      w.add(`(${t.lowerStatus} <> 'started' OR (${t.noEnd} AND ${t.startedAt} < ${w.param(iso(f.unfinishedBeforeMs), "::timestamptz")}))`);
      return this.durationBounds(t, f, w);
    }
    if (plain.length) arms.push(`${t.lowerStatus} = ANY(${w.param(plain, "::text[]")})`);
    if (statuses.includes("unfinished")) {
      arms.push(`(${t.lowerStatus} = 'started' AND ${t.noEnd} AND ${t.startedAt} < ${w.param(iso(f.unfinishedBeforeMs), "::timestamptz")})`);
    }
    w.add(`(${arms.join(" OR ")})`);
    return this.durationBounds(t, f, w);
  }

  private durationBounds(t: SpanSql, f: FailureFilter, w: Where): Where {
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

  /**
   * The clusters of failures in scope, largest first, grouped in Postgres so the cost stays near a
   * grouped count: one hashed pass over the failing rows (h) groups them on the raw columns — status
   * as stored, the raw error message (distinct messages are few), the immediate band — and the exact
   * duration, so each group carries its duration histogram rather than its rows; the few groups
   * without their durations (g) are masked once per distinct message (m) and numbered by cluster
   * (gm, cl); each of those groups carries its histogram as arrays, unpacked by cluster number (k),
   * with no join of histogram rows on text, and the percentiles are read off the merged
   * histogram's running counts, as percentile_cont interpolates them: exact over every failure, with
   * no sort of the failing rows, and no sort on text of the histograms (real durations make them
   * thousands of rows: sorting those on service, operation and signature cost more than the scan
   * did). The newest examples are read backwards on the failures index for the returned clusters
   * only, matched on their raw statuses and messages (no row is masked).
   */
  async clusters(f: FailureFilter, limit: number, correlationKey: string, immediateMs: number): Promise<ClusterPage> {
    const t = await this.spans.sql();
    const w = this.failureWhere(t, f);
    // The examples repeat the scope and the failure predicate, with the cluster's own columns added.
    const scopeSql = w.sql;
    const immediateParam = w.param(immediateMs);
    const immediate = `(${t.durationMs} < ${immediateParam})`;
    const limitParam = w.param(limit);
    const maxMessages = w.param(MAX_CLUSTER_MESSAGES);
    const walk = w.param(EXAMPLE_WALK);
    const key = "service, operation, status, signature, band";
    const cluster = "service, operation, status, signature, immediate";
    const correlation = t.field(correlationKey);
    const sameCluster = `${t.service} = top.service AND ${t.operation} = top.operation AND ${t.status}::text = ANY(top.statuses)
                 AND coalesce(${immediate}, false) = top.immediate
                 AND (CASE WHEN top.messages IS NULL THEN ${t.errorSignature} = top.signature ELSE coalesce(${t.errorMessage}, '') = ANY(top.messages) END)`;
    const newest = (columns: string, extra: string, n: string) =>
      `SELECT ${columns} FROM ${t.from} WHERE ${extra} ${scopeSql} AND ${t.startedAt} <= top.last_at AND ${sameCluster} ORDER BY ${t.startedAt} DESC LIMIT ${n}`;
    // percentile_cont(p) over a histogram with running counts: the values at ranks floor and ceil of p × (n - 1), interpolated.
    const at = (rank: string) => `min(d) FILTER (WHERE cum > ${rank})`;
    const pct = (p: number) => {
      const pos = (n: string) => `(${p} * (${n} - 1))`;
      // Inside the FILTERs timed_n is the row's own (one value per cluster); outside, its aggregate.
      const frac = `(${pos("max(timed_n)")} - floor(${pos("max(timed_n)")}))`;
      return `${at(`floor(${pos("timed_n")})`)} + ${frac} * (${at(`ceil(${pos("timed_n")})`)} - ${at(`floor(${pos("timed_n")})`)})`;
    };
    const rows = await this.spans.query(
      // h groups by hashing: its last key, of type xid (equality only, no ordering), rules out sorting
      // every failing row, which the planner would pick from its usual underestimate of the failing rows.
      `WITH h AS (
         SELECT service, operation, raw_status, message, d,
                count(*) AS n, min(at) AS first_at, max(at) AS last_at
           FROM (SELECT ${t.service}::text AS service, ${t.operation}::text AS operation, ${t.status}::text AS raw_status,
                        coalesce(${t.errorMessage}, '') AS message, ${t.durationMs} AS d,
                        ${t.startedAt} AS at, '1'::xid AS hashed
                   FROM ${t.from} WHERE ${w.sql} OFFSET 0) r
          GROUP BY 1, 2, 3, 4, 5, hashed
       ),
       -- The few groups without their durations (the band follows from the exact duration: no second
       -- evaluation of it per row), their status class and signature, and each cluster numbered (cl):
       -- from here on the duration histograms are keyed by that number, so no sort compares text.
       g AS (SELECT service, operation, raw_status, message, coalesce(d < ${immediateParam}, false) AS immediate,
                    sum(n) AS n, min(first_at) AS first_at, max(last_at) AS last_at,
                    -- Each group's duration histogram as two arrays filled in the same row order (pairs stay paired).
                    array_agg(d) FILTER (WHERE d IS NOT NULL) AS ds, array_agg(n::float8) FILTER (WHERE d IS NOT NULL) AS ns
               FROM h GROUP BY 1, 2, 3, 4, 5),
       m AS (${maskedMessages("g")}),
       gm AS (SELECT g.*, dense_rank() OVER (ORDER BY service, operation, status, signature, immediate) AS cid
                FROM (SELECT g.*, ${statusClassOf("raw_status")} AS status, m.signature
                        FROM g JOIN m USING (message)) g),
       cl AS (
         SELECT cid, ${cluster}, array_agg(DISTINCT raw_status) AS statuses,
                CASE WHEN count(DISTINCT message) <= ${maxMessages} THEN array_agg(DISTINCT message) END AS messages,
                sum(n)::int AS count, min(first_at) AS first_at, max(last_at) AS last_at
           FROM gm GROUP BY 1, 2, 3, 4, 5, 6
       ),
       -- The histograms by cluster number, unpacked from the few groups: no join of the histogram rows on text.
       -- A duration may repeat within a cluster (two groups share it); the running counts need no merging for that.
       k AS (SELECT gm.cid, u.d, u.n FROM gm, unnest(gm.ds, gm.ns) AS u(d, n)),
       kc AS (
         -- Counts in float8 (exact to 2^53), as percentile_cont computes ranks: numeric, what sum() of a
         -- bigint returns, is many times slower.
         SELECT k.*, sum(n) OVER (PARTITION BY cid) AS timed_n, sum(n) OVER (PARTITION BY cid ORDER BY d ROWS UNBOUNDED PRECEDING) AS cum
           FROM k
       ),
       p AS (
         SELECT cid, min(d) AS min_ms, max(d) AS max_ms, coalesce(max(timed_n), 0)::int AS timed,
                ARRAY[${pct(0.05)}, ${pct(0.5)}, ${pct(0.95)}]::float8[] AS pct
           FROM kc GROUP BY cid
       ),
       c AS (SELECT cl.*, CASE WHEN immediate THEN 'immediate' ELSE 'slower' END AS band, p.min_ms, p.max_ms, p.timed, p.pct FROM cl LEFT JOIN p USING (cid)),
       top AS (
         SELECT c.*, row_number() OVER (ORDER BY count DESC, ${key}) AS rank,
                (count(*) OVER ())::int AS cluster_total, (sum(count) OVER ())::int AS failure_total
           FROM c ORDER BY count DESC, ${key} LIMIT ${limitParam}
       )
       SELECT top.service, top.operation, top.status, top.signature, top.band, top.count, top.min_ms, top.max_ms, top.messages,
              top.cluster_total, top.failure_total,
              (EXTRACT(EPOCH FROM top.first_at) * 1000)::float8 AS first_ms, (EXTRACT(EPOCH FROM top.last_at) * 1000)::float8 AS last_ms,
              top.pct, coalesce(top.timed, 0) AS timed, e.example_error, e.example_trace_ids, j.example_correlation
         FROM top
         CROSS JOIN LATERAL (
           SELECT (array_agg(error ORDER BY at DESC, trace_id DESC))[1] AS example_error, array_agg(trace_id ORDER BY at DESC, trace_id DESC) AS example_trace_ids
             FROM (${newest(`${t.errorMessage} AS error, ${t.traceId}::text AS trace_id, ${t.startedAt} AS at`, "", "3")}) x
         ) e
         CROSS JOIN LATERAL (
           -- Example job ids from the cluster's newest EXAMPLE_WALK failures: no read of every row's metadata.
           SELECT array_agg(v ORDER BY at DESC) AS example_correlation
             FROM (SELECT v, at FROM (${newest(`${correlation} AS v, ${t.startedAt} AS at`, "", walk)}) y WHERE v IS NOT NULL ORDER BY at DESC LIMIT 3) x
         ) j
        ORDER BY top.rank`,
      w.params,
    );
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    return {
      clusters: rows.map((r) => {
        const pct = (r.pct as Array<number | null> | null) ?? [null, null, null];
        return {
          service: String(r.service),
          operation: String(r.operation),
          status: String(r.status),
          signature: String(r.signature ?? ""),
          band: r.band === "immediate" ? "immediate" : "slower",
          count: Number(r.count),
          firstMs: Number(r.first_ms),
          lastMs: Number(r.last_ms),
          minMs: num(r.min_ms),
          p05Ms: num(pct[0]),
          p50Ms: num(pct[1]),
          p95Ms: num(pct[2]),
          maxMs: num(r.max_ms),
          exampleError: r.example_error == null ? null : String(r.example_error),
          exampleTraceIds: (r.example_trace_ids as string[] | null) ?? [],
          exampleCorrelation: (r.example_correlation as string[] | null) ?? [],
          messages: (r.messages as string[] | null) ?? null,
        };
      }),
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

  /**
   * What the clusters need beyond themselves, one statement per operation they name, side by side:
   * the operation's counts in scope (its success rate) and, for the first `contrasted` clusters, the
   * metadata contrast — the latest `sample` failures of each cluster against the latest `sample`
   * successes of the operation, read once for all its clusters — counted in Postgres and returning
   * only what could be reported: keys that behave like ids on either side are dropped, and of the
   * others the 3 values most frequent among a cluster's failures (a value needs half of them to be
   * reported), with their counts among the successes. Metadata that is not a JSON object counts as empty.
   */
  async clusterContext(
    f: FailureFilter,
    clusters: readonly ClusterRow[],
    contrasted: number,
    sample: number,
    immediateMs: number,
    prefetched?: PrefetchedContext,
  ): Promise<{ counts: OperationCounts[]; contrasts: Array<ValueCountRows | undefined> }> {
    const ops = byOperation(clusters, contrasted);
    const ahead = prefetched ? await prefetched.ops : undefined;
    const contrasts: Array<ValueCountRows | undefined> = clusters.map(() => undefined);
    const counts = await Promise.all(
      [...ops.entries()].map(async ([k, op]) => {
        // The statement started ahead answers the same as this one would where its guess covers every member.
        const guessed = ahead?.get(k);
        const map = guessed ? coveringMembers(guessed.members, op.members) : null;
        const early = map && (await guessed!.result());
        const r = early ? { counts: early.counts, contrasts: map!.map((j) => early.contrasts[j]!) } : await this.operationContext(f, op, op.members, sample, immediateMs);
        op.members.forEach((c, j) => (contrasts[clusters.indexOf(c)] = r.contrasts[j]));
        return r.counts;
      }),
    );
    return { counts, contrasts };
  }

  /**
   * The clusters the newest `newest` failures in scope suggest (raw messages masked once each), largest
   * first: cheap, bounded, and a guess — the window's clusters may differ.
   */
  async guessClusters(f: FailureFilter, newest: number, limit: number, immediateMs: number): Promise<ClusterGuess[]> {
    const t = await this.spans.sql();
    const w = this.failureWhere(t, f);
    const band = this.band(t, w, immediateMs);
    const rows = await this.spans.query(
      `WITH r AS (SELECT ${t.service}::text AS service, ${t.operation}::text AS operation, ${t.status}::text AS raw_status,
                         coalesce(${t.errorMessage}, '') AS message, ${band} AS band
                    FROM ${t.from} WHERE ${w.sql} ORDER BY ${t.startedAt} DESC LIMIT ${w.param(newest)}),
            g AS (SELECT service, operation, raw_status, message, band, count(*) AS n FROM r GROUP BY 1, 2, 3, 4, 5),
            m AS (${maskedMessages("g")})
       SELECT service, operation, ${statusClassOf("raw_status")} AS status,
              m.signature, band, sum(n) AS n, array_agg(DISTINCT message) AS messages
         FROM g JOIN m USING (message)
        GROUP BY 1, 2, 3, 4, 5 ORDER BY n DESC, 1, 2, 3, 4, 5 LIMIT ${w.param(limit)}`,
      w.params,
    );
    return rows.map((r) => ({
      service: String(r.service),
      operation: String(r.operation),
      status: String(r.status),
      signature: String(r.signature ?? ""),
      band: r.band === "immediate" ? "immediate" : "slower",
      messages: (r.messages as string[] | null) ?? [],
    }));
  }

  /**
   * Starts each guessed operation's context (its counts, and the contrast of its first `contrasted`
   * guessed clusters), one statement after another, while the window's clusters are still being
   * counted; clusterContext uses the ones the real clusters confirm and reads the rest itself. A
   * wrong guess costs only the statements read ahead.
   */
  prefetchContext(f: FailureFilter, guesses: Promise<ClusterGuess[]>, contrasted: number, sample: number, immediateMs: number): PrefetchedContext {
    let stopped = false;
    const ops = guesses.then(
      (all) => {
        const ops = new Map<string, PrefetchedOperation>();
        // One at a time, in the guessed order: beside the cluster statement, not competing with it for
        // cores. Once the real clusters ask for one, it starts at once (they are known: no reason to wait).
        let previous: Promise<unknown> = Promise.resolve();
        for (const [k, op] of byOperation(all, contrasted)) {
          let started: Promise<OperationContext | null> | undefined;
          const result = () => (started ??= stopped ? Promise.resolve(null) : this.operationContext(f, op, op.members, sample, immediateMs).catch(() => null));
          previous = previous.then(result);
          ops.set(k, { members: op.members, result });
        }
        return ops;
      },
      () => new Map(),
    );
    return { ops, stop: () => (stopped = true) };
  }

  private async operationContext(
    f: FailureFilter,
    op: { service: string; operation: string },
    members: readonly ContrastedCluster[],
    sample: number,
    immediateMs: number,
  ): Promise<OperationContext> {
    const t = await this.spans.sql();
    const scoped = { ...f, service: op.service, operation: op.operation };
    const w = new Where();
    this.scope(t, scoped, w);
    const fromAt = w.param(iso(f.window.fromMs), "::timestamptz");
    const toAt = w.param(iso(f.window.toMs), "::timestamptz");
    const exact = w.param(OPERATION_COUNT_EXACT);
    const exactLimit = w.param(OPERATION_COUNT_EXACT + 1);
    const sliceCount = w.param(OPERATION_SLICES);
    const perSlice = w.param(OPERATION_SLICE_SAMPLE);
    // LIMIT 0 when nothing is contrasted: the successes are then never read. The failures' limit is a
    // parameter only when a cluster is contrasted (a parameter the text never uses fails the statement).
    const okLimit = w.param(members.length ? sample : 0);
    const limit = members.length ? w.param(sample) : "";
    const share = w.param(ID_LIKE_SHARE, "::float8");
    const entries = (side: string) => `jsonb_each(CASE WHEN jsonb_typeof(${side}.m) = 'object' THEN ${side}.m ELSE '{}'::jsonb END) e`;
    const scalar = `jsonb_typeof(e.value) IN ('string', 'number', 'boolean')`;
    const failures = members.map((c, i) => {
      const fw = this.failureWhere(t, scoped, w.sibling());
      fw.add(`${this.statusClass(t)} = ${fw.param(c.status)}`);
      // The cluster's raw messages, when known, spare masking every row of the operation's failures.
      if (c.messages) fw.add(`coalesce(${t.errorMessage}, '') = ANY(${fw.param(c.messages, "::text[]")})`);
      else fw.add(`${t.errorSignature} = ${fw.param(c.signature)}`);
      fw.add(`${this.band(t, fw, immediateMs)} = ${fw.param(c.band)}`);
      return [
        `f${i} AS (SELECT ${t.metadataJsonb} AS m FROM ${t.from} WHERE ${fw.sql} ORDER BY ${t.startedAt} DESC LIMIT ${limit})`,
        `fv${i} AS (SELECT ${i} AS c, e.key, e.value #>> '{}' AS value, count(*) AS n FROM f${i}, ${entries(`f${i}`)} WHERE ${scalar} GROUP BY 2, 3)`,
      ];
    });
    const union = (parts: string[], empty: string) => (parts.length ? parts.join(" UNION ALL ") : empty);
    const rows = await this.spans.query<Row & { side: string; c: number | null; key: string | null; value: string | null; n: number; failed: number; succeeded: number }>(
      // The operation's counts in scope: exact while it has at most OPERATION_COUNT_EXACT spans (x, a
      // bounded backward walk of its index); past that, its newest spans in each of OPERATION_SLICES
      // equal slices of the window (q), for an estimate — the slices are read only when x overflowed.
      `WITH x AS (SELECT failed, succeeded, count(*) AS n
                    FROM (SELECT ${t.isFailure} AS failed, ${t.isSuccess} AS succeeded FROM ${t.from} WHERE ${w.sql}
                           ORDER BY ${t.startedAt} DESC LIMIT ${exactLimit}) s GROUP BY 1, 2),
            sl AS (SELECT i, ${fromAt} + (${toAt} - ${fromAt}) * i / ${sliceCount} AS lo, ${fromAt} + (${toAt} - ${fromAt}) * (i + 1) / ${sliceCount} AS hi
                     FROM generate_series(0, ${sliceCount} - 1) i WHERE (SELECT sum(n) FROM x) > ${exact}),
            q AS (SELECT sl.i, sl.lo, sl.hi, y.* FROM sl CROSS JOIN LATERAL (
                    SELECT count(*) AS n, count(*) FILTER (WHERE failed) AS failed, count(*) FILTER (WHERE succeeded) AS succeeded, min(at) AS oldest
                      FROM (SELECT ${t.isFailure} AS failed, ${t.isSuccess} AS succeeded, ${t.startedAt} AS at FROM ${t.from}
                             WHERE ${w.sql} AND ${t.startedAt} >= sl.lo AND ${t.startedAt} < sl.hi ORDER BY ${t.startedAt} DESC LIMIT ${perSlice}) z) y),
            ok AS (SELECT ${t.metadataJsonb} AS m FROM ${t.from} WHERE ${w.sql} AND ${t.isSuccess} ORDER BY ${t.startedAt} DESC LIMIT ${okLimit}),
            sv AS (SELECT e.key, e.value #>> '{}' AS value, count(*) AS n FROM ok, ${entries("ok")} WHERE ${scalar} GROUP BY 1, 2),
            sk AS (SELECT key FROM sv GROUP BY key HAVING count(*) > greatest(3, ${share} * (SELECT count(*) FROM ok))),
            ${failures.flat().join(",\n            ")}${failures.length ? "," : ""}
            fv AS (${union(members.map((_, i) => `SELECT * FROM fv${i}`), "SELECT 0 AS c, NULL::text AS key, NULL::text AS value, 0::bigint AS n WHERE FALSE")}),
            fn AS (${union(members.map((_, i) => `SELECT ${i} AS c, count(*) AS n FROM f${i}`), "SELECT 0 AS c, 0::bigint AS n WHERE FALSE")}),
            keys AS (
              SELECT fv.c, fv.key FROM fv JOIN fn USING (c) WHERE fv.key NOT IN (SELECT key FROM sk)
               GROUP BY fv.c, fv.key, fn.n HAVING count(*) <= greatest(3, ${share} * fn.n)
            ),
            top AS (SELECT fv.*, row_number() OVER (PARTITION BY fv.c, fv.key ORDER BY fv.n DESC, fv.value) AS r FROM fv JOIN keys USING (c, key))
       SELECT 'c' AS side, NULL::int AS c, NULL::text AS key, NULL::text AS value, coalesce(sum(n), 0)::int AS n,
              coalesce(sum(n) FILTER (WHERE failed), 0)::int AS failed, coalesce(sum(n) FILTER (WHERE succeeded), 0)::int AS succeeded FROM x
       UNION ALL SELECT 'f', c, key, value, n::int, 0, 0 FROM top WHERE r <= 3
       UNION ALL SELECT 's', NULL, sv.key, sv.value, sv.n::int, 0, 0 FROM sv WHERE (sv.key, sv.value) IN (SELECT key, value FROM top WHERE r <= 3)
       UNION ALL SELECT 'q', i, to_char(lo AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), to_char(hi AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                        n::int, failed::int, succeeded::int FROM q
       UNION ALL SELECT 'o', i, NULL, to_char(oldest AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 0, 0, 0 FROM q WHERE oldest IS NOT NULL
       UNION ALL SELECT 'F', c, NULL, NULL, n::int, 0, 0 FROM fn
       UNION ALL SELECT 'S', NULL, NULL, NULL, (SELECT count(*) FROM ok)::int, 0, 0`,
      w.params,
    );
    let counts: OperationCounts = { service: op.service, operation: op.operation, total: 0, failed: 0, succeeded: 0 };
    let successTotal = 0;
    const successes = new Map<string, Map<string, number>>();
    const contrasts: ValueCountRows[] = members.map(() => ({ failures: new Map(), failureTotal: 0, successes, successTotal: 0 }));
    const slices = new Map<number, SliceCounts>();
    const slice = (i: number) => slices.get(i) ?? { fromMs: 0, toMs: 0, read: 0, failed: 0, succeeded: 0, oldestMs: null };
    for (const r of rows) {
      if (r.side === "c") counts = { ...counts, total: Number(r.n), failed: Number(r.failed), succeeded: Number(r.succeeded) };
      else if (r.side === "q") {
        const counted = { fromMs: Date.parse(String(r.key)), toMs: Date.parse(String(r.value)), read: Number(r.n), failed: Number(r.failed), succeeded: Number(r.succeeded) };
        slices.set(Number(r.c), { ...slice(Number(r.c)), ...counted });
      } else if (r.side === "o") slices.set(Number(r.c), { ...slice(Number(r.c)), oldestMs: Date.parse(String(r.value)) });
      else if (r.side === "S") successTotal = Number(r.n);
      else if (r.side === "F") contrasts[Number(r.c)]!.failureTotal = Number(r.n);
      else if (r.side === "f") {
        const side = contrasts[Number(r.c)]!.failures;
        side.set(String(r.key), (side.get(String(r.key)) ?? new Map<string, number>()).set(String(r.value), Number(r.n)));
      } else successes.set(String(r.key), (successes.get(String(r.key)) ?? new Map<string, number>()).set(String(r.value), Number(r.n)));
    }
    for (const c of contrasts) c.successTotal = successTotal;
    if (slices.size) {
      const e = estimateFromSlices([...slices.values()], OPERATION_SLICE_SAMPLE);
      counts = { ...counts, total: e.total, failed: e.failed, succeeded: e.succeeded, sampled: { spans: e.read, slices: slices.size } };
    }
    return { counts, contrasts };
  }

  /**
   * For an empty answer: how many spans the window holds at all and how many fail, counted up to
   * WINDOW_SUMMARY_CAP each (a day at 10 M spans a day holds some 800 k: counting them all took
   * half a second), and the services among the newest of them.
   */
  async windowSummary(f: FailureFilter): Promise<{ spans: number; failing: number; capped: boolean; services: string[] }> {
    const t = await this.spans.sql();
    const w = new Where();
    w.add(`${t.startedAt} >= ${w.param(iso(f.window.fromMs), "::timestamptz")}`);
    w.add(`${t.startedAt} < ${w.param(iso(f.window.toMs), "::timestamptz")}`);
    const cap = w.param(WINDOW_SUMMARY_CAP, "::int");
    const newest = (what: string, extra = "") => `SELECT ${what} FROM ${t.from} WHERE ${w.sql}${extra} ORDER BY ${t.startedAt} DESC LIMIT ${cap} + 1`;
    const rows = await this.spans.query(
      `SELECT (SELECT count(*) FROM (${newest("1")}) a)::int AS spans,
              (SELECT count(*) FROM (${newest("1", ` AND ${t.isFailure}`)}) b)::int AS failing,
              (SELECT array_agg(DISTINCT s) FROM (${newest(`${t.service}::text AS s`)}) c) AS services`,
      w.params,
    );
    const r = rows[0] ?? {};
    const spans = Number(r.spans ?? 0);
    const failing = Number(r.failing ?? 0);
    return {
      spans: Math.min(spans, WINDOW_SUMMARY_CAP),
      failing: Math.min(failing, WINDOW_SUMMARY_CAP),
      capped: spans > WINDOW_SUMMARY_CAP || failing > WINDOW_SUMMARY_CAP,
      services: ((r.services as string[] | null) ?? []).sort().slice(0, 20),
    };
  }
}
