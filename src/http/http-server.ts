// MCP over Streamable HTTP on plain node:http: /mcp (the SDK's StreamableHTTPServerTransport, one McpServer
// per session), /healthz, and the OAuth protected-resource metadata. Everything before the transport is
// here: DNS-rebinding checks, auth, the body cap, session caps, and the drain on close.

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { isInitializeRequest, isJSONRPCRequest } from "@modelcontextprotocol/sdk/types.js";
import { AuthRefusal, bearerChallenge, noAuthenticator, type Authenticated, type HttpAuthConfig, type RequestAuthenticator } from "./auth.js";
import { stderrLogger, type HttpLogger } from "./http-logger.js";
import { isLoopbackHost, urlHost } from "./listen-address.js";
import { SessionTable } from "./mcp-sessions.js";
import { startOAuthResourceServer, type OAuthResourceServer } from "./oauth-resource.js";
import { corsHeaders, originPolicy, PREFLIGHT_HEADERS } from "./origin-policy.js";
import { replyJson, replyJsonRpcError } from "./replies.js";
import { readBody } from "./request-body.js";
import { staticTokenAuthenticator } from "./static-token.js";

export const MCP_PATH = "/mcp";
export const HEALTH_PATH = "/healthz";
export const PROTECTED_RESOURCE_PATH = "/.well-known/oauth-protected-resource";

export interface HttpLimits {
  /** Largest POST body read; a bigger one gets 413. */
  maxBodyBytes: number;
  maxSessions: number;
  maxSessionsPerClient: number;
  /** A session with no open request and no running call for this long is closed. */
  sessionIdleMs: number;
  /** How long close() waits for running calls before it cuts them off. */
  drainTimeoutMs: number;
  /** Per session: SSE events kept for resuming streams. */
  eventStoreMaxEvents: number;
  eventStoreMaxBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxBodyBytes: 1 << 20,
  maxSessions: 100,
  maxSessionsPerClient: 20,
  sessionIdleMs: 10 * 60_000,
  drainTimeoutMs: 10_000,
  eventStoreMaxEvents: 1_000,
  eventStoreMaxBytes: 4 << 20,
};

export interface HttpServerOptions {
  /** Default 127.0.0.1. Anything but loopback needs auth. */
  host?: string;
  /** Default 0: any free port (see the handle's url). */
  port?: number;
  /** Called once per MCP session: the SDK's stateful Streamable HTTP serves one McpServer per session. */
  createServer: () => McpServer;
  auth?: HttpAuthConfig;
  /** Origins besides this server's own loopback ones that browsers may call from. */
  allowedOrigins?: string[];
  /** The /mcp URL clients use when it differs from the bound address (a proxy): the OAuth resource. */
  publicUrl?: string | null;
  limits?: Partial<HttpLimits>;
  logger?: HttpLogger;
  /** Said by /healthz. */
  version?: string;
}

