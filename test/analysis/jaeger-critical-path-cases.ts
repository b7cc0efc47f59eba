// Jaeger UI's nine published critical-path test cases (jaegertracing/jaeger-ui, Apache-2.0,
// packages/jaeger-ui/src/components/TracePage/CriticalPath/testCases/test1.js … test9.js), rebuilt
// by hand with span-builder: Jaeger's µs offsets become ms offsets, its expected sections are copied.

import type { Span } from "../../src/analysis/span.js";
import { span } from "./span-builder.js";

export interface JaegerCase {
  name: string;
  spans: Span[];
  /** Jaeger's expected criticalPathSections, in its order (latest first): [span id, start, end]. */
  sections: Array<[string, number, number]>;
}

const producer = { "span.kind": "producer" };

export const JAEGER_CASES: JaegerCase[] = [
  {
    // C waits for D, then for E; the gaps between them are C's own.
    name: "test1: two sequential children with gaps",
    spans: [
      span("span-E", { parent: "span-C", start: 50, end: 60 }),
      span("span-C", { start: 1, end: 101 }),
      span("span-D", { parent: "span-C", start: 20, end: 40 }),
    ],
    sections: [
      ["span-C", 60, 101],
      ["span-E", 50, 60],
      ["span-C", 40, 50],
      ["span-D", 20, 40],
      ["span-C", 1, 20],
    ],
  },
  {
    // A overlaps C, which ends last: A is not on the path.
    name: "test2: overlapping children, the last-finishing one wins",
    spans: [
      span("span-X", { start: 1, end: 101 }),
      span("span-A", { parent: "span-X", start: 10, end: 50 }),
      span("span-C", { parent: "span-X", start: 20, end: 60 }),
    ],
    sections: [
      ["span-X", 60, 101],
      ["span-C", 20, 60],
      ["span-X", 1, 20],
    ],
  },
  {
    // traceWithSingleChildLongerThanParentAndStartsAfterParent.json: a client span that starts after its producer parent ended.
    name: "test3: a child that starts after its parent ended is dropped",
    spans: [
      span("006c3cf93508f205", { start: 100, end: 140, service: "service-one", operation: "send", metadata: producer }),
      span("2dc4b796e2127e32", {
        parent: "006c3cf93508f205",
        start: 200,
        end: 500,
        service: "service-two",
        operation: "async task 1",
        metadata: { "span.kind": "client", "http.method": "POST" },
      }),
    ],
    sections: [["006c3cf93508f205", 100, 140]],
  },
  {
    name: "test4: a dropped child takes its own children with it",
    spans: [
      span("span-A", { start: 1, end: 31 }),
      span("span-B", { parent: "span-A", start: 40, end: 80 }),
      span("span-c", { parent: "span-B", start: 50, end: 60 }),
    ],
    sections: [["span-A", 1, 31]],
  },
  {
    name: "test5: a consumer under a producer (follows-from) is asynchronous, not blocking",
    spans: [
      span("span-A", { start: 1, end: 31, metadata: producer }),
      span("span-B", { parent: "span-A", start: 10, end: 20, metadata: { "span.kind": "consumer", ref_type: "FOLLOWS_FROM" } }),
      span("span-C", { parent: "span-B", start: 12, end: 14 }),
    ],
    sections: [["span-A", 1, 31]],
  },
  {
    name: "test6: a child that outlives its parent, with a grandchild that starts before its own parent",
    spans: [
      span("span-A", { start: 1, end: 30 }),
      span("span-B", { parent: "span-A", start: 15, end: 35 }),
      span("span-C", { parent: "span-B", start: 10, end: 25 }),
    ],
    sections: [
      ["span-B", 25, 30],
      ["span-C", 15, 25],
      ["span-A", 1, 15],
    ],
  },
  {
    name: "test7: a child and a grandchild that both outlive the root are clipped to it",
    spans: [
      span("span-A", { start: 1, end: 30 }),
      span("span-B", { parent: "span-A", start: 15, end: 35 }),
      span("span-C", { parent: "span-B", start: 20, end: 40 }),
    ],
    sections: [
      ["span-C", 20, 30],
      ["span-B", 15, 20],
      ["span-A", 1, 15],
    ],
  },
  {
    name: "test8: a child wider than its parent on both sides holds the whole path",
    spans: [span("span-A", { start: 10, end: 30 }), span("span-B", { parent: "span-A", start: 5, end: 35 })],
    sections: [["span-B", 10, 30]],
  },
  {
    name: "test9: a child that ended before its parent began is dropped",
    spans: [span("span-A", { start: 10, end: 30 }), span("span-B", { parent: "span-A", start: 1, end: 5 })],
    sections: [["span-A", 10, 30]],
  },
];

/** Jaeger's time split: each span's total section length. */
export function jaegerSplit(sections: JaegerCase["sections"]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, start, end] of sections) out[id] = (out[id] ?? 0) + end - start;
  return out;
}
