// sentry_issue_context: what Sentry knows about a failure — the issue, one event's tags, contexts,
// exception and breadcrumbs — joined to the spans in trace_spans that belong to it (by the event's
// trace id and by correlation values such as job_id), in one bounded call.

import { z } from "zod";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { spanRecord, type Span } from "../analysis/span.js";
import { renderSentryReport } from "../analysis/sentry-report.js";
import { summariseEvent } from "../sentry/event-summary.js";
import { normaliseEventId, parseIssueReference } from "../sentry/issue-reference.js";
import { SentryApiError, type EventChoice, type SentryIssues } from "../sentry/sentry-client.js";
import type { SentryEvent, SentryIssue } from "../sentry/sentry-schemas.js";
import type { SpanReader } from "../store/span-table.js";
import { toolError, toolErrorFrom, toolResult } from "./result.js";

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

const issueOut = z.object({
  id: z.string(),
  short_id: z.string().optional(),
  title: z.string().optional(),
  culprit: z.string().optional(),
  level: z.string().optional(),
  status: z.string().optional(),
  count: z.number().optional(),
  user_count: z.number().optional(),
  first_seen: z.string().optional(),
  last_seen: z.string().optional(),
  permalink: z.string().optional(),
  project: z.string().optional(),
});

export const sentryIssueContextOutput = z.object({
  sentry: z.object({ host: z.string(), org: z.string() }),
  lookup: z.object({ by: z.enum(["issue_id", "short_id", "url", "event_id", "trace_id", "job_id"]), value: z.string(), query: z.string().optional() }),
  issue: issueOut,
  event_choice: z.string(),
  event: z
    .object({
      event_id: z.string(),
      date: z.string().optional(),
      received: z.string().optional(),
      title: z.string().optional(),
      message: z.string().optional(),
      release: z.string().optional(),
      tags: z.array(z.object({ key: z.string(), value: z.string() })),
      tags_omitted: z.number(),
      contexts: z.record(z.string(), z.record(z.string(), z.unknown())),
      exceptions: z.array(
        z.object({
          type: z.string().optional(),
          value: z.string().optional(),
          handled: z.boolean().optional(),
          frames: z.array(z.object({ function: z.string().optional(), file: z.string().optional(), line: z.number().optional(), module: z.string().optional(), in_app: z.boolean() })),
          frames_omitted: z.number(),
        }),
      ),
      breadcrumbs: z.array(
        z.object({
          timestamp: z.string().optional(),
          level: z.string().optional(),
          category: z.string().optional(),
          message: z.string().optional(),
          data: z.record(z.string(), z.unknown()).optional(),
        }),
      ),
      breadcrumbs_total: z.number(),
      trace_id: z.string().optional(),
      span_id: z.string().optional(),
      correlation: z.array(z.object({ key: z.string(), value: z.string(), from: z.string() })),
    })
    .optional(),
  spans: z.object({
    matched_by: z.array(z.string()),
    trace_ids: z.array(z.string()),
    rows: z.array(
      z.object({
        trace_id: z.string(),
        span_id: z.string(),
        parent_span_id: z.string().optional(),
        service: z.string(),
        operation: z.string(),
        status: z.string(),
        started_at: z.string(),
        offset_ms: z.number(),
        duration_ms: z.number().optional(),
        error: z.string().optional(),
      }),
    ),
    total: z.number(),
    truncated: z.boolean(),
    notes: z.array(z.string()),
  }),
  other_issues: z.array(issueOut),
  more_issues: z.boolean(),
});

export type SentryIssueContextOutput = z.infer<typeof sentryIssueContextOutput>;

export const sentryIssueContextDescription = `Get what Sentry knows about a failure, joined to its spans, in one call.
Give one of: issue (numeric id, short id like RUNNER-1A, or a Sentry issue/event URL), event_id, trace_id, or job_id (searched as a Sentry tag).
Returns the issue (title, culprit, level, status, counts, first/last seen, link), one event (recommended by default, or the one matching the trace/job): its tags, contexts (e.g. execution: job_id, region, provider_id, duration_ms, has_output; trace: trace_id), the exception with in-app frames first, and the newest breadcrumbs — all bounded and marked as data written by the application — plus the spans from trace_spans that belong to the event (by its trace id and by job_id) with the trace ids to pass to get_trace. Lists other matching issues when several match.
Use it when the user names a Sentry issue or when you want the error side of a failing job; pair with get_trace and find_gaps on the trace ids it returns.`;

const SPECIAL_EVENTS = new Set(["recommended", "latest", "oldest"]);

export interface SentryToolOptions {
  /** When Sentry is not configured: the settings still missing. */
  missing: string[];
  jobTagKeys: readonly string[];
  maxTraceSpans: number;
}

