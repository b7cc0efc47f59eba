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
import { generateDemoDataset } from "./demo/demo-dataset.js";
import { SentryClient, type SentryIssues } from "./sentry/sentry-client.js";
import { startTelemetry } from "./telemetry.js";
import { httpListenFrom, serveHttp } from "./http/index.js";

const USAGE = `trace-doctor ${SERVER_VERSION} — MCP server for diagnosing failures from trace spans

Usage:
  trace-doctor            serve MCP over stdio (what MCP clients run)
  trace-doctor serve --http [HOST:]PORT   serve MCP over Streamable HTTP (docs/http.md)
  trace-doctor init-db    create the trace_spans table and its indexes in DATABASE_URL (idempotent)
  trace-doctor demo       run a scripted session against the embedded demo database
  trace-doctor --help | --version

Settings are environment variables; see the README.`;

async function serve(config: Config, httpListen: string | null = null): Promise<void> {
  const telemetry = await startTelemetry(config.telemetryDsn, {
    release: `trace-doctor@${SERVER_VERSION}`,
    secrets: [config.sentry.token ?? "", passwordOf(config.databaseUrl)],
  });
  let db: ReadOnlyDatabase;
  let kind: "postgres" | "demo";
  let sentry: SentryIssues | null = null;
  let sentrySource: "demo" | "sentry" | "none" = "none";
  const closers: Array<() => Promise<void>> = [];
  if (config.sentry.missing.length === 0) {
    sentry = new SentryClient({
      baseUrl: config.sentry.url,
      token: config.sentry.token!,
      org: config.sentry.org!,
      ...(config.sentry.project ? { project: config.sentry.project } : {}),
      timeoutMs: config.sentry.timeoutMs,
    });
    sentrySource = "sentry";
  }
  if (config.databaseUrl) {
    db = new PostgresDatabase(config.databaseUrl, { statementTimeoutMs: config.statementTimeoutMs, poolMax: config.poolMax });
    kind = "postgres";
    logInfo(`reading ${config.table} from ${db.label}`);
  } else {
    const demo = await openDemoDatabase(config.demoDir, { statementTimeoutMs: config.statementTimeoutMs });
    db = demo.db;
    kind = "demo";
    logInfo(`DATABASE_URL is not set: serving the DEMO dataset (${demo.manifest.spans} made-up spans), ${demo.how}. Set DATABASE_URL to read your own trace_spans.`);
    if (!sentry) {
      // The demo covers Sentry too: a local stand-in speaks the Sentry API, so the real client runs.
      const { startDemoSentry } = await import("./demo/demo-sentry.js");
      const rows = generateDemoDataset({ now: new Date(demo.manifest.now), seed: demo.manifest.seed, jobs: demo.manifest.jobs }).rows;
      const local = await startDemoSentry(rows);
      sentry = local.client;
      sentrySource = "demo";
      closers.push(local.close);
      logInfo(`Sentry is not configured: serving DEMO Sentry issues from a local stand-in at ${local.url}.`);
    }
  }
  const spans = new SpanTable(db, config.table, config.correlationKeys);
  const makeServer = () => createServer(
    {
      spans,
      dataSource: { kind, label: db.label },
      maxTraceSpans: config.maxTraceSpans,
      immediateMs: config.immediateMs,
      unfinishedAfterMs: config.unfinishedAfterMs,
      sentry,
      sentryMissing: config.sentry.missing,
      sentrySource,
      jobTagKeys: config.sentry.jobTagKeys,
    },
    telemetry.wrap,
  );
  if (httpListen) {
    // One McpServer per HTTP session; SIGTERM drains them, then the adapters close.
    await serveHttp(httpListen, process.env, makeServer, { version: SERVER_VERSION, onClosed: async () => {
      await db.close().catch(() => {});
      for (const close of closers) await close().catch(() => {});
      await telemetry.flush().catch(() => {});
    } });
    return;
  }
  const server = makeServer();
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await server.close().catch(() => {});
    await db.close().catch(() => {});
    for (const close of closers) await close().catch(() => {});
    await telemetry.flush().catch(() => {});
    process.exit(0);
  };
  transport.onclose = () => void shutdown();
  process.stdin.on("end", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  await server.connect(transport);
}

function passwordOf(url: string | null): string {
  if (!url) return "";
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return "";
  }
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
  if (command === "serve") return serve(config, httpListenFrom(argv.slice(1)));
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
