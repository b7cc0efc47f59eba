// diagnose: the whole triage in one deterministic call, for scripts and for models that should not
// need six calls. It gathers the evidence with the same code as the four tools (the trace, its gaps
// against successful executions, its failure cluster, the Sentry event) and ranks hypotheses.

import { z } from "zod";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { buildSpanTree, type SpanNode } from "../analysis/span-tree.js";
import { findGaps } from "../analysis/gaps.js";
import { contrastMetadata, durationShape, errorSignature } from "../analysis/failure-clusters.js";
import { diagnose, type ClusterEvidence, type SentryEvidence } from "../analysis/diagnosis.js";
import { renderDiagnosis } from "../analysis/diagnosis-report.js";
import { isFailureStatus, knownEndMs } from "../analysis/span.js";
import { isoTime } from "../analysis/format.js";
import { FailureQueries } from "../store/failure-queries.js";
import type { SpanTable } from "../store/span-table.js";
import type { SentryIssues } from "../sentry/sentry-client.js";
import { summariseEvent } from "../sentry/event-summary.js";
import { parseIssueReference } from "../sentry/issue-reference.js";
import { executionBaseline, lookupTrace, notFoundMessage } from "./trace-lookup.js";
import { toolError, toolErrorFrom, toolResult } from "./result.js";

export const diagnoseInput = z.object({
  job_id: z.string().trim().min(1).max(200).optional().describe("The failing job's id (metadata job_id), e.g. bias-detection-1761135900618."),
  trace_id: z.string().trim().min(1).max(200).optional().describe("The failing execution's trace id."),
  issue: z.string().trim().min(1).max(500).optional().describe("A Sentry issue (id, short id or URL): its recommended event's job is diagnosed."),
  sample: z.number().int().min(10).max(2000).default(300).describe("Successful executions to learn the expected hops from (10-2000)."),
});
export type DiagnoseInput = z.infer<typeof diagnoseInput>;

const evidenceItem = z.object({ type: z.enum(["span", "trace", "sentry_event", "cluster", "baseline"]), id: z.string(), note: z.string() });

