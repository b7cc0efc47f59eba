// The output schemas as tools/list shows them. A client compiles every listed output schema when it
// lists the tools (the SDK's client with AJV: 150–200 ms for the six full ones, 47 KB of tools/list, on
// every start of the server), so the list carries each tool's top level: every field, which are
// required, no others, and each scalar field's schema whole (its type, its enum); a field that holds an
// object or a list is named and described, not typed — type checks are most of what AJV compiles, and
// a listed schema that typed them compiled in twice the time. The full schemas are resource
// trace-doctor://output-schemas. A listed schema only relaxes the full one: every answer valid under
// the full schema is valid under the listed one.

export const OUTPUT_SCHEMAS_URI = "trace-doctor://output-schemas";

type JsonSchema = Record<string, unknown>;

const isObject = (v: unknown): v is JsonSchema => typeof v === "object" && v !== null && !Array.isArray(v);

/** A schema that holds no object or list below it (a string, a number, an enum…), kept whole. */
function isScalar(schema: JsonSchema): boolean {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.includes("object") || types.includes("array")) return false;
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    const members = schema[key];
    if (Array.isArray(members) && !members.every((m) => isObject(m) && isScalar(m))) return false;
  }
  return !("properties" in schema) && !("items" in schema) && !("additionalProperties" in schema);
}

/** A field that holds an object or a list, cut to its description. */
function byName(schema: JsonSchema): JsonSchema {
  if (isScalar(schema)) return schema;
  return typeof schema.description === "string" ? { description: schema.description } : {};
}

export function listedOutputSchema(schema: JsonSchema): JsonSchema {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const note = `Fields holding objects or lists are named here, not typed; resource ${OUTPUT_SCHEMAS_URI} has the full schema.`;
  return {
    ...schema,
    properties: Object.fromEntries(Object.entries(properties).map(([name, p]) => [name, isObject(p) ? byName(p) : p])),
    description: typeof schema.description === "string" ? `${schema.description} ${note}` : note,
  };
}

/** tools/list's answer with every output schema as listed. */
export function listedTools<T extends { tools: Array<{ outputSchema?: JsonSchema }> }>(list: T): T {
  return { ...list, tools: list.tools.map((t) => (t.outputSchema ? { ...t, outputSchema: listedOutputSchema(t.outputSchema) } : t)) };
}
