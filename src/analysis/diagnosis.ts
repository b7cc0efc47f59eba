// Turns the evidence about one execution into ranked root-cause hypotheses, each with a stable kind,
// a confidence, the ids behind it and the checks that would confirm or refute it. Deterministic:
// the same evidence always gives the same ranking. It never claims more than the evidence shows, and
// the checks it proposes come from the failure's own evidence (status codes, error text, waits).

import { isFailureStatus, knownEndMs } from "./span.js";
import type { SpanNode, SpanTree } from "./span-tree.js";
import type { GapAnalysis, GapFinding } from "./gaps.js";
import type { DistinguishingValue, DurationShape } from "./failure-clusters.js";
import type { Comparison, TimeContribution } from "./comparison.js";
import type { ChangeCandidate, ChangeOnset } from "./change-onset.js";
import { checksForError, errorEvidence, httpStatusOf, POOL_WAIT_NAME, type ErrorKind } from "./error-evidence.js";
import { findRetries, type RetrySequence } from "./retries.js";
import { explainFailingSpans, type FailingSpan } from "./failure-roles.js";
import { spanKindOf } from "./critical-path.js";
import { formatDataValue, formatHop, formatLabel, formatMs, quoteData, round } from "./format.js";

export const HYPOTHESIS_KINDS = [
  "immediate_caller_failure",
  "in_process_failure",
  "downstream_rejected",
  "upstream_overload",
  "timeout",
  "pool_exhaustion",
  "bad_change",
  "localized_outage",
  "lost_request",
  "slow_handoff",
  "latency_regression",
  "handled_error",
  "insufficient_evidence",
] as const;
export type HypothesisKind = (typeof HYPOTHESIS_KINDS)[number];

export const EVIDENCE_TYPES = ["span", "trace", "sentry_event", "cluster", "baseline", "change"] as const;

export interface EvidenceItem {
  type: (typeof EVIDENCE_TYPES)[number];
  id: string;
  note: string;
}

export interface Hypothesis {
  kind: HypothesisKind;
  confidence: number;
  label: "high" | "medium" | "low";
  summary: string;
  evidence: EvidenceItem[];
  checks: string[];
}

/** The failure cluster this execution belongs to, from bounded samples of its operation. */
export interface ClusterEvidence {
  status: string;
  count: number;
  shape: DurationShape;
  p05Ms: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  firstSeen: string;
  distinguishing: DistinguishingValue[];
  operationTotal: number;
  operationFailed: number;
  exampleTraceIds: string[];
  /** The count is the size of a full sample (the latest failures): there are at least this many, and first seen is that sample's earliest. */
  sampled?: boolean;
}

export interface SentryEvidence {
  issue: string;
  eventId: string;
  context: Record<string, unknown>;
}

export interface DiagnosisEvidence {
  tree: SpanTree;
  gaps: GapAnalysis;
  /** Successful executions the expected hops were learned from; 0 when there was no baseline. */
  baselineExecutions: number;
  immediateMs: number;
  cluster: ClusterEvidence | null;
  sentry: SentryEvidence | null;
  notChecked: string[];
  /** The execution against healthy executions of its root operation; null without a baseline. */
  comparison?: Comparison | null;
  /** What appeared when the failures of its cluster began; null when not checked. */
  onset?: ChangeOnset | null;
  /** The span whose operation's failures `onset` is of: the root (the default), or the failing span that caused the root's failure. */
  onsetOf?: SpanNode;
}

const label = (c: number): Hypothesis["label"] => (c >= 0.75 ? "high" : c >= 0.5 ? "medium" : "low");
const durationOf = (n: SpanNode) => {
  const end = knownEndMs(n.span);
  return end === null ? null : end - n.span.startMs;
};
const hop = (n: SpanNode) => formatHop(n.span.service, n.span.operation);
const iso = (ms: number) => new Date(ms).toISOString();
const pct = (x: number) => `${Math.round(100 * x)}%`;
const spanItem = (n: SpanNode, note?: string): EvidenceItem => ({
  type: "span",
  id: n.span.spanId,
  note: note ?? `${hop(n)} ${n.flags.includes("unfinished") ? "never finished" : `${n.span.status} after ${formatMs(durationOf(n))}`}`,
});
const TIMEOUT_TEXT = /time[ds]?[ -]?out|deadline exceeded/i;
const REJECTION_TEXT = /\b4\d\d\b|unauthori[sz]ed|forbidden|invalid|denied|reject|quota/i;
/** Metadata that says a span is a call out: its kind, or the URL or peer it called. */
const CALL_KEYS = ["url", "http.url", "url.full", "http.method", "method", "peer.service", "server.address", "net.peer.name", "rpc.service", "db.system"];
const CALL_NAME = /(^|[._\s-])(call|request|fetch|invoke|send|client|http|grpc|rpc|get|post)([._\s-]|$)/i;

function hypothesis(kind: HypothesisKind, confidence: number, summary: string, evidence: EvidenceItem[], checks: string[]): Hypothesis {
  const c = round(Math.max(0, Math.min(0.98, confidence)), 2);
  return { kind, confidence: c, label: label(c), summary, evidence, checks };
}

