// sentry_issue_context: what Sentry knows about a failure — the issue, one event's tags, contexts,
// exception and breadcrumbs — joined to the spans in trace_spans that belong to it (by the event's
// trace id and by correlation values such as job_id), in one bounded call.

import { z } from "zod";
import { renderSentryReport, sentryReportSchema, type SentryIssueReport, type SentryReport } from "../analysis/sentry-report.js";
import { spansOfEvent } from "../investigation/event-spans.js";
import { sentryNotConfigured } from "../investigation/sentry-evidence.js";
import { summariseEvent } from "../sentry/event-summary.js";
import { lookupKind, parseEventChoice, resolveIssue } from "../sentry/issue-resolver.js";
import type { SentryIssue } from "../sentry/sentry-schemas.js";
import { defineTool, READ_ONLY_OPEN_WORLD } from "./tool-definition.js";

export const sentryIssueContextInput = z.object({
  issue: z
    .string()
    .trim()
    .min(1)
    .max(500)
    .optional()
    .describe("A Sentry issue: numeric id (4711), short id (RUNNER-1A), or an issue or event URL."),
  event_id: z.string().trim().min(1).max(64).optional().describe("A Sentry event id (32 hex characters)."),
  trace_id: z.string().trim().min(1).max(200).optional().describe("A trace id: finds Sentry issues whose events carry it (search trace:<id>), and its spans."),
  job_id: z.string().trim().min(1).max(200).optional().describe("A job id: finds Sentry issues whose events carry it as a tag (job_id:<id> by default), and its spans."),
  event: z
    .string()
    .trim()
    .default("recommended")
    .describe("Which event of the issue: recommended (default), latest, oldest, or an event id. With trace_id or job_id the matching event is used."),
  max_breadcrumbs: z.number().int().min(0).max(100).default(20).describe("Newest breadcrumbs to keep (0-100)."),
  max_frames: z.number().int().min(0).max(50).default(12).describe("Stack frames per exception, in-app first (0-50)."),
  max_spans: z.number().int().min(0).max(200).default(30).describe("Joined spans to list (0-200)."),
});

export type SentryIssueContextInput = z.infer<typeof sentryIssueContextInput>;

const description = `Get what Sentry knows about a failure, joined to its spans, in one call.
Give one of: issue (numeric id, short id like RUNNER-1A, or a Sentry issue/event URL), event_id, trace_id, or job_id (searched as a Sentry tag).
Returns the issue (title, culprit, level, status, counts, first/last seen, link) — even when it has no event Sentry will give (a user feedback issue, events past retention), saying why — one event (recommended by default, or the one matching the trace/job): its tags, contexts (e.g. execution: job_id, region, provider_id, duration_ms, has_output; trace: trace_id), the exception with in-app frames first, and the newest breadcrumbs — all bounded and marked as data written by the application — plus the spans from trace_spans that belong to the event (by its trace id and by job_id) with the trace ids to pass to get_trace. Lists other matching issues when several match.
Use it when the user names a Sentry issue or when you want the error side of a failing job; pair with get_trace and find_gaps on the trace ids it returns.`;

export default defineTool({
  name: "sentry_issue_context",
  title: "Sentry issue context",
  description,
  annotations: READ_ONLY_OPEN_WORLD,
  inputSchema: sentryIssueContextInput,
  outputSchema: sentryReportSchema,
  async handler(ctx, input) {
    const sentry = ctx.sentry.client;
    if (!sentry) throw sentryNotConfigured(ctx.sentry.missing);
    lookupKind(input);
    const choice = parseEventChoice(input.event);
    const jobTagKeys = ctx.settings.jobTagKeys;
    const found = await resolveIssue(sentry, input, { event: choice, jobTagKeys });
    // An issue with no event to fetch (a feedback issue, events past retention) is still answered: the issue, and why.
    const summary = found.event
      ? summariseEvent(found.event, {
          maxBreadcrumbs: input.max_breadcrumbs,
          maxFrames: input.max_frames,
          correlationKeys: ctx.spans.correlationKeys,
          tagAliases: aliasFor(jobTagKeys, ctx.spans.correlationKeys),
        })
      : null;
    const joined = await spansOfEvent(ctx.spans, summary, input, ctx.settings.maxTraceSpans);
    const output: SentryReport = {
      sentry: { host: sentry.host, org: found.org },
      lookup: found.lookup,
      issue: issueSummary(found.issue),
      event_choice: found.eventChoice,
      ...(summary ? { event: summary } : { event_unavailable: found.noEvent ?? "Sentry gave no event for this issue." }),
      spans: joined,
      other_issues: found.others.map(issueSummary),
      more_issues: found.more,
    };
    return output;
  },
  render: (output) => renderSentryReport(output),
  keepTail: ["event.breadcrumbs"],
});

/** Tag keys that carry the job id under another name map onto the first correlation key. */
function aliasFor(tagKeys: readonly string[], correlationKeys: readonly string[]): Record<string, string> {
  const target = correlationKeys[0];
  return target ? Object.fromEntries(tagKeys.filter((k) => k !== target).map((k) => [k, target])) : {};
}

function toNumber(v: unknown): number | undefined {
  const n = Number(v);
  return v === null || v === undefined || v === "" || !Number.isFinite(n) ? undefined : n;
}

function issueSummary(issue: SentryIssue): SentryIssueReport {
  const out: SentryIssueReport = { id: issue.id };
  const set = <K extends keyof typeof out>(k: K, v: (typeof out)[K] | null | undefined) => {
    if (v !== null && v !== undefined && v !== "") out[k] = v;
  };
  set("short_id", issue.shortId);
  set("title", issue.title);
  set("culprit", issue.culprit);
  set("level", issue.level);
  set("status", issue.status);
  set("count", toNumber(issue.count));
  set("user_count", toNumber(issue.userCount));
  set("first_seen", issue.firstSeen);
  set("last_seen", issue.lastSeen);
  set("permalink", issue.permalink);
  set("project", issue.project?.slug ?? issue.project?.name);
  return out;
}

