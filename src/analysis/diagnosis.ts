// Turns the evidence about one execution into ranked root-cause hypotheses, each with a stable kind,
// a confidence, the ids behind it and the checks that would confirm or refute it. Deterministic:
// the same evidence always gives the same ranking. It never claims more than the evidence shows.

import { isFailureStatus, knownEndMs } from "./span.js";
import type { SpanNode, SpanTree } from "./span-tree.js";
import type { GapAnalysis, GapFinding } from "./gaps.js";
import type { DistinguishingValue, DurationShape } from "./failure-clusters.js";
import { formatHop, formatMs, round } from "./format.js";

export const HYPOTHESIS_KINDS = [
  "immediate_caller_failure",
  "downstream_rejected",
  "timeout",
  "localized_outage",
  "lost_request",
  "slow_handoff",
  "insufficient_evidence",
] as const;
export type HypothesisKind = (typeof HYPOTHESIS_KINDS)[number];

export const EVIDENCE_TYPES = ["span", "trace", "sentry_event", "cluster", "baseline"] as const;

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

/** The failure cluster this execution belongs to, from list_failed_spans' queries. */
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
}

const label = (c: number): Hypothesis["label"] => (c >= 0.75 ? "high" : c >= 0.5 ? "medium" : "low");
const durationOf = (n: SpanNode) => {
  const end = knownEndMs(n.span);
  return end === null ? null : end - n.span.startMs;
};
const hop = (n: SpanNode) => formatHop(n.span.service, n.span.operation);
const spanItem = (n: SpanNode, note?: string): EvidenceItem => ({
  type: "span",
  id: n.span.spanId,
  note: note ?? `${hop(n)} ${n.flags.includes("unfinished") ? "never finished" : `${n.span.status} after ${formatMs(durationOf(n))}`}`,
});
const TIMEOUT_TEXT = /time[ds]?[ -]?out|deadline exceeded/i;
const REJECTION_TEXT = /\b4\d\d\b|unauthori[sz]ed|forbidden|invalid|denied|reject|quota/i;

function hypothesis(kind: HypothesisKind, confidence: number, summary: string, evidence: EvidenceItem[], checks: string[]): Hypothesis {
  const c = round(Math.max(0, Math.min(0.98, confidence)), 2);
  return { kind, confidence: c, label: label(c), summary, evidence, checks };
}