/** A span that records a call to somewhere else, even when no span of the callee exists. */
function looksLikeCall(n: SpanNode): boolean {
  const kind = spanKindOf(n.span.metadata);
  if (kind === "client" || kind === "producer") return true;
  if (CALL_KEYS.some((k) => n.span.metadata[k] !== undefined && n.span.metadata[k] !== null && n.span.metadata[k] !== "")) return true;
  return CALL_NAME.test(n.span.operation);
}

export function diagnose(e: DiagnosisEvidence): Hypothesis[] {
  const root = e.tree.roots[0];
  if (!root) return [hypothesis("insufficient_evidence", 0.5, "No spans to judge.", [], ["Find the execution with list_failed_spans."])];
  const nodes = e.tree.nodes;
  const comparison = e.comparison ?? null;
  const rootDuration = durationOf(root);
  const rootFailed = isFailureStatus(root.span.status);
  const failing = nodes.filter((n) => isFailureStatus(n.span.status));
  const deepest = failing.filter((n) => !n.children.some((c) => isFailureStatus(c.span.status)));
  const downstream = nodes.filter((n) => n.span.service !== root.span.service);
  const downstreamFailing = downstream.filter((n) => isFailureStatus(n.span.status));
  const unfinished = nodes.filter((n) => n.flags.includes("unfinished"));
  const cut = e.gaps.findings.filter((f) => f.kind === "missing_hop" && f.severity === "high");
  const retries = findRetries(e.tree);
  const roles = explainFailingSpans(e.tree, retries);
  const sentryItem: EvidenceItem[] = e.sentry
    ? [{ type: "sentry_event", id: e.sentry.eventId, note: `Sentry ${e.sentry.issue}: ${Object.entries(e.sentry.context).slice(0, 6).map(([k, v]) => `${k}=${String(v)}`).join(", ")}` }]
    : [];
  const baselineItem: EvidenceItem[] = comparison
    ? [{ type: "baseline", id: comparison.exampleTraceIds[0] ?? "", note: `${comparison.baselineExecutions} successful ${formatLabel(comparison.rootHop)} executions: p50 ${formatMs(comparison.duration.p50Ms)}, p95 ${formatMs(comparison.duration.p95Ms)}` }]
    : [];
  const out: Hypothesis[] = [];
  const immediate = rootFailed && rootDuration !== null && rootDuration < e.immediateMs;
  const at = (n: SpanNode) => iso(n.span.startMs);
  // The caller's own failing span got an HTTP answer: the request reached a server, whatever wrote (or did not write) spans.
  const answered = deepest.filter((n) => n.span.service === root.span.service && (httpStatusOf(n.span) ?? 0) >= 400);
  const overloaded = failing.filter((n) => errorEvidence(n.span).kind === "overload");
  // Whether healthy executions call another service: only then can a fast failure mean "never left".
  const callsOut = comparison ? comparison.outgoing.maxShare >= 0.5 : nodes.some((n) => n !== root && looksLikeCall(n));

  // 1. Failed faster than a round trip, and nothing downstream ever saw the request.
  if (immediate && downstreamFailing.length === 0 && !answered.length && (cut.length > 0 || (downstream.length === 0 && callsOut))) {
    let c = 0.6;
    if (cut.length && e.baselineExecutions >= 5) c += 0.25;
    if (e.sentry && (e.sentry.context.has_output === false || Number(e.sentry.context.duration_ms) < e.immediateMs)) c += 0.05;
    const caller = deepest.find((n) => n.span.service === root.span.service) ?? root;
    const target = cut[0]?.missing?.[0] ?? (comparison?.outgoing.hops[0] ?? undefined);
    const targetService = target ? target.split(".")[0] : "the next service";
    out.push(
      hypothesis(
        "immediate_caller_failure",
        c,
        `${hop(root)} failed after ${formatMs(rootDuration)} — faster than a network round trip — and no span of ${targetService} exists for it${
          cut.length ? ` although ${Math.round(100 * (e.gaps.expectedHops.find((h) => h.hop === target)?.share ?? 1))}% of successful executions have ${target}` : ""
        }: ${hop(caller)} failed before the request reached ${targetService} (configuration, DNS, connection refused, credentials, a breaker or validation in the caller).`,
        [spanItem(root), ...(caller !== root ? [spanItem(caller)] : []), ...cut.map(gapItem), ...sentryItem],
        [
          `Look for this request in ${targetService}'s access log around ${at(root)}: none means it never arrived (confirms); a logged request refutes.`,
          `Check the caller's target URL, environment and secrets as deployed (the first failure of this kind tells when: ${e.cluster?.firstSeen ?? "see list_failed_spans"}).`,
          `From the caller's host: resolve and connect to ${targetService} (DNS, TLS, connection refused).`,
          "Check a circuit breaker or input validation in the caller's executor that fails without calling out.",
        ],
      ),
    );
  } else if (immediate && downstream.length === 0 && !answered.length) {
    // 1b. Just as fast, but healthy executions make no call out either: the failure is in-process.
    const origin = deepest.find((n) => n !== root) ?? root;
    const kind = errorEvidence(origin.span).kind;
    const c = comparison ? (comparison.outgoing.maxShare < 0.1 ? 0.75 : 0.55) : 0.45;
    const why = comparison
      ? comparison.outgoing.maxShare < 0.1
        ? `its ${comparison.baselineExecutions} successful runs make no call to another service either`
        : `its successful runs call another service only ${pct(comparison.outgoing.maxShare)} of the time, and nothing here tried to`
      : "there are no successful runs to tell whether it calls out, and nothing in the trace tried to";
    out.push(
      hypothesis(
        "in_process_failure",
        c,
        `${hop(root)} failed after ${formatMs(rootDuration)} without calling out — ${why} — so this is an immediate in-process failure in ${formatDataValue(root.span.service)} (an exception, a failed validation, a missing setting), not a request that never left${
          origin.span.errorMessage ? `: ${hop(origin)} says ${quoteData(origin.span.errorMessage, 160)}` : ""
        }.`,
        [spanItem(root), ...(origin !== root ? [spanItem(origin)] : []), ...baselineItem, ...sentryItem],
        [
          `Read the error and stack trace of ${hop(origin)} in ${formatDataValue(origin.span.service)}'s logs or Sentry at ${at(root)}: the failure is in its own code or configuration.`,
          ...(kind === "validation" || kind === "credentials" || kind === "pool" ? checksForError(kind, formatDataValue(origin.span.service), at(root)).slice(0, 1) : []),
          "Compare this job's input with a successful run's (compare_executions lists the metadata that differs).",
          `Check ${formatDataValue(root.span.service)}'s deploys and configuration changes just before the first failure of this kind (${e.cluster?.firstSeen ?? "see list_failed_spans"}).`,
        ],
      ),
    );
  }

  // 2. The request arrived and a service refused it at once (not for overload: that is rule 3).
  const fastRefusals = downstreamFailing.filter((n) => {
    const d = durationOf(n);
    return d !== null && (d < e.immediateMs || (rootDuration !== null && d < 0.1 * rootDuration && d < 1000)) && errorEvidence(n.span).kind !== "overload";
  });
  if (rootFailed && fastRefusals.length && rootDuration !== null && rootDuration < 1000) {
    const deepestRefusal = fastRefusals.filter((n) => !n.children.some((c) => isFailureStatus(c.span.status)));
    const texts = deepestRefusal.map((n) => n.span.errorMessage ?? "").join(" ");
    const c = 0.7 + (REJECTION_TEXT.test(texts) ? 0.15 : 0);
    const who = deepestRefusal[0] ?? fastRefusals[0]!;
    out.push(
      hypothesis(
        "downstream_rejected",
        c,
        `The request reached ${who.span.service}, which refused it at once: ${hop(who)} failed after ${formatMs(durationOf(who))}${
          who.span.errorMessage ? ` with ${JSON.stringify(who.span.errorMessage.slice(0, 120))}` : ""
        }, and the failure travelled back up in ${formatMs(rootDuration)}.`,
        [...deepestRefusal.map((n) => spanItem(n)), spanItem(root), ...sentryItem],
        refusalChecks(errorEvidence(who.span).kind, formatDataValue(who.span.service), at(who)),
      ),
    );
  } else if (rootFailed && answered.length && !downstream.length && rootDuration !== null && rootDuration < 1000 && errorEvidence(answered[0]!.span).kind !== "overload") {
    // The caller got an HTTP error back, yet the callee wrote no span: something answered for it.
    const who = answered[0]!;
    const status = httpStatusOf(who.span)!;
    const target = cut[0]?.missing?.[0] ?? comparison?.outgoing.hops[0];
    const svc = target ? formatDataValue(target.split(".")[0]!) : "the callee";
    out.push(
      hypothesis(
        "downstream_rejected",
        0.7,
        `${hop(who)} got HTTP ${status} back after ${formatMs(durationOf(who))}, but ${svc} wrote no span for it: the request reached a server — a gateway or load balancer in front of ${svc}, or ${svc} before its tracing began — which refused it.`,
        [spanItem(who), spanItem(root), ...cut.map(gapItem), ...sentryItem],
        [`Look for this request in the access logs of ${svc} and of whatever is in front of it (gateway, load balancer) around ${at(who)}.`, ...refusalChecks(errorEvidence(who.span).kind, svc, at(who))],
      ),
    );
  }

  // 3. A service shedding load: 429/503 or overload text, often retried.
  if (rootFailed && overloaded.length) {
    const who = overloaded.filter((n) => !n.children.some((c) => overloaded.includes(c)))[0] ?? overloaded[0]!;
    const status = httpStatusOf(who.span);
    const seq = retries.find((r) => r.attempts.some((a) => a === who || overloaded.includes(a) || subtreeHas(a, overloaded)));
    const tries = seq ? `${seq.attempts.length} attempts of ${formatLabel(seq.hop)} (1 + ${seq.attempts.length - 1} retries, ${backoffText(seq)}) ${seq.outcome === "exhausted" ? "all failed" : "ended in success too late"}` : `${hop(who)}`;
    const c = 0.8 + (status === 429 || status === 503 ? 0.05 : 0) + (seq ? 0.05 : 0);
    // Its cluster, when the execution is not alone in it.
    const many = e.cluster && e.cluster.count > 1 ? e.cluster : null;
    out.push(
      hypothesis(
        "upstream_overload",
        c,
        `${formatDataValue(who.span.service)} answered ${status ? `HTTP ${status}` : "with overload"}${who.span.errorMessage ? ` (${quoteData(who.span.errorMessage, 100)})` : ""} — ${tries}: it was shedding load (overloaded, rate-limited or out of capacity), not refusing this request for what it carries.${
          many ? ` This is one of ${many.sampled ? "at least " : ""}${many.count} failures like it since ${many.sampled ? "at least " : ""}${many.firstSeen}: the overload is not this request's alone.` : ""
        }`,
        [
          ...(seq ? seq.attempts.map((a) => spanItem(a, `attempt ${seq.attempts.indexOf(a) + 1}/${seq.attempts.length}: ${hop(a)} ${a.span.status} after ${formatMs(durationOf(a))}`)).slice(0, 5) : [spanItem(who)]),
          spanItem(root),
          ...(many ? [clusterItem(many)] : []),
          ...sentryItem,
        ].slice(0, 8),
        checksForError("overload", formatDataValue(who.span.service), at(who)),
      ),
    );
  }

  // 4. A wait for a pooled connection (or the pool's own error) that held the execution up.
  const poolWait = poolWaitOf(nodes, comparison);
  let poolConfidence = 0;
  if (poolWait) {
    const { node, base } = poolWait;
    const d = durationOf(node) ?? 0;
    const poolError = failing.find((n) => errorEvidence(n.span).kind === "pool");
    poolConfidence = 0.8 + (poolError ? 0.05 : 0) + (rootDuration && d >= 0.5 * rootDuration ? 0.05 : 0);
    out.push(
      hypothesis(
        "pool_exhaustion",
        poolConfidence,
        `${hop(node)} waited ${formatMs(d)} for a connection${base ? ` (successful runs: p50 ${formatMs(base.p50)}, p95 ${formatMs(base.p95)})` : ""}${
          poolError?.span.errorMessage ? ` and ${hop(poolError)} says ${quoteData(poolError.span.errorMessage, 120)}` : ""
        }: the connection pool was exhausted — every connection was held by other work — so ${hop(root)} ${rootFailed ? `failed after ${formatMs(rootDuration)}` : `took ${formatMs(rootDuration)}`}.`,
        [spanItem(node), ...(poolError && poolError !== node ? [spanItem(poolError)] : []), spanItem(root), ...baselineItem, ...sentryItem],
        checksForError("pool", formatDataValue(node.span.service), at(node)),
      ),
    );
  }

  // 5. Durations piled up at a limit.
  const timedOut = failing.filter((n) => n.span.status.toLowerCase() === "timeout" || TIMEOUT_TEXT.test(n.span.errorMessage ?? ""));
  if (timedOut.length || (rootFailed && e.cluster?.shape === "timeout-like")) {
    const first = timedOut.filter((n) => !n.children.some((c) => timedOut.includes(c)))[0] ?? root;
    let c = 0.5;
    if (timedOut.some((n) => n.span.status.toLowerCase() === "timeout")) c += 0.2;
    if (e.cluster?.shape === "timeout-like") c += 0.2;
    // A timeout that a pool wait explains is its symptom, not its cause.
    if (poolConfidence) c = Math.min(c, poolConfidence - 0.05);
    const gpu = [first, ...nodes.filter((n) => n.parent === first)].some((n) => "gpu" in n.span.metadata || "cold_start" in n.span.metadata);
    out.push(
      hypothesis(
        "timeout",
        c,
        `${hop(first)} ran ${formatMs(durationOf(first))} and ${first.span.status.toLowerCase() === "timeout" ? "timed out" : "failed"}${
          e.cluster?.shape === "timeout-like" ? `; failures of this kind pile up at ~${formatMs(e.cluster.p50Ms)} (p5–p95 within ${formatMs((e.cluster.p95Ms ?? 0) - (e.cluster.p05Ms ?? 0))}), the mark of a configured limit` : ""
        }: the work did not finish within its time limit${poolConfidence ? " — the time went into waiting for a pooled connection (pool_exhaustion)" : ""}.`,
        [spanItem(first), ...(first !== root ? [spanItem(root)] : []), ...(e.cluster ? [clusterItem(e.cluster)] : []), ...sentryItem],
        [
          "Find the configured limit (client timeout, function timeout) near that duration, and who sets it.",
          `Check ${first.span.service}'s latency and saturation at ${at(first)} (${gpu ? "cold starts, queueing, GPU availability" : "queueing, slow dependencies, locks"}).`,
          "Compare with successful executions of the same operation: if they take close to the limit too, the limit is too tight.",
        ],
      ),
    );
  }

  // 6. A change (release, version, config, flag) that appeared exactly when the failures began.
  const changed = e.onsetOf ?? root;
  const change = rootFailed ? e.onset?.candidates.find((c) => String(changed.span.metadata[c.key]) === c.value) : undefined;
  if (change) out.push(badChange(change, e, changed, root, sentryItem));

  // 7. Failures concentrated in one metadata value while the operation succeeds elsewhere.
  if (rootFailed && e.cluster && e.cluster.operationTotal > 0) {
    const successRate = (e.cluster.operationTotal - e.cluster.operationFailed) / e.cluster.operationTotal;
    const conditions = e.cluster.distinguishing.filter((d) => d.success_share > 0 && d.failure_share >= 0.8 && String(root.span.metadata[d.key]) === d.value);
    // One or two failures cannot be "concentrated" anywhere: a pattern needs at least three.
    if (conditions.length && successRate >= 0.3 && e.cluster.count >= 3) {
      const strongest = Math.max(...conditions.map((d) => d.failure_share - d.success_share));
      const c = 0.45 + 0.4 * strongest;
      const values = conditions.map((d) => `${d.key}=${d.value} (${Math.round(d.failure_share * 100)}% of failures vs ${Math.round(d.success_share * 100)}% of successes)`);
      const count = e.cluster.sampled ? `at least ${e.cluster.count} (the latest ${e.cluster.count} sampled)` : `${e.cluster.count}`;
      out.push(
        hypothesis(
          "localized_outage",
          c,
          `This is one of ${count} failures of ${hop(root)} concentrated in ${values.join(", ")} since ${e.cluster.sampled ? "at least " : ""}${e.cluster.firstSeen}, while the operation still succeeds ${Math.round(successRate * 100)}% of the time elsewhere: something specific to ${conditions.map((d) => `${d.key}=${d.value}`).join(" / ")} broke.`,
          [clusterItem(e.cluster), spanItem(root), ...sentryItem],
          [
            `List what changed for ${conditions.map((d) => `${d.key}=${d.value}`).join(", ")} around ${e.cluster.firstSeen}: deploys, configuration, quotas, credentials.`,
            `Compare the configuration of ${conditions[0]!.key}=${conditions[0]!.value} with a value that still succeeds.`,
            `list_failed_spans with metadata {${conditions.map((d) => `"${d.key}": "${d.value}"`).join(", ")}} to see whether every execution there fails.`,
          ],
        ),
      );
    }
  }

  // 8. A request that was lost: a hop that never finished, or never happened, without a fast refusal.
  const lostDownstream = unfinished.filter((n) => n.span.service !== root.span.service);
  // A hop missing because the caller's own work failed first (not a call out) is a consequence, not a lost request.
  const failedLocally = deepest.some((n) => n !== root && n.span.service === root.span.service && !looksLikeCall(n));
  const slowCut = cut.length > 0 && !immediate && downstreamFailing.length === 0 && !failedLocally;
  if (lostDownstream.length || unfinished.includes(root) || slowCut) {
    const c = lostDownstream.length ? 0.75 : unfinished.length ? 0.65 : 0.55;
    const subject = lostDownstream[0] ?? (unfinished.includes(root) ? root : null);
    out.push(
      hypothesis(
        "lost_request",
        c,
        subject
          ? `${hop(subject)} started and never finished: the process handling it most likely crashed or was killed, or its completion was never written${
              rootFailed ? `; the caller gave up after ${formatMs(rootDuration)}` : ""
            }.`
          : `An expected hop is missing although the caller waited ${formatMs(rootDuration)}: the request was sent but lost on the way (a dropped connection or message).`,
        [...unfinished.map((n) => spanItem(n)), ...cut.map(gapItem), spanItem(root), ...sentryItem].slice(0, 8),
        [
          `Check restarts, OOM kills and crashes of ${subject ? subject.span.service : "the next service"} around ${iso((subject ?? root).span.startMs)}.`,
          "Check the logs of that service for this job id: a start without an end confirms a crash.",
          "Check queues or load balancers between the services for dropped requests.",
        ],
      ),
    );
  }

  // 9. Time lost between services.
  const slow = e.gaps.findings.filter((f) => f.kind === "slow_handoff" && f.severity !== "low");
  let handoffConfidence = 0;
  if (slow.length) {
    const worst = slow.reduce((a, b) => ((b.size_ms ?? 0) > (a.size_ms ?? 0) ? b : a));
    const coldStart = nodes.some((n) => worst.span_ids.includes(n.span.spanId) && n.span.metadata.cold_start === true);
    handoffConfidence = (worst.severity === "high" ? 0.75 : 0.6) + (coldStart ? 0.1 : 0);
    out.push(
      hypothesis(
        "slow_handoff",
        handoffConfidence,
        `${worst.edge}: ${formatMs(worst.size_ms ?? null)} passed between the call and the callee starting work${coldStart ? " (the callee reports a cold start)" : ""} — queueing, connection set-up or a cold start, not the work itself.`,
        slow.slice(0, 4).map(gapItem),
        [
          "Check cold starts and autoscaling of the callee at that time (cold_start metadata, instance counts).",
          "Check concurrency limits and queue depth in front of the callee.",
          "Compare with the edge's p50/p95 in find_gaps' aggregate view: one outlier or a trend?",
        ],
      ),
    );
  }

  // 10. A success, but far slower than its usual runs: by how much, and where the time went.
  if (!rootFailed && !unfinished.length && comparison?.duration.verdict === "slow") {
    out.push(latencyRegression(comparison, root, handoffConfidence, poolConfidence, baselineItem, sentryItem));
  }

  // 11. A success with failures inside it: each was retried, absorbed by a fallback, or handled.
  if (!rootFailed && !unfinished.includes(root) && roles.length) out.push(handledError(roles, root, sentryItem));

  if (!out.length) {
    const ok = !rootFailed && !unfinished.length;
    const origin = deepest.find((n) => n !== root) ?? deepest[0];
    const missing = comparison?.hops.filter((h) => h.verdict === "missing").map((h) => formatLabel(h.hop)) ?? [];
    const usual = comparison && comparison.duration.verdict !== "unknown"
      ? ` — ${comparison.duration.verdict === "fast" ? "faster than its usual range" : (comparison.duration.ms ?? 0) > comparison.duration.p95Ms ? "above its p95 but not slow" : "within its usual range"} (p50 ${formatMs(comparison.duration.p50Ms)}, p95 ${formatMs(comparison.duration.p95Ms)} over ${comparison.baselineExecutions} successful runs)`
      : "";
    out.push(
      hypothesis(
        "insufficient_evidence",
        ok ? 0.6 : 0.4,
        ok
          ? comparison
            ? `${hop(root)} ${root.span.status} in ${formatMs(rootDuration)}${usual}, ${missing.length ? `without the hops ${missing.join(", ")} successful runs usually have (a shorter path: a cache hit or an early exit)` : "with every expected hop present"} and hand-offs within their usual range: nothing in the spans points at a failure.`
            : `${hop(root)} ${root.span.status} in ${formatMs(rootDuration)} with every expected hop present and hand-offs within their usual range: nothing in the spans points at a failure.`
          : `${hop(root)} ${root.span.status} after ${formatMs(rootDuration)}, but the spans show no pattern this tool recognises (not immediate, no timeout, no missing or lost hop, no concentration).`,
        [spanItem(root), ...deepest.slice(0, 3).map((n) => spanItem(n)), ...sentryItem],
        [
          // What the deepest failure says it was (a crash, a refused input, a timeout) comes first when it says anything.
          ...(!ok && origin && errorEvidence(origin.span).kind !== "unknown" ? checksForError(errorEvidence(origin.span).kind, formatDataValue(origin.span.service), at(origin)) : []),
          "Read the error messages of the deepest failing spans and the Sentry event's breadcrumbs.",
          "Check the logs of the service whose span failed first, at that time.",
          ...(e.baselineExecutions < 5 ? ["Collect more successful executions of this operation: there were too few to learn the expected hops."] : []),
        ],
      ),
    );
  }
  const order: HypothesisKind[] = [
    "immediate_caller_failure",
    "in_process_failure",
    "bad_change",
    "upstream_overload",
    "pool_exhaustion",
    "downstream_rejected",
    "timeout",
    "lost_request",
    "localized_outage",
    "slow_handoff",
    "latency_regression",
    "handled_error",
    "insufficient_evidence",
  ];
  return out.sort((a, b) => b.confidence - a.confidence || order.indexOf(a.kind) - order.indexOf(b.kind));
}

