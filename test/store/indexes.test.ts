// On real Postgres with 100 k spans of the demo's shape: the hot queries of each tool use the indexes
// schema.sql creates (checked with EXPLAIN on the very statements the tools issue).

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { fillSpans } from "../../scripts/fill-spans.js";
import type { ReadOnlyDatabase, Row } from "../../src/store/database.js";
import { PostgresDatabase } from "../../src/store/postgres.js";
import { SpanTable } from "../../src/store/span-table.js";
import { requirePostgresOrSkip, TEST_DATABASE_URL } from "../support/test-databases.js";
import { toolsFor } from "../support/tool-client.js";
import findGaps from "../../src/tools/find-gaps.js";
import getTrace from "../../src/tools/get-trace.js";
import listFailedSpans from "../../src/tools/list-failed-spans.js";

class Recorder implements ReadOnlyDatabase {
  statements: Array<{ sql: string; params: readonly unknown[] }> = [];
  constructor(private readonly inner: ReadOnlyDatabase) {}
  get label() {
    return this.inner.label;
  }
  query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    this.statements.push({ sql, params });
    return this.inner.query<T>(sql, params);
  }
  close() {
    return this.inner.close();
  }
}

const ready = await requirePostgresOrSkip();

describe.runIf(ready)("indexes on real Postgres (100 k spans)", () => {
  const schema = `td_idx_${process.pid}`;
  const table = `${schema}.trace_spans`;
  let admin: pg.Client;
  let recorder: Recorder;
  let spans: SpanTable;
  let failingJob: string;
  let traceId: string;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.query(`CREATE SCHEMA ${schema}`);
    await fillSpans(admin, { spans: 100_000, table });
    await admin.query(`VACUUM ANALYZE ${table}`);
    const f = await admin.query(
      `SELECT trace_id, metadata->>'job_id' AS job FROM ${table} WHERE status = 'failed' AND operation = 'execute_question' AND duration_ms < 100 ORDER BY started_at DESC LIMIT 1`,
    );
    failingJob = f.rows[0].job;
    traceId = f.rows[0].trace_id;
    recorder = new Recorder(new PostgresDatabase(TEST_DATABASE_URL!, { statementTimeoutMs: 30_000 }));
    spans = new SpanTable(recorder, table, ["job_id"]);
  });
  afterAll(async () => {
    await recorder?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.end();
  });

  /** The plans of every statement a call issued, keyed by a fragment of the SQL. */
  async function plansOf(run: () => Promise<unknown>): Promise<Array<{ sql: string; plan: string }>> {
    recorder.statements = [];
    await run();
    const out = [];
    for (const st of recorder.statements) {
      if (st.sql.includes("pg_attribute")) continue;
      const r = await admin.query(`EXPLAIN ${st.sql}`, [...st.params]);
      out.push({ sql: st.sql, plan: r.rows.map((x) => x["QUERY PLAN"]).join("\n") });
    }
    return out;
  }
  const planFor = (plans: Array<{ sql: string; plan: string }>, fragment: string) => {
    const found = plans.find((p) => p.sql.includes(fragment));
    expect(found, `no statement containing ${fragment}`).toBeDefined();
    return found!.plan;
  };

  it("get_trace: one statement when the id is of the kind given, the trace_id index for the spans, the job_id expression index for the lookup", async () => {
    const tools = await toolsFor(spans);
    const byJob = await plansOf(() => tools.structured(getTrace, { job_id: failingJob }));
    expect(byJob).toHaveLength(1);
    expect(byJob[0]!.plan).toMatch(/trace_spans_job_id_idx/);
    expect(byJob[0]!.plan).toMatch(/trace_spans_trace_id_idx/);
    const byTrace = await plansOf(() => tools.structured(getTrace, { trace_id: traceId }));
    expect(byTrace).toHaveLength(1);
    // The trace by its id, and the hops linked by job_id within the margin: both through indexes.
    expect(byTrace[0]!.plan).toMatch(/trace_spans_trace_id_idx/);
    expect(byTrace[0]!.plan).toMatch(/trace_spans_job_id_idx/);
    // An id of the wrong kind costs a second statement: each statement plans only its own kind.
    const wrongKind = await plansOf(() => tools.structured(getTrace, { trace_id: failingJob }));
    expect(wrongKind).toHaveLength(2);
    expect(wrongKind[0]!.sql).toMatch(/^WITH tr AS/);
    expect(wrongKind[0]!.sql).not.toMatch(/\bj0 AS/);
    expect(wrongKind[1]!.sql).toMatch(/^WITH j0 AS/);
    expect(wrongKind[1]!.plan).toMatch(/trace_spans_job_id_idx/);
    for (const p of [...byJob, ...byTrace, ...wrongKind]) expect(p.plan, p.sql).not.toMatch(/Seq Scan on trace_spans/);
  });

  it("list_failed_spans: the failures partial indexes, and counts per operation on an index range", async () => {
    const tools = await toolsFor(spans);
    const plans = await plansOf(() => tools.structured(listFailedSpans));
    const clusters = planFor(plans, "WITH h AS");
    expect(clusters).toMatch(/trace_spans_failures_idx/);
    // The newest examples of each returned cluster: a backward walk of a failures index, three rows each.
    expect(clusters).toMatch(/Index Scan Backward using trace_spans_(operation_)?failures_idx/);
    expect(planFor(plans, 'to_char("started_at"')).toMatch(/trace_spans_failures_idx/);
    // One statement per operation: its counts (index-only), the latest successes, each contrasted cluster's latest failures.
    const perOperation = plans.filter((p) => p.sql.includes("WITH x AS"));
    expect(perOperation.length).toBeGreaterThan(1);
    // The counts walk an index range: on 10 M spans an index-only scan of the operation index; on these
    // 100 k the planner may pick the started_at index, or a bitmap, for a small operation. None scans the table (below).
    for (const p of perOperation) expect(p.plan).toMatch(/trace_spans_(operation|started_at)_idx/);
    expect(planFor(plans, "f0 AS")).toMatch(/trace_spans_(operation_)?failures_idx/);
    for (const p of plans) expect(p.plan, p.sql).not.toMatch(/Seq Scan on trace_spans/);
  });

  it("find_gaps: the roots partial index to sample executions", async () => {
    const tools = await toolsFor(spans);
    const plans = await plansOf(() => tools.structured(findGaps));
    expect(planFor(plans, '"parent_span_id" IS NULL')).toMatch(/trace_spans_roots_idx/);
    for (const p of plans) expect(p.plan, p.sql).not.toMatch(/Seq Scan on trace_spans/);
    const one = await plansOf(() => tools.structured(findGaps, { job_id: failingJob }));
    expect(planFor(one, '"parent_span_id" IS NULL')).toMatch(/trace_spans_(operation|roots)_idx/);
    for (const p of one) expect(p.plan, p.sql).not.toMatch(/Seq Scan on trace_spans/);
  });
});
