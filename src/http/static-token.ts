// The shared-secret mode (TRACE_DOCTOR_HTTP_TOKEN): a request carries the token or is refused. Compared
// as SHA-256 digests with timingSafeEqual, so neither the content nor the length leaks through timing.

import { createHash, timingSafeEqual } from "node:crypto";
import { AuthRefusal, bearerToken, type RequestAuthenticator } from "./auth.js";

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

export function staticTokenAuthenticator(token: string): RequestAuthenticator {
  const expected = digest(token);
  return {
    kind: "token",
    requiredScopes: [],
    async authenticate(authorization) {
      const given = bearerToken(authorization);
      if (!timingSafeEqual(digest(given), expected)) {
        throw new AuthRefusal(401, "invalid_token", "The bearer token is not this server's token: send the value of the server's TRACE_DOCTOR_HTTP_TOKEN.");
      }
      return { principal: "token", authInfo: { token: "[redacted]", clientId: "static-token", scopes: [] } };
    },
  };
}
