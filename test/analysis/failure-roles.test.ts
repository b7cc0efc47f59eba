// Every failing span gets a role, on hand-built trees: cause and propagated when the failure reached
// the root; retried, fallback or handled when something absorbed it; on the public traces recorded
// elsewhere, no failing span goes unexplained.

import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { explainFailingSpans } from "../../src/analysis/failure-roles.js";
import { findRetries } from "../../src/analysis/retries.js";
import { buildSpanTree } from "../../src/analysis/span-tree.js";
import { isFailureStatus, type Span } from "../../src/analysis/span.js";
import { convertTrace } from "../fixtures/convert-trace.js";
import { spansOf } from "../fixtures/incidents.js";
import { span } from "./span-builder.js";

function roles(spans: Span[]) {
  const tree = buildSpanTree(spans);
  return explainFailingSpans(tree, findRetries(tree)).map((r) => ({ id: r.node.span.spanId, role: r.role, by: r.absorbedBy?.span.spanId, attempt: r.attempt }));
}

describe("explainFailingSpans", () => {
  it("the seeds' case: the call is the cause, the root propagates it", () => {
    expect(
      roles([
        span("r", { start: 0, end: 13, status: "failed", error: "execution failed", service: "runner", operation: "execute_question" }),
        span("c", { parent: "r", start: 1, end: 12, status: "failed", service: "runner", operation: "call_router" }),
      ]),
    ).toEqual([
      { id: "c", role: "cause", by: undefined, attempt: undefined },
      { id: "r", role: "propagated", by: undefined, attempt: undefined },
    ]);
  });

  it("a failure retried away under a healthy root: retried, absorbed by the attempt that worked", () => {
    expect(
      roles([
        span("r", { start: 0, end: 40, service: "frontend", operation: "GET /cart" }),
        span("g", { parent: "r", start: 1, end: 35, service: "cart", operation: "GetCart" }),
        span("x1", { parent: "g", start: 3, end: 7, status: "error", error: "connection reset by peer", service: "cart", operation: "redis GET" }),
        span("x2", { parent: "g", start: 19, end: 22, service: "cart", operation: "redis GET" }),
      ]),
    ).toEqual([{ id: "x1", role: "retried", by: "x2", attempt: { index: 1, of: 2 } }]);
  });

  it("a failed call replaced by a fallback: fallback, absorbed by the fallback", () => {
    expect(
      roles([
        span("r", { start: 0, end: 20, service: "recommendations", operation: "ListRecommendations" }),
        span("m", { parent: "r", start: 2, end: 4, status: "error", error: "UNAVAILABLE", service: "ml-ranker", operation: "Rank" }),
        span("f", { parent: "r", start: 5, end: 8, service: "recommendations", operation: "popular_items_fallback" }),
      ]),
    ).toEqual([{ id: "m", role: "fallback", by: "f", attempt: undefined }]);
  });

  it("an error its caller swallowed: handled, absorbed by the caller; what passed it up is propagated", () => {
    expect(
      roles([
        span("r", { start: 0, end: 100, service: "api", operation: "GET /page" }),
        span("a", { parent: "r", start: 2, end: 50, status: "error", error: "widget failed", service: "widgets", operation: "Render" }),
        span("b", { parent: "a", start: 3, end: 40, status: "error", error: "404 template", service: "widgets", operation: "load" }),
        span("s", { parent: "r", start: 60, end: 90, service: "api", operation: "write_response" }),
      ]),
    ).toEqual([
      { id: "b", role: "handled", by: "r", attempt: undefined },
      { id: "a", role: "propagated", by: "r", attempt: undefined },
    ]);
  });

  it("says of a swallowed error that its work most likely did not happen, though the execution reports success", () => {
    const tree = buildSpanTree([
      span("r", { start: 0, end: 300, service: "export-worker", operation: "run_export" }),
      span("u", { parent: "r", start: 5, end: 250, service: "export-worker", operation: "upload_file" }),
      span("p", { parent: "u", start: 10, end: 60, status: "error", error: "AccessDenied", service: "s3", operation: "PutObject" }),
    ]);
    const [handled] = explainFailingSpans(tree, findRetries(tree));
    expect(handled).toMatchObject({ role: "handled" });
    expect(handled!.sentence).toMatch(/export-worker\.upload_file #u went on and succeeded without it, with no retry and no fallback: .* what s3\.PutObject was to do most likely did not happen although the execution reports success/);
  });

  it("retries that all failed: every attempt's callee is a cause, each attempt propagates", () => {
    const got = roles([
      span("r", { start: 0, end: 800, status: "error", service: "gateway", operation: "POST /search" }),
      span("a1", { parent: "r", start: 2, end: 12, status: "error", service: "gateway", operation: "call" }),
      span("s1", { parent: "a1", start: 3, end: 11, status: "error", error: "503", service: "search", operation: "Query" }),
      span("a2", { parent: "r", start: 112, end: 122, status: "error", service: "gateway", operation: "call" }),
      span("s2", { parent: "a2", start: 113, end: 121, status: "error", error: "503", service: "search", operation: "Query" }),
    ]);
    expect(got.filter((g) => g.role === "cause").map((g) => g.id)).toEqual(["s1", "s2"]);
    expect(got.filter((g) => g.role === "propagated").map((g) => g.id)).toEqual(["r", "a1", "a2"]);
    expect(got.find((g) => g.id === "a2")!.attempt).toEqual({ index: 2, of: 2 });
  });

  it("a callee that never finished under a failed caller is the cause", () => {
    const got = roles([
      span("r", { start: 0, end: 1400, status: "failed", service: "runner", operation: "execute_question" }),
      span("c", { parent: "r", start: 1, end: 1390, status: "failed", error: "EOF", service: "runner", operation: "call_router" }),
      span("i", { parent: "c", start: 25, end: null, service: "router", operation: "inference_request" }),
    ]);
    expect(got[0]).toMatchObject({ id: "i", role: "cause" });
    expect(got.slice(1).every((g) => g.role === "propagated")).toBe(true);
  });

  it("no failing span, no role", () => {
    expect(roles([span("r", { start: 0, end: 10 }), span("c", { parent: "r", start: 1, end: 9 })])).toEqual([]);
  });
});

describe("on public traces recorded elsewhere", () => {
  const read = (file: string) => JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/traces/${file}`, import.meta.url)), "utf8")) as unknown;
  it.each(["jaeger-ui-trace-graph.json", "jaeger-ui-genai.json", "zipkin-smartthings-oauth-authorization.json", "otlp-jaeger-ui-nodejs.json", "zipkin-messaging.json"])(
    "%s: every failing span has a role, and none is a cause while its root succeeded",
    (file) => {
      const tree = buildSpanTree(spansOf(convertTrace(read(file))));
      const explained = explainFailingSpans(tree, findRetries(tree));
      const failing = tree.nodes.filter((n) => isFailureStatus(n.span.status) || n.flags.includes("unfinished"));
      expect(explained.map((e) => e.node).sort((a, b) => a.span.spanId.localeCompare(b.span.spanId))).toEqual(failing.sort((a, b) => a.span.spanId.localeCompare(b.span.spanId)));
      for (const e of explained) {
        let top = e.node;
        while (top.parent) top = top.parent;
        if (!isFailureStatus(top.span.status)) expect(e.role).not.toBe("cause");
        expect(e.sentence.length).toBeGreaterThan(20);
      }
    },
  );
});
