// The two shapes a tool answers with: structured content plus its text rendering, or an isError
// result whose text tells the model what went wrong and what to try next.

import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { DatabaseError } from "../store/database.js";

export function toolResult(structured: object, text: string): CallToolResult {
  return { content: [{ type: "text", text }], structuredContent: structured as Record<string, unknown> };
}

export function toolError(text: string): CallToolResult {
  return { content: [{ type: "text", text }], isError: true };
}

/** Errors from the adapters, phrased for a model; anything unexpected is reported, not thrown. */
export function toolErrorFrom(err: unknown): CallToolResult {
  if (err instanceof DatabaseError) return toolError(err.message);
  const message = err instanceof Error ? err.message : String(err);
  return toolError(`Unexpected error: ${message}. The server is still running; try again or narrow the request.`);
}
