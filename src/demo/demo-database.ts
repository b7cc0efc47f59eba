// The embedded demo database: PGlite in a data directory, created and seeded with the demo dataset
// on first run and reused afterwards. It is reseeded when its data has aged out of the last-24-hours
// window the tools look at by default, and falls back to memory when another process holds it.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PgliteDatabase } from "../store/pglite.js";
import { applySchema, insertSpans } from "../store/span-writer.js";
import { generateDemoDataset, type DemoManifest } from "./demo-dataset.js";

/** Bumped when the generator changes shape, so old demo directories are rebuilt. */
export const DEMO_DATASET_VERSION = 2;
const MARKER = "trace-doctor-demo.json";
const STALE_AFTER_MS = 6 * 3600_000;

export interface DemoDatabase {
  db: PgliteDatabase;
  manifest: DemoManifest;
  /** What happened at open: created, reused, reseeded, or in memory. */
  how: string;
}

interface Marker {
  version: number;
  manifest: DemoManifest;
}

export function readDemoManifest(dir: string): DemoManifest | null {
  const marker = readMarker(dir);
  return marker?.version === DEMO_DATASET_VERSION ? marker.manifest : null;
}

function readMarker(dir: string): Marker | null {
  try {
    return JSON.parse(readFileSync(join(dir, MARKER), "utf8")) as Marker;
  } catch {
    return null;
  }
}

export async function openDemoDatabase(
  dir: string,
  options: { statementTimeoutMs: number; now?: Date },
): Promise<DemoDatabase> {
  const now = options.now ?? new Date();
  const lock = acquireLock(dir);
  if (!lock) {
    const db = await PgliteDatabase.open(undefined, options.statementTimeoutMs);
    const manifest = await seed(db, now);
    return { db, manifest, how: `in memory (the data directory ${dir} is in use by another trace-doctor process)` };
  }
  const marker = readMarker(dir);
  const fresh = marker?.version === DEMO_DATASET_VERSION && now.getTime() - Date.parse(marker.manifest.now) < STALE_AFTER_MS;
  if (marker && fresh) {
    const db = await PgliteDatabase.open(dir, options.statementTimeoutMs);
    releaseOnClose(db, lock);
    return { db, manifest: marker.manifest, how: `reused from ${dir}` };
  }
  // Missing, half-written, outdated or stale: rebuild from scratch.
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const db = await PgliteDatabase.open(dir, options.statementTimeoutMs);
  releaseOnClose(db, lock);
  const manifest = await seed(db, now);
  writeFileSync(join(dir, MARKER), JSON.stringify({ version: DEMO_DATASET_VERSION, manifest } satisfies Marker, null, 2));
  return { db, manifest, how: `${marker ? "reseeded" : "created"} in ${dir}` };
}

async function seed(db: PgliteDatabase, now: Date): Promise<DemoManifest> {
  const { rows, manifest } = generateDemoDataset({ now });
  await applySchema(db.db);
  await insertSpans(db.db, rows);
  return manifest;
}

/** A pid file beside the data directory: PGlite must not be opened by two processes at once. */
function acquireLock(dir: string): string | null {
  const lockPath = `${dir}.lock`;
  mkdirSync(dirname(lockPath), { recursive: true });
  if (existsSync(lockPath)) {
    const pid = Number(readFileSync(lockPath, "utf8"));
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) return null;
  }
  writeFileSync(lockPath, String(process.pid));
  const release = () => {
    try {
      if (readFileSync(lockPath, "utf8") === String(process.pid)) rmSync(lockPath, { force: true });
    } catch {
      // already gone
    }
  };
  process.once("exit", release);
  return lockPath;
}

function releaseOnClose(db: PgliteDatabase, lockPath: string): void {
  const close = db.close.bind(db);
  db.close = async () => {
    await close();
    try {
      if (readFileSync(lockPath, "utf8") === String(process.pid)) rmSync(lockPath, { force: true });
    } catch {
      // already gone
    }
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
