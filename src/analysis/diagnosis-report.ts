// Renders diagnose's answer in the shape every prompt asks a model to end with: the root cause in one
// sentence, the evidence by id, the confidence and what would change it, the next checks.

import { formatDataValue, formatLabel, formatMs } from "./format.js";
import type { DiagnoseOutput } from "../tools/diagnose.js";

export function renderDiagnosis(out: DiagnoseOutput): string {
  const x = out.execution;
  const lines = [
    `Diagnosis of ${out.subject.by} ${formatDataValue(out.subject.value)}${out.subject.job_id && out.subject.by !== "job_id" ? ` (job ${formatDataValue(out.subject.job_id)})` : ""}: ${formatLabel(x.root)} ${formatDataValue(x.status)} after ${formatMs(x.duration_ms ?? null)} at ${x.started_at} · services ${x.services.map((s) => formatDataValue(s)).join(", ")} · trace ${x.trace_ids.map((t) => formatDataValue(t)).join(", ")}`,
    "",
    `Root cause (most likely): ${out.root_cause}`,
    "",
    "Hypotheses, most likely first:",
  ];
  out.hypotheses.forEach((h, i) => {
    lines.push(`${i + 1}. ${h.kind} — confidence ${h.label} (${h.confidence.toFixed(2)})`);
    lines.push(`   ${h.summary}`);
    if (h.evidence.length) {
      lines.push("   evidence:");
      for (const e of h.evidence) lines.push(`   - ${e.type} ${formatLabel(e.id)}: ${formatLabel(e.note)}`);
    }
    if (h.checks.length) {
      lines.push("   to confirm or refute:");
      for (const c of h.checks) lines.push(`   - ${c}`);
    }
  });
  if (out.not_checked.length) {
    lines.push("", "Not checked:");
    for (const n of out.not_checked) lines.push(`- ${n}`);
  }
  return lines.join("\n");
}
