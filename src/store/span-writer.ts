// The only code that writes: applying schema.sql (init-db, the demo, tests) and bulk-inserting
// spans (the demo dataset, test fixtures, the scale generator). The tools never call it.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { quoteTableName, splitTableName } from "./span-sql.js";

/** Anything that can run a parameterised statement: a pg Pool or Client, or PGlite. */
export interface SqlExecutor {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export const SCHEMA_PATH = fileURLToPath(new URL("../../schema.sql", import.meta.url));

/** schema.sql, with the table (and its index names) renamed, plus an index per extra correlation key. */
export function schemaSql(table = "trace_spans", correlationKeys: readonly string[] = ["job_id"]): string {
  const { name } = splitTableName(table);
  let sql = readFileSync(SCHEMA_PATH, "utf8")
    .replace(/\btrace_spans_(\w+)_idx\b/g, (_, what: string) => `"${name}_${what}_idx"`)
    .replace(/\btrace_spans\b/g, quoteTableName(table));
  for (const key of correlationKeys) {
    if (key === "job_id") continue;
    sql += `\nCREATE INDEX IF NOT EXISTS "${name}_${key.replace(/\W/g, "_")}_idx" ON ${quoteTableName(table)} ((metadata->>'${key}'));\n`;
  }
  return sql;
}

/** Splits schema SQL into statements (it has no functions or quoted semicolons). */
export function schemaStatements(sql: string): string[] {
  return sql
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n")
    .split(";")
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function applySchema(db: SqlExecutor, table?: string, correlationKeys?: readonly string[]): Promise<void> {
  for (const statement of schemaStatements(schemaSql(table, correlationKeys))) await db.query(statement);
}

export interface SpanRowInput {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  service: string;
  operation: string;
  started_at: string;
  completed_at: string | null;
  duration_ms: number | null;
  status: string;
  error_message: string | null;
  metadata: Record<string, unknown>;
}

/**
 * Inserts rows in batches through jsonb_to_recordset: one parameter per batch, and the column types
 * come from the target table, so the same call fills text, uuid or float variants of the contract.
 */
export async function insertSpans(db: SqlExecutor, rows: readonly SpanRowInput[], table = "trace_spans", batchSize = 2000): Promise<void> {
  const target = quoteTableName(table);
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = rows.slice(i, i + batchSize);
    await db.query(
      `INSERT INTO ${target} (trace_id, span_id, parent_span_id, service, operation, started_at, completed_at, duration_ms, status, error_message, metadata)
       SELECT r.trace_id, r.span_id, r.parent_span_id, r.service, r.operation, r.started_at, r.completed_at, r.duration_ms, r.status, r.error_message, r.metadata
       FROM jsonb_populate_recordset(NULL::${target}, $1::jsonb) AS r`,
      [JSON.stringify(batch)],
    );
  }
}
