// The databases integration tests run against: an in-memory PGlite always, and a real Postgres
// from TEST_DATABASE_URL. Each suite gets its own schema, so test files can run in parallel.
// With CI=true a missing or unreachable Postgres fails the run instead of skipping.

import pg from "pg";
import { PgliteDatabase } from "../../src/store/pglite.js";
import { PostgresDatabase } from "../../src/store/postgres.js";
import type { ReadOnlyDatabase } from "../../src/store/database.js";
import type { SqlExecutor } from "../../src/store/span-writer.js";

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? (process.env.CI === "true" ? "postgres://postgres@127.0.0.1:5432/test" : undefined);

export interface TestDatabase {
  name: "pglite" | "postgres";
  /** Writes fixtures (tests only). */
  writer: SqlExecutor;
  /** The read-only adapter the tools use. */
  reader: ReadOnlyDatabase;
  /** Schema-qualified table name to use for this suite. */
  table(name?: string): string;
  schema: string;
  close(): Promise<void>;
}

let postgresProbe: Promise<string | null> | null = null;

/** Null when Postgres can be used; otherwise why not. */
export function postgresUnavailable(): Promise<string | null> {
  postgresProbe ??= (async () => {
    if (!TEST_DATABASE_URL) return "TEST_DATABASE_URL is not set";
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return null;
    } catch (err) {
      return `cannot reach ${TEST_DATABASE_URL}: ${(err as Error).message}`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return postgresProbe;
}

/** In CI a missing Postgres is a failure, never a silent skip. */
export async function requirePostgresOrSkip(): Promise<boolean> {
  const why = await postgresUnavailable();
  if (!why) return true;
  if (process.env.CI === "true") throw new Error(`CI=true but Postgres is unavailable (${why}): Postgres tests cannot be skipped in CI.`);
  process.stderr.write(`[tests] skipping Postgres suites: ${why}\n`);
  return false;
}

function uniqueSchema(): string {
  return `td_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

export async function openPglite(statementTimeoutMs = 5000): Promise<TestDatabase> {
  const reader = await PgliteDatabase.open(undefined, statementTimeoutMs);
  const schema = uniqueSchema();
  await reader.db.query(`CREATE SCHEMA ${schema}`);
  return {
    name: "pglite",
    writer: reader.db,
    reader,
    schema,
    table: (name = "trace_spans") => `${schema}.${name}`,
    close: () => reader.close(),
  };
}

export async function openPostgres(statementTimeoutMs = 5000): Promise<TestDatabase> {
  const url = TEST_DATABASE_URL!;
  const writer = new pg.Pool({ connectionString: url, max: 2 });
  const schema = uniqueSchema();
  await writer.query(`CREATE SCHEMA ${schema}`);
  const reader = new PostgresDatabase(url, { statementTimeoutMs });
  return {
    name: "postgres",
    writer,
    reader,
    schema,
    table: (name = "trace_spans") => `${schema}.${name}`,
    close: async () => {
      await reader.close();
      await writer.query(`DROP SCHEMA ${schema} CASCADE`);
      await writer.end();
    },
  };
}

/** The backends a suite should run on: PGlite always, Postgres when available (required in CI). */
export async function backends(): Promise<Array<{ name: "pglite" | "postgres"; open: (timeoutMs?: number) => Promise<TestDatabase> }>> {
  const list: Array<{ name: "pglite" | "postgres"; open: (timeoutMs?: number) => Promise<TestDatabase> }> = [{ name: "pglite", open: openPglite }];
  if (await requirePostgresOrSkip()) list.push({ name: "postgres", open: openPostgres });
  return list;
}
