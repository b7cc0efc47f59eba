// One huge trace among many small executions: find_gaps' aggregate view reads at most a bounded number
// of spans from any one trace, so its sample keeps every execution, and it says which trace was cut.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SPANS_PER_SAMPLED_TRACE } from "../../src/investigation/execution-baseline.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans, type SpanRowInput } from "../../src/store/span-writer.js";
import findGaps from "../../src/tools/find-gaps.js";
import { backends, type TestDatabase } from "../support/test-databases.js";
import { connectTools, type ToolClient } from "../support/tool-client.js";

const NOW = Date.parse("2025-10-22T18:00:00.000Z");
const HUGE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

function smallExecutions(): SpanRowInput[] {
  const rows: SpanRowInput[] = [];
  for (let k = 0; k < 40; k++) {
    const at = NOW - 3_600_000 + k * 30_000;
    const span = (id: string, parent: string | null, service: string, operation: string, start: number, end: number): SpanRowInput => ({
      trace_id: `small-${k}`,
      span_id: `${k}-${id}`,
      parent_span_id: parent ? `${k}-${parent}` : null,
      service,
      operation,
      started_at: iso(at + start),
      completed_at: iso(at + end),
      duration_ms: end - start,
      status: "completed",
      error_message: null,
      metadata: parent ? {} : { job_id: `job-${k}` },
    });
    rows.push(span("r", null, "runner", "execute_question", 0, 2000), span("c", "r", "runner", "call_router", 1, 1990), span("i", "c", "router", "inference_request", 20, 1980));
  }
  return rows;
}

describe.each(await backends())("one huge trace in find_gaps' aggregate sample, on $name", ({ open }) => {
  let db: TestDatabase;
  let tools: ToolClient;

  beforeAll(async () => {
    db = await open();
    const table = db.table();
    await applySchema(db.writer, table);
    await insertSpans(db.writer, smallExecutions(), table);
    // The oldest execution of the window: a root with 60,000 children, written in one statement. Read in
    // start order without a per-trace cap, it alone would fill the sample's span budget.
    const start = NOW - 5_400_000;
    await db.writer.query(
      `INSERT INTO ${table} (trace_id, span_id, parent_span_id, service, operation, started_at, completed_at, duration_ms, status, metadata)
       SELECT 'huge', 'huge-' || g, CASE WHEN g = 0 THEN NULL ELSE 'huge-0' END, 'runner', CASE WHEN g = 0 THEN 'execute_question' ELSE 'select_row' END,
              to_timestamp(${start / 1000} + g / 1000000.0), to_timestamp(${start / 1000} + g / 1000000.0 + 0.0005), 1, 'completed', '{}'::jsonb
         FROM generate_series(0, ${HUGE}) g`,
    );
    tools = await connectTools({ spans: new SpanTable(db.reader, table, ["job_id"]), now: () => NOW });
  }, 60_000);
  afterAll(async () => {
    await tools?.close();
    await db?.close();
  });

  it("keeps every execution in the sample and says which trace it cut", async () => {
    const { out, text } = await tools.structured(findGaps, { since: "2h" });
    expect(out.executions_sampled).toBe(41);
    expect(out.notes.join(" ")).toMatch(new RegExp(`1 trace\\(s\\) of the sample have more than ${SPANS_PER_SAMPLED_TRACE} spans; only ${SPANS_PER_SAMPLED_TRACE} of each were read.*huge`));
    expect(text).toMatch(/more than 2000 spans/);
  });
});
