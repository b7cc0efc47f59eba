// The output schemas tools/list shows (src/tools/listed-schema.ts): each tool's top level — every
// field, the required ones, scalar fields whole, fields holding objects or lists named and described
// only — never stricter than the full schema; and the full schemas, exactly as the SDK derives them,
// in resource trace-doctor://output-schemas.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
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
  it.each(full.map((t) => [t.name, t] as const))("%s: every top-level field and the required list, scalars whole, objects and lists by name", (name, tool) => {
    const shown = listed.tools.find((t) => t.name === name)!.outputSchema;
    const { description, ...rest } = shown;
    expect(description).toContain(OUTPUT_SCHEMAS_URI);
    expect(rest.required).toEqual(tool.outputSchema.required);
    expect(rest.additionalProperties).toEqual(tool.outputSchema.additionalProperties);
    const fullProps = tool.outputSchema.properties as Record<string, Schema>;
    const shownProps = rest.properties as Record<string, Schema>;
    expect(Object.keys(shownProps)).toEqual(Object.keys(fullProps));
    let scalars = 0;
    for (const [p, s] of Object.entries(shownProps)) {
      const whole = JSON.stringify(fullProps[p]);
      const nested = /"type":"(object|array)"/.test(whole);
      // A scalar field's schema whole; an object or a list by its description alone.
      if (nested) expect(s, `${name}.${p}`).toEqual(typeof fullProps[p]!.description === "string" ? { description: fullProps[p]!.description } : {});
      else expect(s, `${name}.${p}`).toEqual(fullProps[p]);
      if (!nested) scalars++;
    }
    expect(scalars).toBeGreaterThan(0);
    expect(onlyDropsKeywords(rest, tool.outputSchema)).toBe(true);
  });

  it("keeps the tool list small: the listed output schemas are under a third of the full ones", () => {
    const size = (tools: Array<{ outputSchema: Schema }>) => JSON.stringify(tools.map((t) => t.outputSchema)).length;
    expect(size(listed.tools)).toBeLessThan(size(full) / 3);
  });

  it("names a field holding an object (alone or among alternatives) or a list, and keeps a scalar field whole", () => {
    const schema = {
      type: "object",
      properties: {
        a: { anyOf: [{ type: "object", properties: { x: { type: "string" } }, required: ["x"] }, { type: "null" }] },
        b: { type: "array", items: { type: "string", enum: ["p", "q"] } },
        c: { type: "array", items: { type: "object", properties: { y: { type: "number" } } }, description: "rows" },
        d: { type: "string", enum: ["on", "off"] },
        e: { type: ["string", "null"] },
      },
      required: ["a"],
    };
    expect(listedOutputSchema(schema).properties).toEqual({
      a: {},
      b: {},
      c: { description: "rows" },
      d: { type: "string", enum: ["on", "off"] },
      e: { type: ["string", "null"] },
    });
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
