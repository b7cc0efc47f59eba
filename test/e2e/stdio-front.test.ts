// The stdio front (src/cli/stdio-front.ts): initialize, tools/list and ping answered before the SDK
// has loaded, exactly as the SDK answers them, and everything else handed to the real SDK server
// (createServer) once it has, in order, with nothing answered twice and nothing lost. Streams in
// memory, the load held back by the test; the built server's own front is tested in stdio.test.ts and
// cold-start.test.ts.

import { PassThrough } from "node:stream";
import { JSONRPCMessageSchema, LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { StdioFront, type FrontedServer } from "../../src/cli/stdio-front.js";
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

function harness(): Harness {
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
  const server = createServer(context);
  closers.push(() => server.close());
  const front = new StdioFront({
    input,
    output,
    answers: { ...initialize, toolList: JSON.stringify(toolList) },
    instructions: instructionsFor(context),
    load: async () => {
      asked = true;
      await released;
      return { server: server as unknown as FrontedServer, parse: (m) => JSONRPCMessageSchema.parse(m) };
    },
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
