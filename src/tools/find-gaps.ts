// find_gaps: where time or hops went missing. For one execution (trace_id or job_id): missing hops
// against successful executions of the same root operation, slow hand-offs, idle and untraced time,
// orphans, unfinished spans, clock skew. Without an id: hand-off delays per service edge and how
// often each expected hop is missing, over a bounded sample of recent executions.

import { z } from "zod";
import { buildSpanTree } from "../analysis/span-tree.js";
import { knownEndMs } from "../analysis/span.js";
import { aggregateGaps, findGaps, hopOf, type GapThresholds } from "../analysis/gaps.js";
import { gapReportSchema, renderGapReport, type GapReport } from "../analysis/gap-report.js";
import { formatDataValue, isoTime, round } from "../analysis/format.js";
import { parseWindow, type TimeWindow } from "../analysis/time-window.js";
import {
  BASELINE_SPAN_LIMIT,
  EXPECTED_HOP_SHARE,
  MIN_BASELINE_EXECUTIONS,
  MIN_GAP_MS,
  SLOW_HANDOFF_MS,
} from "../analysis/defaults.js";
import { InputError } from "../errors.js";
import { executionBaseline, loadExecutions, SPANS_PER_SAMPLED_TRACE } from "../investigation/execution-baseline.js";
import { findExecution } from "../investigation/execution-lookup.js";
import { defineTool, READ_ONLY, sampleInput, type ToolContext } from "./tool-definition.js";

export const findGapsInput = z.object({
  trace_id: z.string().trim().min(1).max(200).optional().describe("One execution by trace id. Omit trace_id and job_id for the aggregate view."),
  job_id: z.string().trim().min(1).max(200).optional().describe("One execution by job id (metadata), joining its hops across trace ids."),
  since: z.string().max(40).optional().describe("Aggregate view: window start, ISO 8601 or a duration back from now (2h, 7d). Default 24h."),
  until: z.string().max(40).optional().describe("Aggregate view: window end. Default now."),
  service: z.string().min(1).max(200).optional().describe("Aggregate view: only edges and hops involving this service."),
  operation: z.string().min(1).max(200).optional().describe("Aggregate view: only edges and hops involving this operation."),
  min_gap_ms: z.number().min(0).max(3_600_000).default(MIN_GAP_MS).describe(`Ignore idle or untraced gaps shorter than this (default ${MIN_GAP_MS}).`),
  slow_handoff_ms: z
    .number()
    .min(0)
    .max(3_600_000)
    .default(SLOW_HANDOFF_MS)
    .describe(`With no baseline for an edge, report hand-offs slower than this (default ${SLOW_HANDOFF_MS}). With one, slow means beyond 1.5× its p95.`),
  sample: sampleInput("Executions to learn from: recent successful ones for a single execution's baseline, recent ones of any outcome for the aggregate"),
});

export type FindGapsInput = z.infer<typeof findGapsInput>;

const description = `Find where time or hops went missing.
With a trace_id or job_id (one execution): hops that successful executions of the same root operation always have but this one lacks (e.g. "router.inference_request is missing … the request most likely never reached router"), slow hand-offs between services compared with the same edge in successful executions, idle time between sequential spans, untraced time inside a span, orphans, spans that never finished, and clock skew — each finding with its span ids, offset, size, severity and one plain sentence; plus every cross-service hand-off with its delay.
Without an id (aggregate view over a window, default the last 24 h): hand-off delay p50/p95/max per service edge with the worst traces, and how often each expected hop is missing, over a sample of recent executions.
Hops in other trace ids that share the job_id are joined in, since not every service propagates trace_id. Use after get_trace (to see the tree) or list_failed_spans (to pick a failing job); for how long each hop took against healthy runs (slowness, N+1, metadata that differs) use compare_executions.`;

const MAX_FINDINGS = 30;

export default defineTool({
  name: "find_gaps",
  title: "Find gaps",
  description,
  annotations: READ_ONLY,
  inputSchema: findGapsInput,
  outputSchema: gapReportSchema,
  async handler(ctx, input) {
    if (input.trace_id && input.job_id) throw new InputError("Give trace_id or job_id, not both (or neither, for the aggregate view).");
    const thresholds: GapThresholds = { minGapMs: input.min_gap_ms, slowHandoffMs: input.slow_handoff_ms, expectedShare: EXPECTED_HOP_SHARE };
    if (input.trace_id || input.job_id) {
      if (input.since || input.until || input.service || input.operation) {
        throw new InputError("since, until, service and operation apply to the aggregate view only: drop them, or drop trace_id/job_id.");
      }
      return oneExecution(ctx, input, thresholds);
    }
    return aggregate(ctx, input, thresholds, parseWindow(input.since, input.until, ctx.now()));
  },
  render: (output) => renderGapReport(output),
});

