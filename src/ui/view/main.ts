// The waterfall view's entry point, bundled into the ui://trace-doctor/waterfall document: it connects to
// the MCP Apps host, draws get_trace's answer (or compare_executions', as a comparison) when the host
// hands it over, asks find_gaps (through the host) for the hops that are missing, and opens subtrees,
// collapsed groups and a compared execution's trace with get_trace, with a breadcrumb back. Everything
// it asks for is read-only; nothing it does writes.

import { drawComparison, type OpenTarget } from "./comparison-dom.js";
import { buildComparison, type ComparisonModel } from "./comparison-model.js";
import { HostBridge, HostRpcError, type ToolResult, type ViewTool } from "./host-bridge.js";
import { findTraces, readGaps, type GapOverlay, type TraceData } from "./trace-data.js";
import { el, type ViewElement, type ViewGlobals } from "./view-dom.js";
import { drawDetails, drawTrace } from "./waterfall-dom.js";
import { buildWaterfall, type GroupRow, type Row, type SpanRow, type WaterfallModel } from "./waterfall-model.js";

const APP_INFO = { name: "trace-doctor-waterfall", version: "1" };
/** Opening a collapsed group asks for as many rows as get_trace gives (its max_spans limit). */
const OPEN_GROUP_MAX_SPANS = 500;
/** Kept from the model's call; max_spans is not: a subtree opened by hand gets get_trace's default room. */
const GET_TRACE_CARRIED = ["include_metadata", "include_linked"] as const;

interface Screen {
  crumb: string;
  /** What the screen draws: traces as waterfalls, or (with none) a comparison. */
  traces: Array<{ title?: string; data: TraceData }>;
  comparison?: ComparisonModel;
  /** The get_trace arguments this screen was fetched with (none for the host's own call). */
  args?: Record<string, unknown>;
}

type Source = { by: "trace_id" | "job_id"; value: string };

const sourceKey = (s: Source) => `${s.by}=${s.value}`;
const textOf = (r: ToolResult) =>
  (Array.isArray(r.content) ? r.content : [])
    .map((c: unknown) => (typeof c === "object" && c !== null && (c as { type?: unknown }).type === "text" ? String((c as { text?: unknown }).text ?? "") : ""))
    .join("\n")
    .trim();

export class WaterfallView {
  private readonly bridge: HostBridge;
  private readonly root: ViewElement;
  private screens: Screen[] = [];
  private at = -1;
  private input: Record<string, unknown> = {};
  private readonly gaps = new Map<string, GapOverlay | "pending" | "none">();
  private selected: { section: number; key: string } | null = null;
  private models: WaterfallModel[] = [];
  private rowElements: ViewElement[] = [];
  private message: { text: string; kind: "wait" | "busy" | "error" } | null = { text: "Waiting for the trace…", kind: "wait" };
  /** Answers to the view's own calls: a host that also echoes them as tool-result must not reset the view. */
  private readonly ownAnswers = new Set<string>();
  private readonly inFlightFocus = new Set<string>();
  /** The span to select once the trace opened from a comparison is drawn. */
  private pendingSelect: string | null = null;
  /** Whole traces opened from the comparison, by source: a second hop's click needs no second call. */
  private readonly opened = new Map<string, Screen>();
  private lastSize = "";

  constructor(private readonly g: ViewGlobals) {
    const root = g.document.getElementById("app");
    if (!root) throw new Error("the view's document has no #app element");
    this.root = root;
    this.bridge = new HostBridge(g.window.parent, g.window, {
      toolInput: (args) => {
        this.input = args;
        if (this.at < 0) this.show({ text: `Loading the answer for ${describeInput(args)}…`, kind: "wait" });
      },
      toolResult: (result) => this.onToolResult(result),
      toolCancelled: (reason) => this.show({ text: `The call was cancelled${reason ? `: ${reason}` : ""}.`, kind: "error" }),
      hostContext: (changed) => {
        this.applyHostContext(changed);
        this.render();
      },
    });
    g.document.addEventListener("keydown", (e) => this.onKey(e.key ?? "", e));
    this.render();
  }

