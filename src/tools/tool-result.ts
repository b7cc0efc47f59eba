// The one place a tool call becomes an MCP result. It runs the handler inside the request's scope (its
// deadline, cancellation and progress), refuses text the database cannot hold, fits the answer to the
// budget, and turns typed errors into isError results whose text says what happened and what to do
// next, with a stable code in `_meta` — the same failure reads the same in every tool.

import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { InputError, TraceDoctorError, type ErrorCode } from "../errors.js";
import { logDebug, logError } from "../log.js";
import { runInScope, stoppedError, type RequestScope } from "../request-scope.js";
import { answerBytes, answerBytesOfJson, capStrings, cutString, fitAnswer } from "../answer-budget.js";
import type { ToolContext, ToolDefinition } from "./tool-definition.js";

export const ERROR_META_KEY = "trace-doctor/error";
const MAX_ERROR_CHARS = 8000;

export function errorResult(code: ErrorCode | "internal", text: string, detail: Record<string, string> = {}): CallToolResult {
  return { content: [{ type: "text", text }], isError: true, _meta: { [ERROR_META_KEY]: { code, ...detail } } };
}

/**
 * A call the SDK refused before any tool ran — arguments its input schema rejects, a tool it does not
 * have — as the same kind of result as every other error: code bad_input, `source: "schema"`, and what
 * to do next. Anything else the SDK turns into an error result (an answer failing its own output
 * schema) is a bug here, said as one.
 */
export function sdkErrorResult(message: string, toolNames: readonly string[]): CallToolResult {
  const text = cutString(message, MAX_ERROR_CHARS);
  if (/Input validation error/.test(message)) {
    return errorResult("bad_input", `${text}\nFix these arguments and call again: the tool's inputSchema (tools/list) says what each one takes.`, { source: "schema" });
  }
  if (/Tool \S+ (not found|disabled)/.test(message)) {
    return errorResult("bad_input", `${text}\nThe tools are ${toolNames.join(", ")} (tools/list).`, { source: "schema" });
  }
  logError(`the SDK refused an answer: ${message.slice(0, 500)}`);
  return errorResult("internal", `Internal error: ${text.slice(0, 500)}. This is a bug in trace-doctor, not in your data; the server is still running.`);
}

/** A failure the code understands keeps its message; anything else is a bug, said as one. */
export function resultOfError(err: unknown, tool: string): CallToolResult {
  // Messages quote ids and values from the data: bounded like any answer.
  if (err instanceof TraceDoctorError) return errorResult(err.code, cutString(err.message, MAX_ERROR_CHARS));
  const message = err instanceof Error ? err.message : String(err);
  logError(`${tool}: unexpected ${err instanceof Error ? (err.stack ?? message) : message}`);
  return errorResult(
    "internal",
    `Internal error in ${tool}: ${message.slice(0, 500)}. This is a bug in trace-doctor, not in your data; the server is still running. Try a narrower request, or report it with the arguments used.`,
  );
}

/** Postgres cannot store U+0000 in text: say which argument holds one instead of failing in SQL. */
export function rejectNulBytes(value: unknown, path = "arguments"): void {
  if (typeof value === "string") {
    if (value.includes("\u0000")) throw new InputError(`${path} contains a NUL character (U+0000), which no span or Sentry value can hold: remove it.`);
  } else if (Array.isArray(value)) value.forEach((v, i) => rejectNulBytes(v, `${path}[${i}]`));
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) rejectNulBytes(v, path === "arguments" ? k : `${path}.${k}`);
}

/** Answers whose structured content was serialized when it was measured (runTool). */
const structuredJson = new WeakMap<CallToolResult, string>();

/** A result as JSON text, as JSON.stringify writes it; the structured content measured by runTool is not serialized again. */
export function resultJson(result: CallToolResult): string {
  const json = structuredJson.get(result);
  const keys = Object.keys(result);
  if (json === undefined || keys.length !== 2 || keys[0] !== "content" || keys[1] !== "structuredContent") return JSON.stringify(result);
  return `{"content":${JSON.stringify(result.content)},"structuredContent":${json}}`;
}

export interface CallLimits {
  requestTimeoutMs: number;
  maxAnswerBytes: number;
}

/** A call in progress, for the progress notifications the registry sends. */
export interface CallProgress {
  steps: number;
  last: string;
}

export async function runTool(
  tool: ToolDefinition,
  input: Record<string, unknown>,
  base: Omit<ToolContext, "signal" | "fits">,
  call: { signal: AbortSignal; limits: CallLimits; progress?: CallProgress },
): Promise<CallToolResult> {
  const { limits } = call;
  const startedMs = Date.now();
  const controller = new AbortController();
  const deadlineMs = Date.now() + limits.requestTimeoutMs;
  const onClientAbort = () => controller.abort(call.signal.reason);
  call.signal.addEventListener("abort", onClientAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new Error("deadline")), limits.requestTimeoutMs);
  timer.unref();
  const scope: RequestScope = {
    signal: controller.signal,
    deadlineMs,
    timeoutMs: limits.requestTimeoutMs,
    step: (what) => {
      if (!call.progress) return;
      call.progress.steps++;
      call.progress.last = what;
    },
  };
  // The answer fits() last found to fit as it is, with its text and JSON: returned as it is, not drawn
  // or serialized again.
  let fitted: { structured: object; text: string; json: string } | null = null;
  const ctx: ToolContext = {
    ...base,
    signal: controller.signal,
    fits: (structured) => {
      const text = tool.render(structured as Record<string, unknown>, input, ctx);
      const json = JSON.stringify(structured) ?? "";
      if (answerBytesOfJson(json, text) <= limits.maxAnswerBytes) {
        fitted = { structured, text, json };
        return true;
      }
      // Long data values are shortened by the generic cut anyway: judge the answer as it would be then.
      const capped = capStrings(structured, 1000, { cut: 0 }) as Record<string, unknown>;
      return answerBytes(capped, tool.render(capped, input, ctx)) <= limits.maxAnswerBytes;
    },
  };
  try {
    rejectNulBytes(input);
    const structured = (await runInScope(scope, () => tool.handler(ctx, input))) as Record<string, unknown>;
    // An answer that came back after the client gave up or the deadline passed is not sent as if in time.
    if (controller.signal.aborted) throw stoppedError(scope);
    const known = fitted as { structured: object; text: string; json: string } | null;
    const answer =
      known?.structured === structured
        ? { structured, text: known.text, cut: null }
        : fitAnswer(structured, (s) => tool.render(s, input, ctx), limits.maxAnswerBytes, { keepTail: tool.keepTail ?? [] });
    logDebug(`${tool.name}: answered in ${Date.now() - startedMs} ms${answer.cut ? `, cut to fit ${limits.maxAnswerBytes} bytes` : ""}`);
    const result: CallToolResult = { content: [{ type: "text", text: answer.text }], structuredContent: answer.structured };
    if (known?.structured === structured) structuredJson.set(result, known.json);
    return result;
  } catch (err) {
    const result = resultOfError(controller.signal.aborted && !(err instanceof TraceDoctorError) ? stoppedError(scope) : err, tool.name);
    logDebug(`${tool.name}: ${String((result._meta?.[ERROR_META_KEY] as { code?: string } | undefined)?.code)} after ${Date.now() - startedMs} ms`);
    return result;
  } finally {
    clearTimeout(timer);
    call.signal.removeEventListener("abort", onClientAbort);
  }
}
