// Bundles the server with esbuild into dist/: what `npm run build` ships instead of one file per module.
// A client starts an MCP server often, and loading some 400 files (ours, the SDK's, zod's, pg's) cost
// more than anything the server does before its first answer. The entry points keep their paths
// (dist/index.js is the bin); what only some commands need (the HTTP transport, the CLI commands, the
// demo database, the Sentry client) stays behind dynamic imports in chunks of its own, loaded when
// used. tsc still checks the types; it no longer emits.
//
// External, loaded from node_modules at run time: PGlite (it finds its wasm and data files next to
// itself), @sentry/node (loaded only with TRACE_DOCTOR_SENTRY_DSN, and it instruments modules as they
// load), and pg-native (pg's optional native binding, never installed by this package).

import { readFile, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions, type Metafile, type Plugin } from "esbuild";
import { compilePrompts } from "../src/prompts/prompt-library.js";
import { servedInitialize, servedToolList } from "../src/tool-list.js";

const ROOT = new URL("../", import.meta.url);
const path = (p: string) => fileURLToPath(new URL(p, ROOT));

export const EXTERNAL = ["@electric-sql/pglite", "@electric-sql/pglite/*", "@sentry/node", "pg-native"];

/**
 * pg decides at load time whether it runs in a Cloudflare Worker: where there is no global navigator
 * (Node 20), by constructing a fetch Response — which loads Node's undici, some 50 ms of a cold start.
 * This bundle runs only in Node, so the check answers false at once.
 */
const pgNodeOnly: Plugin = {
  name: "pg-node-only",
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const check = "function isCloudflareRuntime() {";
      if (!source.includes(check)) throw new Error(`${args.path} no longer has ${check} — see scripts/build-server.ts`);
      return { contents: source.replace(check, `${check}\n  return false; // trace-doctor's bundle runs in Node only`), loader: "js" };
    });
  },
};

/**
 * The SDK's server module imports its AJV provider for a default validator that createServer never
 * uses (it passes src/json-schema-validator.ts's lazy one): that import is pointed at the lazy one too,
 * so AJV's code (some 270 KB) is not loaded at start-up. The SDK's client, used by `call`, keeps the
 * real provider.
 */
const sdkServerLazyAjv: Plugin = {
  name: "sdk-server-lazy-ajv",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/validation\/ajv-provider\.js$/ }, (args) =>
      /[\\/]@modelcontextprotocol[\\/]sdk[\\/]dist[\\/]esm[\\/]server[\\/]index\.js$/.test(args.importer) ? { path: path("src/json-schema-validator.ts") } : undefined,
    );
  },
};

/**
 * zod's `locales` namespace re-exports its 60-odd message languages, some 370 KB of the zod chunk that
 * Node parses before the first tool call can run. Nothing here asks for a language: zod configures
 * English itself, and every message this server words is its own. So the bundle's `locales` holds
 * English only (a build that finds the index changed fails, rather than ship a different namespace).
 */
const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(b) {
    b.onLoad({ filter: /[\/]node_modules[\/]zod[\/]v4[\/]locales[\/]index\.js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const english = 'export { default as en } from "./en.js";';
      if (!source.includes(english)) throw new Error(`${args.path} no longer has ${english} — see scripts/build-server.ts`);
      return { contents: english, loader: "js", resolveDir: dirname(args.path) };
    });
  },
};

/** What both builds share: ESM for Node 20, no source maps (the package ships no sources to map to). */
const COMMON: BuildOptions = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir: path("dist"),
  // pg and some of the SDK's dependencies are CommonJS: their require() of Node's built-ins needs a
  // require in ESM output (process.getBuiltinModule, Node 20.16+: no import of node:module per chunk).
  banner: { js: 'const require = process.getBuiltinModule("node:module").createRequire(import.meta.url);' },
  sourcemap: false,
  legalComments: "eof",
  metafile: true,
  logLevel: "warning",
};

export async function buildServer(): Promise<Metafile> {
  // Nothing of an earlier build (tsc's one file per module) may linger and be packed.
  await rm(path("dist"), { recursive: true, force: true });
  // The command: dist/index.js, and a chunk per dynamic import (and per piece they share) in dist/chunks/.
  const server = await build({
    ...COMMON,
    entryPoints: { index: path("src/index.ts") },
    chunkNames: "chunks/[name]-[hash]",
    splitting: true,
    external: EXTERNAL,
    plugins: [pgNodeOnly, sdkServerLazyAjv, zodEnglishOnly],
    // prompts/ as the build parsed and checked it (a malformed file fails the build): the server takes a
    // file from here while it still reads the same, and parses only one edited since.
    // And tools/list and initialize as the SDK answers them for these tools (src/tool-list.ts): served as is.
    define: {
      __TRACE_DOCTOR_PROMPTS__: JSON.stringify(JSON.stringify(compilePrompts())),
      __TRACE_DOCTOR_TOOL_LIST__: JSON.stringify(JSON.stringify(await servedToolList())),
      __TRACE_DOCTOR_INITIALIZE__: JSON.stringify(JSON.stringify(await servedInitialize())),
    },
  });
  // Modules with paths of their own: the demo session (`npm run demo` runs it; it spawns dist/index.js),
  // the Sentry stand-in and the view's resource module. Built apart so they add no split points to the
  // server's chunks; they import their packages from node_modules.
  const modules = await build({
    ...COMMON,
    entryPoints: {
      "demo/demo-session": path("src/demo/demo-session.ts"),
      "demo/sentry-api-server": path("src/demo/sentry-api-server.ts"),
      "ui/waterfall-resource": path("src/ui/waterfall-resource.ts"),
    },
    packages: "external",
  });
  return { inputs: { ...server.metafile!.inputs, ...modules.metafile!.inputs }, outputs: { ...server.metafile!.outputs, ...modules.metafile!.outputs } };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildServer();