export async function sentryIssueContext(
  sentry: SentryIssues | null,
  spans: SpanReader,
  input: SentryIssueContextInput,
  options: SentryToolOptions,
): Promise<CallToolResult> {
  if (!sentry) {
    return toolError(
      `Sentry is not configured: set ${options.missing.join(" and ")} in the server's environment (SENTRY_URL too for self-hosted or region hosts), then restart it. The span tools (get_trace, list_failed_spans, find_gaps) work without Sentry.`,
    );
  }
  const given = (["issue", "event_id", "trace_id", "job_id"] as const).filter((k) => input[k] !== undefined);
  if (given.length !== 1) {
    return toolError(
      given.length
        ? `Give one of issue, event_id, trace_id or job_id, not ${given.join(" and ")}.`
        : "Give one of: issue (4711, RUNNER-1A, or a Sentry URL), event_id, trace_id, or job_id.",
    );
  }
  let choice: EventChoice = input.event.toLowerCase();
  if (!SPECIAL_EVENTS.has(choice)) {
    const id = normaliseEventId(input.event);
    if (!id) return toolError(`event must be recommended, latest, oldest, or a 32-hex event id; got ${JSON.stringify(input.event)}.`);
    choice = id;
  }
  const explicitEvent = input.event.toLowerCase() !== "recommended";

  try {
    const found = await findIssue(sentry, input, choice, explicitEvent, options.jobTagKeys);
    if ("error" in found) return toolError(found.error);
    const { issue, event, lookup, others, more, org } = found;
    const summary = event
      ? summariseEvent(event, { maxBreadcrumbs: input.max_breadcrumbs, maxFrames: input.max_frames, correlationKeys: spans.correlationKeys, tagAliases: aliasFor(options.jobTagKeys, spans.correlationKeys) })
      : null;
    const joined = await joinSpans(spans, summary, input, options.maxTraceSpans);
    const output: SentryIssueContextOutput = {
      sentry: { host: sentry.host, org },
      lookup,
      issue: issueSummary(issue),
      event_choice: found.eventChoice,
      ...(summary && { event: summary }),
      spans: joined,
      other_issues: others.map(issueSummary),
      more_issues: more,
    };
    return toolResult(output, renderSentryReport(output));
  } catch (err) {
    if (err instanceof SentryApiError) return toolError(err.message);
    return toolErrorFrom(err);
  }
}

/** Tag keys that carry the job id under another name map onto the first correlation key. */
function aliasFor(tagKeys: readonly string[], correlationKeys: readonly string[]): Record<string, string> {
  const target = correlationKeys[0];
  return target ? Object.fromEntries(tagKeys.filter((k) => k !== target).map((k) => [k, target])) : {};
}

interface FoundIssue {
  issue: SentryIssue;
  event: SentryEvent | null;
  eventChoice: string;
  lookup: SentryIssueContextOutput["lookup"];
  others: SentryIssue[];
  more: boolean;
  org: string;
}

async function findIssue(
  sentry: SentryIssues,
  input: SentryIssueContextInput,
  choice: EventChoice,
  explicitEvent: boolean,
  jobTagKeys: readonly string[],
): Promise<FoundIssue | { error: string }> {
  if (input.issue !== undefined) {
    const ref = parseIssueReference(input.issue);
    if ("error" in ref) return ref;
    if (ref.kind === "event_id") return byEventId(sentry, ref.eventId);
    let issueId: string;
    let issue: SentryIssue | null = null;
    let org = sentry.org;
    if (ref.kind === "short_id") {
      const r = await sentry.lookupShortId(ref.shortId);
      issueId = r.issueId;
      issue = r.issue;
    } else {
      issueId = ref.issueId;
      if (ref.kind === "url" && ref.org) org = ref.org;
    }
    issue ??= await sentry.getIssue(issueId, org);
    const which = ref.kind === "url" && ref.eventId && !explicitEvent ? ref.eventId : choice;
    const event = await sentry.getIssueEvent(issueId, which, org);
    return { issue, event, eventChoice: which, lookup: { by: ref.kind, value: input.issue }, others: [], more: false, org };
  }
  if (input.event_id !== undefined) {
    const id = normaliseEventId(input.event_id);
    if (!id) return { error: `event_id must be 32 hex characters (a Sentry event id); got ${JSON.stringify(input.event_id)}.` };
    return byEventId(sentry, id);
  }

  // trace_id or job_id: search issues, then take the event that matches inside the best one.
  const queries = input.trace_id !== undefined ? [`trace:${input.trace_id}`] : jobTagKeys.map((k) => `${k}:${input.job_id}`);
  const by = input.trace_id !== undefined ? "trace_id" : "job_id";
  const value = (input.trace_id ?? input.job_id)!;
  for (const query of queries) {
    const { issues, more } = await sentry.searchIssues(quoteSearch(query), 6);
    if (!issues.length) continue;
    const [issue, ...others] = issues;
    let event: SentryEvent | null = null;
    let eventChoice: string = choice;
    if (!explicitEvent) {
      const ids = await sentry.findIssueEvents(issue!.id, quoteSearch(query), 1);
      if (ids[0]) {
        event = await sentry.getIssueEvent(issue!.id, ids[0]);
        eventChoice = ids[0];
      }
    }
    event ??= await sentry.getIssueEvent(issue!.id, choice);
    return { issue: issue!, event, eventChoice, lookup: { by, value, query }, others: others.slice(0, 5), more: more || others.length > 5, org: sentry.org };
  }
  return {
    error: `No Sentry issue in ${sentry.org} matches ${queries.map((q) => JSON.stringify(q)).join(" or ")} (last 14 days). ${
      by === "job_id"
        ? `The job id is only found if the application sets it as a tag (TRACE_DOCTOR_SENTRY_TAG_KEYS says which: ${jobTagKeys.join(", ")}). `
        : ""
    }The spans may still tell: get_trace with ${by}=${value}.`,
  };
}

