// The Postgres adapter: a pg pool where every query runs in its own READ ONLY transaction with
// SET LOCAL statement_timeout, through the extended protocol so only one statement can run.

import pg from "pg";
import { DatabaseError, redactUrl, type ReadOnlyDatabase, type Row } from "./database.js";

export interface PostgresOptions {
  statementTimeoutMs: number;
  poolMax?: number;
  connectTimeoutMs?: number;
}

export class PostgresDatabase implements ReadOnlyDatabase {
  readonly label: string;
  private readonly pool: pg.Pool;

  constructor(
    url: string,
    private readonly options: PostgresOptions,
  ) {
    this.label = `Postgres at ${describeHost(url)}`;
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolMax ?? 4,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      application_name: "trace-doctor",
    });
    // An idle client dropped by the server must not crash the process.
    this.pool.on("error", () => {});
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw new DatabaseError(
        `Cannot connect to ${this.label}: ${messageOf(err)}. Check DATABASE_URL and that the database is reachable.`,
        "connection",
      );
    }
    try {
      const timeout = Math.max(1, Math.floor(this.options.statementTimeoutMs));
      await client.query(`BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = ${timeout}`);
      const result = await client.query({ text: sql, values: [...params], queryMode: "extended" } as pg.QueryConfig);
      await client.query("COMMIT");
      return result.rows as T[];
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw translateError(err, this.options.statementTimeoutMs);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function describeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ""}${u.pathname}`;
  } catch {
    return redactUrl(url);
  }
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Postgres error codes worth a sentence of their own. */
export function translateError(err: unknown, timeoutMs: number): Error {
  const code = (err as { code?: string }).code;
  const message = messageOf(err);
  if (code === "57014") {
    return new DatabaseError(
      `The query was cancelled after ${timeoutMs} ms (statement timeout). Narrow the request (a shorter time window, a trace_id) or raise TRACE_DOCTOR_STATEMENT_TIMEOUT_MS.`,
      "timeout",
    );
  }
  if (code === "42P01") return new DatabaseError(`Table not found: ${message}. Set TRACE_DOCTOR_TABLE, or run \`trace-doctor init-db\`.`, "missing_table");
  if (code === "42703") return new DatabaseError(`Column not found: ${message}. The table does not follow the trace_spans contract (see schema.sql).`, "missing_column");
  if (code?.startsWith("08") || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|terminat/i.test(message)) {
    return new DatabaseError(`Lost the database connection: ${message}. Check that the database is up; the server keeps running.`, "connection");
  }
  return new DatabaseError(`Database error${code ? ` ${code}` : ""}: ${message}`, "query");
}
