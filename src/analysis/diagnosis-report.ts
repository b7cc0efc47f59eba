// diagnose's answer: its shape (the tool's output schema) and its rendering in the shape every prompt
// asks a model to end with — the root cause in one sentence, the evidence by id, the confidence and
// what would change it, the next checks.

import { z } from "zod";
import { EVIDENCE_TYPES, HYPOTHESIS_KINDS } from "./diagnosis.js";
import { formatDataValue, formatLabel, formatMs } from "./format.js";

const evidenceItem = z.object({ type: z.enum(EVIDENCE_TYPES), id: z.string(), note: z.string() });

export const diagnosisReportSchema = z.object({
  subject: z.object({ by: z.enum(["job_id", "trace_id", "issue"]), value: z.string(), job_id: z.string().optional() }),
  execution: z.object({
    trace_ids: z.array(z.string()),
    root_span_id: z.string(),
    root: z.string(),
    status: z.string(),
    started_at: z.string(),
    duration_ms: z.number().optional(),
    services: z.array(z.string()),
  }),
  hypotheses: z.array(
    z.object({
      kind: z.enum(HYPOTHESIS_KINDS),
      confidence: z.number(),
      label: z.enum(["high", "medium", "low"]),
      summary: z.string(),
      evidence: z.array(evidenceItem),
      checks: z.array(z.string()),
    }),
  ),
  root_cause: z.string().describe("The top hypothesis as one sentence."),
  not_checked: z.array(z.string()),
  baseline_executions: z.number(),
});
export type DiagnosisReport = z.infer<typeof diagnosisReportSchema>;


export function renderDiagnosis(out: DiagnosisReport): string {
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
