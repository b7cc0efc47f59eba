// The command line refuses what it does not know: an unknown command or flag exits 2 with the usage
// text on stderr and nothing on stdout; --help and --version answer on stdout.

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const SERVER = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const VERSION = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version as string;

async function fails(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return (await run(process.execPath, [SERVER, ...args], { env: { PATH: process.env.PATH ?? "" } }).then(
    () => ({ code: 0, stdout: "", stderr: "" }),
    (e: unknown) => e,
  )) as { code: number; stdout: string; stderr: string };
}

describe("trace-doctor's command line", () => {
  it.each([
    [["serve", "--foo"], /serve: Unknown option '--foo'/],
    [["--foo"], /Unknown option '--foo'/],
    [["frobnicate"], /Unknown command "frobnicate"/],
    [["init-db", "extra"], /init-db: .*positional/i],
  ])("%j exits 2 with the usage", async (args, message) => {
    const r = await fails(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/Usage:/);
    expect(r.stdout).toBe("");
  });

  it("--version prints the package version", async () => {
    const { stdout } = await run(process.execPath, [SERVER, "--version"]);
    expect(stdout.trim()).toBe(VERSION);
  });
});
