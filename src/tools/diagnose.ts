// diagnose: the whole triage in one deterministic call, for scripts and for models that should not
// need six calls. It gathers the evidence with the same code as the other tools (the trace, its gaps
// and its comparison against successful executions, its failure cluster and what appeared when that
// cluster began, the Sentry event) and ranks hypotheses. Every read is bounded: the execution, a
// sample of healthy executions, and the latest failures of its cluster — nothing window-wide.

import { z } from "zod";
import { buildSpanTree, subtreeNodes } from "../analysis/span-tree.js";
import { findGaps } from "../analysis/gaps.js";
import { diagnose, failingSpansOf, type SentryEvidence } from "../analysis/diagnosis.js";
import { diagnosisReportSchema, renderDiagnosis, type DiagnosisReport } from "../analysis/diagnosis-report.js";
import { compareExecution } from "../analysis/comparison.js";
import { divergenceRecord, durationRecord, failingSpanRecords, retryRecords, timeRecords } from "../analysis/comparison-report.js";
import { valuesToCheck, type ChangeCandidate, type ChangeOnset } from "../analysis/change-onset.js";
import { scalarText } from "../analysis/metadata-keys.js";
import { hopName, isFailureStatus } from "../analysis/span.js";
import type { SpanNode } from "../analysis/span-tree.js";
import { isoTime } from "../analysis/format.js";
import { executionSummary } from "../analysis/execution-summary.js";
import { InputError } from "../errors.js";
import { onsetOfCluster } from "../investigation/change-onset.js";
import { executionBaseline } from "../investigation/execution-baseline.js";
import { findExecution } from "../investigation/execution-lookup.js";
import { clusterOfExecution, sampledFailures, type ExecutionCluster } from "../investigation/failure-clusters.js";
import { eventEvidence, eventOfJob, sentryNotConfigured } from "../investigation/sentry-evidence.js";
import { BaselineQueries } from "../store/baseline-queries.js";
import { ChangeQueries } from "../store/change-queries.js";
import { defineTool, READ_ONLY_OPEN_WORLD, sampleInput } from "./tool-definition.js";

export const diagnoseInput = z.object({
  job_id: z.string().trim().min(1).max(200).optional().describe("The failing job's id (metadata job_id), e.g. bias-detection-1761135900618."),
  trace_id: z.string().trim().min(1).max(200).optional().describe("The failing execution's trace id."),
  issue: z.string().trim().min(1).max(500).optional().describe("A Sentry issue (id, short id or URL): its recommended event's job is diagnosed."),
  sample: sampleInput("Successful executions to learn the expected hops from"),
});
export type DiagnoseInput = z.infer<typeof diagnoseInput>;

