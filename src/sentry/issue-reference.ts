// Reads what a user pastes as "the Sentry issue": a numeric issue id, a short id (RUNNER-1A), an
// issue or event URL (sentry.io, {org}.sentry.io, region or self-hosted hosts), or an event id.

export type IssueReference =
  | { kind: "issue_id"; issueId: string }
  | { kind: "short_id"; shortId: string }
  | { kind: "url"; issueId: string; org?: string; eventId?: string }
  | { kind: "event_id"; eventId: string };

const EVENT_ID = /^[0-9a-f]{32}$/i;
const SHORT_ID = /^[A-Za-z][A-Za-z0-9_-]*-[A-Za-z0-9]+$/;

export function normaliseEventId(text: string): string | null {
  const compact = text.trim().replace(/-/g, "");
  return EVENT_ID.test(compact) ? compact.toLowerCase() : null;
}

export function parseIssueReference(input: string): IssueReference | { error: string } {
  const text = input.trim();
  if (/^\d+$/.test(text)) return { kind: "issue_id", issueId: text };
  const eventId = normaliseEventId(text);
  if (eventId) return { kind: "event_id", eventId };
  if (/^https?:\/\//i.test(text)) return parseIssueUrl(text);
  if (SHORT_ID.test(text)) return { kind: "short_id", shortId: text.toUpperCase() };
  return {
    error: `${JSON.stringify(input)} is not a Sentry issue reference: give a numeric issue id (4711), a short id (RUNNER-1A), an issue or event URL, or a 32-hex event id.`,
  };
}

function parseIssueUrl(text: string): IssueReference | { error: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: `${JSON.stringify(text)} is not a valid URL.` };
  }
  const parts = url.pathname.split("/").filter(Boolean);
  const at = parts.indexOf("issues");
  const issueId = at >= 0 ? parts[at + 1] : undefined;
  if (!issueId || !/^\d+$/.test(issueId)) {
    return { error: `The URL ${text} names no issue: expected …/issues/<id>/ (optionally …/events/<event id>/).` };
  }
  const eventAt = parts.indexOf("events", at);
  const eventId = eventAt >= 0 ? normaliseEventId(parts[eventAt + 1] ?? "") : null;
  // /organizations/{org}/issues/{id}/, {org}.sentry.io/issues/{id}/, or the older /{org}/{project}/issues/{id}/
  let org: string | undefined;
  const orgAt = parts.indexOf("organizations");
  if (orgAt >= 0 && orgAt + 1 < at) org = parts[orgAt + 1];
  else if (at === 2) org = parts[0];
  else {
    const sub = /^([a-z0-9-]+)\.sentry\.io$/i.exec(url.hostname)?.[1];
    if (sub && !["us", "de", "www"].includes(sub.toLowerCase())) org = sub;
  }
  return { kind: "url", issueId, ...(org ? { org } : {}), ...(eventId ? { eventId } : {}) };
}
