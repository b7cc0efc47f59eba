// A typed client for the few Sentry REST endpoints trace-doctor reads, under
// /api/0/organizations/{org}/: issues, short ids, issue events, event ids, issue search. It retries
// what is worth retrying (429 until the rate limit resets, 5xx and network errors with backoff, all
// bounded), maps every failure to an error a model can act on, and never lets the token out.

import type { z } from "zod";
import { TraceDoctorError, type ErrorCode } from "../errors.js";
import { DEFAULT_SENTRY_MAX_BYTES } from "../limits.js";
import { currentScope, remainingMs, stoppedError, throwIfStopped } from "../request-scope.js";
import {
  eventIdLookup,
  eventList,
  issueList,
  sentryEvent,
  sentryIssue,
  shortIdLookup,
  type SentryEvent,
  type SentryIssue,
} from "./sentry-schemas.js";

export type SentryErrorKind = "auth" | "forbidden" | "not_found" | "bad_request" | "rate_limited" | "server" | "network" | "timeout" | "bad_response";

const CODE_OF: Record<SentryErrorKind, ErrorCode> = {
  auth: "upstream",
  forbidden: "upstream",
  not_found: "not_found",
  bad_request: "upstream",
  rate_limited: "busy",
  server: "upstream",
  network: "upstream",
  timeout: "timeout",
  bad_response: "upstream",
};

export class SentryApiError extends TraceDoctorError {
  constructor(
    message: string,
    readonly kind: SentryErrorKind,
    readonly status?: number,
  ) {
    super(message, CODE_OF[kind]);
  }
}

export interface SentryClientOptions {
  /** https://sentry.io, a region host such as https://us.sentry.io, or a self-hosted http(s)://host:port. */
  baseUrl: string;
  token: string;
  org: string;
  project?: string;
  /** Per request. */
  timeoutMs?: number;
  /** Tries per request, for 5xx, network errors, timeouts and rate limits. */
  maxAttempts?: number;
  /** Longest wait for a rate limit to reset before giving up. */
  maxRateLimitWaitMs?: number;
  /** Largest response body read (default DEFAULT_SENTRY_MAX_BYTES); a bigger one is refused. */
  maxResponseBytes?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export type EventChoice = "recommended" | "latest" | "oldest" | (string & {});

/** What the sentry_issue_context tool needs from Sentry, and nothing more. */
export interface SentryIssues {
  readonly org: string;
  readonly host: string;
  getIssue(issueId: string, org?: string): Promise<SentryIssue>;
  lookupShortId(shortId: string): Promise<{ issueId: string; issue: SentryIssue | null }>;
  getIssueEvent(issueId: string, which: EventChoice, org?: string): Promise<SentryEvent>;
  lookupEventId(eventId: string): Promise<{ issueId: string; event: SentryEvent | null }>;
  /** Event ids of an issue matching a search query, newest first. */
  findIssueEvents(issueId: string, query: string, limit: number): Promise<string[]>;
  /** Issues matching a search query, most recently seen first, across pages up to `limit`. */
  searchIssues(query: string, limit: number): Promise<{ issues: SentryIssue[]; more: boolean }>;
}

interface Page<T> {
  data: T;
  nextCursor: string | null;
}

const sleepFor = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** Error bodies are read only this far: enough for Sentry's `detail`, never a whole page. */
const ERROR_BODY_BYTES = 64 * 1024;

export class SentryClient implements SentryIssues {
  readonly org: string;
  readonly host: string;
  private readonly base: string;

  constructor(private readonly options: SentryClientOptions) {
    const url = new URL(options.baseUrl);
    this.base = url.origin + url.pathname.replace(/\/+$/, "");
    this.host = url.host;
    this.org = options.org;
  }

  getIssue(issueId: string, org = this.org): Promise<SentryIssue> {
    return this.get(`organizations/${enc(org)}/issues/${enc(issueId)}/`, {}, sentryIssue, `issue ${issueId}`, org).then((p) => p.data);
  }

