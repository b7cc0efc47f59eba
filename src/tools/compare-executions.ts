// compare_executions: one execution (trace id or job id) against healthy executions of the same root
// operation — or against one healthy execution the caller picks — hop by hop: present or missing, each
// against its p50/p95, repeated operations, retries, metadata that differs, where extra time went and
// the first point where they diverge. diagnose uses the same comparison.

import { z } from "zod";
import { buildSpanTree } from "../analysis/span-tree.js";
import { hopOf, succeeded } from "../analysis/gaps.js";
import { learnProfile, type BaselineProfile } from "../analysis/baseline-profile.js";
import { compareExecution, DEFAULT_COMPARISON_THRESHOLDS } from "../analysis/comparison.js";
import { comparisonReportSchema, comparisonSections, failingSpanRecords, renderComparison, retryRecords, type ComparisonReport } from "../analysis/comparison-report.js";
import { failingSpansOf } from "../analysis/diagnosis.js";
import { MIN_BASELINE_EXECUTIONS } from "../analysis/defaults.js";
import { formatLabel, isoTime } from "../analysis/format.js";
import { executionSummary } from "../analysis/execution-summary.js";
import { InputError, NotFoundError } from "../errors.js";
import { chosenBaseline, executionBaseline } from "../investigation/execution-baseline.js";
import { findExecution, requireOneId } from "../investigation/execution-lookup.js";
import { WATERFALL_TOOL_META } from "../ui/waterfall-meta.js";
import { defineTool, READ_ONLY, sampleInput } from "./tool-definition.js";

export const compareExecutionsInput = z.object({
  trace_id: z.string().trim().min(1).max(200).optional().describe("The execution to compare, by trace id. Give this or job_id."),
  job_id: z.string().trim().min(1).max(200).optional().describe("The execution to compare, by job id (metadata), joining its hops across trace ids."),
  baseline_trace_id: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe("Compare with this one execution (a trace of the same root operation you know was healthy) instead of a sample of recent successful ones."),
  sample: sampleInput("Successful executions of the same root operation to compare with, the most recent in the 24 h before"),
});

export type CompareExecutionsInput = z.infer<typeof compareExecutionsInput>;

const description = `Compare one execution (trace_id or job_id) with healthy executions of the same root operation: is it slow, by how much (against their p50/p95), where the extra time went (repeated identical calls — N+1 —, one slow hop, untraced time, queueing, retry back-off), every hop present, missing or extra with its duration against its own p50/p95 and its count against theirs, retries and their back-off, metadata values it carries that healthy runs do not (release, config, inputs), the first point where it left the usual path, and every failing span with what it did to the outcome.
By default the baseline is up to \`sample\` successful executions from the 24 h before it; give baseline_trace_id to compare with one execution you choose.
Use it for "why was this one slow?" or "what is different about this one?". find_gaps is about the structure of one trace (missing hops, hand-off delays, idle and untraced time inside spans); diagnose ranks root-cause hypotheses and uses this same comparison; get_trace shows the tree itself.`;

export default defineTool({
  name: "compare_executions",
  title: "Compare with healthy executions",
  description,
  annotations: READ_ONLY,
  inputSchema: compareExecutionsInput,
  outputSchema: comparisonReportSchema,
  meta: WATERFALL_TOOL_META,
  async handler(ctx, input) {
    requireOneId(input, "Give the execution to compare: a trace_id or a job_id (list_failed_spans or get_trace show them). baseline_trace_id alone is not enough.");
    const { spans, settings } = ctx;
    const nowMs = ctx.now();
    const found = await findExecution(spans, { trace_id: input.trace_id, job_id: input.job_id, include_linked: true }, settings.maxTraceSpans, nowMs);
    const tree = buildSpanTree(found.loaded.spans, { correlationKeys: [...spans.correlationKeys] });
    const root = tree.roots[0]!;
    const rootHop = hopOf(root);
    const notes: string[] = [];
    if (found.loaded.truncated) notes.push(`The execution has more spans than TRACE_DOCTOR_MAX_TRACE_SPANS (${settings.maxTraceSpans}); only the first were read.`);
    if (tree.roots.length > 1) notes.push(`The spans form ${tree.roots.length} separate trees; the comparison is about the first (${rootHop}).`);

    let baseline: ComparisonReport["baseline"];
    let profile: BaselineProfile;
    let thresholds = DEFAULT_COMPARISON_THRESHOLDS;
    if (input.baseline_trace_id !== undefined) {
      const chosen = await chosenBaseline(spans, input.baseline_trace_id, settings.maxTraceSpans);
      if (!chosen) throw new NotFoundError(`No spans have trace_id ${JSON.stringify(input.baseline_trace_id)}: give the trace id of a healthy ${rootHop} execution (list_failed_spans and get_trace show trace ids), or omit baseline_trace_id to compare with recent successful ones.`);
      if (hopOf(chosen) !== rootHop) {
        throw new InputError(`baseline_trace_id ${JSON.stringify(input.baseline_trace_id)} is a ${formatLabel(hopOf(chosen))} execution and this one is ${formatLabel(rootHop)}: compare executions of the same root operation, or omit baseline_trace_id.`);
      }
      if (chosen.span.traceId === root.span.traceId) throw new InputError("baseline_trace_id is the execution itself: give another trace, or omit it to compare with recent successful ones.");
      if (!succeeded(chosen)) notes.push(`The chosen execution did not succeed (${chosen.span.status}): differences may be its own.`);
      profile = learnProfile(rootHop, [chosen]);
      // One execution is its own p50 and p95: judge against it anyway.
      thresholds = { ...DEFAULT_COMPARISON_THRESHOLDS, minExecutions: 1 };
      baseline = { mode: "one", root_operation: rootHop, executions: 1, trace_id: chosen.span.traceId, example_trace_ids: [chosen.span.traceId] };
    } else {
      const learned = await executionBaseline(spans, tree, input.sample, nowMs);
      if (!learned.profile) {
        throw new NotFoundError(
          `Only ${learned.successes} successful ${rootHop} execution(s) in the 24 h before this one (${isoTime(learned.window.fromMs)} → ${isoTime(learned.window.toMs)}): too few to compare with (at least ${MIN_BASELINE_EXECUTIONS}). Give baseline_trace_id to compare with one healthy execution you choose, or read this one with get_trace and find_gaps.`,
        );
      }
      profile = learned.profile;
      baseline = {
        mode: "sample",
        root_operation: rootHop,
        executions: learned.profile.executions,
        since: isoTime(learned.window.fromMs),
        until: isoTime(learned.window.toMs),
        example_trace_ids: learned.profile.exampleTraceIds,
        ...(learned.more && { note: `the ${learned.profile.executions} most recent; raise sample to look further back` }),
      };
    }

    const comparison = compareExecution(tree, profile, { thresholds, identityKeys: spans.correlationKeys });
    const { roles, retries } = failingSpansOf(tree);
    const job = spans.correlationKeys.map((k) => root.span.metadata[k]).find((v) => v !== undefined && v !== null && v !== "");
    const output: ComparisonReport = {
      resolved: found.resolved,
      execution: { ...executionSummary(tree), ...(job !== undefined && { job_id: String(job) }) },
      baseline,
      ...comparisonSections(comparison),
      retries: retryRecords(retries),
      failing_spans: failingSpanRecords(roles),
      failing_spans_total: roles.length,
      notes,
    };
    return output;
  },
  render: (output) => renderComparison(output),
});
