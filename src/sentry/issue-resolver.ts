// The one way from what a user has — an issue id, short id or URL, an event id, a trace id or a job
// id — to a Sentry issue and one of its events. sentry_issue_context and diagnose both resolve here,
// with one quoting of search values. An issue whose event cannot be fetched (a feedback issue, events
// past retention) still resolves: the event is null and the reason is said.

import { InputError, NotFoundError } from "../errors.js";
import { normaliseEventId, parseIssueReference } from "./issue-reference.js";
import { SentryApiError, type EventChoice, type SentryIssues } from "./sentry-client.js";
import type { SentryEvent, SentryIssue } from "./sentry-schemas.js";

export interface IssueLookup {
  issue?: string | undefined;
  event_id?: string | undefined;
  trace_id?: string | undefined;
  job_id?: string | undefined;
}

export type LookupKind = "issue_id" | "short_id" | "url" | "event_id" | "trace_id" | "job_id";

export interface ResolvedIssue {
  issue: SentryIssue;
  /** Null when Sentry gives no event for the issue; `noEvent` says why. */
  event: SentryEvent | null;
  noEvent?: string;
  /** Which event was taken: recommended, latest, oldest or an event id. */
  eventChoice: string;
  lookup: { by: LookupKind; value: string; query?: string };
  /** Other issues the search matched (trace_id and job_id lookups). */
  others: SentryIssue[];
  more: boolean;
  org: string;
}

export interface ResolveOptions {
  /** Which event of the issue; with trace_id or job_id an explicit choice overrides the matching event. */
  event?: EventChoice;
  /** Sentry tag keys a job_id is searched under. */
  jobTagKeys: readonly string[];
  /** Other matching issues to return (trace_id and job_id lookups). */
  others?: number;
}

const SPECIAL_EVENTS = new Set(["recommended", "latest", "oldest"]);

/** `recommended`, `latest`, `oldest` or a 32-hex event id; anything else is bad input. */
export function parseEventChoice(text: string): EventChoice {
  const choice = text.trim().toLowerCase();
  if (SPECIAL_EVENTS.has(choice)) return choice;
  const id = normaliseEventId(text);
  if (!id) throw new InputError(`event must be recommended, latest, oldest, or a 32-hex event id; got ${JSON.stringify(text)}.`);
  return id;
}

/** key:value in Sentry's search syntax; a value with spaces or quotes is quoted. */
export function searchTerm(key: string, value: string): string {
  return /[\s"]/.test(value) ? `${key}:"${value.replace(/"/g, '\\"')}"` : `${key}:${value}`;
}

export function lookupKind(lookup: IssueLookup): keyof IssueLookup {
  const given = (["issue", "event_id", "trace_id", "job_id"] as const).filter((k) => lookup[k] !== undefined);
  if (given.length !== 1) {
    throw new InputError(
      given.length
        ? `Give one of issue, event_id, trace_id or job_id, not ${given.join(" and ")}.`
        : "Give one of: issue (4711, RUNNER-1A, or a Sentry URL), event_id, trace_id, or job_id.",
    );
  }
  return given[0]!;
}

export async function resolveIssue(sentry: SentryIssues, lookup: IssueLookup, options: ResolveOptions): Promise<ResolvedIssue> {
  const choice = options.event ?? "recommended";
  const explicitEvent = choice !== "recommended";
  const kind = lookupKind(lookup);
  if (kind === "issue") {
    const ref = parseIssueReference(lookup.issue!);
    if ("error" in ref) throw new InputError(ref.error);
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
    const event = await eventOf(sentry, issue, issueId, which, org);
    return { issue, ...event, eventChoice: which, lookup: { by: ref.kind, value: lookup.issue! }, others: [], more: false, org };
  }
  if (kind === "event_id") {
    const id = normaliseEventId(lookup.event_id!);
    if (!id) throw new InputError(`event_id must be 32 hex characters (a Sentry event id); got ${JSON.stringify(lookup.event_id)}.`);
    return byEventId(sentry, id);
  }

  // trace_id or job_id: search issues, then take the event that matches inside the best one.
  const by = kind;
  const value = (lookup.trace_id ?? lookup.job_id)!;
  const queries = by === "trace_id" ? [searchTerm("trace", value)] : options.jobTagKeys.map((k) => searchTerm(k, value));
  const wanted = options.others ?? 5;
  for (const query of queries) {
    const { issues, more } = await sentry.searchIssues(query, wanted + 1);
    if (!issues.length) continue;
    const [issue, ...others] = issues;
    let eventChoice: string = choice;
    if (!explicitEvent) {
      const [id] = await sentry.findIssueEvents(issue!.id, query, 1);
      if (id) eventChoice = id;
    }
    const event = await eventOf(sentry, issue!, issue!.id, eventChoice, sentry.org);
    return { issue: issue!, ...event, eventChoice, lookup: { by, value, query }, others: others.slice(0, wanted), more: more || others.length > wanted, org: sentry.org };
  }
  throw new NotFoundError(
    `No Sentry issue in ${sentry.org} matches ${queries.map((q) => JSON.stringify(q)).join(" or ")} (last 14 days). ${
      by === "job_id" ? `The job id is only found if the application sets it as a tag (TRACE_DOCTOR_SENTRY_TAG_KEYS says which: ${options.jobTagKeys.join(", ")}). ` : ""
    }The spans may still tell: get_trace with ${by}=${value}.`,
  );
}

async function byEventId(sentry: SentryIssues, eventId: string): Promise<ResolvedIssue> {
  const r = await sentry.lookupEventId(eventId);
  const issue = await sentry.getIssue(r.issueId);
  const event = r.event ?? (await sentry.getIssueEvent(r.issueId, eventId));
  return { issue, event, eventChoice: eventId, lookup: { by: "event_id", value: eventId }, others: [], more: false, org: sentry.org };
}

/** The issue's event, or why Sentry gave none: what Sentry refuses here is said, not thrown, since the issue itself was read. */
async function eventOf(sentry: SentryIssues, issue: SentryIssue, issueId: string, which: EventChoice, org: string): Promise<{ event: SentryEvent | null; noEvent?: string }> {
  try {
    return { event: await sentry.getIssueEvent(issueId, which, org) };
  } catch (err) {
    if (!(err instanceof SentryApiError)) throw err;
    return { event: null, noEvent: noEventReason(err, issue, which) };
  }
}

function noEventReason(err: SentryApiError, issue: SentryIssue, which: EventChoice): string {
  const kinds = [issue.issueCategory, issue.issueType, issue.type].map((v) => (typeof v === "string" ? v.toLowerCase() : ""));
  const special = SPECIAL_EVENTS.has(which);
  if (err.kind !== "not_found") return `Sentry would not give ${special ? `its ${which} event` : `event ${which}`}: ${err.message}`;
  const missing = special ? `Sentry has no ${which} event for it (404)` : `Sentry has no event ${which} in it (404)`;
  if (kinds.includes("feedback")) {
    return `${missing}: it is a user feedback issue, which keeps the feedback itself, not an error event with tags, contexts, an exception or breadcrumbs. Read the feedback in Sentry${issue.permalink ? ` (${issue.permalink})` : ""}.`;
  }
  return `${missing}: its events may be past the retention period or deleted, or this kind of issue (${kinds.find(Boolean) || "unknown"}) keeps none${special ? "" : "; check the event id"}.`;
}