  async lookupShortId(shortId: string): Promise<{ issueId: string; issue: SentryIssue | null }> {
    const { data } = await this.get(`organizations/${enc(this.org)}/shortids/${enc(shortId)}/`, {}, shortIdLookup, `short id ${shortId}`);
    return { issueId: data.groupId, issue: data.group ?? null };
  }

  getIssueEvent(issueId: string, which: EventChoice, org = this.org): Promise<SentryEvent> {
    return this.get(`organizations/${enc(org)}/issues/${enc(issueId)}/events/${enc(which)}/`, {}, sentryEvent, `event ${which} of issue ${issueId}`, org).then(
      (p) => p.data,
    );
  }

  async lookupEventId(eventId: string): Promise<{ issueId: string; event: SentryEvent | null }> {
    const { data } = await this.get(`organizations/${enc(this.org)}/eventids/${enc(eventId)}/`, {}, eventIdLookup, `event ${eventId}`);
    return { issueId: data.groupId, event: data.event ?? null };
  }

  async findIssueEvents(issueId: string, query: string, limit: number): Promise<string[]> {
    const { data } = await this.get(
      `organizations/${enc(this.org)}/issues/${enc(issueId)}/events/`,
      { query },
      eventList,
      `events of issue ${issueId}`,
    );
    return data.slice(0, limit).map((e) => e.eventID ?? e.id);
  }

  async searchIssues(query: string, limit: number): Promise<{ issues: SentryIssue[]; more: boolean }> {
    const issues: SentryIssue[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 5; page++) {
      const params: Record<string, string> = { query, limit: String(Math.min(100, limit)), statsPeriod: "14d", sort: "date" };
      // Sentry's `project` parameter takes numeric ids; a slug goes into the search query instead.
      if (this.options.project && /^\d+$/.test(this.options.project)) params.project = this.options.project;
      else if (this.options.project) params.query = `project:${this.options.project} ${query}`;
      if (cursor) params.cursor = cursor;
      const result: Page<SentryIssue[]> = await this.get(`organizations/${enc(this.org)}/issues/`, params, issueList, `issues matching ${JSON.stringify(query)}`);
      issues.push(...result.data);
      cursor = result.nextCursor;
      if (!cursor || issues.length >= limit) break;
    }
    return { issues: issues.slice(0, limit), more: issues.length > limit || cursor !== null };
  }

