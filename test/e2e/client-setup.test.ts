// The README's client section, exercised: `trace-doctor config <client>` prints a config, and the server
// starts exactly as that config says — command, args, env with the client's variables resolved — from
// another directory, on real Postgres; with --http, the client reaches a running HTTP server with the
// headers the config names. `trace-doctor call` runs one tool for a script, with its exit codes.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { resolveClientVariables } from "../../src/cli/client-config.js";
import { generateDemoDataset } from "../../src/demo/demo-dataset.js";
import { applySchema, insertSpans } from "../../src/store/span-writer.js";
import { requirePostgresOrSkip, TEST_DATABASE_URL } from "../support/test-databases.js";

const run = promisify(execFile);
const SERVER = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const ready = await requirePostgresOrSkip();

interface StdioEntry {
  command: string;
  args: string[];
  env?: Record<string, string>;
}

describe.runIf(ready)("client setup from `trace-doctor config`, started from another directory", () => {
  const schema = `td_clients_${process.pid}`;
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  const elsewhere = mkdtempSync(join(tmpdir(), "trace-doctor-client-"));
  const manifest = generateDemoDataset({ now: new Date() });
  const settings = { PATH: process.env.PATH ?? "", DATABASE_URL: TEST_DATABASE_URL!, TRACE_DOCTOR_TABLE: `${schema}.trace_spans` };

  beforeAll(async () => {
    await admin.query(`CREATE SCHEMA ${schema}`);
    await applySchema(admin, `${schema}.trace_spans`);
    await insertSpans(admin, manifest.rows, `${schema}.trace_spans`);
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    rmSync(elsewhere, { recursive: true, force: true });
  });

  async function printed(client: string, extra: string[] = [], env: Record<string, string> = settings): Promise<Record<string, any>> {
    const { stdout } = await run(process.execPath, [SERVER, "config", client, ...extra], { env, cwd: elsewhere });
    return JSON.parse(stdout);
  }

  /** Starts the server as the client would from this entry, and asks it for a job's trace. */
  async function startAsConfigured(entry: StdioEntry, inputs: Record<string, string> = {}): Promise<void> {
    const env = Object.fromEntries(Object.entries(entry.env ?? {}).map(([k, v]) => [k, resolveClientVariables(v, settings, inputs)]));
    const client = new Client({ name: "client-setup", version: "1" });
    await client.connect(new StdioClientTransport({ command: entry.command, args: entry.args, env: { PATH: settings.PATH, ...env }, cwd: elsewhere, stderr: "ignore" }));
    try {
      expect(client.getInstructions()).toMatch(/Spans come from Postgres/);
      const r = (await client.callTool({ name: "get_trace", arguments: { job_id: manifest.manifest.examples.immediateFailureJobId } })) as CallToolResult;
      expect(r.isError).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ duration_ms: 13 });
    } finally {
      await client.close();
    }
  }

  it("Claude Desktop: literal values, absolute paths", async () => {
    const config = await printed("claude-desktop");
    const entry = config.mcpServers["trace-doctor"] as StdioEntry;
    expect(entry.command).toBe(process.execPath);
    expect(entry.args).toEqual([SERVER]);
    expect(entry.env).toEqual({ DATABASE_URL: TEST_DATABASE_URL, TRACE_DOCTOR_TABLE: `${schema}.trace_spans` });
    await startAsConfigured(entry);
  });

  it("Claude Code: ${VAR} references, resolved from the environment", async () => {
    const config = await printed("claude-code");
    const entry = config.mcpServers["trace-doctor"] as StdioEntry & { type: string };
    expect(entry.type).toBe("stdio");
    expect(entry.env).toEqual({ DATABASE_URL: "${DATABASE_URL}", TRACE_DOCTOR_TABLE: "${TRACE_DOCTOR_TABLE}" });
    await startAsConfigured(entry);
  });

  it("Cursor: ${env:VAR} references", async () => {
    const entry = (await printed("cursor")).mcpServers["trace-doctor"] as StdioEntry;
    expect(entry.env).toEqual({ DATABASE_URL: "${env:DATABASE_URL}", TRACE_DOCTOR_TABLE: "${env:TRACE_DOCTOR_TABLE}" });
    await startAsConfigured(entry);
  });

  it("VS Code: servers, with the connection string prompted for as a password input", async () => {
    const config = await printed("vscode");
    expect(config.inputs).toEqual([{ type: "promptString", id: "trace-doctor-database-url", description: "DATABASE_URL for trace-doctor", password: true }]);
    const entry = config.servers["trace-doctor"] as StdioEntry;
    expect(entry.env).toEqual({ DATABASE_URL: "${input:trace-doctor-database-url}", TRACE_DOCTOR_TABLE: `${schema}.trace_spans` });
    await startAsConfigured(entry, { "trace-doctor-database-url": TEST_DATABASE_URL! });
  });

  describe("--http: a client of a running HTTP server", () => {
    let server: ChildProcess;
    let url = "";
    const token = "test-http-token-0123456789abcdef";
    beforeAll(async () => {
      server = spawn(process.execPath, [SERVER, "serve", "--http", "127.0.0.1:0"], { env: { ...settings, TRACE_DOCTOR_HTTP_TOKEN: token }, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL on stderr: ${stderr}`)), 15_000);
        server.stderr!.on("data", (d: Buffer) => {
          stderr += d.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr);
          if (m) {
            url = m[1]!;
            clearTimeout(timer);
            resolve();
          }
        });
      });
    });
    afterAll(() => {
      server?.kill("SIGTERM");
    });

    it.each(["claude-code", "cursor", "vscode"])("%s: the URL and the bearer header reach the server", async (name) => {
      const config = await printed(name, ["--http", url], { PATH: settings.PATH, TRACE_DOCTOR_HTTP_TOKEN: token });
      const entry = (config.mcpServers ?? config.servers)["trace-doctor"] as { url: string; headers: Record<string, string> };
      expect(entry.url).toBe(url);
      const headers = Object.fromEntries(Object.entries(entry.headers).map(([k, v]) => [k, resolveClientVariables(v, { TRACE_DOCTOR_HTTP_TOKEN: token }, { "trace-doctor-http-token": token })]));
      const client = new Client({ name: "client-setup-http", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(entry.url), { requestInit: { headers } }));
      try {
        expect((await client.listTools()).tools.map((t) => t.name)).toContain("get_trace");
      } finally {
        await client.close();
      }
    });

    it("Claude Desktop: the remote server through the mcp-remote bridge, with the header", async () => {
      const config = await printed("claude-desktop", ["--http", url], { PATH: settings.PATH, TRACE_DOCTOR_HTTP_TOKEN: token });
      expect(config.mcpServers["trace-doctor"]).toEqual({ command: "npx", args: ["-y", "mcp-remote", url, "--header", `Authorization: Bearer ${token}`] });
    });
  });

  describe("trace-doctor call, for scripts", () => {
    const call = (args: string[]) =>
      run(process.execPath, [SERVER, "call", ...args], { env: settings, cwd: elsewhere }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
      );

    it("prints the structured result as JSON and exits 0", async () => {
      const r = await call(["diagnose", JSON.stringify({ job_id: manifest.manifest.examples.immediateFailureJobId })]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).hypotheses[0].kind).toBe("immediate_caller_failure");
    });

    it("--text prints the text view", async () => {
      const r = await call(["get_trace", JSON.stringify({ job_id: manifest.manifest.examples.immediateFailureJobId }), "--text"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/runner\.execute_question FAILED/);
    });

    it("a tool error exits 1 with the error as JSON", async () => {
      const r = await call(["get_trace", '{"trace_id": "no-such-trace"}']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: "not_found", message: expect.stringMatching(/No spans found/) });
    });

    it.each([[["no_such_tool"]], [["get_trace", "{not json"]], [["get_trace", "[1]"]], [["get_trace", '{"max_spans": "lots"}']]])("bad usage %j exits 2", async (args) => {
      expect((await call(args)).code).toBe(2);
    });
  });
});
