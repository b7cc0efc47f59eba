// Preloaded with `node --require` into a server under test: when the process exits, writes what it
// loaded to LOAD_PROBE_OUT — Node's built-in modules, and every file loaded through require().
"use strict";
const { writeFileSync } = require("node:fs");
process.on("exit", () => {
  const builtins = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice("NativeModule ".length));
  writeFileSync(process.env.LOAD_PROBE_OUT, JSON.stringify({ builtins, required: Object.keys(require.cache) }));
});