export const diagnoseOutput = z.object({
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
      kind: z.enum(["immediate_caller_failure", "downstream_rejected", "timeout", "localized_outage", "lost_request", "slow_handoff", "insufficient_evidence"]),
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
export type DiagnoseOutput = z.infer<typeof diagnoseOutput>;

export const diagnoseDescription = `Diagnose one failed execution in a single call: give a job_id, a trace_id or a Sentry issue.
It gathers the evidence the other tools would (the trace tree; hops missing compared with successful executions; slow hand-offs; the failure cluster the execution belongs to and the metadata values that set it apart; the Sentry event when Sentry is configured) and returns ranked hypotheses, each with a stable kind — immediate_caller_failure, downstream_rejected, timeout, localized_outage, lost_request, slow_handoff, insufficient_evidence — a confidence, the span/trace/Sentry event ids behind it and the checks that would confirm or refute it. Several can hold at once. It says what it could not check.
Use it first for "why did this job fail?"; then verify the top hypothesis with get_trace, find_gaps, list_failed_spans or sentry_issue_context.`;

export interface DiagnoseOptions {
  maxTraceSpans: number;
  immediateMs: number;
  unfinishedAfterMs: number;
  sentry: SentryIssues | null;
  sentryMissing: string[];
  jobTagKeys: readonly string[];
  now?: () => number;
}

export async function diagnoseTool(spans: SpanTable, input: DiagnoseInput, options: DiagnoseOptions): Promise<CallToolResult> {
  const given = (["job_id", "trace_id", "issue"] as const).filter((k) => input[k] !== undefined);
  if (given.length !== 1) {
    return toolError(given.length ? `Give one of job_id, trace_id or issue, not ${given.join(" and ")}.` : "Give one of: job_id, trace_id, or issue (a Sentry issue id, short id or URL).");
  }
  const nowMs = (options.now ?? Date.now)();
  const notChecked: string[] = [];
  try {
    // A Sentry issue is diagnosed through the job (or trace) its event names.
    let jobId = input.job_id;
    let traceId = input.trace_id;
    let sentry: SentryEvidence | null = null;
    if (input.issue !== undefined) {
      if (!options.sentry) return toolError(`A Sentry issue needs Sentry: set ${options.sentryMissing.join(" and ")}, or give the job_id or trace_id instead.`);
      const fromIssue = await eventOfIssue(options.sentry, input.issue, spans.correlationKeys, options.jobTagKeys);
      if ("error" in fromIssue) return toolError(fromIssue.error);
      sentry = fromIssue.evidence;
      jobId = fromIssue.jobId;
      traceId = jobId ? undefined : fromIssue.traceId;
      if (!jobId && !traceId) return toolError(`The Sentry event ${fromIssue.evidence.eventId} carries no job_id and no trace id, so no spans can be found for it. Call sentry_issue_context for what Sentry has.`);
    }

    const found = await lookupTrace(spans, { ...(jobId ? { job_id: jobId } : { trace_id: traceId! }), include_linked: true }, options.maxTraceSpans);
    if (!found) return toolError(await notFoundMessage(spans, jobId ?? traceId!));
    const tree = buildSpanTree(found.loaded.spans, { correlationKeys: [...spans.correlationKeys] });
    const root = tree.roots[0]!;
    const job = jobId ?? (root.span.metadata[spans.correlationKeys[0]!] as string | undefined);

    const { baseline, successes } = await executionBaseline(spans, tree, input.sample, nowMs);
    if (!baseline) notChecked.push(`Missing hops: only ${successes} successful execution(s) of this operation in the 24 h before it, too few to learn which hops to expect.`);
    const gaps = findGaps(tree, baseline);
    const cluster = isFailureStatus(root.span.status) ? await clusterOf(spans, root, options, nowMs) : null;

    if (!sentry) {
      if (!options.sentry) notChecked.push(`Sentry: not configured (${options.sentryMissing.join(", ")} missing).`);
      else if (job) {
        sentry = await sentryEventForJob(options.sentry, job, spans.correlationKeys, options.jobTagKeys).catch((err: unknown) => {
          notChecked.push(`Sentry: ${(err as Error).message}`);
          return null;
        });
        if (!sentry && !notChecked.some((n) => n.startsWith("Sentry"))) notChecked.push(`Sentry: no event found with tag ${options.jobTagKeys[0]}=${job}.`);
      }
    }

    const hypotheses = diagnose({ tree, gaps, baselineExecutions: baseline?.executions ?? 0, immediateMs: options.immediateMs, cluster, sentry, notChecked });
    const end = knownEndMs(root.span);
    const output: DiagnoseOutput = {
      subject: { by: given[0]!, value: (input.job_id ?? input.trace_id ?? input.issue)!, ...(job ? { job_id: job } : {}) },
      execution: {
        trace_ids: tree.traceIds,
        root_span_id: root.span.spanId,
        root: `${root.span.service}.${root.span.operation}`,
        status: root.flags.includes("unfinished") ? "unfinished" : root.span.status,
        started_at: isoTime(root.span.startMs),
        ...(end !== null && { duration_ms: Math.round((end - root.span.startMs) * 10) / 10 }),
        services: [...new Set(tree.nodes.map((n) => n.span.service))],
      },
      hypotheses,
      root_cause: hypotheses[0]!.summary,
      not_checked: notChecked,
      baseline_executions: baseline?.executions ?? 0,
    };
    return toolResult(output, renderDiagnosis(output));
  } catch (err) {
    return toolErrorFrom(err);
  }
}

/** The failure cluster of the root's operation that this execution falls in, with its contrast. */
async function clusterOf(spans: SpanTable, root: SpanNode, options: DiagnoseOptions, nowMs: number): Promise<ClusterEvidence | null> {
  const queries = new FailureQueries(spans);
  const window = { fromMs: Math.min(nowMs, root.span.startMs + 3_600_000) - 24 * 3_600_000, toMs: Math.min(nowMs, root.span.startMs + 3_600_000) };
  const filter = { window, unfinishedBeforeMs: nowMs - options.unfinishedAfterMs, service: root.span.service, operation: root.span.operation };
  const page = await queries.clusters(filter, 50, spans.correlationKeys[0]!, options.immediateMs);
  const end = knownEndMs(root.span);
  const band = end !== null && end - root.span.startMs < options.immediateMs ? "immediate" : "slower";
  const signature = errorSignature(root.span.errorMessage);
  const status = root.flags.includes("unfinished") ? "unfinished" : root.span.status.toLowerCase();
  const mine = page.clusters.find((c) => c.status === status && c.signature === signature && c.band === band);
  if (!mine) return null;
  const [counts, values] = await Promise.all([queries.operationCounts(filter, [{ service: root.span.service, operation: root.span.operation }]), queries.valueCounts(filter, mine, 2000, options.immediateMs)]);
  const stats = { count: mine.count, minMs: mine.minMs, p05Ms: mine.p05Ms, p50Ms: mine.p50Ms, p95Ms: mine.p95Ms, maxMs: mine.maxMs };
  return {
    status: mine.status,
    count: mine.count,
    shape: durationShape(stats, mine.status, { immediateMs: options.immediateMs }),
    p05Ms: mine.p05Ms,
    p50Ms: mine.p50Ms,
    p95Ms: mine.p95Ms,
    firstSeen: isoTime(mine.firstMs),
    distinguishing: contrastMetadata(values.failures, values.failureTotal, values.successes, values.successTotal),
    operationTotal: counts[0]?.total ?? 0,
    operationFailed: counts[0]?.failed ?? 0,
    exampleTraceIds: mine.exampleTraceIds,
  };
}

function sentryEvidence(issue: string, event: Parameters<typeof summariseEvent>[0], correlationKeys: readonly string[]) {
  const summary = summariseEvent(event, { maxBreadcrumbs: 0, maxFrames: 0, correlationKeys });
  const context = summary.contexts.execution ?? Object.values(summary.contexts)[0] ?? {};
  return { summary, evidence: { issue, eventId: summary.event_id, context } satisfies SentryEvidence };
}

async function sentryEventForJob(sentry: SentryIssues, job: string, correlationKeys: readonly string[], tagKeys: readonly string[]): Promise<SentryEvidence | null> {
  for (const key of tagKeys) {
    const query = `${key}:${/[\s"]/.test(job) ? JSON.stringify(job) : job}`;
    const { issues } = await sentry.searchIssues(query, 1);
    const issue = issues[0];
    if (!issue) continue;
    const [eventId] = await sentry.findIssueEvents(issue.id, query, 1);
    const event = await sentry.getIssueEvent(issue.id, eventId ?? "recommended");
    return sentryEvidence(issue.shortId ?? issue.id, event, correlationKeys).evidence;
  }
  return null;
}

async function eventOfIssue(
  sentry: SentryIssues,
  reference: string,
  correlationKeys: readonly string[],
  tagKeys: readonly string[],
): Promise<{ evidence: SentryEvidence; jobId?: string; traceId?: string } | { error: string }> {
  const ref = parseIssueReference(reference);
  if ("error" in ref) return ref;
  let issueId: string;
  let label: string = reference;
  let event;
  if (ref.kind === "event_id") {
    const r = await sentry.lookupEventId(ref.eventId);
    issueId = r.issueId;
    event = r.event ?? (await sentry.getIssueEvent(issueId, ref.eventId));
  } else {
    if (ref.kind === "short_id") {
      issueId = (await sentry.lookupShortId(ref.shortId)).issueId;
      label = ref.shortId;
    } else issueId = ref.issueId;
    event = await sentry.getIssueEvent(issueId, ref.kind === "url" && ref.eventId ? ref.eventId : "recommended", ref.kind === "url" ? ref.org : undefined);
  }
  const { summary, evidence } = sentryEvidence(label, event, correlationKeys);
  const job =
    summary.correlation.find((c) => c.key === correlationKeys[0])?.value ??
    summary.tags.find((t) => tagKeys.includes(t.key))?.value;
  return { evidence, ...(job ? { jobId: job } : {}), ...(summary.trace_id ? { traceId: summary.trace_id } : {}) };
}
