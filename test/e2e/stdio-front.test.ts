// The stdio front (src/cli/stdio-front.ts): initialize, tools/list and ping answered before the SDK
// has loaded, exactly as the SDK answers them, and everything else handed to the real SDK server
// (createServer) once it has, in order, with nothing answered twice and nothing lost; and once
// loaded, the common tools/call answered by the tool caller (tools/tool-caller.ts) with the answer
// the SDK gives, refusals and calls with a progress token left to the SDK, a cancelled call not
// answered. Streams in memory, the load held back by the test; the built server's own front is tested
// in stdio.test.ts and cold-start.test.ts.

import { PassThrough } from "node:stream";
import { JSONRPCMessageSchema, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { StdioFront, type FrontedServer } from "../../src/cli/stdio-front.js";
import { createToolCaller, type ToolCaller } from "../../src/tools/tool-caller.js";
import { applySchema, insertSpans, type SpanRowInput } from "../../src/store/span-writer.js";
import type { ReadOnlyDatabase } from "../../src/store/database.js";
import { openPglite, type TestDatabase } from "../support/test-databases.js";
import { instructionsFor } from "../../src/instructions.js";
import { createServer, type ServerContext } from "../../src/server.js";
import { SpanTable } from "../../src/store/span-table.js";
import { sdkAnswers, servedInitialize, servedToolList } from "../../src/tool-list.js";

const unread = { label: "Postgres at db.example:5432/spans", query: () => Promise.reject(new Error("not read")), close: async () => {} };
const context: ServerContext = {
  spans: new SpanTable(unread, "trace_spans", ["job_id"], {}),
  dataSource: { kind: "postgres", label: unread.label },
  settings: { maxTraceSpans: 100, immediateMs: 50, unfinishedAfterMs: 60_000, jobTagKeys: ["job_id"] },
  sentry: { client: null, missing: ["SENTRY_ORG"], source: "none" },
};
const [initialize, toolList] = await Promise.all([servedInitialize(), servedToolList()]);

interface Harness {
  send(message: object | string): void;
  /** Every message written so far, parsed. */
  out: Array<{ id?: unknown; result?: unknown; error?: unknown; method?: string }>;
  /** Resolves the SDK's load; until then the front answers alone. */
  release(): void;
  loadAsked: () => boolean;
  mismatches: unknown[];
  front: StdioFront;
  until(check: () => boolean): Promise<void>;
}

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** The harness's server: this context, and a tool caller once loaded when `direct` says so. */
interface HarnessOptions {
  context?: ServerContext;
  direct?: boolean;
  /** In place of the real caller. */
  caller?: ToolCaller;
}

function harness(options: HarnessOptions = {}): Harness & { directAnswers: () => number } {
  const ctx = options.context ?? context;
  const input = new PassThrough();
  const output = new PassThrough();
  const out: Harness["out"] = [];
  let buffer = "";
  output.setEncoding("utf8");
  output.on("data", (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
      out.push(JSON.parse(buffer.slice(0, nl)));
      buffer = buffer.slice(nl + 1);
    }
  });
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let asked = false;
  const mismatches: unknown[] = [];
  const server = createServer(ctx);
  closers.push(() => server.close());
  let direct = 0;
  const inner = options.caller ?? (options.direct ? createToolCaller(ctx) : null);
  const caller: ToolCaller | undefined = inner
    ? {
        direct(params, signal) {
          const answer = inner.direct(params, signal);
          if (answer) direct++;
          return answer;
        },
      }
    : undefined;
  const front = new StdioFront({
    input,
    output,
    answers: { ...initialize, toolList: JSON.stringify(toolList) },
    instructions: instructionsFor(ctx),
    load: async () => {
      asked = true;
      await released;
      return { server: server as unknown as FrontedServer, parse: (m) => JSONRPCMessageSchema.parse(m) };
    },
    // The caller loads on its own, before the SDK, as the built server's does.
    loadCaller: async () => caller ?? null,
    onMismatch: (a, b) => mismatches.push({ front: a, sdk: b }),
    onLoadError: (err) => {
      throw err;
    },
    onEnd: () => {},
  });
  front.start();
  return {
    send: (m) => input.write(`${typeof m === "string" ? m : JSON.stringify({ jsonrpc: "2.0", ...m })}\n`),
    out,
    release,
    loadAsked: () => asked,
    mismatches,
    front,
    directAnswers: () => direct,
    async until(check) {
      for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 2));
      if (!check()) throw new Error(`timed out; written: ${JSON.stringify(out).slice(0, 500)}`);
    },
  };
}

