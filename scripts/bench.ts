// npm run bench: each tool's latency (Sentry not configured, so diagnose reads spans only) through a real MCP client over stdio (the built server on real
// Postgres), at 100 k and 1 M spans, next to the floor — the same SQL statements the tool ran, replayed
// directly through pg with no transaction, no MCP and no analysis. Also the server's peak memory.
//
// Settings: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_SIZES
// (default 100000,1000000), BENCH_RUNS (default 20). Tables live in schema trace_doctor_bench and are
// refilled only when their size is off.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { fillSpans } from "./fill-spans.js";
import { IMMEDIATE_MS, UNFINISHED_AFTER_MS } from "../src/analysis/defaults.js";
import { PostgresDatabase } from "../src/store/postgres.js";
import type { ReadOnlyDatabase, Row } from "../src/store/database.js";
import { SpanTable } from "../src/store/span-table.js";
import { TOOLS } from "../src/tools/index.js";

const SERVER = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const URL_ = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const SIZES = (process.env.BENCH_SIZES ?? "100000,1000000").split(",").map(Number);
const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const SCHEMA = "trace_doctor_bench";

/** Records every statement a tool runs, so the floor replays exactly the same SQL. */
class RecordingDatabase implements ReadOnlyDatabase {
  readonly statements: Array<{ sql: string; params: readonly unknown[] }> = [];
  constructor(private readonly inner: ReadOnlyDatabase) {}
  get label() {
    return this.inner.label;
  }
  async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    this.statements.push({ sql, params });
    return this.inner.query<T>(sql, params);
  }
  close() {
    return this.inner.close();
  }
}

interface Scenario {
  name: string;
  tool: string;
  args: Record<string, unknown>;
}

function percentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

