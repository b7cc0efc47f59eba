#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=40
// The trace-doctor command (cli/main.ts), started the way a client starts it often should be: Node is
// set up first, then the rest loads. Whatever this file imported statically would be loaded and compiled
// before these lines ran, so it imports only the flag list, and reaches Node's modules through
// process.getBuiltinModule (no module facades, and v8 only when needed).

import { NODE_FLAGS } from "./cli/node-flags.js";

// Node 22+ keeps compiled code between starts (a client starts this server often); Node 20 has no such
// cache. Turned on before the command's code loads, so all of it is cached.
(process.getBuiltinModule("node:module") as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// A server's answers are short-lived garbage: a young generation of 4 MB semi-spaces (V8 grows them to
// 16 MB) and an old generation grown by 40 % at a time (V8 grows it up to fourfold while a request
// allocates fast) keep peak memory near 100 MB instead of 150+ at no measured cost in speed. The flags
// work best given to node (the bin's shebang and `config` do); set here too, they still lower the peak
// for `node dist/index.js`.
const missing = NODE_FLAGS.filter((flag) => !process.execArgv.some((a) => a.startsWith(flag.split("=")[0]!)));
if (missing.length) process.getBuiltinModule("node:v8").setFlagsFromString(missing.join(" "));

const { runCommandLine } = await import("./cli/main.js");
await runCommandLine(process.argv.slice(2), import.meta.filename);
