#!/usr/bin/env node
// The trace-doctor command: with no argument it serves MCP over stdio; `init-db` applies schema.sql
// to DATABASE_URL (the only command that writes); `demo` runs the scripted demo session.

import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import pg from "pg";
import { loadConfig, type Config } from "./config.js";
import { logError, logInfo } from "./log.js";
import { createServer, SERVER_VERSION } from "./server.js";
import type { ReadOnlyDatabase } from "./store/database.js";
import { redactUrl } from "./store/database.js";
import { PostgresDatabase } from "./store/postgres.js";
import { SpanTable } from "./store/span-table.js";
import { applySchema } from "./store/span-writer.js";
import { openDemoDatabase } from "./demo/demo-database.js";

const USAGE = `trace-doctor ${SERVER_VERSION} — MCP server for diagnosing failures from trace spans

Usage:
  trace-doctor            serve MCP over stdio (what MCP clients run)
  trace-doctor init-db    create the trace_spans table and its indexes in DATABASE_URL (idempotent)
  trace-doctor demo       run a scripted session against the embedded demo database
  trace-doctor --help | --version

Settings are environment variables; see the README.`;

async function serve(config: Config): Promise<void> {
  let db: ReadOnlyDatabase;
  let kind: "postgres" | "demo";
  if (config.databaseUrl) {
    db = new PostgresDatabase(config.databaseUrl, { statementTimeoutMs: config.statementTimeoutMs, poolMax: config.poolMax });
    kind = "postgres";
    logInfo(`reading ${config.table} from ${db.label}`);
  } else {
    const demo = await openDemoDatabase(config.demoDir, { statementTimeoutMs: config.statementTimeoutMs });
    db = demo.db;
    kind = "demo";
    logInfo(`DATABASE_URL is not set: serving the DEMO dataset (${demo.manifest.spans} made-up spans), ${demo.how}. Set DATABASE_URL to read your own trace_spans.`);
  }
  const spans = new SpanTable(db, config.table, config.correlationKeys);
  const server = createServer({
    spans,
    dataSource: { kind, label: db.label },
    maxTraceSpans: config.maxTraceSpans,
    immediateMs: config.immediateMs,
    unfinishedAfterMs: config.unfinishedAfterMs,
  });
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => {});
    await db.close().catch(() => {});
    process.exit(0);
  };
  transport.onclose = () => void shutdown();
  process.stdin.on("end", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  await server.connect(transport);
}

async function initDb(config: Config): Promise<void> {
  if (!config.databaseUrl) throw new Error("init-db needs DATABASE_URL: the connection string of the database to create the table in.");
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  try {
    await applySchema(client, config.table, config.correlationKeys);
    logInfo(`schema applied: table ${config.table} and its indexes exist in ${redactUrl(config.databaseUrl)}`);
  } finally {
    await client.end();
  }
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0] ?? "serve";
  if (command === "--help" || command === "-h" || command === "help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (command === "--version") {
    process.stdout.write(`${SERVER_VERSION}\n`);
    return;
  }
  const config = loadConfig();
  if (command === "serve") return serve(config);
  if (command === "init-db") return initDb(config);
  if (command === "demo") {
    const { runDemoSession } = await import("./demo/demo-session.js");
    return runDemoSession();
  }
  throw new Error(`Unknown command ${JSON.stringify(command)}.\n\n${USAGE}`);
}

// Sanitise anything printed: a connection string in an error must not carry its password.
main(process.argv.slice(2)).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  logError(message.replace(/postgres(ql)?:\/\/[^\s"']+/gi, (url) => redactUrl(url)));
  process.exit(1);
});
