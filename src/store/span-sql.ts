// The SQL vocabulary of one span table: which contract columns it has, under which names
// (TRACE_DOCTOR_COLUMNS), and the expressions that turn any variant of the contract (uuid ids, float
// or missing duration_ms, json/jsonb/text metadata, extra columns) into the normalised shape. Read once
// from the catalog; every identifier is validated and quoted, every value is a parameter.

import { DatabaseError, type ReadOnlyDatabase } from "./database.js";
import {
  actualColumn,
  CONTRACT_COLUMNS,
  quoteIdentifier,
  quoteTableName,
  REQUIRED_COLUMNS,
  validateMetadataKey,
  type ColumnMapping,
  type ContractColumn,
} from "./span-columns.js";

const TEXT = /^(text|character varying(\(\d+\))?|character(\(\d+\))?|varchar(\(\d+\))?|name|citext)$/;
const ID = new RegExp(`${TEXT.source}|^uuid$`);
const TIME = /^timestamp(\(\d\))? with(out)? time zone$/;
const NUMBER = /^(smallint|integer|bigint|real|double precision|numeric(\(\d+(,\d+)?\))?)$/;
const METADATA = new RegExp(`^(jsonb|json)$|${TEXT.source}`);

/** The types each contract column may have, and how to say so. */
const ALLOWED: Record<ContractColumn, { test: RegExp; expected: string }> = {
  trace_id: { test: ID, expected: "text, varchar or uuid" },
  span_id: { test: ID, expected: "text, varchar or uuid" },
  parent_span_id: { test: ID, expected: "text, varchar or uuid" },
  service: { test: TEXT, expected: "text or varchar" },
  operation: { test: TEXT, expected: "text or varchar" },
  started_at: { test: TIME, expected: "timestamptz (or timestamp, read as UTC)" },
  completed_at: { test: TIME, expected: "timestamptz (or timestamp, read as UTC)" },
  duration_ms: { test: NUMBER, expected: "a number type (integer, bigint, double precision, numeric)" },
  status: { test: TEXT, expected: "text or varchar" },
  error_message: { test: TEXT, expected: "text or varchar" },
  metadata: { test: METADATA, expected: "jsonb, json or text holding a JSON object" },
};

/** Statuses the product counts as failure; 'started' long past its time counts as unfinished. */
const FAILURE_STATUSES = "('failed', 'error', 'timeout')";

interface Column {
  /** Quoted actual name, safe to splice into SQL. */
  sql: string;
  type: string;
}

export class SpanSql {
  private constructor(
    readonly table: string,
    /** Quoted, schema-qualified name, safe to splice into SQL. */
    readonly from: string,
    private readonly columns: Map<ContractColumn, Column>,
    /** Declaratively partitioned (by started_at, as init-db --partitioned makes it): lookups without a time try recent partitions first. */
    readonly partitioned = false,
  ) {}

