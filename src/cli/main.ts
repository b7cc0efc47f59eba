// The trace-doctor command line, run by index.ts: `serve` (the default) serves MCP over stdio, or
// Streamable HTTP with --http; `call` runs one tool for a script; `config` prints a client's
// configuration; `init-db` applies schema.sql to DATABASE_URL (the only command that writes); `demo`
// runs the scripted demo session. Unknown commands and flags exit 2 with the usage text.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { loadConfig, secretsOf, type Config } from "../config.js";
import { logError, logInfo, setLogSecrets } from "../log.js";
import { packageVersion } from "../package-files.js";
import { redactUrl } from "../store/database.js";

export const USAGE = `trace-doctor — MCP server for diagnosing failures from trace spans and Sentry

Usage:
  trace-doctor [serve]     serve MCP over stdio (what MCP clients run)
  trace-doctor serve --http [HOST:]PORT
                           serve MCP Streamable HTTP at /mcp (127.0.0.1 unless HOST says otherwise;
                           a non-loopback HOST needs TRACE_DOCTOR_HTTP_TOKEN or OAuth settings)
  trace-doctor call <tool> ['<json arguments>'] [--text]
                           run one tool and print its structured result as JSON (--text: the text view);
                           exit 0 for a result, 1 for a tool error, 2 for bad usage
  trace-doctor config <claude-desktop|claude-code|cursor|vscode> [--http URL]
                           print a ready MCP configuration for that client (absolute paths, the settings
                           set now in the client's variable syntax); --http: for a running HTTP server
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
  /** Most positional arguments the command takes (default none). */
  positionals?: number;
  run(values: Record<string, unknown>, positionals: string[], config: () => Config, entry: string): Promise<void>;
}

const COMMANDS: Record<string, Command> = {
  serve: {
    options: { http: { type: "string" } },
    run: async (v, _p, config) => {
      const { serveHttp, serveStdio } = await import("./serve.js");
      return typeof v.http === "string" ? serveHttp(config(), v.http) : serveStdio(config());
    },
  },
  call: {
    options: { text: { type: "boolean" } },
    positionals: 2,
    run: async (v, [tool, json], config) => {
      const { callTool, CallUsageError, parseCallArguments } = await import("./call-tool.js");
      let parsed;
      try {
        parsed = parseCallArguments(tool, json);
      } catch (err) {
        throw err instanceof CallUsageError ? new UsageError(err.message) : err;
      }
      const outcome = await callTool(config(), parsed.tool, parsed.args, { text: v.text === true });
      process.stdout.write(outcome.stdout);
      process.exitCode = outcome.exitCode;
    },
  },
  config: {
    options: { http: { type: "string" } },
    positionals: 1,
    run: async (v, [client], _config, entry) => {
      const { CLIENTS, clientConfig } = await import("./client-config.js");
      if (!client || !(CLIENTS as readonly string[]).includes(client)) throw new UsageError(`config needs a client: one of ${CLIENTS.join(", ")}.`);
      if (typeof v.http === "string" && !/^https?:\/\/[^/\s]+/.test(v.http)) throw new UsageError(`--http needs the server's URL, e.g. http://127.0.0.1:8765/mcp; got ${JSON.stringify(v.http)}.`);
      const { config, notes } = clientConfig({
        client: client as (typeof CLIENTS)[number],
        node: process.execPath,
        entry,
        env: process.env,
        ...(typeof v.http === "string" ? { httpUrl: v.http } : {}),
      });
      process.stdout.write(`${JSON.stringify(config, null, 2)}\n`);
      for (const note of notes) process.stderr.write(`${note}\n`);
    },
  },
  "init-db": {
    options: { partitioned: { type: "boolean" }, days: { type: "string" }, partman: { type: "boolean" } },
    run: (v, _p, config) => initDb(config(), v),
  },
  demo: {
    options: {},
    run: async () => {
      const { runDemoSession } = await import("../demo/demo-session.js");
      await runDemoSession();
    },
  },
};

async function initDb(config: Config, v: Record<string, unknown>): Promise<void> {
  const days = v.days === undefined ? 30 : Number(v.days);
  if (!Number.isInteger(days) || days < 1 || days > 3660) throw new UsageError(`init-db: --days must be a whole number of days from 1 to 3660, not ${JSON.stringify(v.days)}.`);
  if ((v.days !== undefined || v.partman) && !v.partitioned) throw new UsageError("init-db: --days and --partman go with --partitioned.");
  if (!config.databaseUrl) throw new Error("init-db needs DATABASE_URL: the connection string of the database to create the table in.");
  const [{ default: pg }, { applyPartitionedSchema, applySchema }] = await Promise.all([import("pg"), import("../store/span-writer.js")]);
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

async function main(argv: string[], entry: string): Promise<void> {
  const first = argv[0];
  if (first === "--help" || first === "-h" || first === "help") {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (first === "--version" || first === "-v") {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  const name = first === undefined || first.startsWith("-") ? "serve" : first;
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`Unknown command ${JSON.stringify(name)}.`);
  const rest = first === name ? argv.slice(1) : argv;
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: command.options, allowPositionals: (command.positionals ?? 0) > 0, strict: true }));
  } catch (err) {
    throw new UsageError(`${name}: ${(err as Error).message}`);
  }
  if (positionals.length > (command.positionals ?? 0)) throw new UsageError(`${name}: unexpected argument ${JSON.stringify(positionals[command.positionals ?? 0])}.`);
  await command.run(
    values,
    positionals,
    () => {
      const config = loadConfig();
      setLogSecrets(secretsOf(config));
      return config;
    },
    entry,
  );
}

/** Runs the command line; `entry` is the file a client's configuration should start (dist/index.js). */
export function runCommandLine(argv: string[], entry: string): Promise<void> {
  // Sanitise anything printed: a connection string in an error must not carry its password.
  return main(argv, entry).catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    logError(message.replace(/postgres(ql)?:\/\/[^\s"']+/gi, (url) => redactUrl(url)));
    if (err instanceof UsageError) {
      process.stderr.write(`\n${USAGE}\n`);
      process.exit(2);
    }
    process.exit(1);
  });
}
