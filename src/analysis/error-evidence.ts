// What a failed span's own evidence says it was: the HTTP status it carries (metadata or error text)
// and the kind of failure that status and text point at — overload, credentials, a crash, a timeout,
// a pool wait, a refused connection, a rejected input. Next checks are chosen from this, never from a
// generic list.

import type { Span } from "./span.js";

export const ERROR_KINDS = ["overload", "credentials", "timeout", "pool", "crash", "connection", "validation", "unknown"] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

export interface ErrorEvidence {
  kind: ErrorKind;
  /** The HTTP status the span carries, when it carries one (metadata first, then its error text). */
  httpStatus: number | null;
}

/** Metadata keys instrumentations write a response status under (OpenTelemetry, OpenTracing, hand-rolled). */
const STATUS_KEYS = ["http_status", "http.status_code", "http.response.status_code", "status_code", "http_status_code", "response_status", "http.status"];

/** "returned 502", "HTTP 504", "status=429", "503 Service Unavailable": a status named as one, never "after 500ms". */
const STATUS_IN_TEXT = [/\b(?:HTTP(?:\/\d(?:\.\d)?)?|status(?: code)?|returned|answered|responded|response|code)\s*[:=]?\s*([1-5]\d\d)\b/i, /(?:^|[\s:(])([45]\d\d)\s+[A-Z][a-z]/];

const OVERLOAD_TEXT = /too many requests|rate[ -]?limit|throttl|overload|service unavailable|over capacity|at capacity|load[ -]?shed|shedding|back[ -]?pressure|server (is )?busy|try again later|quota exceeded/i;
const CREDENTIALS_TEXT = /unauthori[sz]ed|forbidden|invalid (api[ _-]?)?(token|key|credential)|permission denied|access denied|authenticat|expired (token|credential)|not authori[sz]ed/i;
const TIMEOUT_TEXT = /time[ds]?[ -]?out|deadline exceeded/i;
const POOL_TEXT = /pool (is )?(exhausted|full|timeout|timed out)|connection pool|queuepool limit|too many (clients|connections)|remaining connection slots|could not (obtain|acquire|get) (a )?connection|timeout (acquiring|waiting for) (a |an idle )?connection|acquire.{0,40}timed? ?out/i;
const CRASH_TEXT = /panic|exception|traceback|segfault|segmentation fault|crash|fatal|internal server error|null pointer|nil pointer|out of memory|\boom\b|killed|unexpected eof|\beof\b|connection reset|broken pipe/i;
const CONNECTION_TEXT = /\becon+refused\b|connection refused|could not connect|no route to host|\benotfound\b|getaddrinfo|name resolution|\bdns\b|certificate|tls handshake|network is unreachable/i;
const VALIDATION_TEXT = /invalid|validation|bad request|not ?found|unprocessable|malformed|missing (field|parameter|argument)|schema/i;

/** A span name that is a wait for a pooled resource: pool.acquire, db.pool.connect, HikariPool.getConnection (not "POST /checkout"). */
export const POOL_WAIT_NAME = /pool|acquire|getconnection|get_connection|borrow_?connection|wait_for_connection|connection[._-]?checkout|checkout[._-]?connection/i;

/** The HTTP status a span carries: a status metadata key, else one named in its error text. */
export function httpStatusOf(span: Pick<Span, "metadata" | "errorMessage">): number | null {
  for (const key of STATUS_KEYS) {
    const v = span.metadata[key];
    const n = typeof v === "number" ? v : typeof v === "string" && /^\d{3}$/.test(v.trim()) ? Number(v) : NaN;
    if (Number.isInteger(n) && n >= 100 && n <= 599) return n;
  }
  const text = span.errorMessage ?? "";
  for (const re of STATUS_IN_TEXT) {
    const m = re.exec(text);
    if (m) return Number(m[1]);
  }
  return null;
}

/** What a failed span's status code, error text and name say the failure was. */
export function errorEvidence(span: Pick<Span, "metadata" | "errorMessage" | "operation" | "service" | "status">): ErrorEvidence {
  const httpStatus = httpStatusOf(span);
  return { kind: kindOf(span, httpStatus), httpStatus };
}

function kindOf(span: Pick<Span, "metadata" | "errorMessage" | "operation" | "service" | "status">, status: number | null): ErrorKind {
  const text = span.errorMessage ?? "";
  if (status === 429 || status === 503) return "overload";
  if (status === 401 || status === 403 || status === 407) return "credentials";
  if (POOL_TEXT.test(text)) return "pool";
  if (status === 504 || status === 408 || span.status.toLowerCase() === "timeout") return POOL_WAIT_NAME.test(span.operation) ? "pool" : "timeout";
  if (OVERLOAD_TEXT.test(text)) return "overload";
  if (CREDENTIALS_TEXT.test(text)) return "credentials";
  if (TIMEOUT_TEXT.test(text)) return POOL_WAIT_NAME.test(span.operation) ? "pool" : "timeout";
  if (CONNECTION_TEXT.test(text)) return "connection";
  if (status !== null && status >= 500) return "crash";
  if (CRASH_TEXT.test(text)) return "crash";
  if ((status !== null && status >= 400) || VALIDATION_TEXT.test(text)) return "validation";
  return "unknown";
}

/** What the failure's kind says to look at next, about service `who` at time `at` (ISO). */
export function checksForError(kind: ErrorKind, who: string, at: string): string[] {
  switch (kind) {
    case "overload":
      return [
        `Check ${who}'s load at ${at}: request rate, CPU and memory, instance count and autoscaling — a 429/503 means it was shedding load, not refusing this request for what it is.`,
        `Check the rate limits and quotas applied to the caller (429s, Retry-After headers) and whether other callers' traffic to ${who} rose then.`,
        "Count the attempts per request: retries from many callers multiply the load (a retry storm) — check the back-off has jitter and a cap.",
      ];
    case "credentials":
      return [
        `Check ${who}'s credentials, tokens and quotas as the caller sends them (a 401/403 in its logs confirms).`,
        `Check when the credential was last rotated or expired, and which deploy of the caller sends it.`,
      ];
    case "timeout":
      return [
        "Find the configured limit (client timeout, function timeout) near that duration, and who sets it.",
        `Check ${who}'s latency and saturation at ${at} (queueing, slow dependencies).`,
      ];
    case "pool":
      return [
        `Compare the connection pool's size (its max connections) with the concurrent requests ${who} served at ${at}.`,
        "Find who held the connections: long transactions, connections never returned (leaks), sessions 'idle in transaction' (pg_stat_activity) at that time.",
        "Check the database's own limit (max_connections) and whether other services share it.",
      ];
    case "crash":
      return [
        `Read ${who}'s logs and error tracker at ${at} for this request: a 5xx or a reset connection says it failed while handling it (an exception, a panic, a crash or a restart).`,
        `Check ${who}'s deploys, restarts and OOM kills around ${at}.`,
      ];
    case "connection":
      return [
        `From the caller's host: resolve and connect to ${who} (DNS, TLS, connection refused).`,
        `Check ${who} was up and listening at ${at} (restarts, deploys, health checks).`,
      ];
    case "validation":
      return [
        `Check what ${who} validates in the request (payload, ids, model or region names) for this job's metadata.`,
        `Check ${who}'s recent deploys around ${at}: a stricter validation or a renamed field refuses requests that passed before.`,
      ];
    default:
      return [`Read ${who}'s logs at ${at} for this request, and the error text of its failing span.`];
  }
}
