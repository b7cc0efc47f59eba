// The server's own telemetry through a real @sentry/node SDK: with TRACE_DOCTOR_SENTRY_DSN pointing at
// a local ingest endpoint, tool calls arrive as transactions (with no secrets in them); without a DSN,
// nothing is sent.

import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyDemoDatabase } from "../support/demo-copy.js";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const SERVER = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

describe("telemetry to the operator's own Sentry", () => {
  let ingest: Server;
  let port = 0;
  const bodies: string[] = [];
  const demo = copyDemoDatabase();

  beforeAll(async () => {
    ingest = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const raw = Buffer.concat(chunks);
        bodies.push(req.headers["content-encoding"] === "gzip" ? gunzipSync(raw).toString() : raw.toString());
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => ingest.listen(0, "127.0.0.1", resolve));
    port = (ingest.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => ingest.close(resolve));
    demo.remove();
  });

  async function session(env: Record<string, string>, expectEnvelopes: boolean) {
    const base: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("SENTRY_") && !k.startsWith("TRACE_DOCTOR_") && k !== "DATABASE_URL") base[k] = v;
    const client = new Client({ name: "telemetry-test", version: "1" });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [SERVER], env: { ...base, TRACE_DOCTOR_DEMO_DIR: demo.dir, ...env }, stderr: "pipe" }));
    await client.callTool({ name: "get_trace", arguments: { trace_id: "no-such-trace" } });
    await client.callTool({ name: "list_failed_spans", arguments: { limit: 1 } });
    await client.close();
    // The server flushes on stdin close; give the last envelope a moment to land.
    const rounds = expectEnvelopes ? 50 : 5;
    for (let i = 0; i < rounds && !bodies.some((b) => b.includes("tools/call")); i++) await new Promise((r) => setTimeout(r, 100));
  }

  it("sends nothing without a DSN", async () => {
    await session({}, false);
    expect(bodies).toHaveLength(0);
  });

  it("reports tool calls as transactions to the DSN, without secrets", async () => {
    await session({
      TRACE_DOCTOR_SENTRY_DSN: `http://abc123publickey@127.0.0.1:${port}/42`,
      SENTRY_AUTH_TOKEN: "sntrys_supersecret_token_value",
      SENTRY_ORG: "acme",
      SENTRY_URL: "http://127.0.0.1:9",
    }, true);
    const all = bodies.join("\n");
    expect(all).toMatch(/tools\/call get_trace/);
    expect(all).toMatch(/"type":"transaction"/);
    expect(all).not.toContain("sntrys_supersecret_token_value");
    // The SDK's own failures would show up as error events: there must be none.
    expect(all).not.toMatch(/"mechanism":\{"type":"internal"/);
  });
});
