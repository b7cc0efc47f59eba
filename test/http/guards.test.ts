// What HTTP mode refuses before MCP starts: binding beyond loopback without auth, foreign Host and Origin
// headers (DNS rebinding), bodies over the cap, and sessions over the per-client and total caps.

import { afterEach, describe, expect, it } from "vitest";
import { startHttpServer, type HttpServerHandle, type HttpServerOptions } from "../../src/http/index.js";
import { connectClient, initializeMessage, nodeRequest, rawPost, rawRequest, RecordingLogger, refusal, toyServerFactory } from "./support.js";

let handle: HttpServerHandle | null = null;
afterEach(async () => {
  await handle?.close();
  handle = null;
});

async function start(options: Partial<HttpServerOptions> = {}): Promise<HttpServerHandle> {
  handle = await startHttpServer({ createServer: toyServerFactory().create, logger: new RecordingLogger(), ...options });
  return handle;
}

describe("binding", () => {
  it.each(["0.0.0.0", "::", "192.0.2.10"])("refuses %s without auth, naming the settings that would allow it", async (host) => {
    const attempt = startHttpServer({ host, createServer: toyServerFactory().create });
    await expect(attempt).rejects.toThrow(/without auth/);
    await expect(attempt).rejects.toThrow(/TRACE_DOCTOR_HTTP_TOKEN/);
    await expect(attempt).rejects.toThrow(/TRACE_DOCTOR_OAUTH_ISSUER and TRACE_DOCTOR_OAUTH_AUDIENCE/);
  });

  it("binds 0.0.0.0 with a token, and then pins neither Host nor the loopback origins", async () => {
    const { url } = await start({ host: "0.0.0.0", auth: { kind: "token", token: "a-long-enough-test-token" } });
    expect(url).toMatch(/^http:\/\/0\.0\.0\.0:\d+\/mcp$/);
    const port = new URL(url).port;
    const answer = await nodeRequest(`http://127.0.0.1:${port}/healthz`, { headers: { Host: `mcp.example.com:${port}` } });
    expect(answer.status).toBe(200);
  });

  it("says so when the port is taken", async () => {
    const first = await start();
    const port = Number(new URL(first.url).port);
    await expect(startHttpServer({ port, createServer: toyServerFactory().create })).rejects.toThrow(/port is in use/);
  });
});

describe("DNS-rebinding protection on loopback", () => {
  it("refuses a foreign Origin with 403 and a JSON-RPC error", async () => {
    const { url } = await start();
    const answer = await rawPost(url, initializeMessage(), { origin: "http://evil.example.com" });
    expect(answer.status).toBe(403);
    expect(answer.json()).toMatchObject(refusal("origin_not_allowed"));
    expect(answer.body).toMatch(/TRACE_DOCTOR_HTTP_ALLOWED_ORIGINS/);
    expect(answer.headers.get("access-control-allow-origin")).toBeNull();
  });

  it.each(["null", "http://127.0.0.1:1", "https://127.0.0.1"])("refuses Origin %s (not this server)", async (origin) => {
    const { url } = await start();
    expect((await rawPost(url, initializeMessage(), { origin })).status).toBe(403);
  });

  it("accepts no Origin, the loopback origins of its own port, and allow-listed ones, with CORS headers", async () => {
    const { url } = await start({ allowedOrigins: ["https://inspector.example"] });
    const port = new URL(url).port;
    expect((await rawPost(url, initializeMessage())).status).toBe(200);
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`, "https://inspector.example", "HTTPS://INSPECTOR.EXAMPLE:443"]) {
      const answer = await rawPost(url, initializeMessage(), { origin });
      expect(answer.status, origin).toBe(200);
      expect(answer.headers.get("access-control-allow-origin")).toBe(origin);
      expect(answer.headers.get("access-control-expose-headers")).toMatch(/Mcp-Session-Id/);
    }
  });

  it("answers a CORS preflight from an allowed origin", async () => {
    const { url } = await start({ allowedOrigins: ["https://inspector.example"] });
    const answer = await rawRequest(url, { method: "OPTIONS", headers: { origin: "https://inspector.example", "access-control-request-method": "POST" } });
    expect(answer.status).toBe(204);
    expect(answer.headers.get("access-control-allow-headers")).toMatch(/Mcp-Session-Id/);
    expect(answer.headers.get("access-control-allow-methods")).toBe("GET, POST, DELETE");
  });

  it("refuses a Host that is not its loopback address and port, even on /healthz", async () => {
    const { url } = await start();
    const port = new URL(url).port;
    const body = JSON.stringify(initializeMessage());
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    for (const host of ["evil.example.com", `evil.example.com:${port}`, "127.0.0.1:1", "127.0.0.1"]) {
      const answer = await nodeRequest(url, { method: "POST", headers: { ...headers, Host: host }, body });
      expect(answer.status, host).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject(refusal("host_not_allowed"));
    }
    expect((await nodeRequest(url.replace(/\/mcp$/, "/healthz"), { headers: { Host: "evil.example.com" } })).status).toBe(403);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await nodeRequest(url, { method: "POST", headers: { ...headers, Host: host }, body })).status, host).toBe(200);
    }
  });
});

describe("limits", () => {
  it("answers a body over the cap with 413 and a JSON-RPC error, and the connection stays usable", async () => {
    const { url } = await start({ limits: { maxBodyBytes: 1024 } });
    const big = { ...initializeMessage(), padding: "x".repeat(4096) };
    const answer = await rawPost(url, big);
    expect(answer.status).toBe(413);
    expect(answer.json()).toMatchObject(refusal("body_too_large"));
    expect(answer.body).toMatch(/1024 bytes/);
    expect((await rawPost(url, initializeMessage())).status).toBe(200);
  });

  it("refuses a declared body far over the cap without reading it", async () => {
    const { url } = await start({ limits: { maxBodyBytes: 1024 } });
    // Only the headers are sent: the server must answer from the declared length alone.
    const answer = await nodeRequest(url, { method: "POST", headers: { "content-type": "application/json", "content-length": String(64 << 20) }, body: "" });
    expect(answer.status).toBe(413);
    expect(answer.headers.connection).toBe("close");
    expect(JSON.parse(answer.body)).toMatchObject(refusal("body_too_large"));
  });

  it("caps sessions per client (429 with Retry-After and what to do), and frees a slot on DELETE", async () => {
    const { url } = await start({ limits: { maxSessionsPerClient: 2 } });
    const a = await connectClient(url);
    const b = await connectClient(url);
    try {
      const third = await rawPost(url, initializeMessage());
      expect(third.status).toBe(429);
      expect(third.json()).toMatchObject(refusal("too_many_sessions_for_client"));
      expect(third.body).toMatch(/DELETE/);
      expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
      await a.transport.terminateSession();
      expect((await rawPost(url, initializeMessage())).status).toBe(200);
    } finally {
      await a.client.close();
      await b.client.close();
    }
  });

  it("caps sessions in total (503)", async () => {
    const { url } = await start({ limits: { maxSessions: 1 } });
    expect((await rawPost(url, initializeMessage())).status).toBe(200);
    const second = await rawPost(url, initializeMessage());
    expect(second.status).toBe(503);
    expect(second.json()).toMatchObject(refusal("too_many_sessions"));
  });

  it("does not count an initialize the transport refused (wrong Accept) as a session", async () => {
    const { url } = await start({ limits: { maxSessions: 1 } });
    const refused = await rawPost(url, initializeMessage(), { accept: "application/json" });
    expect(refused.status).toBe(406);
    expect((await rawPost(url, initializeMessage())).status).toBe(200);
  });
});
