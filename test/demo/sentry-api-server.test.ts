// The local Sentry REST API stand-in and the demo fixtures it serves: auth, routes, search, Link-header
// pagination, injected faults, self-hosted quirks, and fixtures that tell the same story as the demo spans.

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateDemoDataset, type DemoSpanRow } from "../../src/demo/demo-dataset.js";
import type { SentryFixtures } from "../../src/demo/sentry-api-server.js";
import { startTestSentry, type TestSentryOptions, type TestSentryServer } from "../support/sentry-stand-in.js";
import { demoSentryFixtures } from "../../src/demo/sentry-demo-fixtures.js";

const NOW = new Date("2025-10-22T18:00:00Z");
const TOKEN = "sntrys_test_token";
const ORG = "project-beacon";
const { rows, manifest } = generateDemoDataset({ now: NOW });
const fixtures = demoSentryFixtures(rows);

type Json = Record<string, any>;

const failedRoots = rows.filter((r) => r.service === "runner" && r.operation === "execute_question" && r.status === "failed");
/** The failed runner spans whose error is the runner's generic one: issue 4711's. */
const executionFailedRoots = failedRoots.filter((r) => r.error_message === "execution failed");
const rowTraceIds = new Set(rows.map((r) => r.trace_id));
const executionEntry = fixtures.issues.find((i) => i.issue["id"] === "4711")!;
const databaseEntry = fixtures.issues.find((i) => i.issue["id"] === "4712")!;
const executionEvents = executionEntry.events as Json[];
const databaseEvents = databaseEntry.events as Json[];
/** Every runner issue made from failed runner.execute_question spans: 4711 and 4713, 4714, … */
const runnerEntries = fixtures.issues.filter((i) => i.issue["id"] !== "4712");
const runnerEvents = runnerEntries.flatMap((i) => i.events as Json[]);
const REJECTED = "router returned 502: provider rejected the request";
const RESET = "router connection reset (EOF)";
// By first occurrence: the first lost request comes before the rejection window.
const RESET_ISSUE = "4713";
const REJECTED_ISSUE = "4714";

const tag = (event: Json, key: string): unknown => (event["tags"] as Json[]).find((t) => t["key"] === key)?.["value"];

function linkParts(link: string | null): Record<string, { url: string; results: string; cursor: string }> {
  const parts: Record<string, { url: string; results: string; cursor: string }> = {};
  for (const part of (link ?? "").split(/,\s*(?=<)/)) {
    const m = /^<([^>]*)>; rel="([^"]+)"; results="([^"]+)"; cursor="([^"]+)"$/.exec(part.trim());
    if (m) parts[m[2]!] = { url: m[1]!, results: m[3]!, cursor: m[4]! };
  }
  return parts;
}

async function startWith(extra: Partial<TestSentryOptions> = {}): Promise<TestSentryServer> {
  return startTestSentry({ fixtures, token: TOKEN, ...extra });
}

