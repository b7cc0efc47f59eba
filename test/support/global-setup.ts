// Once per test run: seed one embedded demo database on disk. End-to-end tests copy it (a directory
// copy, milliseconds) instead of each server seeding its own, which costs seconds on a small machine.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { openDemoDatabase } from "../../src/demo/demo-database.js";

declare module "vitest" {
  export interface ProvidedContext {
    demoTemplateDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const root = mkdtempSync(join(tmpdir(), "trace-doctor-demo-template-"));
  const dir = join(root, "demo");
  const demo = await openDemoDatabase(dir, { statementTimeoutMs: 5000 });
  await demo.db.close();
  project.provide("demoTemplateDir", dir);
  return () => rmSync(root, { recursive: true, force: true });
}
