// The safety rules, on the real databases: the tools' adapter cannot write, runs one statement,
// and stops a slow query at the statement timeout. Identifiers from configuration are validated.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applySchema } from "../../src/store/span-writer.js";
import { SpanTable } from "../../src/store/span-table.js";
import { quoteTableName } from "../../src/store/span-columns.js";
import { redactUrl } from "../../src/store/database.js";
import { backends, type TestDatabase } from "../support/test-databases.js";

describe.each(await backends())("read-only adapter on $name", ({ name, open }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await open(300);
    await applySchema(db.writer, db.table());
  });
  afterAll(() => db?.close());

  it("refuses writes", async () => {
    await expect(
      db.reader.query(`INSERT INTO ${db.table()} (trace_id, span_id, service, operation, started_at, status) VALUES ('t','s','x','y',now(),'started')`),
    ).rejects.toThrow(/not a plain read/);
    await expect(db.reader.query(`CREATE TABLE ${db.schema}.evil (x int)`)).rejects.toThrow(/not a plain read/);
    // A write that reads like a query still meets the read-only transaction in the database itself.
    await expect(
      db.reader.query(
        `WITH w AS (INSERT INTO ${db.table()} (trace_id, span_id, service, operation, started_at, status) VALUES ('t','s','x','y',now(),'started') RETURNING 1) SELECT * FROM w`,
      ),
    ).rejects.toThrow(/read-only transaction/);
  });

  it("cannot lift read-only for the statements after it", async () => {
    await expect(db.reader.query("COMMIT; INSERT INTO x VALUES (1)")).rejects.toThrow();
    for (const escape of [
      "SET TRANSACTION READ WRITE",
      "SET default_transaction_read_only = off",
      "RESET ALL",
      "BEGIN READ WRITE",
      "/* a comment first */ SET statement_timeout = 0",
      "SELECT set_config('default_transaction_read_only', 'off', false)",
      `select pg_catalog."set_config" ('statement_timeout', '0', false)`,
    ]) {
      await expect(db.reader.query(escape), escape).rejects.toThrow(/not a plain read/);
    }
    await expect(
      db.reader.query(`INSERT INTO ${db.table()} (trace_id, span_id, service, operation, started_at, status) VALUES ('t','s','x','y',now(),'started')`),
    ).rejects.toThrow(/not a plain read/);
    // Every statement of every pooled connection still runs read-only, bounded by the statement timeout.
    const settings = await Promise.all(
      Array.from({ length: 6 }, () => db.reader.query<{ ro: string; timeout: string }>("SELECT current_setting('transaction_read_only') AS ro, current_setting('statement_timeout') AS timeout")),
    );
    for (const [row] of settings) expect(row).toMatchObject({ ro: "on" });
    if (name === "postgres") for (const [row] of settings) expect(row!.timeout).not.toBe("0");
  });

  it("refuses, saying which, a statement sent with a parameter it never uses or refers to one it is not sent", async () => {
    await expect(db.reader.query("SELECT $1::int AS a", [1, 2])).rejects.toThrow(/built with 2 parameter\(s\) but never uses \$2/);
    await expect(db.reader.query("SELECT $1::int + $3::int AS a", [1, 2, 3])).rejects.toThrow(/never uses \$2/);
    await expect(db.reader.query("SELECT $2::int AS a", [1, 2])).rejects.toThrow(/never uses \$1/);
    await expect(db.reader.query("SELECT $1::int + $2::int AS a", [1])).rejects.toThrow(/refers to \$2/);
    expect(await db.reader.query("SELECT $1::int + $2::int AS a, $1::int AS b", [1, 2])).toEqual([{ a: 3, b: 1 }]);
  });

  it("runs one statement only", async () => {
    await expect(db.reader.query("SELECT 1; SELECT 2")).rejects.toThrow(/multiple commands|cannot insert multiple/i);
  });

  // PGlite runs in this thread and has no timer to cancel with, so the timeout is Postgres's alone.
  if (name === "postgres") it("cancels a query at the statement timeout with an actionable message", async () => {
    await expect(db.reader.query("SELECT pg_sleep(2)")).rejects.toThrow(/cancelled after 300 ms .*TRACE_DOCTOR_STATEMENT_TIMEOUT_MS/);
    // and the pool still works afterwards
    expect(await db.reader.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
  });
});

describe("identifiers from configuration", () => {
  it.each([["trace_spans", '"trace_spans"'], ["tracing.trace_spans", '"tracing"."trace_spans"'], ["Spans_2", '"Spans_2"']])(
    "quotes %s",
    (table, quoted) => expect(quoteTableName(table)).toBe(quoted),
  );
  it.each(["trace_spans; DROP TABLE x", 'a"b', "a.b.c", "", "1abc", "spans--"])("rejects table name %j", (table) => {
    expect(() => quoteTableName(table)).toThrow(/Invalid table name/);
  });
  it.each(["job_id'; --", "a b", ""])("rejects correlation key %j", (key) => {
    expect(() => new SpanTable({ query: async () => [], close: async () => {}, label: "x" }, "trace_spans", [key])).toThrow(/Invalid correlation key/);
  });
  it("hides passwords in connection strings", () => {
    expect(redactUrl("postgres://user:s3cret@db.example:5432/app")).toBe("postgres://user:***@db.example:5432/app");
    expect(redactUrl("postgres://user:s3cret@db.example:5432/app")).not.toContain("s3cret");
  });
});
