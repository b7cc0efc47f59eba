// A local stand-in for the Sentry REST API (node:http, no framework), for the offline demo and for tests
// of the real Sentry client. It serves fixture issues and events under /api/0/organizations/{org}/ with
// the response shapes, Bearer auth, search syntax, cursor pagination (Link header) and error bodies of
// sentry.io. Hooks let tests put faults and older-Sentry quirks in front of it (test/support). It never
// writes to stdout: in trace-doctor stdout belongs to the MCP protocol.

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SentryFixtureIssue {
  issue: Record<string, unknown>;
  /** Newest first: events[0] is 'latest' (and 'recommended' unless recommendedEventId says otherwise), the last is 'oldest'. */
  events: Array<Record<string, unknown>>;
  /** The event Sentry would pick as 'recommended'; defaults to the latest. */
  recommendedEventId?: string;
}

export interface SentryFixtures {
  /** Organization slug, e.g. "project-beacon". */
  org: string;
  issues: SentryFixtureIssue[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  authorization: string | undefined;
}

export interface SentryApiServer {
  /** "http://127.0.0.1:<port>" */
  url: string;
  token: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface SentryApiServerOptions {
  fixtures: SentryFixtures;
  token: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default page size when the request has no `limit`; else 25. */
  pageSize?: number;
  hooks?: SentryApiHooks;
}

/** Where tests change what the stand-in answers: before routing, and on each served issue or event. */
export interface SentryApiHooks {
  /**
   * Runs before auth and routing. Answer the request yourself and return "handled", or return headers
   * to add to the normal answer.
   */
  beforeRoute?(req: IncomingMessage, res: ServerResponse, target: string): Promise<"handled" | Record<string, string> | undefined>;
  /** Rewrites a served issue or event (already a copy). */
  serveIssue?(issue: Record<string, unknown>): Record<string, unknown>;
  serveEvent?(event: Record<string, unknown>): Record<string, unknown>;
  /** Runs first on close(): release anything waiting. */
  onClose?(): void;
}

const API_PREFIX = "/api/0/organizations/";
const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 25;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const NOT_FOUND = { detail: "The requested resource does not exist" };

/** An error answered as JSON: `detail` bodies for parse/permission errors, a list of messages for validation errors. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(typeof body === "object" && body !== null && "detail" in body ? String((body as { detail: unknown }).detail) : `HTTP ${status}`);
  }
}

interface IndexedEvent {
  entry: SentryFixtureIssue;
  event: Record<string, unknown>;
}

interface FixtureIndex {
  issuesById: Map<string, SentryFixtureIssue>;
  issuesByShortId: Map<string, SentryFixtureIssue>;
  eventsById: Map<string, IndexedEvent>;
  /** Anchor for computed stats histograms: the end of the hour of the newest event. */
  statsEndMs: number;
}

function str(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

function normalizeEventId(id: string): string {
  return id.replace(/-/g, "").toLowerCase();
}

function eventId(event: Record<string, unknown>): string {
  return normalizeEventId(str(event["eventID"]) || str(event["id"]));
}

function eventTimeMs(event: Record<string, unknown>): number {
  const t = Date.parse(str(event["dateCreated"]));
  return Number.isFinite(t) ? t : 0;
}

function buildIndex(fixtures: SentryFixtures): FixtureIndex {
  const issuesById = new Map<string, SentryFixtureIssue>();
  const issuesByShortId = new Map<string, SentryFixtureIssue>();
  const eventsById = new Map<string, IndexedEvent>();
  let newest = 0;
  for (const entry of fixtures.issues) {
    issuesById.set(str(entry.issue["id"]), entry);
    const shortId = str(entry.issue["shortId"]);
    if (shortId) issuesByShortId.set(shortId.toLowerCase(), entry);
    for (const event of entry.events) {
      eventsById.set(eventId(event), { entry, event });
      newest = Math.max(newest, eventTimeMs(event));
    }
  }
  const statsEndMs = Math.floor(newest / HOUR_MS) * HOUR_MS + HOUR_MS;
  return { issuesById, issuesByShortId, eventsById, statsEndMs };
}

/** Sentry's [[epochSeconds, count], ...] histogram of event times, `buckets` buckets of `bucketMs` ending at endMs. */
export function sentryStatsHistogram(timesMs: number[], endMs: number, buckets: number, bucketMs: number): Array<[number, number]> {
  const start = endMs - buckets * bucketMs;
  const counts = new Array<number>(buckets).fill(0);
  for (const t of timesMs) {
    if (t < start || t >= endMs) continue;
    const i = Math.floor((t - start) / bucketMs);
    counts[i] = (counts[i] ?? 0) + 1;
  }
  return counts.map((n, i) => [Math.floor((start + i * bucketMs) / 1000), n]);
}

// ---------------------------------------------------------------------------------------------------
// Search: a subset of Sentry's structured search. Space-separated terms, all must match:
//   key:value / key:"quoted value" / key:glob*   an event tag (exact, `*` wildcards)
//   !key:value                                  negated tag term
//   trace:<id>                                  contexts.trace.trace_id
//   has:key / !has:key                          the event has a non-null tag
//   is:unresolved|resolved|ignored|archived|unassigned|assigned|bookmarked
//   issue:<SHORT-ID>, issue.id:<id>, project:<slug>, level/environment/release (tags)
//   anything else                               a word of the title, case-insensitively
// An issue matches when its issue-level terms match and any one of its events matches every event-level term.

interface EventTerm {
  kind: "tag" | "trace" | "has";
  key: string;
  value: string;
  negated: boolean;
}

interface ParsedQuery {
  eventTerms: EventTerm[];
  issueTerms: Array<(issue: Record<string, unknown>) => boolean>;
  words: string[];
}

const IS_VALUES: Record<string, (issue: Record<string, unknown>) => boolean> = {
  unresolved: (i) => i["status"] === "unresolved",
  resolved: (i) => i["status"] === "resolved",
  ignored: (i) => i["status"] === "ignored",
  archived: (i) => i["status"] === "ignored",
  unassigned: (i) => i["assignedTo"] === null || i["assignedTo"] === undefined,
  assigned: (i) => i["assignedTo"] !== null && i["assignedTo"] !== undefined,
  bookmarked: (i) => i["isBookmarked"] === true,
};

function tokenize(query: string): string[] {
  const tokens: string[] = [];
  let current = "";
  let quoted = false;
  for (const ch of query) {
    if (ch === '"') {
      quoted = !quoted;
      current += ch;
    } else if (/\s/.test(ch) && !quoted) {
      if (current) tokens.push(current);
      current = "";
    } else {
      current += ch;
    }
  }
  if (quoted) throw new HttpError(400, { detail: "Your search query could not be parsed: unterminated quote" });
  if (current) tokens.push(current);
  return tokens;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\"/g, '"') : value;
}

function parseQuery(query: string): ParsedQuery {
  const parsed: ParsedQuery = { eventTerms: [], issueTerms: [], words: [] };
  for (const token of tokenize(query)) {
    const m = /^(!?)([A-Za-z0-9_.\-]+):(.+)$/.exec(token);
    if (!m) {
      parsed.words.push(unquote(token).toLowerCase());
      continue;
    }
    const negated = m[1] === "!";
    const key = m[2] ?? "";
    const value = unquote(m[3] ?? "");
    const not = (ok: boolean) => (negated ? !ok : ok);
    switch (key) {
      case "is": {
        const test = IS_VALUES[value.toLowerCase()];
        if (!test) {
          throw new HttpError(400, {
            detail: `Invalid value for "is" search, valid values are [${Object.keys(IS_VALUES).sort().join(", ")}]`,
          });
        }
        parsed.issueTerms.push((issue) => not(test(issue)));
        break;
      }
      case "issue":
        parsed.issueTerms.push((issue) => not(str(issue["shortId"]).toLowerCase() === value.toLowerCase()));
        break;
      case "issue.id":
        parsed.issueTerms.push((issue) => not(str(issue["id"]) === value));
        break;
      case "project":
        parsed.issueTerms.push((issue) => {
          const project = issue["project"] as Record<string, unknown> | undefined;
          return not(str(project?.["slug"]) === value);
        });
        break;
      case "trace":
        parsed.eventTerms.push({ kind: "trace", key, value: value.toLowerCase(), negated });
        break;
      case "has":
        parsed.eventTerms.push({ kind: "has", key: value, value: "", negated });
        break;
      default:
        parsed.eventTerms.push({ kind: "tag", key, value, negated });
    }
  }
  return parsed;
}

function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return re.test(value);
}

function tagValues(event: Record<string, unknown>, key: string): Array<string | null> {
  const tags = Array.isArray(event["tags"]) ? (event["tags"] as Array<Record<string, unknown>>) : [];
  return tags.filter((t) => t["key"] === key).map((t) => (typeof t["value"] === "string" ? t["value"] : null));
}

function traceIdOf(event: Record<string, unknown>): string {
  const contexts = event["contexts"] as Record<string, Record<string, unknown> | undefined> | undefined;
  return str(contexts?.["trace"]?.["trace_id"]).toLowerCase();
}

function eventMatches(event: Record<string, unknown>, terms: EventTerm[]): boolean {
  return terms.every((term) => {
    let ok: boolean;
    if (term.kind === "trace") ok = globMatch(term.value, traceIdOf(event));
    else if (term.kind === "has") ok = tagValues(event, term.key).some((v) => v !== null);
    else ok = tagValues(event, term.key).some((v) => v !== null && globMatch(term.value, v));
    return term.negated ? !ok : ok;
  });
}

function titleMatches(title: unknown, words: string[]): boolean {
  const text = str(title).toLowerCase();
  return words.every((w) => text.includes(w));
}

// ---------------------------------------------------------------------------------------------------
// Pagination: Sentry's opaque "value:offset:is_prev" cursors and its Link header.

interface Page<T> {
  items: T[];
  offset: number;
  limit: number;
  total: number;
}

function parseLimit(params: URLSearchParams, fallback: number): number {
  const raw = params.get("limit") ?? params.get("per_page");
  if (raw === null || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new HttpError(400, ["invalid limit"]);
  return Math.min(MAX_PAGE_SIZE, Math.max(1, Number(raw)));
}

function parseCursor(params: URLSearchParams): number {
  const raw = params.get("cursor");
  if (raw === null || raw === "") return 0;
  const m = /^-?\d+(?:\.\d+)?:(\d+):[01]$/.exec(raw.trim());
  if (!m) throw new HttpError(400, { detail: "Invalid cursor parameter." });
  return Number(m[1]);
}

function paginate<T>(items: T[], params: URLSearchParams, defaultLimit: number): Page<T> {
  const limit = parseLimit(params, defaultLimit);
  const offset = parseCursor(params);
  return { items: items.slice(offset, offset + limit), offset, limit, total: items.length };
}

/** Link header exactly as Sentry's build_cursor_link writes it: the other query params, then `&cursor=` raw. */
function linkHeader(baseUrl: string, pathname: string, params: URLSearchParams, page: Page<unknown>): string {
  const rest = new URLSearchParams(params);
  rest.delete("cursor");
  const base = `${baseUrl}${pathname}?${rest.toString()}`;
  const link = (rel: string, cursor: string, results: boolean) =>
    `<${base}&cursor=${cursor}>; rel="${rel}"; results="${results}"; cursor="${cursor}"`;
  const prev = `0:${Math.max(0, page.offset - page.limit)}:1`;
  const next = `0:${page.offset + page.limit}:0`;
  return [link("previous", prev, page.offset > 0), link("next", next, page.offset + page.limit < page.total)].join(", ");
}

// ---------------------------------------------------------------------------------------------------
// Serialization.

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** The short form the issue-events list returns when full is not true (Sentry's SimpleEventSerializer). */
function eventSummary(event: Record<string, unknown>): Record<string, unknown> {
  return {
    id: event["id"],
    "event.type": event["type"] ?? "error",
    groupID: event["groupID"],
    eventID: event["eventID"],
    projectID: event["projectID"],
    message: event["message"] ?? "",
    title: event["title"],
    location: event["location"] ?? null,
    culprit: event["culprit"] ?? null,
    user: event["user"] ?? null,
    tags: event["tags"] ?? [],
    platform: event["platform"],
    dateCreated: event["dateCreated"],
    crashFile: null,
  };
}

export async function startSentryApiServer(options: SentryApiServerOptions): Promise<SentryApiServer> {
  const { fixtures, token } = options;
  const hooks = options.hooks ?? {};
  const defaultLimit = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const index = buildIndex(fixtures);
  const requests: RecordedRequest[] = [];
  let baseUrl = "";

  const serveIssue = (issue: Record<string, unknown>) => (hooks.serveIssue ? hooks.serveIssue(clone(issue)) : clone(issue));
  const serveEvent = (event: Record<string, unknown>) => (hooks.serveEvent ? hooks.serveEvent(clone(event)) : clone(event));

  function withNeighbours(entry: SentryFixtureIssue, event: Record<string, unknown>): Record<string, unknown> {
    const served = serveEvent(event);
    const i = entry.events.indexOf(event);
    // Newest first: the previous (older) event follows it in the list, the next (newer) one precedes it.
    if (!("previousEventID" in served)) served["previousEventID"] = entry.events[i + 1]?.["eventID"] ?? null;
    if (!("nextEventID" in served)) served["nextEventID"] = entry.events[i - 1]?.["eventID"] ?? null;
    return served;
  }

  function findIssue(idOrShortId: string): SentryFixtureIssue {
    const entry = index.issuesById.get(idOrShortId) ?? index.issuesByShortId.get(idOrShortId.toLowerCase());
    if (!entry) throw new HttpError(404, NOT_FOUND);
    return entry;
  }

  function pickEvent(entry: SentryFixtureIssue, which: string): Record<string, unknown> {
    let event: Record<string, unknown> | undefined;
    if (which === "latest") event = entry.events[0];
    else if (which === "oldest") event = entry.events[entry.events.length - 1];
    else if (which === "recommended") {
      const wanted = entry.recommendedEventId ? normalizeEventId(entry.recommendedEventId) : undefined;
      event = (wanted ? entry.events.find((e) => eventId(e) === wanted) : undefined) ?? entry.events[0];
    } else {
      const found = index.eventsById.get(normalizeEventId(which));
      if (found && found.entry === entry) event = found.event;
    }
    if (!event) throw new HttpError(404, { detail: "Event not found" });
    return event;
  }

  function issueStats(entry: SentryFixtureIssue, period: string): Record<string, unknown> | undefined {
    const times = entry.events.map(eventTimeMs);
    if (period === "") return undefined;
    if (period === "24h") {
      const own = entry.issue["stats"] as Record<string, unknown> | undefined;
      return { "24h": own?.["24h"] ?? sentryStatsHistogram(times, index.statsEndMs, 24, HOUR_MS) };
    }
    if (period === "14d") {
      const end = Math.ceil(index.statsEndMs / DAY_MS) * DAY_MS;
      return { "14d": sentryStatsHistogram(times, end, 14, DAY_MS) };
    }
    throw new HttpError(400, { detail: "Invalid stats_period. Valid choices are '', '24h', and '14d'" });
  }

  interface Answer {
    status: number;
    body: unknown;
    headers?: Record<string, string>;
  }

  function listIssues(url: URL): Answer {
    const params = url.searchParams;
    const query = parseQuery(params.has("query") ? (params.get("query") ?? "") : "is:unresolved");
    for (const env of params.getAll("environment")) query.eventTerms.push({ kind: "tag", key: "environment", value: env, negated: false });
    const projects = params.getAll("project").filter((p) => p !== "");
    const statsPeriod = params.get("statsPeriod") ?? params.get("groupStatsPeriod") ?? "24h";
    const matching = fixtures.issues.filter((entry) => {
      const issue = entry.issue;
      if (projects.length > 0 && !projects.includes("-1")) {
        const project = issue["project"] as Record<string, unknown> | undefined;
        if (!projects.includes(str(project?.["id"]))) return false;
      }
      if (!query.issueTerms.every((test) => test(issue))) return false;
      if (!titleMatches(issue["title"], query.words)) return false;
      return query.eventTerms.length === 0 || entry.events.some((e) => eventMatches(e, query.eventTerms));
    });
    const sort = params.get("sort") ?? "date";
    const key = (entry: SentryFixtureIssue): number => {
      const i = entry.issue;
      if (sort === "new") return Date.parse(str(i["firstSeen"])) || 0;
      if (sort === "freq") return Number(i["count"]) || 0;
      if (sort === "user") return Number(i["userCount"]) || 0;
      return Date.parse(str(i["lastSeen"])) || 0;
    };
    matching.sort((a, b) => key(b) - key(a) || Number(str(b.issue["id"])) - Number(str(a.issue["id"])));
    const page = paginate(matching, params, defaultLimit);
    const body = page.items.map((entry) => {
      const served = serveIssue(entry.issue);
      const stats = issueStats(entry, statsPeriod);
      if (stats) served["stats"] = stats;
      else delete served["stats"];
      return served;
    });
    return {
      status: 200,
      body,
      headers: { Link: linkHeader(baseUrl, url.pathname, params, page), "X-Hits": String(page.total), "X-Max-Hits": String(page.total) },
    };
  }

  function listEvents(url: URL, entry: SentryFixtureIssue): Answer {
    const params = url.searchParams;
    const query = parseQuery(params.get("query") ?? "");
    for (const env of params.getAll("environment")) query.eventTerms.push({ kind: "tag", key: "environment", value: env, negated: false });
    const issueOk = query.issueTerms.every((test) => test(entry.issue));
    const matching = issueOk
      ? entry.events.filter((e) => eventMatches(e, query.eventTerms) && titleMatches(e["title"], query.words))
      : [];
    const full = ["true", "1"].includes((params.get("full") ?? "").toLowerCase());
    const page = paginate(matching, params, defaultLimit);
    const body = page.items.map((e) => (full ? withNeighbours(entry, e) : eventSummary(serveEvent(e))));
    return { status: 200, body, headers: { Link: linkHeader(baseUrl, url.pathname, params, page), "X-Hits": String(page.total) } };
  }

  function route(url: URL): Answer {
    if (!url.pathname.startsWith(API_PREFIX)) throw new HttpError(404, NOT_FOUND);
    const segments = url.pathname.slice(API_PREFIX.length).split("/").filter((s) => s !== "").map(decodeURIComponent);
    const [org, resource, ...rest] = segments;
    if (org !== fixtures.org) throw new HttpError(404, NOT_FOUND);
    const projectSlug = (entry: SentryFixtureIssue) => str((entry.issue["project"] as Record<string, unknown> | undefined)?.["slug"]);

    if (resource === "issues") {
      if (rest.length === 0) return listIssues(url);
      const [issueId, sub, eventRef, ...extra] = rest;
      if (extra.length > 0 || issueId === undefined) throw new HttpError(404, NOT_FOUND);
      const entry = findIssue(issueId);
      if (sub === undefined) {
        const served = serveIssue(entry.issue);
        const stats = served["stats"] as Record<string, unknown> | undefined;
        served["stats"] = {
          ...(stats ?? { "24h": sentryStatsHistogram(entry.events.map(eventTimeMs), index.statsEndMs, 24, HOUR_MS) }),
          "30d": sentryStatsHistogram(entry.events.map(eventTimeMs), Math.ceil(index.statsEndMs / DAY_MS) * DAY_MS, 30, DAY_MS),
        };
        for (const [field, value] of Object.entries({
          activity: [],
          seenBy: [],
          participants: [],
          pluginActions: [],
          pluginIssues: [],
          pluginContexts: [],
          userReportCount: 0,
        })) {
          if (!(field in served)) served[field] = value;
        }
        return { status: 200, body: served };
      }
      if (sub !== "events") throw new HttpError(404, NOT_FOUND);
      if (eventRef === undefined) return listEvents(url, entry);
      return { status: 200, body: withNeighbours(entry, pickEvent(entry, eventRef)) };
    }

    if (resource === "shortids" && rest.length === 1 && rest[0] !== undefined) {
      const entry = index.issuesByShortId.get(rest[0].toLowerCase());
      if (!entry) throw new HttpError(404, NOT_FOUND);
      return {
        status: 200,
        body: {
          organizationSlug: fixtures.org,
          projectSlug: projectSlug(entry),
          groupId: str(entry.issue["id"]),
          shortId: str(entry.issue["shortId"]),
          group: serveIssue(entry.issue),
        },
      };
    }

    if (resource === "eventids" && rest.length === 1 && rest[0] !== undefined) {
      const found = index.eventsById.get(normalizeEventId(rest[0]));
      if (!found) throw new HttpError(404, NOT_FOUND);
      return {
        status: 200,
        body: {
          organizationSlug: fixtures.org,
          projectSlug: projectSlug(found.entry),
          groupId: str(found.entry.issue["id"]),
          eventId: str(found.event["eventID"]),
          event: withNeighbours(found.entry, found.event),
        },
      };
    }

    throw new HttpError(404, NOT_FOUND);
  }

  function send(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
    if (res.writableEnded || res.destroyed) return;
    const hasType = Object.keys(headers).some((h) => h.toLowerCase() === "content-type");
    res.writeHead(status, {
      ...(hasType ? {} : { "Content-Type": "application/json" }),
      "Content-Length": String(Buffer.byteLength(body)),
      ...headers,
    });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    const target = req.url ?? "/";
    const url = new URL(target, baseUrl || "http://127.0.0.1");
    const method = (req.method ?? "GET").toUpperCase();
    const authorization = req.headers.authorization;
    requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), authorization });

    const before = hooks.beforeRoute ? await hooks.beforeRoute(req, res, target) : undefined;
    if (before === "handled") return;
    const extraHeaders: Record<string, string> = before ?? {};

    const bearer = /^bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!bearer || bearer[1] !== token) {
      send(res, 401, JSON.stringify({ detail: "Invalid token" }), { "WWW-Authenticate": 'Bearer realm="api"', ...extraHeaders });
      return;
    }
    if (method !== "GET") {
      send(res, 405, JSON.stringify({ detail: `Method "${method}" not allowed.` }), { Allow: "GET", ...extraHeaders });
      return;
    }

    let answer: Answer;
    try {
      answer = route(url);
    } catch (error) {
      if (error instanceof HttpError) answer = { status: error.status, body: error.body };
      else answer = { status: 500, body: { detail: "Internal Error" } };
    }
    send(res, answer.status, JSON.stringify(answer.body), { ...(answer.headers ?? {}), ...extraHeaders });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) send(res, 500, JSON.stringify({ detail: "Internal Error" }), {});
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  baseUrl = `http://127.0.0.1:${address.port}`;

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    token,
    requests,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve, reject) => {
        hooks.onClose?.();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
