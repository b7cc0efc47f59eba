// A partitioned span table's recent partitions, named, for lookups by id. Postgres 15 plans a statement
// over a partitioned table anew on every call (a cached plan would lock every partition each time it
// runs), which costs about as much as the lookup itself. A statement that names the recent partitions
// (plain tables) is planned once and cached like one on a plain table. The catalog is read once; each
// such statement also returns the catalog's current fingerprint of the children, so a partition added,
// dropped or swapped since is noticed on the very call it would matter to, and the lookup run again.

import type { ReadOnlyDatabase } from "./database.js";

export interface Partition {
  /** Quoted, schema-qualified name. */
  name: string;
  /** Range bounds in ms; ±Infinity for MINVALUE / MAXVALUE. The default partition: −∞ to +∞. */
  fromMs: number;
  toMs: number;
  isDefault: boolean;
}

export interface PartitionMap {
  partitions: Partition[];
  /** What fingerprintSql() returned when the map was read. */
  fingerprint: string;
}

/** The partitions a recent search reads, and the time from which every span is in one of them. */
export interface RecentPartitions {
  names: string[];
  /** Every span stamped at or after this is in `names` (−∞ when they are all the table has). */
  completeFromMs: number;
}

/**
 * The children's count and oid sum, recomputed inside each statement that names partitions: one index
 * scan of pg_inherits. Any partition created, attached, detached or dropped changes it (a swap would need
 * the new table to have the old one's oid). `table` is a quoted name made of checked identifiers.
 */
export function fingerprintSql(table: string): string {
  return `(SELECT count(*)::text || ':' || coalesce(sum(inhrelid::int8), 0)::text FROM pg_catalog.pg_inherits WHERE inhparent = '${table}'::regclass)`;
}

/**
 * The children of `table` with their bounds, when it is range-partitioned on `startedAtColumn` (its own
 * name) with plain-table children; null when it is partitioned some other way (the lookups then search
 * the parent, bounded by time).
 */
export async function readPartitionMap(db: ReadOnlyDatabase, table: string, startedAtColumn: string): Promise<PartitionMap | null> {
  // The bounds are cast by Postgres, and only when they are plain time literals, so no cast can fail.
  const literal = `'([0-9][0-9: .+-]*)'`;
  const rows = await db.query<{ name: string; kind: string; is_default: boolean; matched: boolean; from_ms: number | null; to_ms: number | null; key_ok: boolean; fp: string }>(
    `SELECT p.name, p.kind, p.is_default, p.m IS NOT NULL AS matched,
            (extract(epoch FROM p.m[1]::timestamptz) * 1000)::float8 AS from_ms,
            (extract(epoch FROM p.m[2]::timestamptz) * 1000)::float8 AS to_ms,
            p.key_ok, ${fingerprintSql(table)} AS fp
       FROM (SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS kind,
                    pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
                    regexp_match(pg_get_expr(c.relpartbound, c.oid), $3) AS m,
                    EXISTS (SELECT 1 FROM pg_catalog.pg_partitioned_table pt
                              JOIN pg_catalog.pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
                             WHERE pt.partrelid = i.inhparent AND pt.partstrat = 'r' AND pt.partnatts = 1 AND a.attname = $2) AS key_ok
               FROM pg_catalog.pg_inherits i
               JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
              WHERE i.inhparent = $1::regclass) p`,
    [table, startedAtColumn, `^FOR VALUES FROM \\((?:${literal}|MINVALUE)\\) TO \\((?:${literal}|MAXVALUE)\\)$`],
  );
  if (!rows.length) return null;
  const partitions: Partition[] = [];
  for (const r of rows) {
    if (!r.key_ok || r.kind !== "r") return null; // another key, or sub-partitioned / foreign children
    if (r.is_default) partitions.push({ name: quoteName(r.name), fromMs: -Infinity, toMs: Infinity, isDefault: true });
    else if (r.matched) partitions.push({ name: quoteName(r.name), fromMs: r.from_ms ?? -Infinity, toMs: r.to_ms ?? Infinity, isDefault: false });
    else return null;
  }
  return { partitions: partitions.sort((a, b) => a.fromMs - b.fromMs || a.name.localeCompare(b.name)), fingerprint: rows[0]!.fp };
}

/**
 * The partitions holding spans stamped after `sinceMs` (their range ends after it), the default one, and
 * from when on that set is complete: the latest end among the partitions left out.
 */
export function recentPartitions(map: PartitionMap, sinceMs: number): RecentPartitions {
  const names: string[] = [];
  let completeFromMs = -Infinity;
  for (const p of map.partitions) {
    if (p.isDefault || p.toMs > sinceMs) names.push(p.name);
    else completeFromMs = Math.max(completeFromMs, p.toMs);
  }
  return { names, completeFromMs };
}

/** format('%I.%I') output as a quoted name: the identifiers are the catalog's own. */
function quoteName(formatted: string): string {
  const parts = formatted.match(/^("(?:[^"]|"")*"|[^."]+)\.("(?:[^"]|"")*"|[^."]+)$/);
  if (!parts) throw new Error(`unexpected partition name ${formatted}`);
  const q = (s: string) => (s.startsWith('"') ? s : `"${s}"`);
  return `${q(parts[1]!)}.${q(parts[2]!)}`;
}