  async start(): Promise<void> {
    try {
      const init = await this.bridge.connect(APP_INFO, { availableDisplayModes: ["inline", "fullscreen"] });
      this.applyHostContext(init.hostContext);
    } catch (err) {
      this.show({ text: `No MCP Apps host answered (${(err as Error).message}). This view is meant to be shown by a host beside get_trace's answer.`, kind: "error" });
      return;
    }
    this.watchSize();
    this.render();
  }

  private onToolResult(result: ToolResult): void {
    const key = JSON.stringify(result.structuredContent ?? null);
    if (this.ownAnswers.has(key)) return;
    const gaps = readGaps(result.structuredContent);
    if (gaps) {
      const source = this.currentSource(0);
      if (source) this.gaps.set(sourceKey(source), gaps);
      return this.render();
    }
    const comparison = result.isError ? null : buildComparison(result.structuredContent);
    if (comparison) {
      this.screens = [{ crumb: "Comparison", traces: [], comparison }];
      this.opened.clear();
      return this.goTo(0);
    }
    const traces = findTraces(result.structuredContent);
    if (traces.some((t) => t.data.focus_span_id !== undefined && this.inFlightFocus.has(t.data.focus_span_id))) return;
    if (!traces.length) {
      const text = textOf(result);
      return this.show({ text: result.isError ? `The tool answered with an error: ${text}` : `Nothing to draw in this answer.${text ? ` ${text.slice(0, 2000)}` : ""}`, kind: "error" });
    }
    this.screens = [{ crumb: traces[0]!.data.focus_span_id ? "Subtree" : "Whole trace", traces }];
    this.goTo(0);
    this.fetchGaps(traces);
  }

  /**
   * From the comparison: this execution's trace, asked of get_trace by the same lookup the comparison
   * made, with the row's span selected — or, when the trace is too big to show that span, its subtree.
   */
  private async openExecution(model: ComparisonModel, target: OpenTarget): Promise<void> {
    const source = model.source;
    // Without serverTools nothing is clickable, and the comparison says what to ask for instead.
    if (!source || !this.bridge.canCallTools()) return;
    const whole = this.opened.get(sourceKey(source)) ?? (await this.traceScreen("Trace", { [source.by]: source.value }));
    if (!whole) return;
    this.opened.set(sourceKey(source), whole);
    const next = [whole];
    const id = target.spanId;
    // A span pruned out of a large trace's answer: its subtree shows it.
    if (id !== undefined && !whole.traces.some((t) => t.data.spans.some((s) => s.span_id === id))) {
      const sub = await this.traceScreen(target.label, { ...whole.args, focus_span_id: id });
      if (sub) next.push(sub);
    }
    this.push(next);
    this.pendingSelect = id ?? null;
    this.fetchGaps(whole.traces);
    this.render();
  }

  /** find_gaps for each trace drawn, once: the missing hops and hand-off baselines it adds to the rows. */
  private fetchGaps(traces: Screen["traces"]): void {
    if (!this.bridge.canCallTools()) return;
    traces.forEach((t, i) => {
      const source = this.sourceOf(t.data, i);
      if (!source || this.gaps.has(sourceKey(source))) return;
      this.gaps.set(sourceKey(source), "pending");
      this.call("find_gaps", { [source.by]: source.value })
        .then((r) => this.gaps.set(sourceKey(source), (!r.isError && readGaps(r.structuredContent)) || "none"))
        .catch(() => this.gaps.set(sourceKey(source), "none"))
        .finally(() => this.render());
    });
  }

  private async call(tool: ViewTool, args: Record<string, unknown>): Promise<ToolResult> {
    const result = await this.bridge.callTool(tool, args);
    this.ownAnswers.add(JSON.stringify(result.structuredContent ?? null));
    return result;
  }

  private sourceOf(data: TraceData, section: number): Source | null {
    if (data.resolved) return { by: data.resolved.by, value: data.resolved.value };
    const traceId = data.trace_ids[0] ?? data.spans[0]?.trace_id;
    return traceId ? { by: "trace_id", value: traceId } : (this.currentSource(section) ?? null);
  }

