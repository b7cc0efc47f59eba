// A tools/call answered without the SDK's request machinery. The SDK parses each message with zod
// three times over (the JSON-RPC envelope, the request, the result), builds a request context and
// parses the arguments asynchronously: per call, more than the tools' own work on a small trace. The
// common call — a tool of this server, arguments its schema accepts, no progress token, no task — is
// answered here by the same runTool the SDK's handler calls; anything else (a refusal the SDK words, a
// call that wants progress notifications or a task) is left to the SDK, so every answer reads the same
// whichever way it went. No SDK code is imported: the stdio front uses this before the SDK loads.

import { DEFAULT_MAX_ANSWER_BYTES, DEFAULT_REQUEST_TIMEOUT_MS } from "../limits.js";
import { TOOLS } from "./index.js";
import type { ToolContext, ToolDefinition } from "./tool-definition.js";
import { resultJson, runTool, type CallLimits } from "./tool-result.js";

export type ToolBase = Omit<ToolContext, "signal" | "fits">;

export const DEFAULT_CALL_LIMITS: CallLimits = { requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS, maxAnswerBytes: DEFAULT_MAX_ANSWER_BYTES };

/** The part of a server's context (server.ts) its calls read. */
export interface CallContext {
  spans: ToolBase["spans"];
  sentry: ToolBase["sentry"];
  settings: ToolBase["settings"];
  now?: () => number;
  limits?: Partial<CallLimits>;
}

/** What every call of a server gets: the readers, the settings, the clock, and its limits. */
export function callSettings(context: CallContext): { base: ToolBase; limits: CallLimits } {
  return {
    base: { spans: context.spans, sentry: context.sentry, settings: context.settings, now: context.now ?? Date.now },
    limits: { ...DEFAULT_CALL_LIMITS, ...context.limits },
  };
}

export interface ToolCaller {
  /**
   * The answer to a tools/call with these params, as the JSON text of its result, or null when the SDK
   * should answer it: an unknown tool, arguments the tool's schema refuses (the SDK words the
   * refusal), a progress token or a task.
   */
  direct(params: unknown, signal: AbortSignal): Promise<string> | null;
}

export function createToolCaller(context: CallContext, tools: readonly ToolDefinition[] = TOOLS): ToolCaller {
  const { base, limits } = callSettings(context);
  const byName = new Map(tools.map((t) => [t.name, t]));
  return {
    direct(params, signal) {
      if (!isPlainObject(params)) return null;
      const { name, arguments: args, _meta: meta, ...rest } = params;
      if (typeof name !== "string" || Object.keys(rest).length) return null;
      if (meta !== undefined && (!isPlainObject(meta) || "progressToken" in meta)) return null;
      if (args !== undefined && !isPlainObject(args)) return null;
      const tool = byName.get(name);
      if (!tool) return null;
      let parsed: ReturnType<typeof tool.inputSchema.safeParse>;
      try {
        parsed = tool.inputSchema.safeParse(args ?? {});
      } catch {
        return null; // an asynchronous refinement: the SDK parses asynchronously
      }
      if (!parsed.success) return null;
      return runTool(tool, parsed.data as Record<string, unknown>, base, { signal, limits }).then(resultJson);
    },
  };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
