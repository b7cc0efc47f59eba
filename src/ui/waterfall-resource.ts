// The MCP Apps view of get_trace and compare_executions: the `ui://trace-doctor/waterfall` resource — one
// self-contained HTML document that `npm run build` assembles under dist/ui/ — and the tool `_meta` that
// points hosts at it. Hosts without MCP Apps ignore both; the tool's answer is the same for every client.

import { readFile } from "node:fs/promises";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { ErrorCode, McpError, type ReadResourceResult } from "@modelcontextprotocol/sdk/types.js";
import { answerBytes } from "../answer-budget.js";
import { DEFAULT_MAX_ANSWER_BYTES } from "../limits.js";
import { packageFile } from "../package-files.js";
import { MCP_APP_MIME_TYPE, WATERFALL_URI } from "./waterfall-meta.js";

export { MCP_APP_MIME_TYPE, UI_EXTENSION_CAPABILITY, UI_EXTENSION_ID, WATERFALL_TOOL_META, WATERFALL_URI } from "./waterfall-meta.js";

/** Built by `npm run build` (scripts/build-view.ts); tests and the package read the same file. */
const BUILT = ["dist", "ui", "waterfall.html"];

/** Resource metadata: no CSP domains (the view fetches nothing, so the spec's restrictive default applies). */
const RESOURCE_UI_META = { ui: { prefersBorder: true } };

let documentText: Promise<string> | null = null;

/** The view as one HTML document, read once per process. */
export function waterfallDocument(): Promise<string> {
  documentText ??= readFile(packageFile(...BUILT), "utf8").catch(() => {
    documentText = null; // a later build can still be picked up
    throw new McpError(ErrorCode.InternalError, "The waterfall view is not built (dist/ui/waterfall.html is missing): run npm run build.");
  });
  return documentText;
}

export function registerWaterfallResource(server: McpServer, options: { maxAnswerBytes?: number } = {}): void {
  const budget = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  server.registerResource(
    "waterfall",
    WATERFALL_URI,
    {
      title: "Trace waterfall view",
      description:
        "The interactive view that MCP Apps hosts draw beside get_trace answers (a waterfall: one bar per span, failures in red, the critical path, hand-off gaps and missing hops) and compare_executions answers (each hop against healthy runs' p50–p95, the first divergence). An HTML document for the host, not data for a model.",
      mimeType: MCP_APP_MIME_TYPE,
      _meta: RESOURCE_UI_META,
    },
    async (uri): Promise<ReadResourceResult> => {
      const result: ReadResourceResult = { contents: [{ uri: uri.href, mimeType: MCP_APP_MIME_TYPE, text: await waterfallDocument(), _meta: RESOURCE_UI_META }] };
      // An HTML document cannot be cut and still work: a budget set below it is refused, and said so.
      const bytes = answerBytes(result, "");
      if (bytes > budget) {
        throw new McpError(ErrorCode.InvalidRequest, `The waterfall view is ${bytes} bytes, over the answer budget of ${budget} (TRACE_DOCTOR_MAX_ANSWER_BYTES); raise it to use the view.`);
      }
      return result;
    },
  );
}