  /** The first screen that draws traces: the one the gaps and the host's arguments are about. */
  private baseTraces(): Screen["traces"] {
    return this.screens.find((s) => s.traces.length)?.traces ?? [];
  }

  private currentSource(section: number): Source | null {
    const first = this.baseTraces()[section]?.data;
    if (first?.resolved) return { by: first.resolved.by, value: first.resolved.value };
    for (const by of ["trace_id", "job_id"] as const) if (typeof this.input[by] === "string") return { by, value: this.input[by] as string };
    return null;
  }

  /** Opens a span's subtree, or a collapsed group (its parent's children in full, or one of its spans). */
  private async open(row: SpanRow | GroupRow, section: number): Promise<void> {
    const screen = this.screens[this.at];
    const data = screen?.traces[section]?.data;
    if (!screen || !data) return;
    if (!this.bridge.canCallTools()) {
      const id = row.kind === "span" ? row.spanId : (row.parentSpanId ?? row.sampleSpanIds[0] ?? "");
      return this.show({ text: `This host does not let the view call tools: ask for get_trace with focus_span_id=${id} instead.`, kind: "error" });
    }
    const source = this.sourceOf(data, section);
    if (!source) return this.show({ text: "This answer names no trace to ask about.", kind: "error" });
    const carried = Object.fromEntries(GET_TRACE_CARRIED.filter((k) => this.input[k] !== undefined).map((k) => [k, this.input[k]]));
    let focus = row.kind === "span" ? row.spanId : (row.parentSpanId ?? row.sampleSpanIds[0]);
    let maxSpans = row.kind === "group" ? OPEN_GROUP_MAX_SPANS : undefined;
    // A group that is still collapsed under a parent already shown in full opens one of its spans instead.
    if (row.kind === "group" && screen.args?.focus_span_id === focus && screen.args?.max_spans === OPEN_GROUP_MAX_SPANS) focus = row.sampleSpanIds[0];
    if (focus === undefined) return;
    if (row.kind === "group" && focus !== row.parentSpanId) maxSpans = OPEN_GROUP_MAX_SPANS;
    const args: Record<string, unknown> = { ...carried, [source.by]: source.value, focus_span_id: focus };
    if (maxSpans !== undefined) args.max_spans = maxSpans;
    const next = await this.traceScreen(row.kind === "span" ? `${row.service}.${row.operation}` : row.label, args);
    if (next) this.push([next]);
  }

  /** A screen from get_trace through the host, or null once the failure is shown. */
  private async traceScreen(crumb: string, args: Record<string, unknown>): Promise<Screen | null> {
    const focus = args.focus_span_id;
    this.show({ text: `Opening ${crumb}…`, kind: "busy" });
    if (typeof focus === "string") this.inFlightFocus.add(focus);
    try {
      const result = await this.call("get_trace", args);
      const traces = result.isError ? [] : findTraces(result.structuredContent);
      if (traces.length) return { crumb, traces, args };
      this.show({ text: `get_trace could not open ${crumb}: ${textOf(result) || "no trace in its answer"}`, kind: "error" });
    } catch (err) {
      this.show({ text: `The host could not run get_trace: ${err instanceof HostRpcError ? err.message : String(err)}`, kind: "error" });
    } finally {
      if (typeof focus === "string") this.inFlightFocus.delete(focus);
    }
    return null;
  }

  /** Screens after the current one (what was ahead of it in the breadcrumb is dropped), showing the last. */
  private push(next: Screen[]): void {
    this.screens = [...this.screens.slice(0, this.at + 1), ...next];
    this.goTo(this.screens.length - 1);
  }

  private goTo(index: number): void {
    if (index < 0 || index >= this.screens.length) return;
    this.at = index;
    this.selected = null;
    this.pendingSelect = null;
    this.message = null;
    this.render();
  }

  private show(message: WaterfallView["message"]): void {
    this.message = message;
    this.render();
  }

