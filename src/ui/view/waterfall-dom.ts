// Draws a waterfall model into the page: the header, the critical-path strip, one row per span, group and
// missing hop (bars placed in percent of the axis), the findings and the selected row's details. Every
// value from the data goes in as text (view-dom.ts has no other way); what a click does is main.ts's.

import { el, place, type ViewDocument, type ViewElement } from "./view-dom.js";
import type { GroupRow, MissingRow, Row, SpanRow, StatusClass, WaterfallModel } from "./waterfall-model.js";

export interface ChartActions {
  select(row: Row, section: number): void;
  open(row: SpanRow | GroupRow, section: number): void;
}

/** Service colours, a fixed ring (no reds or oranges: those mean failure and timeout). */
export const PALETTE_SIZE = 10;
/** Indentation per level: narrower for deep trees, so names keep room in the label column. */
const indentFor = (maxDepth: number) => (maxDepth <= 10 ? 14 : Math.max(4, Math.floor(150 / maxDepth)));

const STATE_WORD: Record<StatusClass, string> = { ok: "OK", failed: "FAILED", timeout: "TIMEOUT", unfinished: "UNFINISHED", other: "STATUS?" };

const pct = (x: number) => `${x}%`;

export interface TraceOptions {
  section: number;
  title?: string;
  selectedKey?: string;
  canOpen: boolean;
  actions: ChartActions;
  /** Receives the row elements, in order, for keyboard navigation. */
  rows?: ViewElement[];
}

export function drawTrace(doc: ViewDocument, m: WaterfallModel, o: TraceOptions): ViewElement {
  const section = el(doc, "section", "trace");
  section.dataset.section = String(o.section);
  section.append(drawHeader(doc, m, o.title));
  if (m.notes.length) section.append(el(doc, "ul", "notes", ...m.notes.map((n) => el(doc, "li", "", n))));
  const chart = el(doc, "div", "chart");
  chart.setAttribute("role", "tree");
  chart.setAttribute("aria-label", `Waterfall of ${m.title}`);
  chart.style.setProperty("--indent", `${indentFor(Math.max(0, ...m.rows.map((r) => r.depth)))}px`);
  chart.append(drawAxis(doc, m));
  for (const row of m.rows) {
    const r = drawRow(doc, row, o);
    o.rows?.push(r);
    chart.append(r);
  }
  section.append(chart, drawLegend(doc));
  const findings = drawFindings(doc, m);
  if (findings) section.append(findings);
  return section;
}

function drawHeader(doc: ViewDocument, m: WaterfallModel, title?: string): ViewElement {
  const head = el(doc, "header", "head");
  if (title) head.append(el(doc, "h2", "section-title", title));
  const total = m.facts.find(([k]) => k === "Duration")?.[1] ?? "";
  head.append(el(doc, "div", "title-row", el(doc, "span", `state st-${m.status}`, STATE_WORD[m.status]), el(doc, "h1", "title", m.title), el(doc, "span", "total", total)));
  const facts = el(doc, "dl", "facts");
  for (const [k, v] of m.facts) if (k !== "Duration") facts.append(el(doc, "div", "fact", el(doc, "dt", "", k), el(doc, "dd", "", v)));
  head.append(facts);
  if (m.critical.length) {
    const strip = el(doc, "div", "cp-strip");
    strip.setAttribute("role", "img");
    strip.setAttribute("aria-label", `Critical path: ${m.critical.map((c) => `${c.label} ${c.ms} (${c.share}%)`).join(", ")}`);
    const list = el(doc, "div", "cp-list");
    for (const c of m.critical) {
      const seg = el(doc, "span", "cp-seg");
      seg.style.setProperty("width", pct(c.share));
      seg.style.setProperty("--c", `var(--svc-${c.color % PALETTE_SIZE})`);
      seg.setAttribute("title", `${c.label}: ${c.ms} (${c.share}%)`);
      strip.append(seg);
    }
    for (const c of m.critical.slice(0, 5)) {
      const chip = el(doc, "span", "cp-item", el(doc, "span", "swatch"), el(doc, "span", "cp-name", c.label), el(doc, "span", "cp-ms", `${c.ms} · ${c.share}%`));
      chip.style.setProperty("--c", `var(--svc-${c.color % PALETTE_SIZE})`);
      list.append(chip);
    }
    if (m.critical.length > 5) list.append(el(doc, "span", "cp-more", `+${m.critical.length - 5} more`));
    head.append(el(doc, "div", "cp", el(doc, "span", "cp-label", "Critical path"), strip, list));
  }
  return head;
}