  /** One GET with retries, error mapping, bounded reads and lenient validation. */
  private async get<S extends z.ZodType>(path: string, query: Record<string, string>, schema: S, what: string, org = this.org): Promise<Page<z.infer<S>>> {
    let url = new URL(`${this.base}/api/0/${path}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const maxAttempts = Math.max(1, this.options.maxAttempts ?? 3);
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const now = this.options.now ?? Date.now;
    const scope = currentScope();
    let last: SentryApiError | null = null;
    let redirects = 0;

    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      throwIfStopped(scope);
      // One signal for the attempt: its own timeout, and the request's cancellation or deadline.
      const signal = scope ? AbortSignal.any([AbortSignal.timeout(timeoutMs), scope.signal]) : AbortSignal.timeout(timeoutMs);
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { Authorization: `Bearer ${this.options.token}`, Accept: "application/json", "User-Agent": "trace-doctor" },
          signal,
          redirect: "manual",
        });
      } catch (err) {
        if (scope?.signal.aborted) throw stoppedError(scope);
        const timedOut = (err as Error).name === "TimeoutError" || (err as Error).name === "AbortError";
        last = timedOut
          ? new SentryApiError(`Sentry at ${this.host} did not answer within ${timeoutMs} ms (${attempt} attempt(s)) for ${what}. Raise SENTRY_TIMEOUT_MS or try again.`, "timeout")
          : new SentryApiError(`Cannot reach Sentry at ${this.host} for ${what}: ${this.clean(causeOf(err))}. Check SENTRY_URL and the network.`, "network");
        if (attempt < maxAttempts) await this.pause(backoff(attempt));
        continue;
      }
      scope?.step("Sentry");

      if (response.status >= 300 && response.status < 400) {
        await response.body?.cancel().catch(() => {});
        const target = redirectTarget(url, response.headers.get("location"));
        // The token goes to SENTRY_URL's host only, and another host's data must not pass for Sentry's.
        if (!target || target.host !== url.host || redirects >= 3) {
          throw new SentryApiError(
            target && target.host !== url.host
              ? `Sentry at ${this.host} redirected ${what} to another host, ${target.host}; trace-doctor does not follow it (the token is only for ${this.host}). If Sentry moved, set SENTRY_URL to ${target.origin}.`
              : `Sentry at ${this.host} answered ${what} with a redirect (${response.status}) that cannot be followed. Check SENTRY_URL.`,
            "bad_response",
            response.status,
          );
        }
        url = target;
        redirects++;
        attempt--;
        continue;
      }

      if (response.status === 429) {
        const waitMs = rateLimitWait(response.headers, now());
        await response.body?.cancel().catch(() => {});
        const maxWait = Math.min(this.options.maxRateLimitWaitMs ?? 10_000, remainingMs(scope));
        const resetAt = new Date(now() + waitMs).toISOString();
        last = new SentryApiError(
          `Sentry rate-limited trace-doctor (429) for ${what}; the limit resets at ${resetAt} (in ${waitMs < 1000 ? `${Math.ceil(waitMs)} ms` : `${Math.ceil(waitMs / 1000)} s`})${
            waitMs > maxWait ? `, later than this server waits (${Math.round(maxWait / 1000)} s)` : ` and ${attempt} attempt(s) were made`
          }. Try again after the reset.`,
          "rate_limited",
          429,
        );
        if (waitMs <= maxWait && attempt < maxAttempts) {
          await this.pause(waitMs);
          continue;
        }
        throw last;
      }
      if (response.status >= 500) {
        const body = await readCapped(response, ERROR_BODY_BYTES).catch(() => ({ text: "", truncated: false }));
        last = new SentryApiError(
          `Sentry at ${this.host} answered ${response.status} for ${what} (${attempt} attempt(s))${body.text ? `: ${this.clean(body.text).slice(0, 160)}` : ""}. Sentry may be degraded; try again shortly.`,
          "server",
          response.status,
        );
        if (attempt < maxAttempts) await this.pause(backoff(attempt));
        continue;
      }
      if (!response.ok) throw await this.clientError(response, what, org);

      // The timeout covers the body too: a response that stalls after its headers is retried like one that never came.
      const maxBytes = this.options.maxResponseBytes ?? DEFAULT_SENTRY_MAX_BYTES;
      let text: string;
      try {
        const body = await readCapped(response, maxBytes);
        if (body.truncated) {
          throw new SentryApiError(
            `Sentry's answer for ${what} is larger than ${maxBytes} bytes (TRACE_DOCTOR_SENTRY_MAX_BYTES); it was not read. Ask for something smaller (another event, fewer results) or raise the limit.`,
            "bad_response",
            response.status,
          );
        }
        text = body.text;
      } catch (err) {
        if (err instanceof SentryApiError) throw err;
        if (scope?.signal.aborted) throw stoppedError(scope);
        last = new SentryApiError(
          `Sentry at ${this.host} stopped sending the answer for ${what} (${attempt} attempt(s)): ${this.clean(causeOf(err))}. Raise SENTRY_TIMEOUT_MS or try again.`,
          "timeout",
        );
        if (attempt < maxAttempts) await this.pause(backoff(attempt));
        continue;
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new SentryApiError(`Sentry sent a body that is not JSON for ${what} (${this.clean(text.slice(0, 200)).slice(0, 80)}…). Is SENTRY_URL a Sentry server?`, "bad_response", response.status);
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new SentryApiError(
          `Sentry's answer for ${what} has an unexpected shape (${issue?.path.join(".") || "body"}: ${issue?.message}). The Sentry version may be unsupported.`,
          "bad_response",
          response.status,
        );
      }
      return { data: parsed.data, nextCursor: nextCursor(response.headers.get("link")) };
    }
    throw last ?? new SentryApiError(`Sentry request for ${what} failed.`, "network");
  }

  /** A retry's wait, cut short by the request's cancellation and never past its deadline. */
  private async pause(ms: number): Promise<void> {
    const scope = currentScope();
    const wait = Math.min(ms, remainingMs(scope));
    await (this.options.sleep ?? sleepFor)(wait, scope?.signal);
    throwIfStopped(scope);
  }

  private async clientError(response: Response, what: string, org: string): Promise<SentryApiError> {
    const raw = await readCapped(response, ERROR_BODY_BYTES).catch(() => ({ text: "", truncated: false }));
    let detail = "";
    try {
      const b: unknown = JSON.parse(raw.text);
      if (b && typeof b === "object" && "detail" in b) detail = String((b as { detail: unknown }).detail);
    } catch {
      // not JSON: no detail to quote
    }
    // Clean before cutting: a token cut in half would no longer be recognised.
    const suffix = detail ? ` Sentry said: ${this.clean(detail).slice(0, 200)}` : "";
    switch (response.status) {
      case 401:
        return new SentryApiError(
          `Sentry rejected the token (401) for ${what}: SENTRY_AUTH_TOKEN is missing, mistyped, expired or revoked. Create a token with event:read, org:read and project:read scopes.${suffix}`,
          "auth",
          401,
        );
      case 403:
        return new SentryApiError(
          `The Sentry token may not read ${what} (403): it needs the event:read, org:read and project:read scopes and access to the project.${suffix}`,
          "forbidden",
          403,
        );
      case 404:
        return new SentryApiError(
          `Sentry has no ${what} in organization ${org} at ${this.host} (404). Check the id, and that SENTRY_ORG is the organization slug from your Sentry URL (and SENTRY_URL the right region or host).${suffix}`,
          "not_found",
          404,
        );
      default:
        return new SentryApiError(`Sentry refused the request for ${what} (${response.status}).${suffix}`, "bad_request", response.status);
    }
  }

  /** The token must never leave this process, not even when a server echoes it back. */
  private clean(text: string): string {
    return this.options.token ? text.split(this.options.token).join("***") : text;
  }
}

