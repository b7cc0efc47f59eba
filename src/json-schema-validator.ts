// The JSON Schema validator handed to the SDK's Server. The SDK uses one only to check a client's
// answer to an elicitation, which this server never asks for, yet its default builds an AJV instance
// (compiling AJV's meta-schemas) as the server is constructed: some 25 ms of every cold start. This one
// builds the SDK's own AJV validator on first use — loaded from the SDK's CommonJS build, so that
// getValidator can stay synchronous — and so costs nothing until then.
//
// The bundle also puts this module in place of the SDK server's import of its AJV provider
// (scripts/build-server.ts), so that AJV's code is not even loaded at start-up.

import { createRequire } from "node:module";
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";

const requirePackage = createRequire(import.meta.url);

export class LazyAjvJsonSchemaValidator implements jsonSchemaValidator {
  #inner: jsonSchemaValidator | undefined;

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    this.#inner ??= new (requirePackage("@modelcontextprotocol/sdk/validation/ajv") as typeof import("@modelcontextprotocol/sdk/validation/ajv")).AjvJsonSchemaValidator();
    return this.#inner.getValidator<T>(schema);
  }
}

/** The name the SDK's server module imports, for the bundle's substitution. */
export { LazyAjvJsonSchemaValidator as AjvJsonSchemaValidator };
