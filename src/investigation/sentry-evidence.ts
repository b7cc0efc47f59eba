// What diagnose takes from Sentry: the event of an issue (to find the job it failed) or the event of
// a job (to cite), boiled down to its id and its execution context, through the one issue resolver.

import type { SentryEvidence } from "../analysis/diagnosis.js";
import { quoteData } from "../analysis/format.js";
import { NotConfiguredError, NotFoundError, TraceDoctorError } from "../errors.js";
import { summariseEvent, type EventSummary } from "../sentry/event-summary.js";
import { resolveIssue, type IssueLookup } from "../sentry/issue-resolver.js";
import type { SentryIssues } from "../sentry/sentry-client.js";

/** The same sentence from every tool that needs Sentry when it is not configured. */
export function sentryNotConfigured(missing: readonly string[]): NotConfiguredError {
  return new NotConfiguredError(
    `Sentry is not configured: set ${missing.join(" and ")} in the server's environment (SENTRY_URL too for self-hosted or region hosts), then restart it. The span tools (get_trace, list_failed_spans, find_gaps, and diagnose by job_id or trace_id) work without Sentry.`,
  );
}

export interface EventEvidence {
  evidence: SentryEvidence;
  summary: EventSummary;
  /** The job the event names, by the first correlation key (tag or context) or a job tag. */
  jobId?: string;
  traceId?: string;
}

/** The resolved event as diagnosis evidence, and the ids that lead from it to spans. */
export async function eventEvidence(
  sentry: SentryIssues,
  lookup: IssueLookup,
  keys: { correlationKeys: readonly string[]; jobTagKeys: readonly string[] },
): Promise<EventEvidence> {
  const found = await resolveIssue(sentry, lookup, { jobTagKeys: keys.jobTagKeys, others: 0 });
  const label = found.issue.shortId ?? (found.lookup.by === "short_id" ? found.lookup.value : found.issue.id);
  if (!found.event) {
    throw new NotFoundError(
      `Sentry issue ${label}${found.issue.title ? ` (${quoteData(found.issue.title, 120)})` : ""} has no event to diagnose from — ${found.noEvent ?? "Sentry gave none."} Without an event there is no job id or trace id to find its spans by: call sentry_issue_context for the issue itself, or diagnose by job_id or trace_id.`,
    );
  }
  const summary = summariseEvent(found.event, { maxBreadcrumbs: 0, maxFrames: 0, correlationKeys: keys.correlationKeys });
  const context = summary.contexts.execution ?? Object.values(summary.contexts)[0] ?? {};
  const jobId = summary.correlation.find((c) => c.key === keys.correlationKeys[0])?.value ?? summary.tags.find((t) => keys.jobTagKeys.includes(t.key))?.value;
  return {
    evidence: { issue: label, eventId: summary.event_id, context },
    summary,
    ...(jobId ? { jobId } : {}),
    ...(summary.trace_id ? { traceId: summary.trace_id } : {}),
  };
}

/**
 * The Sentry event of a job, for diagnose to cite; null (with the reason in `notChecked`) when there is
 * none or Sentry fails — a diagnosis from the spans still stands without it.
 */
export async function eventOfJob(
  sentry: SentryIssues,
  jobId: string,
  keys: { correlationKeys: readonly string[]; jobTagKeys: readonly string[] },
  notChecked: string[],
): Promise<SentryEvidence | null> {
  try {
    return (await eventEvidence(sentry, { job_id: jobId }, keys)).evidence;
  } catch (err) {
    if (err instanceof NotFoundError) notChecked.push(`Sentry: no event found with tag ${keys.jobTagKeys[0]}=${jobId}.`);
    else if (err instanceof TraceDoctorError && err.code !== "cancelled") notChecked.push(`Sentry: ${err.message}`);
    else throw err;
    return null;
  }
}