function drawAxis(doc: ViewDocument, m: WaterfallModel): ViewElement {
  const ticks = el(doc, "div", "timeline ticks");
  for (const t of m.ticks) {
    const tick = el(doc, "span", t.at === 100 ? "tick last" : t.at === 0 ? "tick first" : "tick", t.label);
    ticks.append(place(tick, t.at));
  }
  return el(doc, "div", "row axis", el(doc, "div", "label", "Service · operation"), ticks);
}

function drawRow(doc: ViewDocument, row: Row, o: TraceOptions): ViewElement {
  const r = row.kind === "span" ? drawSpanRow(doc, row) : row.kind === "group" ? drawGroupRow(doc, row, o.canOpen) : drawMissingRow(doc, row);
  r.dataset.key = row.key;
  r.dataset.kind = row.kind;
  r.setAttribute("role", "treeitem");
  r.setAttribute("aria-level", String(row.depth + 1));
  r.setAttribute("tabindex", "-1");
  if (row.key === o.selectedKey) {
    r.classList.add("selected");
    r.setAttribute("aria-selected", "true");
  }
  const primary = () => (row.kind === "group" && o.canOpen ? o.actions.open(row, o.section) : o.actions.select(row, o.section));
  r.addEventListener("click", primary);
  if (row.kind === "span") r.addEventListener("dblclick", () => o.canOpen && o.actions.open(row, o.section));
  r.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      if (row.kind === "span" && row.key === o.selectedKey && o.canOpen) o.actions.open(row, o.section);
      else primary();
    }
  });
  return r;
}

function labelCell(doc: ViewDocument, depth: number, ...parts: Array<ViewElement | string>): ViewElement {
  const indent = el(doc, "span", "indent");
  indent.style.setProperty("width", `calc(${depth} * var(--indent))`);
  return el(doc, "div", "label", indent, ...parts);
}

function colored(e: ViewElement, color: number): ViewElement {
  e.style.setProperty("--c", `var(--svc-${color % PALETTE_SIZE})`);
  return e;
}

/**
 * The duration label sits after the bar; when the bar ends near the right edge, inside it if it is wide
 * enough, else before it; a bar with no end (hatched) keeps its label on a plain background.
 */
function durationLabel(doc: ViewDocument, text: string, bar: { left: number; width: number }, className = "dur", open = false): ViewElement {
  const d = el(doc, "span", className, text);
  const end = bar.left + bar.width;
  if (end <= 78) d.style.setProperty("left", pct(end));
  else if ((bar.width >= 12 || bar.left < 18) && !(open && bar.left >= 18)) {
    d.classList.add(open ? "inside-open" : "inside");
    d.style.setProperty("right", pct(100 - end));
  } else {
    d.classList.add("before");
    d.style.setProperty("right", pct(100 - bar.left));
  }
  return d;
}

