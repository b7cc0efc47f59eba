// A minimal MCP Apps host in headless Chromium for the view's browser tests: a host page that runs the
// ext-apps AppBridge (bundled here by esbuild) and loads the view into a sandboxed iframe on another
// origin under the spec's default CSP. Pages are served by request interception, so nothing touches the
// network; any other request the page makes is refused and recorded. The view's tools/call requests
// reach Node through `hostCallTool`, where the test answers them from a real trace-doctor server.

import { existsSync } from "node:fs";
import { build } from "esbuild";
import { chromium, type Browser, type Frame, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const HOST_ORIGIN = "http://host.test";
export const VIEW_ORIGIN = "http://sandbox.test";
/** The MCP Apps spec's CSP for a UI resource that declares no domains (2026-01-26, "Restrictive Default"). */
export const DEFAULT_CSP = "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'self'";
/** Besides Playwright's own (--headless, a fresh --user-data-dir): what this machine's closed network needs, no background connections. */
const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Whether the browser tests can run; in CI a missing Chromium is a failure, never a skip. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === "true") return true; // the suite runs and fails, saying what to install
  process.stderr.write(`[tests] skipping the waterfall browser tests: ${CHROMIUM} is missing (apt-get install -y chromium)\n`);
  return false;
}

/**
 * One headless Chromium for a test file; each host gets its own context. Playwright starts the browser
 * on a fresh temporary profile (--user-data-dir) and removes it on close.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`CI=true but ${CHROMIUM} is missing: install it with apt-get install -y chromium (.ci/run does).`);
  const [browser] = await Promise.all([chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS }), appBridgeScript()]);
  return browser;
}

let bridgeBundle: Promise<string> | null = null;

/** ext-apps' host side (AppBridge, PostMessageTransport) as one browser script exposing McpAppsHost. */
function appBridgeScript(): Promise<string> {
  bridgeBundle ??= build({
    stdin: { contents: 'export { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";', resolveDir: process.cwd(), loader: "js" },
    bundle: true,
    write: false,
    format: "iife",
    globalName: "McpAppsHost",
    platform: "browser",
    target: "es2020",
    minify: true,
    logLevel: "silent",
  }).then((r) => r.outputFiles[0]!.text);
  return bridgeBundle;
}

const HOST_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>test host</title></head>
<body style="margin:0;background:#eef0f3;font:13px system-ui">
<div style="width:960px;padding:14px"><iframe id="view" sandbox="allow-scripts" title="trace-doctor waterfall"
 style="display:block;width:100%;height:120px;border:1px solid #cfd4dc;border-radius:10px;background:#fff"></iframe></div>
