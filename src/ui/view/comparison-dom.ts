// Draws a comparison model into the page: the header with the duration verdict and the first divergence,
// one row per hop (duration bar over the healthy p50–p95 band, then the numbers), where the time went,
// failing spans with their role and metadata that differs. Every value from the data goes in as text
// (view-dom.ts has no other way); what a click does is main.ts's.

import type { CompareRow, ComparisonModel } from "./comparison-model.js";
import { el, place, type ViewDocument, type ViewElement } from "./view-dom.js";
import { PALETTE_SIZE } from "./waterfall-dom.js";

/** What a click asks for: this execution's trace, at that span when there is one (a missing hop has none). */
export interface OpenTarget {
  label: string;
  spanId?: string;
}

export interface ComparisonOptions {
  canOpen: boolean;
  open(target: OpenTarget): void;
}

/** The numbers are this run's and, after "·", healthy runs' (their p50 count and start). */
const COLUMNS = ["Hop", "This run vs healthy p50–p95 · scale per row", "This run", "vs p50", "p50 · p95", "Count · usual", "Start · usual"];

/** Verdicts drawn like the waterfall's statuses share its badge styles. */
const BADGE: Record<string, string> = { failed: "st-failed", slow: "st-timeout", missing: "st-missing", unfinished: "st-unfinished" };
const badge = (doc: ViewDocument, text: string, cls: string) => el(doc, "span", `badge ${BADGE[cls] ?? `v-${cls}`}`, text);
const target = (label: string, spanId: string | undefined): OpenTarget => (spanId !== undefined ? { label, spanId } : { label });

export function drawComparison(doc: ViewDocument, m: ComparisonModel, o: ComparisonOptions): ViewElement {
  /** Makes an element open the trace: a click, or Enter / Space once focused. */
  const opens = (e: ViewElement, t: OpenTarget) => {
    if (!o.canOpen) return e;
    e.classList.add("opens");
    e.setAttribute("tabindex", "0");
    e.setAttribute("title", `Show ${t.label} in this execution's trace`);
    e.addEventListener("click", () => o.open(t));
    e.addEventListener("keydown", (ev) => {
      if (ev.key !== "Enter" && ev.key !== " ") return;
      ev.preventDefault();
      o.open(t);
    });
    return e;
  };
  const box = (title: string, ...children: ViewElement[]) => el(doc, "div", "findings-box", el(doc, "h2", "", title), ...children);
  const table = (...rows: ViewElement[]) => el(doc, "table", "meta", el(doc, "tbody", "", ...rows));

  const title = el(doc, "div", "title-row", el(doc, "span", `state st-${m.status}`, m.statusText), el(doc, "h1", "title", m.title), el(doc, "span", "total", m.rows[0]?.cells[0] ?? ""), el(doc, "span", m.verdict.kind === "slow" ? "state st-timeout" : "state", m.verdict.word), el(doc, "span", "total", m.verdict.ratios));
  if (o.canOpen) {
    const b = el(doc, "button", "open", "Show this execution's trace");
    b.setAttribute("type", "button");
    b.addEventListener("click", () => o.open({ label: "Whole trace" }));
    title.append(b);
  }
  const facts = el(doc, "dl", "facts");
  for (const [k, v] of m.facts) facts.append(el(doc, "div", "fact", el(doc, "dt", "", k), el(doc, "dd", "", v)));
  const d = m.divergence;
  const divergence = d
    ? opens(el(doc, "div", "divergence", el(doc, "strong", "", d.text), el(doc, "code", "", d.hop), el(doc, "span", "", d.sentence)), target(d.hop, d.spanId))
    : el(doc, "div", "divergence none", el(doc, "strong", "", "First divergence: none"), el(doc, "span", "", "it followed the usual path."));
  const head = el(doc, "header", "head", title, el(doc, "p", "hint", m.verdict.text), facts, divergence);
  if (!o.canOpen && m.source) head.append(el(doc, "p", "hint", `This host does not let the view call tools: ask for get_trace with ${m.source.by}=${m.source.value} to see this execution's trace.`));

  const chart = el(doc, "div", "chart", el(doc, "div", "row crow axis", ...COLUMNS.map((c) => el(doc, "div", "", c))));
  chart.append(...m.rows.map((row) => opens(drawRow(doc, row), target(row.hop, row.spanId))));

  const section = el(doc, "section", "trace cmp", head);
  if (m.notes.length) section.append(el(doc, "ul", "notes", ...m.notes.map((n) => el(doc, "li", "", n))));
  const key = (cls: string, text: string) => el(doc, "span", "key", el(doc, "span", `sample ${cls}`), text);
  section.append(
    chart,
    // Verdicts are named on their rows; the legend says what the bar and the band are.
    el(doc, "div", "legend", key("s-ok", "this run"), key("s-band", "healthy p50–p95, p50 marked"), key("s-missing", "missing here")),
  );

  // Two columns: what differs (the extra time, the metadata) beside what failed; one alone takes the width.
  const differs: ViewElement[] = [];
  const failed: ViewElement[] = [];
  if (m.time.length) {
    const rows = m.time.map((t) => opens(el(doc, "tr", "", el(doc, "th", "", t.kind), el(doc, "td", "", el(doc, "strong", "", `${t.hop} ${t.extra} (${t.share}%)`), t.sentence)), target(t.hop, t.spanId)));
    differs.push(box("Where the extra time went", table(...rows)));
  }
  if (m.metadata.length) {
    const rows = m.metadata.map((x) =>
      opens(
        el(doc, "tr", "md", el(doc, "td", "", x.hop), el(doc, "th", "", x.key), el(doc, "td", x.absent ? "absent" : "", x.value), el(doc, "td", "", x.baseline, ...(x.outcome ? [" ", el(doc, "span", "badge flag", "outcome")] : []))),
        target(x.hop, x.spanId),
      ),
    );
    const header = el(doc, "tr", "", ...["Hop", "Key", "This run", "Healthy runs"].map((h) => el(doc, "th", "", h)));
    const note = m.metadata.some((x) => x.outcome) ? [el(doc, "p", "data-note", "An outcome key says how the work ended: a symptom, not a cause.")] : [];
    differs.push(box(`Metadata that differs from healthy runs (${m.metadata.length})`, table(header, ...rows), ...note));
  }
  if (m.failing.length) {
    const rows = m.failing.map((f) => {
      const what = el(doc, "td", "", el(doc, "strong", "", f.hop), " ", badge(doc, f.statusText, f.status), ...(f.error ? [el(doc, "pre", "error-text", f.error)] : []), el(doc, "p", "", f.sentence));
      const tr = el(doc, "tr", "", el(doc, "th", "", badge(doc, f.role, f.role === "cause" ? "failed" : "role")), what);
      tr.dataset.spanId = f.spanId;
      return opens(tr, target(f.hop, f.spanId));
    });
    failed.push(box(`Failing spans and their role (${m.failing.length})`, table(...rows)));
  }
  const columns = [differs, failed].filter((c) => c.length).map((c) => el(doc, "div", "cmp-col", ...c));
  if (columns.length) section.append(el(doc, "div", "cmp-lists", ...columns));
  return section;
}

