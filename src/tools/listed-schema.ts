// The output schemas as tools/list shows them. A client compiles every listed output schema when it
// lists the tools (the SDK's client with AJV, on every start of the server: 150–200 ms for the six
// full ones, 47 KB of tools/list; 10–12 ms for their top levels typed, with the required lists), so
// the list names each tool's fields and describes them, and asserts nothing else: no types, no
// required list, no closed set of fields — the keywords AJV compiles into checks (their top levels
// compile in ~1.5 ms so). The full schemas are resource trace-doctor://output-schemas. A listed schema
// only leaves keywords out of the full one, so every answer valid under the full schema is valid
// under the listed one.

export const OUTPUT_SCHEMAS_URI = "trace-doctor://output-schemas";

type JsonSchema = Record<string, unknown>;

const isObject = (v: unknown): v is JsonSchema => typeof v === "object" && v !== null && !Array.isArray(v);

/** A field by its name and description alone. */
function byName(schema: unknown): JsonSchema {
  return isObject(schema) && typeof schema.description === "string" ? { description: schema.description } : {};
}

export function listedOutputSchema(schema: JsonSchema): JsonSchema {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const note = `Its fields are named and described here, not typed; resource ${OUTPUT_SCHEMAS_URI} has the full schema (types, required fields, nested shapes).`;
  return {
    ...("$schema" in schema ? { $schema: schema.$schema } : {}),
    type: "object",
    properties: Object.fromEntries(Object.entries(properties).map(([name, p]) => [name, byName(p)])),
    description: typeof schema.description === "string" ? `${schema.description} ${note}` : note,
  };
}

/** tools/list's answer with every output schema as listed. */
export function listedTools<T extends { tools: Array<{ outputSchema?: JsonSchema }> }>(list: T): T {
  return { ...list, tools: list.tools.map((t) => (t.outputSchema ? { ...t, outputSchema: listedOutputSchema(t.outputSchema) } : t)) };
}
