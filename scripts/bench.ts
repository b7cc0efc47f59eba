// npm run bench: each tool's latency (Sentry not configured, so diagnose reads spans only) through a real MCP client over stdio (the built server on real
// Postgres), at 100 k and 1 M spans, next to the floor — the same SQL statements the tool ran, replayed
// directly through pg with no transaction, no MCP and no analysis. Also the server's peak memory.
//
// npm run bench -- --compare [--sizes 1000000,10000000] [--runs 20]: trace-doctor, the reference
// Postgres MCP server (@modelcontextprotocol/server-postgres, its `query` tool, installed into
// .cache/bench) and raw pg, interleaved call by call on the same table: p50/p95 and ratios, cold start
// (spawn → tools/list) and peak RSS of both servers, and the issue's goals met or not.
// BENCH_PARTITION_TABLES=plain,partitioned adds trace-id and job-id lookups on two tables of the same rows.
// --only TEXT: only the calls whose name contains TEXT, and no cold starts (for a quick look at one call).
//
// Settings: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres), BENCH_SIZES
// (default 100000,1000000), BENCH_RUNS (default 20). Tables live in schema trace_doctor_bench and are
// refilled only when their size is off.

import { existsSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
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
/** Started as `trace-doctor config` prints it: node with the server's flags. */
const SERVER_ARGS = [SERVER];
/** Starts per server for the cold-start figures. */
const COLD_STARTS = 15;
const BENCH_CACHE = fileURLToPath(new URL("../.cache/bench/", import.meta.url));
const PG_REF = `${BENCH_CACHE}node_modules/@modelcontextprotocol/server-postgres/dist/index.js`;
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
  if (process.argv.includes("--compare")) return compare();
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
      args: SERVER_ARGS,
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
        args: SERVER_ARGS,
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

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The reference server, installed once into the ignored .cache/bench. */
function ensureReferenceServer(): string {
  if (!existsSync(PG_REF)) {
    process.stderr.write(`installing @modelcontextprotocol/server-postgres into ${BENCH_CACHE}\n`);
    execFileSync("npm", ["i", "--prefix", BENCH_CACHE, "--no-audit", "--no-fund", "@modelcontextprotocol/server-postgres@0.6.2"], { stdio: "inherit" });
  }
  return PG_REF;
}

interface Side {
  name: "trace-doctor" | "PG-ref" | "raw pg";
  run(): Promise<void>;
}

interface CompareScenario {
  name: string;
  tool: string;
  args: Record<string, unknown>;
  /** The equivalent SQL for the reference server and raw pg (literals inlined: the reference query tool takes none). */
  sql: string;
  goal?: string;
}

const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;

async function compareScenarios(admin: pg.Client, table: string): Promise<CompareScenario[]> {
  const base = await scenarios(admin, table);
  const by = (name: string) => base.find((b) => b.name === name)!;
  const trace = String(by("get_trace by trace_id").args.trace_id);
  const job = String(by("get_trace by job_id").args.job_id);
  const jobSpans = `SELECT * FROM ${table} WHERE trace_id IN (SELECT trace_id FROM ${table} WHERE metadata->>'job_id' = ${lit(job)}) ORDER BY started_at`;
  return [
    { name: "get_trace by trace_id", tool: "get_trace", args: { trace_id: trace }, sql: `SELECT * FROM ${table} WHERE trace_id = ${lit(trace)} ORDER BY started_at`, goal: "p50 ≤ PG-ref" },
    { name: "get_trace by job_id", tool: "get_trace", args: { job_id: job }, sql: jobSpans },
    {
      name: "list_failed_spans, last 24 h",
      tool: "list_failed_spans",
      args: {},
      // The floor the issue names: failures grouped and counted through the partial failures index.
      sql: `SELECT service, operation, status, count(*) FROM ${table} WHERE started_at >= now() - interval '24 hours' AND lower(status) IN ('failed', 'error', 'timeout', 'started') GROUP BY 1, 2, 3`,
      goal: "p50 ≤ 2× raw pg (grouped count)",
    },
    { name: "diagnose by job_id", tool: "diagnose", args: { job_id: job }, sql: jobSpans, goal: "p50 ≤ 150 ms" },
    { name: "find_gaps by job_id", tool: "find_gaps", args: { job_id: job }, sql: jobSpans, goal: "p50 ≤ 150 ms" },
  ];
}

function stdioTransport(command: string, args: string[], env: Record<string, string>): StdioClientTransport {
  return new StdioClientTransport({ command, args, env: { ...(process.env as Record<string, string>), ...env }, stderr: "ignore" });
}

/**
 * Spawn → initialize → tools/list, `n` times each, the two servers alternating, through the SDK's
 * client (which compiles the listed output schemas); and on, in the same start, to the first answer of
 * a call (get_trace, and the reference server's query for the same trace), for what a client waits
 * for before the first result.
 */
async function coldStarts(table: string, n: number, first: CompareScenario): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = { "trace-doctor": [], "PG-ref": [], "trace-doctor call": [], "PG-ref call": [] };
  for (let i = 0; i < n; i++) {
    for (const [name, t, call] of [
      ["trace-doctor", () => stdioTransport(process.execPath, SERVER_ARGS, { DATABASE_URL: URL_, TRACE_DOCTOR_TABLE: table }), { name: first.tool, arguments: first.args }],
      ["PG-ref", () => stdioTransport(process.execPath, [PG_REF, URL_], {}), { name: "query", arguments: { sql: first.sql } }],
    ] as const) {
      const t0 = performance.now();
      const client = new Client({ name: "bench-start", version: "1.0.0" });
      await client.connect(t());
      await client.listTools();
      out[name]!.push(performance.now() - t0);
      const r = (await client.callTool(call)) as CallToolResult;
      if (r.isError) throw new Error(`${name} first call: ${JSON.stringify(r.content).slice(0, 300)}`);
      out[`${name} call`]!.push(performance.now() - t0);
      await client.close();
    }
  }
  return out;
}

