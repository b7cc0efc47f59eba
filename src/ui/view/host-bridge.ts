// The view's side of the MCP Apps wire protocol (SEP-1865, 2026-01-26): JSON-RPC 2.0 over postMessage
// with the host window. Hand-written because the ext-apps App class brings the MCP SDK and zod into the
// page (~540 KB), and narrow on purpose: the only server tools it asks the host to call are the
// read-only ones in VIEW_TOOLS, and it sends no ui/message, ui/update-model-context or ui/open-link.

export const PROTOCOL_VERSION = "2026-01-26";
/** Everything the view may ask the server for; both only read. */
export const VIEW_TOOLS = ["get_trace", "find_gaps"] as const;
export type ViewTool = (typeof VIEW_TOOLS)[number];

export interface HostWindow {
  postMessage(message: unknown, targetOrigin: string): void;
}

export interface MessageEvents {
  addEventListener(type: "message", listener: (event: { data: unknown; source: unknown }) => void): void;
}

/** A tools/call result as the host relays it (CallToolResult); read leniently. */
export interface ToolResult {
  content?: unknown;
  structuredContent?: unknown;
  isError?: boolean;
}

export interface HostHandlers {
  toolInput?(args: Record<string, unknown>): void;
  toolResult?(result: ToolResult): void;
  toolCancelled?(reason: string | undefined): void;
  hostContext?(changed: Record<string, unknown>): void;
  teardown?(): void;
}

export interface InitializeResult {
  protocolVersion?: string;
  hostInfo?: { name?: string; version?: string };
  hostCapabilities: Record<string, unknown>;
  hostContext: Record<string, unknown>;
}

export class HostRpcError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

const METHOD_NOT_FOUND = -32601;

export class HostBridge {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  hostCapabilities: Json = {};
  hostContext: Json = {};

  constructor(
    private readonly host: HostWindow,
    events: MessageEvents,
    private readonly handlers: HostHandlers,
    private readonly timeoutMs = 60_000,
  ) {
    events.addEventListener("message", (event) => this.receive(event.data, event.source));
  }

  /** ui/initialize, then ui/notifications/initialized: after it the host sends the tool's input and result. */
  async connect(appInfo: { name: string; version: string }, appCapabilities: Json): Promise<InitializeResult> {
    const result = await this.request("ui/initialize", { appInfo, appCapabilities, protocolVersion: PROTOCOL_VERSION });
    const r = isObject(result) ? result : {};
    this.hostCapabilities = isObject(r.hostCapabilities) ? r.hostCapabilities : {};
    this.hostContext = isObject(r.hostContext) ? r.hostContext : {};
    this.notify("ui/notifications/initialized", {});
    return {
      ...(typeof r.protocolVersion === "string" ? { protocolVersion: r.protocolVersion } : {}),
      ...(isObject(r.hostInfo) ? { hostInfo: r.hostInfo as InitializeResult["hostInfo"] } : {}),
      hostCapabilities: this.hostCapabilities,
      hostContext: this.hostContext,
    };
  }

  /** Whether the host relays the view's tools/call to the server (hostCapabilities.serverTools). */
  canCallTools(): boolean {
    return isObject(this.hostCapabilities.serverTools);
  }

  async callTool(name: ViewTool, args: Json): Promise<ToolResult> {
    // Enforced here and not only by the types: nothing the view does may reach a tool that is not read-only.
    if (!(VIEW_TOOLS as readonly string[]).includes(name)) throw new HostRpcError(`The waterfall view calls only ${VIEW_TOOLS.join(" and ")}, not ${String(name)}.`);
    const result = await this.request("tools/call", { name, arguments: args });
    return isObject(result) ? (result as ToolResult) : {};
  }

  requestDisplayMode(mode: "inline" | "fullscreen"): Promise<unknown> {
    return this.request("ui/request-display-mode", { mode });
  }

  sizeChanged(width: number, height: number): void {
    this.notify("ui/notifications/size-changed", { width, height });
  }

  private request(method: string, params: Json): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HostRpcError(`The host did not answer ${method} within ${Math.round(this.timeoutMs / 1000)} s.`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.host.postMessage({ jsonrpc: "2.0", id, method, params }, "*");
    });
  }

  private notify(method: string, params: Json): void {
    this.host.postMessage({ jsonrpc: "2.0", method, params }, "*");
  }

  private respond(id: unknown, body: { result: Json } | { error: { code: number; message: string } }): void {
    this.host.postMessage({ jsonrpc: "2.0", id, ...body }, "*");
  }

  /** Only the host window is listened to; anything that is not JSON-RPC 2.0 is ignored. */
  private receive(message: unknown, source: unknown): void {
    if (source !== this.host || !isObject(message) || message.jsonrpc !== "2.0") return;
    const method = typeof message.method === "string" ? message.method : null;
    const hasId = typeof message.id === "number" || typeof message.id === "string";
    if (method === null) {
      if (typeof message.id !== "number") return;
      const waiting = this.pending.get(message.id);
      if (!waiting) return;
      this.pending.delete(message.id);
      clearTimeout(waiting.timer);
      if (isObject(message.error)) {
        waiting.reject(new HostRpcError(typeof message.error.message === "string" ? message.error.message : "The host refused the request.", typeof message.error.code === "number" ? message.error.code : undefined));
      } else waiting.resolve(message.result);
      return;
    }
    const params = isObject(message.params) ? message.params : {};
    if (hasId) {
      if (method === "ping") return this.respond(message.id, { result: {} });
      if (method === "ui/resource-teardown") {
        this.handlers.teardown?.();
        return this.respond(message.id, { result: {} });
      }
      return this.respond(message.id, { error: { code: METHOD_NOT_FOUND, message: `The waterfall view does not handle ${method}.` } });
    }
    switch (method) {
      case "ui/notifications/tool-input":
        this.handlers.toolInput?.(isObject(params.arguments) ? params.arguments : {});
        break;
      case "ui/notifications/tool-result":
        this.handlers.toolResult?.(params as ToolResult);
        break;
      case "ui/notifications/tool-cancelled":
        this.handlers.toolCancelled?.(typeof params.reason === "string" ? params.reason : undefined);
        break;
      case "ui/notifications/host-context-changed":
        this.hostContext = { ...this.hostContext, ...params };
        this.handlers.hostContext?.(params);
        break;
      default:
      // tool-input-partial and anything newer: nothing to do.
    }
  }
}
