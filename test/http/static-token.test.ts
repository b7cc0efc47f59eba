// The shared bearer token over real HTTP: refused without it or with a wrong one (401, WWW-Authenticate,
// a JSON-RPC body saying what to send), accepted with it through the SDK client, /healthz open, and the
// token in no log line and no answer.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpServer, type HttpServerHandle } from "../../src/http/index.js";
import { connectClient, initializeMessage, rawPost, rawRequest, RecordingLogger, refusal, toyServerFactory } from "./support.js";

const TOKEN = "td-test-token-8f3a1c9e5b7d2f4a";

describe("HTTP mode with a static bearer token", () => {
  const logger = new RecordingLogger();
  const bodies: string[] = [];
  let handle: HttpServerHandle;
  beforeAll(async () => {
    handle = await startHttpServer({ createServer: toyServerFactory().create, auth: { kind: "token", token: TOKEN }, logger, version: "0.0.1" });
  });
  afterAll(async () => {
    await handle.close();
    // Whatever happened above, the token never left the server.
    for (const line of logger.lines) expect(line).not.toContain(TOKEN);
    for (const body of bodies) expect(body).not.toContain(TOKEN);
  });

  it("refuses a request without a token: 401, a Bearer challenge, and what to send", async () => {
    const answer = await rawPost(handle.url, initializeMessage());
    bodies.push(answer.body);
    expect(answer.status).toBe(401);
    // RFC 6750 §3.1: no error code when no credentials were sent.
    expect(answer.headers.get("www-authenticate")).toBe('Bearer realm="trace-doctor"');
    expect(answer.json()).toMatchObject(refusal("missing_token"));
    expect(answer.body).toMatch(/Authorization: Bearer/);
  });

  it.each([
    ["a wrong token", `Bearer ${TOKEN.slice(0, -1)}x`, "invalid_token"],
    ["the token with a suffix", `Bearer ${TOKEN}0`, "invalid_token"],
    ["another scheme", `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}`, "missing_token"],
  ])("refuses %s with 401", async (_name, authorization, reason) => {
    const answer = await rawPost(handle.url, initializeMessage(), { authorization });
    bodies.push(answer.body);
    expect(answer.status).toBe(401);
    expect(answer.json()).toMatchObject(refusal(reason));
    const challenge = answer.headers.get("www-authenticate")!;
    expect(challenge).toMatch(/^Bearer realm="trace-doctor"/);
    if (reason === "invalid_token") expect(challenge).toMatch(/error="invalid_token", error_description="[^"]+"/);
  });

  it("checks the token before anything else: an unknown session still gets 401", async () => {
    const answer = await rawPost(handle.url, { jsonrpc: "2.0", id: 1, method: "ping" }, { "mcp-session-id": "whatever" });
    expect(answer.status).toBe(401);
  });

  it("serves the SDK client that sends the token, and hands tools no raw token", async () => {
    const { client, seen } = await connectClient(handle.url, { Authorization: `Bearer ${TOKEN}` });
    try {
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      const whoami = (await client.callTool({ name: "whoami", arguments: {} })) as { content: Array<{ text: string }> };
      bodies.push(whoami.content[0]!.text);
      expect(JSON.parse(whoami.content[0]!.text)).toEqual({ token: "[redacted]", clientId: "static-token", scopes: [] });
      expect(seen.every((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it("answers /healthz without a token, with nothing but ok and the version", async () => {
    const health = await rawRequest(handle.url.replace(/\/mcp$/, "/healthz"), {});
    expect(health.status).toBe(200);
    expect(health.json()).toEqual({ status: "ok", version: "0.0.1" });
  });

  it("publishes no OAuth metadata in token mode", async () => {
    const metadata = await rawRequest(handle.url.replace(/\/mcp$/, "/.well-known/oauth-protected-resource"), {});
    expect(metadata.status).toBe(404);
  });
});
