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
  const scrub = <T>(value: T): T => {
    if (!secrets.length) return value;
    let json = JSON.stringify(value);
    for (const s of secrets) json = json.split(s).join("***");
    return JSON.parse(json) as T;
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