  static async read(db: ReadOnlyDatabase, table: string, mapping: ColumnMapping = {}): Promise<SpanSql> {
    const from = quoteTableName(table);
    const rows = await db.query<{ name: string; type: string; kind: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, c.relkind::text AS kind
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
      [from],
    );
    if (!rows.length) {
      throw new DatabaseError(
        `No table ${table} in ${db.label}. Set TRACE_DOCTOR_TABLE to the table holding your spans, or create it with \`trace-doctor init-db\` (schema.sql).`,
        "missing_table",
      );
    }
    const actual = new Map(rows.map((r) => [r.name, r.type]));
    const columns = new Map<ContractColumn, Column>();
    for (const c of CONTRACT_COLUMNS) {
      const name = actualColumn(mapping, c);
      const type = actual.get(name);
      if (type !== undefined) columns.set(c, { sql: quoteIdentifier(name), type });
      else if (mapping[c] !== undefined) {
        throw new DatabaseError(
          `TRACE_DOCTOR_COLUMNS maps ${c} to ${name}, but table ${table} has no column ${name} (it has ${[...actual.keys()].slice(0, 30).join(", ")}).`,
          "missing_column",
        );
      }
    }
    const wrong = [...columns.entries()].filter(([c, col]) => !ALLOWED[c].test.test(col.type));
    if (wrong.length) {
      throw new DatabaseError(
        `Table ${table} has column(s) of a type trace-doctor cannot read: ${wrong
          .map(([c, col]) => `${col.sql === `"${c}"` ? c : `${c} (${col.sql})`} is ${col.type}, expected ${ALLOWED[c].expected}`)
          .join("; ")}. Change the column types, or point TRACE_DOCTOR_TABLE at a view that casts them.`,
        "wrong_type",
      );
    }
    const missing = REQUIRED_COLUMNS.filter((c) => !columns.has(c));
    if (missing.length) {
      throw new DatabaseError(
        `Table ${table} lacks required column(s) ${missing.join(", ")}; the contract is in schema.sql (trace_id, span_id, service, operation, started_at, status; optional parent_span_id, completed_at, duration_ms, error_message, metadata). If the table names them otherwise, map them with TRACE_DOCTOR_COLUMNS (e.g. operation=name,started_at=start_time).`,
        "missing_column",
      );
    }
    return new SpanSql(table, from, columns, rows[0]!.kind === "p");
  }

  has(column: ContractColumn): boolean {
    return this.columns.has(column);
  }

  /** The quoted column holding a contract column; only for columns the table has. */
  col(column: ContractColumn): string {
    const c = this.columns.get(column);
    if (!c) throw new Error(`span table has no ${column} column`);
    return c.sql;
  }

  /** Every contract column the table has, quoted and comma-separated: the columns the statements read. */
  get columnList(): string {
    return [...this.columns.values()].map((c) => c.sql).join(", ");
  }

  /** The column's type as the catalog states it, or null when the table lacks it. */
  typeOf(column: ContractColumn): string | null {
    return this.columns.get(column)?.type ?? null;
  }

  get traceId(): string {
    return this.col("trace_id");
  }
  get spanId(): string {
    return this.col("span_id");
  }
  get service(): string {
    return this.col("service");
  }
  get operation(): string {
    return this.col("operation");
  }
  /** The raw start column: compare it directly so indexes on it serve. */
  get startedAt(): string {
    return this.col("started_at");
  }
  get status(): string {
    return this.col("status");
  }
  /** lower(status), with lower() (locale-aware, so costly on millions of rows) skipped for the usual lowercase values. */
  get lowerStatus(): string {
    return `(CASE WHEN ${this.status} IN ('completed', 'failed', 'error', 'timeout', 'started') THEN ${this.status}::text ELSE lower(${this.status}) END)`;
  }

  /** failed, error or timeout, in any case. */
  get isFailure(): string {
    return `${this.lowerStatus} IN ${FAILURE_STATUSES}`;
  }

  /** Ended and not a failure. */
  get isSuccess(): string {
    return `${this.lowerStatus} NOT IN ${FAILURE_STATUSES} AND ${this.lowerStatus} <> 'started'`;
  }

  /** The failures index's predicate, written the same way so the planner can prove a query matches it. */
  get failureIndexPredicate(): string {
    return `lower(${this.status}) IN ('failed', 'error', 'timeout', 'started')`;
  }

  get startMs(): string {
    return `(EXTRACT(EPOCH FROM ${this.startedAt}) * 1000)::float8`;
  }

  get endMs(): string {
    return this.has("completed_at") ? `(EXTRACT(EPOCH FROM ${this.col("completed_at")}) * 1000)::float8` : "NULL::float8";
  }

  /** duration_ms as stored, else derived from completed_at; NULL when neither is known. */
  get durationMs(): string {
    const derived = this.has("completed_at") ? `(EXTRACT(EPOCH FROM ${this.col("completed_at")} - ${this.startedAt}) * 1000)::float8` : "NULL::float8";
    return this.has("duration_ms") ? `COALESCE(${this.col("duration_ms")}::float8, ${derived})` : derived;
  }

