// The embedded adapter: PGlite (Postgres compiled to WebAssembly) in a data directory or in memory.
// Queries run the same way as on Postgres: one statement, in a read-only transaction.

import { PGlite } from "@electric-sql/pglite";
import type { ReadOnlyDatabase, Row } from "./database.js";
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
    try {
      return await this.db.transaction(async (tx) => {
        await tx.query("SET TRANSACTION READ ONLY");
        await tx.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(this.statementTimeoutMs))}`);
        const result = await tx.query<T>(sql, [...params]);
        return result.rows;
      });
    } catch (err) {
      throw translateError(err, this.statementTimeoutMs);
    }
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
