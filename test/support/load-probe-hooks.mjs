// The loader hook of load-probe.mjs: notes each file an ES module import loads.
import { appendFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export async function load(url, context, nextLoad) {
  if (url.startsWith("file:")) appendFileSync(`${process.env.LOAD_PROBE_OUT}.esm`, `${fileURLToPath(url)}\n`);
  return nextLoad(url, context);
}