const init = (id: number | string, protocolVersion: string = LATEST_PROTOCOL_VERSION) => ({
  id,
  method: "initialize",
  params: { protocolVersion, capabilities: {}, clientInfo: { name: "front-test", version: "1" } },
});
const answerTo = (h: Harness, id: unknown) => h.out.filter((m) => m.id === id && m.method === undefined);

describe("the stdio front", () => {
  it("answers initialize and tools/list before the SDK loads, as the SDK answers them", async () => {
    const h = harness();
    h.send(init(1));
    await h.until(() => answerTo(h, 1).length === 1);
    h.send({ method: "notifications/initialized" });
    h.send({ id: 2, method: "tools/list" });
    await h.until(() => answerTo(h, 2).length === 1);
    expect(h.front.handedOver).toBe(false);
    const sdk = await sdkAnswers();
    expect(answerTo(h, 1)[0]!.result).toEqual({ ...(sdk.initialize as object), instructions: instructionsFor(context) });
    expect(answerTo(h, 2)[0]!.result).toEqual(toolList);
    // tools/list answered: loading starts; once loaded, the SDK has the conversation and nothing twice.
    await h.until(h.loadAsked);
    h.release();
    await h.until(() => h.front.handedOver);
    h.send({ id: 3, method: "prompts/list" });
    await h.until(() => answerTo(h, 3).length === 1);
    expect(JSON.stringify(answerTo(h, 3)[0]!.result)).toContain("diagnose_failure");
    expect(answerTo(h, 1)).toHaveLength(1);
    expect(h.mismatches).toEqual([]);
  });

  it.each([...SUPPORTED_PROTOCOL_VERSIONS, "1999-01-01"])("negotiates protocol version %s as the SDK does", async (version) => {
    const h = harness();
    h.send(init("a", version));
    await h.until(() => answerTo(h, "a").length === 1);
    expect((answerTo(h, "a")[0]!.result as { protocolVersion: string }).protocolVersion).toBe(SUPPORTED_PROTOCOL_VERSIONS.includes(version) ? version : LATEST_PROTOCOL_VERSION);
    h.release();
    await h.until(() => h.front.handedOver);
    expect(h.mismatches).toEqual([]);
  });

  it("keeps what it cannot answer, in order, starts loading at once, and the SDK answers it after the hand-over", async () => {
    const h = harness();
    h.send(init(1));
    h.send({ method: "notifications/initialized" });
    h.send({ id: 2, method: "resources/list" });
    h.send({ id: 3, method: "ping" });
    h.send({ id: 4, method: "tools/call", params: { name: "get_trace", arguments: {} } });
    await h.until(() => answerTo(h, 3).length === 1);
    await h.until(h.loadAsked);
    expect(answerTo(h, 2)).toEqual([]);
    expect(answerTo(h, 4)).toEqual([]);
    h.release();
    await h.until(() => answerTo(h, 2).length === 1 && answerTo(h, 4).length === 1);
    expect(JSON.stringify(answerTo(h, 2)[0]!.result)).toContain("trace-doctor://table-contract");
    // get_trace without an id: the tool's own bad_input answer, from the SDK side.
    expect(JSON.stringify(answerTo(h, 4)[0]!.result)).toContain("isError");
    expect(answerTo(h, 1)).toHaveLength(1);
  });

  it("leaves a malformed initialize, a request before initialize, a paged tools/list and a line that is not JSON to the SDK", async () => {
    const h = harness();
    h.send({ id: 0, method: "tools/list" });
    h.send({ id: 1, method: "initialize", params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {} } });
    h.send("this is not JSON");
    await h.until(h.loadAsked);
    expect(h.out).toEqual([]);
    h.release();
    await h.until(() => answerTo(h, 1).length === 1);
    expect(answerTo(h, 1)[0]!.error).toBeDefined();
    h.send(init(2));
    h.send({ id: 3, method: "tools/list", params: { cursor: "x" } });
    await h.until(() => answerTo(h, 2).length === 1 && answerTo(h, 3).length === 1);
    expect((answerTo(h, 2)[0]!.result as { serverInfo: unknown }).serverInfo).toEqual(initialize.serverInfo);
  });

  it("starts loading soon after initialize even when tools/list never comes", async () => {
    const h = harness();
    h.send(init(1));
    await h.until(() => answerTo(h, 1).length === 1);
    await h.until(h.loadAsked);
    h.release();
    await h.until(() => h.front.handedOver);
    expect(h.mismatches).toEqual([]);
  });
});