function drawRow(doc: ViewDocument, row: CompareRow): ViewElement {
  const r = el(doc, "div", `row crow v-${row.verdict}${row.total ? " total" : ""}${row.divergence ? " diverges" : ""}`);
  r.style.setProperty("--c", `var(--svc-${row.color % PALETTE_SIZE})`);
  Object.assign(r.dataset, { key: row.key, hop: row.hop, verdict: row.verdict }, row.spanId !== undefined ? { spanId: row.spanId } : {});
  const label = el(doc, "div", "label", el(doc, "span", row.verdict === "missing" ? "chip ghost" : "chip"), el(doc, "span", "name", el(doc, "span", "svc", row.service), el(doc, "span", "op", row.operation)));
  for (const [text, cls] of row.badges) label.append(badge(doc, text, cls));
  if (row.divergence) label.append(el(doc, "span", "badge first", "1st divergence"));
  const bars = el(doc, "div", "cbars");
  if (row.band) bars.append(place(el(doc, "span", "band"), row.band.left, Math.max(row.band.width, 0.4)), place(el(doc, "span", "p50"), row.p50At ?? row.band.left));
  if (row.bar) bars.append(place(el(doc, "span", "cbar"), 0, row.bar.width));
  const [took, ratio, healthy, count, start] = row.cells;
  r.append(label, bars, el(doc, "div", "num this", took), el(doc, "div", "num", ratio), el(doc, "div", "num", healthy), el(doc, "div", `num${row.countDiffers ? " differs" : ""}`, count), el(doc, "div", `num${row.late ? " late" : ""}`, start));
  return r;
}
