// Renders find_gaps' answer for a model: findings first (most severe first, each a sentence with its
// evidence), then the hand-offs or edge statistics, then what was not judged and why.

import { formatDataValue, formatLabel, formatMs } from "./format.js";
import type { FindGapsOutput } from "../tools/find-gaps.js";

export function renderGapReport(out: FindGapsOutput): string {
  const lines: string[] = [];
  if (out.mode === "trace") {
    const r = out.root!;
    if (out.resolved?.note) lines.push(out.resolved.note);
    lines.push(
      `Gaps in ${formatDataValue(r.service)}.${formatDataValue(r.operation)} ${formatDataValue(r.span_id)} (${formatDataValue(r.status)}, ${formatMs(r.duration_ms ?? null)}) · trace ${out.trace_ids!.map((t) => formatDataValue(t)).join(", ")}`,
    );
    if (out.baseline) {
      lines.push(
        `Compared with ${out.baseline.successful_executions} successful ${formatLabel(out.baseline.root_operation)} executions from ${out.window.since} to ${out.window.until}${out.baseline.note ? ` (${out.baseline.note})` : ""}.`,
      );
    }
  } else {
    lines.push(`Gaps across ${out.executions_sampled} recent executions, ${out.window.since} → ${out.window.until}.`);
  }

  lines.push("", out.findings.length ? `Findings (${out.findings.length}${out.findings_truncated ? ", more cut" : ""}), most severe first:` : "Findings: none above the thresholds.");
  for (const f of out.findings) {
    const where = [f.offset_ms !== undefined ? `at +${formatMs(f.offset_ms)}` : "", f.size_ms !== undefined ? `size ${formatMs(f.size_ms)}` : ""].filter(Boolean).join(", ");
    lines.push(`- [${f.severity}] ${f.kind}${where ? ` (${where})` : ""}: ${f.sentence} Evidence: spans ${f.span_ids.map((s) => formatDataValue(s)).join(", ")}.`);
  }

  if (out.expected_hops?.length) {
    lines.push(
      "",
      `Expected hops (in ≥90% of successful executions): ${out.expected_hops
        .map((h) => `${formatLabel(h.hop)} ${h.present ? "present" : "MISSING"}`)
        .join(", ")}`,
    );
  }
  if (out.handoffs?.length) {
    lines.push("", "Hand-offs between services (child start − caller start):");
    for (const h of out.handoffs) {
      const base = h.baseline_p50_ms !== undefined ? ` (successful: p50 ${formatMs(h.baseline_p50_ms)}, p95 ${formatMs(h.baseline_p95_ms ?? null)})` : "";
      lines.push(`- ${formatLabel(h.edge)}: ${formatMs(h.delay_ms)}${base}${h.linked_by ? ` [joined by ${h.linked_by}]` : ""} · spans ${formatDataValue(h.parent_span_id)} → ${formatDataValue(h.child_span_id)}`);
    }
  } else if (out.mode === "trace") {
    lines.push("", "Hand-offs between services: none — no span of another service hangs under this execution.");
  }

  if (out.edges?.length) {
    lines.push("", "Hand-off delay per service edge (child start − caller start):");
    for (const e of out.edges) {
      const worst = e.worst.map((w) => `${formatMs(w.delay_ms)} in trace ${formatDataValue(w.trace_id)}`).join(", ");
      lines.push(`- ${formatLabel(e.edge)}: ×${e.count}, p50 ${formatMs(e.p50_ms)}, p95 ${formatMs(e.p95_ms)}, max ${formatMs(e.max_ms)}; worst: ${worst}`);
    }
  }
  if (out.missing_hops?.length) {
    lines.push("", "Expected hops that executions lacked:");
    for (const m of out.missing_hops) {
      lines.push(
        `- ${formatLabel(m.hop)} missing in ${m.missing_in} of ${m.executions} ${formatLabel(m.root_operation)} executions (present in ${Math.round(m.expected_share * 100)}% of successful ones); e.g. trace ${m.examples
          .map((e) => formatDataValue(e.trace_id))
          .join(", ")}`,
      );
    }
  } else if (out.mode === "aggregate") {
    lines.push("", "Expected hops: none missing in the sample.");
  }
  for (const n of out.notes) lines.push(`Note: ${n}`);
  return lines.join("\n");
}
