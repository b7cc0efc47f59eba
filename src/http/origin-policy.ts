// DNS-rebinding protection and CORS: which Host and Origin headers a request may carry. A page on
// evil.example that resolves its name to 127.0.0.1 still sends its own Host and Origin, so a loopback
// server checks both; browsers may read answers only for origins allowed here.

import { isLoopbackHost, urlHost } from "./listen-address.js";
import type { RefusalReason } from "./replies.js";

export interface OriginPolicy {
  /** Null when the request may proceed; otherwise why not. */
  check(host: string | undefined, origin: string | undefined): { reason: Extract<RefusalReason, "host_not_allowed" | "origin_not_allowed">; message: string } | null;
}

export function originPolicy(options: { host: string; port: number; allowedOrigins: string[] }): OriginPolicy {
  const loopback = isLoopbackHost(options.host);
  const names = [...new Set([urlHost(options.host), ...(loopback ? ["localhost", "127.0.0.1", "[::1]"] : [])])];
  const hosts = new Set(names.flatMap((name) => [`${name}:${options.port}`, ...(options.port === 80 ? [name] : [])]).map((h) => h.toLowerCase()));
  const origins = new Set([...names.map((name) => `http://${name}:${options.port}`.toLowerCase()), ...options.allowedOrigins.map(normalizeOrigin)]);
  return {
    check(host, origin) {
      // Behind a proxy or on a public interface the Host is whatever the proxy or DNS says: only loopback is pinned.
      if (loopback && !hosts.has((host ?? "").toLowerCase())) {
        return { reason: "host_not_allowed", message: `Host ${JSON.stringify(host ?? "")} is not this server: a server on loopback answers only to ${[...hosts].join(", ")}.` };
      }
      if (origin !== undefined && !origins.has(normalizeOrigin(origin))) {
        return { reason: "origin_not_allowed", message: `Origin ${JSON.stringify(origin)} is not allowed: the server's operator can add it to TRACE_DOCTOR_HTTP_ALLOWED_ORIGINS.` };
      }
      return null;
    },
  };
}

/** `scheme://host[:port]`, lower-cased, default port dropped; anything unparsable stays as given (and matches nothing). */
export function normalizeOrigin(origin: string): string {
  try {
    const url = new URL(origin);
    return url.origin === "null" ? origin : url.origin.toLowerCase();
  } catch {
    return origin;
  }
}

/** CORS answer headers for an allowed Origin (the policy has already refused the others). */
export function corsHeaders(origin: string | undefined): Record<string, string> {
  if (origin === undefined) return {};
  return {
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Expose-Headers": "Mcp-Session-Id, Mcp-Protocol-Version, WWW-Authenticate",
    Vary: "Origin",
  };
}

export const PREFLIGHT_HEADERS: Record<string, string> = {
  "Access-Control-Allow-Methods": "GET, POST, DELETE",
  "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version, Last-Event-ID",
  "Access-Control-Max-Age": "600",
};
