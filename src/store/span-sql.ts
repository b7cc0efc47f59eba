// The SQL vocabulary of one span table: which columns it has and the expressions that turn any
// variant of the contract (uuid ids, float or missing duration_ms, json/jsonb/text metadata, extra
// columns) into the normalised shape. Read once from the catalog; identifiers validated and quoted.

import { DatabaseError, type ReadOnlyDatabase } from "./database.js";

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const METADATA_KEY = /^[A-Za-z0-9_.\-]{1,64}$/;
const REQUIRED = ["trace_id", "span_id", "service", "operation", "started_at", "status"] as const;

export function splitTableName(table: string): { schema: string | null; name: string } {
  const parts = table.split(".");
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p))) {
    throw new Error(
      `Invalid table name ${JSON.stringify(table)}: use letters, digits and underscores, optionally schema-qualified (e.g. trace_spans or tracing.trace_spans).`,
    );
  }
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: null, name: parts[0]! };
}

export function quoteTableName(table: string): string {
  const { schema, name } = splitTableName(table);
  return schema ? `"${schema}"."${name}"` : `"${name}"`;
}

/** Metadata keys go into SQL as literals (so expression indexes match): only safe characters pass. */
export function validateMetadataKey(key: string, what = "metadata key"): string {
  if (!METADATA_KEY.test(key)) {
    throw new Error(`Invalid ${what} ${JSON.stringify(key)}: use letters, digits, '_', '.', '-' (e.g. job_id, region).`);
  }
  return key;
}

export const validateCorrelationKey = (key: string) => validateMetadataKey(key, "correlation key");

/** Statuses the product counts as failure; 'started' long past its time counts as unfinished. */
export const FAILURE_STATUS_SQL = "('failed', 'error', 'timeout')";
/** The partial index's predicate, repeated verbatim in queries so the planner can use it. */
export const FAILURE_INDEX_PREDICATE = "lower(status) IN ('failed', 'error', 'timeout', 'started')";

export class SpanSql {
  private constructor(
    readonly table: string,
    /** Quoted, schema-qualified name, safe to splice into SQL. */
    readonly from: string,
    private readonly columns: Map<string, string>,
  ) {}

  static async read(db: ReadOnlyDatabase, table: string): Promise<SpanSql> {
    const from = quoteTableName(table);
    const rows = await db.query<{ name: string; type: string }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped`,
      [from],
    );
    if (!rows.length) {
      throw new DatabaseError(
        `No table ${table} in ${db.label}. Set TRACE_DOCTOR_TABLE to the table holding your spans, or create it with \`trace-doctor init-db\` (schema.sql).`,
        "missing_table",
      );
    }
    const columns = new Map(rows.map((r) => [r.name, r.type]));
    const missing = REQUIRED.filter((c) => !columns.has(c));
    if (missing.length) {
      throw new DatabaseError(
        `Table ${table} lacks required column(s) ${missing.join(", ")}; the contract is in schema.sql (trace_id, span_id, service, operation, started_at, status; optional parent_span_id, completed_at, duration_ms, error_message, metadata).`,
        "missing_column",
      );
    }
    return new SpanSql(table, from, columns);
  }

  has(column: string): boolean {
    return this.columns.has(column);
  }

  get startMs(): string {
    return "(EXTRACT(EPOCH FROM started_at) * 1000)::float8";
  }

  get endMs(): string {
    return this.has("completed_at") ? "(EXTRACT(EPOCH FROM completed_at) * 1000)::float8" : "NULL::float8";
  }

  /** duration_ms as stored, else derived from completed_at; NULL when neither is known. */
  get durationMs(): string {
    const derived = this.has("completed_at") ? "(EXTRACT(EPOCH FROM completed_at - started_at) * 1000)::float8" : "NULL::float8";
    return this.has("duration_ms") ? `COALESCE(duration_ms::float8, ${derived})` : derived;
  }

  /** True when the span has no end of any kind. */
  get noEnd(): string {
    const parts = [this.has("completed_at") ? "completed_at IS NULL" : "TRUE", this.has("duration_ms") ? "duration_ms IS NULL" : "TRUE"];
    return `(${parts.join(" AND ")})`;
  }

  get errorMessage(): string {
    return this.has("error_message") ? "error_message::text" : "NULL::text";
  }

  /** SQL twin of errorSignature() in analysis/failure-clusters.ts: ids, quoted values, numbers masked. */
  get errorSignature(): string {
    let e = `coalesce(${this.errorMessage}, '')`;
    e = `regexp_replace(${e}, '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<id>', 'g')`;
    e = `regexp_replace(${e}, '"[^"]*"|(?<![A-Za-z0-9_])''[^'']*''', '<str>', 'g')`;
    e = `regexp_replace(${e}, '\\m[0-9a-fA-F]{12,}\\M', '<hex>', 'g')`;
    e = `regexp_replace(${e}, '[0-9]+(\\.[0-9]+)?', '<n>', 'g')`;
    e = `regexp_replace(${e}, '\\s+', ' ', 'g')`;
    return `left(btrim(${e}), 200)`;
  }

  get parentSpanId(): string {
    return this.has("parent_span_id") ? "parent_span_id::text" : "NULL::text";
  }

  /** A root: no parent recorded. Written as the roots index's predicate, so the planner can use it. */
  get isRoot(): string {
    return this.has("parent_span_id") ? "parent_span_id IS NULL" : "TRUE";
  }

  /** metadata as jsonb whatever its stored type. */
  get metadataJsonb(): string {
    const type = this.columns.get("metadata");
    if (!type) return "'{}'::jsonb";
    if (type === "jsonb") return "metadata";
    return "metadata::jsonb";
  }

  /** The value as the row stores it, for the normalised select (pg parses json and jsonb itself). */
  private get metadataValue(): string {
    const type = this.columns.get("metadata");
    if (!type) return "'{}'::jsonb";
    return type === "jsonb" || type === "json" ? "metadata" : "metadata::text";
  }

  /** metadata->>'key' in the form an expression index on (metadata->>'key') can serve. */
  field(key: string): string {
    validateMetadataKey(key);
    const type = this.columns.get("metadata");
    if (!type) return "NULL::text";
    const base = type === "jsonb" || type === "json" ? "metadata" : "(metadata::jsonb)";
    return `(${base}->>'${key}')`;
  }

  isUuid(column: "trace_id" | "span_id"): boolean {
    return this.columns.get(column) === "uuid";
  }

  /** An id-array parameter in the column's own type, so its index is used. */
  idArray(column: "trace_id" | "span_id", index: number): string {
    return this.isUuid(column) ? `$${index}::uuid[]` : `$${index}::text[]`;
  }

  /** The normalised SELECT list every span-reading query uses. */
  get select(): string {
    return [
      "trace_id::text AS trace_id",
      "span_id::text AS span_id",
      `${this.parentSpanId} AS parent_span_id`,
      "service::text AS service",
      "operation::text AS operation",
      `${this.startMs} AS start_ms`,
      `${this.endMs} AS end_ms`,
      `${this.durationMs} AS duration_ms`,
      "status::text AS status",
      `${this.errorMessage} AS error_message`,
      `${this.metadataValue} AS metadata`,
    ].join(", ");
  }
}
