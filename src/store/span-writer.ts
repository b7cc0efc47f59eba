// The only code that writes: applying schema.sql (init-db, the demo, tests) — plain, or partitioned by
// day on started_at (our own daily partitions, or pg_partman's) — and bulk-inserting spans (the demo
// dataset, test fixtures, the scale generator). The tools never call it.

import { readFileSync } from "node:fs";
import { packageFile } from "../package-files.js";
import { actualColumn, CONTRACT_COLUMNS, quoteTableName, splitTableName, type ColumnMapping, type ContractColumn } from "./span-columns.js";

/** Anything that can run a parameterised statement: a pg Pool or Client, or PGlite. */
export interface SqlExecutor {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

export const SCHEMA_PATH = packageFile("schema.sql");

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

/**
 * schema.sql as a table partitioned by range of started_at: the primary key must hold the partition
 * key, so it becomes (id, started_at); the indexes are created on the parent, so every partition
 * (present or future) gets them.
 */
export function partitionedSchemaSql(table = "trace_spans", correlationKeys: readonly string[] = ["job_id"], columns: ColumnMapping = {}): string {
  const plain = schemaSql(table, correlationKeys, {});
  const create = /(CREATE TABLE IF NOT EXISTS [^(]+\()([\s\S]*?)\n\);/.exec(plain);
  if (!create) throw new Error("schema.sql has no CREATE TABLE statement");
  const body = create[2]!.replace(/BIGSERIAL PRIMARY KEY/, "BIGSERIAL NOT NULL") + `,\n  PRIMARY KEY (id, started_at)`;
  let sql = plain.replace(create[0], `${create[1]}${body}\n) PARTITION BY RANGE (started_at);`);
  for (const c of CONTRACT_COLUMNS) {
    if (columns[c] !== undefined) sql = sql.replace(new RegExp(`\\b${c}\\b`, "g"), `"${actualColumn(columns, c)}"`);
  }
  return sql;
}

export interface PartitionOptions {
  /** Daily partitions for this many days up to today (UTC), today included. */
  days: number;
  /** And this many days after today, so inserts never wait for a partition to exist. */
  aheadDays?: number;
  now?: Date;
  /** Let pg_partman create and rotate the partitions (needs the extension installed on the server). */
  partman?: boolean;
}

const DAY = 86_400_000;
const dayStart = (ms: number) => Math.floor(ms / DAY) * DAY;
const ymd = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The daily partitions (UTC days) and the default partition that catches anything outside them. */
export function dailyPartitionStatements(table: string, options: PartitionOptions): string[] {
  const { schema, name } = splitTableName(table);
  const q = (n: string) => (schema ? `"${schema}"."${n}"` : `"${n}"`);
  const today = dayStart((options.now ?? new Date()).getTime());
  const out: string[] = [];
  for (let d = -(options.days - 1); d <= (options.aheadDays ?? 4); d++) {
    const from = today + d * DAY;
    out.push(
      `CREATE TABLE IF NOT EXISTS ${q(`${name}_p${ymd(from).replace(/-/g, "")}`)} PARTITION OF ${quoteTableName(table)} FOR VALUES FROM ('${ymd(from)} 00:00:00+00') TO ('${ymd(from + DAY)} 00:00:00+00')`,
    );
  }
  out.push(`CREATE TABLE IF NOT EXISTS ${q(`${name}_default`)} PARTITION OF ${quoteTableName(table)} DEFAULT`);
  return out;
}

/** How a table is stored: 'r' a plain table, 'p' partitioned, null absent. */
export async function relationKind(db: SqlExecutor, table: string): Promise<string | null> {
  const result = (await db.query(`SELECT c.relkind::text AS kind FROM pg_class c WHERE c.oid = to_regclass($1)`, [quoteTableName(table)])) as {
    rows?: Array<{ kind: string }>;
  };
  return result.rows?.[0]?.kind ?? null;
}

/**
 * Creates the table partitioned by day on started_at, its indexes on the parent, and the partitions:
 * daily ones around now plus a default (ours), or pg_partman's (create_parent, 'native', daily).
 * Idempotent; refuses a table that exists unpartitioned (it would have to be migrated, not altered).
 */
export async function applyPartitionedSchema(
  db: SqlExecutor,
  table = "trace_spans",
  correlationKeys: readonly string[] = ["job_id"],
  columns: ColumnMapping = {},
  options: PartitionOptions,
): Promise<{ partitions: string }> {
  const kind = await relationKind(db, table);
  if (kind !== null && kind !== "p") {
    throw new Error(
      `Table ${table} exists and is not partitioned. Partitioning an existing table means moving its rows: create the partitioned table under another name (TRACE_DOCTOR_TABLE), copy the rows over (INSERT INTO new SELECT * FROM old), then swap the names.`,
    );
  }
  for (const statement of schemaStatements(partitionedSchemaSql(table, correlationKeys, columns))) await db.query(statement);
  if (!options.partman) {
    const statements = dailyPartitionStatements(table, options);
    for (const statement of statements) await db.query(statement);
    return { partitions: `${statements.length - 1} daily partitions and a default` };
  }
  await db.query(`CREATE SCHEMA IF NOT EXISTS partman`);
  await db.query(`CREATE EXTENSION IF NOT EXISTS pg_partman SCHEMA partman`);
  const parent = (await db.query(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)`,
    [quoteTableName(table)],
  )) as { rows: Array<{ name: string }> };
  const parentName = parent.rows[0]!.name;
  const managed = (await db.query(`SELECT 1 FROM partman.part_config WHERE parent_table = $1`, [parentName])) as { rows: unknown[] };
  if (!managed.rows.length) {
    const start = ymd(dayStart((options.now ?? new Date()).getTime()) - (options.days - 1) * DAY);
    await db.query(
      `SELECT partman.create_parent(p_parent_table => $1, p_control => $2, p_type => 'native', p_interval => 'daily', p_premake => $3, p_start_partition => $4)`,
      [parentName, actualColumn(columns, "started_at"), options.aheadDays ?? 4, start],
    );
  }
  return { partitions: `pg_partman manages ${parentName} (daily; run partman.run_maintenance_proc() daily to add and retire partitions)` };
}

/** The indexes of a table other than its primary key, schema-qualified: a bulk load drops them first. */
export async function secondaryIndexes(db: SqlExecutor, table: string): Promise<string[]> {
  const result = (await db.query(
    `SELECT quote_ident(n.nspname) || '.' || quote_ident(i.relname) AS name
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace
      WHERE x.indrelid = to_regclass($1) AND NOT x.indisprimary ORDER BY i.relname`,
    [quoteTableName(table)],
  )) as { rows: Array<{ name: string }> };
  return result.rows.map((r) => r.name);
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
