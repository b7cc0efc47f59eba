// Times diagnose and find_gaps for one job through the built server over stdio, on a filled span
// table: the latest 13 ms failure and the latest healthy execution, each called `--runs` times after a
// warm-up; prints p50, p95 and max per call. Not a test: run it by hand against a table `npm run fill`
// made (Sentry unset, so diagnose reads spans only).
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx test/perf/time-one-execution.ts --table bench_1m [--runs 20] [--server dist/index.js]

import { resolve } from "node:path";
import pg from "pg";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { quoteTableName } from "../../src/store/span-columns.js";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const url = process.env.DATABASE_URL;
if (!url) throw new Error("Set DATABASE_URL to the database holding the table.");
const table = arg("table", "bench_1m");
const runs = Number(arg("runs", "20"));
const server = resolve(arg("server", "dist/index.js"));

const db = new pg.Client({ connectionString: url });
await db.connect();
const t = quoteTableName(table);
const pick = async (where: string) =>
  String((await db.query(`SELECT metadata->>'job_id' AS job FROM ${t} WHERE service = 'runner' AND operation = 'execute_question' AND ${where} ORDER BY started_at DESC LIMIT 1`)).rows[0]?.job);
const jobs = { failing: await pick("lower(status) = 'failed' AND duration_ms < 100"), healthy: await pick("lower(status) = 'completed' AND started_at < now() - interval '10 minutes'") };
const count = Number((await db.query(`SELECT reltuples::bigint AS n FROM pg_class WHERE oid = to_regclass($1)`, [t])).rows[0]?.n ?? 0);
await db.end();

const env: Record<string, string> = { ...(process.env as Record<string, string>), DATABASE_URL: url, TRACE_DOCTOR_TABLE: table };
for (const k of ["SENTRY_AUTH_TOKEN", "SENTRY_ACCESS_TOKEN", "SENTRY_ORG", "TRACE_DOCTOR_SENTRY_DSN"]) delete env[k];
const client = new Client({ name: "time-one-execution", version: "1.0.0" });
await client.connect(new StdioClientTransport({ command: process.execPath, args: [server], env, stderr: "ignore" }));

const q = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
process.stdout.write(`${table}: ~${count.toLocaleString()} spans · ${server} · ${runs} runs after one warm-up\n`);
for (const [tool, kind] of [["diagnose", "failing"], ["diagnose", "healthy"], ["find_gaps", "failing"], ["find_gaps", "healthy"]] as const) {
  const args = { job_id: jobs[kind] };
  const call = async () => {
    const t0 = performance.now();
    const r = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
    if (r.isError) throw new Error(`${tool} ${JSON.stringify(args)}: ${JSON.stringify(r.content)}`);
    return performance.now() - t0;
  };
  await call();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await call());
  times.sort((a, b) => a - b);
  process.stdout.write(`${tool.padEnd(9)} ${kind.padEnd(7)} job ${args.job_id}: p50 ${q(times, 0.5).toFixed(1)} ms, p95 ${q(times, 0.95).toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms\n`);
}
await client.close();
