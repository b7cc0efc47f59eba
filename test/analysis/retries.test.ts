// Retries as the spans show them, on hand-built siblings: attempts one after another, each after a
// failure; the back-off shape of the waits; how the sequence ended; failover when the targets differ.
// Near misses: repeated calls that all succeed (N+1), parallel fan-out, different operations.

import { describe, expect, it } from "vitest";
import { backoffShape, findRetries } from "../../src/analysis/retries.js";
import { buildSpanTree } from "../../src/analysis/span-tree.js";
import type { Span } from "../../src/analysis/span.js";
import { span } from "./span-builder.js";

/** A caller `p` with children given as [start, end, status, metadata?]. */
function caller(children: Array<[number, number, string, Record<string, unknown>?]>, op = "call_api"): Span[] {
  const end = Math.max(...children.map((c) => c[1])) + 5;
  return [
    span("p", { start: 0, end, service: "gw", operation: "handle" }),
    ...children.map(([s, e, status, metadata], i) => span(`a${i + 1}`, { parent: "p", start: s, end: e, status, service: "gw", operation: op, ...(metadata ? { metadata } : {}) })),
  ];
}

const retriesOf = (spans: Span[]) => findRetries(buildSpanTree(spans));

describe("findRetries", () => {
  it("a 503 and three back-off retries, all failed: four attempts, waits 100 → 200 → 400 ms, exponential, exhausted", () => {
    const [r, ...rest] = retriesOf(caller([[2, 10, "error"], [110, 118, "error"], [318, 326, "error"], [726, 734, "error"]]));
    expect(rest).toEqual([]);
    expect(r!.attempts.map((a) => a.span.spanId)).toEqual(["a1", "a2", "a3", "a4"]);
    expect(r!.waitsMs).toEqual([100, 200, 400]);
    expect(r!.backoff).toBe("exponential");
    expect(r!.outcome).toBe("exhausted");
    expect(r!.parent.span.spanId).toBe("p");
    expect(r!.hop).toBe("gw.call_api");
  });

  it("one failure and a retry that worked: succeeded", () => {
    const [r] = retriesOf(caller([[2, 6, "error"], [18, 21, "completed"]]));
    expect(r).toMatchObject({ outcome: "succeeded", waitsMs: [12], backoff: "single", targetsDiffer: false });
  });

  it("attempts that went to another provider are a failover", () => {
    const [r] = retriesOf(caller([[2, 6, "error", { provider: "a" }], [8, 30, "completed", { provider: "b" }]]));
    expect(r!.targetsDiffer).toBe(true);
  });

  it("a success before a failure starts nothing; the failure and what follows it are the sequence", () => {
    const [r, ...rest] = retriesOf(caller([[2, 6, "completed"], [8, 12, "error"], [20, 24, "completed"]]));
    expect(rest).toEqual([]);
    expect(r!.attempts.map((a) => a.span.spanId)).toEqual(["a2", "a3"]);
  });

  it.each<[string, Array<[number, number, string]>]>([
    ["repeated calls that all succeed (N+1) are no retry", [[2, 6, "completed"], [7, 11, "completed"], [12, 16, "completed"]]],
    ["parallel calls overlapping in time are fan-out, not retries", [[2, 40, "error"], [3, 41, "completed"]]],
    ["a single failed call is no retry", [[2, 6, "error"]]],
  ])("near miss: %s", (_what, children) => {
    expect(retriesOf(caller(children))).toEqual([]);
  });

  it("near miss: a different operation after a failure is not a retry of it", () => {
    const spans = [
      span("p", { start: 0, end: 50, service: "gw", operation: "handle" }),
      span("a", { parent: "p", start: 2, end: 6, status: "error", service: "gw", operation: "call_api" }),
      span("b", { parent: "p", start: 8, end: 20, service: "gw", operation: "call_cache" }),
    ];
    expect(retriesOf(spans)).toEqual([]);
  });
});

describe("backoffShape", () => {
  it.each<[number[], string]>([
    [[], "single"],
    [[250], "single"],
    [[1, 2, 0], "immediate"],
    [[100, 200, 400], "exponential"],
    [[50, 100, 200, 400, 800], "exponential"],
    [[200, 210, 195], "constant"],
    [[100, 200, 300, 400], "linear"],
    [[100, 20, 700], "irregular"],
  ])("%j is %s", (waits, shape) => {
    expect(backoffShape(waits)).toBe(shape);
  });
});
