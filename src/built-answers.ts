// What the build recorded for the built server to answer without its SDK (src/tool-list.ts makes them;
// scripts/build-server.ts puts them in as constants). Undefined when running from src/: the SDK answers.

/** The initialize answer's parts that do not depend on the settings or on the client. */
export interface BuiltInitialize {
  capabilities: Record<string, unknown>;
  serverInfo: { name: string; version: string };
  /** The protocol versions the SDK speaks; a client asking for another gets the latest. */
  protocolVersions: string[];
  latestProtocolVersion: string;
}

declare const __TRACE_DOCTOR_TOOL_LIST__: string | undefined;
declare const __TRACE_DOCTOR_INITIALIZE__: string | undefined;

/** The `result` of tools/list as JSON text. */
export const BUILT_TOOL_LIST: string | undefined = typeof __TRACE_DOCTOR_TOOL_LIST__ === "undefined" ? undefined : __TRACE_DOCTOR_TOOL_LIST__;

export const BUILT_INITIALIZE: BuiltInitialize | undefined =
  typeof __TRACE_DOCTOR_INITIALIZE__ === "undefined" ? undefined : (JSON.parse(__TRACE_DOCTOR_INITIALIZE__) as BuiltInitialize);
