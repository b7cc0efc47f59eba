// The OAuth 2.1 resource-server mode (TRACE_DOCTOR_OAUTH_ISSUER/AUDIENCE): finds the issuer's JWKS through
// its RFC 8414 or OpenID metadata, validates JWT access tokens with jose (signature, issuer, audience,
// expiry, scopes), and describes this server as an RFC 9728 protected resource.

import { discoverAuthorizationServerMetadata } from "@modelcontextprotocol/sdk/client/auth.js";
import type { OAuthProtectedResourceMetadata } from "@modelcontextprotocol/sdk/shared/auth.js";
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";
import { AuthRefusal, bearerToken, type RequestAuthenticator } from "./auth.js";
import { isLoopbackHost } from "./listen-address.js";

export interface OAuthResourceServer extends RequestAuthenticator {
  readonly kind: "oauth";
  readonly issuer: string;
  readonly jwksUri: string;
  /** RFC 9728 metadata for this server reached at `resource` (the URL of its /mcp endpoint). */
  protectedResourceMetadata(resource: string): OAuthProtectedResourceMetadata;
}

// Asymmetric algorithms only: a JWKS is public, so an HMAC "signed" with it proves nothing.
const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

export async function startOAuthResourceServer(config: { issuer: string; audience: string; requiredScopes: string[] }): Promise<OAuthResourceServer> {
  const { issuer, audience, requiredScopes } = config;
  const issuerUrl = new URL(issuer);
  if (issuerUrl.protocol !== "https:" && !(issuerUrl.protocol === "http:" && isLoopbackHost(issuerUrl.hostname))) {
    throw new Error(`TRACE_DOCTOR_OAUTH_ISSUER must be an https:// URL (http:// only for an issuer on loopback), got ${JSON.stringify(issuer)}`);
  }
  let metadata: Awaited<ReturnType<typeof discoverAuthorizationServerMetadata>>;
  try {
    metadata = await discoverAuthorizationServerMetadata(issuerUrl, { fetchFn: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(10_000) }) });
  } catch (err) {
    throw new Error(`TRACE_DOCTOR_OAUTH_ISSUER=${issuer}: could not read the issuer's metadata: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!metadata) {
    throw new Error(`TRACE_DOCTOR_OAUTH_ISSUER=${issuer}: no authorization server metadata found (tried /.well-known/oauth-authorization-server and /.well-known/openid-configuration); check the issuer URL`);
  }
  // RFC 8414 §3.3: metadata naming another issuer must not be used.
  if (metadata.issuer !== issuer) {
    throw new Error(`TRACE_DOCTOR_OAUTH_ISSUER=${issuer}: the metadata found names issuer ${JSON.stringify(metadata.issuer)}; set TRACE_DOCTOR_OAUTH_ISSUER to exactly that value`);
  }
  const jwksUri = typeof metadata.jwks_uri === "string" ? metadata.jwks_uri : null;
  if (!jwksUri) throw new Error(`TRACE_DOCTOR_OAUTH_ISSUER=${issuer}: the issuer's metadata has no jwks_uri, so its access tokens cannot be verified here`);
  const keys = createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5_000 });

  return {
    kind: "oauth",
    issuer,
    jwksUri,
    requiredScopes,
    async authenticate(authorization) {
      const token = bearerToken(authorization);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, { issuer, audience, algorithms: ALGORITHMS, requiredClaims: ["exp"], clockTolerance: 30 }));
      } catch (err) {
        throw refusalFor(err, issuer, audience);
      }
      const scopes = scopesOf(payload);
      const missing = requiredScopes.filter((s) => !scopes.includes(s));
      if (missing.length) {
        throw new AuthRefusal(403, "insufficient_scope", `The access token lacks scope ${missing.join(" ")}: get a token from ${issuer} with scope "${requiredScopes.join(" ")}".`);
      }
      const clientId = stringClaim(payload, "client_id") ?? stringClaim(payload, "azp") ?? payload.sub ?? "unknown";
      return {
        principal: `${issuer} ${payload.sub ?? clientId}`,
        authInfo: {
          // The raw token stays here: nothing below the transport needs it, and it must not be passed on.
          token: "[redacted]",
          clientId,
          scopes,
          ...(payload.exp !== undefined ? { expiresAt: payload.exp } : {}),
          extra: { issuer, ...(payload.sub ? { subject: payload.sub } : {}) },
        },
      };
    },
    protectedResourceMetadata(resource) {
      return {
        resource,
        authorization_servers: [issuer],
        bearer_methods_supported: ["header"],
        ...(requiredScopes.length ? { scopes_supported: requiredScopes } : {}),
        resource_name: "trace-doctor",
      };
    },
  };
}

function refusalFor(err: unknown, issuer: string, audience: string): AuthRefusal {
  const code = err instanceof errors.JOSEError ? err.code : null;
  const claim = err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired ? err.claim : null;
  switch (code) {
    case errors.JWTExpired.code:
      return new AuthRefusal(401, "invalid_token", `The access token has expired: get a new one from ${issuer}.`);
    case errors.JWTClaimValidationFailed.code:
      if (claim === "iss") return new AuthRefusal(401, "invalid_token", `The access token was not issued by ${issuer}, the only issuer this server trusts.`);
      if (claim === "aud") return new AuthRefusal(401, "invalid_token", `The access token is not meant for this server: its audience must include ${JSON.stringify(audience)} (request it with resource=${audience}).`);
      if (claim === "exp") return new AuthRefusal(401, "invalid_token", "The access token has no expiry (exp): this server accepts only tokens that expire.");
      return new AuthRefusal(401, "invalid_token", `The access token's ${claim ?? "claims"} did not validate: get a new one from ${issuer}.`);
    case errors.JWSSignatureVerificationFailed.code:
      return new AuthRefusal(401, "invalid_token", `The access token's signature does not verify against ${issuer}'s keys.`);
    case errors.JWKSNoMatchingKey.code:
      return new AuthRefusal(401, "invalid_token", `The access token is signed with a key ${issuer} does not publish.`);
    case errors.JWSInvalid.code:
    case errors.JWTInvalid.code:
    case errors.JOSEAlgNotAllowed.code:
    case errors.JOSENotSupported.code:
    case errors.JWKSMultipleMatchingKeys.code:
      return new AuthRefusal(401, "invalid_token", `The access token is not a JWT signed by ${issuer} with an asymmetric algorithm.`);
    default:
      // The keys could not be fetched (timeout, network, a bad JWKS): the token may well be fine.
      return new AuthRefusal(503, "auth_unavailable", `Could not fetch ${issuer}'s signing keys to check the access token; retry shortly.`);
  }
}

function scopesOf(payload: JWTPayload): string[] {
  const raw = payload.scope ?? payload.scp;
  if (typeof raw === "string") return raw.split(" ").filter(Boolean);
  if (Array.isArray(raw)) return raw.filter((s): s is string => typeof s === "string");
  return [];
}

function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === "string" ? value : undefined;
}
