// What the built server does not load to give its first answers: an MCP client spawns it often, so
// initialize, tools/list and prompts/list must not wait for code only some requests need — the YAML
// parser and Mustache (prompts/ comes parsed from the build), AJV (the SDK server's validator, used
// only for elicitation), or Node's fetch (undici). And tools/list, recorded by the build, must be
// exactly what the SDK answers for the same tools. The probe lists every file loaded, as an ES
// module or through require(); a bundled chunk is recognised by text of the package it holds.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { servedInitialize, servedToolList } from "../../src/tool-list.js";
import { requirePostgresOrSkip, TEST_DATABASE_URL } from "../support/test-databases.js";

const DIST = fileURLToPath(new URL("../../dist/", import.meta.url));
const SERVER = join(DIST, "index.js");
const PROBE = fileURLToPath(new URL("../support/load-probe.mjs", import.meta.url));
const ready = await requirePostgresOrSkip();
const dir = mkdtempSync(join(tmpdir(), "td-cold-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Loaded {
  builtins: string[];
  required: string[];
  esm: string[];
}

/** Sends the requests one at a time, each after the last one's answer, then closes stdin. */
async function loadedAfter(requests: Array<{ method: string; params?: object }>): Promise<{ loaded: Loaded; answers: unknown[] }> {
  const out = join(dir, `loaded-${Math.random().toString(36).slice(2)}.json`);
  const child = spawn(process.execPath, ["--import", PROBE, SERVER], {
    env: { PATH: process.env.PATH ?? "", DATABASE_URL: TEST_DATABASE_URL!, LOAD_PROBE_OUT: out },
    stdio: ["pipe", "pipe", "ignore"],
  });
  const answers: unknown[] = [];
  const exited = new Promise((resolve) => child.on("exit", resolve));
  await new Promise<void>((resolve, reject) => {
    let buffer = "";
    const send = (i: number) => {
      if (i === requests.length) return resolve();
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: i + 1, ...requests[i] })}\n`);
    };
    child.stdout.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const message = JSON.parse(buffer.slice(0, nl)) as { id?: number; error?: unknown };
        buffer = buffer.slice(nl + 1);
        if (message.id === undefined) continue;
        if (message.error) return reject(new Error(JSON.stringify(message.error)));
        answers.push(message);
        if (message.id === 1) child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
        send(message.id);
      }
    });
    child.on("exit", () => reject(new Error("the server exited before answering")));
    send(0);
  });
  child.stdin.end();
  await exited;
  return { loaded: JSON.parse(readFileSync(out, "utf8")) as Loaded, answers };
}

const INITIALIZE = { method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "cold-start", version: "1" } } };
/** Text found in each package's code, bundled or not (string literals survive bundling and minifying). */
const MARKERS = { yaml: "YAMLParseError", mustache: '"mustache.js"', ajv: "ajv.addSchema" } as const;
const packageLoaded = (loaded: Loaded, name: keyof typeof MARKERS) =>
  loaded.required.some((f) => f.includes(`/node_modules/${name}/`)) || loaded.esm.some((f) => readFileSync(f, "utf8").includes(MARKERS[name]));

describe.runIf(ready)("the built server's cold start", () => {
  it("answers initialize, tools/list and prompts/list without the YAML parser, Mustache, AJV or undici", async () => {
    const { loaded, answers } = await loadedAfter([INITIALIZE, { method: "tools/list" }, { method: "prompts/list" }]);
    expect(answers).toHaveLength(3);
    expect(JSON.stringify(answers[2])).toContain('"name":"diagnose_failure"');
    // The probe sees what loaded: the bundle's entry, and pg's code in one of its chunks.
    expect(loaded.esm).toContain(SERVER);
    expect(loaded.esm.some((f) => readFileSync(f, "utf8").includes("isCloudflareRuntime"))).toBe(true);
    expect(loaded.builtins).toContain("net");
    expect(loaded.builtins.filter((m) => m.includes("undici"))).toEqual([]);
    expect(packageLoaded(loaded, "yaml")).toBe(false);
    expect(packageLoaded(loaded, "mustache")).toBe(false);
    expect(packageLoaded(loaded, "ajv")).toBe(false);
  });

  it("answers tools/list with the build's record of it: what the SDK answers for the same tools", async () => {
    const { answers } = await loadedAfter([INITIALIZE, { method: "tools/list" }]);
    const served = (answers[1] as { result: { tools: Array<{ name: string; outputSchema?: unknown }> } }).result;
    expect(served.tools.map((t) => t.name)).toEqual(["diagnose", "get_trace", "list_failed_spans", "find_gaps", "compare_executions", "sentry_issue_context"]);
    expect(served.tools.every((t) => t.outputSchema)).toBe(true);
    expect(served).toEqual(await servedToolList());
    // initialize, answered before the SDK loaded, with the SDK's capabilities and server info.
    const init = (answers[0] as { result: Record<string, unknown> }).result;
    const recorded = await servedInitialize();
    expect(init).toMatchObject({ protocolVersion: "2025-06-18", capabilities: recorded.capabilities, serverInfo: recorded.serverInfo });
    expect(String(init.instructions)).toContain("Spans come from Postgres at");
  });

  it("loads Mustache on the first prompts/get, and still not the YAML parser", async () => {
    const { loaded, answers } = await loadedAfter([INITIALIZE, { method: "prompts/get", params: { name: "diagnose_failure", arguments: { job_id: "job-1" } } }]);
    expect(JSON.stringify(answers[1])).toContain("- job_id: job-1");
    expect(packageLoaded(loaded, "mustache")).toBe(true);
    expect(packageLoaded(loaded, "yaml")).toBe(false);
  });
});