export interface HttpServerHandle {
  /** The /mcp endpoint at the bound address, e.g. http://127.0.0.1:39123/mcp. */
  url: string;
  /** Stops taking requests and sessions, waits up to the drain timeout for running calls, then closes every session. */
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const host = options.host ?? "127.0.0.1";
  const auth = options.auth ?? { kind: "none" };
  const logger = options.logger ?? stderrLogger;
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`HTTP limit ${name} must be a positive number, got ${value}`);
  }
  if (auth.kind === "none" && !isLoopbackHost(host)) {
    throw new Error(
      `Refusing to serve MCP over HTTP on ${host} without auth: anyone who can reach that address could read the traces. ` +
        "Set TRACE_DOCTOR_HTTP_TOKEN (a shared bearer token), or TRACE_DOCTOR_OAUTH_ISSUER and TRACE_DOCTOR_OAUTH_AUDIENCE (OAuth access tokens), or bind 127.0.0.1.",
    );
  }
  const oauth: OAuthResourceServer | null = auth.kind === "oauth" ? await startOAuthResourceServer(auth) : null;
  const authenticator: RequestAuthenticator = oauth ?? (auth.kind === "token" ? staticTokenAuthenticator(auth.token) : noAuthenticator());
  const publicUrl = options.publicUrl ? new URL(options.publicUrl) : null;
  const sessions = new SessionTable(
    options.createServer,
    {
      maxSessions: limits.maxSessions,
      maxSessionsPerClient: limits.maxSessionsPerClient,
      idleMs: limits.sessionIdleMs,
      eventStore: { maxEvents: limits.eventStoreMaxEvents, maxBytes: limits.eventStoreMaxBytes },
    },
    logger,
  );
  let closing = false;

  const server = createHttpServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      logger.error(`HTTP ${req.method} ${pathOf(req)}: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) replyJsonRpcError(res, 500, "internal_error", "The server failed on this request; retry it, and report it if it keeps failing.");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => reject(new Error(`Cannot listen on ${urlHost(host)}:${options.port ?? 0}: ${err.code === "EADDRINUSE" ? "the port is in use" : err.message}`)));
    server.listen(options.port ?? 0, host, () => resolve());
  });
  server.on("error", (err) => logger.error(`HTTP server: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  const policy = originPolicy({ host, port, allowedOrigins: options.allowedOrigins ?? [] });
  const sweeper = setInterval(() => sessions.expireIdle(), Math.max(10, Math.min(limits.sessionIdleMs / 2, 30_000)));
  sweeper.unref();

  /** The resource this request reached: the public URL, else the Host it was sent to (already checked on loopback). */
  const resourceUrl = (req: IncomingMessage): URL => {
    if (publicUrl) return publicUrl;
    const bound = `${urlHost(host)}:${port}`;
    const requested = req.headers.host && URL.canParse(`http://${req.headers.host}`) ? new URL(`http://${req.headers.host}`).host : bound;
    return new URL(MCP_PATH, `http://${requested}`);
  };
  const metadataUrl = (req: IncomingMessage): string => {
    const resource = resourceUrl(req);
    return new URL(`${PROTECTED_RESOURCE_PATH}${resource.pathname === "/" ? "" : resource.pathname}`, resource).href;
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req);
    const origin = req.headers.origin;
    const verdict = policy.check(req.headers.host, origin);
    if (verdict) {
      logger.info(`refused ${req.method} ${path} from ${req.socket.remoteAddress}: ${verdict.reason}`);
      if (path === MCP_PATH) return replyJsonRpcError(res, 403, verdict.reason, verdict.message);
      return replyJson(res, 403, { error: verdict.reason, message: verdict.message });
    }
    for (const [name, value] of Object.entries(corsHeaders(origin))) res.setHeader(name, value);
    if (req.method === "OPTIONS") {
      res.writeHead(204, PREFLIGHT_HEADERS).end();
      return;
    }
    if (path === HEALTH_PATH) {
      if (req.method !== "GET" && req.method !== "HEAD") return replyJson(res, 405, { error: "method_not_allowed", message: `${HEALTH_PATH} takes GET.` }, { Allow: "GET, HEAD" });
      return replyJson(res, closing ? 503 : 200, { status: closing ? "shutting_down" : "ok", ...(options.version ? { version: options.version } : {}) });
    }
    // Served at the root and at any path under it: RFC 9728 puts it at the resource's own path (/mcp, or a proxy's prefix).
    if (oauth && req.method === "GET" && (path === PROTECTED_RESOURCE_PATH || path.startsWith(`${PROTECTED_RESOURCE_PATH}/`))) {
      return replyJson(res, 200, oauth.protectedResourceMetadata(resourceUrl(req).href));
    }
    if (path === MCP_PATH) return serveMcp(req, res);
    replyJson(res, 404, { error: "not_found", message: `Nothing at ${path}: trace-doctor serves MCP at ${MCP_PATH} and its health at ${HEALTH_PATH}.` });
  }

  async function serveMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    if (method !== "GET" && method !== "POST" && method !== "DELETE") {
      return replyJsonRpcError(res, 405, "method_not_allowed", `${MCP_PATH} takes POST (JSON-RPC messages), GET (the stream of server messages) and DELETE (end the session), not ${method}.`, { Allow: "GET, POST, DELETE" });
    }
    let who: Authenticated;
    try {
      who = await authenticator.authenticate(req.headers.authorization);
    } catch (err) {
      if (err instanceof AuthRefusal) return refuseAuth(req, res, err);
      throw err;
    }
    let body: unknown;
    if (method === "POST") {
      const read = await readBody(req, limits.maxBodyBytes);
      if (read.kind === "too_large") {
        return replyJsonRpcError(res, 413, "body_too_large", `The request body is over ${limits.maxBodyBytes} bytes, the most this server reads: send smaller messages.`, read.drained ? {} : { Connection: "close" });
      }
      try {
        body = JSON.parse(read.text);
      } catch {
        return replyJsonRpcError(res, 400, "parse_error", "The request body is not JSON: send a JSON-RPC message, or an array of them, as application/json.");
      }
    }
    const sessionId = req.headers["mcp-session-id"];
    const session = typeof sessionId === "string" ? sessions.get(sessionId) : undefined;
    // While draining, only what lets running calls finish: answers and notifications (e.g. a
    // cancellation), and resuming a stream that carries a running call's result.
    if (closing && !(session && ((method === "POST" && !carriesRequest(body)) || (method === "GET" && req.headers["last-event-id"])))) {
      return replyJsonRpcError(res, 503, "shutting_down", "The server is shutting down: start a new session in a moment.", { Connection: "close", "Retry-After": "5" });
    }
    if (sessionId !== undefined) {
      if (!session || session.principal !== who.principal) {
        return replyJsonRpcError(res, 404, "session_not_found", `Session not found: it was ended, expired after ${Math.round(limits.sessionIdleMs / 1000)} s idle, or the server restarted. Start a new session: send initialize without an Mcp-Session-Id header.`);
      }
      return session.handle(req, res, body, who.authInfo);
    }
    if (method === "POST" && isInitializeRequest(body)) {
      // One shared token or none: the address is what tells clients apart.
      const clientKey = who.principal === "anonymous" || who.principal === "token" ? `address ${req.socket.remoteAddress}` : who.principal;
      const refusal = sessions.refusal(clientKey);
      if (refusal) {
        logger.info(`refused a session for ${clientKey}: ${refusal.reason}`);
        return replyJsonRpcError(res, refusal.status, refusal.reason, refusal.message, { "Retry-After": String(refusal.retryAfterSeconds) });
      }
      let created;
      try {
        created = await sessions.open(clientKey, who.principal);
      } catch (err) {
        logger.error(`could not start an MCP session: ${err instanceof Error ? err.message : String(err)}`);
        return replyJsonRpcError(res, 500, "internal_error", "The server could not start an MCP session; its operator can find why in its log.");
      }
      await created.handle(req, res, body, who.authInfo);
      if (!created.id) await sessions.discard(created);
      return;
    }
    return replyJsonRpcError(
      res,
      400,
      "session_required",
      method === "POST"
        ? "Missing Mcp-Session-Id header: start a session with an initialize request, then send the Mcp-Session-Id it answers with on every request."
        : `${method} ${MCP_PATH} needs the Mcp-Session-Id header of a session started with initialize.`,
    );
  }

  function refuseAuth(req: IncomingMessage, res: ServerResponse, refusal: AuthRefusal): void {
    logger.info(`refused ${req.method} ${MCP_PATH} from ${req.socket.remoteAddress}: ${refusal.reason}`);
    if (refusal.status === 503) return replyJsonRpcError(res, 503, refusal.reason, refusal.message, { "Retry-After": "5" });
    const challenge = bearerChallenge({
      ...(oauth ? { resource_metadata: metadataUrl(req) } : { realm: "trace-doctor" }),
      error: refusal.oauthError,
      error_description: refusal.oauthError ? refusal.message : null,
      scope: authenticator.requiredScopes.join(" ") || null,
    });
    replyJsonRpcError(res, refusal.status, refusal.reason, refusal.message, { "WWW-Authenticate": challenge });
  }

  let closed: Promise<void> | null = null;
  return {
    url: `http://${urlHost(host)}:${port}${MCP_PATH}`,
    close() {
      closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        const running = sessions.inFlight().calls;
        const quiet = await sessions.whenQuiet(Date.now() + limits.drainTimeoutMs);
        const cut = sessions.inFlight().calls;
        clearInterval(sweeper);
        await sessions.closeAll();
        server.closeAllConnections();
        await stopped;
        logger.info(
          quiet
            ? `HTTP server closed${running ? ` after ${running} running call(s) finished` : ""}`
            : `HTTP server closed after the ${limits.drainTimeoutMs} ms drain timeout, cutting off ${cut} call(s) still running`,
        );
      })();
      return closed;
    },
  };
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

function carriesRequest(body: unknown): boolean {
  return Array.isArray(body) ? body.some((m) => isJSONRPCRequest(m)) : isJSONRPCRequest(body);
}
