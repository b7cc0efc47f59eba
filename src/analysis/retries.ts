// Retries as the spans show them: sibling attempts of one operation under one caller, one after the
// other, each after the previous one failed — with the waits between them (the back-off) and how the
// sequence ended. Attempts whose target differs (another provider, host or region) are a failover.

import { isFailureStatus, knownEndMs } from "./span.js";
import type { SpanNode, SpanTree } from "./span-tree.js";
import { hopOf } from "./gaps.js";
import { scalarText, TARGET_KEYS } from "./metadata-keys.js";

export const BACKOFF_SHAPES = ["immediate", "constant", "linear", "exponential", "irregular", "single"] as const;
export type BackoffShape = (typeof BACKOFF_SHAPES)[number];

export interface RetrySequence {
  hop: string;
  parent: SpanNode;
  /** In start order; every attempt but the last failed. */
  attempts: SpanNode[];
  /** Between the end of one attempt and the start of the next, ms. */
  waitsMs: number[];
  backoff: BackoffShape;
  outcome: "succeeded" | "exhausted";
  /** The attempts went to different targets (provider, host, region): a failover, not a plain retry. */
  targetsDiffer: boolean;
}

/** A span that failed or never finished: what a retry follows. */
export function failedNode(n: SpanNode): boolean {
  return isFailureStatus(n.span.status) || n.flags.includes("unfinished");
}

/** An attempt that starts before the previous one ended (beyond rounding) is parallel work, not a retry. */
const OVERLAP_TOLERANCE_MS = 1;

/** Every retry sequence in the tree, in depth-first order of their callers. */
export function findRetries(tree: SpanTree): RetrySequence[] {
  const out: RetrySequence[] = [];
  for (const parent of tree.nodes) {
    if (parent.children.length < 2) continue;
    const byHop = new Map<string, SpanNode[]>();
    for (const c of parent.children) byHop.set(hopOf(c), [...(byHop.get(hopOf(c)) ?? []), c]);
    for (const [hop, siblings] of byHop) {
      if (siblings.length < 2) continue;
      // Children are already in start order; a sequence starts at a failed attempt and goes on while the previous one failed.
      let i = 0;
      while (i < siblings.length) {
        if (!failedNode(siblings[i]!)) {
          i++;
          continue;
        }
        const attempts = [siblings[i]!];
        let j = i + 1;
        while (j < siblings.length && failedNode(attempts[attempts.length - 1]!) && follows(siblings[j]!, attempts[attempts.length - 1]!)) {
          attempts.push(siblings[j]!);
          j++;
        }
        if (attempts.length >= 2) out.push(sequence(hop, parent, attempts));
        i = Math.max(j, i + 1);
      }
    }
  }
  return out;
}

function follows(next: SpanNode, previous: SpanNode): boolean {
  const end = knownEndMs(previous.span);
  return end !== null && next.span.startMs >= end - OVERLAP_TOLERANCE_MS;
}

function sequence(hop: string, parent: SpanNode, attempts: SpanNode[]): RetrySequence {
  const waitsMs = attempts.slice(1).map((a, k) => Math.max(0, a.span.startMs - (knownEndMs(attempts[k]!.span) ?? attempts[k]!.span.startMs)));
  return {
    hop,
    parent,
    attempts,
    waitsMs,
    backoff: backoffShape(waitsMs),
    outcome: failedNode(attempts[attempts.length - 1]!) ? "exhausted" : "succeeded",
    targetsDiffer: TARGET_KEYS.some((k) => new Set(attempts.map((a) => scalarText(a.span.metadata[k])).filter((v) => v !== null)).size > 1),
  };
}

/** How the waits between attempts grew: the shape of the back-off policy. */
export function backoffShape(waitsMs: readonly number[]): BackoffShape {
  if (waitsMs.length === 0) return "single";
  if (waitsMs.every((w) => w < 5)) return "immediate";
  if (waitsMs.length === 1) return "single";
  const ratios = waitsMs.slice(1).map((w, k) => w / Math.max(1, waitsMs[k]!));
  if (ratios.every((r) => r >= 1.6)) return "exponential";
  const mean = waitsMs.reduce((a, b) => a + b, 0) / waitsMs.length;
  if (waitsMs.every((w) => Math.abs(w - mean) <= 0.25 * mean)) return "constant";
  const steps = waitsMs.slice(1).map((w, k) => w - waitsMs[k]!);
  const step = steps.reduce((a, b) => a + b, 0) / steps.length;
  if (step > 0 && steps.every((s) => Math.abs(s - step) <= 0.25 * step)) return "linear";
  return "irregular";
}