  private onKey(key: string, e: { preventDefault(): void }): void {
    if (key === "Escape" && this.at > 0) return this.goTo(this.at - 1);
    if (key !== "ArrowDown" && key !== "ArrowUp") return;
    const rows = this.rowElements;
    if (!rows.length) return;
    e.preventDefault();
    const current = rows.findIndex((r) => r.dataset.key === this.selected?.key);
    const next = rows[Math.max(0, Math.min(rows.length - 1, current + (key === "ArrowDown" ? 1 : -1)))]!;
    next.focus();
    next.scrollIntoView({ block: "nearest" });
    const section = Number(next.dataset.section ?? "0");
    const row = this.models[section]?.rows.find((r) => r.key === next.dataset.key);
    if (row) this.select(row, section, true);
  }

  private select(row: Row, section: number, keepFocus = false): void {
    this.selected = { section, key: row.key };
    this.pendingSelect = null;
    this.render();
    if (keepFocus) this.rowElements.find((r) => r.dataset.key === row.key && r.dataset.section === String(section))?.focus();
  }

  private render(): void {
    const doc = this.g.document;
    const screen = this.screens[this.at];
    const parts: ViewElement[] = [this.drawToolbar()];
    this.rowElements = [];
    this.models = [];
    const comparison = screen?.comparison;
    let reveal = false;
    // A comparison's rows take the focus with Tab (Enter opens one): the arrow keys are the waterfall's.
    if (comparison) parts.push(drawComparison(doc, comparison, { canOpen: this.bridge.canCallTools(), open: (target) => void this.openExecution(comparison, target) }));
    if (screen) {
      screen.traces.forEach((t, section) => {
        const source = this.sourceOf(this.baseTraces()[section]?.data ?? t.data, section);
        const overlay = source ? this.gaps.get(sourceKey(source)) : undefined;
        const model = buildWaterfall(t.data, typeof overlay === "object" ? overlay : null);
        this.models.push(model);
        const wanted = model.rows.find((r) => r.kind === "span" && r.spanId === this.pendingSelect)?.key;
        if (wanted) {
          this.selected = { section, key: wanted };
          this.pendingSelect = null;
          reveal = true;
        }
        if (!this.selected && section === 0) this.selected = defaultSelection(model);
        const rows: ViewElement[] = [];
        const drawn = drawTrace(doc, model, {
          section,
          ...(t.title ? { title: t.title } : {}),
          ...(this.selected?.section === section ? { selectedKey: this.selected.key } : {}),
          canOpen: this.bridge.canCallTools(),
          actions: { select: (row, s) => this.select(row, s), open: (row, s) => void this.open(row, s) },
          rows,
        });
        rows.forEach((r) => (r.dataset.section = String(section)));
        this.rowElements.push(...rows);
        parts.push(drawn);
      });
      const sel = this.selected && this.models[this.selected.section]?.rows.find((r) => r.key === this.selected!.key);
      if (sel) {
        const section = this.selected!.section;
        const focus = this.models[section]?.focusSpanId;
        parts.push(
          drawDetails(doc, sel, { canOpen: this.bridge.canCallTools(), ...(focus ? { focusSpanId: focus } : {}), open: () => sel.kind !== "missing" && void this.open(sel, section) }),
        );
      }
    }
    const tool = comparison ? "compare_executions" : "get_trace";
    parts.push(el(doc, "footer", "foot", `trace-doctor · ${tool}. Names, errors and metadata come from the monitored services and are shown as data. This view only reads.`));
    this.root.replaceChildren(...parts);
    // Once, for the row the comparison asked for; never on later renders, which would pull the host's page around.
    if (reveal) this.rowElements.find((r) => r.dataset.key === this.selected?.key)?.scrollIntoView({ block: "nearest" });
  }

