// tools/list as the SDK answers it for this server's tools, raw as it goes over the wire. The build
// puts it in the bundle, so that the built server answers tools/list without converting every
// tool's zod schemas to JSON Schema first (server.ts); tests compare the built server's answer with
// this one.

import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { createServer } from "./server.js";
import { SpanTable } from "./store/span-table.js";

/** The `result` of tools/list, from a server on a table that is never read (listing reads nothing). */
export async function servedToolList(): Promise<unknown> {
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
  await ask(1, "initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "build", version: "1" } });
  await client.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  const list = await ask(2, "tools/list");
  await server.close();
  return list;
}
