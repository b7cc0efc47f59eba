// A trace_spans table partitioned by day on started_at (init-db --partitioned), on real Postgres, with
// 38 daily partitions holding 35 days of spans: every tool answers as on a plain table, queries with a
// time prune to the partitions that time covers, and lookups by id search the last day's partitions
// first, widening (and saying so) only when the id is older.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { fillSpans } from "../../scripts/fill-spans.js";
import type { ReadOnlyDatabase, Row } from "../../src/store/database.js";
import { PostgresDatabase } from "../../src/store/postgres.js";
import { SpanTable } from "../../src/store/span-table.js";
import diagnose from "../../src/tools/diagnose.js";
import findGaps from "../../src/tools/find-gaps.js";
import getTrace from "../../src/tools/get-trace.js";
import listFailedSpans from "../../src/tools/list-failed-spans.js";
import { requirePostgresOrSkip, TEST_DATABASE_URL } from "../support/test-databases.js";
import { connectTools, type ToolClient } from "../support/tool-client.js";

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

describe.runIf(ready)("a table partitioned by day (35 days of spans, real Postgres)", () => {
  const schema = `td_part_${process.pid}`;
  const table = `${schema}.trace_spans`;
  const now = new Date();
  let admin: pg.Client;
  let recorder: Recorder;
  let tools: ToolClient;
  let recent: { trace: string; job: string };
  let old: { trace: string; job: string; startedAt: Date };

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.query(`CREATE SCHEMA ${schema}`);
    await fillSpans(admin, { spans: 30_000, table, days: 35, partitioned: true, now });
    const pick = async (where: string) =>
      (
        await admin.query(
          `SELECT trace_id, metadata->>'job_id' AS job, started_at FROM ${table}
            WHERE status = 'failed' AND operation = 'execute_question' AND duration_ms < 100 AND ${where} ORDER BY started_at DESC LIMIT 1`,
        )
      ).rows[0];
    const r = await pick(`started_at > now() - interval '1 day'`);
    recent = { trace: r.trace_id, job: r.job };
    const o = await pick(`started_at < now() - interval '25 days'`);
    old = { trace: o.trace_id, job: o.job, startedAt: o.started_at };
    recorder = new Recorder(new PostgresDatabase(TEST_DATABASE_URL!, { statementTimeoutMs: 30_000 }));
    tools = await connectTools({ spans: new SpanTable(recorder, table, ["job_id"]), now: () => now.getTime() });
  });
  afterAll(async () => {
    await tools?.close();
    await recorder?.close();
    await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin?.end();
  });

  /** The executed plans: partitions pruned at plan time or at run time do not appear, and neither do scans never executed. */
  async function plans(run: () => Promise<unknown>): Promise<Array<{ sql: string; plan: string }>> {
    recorder.statements = [];
    await run();
    const out = [];
    for (const st of recorder.statements.filter((s) => !s.sql.includes("pg_attribute"))) {
      const r = await admin.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ${st.sql}`, [...st.params]);
      out.push({ sql: st.sql, plan: r.rows.map((x) => x["QUERY PLAN"]).join("\n") });
    }
    return out;
  }
  const partitionsIn = (plan: string) =>
    new Set(
      plan
        .split("\n")
        .filter((line) => !line.includes("never executed"))
        .flatMap((line) => [...line.matchAll(/on (trace_spans_(?:p\d{8}|default))\b/g)].map((m) => m[1])),
    );

  it("has a partition per day around now and a default, all with the parent's indexes", async () => {
    const parts = await admin.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = to_regclass($1)`, [table]);
    expect(parts.rows[0].n).toBeGreaterThanOrEqual(37);
    const idx = await admin.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE schemaname = $1 AND tablename = 'trace_spans_default'`, [schema]);
    expect(idx.rows[0].n).toBe(8);
  });

  it("list_failed_spans over 24 h reads only the partitions of that day and the one before", async () => {
    const p = await plans(() => tools.structured(listFailedSpans));
    const clusters = p.find((x) => x.sql.includes("WITH h AS"))!;
    const touched = partitionsIn(clusters.plan);
    expect(touched.size).toBeGreaterThan(0);
    expect(touched.size).toBeLessThanOrEqual(3);
    for (const x of p) expect(partitionsIn(x.plan).size, x.sql.slice(0, 80)).toBeLessThan(30);
  });

  it("get_trace of a recent trace: one statement over the last day's partitions (at most 3), hops joined", async () => {
    const p = await plans(() => tools.structured(getTrace, { trace_id: recent.trace }));
    expect(p).toHaveLength(1);
    expect(partitionsIn(p[0]!.plan).size).toBeLessThanOrEqual(3);
    const { out } = await tools.structured(getTrace, { job_id: recent.job });
    expect(out.resolved).toMatchObject({ by: "job_id" });
    expect(out.resolved.note).toBeUndefined();
    expect(out.span_count).toBeGreaterThan(0);
  });

  it("get_trace of a month-old trace widens to every partition and says so", async () => {
    recorder.statements = [];
    const { out, text } = await tools.structured(getTrace, { trace_id: old.trace });
    // The recent partitions as a trace, then as a job, then every partition.
    expect(recorder.statements.filter((s) => !s.sql.includes("pg_attribute"))).toHaveLength(3);
    expect(out.trace_ids).toContain(old.trace);
    expect(Date.parse(out.start_time)).toBe(old.startedAt.getTime());
    expect(out.resolved.note).toMatch(/Not in the partitions of the last 24 hours, so every partition was searched/);
    expect(text).toMatch(/every partition was searched/);
    const byJob = await tools.structured(getTrace, { job_id: old.job });
    expect(byJob.out.trace_ids).toEqual([old.trace]);
  });

  it("find_gaps and diagnose work on it, and say what they said on a plain table", async () => {
    const gaps = await tools.structured(findGaps, { job_id: recent.job });
    expect(gaps.out.findings[0]).toMatchObject({ kind: "missing_hop", severity: "high" });
    const aggregate = await tools.structured(findGaps, {});
    expect(aggregate.out.executions_sampled).toBeGreaterThan(0);
    const d = await tools.structured(diagnose, { job_id: recent.job });
    expect(d.out.hypotheses[0]!.kind).toBe("immediate_caller_failure");
  });
});
