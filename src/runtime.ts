// Opens what a server needs from the settings — the span table on Postgres or the embedded demo
// database, the Sentry client (or the demo's local stand-in), the settings tools read — and closes
// it again. The stdio server, and any other way of serving, starts from here.

import type { Config } from "./config.js";
import { logError, logInfo } from "./log.js";
import type { ServerContext } from "./server.js";
import type { ReadOnlyDatabase } from "./store/database.js";
import { SpanTable } from "./store/span-table.js";
import type { SentryIssues } from "./sentry/sentry-client.js";

export interface Runtime {
  context: ServerContext;
  close(): Promise<void>;
}

export async function openRuntime(config: Config): Promise<Runtime> {
  const closers: Array<() => Promise<void>> = [];
  let db: ReadOnlyDatabase;
  let kind: "postgres" | "demo";
  let sentry: SentryIssues | null = null;
  let source: "demo" | "sentry" | "none" = "none";
  if (config.sentry.missing.length === 0) {
    // Loaded only when configured: the client is not needed otherwise.
    const { SentryClient } = await import("./sentry/sentry-client.js");
    sentry = new SentryClient({
      baseUrl: config.sentry.url,
      token: config.sentry.token!,
      org: config.sentry.org!,
      ...(config.sentry.project ? { project: config.sentry.project } : {}),
      timeoutMs: config.sentry.timeoutMs,
      maxResponseBytes: config.sentry.maxResponseBytes,
    });
    source = "sentry";
  }
  if (config.databaseUrl) {
    const { PostgresDatabase } = await import("./store/postgres.js");
    db = new PostgresDatabase(config.databaseUrl, { statementTimeoutMs: config.statementTimeoutMs, poolMax: config.poolMax });
    kind = "postgres";
    logInfo(`reading ${config.table} from ${db.label}`);
  } else {
    // PGlite and the demo data load only in demo mode.
    const { openDemoDatabase } = await import("./demo/demo-database.js");
    const demo = await openDemoDatabase(config.demoDir, { statementTimeoutMs: config.statementTimeoutMs });
    db = demo.db;
    kind = "demo";
    logInfo(`DATABASE_URL is not set: serving the DEMO dataset (${demo.manifest.spans} made-up spans), ${demo.how}. Set DATABASE_URL to read your own trace_spans.`);
    if (!sentry) {
      // The demo covers Sentry too: a local stand-in speaks the Sentry API, so the real client runs.
      const { startDemoSentry } = await import("./demo/demo-sentry.js");
      const local = await startDemoSentry(demo.manifest);
      sentry = local.client;
      source = "demo";
      closers.push(local.close);
      logInfo(`Sentry is not configured: serving DEMO Sentry issues from a local stand-in at ${local.url}.`);
    }
  }
  closers.unshift(() => db.close());
  const spans = new SpanTable(db, config.table, config.correlationKeys, config.columns);
  // Checked now, so a missing table or a mistyped column shows at start-up, not only at the first call.
  const tableProblem = await spans.problem();
  if (tableProblem) logError(`the span table cannot be read yet: ${tableProblem}`);
  return {
    context: {
      spans,
      dataSource: { kind, label: db.label, ...(tableProblem ? { problem: tableProblem } : {}) },
      settings: {
        maxTraceSpans: config.maxTraceSpans,
        immediateMs: config.immediateMs,
        unfinishedAfterMs: config.unfinishedAfterMs,
        jobTagKeys: config.sentry.jobTagKeys,
      },
      sentry: { client: sentry, missing: config.sentry.missing, source },
      limits: { requestTimeoutMs: config.requestTimeoutMs, maxAnswerBytes: config.maxAnswerBytes },
    },
    async close() {
      for (const close of closers) await close().catch(() => {});
    },
  };
}
