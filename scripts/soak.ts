// npm run soak: drives the built server over stdio with a mixed concurrent load — valid calls and
// fuzzed ones (wrong types, huge and NUL-laden strings, unknown ids, odd windows) — for a bounded time,
// then prints what matters: crashes, protocol errors, tool errors by code, answers over the budget,
// latency p50/p95 and the server's peak RSS.
//
// Settings: SOAK_SECONDS (30), SOAK_CONCURRENCY (16), DATABASE_URL (unset: the demo data),
// TRACE_DOCTOR_MAX_ANSWER_BYTES (the budget checked, default 100000).

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { readDemoManifest } from "../src/demo/demo-database.js";

const SERVER = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const SECONDS = Number(process.env.SOAK_SECONDS ?? 30);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 16);
const BUDGET = Number(process.env.TRACE_DOCTOR_MAX_ANSWER_BYTES ?? 100_000);

let seed = 20251022;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const NASTY: readonly unknown[] = [
  "",
  " ",
  "\u0000",
  `a\u0000b`,
  "x".repeat(100_000),
  "'; DROP TABLE trace_spans; --",
  "../../etc/passwd",
  "\u202e\ud800",
  "9".repeat(400),
  -1,
  0,
  1e308,
  Number.MAX_SAFE_INTEGER,
  null,
  true,
  [],
  {},
  ["a", 1],
  { $gt: "" },
  "2h",
  "7d",
  "not-a-time",
  "2025-13-45T99:99:99Z",
];

function fuzz(args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...args };
  const keys = [...Object.keys(out), "trace_id", "job_id", "since", "until", "max_spans", "limit", "sample", "metadata", "cursor", "issue", "unknown_key"];
  for (let i = 0, n = 1 + Math.floor(random() * 3); i < n; i++) out[pick(keys)] = pick(NASTY);
  return out;
}

async function main(): Promise<void> {
  const tempRoot = process.env.DATABASE_URL ? null : mkdtempSync(join(tmpdir(), "trace-doctor-soak-"));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  if (tempRoot) env.TRACE_DOCTOR_DEMO_DIR = join(tempRoot, "demo");
  const transport = new StdioClientTransport({ command: process.execPath, args: [SERVER], env, stderr: "ignore" });
  const client = new Client({ name: "soak", version: "1.0.0" });
  await client.connect(transport);
  const pid = transport.pid;
  let exited = false;
  transport.onclose = () => (exited = true);

  const manifest = tempRoot ? readDemoManifest(env.TRACE_DOCTOR_DEMO_DIR!) : null;
  const ex = manifest?.examples;
  const valid: Array<[string, Record<string, unknown>]> = [
    ["list_failed_spans", {}],
    ["list_failed_spans", { since: "2h", limit: 20 }],
    ["find_gaps", {}],
    ...(ex
      ? ([
          ["get_trace", { job_id: ex.immediateFailureJobId }],
          ["get_trace", { trace_id: ex.successTraceId, include_metadata: "all", max_spans: 500 }],
          ["find_gaps", { job_id: ex.timeoutJobId }],
          ["diagnose", { job_id: ex.immediateFailureJobId }],
          ["diagnose", { job_id: ex.lostRequestJobId }],
          ["sentry_issue_context", { job_id: ex.immediateFailureJobId }],
        ] as Array<[string, Record<string, unknown>]>)
      : []),
  ];

  const latencies: number[] = [];
  const codes = new Map<string, number>();
  let calls = 0;
  let protocolErrors = 0;
  let overBudget = 0;
  let peakRss = 0;
  const sampleRss = () => {
    try {
      const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
      if (Number.isFinite(kb)) peakRss = Math.max(peakRss, kb);
    } catch {
      // the process is gone: counted as a crash below
    }
  };
  const rssTimer = setInterval(sampleRss, 500);
  const endAt = Date.now() + SECONDS * 1000;

  const worker = async () => {
    while (Date.now() < endAt && !exited) {
      const [name, base] = pick(valid);
      const fuzzed = random() < 0.5;
      const args = fuzzed ? fuzz(base) : base;
      const t0 = performance.now();
      try {
        const r = (await client.callTool({ name: fuzzed && random() < 0.05 ? "no_such_tool" : name, arguments: args }, undefined, { timeout: 60_000 })) as CallToolResult;
        latencies.push(performance.now() - t0);
        calls++;
        if (Buffer.byteLength(JSON.stringify(r)) > BUDGET) overBudget++;
        const code = r.isError ? String((r._meta?.["trace-doctor/error"] as { code?: string } | undefined)?.code ?? "protocol-level isError") : "ok";
        codes.set(code, (codes.get(code) ?? 0) + 1);
      } catch {
        protocolErrors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  clearInterval(rssTimer);
  sampleRss();
  const alive = !exited;
  await client.close().catch(() => {});
  if (tempRoot) rmSync(tempRoot, { recursive: true, force: true });

  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!.toFixed(1) : "–");
  process.stdout.write(
    [
      `soak: ${SECONDS} s, ${CONCURRENCY} concurrent, ${process.env.DATABASE_URL ? "Postgres" : "demo data"}, Node ${process.version}`,
      `calls ${calls}, crashes ${alive ? 0 : 1}, protocol errors ${protocolErrors}, answers over ${BUDGET} bytes ${overBudget}`,
      `results: ${[...codes.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(", ")}`,
      `latency p50 ${q(0.5)} ms, p95 ${q(0.95)} ms; server peak RSS ${Math.round(peakRss / 1024)} MB`,
      "",
    ].join("\n"),
  );
  if (!alive || overBudget > 0 || (codes.get("internal") ?? 0) > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