async function oneExecution(ctx: ToolContext, input: FindGapsInput, t: GapThresholds): Promise<GapReport> {
  const { spans } = ctx;
  const nowMs = ctx.now();
  const found = await findExecution(spans, { trace_id: input.trace_id, job_id: input.job_id, include_linked: true }, ctx.settings.maxTraceSpans, nowMs);
  const tree = buildSpanTree(found.loaded.spans, { correlationKeys: [...spans.correlationKeys] });
  const root = tree.roots[0]!;
  const rootHop = hopOf(root);
  const notes: string[] = [];
  const { baseline, successes, window, more } = await executionBaseline(spans, tree, input.sample, nowMs, { profile: false });
  if (!baseline) notes.push(`Only ${successes} successful ${rootHop} execution(s) in the 24 h before this one: too few to learn which hops to expect, so missing hops are not judged.`);
  if (tree.roots.length > 1) notes.push(`The spans form ${tree.roots.length} separate trees; findings are about all of them, expected hops about the first (${rootHop}).`);
  if (found.loaded.truncated) notes.push(`The execution has more spans than TRACE_DOCTOR_MAX_TRACE_SPANS; only the first were read.`);

  const analysis = findGaps(tree, baseline, t);
  const end = knownEndMs(root.span);
  const output: GapReport = {
    mode: "trace",
    window: { since: isoTime(window.fromMs), until: isoTime(window.toMs) },
    resolved: found.resolved,
    trace_ids: tree.traceIds,
    root: {
      span_id: root.span.spanId,
      service: root.span.service,
      operation: root.span.operation,
      status: root.flags.includes("unfinished") ? "unfinished" : root.span.status,
      ...(end !== null && { duration_ms: round(end - root.span.startMs) }),
    },
    findings: analysis.findings.slice(0, MAX_FINDINGS),
    findings_truncated: analysis.findings.length > MAX_FINDINGS,
    handoffs: analysis.handoffs.slice(0, 50),
    expected_hops: analysis.expectedHops,
    baseline: baseline
      ? { root_operation: rootHop, successful_executions: baseline.executions, ...(more ? { note: `the ${baseline.executions} most recent` } : {}) }
      : { root_operation: rootHop, successful_executions: successes, note: "too few to judge missing hops" },
    notes,
  };
  return output;
}

async function aggregate(ctx: ToolContext, input: FindGapsInput, t: GapThresholds, window: TimeWindow): Promise<GapReport> {
  const { spans } = ctx;
  const sampled = await spans.recentRoots({ window, limit: input.sample });
  const { executions, truncated, cappedTraces } = await loadExecutions(spans, sampled.roots, window, BASELINE_SPAN_LIMIT);
  const result = aggregateGaps(executions, t);
  const involves = (hop: { service: string; operation: string }) =>
    (!input.service || hop.service === input.service) && (!input.operation || hop.operation === input.operation);
  const notes: string[] = [];
  if (sampled.more) {
    notes.push(
      `Sampled the ${sampled.roots.length} most recent root spans of the window (${result.executions} executions once hops joined by job_id were merged); raise sample (up to 2000) to look further back.`,
    );
  }
  if (truncated) notes.push(`The sample's spans exceeded ${BASELINE_SPAN_LIMIT}; later spans were not read.`);
  if (cappedTraces.length) {
    notes.push(
      `${cappedTraces.length} trace(s) of the sample have more than ${SPANS_PER_SAMPLED_TRACE} spans; only ${SPANS_PER_SAMPLED_TRACE} of each were read, so one huge trace cannot stall the sample or crowd out the others: ${cappedTraces.slice(0, 3).map((id) => formatDataValue(id)).join(", ")}${cappedTraces.length > 3 ? " …" : ""} (get_trace shows one whole).`,
    );
  }
  const groups = result.groups.filter((g) => g.successful < MIN_BASELINE_EXECUTIONS);
  for (const g of groups) notes.push(`${g.rootHop}: only ${g.successful} successful execution(s) in the sample, too few to learn its expected hops.`);

  const findings = [
    ...result.unfinished.slice(0, 10).map((n) => ({
      kind: "unfinished" as const,
      severity: "high" as const,
      span_ids: [n.span.spanId],
      trace_ids: [n.span.traceId],
      sentence: `${hopOf(n)} ${n.span.spanId} was started and never finished.`,
    })),
    ...result.orphans.slice(0, 10).map((n) => ({
      kind: "orphan" as const,
      severity: "medium" as const,
      span_ids: [n.span.spanId],
      trace_ids: [n.span.traceId],
      sentence: `${hopOf(n)} ${n.span.spanId} names a parent that is not in the data.`,
    })),
  ];
  const output: GapReport = {
    mode: "aggregate",
    window: { since: isoTime(window.fromMs), until: isoTime(window.toMs) },
    findings,
    findings_truncated: result.unfinished.length > 10 || result.orphans.length > 10,
    edges: result.edges
      .filter((e) => e.worst.some((h) => involves(h.parent.span) || involves(h.child.span)))
      .slice(0, 30)
      .map((e) => ({
        edge: e.edge,
        count: e.count,
        p50_ms: round(e.p50Ms),
        p95_ms: round(e.p95Ms),
        max_ms: round(e.maxMs),
        worst: e.worst.map((h) => ({ trace_id: h.child.span.traceId, parent_span_id: h.parent.span.spanId, child_span_id: h.child.span.spanId, delay_ms: round(h.delayMs) })),
      })),
    missing_hops: result.groups.flatMap((g) =>
      g.missing
        .filter((m) => involves(m))
        .map((m) => ({
          root_operation: g.rootHop,
          hop: m.hop,
          expected_share: m.expectedShare,
          missing_in: m.missingIn,
          executions: g.executions,
          examples: m.examples.map((e) => ({ trace_id: e.traceId, span_id: e.spanId })),
        })),
    ),
    executions_sampled: result.executions,
    sample_truncated: sampled.more,
    notes,
  };
  return output;
}
