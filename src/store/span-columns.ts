// Names that go into SQL from configuration: the span table, the contract's column names mapped to
// the table's own (TRACE_DOCTOR_COLUMNS), and metadata keys. Each is validated here and quoted where used.

import { InputError } from "../errors.js";

/** The columns of the table contract (schema.sql), in contract order. */
export const CONTRACT_COLUMNS = [
  "trace_id",
  "span_id",
  "parent_span_id",
  "service",
  "operation",
  "started_at",
  "completed_at",
  "duration_ms",
  "status",
  "error_message",
  "metadata",
] as const;
export type ContractColumn = (typeof CONTRACT_COLUMNS)[number];

export const REQUIRED_COLUMNS: readonly ContractColumn[] = ["trace_id", "span_id", "service", "operation", "started_at", "status"];

/** Contract column → the table's own column name; columns not named keep their contract name. */
export type ColumnMapping = Readonly<Partial<Record<ContractColumn, string>>>;

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const METADATA_KEY = /^[A-Za-z0-9_.\-]{1,64}$/;

export function splitTableName(table: string): { schema: string | null; name: string } {
  const parts = table.split(".");
  if (parts.length > 2 || !parts.every((p) => IDENT.test(p))) {
    throw new InputError(
      `Invalid table name ${JSON.stringify(table)}: use letters, digits and underscores, optionally schema-qualified (e.g. trace_spans or tracing.trace_spans).`,
    );
  }
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: null, name: parts[0]! };
}

export function quoteTableName(table: string): string {
  const { schema, name } = splitTableName(table);
  return schema ? `"${schema}"."${name}"` : `"${name}"`;
}

export function quoteIdentifier(name: string): string {
  if (!IDENT.test(name)) throw new InputError(`Invalid column name ${JSON.stringify(name)}: use letters, digits and underscores.`);
  return `"${name}"`;
}

/** Metadata keys go into SQL as literals (so expression indexes match): only safe characters pass. */
export function validateMetadataKey(key: string, what = "metadata key"): string {
  if (!METADATA_KEY.test(key)) {
    throw new InputError(`Invalid ${what} ${JSON.stringify(key)}: use letters, digits, '_', '.', '-' (e.g. job_id, region).`);
  }
  return key;
}

export const validateCorrelationKey = (key: string) => validateMetadataKey(key, "correlation key");

/**
 * Reads "trace_id=trace,operation=name,started_at=start_time": contract column = actual column, any
 * subset. Unknown contract columns, bad names and a column mapped twice are refused, naming the part.
 */
export function parseColumnMapping(text: string | undefined, setting = "TRACE_DOCTOR_COLUMNS"): ColumnMapping {
  const mapping: Partial<Record<ContractColumn, string>> = {};
  if (!text?.trim()) return mapping;
  const used = new Map<string, ContractColumn>();
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z_]+)\s*=\s*(\S+)$/.exec(part);
    if (!m) throw new InputError(`${setting}: ${JSON.stringify(part)} is not contract_column=actual_column (e.g. started_at=start_time).`);
    const contract = m[1]!.toLowerCase() as ContractColumn;
    const actual = m[2]!;
    if (!(CONTRACT_COLUMNS as readonly string[]).includes(contract)) {
      throw new InputError(`${setting}: ${JSON.stringify(m[1])} is not a column of the contract (${CONTRACT_COLUMNS.join(", ")}).`);
    }
    if (!IDENT.test(actual)) throw new InputError(`${setting}: ${JSON.stringify(actual)} is not a column name (letters, digits, '_').`);
    if (mapping[contract] !== undefined) throw new InputError(`${setting}: ${contract} is mapped twice.`);
    const other = used.get(actual);
    if (other) throw new InputError(`${setting}: column ${actual} is given for both ${other} and ${contract}.`);
    mapping[contract] = actual;
    used.set(actual, contract);
  }
  return mapping;
}

/** The table's own name for a contract column. */
export function actualColumn(mapping: ColumnMapping, column: ContractColumn): string {
  return mapping[column] ?? column;
}
