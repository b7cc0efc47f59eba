// The view's side of the MCP Apps wire protocol against a fake host window: the ui/initialize handshake,
// notifications dispatched, the host's requests answered, messages from anyone but the host ignored, and
// tools other than the read-only two refused before anything is sent.

import { describe, expect, it, vi } from "vitest";
import { HostBridge, HostRpcError, PROTOCOL_VERSION, type HostHandlers, type ViewTool } from "../../src/ui/view/host-bridge.js";

type Message = Record<string, unknown>;

function fakeHost(handlers: HostHandlers = {}, timeoutMs = 60_000) {
  const sent: Message[] = [];
  const host = { postMessage: (m: unknown) => sent.push(m as Message) };
  let listener: (event: { data: unknown; source: unknown }) => void = () => {};
  const bridge = new HostBridge(host, { addEventListener: (_type, l) => (listener = l) }, handlers, timeoutMs);
  /** A message as if posted by the host window (or by `source`). */
  const deliver = (data: unknown, source: unknown = host) => listener({ data, source });
  const answerLast = (result: unknown) => deliver({ jsonrpc: "2.0", id: sent[sent.length - 1]!.id, result });
  return { bridge, sent, deliver, answerLast, host };
}

describe("HostBridge", () => {
  it("initializes with ui/initialize, then tells the host it is ready", async () => {
    const { bridge, sent, answerLast } = fakeHost();
    const connected = bridge.connect({ name: "v", version: "1" }, { availableDisplayModes: ["inline"] });
    expect(sent[0]).toEqual({ jsonrpc: "2.0", id: 1, method: "ui/initialize", params: { appInfo: { name: "v", version: "1" }, appCapabilities: { availableDisplayModes: ["inline"] }, protocolVersion: PROTOCOL_VERSION } });
    answerLast({ protocolVersion: "2026-01-26", hostInfo: { name: "h" }, hostCapabilities: { serverTools: {} }, hostContext: { theme: "dark" } });
    const init = await connected;
    expect(init.hostContext).toEqual({ theme: "dark" });
    expect(bridge.canCallTools()).toBe(true);
    expect(sent[1]).toEqual({ jsonrpc: "2.0", method: "ui/notifications/initialized", params: {} });
  });

  it("hands tool input, tool results, cancellations and context changes to the view", () => {
    const handlers = { toolInput: vi.fn(), toolResult: vi.fn(), toolCancelled: vi.fn(), hostContext: vi.fn() };
    const { bridge, deliver } = fakeHost(handlers);
    deliver({ jsonrpc: "2.0", method: "ui/notifications/tool-input", params: { arguments: { job_id: "j" } } });
    deliver({ jsonrpc: "2.0", method: "ui/notifications/tool-input-partial", params: { arguments: { job: "" } } });
    deliver({ jsonrpc: "2.0", method: "ui/notifications/tool-result", params: { content: [], structuredContent: { spans: [] } } });
    deliver({ jsonrpc: "2.0", method: "ui/notifications/tool-cancelled", params: { reason: "user" } });
    deliver({ jsonrpc: "2.0", method: "ui/notifications/host-context-changed", params: { theme: "light" } });
    expect(handlers.toolInput).toHaveBeenCalledExactlyOnceWith({ job_id: "j" });
    expect(handlers.toolResult).toHaveBeenCalledExactlyOnceWith({ content: [], structuredContent: { spans: [] } });
    expect(handlers.toolCancelled).toHaveBeenCalledWith("user");
    expect(handlers.hostContext).toHaveBeenCalledWith({ theme: "light" });
    expect(bridge.hostContext).toEqual({ theme: "light" });
  });

  it("answers the host's ping and teardown, and says it handles no other request", () => {
    const teardown = vi.fn();
    const { sent, deliver } = fakeHost({ teardown });
    deliver({ jsonrpc: "2.0", id: 7, method: "ping" });
    deliver({ jsonrpc: "2.0", id: "t", method: "ui/resource-teardown", params: {} });
    deliver({ jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: "x" } });
    expect(sent).toEqual([
      { jsonrpc: "2.0", id: 7, result: {} },
      { jsonrpc: "2.0", id: "t", result: {} },
      { jsonrpc: "2.0", id: 8, error: { code: -32601, message: "The waterfall view does not handle tools/call." } },
    ]);
    expect(teardown).toHaveBeenCalledOnce();
  });

  it("listens to the host window only, and only to JSON-RPC 2.0", () => {
    const toolResult = vi.fn();
    const { deliver } = fakeHost({ toolResult });
    deliver({ jsonrpc: "2.0", method: "ui/notifications/tool-result", params: {} }, { postMessage() {} });
    deliver({ method: "ui/notifications/tool-result", params: {} });
    deliver("ui/notifications/tool-result");
    expect(toolResult).not.toHaveBeenCalled();
  });

  it("relays get_trace and find_gaps, and refuses any other tool without sending anything", async () => {
    const { bridge, sent, answerLast } = fakeHost();
    const call = bridge.callTool("get_trace", { trace_id: "t", focus_span_id: "s" });
    expect(sent.at(-1)).toMatchObject({ method: "tools/call", params: { name: "get_trace", arguments: { trace_id: "t", focus_span_id: "s" } } });
    answerLast({ content: [{ type: "text", text: "ok" }], structuredContent: { spans: [] } });
    expect(await call).toEqual({ content: [{ type: "text", text: "ok" }], structuredContent: { spans: [] } });
    const before = sent.length;
    await expect(bridge.callTool("init_db" as ViewTool, {})).rejects.toThrow("calls only get_trace and find_gaps");
    expect(sent.length).toBe(before);
  });

  it("turns an error response into an error, and a host that never answers into a time-out", async () => {
    vi.useFakeTimers();
    try {
      const { bridge, sent, deliver } = fakeHost({}, 5000);
      const refused = bridge.callTool("find_gaps", {});
      deliver({ jsonrpc: "2.0", id: sent.at(-1)!.id, error: { code: -32000, message: "denied by the user" } });
      await expect(refused).rejects.toEqual(new HostRpcError("denied by the user", -32000));
      const silent = bridge.requestDisplayMode("fullscreen");
      vi.advanceTimersByTime(5001);
      await expect(silent).rejects.toThrow("did not answer ui/request-display-mode within 5 s");
    } finally {
      vi.useRealTimers();
    }
  });
});
