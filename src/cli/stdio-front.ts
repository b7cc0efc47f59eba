// A stdio server's first answers before its SDK has loaded. A client starts a stdio server often and
// waits for initialize and tools/list before it can offer the tools; the SDK, zod and the tools' code
// take some 100 ms to load and compile, and none of that is needed for those two answers: initialize
// is the build's record of the SDK's answer (capabilities, server info, protocol versions) with the
// instructions for these settings, and tools/list is the build's record of the SDK's list. So the
// front answers initialize, tools/list (first page) and ping itself, and keeps every other message in
// order; then it loads the SDK server and hands it the conversation: the initialize request first (the
// SDK learns the client's capabilities and protocol version; its answer, the same, is not sent again),
// then everything kept, then the rest of stdin as it comes. A message the front cannot answer starts
// the loading at once; otherwise it starts once tools/list is answered, or soon after initialize.
// The tools' code loads first: once it has, the common tools/call is answered here (tools/tool-caller.ts),
// before the SDK has loaded and after.

import type { Readable, Writable } from "node:stream";
import type { BuiltInitialize } from "../built-answers.js";
import type { ToolCaller } from "../tools/tool-caller.js";

type Id = string | number;
interface Message {
  jsonrpc?: unknown;
  id?: unknown;
  method?: unknown;
  params?: unknown;
}

/** The SDK side, once loaded: what the front hands messages to, as the SDK's stdio transport would. */
export interface FrontedServer {
  /** Connects the server to a transport the front feeds. */
  connect(transport: FrontTransport): Promise<void>;
}

/** Loading starts this long after initialize is answered, if tools/list has not come first. */
const LOAD_AFTER_INITIALIZE_MS = 50;

/** The SDK's Transport, fed by the front: what the SDK's stdio transport does, on messages already read. */
export class FrontTransport {
  onmessage?: (message: unknown) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  /** An answer the front gave already: the SDK's answer to the same request is not written. */
  private swallow: { id: Id; resolve: (answer: unknown) => void } | null = null;

  constructor(
    private readonly output: Writable,
    private readonly parse: (message: unknown) => unknown,
  ) {}

  async start(): Promise<void> {}

  async send(message: unknown): Promise<void> {
    const m = message as Message;
    if (this.swallow && m.id === this.swallow.id && m.method === undefined) {
      const { resolve } = this.swallow;
      this.swallow = null;
      resolve(message);
      return;
    }
    await write(this.output, message);
  }

  async close(): Promise<void> {
    this.onclose?.();
  }

  /** Hands the SDK a message; a message that is not JSON-RPC reaches onerror, as in the SDK's transport. */
  deliver(message: unknown): void {
    let parsed: unknown;
    try {
      parsed = this.parse(message);
    } catch (err) {
      this.onerror?.(err as Error);
      return;
    }
    this.onmessage?.(parsed);
  }

  /** Hands the SDK a request the front answered already, and resolves with the SDK's own answer. */
  replay(request: Message & { id: Id }): Promise<unknown> {
    return new Promise((resolve) => {
      this.swallow = { id: request.id, resolve };
      this.deliver(request);
    });
  }
}

export interface FrontOptions {
  input: Readable;
  output: Writable;
  answers: BuiltInitialize & { toolList: string };
  instructions: string;
  /** Loads the SDK server; `parse` checks a message as the SDK's transport does. */
  load: () => Promise<{ server: FrontedServer; parse: (message: unknown) => unknown }>;
  /**
   * Loads the tool caller alone, before the SDK: from then on the front answers the common tools/call
   * while the SDK still loads. Null (telemetry instruments the SDK server): every call waits for it.
   */
  loadCaller?: () => Promise<ToolCaller | null>;
  /** The SDK's initialize answer differs from the front's (a stale build): said, not fatal. */
  onMismatch?: (front: unknown, sdk: unknown) => void;
  onLoadError: (err: unknown) => void;
  /** stdin ended. */
  onEnd: () => void;
}

export class StdioFront {
  private buffer = "";
  private readonly kept: Message[] = [];
  private initialize: (Message & { id: Id }) | null = null;
  private initializeAnswer: unknown = null;
  private transport: FrontTransport | null = null;
  private loading: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private caller: ToolCaller | null = null;
  /** tools/call requests answered here and still running, for notifications/cancelled. */
  private readonly running = new Map<Id, AbortController>();

  constructor(private readonly options: FrontOptions) {}

  start(): void {
    const { input } = this.options;
    input.setEncoding("utf8");
    input.on("data", (chunk: string) => this.onData(chunk));
    input.on("end", () => this.options.onEnd());
    input.resume();
  }

