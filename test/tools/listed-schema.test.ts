// The output schemas tools/list shows (src/tools/listed-schema.ts): each tool's fields named and
// described, nothing AJV would compile into a check (no types, no required list, no closed set of
// fields), never stricter than the full schema; and the full schemas, exactly as the SDK derives them,
// in resource trace-doctor://output-schemas.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { describe, expect, it } from "vitest";
import { createServer } from "../../src/server.js";
import { SpanTable } from "../../src/store/span-table.js";
import { sdkAnswers, servedToolList } from "../../src/tool-list.js";
import { listedOutputSchema, OUTPUT_SCHEMAS_URI } from "../../src/tools/listed-schema.js";

type Schema = Record<string, unknown>;
const full = ((await sdkAnswers()).toolList as { tools: Array<{ name: string; outputSchema: Schema }> }).tools;
const listed = (await servedToolList()) as { tools: Array<{ name: string; outputSchema: Schema }> };

/** Whether `loose` only leaves keywords of `strict` out (which in JSON Schema only relaxes), alternatives member by member. */
function onlyDropsKeywords(loose: unknown, strict: unknown): boolean {
  if (typeof loose !== "object" || loose === null) return JSON.stringify(loose) === JSON.stringify(strict);
  if (typeof strict !== "object" || strict === null) return false;
  if (Array.isArray(loose)) return Array.isArray(strict) && loose.length === strict.length && loose.every((l, i) => onlyDropsKeywords(l, strict[i]));
  const s = strict as Schema;
  return Object.entries(loose as Schema).every(([k, v]) => {
    if (!(k in s)) return false;
    if (k === "properties") return Object.entries(v as Schema).every(([p, ps]) => onlyDropsKeywords(ps, (s.properties as Schema)[p]));
    return onlyDropsKeywords(v, s[k]);
  });
}

describe("listed output schemas", () => {
  it.each(full.map((t) => [t.name, t] as const))("%s: every top-level field by name and description, and no keyword that checks", (name, tool) => {
    const shown = listed.tools.find((t) => t.name === name)!.outputSchema;
    const { description, ...rest } = shown;
    expect(description).toContain(OUTPUT_SCHEMAS_URI);
    expect(Object.keys(rest).sort()).toEqual(["$schema", "properties", "type"]);
    expect(rest.type).toBe("object");
    const fullProps = tool.outputSchema.properties as Record<string, Schema>;
    const shownProps = rest.properties as Record<string, Schema>;
    expect(Object.keys(shownProps)).toEqual(Object.keys(fullProps));
    let described = 0;
    for (const [p, s] of Object.entries(shownProps)) {
      expect(s, `${name}.${p}`).toEqual(typeof fullProps[p]!.description === "string" ? { description: fullProps[p]!.description } : {});
      if (s.description) described++;
    }
    expect(described).toBeGreaterThan(0);
    expect(onlyDropsKeywords(rest, tool.outputSchema)).toBe(true);
  });

  it("leaves the checking of answers to the full schemas: the SDK client's validator of a listed schema refuses no object", () => {
    const validator = new AjvJsonSchemaValidator();
    for (const tool of listed.tools) {
      const validate = validator.getValidator(tool.outputSchema as Parameters<typeof validator.getValidator>[0]);
      expect(validate({}).valid, tool.name).toBe(true);
      expect(validate({ answer_cut: ["spans"], spans: "not a list" }).valid, tool.name).toBe(true);
      expect(validate([]).valid, tool.name).toBe(false);
    }
  });

  it("keeps the tool list small: the listed output schemas are under a third of the full ones", () => {
    const size = (tools: Array<{ outputSchema: Schema }>) => JSON.stringify(tools.map((t) => t.outputSchema)).length;
    expect(size(listed.tools)).toBeLessThan(size(full) / 3);
  });

  it("names every field, an object, a list or a scalar, keeping only its description", () => {
    const schema = {
      type: "object",
      properties: {
        a: { anyOf: [{ type: "object", properties: { x: { type: "string" } }, required: ["x"] }, { type: "null" }] },
        b: { type: "array", items: { type: "string", enum: ["p", "q"] } },
        c: { type: "array", items: { type: "object", properties: { y: { type: "number" } } }, description: "rows" },
        d: { type: "string", enum: ["on", "off"], description: "a switch" },
        e: { type: ["string", "null"] },
      },
      required: ["a"],
      additionalProperties: false,
    };
    const shown = listedOutputSchema(schema);
    expect(shown.properties).toEqual({ a: {}, b: {}, c: { description: "rows" }, d: { description: "a switch" }, e: {} });
    expect(shown).not.toHaveProperty("required");
    expect(shown).not.toHaveProperty("additionalProperties");
  });

  /** A server with no database (the schemas need none) and a client connected to it in memory. */
  async function connected(limits?: { maxAnswerBytes: number }) {
    const unread = { label: "no database", query: () => Promise.reject(new Error("not read")), close: async () => {} };
    const server = createServer({
      spans: new SpanTable(unread, "trace_spans", ["job_id"], {}),
      dataSource: { kind: "postgres", label: unread.label },
      settings: { maxTraceSpans: 1, immediateMs: 1, unfinishedAfterMs: 1, jobTagKeys: ["job_id"] },
      sentry: { client: null, missing: [], source: "none" },
      ...(limits ? { limits } : {}),
    });
    const client = new Client({ name: "schema-test", version: "1" });
    const [a, b] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(b), client.connect(a)]);
    return { server, client };
  }

  it("serves every tool's full output schema, as the SDK derives it, as resource trace-doctor://output-schemas", async () => {
    const { server, client } = await connected();
    const read = await client.readResource({ uri: OUTPUT_SCHEMAS_URI });
    const content = read.contents[0] as { text: string; mimeType?: string };
    expect(content.mimeType).toBe("application/json");
    expect(JSON.parse(content.text)).toEqual(Object.fromEntries(full.map((t) => [t.name, t.outputSchema])));
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain(OUTPUT_SCHEMAS_URI);
    await client.close();
    await server.close();
  });

  it("refuses the full schemas, saying why, when the answer budget is below them", async () => {
    const { server, client } = await connected({ maxAnswerBytes: 5000 });
    await expect(client.readResource({ uri: OUTPUT_SCHEMAS_URI })).rejects.toThrow(/over the answer budget of 5000 \(TRACE_DOCTOR_MAX_ANSWER_BYTES\)/);
    await client.close();
    await server.close();
  });
});
