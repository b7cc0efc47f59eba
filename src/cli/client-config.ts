// `trace-doctor config <client>`: a ready MCP configuration for Claude Desktop, Claude Code, Cursor or
// VS Code, with absolute paths and the settings set now written in that client's own variable syntax
// (Claude Code ${VAR}, Cursor ${env:VAR}, VS Code ${input:…} prompts for secrets; Claude Desktop has
// none, so its values are written as they are). With --http URL, the config for a running HTTP server.


export const CLIENTS = ["claude-desktop", "claude-code", "cursor", "vscode"] as const;
export type ClientName = (typeof CLIENTS)[number];

/** Settings a config carries when they are set; test and benchmark variables are not settings. */
const SETTING = /^(DATABASE_URL|SENTRY_AUTH_TOKEN|SENTRY_ACCESS_TOKEN|SENTRY_ORG|SENTRY_PROJECT|SENTRY_URL|SENTRY_TIMEOUT_MS|TRACE_DOCTOR_[A-Z0-9_]+)$/;
/** Settings that are secrets: prompted for where the client can, never echoed on stderr. */
const SECRET = new Set(["DATABASE_URL", "SENTRY_AUTH_TOKEN", "SENTRY_ACCESS_TOKEN", "TRACE_DOCTOR_HTTP_TOKEN", "TRACE_DOCTOR_SENTRY_DSN"]);
/** Read by the client side of HTTP mode, not by a stdio server started from the config. */
const SERVER_SIDE_ONLY = /^TRACE_DOCTOR_(HTTP_|OAUTH_)/;

export interface ConfigRequest {
  client: ClientName;
  /** Absolute path of the Node.js binary and of dist/index.js. */
  node: string;
  entry: string;
  env: NodeJS.ProcessEnv;
  /** The /mcp URL of a running `serve --http`. */
  httpUrl?: string;
}

export interface ClientConfig {
  /** The JSON to write, as the client reads it. */
  config: Record<string, unknown>;
  /** Where it goes, and anything to know, for stderr. */
  notes: string[];
}

const NAME = "trace-doctor";

export function clientConfig(request: ConfigRequest): ClientConfig {
  const notes: string[] = [where(request.client)];
  if (request.httpUrl !== undefined) {
    return { config: httpConfig(request, Boolean(request.env.TRACE_DOCTOR_HTTP_TOKEN?.trim())), notes: [...notes, ...httpNotes(request)] };
  }
  // A stdio server started by the client needs the settings set now, but not HTTP mode's own.
  const set = Object.keys(request.env)
    .filter((k) => SETTING.test(k) && !SERVER_SIDE_ONLY.test(k) && request.env[k]?.trim())
    .sort();
  if (!set.includes("DATABASE_URL")) notes.push("DATABASE_URL is not set: the server will serve the embedded demo data. Set it (and run this again) to read your own spans.");

  const stdio = { command: request.node, args: [request.entry] };
  switch (request.client) {
    case "claude-desktop": {
      const env = Object.fromEntries(set.map((k) => [k, request.env[k]!]));
      if (set.some((k) => SECRET.has(k))) notes.push("Claude Desktop has no variable syntax: the values set now are written into the config as they are, secrets included. Keep the file private.");
      return { config: { mcpServers: { [NAME]: { ...stdio, ...(set.length ? { env } : {}) } } }, notes };
    }
    case "claude-code": {
      const env = Object.fromEntries(set.map((k) => [k, `\${${k}}`]));
      notes.push(`Claude Code expands \${VAR} from its own environment: export ${set.join(", ") || "the settings"} where it runs. The same from the command line: claude mcp add ${NAME} ${set.map((k) => `--env ${k}=\${${k}}`).join(" ")} -- ${request.node} ${request.entry}`.replace(/ +/g, " "));
      return { config: { mcpServers: { [NAME]: { type: "stdio", ...stdio, ...(set.length ? { env } : {}) } } }, notes };
    }
    case "cursor": {
      const env = Object.fromEntries(set.map((k) => [k, `\${env:${k}}`]));
      return { config: { mcpServers: { [NAME]: { ...stdio, ...(set.length ? { env } : {}) } } }, notes };
    }
    case "vscode": {
      const inputs = set.filter((k) => SECRET.has(k)).map((k) => ({ type: "promptString", id: inputId(k), description: `${k} for trace-doctor`, password: true }));
      const env = Object.fromEntries(set.map((k) => [k, SECRET.has(k) ? `\${input:${inputId(k)}}` : request.env[k]!]));
      return { config: { ...(inputs.length ? { inputs } : {}), servers: { [NAME]: { type: "stdio", ...stdio, ...(set.length ? { env } : {}) } } }, notes };
    }
  }
}

