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
    ).rejects.toThrow(/read-only transaction/);
    await expect(db.reader.query(`CREATE TABLE ${db.schema}.evil (x int)`)).rejects.toThrow(/read-only transaction/);
  });

  it("cannot escape the read-only transaction", async () => {
    await expect(db.reader.query("COMMIT; INSERT INTO x VALUES (1)")).rejects.toThrow();
    // Postgres refuses this outright; PGlite accepts it, but as the only statement it can switch nothing.
    await db.reader.query("SET TRANSACTION READ WRITE").catch(() => []);
    await db.reader.query("SET default_transaction_read_only = off").catch(() => []);
    await expect(
      db.reader.query(`INSERT INTO ${db.table()} (trace_id, span_id, service, operation, started_at, status) VALUES ('t','s','x','y',now(),'started')`),
    ).rejects.toThrow(/read-only transaction/);
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