/** Reads a body up to `max` bytes; past it the stream is cancelled and `truncated` is set. */
async function readCapped(response: Response, max: number): Promise<{ text: string; truncated: boolean }> {
  const length = Number(response.headers.get("content-length"));
  if (Number.isFinite(length) && length > max) {
    await response.body?.cancel().catch(() => {});
    return { text: "", truncated: true };
  }
  if (!response.body) return { text: "", truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      return { text: Buffer.concat(chunks).toString("utf8"), truncated: true };
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString("utf8"), truncated: false };
}

function redirectTarget(from: URL, location: string | null): URL | null {
  if (!location) return null;
  try {
    return new URL(location, from);
  } catch {
    return null;
  }
}

function enc(part: string): string {
  return encodeURIComponent(part);
}

function causeOf(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

function backoff(attempt: number): number {
  return Math.min(4000, 250 * 2 ** (attempt - 1));
}

/** How long until Sentry lets us in again: X-Sentry-Rate-Limit-Reset (epoch seconds) or Retry-After. */
export function rateLimitWait(headers: Headers, nowMs: number): number {
  const reset = Number(headers.get("x-sentry-rate-limit-reset"));
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - nowMs);
  const retryAfter = headers.get("retry-after");
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const at = Date.parse(retryAfter);
    if (Number.isFinite(at)) return Math.max(0, at - nowMs);
  }
  return 1000;
}

/** The cursor of the Link header's rel="next" part, when it says results="true". */
export function nextCursor(link: string | null): string | null {
  if (!link) return null;
  for (const part of link.split(/,\s*(?=<)/)) {
    if (!/rel="next"/.test(part) || !/results="true"/.test(part)) continue;
    const cursor = /cursor="([^"]*)"/.exec(part)?.[1];
    if (cursor) return cursor;
  }
  return null;
}
