// MCP sessions over Streamable HTTP: one McpServer and one SDK transport per session (the SDK's stateful
// mode), each with its own bounded event store. The table caps sessions in total and per client, expires
// idle ones, and counts the calls still running so shutdown can wait for them.

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import { isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage, type MessageExtraInfo, type RequestId } from "@modelcontextprotocol/sdk/types.js";
import { BoundedEventStore, type EventStoreLimits } from "./event-store.js";
import type { HttpLogger } from "./http-logger.js";
import type { RefusalReason } from "./replies.js";

export interface SessionLimits {
  maxSessions: number;
  maxSessionsPerClient: number;
  /** A session with no request open and no call running for this long is closed. */
  idleMs: number;
  eventStore: EventStoreLimits;
}

export interface SessionRefusal {
  status: 429 | 503;
  reason: Extract<RefusalReason, "too_many_sessions_for_client" | "too_many_sessions">;
  message: string;
  retryAfterSeconds: number;
}

/**
 * The transport the McpServer is connected to: the SDK's, plus a count of the requests it has received
 * and not yet answered (a cancelled request is never answered, so its cancellation ends it too).
 */
class CallCountingTransport implements Transport {
  private readonly calls = new Set<RequestId>();
  private closeHandler: (() => void) | undefined;
  private messageHandler: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined;

  constructor(
    readonly http: StreamableHTTPServerTransport,
    private readonly changed: () => void,
  ) {}

  get pendingCalls(): number {
    return this.calls.size;
  }
  get sessionId(): string | undefined {
    return this.http.sessionId;
  }
  // Getters too: McpServer.connect reads the handlers already set and chains its own after them.
  get onclose(): (() => void) | undefined {
    return this.closeHandler;
  }
  set onclose(handler: (() => void) | undefined) {
    this.closeHandler = handler;
    this.http.onclose = handler && (() => {
      this.calls.clear();
      handler();
      this.changed();
    });
  }
  get onerror(): ((error: Error) => void) | undefined {
    return this.http.onerror;
  }
  set onerror(handler: ((error: Error) => void) | undefined) {
    this.http.onerror = handler;
  }
  get onmessage(): (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined {
    return this.messageHandler;
  }
  set onmessage(handler: (<T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void) | undefined) {
    this.messageHandler = handler;
    this.http.onmessage = handler && ((message, extra) => {
      if (isJSONRPCRequest(message)) this.calls.add(message.id);
      else if (isJSONRPCNotification(message) && message.method === "notifications/cancelled") this.finish((message.params as { requestId?: RequestId } | undefined)?.requestId);
      handler(message, extra);
    });
  }
  start(): Promise<void> {
    return this.http.start();
  }
  close(): Promise<void> {
    return this.http.close();
  }
  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    try {
      await this.http.send(message, options);
    } finally {
      if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) this.finish(message.id);
    }
  }
  private finish(id: RequestId | undefined): void {
    if (id !== undefined && this.calls.delete(id)) this.changed();
  }
}

export class McpSession {
  /** Set once `initialize` has been answered; a session without one is discarded. */
  id: string | undefined;
  private openRequests = 0;
  private openPosts = 0;
  private lastActive = Date.now();
  private closed = false;

  constructor(
    readonly clientKey: string,
    readonly principal: string,
    private readonly server: McpServer,
    private readonly transport: CallCountingTransport,
    private readonly changed: () => void,
  ) {}

  get pendingCalls(): number {
    return this.transport.pendingCalls;
  }
  get pendingPosts(): number {
    return this.openPosts;
  }
  idleFor(now: number): number {
    return this.openRequests === 0 && this.pendingCalls === 0 ? now - this.lastActive : 0;
  }

  /** Hands one HTTP request to the SDK transport; `body` is the parsed POST body. */
  async handle(req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body: unknown, authInfo: AuthInfo | undefined): Promise<void> {
    const post = req.method === "POST";
    this.openRequests++;
    if (post) this.openPosts++;
    this.lastActive = Date.now();
    res.once("close", () => {
      this.openRequests--;
      if (post) this.openPosts--;
      this.lastActive = Date.now();
      this.changed();
    });
    if (authInfo) req.auth = authInfo;
    await this.transport.http.handleRequest(req, res, body);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.server.close().catch(() => {});
  }
}

