#!/usr/bin/env node
// The trace-doctor command (cli/main.ts), started the way a client starts it often should be: Node is
// set up first, then the rest loads. Whatever this file imported statically would be loaded and compiled
// before these lines ran, so it imports nothing, and reaches Node's modules through
// process.getBuiltinModule (no module facades). The server's heap settings are set once it serves
// (cli/node-flags.ts), not here: node is started without flags.

// Node 22+ keeps compiled code between starts (a client starts this server often); Node 20 has no such
// cache. Turned on before the command's code loads, so all of it is cached.
(process.getBuiltinModule("node:module") as { enableCompileCache?: () => unknown }).enableCompileCache?.();
const { runCommandLine } = await import("./cli/main.js");
await runCommandLine(process.argv.slice(2), import.meta.filename);
