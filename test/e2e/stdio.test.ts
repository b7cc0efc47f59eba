// End to end: the built server (dist/index.js) spawned over stdio and driven by the SDK's real
// Client — on the embedded demo database, and on real Postgres with DATABASE_URL set.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import pg from "pg";
import { readDemoManifest } from "../../src/demo/demo-database.js";
import { generateDemoDataset } from "../../src/demo/demo-dataset.js";
import { startSentryApiServer } from "../../src/demo/sentry-api-server.js";
import { demoSentryFixtures } from "../../src/demo/sentry-demo-fixtures.js";
import { applySchema, insertSpans } from "../../src/store/span-writer.js";
import { TOOLS } from "../../src/tools/index.js";
import { copyDemoDatabase } from "../support/demo-copy.js";
import { requirePostgresOrSkip, TEST_DATABASE_URL } from "../support/test-databases.js";

const SERVER = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "DATABASE_URL" && !k.startsWith("TRACE_DOCTOR_") && !k.startsWith("SENTRY_")) env[k] = v;
  return { ...env, ...extra };
}

async function connect(env: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "e2e", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [SERVER], env: baseEnv(env), stderr: "pipe" }));
  return fullSchemaChecked(client);
}

/**
 * tools/list names the output fields without typing them (src/tools/listed-schema.ts), so the SDK
 * client's own check of an answer is no check: every answer of the built server is parsed here with
 * its tool's full output schema.
 */
