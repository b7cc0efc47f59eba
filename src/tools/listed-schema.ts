// The output schemas as tools/list shows them. A client compiles every listed output schema when it
// lists the tools (the SDK's client with AJV: 150–200 ms for the six full ones, 47 KB of tools/list, on
// every start of the server), so the list carries each tool's top level in full — every field, its
// type, whether it is required, scalar values with their enums — and nested objects and lists by type
// only. The full schemas are resource trace-doctor://output-schemas. A listed schema only relaxes the
// full one: every answer valid under the full schema is valid under the listed one.

export const OUTPUT_SCHEMAS_URI = "trace-doctor://output-schemas";

type JsonSchema = Record<string, unknown>;

const isObject = (v: unknown): v is JsonSchema => typeof v === "object" && v !== null && !Array.isArray(v);

/** A schema that holds no object or list below it (a string, a number, an enum…), kept whole. */
function isScalar(schema: JsonSchema): boolean {
  if (schema.type === "object" || schema.type === "array" || Array.isArray(schema.type)) return false;
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    const members = schema[key];
    if (Array.isArray(members) && !members.every((m) => isObject(m) && isScalar(m))) return false;
  }
  return !("properties" in schema) && !("items" in schema) && !("additionalProperties" in schema);
}

/** A nested schema cut to its kind: the type (or the kinds of its alternatives) and its description. */
function byKind(schema: JsonSchema): JsonSchema {
  if (isScalar(schema)) return schema;
  const out: JsonSchema = {};
  if (schema.type !== undefined) out.type = schema.type;
  for (const key of ["anyOf", "oneOf"] as const) {
    const members = schema[key];
    if (Array.isArray(members)) out[key] = members.map((m) => (isObject(m) ? byKind(m) : m));
  }
  if (schema.type === "array" && isObject(schema.items) && isScalar(schema.items)) out.items = schema.items;
  if (typeof schema.description === "string") out.description = schema.description;
  return out;
}

export function listedOutputSchema(schema: JsonSchema): JsonSchema {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const note = `Nested objects and lists are shown by type only; resource ${OUTPUT_SCHEMAS_URI} has the full schema.`;
  return {
    ...schema,
    properties: Object.fromEntries(Object.entries(properties).map(([name, p]) => [name, isObject(p) ? byKind(p) : p])),
    description: typeof schema.description === "string" ? `${schema.description} ${note}` : note,
  };
}

/** tools/list's answer with every output schema as listed. */
export function listedTools<T extends { tools: Array<{ outputSchema?: JsonSchema }> }>(list: T): T {
  return { ...list, tools: list.tools.map((t) => (t.outputSchema ? { ...t, outputSchema: listedOutputSchema(t.outputSchema) } : t)) };
}
