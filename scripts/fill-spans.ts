// Fills a Postgres table with N spans of the demo's shape, for benchmarks: one seeded demo day is
// loaded once, then copied inside Postgres with generate_series (new ids, job ids and times per copy,
// each execution stretched by its own factor), so ten million rows need no round trip per row. The
// indexes and the primary key are dropped first and built once at the end (maintaining eight btrees
// row by row is what made a big fill crawl), then VACUUM ANALYZE. Generating rows inside Postgres
// measured faster than COPY FROM of the same rows (5.7 s vs 6.5 s for 1 M, before the cost of
// producing the COPY text in Node), so there is no COPY here.
// Copies are spread over the last `days` days; `partitioned` makes the table partitioned by day.
//
//   npm run fill -- --spans 1000000 [--table trace_spans] [--days 7] [--partitioned]   (DATABASE_URL required)

import pg from "pg";
import { generateDemoDataset } from "../src/demo/demo-dataset.js";
import { quoteTableName } from "../src/store/span-columns.js";
import { applyPartitionedSchema, applySchema, insertSpans, relationKind, secondaryIndexes } from "../src/store/span-writer.js";

export interface FillOptions {
  spans: number;
  table: string;
  days?: number;
  now?: Date;
  /** Partitioned by day on started_at, with a partition for every day the copies cover. */
  partitioned?: boolean;
  /** Copies per INSERT statement: progress is reported between statements. */
  batchCopies?: number;
  onProgress?: (inserted: number, total: number, phase: "rows" | "indexes") => void;
}

export interface FillResult {
  rows: number;
  copies: number;
  /** Seconds spent inserting rows, and building indexes plus VACUUM ANALYZE. */
  insertSeconds: number;
  indexSeconds: number;
}

