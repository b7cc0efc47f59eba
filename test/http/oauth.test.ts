// HTTP mode as an OAuth 2.1 resource server, against a local issuer the test runs: discovery (RFC 8414
// and OpenID), JWT validation (valid, wrong audience or issuer, expired, no expiry, bad signature, unknown
// key, missing scope), RFC 9728 metadata and the challenge that points to it, sessions bound to a subject.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import { OAuthProtectedResourceMetadataSchema } from "@modelcontextprotocol/sdk/shared/auth.js";
import { startHttpServer, type HttpServerHandle } from "../../src/http/index.js";
import { startLocalIssuer, type LocalIssuer } from "./local-issuer.js";
import { connectClient, initializeMessage, rawPost, rawRequest, RecordingLogger, refusal, toyServerFactory } from "./support.js";

const AUDIENCE = "https://trace-doctor.test/mcp";

describe("HTTP mode as an OAuth resource server", () => {
  const logger = new RecordingLogger();
  let issuer: LocalIssuer;
  let handle: HttpServerHandle;
  let metadataUrl: string;
  const tokens: string[] = [];
  const token = async (...args: Parameters<LocalIssuer["token"]>) => {
    const t = await issuer.token(...args);
    tokens.push(t);
    return t;
  };
  beforeAll(async () => {
    issuer = await startLocalIssuer({ audience: AUDIENCE });
    handle = await startHttpServer({ createServer: toyServerFactory().create, auth: { kind: "oauth", issuer: issuer.issuer, audience: AUDIENCE, requiredScopes: ["traces:read"] }, logger });
    metadataUrl = handle.url.replace(/\/mcp$/, "/.well-known/oauth-protected-resource/mcp");
  });
  afterAll(async () => {
    await handle.close();
    await issuer.close();
    for (const line of logger.lines) for (const t of tokens) expect(line).not.toContain(t);
  });

  it("found the JWKS through the issuer's RFC 8414 metadata", () => {
    expect(issuer.hits).toContain("/.well-known/oauth-authorization-server");
  });

  it("accepts a valid access token through the SDK client, and tools see who called (never the token)", async () => {
    const { client } = await connectClient(handle.url, { Authorization: `Bearer ${await token()}` });
    try {
      const whoami = (await client.callTool({ name: "whoami", arguments: {} })) as { content: Array<{ text: string }> };
      expect(JSON.parse(whoami.content[0]!.text)).toMatchObject({ token: "[redacted]", clientId: "test-client", scopes: ["traces:read"], extra: { issuer: issuer.issuer, subject: "user-1" } });
    } finally {
      await client.close();
    }
  });

  it("challenges a request without a token with resource_metadata and the scope it needs", async () => {
    const answer = await rawPost(handle.url, initializeMessage());
    expect(answer.status).toBe(401);
    expect(answer.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${metadataUrl}", scope="traces:read"`);
    expect(answer.json()).toMatchObject(refusal("missing_token"));
  });

  it.each([
    ["for another audience", () => token({ aud: "https://someone-else.example/mcp" }), /not meant for this server/],
    ["from another issuer", () => token({ iss: "http://127.0.0.1:1" }), /not issued by/],
    ["expired", () => token({}, { exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
    ["without an expiry", () => token({}, { exp: null }), /no expiry/],
    ["with a bad signature", () => token({}, { key: "stranger" }), /signature does not verify/],
    ["signed with an unknown key id", async () => (await token()).replace(/^[^.]+/, Buffer.from(JSON.stringify({ alg: "ES256", kid: "key-9" })).toString("base64url")), /key .* does not publish/],
    ["that is no JWT", async () => "not-a-jwt", /not a JWT/],
  ])("refuses a token %s: 401 invalid_token with the challenge", async (_name, make, message) => {
    const answer = await rawPost(handle.url, initializeMessage(), { authorization: `Bearer ${await make()}` });
    expect(answer.status).toBe(401);
    expect(answer.json()).toMatchObject(refusal("invalid_token"));
    expect((answer.json() as { error: { message: string } }).error.message).toMatch(message);
    const challenge = extractWWWAuthenticateParams(new Response(null, { status: 401, headers: { "WWW-Authenticate": answer.headers.get("www-authenticate")! } }));
    expect(challenge).toMatchObject({ resourceMetadataUrl: new URL(metadataUrl), scope: "traces:read", error: "invalid_token" });
  });

  it("answers a token without the required scope with 403 insufficient_scope", async () => {
    const answer = await rawPost(handle.url, initializeMessage(), { authorization: `Bearer ${await token({ scope: "other:thing" })}` });
    expect(answer.status).toBe(403);
    expect(answer.json()).toMatchObject(refusal("insufficient_scope"));
    const challenge = answer.headers.get("www-authenticate")!;
    expect(challenge).toMatch(/error="insufficient_scope"/);
    expect(challenge).toMatch(/scope="traces:read"/);
    expect(challenge).toContain(`resource_metadata="${metadataUrl}"`);
  });

  it("serves RFC 9728 metadata at the path of /mcp and at the root, as the SDK client discovers it", async () => {
    const expected = { resource: handle.url, authorization_servers: [issuer.issuer], bearer_methods_supported: ["header"], scopes_supported: ["traces:read"], resource_name: "trace-doctor" };
    for (const url of [metadataUrl, handle.url.replace(/\/mcp$/, "/.well-known/oauth-protected-resource")]) {
      const answer = await rawRequest(url, {});
      expect(answer.status).toBe(200);
      expect(OAuthProtectedResourceMetadataSchema.parse(answer.json())).toEqual(expected);
    }
    expect(await discoverOAuthProtectedResourceMetadata(handle.url)).toEqual(expected);
  });

  it("names the resource after the Host the client used", async () => {
    const viaLocalhost = handle.url.replace("127.0.0.1", "localhost");
    const answer = await rawRequest(viaLocalhost.replace(/\/mcp$/, "/.well-known/oauth-protected-resource/mcp"), {});
    expect(answer.json()).toMatchObject({ resource: viaLocalhost });
  });

  it("binds a session to its subject: another user's token cannot use the session id", async () => {
    const { client, transport } = await connectClient(handle.url, { Authorization: `Bearer ${await token()}` });
    try {
      const other = await rawPost(handle.url, { jsonrpc: "2.0", id: 9, method: "tools/list" }, { authorization: `Bearer ${await token({ sub: "user-2" })}`, "mcp-session-id": transport.sessionId! });
      expect(other.status).toBe(404);
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });
});

describe("OAuth discovery", () => {
  it("falls back to OpenID discovery", async () => {
    const issuer = await startLocalIssuer({ audience: AUDIENCE, metadata: "openid" });
    const handle = await startHttpServer({ createServer: toyServerFactory().create, auth: { kind: "oauth", issuer: issuer.issuer, audience: AUDIENCE, requiredScopes: [] }, logger: new RecordingLogger() });
    try {
      expect(issuer.hits).toContain("/.well-known/openid-configuration");
      const answer = await rawPost(handle.url, initializeMessage(), { authorization: `Bearer ${await issuer.token({ scope: undefined })}` });
      expect(answer.status).toBe(200);
      // No required scopes: the challenge carries none.
      expect((await rawPost(handle.url, initializeMessage())).headers.get("www-authenticate")).not.toMatch(/scope=/);
    } finally {
      await handle.close();
      await issuer.close();
    }
  });

  it.each([
    ["has no metadata", { metadata: "none" as const }, /no authorization server metadata found/],
    ["names another issuer in its metadata", { issuerOverride: "https://elsewhere.example" }, /names issuer "https:\/\/elsewhere.example"/],
  ])("refuses to start when the issuer %s, naming the setting", async (_name, options, message) => {
    const issuer = await startLocalIssuer({ audience: AUDIENCE, ...options });
    try {
      const start = startHttpServer({ createServer: toyServerFactory().create, auth: { kind: "oauth", issuer: issuer.issuer, audience: AUDIENCE, requiredScopes: [] }, logger: new RecordingLogger() });
      await expect(start).rejects.toThrow(message);
      await expect(start).rejects.toThrow(/TRACE_DOCTOR_OAUTH_ISSUER/);
    } finally {
      await issuer.close();
    }
  });

  it("names the public URL as the resource behind a proxy, and serves its metadata at the proxied path", async () => {
    const issuer = await startLocalIssuer({ audience: AUDIENCE });
    const publicUrl = "https://mcp.example.com/tools/mcp";
    const handle = await startHttpServer({ createServer: toyServerFactory().create, auth: { kind: "oauth", issuer: issuer.issuer, audience: AUDIENCE, requiredScopes: [] }, publicUrl, logger: new RecordingLogger() });
    try {
      const challenge = (await rawPost(handle.url, initializeMessage())).headers.get("www-authenticate");
      expect(challenge).toBe('Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/tools/mcp"');
      const metadata = await rawRequest(handle.url.replace(/\/mcp$/, "/.well-known/oauth-protected-resource/tools/mcp"), {});
      expect(metadata.json()).toMatchObject({ resource: publicUrl, authorization_servers: [issuer.issuer] });
    } finally {
      await handle.close();
      await issuer.close();
    }
  });

  it("refuses a plain-http issuer that is not on loopback", async () => {
    await expect(startHttpServer({ createServer: toyServerFactory().create, auth: { kind: "oauth", issuer: "http://auth.example.com", audience: AUDIENCE, requiredScopes: [] } })).rejects.toThrow(
      /must be an https:\/\/ URL/,
    );
  });

  it("answers 503 with Retry-After, not 401, when the issuer's keys cannot be fetched", async () => {
    const issuer = await startLocalIssuer({ audience: AUDIENCE });
    const handle = await startHttpServer({ createServer: toyServerFactory().create, auth: { kind: "oauth", issuer: issuer.issuer, audience: AUDIENCE, requiredScopes: [] }, logger: new RecordingLogger() });
    try {
      const valid = await issuer.token();
      await issuer.close();
      const answer = await rawPost(handle.url, initializeMessage(), { authorization: `Bearer ${valid}` });
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("5");
      expect(answer.json()).toMatchObject(refusal("auth_unavailable"));
    } finally {
      await handle.close();
    }
  });
});
