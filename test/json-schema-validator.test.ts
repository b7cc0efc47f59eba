// The server's JSON Schema validator builds the SDK's AJV validator only when first asked, then checks
// like it.

import { describe, expect, it } from "vitest";
import { LazyAjvJsonSchemaValidator } from "../src/json-schema-validator.js";

describe("LazyAjvJsonSchemaValidator", () => {
  it("validates with AJV once used: valid data passes, invalid data says why", () => {
    const check = new LazyAjvJsonSchemaValidator().getValidator<{ n: number }>({ type: "object", properties: { n: { type: "integer", minimum: 1 } }, required: ["n"] });
    expect(check({ n: 2 })).toEqual({ valid: true, data: { n: 2 }, errorMessage: undefined });
    const bad = check({ n: 0 });
    expect(bad.valid).toBe(false);
    expect(bad.errorMessage).toMatch(/must be >= 1/);
  });
});
