// Who may call /mcp: the auth modes, what a successful check yields, how a refusal is said (status,
// reason, RFC 6750 challenge), and the WWW-Authenticate header built from it.

import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { RefusalReason } from "./replies.js";

export type HttpAuthConfig =
  | { kind: "none" }
  /** One shared secret, sent as `Authorization: Bearer <token>`. */
  | { kind: "token"; token: string }
  /** An OAuth 2.1 resource server: JWT access tokens from `issuer`, for `audience`, with `requiredScopes`. */
  | { kind: "oauth"; issuer: string; audience: string; requiredScopes: string[] };

export interface Authenticated {
  /** Whom sessions are bound to: another principal cannot use a session id it learns. */
  principal: string;
  /** Handed to the MCP layer (tool handlers see it as `extra.authInfo`); never carries the raw token. */
  authInfo: AuthInfo | undefined;
}

export interface RequestAuthenticator {
  readonly kind: HttpAuthConfig["kind"];
  /** Scopes a token must carry; said in challenges. */
  readonly requiredScopes: string[];
  /** Resolves or throws an AuthRefusal. */
  authenticate(authorization: string | undefined): Promise<Authenticated>;
}

export class AuthRefusal extends Error {
  constructor(
    readonly status: 401 | 403 | 503,
    readonly reason: Extract<RefusalReason, "missing_token" | "invalid_token" | "insufficient_scope" | "auth_unavailable">,
    message: string,
  ) {
    super(message);
  }

  /** The RFC 6750 error code; none when no token was sent (RFC 6750 §3.1). */
  get oauthError(): "invalid_token" | "insufficient_scope" | null {
    return this.reason === "invalid_token" || this.reason === "insufficient_scope" ? this.reason : null;
  }
}

/** The token from `Authorization: Bearer <token>`, or an AuthRefusal saying what to send. */
export function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(authorization ?? "");
  if (!match) {
    throw new AuthRefusal(
      401,
      "missing_token",
      authorization ? "The Authorization header is not `Bearer <token>`: send the access token as `Authorization: Bearer <token>`." : "This server needs an access token: send `Authorization: Bearer <token>`.",
    );
  }
  return match[1]!;
}

export function noAuthenticator(): RequestAuthenticator {
  return { kind: "none", requiredScopes: [], authenticate: async () => ({ principal: "anonymous", authInfo: undefined }) };
}

/** `Bearer k="v", ...` with RFC 7230 quoted-string escaping; parameters without a value are left out. */
export function bearerChallenge(params: Record<string, string | null | undefined>): string {
  const parts = Object.entries(params)
    .filter((entry): entry is [string, string] => typeof entry[1] === "string" && entry[1] !== "")
    .map(([k, v]) => `${k}="${v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, " ")}"`);
  return parts.length ? `Bearer ${parts.join(", ")}` : "Bearer";
}
