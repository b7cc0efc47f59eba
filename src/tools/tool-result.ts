// The one place a tool's outcome becomes an MCP result: an answer becomes structured content plus its
// text; a typed error becomes an isError result whose text says what happened and what to do next,
// with its stable code in `_meta` — the same failure reads the same in every tool.

import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { TraceDoctorError, type ErrorCode } from "../errors.js";
import { logError } from "../log.js";
import type { ToolAnswer } from "./tool-definition.js";

export const ERROR_META_KEY = "trace-doctor/error";

export function resultOf(answer: ToolAnswer<unknown>): CallToolResult {
  return { content: [{ type: "text", text: answer.text }], structuredContent: answer.structured as Record<string, unknown> };
}

export function errorResult(code: ErrorCode | "internal", text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true, _meta: { [ERROR_META_KEY]: { code } } };
}

/** A failure the code understands keeps its message; anything else is a bug, said as one. */
export function resultOfError(err: unknown, tool: string): CallToolResult {
  if (err instanceof TraceDoctorError) return errorResult(err.code, err.message);
  const message = err instanceof Error ? err.message : String(err);
  logError(`${tool}: unexpected ${err instanceof Error ? err.stack ?? message : message}`);
  return errorResult(
    "internal",
    `Internal error in ${tool}: ${message}. This is a bug in trace-doctor, not in your data; the server is still running. Try a narrower request, or report it with the arguments used.`,
  );
}

export async function runTool(tool: string, handler: () => Promise<ToolAnswer<unknown>>): Promise<CallToolResult> {
  try {
    return resultOf(await handler());
  } catch (err) {
    return resultOfError(err, tool);
  }
}
