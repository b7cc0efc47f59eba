// Cold start without an SDK client: spawn → initialize → tools/list over stdio, timed from the spawn
// to the tools/list answer with a bare JSON-RPC exchange, so no client-side cost (the SDK client
// compiles every output schema with AJV when it lists tools) is counted. The built server (as
// `trace-doctor config` starts it) and the reference Postgres MCP server take turns, one start each
// per round; p50 and min per server, and the ratio of the p50s. Not shipped.
//
//   npx tsx scripts/cold-start.ts [--runs 21] [--table trace_spans]
//
// BENCH_DATABASE_URL as for the benchmark (default postgres://postgres@127.0.0.1:5432/postgres); the
// reference server is installed into .cache/bench/ on first use, as the benchmark does.

import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const SERVER = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const BENCH_CACHE = fileURLToPath(new URL("../.cache/bench/", import.meta.url));
const PG_REF = `${BENCH_CACHE}node_modules/@modelcontextprotocol/server-postgres/dist/index.js`;
const URL_ = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const { values } = parseArgs({ options: { runs: { type: "string", default: "21" }, table: { type: "string", default: "trace_spans" } } });
const runs = Number(values.runs);

/** Milliseconds from the spawn to the tools/list answer. */
function coldStart(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { env: { ...(process.env as Record<string, string>), ...env }, stdio: ["pipe", "pipe", "ignore"] });
    const send = (message: object) => child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
    let buffer = "";
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const message = JSON.parse(buffer.slice(0, nl)) as { id?: number; error?: unknown };
        buffer = buffer.slice(nl + 1);
        if (message.error) reject(new Error(JSON.stringify(message.error)));
        if (message.id === 1) {
          send({ method: "notifications/initialized" });
          send({ id: 2, method: "tools/list" });
        } else if (message.id === 2) {
          resolve(performance.now() - t0);
          child.kill();
        }
      }
    });
    child.on("exit", () => reject(new Error(`${args.at(-1)} exited before answering tools/list`)));
    send({ id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "cold-start", version: "1" } } });
  });
}

if (!existsSync(SERVER)) throw new Error("dist/index.js is missing: run npm run build first");
if (!existsSync(PG_REF)) execFileSync("npm", ["i", "--prefix", BENCH_CACHE, "--no-audit", "--no-fund", "@modelcontextprotocol/server-postgres@0.6.2"], { stdio: "inherit" });

const sides: Array<{ name: string; args: string[]; env: Record<string, string> }> = [
  { name: "trace-doctor", args: [SERVER], env: { DATABASE_URL: URL_, TRACE_DOCTOR_TABLE: values.table } },
  { name: "PG-ref", args: [PG_REF, URL_], env: {} },
];
const times = new Map(sides.map((s) => [s.name, [] as number[]]));
for (let i = 0; i < runs; i++) for (const side of sides) times.get(side.name)!.push(await coldStart(side.args, side.env));
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const [td, ref] = sides.map((s) => times.get(s.name)!);
process.stdout.write(
  `Cold start, spawn → initialize → tools/list, no SDK client, ${runs} starts each, alternating; Node ${process.version}: ` +
    `trace-doctor p50 ${p50(td!).toFixed(0)} ms (min ${Math.min(...td!).toFixed(0)}), PG-ref p50 ${p50(ref!).toFixed(0)} ms (min ${Math.min(...ref!).toFixed(0)}), ${(p50(td!) / p50(ref!)).toFixed(2)}×.\n`,
);