async function compare(): Promise<void> {
  ensureReferenceServer();
  const sizes = (flag("sizes") ?? flag("size") ?? "10000000").split(",").map(Number);
  const runs = Number(flag("runs") ?? RUNS);
  const admin = new pg.Client({ connectionString: URL_ });
  await admin.connect();
  const raw = new pg.Client({ connectionString: URL_ });
  await raw.connect();
  const lines: string[] = [];
  const goals: string[] = [];
  const perSize = new Map<number, Map<string, number>>();
  const load = loadavg().map((l) => l.toFixed(2)).join(" ");
  lines.push(
    `Benchmark --compare: ${runs} interleaved rounds after 3 warm-up rounds; Node ${process.version}; ${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB; load average at start ${load}; Postgres at ${new URL(URL_).host}.`,
  );
  for (const size of sizes) {
    const table = await ensureTable(admin, size);
    const count = (await admin.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;
    const window = (await admin.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE lower(status) IN ('failed', 'error', 'timeout'))::int AS f FROM ${table} WHERE started_at >= now() - interval '24 hours'`,
    )).rows[0];
    const td = new Client({ name: "bench", version: "1.0.0" });
    const tdTransport = stdioTransport(process.execPath, SERVER_ARGS, { DATABASE_URL: URL_, TRACE_DOCTOR_TABLE: table });
    await td.connect(tdTransport);
    const ref = new Client({ name: "bench", version: "1.0.0" });
    const refTransport = stdioTransport(process.execPath, [PG_REF, URL_], {});
    await ref.connect(refTransport);
    const only = flag("only");
    const list = (await compareScenarios(admin, table)).filter((sc) => only === undefined || sc.name.includes(only));
    lines.push(
      "",
      `${count.toLocaleString("en-US")} spans (${table}; the last 24 h hold ${window.n.toLocaleString("en-US")}, ${window.f.toLocaleString("en-US")} failing):`,
      "",
      "| call | trace-doctor p50 | p95 | PG-ref p50 | p95 | raw pg p50 | p95 | ÷ PG-ref | ÷ raw pg |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    );
    const p50s = new Map<string, number>();
    perSize.set(size, p50s);
    for (const sc of list) {
      const sides: Side[] = [
        {
          name: "trace-doctor",
          run: async () => {
            const r = (await td.callTool({ name: sc.tool, arguments: sc.args })) as CallToolResult;
            if (r.isError) throw new Error(`${sc.name}: ${JSON.stringify(r.content).slice(0, 300)}`);
          },
        },
        {
          name: "PG-ref",
          run: async () => {
            const r = (await ref.callTool({ name: "query", arguments: { sql: sc.sql } })) as CallToolResult;
            if (r.isError) throw new Error(`PG-ref ${sc.name}: ${JSON.stringify(r.content).slice(0, 300)}`);
          },
        },
        { name: "raw pg", run: async () => void (await raw.query(sc.sql)) },
      ];
      const times: Record<string, number[]> = { "trace-doctor": [], "PG-ref": [], "raw pg": [] };
      for (let i = 0; i < 3 + runs; i++) {
        // Interleaved, and the order rotates, so no side always runs on the cache the one before warmed.
        for (let j = 0; j < sides.length; j++) {
          const side = sides[(i + j) % sides.length]!;
          const t0 = performance.now();
          await side.run();
          if (i >= 3) times[side.name]!.push(performance.now() - t0);
        }
      }
      const p = (name: string, q: number) => percentile(times[name]!, q);
      const ms = (v: number) => `${v.toFixed(1)} ms`;
      p50s.set(sc.name, p("trace-doctor", 0.5));
      lines.push(
        `| ${sc.name} | ${ms(p("trace-doctor", 0.5))} | ${ms(p("trace-doctor", 0.95))} | ${ms(p("PG-ref", 0.5))} | ${ms(p("PG-ref", 0.95))} | ${ms(p("raw pg", 0.5))} | ${ms(p("raw pg", 0.95))} | ${(p("trace-doctor", 0.5) / p("PG-ref", 0.5)).toFixed(2)}× | ${(p("trace-doctor", 0.5) / p("raw pg", 0.5)).toFixed(2)}× |`,
      );
      process.stderr.write(`${lines[lines.length - 1]}\n`);
      if (sc.goal && size === sizes[sizes.length - 1]) {
        const td50 = p("trace-doctor", 0.5);
        const met =
          sc.goal === "p50 ≤ PG-ref" ? td50 <= p("PG-ref", 0.5) : sc.goal.startsWith("p50 ≤ 2×") ? td50 <= 2 * p("raw pg", 0.5) : td50 <= 150;
        const ratio = sc.goal === "p50 ≤ PG-ref" ? `${(td50 / p("PG-ref", 0.5)).toFixed(2)}× PG-ref` : sc.goal.startsWith("p50 ≤ 2×") ? `${(td50 / p("raw pg", 0.5)).toFixed(2)}× the grouped count` : `${td50.toFixed(0)} ms`;
        goals.push(`| ${sc.name}: ${sc.goal} | ${ratio} | ${met ? "met" : "not met"} |`);
      }
    }
    const rss = { td: peakRssMb(tdTransport.pid), ref: peakRssMb(refTransport.pid) };
    lines.push("", `Peak RSS (VmHWM) after the run: trace-doctor ${rss.td} MB, PG-ref ${rss.ref} MB.`);
    if (size === sizes[sizes.length - 1]) goals.push(`| peak RSS ≤ 120 MB | ${rss.td} MB (PG-ref ${rss.ref} MB) | ${rss.td !== null && rss.td <= 120 ? "met" : "not met"} |`);
    await td.close();
    await ref.close();
  }
  const largest = sizes[sizes.length - 1]!;
  if (flag("only") === undefined) await coldStartLines(admin, largest, lines, goals);
  if (sizes.length > 1) {
    const small = perSize.get(sizes[0]!)!;
    const big = perSize.get(largest)!;
    for (const name of ["diagnose by job_id", "find_gaps by job_id"].filter((n) => big.has(n))) {
      const r = big.get(name)! / small.get(name)!;
      goals.push(`| ${name}: within 1.5× from ${sizes[0]!.toLocaleString("en-US")} to ${largest.toLocaleString("en-US")} spans | ${r.toFixed(2)}× | ${r <= 1.5 ? "met" : "not met"} |`);
    }
  }
  lines.push("", `Goals at ${largest.toLocaleString("en-US")} spans:`, "", "| goal | measured | |", "|---|---|---|", ...goals);
  lines.push("", `Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}.`);
  process.stdout.write(`${lines.join("\n")}\n`);
  const partitions = process.env.BENCH_PARTITION_TABLES?.split(",");
  if (partitions?.length === 2) process.stdout.write(`\n${(await partitionLookups(admin, partitions as [string, string], runs)).join("\n")}\n`);
  await raw.end();
  await admin.end();
}

/** Cold starts on the largest table: a line for the report and the goal's row. */
async function coldStartLines(admin: pg.Client, largest: number, lines: string[], goals: string[]): Promise<void> {
  const startTable = await ensureTable(admin, largest);
  const firstCall = (await compareScenarios(admin, startTable))[0]!;
  const starts = await coldStarts(startTable, COLD_STARTS, firstCall);
  const tdStart = percentile(starts["trace-doctor"]!, 0.5);
  const refStart = percentile(starts["PG-ref"]!, 0.5);
  const p = (name: string, q: number) => percentile(starts[name]!, q).toFixed(0);
  lines.push(
    "",
    `Cold start, spawn → initialize → tools/list through the SDK's client, ${COLD_STARTS} starts each, alternating: trace-doctor p50 ${tdStart.toFixed(0)} ms (p95 ${p("trace-doctor", 0.95)}), PG-ref p50 ${refStart.toFixed(0)} ms (p95 ${p("PG-ref", 0.95)}). ` +
      `On to the first answer (${firstCall.name}; PG-ref: its query): trace-doctor p50 ${p("trace-doctor call", 0.5)} ms, PG-ref p50 ${p("PG-ref call", 0.5)} ms.`,
  );
  goals.push(`| cold start ≤ PG-ref | ${tdStart.toFixed(0)} ms vs ${refStart.toFixed(0)} ms (${(tdStart / refStart).toFixed(2)}×) | ${tdStart <= refStart ? "met" : "not met"} |`);
}

