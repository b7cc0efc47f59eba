// The one in-memory MCP client fixture: a real SDK Client linked to the real server (createServer,
// every tool, prompt and resource) over InMemoryTransport, on a span table the test seeded. Structured
// results are parsed with the tool's own outputSchema, never cast.

import type { z } from "zod";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { IMMEDIATE_MS, UNFINISHED_AFTER_MS } from "../../src/analysis/defaults.js";
import { createServer, type ServerContext } from "../../src/server.js";
import type { SentryIssues } from "../../src/sentry/sentry-client.js";
import type { SpanTable } from "../../src/store/span-table.js";
import type { ToolDefinition, ToolSettings } from "../../src/tools/tool-definition.js";
import { ERROR_META_KEY, type CallLimits } from "../../src/tools/tool-result.js";

export interface ToolClientOptions {
  spans: SpanTable;
  sentry?: SentryIssues | null;
  /** What the server says is missing when sentry is null. */
  sentryMissing?: string[];
  settings?: Partial<ToolSettings>;
  limits?: Partial<CallLimits>;
  now?: () => number;
}

export interface ToolClient {
  client: Client;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** A successful call's structured result, parsed with the tool's outputSchema, and its text. */
  structured<T extends ToolDefinition>(tool: T, args?: Record<string, unknown>): Promise<{ out: z.output<T["outputSchema"]>; text: string; result: CallToolResult }>;
  /** An error result's text and stable code; fails when the call succeeded. */
  error(name: string, args?: Record<string, unknown>): Promise<{ text: string; code: string | undefined }>;
  close(): Promise<void>;
}

export const textOf = (r: { content: Array<{ type: string; text?: string }> }): string =>
  r.content.map((c) => (c.type === "text" ? (c.text ?? "") : "")).join("\n");

export async function connectTools(options: ToolClientOptions): Promise<ToolClient> {
  const context: ServerContext = {
    spans: options.spans,
    dataSource: { kind: "postgres", label: options.spans.label },
    settings: { maxTraceSpans: 20_000, immediateMs: IMMEDIATE_MS, unfinishedAfterMs: UNFINISHED_AFTER_MS, jobTagKeys: ["job_id"], ...options.settings },
    sentry: {
      client: options.sentry ?? null,
      missing: options.sentry ? [] : (options.sentryMissing ?? ["SENTRY_AUTH_TOKEN (or SENTRY_ACCESS_TOKEN)", "SENTRY_ORG"]),
      source: options.sentry ? "sentry" : "none",
    },
    ...(options.now ? { now: options.now } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  };
  const server = createServer(context);
  const client = new Client({ name: "trace-doctor-tests", version: "1.0.0" });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  const call = async (name: string, args: Record<string, unknown> = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult;
  return {
    client,
    call,
    async structured<T extends ToolDefinition>(tool: T, args: Record<string, unknown> = {}) {
      const result = await call(tool.name, args);
      if (result.isError) throw new Error(`${tool.name} ${JSON.stringify(args)} answered an error: ${textOf(result)}`);
      return { out: tool.outputSchema.parse(result.structuredContent) as z.output<T["outputSchema"]>, text: textOf(result), result };
    },
    async error(name, args = {}) {
      const result = await call(name, args);
      if (!result.isError) throw new Error(`${name} ${JSON.stringify(args)} succeeded; an error was expected`);
      const meta = result._meta?.[ERROR_META_KEY] as { code?: string } | undefined;
      return { text: textOf(result), code: meta?.code };
    },
    async close() {
      await client.close();
      await server.close();
    },
  };
}

const shared = new WeakMap<SpanTable, Promise<ToolClient>>();

/** One client per span table with default settings, made on first use: for suites that test many tables. */
export function toolsFor(spans: SpanTable): Promise<ToolClient> {
  let tools = shared.get(spans);
  if (!tools) {
    tools = connectTools({ spans });
    shared.set(spans, tools);
  }
  return tools;
}
