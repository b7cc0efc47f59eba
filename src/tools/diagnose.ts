// diagnose: the whole triage in one deterministic call, for scripts and for models that should not
// need six calls. It gathers the evidence with the same code as the four tools (the trace, its gaps
// against successful executions, its failure cluster, the Sentry event) and ranks hypotheses.

import { z } from "zod";
import { buildSpanTree } from "../analysis/span-tree.js";
import { findGaps } from "../analysis/gaps.js";
import { diagnose, type SentryEvidence } from "../analysis/diagnosis.js";
import { diagnosisReportSchema, renderDiagnosis, type DiagnosisReport } from "../analysis/diagnosis-report.js";
import { BASELINE_SAMPLE, MAX_SAMPLE, MIN_SAMPLE } from "../analysis/defaults.js";
import { hopName, isFailureStatus, knownEndMs } from "../analysis/span.js";
import { isoTime, round } from "../analysis/format.js";
import { InputError } from "../errors.js";
import { executionBaseline } from "../investigation/execution-baseline.js";
import { findExecution } from "../investigation/execution-lookup.js";
import { clusterOfExecution } from "../investigation/failure-clusters.js";
import { eventEvidence, eventOfJob, sentryNotConfigured } from "../investigation/sentry-evidence.js";
import { FailureQueries } from "../store/failure-queries.js";
import { defineTool, READ_ONLY_OPEN_WORLD } from "./tool-definition.js";

export const diagnoseInput = z.object({
  job_id: z.string().trim().min(1).max(200).optional().describe("The failing job's id (metadata job_id), e.g. bias-detection-1761135900618."),
  trace_id: z.string().trim().min(1).max(200).optional().describe("The failing execution's trace id."),
  issue: z.string().trim().min(1).max(500).optional().describe("A Sentry issue (id, short id or URL): its recommended event's job is diagnosed."),
  sample: z
    .number()
    .int()
    .min(MIN_SAMPLE)
    .max(MAX_SAMPLE)
    .default(BASELINE_SAMPLE)
    .describe(`Successful executions to learn the expected hops from (${MIN_SAMPLE}-${MAX_SAMPLE}).`),
});
export type DiagnoseInput = z.infer<typeof diagnoseInput>;

const description = `Diagnose one failed execution in a single call: give a job_id, a trace_id or a Sentry issue.
It gathers the evidence the other tools would (the trace tree; hops missing compared with successful executions; slow hand-offs; the failure cluster the execution belongs to and the metadata values that set it apart; the Sentry event when Sentry is configured) and returns ranked hypotheses, each with a stable kind — immediate_caller_failure, downstream_rejected, timeout, localized_outage, lost_request, slow_handoff, insufficient_evidence — a confidence, the span/trace/Sentry event ids behind it and the checks that would confirm or refute it. Several can hold at once. It says what it could not check.
Use it first for "why did this job fail?"; then verify the top hypothesis with get_trace, find_gaps, list_failed_spans or sentry_issue_context.`;

export default defineTool({
  name: "diagnose",
  title: "Diagnose a failure",
  description,
  annotations: READ_ONLY_OPEN_WORLD,
  inputSchema: diagnoseInput,
  outputSchema: diagnosisReportSchema,
  async handler(ctx, input) {
    const given = (["job_id", "trace_id", "issue"] as const).filter((k) => input[k] !== undefined);
    if (given.length !== 1) {
      throw new InputError(given.length ? `Give one of job_id, trace_id or issue, not ${given.join(" and ")}.` : "Give one of: job_id, trace_id, or issue (a Sentry issue id, short id or URL).");
    }
    const { spans, settings } = ctx;
    const nowMs = ctx.now();
    const keys = { correlationKeys: spans.correlationKeys, jobTagKeys: settings.jobTagKeys };
    const notChecked: string[] = [];
    // A Sentry issue is diagnosed through the job (or trace) its event names.
    let jobId = input.job_id;
    let traceId = input.trace_id;
    let sentry: SentryEvidence | null = null;
    if (input.issue !== undefined) {
      if (!ctx.sentry.client) throw sentryNotConfigured(ctx.sentry.missing);
      const fromIssue = await eventEvidence(ctx.sentry.client, { issue: input.issue }, keys);
      sentry = fromIssue.evidence;
      jobId = fromIssue.jobId;
      traceId = jobId ? undefined : fromIssue.traceId;
      if (!jobId && !traceId) {
        throw new InputError(`The Sentry event ${fromIssue.evidence.eventId} carries no job_id and no trace id, so no spans can be found for it. Call sentry_issue_context for what Sentry has.`);
      }
    }

    const found = await findExecution(spans, { ...(jobId ? { job_id: jobId } : { trace_id: traceId! }), include_linked: true }, settings.maxTraceSpans, nowMs);
    const tree = buildSpanTree(found.loaded.spans, { correlationKeys: [...spans.correlationKeys] });
    const root = tree.roots[0]!;
    const job = jobId ?? (root.span.metadata[spans.correlationKeys[0]!] as string | undefined);

    const { baseline, successes } = await executionBaseline(spans, tree, input.sample, nowMs);
    if (!baseline) notChecked.push(`Missing hops: only ${successes} successful execution(s) of this operation in the 24 h before it, too few to learn which hops to expect.`);
    const gaps = findGaps(tree, baseline);
    const cluster = isFailureStatus(root.span.status)
      ? await clusterOfExecution(new FailureQueries(spans), root, { ...settings, correlationKey: spans.correlationKeys[0]!, nowMs })
      : null;

    if (!sentry) {
      if (!ctx.sentry.client) notChecked.push(`Sentry: not configured (${ctx.sentry.missing.join(", ")} missing).`);
      else if (job) sentry = await eventOfJob(ctx.sentry.client, job, keys, notChecked);
    }

    const hypotheses = diagnose({ tree, gaps, baselineExecutions: baseline?.executions ?? 0, immediateMs: settings.immediateMs, cluster, sentry, notChecked });
    const end = knownEndMs(root.span);
    const output: DiagnosisReport = {
      subject: { by: given[0]!, value: (input.job_id ?? input.trace_id ?? input.issue)!, ...(job ? { job_id: job } : {}) },
      execution: {
        trace_ids: tree.traceIds,
        root_span_id: root.span.spanId,
        root: hopName(root.span.service, root.span.operation),
        status: root.flags.includes("unfinished") ? "unfinished" : root.span.status,
        started_at: isoTime(root.span.startMs),
        ...(end !== null && { duration_ms: round(end - root.span.startMs) }),
        services: [...new Set(tree.nodes.map((n) => n.span.service))],
      },
      hypotheses,
      root_cause: hypotheses[0]!.summary,
      not_checked: notChecked,
      baseline_executions: baseline?.executions ?? 0,
    };
    return output;
  },
  render: (output) => renderDiagnosis(output),
});