async function byEventId(sentry: SentryIssues, eventId: string): Promise<FoundIssue> {
  const r = await sentry.lookupEventId(eventId);
  const issue = await sentry.getIssue(r.issueId);
  const event = r.event ?? (await sentry.getIssueEvent(r.issueId, eventId));
  return { issue, event, eventChoice: eventId, lookup: { by: "event_id", value: eventId }, others: [], more: false, org: sentry.org };
}

/** Values with spaces or quotes must be quoted in Sentry's search syntax. */
function quoteSearch(query: string): string {
  const at = query.indexOf(":");
  const key = query.slice(0, at);
  const value = query.slice(at + 1);
  return /[\s"]/.test(value) ? `${key}:"${value.replace(/"/g, '\\"')}"` : query;
}

function toNumber(v: unknown): number | undefined {
  const n = Number(v);
  return v === null || v === undefined || v === "" || !Number.isFinite(n) ? undefined : n;
}

function issueSummary(issue: SentryIssue): SentryIssueContextOutput["issue"] {
  const out: SentryIssueContextOutput["issue"] = { id: issue.id };
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

/** The spans that belong to the event: by Sentry's trace id, and by each correlation value it carries. */
async function joinSpans(
  spans: SpanReader,
  summary: ReturnType<typeof summariseEvent> | null,
  input: SentryIssueContextInput,
  maxTraceSpans: number,
): Promise<SentryIssueContextOutput["spans"]> {
  const notes: string[] = [];
  const matchedBy: string[] = [];
  const traceIds = new Set<string>();
  try {
    const traceCandidates = [...new Set([input.trace_id, summary?.trace_id].filter((t): t is string => !!t))];
    for (const tid of traceCandidates) {
      const found = await spans.spansOfTraces([tid], 1);
      if (found.spans.length) {
        traceIds.add(tid);
        matchedBy.push(`trace_id ${tid}`);
      } else if (tid === summary?.trace_id) {
        notes.push(`Sentry's trace id ${tid} matches no span in trace_spans: the services' own tracing writes its own trace ids, so the join relies on correlation values.`);
      }
    }
    const values = [...(summary?.correlation ?? [])];
    if (input.job_id && spans.correlationKeys[0] && !values.some((v) => v.value === input.job_id)) {
      values.push({ key: spans.correlationKeys[0], value: input.job_id, from: "the job_id asked about" });
    }
    for (const c of values.slice(0, 5)) {
      const ids = await spans.traceIdsByCorrelation(c.key, c.value, 10);
      if (ids.length) matchedBy.push(`${c.key} ${c.value} (from ${c.from})`);
      else notes.push(`No span has ${c.key} = ${c.value} (from ${c.from}).`);
      for (const id of ids) traceIds.add(id);
    }
    if (!summary?.trace_id && !values.length) notes.push("The event carries no trace id and no correlation value, so no span could be joined.");
    if (!traceIds.size) return { matched_by: matchedBy, trace_ids: [], rows: [], total: 0, truncated: false, notes };
    const loaded = await spans.spansOfTraces([...traceIds], maxTraceSpans);
    const firstStart = new Map<string, number>();
    for (const s of loaded.spans) firstStart.set(s.traceId, Math.min(firstStart.get(s.traceId) ?? Infinity, s.startMs));
    const rows = loaded.spans.slice(0, input.max_spans).map((s) => spanRow(s, firstStart.get(s.traceId) ?? s.startMs));
    return {
      matched_by: matchedBy,
      trace_ids: [...traceIds],
      rows,
      total: loaded.spans.length,
      truncated: loaded.truncated || loaded.spans.length > rows.length,
      notes,
    };
  } catch (err) {
    notes.push(`Could not read trace_spans: ${(err as Error).message}`);
    return { matched_by: matchedBy, trace_ids: [...traceIds], rows: [], total: 0, truncated: false, notes };
  }
}

function spanRow(s: Span, traceStart: number): SentryIssueContextOutput["spans"]["rows"][number] {
  return { ...spanRecord(s, 300), offset_ms: Math.round((s.startMs - traceStart) * 10) / 10 };
}