/** Replaces the table's contents with about `spans` rows (whole demo days are copied, so it may round up). */
export async function fillSpans(client: pg.ClientBase, options: FillOptions): Promise<FillResult> {
  const now = options.now ?? new Date();
  const days = options.days ?? 7;
  const target = quoteTableName(options.table);
  // A table of the other kind is dropped: partitioning cannot be switched on or off in place.
  const kind = await relationKind(client, options.table);
  if (kind !== null && (kind === "p") !== !!options.partitioned) await client.query(`DROP TABLE ${target}`);
  const schema = () =>
    options.partitioned ? applyPartitionedSchema(client, options.table, ["job_id"], {}, { days: days + 1, aheadDays: 2, now }) : applySchema(client, options.table);
  await schema();
  await client.query(`TRUNCATE ${target}`);
  // This session's commits need not wait for the WAL flush: a crash mid-fill means filling again.
  await client.query(`SET synchronous_commit = off`);
  for (const index of await secondaryIndexes(client, options.table)) await client.query(`DROP INDEX ${index}`);
  // The primary key too: one sorted build at the end is cheaper than a btree insert per row.
  const pk = (
    await client.query(
      `SELECT quote_ident(conname) AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p'`,
      [target],
    )
  ).rows[0] as { name: string; def: string } | undefined;
  if (pk) await client.query(`ALTER TABLE ${target} DROP CONSTRAINT ${pk.name}`);

  const { rows } = generateDemoDataset({ now });
  await client.query(`DROP TABLE IF EXISTS pg_temp.fill_template`);
  await client.query(
    `CREATE TEMP TABLE fill_template (trace_id text, span_id text, parent_span_id text, service text, operation text, started_at timestamptz,
       completed_at timestamptz, duration_ms integer, status text, error_message text, metadata jsonb)`,
  );
  await insertSpans(client, rows, "pg_temp.fill_template");
  // Each copy stretches or shrinks every execution by its own factor (0.8 to 1.2, from a hash of the
  // copy and the job, or the trace without one), offsets and durations alike, so the copies' durations
  // vary as real ones do (identical durations in every copy made duration histograms unrealistically
  // small) while each trace keeps its shape. Copy 0, the demo day itself, is left as it is.
  await client.query(`ALTER TABLE fill_template ADD COLUMN g text, ADD COLUMN anchor timestamptz`);
  await client.query(`UPDATE fill_template SET g = coalesce(metadata->>'job_id', trace_id)`);
  await client.query(`UPDATE fill_template t SET anchor = a.first FROM (SELECT g, min(started_at) AS first FROM fill_template GROUP BY g) a WHERE a.g = t.g`);

  const t0 = performance.now();
  const copies = Math.max(1, Math.ceil(options.spans / rows.length));
  // Copy k is shifted back by k * spacing, so the copies cover `days` evenly; copy 0 is the demo day itself.
  const spacingMs = copies > 1 ? Math.floor(((days - 1) * 86_400_000) / (copies - 1)) : 0;
  const batch = options.batchCopies ?? Math.max(1, Math.floor(500_000 / rows.length));
  for (let from = 0; from < copies; from += batch) {
    const to = Math.min(copies - 1, from + batch - 1);
    await client.query(
      `INSERT INTO ${target} (trace_id, span_id, parent_span_id, service, operation, started_at, completed_at, duration_ms, status, error_message, metadata)
       SELECT CASE WHEN k = 0 THEN t.trace_id ELSE t.trace_id || '-' || k END,
              CASE WHEN k = 0 THEN t.span_id ELSE t.span_id || '-' || k END,
              CASE WHEN k = 0 OR t.parent_span_id IS NULL THEN t.parent_span_id ELSE t.parent_span_id || '-' || k END,
              t.service, t.operation,
              t.anchor + (t.started_at - t.anchor) * f - make_interval(secs => k * $3::float8 / 1000),
              t.anchor + (t.started_at - t.anchor) * f + (t.completed_at - t.started_at) * f - make_interval(secs => k * $3::float8 / 1000),
              round(t.duration_ms * f)::int, t.status, t.error_message,
              CASE WHEN k = 0 OR NOT (t.metadata ? 'job_id') THEN t.metadata
                   ELSE jsonb_set(t.metadata, '{job_id}', to_jsonb((t.metadata->>'job_id') || '-' || k)) END
         FROM fill_template t, generate_series($1::int, $2::int) AS k,
              LATERAL (SELECT CASE WHEN k = 0 THEN 1 ELSE 0.8 + 0.4 * (abs(hashtext(t.g || ':' || k)) % 10000) / 10000.0 END::float8 AS f) j`,
      [from, to, spacingMs],
    );
    options.onProgress?.(Math.min(copies, to + 1) * rows.length, copies * rows.length, "rows");
  }
  const t1 = performance.now();
  options.onProgress?.(copies * rows.length, copies * rows.length, "indexes");
  // One sort per index over the whole table, with room to sort in memory.
  await client.query(`SET maintenance_work_mem = '1GB'`);
  if (pk) await client.query(`ALTER TABLE ${target} ADD CONSTRAINT ${pk.name} ${pk.def}`);
  await schema();
  // VACUUM too, not only ANALYZE: it sets the visibility map, so counts per operation are index-only
  // scans as on a table autovacuum has visited, instead of a heap visit per index entry.
  await client.query(`VACUUM (ANALYZE) ${target}`);
  await client.query(`RESET maintenance_work_mem`);
  await client.query(`RESET synchronous_commit`);
  return { rows: copies * rows.length, copies, insertSeconds: (t1 - t0) / 1000, indexSeconds: (performance.now() - t1) / 1000 };
}

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("Set DATABASE_URL to the database to fill.");
  const spans = Number(arg("spans", "100000"));
  if (!Number.isInteger(spans) || spans < 1 || spans > 1_000_000_000) throw new Error("--spans must be a whole number from 1 to 1,000,000,000");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const t0 = performance.now();
  try {
    const result = await fillSpans(client, {
      spans,
      table: arg("table", "trace_spans")!,
      days: Number(arg("days", "7")),
      partitioned: process.argv.includes("--partitioned"),
      onProgress: (n, total, phase) =>
        process.stderr.write(phase === "rows" ? `\r${n.toLocaleString()} / ${total.toLocaleString()} spans` : `\nbuilding indexes, VACUUM ANALYZE`),
    });
    const seconds = (performance.now() - t0) / 1000;
    process.stderr.write(
      `\nfilled ${result.rows.toLocaleString()} spans (${result.copies} demo days) in ${seconds.toFixed(1)} s: ${Math.round(result.rows / seconds).toLocaleString()} spans/s ` +
        `(rows ${result.insertSeconds.toFixed(1)} s, indexes and VACUUM ANALYZE ${result.indexSeconds.toFixed(1)} s)\n`,
    );
  } finally {
    await client.end();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`fill failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