describe("tools/call once the SDK has loaded", () => {
  const NOW = Date.parse("2026-11-20T12:00:00Z");
  const at = (offsetMs: number) => new Date(NOW - 3_600_000 + offsetMs).toISOString();
  const span = (trace: string, id: string, parent: string | null, service: string, operation: string, start: number, end: number, status: string, metadata: Record<string, unknown> = {}, error: string | null = null): SpanRowInput => ({
    trace_id: trace,
    span_id: id,
    parent_span_id: parent,
    service,
    operation,
    started_at: at(start),
    completed_at: at(end),
    duration_ms: end - start,
    status,
    error_message: error,
    metadata,
  });
  const rows: SpanRowInput[] = [
    span("t1", "a", null, "runner", "execute_question", 0, 900, "failed", { job_id: "job-1" }, "router returned 503"),
    span("t1", "b", "a", "runner", "call_router", 10, 13, "failed", {}, "503 Service Unavailable"),
    span("t2", "c", null, "router", "inference_request", 11, 12, "failed", { job_id: "job-1" }, "no provider"),
    span("t3", "d", null, "runner", "execute_question", 2000, 4000, "completed", { job_id: "job-2" }),
    span("t3", "e", "d", "runner", "call_router", 2010, 3900, "completed"),
  ];
  let db: TestDatabase;
  let spansContext: ServerContext;
  beforeAll(async () => {
    db = await openPglite();
    await applySchema(db.writer, db.table());
    await insertSpans(db.writer, rows, db.table());
    spansContext = { ...context, spans: new SpanTable(db.reader, db.table(), ["job_id"], {}), dataSource: { kind: "postgres", label: db.reader.label }, now: () => NOW };
  });
  afterAll(async () => {
    await db?.close();
  });

  async function loaded(options: HarnessOptions) {
    const h = harness({ direct: true, ...options });
    h.send(init(0));
    h.release();
    await h.until(() => h.front.handedOver);
    return h;
  }
  const withProgress = (params: Record<string, unknown>, token: string) => ({ ...params, _meta: { progressToken: token } });

  it("answers the common call itself, with the answer the SDK gives", async () => {
    const h = await loaded({ context: spansContext });
    const calls: Array<Record<string, unknown>> = [
      { name: "get_trace", arguments: { trace_id: "t1" } },
      { name: "get_trace", arguments: { job_id: "job-1", max_spans: 2 } },
      { name: "get_trace", arguments: { trace_id: "job-2" } },
      { name: "find_gaps", arguments: { trace_id: "t1" } },
      { name: "list_failed_spans", arguments: { window: "24h" } },
      { name: "diagnose", arguments: { job_id: "job-1" } },
    ];
    calls.forEach((params, i) => {
      h.send({ id: `d${i}`, method: "tools/call", params });
      // A progress token sends the same call through the SDK's handler.
      h.send({ id: `s${i}`, method: "tools/call", params: withProgress(params, `p${i}`) });
    });
    await h.until(() => calls.every((_, i) => answerTo(h, `d${i}`).length === 1 && answerTo(h, `s${i}`).length === 1));
    expect(h.directAnswers()).toBe(calls.length);
    calls.forEach((_, i) => expect(answerTo(h, `d${i}`)[0], JSON.stringify(calls[i])).toEqual({ ...answerTo(h, `s${i}`)[0], id: `d${i}` }));
    // Real answers, not a shared refusal.
    expect(JSON.stringify(answerTo(h, "d0")[0]!.result)).toContain("503 Service Unavailable");
    expect(JSON.stringify(answerTo(h, "d2")[0]!.result)).toContain("call_router");
  });

  it("leaves to the SDK what it refuses: an unknown tool, arguments the schema rejects, arguments that are not an object", async () => {
    const h = await loaded({ context: spansContext });
    const refused: Array<Record<string, unknown>> = [
      { name: "get_traces", arguments: { trace_id: "t1" } },
      { name: "get_trace", arguments: { trace_id: "t1", max_spans: 0 } },
      { name: "get_trace", arguments: { trace_id: "t1", colour: "red" } },
      { name: "get_trace", arguments: ["t1"] },
    ];
    refused.forEach((params, i) => h.send({ id: i + 1, method: "tools/call", params }));
    await h.until(() => refused.every((_, i) => answerTo(h, i + 1).length === 1));
    const texts = refused.map((_, i) => JSON.stringify(answerTo(h, i + 1)[0]));
    expect(texts[0]).toMatch(/not found.*The tools are/);
    expect(texts[1]).toMatch(/Input validation error/);
    expect(answerTo(h, 4)[0]!.error ?? (answerTo(h, 4)[0]!.result as { isError?: boolean }).isError).toBeTruthy();
    // Unknown keys are not refused by the SDK's (non-strict) schemas: answered, and directly.
    expect((answerTo(h, 3)[0]!.result as { isError?: boolean }).isError).toBeUndefined();
    expect(h.directAnswers()).toBe(1);
  });

  it("does not answer a call the client cancelled, and goes on answering", async () => {
    let hold!: () => void;
    const held = new Promise<void>((r) => (hold = r));
    const slow: ReadOnlyDatabase = { label: db.reader.label, query: async (sql, params) => (await held, db.reader.query(sql, params)), close: async () => {} };
    const h = await loaded({ context: { ...spansContext, spans: new SpanTable(slow, db.table(), ["job_id"], {}) } });
    h.send({ id: 1, method: "tools/call", params: { name: "get_trace", arguments: { trace_id: "t1" } } });
    h.send({ method: "notifications/cancelled", params: { requestId: 1, reason: "the user moved on" } });
    h.send({ id: 2, method: "tools/call", params: { name: "get_trace", arguments: { trace_id: "t3" } } });
    hold();
    await h.until(() => answerTo(h, 2).length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(answerTo(h, 1)).toEqual([]);
    expect(JSON.stringify(answerTo(h, 2)[0]!.result)).toContain("execute_question");
    expect(h.directAnswers()).toBe(2);
  });

  it("answers a call whose caller fails with a JSON-RPC error, as the SDK answers a handler that throws", async () => {
    const h = await loaded({ context: spansContext, caller: { direct: () => Promise.reject(new Error("the caller broke")) } });
    h.send({ id: 1, method: "tools/call", params: { name: "get_trace", arguments: { trace_id: "t1" } } });
    await h.until(() => answerTo(h, 1).length === 1);
    expect(answerTo(h, 1)[0]!.error).toEqual({ code: -32603, message: "Internal error: the caller broke" });
  });

  it("answers tools/call once the tools have loaded, while the SDK is still loading, and keeps the rest for it", async () => {
    const h = harness({ context: spansContext, direct: true });
    h.send(init(0));
    h.send({ method: "notifications/initialized" });
    h.send({ id: 1, method: "tools/call", params: { name: "get_trace", arguments: { trace_id: "t1" } } });
    h.send({ id: 2, method: "prompts/list" });
    h.send({ id: 3, method: "tools/call", params: { name: "get_trace", arguments: { trace_id: "t1", max_spans: 0 } } });
    h.send({ id: 4, method: "tools/call", params: { name: "find_gaps", arguments: { trace_id: "t1" } } });
    await h.until(() => answerTo(h, 1).length === 1 && answerTo(h, 4).length === 1);
    expect(h.front.handedOver).toBe(false);
    expect(JSON.stringify(answerTo(h, 1)[0]!.result)).toContain("503 Service Unavailable");
    // What the caller leaves (a prompt list, a refusal) waits for the SDK, and gets its answer then.
    expect(answerTo(h, 2)).toEqual([]);
    expect(answerTo(h, 3)).toEqual([]);
    h.release();
    await h.until(() => answerTo(h, 2).length === 1 && answerTo(h, 3).length === 1);
    expect(JSON.stringify(answerTo(h, 3)[0]!.result)).toMatch(/Input validation error/);
    h.send({ id: 5, method: "tools/call", params: { name: "get_trace", arguments: { trace_id: "t3" } } });
    await h.until(() => answerTo(h, 5).length === 1);
    expect(h.directAnswers()).toBe(3);
    expect(h.mismatches).toEqual([]);
  });

  it("leaves every call to the SDK when no caller is loaded (telemetry on)", async () => {
    const h = await loaded({ context: spansContext, direct: false });
    h.send({ id: 1, method: "tools/call", params: { name: "get_trace", arguments: { trace_id: "t1" } } });
    await h.until(() => answerTo(h, 1).length === 1);
    expect(JSON.stringify(answerTo(h, 1)[0]!.result)).toContain("503 Service Unavailable");
  });
});