function fullSchemaChecked(client: Client): Client {
  const call = client.callTool.bind(client);
  client.callTool = (async (params, ...rest) => {
    const result = (await call(params, ...rest)) as CallToolResult;
    const tool = TOOLS.find((t) => t.name === params.name);
    if (tool && !result.isError) tool.outputSchema.parse(result.structuredContent);
    return result;
  }) as typeof client.callTool;
  return client;
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");

describe("stdio server on the embedded demo database", () => {
  const demo = copyDemoDatabase();
  const demoDir = demo.dir;
  let client: Client;
  beforeAll(async () => {
    client = await connect({ TRACE_DOCTOR_DEMO_DIR: demoDir });
  });
  afterAll(async () => {
    await client?.close();
    demo.remove();
  });

  it("says it is serving demo data, in its instructions", () => {
    expect(client.getInstructions()).toMatch(/DEMO DATA/);
  });

  it("lists get_trace with input and output schemas and a description for a model", async () => {
    const { tools } = await client.listTools();
    const tool = tools.find((t) => t.name === "get_trace")!;
    expect(tool).toBeDefined();
    expect(Object.keys(tool.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(["trace_id", "job_id", "max_spans", "focus_span_id"]));
    expect(tool.outputSchema?.properties).toHaveProperty("spans");
    expect(tool.description).toMatch(/Use it when/);
    expect(tool.annotations?.readOnlyHint).toBe(true);
  });

  it("answers get_trace by job_id and by trace_id on the seeded data", async () => {
    const manifest = readDemoManifest(demoDir)!;
    expect(manifest).not.toBeNull();
    const byJob = (await client.callTool({ name: "get_trace", arguments: { job_id: manifest.examples.immediateFailureJobId } })) as CallToolResult;
    expect(byJob.isError).toBeFalsy();
    expect(byJob.structuredContent).toMatchObject({ services: ["runner"], duration_ms: 13 });
    const byTrace = (await client.callTool({ name: "get_trace", arguments: { trace_id: manifest.examples.successTraceId } })) as CallToolResult;
    expect(byTrace.structuredContent).toMatchObject({ services: ["runner", "router", "modal"], span_count: 6 });
    expect(text(byTrace)).toMatch(/modal\.run_inference ok/);
  });

  it("lists all tools", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(["compare_executions", "diagnose", "find_gaps", "get_trace", "list_failed_spans", "sentry_issue_context"]);
    for (const t of tools) expect(t.outputSchema, t.name).toBeDefined();
  });

  it("list_failed_spans singles out the 13 ms cluster and what sets it apart", async () => {
    const r = (await client.callTool({ name: "list_failed_spans", arguments: { service: "runner", operation: "execute_question" } })) as CallToolResult;
    expect(r.isError).toBeFalsy();
    const out = r.structuredContent as { clusters: Array<{ shape: string; count: number; duration_ms?: { p50: number }; distinguishing?: Array<{ key: string; value: string }> }> };
    const immediate = out.clusters.find((c) => c.shape === "immediate")!;
    expect(immediate).toBeDefined();
    expect(immediate.duration_ms!.p50).toBeLessThan(20);
    const apart = immediate.distinguishing!.map((d) => `${d.key}=${d.value}`);
    expect(apart).toEqual(expect.arrayContaining(["region=US", "provider_id=modal-us-east", "model=llama3.2-1b"]));
    expect(text(r)).toMatch(/immediate: 95% end within/);
  });

  it("find_gaps says the router hop is missing for the 13 ms job", async () => {
    const manifest = readDemoManifest(demoDir)!;
    const r = (await client.callTool({ name: "find_gaps", arguments: { job_id: manifest.examples.immediateFailureJobId } })) as CallToolResult;
    expect(r.isError).toBeFalsy();
    const out = r.structuredContent as { findings: Array<{ kind: string; severity: string; missing?: string[] }> };
    expect(out.findings[0]).toMatchObject({ kind: "missing_hop", severity: "high" });
    expect(out.findings[0]!.missing![0]).toBe("router.inference_request");
    expect(text(r)).toMatch(/never reached router/);
  });

  it("sentry_issue_context works offline on the demo's Sentry stand-in, joined to the demo spans", async () => {
    expect(client.getInstructions()).toMatch(/Sentry: DEMO data/);
    const manifest = readDemoManifest(demoDir)!;
    const r = (await client.callTool({ name: "sentry_issue_context", arguments: { job_id: manifest.examples.immediateFailureJobId } })) as CallToolResult;
    expect(r.isError, text(r)).toBeFalsy();
    const out = r.structuredContent as {
      issue: { title: string; short_id: string };
      event: { contexts: { execution: Record<string, unknown> } };
      spans: { trace_ids: string[] };
    };
    expect(out.issue).toMatchObject({ title: "Execution failed", short_id: "RUNNER-1A" });
    expect(out.event.contexts.execution).toMatchObject({ job_id: manifest.examples.immediateFailureJobId, duration_ms: 13, has_output: false });
    expect(out.spans.trace_ids).toEqual([manifest.examples.immediateFailureTraceId]);
    expect(text(r)).toMatch(/--- end of event data ---/);
  });

  it("serves the prompts, fetched with arguments and completed from live data", async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual(["diagnose_failure", "investigate_immediate_failures", "investigate_latency", "triage_recent_failures"]);
    const manifest = readDemoManifest(demoDir)!;
    const got = await client.getPrompt({ name: "diagnose_failure", arguments: { job_id: manifest.examples.immediateFailureJobId } });
    const body = got.messages.map((m) => (m.content.type === "text" ? m.content.text : "")).join("\n");
    expect(body).toContain(manifest.examples.immediateFailureJobId);
    expect(body).toMatch(/Root cause/);
    const done = await client.complete({ ref: { type: "ref/prompt", name: "diagnose_failure" }, argument: { name: "job_id", value: "bias-detection-" } });
    expect(done.completion.values.length).toBeGreaterThan(0);
    expect(done.completion.values.every((v) => v.startsWith("bias-detection-"))).toBe(true);
    const regions = await client.complete({ ref: { type: "ref/prompt", name: "triage_recent_failures" }, argument: { name: "service", value: "r" } });
    expect(regions.completion.values).toEqual(expect.arrayContaining(["router", "runner"]));
  });

  it("diagnose ranks immediate_caller_failure first for the 13 ms job, with localized_outage behind it", async () => {
    const manifest = readDemoManifest(demoDir)!;
    const r = (await client.callTool({ name: "diagnose", arguments: { job_id: manifest.examples.immediateFailureJobId } })) as CallToolResult;
    expect(r.isError, text(r)).toBeFalsy();
    const out = r.structuredContent as { hypotheses: Array<{ kind: string; evidence: Array<{ type: string; id: string }> }> };
    expect(out.hypotheses.map((h) => h.kind).slice(0, 2)).toEqual(["immediate_caller_failure", "localized_outage"]);
    expect(out.hypotheses[0]!.evidence.some((e) => e.type === "sentry_event")).toBe(true);
  });

  it("reads a trace as a resource", async () => {
    const manifest = readDemoManifest(demoDir)!;
    const res = await client.readResource({ uri: `trace://${manifest.examples.successTraceId}` });
    const json = JSON.parse((res.contents[0] as { text: string }).text) as { spans: unknown[] };
    expect(json.spans).toHaveLength(6);
    const contract = await client.readResource({ uri: "trace-doctor://table-contract" });
    expect((contract.contents[0] as { text: string }).text).toMatch(/CREATE TABLE IF NOT EXISTS trace_spans/);
  });

  it("turns bad input into isError results and keeps running", async () => {
    const wrongType = (await client.callTool({ name: "get_trace", arguments: { trace_id: 42 } })) as CallToolResult;
    expect(wrongType.isError).toBe(true);
    expect(text(wrongType)).toMatch(/trace_id/);
    const tooMany = (await client.callTool({ name: "get_trace", arguments: { trace_id: "x", max_spans: 100000 } })) as CallToolResult;
    expect(tooMany.isError).toBe(true);
    expect(text(tooMany)).toMatch(/max_spans/);
    const neither = (await client.callTool({ name: "get_trace", arguments: {} })) as CallToolResult;
    expect(neither.isError).toBe(true);
    const unknown = (await client.callTool({ name: "get_trace", arguments: { trace_id: "nope" } })) as CallToolResult;
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toMatch(/Recent failing spans/);
    // still alive
    const again = (await client.callTool({ name: "get_trace", arguments: { job_id: readDemoManifest(demoDir)!.examples.successJobId } })) as CallToolResult;
    expect(again.isError).toBeFalsy();
  });
});

