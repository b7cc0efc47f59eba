// One snapshot per tool, text and structured, on the seeded demo data with a fixed clock: any change in
// what a tool says shows up here as a diff to read (update on purpose with `npx vitest run -u`).
// Structured results are parsed with each tool's outputSchema first.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDemoDataset, type DemoManifest } from "../../src/demo/demo-dataset.js";
import { startDemoSentry } from "../../src/demo/demo-sentry.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans } from "../../src/store/span-writer.js";
import compareExecutions from "../../src/tools/compare-executions.js";
import diagnose from "../../src/tools/diagnose.js";
import findGaps from "../../src/tools/find-gaps.js";
import getTrace from "../../src/tools/get-trace.js";
import listFailedSpans from "../../src/tools/list-failed-spans.js";
import sentryIssueContext from "../../src/tools/sentry-issue-context.js";
import type { ToolDefinition } from "../../src/tools/tool-definition.js";
import { openPglite, type TestDatabase } from "../support/test-databases.js";
import { connectTools, type ToolClient } from "../support/tool-client.js";

const NOW = new Date("2025-10-22T18:00:00.000Z");

describe("tool answers on the demo data (PGlite, fixed clock)", () => {
  let db: TestDatabase;
  let tools: ToolClient;
  let sentryHost = "";
  let closeSentry: () => Promise<void> = async () => {};
  let ex: DemoManifest["examples"];

  beforeAll(async () => {
    db = await openPglite();
    await applySchema(db.writer, db.table());
    const data = generateDemoDataset({ now: NOW });
    ex = data.manifest.examples;
    await insertSpans(db.writer, data.rows, db.table());
    const sentry = await startDemoSentry(data.rows);
    sentryHost = new URL(sentry.url).host;
    closeSentry = sentry.close;
    tools = await connectTools({ spans: new SpanTable(db.reader, db.table(), ["job_id"]), sentry: sentry.client, now: () => NOW.getTime() });
  });
  afterAll(async () => {
    await tools?.close();
    await closeSentry();
    await db?.close();
  });

  /** The answer with what varies between runs (the stand-in's port, the suite's schema) made constant. */
  async function snapshot(tool: ToolDefinition, args: Record<string, unknown>, name: string): Promise<void> {
    const { out, text } = await tools.structured(tool, args);
    const steady = (s: string) => s.split(sentryHost).join("sentry.test").split(db.schema).join("test_schema");
    await expect(steady(text)).toMatchFileSnapshot(`./__snapshots__/${name}.txt`);
    await expect(steady(JSON.stringify(out, null, 2))).toMatchFileSnapshot(`./__snapshots__/${name}.json`);
  }

  it("get_trace: the 13 ms failure by job_id", () => snapshot(getTrace, { job_id: ex.immediateFailureJobId }, "get_trace.immediate-failure"));
  it("get_trace: a successful trace", () => snapshot(getTrace, { trace_id: ex.successTraceId }, "get_trace.success"));
  it("list_failed_spans: the last 24 h", () => snapshot(listFailedSpans, { limit: 5 }, "list_failed_spans.24h"));
  it("find_gaps: the 13 ms failure", () => snapshot(findGaps, { job_id: ex.immediateFailureJobId }, "find_gaps.immediate-failure"));
  it("find_gaps: the aggregate view", () => snapshot(findGaps, {}, "find_gaps.aggregate"));
  it("diagnose: the 13 ms failure", () => snapshot(diagnose, { job_id: ex.immediateFailureJobId }, "diagnose.immediate-failure"));
  it("compare_executions: the 13 ms failure", () => snapshot(compareExecutions, { job_id: ex.immediateFailureJobId }, "compare_executions.immediate-failure"));
  it("compare_executions: a router cold start", () => snapshot(compareExecutions, { job_id: ex.slowHandoffJobId }, "compare_executions.slow-handoff"));
  it("sentry_issue_context: the 13 ms failure's job", () => snapshot(sentryIssueContext, { job_id: ex.immediateFailureJobId, max_breadcrumbs: 5 }, "sentry_issue_context.immediate-failure"));
});
