// One execution against a profile of healthy ones, on hand-built spans: the duration verdict, where
// extra time went (N+1, one slow hop, untraced time, queueing, retry back-off), hops present, missing
// and extra, metadata that differs, the first divergence — and no verdict for one within its range.

import { describe, expect, it } from "vitest";
import { learnProfile } from "../../src/analysis/baseline-profile.js";
import { compareExecution, DEFAULT_COMPARISON_THRESHOLDS } from "../../src/analysis/comparison.js";
import { buildSpanTree } from "../../src/analysis/span-tree.js";
import type { Span } from "../../src/analysis/span.js";
import { ordersNPlusOne, spansOf } from "../fixtures/incidents.js";
import { span } from "./span-builder.js";

interface Shape {
  /** Child SELECT calls under the query step. */
  selects?: number;
  selectMs?: number;
  /** Delay before the cache service starts (a hand-off). */
  handoff?: number;
  /** Extra time the handler spends after its children, untraced. */
  tail?: number;
  /** Duration of the render leaf. */
  renderMs?: number;
  release?: string;
  extra?: boolean;
  noCache?: boolean;
  pool?: number;
}

/** api.handle → [db.pool.acquire] → db.query → ×n db.SELECT; cache.get (another service); api.render. */
function execution(id: string, at: number, s: Shape = {}): Span[] {
  const t = id;
  const out: Span[] = [];
  let cursor = at + 1;
  const pool = s.pool ?? 1;
  out.push(span(`${t}-pool`, { trace: t, parent: `${t}-r`, start: cursor, end: cursor + pool, service: "api", operation: "db.pool.acquire" }));
  cursor += pool;
  const qStart = cursor;
  const selects = s.selects ?? 2;
  const selectMs = s.selectMs ?? 5;
  for (let i = 0; i < selects; i++) {
    out.push(span(`${t}-s${i}`, { trace: t, parent: `${t}-q`, start: cursor, end: cursor + selectMs, service: "api", operation: "db.SELECT", metadata: { "db.statement": "SELECT * FROM items WHERE id = $1", row: 1000 + i } }));
    cursor += selectMs;
  }
  out.push(span(`${t}-q`, { trace: t, parent: `${t}-r`, start: qStart, end: cursor, service: "api", operation: "db.query" }));
  if (!s.noCache) {
    const callStart = cursor;
    const handoff = s.handoff ?? 2;
    out.push(span(`${t}-c`, { trace: t, parent: `${t}-r`, start: callStart, end: callStart + handoff + 6, service: "api", operation: "call_cache" }));
    out.push(span(`${t}-g`, { trace: t, parent: `${t}-c`, start: callStart + handoff, end: callStart + handoff + 5, service: "cache", operation: "get" }));
    cursor = callStart + handoff + 6;
  }
  if (s.extra) {
    out.push(span(`${t}-x`, { trace: t, parent: `${t}-r`, start: cursor, end: cursor + 3, service: "api", operation: "audit_log" }));
    cursor += 3;
  }
  const render = s.renderMs ?? 10;
  out.push(span(`${t}-v`, { trace: t, parent: `${t}-r`, start: cursor, end: cursor + render, service: "api", operation: "render" }));
  cursor += render + (s.tail ?? 1);
  out.push(span(`${t}-r`, { trace: t, start: at, end: cursor, service: "api", operation: "GET /items", metadata: { job_id: `job-${t}`, release: s.release ?? "v41", region: "EU" } }));
  return out;
}

const tree = (spans: Span[]) => buildSpanTree(spans);
const healthy = Array.from({ length: 30 }, (_, k) => execution(`ok${k}`, k * 10_000, { selectMs: 4 + (k % 3), renderMs: 9 + (k % 4) })).flat();
const profile = learnProfile("api.GET /items", buildSpanTree(healthy).roots);
const compare = (s: Shape) => compareExecution(tree(execution("x", 1_000_000, s)), profile, { identityKeys: ["job_id"] });