/** Each failing span of the execution with its role; the same list diagnose's answer shows. */
export function failingSpansOf(tree: SpanTree): { roles: FailingSpan[]; retries: RetrySequence[] } {
  const retries = findRetries(tree);
  return { roles: explainFailingSpans(tree, retries), retries };
}

/** Checks for a refusal, from what the refusal says; a refused credential keeps the checks it always had. */
function refusalChecks(kind: ErrorKind, service: string, atIso: string): string[] {
  if (kind === "credentials" || kind === "unknown") {
    return [
      `Check ${service}'s credentials, tokens and quotas as the caller sends them (a 401/403 in its logs confirms).`,
      `Check what ${service} validates in the request (model name, region, payload) for this job's metadata.`,
      `Check ${service}'s status and recent deploys around ${atIso}.`,
    ];
  }
  return checksForError(kind, service, atIso);
}

function subtreeHas(n: SpanNode, among: SpanNode[]): boolean {
  const stack = [...n.children];
  while (stack.length) {
    const m = stack.pop()!;
    if (among.includes(m)) return true;
    stack.push(...m.children);
  }
  return false;
}

export function backoffText(seq: RetrySequence): string {
  const waits = seq.waitsMs.map((w) => formatMs(w)).join(" → ");
  switch (seq.backoff) {
    case "immediate":
      return "retried at once, no back-off";
    case "single":
      return `after waiting ${waits}`;
    default:
      return `${seq.backoff} back-off: ${waits}`;
  }
}

