// compare_executions' answer as the comparison the view draws: recognised by its shape (baseline, hops,
// duration) and read leniently like trace-data.ts, it becomes a header with the duration verdict and
// one row per hop — its duration bar over the healthy p50–p95 band on the row's own scale, counts,
// starts — and the lists. Pure, so it is tested in Node; comparison-dom.ts only draws it.

import { formatMs, formatOffset } from "../../analysis/format.js";
import { dataText, isObject, num, objects, str, strings, type Json } from "./trace-data.js";
import { statusClass, type Extent, type StatusClass } from "./waterfall-model.js";

/** How a row is coloured; a verdict the view does not know is drawn as usual, its word kept on the badge. */
export type VerdictClass = "usual" | "slow" | "failed" | "unfinished" | "repeated" | "missing" | "extra";
const VERDICTS = ["usual", "slow", "failed", "unfinished", "repeated", "missing", "extra"];

export interface CompareRow {
  key: string;
  /** The execution itself (its root), drawn first against the healthy duration. */
  total: boolean;
  hop: string;
  service: string;
  operation: string;
  color: number;
  verdict: VerdictClass;
  /** The hop's verdict as the server wrote it (none when usual); for the execution, its status and speed. */
  badges: Array<[text: string, cls: string]>;
  /** This run's duration (the slowest occurrence) and the healthy band and p50, in percent of the row's scale. */
  bar?: Extent;
  band?: Extent;
  p50At?: number;
  /** The table's columns after the bar: this run, against p50, healthy p50 · p95, count · healthy, start · usual. */
  cells: [string, string, string, string, string];
  /** The count is not a healthy one (repeated, missing, extra). */
  countDiffers: boolean;
  /** The row the first divergence is about; late when it is a late start. */
  divergence: boolean;
  late: boolean;
  /** The span to show in the waterfall, when the answer names one. */
  spanId?: string;
}

export interface ComparisonModel {
  title: string;
  status: StatusClass;
  statusText: string;
  verdict: { kind: string; word: string; ratios: string; text: string };
  facts: Array<[string, string]>;
  divergence: { text: string; hop: string; sentence: string; spanId?: string } | null;
  rows: CompareRow[];
  time: Array<{ kind: string; hop: string; extra: string; share: number; sentence: string; spanId?: string }>;
  /** Values are data written by the services (anything not a string shown as JSON). */
  metadata: Array<{ hop: string; key: string; value: string; absent: boolean; baseline: string; outcome: boolean; spanId?: string }>;
  failing: Array<{ role: string; hop: string; status: StatusClass; statusText: string; error?: string; sentence: string; spanId: string }>;
  notes: string[];
  /** What get_trace is asked for to show this execution: the lookup the comparison itself made. */
  source?: { by: "trace_id" | "job_id"; value: string };
}

const words = (kind: string) => kind.replace(/_/g, " ");
const round2 = (x: number) => Math.round(x * 100) / 100;
const ms = (x: number | undefined) => formatMs(x ?? null);
/** 12×, 3.3×, 0.42×, and <0.01× rather than a 0× that reads as "took no time". */
export const times = (x: number) => (x >= 10 ? `${Math.round(x)}×` : x >= 0.01 ? `${Number(x.toFixed(x >= 1 ? 1 : 2))}×` : "<0.01×");
const ratio = (x: number | undefined, base: number | undefined) => (x !== undefined && base ? times(x / base) : "");
const counts = (n: number | undefined, max: number | undefined) => (n === undefined ? "—" : `×${n}${max !== undefined && max !== n ? `–${max}` : ""}`);
const healthy = (p50: number | undefined, p95: number | undefined) => (p50 === undefined ? "—" : `${ms(p50)} · ${ms(p95)}`);
const utc = (iso: string) => iso.replace("T", " ").replace(/(\.\d+)?Z$/, " UTC");
const failedClass = (s: StatusClass) => s === "failed" || s === "timeout";

/** The row's scale: this duration and the healthy p95, with room at the right for the bar to end in view. */
export function scaleRow(x: number | undefined, p50: number | undefined, p95: number | undefined): Pick<CompareRow, "bar" | "band" | "p50At"> {
  const top = Math.max(x ?? 0, p95 ?? 0, p50 ?? 0) * 1.1;
  const at = (v: number) => (top > 0 ? round2(Math.min(100, (100 * v) / top)) : 0);
  const out: Pick<CompareRow, "bar" | "band" | "p50At"> = {};
  if (x !== undefined) out.bar = { left: 0, width: at(x) };
  if (p50 !== undefined) {
    out.p50At = at(p50);
    out.band = { left: at(p50), width: round2(at(Math.max(p95 ?? p50, p50)) - at(p50)) };
  }
  return out;
}

export function verdictClass(verdict: string): VerdictClass {
  return (VERDICTS.includes(verdict) ? verdict : "usual") as VerdictClass;
}

