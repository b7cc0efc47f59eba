// MCP over Streamable HTTP on loopback, spoken by the SDK's real Client: every kind of request, sessions
// (one McpServer each, DELETE, idle expiry), a stream cut mid-call and resumed, and the refusals a
// client gets for requests outside a session.

import { afterEach, describe, expect, it } from "vitest";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startHttpServer, type HttpServerHandle } from "../../src/http/index.js";
import { connectClient, rawPost, rawRequest, RecordingLogger, refusal, sseMessage, text, toyServerFactory, initializeMessage } from "./support.js";

let handle: HttpServerHandle | null = null;
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close().catch(() => {});
  await handle?.close();
  handle = null;
});

async function start(limits: Parameters<typeof startHttpServer>[0]["limits"] = {}) {
  const toy = toyServerFactory();
  const logger = new RecordingLogger();
  handle = await startHttpServer({ createServer: toy.create, logger, limits, version: "1.2.3" });
  return { url: handle.url, toy, logger };
}

async function client(url: string) {
  const connected = await connectClient(url);
  closers.push(() => connected.client.close());
  return connected;
}

describe("MCP over Streamable HTTP", () => {
  it("binds 127.0.0.1 on a free port and serves /mcp there", async () => {
    const { url } = await start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    expect(url).not.toMatch(/:0\//);
  });

  it("answers initialize, tools, prompts, resources, completion and ping through the SDK client", async () => {
    const { url } = await start();
    const { client: c } = await client(url);
    expect(c.getServerVersion()).toMatchObject({ name: "toy", version: "9.9.9" });

    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["echo", "interrupted", "slow", "whoami"]);
    const echoed = (await c.callTool({ name: "echo", arguments: { text: "over http" } })) as CallToolResult;
    expect(text(echoed)).toBe("over http");

    const { prompts } = await c.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(["investigate"]);
    const prompt = await c.getPrompt({ name: "investigate", arguments: { service: "router" } });
    expect(prompt.messages[0]?.content).toEqual({ type: "text", text: "Why is router failing?" });

    const { resources } = await c.listResources();
    expect(resources.map((r) => r.uri)).toEqual(["toy://contract"]);
    expect((await c.readResource({ uri: "toy://contract" })).contents[0]).toMatchObject({ text: "the contract" });
    const { resourceTemplates } = await c.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(["toy://trace/{id}"]);
    expect((await c.readResource({ uri: "toy://trace/t-2" })).contents[0]).toMatchObject({ text: '{"id":"t-2"}' });

    const promptCompletion = await c.complete({ ref: { type: "ref/prompt", name: "investigate" }, argument: { name: "service", value: "r" } });
    expect(promptCompletion.completion.values).toEqual(["router", "runner"]);
    const templateCompletion = await c.complete({ ref: { type: "ref/resource", uri: "toy://trace/{id}" }, argument: { name: "id", value: "t-" } });
    expect(templateCompletion.completion.values).toEqual(["t-1", "t-2"]);

    expect(await c.ping()).toEqual({});
    await c.setLoggingLevel("warning");
  });

  it("gives each session its own Mcp-Session-Id and McpServer, and DELETE ends only that one", async () => {
    const { url, toy } = await start();
    const a = await client(url);
    const b = await client(url);
    expect(a.transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.transport.sessionId).not.toBe(a.transport.sessionId);
    expect(toy.created()).toBe(2);
    // The client sends the id on every request after initialize.
    expect(a.seen.slice(1).every((r) => r.headers["mcp-session-id"] === a.transport.sessionId)).toBe(true);

    const ended = a.transport.sessionId!;
    await a.transport.terminateSession();
    const after = await rawPost(url, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { "mcp-session-id": ended, "mcp-protocol-version": "2025-11-25" });
    expect(after.status).toBe(404);
    expect(after.json()).toMatchObject(refusal("session_not_found"));
    expect((after.json() as { error: { message: string } }).error.message).toMatch(/initialize/);

    expect((await b.client.listTools()).tools).toHaveLength(4);
  });

  it("resumes a stream cut in the middle of a call from the event store (GET with Last-Event-ID)", async () => {
    const { url } = await start();
    const { client: c, seen } = await client(url);
    const result = (await c.callTool({ name: "interrupted", arguments: {} })) as CallToolResult;
    expect(text(result)).toBe("resumed:yes");
    const resume = seen.find((r) => r.method === "GET" && r.headers["last-event-id"]);
    expect(resume?.headers["last-event-id"]).toMatch(/^\d+\./);
  });

  it("refuses requests outside a session, saying what to send", async () => {
    const { url } = await start();
    const noSession = await rawPost(url, { jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(noSession.status).toBe(400);
    expect(noSession.json()).toMatchObject(refusal("session_required"));
    expect(noSession.body).toMatch(/initialize/);

    const unknown = await rawPost(url, { jsonrpc: "2.0", id: 1, method: "tools/list" }, { "mcp-session-id": "no-such-session" });
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: -32001, data: { reason: "session_not_found" } } });

    const getWithout = await rawRequest(url, { method: "GET", headers: { accept: "text/event-stream" } });
    expect(getWithout.status).toBe(400);
    expect(getWithout.json()).toMatchObject(refusal("session_required"));

    const put = await rawRequest(url, { method: "PUT", body: "{}" });
    expect(put.status).toBe(405);
    expect(put.headers.get("allow")).toBe("GET, POST, DELETE");
    expect(put.json()).toMatchObject(refusal("method_not_allowed"));

    const notJson = await rawPost(url, "{not json");
    expect(notJson.status).toBe(400);
    expect(notJson.json()).toMatchObject({ error: { code: -32700, data: { reason: "parse_error" } } });

    const elsewhere = await rawRequest(url.replace(/\/mcp$/, "/nothing"), {});
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.json()).toMatchObject({ error: "not_found" });
  });

  it("answers a raw initialize with a session id and an SSE stream that primes a resumption cursor", async () => {
    const { url } = await start();
    const init = await rawPost(url, initializeMessage());
    expect(init.status).toBe(200);
    expect(init.headers.get("content-type")).toBe("text/event-stream");
    expect(init.headers.get("mcp-session-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(init.body).toMatch(/^id: \d+\.[^\n]+\ndata: \n\n/);
    expect(sseMessage(init.body)).toMatchObject({ id: 1, result: { serverInfo: { name: "toy" } } });
  });

  it("expires a session left idle, and its id then gets 404", async () => {
    const { url, logger } = await start({ sessionIdleMs: 100 });
    const { client: c, transport } = await client(url);
    const id = transport.sessionId!;
    // While the client holds its GET stream the session is in use; closing the client lets it go idle.
    await c.close();
    expect(await logger.waitFor(/expired after/)).toMatch(new RegExp(`session ${id.slice(0, 8)} expired`));
    const after = await rawPost(url, { jsonrpc: "2.0", id: 2, method: "ping" }, { "mcp-session-id": id });
    expect(after.status).toBe(404);
  });

  it("says ok and its version on /healthz, and nothing else", async () => {
    const { url } = await start();
    const health = await rawRequest(url.replace(/\/mcp$/, "/healthz"), {});
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: "ok", version: "1.2.3" });
    const posted = await rawRequest(url.replace(/\/mcp$/, "/healthz"), { method: "POST" });
    expect(posted.status).toBe(405);
    expect(posted.headers.get("allow")).toBe("GET, HEAD");
  });
});
