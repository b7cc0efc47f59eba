// The package's own files are found from the folder holding package.json, wherever the module's code runs.

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { packageFile, packageRoot } from "../src/package-files.js";

describe("packageFile", () => {
  it("finds the root above src/ and the files the server reads from it", () => {
    expect(packageRoot()).toBe(fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, ""));
    expect(JSON.parse(readFileSync(packageFile("package.json"), "utf8")).name).toBe("trace-doctor");
    for (const file of ["schema.sql", "prompts/diagnose_failure.md"]) expect(existsSync(packageFile(...file.split("/")))).toBe(true);
  });
});
