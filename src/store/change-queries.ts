// The reads behind change onset: spans of one operation just before a moment (newest first) and from
// it on (oldest first), with their outcome and metadata, and a probe that says whether a failure
// cluster already had failures among the spans just before a moment (to locate an onset by bisection
// when the failures are too many to read). Each is one bounded walk of the operation's index.

import type { SampledExecution } from "../analysis/change-onset.js";
import type { Row } from "./database.js";
import type { ClusterKey } from "./baseline-queries.js";
import type { SpanTable, TimeRange } from "./span-table.js";

const iso = (ms: number) => new Date(ms).toISOString();

export class ChangeQueries {
  constructor(private readonly spans: SpanTable) {}

  /** Up to `limit` spans of the operation before `atMs` (newest first) or from `atMs` on (oldest first), within `bound`. */
  async around(
    op: { service: string; operation: string },
    atMs: number,
    side: "before" | "after",
    limit: number,
    bound: TimeRange,
  ): Promise<SampledExecution[]> {
    const t = await this.spans.sql();
    const range =
      side === "before"
        ? `${t.startedAt} >= $3::timestamptz AND ${t.startedAt} < $4::timestamptz`
        : `${t.startedAt} >= $4::timestamptz AND ${t.startedAt} < $3::timestamptz`;
    const [first, second] = side === "before" ? [bound.fromMs, atMs] : [bound.toMs, atMs];
    const rows = await this.spans.query<Row & { trace_id: string; start_ms: number; failed: boolean; metadata: unknown }>(
      `SELECT ${t.traceId}::text AS trace_id, ${t.startMs} AS start_ms, (${t.isFailure}) AS failed, ${t.metadataJsonb} AS metadata
         FROM ${t.from}
        WHERE ${t.service} = $1 AND ${t.operation} = $2 AND ${range}
        ORDER BY ${t.startedAt} ${side === "before" ? "DESC" : "ASC"} LIMIT $5`,
      [op.service, op.operation, iso(first), iso(second), limit],
    );
    return rows.map((r) => ({
      traceId: String(r.trace_id),
      startMs: Number(r.start_ms),
      failed: r.failed === true,
      metadata: r.metadata && typeof r.metadata === "object" && !Array.isArray(r.metadata) ? (r.metadata as Record<string, unknown>) : {},
    }));
  }

  /** Among the `limit` spans of the cluster's operation just before `atMs` (and after `fromMs`): the earliest failure of the cluster, if any. */
  async earliestClusterFailureBefore(cluster: ClusterKey, atMs: number, fromMs: number, limit: number, immediateMs: number): Promise<number | null> {
    const t = await this.spans.sql();
    // $6 is named in both forms, so every parameter is used and typed.
    const status = cluster.status === "unfinished" ? `($6::text = 'unfinished' AND ${t.lowerStatus} = 'started' AND ${t.noEnd})` : `${t.lowerStatus} = $6::text`;
    const rows = await this.spans.query(
      `SELECT min(start_ms) FILTER (WHERE hit) AS first_ms
         FROM (SELECT ${t.startMs} AS start_ms,
                      (${status} AND ${t.errorSignature} = $5
                       AND (CASE WHEN ${t.durationMs} < $7 THEN 'immediate' ELSE 'slower' END) = $8) AS hit
                 FROM ${t.from}
                WHERE ${t.service} = $1 AND ${t.operation} = $2
                  AND ${t.startedAt} >= $3::timestamptz AND ${t.startedAt} < $4::timestamptz
                ORDER BY ${t.startedAt} DESC LIMIT $9) latest`,
      [cluster.service, cluster.operation, iso(fromMs), iso(atMs), cluster.signature, cluster.status, immediateMs, cluster.band, limit],
    );
    const v = rows[0]?.first_ms;
    return v === null || v === undefined ? null : Number(v);
  }
}