const description = `Diagnose one execution in a single call: give a job_id, a trace_id or a Sentry issue.
It gathers the evidence the other tools would (the trace tree; hops missing compared with successful executions; slow hand-offs; the execution against healthy runs of the same root operation — how much slower, where the time went, the first point it diverged; retries; the failure cluster it belongs to, the metadata values that set it apart and what appeared when it began; the Sentry event when Sentry is configured) and returns ranked hypotheses, each with a stable kind — immediate_caller_failure, in_process_failure, downstream_rejected, upstream_overload, timeout, pool_exhaustion, bad_change, localized_outage, lost_request, slow_handoff, latency_regression, handled_error, insufficient_evidence — a confidence, the span/trace/Sentry event ids behind it and checks chosen from the failure's own evidence (status codes, error text, waits). Every failing span is listed with its role (cause, propagated, retried, fallback, handled). Several hypotheses can hold at once; it says what it could not check.
Use it first for "why did this job fail?" or "why was this one slow?"; then verify the top hypothesis with get_trace, compare_executions, find_gaps, list_failed_spans or sentry_issue_context.`;

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

    const { baseline, profile, executions, successes } = await executionBaseline(spans, tree, input.sample, nowMs);
    if (!baseline) notChecked.push(`Missing hops and slowness: only ${successes} successful execution(s) of this operation in the 24 h before it, too few to learn which hops to expect or how long it usually takes.`);
    const gaps = findGaps(tree, baseline);
    const comparison = profile ? compareExecution(tree, profile, { identityKeys: spans.correlationKeys }) : null;
    const samples = new BaselineQueries(spans);
    const changes = new ChangeQueries(spans);
    const ownCluster = isFailureStatus(root.span.status) ? await clusterOfExecution(samples, root, executions, { ...settings, nowMs }) : null;
    let onset = ownCluster ? await changeOnsetOf(changes, ownCluster, executions, settings.immediateMs) : null;
    // A service often stamps its version, image or flags on its own spans only: when the root's
    // failures show no change the root carries, the failing span that caused them is asked the same.
    let onsetOf = root;
    const { roles, retries } = failingSpansOf(tree);
    const cause = roles.find((r) => r.role === "cause" && r.node !== root)?.node;
    if (ownCluster && cause && !onset?.candidates.some((c) => carries(root, c))) {
      const healthy = executions.flatMap((e) => nodesOf(e, cause));
      // Read only when the causing span itself carries a value no healthy span of its operation had before it.
      if (carriesNewValue(cause, healthy)) {
        const causeCluster = await clusterOfExecution(samples, cause, healthy, { ...settings, nowMs });
        const causeOnset = causeCluster ? await changeOnsetOf(changes, causeCluster, healthy, settings.immediateMs) : null;
        if (causeOnset?.candidates.some((c) => carries(cause, c))) [onset, onsetOf] = [causeOnset, cause];
      }
    }
    if (ownCluster && !onset) notChecked.push("Change onset: not looked for — every value most of these failures carry was already carried by successful executions before they began.");

    if (!sentry) {
      if (!ctx.sentry.client) notChecked.push(`Sentry: not configured (${ctx.sentry.missing.join(", ")} missing).`);
      else if (job) sentry = await eventOfJob(ctx.sentry.client, job, keys, notChecked);
    }

    const cluster = ownCluster?.cluster ?? null;
    const hypotheses = diagnose({ tree, gaps, baselineExecutions: baseline?.executions ?? 0, immediateMs: settings.immediateMs, cluster, sentry, notChecked, comparison, onset, onsetOf });
    const divergence = comparison ? divergenceRecord(comparison) : undefined;
    const output: DiagnosisReport = {
      subject: { by: given[0]!, value: (input.job_id ?? input.trace_id ?? input.issue)!, ...(job ? { job_id: job } : {}) },
      execution: { ...executionSummary(tree), services: [...new Set(tree.nodes.map((n) => n.span.service))] },
      hypotheses,
      root_cause: hypotheses[0]!.summary,
      failing_spans: failingSpanRecords(roles),
      failing_spans_total: roles.length,
      retries: retryRecords(retries),
      ...(comparison && {
        comparison: {
          baseline_executions: comparison.baselineExecutions,
          duration: durationRecord(comparison),
          ...(divergence && { first_divergence: divergence }),
          where_time_went: timeRecords(comparison),
        },
      }),
      ...(onset && {
        change_onset: {
          operation: hopName(onsetOf.span.service, onsetOf.span.operation),
          onset: isoTime(onset.onsetMs),
          located: onset.located,
          candidates: onset.candidates.map((c) => ({ key: c.key, value: c.value, first_seen: isoTime(c.firstSeenMs), failure_rate_before: c.failureRateBefore, failure_rate_after: c.failureRateAfter })),
          outcomes: onset.outcomes.map((o) => ({ key: o.key, value: o.value, failure_share: o.failureShare })),
          ...(onset.note && { note: onset.note }),
        },
      }),
      not_checked: notChecked,
      baseline_executions: baseline?.executions ?? 0,
    };
    return output;
  },
  render: (output) => renderDiagnosis(output),
});

/**
 * What appeared when the execution's cluster began. The reads are skipped when every value most of its
 * failures carry was already carried by a healthy execution that started before the first failure read.
 */
async function changeOnsetOf(
  changes: ChangeQueries,
  cluster: ExecutionCluster,
  healthy: readonly SpanNode[],
  immediateMs: number,
): Promise<(ChangeOnset & { located: "read" | "bisected" }) | null> {
  const failures = sampledFailures(cluster.failures);
  const earliestMs = Math.min(...failures.map((f) => f.startMs));
  const seenBefore = (key: string, value: string) => healthy.some((h) => h.span.startMs < earliestMs && scalarText(h.span.metadata[key]) === value);
  if (!valuesToCheck(failures).some((v) => !v.outcome && !seenBefore(v.key, v.value))) return null;
  return onsetOfCluster(changes, { cluster: cluster.key, window: cluster.window, earliestMs, sampled: cluster.full, failures, immediateMs });
}

/** Whether a span carries a candidate change's value. */
function carries(node: SpanNode, c: ChangeCandidate): boolean {
  return scalarText(node.span.metadata[c.key]) === c.value;
}

/** The spans of an execution of the same service and operation as `like`. */
function nodesOf(execution: SpanNode, like: SpanNode): SpanNode[] {
  return subtreeNodes(execution).filter((n) => n.span.service === like.span.service && n.span.operation === like.span.operation);
}

/**
 * Whether a failing span carries a value that no healthy span of its operation carried before it: not
 * one describing the outcome, and not one of a key whose every span has its own value (an id).
 */
export function carriesNewValue(failing: SpanNode, healthy: readonly SpanNode[]): boolean {
  const earlier = healthy.filter((h) => h.span.startMs < failing.span.startMs);
  return valuesToCheck(sampledFailures([failing.span])).some((v) => {
    if (v.outcome) return false;
    const seen = earlier.map((h) => scalarText(h.span.metadata[v.key])).filter((x) => x !== null);
    if (seen.length >= 3 && new Set(seen).size > 0.5 * seen.length) return false;
    return !seen.includes(v.value);
  });
}

