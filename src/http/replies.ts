// The HTTP answers the server writes itself, not the SDK transport: on /mcp a JSON-RPC error with no id
// (what the Streamable HTTP spec expects), each with a stable reason code and a message saying what to do.

import type { ServerResponse } from "node:http";

/** Stable, machine-readable reasons, carried in `error.data.reason`. */
export type RefusalReason =
  | "missing_token"
  | "invalid_token"
  | "insufficient_scope"
  | "auth_unavailable"
  | "host_not_allowed"
  | "origin_not_allowed"
  | "body_too_large"
  | "parse_error"
  | "session_required"
  | "session_not_found"
  | "too_many_sessions_for_client"
  | "too_many_sessions"
  | "shutting_down"
  | "method_not_allowed"
  | "internal_error";

// -32700 and -32603 are JSON-RPC's own; -32001 is what the SDK answers for an unknown session.
const CODES: Partial<Record<RefusalReason, number>> = { parse_error: -32700, session_not_found: -32001, internal_error: -32603 };

export function replyJsonRpcError(
  res: ServerResponse,
  status: number,
  reason: RefusalReason,
  message: string,
  headers: Record<string, string> = {},
): void {
  replyJson(res, status, { jsonrpc: "2.0", id: null, error: { code: CODES[reason] ?? -32000, message, data: { reason } } }, headers);
}

export function replyJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-store" });
  res.end(text);
}