  /** True when the span has no end of any kind. */
  get noEnd(): string {
    const parts = [this.has("completed_at") ? `${this.col("completed_at")} IS NULL` : "TRUE", this.has("duration_ms") ? `${this.col("duration_ms")} IS NULL` : "TRUE"];
    return `(${parts.join(" AND ")})`;
  }

  get errorMessage(): string {
    return this.has("error_message") ? `${this.col("error_message")}::text` : "NULL::text";
  }

  /** SQL twin of errorSignature() in analysis/failure-clusters.ts: ids, quoted values, numbers masked. */
  get errorSignature(): string {
    return SpanSql.signatureOf(this.errorMessage);
  }

  /** The same masks over any text expression: list_failed_spans applies them once per distinct message. */
  static signatureOf(message: string): string {
    let e = `coalesce(${message}, '')`;
    e = `regexp_replace(${e}, '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<id>', 'g')`;
    e = `regexp_replace(${e}, '"[^"]*"|(?<![A-Za-z0-9_])''[^'']*''', '<str>', 'g')`;
    e = `regexp_replace(${e}, '\\m[0-9a-fA-F]{12,}\\M', '<hex>', 'g')`;
    e = `regexp_replace(${e}, '[0-9]+(\\.[0-9]+)?', '<n>', 'g')`;
    e = `regexp_replace(${e}, '\\s+', ' ', 'g')`;
    return `left(btrim(${e}), 200)`;
  }

  get parentSpanId(): string {
    return this.has("parent_span_id") ? `${this.col("parent_span_id")}::text` : "NULL::text";
  }

  /** A root: no parent recorded (NULL, or '' as OpenTelemetry exports write it). Written as the roots index's predicate, so the planner can use it. */
  get isRoot(): string {
    if (!this.has("parent_span_id")) return "TRUE";
    const parent = this.col("parent_span_id");
    return this.isUuid("parent_span_id") ? `${parent} IS NULL` : `(${parent} IS NULL OR ${parent} = '')`;
  }

  /** metadata as jsonb whatever its stored type. */
  get metadataJsonb(): string {
    const type = this.typeOf("metadata");
    if (!type) return "'{}'::jsonb";
    if (type === "jsonb") return this.col("metadata");
    return `${this.col("metadata")}::jsonb`;
  }

  /** The value as the row stores it, for the normalised select (pg parses json and jsonb itself). */
  private get metadataValue(): string {
    const type = this.typeOf("metadata");
    if (!type) return "'{}'::jsonb";
    return type === "jsonb" || type === "json" ? this.col("metadata") : `${this.col("metadata")}::text`;
  }

  /** metadata->>'key' in the form an expression index on (metadata->>'key') can serve. */
  field(key: string): string {
    validateMetadataKey(key);
    const type = this.typeOf("metadata");
    if (!type) return "NULL::text";
    const base = type === "jsonb" || type === "json" ? this.col("metadata") : `(${this.col("metadata")}::jsonb)`;
    return `(${base}->>'${key}')`;
  }

  isUuid(column: "trace_id" | "span_id" | "parent_span_id"): boolean {
    return this.typeOf(column) === "uuid";
  }

  /** An id-array parameter in the column's own type, so its index is used. */
  idArray(column: "trace_id" | "span_id", index: number): string {
    return this.isUuid(column) ? `$${index}::uuid[]` : `$${index}::text[]`;
  }

  /** The normalised SELECT list every span-reading query uses. */
  get select(): string {
    return [
      `${this.traceId}::text AS trace_id`,
      `${this.spanId}::text AS span_id`,
      `${this.parentSpanId} AS parent_span_id`,
      `${this.service}::text AS service`,
      `${this.operation}::text AS operation`,
      `${this.startMs} AS start_ms`,
      `${this.endMs} AS end_ms`,
      `${this.durationMs} AS duration_ms`,
      `${this.status}::text AS status`,
      `${this.errorMessage} AS error_message`,
      `${this.metadataValue} AS metadata`,
    ].join(", ");
  }
}
