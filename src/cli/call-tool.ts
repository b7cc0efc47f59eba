// `trace-doctor call <tool> '<json arguments>'`: one tool, run from a script or a CI job with no MCP
// client of its own. The real server answers over an in-memory MCP link; the structured result is
// printed as JSON (or the text view with --text). Exit 0 for a result, 1 for a tool error, 2 for bad usage.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Config } from "../config.js";
import { openRuntime } from "../runtime.js";
import { createServer } from "../server.js";
import { TOOLS } from "../tools/index.js";
import { ERROR_META_KEY } from "../tools/tool-result.js";

/** The command line asked for something that does not exist or cannot be read. */
export class CallUsageError extends Error {}

export interface CallOutcome {
  /** What goes to stdout. */
  stdout: string;
  exitCode: 0 | 1 | 2;
}

export function parseCallArguments(tool: string | undefined, json: string | undefined): { tool: string; args: Record<string, unknown> } {
  const names = TOOLS.map((t) => t.name);
  if (!tool) throw new CallUsageError(`call needs a tool name: one of ${names.join(", ")}.`);
  if (!names.includes(tool)) throw new CallUsageError(`No tool ${JSON.stringify(tool)}: the tools are ${names.join(", ")}.`);
  if (json === undefined || json.trim() === "") return { tool, args: {} };
  let args: unknown;
  try {
    args = JSON.parse(json);
  } catch (err) {
    throw new CallUsageError(`The arguments are not JSON (${(err as Error).message}): give one JSON object, e.g. '{"job_id": "bias-detection-1761135900618"}'.`);
  }
  if (!args || typeof args !== "object" || Array.isArray(args)) throw new CallUsageError("The arguments must be one JSON object, e.g. '{\"trace_id\": \"…\"}'.");
  return { tool, args: args as Record<string, unknown> };
}

export async function callTool(config: Config, tool: string, args: Record<string, unknown>, options: { text: boolean }): Promise<CallOutcome> {
  const runtime = await openRuntime(config);
  const server = createServer(runtime.context);
  const client = new Client({ name: "trace-doctor-call", version: "1.0.0" });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  try {
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    const result = (await client.callTool({ name: tool, arguments: args }, undefined, { timeout: config.requestTimeoutMs + 5000 })) as CallToolResult;
    const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
    if (result.isError) {
      const { code, source } = (result._meta?.[ERROR_META_KEY] as { code?: string; source?: string } | undefined) ?? {};
      // Arguments the tool's schema refuses are bad usage, like an unknown tool.
      const usage = source === "schema";
      return { stdout: options.text ? `${text}\n` : `${JSON.stringify({ error: { code: code ?? "bad_input", message: text } }, null, 2)}\n`, exitCode: usage ? 2 : 1 };
    }
    return { stdout: options.text ? `${text}\n` : `${JSON.stringify(result.structuredContent, null, 2)}\n`, exitCode: 0 };
  } finally {
    await client.close().catch(() => {});
    await server.close().catch(() => {});
    await runtime.close();
  }
}
