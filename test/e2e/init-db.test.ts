// `trace-doctor init-db`, the only command that writes: it creates the table and every index from
// schema.sql in DATABASE_URL, twice without complaint, and refuses to run without DATABASE_URL; with
// --partitioned, the same table partitioned by day (ours, or pg_partman's when it is installed).

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import pg from "pg";
import { requirePostgresOrSkip, TEST_DATABASE_URL } from "../support/test-databases.js";

const run = promisify(execFile);
const SERVER = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const ready = await requirePostgresOrSkip();

function env(extra: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "DATABASE_URL" && !k.startsWith("TRACE_DOCTOR_")) base[k] = v;
  return { ...base, ...extra };
}

describe("init-db", () => {
  it("refuses to run without DATABASE_URL, saying what it needs", async () => {
    const err = (await run(process.execPath, [SERVER, "init-db"], { env: env({}) }).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/init-db needs DATABASE_URL/);
  });

  it("refuses --days or --partman without --partitioned, and a --days that is not a number of days", async () => {
    for (const args of [["--days", "3"], ["--partman"], ["--partitioned", "--days", "zero"]]) {
      const err = (await run(process.execPath, [SERVER, "init-db", ...args], { env: env({ DATABASE_URL: "postgres://nobody@127.0.0.1:1/x" }) }).catch((e: unknown) => e)) as {
        code: number;
        stderr: string;
      };
      expect(err.code, args.join(" ")).toBe(2);
      expect(err.stderr).toMatch(/init-db: --days/);
    }
  });

  it("prints usage for --help on stdout", async () => {
    const { stdout } = await run(process.execPath, [SERVER, "--help"], { env: env({}) });
    expect(stdout).toMatch(/trace-doctor init-db/);
  });
});

describe.runIf(ready)("init-db on real Postgres", () => {
  const schema = `td_init_${process.pid}`;
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it("creates the table and its indexes, idempotently, under a configured name and correlation keys", async () => {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const e = env({ DATABASE_URL: TEST_DATABASE_URL!, TRACE_DOCTOR_TABLE: `${schema}.spans`, TRACE_DOCTOR_CORRELATION_KEYS: "job_id,request_id" });
    for (let i = 0; i < 2; i++) {
      const { stdout, stderr } = await run(process.execPath, [SERVER, "init-db"], { env: e });
      expect(stdout).toBe("");
      expect(stderr).toMatch(/schema applied/);
    }
    const cols = await admin.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'spans' ORDER BY ordinal_position`, [schema]);
    expect(cols.rows.map((r) => r.column_name)).toEqual([
      "id",
      "trace_id",
      "span_id",
      "parent_span_id",
      "service",
      "operation",
      "started_at",
      "completed_at",
      "duration_ms",
      "status",
      "error_message",
      "metadata",
    ]);
    const idx = await admin.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname`, [schema]);
    expect(idx.rows.map((r) => r.indexname)).toEqual([
      "spans_failures_idx",
      "spans_job_id_idx",
      "spans_operation_failures_idx",
      "spans_operation_idx",
      "spans_pkey",
      "spans_request_id_idx",
      "spans_roots_idx",
      "spans_started_at_idx",
      "spans_trace_id_idx",
    ]);
  });

  it("--partitioned --days 3: daily partitions around now and a default, indexes on the parent, idempotently; refuses a plain table", async () => {
    const e = env({ DATABASE_URL: TEST_DATABASE_URL!, TRACE_DOCTOR_TABLE: `${schema}.parted` });
    for (let i = 0; i < 2; i++) {
      const { stderr } = await run(process.execPath, [SERVER, "init-db", "--partitioned", "--days", "3"], { env: e });
      expect(stderr).toMatch(/partitioned by day \(7 daily partitions and a default\)/);
    }
    const kind = await admin.query(`SELECT relkind::text AS k FROM pg_class WHERE oid = to_regclass($1)`, [`${schema}.parted`]);
    expect(kind.rows[0].k).toBe("p");
    const parts = await admin.query(`SELECT inhrelid::regclass::text AS p FROM pg_inherits WHERE inhparent = to_regclass($1) ORDER BY 1`, [`${schema}.parted`]);
    const today = new Date().toISOString().slice(0, 10).replace(/-/g, "");
    expect(parts.rows.map((r) => r.p)).toContain(`${schema}.parted_p${today}`);
    expect(parts.rows.map((r) => r.p)).toContain(`${schema}.parted_default`);
    const err = (await run(process.execPath, [SERVER, "init-db", "--partitioned"], { env: { ...e, TRACE_DOCTOR_TABLE: `${schema}.spans` } }).catch((x: unknown) => x)) as {
      code: number;
      stderr: string;
    };
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/exists and is not partitioned/);
  });

  it("--partitioned --partman: pg_partman creates the daily partitions (when the extension is installed)", async (ctx) => {
    const available = await admin.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'pg_partman'`);
    if (!available.rows.length) {
      // CI installs it (.ci/run): there a missing extension is a failure, not a skip.
      if (process.env.CI === "true") throw new Error("pg_partman is not installed on this Postgres: apt-get install postgresql-15-partman (.ci/run does)");
      process.stderr.write("[tests] pg_partman is not installed on this Postgres (apt-get install postgresql-15-partman): --partman not tested\n");
      ctx.skip();
    }
    const e = env({ DATABASE_URL: TEST_DATABASE_URL!, TRACE_DOCTOR_TABLE: `${schema}.managed` });
    for (let i = 0; i < 2; i++) {
      const { stderr } = await run(process.execPath, [SERVER, "init-db", "--partitioned", "--partman", "--days", "2"], { env: e });
      expect(stderr).toMatch(/pg_partman manages/);
    }
    const parts = await admin.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = to_regclass($1)`, [`${schema}.managed`]);
    expect(parts.rows[0].n).toBeGreaterThanOrEqual(6);
    await admin.query(`DELETE FROM partman.part_config WHERE parent_table = $1`, [`${schema}.managed`]);
  });
});
