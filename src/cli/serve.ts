// `trace-doctor serve`: MCP over stdio (what clients start, and often) or Streamable HTTP (--http).
// The built server answers a stdio client's initialize and tools/list before its SDK has loaded, and
// its tool calls once the tools' code has (stdio-front.ts): this module and what it imports statically
// hold no SDK, zod or tool code; the tools, the server, the HTTP transport, the database adapters (pg
// or the demo's PGlite) and @sentry/node are behind dynamic imports.

import { BUILT_INITIALIZE, BUILT_TOOL_LIST } from "../built-answers.js";
import { secretsOf, type Config } from "../config.js";
import { instructionsFor } from "../instructions.js";
import { logError } from "../log.js";
import { packageVersion } from "../package-files.js";
import { openRuntime } from "../runtime.js";
import { startTelemetry, type Telemetry } from "../telemetry.js";
import { applyServerHeapFlags } from "./node-flags.js";
import { StdioFront } from "./stdio-front.js";

export async function serveStdio(config: Config): Promise<void> {
  // Lines that come while the database opens wait in stdin's pipe: nothing reads it yet.
  const [runtime, telemetry] = await Promise.all([openRuntime(config), telemetryFor(config)]);
  let server: { close(): Promise<void> } | null = null;
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server?.close().catch(() => {});
    await runtime.close();
    await telemetry.flush().catch(() => {});
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  const sdk = async () => {
    const [{ createServer }, { JSONRPCMessageSchema }] = await Promise.all([import("../server.js"), import("@modelcontextprotocol/sdk/types.js")]);
    const mcp = createServer(runtime.context, telemetry.wrap);
    server = mcp;
    applyServerHeapFlags();
    return { server: mcp, parse: (m: unknown) => JSONRPCMessageSchema.parse(m) };
  };
  // With telemetry on, every call goes through the SDK server it instruments.
  const loadCaller = async () => {
    if (config.telemetryDsn) return null;
    const { createToolCaller } = await import("../tools/tool-caller.js");
    applyServerHeapFlags();
    return createToolCaller(runtime.context);
  };
  if (BUILT_INITIALIZE && BUILT_TOOL_LIST !== undefined) {
    const front = new StdioFront({
      input: process.stdin,
      output: process.stdout,
      answers: { ...BUILT_INITIALIZE, toolList: BUILT_TOOL_LIST },
      instructions: instructionsFor(runtime.context),
      load: async () => {
        const loaded = await sdk();
        return { ...loaded, server: { connect: (t) => loaded.server.connect(t as unknown as Parameters<typeof loaded.server.connect>[0]) } };
      },
      loadCaller,
      onMismatch: (front, answer) => logError(`initialize was answered before the SDK loaded, and the SDK answers differently (a stale build?): ${JSON.stringify(front)} vs ${JSON.stringify(answer)}`),
      onLoadError: (err) => {
        logError(`cannot load the MCP server: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
      onEnd: () => void shutdown(),
    });
    front.start();
    return;
  }
  // From src/ (no build records): the SDK's own stdio transport from the start.
  const [{ StdioServerTransport }, { server: mcp }] = await Promise.all([import("@modelcontextprotocol/sdk/server/stdio.js"), sdk()]);
  const transport = new StdioServerTransport();
  transport.onclose = () => void shutdown();
  process.stdin.on("end", () => void shutdown());
  await mcp.connect(transport);
}

export async function serveHttp(config: Config, listen: string): Promise<void> {
  const [{ parseListenAddress, serveHttp: listenHttp }, { createServer }] = await Promise.all([import("../http/index.js"), import("../server.js")]);
  // A bad address fails before any database opens.
  parseListenAddress(listen);
  const [runtime, telemetry] = await Promise.all([openRuntime(config), telemetryFor(config)]);
  applyServerHeapFlags();
  await listenHttp(listen, process.env, () => createServer(runtime.context, telemetry.wrap), {
    version: packageVersion(),
    onClosed: async () => {
      await runtime.close();
      await telemetry.flush().catch(() => {});
    },
  });
}

/** The server's own telemetry; @sentry/node loads only when TRACE_DOCTOR_SENTRY_DSN is set. */
function telemetryFor(config: Config): Promise<Telemetry> {
  return startTelemetry(config.telemetryDsn, { release: `trace-doctor@${packageVersion()}`, secrets: secretsOf(config) });
}