/** A long wait in a span that acquires a pooled connection, judged against healthy runs when they have it. */
function poolWaitOf(nodes: SpanNode[], comparison: Comparison | null): { node: SpanNode; base: { p50: number; p95: number } | null } | null {
  let best: { node: SpanNode; base: { p50: number; p95: number } | null } | null = null;
  for (const n of nodes) {
    const named = POOL_WAIT_NAME.test(n.span.operation);
    const poolError = isFailureStatus(n.span.status) && errorEvidence(n.span).kind === "pool" && named;
    if (!named) continue;
    const d = durationOf(n) ?? 0;
    const h = comparison?.hops.find((x) => x.hop === `${n.span.service}.${n.span.operation}`);
    const base = h?.baselineP50Ms !== undefined && h.baselineP95Ms !== undefined ? { p50: h.baselineP50Ms, p95: h.baselineP95Ms } : null;
    const long = d >= 1000 && (!base || d > Math.max(10 * base.p95, base.p95 + 500));
    if (!long && !poolError) continue;
    if (!best || d > (durationOf(best.node) ?? 0)) best = { node: n, base };
  }
  return best;
}

/** `changed`: the span carrying the change, whose operation's failures began with it (the root, or the span that caused the root's failure). */
function badChange(c: ChangeCandidate, e: DiagnosisEvidence, changed: SpanNode, root: SpanNode, sentryItem: EvidenceItem[]): Hypothesis {
  const rise = c.failureRateAfter - c.failureRateBefore;
  // A value seen on one or two executions is a lead, not yet a pattern.
  const confidence = 0.6 + 0.25 * Math.min(1, rise) + (c.changeKey ? 0.08 : 0) - (c.after < 3 ? 0.2 : 0);
  const kv = `${formatDataValue(c.key)}=${formatDataValue(c.value)}`;
  const key = formatDataValue(c.key);
  const previous = c.previous.length ? `${key} was ${c.previous.map((p) => `${formatDataValue(p.value)} (${pct(p.share)})`).join(", ")}` : `no execution carried ${key}`;
  const before = c.previous[0] ? `${key}=${formatDataValue(c.previous[0].value)}` : `no ${key}`;
  const unit = changed === root ? "executions" : `${hop(changed)} spans`;
  const clusterItems = e.cluster ? [clusterItem(e.cluster)] : [];
  return hypothesis(
    "bad_change",
    confidence,
    `The failures of ${hop(changed)} began when ${kv} first appeared, at ${iso(c.firstSeenMs)}: in the ${c.before} ${unit} before, ${previous} and ${pct(c.failureRateBefore)} failed; ${pct(c.failureRateAfter)} of the ${c.after} ${unit} carrying ${formatDataValue(c.value)} failed, and ${pct(c.failureShare)} of the failures carry it — the change to ${kv} is the likely cause${changed === root ? "" : `, and ${hop(root)} failed because ${hop(changed)} did`}.`,
    [
      { type: "change", id: `${c.key}=${c.value}`, note: `first seen ${iso(c.firstSeenMs)}; before: ${previous}; failure rate ${pct(c.failureRateBefore)} → ${pct(c.failureRateAfter)}` },
      // The root's own change: its cluster, then the root; a span's below it: that span, the root, then the root's cluster.
      ...(changed === root ? [...clusterItems, spanItem(root)] : [spanItem(changed), spanItem(root), ...clusterItems]),
      ...sentryItem,
    ],
    [
      `Diff ${kv} against ${before}: what that ${c.changeKey ? "release, deploy or configuration" : "value"} changed in ${formatDataValue(changed.span.service)} (commits, settings, images).`,
      `Run one execution with ${before} (roll back or pin it): if it succeeds, the change is confirmed; compare_executions against a healthy run shows what else differs.`,
      `list_failed_spans with metadata {"${c.key}": "${c.value}"} to see whether every execution with it fails, and since when.`,
    ],
  );
}

