// Sentry replies that do not fit, over real HTTP to the local Sentry API: a body over the size limit
// is refused unread; an issue title of megabytes is cut to the answer budget in both forms; a huge
// error body is read only as far as its detail; a redirect to another host is refused, naming it.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateDemoDataset } from "../../src/demo/demo-dataset.js";
import { demoSentryFixtures } from "../../src/demo/sentry-demo-fixtures.js";
import { SentryApiError, SentryClient } from "../../src/sentry/sentry-client.js";
import { PgliteDatabase } from "../../src/store/pglite.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema } from "../../src/store/span-writer.js";
import sentryIssueContext from "../../src/tools/sentry-issue-context.js";
import { startTestSentry, type TestSentryServer } from "../support/sentry-stand-in.js";
import { connectTools, type ToolClient } from "../support/tool-client.js";

const TOKEN = "sntrys_bounds_test_token_0123456789";
const ORG = "project-beacon";
const { rows } = generateDemoDataset({ now: new Date("2025-10-22T18:00:00Z") });
const fixtures = demoSentryFixtures(rows, { org: ORG });
const issue4711 = fixtures.issues.find((i) => i.issue["id"] === "4711")!.issue;

describe("Sentry replies that do not fit", () => {
  let server: TestSentryServer;
  let other: Server;
  let otherHost = "";
  let db: PgliteDatabase;
  let tools: ToolClient;
  const client = (over: Partial<ConstructorParameters<typeof SentryClient>[0]> = {}) =>
    new SentryClient({ baseUrl: server.url, token: TOKEN, org: ORG, timeoutMs: 5000, sleep: async () => {}, ...over });

  beforeAll(async () => {
    server = await startTestSentry({ fixtures, token: TOKEN });
    // Another host, which must never be read as Sentry.
    other = createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ...issue4711, title: "from another host" })));
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    otherHost = `localhost:${(other.address() as AddressInfo).port}`;
    db = await PgliteDatabase.open(undefined);
    await applySchema(db.db);
    tools = await connectTools({ spans: new SpanTable(db, "trace_spans", ["job_id"]), sentry: client() });
  });
  afterEach(() => {
    server.faults.length = 0;
  });
  afterAll(async () => {
    await tools?.close();
    await db?.close();
    await server?.close();
    await new Promise((resolve) => other.close(resolve));
  });

  it("refuses a body over TRACE_DOCTOR_SENTRY_MAX_BYTES without reading it", async () => {
    server.faults.push({ path: "/issues/4711/", body: JSON.stringify({ ...issue4711, title: "t".repeat(3_000_000) }) });
    const error = (await client({ maxResponseBytes: 1_000_000 }).getIssue("4711").catch((e: unknown) => e)) as SentryApiError;
    expect(error).toBeInstanceOf(SentryApiError);
    expect(error.message).toMatch(/larger than 1000000 bytes \(TRACE_DOCTOR_SENTRY_MAX_BYTES\); it was not read/);
  });

  it("an issue title of megabytes is cut to the answer budget, the same in both forms", async () => {
    server.faults.push({ path: "/issues/4711/", body: JSON.stringify({ ...issue4711, title: `T${"i".repeat(5_000_000)}` }), times: 1 });
    const result = await tools.call("sentry_issue_context", { issue: "4711" });
    expect(result.isError).toBeFalsy();
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(100_000);
    const out = sentryIssueContext.outputSchema.parse(result.structuredContent);
    expect(out.issue.title!.length).toBeLessThan(5000);
    expect(out.issue.title).toMatch(/chars cut\]$/);
    expect(result.structuredContent?.answer_cut).toMatchObject({ budget_bytes: 100_000, strings_cut: 1 });
  });

  it("reads a huge error body only as far as it needs", async () => {
    server.faults.push({ path: "/issues/4711/", status: 500, body: `{"detail": "overloaded ${"x".repeat(20_000_000)}"}` });
    const t0 = Date.now();
    const error = (await client({ maxAttempts: 1 }).getIssue("4711").catch((e: unknown) => e)) as SentryApiError;
    expect(error.kind).toBe("server");
    expect(error.message.length).toBeLessThan(600);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("refuses a redirect to another host, naming it, and follows one on the same host", async () => {
    server.faults.push({ path: "/issues/4711/", status: 302, headers: { Location: `http://${otherHost}/api/0/organizations/${ORG}/issues/4711/` }, body: "" });
    const error = await tools.error("sentry_issue_context", { issue: "4711" });
    expect(error.code).toBe("upstream");
    expect(error.text).toMatch(new RegExp(`redirected issue 4711 to another host, ${otherHost}; trace-doctor does not follow it`));
    expect(error.text).not.toMatch(/from another host/);
    server.faults.length = 0;
    server.faults.push({ path: `/organizations/${ORG}/issues/4711/`, status: 301, headers: { Location: `${server.url}/api/0/organizations/${ORG}/issues/4711/?moved=1` }, body: "", times: 1 });
    expect((await client().getIssue("4711")).title).toBe(issue4711["title"]);
  });
});
