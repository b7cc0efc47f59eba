// `--http [HOST:]PORT` and the HTTP settings from the environment: what is accepted, and the message
// for what is not (naming the setting, never echoing a token).

import { describe, expect, it } from "vitest";
import { DEFAULT_HTTP_LIMITS, httpListenFrom, isLoopbackHost, parseListenAddress, readHttpSettings } from "../../src/http/index.js";

describe("parseListenAddress", () => {
  it.each([
    ["8765", { host: "127.0.0.1", port: 8765 }],
    ["0", { host: "127.0.0.1", port: 0 }],
    ["127.0.0.1:0", { host: "127.0.0.1", port: 0 }],
    ["0.0.0.0:8080", { host: "0.0.0.0", port: 8080 }],
    ["localhost:3000", { host: "localhost", port: 3000 }],
    ["[::1]:8765", { host: "::1", port: 8765 }],
    ["[::]:80", { host: "::", port: 80 }],
    ["mcp.internal:443", { host: "mcp.internal", port: 443 }],
  ])("%s", (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });

  it.each([
    ["", /give PORT/],
    [":8765", /give PORT/],
    ["127.0.0.1", /give PORT/],
    ["127.0.0.1:65536", /0 to 65535/],
    ["127.0.0.1:http", /0 to 65535/],
    ["::1:8765", /brackets/],
    ["[nothost]:1", /not an IPv6 address/],
    ["bad_host!:1", /not a host name/],
  ])("refuses %j", (text, message) => {
    expect(() => parseListenAddress(text)).toThrow(message);
  });
});

describe("httpListenFrom", () => {
  it.each([
    [[], null],
    [["--http", "8765"], "8765"],
    [["--http=[::1]:0"], "[::1]:0"],
  ])("%j → %j", (args, expected) => {
    expect(httpListenFrom(args)).toBe(expected);
  });

  it("refuses a missing or bad address and unknown options before anything starts", () => {
    expect(() => httpListenFrom(["--http"])).toThrow(/needs an address/);
    expect(() => httpListenFrom(["--http", "--verbose"])).toThrow(/needs an address/);
    expect(() => httpListenFrom(["--http", "nonsense"])).toThrow(/give PORT/);
    expect(() => httpListenFrom(["--port", "80"])).toThrow(/unknown option "--port"/);
  });
});

describe("isLoopbackHost", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["localhost", true],
    ["::1", true],
    ["[::1]", true],
    ["0.0.0.0", false],
    ["::", false],
    ["192.168.1.10", false],
    ["example.com", false],
  ])("%s → %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe("readHttpSettings", () => {
  const TOKEN = "s3cret-token-0123456789abcdef";

  it("defaults to no auth, no extra origins and the default limits", () => {
    expect(readHttpSettings({})).toEqual({ auth: { kind: "none" }, allowedOrigins: [], publicUrl: null, limits: DEFAULT_HTTP_LIMITS });
  });

  it("reads a token, OAuth, origins, the public URL and every limit", () => {
    expect(readHttpSettings({ TRACE_DOCTOR_HTTP_TOKEN: ` ${TOKEN} ` }).auth).toEqual({ kind: "token", token: TOKEN });
    expect(
      readHttpSettings({
        TRACE_DOCTOR_OAUTH_ISSUER: "https://auth.example.com/",
        TRACE_DOCTOR_OAUTH_AUDIENCE: "https://mcp.example.com/mcp",
        TRACE_DOCTOR_OAUTH_SCOPES: "traces:read, sentry:read",
        TRACE_DOCTOR_HTTP_ALLOWED_ORIGINS: "https://App.Example.com, http://localhost:5173",
        TRACE_DOCTOR_HTTP_PUBLIC_URL: "https://mcp.example.com/mcp",
        TRACE_DOCTOR_HTTP_MAX_BODY_BYTES: "2048",
        TRACE_DOCTOR_HTTP_MAX_SESSIONS: "7",
        TRACE_DOCTOR_HTTP_MAX_SESSIONS_PER_CLIENT: "3",
        TRACE_DOCTOR_HTTP_SESSION_IDLE_MS: "60000",
        TRACE_DOCTOR_HTTP_DRAIN_MS: "500",
      }),
    ).toEqual({
      auth: { kind: "oauth", issuer: "https://auth.example.com/", audience: "https://mcp.example.com/mcp", requiredScopes: ["traces:read", "sentry:read"] },
      allowedOrigins: ["https://app.example.com", "http://localhost:5173"],
      publicUrl: "https://mcp.example.com/mcp",
      limits: { ...DEFAULT_HTTP_LIMITS, maxBodyBytes: 2048, maxSessions: 7, maxSessionsPerClient: 3, sessionIdleMs: 60_000, drainTimeoutMs: 500 },
    });
  });

  it.each([
    [{ TRACE_DOCTOR_HTTP_TOKEN: "short" }, /TRACE_DOCTOR_HTTP_TOKEN is shorter than 16/],
    [{ TRACE_DOCTOR_HTTP_TOKEN: "has spaces in it, sixteen+" }, /TRACE_DOCTOR_HTTP_TOKEN holds characters/],
    [{ TRACE_DOCTOR_HTTP_TOKEN: TOKEN, TRACE_DOCTOR_OAUTH_ISSUER: "https://a.example" }, /not both/],
    [{ TRACE_DOCTOR_OAUTH_ISSUER: "https://a.example" }, /TRACE_DOCTOR_OAUTH_AUDIENCE is not/],
    [{ TRACE_DOCTOR_OAUTH_AUDIENCE: "x" }, /TRACE_DOCTOR_OAUTH_ISSUER is not/],
    [{ TRACE_DOCTOR_OAUTH_ISSUER: "not a url", TRACE_DOCTOR_OAUTH_AUDIENCE: "x" }, /TRACE_DOCTOR_OAUTH_ISSUER must be a URL/],
    [{ TRACE_DOCTOR_OAUTH_SCOPES: "a" }, /scopes apply to OAuth only/],
    [{ TRACE_DOCTOR_HTTP_ALLOWED_ORIGINS: "*" }, /TRACE_DOCTOR_HTTP_ALLOWED_ORIGINS: "\*" is not an origin/],
    [{ TRACE_DOCTOR_HTTP_ALLOWED_ORIGINS: "https://a.example/path" }, /is not an origin/],
    [{ TRACE_DOCTOR_HTTP_PUBLIC_URL: "ftp://x/mcp" }, /TRACE_DOCTOR_HTTP_PUBLIC_URL must be/],
    [{ TRACE_DOCTOR_HTTP_MAX_BODY_BYTES: "0" }, /TRACE_DOCTOR_HTTP_MAX_BODY_BYTES must be a whole number/],
    [{ TRACE_DOCTOR_HTTP_MAX_SESSIONS: "lots" }, /TRACE_DOCTOR_HTTP_MAX_SESSIONS must be a whole number/],
    [{ TRACE_DOCTOR_HTTP_DRAIN_MS: "1.5" }, /TRACE_DOCTOR_HTTP_DRAIN_MS must be a whole number/],
  ])("refuses %j", (env, message) => {
    expect(() => readHttpSettings(env)).toThrow(message);
  });

  it("never repeats a bad token in its message", () => {
    const bad = "has spaces in it, sixteen+";
    expect(() => readHttpSettings({ TRACE_DOCTOR_HTTP_TOKEN: bad })).toThrow(expect.objectContaining({ message: expect.not.stringContaining(bad) }));
  });
});
