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

  it("get_trace of a recent trace: one statement naming the partitions from the day before on, hops joined", async () => {
    const p = await plans(() => tools.structured(getTrace, { trace_id: recent.trace }));
    expect(p).toHaveLength(1);
    // Yesterday's, today's, the ones ahead and the default; named, so the parent is not planned over.
    const expected = (
      await admin.query(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = to_regclass($1) AND (c.relname LIKE '%default' OR c.relname >= 'trace_spans_p' || to_char(now() AT TIME ZONE 'UTC' - interval '1 day', 'YYYYMMDD'))`,
        [table],
      )
    ).rows.map((r) => r.relname as string);
    expect(expected.length).toBeLessThanOrEqual(8);
    expect([...partitionsIn(p[0]!.plan)].sort()).toEqual(expected.sort());
    expect(p[0]!.sql).not.toContain(`FROM "${schema}"."trace_spans" `);
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

  it("a partition added, swapped or dropped after the first lookup is seen by the next one", async () => {
    const db = new PostgresDatabase(TEST_DATABASE_URL!, { statementTimeoutMs: 30_000 });
    const other = new SpanTable(db, table, ["job_id"]);
    const lookup = (id: string) => other.execution({ id, first: "trace_id", limit: 1000, linked: true, linkMarginMs: 60_000, maxTraces: 20 }, now.getTime());
    const before = await lookup(recent.trace);
    expect(before.spans.length).toBeGreaterThan(0);
    const tomorrow = new Date(now.getTime() + 86_400_000).toISOString().slice(0, 10);
    const dayAfter = new Date(now.getTime() + 2 * 86_400_000).toISOString().slice(0, 10);
    const detached = `${schema}.trace_spans_p${tomorrow.replace(/-/g, "")}`;
    try {
      // Tomorrow's partition swapped for a new table holding a trace: same count of partitions, other oids.
      await admin.query(`ALTER TABLE ${table} DETACH PARTITION ${detached}`);
      await admin.query(`CREATE TABLE ${schema}.swapped (LIKE ${table} INCLUDING ALL)`);
      await admin.query(
        `INSERT INTO ${schema}.swapped (trace_id, span_id, service, operation, started_at, status, duration_ms, metadata)
         VALUES ('swapped-trace', 's1', 'runner', 'execute_question', $1::timestamptz + interval '1 hour', 'completed', 5, '{}')`,
        [`${tomorrow} 00:00:00+00`],
      );
      await admin.query(`ALTER TABLE ${table} ATTACH PARTITION ${schema}.swapped FOR VALUES FROM ('${tomorrow} 00:00:00+00') TO ('${dayAfter} 00:00:00+00')`);
      const swapped = await lookup("swapped-trace");
      expect(swapped.by).toBe("trace_id");
      expect(swapped.widenedAfterMs).toBeUndefined();
      expect(swapped.spans.map((s) => s.spanId)).toEqual(["s1"]);
      // A named partition dropped: the next lookup reads the partitions again instead of failing.
      await admin.query(`DROP TABLE ${schema}.swapped`);
      expect((await lookup("swapped-trace")).by).toBeNull();
      expect((await lookup(recent.trace)).spans).toEqual(before.spans);
    } finally {
      await admin.query(`DROP TABLE IF EXISTS ${schema}.swapped`);
      await admin.query(`ALTER TABLE ${table} ATTACH PARTITION ${detached} FOR VALUES FROM ('${tomorrow} 00:00:00+00') TO ('${dayAfter} 00:00:00+00')`);
      await db.close();
    }
  });

  it("a table partitioned another way (by list of service) is searched through its parent, bounded by time", async () => {
    const listed = `${schema}.by_service`;
    await admin.query(`CREATE TABLE ${listed} (LIKE ${table}) PARTITION BY LIST (service)`);
    await admin.query(`CREATE TABLE ${schema}.by_service_runner PARTITION OF ${listed} FOR VALUES IN ('runner')`);
    await admin.query(`CREATE TABLE ${schema}.by_service_rest PARTITION OF ${listed} DEFAULT`);
    await admin.query(`INSERT INTO ${listed} SELECT * FROM ${table} WHERE trace_id = $1`, [recent.trace]);
    const rec = new Recorder(new PostgresDatabase(TEST_DATABASE_URL!, { statementTimeoutMs: 30_000 }));
    try {
      const found = await new SpanTable(rec, listed, ["job_id"]).execution({ id: recent.trace, first: "trace_id", limit: 1000, linked: true, linkMarginMs: 60_000, maxTraces: 20 }, now.getTime());
      expect(found.by).toBe("trace_id");
      expect(found.spans.length).toBe(Number((await admin.query(`SELECT count(*) FROM ${table} WHERE trace_id = $1`, [recent.trace])).rows[0].count));
      const lookups = rec.statements.filter((st) => st.sql.startsWith("WITH tr"));
      expect(lookups).toHaveLength(1);
      expect(lookups[0]!.sql).toContain(`FROM "${schema}"."by_service" WHERE`);
      expect(lookups[0]!.sql).toMatch(/"started_at" >= \$3::timestamptz/);
    } finally {
      await rec.close();
      await admin.query(`DROP TABLE ${listed}`);
    }
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