describe("sentry api server", () => {
  let server: TestSentryServer;
  const api = (path: string) => `${server.url}/api/0/organizations/${ORG}/${path}`;
  const get = (path: string, init: RequestInit = {}) =>
    fetch(api(path), { ...init, headers: { Authorization: `Bearer ${TOKEN}`, ...(init.headers ?? {}) } });
  const getJson = async (path: string): Promise<any> => {
    const res = await get(path);
    expect(res.status, path).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    return res.json();
  };

  beforeAll(async () => {
    server = await startWith();
  });
  afterAll(() => server.close());
  afterEach(() => {
    server.faults.length = 0;
  });

  describe("auth and methods", () => {
    it("answers 401 Invalid token without a token or with a wrong one, and records every request", async () => {
      const before = server.requests.length;
      const none = await fetch(api("issues/4711/"));
      expect(none.status).toBe(401);
      expect(await none.json()).toEqual({ detail: "Invalid token" });
      const wrong = await fetch(api("issues/4711/"), { headers: { Authorization: "Bearer nope" } });
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toEqual({ detail: "Invalid token" });
      const basic = await fetch(api("issues/4711/"), { headers: { Authorization: `Basic ${TOKEN}` } });
      expect(basic.status).toBe(401);
      const lower = await fetch(api("issues/4711/"), { headers: { Authorization: `bearer ${TOKEN}` } });
      expect(lower.status).toBe(200);
      const recorded = server.requests.slice(before);
      expect(recorded.map((r) => r.authorization)).toEqual([undefined, "Bearer nope", `Basic ${TOKEN}`, `bearer ${TOKEN}`]);
      expect(recorded[0]).toMatchObject({ method: "GET", path: `/api/0/organizations/${ORG}/issues/4711/`, query: {} });
    });

    it("only serves GET", async () => {
      const res = await get("issues/4711/", { method: "POST", body: "{}" });
      expect(res.status).toBe(405);
      expect(((await res.json()) as Json)["detail"]).toContain("POST");
    });
  });

  describe("routes", () => {
    it("returns an issue shaped like Sentry's, count as a string and userCount as a number", async () => {
      const issue = await getJson("issues/4711/");
      expect(issue).toMatchObject({
        id: "4711",
        shortId: "RUNNER-1A",
        title: "Execution failed",
        culprit: "worker.(*JobRunner).executeQuestion",
        permalink: "https://project-beacon.sentry.io/issues/4711/",
        level: "error",
        status: "unresolved",
        platform: "go",
        project: { id: "3", name: "runner", slug: "runner", platform: "go" },
        metadata: { type: "*errors.errorString", value: "execution failed" },
        count: String(executionFailedRoots.length),
        userCount: 0,
        assignedTo: null,
        shareId: null,
      });
      expect(issue.stats["24h"]).toHaveLength(24);
      const inWindow = issue.stats["24h"].reduce((sum: number, [, n]: [number, number]) => sum + n, 0);
      expect(inWindow).toBe(executionFailedRoots.length);
      expect(issue.firstSeen <= issue.lastSeen).toBe(true);
      expect(issue.lastSeen).toBe(executionEvents[0]!["dateCreated"]);
      // The issue route also resolves a short id, as sentry.io does.
      expect((await getJson("issues/runner-1a/")).id).toBe("4711");
    });

    it("resolves short ids case-insensitively", async () => {
      for (const shortId of ["RUNNER-1A", "runner-1a", "Runner-1A"]) {
        const found = await getJson(`shortids/${shortId}/`);
        expect(found).toMatchObject({ organizationSlug: ORG, projectSlug: "runner", groupId: "4711", shortId: "RUNNER-1A" });
        expect(found.group.id).toBe("4711");
      }
      expect((await getJson("shortids/RUNNER-1B/")).groupId).toBe("4712");
    });

    it("serves latest, oldest, recommended and a given event, with previous/next ids", async () => {
      const latest = await getJson("issues/4711/events/latest/");
      const oldest = await getJson("issues/4711/events/oldest/");
      const recommended = await getJson("issues/4711/events/recommended/");
      expect(latest.eventID).toBe(executionEvents[0]!["eventID"]);
      expect(latest.nextEventID).toBeNull();
      expect(latest.previousEventID).toBe(executionEvents[1]!["eventID"]);
      expect(oldest.eventID).toBe(executionEvents.at(-1)!["eventID"]);
      expect(oldest.previousEventID).toBeNull();
      expect(recommended.eventID).toBe(executionEntry.recommendedEventId ?? latest.eventID);
      expect(recommended.contexts.execution.duration_ms).toBe(13);
      const some = executionEvents[5]!;
      const byId = await getJson(`issues/4711/events/${some["eventID"]}/`);
      expect(byId).toEqual(some);
      // An event of another issue is not an event of this one.
      expect((await get(`issues/4711/events/${databaseEvents[0]!["eventID"]}/`)).status).toBe(404);
      expect((await getJson("issues/4712/events/latest/")).groupID).toBe("4712");
    });

    it("serves the event in Sentry's shape: tags, contexts, exception frames oldest first, breadcrumbs", async () => {
      const event = await getJson("issues/4711/events/latest/");
      expect(event.id).toMatch(/^[0-9a-f]{32}$/);
      expect(event).toMatchObject({ groupID: "4711", projectID: "3", platform: "go", type: "error", message: "", dist: null, errors: [], user: null });
      expect(event.sdk).toEqual({ name: "sentry.go", version: "0.29.0" });
      expect(event.release).toEqual({ version: "runner@dev" });
      expect(event.contexts.execution).toMatchObject({ status: "failed", has_output: false, has_receipt: false, type: "default" });
      expect(event.contexts.trace).toMatchObject({ op: "execute_question", status: "internal_error", type: "trace" });
      expect(event.contexts.trace.trace_id).toMatch(/^[0-9a-f]{32}$/);
      expect(event.contexts.trace.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(event.contexts.runtime).toEqual({ name: "go", version: "go1.22.1", type: "runtime" });
      for (const key of ["environment", "level", "release", "handled", "execution_region", "execution_model", "execution_provider", "job_id", "server_name"]) {
        expect(tag(event, key), key).toBeTypeOf("string");
      }
      expect(tag(event, "environment")).toBe("fly-lhr");
      const exception = event.entries.find((e: Json) => e.type === "exception");
      const value = exception.data.values[0];
      expect(value).toMatchObject({ type: "*errors.errorString", value: "execution failed", mechanism: { type: "generic", handled: true } });
      const frames = value.stacktrace.frames;
      expect(frames.map((f: Json) => f.function)).toEqual([
        "runtime.goexit",
        "worker.(*JobRunner).Run",
        "worker.(*JobRunner).executeQuestion",
      ]);
      expect(frames.map((f: Json) => f.inApp)).toEqual([false, true, true]);
      const crashing = frames.at(-1);
      expect(crashing.lineNo).toBe(241);
      expect(crashing.context.find(([line]: [number, string]) => line === 241)[1]).toContain("sentry.CaptureException(err)");
      const crumbs = event.entries.find((e: Json) => e.type === "breadcrumbs").data.values;
      expect(crumbs.map((c: Json) => c.message)).toEqual(["Starting question execution", "Calling executor", "Executor returned"]);
      expect(crumbs[1].data.executor_type).toBe("*worker.HybridExecutor");
      expect(crumbs[2].data).toMatchObject({ status: "failed", has_error: true, duration_ms: event.contexts.execution.duration_ms });
    });

    it("looks events up by id across issues", async () => {
      const wanted = databaseEvents[1]!;
      const found = await getJson(`eventids/${wanted["eventID"]}/`);
      expect(found).toMatchObject({ organizationSlug: ORG, projectSlug: "runner", groupId: "4712", eventId: wanted["eventID"] });
      expect(found.event.eventID).toBe(wanted["eventID"]);
      expect(found.event.contexts.database).toMatchObject({ operation: "insert_execution" });
      // Upper case and dashed (uuid) forms of the id work too.
      const id = String(executionEvents[3]!["eventID"]);
      const dashed = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`.toUpperCase();
      expect((await getJson(`eventids/${dashed}/`)).groupId).toBe("4711");
    });

    it("lists an issue's events as summaries, or whole with full=true, filtered by the query", async () => {
      const summaries = await getJson("issues/4711/events/?limit=5");
      expect(summaries).toHaveLength(5);
      expect(summaries[0]).toMatchObject({ id: executionEvents[0]!["id"], eventID: executionEvents[0]!["eventID"], groupID: "4711", title: "Execution failed" });
      expect(summaries[0].tags).toEqual(executionEvents[0]!["tags"]);
      expect(summaries[0].entries).toBeUndefined();
      const full = await getJson("issues/4711/events/?limit=2&full=true");
      expect(full[0]).toEqual(executionEvents[0]);
      const jobId = manifest.examples.immediateFailureJobId;
      const byJob = await getJson(`issues/4711/events/?query=${encodeURIComponent(`job_id:${jobId}`)}`);
      expect(byJob).toHaveLength(1);
      expect(tag(byJob[0], "job_id")).toBe(jobId);
      expect(await getJson(`issues/4712/events/?query=${encodeURIComponent(`job_id:${jobId}`)}`)).toEqual([]);
      const asia = await getJson("issues/4711/events/?query=execution_region:ASIA&limit=100");
      expect(asia.length).toBe(executionFailedRoots.filter((r) => r.metadata["region"] === "ASIA").length);
    });

    it("answers 404 for an unknown org, issue, short id, event or route", async () => {
      const notFound = { detail: "The requested resource does not exist" };
      const unknownOrg = await fetch(`${server.url}/api/0/organizations/other-org/issues/4711/`, {
        headers: { Authorization: `Bearer ${TOKEN}` },
      });
      expect(unknownOrg.status).toBe(404);
      expect(await unknownOrg.json()).toEqual(notFound);
      for (const path of ["issues/9999/", "issues/9999/events/latest/", "shortids/RUNNER-ZZ/", `eventids/${"0".repeat(32)}/`, "projects/", "issues/4711/tags/"]) {
        const res = await get(path);
        expect(res.status, path).toBe(404);
      }
      const unknownEvent = await get(`issues/4711/events/${"f".repeat(32)}/`);
      expect(unknownEvent.status).toBe(404);
      expect((await fetch(`${server.url}/nothing`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    });
  });

  describe("issue search", () => {
    const search = (query: string, extra = "") => getJson(`issues/?query=${encodeURIComponent(query)}${extra}`);
    const ids = (issues: Json[]) => issues.map((i) => i["id"]);

    it("finds the execution issue by a failed job's job_id, and the database issue by its job's", async () => {
      expect(ids(await search(`job_id:${manifest.examples.immediateFailureJobId}`))).toEqual(["4711"]);
      expect(ids(await search(`is:unresolved job_id:"${manifest.examples.immediateFailureJobId}"`))).toEqual(["4711"]);
      const dbJob = String(tag(databaseEvents[0]!, "job_id"));
      expect(ids(await search(`job_id:${dbJob}`))).toEqual(["4712"]);
      expect(await search("job_id:bias-detection-0")).toEqual([]);
    });

    it("finds by Sentry's trace id but not by the span table's", async () => {
      const traceId = (executionEvents[7]!["contexts"] as Json)["trace"]["trace_id"];
      expect(ids(await search(`trace:${traceId}`))).toEqual(["4711"]);
      expect(await search(`trace:${manifest.examples.immediateFailureTraceId}`)).toEqual([]);
    });

    it("matches bare words against the title, and is:, tag, negated and wildcard terms", async () => {
      expect(ids(await search("FAILED"))).toEqual(["4711"]);
      // Free text matches inside words, as Sentry's does: "executions_pkey" contains "execution".
      expect(ids(await search("execution"))).toEqual(["4711", "4712"]);
      expect(ids(await search("DUPLICATE key"))).toEqual(["4712"]);
      expect(await search("is:resolved")).toEqual([]);
      expect(ids(await search("is:unresolved"))).toEqual(["4711", "4713", "4712", "4714"]);
      expect(ids(await search("router"))).toEqual(["4713", "4714"]);
      expect(ids(await search('"provider rejected"'))).toEqual(["4714"]);
      expect(ids(await search("execution_provider:modal-us-east execution_region:US"))).toEqual(["4711"]);
      expect(ids(await search("error_type:database_insert"))).toEqual(["4712"]);
      expect(ids(await search("!error_type:database_insert"))).toEqual(["4711", "4713", "4714"]);
      expect(ids(await search("job_id:bias-detection-*"))).toEqual(["4711", "4713", "4712", "4714"]);
      expect(ids(await search("has:execution_region"))).toEqual(["4711", "4713", "4714"]);
      expect(ids(await search("issue:runner-1b"))).toEqual(["4712"]);
      expect(ids(await search("issue:RUNNER-1D"))).toEqual(["4714"]);
      expect(ids(await search("environment:fly-lhr"))).toEqual(["4711", "4713", "4712", "4714"]);
      const bad = await get(`issues/?query=${encodeURIComponent("is:sideways")}`);
      expect(bad.status).toBe(400);
    });

    it("sorts by lastSeen, implies is:unresolved without a query, and honours project and statsPeriod", async () => {
      const all = await getJson("issues/");
      const everyIssue = ["4711", "4713", "4712", "4714"];
      expect(ids(all)).toEqual(everyIssue);
      for (let i = 1; i < all.length; i++) expect(all[i - 1].lastSeen > all[i].lastSeen).toBe(true);
      expect(ids(await getJson("issues/?query="))).toEqual(everyIssue);
      expect(ids(await getJson("issues/?project=3"))).toEqual(everyIssue);
      expect(await getJson("issues/?project=42")).toEqual([]);
      expect(ids(await getJson("issues/?project=-1"))).toEqual(everyIssue);
      const noStats = await getJson("issues/?statsPeriod=");
      expect(noStats[0].stats).toBeUndefined();
      const fortnight = await getJson("issues/?statsPeriod=14d");
      expect(fortnight[0].stats["14d"]).toHaveLength(14);
      expect((await get("issues/?statsPeriod=7w")).status).toBe(400);
    });
  });

  describe("pagination", () => {
    it("walks every issue through Link next cursors, results=\"false\" at the end", async () => {
      const seen: string[] = [];
      let url: string | undefined = api("issues/?query=&limit=1");
      let pages = 0;
      let last: ReturnType<typeof linkParts> = {};
      while (url) {
        const res: Response = await fetch(url, { headers: { Authorization: `Bearer ${TOKEN}` } });
        expect(res.status).toBe(200);
        const page = (await res.json()) as Json[];
        seen.push(...page.map((i) => i["id"]));
        last = linkParts(res.headers.get("link"));
        expect(last["previous"]!.results).toBe(pages === 0 ? "false" : "true");
        expect(last["next"]!.url).toContain("query=&limit=1&cursor=");
        url = last["next"]!.results === "true" ? last["next"]!.url : undefined;
        pages++;
      }
      expect(pages).toBe(4);
      expect(seen).toEqual(["4711", "4713", "4712", "4714"]);
      expect(last["next"]).toMatchObject({ results: "false", cursor: "0:4:0" });
    });

    it("walks every event with the default page size, and writes the Link header like Sentry", async () => {
      const first = await get("issues/4711/events/");
      const link = first.headers.get("link")!;
      const prefix = `${server.url}/api/0/organizations/${ORG}/issues/4711/events/?&cursor=`;
      expect(link).toBe(
        `<${prefix}0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <${prefix}0:25:0>; rel="next"; results="true"; cursor="0:25:0"`,
      );
      expect(first.headers.get("x-hits")).toBe(String(executionEvents.length));
      const seen: string[] = ((await first.json()) as Json[]).map((e) => e["eventID"]);
      expect(seen).toHaveLength(25);
      let cursor: string | undefined = "0:25:0";
      while (cursor) {
        const res = await get(`issues/4711/events/?cursor=${cursor}`);
        seen.push(...((await res.json()) as Json[]).map((e) => e["eventID"]));
        const next = linkParts(res.headers.get("link"))["next"]!;
        cursor = next.results === "true" ? next.cursor : undefined;
      }
      expect(seen).toEqual(executionEvents.map((e) => e["eventID"]));
    });

    it("honours the pageSize option, caps limit at 100 and rejects a bad cursor or limit", async () => {
      const small = await startWith({ pageSize: 10 });
      try {
        const res = await fetch(`${small.url}/api/0/organizations/${ORG}/issues/4711/events/`, { headers: { Authorization: `Bearer ${TOKEN}` } });
        expect((await res.json()) as Json[]).toHaveLength(10);
        expect(linkParts(res.headers.get("link"))["next"]!.cursor).toBe("0:10:0");
      } finally {
        await small.close();
      }
      const capped = await get("issues/4711/events/?limit=1000");
      expect((await capped.json()) as Json[]).toHaveLength(Math.min(100, executionEvents.length));
      const badCursor = await get("issues/?cursor=garbage");
      expect(badCursor.status).toBe(400);
      expect(await badCursor.json()).toEqual({ detail: "Invalid cursor parameter." });
      expect((await get("issues/?limit=ten")).status).toBe(400);
    });
  });

  describe("faults", () => {
    it("answers an injected status for `times` requests, then serves normally", async () => {
      const reset = String(Math.floor(Date.now() / 1000) + 1);
      server.faults.push({ path: "/issues/4711/", status: 429, times: 2, headers: { "X-Sentry-Rate-Limit-Reset": reset, "Retry-After": "1" } });
      const before = server.requests.length;
      for (let i = 0; i < 2; i++) {
        const res = await get("issues/4711/");
        expect(res.status).toBe(429);
        expect(res.headers.get("x-sentry-rate-limit-reset")).toBe(reset);
        expect(res.headers.get("retry-after")).toBe("1");
        expect(((await res.json()) as Json)["detail"]).toContain("too frequently");
      }
      expect((await get("issues/4711/")).status).toBe(200);
      expect(server.requests.length - before).toBe(3);
    });

    it("injects faults before auth, matching on path plus query with strings or RegExps, first rule wins", async () => {
      server.faults.push({ path: /shortids\/RUNNER-1B/i, status: 403 }, { path: "shortids/", status: 500 }, { path: "query=boom", status: 503 });
      const forbidden = await fetch(api("shortids/runner-1b/"));
      expect(forbidden.status).toBe(403);
      expect(await forbidden.json()).toEqual({ detail: "You do not have permission to perform this action." });
      expect((await get("shortids/RUNNER-1A/")).status).toBe(500);
      const unavailable = await get("issues/?query=boom");
      expect(unavailable.status).toBe(503);
      expect(unavailable.headers.get("content-type")).toBe("text/html");
      expect(await unavailable.text()).toContain("503");
      server.faults.length = 0;
      expect((await get("shortids/RUNNER-1A/")).status).toBe(200);
    });

    it("sends a malformed body", async () => {
      server.faults.push({ path: "events/latest", body: "{oops", times: 1 });
      const res = await get("issues/4711/events/latest/");
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("{oops");
      server.faults.push({ path: "events/latest", status: 502, body: "<html>bad gateway</html>", headers: { "Content-Type": "text/html" }, times: 1 });
      const gateway = await get("issues/4711/events/latest/");
      expect(gateway.status).toBe(502);
      expect(gateway.headers.get("content-type")).toBe("text/html");
      expect((await get("issues/4711/events/latest/")).status).toBe(200);
    });

    it("adds headers to a normal response when the rule has no status or body", async () => {
      server.faults.push({ path: "issues/4712/", headers: { "X-Sentry-Rate-Limit-Remaining": "0" }, times: 1 });
      const res = await get("issues/4712/");
      expect(res.status).toBe(200);
      expect(res.headers.get("x-sentry-rate-limit-remaining")).toBe("0");
      expect(((await res.json()) as Json)["id"]).toBe("4712");
    });

    it("delays a response, so a client timeout fires, and otherwise answers late", async () => {
      server.faults.push({ path: "issues/4711/", delayMs: 400, times: 1 });
      await expect(get("issues/4711/", { signal: AbortSignal.timeout(50) })).rejects.toThrow();
      server.faults.push({ path: "issues/4712/", delayMs: 150, times: 1 });
      const started = performance.now();
      const res = await get("issues/4712/");
      expect(res.status).toBe(200);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    });

    it("destroys the socket without a response", async () => {
      server.faults.push({ path: "eventids/", destroy: true, times: 1 });
      await expect(get(`eventids/${executionEvents[0]!["eventID"]}/`)).rejects.toThrow();
      expect((await get(`eventids/${executionEvents[0]!["eventID"]}/`)).status).toBe(200);
    });
  });

  describe("self-hosted quirks", () => {
    it("drops permalinks and newer fields, nulls culprit and dateReceived, and some tag values", async () => {
      const old = await startWith({ selfHostedQuirks: true });
      try {
        const fetchJson = async (path: string) =>
          (await fetch(`${old.url}/api/0/organizations/${ORG}/${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json() as Promise<any>;
        const issue = await fetchJson("issues/4711/");
        expect(issue.permalink).toBeUndefined();
        expect(issue.substatus).toBeUndefined();
        expect(issue.culprit).toBeNull();
        expect(issue.count).toBe(String(executionEvents.length));
        const event = await fetchJson("issues/4711/events/latest/");
        expect(event.dateReceived).toBeNull();
        expect(event.culprit).toBeNull();
        expect(tag(event, "server_name")).toBeNull();
        expect(tag(event, "job_id")).toBeTypeOf("string");
        const [listed] = await fetchJson("issues/");
        expect(listed.permalink).toBeUndefined();
        const [summary] = await fetchJson("issues/4711/events/");
        expect(summary.culprit).toBeNull();
        expect((await fetchJson("shortids/RUNNER-1A/")).group.permalink).toBeUndefined();
        // The fixtures themselves are untouched.
        expect(executionEntry.issue["permalink"]).toBe("https://project-beacon.sentry.io/issues/4711/");
      } finally {
        await old.close();
      }
    });
  });

  it("closes idempotently, dropping kept-alive connections", async () => {
    const temp = await startWith();
    const res = await fetch(`${temp.url}/api/0/organizations/${ORG}/issues/`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await Promise.all([temp.close(), temp.close()]);
    await expect(fetch(`${temp.url}/api/0/organizations/${ORG}/issues/`)).rejects.toThrow();
  });
});

describe("demoSentryFixtures", () => {
  const rootByJob = new Map<string, DemoSpanRow>(failedRoots.map((r) => [String(r.metadata["job_id"]), r]));

  it("is deterministic, and depends on the seed", () => {
    expect(demoSentryFixtures(generateDemoDataset({ now: NOW }).rows)).toEqual(fixtures);
    const other: SentryFixtures = demoSentryFixtures(rows, { seed: 7, org: "acme" });
    expect(other.org).toBe("acme");
    expect(other.issues[0]!.issue["permalink"]).toBe("https://acme.sentry.io/issues/4711/");
    expect(other.issues[0]!.events[0]!["eventID"]).not.toBe(executionEvents[0]!["eventID"]);
  });

  it("has one runner event per failed runner.execute_question row, each issue's newest first", () => {
    expect(failedRoots.length).toBeGreaterThan(40);
    expect(executionFailedRoots.length).toBeGreaterThan(40);
    expect(runnerEvents).toHaveLength(failedRoots.length);
    const jobIds = runnerEvents.map((e) => (e["contexts"] as Json)["execution"]["job_id"]);
    expect(jobIds).toHaveLength(new Set(jobIds).size);
    expect(new Set(jobIds)).toEqual(new Set(rootByJob.keys()));
    for (const { issue, events } of runnerEntries) {
      const dates = events.map((e) => Date.parse(String(e["dateCreated"])));
      expect(dates).toEqual([...dates].sort((a, b) => b - a));
      expect(issue["count"]).toBe(String(events.length));
      expect(issue["firstSeen"]).toBe(events.at(-1)!["dateCreated"]);
      expect(issue["lastSeen"]).toBe(events[0]!["dateCreated"]);
      const stats = (issue["stats"] as Json)["24h"] as Array<[number, number]>;
      expect(stats).toHaveLength(24);
      expect(stats.reduce((sum, [, n]) => sum + n, 0)).toBe(events.length);
    }
  });

  it("makes one runner issue per distinct error message, 4711 for \"execution failed\" only", () => {
    const messages = new Set(failedRoots.map((r) => r.error_message));
    expect(messages).toEqual(new Set(["execution failed", REJECTED, RESET]));
    expect(runnerEntries).toHaveLength(messages.size);
    expect(new Set(runnerEntries.map((i) => (i.issue["metadata"] as Json)["value"]))).toEqual(messages);

    expect(executionEvents).toHaveLength(executionFailedRoots.length);
    expect(executionEntry.issue["count"]).toBe(String(executionFailedRoots.length));
    for (const event of executionEvents) {
      expect(rootByJob.get(String(tag(event, "job_id")))!.error_message).toBe("execution failed");
    }

    for (const [id, shortId, message] of [
      [RESET_ISSUE, "RUNNER-1C", RESET],
      [REJECTED_ISSUE, "RUNNER-1D", REJECTED],
    ] as const) {
      const entry = fixtures.issues.find((i) => i.issue["id"] === id)!;
      expect(entry.issue).toMatchObject({
        id,
        shortId,
        title: message,
        culprit: "worker.(*JobRunner).executeQuestion",
        level: "error",
        status: "unresolved",
        permalink: `https://project-beacon.sentry.io/issues/${id}/`,
        metadata: { type: "*errors.errorString", value: message },
        count: String(failedRoots.filter((r) => r.error_message === message).length),
      });
      for (const event of entry.events) {
        expect(event).toMatchObject({ groupID: id, title: message, metadata: { type: "*errors.errorString", value: message } });
        expect(rootByJob.get(String(tag(event as Json, "job_id")))!.error_message).toBe(message);
      }
    }
    const rejectedJob = manifest.examples.downstreamRejectedJobId;
    const lostJob = manifest.examples.lostRequestJobId;
    expect(fixtures.issues.find((i) => i.events.some((e) => tag(e as Json, "job_id") === rejectedJob))!.issue["id"]).toBe(REJECTED_ISSUE);
    expect(fixtures.issues.find((i) => i.events.some((e) => tag(e as Json, "job_id") === lostJob))!.issue["id"]).toBe(RESET_ISSUE);
  });

  it("numbers the other issues by first occurrence, whatever the order of the rows", () => {
    const firstSeen = (message: string) =>
      Math.min(...failedRoots.filter((r) => r.error_message === message).map((r) => Date.parse(r.completed_at ?? r.started_at)));
    expect(firstSeen(RESET)).toBeLessThan(firstSeen(REJECTED));
    expect(fixtures.issues.map((i) => [i.issue["id"], i.issue["shortId"]])).toEqual([
      ["4711", "RUNNER-1A"],
      ["4712", "RUNNER-1B"],
      ["4713", "RUNNER-1C"],
      ["4714", "RUNNER-1D"],
    ]);
    expect(demoSentryFixtures([...rows].reverse())).toEqual(fixtures);
    // The ids follow the messages, not the row order: without the lost requests, the rejections are 4713.
    const withoutReset = demoSentryFixtures(rows.filter((r) => r.error_message !== RESET));
    expect(withoutReset.issues.map((i) => [i.issue["id"], i.issue["shortId"], i.issue["title"]])).toEqual([
      ["4711", "RUNNER-1A", "Execution failed"],
      ["4712", "RUNNER-1B", 'pq: duplicate key value violates unique constraint "executions_pkey"'],
      ["4713", "RUNNER-1C", REJECTED],
    ]);
  });

  it("gives each runner issue its own fingerprint, shared by its events", () => {
    const fingerprints = fixtures.issues.map(({ events }) => {
      const each = new Set(events.map((e) => JSON.stringify(e["fingerprints"])));
      expect(each.size).toBe(1);
      return [...each][0];
    });
    expect(new Set(fingerprints).size).toBe(fixtures.issues.length);
  });

  it("serves the other runner issues by id, short id and search", async () => {
    const server = await startWith();
    try {
      const getJson = async (path: string): Promise<any> =>
        (await fetch(`${server.url}/api/0/organizations/${ORG}/${path}`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json();
      expect((await getJson("shortids/runner-1c/")).groupId).toBe(RESET_ISSUE);
      expect((await getJson("shortids/RUNNER-1D/")).groupId).toBe(REJECTED_ISSUE);
      const latest = await getJson(`issues/${REJECTED_ISSUE}/events/latest/`);
      const exception = latest.entries.find((e: Json) => e.type === "exception").data.values[0];
      expect(exception).toMatchObject({ type: "*errors.errorString", value: REJECTED });
      const byJob = await getJson(`issues/?query=${encodeURIComponent(`job_id:${manifest.examples.downstreamRejectedJobId}`)}`);
      expect(byJob.map((i: Json) => i["id"])).toEqual([REJECTED_ISSUE]);
      const lost = await getJson(`issues/?query=${encodeURIComponent(`job_id:${manifest.examples.lostRequestJobId}`)}`);
      expect(lost.map((i: Json) => i["id"])).toEqual([RESET_ISSUE]);
    } finally {
      await server.close();
    }
  });

  it("ties each event to its span by job_id and time, never by trace id, with the span's error", () => {
    for (const event of runnerEvents) {
      const contexts = event["contexts"] as Json;
      const execution = contexts["execution"];
      const row = rootByJob.get(execution.job_id)!;
      expect(row, execution.job_id).toBeDefined();
      expect(execution).toEqual({
        job_id: row.metadata["job_id"],
        region: row.metadata["region"],
        model_id: row.metadata["model"],
        question_id: row.metadata["question_id"],
        provider_id: row.metadata["provider_id"],
        status: "failed",
        duration_ms: row.duration_ms,
        has_output: false,
        has_receipt: false,
        type: "default",
      });
      expect(tag(event, "job_id")).toBe(row.metadata["job_id"]);
      expect(tag(event, "execution_region")).toBe(row.metadata["region"]);
      expect(tag(event, "execution_model")).toBe(row.metadata["model"]);
      expect(tag(event, "execution_provider")).toBe(row.metadata["provider_id"]);
      expect(rowTraceIds.has(contexts["trace"]["trace_id"])).toBe(false);
      expect(event["dateCreated"]).toBe(row.completed_at ?? row.started_at);
      const entries = event["entries"] as Json[];
      const exception = entries.find((e) => e["type"] === "exception")!["data"]["values"][0];
      expect(exception["value"]).toBe(row.error_message);
      expect(exception["type"]).toBe("*errors.errorString");
      const crumbs = entries.find((e) => e["type"] === "breadcrumbs")!["data"]["values"] as Json[];
      for (const crumb of crumbs) {
        expect(crumb["timestamp"] >= row.started_at && crumb["timestamp"] <= row.completed_at!).toBe(true);
      }
      expect(crumbs.at(-1)).toMatchObject({
        message: "Executor returned",
        data: { provider_id: row.metadata["provider_id"], status: "failed", duration_ms: row.duration_ms, has_error: true },
      });
    }
    const example = executionEvents.find((e) => tag(e, "job_id") === manifest.examples.immediateFailureJobId)!;
    expect((example["contexts"] as Json)["execution"].duration_ms).toBe(13);
  });

  it("gives every event a unique 32-hex id and links neighbours", () => {
    const all = fixtures.issues.flatMap((i) => i.events);
    const eventIds = all.map((e) => e["eventID"]);
    for (const id of eventIds) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(eventIds).size).toBe(eventIds.length);
    expect(all.every((e) => e["id"] === e["eventID"])).toBe(true);
    expect(executionEvents[0]!["nextEventID"]).toBeNull();
    expect(executionEvents[0]!["previousEventID"]).toBe(executionEvents[1]!["eventID"]);
    expect(executionEvents.at(-1)!["previousEventID"]).toBeNull();
  });

  it("puts the duplicate-key issue on two successful jobs, at their store_result spans", () => {
    expect(databaseEntry.issue).toMatchObject({
      id: "4712",
      shortId: "RUNNER-1B",
      title: 'pq: duplicate key value violates unique constraint "executions_pkey"',
      culprit: "worker.(*JobRunner).insertExecution",
      count: "2",
    });
    expect(databaseEvents).toHaveLength(2);
    const jobs = new Set<string>();
    for (const event of databaseEvents) {
      const jobId = String(tag(event, "job_id"));
      jobs.add(jobId);
      expect(tag(event, "error_type")).toBe("database_insert");
      const root = rows.find((r) => r.operation === "execute_question" && r.metadata["job_id"] === jobId)!;
      expect(root.status).toBe("completed");
      const store = rows.find((r) => r.operation === "store_result" && r.metadata["job_id"] === jobId)!;
      expect(event["dateCreated"]).toBe(store.completed_at);
      expect((event["contexts"] as Json)["database"]).toMatchObject({ operation: "insert_execution", job_id: jobId, provider_id: root.metadata["provider_id"], region: root.metadata["region"] });
      expect(rowTraceIds.has((event["contexts"] as Json)["trace"]["trace_id"])).toBe(false);
    }
    expect(jobs.size).toBe(2);
  });
});
