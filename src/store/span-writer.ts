// The only code that writes: applying schema.sql (init-db, the demo, tests) and bulk-inserting
// spans (the demo dataset, test fixtures, the scale generator). The tools never call it.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { actualColumn, CONTRACT_COLUMNS, quoteTableName, splitTableName, type ColumnMapping, type ContractColumn } from "./span-columns.js";

/** Anything that can run a parameterised statement: a pg Pool or Client, or PGlite. */
export interface SqlExecutor {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export const SCHEMA_PATH = fileURLToPath(new URL("../../schema.sql", import.meta.url));

/**
 * schema.sql, with the table (and its index names) renamed, its columns named as TRACE_DOCTOR_COLUMNS
 * says, plus an index per extra correlation key.
 */
export function schemaSql(table = "trace_spans", correlationKeys: readonly string[] = ["job_id"], columns: ColumnMapping = {}): string {
  const { name } = splitTableName(table);
  let sql = readFileSync(SCHEMA_PATH, "utf8")
    .replace(/\btrace_spans_(\w+)_idx\b/g, (_, what: string) => `"${name}_${what}_idx"`)
    .replace(/\btrace_spans\b/g, quoteTableName(table));
  for (const c of CONTRACT_COLUMNS) {
    if (columns[c] !== undefined) sql = sql.replace(new RegExp(`\\b${c}\\b`, "g"), `"${actualColumn(columns, c)}"`);
  }
  const metadata = `"${actualColumn(columns, "metadata")}"`;
  for (const key of correlationKeys) {
    if (key === "job_id") continue;
    sql += `\nCREATE INDEX IF NOT EXISTS "${name}_${key.replace(/\W/g, "_")}_idx" ON ${quoteTableName(table)} ((${metadata}->>'${key}'));\n`;
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

export async function applySchema(db: SqlExecutor, table?: string, correlationKeys?: readonly string[], columns?: ColumnMapping): Promise<void> {
  for (const statement of schemaStatements(schemaSql(table, correlationKeys, columns))) await db.query(statement);
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
 * Inserts rows in batches through jsonb_populate_recordset: one parameter per batch, and the column
 * types come from the target table, so the same call fills text, uuid or float variants of the
 * contract, and tables whose columns are named otherwise (`columns`).
 */
export interface InsertOptions {
  batchSize?: number;
  /** The table's own column names, as TRACE_DOCTOR_COLUMNS gives them. */
  columns?: ColumnMapping;
  /** Contract columns the table does not have (e.g. duration_ms). */
  omit?: readonly ContractColumn[];
}

export async function insertSpans(db: SqlExecutor, rows: readonly SpanRowInput[], table = "trace_spans", options: InsertOptions = {}): Promise<void> {
  const target = quoteTableName(table);
  const batchSize = options.batchSize ?? 2000;
  const contract = CONTRACT_COLUMNS.filter((c) => !options.omit?.includes(c));
  const names = contract.map((c) => actualColumn(options.columns ?? {}, c));
  const renamed = contract.length !== CONTRACT_COLUMNS.length || names.some((n, i) => n !== contract[i]);
  const list = names.map((n) => `"${n}"`).join(", ");
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = rows.slice(i, i + batchSize);
    const json = renamed ? batch.map((r) => Object.fromEntries(contract.map((c, j) => [names[j], r[c]]))) : batch;
    await db.query(
      `INSERT INTO ${target} (${list})
       SELECT ${names.map((n) => `r."${n}"`).join(", ")}
       FROM jsonb_populate_recordset(NULL::${target}, $1::jsonb) AS r`,
      [JSON.stringify(json)],
    );
  }
}
