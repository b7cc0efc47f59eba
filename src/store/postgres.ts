// The Postgres adapter: a pg pool whose connections are read-only with a statement timeout from the
// moment they open (set once per connection, at connect), so each statement is one message batch and
// one round trip, through the extended protocol, so only one statement can run. Only reads are sent:
// a statement that could change the session (SET, set_config, a transaction command) is refused
// before it leaves, so no statement can lift what the connection was opened with for the ones after
// it. Calls queue for a connection within their request's deadline (a full pool reads as "busy", never
// as "unreachable"), and a cancelled or overdue call stops its statement in Postgres.

import { createHash } from "node:crypto";
import pg from "pg";
import { BusyError, CancelledError } from "../errors.js";
import { currentScope, stoppedError, type RequestScope } from "../request-scope.js";
import { assertParametersUsed, assertReadStatement, DatabaseError, redactUrl, type ReadOnlyDatabase, type Row } from "./database.js";

export interface PostgresOptions {
  statementTimeoutMs: number;
  poolMax?: number;
  connectTimeoutMs?: number;
  /** How the server's sessions show in pg_stat_activity. */
  applicationName?: string;
}

export const APPLICATION_NAME = "trace-doctor";
/** Memory a sort or hash may use per statement before spilling to disk. */
const WORK_MEM = "32MB";

/** Texts run once so far: named (prepared) only when they come again. */
const seenOnce = new Set<string>();
const names = new Map<string, string>();
/**
 * A stable name for a statement text that recurs, for pg's per-connection prepared statements; none
 * for a text seen for the first time. Statements that inline a time window (so that Postgres prunes
 * partitions when it plans them) are new texts on every call: named, each would stay prepared on its
 * connection for as long as the connection lives.
 */
