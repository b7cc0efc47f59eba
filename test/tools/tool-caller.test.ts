// The tool caller (src/tools/tool-caller.ts): which tools/call it answers itself and which it leaves to
// the SDK, and that the JSON it answers with is the result as JSON.stringify writes it, whether the
// answer fitted as it was (its measured JSON reused) or had to be cut.

import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createToolCaller } from "../../src/tools/tool-caller.js";
import { defineTool, READ_ONLY, type ToolContext, type ToolDefinition } from "../../src/tools/tool-definition.js";
import { resultJson, runTool } from "../../src/tools/tool-result.js";

const echo = defineTool({
  name: "echo",
  title: "Echo",
  description: "Says it back.",
  annotations: READ_ONLY,
  inputSchema: z.object({ say: z.string().min(1), times: z.number().int().min(1).max(500).default(1) }),
  outputSchema: z.object({ said: z.array(z.string()), note: z.string() }),
  async handler(ctx, input) {
    const output = { said: Array.from({ length: input.times }, () => input.say), note: "quoted \"as\" given\n" };
    return ctx.fits(output) ? output : { ...output, said: output.said.slice(0, 1) };
  },
  render: (output) => output.said.join(" "),
});
const tools = [echo] as unknown as ToolDefinition[];
const context = { spans: {} as ToolContext["spans"], sentry: { client: null, missing: [] }, settings: { maxTraceSpans: 10, immediateMs: 50, unfinishedAfterMs: 60_000, jobTagKeys: [] } };
const signal = new AbortController().signal;

describe("the tool caller", () => {
  it("answers a known tool with valid arguments, as JSON.stringify writes the result", async () => {
    const caller = createToolCaller(context, tools);
    const json = await caller.direct({ name: "echo", arguments: { say: "hi", times: 3 } }, signal);
    const expected = await runTool(echo as unknown as ToolDefinition, { say: "hi", times: 3 }, { ...context, now: Date.now }, { signal, limits: { requestTimeoutMs: 5000, maxAnswerBytes: 100_000 } });
    expect(json).toBe(JSON.stringify(expected));
    expect(JSON.parse(json!).structuredContent.said).toEqual(["hi", "hi", "hi"]);
    // _meta without a progress token is still the common call.
    expect(await caller.direct({ name: "echo", arguments: { say: "hi" }, _meta: { "example/trace": "x" } }, signal)).toBe(
      JSON.stringify({ content: [{ type: "text", text: "hi" }], structuredContent: { said: ["hi"], note: "quoted \"as\" given\n" } }),
    );
  });

  it("serializes an answer that was cut to fit as JSON.stringify does", async () => {
    const caller = createToolCaller({ ...context, limits: { maxAnswerBytes: 2000 } }, tools);
    const json = await caller.direct({ name: "echo", arguments: { say: "x".repeat(100), times: 500 } }, signal);
    const parsed = JSON.parse(json!);
    expect(parsed.structuredContent.said.length).toBeLessThan(500);
    expect(json).toBe(JSON.stringify(parsed));
  });

  it("leaves to the SDK what it does not answer", () => {
    const caller = createToolCaller(context, tools);
    const refused: unknown[] = [
      null,
      "echo",
      { name: "nope", arguments: { say: "hi" } },
      { name: "echo", arguments: { say: "" } },
      { name: "echo", arguments: ["hi"] },
      { name: "echo" },
      { name: 7, arguments: { say: "hi" } },
      { name: "echo", arguments: { say: "hi" }, _meta: { progressToken: 1 } },
      { name: "echo", arguments: { say: "hi" }, task: { ttl: 1000 } },
    ];
    for (const params of refused) expect(caller.direct(params, signal), JSON.stringify(params)).toBeNull();
  });

  it("serializes any result as JSON.stringify does, measured or not", () => {
    const plain = { content: [{ type: "text" as const, text: "a \"b\"" }], isError: true };
    expect(resultJson(plain)).toBe(JSON.stringify(plain));
  });
});
