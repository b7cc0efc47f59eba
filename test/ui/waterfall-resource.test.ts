// The MCP Apps declarations through a real SDK client: get_trace's and compare_executions'
// `_meta.ui.resourceUri` in tools/list, the extension in the server's capabilities, the ui:// resource
// listed and read (mime type, budget, one self-contained document), and answers exactly the same for a
// client that does not speak MCP Apps.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { IMMEDIATE_MS, UNFINISHED_AFTER_MS } from "../../src/analysis/defaults.js";
import { generateDemoDataset, type DemoManifest } from "../../src/demo/demo-dataset.js";
import { createServer, type ServerContext } from "../../src/server.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans } from "../../src/store/span-writer.js";
import { MCP_APP_MIME_TYPE, UI_EXTENSION_ID, WATERFALL_URI } from "../../src/ui/waterfall-resource.js";
import { openPglite, type TestDatabase } from "../support/test-databases.js";

const NOW = new Date("2025-10-22T18:00:00.000Z");

describe("the waterfall view over MCP", () => {
  let db: TestDatabase;
  let spans: SpanTable;
  let ex: DemoManifest["examples"];
  const open: Array<() => Promise<void>> = [];

  /** A client on its own server over the demo data; `apps` makes it advertise the MCP Apps extension. */
  async function connect(options: { apps: boolean; maxAnswerBytes?: number }): Promise<Client> {
    const context: ServerContext = {
      spans,
      dataSource: { kind: "postgres", label: spans.label },
      settings: { maxTraceSpans: 20_000, immediateMs: IMMEDIATE_MS, unfinishedAfterMs: UNFINISHED_AFTER_MS, jobTagKeys: ["job_id"] },
      sentry: { client: null, missing: ["SENTRY_AUTH_TOKEN (or SENTRY_ACCESS_TOKEN)", "SENTRY_ORG"], source: "none" },
      now: () => NOW.getTime(),
      ...(options.maxAnswerBytes ? { limits: { maxAnswerBytes: options.maxAnswerBytes } } : {}),
    };
    const server = createServer(context);
    const client = new Client(
      { name: options.apps ? "apps-host" : "plain-client", version: "1.0.0" },
      options.apps ? { capabilities: { extensions: { [UI_EXTENSION_ID]: { mimeTypes: [MCP_APP_MIME_TYPE] } } } } : {},
    );
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(b), client.connect(a)]);
    open.push(async () => {
      await client.close();
      await server.close();
    });
    return client;
  }

  beforeAll(async () => {
    db = await openPglite();
    await applySchema(db.writer, db.table());
    const data = generateDemoDataset({ now: NOW });
    ex = data.manifest.examples;
    await insertSpans(db.writer, data.rows, db.table());
    spans = new SpanTable(db.reader, db.table(), ["job_id"]);
  });
  afterAll(async () => {
    for (const close of open) await close();
    await db?.close();
  });

  it("declares the view on get_trace and compare_executions only, and the extension in the server's capabilities", async () => {
    const client = await connect({ apps: true });
    const { tools } = await client.listTools();
    for (const name of ["get_trace", "compare_executions"]) {
      expect(tools.find((t) => t.name === name)!._meta).toEqual({ ui: { resourceUri: WATERFALL_URI }, "ui/resourceUri": WATERFALL_URI });
    }
    expect(tools.filter((t) => t._meta?.ui !== undefined || t._meta?.["ui/resourceUri"] !== undefined).map((t) => t.name).sort()).toEqual(["compare_executions", "get_trace"]);
    expect(client.getServerCapabilities()?.extensions).toEqual({ [UI_EXTENSION_ID]: { mimeTypes: [MCP_APP_MIME_TYPE] } });
  });

  it("lists and serves the view as one self-contained HTML document within the answer budget", async () => {
    const client = await connect({ apps: true });
    const { resources } = await client.listResources();
    expect(resources).toContainEqual(expect.objectContaining({ uri: WATERFALL_URI, mimeType: MCP_APP_MIME_TYPE }));
    const read = await client.readResource({ uri: WATERFALL_URI });
    expect(read.contents).toHaveLength(1);
    const [content] = read.contents as Array<{ uri: string; mimeType: string; text: string; _meta?: unknown }>;
    expect(content).toMatchObject({ uri: WATERFALL_URI, mimeType: MCP_APP_MIME_TYPE, _meta: { ui: { prefersBorder: true } } });
    const html = content!.text;
    expect(html.startsWith("<!doctype html>")).toBe(true);
    // The budget is 100,000 bytes of answer; the document itself is kept under 60 KB on purpose.
    expect(Buffer.byteLength(html)).toBeLessThan(60_000);
    expect(Buffer.byteLength(JSON.stringify(read))).toBeLessThan(64_000);
    // Nothing to fetch: no external scripts, styles, fonts, images or frames, no URL at all.
    expect(html).not.toMatch(/<(link|img|iframe|object|embed|base)\b/i);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/@import|url\(|https?:\/\//i);
    expect(html.match(/<script\b/gi)).toHaveLength(1);
    // Data only ever goes in as text (view-dom.ts has no way to parse HTML); no code is made from strings.
    expect(html).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
  });

  it("refuses the view, saying why, when the answer budget is set below its size", async () => {
    const client = await connect({ apps: true, maxAnswerBytes: 20_000 });
    await expect(client.readResource({ uri: WATERFALL_URI })).rejects.toThrow(/over the answer budget of 20000 \(TRACE_DOCTOR_MAX_ANSWER_BYTES\)/);
  });

  it("gives a client without MCP Apps exactly the same tools and answers as one with it", async () => {
    const [apps, plain] = await Promise.all([connect({ apps: true }), connect({ apps: false })]);
    expect(await plain.listTools()).toEqual(await apps.listTools());
    const calls: Array<[string, Record<string, unknown>]> = [
      ["get_trace", { job_id: ex.immediateFailureJobId }],
      ["get_trace", { trace_id: ex.successTraceId, max_spans: 3 }],
      ["get_trace", { trace_id: ex.successTraceId, focus_span_id: "no-such-span" }],
      ["find_gaps", { job_id: ex.immediateFailureJobId }],
      ["compare_executions", { job_id: ex.slowHandoffJobId }],
      ["compare_executions", { job_id: ex.immediateFailureJobId }],
      ["compare_executions", { trace_id: ex.successTraceId, baseline_trace_id: ex.linkedByJobIdRunnerTraceId }],
    ];
    for (const [name, args] of calls) {
      const [a, p] = await Promise.all([apps.callTool({ name, arguments: args }), plain.callTool({ name, arguments: args })]);
      expect(p.content).toEqual(a.content);
      expect(p.structuredContent).toEqual(a.structuredContent);
      expect(p.isError).toEqual(a.isError);
      // The view is declared in tools/list, never carried in answers.
      expect(a._meta?.ui).toBeUndefined();
    }
  });
});
