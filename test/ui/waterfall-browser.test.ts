// The waterfall view in a real browser: headless Chromium (Debian's) runs a host page with the ext-apps
// AppBridge, which loads the ui:// resource as served by the server into a sandboxed iframe under the
// spec's default CSP and hands it a real get_trace or compare_executions answer from the demo data.
// Checks what is drawn, the drill-down through tools/call (comparison → trace → subtree), that nothing
// is fetched, and that hostile span text stays text. Screenshots go to .artifacts/ (gitignored). Skips
// without /usr/bin/chromium, unless CI=true.

import { mkdirSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { generateDemoDataset, type DemoManifest } from "../../src/demo/demo-dataset.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans, type SpanRowInput } from "../../src/store/span-writer.js";
import compareExecutions from "../../src/tools/compare-executions.js";
import getTrace from "../../src/tools/get-trace.js";
import { WATERFALL_URI } from "../../src/ui/waterfall-resource.js";
import { openPglite, type TestDatabase } from "../support/test-databases.js";
import { connectTools, type ToolClient } from "../support/tool-client.js";
import type { Browser } from "playwright-core";
import { chromiumAvailable, hostRecord, launchChromium, screenshotView, startBrowserHost, type RunningHost } from "./browser-host.js";

const NOW = new Date("2025-10-22T18:00:00.000Z");
const ARTIFACTS = new URL("../../.artifacts/", import.meta.url);
const HOSTILE_ERROR = `upstream said: <script>parent.postMessage({pwned: "script"}, "*")</script><img src=x onerror="parent.postMessage({pwned: 'img'}, '*')"> & "quotes"`;
const HOSTILE_TRACE = "hostile0trace0000000000000000001";

/** The page globals these checks read, typed here since the tests compile without the DOM library. */
interface BrowserGlobals {
  document: { querySelectorAll(selector: string): { length: number } };
  getComputedStyle(element: unknown): { backgroundColor: string; borderTopStyle: string };
}

/** What a comparison row's bar cell draws, as fractions of its width: the bar's end, the band, the p50 marker. */
interface DrawnBars {
  bar: number | null;
  band: [number, number] | null;
  p50: number | null;
}

/** A failed runner hop whose error message and metadata try to inject markup. */
function hostileSpans(): SpanRowInput[] {
  const at = (ms: number) => new Date(NOW.getTime() - 3_600_000 + ms).toISOString();
  const base = { trace_id: HOSTILE_TRACE, service: "runner" };
  return [
    { ...base, span_id: "h0", parent_span_id: null, operation: "execute_question", started_at: at(0), completed_at: at(40), duration_ms: 40, status: "failed", error_message: "execution failed", metadata: { job_id: "hostile-job-1" } },
    {
      ...base,
      span_id: "h1",
      parent_span_id: "h0",
      operation: "call_router",
      started_at: at(2),
      completed_at: at(30),
      duration_ms: 28,
      status: "failed",
      error_message: HOSTILE_ERROR,
      metadata: { "<b>key</b>": "<iframe src=//example.com></iframe>", note: "<style>*{display:none}</style>" },
    },
  ];
}

describe.runIf(chromiumAvailable())("the waterfall view in headless Chromium", () => {
  let db: TestDatabase;
  let tools: ToolClient;
  let html: string;
  let ex: DemoManifest["examples"];
  let browser: Browser | undefined;
  const hosts: RunningHost[] = [];

  beforeAll(async () => {
    const launching = launchChromium();
    db = await openPglite();
    await applySchema(db.writer, db.table());
    const data = generateDemoDataset({ now: NOW });
    ex = data.manifest.examples;
    await insertSpans(db.writer, [...data.rows, ...hostileSpans()], db.table());
    tools = await connectTools({ spans: new SpanTable(db.reader, db.table(), ["job_id"]), now: () => NOW.getTime() });
    const read = await tools.client.readResource({ uri: WATERFALL_URI });
    html = String((read.contents[0] as { text?: string }).text);
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launching;
  });
  afterEach(async () => {
    for (const h of hosts.splice(0)) await h.close().catch(() => {});
  });
  afterAll(async () => {
    await browser?.close();
    await tools?.close();
    await db?.close();
  });

  type HostOptions = { serverTools?: boolean; echoAppCalls?: boolean; rewrite?: (name: string, args: Record<string, unknown>) => Record<string, unknown> };

  async function host(result: CallToolResult, args: Record<string, unknown>, options: HostOptions) {
    const host = await startBrowserHost(browser!, {
      html,
      toolInput: args,
      toolResult: result,
      echoAppCalls: options.echoAppCalls === true,
      ...(options.serverTools === false
        ? {}
        : { callTool: async (p: { name: string; arguments?: Record<string, unknown> }) => tools.call(p.name, options.rewrite ? options.rewrite(p.name, p.arguments ?? {}) : (p.arguments ?? {})) }),
    });
    hosts.push(host);
    return host;
  }

  async function open(args: Record<string, unknown>, options: HostOptions = {}) {
    const result = (await tools.call("get_trace", args)) as CallToolResult;
    expect(result.isError).toBeFalsy();
    return { host: await host(result, args, options), structured: getTrace.outputSchema.parse(result.structuredContent) };
  }

  async function compare(args: Record<string, unknown>, options: HostOptions = {}) {
    const result = (await tools.call("compare_executions", args)) as CallToolResult;
    expect(result.isError).toBeFalsy();
    return { host: await host(result, args, options), structured: compareExecutions.outputSchema.parse(result.structuredContent) };
  }

  /** Where a comparison row's bar, band and p50 marker are drawn, measured in the page. */
  function drawnBars(view: RunningHost["view"], key: string): Promise<DrawnBars> {
    return view.locator(`.crow[data-key="${key}"] .cbars`).evaluate((cell) => {
      type Box = { getBoundingClientRect(): { left: number; right: number; width: number } };
      const c = cell as unknown as Box & { querySelector(s: string): Box | null };
      const box = c.getBoundingClientRect();
      const at = (x: number) => Math.round((1000 * (x - box.left)) / box.width) / 1000;
      const part = (s: string) => c.querySelector(s)?.getBoundingClientRect() ?? null;
      const [bar, band, p50] = [part(".cbar"), part(".band"), part(".p50")];
      return { bar: bar && at(bar.right), band: band && [at(band.left), at(band.right)], p50: p50 && at((p50.left + p50.right) / 2) };
    });
  }

  it("draws the demo's 13 ms failure: one bar per span, the failures red, the critical path, the missing router hop", async () => {
    const { host, structured } = await open({ job_id: ex.immediateFailureJobId });
    const { view, page } = host;
    // find_gaps' missing hops arrive through the host after the first drawing.
    await view.waitForSelector(".row.missing", { timeout: 10_000 });

    const spanRows = view.locator(".row.span");
    expect(await spanRows.count()).toBe(structured.spans.length);
    for (const s of structured.spans) {
      const row = view.locator(`.row.span[data-span-id="${s.span_id}"]`);
      expect(await row.count()).toBe(1);
      expect(await row.getAttribute("data-status")).toBe(s.status === "failed" ? "failed" : "ok");
      expect(await row.getAttribute("data-critical")).toBe(String(s.critical));
    }
    // Failing hops are drawn red; the critical path is drawn over their bars.
    for (const id of structured.failed_span_ids) {
      const color = await view.locator(`.row.span[data-span-id="${id}"] .bar`).evaluate((e) => (globalThis as unknown as BrowserGlobals).getComputedStyle(e).backgroundColor);
      expect(color).toBe("rgb(224, 67, 75)");
    }
    expect(await view.locator(".row.span[data-critical=true] .crit").count()).toBeGreaterThanOrEqual(structured.critical_path.length);
    // The hop that never happened, under the caller that failed.
    expect(await view.locator('.row.missing[data-hop="router.inference_request"]').count()).toBe(1);
    // The failure where the error starts is selected, its details shown.
    expect(await view.locator(".detail strong").first().textContent()).toBe("runner.call_router");

    const record = await hostRecord(page);
    expect(record.initialized).toBe(true);
    expect(record.sizes.length).toBeGreaterThan(0);
    expect(record.calls).toEqual([{ name: "find_gaps", arguments: { job_id: ex.immediateFailureJobId } }]);
    expect(host.refused).toEqual([]);
    expect(host.consoleErrors).toEqual([]);

    await screenshotView(host, new URL("waterfall-13ms.png", ARTIFACTS));
  });

  it("draws a successful trace across three services with hand-off lead-ins and the critical path", async () => {
    const { host, structured } = await open({ trace_id: ex.successTraceId });
    const { view } = host;
    expect(await view.locator(".row.span").count()).toBe(structured.spans.length);
    expect(await view.locator(".row.span .lead").count()).toBeGreaterThan(0);
    expect(await view.locator('.row.span[data-status="failed"]').count()).toBe(0);
    expect(await view.locator(".cp-seg").count()).toBe(structured.critical_path.filter((c) => c.critical_ms > 0).length);
    expect(host.consoleErrors).toEqual([]);
    await screenshotView(host, new URL("waterfall-success.png", ARTIFACTS));
  });

  it("opens a collapsed group and a subtree through get_trace focus_span_id, and goes back by the breadcrumb", async () => {
    const { host, structured } = await open({ trace_id: ex.successTraceId, max_spans: 3 });
    const { view, page } = host;
    expect(structured.collapsed.length).toBeGreaterThan(0);
    expect(await view.locator(".row.group").count()).toBe(structured.collapsed.length);
    await view.locator(".row.group").first().click();
    await view.waitForSelector(".crumbs .crumb.here");
    const record = await hostRecord(page);
    const opened = record.calls.filter((c) => c.name === "get_trace");
    expect(opened).toHaveLength(1);
    expect(opened[0]!.arguments).toMatchObject({ trace_id: ex.successTraceId, focus_span_id: structured.collapsed[0]!.parent_span_id, max_spans: 500 });
    // Every span under that parent is now drawn.
    expect(await view.locator(".row.group").count()).toBe(0);
    await screenshotView(host, new URL("waterfall-opened-group.png", ARTIFACTS));

    await view.locator(".crumbs button.crumb").first().click();
    await view.waitForSelector(".row.group");
    expect(await view.locator(".row.span").count()).toBe(structured.spans.length);
    expect(record.calls.every((c) => c.name === "get_trace" || c.name === "find_gaps")).toBe(true);
  });

  it("stays where it is when the host also sends the view's own results as tool-result notifications", async () => {
    const { host } = await open({ trace_id: ex.successTraceId, max_spans: 3 }, { echoAppCalls: true });
    const { view, page } = host;
    await view.locator(".row.group").first().click();
    await view.waitForSelector(".crumbs .crumb.here");
    await page.waitForTimeout(300); // the echoes arrive after the answers
    expect(await view.locator(".crumbs .crumb").count()).toBe(2);
    expect(await view.locator(".row.group").count()).toBe(0);
    expect((await hostRecord(page)).calls.map((c) => c.name).sort()).toEqual(["find_gaps", "get_trace"]);
  });

  it("renders markup in an error message and in metadata as text, and runs none of it", async () => {
    const { host } = await open({ trace_id: HOSTILE_TRACE });
    const { view, page } = host;
    await view.locator('.row.span[data-span-id="h1"]').click();
    await view.waitForSelector(".detail .error-text");
    expect(await view.locator(".detail .error-text").textContent()).toBe(HOSTILE_ERROR);
    expect(await view.locator(".detail .meta th").allTextContents()).toContain("<b>key</b>");
    expect(await view.locator(".detail .meta td").allTextContents()).toContain("<iframe src=//example.com></iframe>");
    // Nothing from the data became an element, fetched anything, or ran.
    const injected = await view.evaluate(() => {
      const { document } = globalThis as unknown as BrowserGlobals;
      return {
        scripts: document.querySelectorAll("script").length,
        elements: document.querySelectorAll("img, iframe, b, style:not(head style)").length,
        styles: document.querySelectorAll("style").length,
      };
    });
    expect(injected).toEqual({ scripts: 1, elements: 0, styles: 1 });
    await page.waitForTimeout(200);
    expect((await hostRecord(page)).stray).toEqual([]);
    expect(host.refused).toEqual([]);
    await screenshotView(host, new URL("waterfall-hostile.png", ARTIFACTS));
  });

  it("without serverTools the view still draws, and says what to ask for instead of calling", async () => {
    const { host, structured } = await open({ trace_id: ex.successTraceId, max_spans: 3 }, { serverTools: false });
    const { view, page } = host;
    expect(await view.locator(".row.span").count()).toBe(structured.spans.length);
    await view.locator(".row.group").first().click();
    await view.waitForSelector(".detail .hint");
    expect(await view.locator(".detail .hint").textContent()).toContain(`focus_span_id=${structured.collapsed[0]!.parent_span_id}`);
    expect((await hostRecord(page)).calls).toEqual([]);
  });
  it("draws compare_executions' answer for the demo's slow hand-off: a row per hop against the healthy band, the divergence, where the time went", async () => {
    const { host, structured } = await compare({ job_id: ex.slowHandoffJobId });
    const { view, page } = host;
    expect(structured.duration.verdict).toBe("slow");
    // The execution's own row, then one per hop, in the answer's order, each with its verdict.
    const rows = view.locator(".crow[data-key]");
    expect(await rows.count()).toBe(structured.hops.length + 1);
    expect(await view.locator(".crow[data-key]:not(.total)").evaluateAll((rs) => rs.map((r) => [(r as unknown as { dataset: Record<string, string> }).dataset.hop, (r as unknown as { dataset: Record<string, string> }).dataset.verdict]))).toEqual(
      structured.hops.map((h) => [h.hop, h.verdict]),
    );
    expect(await view.locator(".title-row .state").allTextContents()).toEqual(["OK", "SLOW"]);
    expect(await view.locator(".title-row").textContent()).toMatch(/\d(\.\d)?× p50 · \d(\.\d)?× p95 · \+[\d.]+s over p50/);

    // The slow hop: its bar runs past the healthy band, the p50 marker inside the band's start.
    const slow = structured.hops.findIndex((h) => h.verdict === "slow");
    const drawn = await drawnBars(view, `hop:${slow}`);
    const h = structured.hops[slow]!;
    const top = Math.max(h.slowest_ms!, h.baseline_p95_ms!) * 1.1;
    expect(drawn.bar).toBeCloseTo(h.slowest_ms! / top, 2);
    expect(drawn.band![0]).toBeCloseTo(h.baseline_p50_ms! / top, 2);
    expect(drawn.band![1]).toBeCloseTo(h.baseline_p95_ms! / top, 2);
    expect(drawn.p50).toBeCloseTo(drawn.band![0], 2);
    expect(drawn.bar!).toBeGreaterThan(drawn.band![1]);
    expect(await view.locator(`.crow[data-key="hop:${slow}"] .cbar`).evaluate((e) => (globalThis as unknown as BrowserGlobals).getComputedStyle(e).backgroundColor)).toBe("rgb(239, 138, 23)");

    // The first divergence: its row highlighted and marked, its sentence in the header.
    const divergence = structured.first_divergence!;
    const marked = view.locator(".crow.diverges");
    expect(await marked.count()).toBe(1);
    expect(await marked.getAttribute("data-hop")).toBe(divergence.hop);
    expect(await marked.getAttribute("data-span-id")).toBe(divergence.span_id);
    expect(await marked.locator(".badge.first").textContent()).toBe("1st divergence");
    expect(await view.locator(".divergence").textContent()).toContain(divergence.sentence);
    expect(await view.locator(".cmp h2").allTextContents()).toContain("Where the extra time went");
    expect(await view.locator(".cmp .findings-box").first().textContent()).toContain(structured.where_time_went[0]!.sentence);

    expect((await hostRecord(page)).calls).toEqual([]);
    expect(host.refused).toEqual([]);
    expect(host.consoleErrors).toEqual([]);
    await screenshotView(host, new URL("compare-slow-handoff.png", ARTIFACTS));
  });

  it("opens the compared execution's trace at a hop's span through get_trace, and goes back to the comparison by the breadcrumb", async () => {
    const { host, structured } = await compare({ job_id: ex.slowHandoffJobId });
    const { view, page } = host;
    const divergence = structured.first_divergence!;
    await view.locator(".crow.diverges").click();
    await view.waitForSelector(".row.span");
    // The execution, asked for by the lookup the comparison made; the hop's span is selected in it.
    const calls = (await hostRecord(page)).calls;
    expect(calls.filter((c) => c.name === "get_trace")).toEqual([{ name: "get_trace", arguments: { job_id: ex.slowHandoffJobId } }]);
    expect(await view.locator(".row.span.selected").getAttribute("data-span-id")).toBe(divergence.span_id);
    expect(await view.locator(".detail strong").first().textContent()).toBe(divergence.hop);
    expect(await view.locator(".crumbs").textContent()).toBe("Comparison›Trace");
    await screenshotView(host, new URL("compare-opened-trace.png", ARTIFACTS));

    await view.locator(".crumbs button.crumb").click();
    await view.waitForSelector(".crow.diverges");
    expect(await view.locator(".crow[data-key]").count()).toBe(structured.hops.length + 1);
    // A second hop opens from the trace already read: no second get_trace.
    await view.locator('.crow[data-key="total"]').click();
    await view.waitForSelector(".row.span.selected");
    expect(await view.locator(".row.span.selected").getAttribute("data-span-id")).toBe(structured.execution.root_span_id);
    const after = (await hostRecord(page)).calls;
    expect(after.filter((c) => c.name === "get_trace")).toHaveLength(1);
    expect(after.every((c) => c.name === "get_trace" || c.name === "find_gaps")).toBe(true);
    expect(host.consoleErrors).toEqual([]);
  });

  it("opens the subtree of a hop's span when the whole trace's answer pruned it out", async () => {
    // The host's server answers the whole trace with two spans only, as a large trace would be pruned.
    const rewrite = (name: string, a: Record<string, unknown>) => (name === "get_trace" && a.focus_span_id === undefined ? { ...a, max_spans: 2 } : a);
    const { host, structured } = await compare({ job_id: ex.slowHandoffJobId }, { rewrite });
    const { view, page } = host;
    const leaf = structured.hops.findIndex((h) => h.hop === "router.select_provider");
    const spanId = structured.hops[leaf]!.span_ids[0]!;
    await view.locator(`.crow[data-key="hop:${leaf}"]`).click();
    await view.waitForSelector(".crumbs .crumb.here");
    expect(await view.locator(".crumbs").textContent()).toBe("Comparison›Trace›router.select_provider");
    expect((await hostRecord(page)).calls.filter((c) => c.name === "get_trace").map((c) => c.arguments)).toEqual([{ job_id: ex.slowHandoffJobId }, { job_id: ex.slowHandoffJobId, focus_span_id: spanId }]);
    expect(await view.locator(".row.span.selected").getAttribute("data-span-id")).toBe(spanId);
    expect(host.consoleErrors).toEqual([]);
  });

  it("draws the 13 ms failure's comparison: the failed hop, the missing ones as dashed bands, failing spans with their role", async () => {
    const { host, structured } = await compare({ job_id: ex.immediateFailureJobId });
    const { view } = host;
    expect(await view.locator(".title-row .state").allTextContents()).toEqual(["FAILED", "FAST"]);
    const missing = structured.hops.filter((h) => h.verdict === "missing");
    expect(missing.length).toBeGreaterThan(0);
    expect(await view.locator(".crow.v-missing").count()).toBe(missing.length);
    expect(await view.locator(".crow.v-missing .cbar").count()).toBe(0);
    expect(await view.locator(".crow.v-missing .band").first().evaluate((e) => (globalThis as unknown as BrowserGlobals).getComputedStyle(e).borderTopStyle)).toBe("dashed");
    const failed = view.locator('.crow[data-verdict="failed"]:not(.total)');
    expect(await failed.getAttribute("data-hop")).toBe(structured.first_divergence!.hop);
    expect(await failed.evaluate((e) => e.classList.contains("diverges"))).toBe(true);
    const roles = await view.locator(".cmp .findings-box tr[data-span-id] th").allTextContents();
    expect(roles).toEqual(structured.failing_spans.map((f) => f.role));
    expect(host.consoleErrors).toEqual([]);
    await screenshotView(host, new URL("compare-13ms.png", ARTIFACTS));
  });

  it("renders markup in a comparison's metadata differences and failing spans as text, and runs none of it", async () => {
    const { host, structured } = await compare({ trace_id: HOSTILE_TRACE });
    const { view, page } = host;
    expect(structured.metadata_differences.map((m) => m.key)).toContain("<b>key</b>");
    const cells = await view.locator(".md th, .md td").allTextContents();
    expect(cells).toContain("<b>key</b>");
    expect(cells).toContain("<iframe src=//example.com></iframe>");
    expect(cells).toContain("<style>*{display:none}</style>");
    expect(await view.locator(".cmp .error-text").allTextContents()).toContain(HOSTILE_ERROR);
    const injected = await view.evaluate(() => {
      const { document } = globalThis as unknown as BrowserGlobals;
      return { scripts: document.querySelectorAll("script").length, elements: document.querySelectorAll("img, iframe, b, style:not(head style)").length, styles: document.querySelectorAll("style").length };
    });
    expect(injected).toEqual({ scripts: 1, elements: 0, styles: 1 });
    await page.waitForTimeout(200);
    expect((await hostRecord(page)).stray).toEqual([]);
    expect(host.refused).toEqual([]);
    await screenshotView(host, new URL("compare-hostile.png", ARTIFACTS));
  });

  it("without serverTools the comparison still draws, with nothing to click, and says what to ask for", async () => {
    const { host } = await compare({ job_id: ex.slowHandoffJobId }, { serverTools: false });
    const { view, page } = host;
    expect(await view.locator(".crow.opens").count()).toBe(0);
    expect(await view.locator(".cmp .hint").last().textContent()).toContain(`get_trace with job_id=${ex.slowHandoffJobId}`);
    await view.locator(".crow.diverges").click();
    expect((await hostRecord(page)).calls).toEqual([]);
  });
});
