// The MCP server: registers every tool of the catalog (tools/index.ts) in one loop, the prompts and
// the resources, over the span table and the Sentry client. Knows nothing of pg, PGlite or HTTP:
// the command (index.ts) hands it the adapters.

import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, ListToolsRequestSchema, LoggingLevelSchema, McpError, SetLevelRequestSchema, type CallToolResult, type ListToolsResult, type LoggingLevel } from "@modelcontextprotocol/sdk/types.js";
import { LazyAjvJsonSchemaValidator } from "./json-schema-validator.js";
import { onLog } from "./log.js";
import { packageVersion } from "./package-files.js";
import { loadPrompts, registerPrompts } from "./prompts/prompt-library.js";
import { SpanArgumentCompleter } from "./prompts/argument-completion.js";
import { registerTraceResources } from "./resources/trace-resources.js";
import { registerWaterfallResource, UI_EXTENSION_CAPABILITY } from "./ui/waterfall-resource.js";
import { TOOLS } from "./tools/index.js";
import { BUILT_TOOL_LIST } from "./built-answers.js";
import { OUTPUT_SCHEMAS_URI } from "./tools/listed-schema.js";
import { z } from "zod";
import { instructionsFor } from "./instructions.js";
import { answerBytes, answerCutSchema } from "./answer-budget.js";
import type { SentryAccess, ToolSettings } from "./tools/tool-definition.js";
import { runTool, sdkErrorResult, type CallLimits, type CallProgress } from "./tools/tool-result.js";
import { callSettings } from "./tools/tool-caller.js";
import type { SpanTable } from "./store/span-table.js";

export const SERVER_NAME = "trace-doctor";
/** The package's own version. */
export const SERVER_VERSION: string = packageVersion();

export interface ServerContext {
  spans: SpanTable;
  /** Where the spans come from, said in the instructions (demo data must never pass for the user's). */
  dataSource: { kind: "postgres" | "demo"; label: string; /** Why the span table could not be read at start-up. */ problem?: string };
  settings: ToolSettings;
  sentry: SentryAccess & {
    /** Where the Sentry data comes from, for the instructions. */
    source: "demo" | "sentry" | "none";
  };
  /** Each call's deadline and answer budget; defaults: 30 s and 100,000 bytes. */
  limits?: Partial<CallLimits>;
  /** Epoch ms; tests fix it so answers are reproducible. */
  now?: () => number;
}

const LOG_LEVELS: readonly LoggingLevel[] = LoggingLevelSchema.options;
export interface CreateServerOptions {
  /**
   * "built" (the default): answer tools/list with the build's answer when the bundle has one;
   * "computed": always let the SDK compute it (what the build itself records).
   */
  servedToolList?: "built" | "computed";
}

/** A call that runs longer than this sends progress notifications, when the client asked for them. */
const PROGRESS_EVERY_MS = 1000;

/** Each tool's output schema as the SDK lists it from the zod schema (draft-07, as the output is). */
export function fullOutputSchemas(): Record<string, unknown> {
  return Object.fromEntries(TOOLS.map((tool) => [tool.name, z.toJSONSchema(registeredOutputSchema(tool), { target: "draft-7", io: "output" })]));
}

/** fullOutputSchemas() as JSON text, derived on the first read: the tools do not change. */
let outputSchemasText: string | null = null;

/** A tool's output schema as registered: every answer may carry what the budget cut, whatever the tool. */
function registeredOutputSchema(tool: (typeof TOOLS)[number]) {
  return tool.outputSchema.extend({ answer_cut: answerCutSchema.optional() });
}

