// What the built server answers without its SDK: tools/list as the SDK answers it for this server's
// tools, with the output schemas as listed (tools/listed-schema.ts), and the parts of the initialize
// answer that never change (capabilities, server info, the protocol versions the SDK speaks). The
// build puts both in the bundle: the server answers tools/list without converting every tool's zod
// schemas to JSON Schema (server.ts), and a stdio server answers initialize and tools/list before the
// SDK has loaded (cli/stdio-front.ts). Tests compare the built server's answers with these.

import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { BuiltInitialize } from "./built-answers.js";
import { createServer } from "./server.js";
import { SpanTable } from "./store/span-table.js";
import { listedTools } from "./tools/listed-schema.js";

/** The `result` of tools/list as the built server answers it: the SDK's, with the output schemas as listed. */
export async function servedToolList(): Promise<unknown> {
  return listedTools((await sdkAnswers()).toolList as { tools: Array<{ outputSchema?: Record<string, unknown> }> });
}

/** What the built server answers to initialize, less the instructions (they depend on the settings). */
export async function servedInitialize(): Promise<BuiltInitialize> {
  const { initialize } = await sdkAnswers();
  const { capabilities, serverInfo } = initialize as Pick<BuiltInitialize, "capabilities" | "serverInfo">;
  return { capabilities, serverInfo, protocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS], latestProtocolVersion: LATEST_PROTOCOL_VERSION };
}

let answers: Promise<{ initialize: unknown; toolList: unknown }> | null = null;

/** The SDK's answers to initialize and tools/list (asked once: the tools do not change). */
export function sdkAnswers(): Promise<{ initialize: unknown; toolList: unknown }> {
  answers ??= askSdk();
  return answers;
}

/** The SDK's answers to initialize and tools/list, from a server on a table that is never read (neither reads it). */
async function askSdk(): Promise<{ initialize: unknown; toolList: unknown }> {
  const unread = { label: "no database", query: () => Promise.reject(new Error("not read")), close: async () => {} };
  const server = createServer(
    {
      spans: new SpanTable(unread, "trace_spans", ["job_id"], {}),
      dataSource: { kind: "postgres", label: unread.label },
      settings: { maxTraceSpans: 1, immediateMs: 1, unfinishedAfterMs: 1, jobTagKeys: ["job_id"] },
      sentry: { client: null, missing: [], source: "none" },
    },
    (s) => s,
    { servedToolList: "computed" },
  );
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  const answers = new Map<number, JSONRPCMessage>();
  client.onmessage = (m) => {
    if ("id" in m && typeof m.id === "number") answers.set(m.id, m);
  };
  await server.connect(serverSide);
  await client.start();
  const ask = async (id: number, method: string, params?: Record<string, unknown>) => {
    await client.send({ jsonrpc: "2.0", id, method, ...(params ? { params } : {}) });
    for (let i = 0; i < 100 && !answers.has(id); i++) await new Promise((r) => setTimeout(r, 1));
    const answer = answers.get(id) as { result?: unknown } | undefined;
    if (!answer?.result) throw new Error(`no answer to ${method}: ${JSON.stringify(answer)}`);
    return answer.result;
  };
  const initialize = await ask(1, "initialize", { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "build", version: "1" } });
  await client.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  const toolList = await ask(2, "tools/list");
  await server.close();
  return { initialize, toolList };
}
