// The real SentryClient over real HTTP against the local Sentry API stand-in: every endpoint, Link-header
// pagination, SENTRY_PROJECT, the mapping of each failure to an error a model can act on, bounded retries
// (429 until the reset, 5xx, dropped sockets, timeouts) with a recorded sleep, lenient parsing, and a
// token that never leaks into a message.

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateDemoDataset } from "../../src/demo/demo-dataset.js";
import type { SentryFixtures } from "../../src/demo/sentry-api-server.js";
import { startTestSentry, type TestSentryServer } from "../support/sentry-stand-in.js";
import { demoSentryFixtures } from "../../src/demo/sentry-demo-fixtures.js";
import { nextCursor, rateLimitWait, SentryApiError, SentryClient, type SentryClientOptions } from "../../src/sentry/sentry-client.js";

const NOW = new Date("2025-10-22T18:00:00Z");
/** The client's clock: a whole second, so reset − now is exact. */
const NOW_MS = NOW.getTime();
const TOKEN = "sntrys_eyJpYXQiOjE3NjExMzU5MDAsInNlY3JldCI6InRlc3QifQ_s3cr3tT0k3n";
const ORG = "project-beacon";

const { rows, manifest } = generateDemoDataset({ now: NOW });
const fixtures = demoSentryFixtures(rows, { org: ORG });
type Json = Record<string, any>;
const execution = fixtures.issues.find((i) => i.issue["id"] === "4711")!;
const database = fixtures.issues.find((i) => i.issue["id"] === "4712")!;
const eventIdOf = (e: Json) => String(e["eventID"]);
const latestId = eventIdOf(execution.events[0]!);
const oldestId = eventIdOf(execution.events[execution.events.length - 1]!);
const recommendedId = execution.recommendedEventId!;
const jobEvent = execution.events.find((e) => (e["tags"] as Json[]).some((t) => t["key"] === "job_id" && t["value"] === manifest.examples.immediateFailureJobId))!;
const jobEventId = eventIdOf(jobEvent);

/** Runs `promise` expecting a SentryApiError, and returns it. */
async function failure(promise: Promise<unknown>): Promise<SentryApiError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected the call to fail").toBeInstanceOf(SentryApiError);
  return caught as SentryApiError;
}

/** Many issues sharing one tag, newest first by lastSeen, for pagination. */
function bulkFixtures(count: number): SentryFixtures {
  const issues = Array.from({ length: count }, (_, i) => {
    const seen = new Date(NOW_MS - (i + 1) * 60_000).toISOString();
    const id = String(100_000 + i);
    return {
      issue: { id, shortId: `BULK-${i + 1}`, title: "Bulk failure", level: "error", status: "unresolved", count: "1", userCount: 0, firstSeen: seen, lastSeen: seen, project: { id: "3", slug: "runner" } },
      events: [{ id: `${i}`.padStart(32, "b"), eventID: `${i}`.padStart(32, "b"), dateCreated: seen, tags: [
          { key: "job_id", value: "bulk-job" },
          { key: "batch", value: i < 230 ? "a" : "b" },
        ], contexts: {}, entries: [] }],
    };
  });
  return { org: ORG, issues };
}