<script src="/app-bridge.js"></script><script src="/host.js"></script></body></html>`;

/** The host's own logic, in the page: the AppBridge wired to the iframe, relaying tools/call to Node. */
const HOST_SCRIPT = `
window.__host = { initialized: false, sizes: [], calls: [], logs: [], stray: [] };
window.addEventListener("message", (e) => { if (!e.data || e.data.jsonrpc !== "2.0") window.__host.stray.push(String(JSON.stringify(e.data))); });
window.startHost = async (config) => {
  const { AppBridge, PostMessageTransport } = McpAppsHost;
  const iframe = document.getElementById("view");
  const bridge = new AppBridge(null, { name: "trace-doctor-test-host", version: "1.0.0" }, config.capabilities, { hostContext: config.hostContext });
  if (config.capabilities.serverTools) {
    bridge.oncalltool = async (params) => {
      window.__host.calls.push(params);
      const result = await window.hostCallTool(params);
      // Some hosts also hand the view the results of its own calls as tool-result notifications.
      if (config.echoAppCalls) setTimeout(() => bridge.sendToolResult(result), 0);
      return result;
    };
  }
  bridge.onsizechange = ({ height }) => { if (height) { iframe.style.height = height + "px"; window.__host.sizes.push(height); } };
  bridge.onloggingmessage = (p) => window.__host.logs.push(p);
  bridge.oninitialized = async () => {
    window.__host.initialized = true;
    await bridge.sendToolInput({ arguments: config.toolInput });
    await bridge.sendToolResult(config.toolResult);
  };
  await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
  iframe.src = ${JSON.stringify(`${VIEW_ORIGIN}/view.html`)};
};`;

export interface HostConfig {
  /** The ui:// resource's HTML, as resources/read returned it. */
  html: string;
  toolInput: Record<string, unknown>;
  /** The tool result the host hands the view (get_trace's or compare_executions', content and structuredContent). */
  toolResult: unknown;
  /** Answers the view's tools/call; omit to run a host without serverTools. */
  callTool?: (params: { name: string; arguments?: Record<string, unknown> }) => Promise<unknown>;
  hostContext?: Record<string, unknown>;
  /** Also send the results of the view's own tools/call back as ui/notifications/tool-result. */
  echoAppCalls?: boolean;
}

export interface RunningHost {
  page: Page;
  /** The view's frame, once it has drawn its first row (of a waterfall or a comparison). */
  view: Frame;
  /** Requests the page tried that were not the host page, the bridge, or the view. */
  refused: string[];
  /** Console errors, CSP violations among them. */
  consoleErrors: string[];
  close(): Promise<void>;
}

export async function startBrowserHost(browser: Browser, config: HostConfig): Promise<RunningHost> {
  const context = await browser.newContext({ viewport: { width: 990, height: 900 }, deviceScaleFactor: 2 });
  try {
    const refused: string[] = [];
    const consoleErrors: string[] = [];
    const bridge = await appBridgeScript();
    await context.route("**/*", async (route) => {
      const url = route.request().url();
      if (url === `${HOST_ORIGIN}/`) return route.fulfill({ contentType: "text/html", body: HOST_PAGE });
      if (url === `${HOST_ORIGIN}/app-bridge.js`) return route.fulfill({ contentType: "text/javascript", body: bridge });
      if (url === `${HOST_ORIGIN}/host.js`) return route.fulfill({ contentType: "text/javascript", body: HOST_SCRIPT });
      if (url === `${VIEW_ORIGIN}/view.html`) return route.fulfill({ contentType: "text/html", headers: { "content-security-policy": DEFAULT_CSP }, body: config.html });
      refused.push(url);
      return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
    if (config.callTool) {
      const answer = config.callTool;
      await page.exposeFunction("hostCallTool", (params: { name: string; arguments?: Record<string, unknown> }) => answer(params));
    }
    await page.goto(`${HOST_ORIGIN}/`);
    const capabilities = config.callTool ? { serverTools: {}, logging: {} } : { logging: {} };
    const hostContext = { theme: "light", displayMode: "inline", availableDisplayModes: ["inline"], platform: "web", containerDimensions: { width: 960, maxHeight: 4000 }, ...config.hostContext };
    await page.evaluate((c) => (globalThis as unknown as { startHost(c: unknown): Promise<void> }).startHost(c), { capabilities, hostContext, toolInput: config.toolInput, toolResult: config.toolResult, echoAppCalls: config.echoAppCalls === true });
    const frame = await waitForFrame(page);
    // A waterfall's first row, or a comparison's.
    await frame.waitForSelector(".row[data-kind], .crow[data-key]", { timeout: 10_000 });
    return { page, view: frame, refused, consoleErrors, close: () => context.close() };
  } catch (err) {
    await context.close().catch(() => {});
    throw err;
  }
}

async function waitForFrame(page: Page): Promise<Frame> {
  for (let i = 0; i < 100; i++) {
    const frame = page.frames().find((f) => f.url().startsWith(VIEW_ORIGIN));
    if (frame) return frame;
    await page.waitForTimeout(50);
  }
  throw new Error("the view's iframe never loaded");
}

/**
 * A picture of the view as the host shows it. The page is first made as tall as the iframe: Chromium
 * does not paint the part of an iframe that lies outside the window.
 */
export async function screenshotView(host: RunningHost, path: URL): Promise<void> {
  const box = await host.page.locator("#view").boundingBox();
  if (box) await host.page.setViewportSize({ width: 990, height: Math.ceil(box.y + box.height + 16) });
  await host.page.locator("#view").screenshot({ path: path.pathname });
}

/** What the host recorded: handshake, size notifications, the tools/call requests it relayed. */
export function hostRecord(page: Page): Promise<{ initialized: boolean; sizes: number[]; calls: Array<{ name: string; arguments?: Record<string, unknown> }>; stray: string[] }> {
  return page.evaluate(() => (globalThis as unknown as { __host: { initialized: boolean; sizes: number[]; calls: Array<{ name: string; arguments?: Record<string, unknown> }>; stray: string[] } }).__host);
}
