// Fills a Postgres table with N spans of the demo's shape, for benchmarks: one seeded demo day is
// loaded once, then copied inside Postgres with generate_series (new ids, job ids and times per copy),
// so ten million rows need no round trip per row. Copies are spread over the last `days` days.
//
//   npm run fill -- --spans 1000000 [--table trace_spans] [--days 7]   (DATABASE_URL required)

import pg from "pg";
import { generateDemoDataset } from "../src/demo/demo-dataset.js";
import { quoteTableName } from "../src/store/span-columns.js";
import { applySchema, insertSpans } from "../src/store/span-writer.js";

export interface FillOptions {
  spans: number;
  table: string;
  days?: number;
  now?: Date;
  /** Copies per INSERT statement: progress is reported between statements. */
  batchCopies?: number;
  onProgress?: (inserted: number, total: number) => void;
}

/** Replaces the table's contents with about `spans` rows (whole demo days are copied, so it may round up). */
export async function fillSpans(client: pg.ClientBase, options: FillOptions): Promise<{ rows: number; copies: number }> {
  const now = options.now ?? new Date();
  const days = options.days ?? 7;
  const target = quoteTableName(options.table);
  await applySchema(client, options.table);
  await client.query(`TRUNCATE ${target}`);

  const { rows } = generateDemoDataset({ now });
  await client.query(`DROP TABLE IF EXISTS pg_temp.fill_template`);
  await client.query(`CREATE TEMP TABLE fill_template (LIKE ${target} INCLUDING DEFAULTS)`);
  await insertSpans(client, rows, "pg_temp.fill_template");

  const copies = Math.max(1, Math.ceil(options.spans / rows.length));
  // Copy k is shifted back by k * spacing, so the copies cover `days` evenly; copy 0 is the demo day itself.
  const spacingMs = copies > 1 ? Math.floor(((days - 1) * 86_400_000) / (copies - 1)) : 0;
  const batch = options.batchCopies ?? Math.max(1, Math.floor(200_000 / rows.length));
  for (let from = 0; from < copies; from += batch) {
    const to = Math.min(copies - 1, from + batch - 1);
    await client.query(
      `INSERT INTO ${target} (trace_id, span_id, parent_span_id, service, operation, started_at, completed_at, duration_ms, status, error_message, metadata)
       SELECT CASE WHEN k = 0 THEN t.trace_id ELSE t.trace_id || '-' || k END,
              CASE WHEN k = 0 THEN t.span_id ELSE t.span_id || '-' || k END,
              CASE WHEN k = 0 OR t.parent_span_id IS NULL THEN t.parent_span_id ELSE t.parent_span_id || '-' || k END,
              t.service, t.operation,
              t.started_at - make_interval(secs => k * $3::float8 / 1000),
              t.completed_at - make_interval(secs => k * $3::float8 / 1000),
              t.duration_ms, t.status, t.error_message,
              CASE WHEN k = 0 OR NOT (t.metadata ? 'job_id') THEN t.metadata
                   ELSE jsonb_set(t.metadata, '{job_id}', to_jsonb((t.metadata->>'job_id') || '-' || k)) END
         FROM fill_template t, generate_series($1::int, $2::int) AS k`,
      [from, to, spacingMs],
    );
    options.onProgress?.(Math.min(copies, to + 1) * rows.length, copies * rows.length);
  }
  await client.query(`ANALYZE ${target}`);
  return { rows: copies * rows.length, copies };
}

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("Set DATABASE_URL to the database to fill.");
  const spans = Number(arg("spans", "100000"));
  if (!Number.isInteger(spans) || spans < 1 || spans > 50_000_000) throw new Error("--spans must be a whole number from 1 to 50,000,000");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const t0 = performance.now();
  try {
    const result = await fillSpans(client, {
      spans,
      table: arg("table", "trace_spans")!,
      days: Number(arg("days", "7")),
      onProgress: (n, total) => process.stderr.write(`\r${n.toLocaleString()} / ${total.toLocaleString()} spans`),
    });
    process.stderr.write(`\nfilled ${result.rows.toLocaleString()} spans (${result.copies} demo days) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
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
