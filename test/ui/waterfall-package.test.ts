// The npm package carries the built view (dist/ui/waterfall.html) and the module that serves it, and
// neither the build script nor the per-module JavaScript that the bundle already holds.

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("the waterfall view in the npm package", () => {
  it("ships dist/ui/waterfall.html and its resource module, not the build script or dist/ui/view/", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path).filter((f) => f.startsWith("dist/ui/"));
    expect(files.sort()).toEqual(["dist/ui/waterfall-resource.js", "dist/ui/waterfall.html"]);
  });
});
