// What `npm pack` ships: the built server (dist/: the bundle's entry points, the demo included, and
// their chunks), the prompts, schema.sql and the README — no source maps without sources, no tests,
// no benchmark scripts. prepack builds dist/ first.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("the npm package", () => {
  it("ships dist/ and what the server reads at run time, and nothing test-only", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(["dist/index.js", "dist/demo/demo-session.js", "dist/demo/sentry-api-server.js", "schema.sql", "README.md", "package.json"]));
    expect(files.some((f) => f.startsWith("prompts/") && f.endsWith(".md"))).toBe(true);
    expect(files.filter((f) => f.endsWith(".map"))).toEqual([]);
    expect(files.filter((f) => /^(test|scripts|src)\//.test(f) || f.includes("bench"))).toEqual([]);
  });

  it("ships every chunk the bundle imports, and no module left over from an unbundled build", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT });
    const files = new Set((JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
    const js = [...files].filter((f) => f.startsWith("dist/") && f.endsWith(".js"));
    const imported = new Set<string>();
    for (const file of js) {
      const source = readFileSync(join(ROOT, file), "utf8");
      for (const [, spec] of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)"(\.\.?\/[^"]+)"/gm)) imported.add(join(dirname(file), spec!));
    }
    expect(imported.size).toBeGreaterThan(0);
    expect([...imported].filter((f) => !files.has(f))).toEqual([]);
    // Besides the entry points, only chunks: a dist/server.js or dist/tools/ would be a stale per-module build.
    const entries = ["dist/index.js", "dist/demo/demo-session.js", "dist/demo/sentry-api-server.js", "dist/ui/waterfall-resource.js"];
    expect(js.filter((f) => !entries.includes(f) && !f.startsWith("dist/chunks/"))).toEqual([]);
  });

  it("builds dist/ before packing, so a fresh clone packs a working server", () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { scripts: Record<string, string>; bin: Record<string, string> };
    expect(pkg.scripts.prepack).toMatch(/npm run build/);
    expect(pkg.bin["trace-doctor"]).toBe("dist/index.js");
  });
});
