// A span table that cannot be read is reported when the server starts — on stderr and in the MCP
// instructions — not only at the first tool call; the server still starts and answers with the reason.

import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { requirePostgresOrSkip, TEST_DATABASE_URL } from "../support/test-databases.js";

const SERVER = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const ready = await requirePostgresOrSkip();

describe.runIf(ready)("start-up checks of the span table", () => {
  it("a missing table shows on stderr and in the instructions, and every call says so", async () => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? "", DATABASE_URL: TEST_DATABASE_URL!, TRACE_DOCTOR_TABLE: "no_such_schema.no_such_table" };
    const transport = new StdioClientTransport({ command: process.execPath, args: [SERVER], env, stderr: "pipe" });
    let stderr = "";
    transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: "startup-check", version: "1" });
    await client.connect(transport);
    try {
      expect(client.getInstructions()).toMatch(/WARNING: at start-up the span table could not be read: No table no_such_schema\.no_such_table/);
      expect(stderr).toMatch(/the span table cannot be read yet: No table no_such_schema\.no_such_table .* init-db/);
      const r = (await client.callTool({ name: "get_trace", arguments: { trace_id: "x" } })) as CallToolResult;
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/No table no_such_schema\.no_such_table/);
    } finally {
      await client.close();
    }
  });
});