function drawSpanRow(doc: ViewDocument, row: SpanRow): ViewElement {
  const r = colored(el(doc, "div", `row span st-${row.status}${row.critical ? " critical" : ""}`), row.color);
  r.dataset.spanId = row.spanId;
  r.dataset.status = row.status;
  r.dataset.critical = String(row.critical);
  r.setAttribute("title", row.hover);
  const name = el(doc, "span", "name", el(doc, "span", "svc", row.service), el(doc, "span", "op", row.operation));
  const label = labelCell(doc, row.depth, el(doc, "span", "chip"), name);
  if (row.status !== "ok") label.append(el(doc, "span", `badge st-${row.status}`, row.status === "unfinished" ? "NEVER FINISHED" : row.statusText));
  if (row.error) label.append(el(doc, "span", "bang", "!"));
  for (const b of row.badges) label.append(el(doc, "span", "badge flag", b));
  if (row.hiddenChildren) label.append(el(doc, "span", "badge hidden", `+${row.hiddenChildren} hidden`));

  const line = el(doc, "div", "timeline");
  if (row.leadIn && row.leadIn.width > 0) {
    const lead = place(el(doc, "span", `lead${row.leadIn.slow ? " slow" : ""}`), row.leadIn.left, row.leadIn.width);
    lead.setAttribute("title", row.leadIn.text);
    line.append(lead);
  }
  line.append(place(el(doc, "span", `bar${row.openEnded ? " open" : ""}`), row.bar.left, row.bar.width));
  for (const s of row.criticalSegments) line.append(place(el(doc, "span", "crit"), s.left, s.width));
  line.append(durationLabel(doc, row.durationText, row.bar, "dur", row.openEnded));
  r.append(label, line);
  return r;
}

function drawGroupRow(doc: ViewDocument, row: GroupRow, canOpen: boolean): ViewElement {
  const r = colored(el(doc, "div", "row group"), row.color);
  if (row.parentSpanId !== undefined) r.dataset.parentSpanId = row.parentSpanId;
  r.setAttribute("aria-expanded", "false");
  const label = labelCell(doc, row.depth, el(doc, "span", "twisty", canOpen ? "▸" : "·"), el(doc, "span", "name group-name", row.label));
  if (row.failed) label.append(el(doc, "span", "badge st-failed", `${row.failed} failed`));
  if (canOpen) r.setAttribute("title", "Collapsed spans: select to open them");
  const line = el(doc, "div", "timeline");
  line.append(place(el(doc, "span", "bar grouped"), row.bar.left, row.bar.width), durationLabel(doc, row.durationText, row.bar));
  r.append(label, line);
  return r;
}

function drawMissingRow(doc: ViewDocument, row: MissingRow): ViewElement {
  const r = el(doc, "div", `row missing${row.consequence ? " consequence" : ""}`);
  r.dataset.hop = row.hop;
  const name = el(doc, "span", "name", row.hop);
  name.setAttribute("title", row.sentence);
  const label = labelCell(doc, row.depth, el(doc, "span", "chip ghost"), name, el(doc, "span", "badge st-missing", "MISSING"));
  const line = el(doc, "div", "timeline");
  if (row.expected) {
    line.append(place(el(doc, "span", "expected"), row.expected.left), durationLabel(doc, row.expectedText, { left: row.expected.left, width: 0.8 }, "dur ghost-text"));
  } else {
    line.append(el(doc, "span", "beyond", row.consequence ? row.expectedText : `${row.expectedText} →`));
  }
  r.append(label, line);
  return r;
}

function drawLegend(doc: ViewDocument): ViewElement {
  const item = (cls: string, text: string) => el(doc, "span", "key", el(doc, "span", `sample ${cls}`), text);
  return el(
    doc,
    "div",
    "legend",
    item("s-ok", "ok (colour per service)"),
    item("s-failed", "failed"),
    item("s-timeout", "timeout"),
    item("s-open", "never finished"),
    item("s-crit", "critical path"),
    item("s-lead", "hand-off to another service"),
    item("s-slow", "slow hand-off"),
    item("s-missing", "missing hop"),
  );
}

/** Findings shown before "show all": a long trace's list would bury the chart's neighbours. */
const FINDINGS_SHOWN = 6;