describe("stdout carries nothing but the protocol", () => {
  it("every stdout line is a JSON-RPC message, while diagnostics go to stderr", async () => {
    const demo = copyDemoDatabase();
    const child = spawn(process.execPath, [SERVER], { env: baseEnv({ TRACE_DOCTOR_DEMO_DIR: demo.dir }), stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const send = (msg: object) => child.stdin.write(`${JSON.stringify(msg)}\n`);
    send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "get_trace", arguments: { trace_id: "missing" } } });
    send({ jsonrpc: "2.0", id: 4, method: "tools/call", params: { name: "get_trace", arguments: { max_spans: "lots" } } });
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('"id":4') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.stdin.end();
    await new Promise((r) => child.once("exit", r));
    demo.remove();

    const lines = stdout.split("\n").filter((l) => l.trim());
    expect(lines.length).toBe(4);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty("jsonrpc", "2.0");
    expect(stderr).toMatch(/DEMO dataset/);
  });
});

const postgresReady = await requirePostgresOrSkip();

describe.runIf(postgresReady)("stdio server on Postgres (DATABASE_URL)", () => {
  const schema = `td_e2e_${process.pid}`;
  const admin = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  let client: Client;
  let manifest: ReturnType<typeof generateDemoDataset>["manifest"];
  let rows: ReturnType<typeof generateDemoDataset>["rows"];
  beforeAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
    await applySchema(admin, `${schema}.trace_spans`);
    const data = generateDemoDataset({ now: new Date() });
    manifest = data.manifest;
    rows = data.rows;
    await insertSpans(admin, data.rows, `${schema}.trace_spans`);
    client = await connect({ DATABASE_URL: TEST_DATABASE_URL!, TRACE_DOCTOR_TABLE: `${schema}.trace_spans` });
  });
  afterAll(async () => {
    await client?.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it("reads the user's table, not demo data", () => {
    expect(client.getInstructions()).not.toMatch(/DEMO DATA/);
    expect(client.getInstructions()).toMatch(/Postgres at 127\.0\.0\.1/);
  });

  it("returns trees by job_id and by trace_id", async () => {
    const byJob = (await client.callTool({ name: "get_trace", arguments: { job_id: manifest.examples.linkedByJobIdJobId } })) as CallToolResult;
    expect(byJob.structuredContent).toMatchObject({ services: ["runner", "router", "modal"] });
    expect((byJob.structuredContent as { trace_ids: string[] }).trace_ids).toHaveLength(2);
    const byTrace = (await client.callTool({ name: "get_trace", arguments: { trace_id: manifest.examples.immediateFailureTraceId } })) as CallToolResult;
    expect(byTrace.structuredContent).toMatchObject({ services: ["runner"], status_counts: { failed: 2 } });
  });

  it("says which Sentry settings are missing, and the span tools are unaffected", async () => {
    const r = (await client.callTool({ name: "sentry_issue_context", arguments: { issue: "RUNNER-1A" } })) as CallToolResult;
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/Sentry is not configured: set SENTRY_AUTH_TOKEN \(or SENTRY_ACCESS_TOKEN\) and SENTRY_ORG/);
    expect(client.getInstructions()).toMatch(/Sentry: not configured/);
  });

  it("reads Sentry over HTTP from SENTRY_URL and joins its events to the Postgres spans", async () => {
    const sentry = await startSentryApiServer({ fixtures: demoSentryFixtures(rows, { org: "project-beacon" }), token: "test-token-123" });
    const c = await connect({
      DATABASE_URL: TEST_DATABASE_URL!,
      TRACE_DOCTOR_TABLE: `${schema}.trace_spans`,
      SENTRY_URL: sentry.url,
      SENTRY_ACCESS_TOKEN: "test-token-123",
      SENTRY_ORG: "project-beacon",
    });
    try {
      const r = (await c.callTool({ name: "sentry_issue_context", arguments: { job_id: manifest.examples.immediateFailureJobId } })) as CallToolResult;
      expect(r.isError, text(r)).toBeFalsy();
      expect(r.structuredContent).toMatchObject({ sentry: { org: "project-beacon" }, spans: { trace_ids: [manifest.examples.immediateFailureTraceId] } });
      expect(sentry.requests.every((q) => q.authorization === "Bearer test-token-123")).toBe(true);
      expect(text(r)).not.toContain("test-token-123");
    } finally {
      await c.close();
      await sentry.close();
    }
  });

  it("never shows the connection password, even in errors", async () => {
    const c = await connect({ DATABASE_URL: "postgres://postgres:hunter2@127.0.0.1:1/none", TRACE_DOCTOR_TABLE: "trace_spans" });
    const r = (await c.callTool({ name: "get_trace", arguments: { trace_id: "x" } })) as CallToolResult;
    await c.close();
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/Cannot connect to Postgres at 127\.0\.0\.1:1/);
    expect(text(r)).not.toContain("hunter2");
  });
});
