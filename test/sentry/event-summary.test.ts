// Boiling a Sentry event down: bounded tags and contexts, in-app frames first, the newest
// breadcrumbs, and the values that join the event to spans.

import { describe, expect, it } from "vitest";
import { summariseEvent } from "../../src/sentry/event-summary.js";
import { sentryEvent } from "../../src/sentry/sentry-schemas.js";

function event(over: Record<string, unknown> = {}) {
  return sentryEvent.parse({
    id: "e1",
    eventID: "0123456789abcdef0123456789abcdef",
    dateCreated: "2025-10-22T12:25:00.631Z",
    dateReceived: null,
    title: "Execution failed",
    tags: [
      { key: "execution_region", value: "US" },
      { key: "job_id", value: "bias-detection-1761135900618" },
      { key: "nullish", value: null },
    ],
    contexts: {
      execution: { job_id: "bias-detection-1761135900618", region: "US", duration_ms: 13, has_output: false, type: "default" },
      trace: { trace_id: "a".repeat(32), span_id: "b".repeat(16), op: "execute_question", type: "trace" },
    },
    entries: [
      {
        type: "exception",
        data: {
          values: [
            {
              type: "*errors.errorString",
              value: "execution failed",
              mechanism: { type: "generic", handled: true },
              stacktrace: {
                frames: [
                  { function: "runtime.goexit", filename: "asm_amd64.s", inApp: false, lineNo: 1700 },
                  { function: "worker.(*JobRunner).Run", filename: "job_runner.go", inApp: true, lineNo: 88 },
                  { function: "sync.(*Once).Do", filename: "once.go", inApp: false, lineNo: 74 },
                  { function: "worker.(*JobRunner).executeQuestion", filename: "job_runner.go", inApp: true, lineNo: 241 },
                ],
              },
            },
          ],
        },
      },
      {
        type: "breadcrumbs",
        data: {
          values: Array.from({ length: 30 }, (_, i) => ({
            timestamp: `2025-10-22T12:25:00.${String(600 + i).padStart(3, "0")}Z`,
            category: "execution",
            level: "info",
            message: `step ${i}`,
            data: i === 29 ? { status: "failed", duration_ms: 13 } : null,
          })),
        },
      },
      { type: "request", data: { url: "x" } },
    ],
    ...over,
  });
}

describe("summariseEvent", () => {
  const s = summariseEvent(event(), { maxBreadcrumbs: 5, maxFrames: 3, correlationKeys: ["job_id"] });

  it("keeps tags and contexts without nulls or the context 'type' key", () => {
    expect(s.tags).toContainEqual({ key: "execution_region", value: "US" });
    expect(s.contexts.execution).toEqual({ job_id: "bias-detection-1761135900618", region: "US", duration_ms: 13, has_output: false });
    expect(s).not.toHaveProperty("received");
    expect(JSON.stringify(s)).not.toMatch(/:null\b/);
    expect(s.tags).toContainEqual({ key: "nullish", value: "" });
  });

  it("puts in-app frames first, most recent call first, and counts what it cut", () => {
    const ex = s.exceptions[0]!;
    expect(ex).toMatchObject({ type: "*errors.errorString", value: "execution failed", handled: true, frames_omitted: 1 });
    expect(ex.frames.map((f) => f.function)).toEqual(["worker.(*JobRunner).executeQuestion", "worker.(*JobRunner).Run", "sync.(*Once).Do"]);
    expect(ex.frames[0]).toEqual({ function: "worker.(*JobRunner).executeQuestion", file: "job_runner.go", line: 241, in_app: true });
  });

  it("keeps the newest breadcrumbs in time order", () => {
    expect(s.breadcrumbs_total).toBe(30);
    expect(s.breadcrumbs.map((b) => b.message)).toEqual(["step 25", "step 26", "step 27", "step 28", "step 29"]);
    expect(s.breadcrumbs[4]!.data).toEqual({ status: "failed", duration_ms: 13 });
  });

  it("finds the join values: the trace context and the job id from tag and context", () => {
    expect(s.trace_id).toBe("a".repeat(32));
    expect(s.correlation).toEqual([
      { key: "job_id", value: "bias-detection-1761135900618", from: "tag job_id" },
    ]);
    const onlyContext = summariseEvent(event({ tags: [] }), { maxBreadcrumbs: 5, maxFrames: 3, correlationKeys: ["job_id"] });
    expect(onlyContext.correlation).toEqual([{ key: "job_id", value: "bias-detection-1761135900618", from: "contexts.execution.job_id" }]);
    const aliased = summariseEvent(event({ tags: [{ key: "job", value: "j-9" }], contexts: {} }), {
      maxBreadcrumbs: 5,
      maxFrames: 3,
      correlationKeys: ["job_id"],
      tagAliases: { job: "job_id" },
    });
    expect(aliased.correlation).toEqual([{ key: "job_id", value: "j-9", from: "tag job" }]);
  });

  it("tolerates an event with nothing but an id", () => {
    const bare = summariseEvent(sentryEvent.parse({ id: "x", tags: null, contexts: null, entries: null, dateCreated: null }), {
      maxBreadcrumbs: 5,
      maxFrames: 3,
      correlationKeys: ["job_id"],
    });
    expect(bare).toEqual({ event_id: "x", tags: [], tags_omitted: 0, contexts: {}, exceptions: [], breadcrumbs: [], breadcrumbs_total: 0, correlation: [] });
  });

  it("bounds long values", () => {
    const long = summariseEvent(event({ contexts: { execution: { note: "x".repeat(5000) } } }), { maxBreadcrumbs: 1, maxFrames: 1, correlationKeys: [] });
    expect(String(long.contexts.execution!.note).length).toBeLessThan(400);
  });
});
