// Settings, read once from the environment and validated: a bad value stops the server at start-up
// with a message naming the variable, rather than surfacing later as a confusing tool error.

import { homedir } from "node:os";
import { join } from "node:path";
import { IMMEDIATE_MS, UNFINISHED_AFTER_MS } from "./analysis/defaults.js";
import { DEFAULT_MAX_ANSWER_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_SENTRY_MAX_BYTES } from "./limits.js";
import { parseColumnMapping, splitTableName, validateCorrelationKey, type ColumnMapping } from "./store/span-columns.js";

export interface Config {
  /** Postgres connection string; absent means the embedded demo database. */
  databaseUrl: string | null;
  table: string;
  /** Contract column → the table's own column (TRACE_DOCTOR_COLUMNS). */
  columns: ColumnMapping;
  statementTimeoutMs: number;
  correlationKeys: string[];
  demoDir: string;
  /** Most spans get_trace reads for one request. */
  maxTraceSpans: number;
  poolMax: number;
  /** Each call's deadline, covering all its statements and Sentry calls. */
  requestTimeoutMs: number;
  /** The whole answer (text and structured content) of any tool, resource or prompt. */
  maxAnswerBytes: number;
  /** A failure faster than this is "immediate": too fast for a network round trip. */
  immediateMs: number;
  /** A span still 'started' after this long counts as unfinished. */
  unfinishedAfterMs: number;
  sentry: SentryConfig;
  /** The server's own telemetry: errors and tool-call performance go here when set. */
  telemetryDsn: string | null;
}

export interface SentryConfig {
  token: string | null;
  org: string | null;
  project: string | null;
  /** https://sentry.io, a region host (https://us.sentry.io), or a self-hosted http(s)://host:port. */
  url: string;
  timeoutMs: number;
  /** Largest Sentry response body read; a bigger one is refused, not parsed. */
  maxResponseBytes: number;
  /** Sentry tag keys a job_id is searched under. */
  jobTagKeys: string[];
  /** Settings still needed before the Sentry tool can work; empty when configured. */
  missing: string[];
}

/**
 * A whole-number setting from 1 to max; unset or blank means the default. A bad value is added to
 * `problems` (all are reported at once) and the default stands in for it. Plain code, not zod: the
 * settings are read before a stdio server's first answer, and zod is not loaded for that.
 */
export function positiveIntSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number, problems: string[]): number {
  const v = env[name];
  if (v === undefined || v.trim() === "") return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    problems.push(`${name} must be a whole number from 1 to ${max}, got ${JSON.stringify(v)}`);
    return fallback;
  }
  return n;
}

export function defaultDemoDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.XDG_CACHE_HOME?.trim() || join(homedir(), ".cache");
  return join(cache, "trace-doctor", "demo-pglite");
}

