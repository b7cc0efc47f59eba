// The narrow interface every tool reads through: one parameterised statement, in a read-only
// transaction, under a statement timeout. Postgres (pg) and the embedded demo (PGlite) implement it.

import { TraceDoctorError } from "../errors.js";

export type Row = Record<string, unknown>;

export interface ReadOnlyDatabase {
  /** Runs exactly one statement, read-only, with the configured statement timeout. */
  query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Connections free right now with no call waiting for one: room for reads started ahead of need. None when absent. */
  idleConnections?(): number;
  close(): Promise<void>;
  /** Where the data lives, for messages: never carries a password. */
  readonly label: string;
}

export type DatabaseFailure = "timeout" | "connection" | "missing_table" | "missing_column" | "wrong_type" | "query" | "busy";

/** A database error already phrased for a model: what happened and what to do next. */
export class DatabaseError extends TraceDoctorError {
  constructor(
    message: string,
    readonly reason: DatabaseFailure,
  ) {
    super(message, reason === "timeout" ? "timeout" : reason === "busy" ? "busy" : "database");
  }
}

/** A connection string with its password removed, safe to print. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}

/** A read: SELECT, WITH, VALUES, TABLE, EXPLAIN or SHOW first, and no call that sets a session setting. */
const READ_STATEMENT = /^\s*(?:\(\s*)*(?:select|with|values|table|explain|show)\b/i;
const SETS_SESSION = /\bset_config"?\s*\(/i;

/** Refuses, before it is sent, a statement that could change the session for the statements after it. */
export function assertReadStatement(sql: string): void {
  const body = sql.replace(/^(?:\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*/, "");
  if (!READ_STATEMENT.test(body) || SETS_SESSION.test(body)) {
    throw new DatabaseError(`Refused a statement that is not a plain read (${JSON.stringify(body.slice(0, 40))}…): this connection runs reads only.`, "query");
  }
}

/** The parameters each statement text refers to ($1, $2…): texts recur, so each is read once. */
const referenced = new Map<string, ReadonlySet<number>>();

/**
 * Refuses a statement sent with a parameter its text never uses, or referring to one it is not sent:
 * a mistake in building the statement. (Postgres cannot type an unused parameter and fails the call
 * with 42P18; PGlite lets it pass, so tests on the demo database would not see it.)
 */
export function assertParametersUsed(sql: string, count: number): void {
  let used = referenced.get(sql);
  if (!used) {
    used = new Set(Array.from(sql.matchAll(/\$(\d+)/g), (m) => Number(m[1])));
    if (referenced.size >= 512) referenced.clear();
    referenced.set(sql, used);
  }
  const unused = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !used.has(i));
  const unsent = [...used].filter((i) => i > count);
  if (unused.length || unsent.length) {
    const what = unused.length ? `never uses ${unused.map((i) => `$${i}`).join(", ")}` : `refers to ${unsent.map((i) => `$${i}`).join(", ")}`;
    throw new DatabaseError(
      `Internal error: a statement was built with ${count} parameter(s) but ${what} (${JSON.stringify(sql.slice(0, 60))}…). Please report it; the server keeps running.`,
      "query",
    );
  }
}
