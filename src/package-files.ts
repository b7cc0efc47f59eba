// Where the package's own files are — package.json, schema.sql, prompts/, dist/ui/waterfall.html: in
// the folder that holds package.json above this module. Looked up rather than fixed as "../..", since
// this code runs from src/ (tests, tsx) and, once bundled, from dist/ or from one of its chunk folders.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The package's root folder (a checkout, or node_modules/trace-doctor). */
export function packageRoot(): string {
  if (root !== undefined) return root;
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; ) {
    if (existsSync(join(dir, "package.json"))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`trace-doctor cannot find its package.json in ${here} or above`);
    dir = up;
  }
}

/** A file of the package by its path from the root, e.g. packageFile("schema.sql"). */
export function packageFile(...path: string[]): string {
  return join(packageRoot(), ...path);
}

/** The package's own version, from its package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(packageFile("package.json"), "utf8")) as { version: string }).version;
}