function latencyRegression(
  comparison: Comparison,
  root: SpanNode,
  handoffConfidence: number,
  poolConfidence: number,
  baselineItem: EvidenceItem[],
  sentryItem: EvidenceItem[],
): Hypothesis {
  const d = comparison.duration;
  const top = comparison.extraTime[0];
  let c = 0.6 + (top && top.share >= 0.5 ? 0.15 : 0) + ((d.ratio ?? 0) >= 3 ? 0.05 : 0);
  // When a slow hand-off or a pool wait already names where the time went, this hypothesis restates it.
  if (top?.kind === "queueing" && (handoffConfidence || poolConfidence)) c = Math.min(c, Math.max(handoffConfidence, poolConfidence) - 0.05);
  const where = comparison.extraTime.length ? comparison.extraTime.slice(0, 3).map((t) => `${t.kind}: ${t.sentence}`).join(" ") : "no single hop accounts for the extra time.";
  return hypothesis(
    "latency_regression",
    c,
    `${hop(root)} succeeded but took ${formatMs(d.ms)} — ${d.ratio ?? "?"}× its usual ${formatMs(d.p50Ms)} (p95 ${formatMs(d.p95Ms)} over ${comparison.baselineExecutions} successful runs), ${formatMs(d.extraMs)} more. Where the extra time went: ${where}`,
    [...comparison.extraTime.slice(0, 3).flatMap((t) => t.nodes.slice(0, 2).map((n) => spanItem(n, `${t.kind} ${formatLabel(t.hop)}: +${formatMs(t.extraMs)} (${pct(t.share)} of the extra)`))), spanItem(root), ...baselineItem, ...sentryItem],
    latencyChecks(top, root),
  );
}