/** compare_executions' answer as a comparison, or null when the value is not one. */
export function buildComparison(value: unknown): ComparisonModel | null {
  if (!isObject(value) || !isObject(value.baseline) || !Array.isArray(value.hops) || !isObject(value.duration)) return null;
  const x: Json = isObject(value.execution) ? value.execution : {};
  const b = value.baseline;
  const d = value.duration;
  const div = isObject(value.first_divergence) ? value.first_divergence : null;
  const divHop = str(div?.hop);
  const divSpan = str(div?.span_id);
  const colors = new Map<string, number>();
  const colorOf = (service: string) => colors.get(service) ?? (colors.set(service, colors.size), colors.size - 1);

  const executions = num(b.executions) ?? 0;
  const one = b.mode === "one";
  const runs = one ? "one chosen execution" : `${executions} successful run${executions === 1 ? "" : "s"}`;
  const root = str(x.root) ?? str(b.root_operation) ?? "execution";
  const rawStatus = str(x.status) ?? "unknown";
  const status = statusClass(rawStatus);
  const statusText = status === "ok" ? "OK" : rawStatus.toUpperCase();
  const took = num(x.duration_ms) ?? num(d.ms);
  const p50 = num(d.p50_ms);
  const p95 = num(d.p95_ms);
  const verdict = str(d.verdict) ?? "unknown";
  const rootSpan = str(x.root_span_id);

  const row = (hop: string, fields: Omit<CompareRow, "key" | "hop" | "service" | "operation" | "color">, key: string): CompareRow => {
    const dot = hop.indexOf(".");
    const service = dot > 0 ? hop.slice(0, dot) : "";
    return { key, hop, service, operation: dot > 0 ? hop.slice(dot + 1) : hop, color: colorOf(service), ...fields };
  };
  // A failure outweighs the execution's speed in its row's colour; the header says both.
  const rows: CompareRow[] = [
    row(
      root,
      {
        total: true,
        verdict: failedClass(status) ? "failed" : status === "unfinished" ? "unfinished" : verdict === "slow" ? "slow" : "usual",
        badges: [...(status === "ok" ? [] : [[statusText, failedClass(status) ? "failed" : status] as [string, string]]), ...(verdict === "slow" || verdict === "fast" ? [[verdict.toUpperCase(), verdict] as [string, string]] : [])],
        ...scaleRow(took, p50, p95),
        cells: [took === undefined ? "never finished" : ms(took), ratio(took, p50), healthy(p50, p95), "", ""],
        countDiffers: false,
        divergence: false,
        late: false,
        ...(rootSpan !== undefined ? { spanId: rootSpan } : {}),
      },
      "total",
    ),
  ];
  // The divergence names a hop, and its span when there is one: the row holding that span, else the hop's first.
  const hops = objects(value.hops);
  const bySpan = divSpan === undefined ? -1 : hops.findIndex((h) => str(h.hop) === divHop && strings(h.span_ids).includes(divSpan));
  const divergenceAt = divHop === undefined ? -1 : bySpan >= 0 ? bySpan : hops.findIndex((h) => str(h.hop) === divHop);
  hops.forEach((h, i) => {
    const hop = str(h.hop);
    if (hop === undefined) return;
    const spans = strings(h.span_ids);
    const count = num(h.count) ?? spans.length;
    const slowest = count > 0 ? num(h.slowest_ms) : undefined;
    const hp50 = num(h.baseline_p50_ms);
    const base = num(h.baseline_count);
    const at = num(h.offset_ms);
    const usual = num(h.usual_offset_ms);
    const raw = str(h.verdict) ?? "usual";
    const diverges = i === divergenceAt;
    const spanId = diverges && i === bySpan ? divSpan : spans[0];
    rows.push(
      row(
        hop,
        {
          total: false,
          verdict: verdictClass(raw),
          // A missing hop says so in its row (dashed band, "missing"): its badge would only take the name's room.
          badges: raw === "usual" || raw === "missing" ? [] : [[raw.toUpperCase(), verdictClass(raw)]],
          ...scaleRow(slowest, hp50, num(h.baseline_p95_ms)),
          cells: [
            count === 0 ? "missing" : slowest === undefined ? "never finished" : `${count > 1 ? "max " : ""}${ms(slowest)}`,
            ratio(slowest, hp50),
            healthy(hp50, num(h.baseline_p95_ms)),
            `×${count} · ${counts(base, num(h.baseline_max_count))}`,
            `${at === undefined ? "—" : formatOffset(at)}${usual === undefined ? "" : ` · ${formatOffset(usual)}`}`,
          ],
          countDiffers: base === undefined ? count > 0 : count < base || count > (num(h.baseline_max_count) ?? base),
          divergence: diverges,
          late: diverges && div?.kind === "late_start",
          ...(spanId !== undefined ? { spanId } : {}),
        },
        `hop:${i}`,
      ),
    );
  });

  const shown = (list: string, total: unknown, n: number) => ((num(total) ?? 0) > n ? [`${n} of ${num(total)} ${list} shown: the server cut the rest.`] : []);
  const extra = num(d.extra_ms);
  const by = isObject(value.resolved) ? value.resolved.by : undefined;
  const lookup = isObject(value.resolved) ? str(value.resolved.value) : undefined;
  const source: ComparisonModel["source"] | null = (by === "trace_id" || by === "job_id") && lookup ? { by, value: lookup } : null;
  const traceIds = strings(x.trace_ids);
  const metadata = objects(value.metadata_differences).filter((m) => m.key !== undefined);
  const failing = objects(value.failing_spans).filter((f) => str(f.span_id) !== undefined);
  const model: ComparisonModel = {
    title: root,
    status,
    statusText,
    verdict: {
      kind: verdict,
      word: ["slow", "usual", "fast"].includes(verdict) ? verdict.toUpperCase() : "NOT JUDGED",
      ratios: [ratio(took, p50) && `${ratio(took, p50)} p50`, ratio(took, p95) && `${ratio(took, p95)} p95`, extra ? `+${ms(extra)} over p50` : ""].filter(Boolean).join(" · "),
      text: `${took === undefined ? "Never finished" : ms(took)} against healthy p50 ${ms(p50)}, p95 ${ms(p95)} over ${
        one ? `one chosen execution, trace ${str(b.trace_id) ?? "?"}` : `${runs}${str(b.since) && str(b.until) ? ` from ${utc(str(b.since)!)} to ${utc(str(b.until)!)}` : ""}`
      }.`,
    },
    facts: [
      [traceIds.length > 1 ? "Traces" : "Trace", traceIds.join(", ") || "?"],
      ...(str(x.job_id) ? [["Job", str(x.job_id)!] as [string, string]] : []),
      ...(str(x.started_at) ? [["Started", utc(str(x.started_at)!)] as [string, string]] : []),
    ],
    divergence:
      divHop === undefined
        ? null
        : {
            text: `First divergence${num(div!.offset_ms) !== undefined ? ` at ${formatOffset(num(div!.offset_ms)!)}` : ""} · ${words(str(div!.kind) ?? "")}`,
            hop: divHop,
            sentence: str(div!.sentence) ?? "",
            ...(divSpan !== undefined ? { spanId: divSpan } : {}),
          },
    rows,
    time: objects(value.where_time_went).flatMap((t) => {
      const hop = str(t.hop);
      const spanId = strings(t.span_ids)[0];
      const share = Math.max(0, Math.min(100, Math.round(100 * (num(t.share) ?? 0))));
      return hop === undefined ? [] : [{ kind: words(str(t.kind) ?? ""), hop, extra: `+${ms(num(t.extra_ms))}`, share, sentence: str(t.sentence) ?? "", ...(spanId !== undefined ? { spanId } : {}) }];
    }),
    metadata: metadata.map((m) => {
      const spanId = str(m.span_id);
      const base = objects(m.baseline).filter((v) => v.value !== undefined);
      return {
        hop: str(m.hop) ?? "",
        key: dataText(m.key),
        value: m.value === undefined || m.value === null ? "(absent)" : dataText(m.value),
        absent: m.value === undefined || m.value === null,
        baseline: base.length ? base.map((v) => `${dataText(v.value)} ${Math.round(100 * (num(v.share) ?? 0))}%`).join(", ") : "never",
        outcome: m.outcome === true,
        ...(spanId !== undefined ? { spanId } : {}),
      };
    }),
    failing: failing.map((f) => {
      const raw = str(f.status) ?? "";
      const cls = statusClass(raw);
      const error = str(f.error);
      const attempt = str(f.attempt);
      return {
        role: str(f.role) ?? "",
        hop: `${str(f.hop) ?? ""}${attempt ? ` (attempt ${attempt})` : ""}`,
        status: cls,
        statusText: cls === "ok" ? raw : raw.toUpperCase(),
        ...(error ? { error } : {}),
        sentence: str(f.sentence) ?? "",
        spanId: str(f.span_id)!,
      };
    }),
    notes: [
      ...[str(isObject(value.resolved) ? value.resolved.note : undefined), str(b.note) && `Baseline: ${str(b.note)}.`].filter((n): n is string => !!n),
      ...strings(value.notes),
      ...shown("hops", value.hops_total, rows.length - 1),
      ...shown("metadata differences", value.metadata_differences_total, metadata.length),
      ...shown("failing spans", value.failing_spans_total, failing.length),
    ],
  };
  const fallback = traceIds[0];
  if (source) model.source = source;
  else if (fallback !== undefined) model.source = { by: "trace_id", value: fallback };
  return model;
}