describe("SentryClient against the local Sentry API", () => {
  let server: TestSentryServer;
  let sleeps: number[];

  const client = (over: Partial<SentryClientOptions> = {}) =>
    new SentryClient({
      baseUrl: server.url,
      token: TOKEN,
      org: ORG,
      timeoutMs: 5000,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      now: () => NOW_MS,
      ...over,
    });
  const paths = () => server.requests.map((r) => r.path);

  beforeAll(async () => {
    server = await startTestSentry({ fixtures, token: TOKEN });
  });
  afterAll(() => server.close());
  beforeEach(() => {
    sleeps = [];
    server.requests.length = 0;
  });
  afterEach(() => {
    server.faults.length = 0;
  });

  describe("endpoints", () => {
    it("getIssue reads an issue, with the Bearer token, and keeps unknown fields", async () => {
      const issue = await client().getIssue("4711");
      expect(issue).toMatchObject({ id: "4711", shortId: "RUNNER-1A", title: "Execution failed", level: "error", status: "unresolved", count: String(execution.events.length) });
      expect(issue.project).toMatchObject({ slug: "runner" });
      // Lenient parsing: fields the schema does not name pass through.
      expect((issue as Json)["priority"]).toBe("high");
      expect((issue as Json)["stats"]).toHaveProperty("30d");
      expect(server.requests).toHaveLength(1);
      expect(server.requests[0]).toMatchObject({ method: "GET", path: `/api/0/organizations/${ORG}/issues/4711/`, authorization: `Bearer ${TOKEN}` });
    });

    it("getIssue in another organization asks that organization", async () => {
      const err = await failure(client().getIssue("4711", "other-org"));
      expect(paths()).toEqual(["/api/0/organizations/other-org/issues/4711/"]);
      expect(err.kind).toBe("not_found");
    });

    it("lookupShortId resolves a short id to the issue id and the issue", async () => {
      const found = await client().lookupShortId("RUNNER-1B");
      expect(found.issueId).toBe("4712");
      expect(found.issue).toMatchObject({ id: "4712", shortId: "RUNNER-1B" });
      expect(paths()).toEqual([`/api/0/organizations/${ORG}/shortids/RUNNER-1B/`]);
    });

    it("lookupShortId tolerates an answer without the group", async () => {
      server.faults.push({ path: "/shortids/", body: JSON.stringify({ groupId: 4711, shortId: "RUNNER-1A", organizationSlug: ORG, projectSlug: "runner" }) });
      expect(await client().lookupShortId("RUNNER-1A")).toEqual({ issueId: "4711", issue: null });
    });

    it.each([
      ["recommended", recommendedId],
      ["latest", latestId],
      ["oldest", oldestId],
      [jobEventId, jobEventId],
    ])("getIssueEvent(%s) picks that event", async (which, expected) => {
      const event = await client().getIssueEvent("4711", which);
      expect(event.eventID).toBe(expected);
      expect(event.id).toBe(expected);
      expect(paths()).toEqual([`/api/0/organizations/${ORG}/issues/4711/events/${which}/`]);
    });

    it("the demo issue's recommended, latest and oldest events are three different events", () => {
      expect(new Set([recommendedId, latestId, oldestId]).size).toBe(3);
    });

    it("getIssueEvent parses the event: tags, contexts, entries, release, and unknown fields", async () => {
      const event = await client().getIssueEvent("4711", jobEventId);
      expect(event.contexts?.["execution"]).toMatchObject({ job_id: manifest.examples.immediateFailureJobId, duration_ms: 13, has_output: false });
      expect(event.tags).toContainEqual({ key: "job_id", value: manifest.examples.immediateFailureJobId });
      expect(event.entries?.map((e) => e.type)).toEqual(["exception", "breadcrumbs"]);
      expect(event.release).toEqual({ version: "runner@dev" });
      expect(typeof event.dateReceived).toBe("string");
      expect((event as Json)["sdk"]).toEqual({ name: "sentry.go", version: "0.29.0" });
    });

    it("lookupEventId finds the issue and the event by event id", async () => {
      const found = await client().lookupEventId(jobEventId);
      expect(found.issueId).toBe("4711");
      expect(found.event?.eventID).toBe(jobEventId);
      expect(paths()).toEqual([`/api/0/organizations/${ORG}/eventids/${jobEventId}/`]);
    });

    it("findIssueEvents searches an issue's events and returns their ids, bounded", async () => {
      const ids = await client().findIssueEvents("4711", `job_id:${manifest.examples.immediateFailureJobId}`, 5);
      expect(ids).toEqual([jobEventId]);
      expect(server.requests[0]!.query).toEqual({ query: `job_id:${manifest.examples.immediateFailureJobId}` });

      const us = await client().findIssueEvents("4711", "execution_region:US", 3);
      expect(us).toHaveLength(3);
      const allUs = execution.events.filter((e) => (e["tags"] as Json[]).some((t) => t["key"] === "execution_region" && t["value"] === "US"));
      expect(us).toEqual(allUs.slice(0, 3).map(eventIdOf));
      expect(await client().findIssueEvents("4712", `job_id:${manifest.examples.immediateFailureJobId}`, 5)).toEqual([]);
    });

    it("searchIssues sends the query, a limit, 14 days and date order, and reports no more when the one page is all", async () => {
      const found = await client().searchIssues(`job_id:${manifest.examples.immediateFailureJobId}`, 6);
      expect(found).toMatchObject({ more: false });
      expect(found.issues.map((i) => i.id)).toEqual(["4711"]);
      expect(server.requests[0]!.query).toEqual({ query: `job_id:${manifest.examples.immediateFailureJobId}`, limit: "6", statsPeriod: "14d", sort: "date" });

      const both = await client().searchIssues("handled:yes", 6);
      expect(both.issues.map((i) => i.id)).toEqual(["4711", "4713", "4712", "4714"]);
      expect(both.more).toBe(false);
    });

    it("searchIssues says more when the limit cuts the matches", async () => {
      const found = await client().searchIssues("handled:yes", 1);
      expect(found.issues.map((i) => i.id)).toEqual(["4711"]);
      expect(found.more).toBe(true);
      expect(server.requests).toHaveLength(1);
    });

    it("sends SENTRY_PROJECT on issue search only", async () => {
      const c = client({ project: "3" });
      const inProject = await c.searchIssues("handled:yes", 6);
      expect(inProject.issues).toHaveLength(4);
      expect(server.requests[0]!.query["project"]).toBe("3");
      await c.getIssue("4711");
      await c.findIssueEvents("4711", "handled:yes", 1);
      expect(server.requests.slice(1).map((r) => r.query["project"])).toEqual([undefined, undefined]);

      const elsewhere = await client({ project: "999" }).searchIssues("handled:yes", 6);
      expect(elsewhere).toEqual({ issues: [], more: false });
      expect(server.requests.at(-1)!.query["project"]).toBe("999");
    });

    it("retries an answer that stalls after its headers, then says so", async () => {
      server.faults.push({ path: "/issues/4711/", stallBody: true, times: 1 });
      const ok = await client({ timeoutMs: 300 }).getIssue("4711");
      expect(ok.id).toBe("4711");
      server.faults.push({ path: "/issues/4711/", stallBody: true });
      const err = await failure(client({ timeoutMs: 200, maxAttempts: 2 }).getIssue("4711"));
      expect(err.kind).toBe("timeout");
      expect(err.message).toMatch(/stopped sending the answer for issue 4711 \(2 attempt\(s\)\)/);
    });

    it("puts a project slug into the search query, since the project parameter takes ids", async () => {
      const bySlug = await client({ project: "runner" }).searchIssues("handled:yes", 6);
      expect(bySlug.issues).toHaveLength(4);
      const last = server.requests.at(-1)!;
      expect(last.query["project"]).toBeUndefined();
      expect(last.query["query"]).toBe("project:runner handled:yes");
    });

    it("keeps a path prefix in SENTRY_URL and percent-encodes ids", async () => {
      const err = await failure(client({ baseUrl: `${server.url}/sentry/` }).getIssue("47 11/x"));
      expect(err.kind).toBe("not_found");
      expect(server.requests[0]!.path).toBe(`/sentry/api/0/organizations/${ORG}/issues/47%2011%2Fx/`);
    });
  });

  describe("pagination", () => {
    let bulk: TestSentryServer;
    const bulkClient = () => client({ baseUrl: bulk.url });

    beforeAll(async () => {
      // No pageSize: the client always sends limit (at most 100, as Sentry allows), so pages are 100 long.
      bulk = await startTestSentry({ fixtures: bulkFixtures(620), token: TOKEN });
    });
    afterAll(() => bulk.close());
    beforeEach(() => {
      bulk.requests.length = 0;
    });

    it("follows Link cursors across pages, in order, without duplicates", async () => {
      const found = await bulkClient().searchIssues("job_id:bulk-job", 230);
      expect(found.issues).toHaveLength(230);
      expect(found.issues.map((i) => i.id)).toEqual(Array.from({ length: 230 }, (_, i) => String(100_000 + i)));
      expect(found.more).toBe(true);
      // Sentry caps a page at 100: three pages, the later ones asked by the cursor of the Link header.
      expect(bulk.requests.map((r) => [r.query["limit"], r.query["cursor"]])).toEqual([
        ["100", undefined],
        ["100", "0:100:0"],
        ["100", "0:200:0"],
      ]);
      expect(bulk.requests.every((r) => r.query["query"] === "job_id:bulk-job" && r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    });

    it("stops at the last page and says there is no more", async () => {
      const found = await bulkClient().searchIssues("batch:a", 300);
      expect(found.issues).toHaveLength(230);
      expect(found.more).toBe(false);
      expect(bulk.requests.map((r) => r.query["cursor"])).toEqual([undefined, "0:100:0", "0:200:0"]);
    });

    it("reads at most five pages and says there is more", async () => {
      const found = await bulkClient().searchIssues("job_id:bulk-job", 1000);
      expect(found.issues).toHaveLength(500);
      expect(new Set(found.issues.map((i) => i.id)).size).toBe(500);
      expect(found.more).toBe(true);
      expect(bulk.requests).toHaveLength(5);
    });

    it("a short page is followed by the next one until the limit is reached", async () => {
      // Sentry's search may answer fewer issues than asked for and still have a next page.
      const first = (await bulkClient().searchIssues("job_id:bulk-job", 2)).issues;
      bulk.requests.length = 0;
      bulk.faults.push({
        path: /\/issues\/\?(?!.*cursor=)/,
        times: 1,
        body: JSON.stringify(first),
        headers: { Link: `<${bulk.url}/x>; rel="previous"; results="false"; cursor="0:0:1", <${bulk.url}/x>; rel="next"; results="true"; cursor="0:2:0"` },
      });
      const found = await bulkClient().searchIssues("job_id:bulk-job", 5);
      expect(found.issues.map((i) => i.id)).toEqual(["100000", "100001", "100002", "100003", "100004"]);
      expect(bulk.requests.map((r) => r.query["cursor"])).toEqual([undefined, "0:2:0"]);
      expect(found.more).toBe(true);
    });
  });

  describe("errors a model can act on", () => {
    it("401 → auth, naming SENTRY_AUTH_TOKEN, without the wrong token", async () => {
      const wrong = "sntrys_wrong_token_value";
      const err = await failure(client({ token: wrong }).getIssue("4711"));
      expect(err).toMatchObject({ kind: "auth", status: 401, name: "SentryApiError" });
      expect(err.message).toContain("SENTRY_AUTH_TOKEN");
      expect(err.message).toContain("Invalid token");
      expect(err.message).not.toContain(wrong);
      expect(server.requests[0]!.authorization).toBe(`Bearer ${wrong}`);
      expect(server.requests).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });

    it("403 → forbidden, naming the scopes", async () => {
      server.faults.push({ path: "/issues/4711/", status: 403 });
      const err = await failure(client().getIssue("4711"));
      expect(err).toMatchObject({ kind: "forbidden", status: 403 });
      expect(err.message).toMatch(/event:read.*org:read.*project:read/);
      expect(server.requests).toHaveLength(1);
    });

    it("404 → not_found, naming SENTRY_ORG and the organization asked", async () => {
      const err = await failure(client().getIssue("999999"));
      expect(err).toMatchObject({ kind: "not_found", status: 404 });
      expect(err.message).toContain("SENTRY_ORG");
      expect(err.message).toContain("issue 999999");
      expect(err.message).toContain(ORG);
      expect(server.requests).toHaveLength(1);

      const other = await failure(client().getIssue("4711", "other-org"));
      expect(other.message).toContain("other-org");
    });

    it("404 on an event of an issue names the event", async () => {
      const err = await failure(client().getIssueEvent("4712", jobEventId));
      expect(err.kind).toBe("not_found");
      expect(err.message).toContain(`event ${jobEventId} of issue 4712`);
    });

    it("400 → bad_request, with Sentry's detail", async () => {
      const err = await failure(client().searchIssues('job_id:"unterminated', 6));
      expect(err).toMatchObject({ kind: "bad_request", status: 400 });
      expect(err.message).toContain("could not be parsed");
      expect(server.requests).toHaveLength(1);

      server.faults.push({ path: "/eventids/", status: 400 });
      expect(await failure(client().lookupEventId(jobEventId))).toMatchObject({ kind: "bad_request", status: 400 });
    });

    it("a body that is not JSON → bad_response", async () => {
      server.faults.push({ path: "/issues/4711/", body: "{oops" });
      const err = await failure(client().getIssue("4711"));
      expect(err.kind).toBe("bad_response");
      expect(err.message).toContain("not JSON");
      expect(err.message).toContain("{oops");
      expect(server.requests).toHaveLength(1);
    });

    it("an HTML page where JSON is expected → bad_response asking whether SENTRY_URL is a Sentry", async () => {
      server.faults.push({ path: "/shortids/", body: "<html><body>Login</body></html>" });
      const err = await failure(client().lookupShortId("RUNNER-1A"));
      expect(err.kind).toBe("bad_response");
      expect(err.message).toContain("SENTRY_URL");
    });

    it.each([
      ["an array where an issue is expected", "/issues/4711/", "[]", (c: SentryClient) => c.getIssue("4711")],
      ["an object where a list is expected", "/issues/?", JSON.stringify({ detail: "ok" }), (c: SentryClient) => c.searchIssues("x", 6)],
      ["an event without an id", "/events/latest/", JSON.stringify({ eventID: "abc", tags: [] }), (c: SentryClient) => c.getIssueEvent("4711", "latest")],
      ["tags that are not a list", "/events/oldest/", JSON.stringify({ id: "e", tags: { job_id: "x" } }), (c: SentryClient) => c.getIssueEvent("4711", "oldest")],
      ["an event-id lookup without groupId", "/eventids/", JSON.stringify({ eventId: jobEventId }), (c: SentryClient) => c.lookupEventId(jobEventId)],
    ])("a body of the wrong shape (%s) → bad_response", async (_what, path, body, run) => {
      server.faults.push({ path, body });
      const err = await failure(run(client()));
      expect(err.kind).toBe("bad_response");
      expect(err.message).toContain("unexpected shape");
      expect(server.requests).toHaveLength(1);
    });
  });

  describe("rate limits", () => {
    it("429 with X-Sentry-Rate-Limit-Reset soon: waits until the reset, then succeeds", async () => {
      server.faults.push({ path: "/issues/4711/", status: 429, times: 1, headers: { "X-Sentry-Rate-Limit-Reset": String(NOW_MS / 1000 + 3) } });
      const issue = await client().getIssue("4711");
      expect(issue.id).toBe("4711");
      expect(sleeps).toEqual([3000]);
      expect(server.requests).toHaveLength(2);
    });

    it("429 with a reset beyond maxRateLimitWaitMs: gives up at once, saying when it resets", async () => {
      server.faults.push({ path: "/issues/4711/", status: 429, headers: { "X-Sentry-Rate-Limit-Reset": String(NOW_MS / 1000 + 120) } });
      const err = await failure(client({ maxRateLimitWaitMs: 10_000 }).getIssue("4711"));
      expect(err).toMatchObject({ kind: "rate_limited", status: 429 });
      expect(err.message).toContain(new Date(NOW_MS + 120_000).toISOString());
      expect(err.message).toContain("in 120 s");
      expect(err.message).toContain("later than this server waits (10 s)");
      expect(sleeps).toEqual([]);
      expect(server.requests).toHaveLength(1);
    });

    it("429 every time: gives up after maxAttempts and says how many were made", async () => {
      server.faults.push({ path: "/issues/4711/", status: 429, headers: { "Retry-After": "1" } });
      const err = await failure(client({ maxAttempts: 3 }).getIssue("4711"));
      expect(err.kind).toBe("rate_limited");
      expect(err.message).toContain("3 attempt(s)");
      expect(sleeps).toEqual([1000, 1000]);
      expect(server.requests).toHaveLength(3);
    });

    it("Retry-After in seconds is honoured", async () => {
      server.faults.push({ path: "/eventids/", status: 429, times: 2, headers: { "Retry-After": "2" } });
      const found = await client().lookupEventId(jobEventId);
      expect(found.issueId).toBe("4711");
      expect(sleeps).toEqual([2000, 2000]);
      expect(server.requests).toHaveLength(3);
    });

    it("Retry-After as an HTTP date is honoured", async () => {
      server.faults.push({ path: "/issues/4711/", status: 429, times: 1, headers: { "Retry-After": new Date(NOW_MS + 5000).toUTCString() } });
      await client().getIssue("4711");
      expect(sleeps).toEqual([5000]);
    });

    it("429 with no hint waits a second", async () => {
      server.faults.push({ path: "/issues/4711/", status: 429, times: 1 });
      await client().getIssue("4711");
      expect(sleeps).toEqual([1000]);
    });

    it("a rate limit in the middle of pagination is waited out, and the pages still join up", async () => {
      const bulk = await startTestSentry({ fixtures: bulkFixtures(150), token: TOKEN });
      try {
        bulk.faults.push({ path: /cursor=0(%3A|:)100(%3A|:)0/, status: 429, times: 1, headers: { "X-Sentry-Rate-Limit-Reset": String(NOW_MS / 1000 + 1) } });
        const found = await client({ baseUrl: bulk.url }).searchIssues("job_id:bulk-job", 150);
        expect(found.issues).toHaveLength(150);
        expect(new Set(found.issues.map((i) => i.id)).size).toBe(150);
        expect(sleeps).toEqual([1000]);
        expect(bulk.requests).toHaveLength(3);
      } finally {
        await bulk.close();
      }
    });
  });

  describe("retries of 5xx, dropped connections and timeouts", () => {
    it.each([500, 502, 503])("%i once, then success: retried after a backoff", async (status) => {
      server.faults.push({ path: "/issues/4711/", status, times: 1 });
      const issue = await client().getIssue("4711");
      expect(issue.id).toBe("4711");
      expect(sleeps).toEqual([250]);
      expect(server.requests).toHaveLength(2);
    });

    it("5xx every time: kind server after maxAttempts requests, with growing backoff", async () => {
      server.faults.push({ path: "/issues/4711/", status: 503 });
      const err = await failure(client({ maxAttempts: 4 }).getIssue("4711"));
      expect(err).toMatchObject({ kind: "server", status: 503 });
      expect(err.message).toContain("503");
      expect(err.message).toContain("4 attempt(s)");
      expect(err.message).toContain("Service Temporarily Unavailable");
      expect(server.requests).toHaveLength(4);
      expect(sleeps).toEqual([250, 500, 1000]);
    });

    it("maxAttempts below 1 still makes one request", async () => {
      server.faults.push({ path: "/issues/4711/", status: 500 });
      const err = await failure(client({ maxAttempts: 0 }).getIssue("4711"));
      expect(err.kind).toBe("server");
      expect(server.requests).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });

    it("a dropped connection once: network error, retried, then success", async () => {
      server.faults.push({ path: "/issues/4711/", destroy: true, times: 1 });
      const issue = await client().getIssue("4711");
      expect(issue.id).toBe("4711");
      expect(sleeps).toEqual([250]);
      expect(server.requests).toHaveLength(2);
    });

    it("a dropped connection every time: kind network, naming SENTRY_URL", async () => {
      server.faults.push({ path: "/issues/4711/", destroy: true });
      const err = await failure(client({ maxAttempts: 2 }).getIssue("4711"));
      expect(err.kind).toBe("network");
      expect(err.message).toContain("SENTRY_URL");
      expect(err.message).toContain(new URL(server.url).host);
      expect(server.requests).toHaveLength(2);
      expect(sleeps).toEqual([250]);
    });

    it("nothing listening: kind network", async () => {
      const closed = await startTestSentry({ fixtures, token: TOKEN });
      const url = closed.url;
      await closed.close();
      const err = await failure(client({ baseUrl: url, maxAttempts: 2 }).getIssue("4711"));
      expect(err.kind).toBe("network");
      expect(err.message).toContain("ECONNREFUSED");
    });

    it("an answer slower than timeoutMs: kind timeout, retried, naming SENTRY_TIMEOUT_MS", async () => {
      server.faults.push({ path: "/issues/4711/", delayMs: 2000 });
      const err = await failure(client({ timeoutMs: 200, maxAttempts: 2 }).getIssue("4711"));
      expect(err.kind).toBe("timeout");
      expect(err.message).toContain("200 ms");
      expect(err.message).toContain("SENTRY_TIMEOUT_MS");
      expect(server.requests).toHaveLength(2);
      expect(sleeps).toEqual([250]);
    });

    it("a slow answer once, then a quick one: succeeds", async () => {
      server.faults.push({ path: "/issues/4711/", delayMs: 2000, times: 1 });
      const issue = await client({ timeoutMs: 200 }).getIssue("4711");
      expect(issue.id).toBe("4711");
      expect(server.requests).toHaveLength(2);
    });

    it("4xx are not retried", async () => {
      for (const status of [400, 401, 403, 404]) server.faults.push({ path: "/issues/4711/", status, times: 1 });
      for (const kind of ["bad_request", "auth", "forbidden", "not_found"]) {
        expect((await failure(client().getIssue("4711"))).kind).toBe(kind);
      }
      expect(server.requests).toHaveLength(4);
      expect(sleeps).toEqual([]);
    });
  });

  describe("self-hosted quirks", () => {
    let quirky: TestSentryServer;
    beforeAll(async () => {
      quirky = await startTestSentry({ fixtures, token: TOKEN, selfHostedQuirks: true });
    });
    afterAll(() => quirky.close());

    it("null dateReceived, culprit and tag values, and no permalink, parse fine", async () => {
      const c = client({ baseUrl: quirky.url });
      const issue = await c.getIssue("4711");
      expect(issue.culprit).toBeNull();
      expect(issue.permalink).toBeUndefined();
      const event = await c.getIssueEvent("4711", "latest");
      expect(event.dateReceived).toBeNull();
      expect(event.culprit).toBeNull();
      expect(event.tags?.find((t) => t.key === "server_name")?.value).toBeNull();
      expect(event.tags?.find((t) => t.key === "job_id")?.value).toBe(tagValue(execution.events[0]!, "job_id"));
      const search = await c.searchIssues("handled:yes", 6);
      expect(search.issues.map((i) => i.id)).toEqual(["4711", "4713", "4712", "4714"]);
      const lookup = await c.lookupShortId("RUNNER-1B");
      expect(lookup.issue?.culprit).toBeNull();
      const byEvent = await c.lookupEventId(eventIdOf(database.events[0]!));
      expect(byEvent.event?.dateReceived).toBeNull();
    });

    it("numeric ids, null projects and metadata, and numeric breadcrumb timestamps parse", async () => {
      server.faults.push({
        path: "/issues/4711/",
        body: JSON.stringify({ id: 4711, shortId: null, title: null, project: null, metadata: null, count: 49, userCount: null, newField: { nested: true } }),
      });
      const issue = await client().getIssue("4711");
      expect(issue).toMatchObject({ id: "4711", count: 49, newField: { nested: true } });
    });
  });

  describe("the token never leaks", () => {
    // Any six characters of it count: a copy cut in half is still a leak.
    const leaks = (message: string) => Array.from({ length: TOKEN.length - 5 }, (_, i) => TOKEN.slice(i, i + 6)).some((part) => message.includes(part));
    /** The token whole, then again so that it straddles the `cut`-th character of what the client quotes. */
    const straddling = (cut: number, before = 0) => `${TOKEN} ${"x".repeat(cut - 10 - before - TOKEN.length - 1)}${TOKEN}`;

    it.each([
      [401, "auth", 200, 0],
      [403, "forbidden", 200, 0],
      [404, "not_found", 200, 0],
      [400, "bad_request", 200, 0],
      // 5xx bodies are quoted whole, from the opening {"detail":".
      [500, "server", 160, '{"detail":"'.length],
      [503, "server", 160, '{"detail":"'.length],
    ])("not in a %i error whose body echoes it", async (status, kind, cut, before) => {
      server.faults.push({ path: "/issues/4711/", status, body: JSON.stringify({ detail: straddling(cut, before) }) });
      const err = await failure(client({ maxAttempts: 2 }).getIssue("4711"));
      expect(err.kind).toBe(kind);
      expect(err.message).toContain("***");
      expect(leaks(err.message)).toBe(false);
      expect(leaks(String(err.stack))).toBe(false);
    });

    it("not in a bad_response whose body echoes it", async () => {
      server.faults.push({ path: "/issues/4711/", body: straddling(80) });
      const err = await failure(client().getIssue("4711"));
      expect(err.kind).toBe("bad_response");
      expect(err.message).toContain("***");
      expect(leaks(err.message)).toBe(false);
    });

    it("not in a 429, network or timeout error", async () => {
      server.faults.push({ path: "/issues/4711/", status: 429, body: JSON.stringify({ detail: TOKEN }), headers: { "Retry-After": "3600" } });
      const limited = await failure(client().getIssue("4711"));
      expect(limited.kind).toBe("rate_limited");
      server.faults.length = 0;
      server.faults.push({ path: "/issues/4711/", destroy: true });
      const dropped = await failure(client({ maxAttempts: 1 }).getIssue("4711"));
      expect(dropped.kind).toBe("network");
      server.faults.length = 0;
      server.faults.push({ path: "/issues/4711/", delayMs: 1000 });
      const slow = await failure(client({ maxAttempts: 1, timeoutMs: 100 }).getIssue("4711"));
      expect(slow.kind).toBe("timeout");
      for (const err of [limited, dropped, slow]) expect(leaks(err.message)).toBe(false);
    });
  });
});

function tagValue(event: Json, key: string): unknown {
  return (event["tags"] as Json[]).find((t) => t["key"] === key)?.["value"];
}

describe("rateLimitWait", () => {
  const now = 1_761_156_000_000;
  it.each<[string, Record<string, string>, number]>([
    ["reset in 3 s", { "X-Sentry-Rate-Limit-Reset": String(now / 1000 + 3) }, 3000],
    ["reset in the past", { "X-Sentry-Rate-Limit-Reset": String(now / 1000 - 30) }, 0],
    ["reset with a fraction", { "X-Sentry-Rate-Limit-Reset": String(now / 1000 + 1.5) }, 1500],
    ["reset wins over Retry-After", { "X-Sentry-Rate-Limit-Reset": String(now / 1000 + 4), "Retry-After": "60" }, 4000],
    ["garbage reset falls back to Retry-After", { "X-Sentry-Rate-Limit-Reset": "soon", "Retry-After": "7" }, 7000],
    ["zero reset falls back to Retry-After", { "X-Sentry-Rate-Limit-Reset": "0", "Retry-After": "2" }, 2000],
    ["Retry-After seconds", { "Retry-After": "12" }, 12_000],
    ["Retry-After zero", { "Retry-After": "0" }, 0],
    ["Retry-After negative", { "Retry-After": "-5" }, 0],
    ["Retry-After HTTP date", { "Retry-After": new Date(now + 9000).toUTCString() }, 9000],
    ["Retry-After date in the past", { "Retry-After": new Date(now - 9000).toUTCString() }, 0],
    ["Retry-After garbage", { "Retry-After": "later" }, 1000],
    ["no headers", {}, 1000],
  ])("%s", (_what, headers, expected) => {
    expect(rateLimitWait(new Headers(headers), now)).toBe(expected);
  });
});

describe("nextCursor", () => {
  const part = (rel: string, results: string, cursor: string) => `<https://sentry.io/api/0/organizations/o/issues/?query=a%2Cb&cursor=${cursor}>; rel="${rel}"; results="${results}"; cursor="${cursor}"`;
  it.each<[string, string | null, string | null]>([
    ["no header", null, null],
    ["empty header", "", null],
    ["previous and next with results", `${part("previous", "false", "0:0:1")}, ${part("next", "true", "0:100:0")}`, "0:100:0"],
    ["next first", `${part("next", "true", "1735:0:0")}, ${part("previous", "true", "0:0:1")}`, "1735:0:0"],
    ["next without results", `${part("previous", "true", "0:0:1")}, ${part("next", "false", "0:200:0")}`, null],
    ["only previous", part("previous", "true", "0:0:1"), null],
    ["next with an empty cursor", `<https://x/>; rel="next"; results="true"; cursor=""`, null],
    ["next without a cursor attribute", `<https://x/>; rel="next"; results="true"`, null],
    ["no space after the comma", `${part("previous", "false", "0:0:1")},${part("next", "true", "0:25:0")}`, "0:25:0"],
    ["not a Link header", "garbage", null],
  ])("%s", (_what, link, expected) => {
    expect(nextCursor(link)).toBe(expected);
  });
});