function latencyChecks(top: TimeContribution | undefined, root: SpanNode): string[] {
  const at = iso(root.span.startMs);
  if (!top) return [`Compare this execution with a healthy one hop by hop (compare_executions) to find where the time went.`];
  const h = formatLabel(top.hop);
  switch (top.kind) {
    case "n_plus_one":
      return [
        `Find the loop that calls ${h} once per item: batch it (one query for all items, IN (...) or a join) or cache it.`,
        "Check what made this execution loop more: its input size (items, rows) against successful runs' (compare_executions lists the metadata that differs).",
        "Check whether a recent deploy changed the data access (lazy loading, an ORM relation, a removed cache).",
      ];
    case "queueing":
      return POOL_WAIT_NAME.test(top.hop)
        ? checksForError("pool", formatDataValue(root.span.service), at)
        : [
            "Check cold starts and autoscaling of the callee at that time (cold_start metadata, instance counts).",
            "Check concurrency limits and queue depth in front of the callee.",
          ];
    case "untraced_time":
      return [
        `Profile or add spans inside ${h}: the time passed in its own code or in calls nothing traces.`,
        "Check for synchronous work that grew: serialisation of a large payload, a lock, a retry loop without spans.",
      ];
    default:
      return [
        `Check ${h}'s latency at ${at}: its own logs, its saturation, and its dependencies.`,
        "Compare this request's size and parameters with successful runs' (compare_executions lists the metadata that differs).",
      ];
  }
}

