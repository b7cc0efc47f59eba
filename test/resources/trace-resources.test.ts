// The trace resources through a real MCP client, on PGlite and Postgres with the demo day:
// trace://{trace_id} (template, list, completion, read, truncation, unknown ids) and the table contract.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { generateDemoDataset, type DemoManifest, type DemoSpanRow } from "../../src/demo/demo-dataset.js";
import { RESOURCE_NOT_FOUND, registerTraceResources, TABLE_CONTRACT_URI, traceUri, type TraceResource } from "../../src/resources/trace-resources.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans } from "../../src/store/span-writer.js";
import { backends, type TestDatabase } from "../support/test-databases.js";

async function connect(spans: SpanTable, maxTraceSpans: number): Promise<{ client: Client; close: () => Promise<void> }> {
  const server = new McpServer({ name: "resource-test", version: "1" });
  registerTraceResources(server, spans, { maxTraceSpans });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: "resource-test-client", version: "1" });
  await client.connect(clientSide);
  return {
    client,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

function textOf(result: { contents: Array<{ uri: string; mimeType?: string; text?: unknown }> }): string {
  const [content] = result.contents;
  return typeof content?.text === "string" ? content.text : "";
}

describe.each(await backends())("trace resources on $name", ({ open }) => {
  let db: TestDatabase;
  let rows: DemoSpanRow[];
  let manifest: DemoManifest;
  let spans: SpanTable;
  let client: Client;
  let close: () => Promise<void>;

  beforeAll(async () => {
    db = await open();
    await applySchema(db.writer, db.table());
    const data = generateDemoDataset({ now: new Date() });
    rows = data.rows;
    manifest = data.manifest;
    await insertSpans(db.writer, rows, db.table());
    spans = new SpanTable(db.reader, db.table(), ["job_id"]);
    ({ client, close } = await connect(spans, 20_000));
  });
  afterAll(async () => {
    await close?.();
    await db?.close();
  });

  it("lists the trace template and the table contract", async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates).toEqual([expect.objectContaining({ uriTemplate: "trace://{trace_id}", name: "trace", mimeType: "application/json" })]);
    const { resources } = await client.listResources();
    expect(resources).toContainEqual(expect.objectContaining({ uri: TABLE_CONTRACT_URI, mimeType: "text/markdown" }));
    const traces = resources.filter((r) => r.uri.startsWith("trace://"));
    expect(traces.length).toBeGreaterThan(0);
    expect(traces.length).toBeLessThanOrEqual(20);
    expect(new Set(traces.map((t) => t.uri)).size).toBe(traces.length);
    const failing = new Set(rows.filter((r) => ["failed", "error", "timeout"].includes(r.status)).map((r) => traceUri(r.trace_id)));
    for (const t of traces) expect(failing.has(t.uri)).toBe(true);
    expect(traces[0]!.description).toMatch(/^Failing trace: job_id=bias-detection-\d+ \S+\.\S+ \w+ at \d{4}-/);
  });

  it("reads a successful trace as normalised JSON", async () => {
    const id = manifest.examples.successTraceId;
    const result = await client.readResource({ uri: `trace://${id}` });
    expect(result.contents[0]).toMatchObject({ uri: `trace://${id}`, mimeType: "application/json" });
    const trace = JSON.parse(textOf(result)) as TraceResource;
    const own = rows.filter((r) => r.trace_id === id);
    expect(trace).toMatchObject({ trace_id: id, span_count: own.length, truncated: false, span_limit: 20_000 });
    expect(trace.spans.map((s) => s.span_id).sort()).toEqual(own.map((r) => r.span_id).sort());
    expect(trace.spans.map((s) => s.started_at)).toEqual([...trace.spans.map((s) => s.started_at)].sort());
    const root = trace.spans.find((s) => s.parent_span_id === undefined)!;
    expect(root).toMatchObject({ service: "runner", operation: "execute_question", status: "completed" });
    expect(root.metadata).toMatchObject({ job_id: manifest.examples.successJobId });
    for (const s of trace.spans) {
      expect(Object.keys(s).every((k) => ["trace_id", "span_id", "parent_span_id", "service", "operation", "status", "started_at", "duration_ms", "error", "metadata"].includes(k))).toBe(true);
      const row = own.find((r) => r.span_id === s.span_id)!;
      expect(s.started_at).toBe(row.started_at);
      if (row.duration_ms !== null) expect(s.duration_ms).toBe(row.duration_ms);
    }
  });

  it("reads the 13 ms failure: runner spans only, failed, with the error", async () => {
    const trace = JSON.parse(textOf(await client.readResource({ uri: `trace://${manifest.examples.immediateFailureTraceId}` }))) as TraceResource;
    expect(trace.spans.map((s) => `${s.service}.${s.operation}`)).toEqual(["runner.execute_question", "runner.call_router"]);
    expect(trace.spans[0]).toMatchObject({ status: "failed", duration_ms: 13, error: "execution failed" });
    expect(trace.note).toMatch(/data written by the monitored services/);
  });

  it("cuts a trace at maxTraceSpans and says so", async () => {
    const small = await connect(spans, 3);
    try {
      const trace = JSON.parse(textOf(await small.client.readResource({ uri: `trace://${manifest.examples.successTraceId}` }))) as TraceResource;
      expect(trace).toMatchObject({ span_count: 3, truncated: true, span_limit: 3 });
      expect(trace.spans).toHaveLength(3);
      expect(trace.note).toMatch(/Cut at the first 3 spans/);
    } finally {
      await small.close();
    }
  });

  it("answers an unknown trace with a resource-not-found error that suggests what to read", async () => {
    const err = await client.readResource({ uri: "trace://no-such-trace" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(McpError);
    expect((err as McpError).code).toBe(RESOURCE_NOT_FOUND);
    expect((err as McpError).message).toMatch(/No spans have trace_id "no-such-trace"/);
    expect((err as McpError).message).toMatch(/Recent failing traces: \S+ \(\w+\.\w+ \w+\)/);
  });

  it("recognises a job id given as a trace id", async () => {
    const job = manifest.examples.immediateFailureJobId;
    const err = (await client.readResource({ uri: `trace://${job}` }).catch((e: unknown) => e)) as McpError;
    expect(err.code).toBe(RESOURCE_NOT_FOUND);
    expect(err.message).toContain(`It is the job_id of trace(s) ${manifest.examples.immediateFailureTraceId}`);
    expect(err.message).toContain(`get_trace with job_id=${job}`);
  });

  it("completes trace_id with recent failing traces", async () => {
    const trace = manifest.examples.immediateFailureTraceId;
    const { completion } = await client.complete({ ref: { type: "ref/resource", uri: "trace://{trace_id}" }, argument: { name: "trace_id", value: trace.slice(0, 5) } });
    expect(completion.values).toContain(trace);
    expect(completion.values.length).toBeLessThanOrEqual(20);
    const none = await client.complete({ ref: { type: "ref/resource", uri: "trace://{trace_id}" }, argument: { name: "trace_id", value: manifest.examples.successTraceId } });
    expect(none.completion.values).toEqual([]);
  });

  it("reads the table contract: schema.sql, the variants, what failure means, this server's table", async () => {
    const result = await client.readResource({ uri: TABLE_CONTRACT_URI });
    expect(result.contents[0]).toMatchObject({ uri: TABLE_CONTRACT_URI, mimeType: "text/markdown" });
    const text = textOf(result);
    expect(text).toContain("CREATE TABLE IF NOT EXISTS trace_spans");
    expect(text).toContain("trace_spans_failures_idx");
    expect(text).toMatch(/`uuid`/);
    expect(text).toMatch(/derived from completed_at/);
    expect(text).toMatch(/status `failed`, `error` or `timeout`, in any case/);
    expect(text).toMatch(/still `started`.*10 min/s);
    expect(text).toContain(`This server reads \`${db.table()}\``);
    expect(text).toContain("correlation keys (metadata) joining hops across traces: job_id");
  });

  it("keeps resources/list working when the table is missing", async () => {
    const broken = await connect(new SpanTable(db.reader, db.table("no_such_table"), ["job_id"]), 100);
    try {
      const { resources } = await broken.client.listResources();
      expect(resources.map((r) => r.uri)).toEqual([TABLE_CONTRACT_URI]);
      expect(textOf(await broken.client.readResource({ uri: TABLE_CONTRACT_URI }))).toMatch(/cannot use it: No table/);
      const err = (await broken.client.readResource({ uri: "trace://abc" }).catch((e: unknown) => e)) as McpError;
      expect(err.code).toBe(RESOURCE_NOT_FOUND);
      expect(err.message).toMatch(/Cannot read trace abc: No table/);
    } finally {
      await broken.close();
    }
  });
});