describe("compareExecution: the duration verdict", () => {
  it("within range: usual, nothing extra, no divergence, every hop usual", () => {
    const c = compare({});
    expect(c.duration.verdict).toBe("usual");
    expect(c.extraTime).toEqual([]);
    expect(c.firstDivergence).toBeNull();
    expect(c.hops.map((h) => h.verdict)).toEqual(c.hops.map(() => "usual"));
    expect(c.metadata).toEqual([]);
    expect(c.repeated).toEqual([]);
  });

  it("slower than most but inside the noise margin: still no slowness verdict", () => {
    expect(compare({ renderMs: 25 }).duration.verdict).toBe("usual");
  });

  it.each<[string, Shape, string, RegExp]>([
    ["200 identical SELECTs where healthy runs make 2 (N+1)", { selects: 200, selectMs: 5 }, "n_plus_one", /db\.SELECT ran 200× \(successful runs: 2×, at most 2×\), one after another, the same call each time/],
    ["one slow leaf", { renderMs: 900 }, "slow_hop", /render took 900ms \(successful runs: p50 \d+ms, p95 \d+ms\)/],
    ["time inside the handler after its children", { tail: 800 }, "untraced_time", /passed inside api\.GET \/items outside any of its child spans/],
    ["a callee that started late (a hand-off)", { handoff: 700 }, "queueing", /cache\.get started 700ms after api\.call_cache called it .* cold start/],
    ["a long wait for a pooled connection", { pool: 1500 }, "queueing", /db\.pool\.acquire waited 1\.50s .* queueing for a pooled resource/],
  ])("%s: slow, and the extra time is %s", (_what, shape, kind, sentence) => {
    const c = compare(shape);
    expect(c.duration.verdict).toBe("slow");
    expect(c.duration.ratio!).toBeGreaterThan(2);
    const top = c.extraTime[0]!;
    expect(top.kind).toBe(kind);
    expect(top.share).toBeGreaterThan(0.7);
    expect(top.sentence).toMatch(sentence);
    expect(top.nodes.length).toBeGreaterThan(0);
  });

  it("N+1: the repeated hop is listed, and the first divergence is its third call", () => {
    const c = compare({ selects: 200, selectMs: 5 });
    expect(c.repeated).toMatchObject([{ hop: "api.db.SELECT", count: 200, baselineCount: 2, baselineMaxCount: 2, identical: true, sequential: true, parentHop: "api.db.query" }]);
    expect(c.hops.find((h) => h.hop === "api.db.SELECT")!.verdict).toBe("repeated");
    expect(c.firstDivergence).toMatchObject({ kind: "repeated", hop: "api.db.SELECT" });
    expect(c.firstDivergence!.node!.span.spanId).toBe("x-s2");
  });

  it("a run that skipped most of its work: its missing hops; 'fast' only beyond 100 ms under the p50", () => {
    const c = compareExecution(tree([span("f", { trace: "f", start: 0, end: 3, service: "api", operation: "GET /items" })]), profile);
    expect(c.duration.verdict).toBe("usual");
    const slowProfile = learnProfile("api.GET /items", buildSpanTree(Array.from({ length: 10 }, (_, k) => execution(`slow${k}`, k * 10_000, { renderMs: 500 })).flat()).roots);
    expect(compareExecution(tree([span("f", { trace: "f", start: 0, end: 3, service: "api", operation: "GET /items" })]), slowProfile).duration.verdict).toBe("fast");
    expect(c.hops.filter((h) => h.verdict === "missing").map((h) => h.hop)).toEqual(expect.arrayContaining(["api.db.query", "cache.get", "api.render"]));
    expect(c.firstDivergence).toMatchObject({ kind: "missing_hop", hop: "api.db.pool.acquire" });
  });
});

describe("compareExecution: hops and metadata", () => {
  it("a missing hop and an extra one", () => {
    const c = compare({ noCache: true, extra: true });
    expect(c.hops.find((h) => h.hop === "cache.get")).toMatchObject({ verdict: "missing", baselineShare: 1 });
    expect(c.hops.find((h) => h.hop === "api.audit_log")).toMatchObject({ verdict: "extra", baselineShare: 0 });
    expect(c.firstDivergence!.kind).toMatch(/missing_hop|extra_hop/);
  });

  it("a release healthy runs never carried; correlation keys and ids that only differ in their number are not differences", () => {
    const c = compare({ release: "v42" });
    expect(c.metadata.map((m) => [m.hop, m.key, m.value, m.baseline])).toEqual([["api.GET /items", "release", "v42", [{ value: "v41", share: 1 }]]]);
  });

  it("outcome keys are flagged as outcomes, listed after the rest", () => {
    const spans = execution("o", 1_000_000, { release: "v42" }).map((s) => (s.spanId === "o-r" ? { ...s, metadata: { ...s.metadata, http_status: 500 } } : s));
    const c = compareExecution(tree(spans), profile, { identityKeys: ["job_id"] });
    expect(c.metadata.map((m) => [m.key, m.outcome])).toEqual([
      ["release", false],
      ["http_status", true],
    ]);
  });

  it("the calls out healthy runs make", () => {
    expect(compare({}).outgoing).toEqual({ hops: ["cache.get"], maxShare: 1 });
  });
});

describe("compareExecution against one chosen execution", () => {
  it("judges against that execution's own values", () => {
    const one = learnProfile("api.GET /items", tree(execution("chosen", 0)).roots);
    const c = compareExecution(tree(execution("x", 1_000_000, { renderMs: 900 })), one, { thresholds: { ...DEFAULT_COMPARISON_THRESHOLDS, minExecutions: 1 }, identityKeys: ["job_id"] });
    expect(c.baselineExecutions).toBe(1);
    expect(c.duration.verdict).toBe("slow");
    expect(c.extraTime[0]!.kind).toBe("slow_hop");
    // With the default thresholds one execution is too few to judge anything.
    expect(compareExecution(tree(execution("x", 1_000_000, { renderMs: 900 })), one).duration.verdict).toBe("unknown");
  });
});

describe("on the order-list incident", () => {
  it("100× slower, 95% of the extra time in 200 sequential identical SELECTs", () => {
    const inc = ordersNPlusOne();
    const all = buildSpanTree(spansOf(inc.rows));
    const incident = all.roots.find((r) => r.span.traceId === inc.traceId)!;
    const healthyRoots = all.roots.filter((r) => r.span.traceId.startsWith("orders-") && r.span.traceId !== inc.traceId && r.span.traceId !== "orders-slightly-slow");
    const p = learnProfile("api.GET /orders", healthyRoots);
    const c = compareExecution(tree(spansOf(inc.rows.filter((r) => r.trace_id === inc.traceId))), p, { identityKeys: ["job_id"] });
    expect(incident).toBeDefined();
    expect(c.duration.ratio!).toBeGreaterThan(80);
    expect(c.extraTime[0]).toMatchObject({ kind: "n_plus_one", hop: "orders.SELECT order_items" });
    expect(c.extraTime[0]!.share).toBeGreaterThan(0.9);
    const slightly = compareExecution(tree(spansOf(inc.rows.filter((r) => r.trace_id === "orders-slightly-slow"))), p, { identityKeys: ["job_id"] });
    expect(slightly.duration.verdict).toBe("usual");
    expect(slightly.extraTime).toEqual([]);
  });
});