  /** Whether the SDK has the conversation (tests). */
  get handedOver(): boolean {
    return this.transport !== null;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n")) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, "");
      this.buffer = this.buffer.slice(nl + 1);
      this.onLine(line);
    }
  }

  private onLine(line: string): void {
    if (this.transport) {
      // The SDK's transport reads the same way: a line that is not JSON is reported, not answered.
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch (err) {
        this.transport.onerror?.(err as Error);
        return;
      }
      if (!this.callDirect(message as Message)) this.transport.deliver(message);
      return;
    }
    let message: Message | null = null;
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) message = parsed as Message;
    } catch {
      // kept as it is: the SDK reports it
    }
    if (message && (this.answer(message) || this.callDirect(message))) return;
    this.kept.push(message ?? ({ unparsed: line } as Message));
    this.load();
  }

  /**
   * A tools/call the caller answers, or a cancellation of one; false leaves the message to the SDK.
   * A cancelled call's answer is not sent, as the SDK does not send one.
   */
  private callDirect(m: Message): boolean {
    if (!this.caller || !m || typeof m !== "object" || m.jsonrpc !== "2.0") return false;
    if (m.method === "notifications/cancelled" && m.id === undefined) {
      const id = (m.params as { requestId?: unknown } | undefined)?.requestId;
      const running = isId(id) ? this.running.get(id) : undefined;
      if (!running) return false;
      this.running.delete(id as Id);
      running.abort((m.params as { reason?: unknown }).reason ?? "cancelled");
      return true;
    }
    if (m.method !== "tools/call" || !isId(m.id) || this.running.has(m.id)) return false;
    const controller = new AbortController();
    const answer = this.caller.direct(m.params, controller.signal);
    if (!answer) return false;
    const id = m.id;
    this.running.set(id, controller);
    void answer.then(
      (resultJson) => {
        if (this.running.get(id) !== controller) return;
        this.running.delete(id);
        // As reply() writes it, with the result already serialized.
        this.options.output.write(`{"result":${resultJson},"jsonrpc":"2.0","id":${JSON.stringify(id)}}\n`);
      },
      (err: unknown) => {
        // runTool turns every failure into a result; should one escape, the call is still answered, as
        // the SDK answers a handler that throws.
        if (this.running.get(id) !== controller) return;
        this.running.delete(id);
        void write(this.options.output, { jsonrpc: "2.0", id, error: { code: -32603, message: `Internal error: ${err instanceof Error ? err.message : String(err)}` } });
      },
    );
    return true;
  }

  /** Answers what the front can answer as the SDK would; false leaves the message to the SDK. */
  private answer(m: Message): boolean {
    if (m.jsonrpc !== "2.0" || !isId(m.id)) return false;
    const { answers } = this.options;
    if (m.method === "initialize" && this.initialize === null && !this.kept.length && isInitializeParams(m.params)) {
      const asked = m.params.protocolVersion;
      const result = {
        protocolVersion: answers.protocolVersions.includes(asked) ? asked : answers.latestProtocolVersion,
        capabilities: answers.capabilities,
        serverInfo: answers.serverInfo,
        instructions: this.options.instructions,
      };
      this.initialize = m as Message & { id: Id };
      this.initializeAnswer = result;
      this.reply(m.id, result);
      this.timer = setTimeout(() => this.load(), LOAD_AFTER_INITIALIZE_MS);
      this.timer.unref();
      return true;
    }
    if (this.initialize === null) return false;
    if (m.method === "tools/list" && noCursor(m.params)) {
      this.options.output.write(`{"jsonrpc":"2.0","id":${JSON.stringify(m.id)},"result":${answers.toolList}}\n`);
      setImmediate(() => this.load());
      return true;
    }
    if (m.method === "ping") {
      this.reply(m.id, {});
      return true;
    }
    return false;
  }

  private reply(id: Id, result: unknown): void {
    void write(this.options.output, { result, jsonrpc: "2.0", id });
  }

  private load(): void {
    if (this.loading) return;
    if (this.timer) clearTimeout(this.timer);
    this.loading = this.handOver().catch((err) => this.options.onLoadError(err));
  }

  private async handOver(): Promise<void> {
    // The tools first (most of what loads): with them, calls are answered while the SDK loads.
    const caller = (await this.options.loadCaller?.()) ?? null;
    if (caller) {
      this.caller = caller;
      const kept = this.kept.splice(0);
      for (const m of kept) if (!this.callDirect(m)) this.kept.push(m);
    }
    const { server, parse } = await this.options.load();
    const transport = new FrontTransport(this.options.output, parse);
    await server.connect(transport);
    if (this.initialize) {
      const sdkAnswer = ((await transport.replay(this.initialize)) as { result?: unknown }).result;
      if (JSON.stringify(sdkAnswer) !== JSON.stringify(this.initializeAnswer)) this.options.onMismatch?.(this.initializeAnswer, sdkAnswer);
    }
    // From here on, lines go straight to the SDK (or the caller); what was kept goes first, in order.
    this.transport = transport;
    for (const m of this.kept.splice(0)) {
      if ("unparsed" in m) transport.onerror?.(new Error(`not JSON: ${String((m as { unparsed: string }).unparsed).slice(0, 200)}`));
      else if (!this.callDirect(m)) transport.deliver(m);
    }
  }
}

function isId(id: unknown): id is Id {
  return typeof id === "string" || (typeof id === "number" && Number.isInteger(id));
}

function isInitializeParams(p: unknown): p is { protocolVersion: string } {
  if (!p || typeof p !== "object") return false;
  const { protocolVersion, capabilities, clientInfo } = p as Record<string, unknown>;
  if (typeof protocolVersion !== "string" || !capabilities || typeof capabilities !== "object" || Array.isArray(capabilities)) return false;
  const info = clientInfo as Record<string, unknown> | null | undefined;
  return !!info && typeof info === "object" && typeof info.name === "string" && typeof info.version === "string";
}

function noCursor(p: unknown): boolean {
  if (p === undefined) return true;
  if (!p || typeof p !== "object" || Array.isArray(p)) return false;
  return Object.keys(p).every((k) => k === "_meta");
}

/** One message, one line; waits for the pipe to drain when it is full, as the SDK's transport does. */
function write(output: Writable, message: unknown): Promise<void> {
  return new Promise((resolve) => {
    if (output.write(`${JSON.stringify(message)}\n`)) resolve();
    else output.once("drain", resolve);
  });
}
