#!/usr/bin/env node
// The trace-doctor command: `serve` (the default) serves MCP over stdio; `init-db` applies schema.sql
// to DATABASE_URL (the only command that writes); `demo` runs the scripted demo session. Unknown
// commands and flags exit 2 with the usage text.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { loadConfig, type Config } from "./config.js";
import { logError, logInfo } from "./log.js";
import { redactUrl } from "./store/database.js";

export const USAGE = `trace-doctor — MCP server for diagnosing failures from trace spans and Sentry

Usage:
  trace-doctor [serve]     serve MCP over stdio (what MCP clients run)
  trace-doctor serve --http [HOST:]PORT
                           serve MCP Streamable HTTP at /mcp (127.0.0.1 unless HOST says otherwise;
                           a non-loopback HOST needs TRACE_DOCTOR_HTTP_TOKEN or OAuth settings)
  trace-doctor init-db     create the trace_spans table and its indexes in DATABASE_URL (idempotent)
  trace-doctor init-db --partitioned [--days N] [--partman]
                           the same, partitioned by day on started_at: daily partitions for the last N
                           days (default 30) and the next 4, plus a default; --partman lets pg_partman
                           create and rotate them instead
  trace-doctor demo        run a scripted session against the embedded demo database
  trace-doctor --help | --version

Settings are environment variables; see the README.`;

/** Bad usage: the command line asks for something this program does not have. */
class UsageError extends Error {}

interface Command {
  options: NonNullable<ParseArgsConfig["options"]>;
  run(values: Record<string, unknown>, config: () => Config): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    options: { http: { type: "string" } },
    run: (v, config) => (typeof v.http === "string" ? serveHttp(config(), v.http) : serveStdio(config())),
  },
  "init-db": {
    options: { partitioned: { type: "boolean" }, days: { type: "string" }, partman: { type: "boolean" } },
    run: (v, config) => initDb(config(), v),
  },
  demo: {
    options: {},
    run: async () => {
      const { runDemoSession } = await import("./demo/demo-session.js");
      await runDemoSession();
    },
  },
};

async function serveStdio(config: Config): Promise<void> {
  const [{ StdioServerTransport }, { createServer, SERVER_VERSION }, { openRuntime }, { startTelemetry }] = await Promise.all([
    import("@modelcontextprotocol/sdk/server/stdio.js"),
    import("./server.js"),
    import("./runtime.js"),
    import("./telemetry.js"),
  ]);
  const telemetry = await startTelemetry(config.telemetryDsn, {
    release: `trace-doctor@${SERVER_VERSION}`,
    secrets: [config.sentry.token ?? "", passwordOf(config.databaseUrl)],
  });
  const runtime = await openRuntime(config);
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

async function serveHttp(config: Config, listen: string): Promise<void> {
  const { parseListenAddress, serveHttp: listenHttp } = await import("./http/index.js");
  // A bad address fails before any database opens.
  parseListenAddress(listen);
  const [{ createServer, SERVER_VERSION }, { openRuntime }, { startTelemetry }] = await Promise.all([
    import("./server.js"),
    import("./runtime.js"),
    import("./telemetry.js"),
  ]);
  const telemetry = await startTelemetry(config.telemetryDsn, {
    release: `trace-doctor@${SERVER_VERSION}`,
    secrets: [config.sentry.token ?? "", passwordOf(config.databaseUrl), process.env.TRACE_DOCTOR_HTTP_TOKEN ?? ""],
  });
  const runtime = await openRuntime(config);
  await listenHttp(listen, process.env, () => createServer(runtime.context, telemetry.wrap), {
    version: SERVER_VERSION,
    onClosed: async () => {
      await runtime.close();
      await telemetry.flush().catch(() => {});
    },
  });
}

function passwordOf(url: string | null): string {
  if (!url) return "";
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return "";
  }
}

async function initDb(config: Config, v: Record<string, unknown>): Promise<void> {
  const days = v.days === undefined ? 30 : Number(v.days);
  if (!Number.isInteger(days) || days < 1 || days > 3660) throw new UsageError(`init-db: --days must be a whole number of days from 1 to 3660, not ${JSON.stringify(v.days)}.`);
  if ((v.days !== undefined || v.partman) && !v.partitioned) throw new UsageError("init-db: --days and --partman go with --partitioned.");
  if (!config.databaseUrl) throw new Error("init-db needs DATABASE_URL: the connection string of the database to create the table in.");
  const [{ default: pg }, { applyPartitionedSchema, applySchema }] = await Promise.all([import("pg"), import("./store/span-writer.js")]);
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    if (v.partitioned) {
      const { partitions } = await applyPartitionedSchema(client, config.table, config.correlationKeys, config.columns, { days, partman: !!v.partman });
      logInfo(`schema applied: table ${config.table}, partitioned by day (${partitions}), and its indexes exist in ${redactUrl(config.databaseUrl)}`);
    } else {
      await applySchema(client, config.table, config.correlationKeys, config.columns);
      logInfo(`schema applied: table ${config.table} and its indexes exist in ${redactUrl(config.databaseUrl)}`);
    }
  } finally {
    await client.end();
  }
}

async function main(argv: string[]): Promise<void> {
  const first = argv[0];
  if (first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (first === "--version" || first === "-v") {
    const { SERVER_VERSION } = await import("./server.js");
    process.stdout.write(`${SERVER_VERSION}\n`);
    return;
  }
  const name = first === undefined || first.startsWith("-") ? "serve" : first;
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`Unknown command ${JSON.stringify(name)}.`);
  const rest = first === name ? argv.slice(1) : argv;
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: rest, options: command.options, allowPositionals: false, strict: true }));
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
  await command.run(values, () => loadConfig());
}

// Sanitise anything printed: a connection string in an error must not carry its password.
main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  logError(message.replace(/postgres(ql)?:\/\/[^\s"']+/gi, (url) => redactUrl(url)));
  if (err instanceof UsageError) {
    process.stderr.write(`\n${USAGE}\n`);
    process.exit(2);
  }
  process.exit(1);
});
