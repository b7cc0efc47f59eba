// What a failed span's own evidence says, table-driven: the HTTP status it carries (metadata first,
// then error text, never a duration), the failure kind that status and text point at, and the checks
// each kind leads to.

import { describe, expect, it } from "vitest";
import { checksForError, errorEvidence, ERROR_KINDS, httpStatusOf, POOL_WAIT_NAME } from "../../src/analysis/error-evidence.js";
import { span } from "./span-builder.js";

describe("httpStatusOf", () => {
  it.each<[string, Record<string, unknown>, string | null, number | null]>([
    ["http_status metadata", { http_status: 502 }, null, 502],
    ["OpenTelemetry http.status_code", { "http.status_code": 503 }, null, 503],
    ["stable semconv http.response.status_code as text", { "http.response.status_code": "429" }, null, 429],
    ["metadata before text", { http_status: 401 }, "router returned 502", 401],
    ["'returned 502' in text", {}, "router returned 502: provider rejected the request", 502],
    ["'HTTP 504' in text", {}, "router returned HTTP 504 Gateway Timeout", 504],
    ["a leading status and reason", {}, "401 Unauthorized: invalid token", 401],
    ["status=429", {}, "upstream status=429 rate limited", 429],
    ["a duration is no status", {}, "Function call timed out after 30s", null],
    ["'after 500 ms' is no status", {}, "gave up after 500 ms", null],
    ["'500ms' is no status", {}, "slow: 500ms", null],
    ["a number that is no status", { http_status: "abc" }, "order 12345 failed", null],
    ["out of range", { http_status: 999 }, null, null],
  ])("%s", (_what, metadata, error, status) => {
    expect(httpStatusOf({ metadata, errorMessage: error })).toBe(status);
  });
});

describe("errorEvidence: the kind of a failure", () => {
  it.each<[string, { status?: string; error?: string | null; op?: string; metadata?: Record<string, unknown> }, (typeof ERROR_KINDS)[number]]>([
    ["503 is shedding load", { error: "503 Service Unavailable" }, "overload"],
    ["429 in metadata", { error: "too slow", metadata: { "http.status_code": 429 } }, "overload"],
    ["rate limit text", { error: "rate limit exceeded for key k" }, "overload"],
    ["401", { error: "401 Unauthorized: invalid token" }, "credentials"],
    ["403 forbidden", { error: "forbidden", metadata: { http_status: 403 } }, "credentials"],
    ["permission denied", { error: "permission denied for table orders" }, "credentials"],
    ["a pool timeout", { error: "timeout acquiring a connection from the pool after 5000ms" }, "pool"],
    ["too many clients", { error: "FATAL: sorry, too many clients already" }, "pool"],
    ["a timeout status on a pool span", { status: "timeout", op: "db.pool.acquire" }, "pool"],
    ["504 is a timeout", { error: "router returned HTTP 504 Gateway Timeout" }, "timeout"],
    ["timed out", { status: "timeout", error: "Function call timed out after 30s" }, "timeout"],
    ["deadline exceeded", { error: "context deadline exceeded" }, "timeout"],
    ["connection refused", { error: "dial tcp 10.0.0.1:443: connect: connection refused" }, "connection"],
    ["DNS", { error: "getaddrinfo ENOTFOUND router.internal" }, "connection"],
    ["500 with a panic", { error: "500 Internal Server Error: panic: nil map" }, "crash"],
    ["a reset connection", { error: "router connection reset (EOF)" }, "crash"],
    ["a bare 502", { metadata: { http_status: 502 } }, "crash"],
    ["422", { error: "validation failed: model is required", metadata: { http_status: 422 } }, "validation"],
    ["not found", { error: "TemplateNotFound: 'invoice_v3'" }, "validation"],
    ["nothing to go on", { error: "execution failed" }, "unknown"],
  ])("%s", (_what, s, kind) => {
    const sp = span("s", { status: s.status ?? "error", error: s.error ?? null, operation: s.op ?? "call", metadata: s.metadata ?? {} });
    expect(errorEvidence(sp).kind).toBe(kind);
  });
});

describe("checksForError: next checks chosen by the kind", () => {
  it.each<[(typeof ERROR_KINDS)[number], RegExp]>([
    ["overload", /shedding load|load at .*request rate/],
    ["credentials", /credentials, tokens/],
    ["timeout", /configured limit/],
    ["pool", /pool's size .*|who held the connections/],
    ["crash", /logs and error tracker/],
    ["connection", /DNS, TLS, connection refused/],
    ["validation", /validates in the request/],
    ["unknown", /logs at/],
  ])("%s", (kind, expected) => {
    const checks = checksForError(kind, "search-api", "2025-10-22T17:48:00.000Z");
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.join(" ")).toMatch(expected);
    // A service that sheds load is never sent to check its credentials, nor a pool wait to check GPUs.
    if (kind === "overload" || kind === "pool") expect(checks.join(" ")).not.toMatch(/credential|GPU/);
  });

  it("names pool waits, not pages that happen to say checkout", () => {
    expect(["db.pool.acquire", "HikariPool.getConnection", "pool.connect", "wait_for_connection"].every((n) => POOL_WAIT_NAME.test(n))).toBe(true);
    expect(["POST /checkout", "render_invoice", "SELECT order_items"].some((n) => POOL_WAIT_NAME.test(n))).toBe(false);
  });
});
