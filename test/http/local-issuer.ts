// A local OAuth authorization server for tests, on node:http: its RFC 8414 (or only OpenID) metadata and
// a JWKS, and access tokens signed with jose — including the bad ones a resource server must refuse.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";

export interface LocalIssuer {
  issuer: string;
  /** Requests the issuer saw, by path. */
  hits: string[];
  /**
   * A token; `claims` override the defaults (iss, aud, sub, client_id, scope). `exp`: a jose time span or
   * epoch seconds, null for none (default 5 min). `key: "stranger"` signs with a key the issuer does not publish.
   */
  token(claims?: JWTPayload, options?: { key?: "published" | "stranger"; exp?: number | string | null }): Promise<string>;
  close(): Promise<void>;
}

export async function startLocalIssuer(options: { audience: string; metadata?: "oauth" | "openid" | "none"; issuerOverride?: string }): Promise<LocalIssuer> {
  const published = await generateKeyPair("ES256");
  // Same kid, other key: a token it signs names a published key but does not verify.
  const stranger = await generateKeyPair("ES256");
  const jwk = { ...(await exportJWK(published.publicKey)), kid: "key-1", alg: "ES256", use: "sig" };
  const hits: string[] = [];
  let issuer = "";
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.push(path);
    const kind = options.metadata ?? "oauth";
    const metadata = {
      issuer: options.issuerOverride ?? issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
      ...(kind === "openid" ? { subject_types_supported: ["public"], id_token_signing_alg_values_supported: ["ES256"] } : {}),
    };
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (path === "/.well-known/oauth-authorization-server" && kind === "oauth") return send(200, metadata);
    if (path === "/.well-known/openid-configuration" && kind === "openid") return send(200, metadata);
    if (path === "/jwks") return send(200, { keys: [jwk] });
    send(404, { error: "not_found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const keys: Record<string, CryptoKey> = { published: published.privateKey, stranger: stranger.privateKey };
  return {
    issuer,
    hits,
    async token(claims = {}, { key = "published", exp = "5m" } = {}) {
      const jwt = new SignJWT({ iss: issuer, aud: options.audience, sub: "user-1", client_id: "test-client", scope: "traces:read", ...claims })
        .setProtectedHeader({ alg: "ES256", kid: "key-1", typ: "at+jwt" })
        .setIssuedAt();
      if (exp !== null) jwt.setExpirationTime(exp);
      return jwt.sign(keys[key]!);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
