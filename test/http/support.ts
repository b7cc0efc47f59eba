// Test support for HTTP mode: a toy McpServer factory (tools, a gated slow tool, a prompt, resources,
// completions), a logger that records lines and can be awaited, and raw HTTP helpers for what the SDK
// client never sends (bad tokens, foreign origins, oversized bodies).

import { request as httpRequest } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { LATEST_PROTOCOL_VERSION, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expect } from "vitest";
import { z } from "zod";
import type { HttpLogger } from "../../src/http/index.js";

/** A tool call the test holds open: `entered` resolves when the call starts, `release()` lets it finish. */
export class Gate {
  private enter!: () => void;
  private open!: () => void;
  readonly entered = new Promise<void>((resolve) => (this.enter = resolve));
  private readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  async pass(): Promise<void> {
    this.enter();
    await this.opened;
  }
  release(): void {
    this.open();
  }
}

export function toyServerFactory(options: { gate?: Gate } = {}): { create: () => McpServer; created: () => number } {
  let created = 0;
  const create = () => {
    created++;
    const server = new McpServer({ name: "toy", version: "9.9.9" }, { capabilities: { logging: {} } });
    server.registerTool("echo", { description: "Echoes its text", inputSchema: { text: z.string() } }, async ({ text }) => ({ content: [{ type: "text", text }] }));
    server.registerTool("whoami", { description: "The auth info the transport handed over" }, async (extra) => ({
      content: [{ type: "text", text: JSON.stringify(extra.authInfo ?? null) }],
    }));
    server.registerTool("slow", { description: "Finishes when the test releases it" }, async () => {
      await options.gate?.pass();
      return { content: [{ type: "text", text: "slow done" }] };
    });
    // Closes its own SSE stream before answering: the client must resume it from the event store.
    server.registerTool("interrupted", { description: "Answers after its stream was cut" }, async (extra) => {
      extra.closeSSEStream?.();
      await new Promise((resolve) => setImmediate(resolve));
      return { content: [{ type: "text", text: `resumed:${extra.closeSSEStream ? "yes" : "no"}` }] };
    });
    server.registerPrompt(
      "investigate",
      { description: "Investigate a service", argsSchema: { service: completable(z.string(), (value) => ["router", "runner", "modal"].filter((s) => s.startsWith(value))) } },
      ({ service }) => ({ messages: [{ role: "user", content: { type: "text", text: `Why is ${service} failing?` } }] }),
    );
    server.registerResource("contract", "toy://contract", { mimeType: "text/plain" }, async (uri) => ({ contents: [{ uri: uri.href, text: "the contract" }] }));
    server.registerResource(
      "trace",
      new ResourceTemplate("toy://trace/{id}", { list: undefined, complete: { id: (value) => ["t-1", "t-2", "x-9"].filter((id) => id.startsWith(value)) } }),
      { mimeType: "application/json" },
      async (uri, { id }) => ({ contents: [{ uri: uri.href, text: JSON.stringify({ id }) }] }),
    );
    return server;
  };
  return { create, created: () => created };
}

export class RecordingLogger implements HttpLogger {
  readonly lines: string[] = [];
  private readonly waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  info(message: string): void {
    this.record(message);
  }
  error(message: string): void {
    this.record(`error: ${message}`);
  }
  /** Resolves with the first line (past or future) matching `pattern`. */
  waitFor(pattern: RegExp): Promise<string> {
    const seen = this.lines.find((l) => pattern.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ pattern, resolve }));
  }
  private record(line: string): void {
    this.lines.push(line);
    for (const w of [...this.waiters]) {
      if (w.pattern.test(line)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }
}

export interface SeenRequest {
  method: string;
  headers: Record<string, string>;
}

/** An SDK client over Streamable HTTP; `seen` records the requests its transport sent. */
export async function connectClient(url: string, headers: Record<string, string> = {}): Promise<{ client: Client; transport: StreamableHTTPClientTransport; seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers },
    // Resume at once in tests: the default waits a second before reconnecting.
    reconnectionOptions: { initialReconnectionDelay: 10, maxReconnectionDelay: 50, reconnectionDelayGrowFactor: 1.5, maxRetries: 5 },
    fetch: async (input, init) => {
      seen.push({ method: init?.method ?? "GET", headers: Object.fromEntries(new Headers(init?.headers).entries()) });
      return fetch(input, init);
    },
  });
  const client = new Client({ name: "http-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport, seen };
}

export const text = (r: CallToolResult) => r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");

export const initializeMessage = (id: number | string = 1) => ({
  jsonrpc: "2.0",
  id,
  method: "initialize",
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "raw", version: "1.0.0" } },
});

export interface RawAnswer {
  status: number;
  headers: Headers;
  body: string;
  json(): unknown;
}

/** A POST to /mcp the way an MCP client sends it, with whatever headers the test adds. */
export async function rawPost(url: string, body: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return answer(res);
}

export async function rawRequest(url: string, init: RequestInit): Promise<RawAnswer> {
  return answer(await fetch(url, init));
}

async function answer(res: Response): Promise<RawAnswer> {
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, json: () => JSON.parse(body) };
}

/** A JSON-RPC message out of an SSE body (the first `data:` line that holds one). */
export function sseMessage(body: string): Record<string, unknown> {
  const line = body.split("\n").find((l) => l.startsWith("data: {"));
  if (!line) throw new Error(`no JSON-RPC message in ${JSON.stringify(body.slice(0, 200))}`);
  return JSON.parse(line.slice("data: ".length)) as Record<string, unknown>;
}

/** node:http, for headers fetch will not let a caller set (Host). */
export function nodeRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The JSON-RPC error body every refusal on /mcp carries. */
export const refusal = (reason: string) => ({ jsonrpc: "2.0", id: null, error: { code: expectAnyNumber, message: expectAnyString, data: { reason } } });
const expectAnyNumber = expect.any(Number) as unknown as number;
const expectAnyString = expect.any(String) as unknown as string;
