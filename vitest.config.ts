import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: more workers only add PGlite start-ups competing for them.
    maxWorkers: 2,
    reporters: ["default", "json"],
    outputFile: { json: ".vitest-report.json" },
  },
});