/** A validation error raised while reading a setting names the setting. */
function setting(name: string, check: () => unknown): void {
  try {
    check();
  } catch (err) {
    throw new Error(`${name}: ${(err as Error).message}`);
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, max: number) => positiveIntSetting(env, name, fallback, max, problems);
  const e = {
    DATABASE_URL: env.DATABASE_URL,
    TRACE_DOCTOR_TABLE: env.TRACE_DOCTOR_TABLE,
    TRACE_DOCTOR_STATEMENT_TIMEOUT_MS: int("TRACE_DOCTOR_STATEMENT_TIMEOUT_MS", 5000, 600_000),
    TRACE_DOCTOR_CORRELATION_KEYS: env.TRACE_DOCTOR_CORRELATION_KEYS,
    TRACE_DOCTOR_DEMO_DIR: env.TRACE_DOCTOR_DEMO_DIR,
    TRACE_DOCTOR_MAX_TRACE_SPANS: int("TRACE_DOCTOR_MAX_TRACE_SPANS", 20_000, 1_000_000),
    TRACE_DOCTOR_POOL_MAX: int("TRACE_DOCTOR_POOL_MAX", 4, 100),
    TRACE_DOCTOR_REQUEST_TIMEOUT_MS: int("TRACE_DOCTOR_REQUEST_TIMEOUT_MS", DEFAULT_REQUEST_TIMEOUT_MS, 3_600_000),
    TRACE_DOCTOR_MAX_ANSWER_BYTES: int("TRACE_DOCTOR_MAX_ANSWER_BYTES", DEFAULT_MAX_ANSWER_BYTES, 50_000_000),
    TRACE_DOCTOR_SENTRY_MAX_BYTES: int("TRACE_DOCTOR_SENTRY_MAX_BYTES", DEFAULT_SENTRY_MAX_BYTES, 200_000_000),
    TRACE_DOCTOR_IMMEDIATE_MS: int("TRACE_DOCTOR_IMMEDIATE_MS", IMMEDIATE_MS, 60_000),
    TRACE_DOCTOR_UNFINISHED_AFTER_MS: int("TRACE_DOCTOR_UNFINISHED_AFTER_MS", UNFINISHED_AFTER_MS, 7 * 86_400_000),
    TRACE_DOCTOR_COLUMNS: env.TRACE_DOCTOR_COLUMNS,
    SENTRY_AUTH_TOKEN: env.SENTRY_AUTH_TOKEN,
    SENTRY_ACCESS_TOKEN: env.SENTRY_ACCESS_TOKEN,
    SENTRY_ORG: env.SENTRY_ORG,
    SENTRY_PROJECT: env.SENTRY_PROJECT,
    SENTRY_URL: env.SENTRY_URL,
    SENTRY_TIMEOUT_MS: int("SENTRY_TIMEOUT_MS", 10_000, 120_000),
    TRACE_DOCTOR_SENTRY_TAG_KEYS: env.TRACE_DOCTOR_SENTRY_TAG_KEYS,
    TRACE_DOCTOR_SENTRY_DSN: env.TRACE_DOCTOR_SENTRY_DSN,
  };
  if (problems.length) throw new Error(`Invalid settings: ${problems.join("; ")}`);

  const table = e.TRACE_DOCTOR_TABLE?.trim() || "trace_spans";
  setting("TRACE_DOCTOR_TABLE", () => splitTableName(table));
  const columns = parseColumnMapping(e.TRACE_DOCTOR_COLUMNS);
  const correlationKeys = (e.TRACE_DOCTOR_CORRELATION_KEYS ?? "job_id")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  if (!correlationKeys.length) throw new Error("TRACE_DOCTOR_CORRELATION_KEYS is empty: give at least one metadata key, e.g. job_id");
  setting("TRACE_DOCTOR_CORRELATION_KEYS", () => correlationKeys.forEach(validateCorrelationKey));

  const databaseUrl = e.DATABASE_URL?.trim() || null;
  if (databaseUrl && !/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw new Error("DATABASE_URL must be a postgres:// or postgresql:// connection string");
  }
  const sentryUrl = e.SENTRY_URL?.trim() || "https://sentry.io";
  if (!/^https?:\/\/[^/\s]+/i.test(sentryUrl)) throw new Error(`SENTRY_URL must be an http(s):// URL such as https://sentry.io or https://sentry.example.com:9000, got ${JSON.stringify(sentryUrl)}`);
  const token = e.SENTRY_AUTH_TOKEN?.trim() || e.SENTRY_ACCESS_TOKEN?.trim() || null;
  const org = e.SENTRY_ORG?.trim() || null;
  if (org && !/^[A-Za-z0-9_.-]+$/.test(org)) throw new Error(`SENTRY_ORG must be an organization slug (letters, digits, '-', '_'), got ${JSON.stringify(org)}`);
  const jobTagKeys = (e.TRACE_DOCTOR_SENTRY_TAG_KEYS ?? "job_id")
    .split(",")
    .map((k) => k.trim())
    .filter(Boolean);
  for (const key of jobTagKeys) if (!/^[A-Za-z0-9_.:-]+$/.test(key)) throw new Error(`TRACE_DOCTOR_SENTRY_TAG_KEYS: ${JSON.stringify(key)} is not a tag key`);
  const missing = [...(token ? [] : ["SENTRY_AUTH_TOKEN (or SENTRY_ACCESS_TOKEN)"]), ...(org ? [] : ["SENTRY_ORG"])];
  return {
    databaseUrl,
    table,
    columns,
    statementTimeoutMs: e.TRACE_DOCTOR_STATEMENT_TIMEOUT_MS,
    correlationKeys,
    demoDir: e.TRACE_DOCTOR_DEMO_DIR?.trim() || defaultDemoDir(env),
    maxTraceSpans: e.TRACE_DOCTOR_MAX_TRACE_SPANS,
    poolMax: e.TRACE_DOCTOR_POOL_MAX,
    requestTimeoutMs: e.TRACE_DOCTOR_REQUEST_TIMEOUT_MS,
    maxAnswerBytes: e.TRACE_DOCTOR_MAX_ANSWER_BYTES,
    immediateMs: e.TRACE_DOCTOR_IMMEDIATE_MS,
    unfinishedAfterMs: e.TRACE_DOCTOR_UNFINISHED_AFTER_MS,
    sentry: {
      token,
      org,
      project: e.SENTRY_PROJECT?.trim() || null,
      url: sentryUrl,
      timeoutMs: e.SENTRY_TIMEOUT_MS,
      maxResponseBytes: e.TRACE_DOCTOR_SENTRY_MAX_BYTES,
      jobTagKeys: jobTagKeys.length ? jobTagKeys : ["job_id"],
      missing,
    },
    telemetryDsn: e.TRACE_DOCTOR_SENTRY_DSN?.trim() || null,
  };
}

/** What must never be shown: the Sentry token, the database password, the HTTP token. */
export function secretsOf(config: Config, env: NodeJS.ProcessEnv = process.env): string[] {
  return [config.sentry.token ?? "", passwordOf(config.databaseUrl), env.TRACE_DOCTOR_HTTP_TOKEN ?? ""];
}

function passwordOf(url: string | null): string {
  if (!url) return "";
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return "";
  }
}
