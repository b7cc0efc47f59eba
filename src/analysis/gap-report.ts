// find_gaps' answer: its shape (the tool's output schema) and its rendering for a model — findings
// first (most severe first, each a sentence with its evidence), then the hand-offs or edge
// statistics, then what was not judged and why.

import { z } from "zod";
import { formatDataValue, formatLabel, formatMs } from "./format.js";
import { GAP_KINDS, SEVERITIES } from "./gaps.js";

const finding = z.object({
  kind: z.enum(GAP_KINDS),
  severity: z.enum(SEVERITIES),
  span_ids: z.array(z.string()),
  trace_ids: z.array(z.string()),
  offset_ms: z.number().optional(),
  size_ms: z.number().optional(),
  edge: z.string().optional(),
  missing: z.array(z.string()).optional(),
  sentence: z.string(),
});

export const gapReportSchema = z.object({
  mode: z.enum(["trace", "aggregate"]),
  window: z.object({ since: z.string(), until: z.string() }),
  resolved: z.object({ by: z.enum(["trace_id", "job_id"]), value: z.string(), key: z.string().optional(), note: z.string().optional() }).optional(),
  trace_ids: z.array(z.string()).optional(),
  root: z
    .object({ span_id: z.string(), service: z.string(), operation: z.string(), status: z.string(), duration_ms: z.number().optional() })
    .optional(),
  findings: z.array(finding),
  findings_truncated: z.boolean(),
  handoffs: z
    .array(
      z.object({
        edge: z.string(),
        parent_span_id: z.string(),
        child_span_id: z.string(),
        delay_ms: z.number(),
        linked_by: z.string().optional(),
        baseline_p50_ms: z.number().optional(),
        baseline_p95_ms: z.number().optional(),
      }),
    )
    .optional(),
  expected_hops: z.array(z.object({ hop: z.string(), share: z.number(), present: z.boolean(), usual_offset_ms: z.number() })).optional(),
  baseline: z.object({ root_operation: z.string(), successful_executions: z.number(), note: z.string().optional() }).optional(),
  edges: z
    .array(
      z.object({
        edge: z.string(),
        count: z.number(),
        p50_ms: z.number(),
        p95_ms: z.number(),
        max_ms: z.number(),
        worst: z.array(z.object({ trace_id: z.string(), parent_span_id: z.string(), child_span_id: z.string(), delay_ms: z.number() })),
      }),
    )
    .optional(),
  missing_hops: z
    .array(
      z.object({
        root_operation: z.string(),
        hop: z.string(),
        expected_share: z.number(),
        missing_in: z.number(),
        executions: z.number(),
        examples: z.array(z.object({ trace_id: z.string(), span_id: z.string() })),
      }),
    )
    .optional(),
  executions_sampled: z.number().optional(),
  sample_truncated: z.boolean().optional(),
  notes: z.array(z.string()),
});

export type GapReport = z.infer<typeof gapReportSchema>;


export function renderGapReport(out: GapReport): string {
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