function drawFindings(doc: ViewDocument, m: WaterfallModel): ViewElement | null {
  const items = [
    ...m.gapFindings.map((f) => el(doc, "li", `sev-${f.severity}`, el(doc, "span", "sev", `${f.severity} · ${f.kind.replace(/_/g, " ")}`), f.sentence)),
    ...m.findings.map((f) => el(doc, "li", "", f)),
  ];
  if (!items.length) return null;
  const list = el(doc, "ul", "findings", ...items);
  const box = el(doc, "div", "findings-box", el(doc, "h2", "", `Findings (${items.length})`), list);
  if (items.length > FINDINGS_SHOWN) {
    const rest = items.slice(FINDINGS_SHOWN);
    for (const li of rest) li.hidden = true;
    const more = el(doc, "button", "more", `Show ${rest.length} more`);
    more.setAttribute("type", "button");
    more.addEventListener("click", () => {
      const show = rest[0]!.hidden;
      for (const li of rest) li.hidden = !show;
      more.textContent = show ? "Show fewer" : `Show ${rest.length} more`;
    });
    box.append(more);
  }
  return box;
}

/** The selected row, in full: ids and timings, the error, the metadata (all as data), find_gaps' notes. */
export function drawDetails(doc: ViewDocument, row: Row, o: { canOpen: boolean; focusSpanId?: string; open(): void }): ViewElement {
  const box = el(doc, "section", `detail kind-${row.kind}`);
  box.setAttribute("aria-live", "polite");
  const head = el(doc, "div", "detail-head");
  if (row.kind === "span") {
    head.append(colored(el(doc, "span", "chip"), row.color), el(doc, "strong", "", `${row.service}.${row.operation}`), el(doc, "span", `badge st-${row.status}`, row.statusText));
  } else if (row.kind === "group") {
    head.append(colored(el(doc, "span", "chip"), row.color), el(doc, "strong", "", row.label), el(doc, "span", "badge hidden", "collapsed"));
  } else {
    head.append(el(doc, "span", "chip ghost"), el(doc, "strong", "", row.hop), el(doc, "span", "badge st-missing", "MISSING"));
  }
  const openable = row.kind === "group" || (row.kind === "span" && row.hasChildren && row.spanId !== o.focusSpanId);
  if (o.canOpen && openable) {
    const button = el(doc, "button", "open", row.kind === "group" ? "Open these spans" : "Show only this subtree");
    button.setAttribute("type", "button");
    button.addEventListener("click", () => o.open());
    head.append(button);
  }
  box.append(head);
  if (!o.canOpen && openable) {
    // Without serverTools the host cannot relay the view's get_trace: say what to ask for instead.
    const id = row.kind === "span" ? row.spanId : (row.parentSpanId ?? row.sampleSpanIds[0] ?? "");
    box.append(el(doc, "p", "hint", `This host does not let the view call tools: ask for get_trace with focus_span_id=${id} to see ${row.kind === "group" ? "these spans" : "only this subtree"}.`));
  }
  if (row.kind === "missing") {
    box.append(el(doc, "p", "sentence", row.sentence));
    return box;
  }
  const kv = el(doc, "dl", "kv");
  for (const [k, v] of row.details) kv.append(el(doc, "dt", "", k), el(doc, "dd", "", v));
  const body = el(doc, "div", "detail-body", kv);
  if (row.kind === "span") {
    const data = el(doc, "div", "span-data");
    if (row.error) data.append(el(doc, "div", "field-title", "Error"), el(doc, "pre", "error-text", row.error));
    if (row.metadata.length) {
      const tbody = el(doc, "tbody");
      for (const [k, v] of row.metadata) tbody.append(el(doc, "tr", "", el(doc, "th", "", k), el(doc, "td", "", v)));
      data.append(el(doc, "div", "field-title", "Metadata"), el(doc, "table", "meta", tbody));
    }
    if (row.leadIn) data.append(el(doc, "div", "field-title", "Hand-off"), el(doc, "p", "", row.leadIn.text));
    for (const n of row.notes) data.append(el(doc, "p", "gap-note", n));
    if (row.error || row.metadata.length) data.append(el(doc, "p", "data-note", "Error text and metadata were written by the monitored service: shown as data, never run."));
    body.append(data);
  }
  box.append(body);
  return box;
}