function handledError(roles: FailingSpan[], root: SpanNode, sentryItem: EvidenceItem[]): Hypothesis {
  const absorbed = roles.filter((r) => r.role !== "propagated" && r.role !== "cause");
  const shown = (absorbed.length ? absorbed : roles).slice(0, 3);
  const c = absorbed.length && absorbed.every((r) => r.role === "retried") ? 0.7 : absorbed.some((r) => r.role === "fallback") ? 0.65 : 0.6;
  const kinds = new Set(roles.map((r) => errorEvidence(r.node.span).kind));
  const first = shown[0]!.node;
  const kind: ErrorKind = kinds.has("overload") ? "overload" : kinds.has("credentials") ? "credentials" : kinds.has("pool") ? "pool" : kinds.has("timeout") ? "timeout" : "unknown";
  return hypothesis(
    "handled_error",
    c,
    `${hop(root)} succeeded, but ${roles.length} span(s) failed inside it: ${shown.map((r) => r.sentence).join(" ")}${roles.length > shown.length ? ` (+${roles.length - shown.length} more)` : ""}`,
    [...roles.slice(0, 6).map((r) => spanItem(r.node, `${r.role}: ${hop(r.node)} ${r.node.span.status}${r.absorbedBy ? ` — absorbed by #${formatDataValue(r.absorbedBy.span.spanId)}` : ""}`)), spanItem(root), ...sentryItem],
    [
      ...(kind !== "unknown" ? checksForError(kind, formatDataValue(first.span.service), iso(first.span.startMs)).slice(0, 2) : [`Read ${formatDataValue(first.span.service)}'s logs for these errors at ${iso(first.span.startMs)}: a failure absorbed now becomes an outage when retries or fallbacks run out.`]),
      "Check the execution's result is complete: a handled error may have degraded it (a fallback answer, a skipped step).",
      `Check how often ${hop(first)} fails (list_failed_spans service=${formatDataValue(first.span.service)}, operation=${formatDataValue(first.span.operation)}): a rising rate is the early warning.`,
    ],
  );
}

function gapItem(f: GapFinding): EvidenceItem {
  return { type: "span", id: f.span_ids[0] ?? "", note: `${f.kind}${f.missing ? ` ${f.missing.join(", ")}` : ""}${f.edge ? ` on ${f.edge}` : ""}${f.size_ms !== undefined ? ` (${formatMs(f.size_ms)})` : ""}` };
}

function clusterItem(c: ClusterEvidence): EvidenceItem {
  return {
    type: "cluster",
    id: c.exampleTraceIds[0] ?? "",
    note: `${c.sampled ? "at least " : ""}${c.count} failures like it (status ${c.status}, ${c.shape}, p50 ${formatMs(c.p50Ms)}) since ${c.sampled ? "at least " : ""}${c.firstSeen}${c.sampled ? " (sampled: the latest)" : ""}; example traces ${c.exampleTraceIds.join(", ")}`,
  };
}
