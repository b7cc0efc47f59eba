// Every failing span of an execution, with what it did to the outcome: the cause (its failure reached
// the root), propagated (it reports a failure from below), retried (a later attempt succeeded),
// fallback (other work took over and succeeded), or handled (its caller went on and succeeded anyway).
// Nothing that failed is left unexplained, whether the root failed or not.

import { knownEndMs } from "./span.js";
import type { SpanNode, SpanTree } from "./span-tree.js";
import { failedNode, type RetrySequence } from "./retries.js";
import { hopOf } from "./gaps.js";
import { formatDataValue, formatHop, formatMs, quoteData } from "./format.js";

export const FAILURE_ROLES = ["cause", "propagated", "retried", "fallback", "handled"] as const;
export type FailureRole = (typeof FAILURE_ROLES)[number];

export interface FailingSpan {
  node: SpanNode;
  role: FailureRole;
  /** The span that absorbed the failure: the attempt that succeeded, the fallback, or the caller that went on. */
  absorbedBy: SpanNode | null;
  /** Its place in a retry sequence, 1-based. */
  attempt?: { index: number; of: number };
  sentence: string;
}

/** A sibling whose name or metadata says it is the alternative to what failed. */
const FALLBACK_NAME = /fallback|backup|secondary|failover|fail_over|cache|cached|default|stale|degrad/i;

const ok = (n: SpanNode) => !failedNode(n);
const hop = (n: SpanNode) => formatHop(n.span.service, n.span.operation);
const durationOf = (n: SpanNode) => {
  const end = knownEndMs(n.span);
  return end === null ? null : end - n.span.startMs;
};

function outcomeOf(n: SpanNode): string {
  if (n.flags.includes("unfinished")) return "never finished";
  const error = n.span.errorMessage ? ` with ${quoteData(n.span.errorMessage, 120)}` : "";
  return `${n.span.status} after ${formatMs(durationOf(n))}${error}`;
}

/** Each failing span with its role, deepest first within each failure chain, in tree order otherwise. */
export function explainFailingSpans(tree: SpanTree, retries: readonly RetrySequence[]): FailingSpan[] {
  const sequenceOf = new Map<SpanNode, RetrySequence>();
  for (const r of retries) for (const a of r.attempts) sequenceOf.set(a, r);
  const failing = tree.nodes.filter(failedNode);
  const failingSet = new Set(failing);

  /** A failure absorbed right where it happened: a later attempt of its retry sequence succeeded. */
  const retriedAt = (n: SpanNode): SpanNode | null => {
    const seq = sequenceOf.get(n);
    if (!seq || seq.outcome !== "succeeded") return null;
    return seq.attempts[seq.attempts.length - 1]!;
  };
  /** A failure that reaches its caller: not retried away, and the caller failed too. */
  const reachesParent = (n: SpanNode) => n.parent !== null && failingSet.has(n.parent) && retriedAt(n) === null;

  const out: FailingSpan[] = [];
  for (const n of failing) {
    const seq = sequenceOf.get(n);
    const attempt = seq ? { index: seq.attempts.indexOf(n) + 1, of: seq.attempts.length } : undefined;
    const base = { node: n, ...(attempt ? { attempt } : {}) };
    const fromBelow = n.children.filter((c) => failingSet.has(c) && retriedAt(c) === null);
    // Walk up the failure chain to where it ends: the root, a retry that succeeded, or a caller that did not fail.
    let top = n;
    while (reachesParent(top)) top = top.parent!;
    const retry = retriedAt(top);
    const chainEnd = retry ? "retried" : top.parent === null ? "root" : "absorbed";

    if (fromBelow.length) {
      const below = fromBelow.map(hop).join(", ");
      const tail =
        chainEnd === "root"
          ? top === n
            ? ", and is the root: the execution failed"
            : `, and passes it up to ${hop(top)}`
          : chainEnd === "retried"
            ? `; a later attempt ${formatHop(retry!.span.service, retry!.span.operation)} #${formatDataValue(retry!.span.spanId)} succeeded`
            : `; ${hop(top.parent!)} #${formatDataValue(top.parent!.span.spanId)} succeeded anyway`;
      out.push({ ...base, role: "propagated", absorbedBy: chainEnd === "root" ? null : (retry ?? top.parent), sentence: `${hop(n)} ${outcomeOf(n)}: it reports the failure of ${below} below it${tail}.` });
      continue;
    }
    const which = attempt ? ` (attempt ${attempt.index} of ${attempt.of})` : "";
    if (chainEnd === "root") {
      const reached = top === n ? "it is the root, so the execution failed here" : `its failure travelled up to ${hop(top)}, so the execution failed`;
      out.push({ ...base, role: "cause", absorbedBy: null, sentence: `${hop(n)}${which} ${outcomeOf(n)}: the failure starts here — ${reached}.` });
      continue;
    }
    if (chainEnd === "retried") {
      const seq2 = sequenceOf.get(top)!;
      const wait = (retry!.span.startMs - (knownEndMs(top.span) ?? top.span.startMs));
      const how = seq2.targetsDiffer ? "failed over to another target" : "retried";
      out.push({
        ...base,
        role: seq2.targetsDiffer ? "fallback" : "retried",
        absorbedBy: retry,
        sentence: `${hop(n)}${which} ${outcomeOf(n)}: handled — the caller ${how}, and attempt ${seq2.attempts.length} #${formatDataValue(retry!.span.spanId)} succeeded${
          top === n ? ` ${formatMs(Math.max(0, wait))} after this one ended` : ` (the failure reached ${hop(top)}, which was retried)`
        }.`,
      });
      continue;
    }
    const caller = top.parent!;
    const fallback = caller.children.find(
      (s) => s !== top && s.span.startMs >= top.span.startMs && ok(s) && hopOf(s) !== hopOf(top) && (FALLBACK_NAME.test(s.span.operation) || s.span.metadata.fallback === true || s.span.metadata.fallback === "true" || s.span.operation === top.span.operation),
    );
    if (fallback) {
      out.push({
        ...base,
        role: "fallback",
        absorbedBy: fallback,
        sentence: `${hop(n)}${which} ${outcomeOf(n)}: absorbed by a fallback — ${hop(fallback)} #${formatDataValue(fallback.span.spanId)} ran instead and succeeded, and ${hop(caller)} succeeded.`,
      });
      continue;
    }
    out.push({
      ...base,
      role: "handled",
      absorbedBy: caller,
      sentence: `${hop(n)}${which} ${outcomeOf(n)}: handled — ${hop(caller)} #${formatDataValue(caller.span.spanId)} went on and succeeded without it, with no retry and no fallback: the error was caught and passed over, so what ${hop(n)} was to do most likely did not happen although the execution reports success (check its output is there).`,
    });
  }
  // Causes first, then what was absorbed, then what only passed a failure on.
  const rank: Record<FailureRole, number> = { cause: 0, retried: 1, fallback: 1, handled: 1, propagated: 2 };
  return out.sort((a, b) => rank[a.role] - rank[b.role] || a.node.span.startMs - b.node.span.startMs);
}