  private drawToolbar(): ViewElement {
    const doc = this.g.document;
    const bar = el(doc, "div", "toolbar");
    if (this.screens.length > 1) {
      const nav = el(doc, "nav", "crumbs");
      nav.setAttribute("aria-label", "Where you are in the trace");
      this.screens.forEach((s, i) => {
        if (i) nav.append(el(doc, "span", "sep", "›"));
        if (i === this.at) {
          const here = el(doc, "strong", "crumb here", s.crumb);
          here.setAttribute("aria-current", "page");
          nav.append(here);
        } else {
          const b = el(doc, "button", "crumb", s.crumb);
          b.setAttribute("type", "button");
          b.addEventListener("click", () => this.goTo(i));
          nav.append(b);
        }
      });
      bar.append(nav);
    }
    if (this.message) {
      const m = el(doc, "div", `message ${this.message.kind}`, this.message.text);
      m.setAttribute("role", this.message.kind === "error" ? "alert" : "status");
      bar.append(m);
    }
    const modes = this.bridge.hostContext.availableDisplayModes;
    if (Array.isArray(modes) && modes.includes("fullscreen") && this.screens.length) {
      const full = this.bridge.hostContext.displayMode === "fullscreen";
      const b = el(doc, "button", "mode", full ? "Exit full screen" : "Full screen");
      b.setAttribute("type", "button");
      b.addEventListener("click", () => {
        void this.bridge
          .requestDisplayMode(full ? "inline" : "fullscreen")
          .then((r) => {
            const mode = (r as { mode?: unknown } | undefined)?.mode;
            if (mode === "inline" || mode === "fullscreen") this.bridge.hostContext.displayMode = mode;
            this.render();
          })
          .catch(() => {});
      });
      bar.append(b);
    }
    bar.hidden = !bar.textContent;
    return bar;
  }

  /** Theme, the host's style variables (CSS custom properties only) and how much room there is. */
  private applyHostContext(ctx: Record<string, unknown>): void {
    const html = this.g.document.documentElement;
    if (ctx.theme === "light" || ctx.theme === "dark") {
      html.dataset.theme = ctx.theme;
      html.style.setProperty("color-scheme", ctx.theme);
    }
    const styles = ctx.styles as { variables?: unknown } | undefined;
    if (styles && typeof styles.variables === "object" && styles.variables !== null) {
      for (const [k, v] of Object.entries(styles.variables)) if (/^--[\w-]+$/.test(k) && typeof v === "string") html.style.setProperty(k, v);
    }
    if (typeof ctx.displayMode === "string") html.dataset.displayMode = ctx.displayMode;
    const dims = ctx.containerDimensions as { height?: unknown; maxHeight?: unknown } | undefined;
    if (dims && typeof dims.height === "number") html.style.setProperty("--fixed-height", `${dims.height}px`);
    else if (dims && typeof dims.maxHeight === "number") html.style.setProperty("--max-height", `${dims.maxHeight}px`);
  }

  /** ui/notifications/size-changed whenever the drawn height or the width changes. */
  private watchSize(): void {
    const { window: win, document: doc, ResizeObserver: Observer } = this.g;
    let queued = false;
    const measure = () => {
      if (queued) return;
      queued = true;
      win.requestAnimationFrame(() => {
        queued = false;
        const html = doc.documentElement;
        html.style.setProperty("height", "max-content");
        const height = Math.ceil(html.getBoundingClientRect().height);
        html.style.removeProperty("height");
        const width = Math.ceil(win.innerWidth);
        const size = `${width}x${height}`;
        if (size === this.lastSize) return;
        this.lastSize = size;
        this.bridge.sizeChanged(width, height);
      });
    };
    measure();
    if (Observer) {
      const observer = new Observer(measure);
      observer.observe(doc.documentElement);
      observer.observe(doc.body);
    }
  }
}

/** The failure where the error starts (the deepest failed span), else the focused span. */
function defaultSelection(m: WaterfallModel): { section: number; key: string } | null {
  const spans = m.rows.filter((r): r is SpanRow => r.kind === "span");
  const failed = spans.filter((r) => r.status === "failed" || r.status === "timeout");
  const pick = failed.length ? failed.reduce((a, b) => (b.depth > a.depth ? b : a)) : spans.find((r) => r.spanId === m.focusSpanId);
  return pick ? { section: 0, key: pick.key } : null;
}

function describeInput(args: Record<string, unknown>): string {
  for (const k of ["job_id", "trace_id"]) if (typeof args[k] === "string") return `${k}=${String(args[k]).slice(0, 200)}`;
  return "this call";
}

// In the page (not when a test imports the module): start at once.
const globals = globalThis as unknown as Partial<ViewGlobals>;
if (globals.document && globals.window && globals.window.parent) void new WaterfallView(globals as ViewGlobals).start();