async function ensureTable(admin: pg.Client, size: number): Promise<string> {
  const table = `${SCHEMA}.spans_${size >= 1_000_000 ? `${size / 1_000_000}m` : `${Math.round(size / 1000)}k`}`;
  await admin.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
  const exists = await admin.query(`SELECT to_regclass($1) AS t`, [table]);
  let count = 0;
  let fresh = false;
  if (exists.rows[0].t) {
    const r = await admin.query(`SELECT count(*)::int AS n, max(started_at) > now() - interval '3 hours' AS fresh FROM ${table}`);
    count = r.rows[0].n;
    fresh = r.rows[0].fresh;
  }
  if (Math.abs(count - size) > size * 0.05 || !fresh) {
    const t0 = performance.now();
    const { rows } = await fillSpans(admin, { spans: size, table });
    process.stderr.write(`filled ${table} with ${rows.toLocaleString()} spans in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return table;
}

async function scenarios(admin: pg.Client, table: string): Promise<Scenario[]> {
  const failing = await admin.query(
    `SELECT trace_id, metadata->>'job_id' AS job FROM ${table}
      WHERE lower(status) = 'failed' AND service = 'runner' AND operation = 'execute_question' AND duration_ms < 100
      ORDER BY started_at DESC LIMIT 1`,
  );
  const ok = await admin.query(
    `SELECT trace_id, metadata->>'job_id' AS job FROM ${table}
      WHERE status = 'completed' AND service = 'runner' AND operation = 'execute_question' ORDER BY started_at DESC LIMIT 1`,
  );
  const f = failing.rows[0];
  const s = ok.rows[0];
  return [
    { name: "get_trace by trace_id", tool: "get_trace", args: { trace_id: s.trace_id } },
    { name: "get_trace by job_id", tool: "get_trace", args: { job_id: f.job } },
    { name: "list_failed_spans, last 24 h", tool: "list_failed_spans", args: {} },
    { name: "list_failed_spans, region=US, 2 h", tool: "list_failed_spans", args: { since: "2h", metadata: { region: "US" } } },
    { name: "find_gaps by job_id (failing)", tool: "find_gaps", args: { job_id: f.job } },
    { name: "find_gaps aggregate, 24 h", tool: "find_gaps", args: {} },
    { name: "diagnose by job_id (failing)", tool: "diagnose", args: { job_id: f.job } },
  ];
}

/** Runs the handler in-process once against a recording database, to learn the SQL it issues. */
async function recordSql(table: string, sc: Scenario): Promise<Array<{ sql: string; params: readonly unknown[] }>> {
  const rec = new RecordingDatabase(new PostgresDatabase(URL_, { statementTimeoutMs: 30_000 }));
  const spans = new SpanTable(rec, table, ["job_id"]);
  const tool = TOOLS.find((t) => t.name === sc.tool)!;
  await tool.handler(
    {
      spans,
      sentry: { client: null, missing: [] },
      settings: { maxTraceSpans: 20_000, immediateMs: IMMEDIATE_MS, unfinishedAfterMs: UNFINISHED_AFTER_MS, jobTagKeys: ["job_id"] },
      now: Date.now,
      signal: new AbortController().signal,
      fits: () => true,
    },
    tool.inputSchema.parse(sc.args),
  );
  await rec.close();
  // The column lookup runs once per server, not per call: it is not part of a call's floor.
  return rec.statements.filter((st) => !st.sql.includes("pg_attribute"));
}

function peakRssMb(pid: number | null | undefined): number | null {
  if (!pid) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: URL_ });
  await admin.connect();
  const lines = [
    `Benchmark: ${RUNS} calls per tool after 3 warm-up calls; Node ${process.version}; Postgres at ${new URL(URL_).host}.`,
    "",
    "| spans | tool call | MCP p50 | MCP p95 | SQL floor p50 | SQL floor p95 | statements | answer |",
    "|---:|---|---:|---:|---:|---:|---:|---:|",
  ];
  const memory: string[] = [];
  for (const size of SIZES) {
    const table = await ensureTable(admin, size);
    const count = (await admin.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [SERVER],
      env: { ...(process.env as Record<string, string>), DATABASE_URL: URL_, TRACE_DOCTOR_TABLE: table },
      stderr: "ignore",
    });
    const client = new Client({ name: "bench", version: "1.0.0" });
    await client.connect(transport);
    for (const sc of await scenarios(admin, table)) {
      const call = async () => {
        const t0 = performance.now();
        const r = (await client.callTool({ name: sc.tool, arguments: sc.args })) as CallToolResult;
        if (r.isError) throw new Error(`${sc.name} failed: ${JSON.stringify(r.content)}`);
        return { ms: performance.now() - t0, chars: r.content.map((c) => (c.type === "text" ? c.text.length : 0)).reduce((a, b) => a + b, 0) };
      };
      for (let i = 0; i < 3; i++) await call();
      const times: number[] = [];
      let chars = 0;
      for (let i = 0; i < RUNS; i++) {
        const r = await call();
        times.push(r.ms);
        chars = r.chars;
      }
      const statements = await recordSql(table, sc);
      const floor: number[] = [];
      for (let i = 0; i < 3 + RUNS; i++) {
        const t0 = performance.now();
        for (const st of statements) await admin.query(st.sql, [...st.params]);
        if (i >= 3) floor.push(performance.now() - t0);
      }
      lines.push(
        `| ${count.toLocaleString("en-US")} | ${sc.name} | ${percentile(times, 0.5).toFixed(1)} ms | ${percentile(times, 0.95).toFixed(1)} ms | ${percentile(floor, 0.5).toFixed(1)} ms | ${percentile(floor, 0.95).toFixed(1)} ms | ${statements.length} | ${Math.ceil(chars / 4)} tok |`,
      );
      process.stderr.write(`${lines[lines.length - 1]}\n`);
    }
    memory.push(`${count.toLocaleString("en-US")} spans: server peak RSS ${peakRssMb(transport.pid)} MB`);
    await client.close();
  }
  const startup = await startupTimes(SIZES.length ? await ensureTable(admin, SIZES[0]!) : "trace_spans");
  await admin.end();
  process.stdout.write(
    `${lines.join("\n")}\n\n${memory.join("\n")}\nStart-up to a listed tool (spawn, initialize, tools/list), Postgres: ${startup}\n(answer: tokens ≈ characters / 4 of the text a model reads)\n`,
  );
}

/** From spawning the server to having its tool list: what a client waits for on attach. */
async function startupTimes(table: string): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    const client = new Client({ name: "bench-startup", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [SERVER],
        env: { ...(process.env as Record<string, string>), DATABASE_URL: URL_, TRACE_DOCTOR_TABLE: table },
        stderr: "ignore",
      }),
    );
    await client.listTools();
    times.push(performance.now() - t0);
    await client.close();
  }
  return `p50 ${percentile(times, 0.5).toFixed(0)} ms, p95 ${percentile(times, 0.95).toFixed(0)} ms over ${times.length} starts`;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
