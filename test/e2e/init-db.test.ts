// `trace-doctor init-db`, the only command that writes: it creates the table and every index from
// schema.sql in DATABASE_URL, twice without complaint, and refuses to run without DATABASE_URL.

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
      "spans_operation_idx",
      "spans_pkey",
      "spans_request_id_idx",
      "spans_roots_idx",
      "spans_started_at_idx",
      "spans_trace_id_idx",
    ]);
  });
});
