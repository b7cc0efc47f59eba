// `trace-doctor serve --http [HOST:]PORT`: the listen address and the environment's settings turned
// into a running HTTP server, its URL said on stderr, and SIGTERM/SIGINT wired to a graceful close.

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { stderrLogger, type HttpLogger } from "./http-logger.js";
import { startHttpServer, type HttpServerHandle } from "./http-server.js";
import { readHttpSettings } from "./http-settings.js";
import { isLoopbackHost, parseListenAddress } from "./listen-address.js";

export interface ServeHttpOptions {
  version?: string;
  /** Runs after the HTTP server has drained and closed, before the process exits: close databases etc. */
  onClosed?: () => Promise<void>;
  logger?: HttpLogger;
}

export async function serveHttp(listen: string, env: NodeJS.ProcessEnv, createServer: () => McpServer, options: ServeHttpOptions = {}): Promise<HttpServerHandle> {
  const logger = options.logger ?? stderrLogger;
  const address = parseListenAddress(listen);
  const settings = readHttpSettings(env);
  const handle = await startHttpServer({ ...address, ...settings, createServer, logger, ...(options.version ? { version: options.version } : {}) });
  const auth = settings.auth.kind === "token" ? "bearer token" : settings.auth.kind === "oauth" ? `OAuth access tokens from ${settings.auth.issuer}` : "no auth";
  logger.info(`serving MCP over Streamable HTTP at ${handle.url} (${auth}${isLoopbackHost(address.host) ? ", loopback only" : ""}); health at ${handle.url.replace(/\/mcp$/, "/healthz")}`);
  const stop = (signal: string) => {
    logger.info(`${signal}: draining (up to ${settings.limits.drainTimeoutMs} ms; send it again to stop at once)`);
    // A second signal gets the default action: the operator can always stop a stuck drain.
    void handle
      .close()
      .then(() => options.onClosed?.())
      .catch((err: unknown) => logger.error(`while closing: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => process.exit(0));
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
  return handle;
}
