// End to end: the built command (`node dist/index.js serve --http 127.0.0.1:0`) on the embedded demo
// data, driven over HTTP by the SDK's real Client; then SIGTERM, which must drain and exit 0.

import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { copyDemoDatabase } from "../support/demo-copy.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { readDemoManifest } from "../../src/demo/demo-database.js";
import { connectClient, rawRequest } from "./support.js";

const SERVER = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "DATABASE_URL" && !k.startsWith("TRACE_DOCTOR_") && !k.startsWith("SENTRY_")) env[k] = v;
  return { ...env, ...extra };
}

describe("the built server in HTTP mode, on the demo data", () => {
  const demo = copyDemoDatabase();
  const demoDir = demo.dir;
  let child: ChildProcess;
  let stdout = "";
  let stderr = "";
  let url = "";
  let exited: Promise<number | null>;

  beforeAll(async () => {
    child = spawn(process.execPath, [SERVER, "serve", "--http", "127.0.0.1:0"], { env: cleanEnv({ TRACE_DOCTOR_DEMO_DIR: demoDir }), stdio: ["ignore", "pipe", "pipe"] });
    exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    child.stdout!.on("data", (c: Buffer) => (stdout += c.toString()));
    url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on("data", (c: Buffer) => {
        stderr += c.toString();
        const match = /serving MCP over Streamable HTTP at (http:\/\/\S+\/mcp)/.exec(stderr);
        if (match) resolve(match[1]!);
      });
      void exited.then((code) => reject(new Error(`the server exited (${code}) before listening:\n${stderr}`)));
    });
  }, 20_000);

  afterAll(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    demo.remove();
  });

  it("says where it listens on stderr, on loopback, and writes nothing to stdout", () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(stderr).toMatch(/no auth, loopback only/);
    expect(stderr).toMatch(/DEMO dataset/);
  });

  it("answers get_trace for the 13 ms failure through the SDK client over HTTP", async () => {
    const manifest = readDemoManifest(demoDir)!;
    const { client } = await connectClient(url);
    try {
      expect(client.getInstructions()).toMatch(/DEMO DATA/);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain("get_trace");
      const trace = (await client.callTool({ name: "get_trace", arguments: { job_id: manifest.examples.immediateFailureJobId } })) as CallToolResult;
      expect(trace.isError).toBeFalsy();
      expect(trace.structuredContent).toMatchObject({ services: ["runner"], duration_ms: 13 });
    } finally {
      await client.close();
    }
    expect((await rawRequest(url.replace(/\/mcp$/, "/healthz"), {})).json()).toEqual({ status: "ok", version: expect.any(String) });
  });

  it("drains and exits 0 on SIGTERM", async () => {
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGTERM: draining/);
    expect(stderr).toMatch(/HTTP server closed/);
    expect(stdout).toBe("");
  });
});
