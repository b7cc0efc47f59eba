// The server's own telemetry, off unless the operator gives it a DSN (TRACE_DOCTOR_SENTRY_DSN): then
// its errors and tool-call performance go to that Sentry project. Tool inputs and outputs are not
// recorded (they hold the user's data), and known secrets are scrubbed from anything sent.

import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";

export interface Telemetry {
  wrap(server: McpServer): McpServer;
  flush(): Promise<void>;
}

const NONE: Telemetry = { wrap: (s) => s, flush: async () => {} };

export async function startTelemetry(dsn: string | null, options: { release: string; secrets: string[] }): Promise<Telemetry> {
  if (!dsn) return NONE;
  // Loaded only when wanted: the SDK costs start-up time nobody else should pay.
  const Sentry = await import("@sentry/node");
  const secrets = options.secrets.filter((s) => s.length >= 4);
  // Events can hold cycles (timers, sockets): walk them in place rather than through JSON.
  const clean = (text: string) => secrets.reduce((t, s) => t.split(s).join("***"), text);
  const scrub = <T>(value: T): T => {
    if (!secrets.length) return value;
    const seen = new WeakSet<object>();
    const walk = (node: unknown): void => {
      if (!node || typeof node !== "object" || seen.has(node)) return;
      seen.add(node);
      const record = node as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        const v = record[key];
        if (typeof v === "string") record[key] = clean(v);
        else walk(v);
      }
    };
    walk(value);
    return value;
  };
  Sentry.init({
    dsn,
    release: options.release,
    tracesSampleRate: 1.0,
    sendDefaultPii: false,
    // stdout is the MCP protocol: the SDK must never print there.
    debug: false,
    beforeSend: (event) => scrub(event),
    beforeSendTransaction: (event) => scrub(event),
  });
  return {
    wrap: (server) => Sentry.wrapMcpServerWithSentry(server, { recordInputs: false, recordOutputs: false }),
    flush: async () => {
      await Sentry.flush(2000);
    },
  };
}