function statementName(text: string): string | undefined {
  let name = names.get(text);
  if (name) return name;
  if (!seenOnce.has(text)) {
    if (seenOnce.size >= 2000) seenOnce.clear();
    seenOnce.add(text);
    return undefined;
  }
  seenOnce.delete(text);
  name = `td_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
  // The texts are the code's own shapes, but filters make variants: keep the map bounded (a text named
  // again gets the same name, which its connections may hold already).
  if (names.size >= 2000) names.clear();
  names.set(text, name);
  return name;
}

export class PostgresDatabase implements ReadOnlyDatabase {
  readonly label: string;
  private readonly pool: pg.Pool;
  private readonly slots: ConnectionSlots;

  constructor(
    private readonly url: string,
    private readonly options: PostgresOptions,
  ) {
    this.label = `Postgres at ${describeHost(url)}`;
    const timeout = Math.max(1, Math.floor(options.statementTimeoutMs));
    const poolMax = options.poolMax ?? 4;
    this.pool = new pg.Pool({
      connectionString: url,
      max: poolMax,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      application_name: options.applicationName ?? APPLICATION_NAME,
      // Session defaults set at connect: every transaction is read-only and every statement bounded.
      // work_mem: grouping a day of failures must hash in memory, not spill (Postgres' 4 MB default does).
      options: `-c default_transaction_read_only=on -c statement_timeout=${timeout} -c work_mem=${WORK_MEM}`,
    });
    // An idle client dropped by the server must not crash the process.
    this.pool.on("error", () => {});
    this.slots = new ConnectionSlots(poolMax);
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    assertReadStatement(sql);
    assertParametersUsed(sql, params.length);
    const scope = currentScope();
    const release = await this.slots.acquire(scope, this.options.poolMax ?? 4);
    try {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw new DatabaseError(`Cannot connect to ${this.label}: ${messageOf(err)}. Check DATABASE_URL and that the database is reachable.`, "connection");
      }
      let broken = false;
      let stopped = false;
      const stop = () => {
        stopped = true;
        void this.cancelBackend((client as pg.PoolClient & { processID?: number }).processID);
      };
      scope?.signal.addEventListener("abort", stop, { once: true });
      try {
        if (scope?.signal.aborted) throw stoppedError(scope);
        // Named statements are parsed once per connection and may keep a plan: the same shapes recur.
        const run = (text: string, values: unknown[] = []) => {
          const name = statementName(text);
          return client.query({ text, values, ...(name ? { name } : {}), queryMode: "extended" } as pg.QueryConfig);
        };
        const result = await run(sql, [...params]);
        scope?.step("database");
        return result.rows as T[];
      } catch (err) {
        if (scope && (stopped || scope.signal.aborted)) throw stoppedError(scope);
        const translated = translateError(err, this.options.statementTimeoutMs);
        broken = translated instanceof DatabaseError && translated.reason === "connection";
        throw translated;
      } finally {
        scope?.signal.removeEventListener("abort", stop);
        client.release(broken);
      }
    } finally {
      release();
    }
  }

  idleConnections(): number {
    return this.slots.idle;
  }

  /** Stops a running statement from a connection of its own: the pooled one is busy running it. */
  private async cancelBackend(pid: number | undefined): Promise<void> {
    if (!pid) return;
    const client = new pg.Client({ connectionString: this.url, application_name: `${this.options.applicationName ?? APPLICATION_NAME}-cancel`, connectionTimeoutMillis: 3000 });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("SELECT pg_cancel_backend($1)", [pid]);
    } catch {
      // The statement timeout still bounds it.
    } finally {
      await client.end().catch(() => {});
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/**
 * A FIFO of calls waiting for one of the pool's connections. A call waits as long as its request's
 * deadline allows, then gets a BusyError that says how long to wait, and leaves the queue; a cancelled
 * call leaves at once. Without this, the pool's own connect timeout would make a full pool look like
 * a database that cannot be reached.
 */
export class ConnectionSlots {
  private free: number;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Slots free with nobody waiting. */
  get idle(): number {
    return this.waiting.length ? 0 : this.free;
  }

  acquire(scope: RequestScope | undefined, poolMax: number): Promise<() => void> {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next.grant();
      else this.free++;
    };
    if (this.free > 0 && !this.waiting.length) {
      this.free--;
      return Promise.resolve(release);
    }
    if (scope?.signal.aborted) return Promise.reject(stoppedError(scope));
    const ahead = this.waiting.length;
    const startedMs = Date.now();
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          cleanup();
          resolve(release);
        },
      };
      const leave = (err: Error) => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        cleanup();
        reject(err);
      };
      // The deadline passing while queued is the server being busy, not the query being slow.
      const onAbort = () => leave(scope && Date.now() >= scope.deadlineMs - 5 ? busy(ahead, poolMax, Date.now() - startedMs) : new CancelledError());
      const cleanup = () => scope?.signal.removeEventListener("abort", onAbort);
      scope?.signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(entry);
    });
  }
}

function busy(ahead: number, poolMax: number, waitedMs: number): BusyError {
  const retryAfterMs = Math.min(30_000, Math.max(1000, Math.round(waitedMs / 2)));
  return new BusyError(
    `trace-doctor is busy: this call waited ${Math.round(waitedMs)} ms behind ${ahead} other(s) for one of its ${poolMax} database connections (TRACE_DOCTOR_POOL_MAX) and ran out of time. The database itself is fine. Try again in about ${Math.ceil(retryAfterMs / 1000)} s, send fewer calls at once, or raise TRACE_DOCTOR_POOL_MAX.`,
    retryAfterMs,
  );
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
  if (code === "42883" || code === "42804") {
    return new DatabaseError(
      `A column of the span table has a type the contract does not allow (${message}). The table contract (trace-doctor://table-contract, schema.sql) says which types each column may have.`,
      "query",
    );
  }
  if (code?.startsWith("08") || code === "57P01" || code === "3D000" || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|ECONNRESET|terminat|Connection terminated/i.test(message)) {
    return new DatabaseError(`Lost the database connection: ${message}. Check that the database is up; the server keeps running.`, "connection");
  }
  return new DatabaseError(`Database error${code ? ` ${code}` : ""}: ${message}`, "query");
}
