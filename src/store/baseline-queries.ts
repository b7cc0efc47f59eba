// The bounded reads one execution is judged with: the latest failures of its failure cluster (same
// operation, status, error signature and speed band) and the outcomes of the latest spans of its
// operation. Each walks one operation's spans backwards in time through an index and stops at its
// limit, so its cost does not grow with the table or the window.

import type { Span } from "../analysis/span.js";
import { toSpan, type SpanTable, type TimeRange } from "./span-table.js";

export interface ClusterKey {
  service: string;
  operation: string;
  /** failed, error, timeout, or unfinished. */
  status: string;
  signature: string;
  band: "immediate" | "slower";
}

const iso = (ms: number) => new Date(ms).toISOString();

export class BaselineQueries {
  constructor(private readonly spans: SpanTable) {}

  /** The latest `limit` failures of one cluster in the window, newest first; `full` when there may be more. */
  async clusterFailures(
    cluster: ClusterKey,
    window: TimeRange,
    limit: number,
    options: { immediateMs: number; unfinishedBeforeMs: number },
  ): Promise<{ spans: Span[]; full: boolean }> {
    const t = await this.spans.sql();
    const params: unknown[] = [cluster.service, cluster.operation, iso(window.fromMs), iso(window.toMs), cluster.signature, options.immediateMs, cluster.band];
    let status: string;
    if (cluster.status === "unfinished") {
      params.push(iso(options.unfinishedBeforeMs));
      status = `${t.lowerStatus} = 'started' AND ${t.noEnd} AND ${t.startedAt} < $${params.length}::timestamptz`;
    } else {
      params.push(cluster.status);
      status = `${t.lowerStatus} = $${params.length}`;
    }
    params.push(limit + 1);
    const rows = await this.spans.query(
      `SELECT ${t.select} FROM ${t.from}
        WHERE ${t.service} = $1 AND ${t.operation} = $2
          AND ${t.startedAt} >= $3::timestamptz AND ${t.startedAt} < $4::timestamptz
          AND ${t.failureIndexPredicate} AND ${status}
          AND ${t.errorSignature} = $5
          AND (CASE WHEN ${t.durationMs} < $6 THEN 'immediate' ELSE 'slower' END) = $7
        ORDER BY ${t.startedAt} DESC LIMIT $${params.length}`,
      params,
    );
    return { spans: rows.slice(0, limit).map(toSpan), full: rows.length > limit };
  }

  /** How the latest `limit` spans of one operation in the window ended: an index-only read of their statuses. */
  async operationOutcomes(
    op: { service: string; operation: string },
    window: TimeRange,
    limit: number,
  ): Promise<{ total: number; failed: number; succeeded: number; full: boolean }> {
    const t = await this.spans.sql();
    // One row past the limit is read to tell a full sample from a complete one; it is not counted.
    const rows = await this.spans.query(
      `SELECT count(*) FILTER (WHERE k <= $5::int)::int AS total,
              count(*) FILTER (WHERE k <= $5::int AND ${t.isFailure})::int AS failed,
              count(*) FILTER (WHERE k <= $5::int AND ${t.isSuccess})::int AS succeeded,
              count(*)::int AS read
         FROM (SELECT ${t.status}, row_number() OVER (ORDER BY ${t.startedAt} DESC) AS k FROM ${t.from}
                WHERE ${t.service} = $1 AND ${t.operation} = $2
                  AND ${t.startedAt} >= $3::timestamptz AND ${t.startedAt} < $4::timestamptz
                ORDER BY ${t.startedAt} DESC LIMIT $5::int + 1) latest`,
      [op.service, op.operation, iso(window.fromMs), iso(window.toMs), limit],
    );
    const r = rows[0] ?? {};
    return { total: Number(r.total ?? 0), failed: Number(r.failed ?? 0), succeeded: Number(r.succeeded ?? 0), full: Number(r.read ?? 0) > limit };
  }
}
