// A span table whose columns are named the OpenTelemetry way (trace, span, parent, service_name, name,
// start_time, end_time, status_code OK/ERROR/UNSET, status_message, attributes; no duration_ms; roots
// with parent ''), read through TRACE_DOCTOR_COLUMNS: every tool, prompt completion and resource answers
// as on the canonical table.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseColumnMapping } from "../../src/store/span-columns.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans, type SpanRowInput } from "../../src/store/span-writer.js";
import diagnose from "../../src/tools/diagnose.js";
import findGaps from "../../src/tools/find-gaps.js";
import getTrace from "../../src/tools/get-trace.js";
import listFailedSpans from "../../src/tools/list-failed-spans.js";
import { backends, type TestDatabase } from "../support/test-databases.js";
import { connectTools, type ToolClient } from "../support/tool-client.js";

const NOW = Date.parse("2025-10-22T18:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();
const COLUMNS = parseColumnMapping(
  "trace_id=trace,span_id=span,parent_span_id=parent,service=service_name,operation=name,started_at=start_time,completed_at=end_time,status=status_code,error_message=status_message,metadata=attributes",
);

/** 12 successful executions (status OK or UNSET) and 3 failing in 13 ms with no router hop. */
function rows(): SpanRowInput[] {
  const out: SpanRowInput[] = [];
  const row = (trace: string, span: string, parent: string, service: string, operation: string, start: number, end: number, status: string, error: string | null, metadata: Record<string, unknown> = {}): SpanRowInput => ({
    trace_id: trace,
    span_id: span,
    parent_span_id: parent,
    service,
    operation,
    started_at: iso(start),
    completed_at: iso(end),
    duration_ms: null,
    status,
    error_message: error,
    metadata,
  });
  for (let k = 0; k < 15; k++) {
    const failing = k >= 12;
    const at = NOW - 3_600_000 + k * 60_000;
    const t = `otel-${k}`;
    const meta = { job_id: `job-${k}`, region: failing ? "US" : k % 2 ? "US" : "EU" };
    const ok = k % 3 ? "OK" : "UNSET";
    if (failing) {
      out.push(row(t, `${t}-r`, "", "runner", "execute_question", at, at + 13, "ERROR", "execution failed", meta));
      out.push(row(t, `${t}-c`, `${t}-r`, "runner", "call_router", at + 1, at + 12, "ERROR", "connection refused"));
    } else {
      out.push(row(t, `${t}-r`, "", "runner", "execute_question", at, at + 2400, ok, null, meta));
      out.push(row(t, `${t}-c`, `${t}-r`, "runner", "call_router", at + 1, at + 2380, ok, null));
      out.push(row(t, `${t}-i`, `${t}-c`, "router", "inference_request", at + 25, at + 2360, ok, null));
      out.push(row(t, `${t}-m`, `${t}-i`, "modal", "run_inference", at + 40, at + 2350, ok, null));
    }
  }
  return out;
}

describe.each(await backends())("an OpenTelemetry-style table through TRACE_DOCTOR_COLUMNS on $name", ({ open }) => {
  let db: TestDatabase;
  let tools: ToolClient;

  beforeAll(async () => {
    db = await open();
    const table = db.table("otel_spans");
    await db.writer.query(
      `CREATE TABLE ${table} (trace text NOT NULL, span text NOT NULL, parent text NOT NULL DEFAULT '', service_name text NOT NULL,
        name text NOT NULL, start_time timestamptz NOT NULL, end_time timestamptz, status_code text NOT NULL, status_message text,
        attributes jsonb NOT NULL DEFAULT '{}', kind text DEFAULT 'SPAN_KIND_INTERNAL')`,
    );
    await insertSpans(db.writer, rows(), table, { columns: COLUMNS, omit: ["duration_ms"] });
    // The contract's indexes, created on the table's own columns.
    await applySchema(db.writer, db.table("otel_indexed"), ["job_id"], COLUMNS);
    tools = await connectTools({ spans: new SpanTable(db.reader, table, ["job_id"], COLUMNS), now: () => NOW });
  });
  afterAll(async () => {
    await tools?.close();
    await db?.close();
  });

  it("list_failed_spans: ERROR is a failure, OK and UNSET are successes, durations derived from end_time", async () => {
    const { out } = await tools.structured(listFailedSpans);
    const root = out.clusters.find((c) => c.operation === "execute_question")!;
    expect(root).toMatchObject({ count: 3, status: "error", shape: "immediate", operation_total: 15, operation_failed: 3, duration_ms: { p50: 13 } });
    expect(root.distinguishing?.map((d) => `${d.key}=${d.value}`)).toContain("region=US");
    expect(out.total_failures).toBe(6);
  });

  it("get_trace by job_id and by trace_id: the tree from parent '' roots", async () => {
    const { out } = await tools.structured(getTrace, { job_id: "job-13" });
    expect(out.trace_ids).toEqual(["otel-13"]);
    expect(out.spans.map((s) => `${s.service}.${s.operation} ${s.status}`)).toEqual(["runner.execute_question error", "runner.call_router error"]);
    expect(out.duration_ms).toBe(13);
    const ok = await tools.structured(getTrace, { trace_id: "otel-1" });
    expect(ok.out.span_count).toBe(4);
    expect(ok.out.roots).toHaveLength(1);
    expect(ok.text).toMatch(/modal\.run_inference ok/);
  });

  it("find_gaps learns the expected router hop from the successful executions and finds it missing", async () => {
    const { out } = await tools.structured(findGaps, { job_id: "job-13" });
    expect(out.baseline).toMatchObject({ root_operation: "runner.execute_question", successful_executions: 12 });
    expect(out.findings[0]).toMatchObject({ kind: "missing_hop", severity: "high" });
  });

  it("diagnose ranks immediate_caller_failure first", async () => {
    const { out } = await tools.structured(diagnose, { job_id: "job-14" });
    expect(out.hypotheses[0]!.kind).toBe("immediate_caller_failure");
    expect(out.baseline_executions).toBe(12);
  });

  it("prompt arguments complete from the mapped columns", async () => {
    const complete = async (prompt: string, argument: string, value: string) =>
      (await tools.client.complete({ ref: { type: "ref/prompt", name: prompt }, argument: { name: argument, value } })).completion.values;
    expect((await complete("diagnose_failure", "job_id", "job-1")).sort()).toEqual(["job-12", "job-13", "job-14"]);
    expect(await complete("diagnose_failure", "trace_id", "otel-14")).toEqual(["otel-14"]);
    expect((await complete("investigate_immediate_failures", "service", "r")).sort()).toEqual(["router", "runner"]);
    expect(await complete("investigate_latency", "edge", "")).toEqual(expect.arrayContaining(["runner → router", "router → modal"]));
  });

  it("resources: trace:// reads the mapped rows, and the table contract names the table", async () => {
    const read = await tools.client.readResource({ uri: "trace://otel-13" });
    const body = JSON.parse((read.contents[0] as { text: string }).text);
    expect(body.spans.map((s: { span_id: string; status: string; duration_ms: number }) => [s.span_id, s.status, s.duration_ms])).toEqual([
      ["otel-13-r", "error", 13],
      ["otel-13-c", "error", 11],
    ]);
    expect(body.spans[0].metadata).toMatchObject({ job_id: "job-13" });
    const contract = await tools.client.readResource({ uri: "trace-doctor://table-contract" });
    expect((contract.contents[0] as { text: string }).text).toMatch(/otel_spans/);
  });

  it("init-db creates the contract's table and indexes under the mapped names", async () => {
    const cols = await db.writer.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = '${db.schema}' AND table_name = 'otel_indexed' ORDER BY ordinal_position`,
    );
    const names = ((cols as { rows: Array<{ column_name: string }> }).rows ?? []).map((r) => r.column_name);
    expect(names).toEqual(expect.arrayContaining(["trace", "span", "parent", "service_name", "name", "start_time", "end_time", "duration_ms", "status_code", "status_message", "attributes"]));
    const idx = await db.writer.query(`SELECT indexdef FROM pg_indexes WHERE schemaname = '${db.schema}' AND tablename = 'otel_indexed'`);
    const defs = ((idx as { rows: Array<{ indexdef: string }> }).rows ?? []).map((r) => r.indexdef).join("\n");
    expect(defs).toMatch(/\(attributes ->> 'job_id'::text\)/);
    expect(defs).toMatch(/lower\(status_code\)/);
  });

  it("a mapped column the table lacks is named in the error", async () => {
    const table = db.table("plain");
    await applySchema(db.writer, table);
    const plain = await connectTools({ spans: new SpanTable(db.reader, table, ["job_id"], { started_at: "start_time" }) });
    const error = await plain.error("get_trace", { trace_id: "x" });
    expect(error.code).toBe("database");
    expect(error.text).toMatch(/TRACE_DOCTOR_COLUMNS maps started_at to start_time, but table .*plain has no column start_time/);
    await plain.close();
  });

});

describe("TRACE_DOCTOR_COLUMNS is validated", () => {
  it.each([
    ["operation", /not contract_column=actual_column/],
    ["op=name", /"op" is not a column of the contract/],
    ["operation=na me", /not contract_column=actual_column/],
    ["operation=name;drop", /is not a column name/],
    ["operation=name,operation=op", /operation is mapped twice/],
    ["operation=name,service=name", /column name is given for both operation and service/],
  ])("%s is refused", (text, message) => {
    expect(() => parseColumnMapping(text)).toThrow(message);
  });

});
