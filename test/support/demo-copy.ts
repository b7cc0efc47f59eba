// A private copy of the run's seeded demo database (see global-setup.ts), for a server process to open:
// PGlite takes one process per data directory.

import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";

export interface DemoCopy {
  /** Pass as TRACE_DOCTOR_DEMO_DIR. */
  dir: string;
  remove(): void;
}

export function copyDemoDatabase(): DemoCopy {
  const root = mkdtempSync(join(tmpdir(), "trace-doctor-demo-"));
  const dir = join(root, "demo");
  cpSync(inject("demoTemplateDir"), dir, { recursive: true });
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) };
}
