// HTTP mode's settings, read from the environment and validated like the rest (src/config.ts): a bad
// value stops the server at start-up with a message naming the variable.

import { z } from "zod";
import { positiveIntSetting } from "../config.js";
import type { HttpAuthConfig } from "./auth.js";
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from "./http-server.js";
import { normalizeOrigin } from "./origin-policy.js";

export interface HttpSettings {
  auth: HttpAuthConfig;
  allowedOrigins: string[];
  publicUrl: string | null;
  limits: HttpLimits;
}

const text = z
  .string()
  .optional()
  .transform((v) => v?.trim() || null);

export function readHttpSettings(env: NodeJS.ProcessEnv = process.env): HttpSettings {
  const schema = z.object({
    TRACE_DOCTOR_HTTP_TOKEN: text,
    TRACE_DOCTOR_OAUTH_ISSUER: text,
    TRACE_DOCTOR_OAUTH_AUDIENCE: text,
    TRACE_DOCTOR_OAUTH_SCOPES: text,
    TRACE_DOCTOR_HTTP_ALLOWED_ORIGINS: text,
    TRACE_DOCTOR_HTTP_PUBLIC_URL: text,
  });
  const problems: string[] = [];
  const int = (name: string, fallback: number, max: number) => positiveIntSetting(env, name, fallback, max, problems);
  const ints = {
    TRACE_DOCTOR_HTTP_MAX_BODY_BYTES: int("TRACE_DOCTOR_HTTP_MAX_BODY_BYTES", DEFAULT_HTTP_LIMITS.maxBodyBytes, 64 << 20),
    TRACE_DOCTOR_HTTP_MAX_SESSIONS: int("TRACE_DOCTOR_HTTP_MAX_SESSIONS", DEFAULT_HTTP_LIMITS.maxSessions, 10_000),
    TRACE_DOCTOR_HTTP_MAX_SESSIONS_PER_CLIENT: int("TRACE_DOCTOR_HTTP_MAX_SESSIONS_PER_CLIENT", DEFAULT_HTTP_LIMITS.maxSessionsPerClient, 10_000),
    TRACE_DOCTOR_HTTP_SESSION_IDLE_MS: int("TRACE_DOCTOR_HTTP_SESSION_IDLE_MS", DEFAULT_HTTP_LIMITS.sessionIdleMs, 7 * 86_400_000),
    TRACE_DOCTOR_HTTP_DRAIN_MS: int("TRACE_DOCTOR_HTTP_DRAIN_MS", DEFAULT_HTTP_LIMITS.drainTimeoutMs, 600_000),
  };
  const parsed = schema.safeParse(env);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => i.message));
  if (problems.length || !parsed.success) throw new Error(`Invalid settings: ${problems.join("; ")}`);
  const e = { ...parsed.data, ...ints };

  let auth: HttpAuthConfig = { kind: "none" };
  const oauth = e.TRACE_DOCTOR_OAUTH_ISSUER || e.TRACE_DOCTOR_OAUTH_AUDIENCE;
  if (e.TRACE_DOCTOR_HTTP_TOKEN && oauth) {
    throw new Error("Set TRACE_DOCTOR_HTTP_TOKEN or TRACE_DOCTOR_OAUTH_ISSUER/TRACE_DOCTOR_OAUTH_AUDIENCE, not both: a request is checked one way.");
  }
  if (e.TRACE_DOCTOR_HTTP_TOKEN) {
    const token = e.TRACE_DOCTOR_HTTP_TOKEN;
    // Never echo the value: it is the secret.
    if (token.length < 16) throw new Error("TRACE_DOCTOR_HTTP_TOKEN is shorter than 16 characters: use a random one, e.g. `openssl rand -hex 32`.");
    if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token)) throw new Error("TRACE_DOCTOR_HTTP_TOKEN holds characters a bearer token cannot carry: use letters, digits and -._~+/ (e.g. `openssl rand -hex 32`).");
    auth = { kind: "token", token };
  } else if (oauth) {
    if (!e.TRACE_DOCTOR_OAUTH_ISSUER) throw new Error("TRACE_DOCTOR_OAUTH_AUDIENCE is set but TRACE_DOCTOR_OAUTH_ISSUER is not: give the authorization server's issuer URL.");
    if (!e.TRACE_DOCTOR_OAUTH_AUDIENCE) throw new Error("TRACE_DOCTOR_OAUTH_ISSUER is set but TRACE_DOCTOR_OAUTH_AUDIENCE is not: give the audience the issuer puts in tokens for this server (usually its public /mcp URL).");
    if (!URL.canParse(e.TRACE_DOCTOR_OAUTH_ISSUER)) throw new Error(`TRACE_DOCTOR_OAUTH_ISSUER must be a URL, got ${JSON.stringify(e.TRACE_DOCTOR_OAUTH_ISSUER)}`);
    auth = {
      kind: "oauth",
      issuer: e.TRACE_DOCTOR_OAUTH_ISSUER,
      audience: e.TRACE_DOCTOR_OAUTH_AUDIENCE,
      requiredScopes: (e.TRACE_DOCTOR_OAUTH_SCOPES ?? "").split(/[\s,]+/).filter(Boolean),
    };
  } else if (e.TRACE_DOCTOR_OAUTH_SCOPES) {
    throw new Error("TRACE_DOCTOR_OAUTH_SCOPES is set without TRACE_DOCTOR_OAUTH_ISSUER and TRACE_DOCTOR_OAUTH_AUDIENCE: scopes apply to OAuth only.");
  }

  const allowedOrigins = (e.TRACE_DOCTOR_HTTP_ALLOWED_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => {
      const url = URL.canParse(o) ? new URL(o) : null;
      if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.pathname !== "/" || url.search || url.hash) {
        throw new Error(`TRACE_DOCTOR_HTTP_ALLOWED_ORIGINS: ${JSON.stringify(o)} is not an origin; list them as scheme://host[:port], comma-separated (no "*", no paths)`);
      }
      return normalizeOrigin(o);
    });

  const publicUrl = e.TRACE_DOCTOR_HTTP_PUBLIC_URL;
  const publicParsed = publicUrl && URL.canParse(publicUrl) ? new URL(publicUrl) : null;
  if (publicUrl && (!publicParsed || !/^https?:$/.test(publicParsed.protocol) || publicParsed.search || publicParsed.hash)) {
    throw new Error(`TRACE_DOCTOR_HTTP_PUBLIC_URL must be the http(s) URL clients use for /mcp, e.g. https://mcp.example.com/mcp, got ${JSON.stringify(publicUrl)}`);
  }

  return {
    auth,
    allowedOrigins,
    publicUrl,
    limits: {
      ...DEFAULT_HTTP_LIMITS,
      maxBodyBytes: e.TRACE_DOCTOR_HTTP_MAX_BODY_BYTES,
      maxSessions: e.TRACE_DOCTOR_HTTP_MAX_SESSIONS,
      maxSessionsPerClient: e.TRACE_DOCTOR_HTTP_MAX_SESSIONS_PER_CLIENT,
      sessionIdleMs: e.TRACE_DOCTOR_HTTP_SESSION_IDLE_MS,
      drainTimeoutMs: e.TRACE_DOCTOR_HTTP_DRAIN_MS,
    },
  };
}
