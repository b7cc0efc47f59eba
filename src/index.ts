#!/usr/bin/env -S node --max-semi-space-size=4
// The trace-doctor command (cli/main.ts), started the way a client starts it often should be: Node is
// set up first, then the rest loads. Whatever this file imported statically would be loaded and compiled
// before these lines ran, so it imports only the flag list, and reaches Node's modules through
// process.getBuiltinModule (no module facades, and v8 only when needed).

import { NODE_FLAGS } from "./cli/node-flags.js";

// Node 22+ keeps compiled code between starts (a client starts this server often); Node 20 has no such
// cache. Turned on before the command's code loads, so all of it is cached.
(process.getBuiltinModule("node:module") as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// A server's answers are short-lived garbage: a young generation of 4 MB semi-spaces (V8 grows them to
// 16 MB) keeps peak memory near 100 MB instead of 140+ at no cost in speed. The flag works best given to
// node (the bin's shebang and `config` do); set here too, it still lowers the peak for `node dist/index.js`.
if (!process.execArgv.some((a) => a.startsWith("--max-semi-space-size"))) process.getBuiltinModule("node:v8").setFlagsFromString(NODE_FLAGS[0]!);

const { runCommandLine } = await import("./cli/main.js");
await runCommandLine(process.argv.slice(2), import.meta.filename);