/** `wrap` lets telemetry instrument the server before any tool is registered. */
export function createServer(context: ServerContext, wrap: (server: McpServer) => McpServer = (s) => s, options: CreateServerOptions = {}): McpServer {
  const server = wrap(
    new McpServer(
      { name: SERVER_NAME, version: SERVER_VERSION },
      {
        instructions: instructionsFor(context),
        capabilities: { tools: {}, prompts: {}, resources: {}, completions: {}, logging: {}, extensions: UI_EXTENSION_CAPABILITY },
        // Used only for elicitation answers, never asked for here: built on first use, not at start.
        jsonSchemaValidator: new LazyAjvJsonSchemaValidator(),
      },
    ),
  );
  const { base, limits } = callSettings(context);
  const { now } = base;
  // The bundle serves the build's tools/list (below), which carries every tool's output schema; its
  // tools are registered without one, so the SDK does not parse each answer against it again (some
  // 0.1 ms a call). From src/ (the tests, and the build recording that list) the SDK validates every
  // answer, and clients validate the bundle's answers against the schemas it lists.
  const builtList = options.servedToolList === "computed" ? undefined : BUILT_TOOL_LIST;
  for (const tool of TOOLS) {
    const outputSchema = builtList === undefined ? { outputSchema: registeredOutputSchema(tool) } : {};
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: tool.inputSchema, ...outputSchema, annotations: tool.annotations, ...(tool.meta ? { _meta: tool.meta } : {}) },
      async (input, extra) => {
        const token = extra._meta?.progressToken;
        const progress: CallProgress | undefined = token === undefined ? undefined : { steps: 0, last: "" };
        let ticks = 0;
        const timer =
          progress &&
          setInterval(() => {
            ticks++;
            const done = progress.steps ? `${progress.steps} quer${progress.steps === 1 ? "y" : "ies"} and calls done, the last to ${progress.last}` : "working";
            void extra
              .sendNotification({ method: "notifications/progress", params: { progressToken: token!, progress: ticks, message: `${tool.name}: ${done} (${ticks} s)` } })
              .catch(() => {});
          }, PROGRESS_EVERY_MS);
        timer?.unref();
        try {
          return await runTool(tool, input as Record<string, unknown>, base, { signal: extra.signal, limits, ...(progress ? { progress } : {}) });
        } finally {
          if (timer) clearInterval(timer);
        }
      },
    );
  }
  // What the SDK refuses before a tool runs (arguments its input schema rejects, an unknown tool) it
  // answers itself through this method, as bare text: the same shape and code as every other error.
  const sdk = server as unknown as { createToolError?: (message: string) => CallToolResult };
  if (typeof sdk.createToolError === "function") {
    const names = TOOLS.map((t) => t.name);
    sdk.createToolError = (message: string) => sdkErrorResult(message, names);
  }
  // The SDK converts every tool's zod schemas to JSON Schema on each tools/list: some 20 ms of a cold
  // start for these six. The same tools gave the build's answer, so the bundle serves that, with the
  // output schemas as listed (tools/listed-schema.ts; in full in resource trace-doctor://output-schemas).
  if (builtList !== undefined) server.server.setRequestHandler(ListToolsRequestSchema, () => JSON.parse(builtList) as ListToolsResult);
  // The server's own log lines reach the client as notifications/message once it asks for them with
  // logging/setLevel, at that level or above; a client that never asks gets none.
  let minLevel: LoggingLevel | null = null;
  server.server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    minLevel = request.params.level;
    return {};
  });
  const wanted = (level: LoggingLevel) => minLevel !== null && server.isConnected() && LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(minLevel);
  const stopLogging = onLog(
    (level, message) => {
      if (wanted(level)) void server.sendLoggingMessage({ level, logger: SERVER_NAME, data: message }).catch(() => {});
    },
    wanted,
  );
  const close = server.close.bind(server);
  server.close = async () => {
    stopLogging();
    await close();
  };
  const completer = new SpanArgumentCompleter(context.spans, { sentry: context.sentry.client, now });
  registerPrompts(server, loadPrompts(), completer);
  registerTraceResources(server, context.spans, {
    maxTraceSpans: context.settings.maxTraceSpans,
    maxAnswerBytes: limits.maxAnswerBytes,
    completer,
    immediateMs: context.settings.immediateMs,
    unfinishedAfterMs: context.settings.unfinishedAfterMs,
  });
  server.registerResource(
    "output-schemas",
    OUTPUT_SCHEMAS_URI,
    {
      title: "Tools' output schemas in full",
      description: "Each tool's structuredContent as JSON Schema (draft-07), types, required fields and nested shapes included; tools/list names their top-level fields.",
      mimeType: "application/json",
    },
    (uri) => {
      outputSchemasText ??= JSON.stringify(fullOutputSchemas());
      const result = { contents: [{ uri: uri.href, mimeType: "application/json", text: outputSchemasText }] };
      // A schema cut short is no schema: a budget set below the document is refused, and said so.
      const bytes = answerBytes(result, "");
      if (bytes > limits.maxAnswerBytes) {
        throw new McpError(ErrorCode.InvalidRequest, `The output schemas are ${bytes} bytes, over the answer budget of ${limits.maxAnswerBytes} (TRACE_DOCTOR_MAX_ANSWER_BYTES); raise it to read them.`);
      }
      return result;
    },
  );
  // The MCP Apps view of get_trace; hosts that do not render MCP Apps never read it.
  registerWaterfallResource(server, { maxAnswerBytes: limits.maxAnswerBytes });
  return server;
}
