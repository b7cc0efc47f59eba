// The names that point hosts at the MCP Apps view (ui/waterfall-resource.ts serves it): the extension's
// id, the view's URI and MIME type, and the tool `_meta` that names it. Apart from the resource so the
// tools can carry their `_meta` without loading the MCP SDK.

/** The MCP Apps extension (SEP-1865, 2026-01-26), as named in `capabilities.extensions`. */
export const UI_EXTENSION_ID = "io.modelcontextprotocol/ui";
export const MCP_APP_MIME_TYPE = "text/html;profile=mcp-app";
export const WATERFALL_URI = "ui://trace-doctor/waterfall";

/** What the server declares under `capabilities.extensions` (SEP-2133 lets servers advertise extensions too). */
export const UI_EXTENSION_CAPABILITY: Record<string, object> = { [UI_EXTENSION_ID]: { mimeTypes: [MCP_APP_MIME_TYPE] } };

/**
 * `_meta` for a tool whose answer the view draws: get_trace's as a waterfall, compare_executions' as a
 * comparison (recognised by its shape). The flat key is the spec's deprecated spelling, still read by
 * hosts that predate `ui.resourceUri`; the ext-apps SDK's registerAppTool writes both the same way.
 */
export const WATERFALL_TOOL_META: Readonly<Record<string, unknown>> = Object.freeze({
  ui: Object.freeze({ resourceUri: WATERFALL_URI }),
  "ui/resourceUri": WATERFALL_URI,
});
