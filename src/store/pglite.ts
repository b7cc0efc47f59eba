// The embedded adapter: PGlite (Postgres compiled to WebAssembly) in a data directory or in memory.
// Queries run the same way as on Postgres: one statement, in a read-only transaction. PGlite runs in
// this process and cannot be interrupted, so a cancelled or overdue request stops between statements.

import { PGlite } from "@electric-sql/pglite";
import { currentScope, throwIfStopped } from "../request-scope.js";
import { assertParametersUsed, assertReadStatement, type ReadOnlyDatabase, type Row } from "./database.js";
import { translateError } from "./postgres.js";

export class PgliteDatabase implements ReadOnlyDatabase {
  private constructor(
    readonly db: PGlite,
    readonly label: string,
    private readonly statementTimeoutMs: number,
  ) {}

  /** dataDir undefined means in memory. */
  static async open(dataDir: string | undefined, statementTimeoutMs = 5000): Promise<PgliteDatabase> {
    const db = dataDir ? new PGlite(dataDir) : new PGlite();
    await db.waitReady;
    return new PgliteDatabase(db, dataDir ? `embedded PGlite database at ${dataDir}` : "embedded in-memory PGlite database", statementTimeoutMs);
  }

  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    assertReadStatement(sql);
    assertParametersUsed(sql, params.length);
    const scope = currentScope();
    throwIfStopped(scope);
    try {
      const rows = await this.db.transaction(async (tx) => {
        await tx.query("SET TRANSACTION READ ONLY");
        await tx.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(this.statementTimeoutMs))}`);
        const result = await tx.query<T>(sql, [...params]);
        return result.rows;
      });
      scope?.step("database");
      return rows;
    } catch (err) {
      throw translateError(err, this.statementTimeoutMs);
    }
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
