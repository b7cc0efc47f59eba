// diagnose's answer: its shape (the tool's output schema) and its rendering in the shape every prompt
// asks a model to end with — the root cause in one sentence, the evidence by id, the confidence and
// what would change it, the next checks — then every failing span with what it did to the outcome,
// and the comparison with healthy executions the hypotheses rest on.

import { z } from "zod";
import { EVIDENCE_TYPES, HYPOTHESIS_KINDS } from "./diagnosis.js";
import { formatDataValue, formatLabel, formatMs } from "./format.js";
import {
  divergenceSchema,
  durationSchema,
  failingSpanSchema,
  renderDivergence,
  renderDuration,
  renderFailingSpan,
  renderRetry,
  renderTime,
  retrySchema,
  timeSchema,
} from "./comparison-report.js";

import { executionSummarySchema } from "./execution-summary.js";

const evidenceItem = z.object({ type: z.enum(EVIDENCE_TYPES), id: z.string(), note: z.string() });

export const diagnosisReportSchema = z.object({
  subject: z.object({ by: z.enum(["job_id", "trace_id", "issue"]), value: z.string(), job_id: z.string().optional() }),
  execution: executionSummarySchema.extend({ services: z.array(z.string()) }),
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
  failing_spans: z.array(failingSpanSchema).describe("Every failing span (up to 20), each with its role: cause, propagated, retried, fallback or handled."),
  failing_spans_total: z.number(),
  retries: z.array(retrySchema),
  comparison: z
    .object({
      baseline_executions: z.number(),
      duration: durationSchema,
      first_divergence: divergenceSchema.optional(),
      where_time_went: z.array(timeSchema),
    })
    .optional()
    .describe("The execution against healthy executions of its root operation (compare_executions has the full comparison)."),
  change_onset: z
    .object({
      operation: z
        .string()
        .optional()
        .describe("Whose failures began then: the root operation's, or the failing span's (service.operation) when the change is stamped on that span and not on the root."),
      onset: z.string(),
      located: z.enum(["read", "bisected"]).describe("bisected: the failures were too many to read, so their start was found by probing."),
      candidates: z.array(z.object({ key: z.string(), value: z.string(), first_seen: z.string(), failure_rate_before: z.number(), failure_rate_after: z.number() })),
      outcomes: z.array(z.object({ key: z.string(), value: z.string(), failure_share: z.number() })).describe("Values only failures carry whose keys describe the outcome: not causes."),
      note: z.string().optional(),
    })
    .optional(),
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
  if (out.failing_spans.length) {
    lines.push("", `Failing spans (${out.failing_spans.length}${out.failing_spans_total > out.failing_spans.length ? ` of ${out.failing_spans_total}` : ""}) and what each did to the outcome:`);
    for (const f of out.failing_spans) lines.push(renderFailingSpan(f));
  }
  if (out.retries.length) {
    lines.push("", "Retries:");
    for (const r of out.retries) lines.push(renderRetry(r));
  }
  const c = out.comparison;
  if (c) {
    lines.push("", `Compared with successful ${formatLabel(x.root)} executions: ${renderDuration(c.duration, c.baseline_executions)}.`, renderDivergence(c.first_divergence));
    for (const t of c.where_time_went) lines.push(renderTime(t));
  }
  const o = out.change_onset;
  if (o && (o.candidates.length || o.outcomes.length)) {
    const whose = o.operation ? `the failures of ${formatDataValue(o.operation)}` : "these failures";
    lines.push("", `What appeared when ${whose} began (${o.onset}${o.located === "bisected" ? ", located by sampling" : ""}):`);
    for (const k of o.candidates) lines.push(`- ${formatDataValue(k.key)}=${formatDataValue(k.value)} first seen ${k.first_seen}; failure rate ${Math.round(100 * k.failure_rate_before)}% before → ${Math.round(100 * k.failure_rate_after)}% with it (candidate cause)`);
    for (const k of o.outcomes) lines.push(`- ${formatDataValue(k.key)}=${formatDataValue(k.value)} on ${Math.round(100 * k.failure_share)}% of failures (describes the outcome, not a cause)`);
  }
  if (out.not_checked.length) {
    lines.push("", "Not checked:");
    for (const n of out.not_checked) lines.push(`- ${n}`);
  }
  return lines.join("\n");
}