export class SessionTable {
  private readonly sessions = new Set<McpSession>();
  private readonly byId = new Map<string, McpSession>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly createServer: () => McpServer,
    private readonly limits: SessionLimits,
    private readonly logger: HttpLogger,
  ) {}

  get(id: string): McpSession | undefined {
    return this.byId.get(id);
  }

  get count(): number {
    return this.sessions.size;
  }

  /** Null when `clientKey` may open another session. */
  refusal(clientKey: string): SessionRefusal | null {
    const retryAfterSeconds = Math.max(1, Math.ceil(Math.min(this.limits.idleMs, 60_000) / 1000));
    if (this.sessions.size >= this.limits.maxSessions) {
      return { status: 503, reason: "too_many_sessions", retryAfterSeconds, message: `The server already holds its maximum of ${this.limits.maxSessions} sessions; retry later, or end sessions you no longer use with DELETE /mcp.` };
    }
    let mine = 0;
    for (const s of this.sessions) if (s.clientKey === clientKey) mine++;
    if (mine >= this.limits.maxSessionsPerClient) {
      return {
        status: 429,
        reason: "too_many_sessions_for_client",
        retryAfterSeconds,
        message: `This client already holds ${mine} sessions, the most one client may open: end unused ones with DELETE /mcp (header Mcp-Session-Id), or wait until they expire after ${Math.round(this.limits.idleMs / 1000)} s idle.`,
      };
    }
    return null;
  }

  /** A new session, counted at once (so concurrent initializes cannot overshoot the caps) but not yet findable by id. */
  async open(clientKey: string, principal: string): Promise<McpSession> {
    const server = this.createServer();
    let session: McpSession | undefined;
    const http = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new BoundedEventStore(this.limits.eventStore),
      onsessioninitialized: (id) => {
        session!.id = id;
        this.byId.set(id, session!);
        this.logger.info(`session ${shortId(id)} opened (${this.sessions.size} open)`);
      },
    });
    const transport = new CallCountingTransport(http, () => this.notify());
    session = new McpSession(clientKey, principal, server, transport, () => this.notify());
    const opened = session;
    // Set before connect: the McpServer keeps this handler and calls its own after it.
    transport.onclose = () => this.forget(opened);
    this.sessions.add(opened);
    try {
      await server.connect(transport);
    } catch (err) {
      this.forget(opened);
      throw err;
    }
    return opened;
  }

  /** Drops a session whose initialize failed (it never got an id). */
  async discard(session: McpSession): Promise<void> {
    this.forget(session);
    await session.close();
  }

  expireIdle(now = Date.now()): void {
    for (const session of [...this.sessions]) {
      if (session.id && session.idleFor(now) >= this.limits.idleMs) {
        this.logger.info(`session ${shortId(session.id)} expired after ${Math.round(session.idleFor(now) / 1000)} s idle`);
        void session.close();
      }
    }
  }

  /** Calls still running and POST answers still being written, over all sessions. */
  inFlight(): { calls: number; posts: number } {
    let calls = 0;
    let posts = 0;
    for (const s of this.sessions) {
      calls += s.pendingCalls;
      posts += s.pendingPosts;
    }
    return { calls, posts };
  }

  /** Resolves true once nothing is in flight, or false at `deadline` (ms since epoch). */
  whenQuiet(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        const { calls, posts } = this.inFlight();
        if (calls === 0 && posts === 0) finish(true);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, deadline - Date.now()));
      const finish = (quiet: boolean) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(quiet);
      };
      this.listeners.add(check);
      check();
    });
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.close()));
  }

  private forget(session: McpSession): void {
    if (!this.sessions.delete(session)) return;
    if (session.id) {
      this.byId.delete(session.id);
      this.logger.info(`session ${shortId(session.id)} closed (${this.sessions.size} open)`);
    }
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** Enough of a session id to follow it in logs, not enough to use it. */
function shortId(id: string): string {
  return id.slice(0, 8);
}