/**
 * The same lookups get_trace makes (SpanTable.execution, in process: the statement, not MCP) on a plain
 * and a partitioned table holding the same rows, interleaved: a recent trace id, a recent job id.
 */
async function partitionLookups(admin: pg.Client, [plain, parted]: [string, string], runs: number): Promise<string[]> {
  // The same rank of row in each table (the two may have been filled at different times, so job ids differ).
  const pick = async (table: string) =>
    (
      await admin.query(
        `SELECT trace_id, metadata->>'job_id' AS job FROM ${table} WHERE started_at > now() - interval '12 hours' AND operation = 'execute_question' ORDER BY started_at DESC LIMIT 1`,
      )
    ).rows[0] as { trace_id: string; job: string };
  const ids = { plain: await pick(plain), partitioned: await pick(parted) };
  const partitions = (await admin.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = to_regclass($1)`, [parted])).rows[0].n;
  const db = new PostgresDatabase(URL_, { statementTimeoutMs: 30_000 });
  const tables = { plain: new SpanTable(db, plain, ["job_id"]), partitioned: new SpanTable(db, parted, ["job_id"]) };
  const out = ["| lookup | plain p50 | partitioned p50 | ratio |", "|---|---:|---:|---:|"];
  for (const [name, first] of [
    ["trace id (recent)", "trace_id"],
    ["job id (recent)", "job_id"],
  ] as const) {
    const times: Record<string, number[]> = { plain: [], partitioned: [] };
    for (let i = 0; i < 3 + runs; i++) {
      for (const side of i % 2 ? (["plain", "partitioned"] as const) : (["partitioned", "plain"] as const)) {
        const id = first === "trace_id" ? ids[side].trace_id : ids[side].job;
        const t0 = performance.now();
        const r = await tables[side].execution({ id, first, limit: 20_000, linked: true, linkMarginMs: 60_000, maxTraces: 20 });
        if (!r.spans.length) throw new Error(`${name} found nothing on ${side}`);
        if (i >= 3) times[side]!.push(performance.now() - t0);
      }
    }
    const a = percentile(times.plain!, 0.5);
    const b = percentile(times.partitioned!, 0.5);
    out.push(`| ${name} | ${a.toFixed(2)} ms | ${b.toFixed(2)} ms | ${(b / a).toFixed(2)}× |`);
  }
  await db.close();
  return [`Lookups by id (the get_trace statement, in process), ${plain} vs ${parted} (${partitions} partitions), same rows:`, "", ...out];
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
