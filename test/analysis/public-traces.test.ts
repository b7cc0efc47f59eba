// Runs the analysis on traces other people recorded (test/fixtures/traces: Jaeger, Zipkin and OTLP
// examples from public repositories) and checks what must hold on any trace, plus a few known facts.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildSpanTree, subtreeNodes, type SpanNode, type SpanTree } from "../../src/analysis/span-tree.js";
import { isAsynchronousChild } from "../../src/analysis/critical-path.js";
import { findGaps } from "../../src/analysis/gaps.js";
import { pruneTrace } from "../../src/analysis/prune.js";
import { buildTraceReport } from "../../src/analysis/trace-report.js";
import { renderWaterfall } from "../../src/analysis/waterfall.js";
import type { Span } from "../../src/analysis/span.js";
import { convertTrace, detectFormat, isoFromMicros, type TraceFormat, type TraceSpanRow } from "../fixtures/convert-trace.js";

const read = (file: string): unknown => JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/traces/${file}`, import.meta.url)), "utf8"));

/** Epoch ms with the microseconds an ISO string carries, as the store reads them from Postgres. */
function epochMs(iso: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (!m) throw new Error(`not an ISO time: ${iso}`);
  return Date.parse(`${m[1]}Z`) + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

/** A row as the store hands it to the core (see toSpan in src/store/span-table.ts). */
function toSpan(r: TraceSpanRow): Span {
  return {
    traceId: r.trace_id,
    spanId: r.span_id,
    parentSpanId: r.parent_span_id,
    service: r.service,
    operation: r.operation,
    startMs: epochMs(r.started_at),
    endMs: r.completed_at === null ? null : epochMs(r.completed_at),
    durationMs: r.duration_ms,
    status: r.status,
    errorMessage: r.error_message,
    metadata: r.metadata,
  };
}

/** Spans in the source document, counted from the document itself. */
function sourceSpanCount(doc: unknown, format: TraceFormat): number {
  const d = doc as { resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: unknown[] }> }>; spans?: unknown[] };
  if (format === "otlp") return (d.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans ?? []).reduce((n, ss) => n + (ss.spans?.length ?? 0), 0);
  if (format === "zipkin") return (doc as unknown[]).length;
  return d.spans?.length ?? 0;
}

interface Fixture {
  file: string;
  format: TraceFormat;
  spans: number;
  /** Children their parent did not wait for (consumer of a producer, follows-from). */
  asyncChildren: number;
  /** Children that began after their parent had ended. */
  detached: number;
  /** Time each span holds the critical path (ms), where it was worked out by hand. */
  split?: Record<string, number>;
}

const FIXTURES: Fixture[] = [
  {
    file: "jaeger-ui-trace-graph.json",
    format: "jaeger",
    spans: 11,
    asyncChildren: 1,
    detached: 1,
    split: { "span-1": 224, "span-2": 33, "span-2_1": 37, "span-3": 46, "span-4": 2, "span-5": 18, "span-6": 20, "span-12": 1, "span-13": 9 },
  },
  { file: "jaeger-ui-genai.json", format: "jaeger", spans: 57, asyncChildren: 0, detached: 0 },
  {
    file: "otlp-jaeger-ui-nodejs.json",
    format: "otlp",
    spans: 4,
    asyncChildren: 0,
    detached: 0,
    split: { eff3153be6b1fb93: 3.171, "49b8e9efa1e8a3b1": 55.335, "26f5ef9dbb885479": 46.46, e76628f4e6dde174: 71.355 },
  },
  // The RabbitMQ consumer began after the publish span ended: asynchronous and detached.
  { file: "zipkin-messaging.json", format: "zipkin", spans: 4, asyncChildren: 1, detached: 2, split: { b33447baae403ed6: 2.826, "05e3ac9a4f6e3b90": 0.013 } },
  {
    file: "zipkin-skew.json",
    format: "zipkin",
    spans: 4,
    asyncChildren: 0,
    detached: 0,
    split: { bf396325699c84bf: 4.872, "74280ae0c10d8062": 66.403, "74280ae0c10d8062:server": 28.136 },
  },
  // An OAuth redirect chain: the first server span answers in 1.4 ms and everything after it is the
  // browser following redirects, so the critical path is that one span.
  { file: "zipkin-smartthings-oauth-authorization.json", format: "zipkin", spans: 175, asyncChildren: 0, detached: 18, split: { "8ce82b2e9ed820ba": 1.429 } },
];

const nodeEnd = (n: SpanNode) => Math.max(n.span.startMs, n.layoutEndMs);
const nodeOf = (tree: SpanTree, id: string) => tree.nodes.find((n) => n.span.spanId === id)!;

describe.each(FIXTURES)("public trace $file", ({ file, format, spans: count, asyncChildren, detached, split }) => {
  const doc = read(file);
  const rows = convertTrace(doc);
  const tree = buildSpanTree(rows.map(toSpan));
  const gaps = findGaps(tree, null);

  it("converts every span once, with unique ids and known kinds where the source has them", () => {
    expect(detectFormat(doc)).toBe(format);
    expect(sourceSpanCount(doc, format)).toBe(count);
    expect(rows).toHaveLength(count);
    expect(new Set(rows.map((r) => `${r.trace_id}/${r.span_id}`)).size).toBe(count);
    expect(tree.nodes).toHaveLength(count);
    expect(new Set(tree.nodes.map((n) => n.span)).size).toBe(count);
    expect(tree.nodes.some((n) => n.flags.includes("duplicate_span_id") || n.flags.includes("parent_cycle"))).toBe(false);
    for (const r of rows) {
      expect(["completed", "error"]).toContain(r.status);
      expect(Number.isFinite(epochMs(r.started_at))).toBe(true);
    }
  });

  it("splits the critical path so that it sums to the root's duration, never more", () => {
    const top = tree.roots.reduce((best, r) => (nodeEnd(r) > nodeEnd(best) || (nodeEnd(r) === nodeEnd(best) && r.span.startMs < best.span.startMs) ? r : best));
    const total = tree.nodes.reduce((sum, n) => sum + n.criticalMs, 0);
    expect(total).toBeCloseTo(nodeEnd(top) - top.span.startMs, 6);
    expect(total).toBeLessThanOrEqual(tree.endMs - tree.startMs + 1e-6);
    if (split) {
      const got = Object.fromEntries(tree.criticalPath.map((n) => [n.span.spanId, Math.round(n.criticalMs * 1000) / 1000]));
      expect(got).toEqual(split);
    }
    const line = renderWaterfall(buildTraceReport(tree, pruneTrace(tree, 200), { metadata: "none" }), { maxSpansHint: 500 })
      .split("\n")
      .find((l) => l.startsWith("Critical path time by span"));
    const percents = [...(line ?? "").matchAll(/\((\d+)%\)/g)].map((m) => Number(m[1]));
    expect(percents.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(100);
  });

  it("never puts asynchronous work, or work begun after its parent ended, on the critical path", () => {
    const asyncNodes = tree.nodes.filter((n) => n.parent && isAsynchronousChild(n.span, n.parent.span));
    expect(asyncNodes).toHaveLength(asyncChildren);
    for (const n of asyncNodes) for (const m of subtreeNodes(n)) expect(m.criticalMs).toBe(0);
    const after = tree.nodes.filter((n) => n.parent && knownEnd(n.parent) !== null && n.span.startMs >= knownEnd(n.parent)! && nodeEnd(n) > knownEnd(n.parent)!);
    expect(after).toHaveLength(detached);
    for (const n of after) for (const m of subtreeNodes(n)) expect(m.criticalMs).toBe(0);
    expect(gaps.findings.filter((f) => f.kind === "detached_work")).toHaveLength(detached);
  });

  it("reports untraced and idle time only inside the span it is about", () => {
    for (const f of gaps.findings) {
      if (f.kind !== "untraced_time" && f.kind !== "idle_between_siblings") continue;
      // untraced_time cites [span, child]; idle_between_siblings cites the two siblings.
      const parent = f.kind === "untraced_time" ? nodeOf(tree, f.span_ids[0]!) : nodeOf(tree, f.span_ids[1]!).parent!;
      const from = f.offset_ms! + tree.startMs;
      // Offsets and sizes are rounded to 0.1 ms.
      expect(from).toBeGreaterThanOrEqual(parent.span.startMs - 0.05);
      expect(from + f.size_ms!).toBeLessThanOrEqual(knownEnd(parent)! + 0.1);
    }
  });
});

function knownEnd(n: SpanNode): number | null {
  return n.span.endMs ?? (n.span.durationMs === null ? null : n.span.startMs + n.span.durationMs);
}

describe("convert-trace", () => {
  it("keeps microseconds in ISO times", () => {
    expect(isoFromMicros(1470150004008762n)).toBe("2016-08-02T15:00:04.008762Z");
    expect(isoFromMicros(1470150004008000n)).toBe("2016-08-02T15:00:04.008Z");
  });

  it("gives a Zipkin shared server span its own id under the client, and its children to it", () => {
    const rows = convertTrace(read("zipkin-skew.json"));
    const byId = new Map(rows.map((r) => [r.span_id, r]));
    expect(byId.get("74280ae0c10d8062")).toMatchObject({ service: "servicea", parent_span_id: "bf396325699c84bf", metadata: { "span.kind": "client" } });
    expect(byId.get("74280ae0c10d8062:server")).toMatchObject({ service: "serviceb", parent_span_id: "74280ae0c10d8062", metadata: { "span.kind": "server", "zipkin.shared": true } });
    expect(byId.get("43210ae0c10d1234")!.parent_span_id).toBe("74280ae0c10d8062:server");
  });

  it("marks a Zipkin consumer and producer by span.kind, and a Zipkin error by its tag", () => {
    const messaging = new Map(convertTrace(read("zipkin-messaging.json")).map((r) => [r.operation, r]));
    expect(messaging.get("publish")!.metadata).toMatchObject({ "span.kind": "producer", "peer.service": "rabbitmq" });
    expect(messaging.get("next-message")!.metadata).toMatchObject({ "span.kind": "consumer" });
    const failed = convertTrace(read("zipkin-smartthings-oauth-authorization.json")).filter((r) => r.status === "error");
    expect(failed).toHaveLength(2);
    expect(failed.every((r) => typeof r.error_message === "string" && r.error_message !== "")).toBe(true);
  });

  it("records a Jaeger FOLLOWS_FROM parent as ref_type, and the error tag as the status", () => {
    const rows = new Map(convertTrace(read("jaeger-ui-trace-graph.json")).map((r) => [r.span_id, r]));
    expect(rows.get("span-7")).toMatchObject({ parent_span_id: "span-6", service: "service2", metadata: { "span.kind": "consumer", ref_type: "FOLLOWS_FROM" } });
    expect(rows.get("span-3")!.metadata).not.toHaveProperty("ref_type");
    expect(rows.get("span-2")).toMatchObject({ status: "error", duration_ms: 33 });
    expect(rows.get("span-1")).toMatchObject({ parent_span_id: null, started_at: "2018-11-19T22:27:32.979Z", completed_at: "2018-11-19T22:27:33.369Z" });
  });

  it("reads OTLP resources, kinds, an empty parent id and nanosecond times", () => {
    const rows = new Map(convertTrace(read("otlp-jaeger-ui-nodejs.json")).map((r) => [r.span_id, r]));
    expect(rows.get("eff3153be6b1fb93")).toMatchObject({ parent_span_id: null, service: "example-trace", operation: "main", metadata: { "span.kind": "internal" } });
    expect(rows.get("26f5ef9dbb885479")).toMatchObject({ completed_at: "2024-03-22T20:10:47.024460Z", duration_ms: 46.46, metadata: { "otel.scope.name": "ohboy" } });
  });

  it("reads OTLP enum names, upper-case hex ids and error statuses", () => {
    const [r] = convertTrace({
      resourceSpans: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "my.service" } }] },
          scopeSpans: [
            {
              spans: [
                {
                  traceId: "5B8EFFF798038103D269B633813FC60C",
                  spanId: "EEE19B7EC3C1B174",
                  parentSpanId: "EEE19B7EC3C1B173",
                  name: "send",
                  kind: "SPAN_KIND_PRODUCER",
                  startTimeUnixNano: "1544712660000000000",
                  endTimeUnixNano: "1544712661000000000",
                  status: { code: "STATUS_CODE_ERROR", message: "broker down" },
                  attributes: [{ key: "retries", value: { intValue: "3" } }],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(r).toEqual({
      trace_id: "5b8efff798038103d269b633813fc60c",
      span_id: "eee19b7ec3c1b174",
      parent_span_id: "eee19b7ec3c1b173",
      service: "my.service",
      operation: "send",
      started_at: "2018-12-13T14:51:00.000Z",
      completed_at: "2018-12-13T14:51:01.000Z",
      duration_ms: 1000,
      status: "error",
      error_message: "broker down",
      metadata: { retries: 3, "span.kind": "producer" },
    });
  });
});