export function diagnose(e: DiagnosisEvidence): Hypothesis[] {
  const root = e.tree.roots[0];
  if (!root) return [hypothesis("insufficient_evidence", 0.5, "No spans to judge.", [], ["Find the execution with list_failed_spans."])];
  const nodes = e.tree.nodes;
  const rootDuration = durationOf(root);
  const rootFailed = isFailureStatus(root.span.status);
  const failing = nodes.filter((n) => isFailureStatus(n.span.status));
  const deepest = failing.filter((n) => !n.children.some((c) => isFailureStatus(c.span.status)));
  const downstream = nodes.filter((n) => n.span.service !== root.span.service);
  const downstreamFailing = downstream.filter((n) => isFailureStatus(n.span.status));
  const unfinished = nodes.filter((n) => n.flags.includes("unfinished"));
  const cut = e.gaps.findings.filter((f) => f.kind === "missing_hop" && f.severity === "high");
  const sentryItem: EvidenceItem[] = e.sentry
    ? [{ type: "sentry_event", id: e.sentry.eventId, note: `Sentry ${e.sentry.issue}: ${Object.entries(e.sentry.context).slice(0, 6).map(([k, v]) => `${k}=${String(v)}`).join(", ")}` }]
    : [];
  const out: Hypothesis[] = [];
  const immediate = rootFailed && rootDuration !== null && rootDuration < e.immediateMs;

  // 1. Failed faster than a round trip, and nothing downstream ever saw the request.
  if (immediate && downstreamFailing.length === 0 && (cut.length > 0 || downstream.length === 0)) {
    let c = 0.6;
    if (cut.length && e.baselineExecutions >= 5) c += 0.25;
    if (e.sentry && (e.sentry.context.has_output === false || Number(e.sentry.context.duration_ms) < e.immediateMs)) c += 0.05;
    const caller = deepest.find((n) => n.span.service === root.span.service) ?? root;
    const target = cut[0]?.missing?.[0];
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
          `Look for this request in ${targetService}'s access log around ${new Date(root.span.startMs).toISOString()}: none means it never arrived (confirms); a logged request refutes.`,
          `Check the caller's target URL, environment and secrets as deployed (the first failure of this kind tells when: ${e.cluster?.firstSeen ?? "see list_failed_spans"}).`,
          `From the caller's host: resolve and connect to ${targetService} (DNS, TLS, connection refused).`,
          "Check a circuit breaker or input validation in the caller's executor that fails without calling out.",
        ],
      ),
    );
  }

  // 2. The request arrived and a downstream service refused it at once.
  const fastRefusals = downstreamFailing.filter((n) => {
    const d = durationOf(n);
    return d !== null && (d < e.immediateMs || (rootDuration !== null && d < 0.1 * rootDuration && d < 1000));
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
        [
          `Check ${who.span.service}'s credentials, tokens and quotas as the caller sends them (a 401/403 in its logs confirms).`,
          `Check what ${who.span.service} validates in the request (model name, region, payload) for this job's metadata.`,
          `Check ${who.span.service}'s status and recent deploys around ${new Date(who.span.startMs).toISOString()}.`,
        ],
      ),
    );
  }

  // 3. Durations piled up at a limit.
  const timedOut = failing.filter((n) => n.span.status.toLowerCase() === "timeout" || TIMEOUT_TEXT.test(n.span.errorMessage ?? ""));
  if (timedOut.length || (rootFailed && e.cluster?.shape === "timeout-like")) {
    const first = timedOut.filter((n) => !n.children.some((c) => timedOut.includes(c)))[0] ?? root;
    let c = 0.5;
    if (timedOut.some((n) => n.span.status.toLowerCase() === "timeout")) c += 0.2;
    if (e.cluster?.shape === "timeout-like") c += 0.2;
    out.push(
      hypothesis(
        "timeout",
        c,
        `${hop(first)} ran ${formatMs(durationOf(first))} and ${first.span.status.toLowerCase() === "timeout" ? "timed out" : "failed"}${
          e.cluster?.shape === "timeout-like" ? `; failures of this kind pile up at ~${formatMs(e.cluster.p50Ms)} (p5–p95 within ${formatMs((e.cluster.p95Ms ?? 0) - (e.cluster.p05Ms ?? 0))}), the mark of a configured limit` : ""
        }: the work did not finish within its time limit.`,
        [spanItem(first), ...(first !== root ? [spanItem(root)] : []), ...(e.cluster ? [clusterItem(e.cluster)] : []), ...sentryItem],
        [
          "Find the configured limit (client timeout, function timeout) near that duration, and who sets it.",
          `Check ${first.span.service}'s latency and saturation at ${new Date(first.span.startMs).toISOString()} (cold starts, queueing, GPU availability).`,
          "Compare with successful executions of the same operation: if they take close to the limit too, the limit is too tight.",
        ],
      ),
    );
  }

  // 4. Failures concentrated in one metadata value while the operation succeeds elsewhere.
  if (rootFailed && e.cluster && e.cluster.operationTotal > 0) {
    const successRate = (e.cluster.operationTotal - e.cluster.operationFailed) / e.cluster.operationTotal;
    const conditions = e.cluster.distinguishing.filter((d) => d.success_share > 0 && d.failure_share >= 0.8 && String(root.span.metadata[d.key]) === d.value);
    if (conditions.length && successRate >= 0.3) {
      const strongest = Math.max(...conditions.map((d) => d.failure_share - d.success_share));
      const c = 0.45 + 0.4 * strongest;
      const values = conditions.map((d) => `${d.key}=${d.value} (${Math.round(d.failure_share * 100)}% of failures vs ${Math.round(d.success_share * 100)}% of successes)`);
      out.push(
        hypothesis(
          "localized_outage",
          c,
          `This is one of ${e.cluster.count} failures of ${hop(root)} concentrated in ${values.join(", ")} since ${e.cluster.firstSeen}, while the operation still succeeds ${Math.round(successRate * 100)}% of the time elsewhere: something specific to ${conditions.map((d) => `${d.key}=${d.value}`).join(" / ")} broke.`,
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

  // 5. A request that was lost: a hop that never finished, or never happened, without a fast refusal.
  const lostDownstream = unfinished.filter((n) => n.span.service !== root.span.service);
  const slowCut = cut.length > 0 && !immediate && downstreamFailing.length === 0;
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
          `Check restarts, OOM kills and crashes of ${subject ? subject.span.service : "the next service"} around ${new Date((subject ?? root).span.startMs).toISOString()}.`,
          "Check the logs of that service for this job id: a start without an end confirms a crash.",
          "Check queues or load balancers between the services for dropped requests.",
        ],
      ),
    );
  }

  // 6. Time lost between services.
  const slow = e.gaps.findings.filter((f) => f.kind === "slow_handoff" && f.severity !== "low");
  if (slow.length) {
    const worst = slow.reduce((a, b) => ((b.size_ms ?? 0) > (a.size_ms ?? 0) ? b : a));
    const coldStart = nodes.some((n) => worst.span_ids.includes(n.span.spanId) && n.span.metadata.cold_start === true);
    const c = (worst.severity === "high" ? 0.75 : 0.6) + (coldStart ? 0.1 : 0);
    out.push(
      hypothesis(
        "slow_handoff",
        c,
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

  if (!out.length) {
    const ok = !rootFailed && !unfinished.length;
    out.push(
      hypothesis(
        "insufficient_evidence",
        ok ? 0.6 : 0.4,
        ok
          ? `${hop(root)} ${root.span.status} in ${formatMs(rootDuration)} with every expected hop present and hand-offs within their usual range: nothing in the spans points at a failure.`
          : `${hop(root)} ${root.span.status} after ${formatMs(rootDuration)}, but the spans show no pattern this tool recognises (not immediate, no timeout, no missing or lost hop, no concentration).`,
        [spanItem(root), ...deepest.slice(0, 3).map((n) => spanItem(n)), ...sentryItem],
        [
          "Read the error messages of the deepest failing spans and the Sentry event's breadcrumbs.",
          "Check the logs of the service whose span failed first, at that time.",
          ...(e.baselineExecutions < 5 ? ["Collect more successful executions of this operation: there were too few to learn the expected hops."] : []),
        ],
      ),
    );
  }
  const order: HypothesisKind[] = ["immediate_caller_failure", "downstream_rejected", "timeout", "lost_request", "localized_outage", "slow_handoff", "insufficient_evidence"];
  return out.sort((a, b) => b.confidence - a.confidence || order.indexOf(a.kind) - order.indexOf(b.kind));
}

function gapItem(f: GapFinding): EvidenceItem {
  return { type: "span", id: f.span_ids[0] ?? "", note: `${f.kind}${f.missing ? ` ${f.missing.join(", ")}` : ""}${f.edge ? ` on ${f.edge}` : ""}${f.size_ms !== undefined ? ` (${formatMs(f.size_ms)})` : ""}` };
}

function clusterItem(c: ClusterEvidence): EvidenceItem {
  return {
    type: "cluster",
    id: c.exampleTraceIds[0] ?? "",
    note: `${c.count} failures like it (status ${c.status}, ${c.shape}, p50 ${formatMs(c.p50Ms)}) since ${c.firstSeen}; example traces ${c.exampleTraceIds.join(", ")}`,
  };
}
