// Builds the waterfall view into one self-contained document, dist/ui/waterfall.html: the template's
// styles minified and src/ui/view/main.ts bundled and minified by esbuild, both inlined. `npm run build`
// runs it after tsc; the package ships its output, not this script.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { build, transform } from "esbuild";

const ROOT = new URL("../", import.meta.url);
const SOURCE = new URL("src/ui/", ROOT);
const OUT = new URL("dist/ui/waterfall.html", ROOT);
const SCRIPT_MARKER = "/*__WATERFALL_VIEW__*/";
const STYLE = /<style>([\s\S]*?)<\/style>/;

export async function buildView(): Promise<number> {
  const template = await readFile(new URL("waterfall.html", SOURCE), "utf8");
  const style = STYLE.exec(template);
  if (!style || !template.includes(SCRIPT_MARKER)) throw new Error(`src/ui/waterfall.html needs one <style> and the ${SCRIPT_MARKER} script marker`);
  const css = await transform(style[1]!, { loader: "css", minify: true });
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("view/main.ts", SOURCE))],
    bundle: true,
    write: false,
    format: "iife",
    // What MCP Apps hosts embed (Electron desktops, VS Code webviews, current browsers) runs ES2022;
    // aiming lower would only add helpers for class fields.
    target: "es2022",
    platform: "browser",
    minify: true,
    charset: "utf8",
    legalComments: "none",
  });
  const script = bundle.outputFiles[0]!.text.trim();
  // esbuild escapes "</script" in strings; an inline script must never contain it.
  if (/<\/script/i.test(script)) throw new Error('the bundled view contains "</script" and cannot be inlined');
  const html = template
    .replace(/<!--[\s\S]*?-->\n?/g, "")
    .replace(STYLE, () => `<style>${css.code.trim()}</style>`)
    .replace(SCRIPT_MARKER, () => script);
  await mkdir(new URL(".", OUT), { recursive: true });
  await writeFile(OUT, html);
  return Buffer.byteLength(html);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildView();
