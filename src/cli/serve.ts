// `trace-doctor serve`: MCP over stdio (what clients start, and often) or Streamable HTTP (--http).
// The server, its runtime and the stdio transport are imported statically, so the bundle loads the
// serve path as a few chunks rather than a chunk per dynamic import; the HTTP transport, the
// database adapters (pg or the demo's PGlite) and @sentry/node stay behind dynamic imports.

import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { secretsOf, type Config } from "../config.js";
import { openRuntime } from "../runtime.js";
import { createServer, SERVER_VERSION } from "../server.js";
import { startTelemetry } from "../telemetry.js";

export async function serveStdio(config: Config): Promise<void> {
  const [runtime, telemetry] = await Promise.all([openRuntime(config), telemetryFor(config)]);
  const server = createServer(runtime.context, telemetry.wrap);
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => {});
    await runtime.close();
    await telemetry.flush().catch(() => {});
    process.exit(0);
  };
  transport.onclose = () => void shutdown();
  process.stdin.on("end", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  await server.connect(transport);
}

export async function serveHttp(config: Config, listen: string): Promise<void> {
  const { parseListenAddress, serveHttp: listenHttp } = await import("../http/index.js");
  // A bad address fails before any database opens.
  parseListenAddress(listen);
  const [runtime, telemetry] = await Promise.all([openRuntime(config), telemetryFor(config)]);
  await listenHttp(listen, process.env, () => createServer(runtime.context, telemetry.wrap), {
    version: SERVER_VERSION,
    onClosed: async () => {
      await runtime.close();
      await telemetry.flush().catch(() => {});
    },
  });
}

/** The server's own telemetry; @sentry/node loads only when TRACE_DOCTOR_SENTRY_DSN is set. */
function telemetryFor(config: Config) {
  return startTelemetry(config.telemetryDsn, { release: `trace-doctor@${SERVER_VERSION}`, secrets: secretsOf(config) });
}
