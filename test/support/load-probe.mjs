// Preloaded with `node --import` into a server under test: when the process exits, writes to
// LOAD_PROBE_OUT what it loaded — Node's built-in modules, the files loaded through require(), and
// (from load-probe-hooks.mjs, which runs in the loader's own thread) every ES module file.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire, register } from "node:module";

const out = process.env.LOAD_PROBE_OUT;
writeFileSync(`${out}.esm`, "");
register(new URL("./load-probe-hooks.mjs", import.meta.url));
const { cache } = createRequire(import.meta.url);
process.on("exit", () => {
  appendFileSync(`${out}.esm`, ""); // the hooks thread appends; read what it wrote by now
  const esm = readFileSync(`${out}.esm`, "utf8").split("\n").filter(Boolean);
  const builtins = process.moduleLoadList.filter((m) => m.startsWith("NativeModule ")).map((m) => m.slice("NativeModule ".length));
  writeFileSync(out, JSON.stringify({ builtins, required: Object.keys(cache), esm }));
});
