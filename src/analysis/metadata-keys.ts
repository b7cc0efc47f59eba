// What a span metadata key describes, read from its name: the outcome of the work (error codes,
// status text, has_output), a change to what runs (release, version, deploy, image, config, flag), or
// the target a call went to (provider, host, region). Outcome keys never count as a cause; change keys
// rank first among candidate causes; target keys tell a failover from a plain retry.

/** Keys that report how the work ended rather than what it was: kept apart from candidate causes. */
const OUTCOME_KEY =
  /(^|[._-])(error|errors|err|exception|exc|status|state|code|result|outcome|success|succeeded|failed|failure|fault|reason|message|msg|http_status|status_code|retry_after)([._-]|$)|^(has|is|had|was)_|[._-](code|status)$/i;

/** Keys that name what was deployed or configured: the usual suspects when failures start at once. */
const CHANGE_KEY = /release|version|deploy|build|commit|revision|\bsha\b|git|image|tag|config|flag|feature|variant|experiment|rollout|canary|schema|migration/i;

/** Keys that name where a call went: different values across attempts make a retry a failover. */
export const TARGET_KEYS = [
  "provider",
  "provider_id",
  "host",
  "hostname",
  "peer.service",
  "peer.hostname",
  "server.address",
  "net.peer.name",
  "url",
  "http.url",
  "url.full",
  "region",
  "endpoint",
  "upstream",
  "backend",
  "target",
  "db.instance",
] as const;

export function isOutcomeKey(key: string): boolean {
  return OUTCOME_KEY.test(key);
}

export function isChangeKey(key: string): boolean {
  return CHANGE_KEY.test(key) && !isOutcomeKey(key);
}

/** A metadata value as the core compares it: scalars as text, anything else not at all. */
export function scalarText(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return null;
}