function httpConfig(request: ConfigRequest, token: boolean): Record<string, unknown> {
  const url = request.httpUrl!;
  switch (request.client) {
    case "claude-desktop":
      // Claude Desktop's config file starts local processes only: a local bridge carries the remote server.
      return {
        mcpServers: {
          [NAME]: { command: "npx", args: ["-y", "mcp-remote", url, ...(token ? ["--header", `Authorization: Bearer ${request.env.TRACE_DOCTOR_HTTP_TOKEN}`] : [])] },
        },
      };
    case "claude-code":
      return { mcpServers: { [NAME]: { type: "http", url, ...(token ? { headers: { Authorization: "Bearer ${TRACE_DOCTOR_HTTP_TOKEN}" } } : {}) } } };
    case "cursor":
      return { mcpServers: { [NAME]: { url, ...(token ? { headers: { Authorization: "Bearer ${env:TRACE_DOCTOR_HTTP_TOKEN}" } } : {}) } } };
    case "vscode":
      return {
        ...(token ? { inputs: [{ type: "promptString", id: "trace-doctor-http-token", description: "TRACE_DOCTOR_HTTP_TOKEN of the trace-doctor server", password: true }] } : {}),
        servers: { [NAME]: { type: "http", url, ...(token ? { headers: { Authorization: "Bearer ${input:trace-doctor-http-token}" } } : {}) } },
      };
  }
}

function httpNotes(request: ConfigRequest): string[] {
  const notes: string[] = [];
  if (!request.env.TRACE_DOCTOR_HTTP_TOKEN) notes.push("No TRACE_DOCTOR_HTTP_TOKEN is set here: the config sends no Authorization header (right for a loopback server without auth, or an OAuth server the client signs in to).");
  if (request.client === "claude-desktop") notes.push("Claude Desktop reaches a remote server through the mcp-remote bridge (npx, from the npm registry), or add the URL under Settings → Connectors.");
  return notes;
}

function where(client: ClientName): string {
  switch (client) {
    case "claude-desktop":
      return "Claude Desktop: merge into claude_desktop_config.json (Settings → Developer → Edit Config), then restart Claude Desktop.";
    case "claude-code":
      return "Claude Code: save as .mcp.json at the project root (shared with the team), or use the claude mcp add line below.";
    case "cursor":
      return "Cursor: save as .cursor/mcp.json in the project, or ~/.cursor/mcp.json for every project.";
    case "vscode":
      return "VS Code: save as .vscode/mcp.json in the workspace (secrets are prompted for, not stored).";
  }
}

function inputId(setting: string): string {
  return `trace-doctor-${setting.toLowerCase().replace(/_/g, "-")}`;
}

/** The config's variables resolved as the client would, from `env` and answers to prompts (for tests and checks). */
export function resolveClientVariables(value: string, env: NodeJS.ProcessEnv, inputs: Record<string, string> = {}): string {
  return value
    .replace(/\$\{input:([^}]+)\}/g, (_, id: string) => inputs[id] ?? "")
    .replace(/\$\{env:([^}]+)\}/g, (_, k: string) => env[k] ?? "")
    .replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_, k: string, fallback?: string) => env[k] ?? fallback ?? "");
}
