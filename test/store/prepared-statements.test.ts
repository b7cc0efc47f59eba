// Which statements the Postgres adapter keeps prepared on its connections: a text that recurs (the
// code's own shapes), not one seen once — a statement that inlines a time window is a new text on
// every call, and prepared, each would stay on its connection for as long as the connection lives.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresDatabase } from "../../src/store/postgres.js";
import { requirePostgresOrSkip, TEST_DATABASE_URL } from "../support/test-databases.js";

const ready = await requirePostgresOrSkip();

describe.runIf(ready)("prepared statements on Postgres", () => {
  // One connection, so the statements listed are those the calls left on it.
  let db: PostgresDatabase;
  beforeAll(() => {
    db = new PostgresDatabase(TEST_DATABASE_URL!, { statementTimeoutMs: 5000, poolMax: 1 });
  });
  afterAll(() => db?.close());
  const prepared = async () => (await db.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements")).map((r) => r.statement);

  it("prepares a statement text the second time it runs, and never one run once", async () => {
    const tag = `${Date.now()}_${Math.random().toString(36).slice(2)}`;
    const once = (i: number) => `SELECT ${i} AS once_${tag} WHERE now() > '2020-01-01'::timestamptz`;
    for (let i = 0; i < 5; i++) expect(await db.query(once(i))).toHaveLength(1);
    const recurring = `SELECT $1::int AS recurring_${tag}`;
    for (let i = 0; i < 3; i++) expect(await db.query(recurring, [i])).toEqual([{ [`recurring_${tag}`]: i }]);
    const statements = await prepared();
    expect(statements.filter((s) => s.includes(`once_${tag}`))).toEqual([]);
    expect(statements.filter((s) => s.includes(`recurring_${tag}`))).toHaveLength(1);
  });
});
