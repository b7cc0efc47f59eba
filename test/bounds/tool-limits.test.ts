// Answers and inputs that do not fit, through the real server on PGlite and Postgres: huge error text,
// wide traces with all metadata, big trace:// reads, NUL bytes, metadata that is not an object,
// negative durations, and columns of the wrong type. Every whole result stays within the budget.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans, type SpanRowInput } from "../../src/store/span-writer.js";
import getTrace from "../../src/tools/get-trace.js";
import diagnose from "../../src/tools/diagnose.js";
import listFailedSpans from "../../src/tools/list-failed-spans.js";
import { backends, type TestDatabase } from "../support/test-databases.js";
import { connectTools, textOf, type ToolClient } from "../support/tool-client.js";

const NOW = Date.parse("2025-10-22T18:00:00.000Z");
const BUDGET = 100_000;
const iso = (ms: number) => new Date(ms).toISOString();
const resultBytes = (r: unknown) => Buffer.byteLength(JSON.stringify(r));

function row(trace: string, span: string, parent: string | null, start: number, end: number | null, over: Partial<SpanRowInput> = {}): SpanRowInput {
  return {
    trace_id: trace,
    span_id: span,
    parent_span_id: parent,
    service: "svc",
    operation: span.replace(/-\d+$/, ""),
    started_at: iso(NOW - 3_600_000 + start),
    completed_at: end === null ? null : iso(NOW - 3_600_000 + end),
    duration_ms: end === null ? null : end - start,
    status: "completed",
    error_message: null,
    metadata: {},
    ...over,
  };
}

function rows(): SpanRowInput[] {
  const out: SpanRowInput[] = [
    // A 2-span trace whose error is 200,000 characters.
    row("huge-error", "root", null, 0, 50, { status: "failed", error_message: `boom ${"e".repeat(200_000)}`, metadata: { job_id: "job-huge" } }),
    row("huge-error", "child", "root", 5, 40, { status: "failed", error_message: "x".repeat(50_000) }),
    // A wide trace: 600 children with large metadata, 3 of them failing.
    row("wide", "root", null, 0, 10_000, { metadata: { job_id: "job-wide" } }),
    // Metadata that is not an object.
    row("odd-meta", "root", null, 0, 30, { status: "failed", error_message: "odd", metadata: ["not", "an", "object"] as unknown as Record<string, unknown> }),
    row("odd-meta", "c1", "root", 1, 10, { metadata: "a string" as unknown as Record<string, unknown> }),
    row("odd-meta", "c2", "root", 11, 20, { metadata: 5 as unknown as Record<string, unknown> }),
    // A span that ends before it starts.
    row("negative", "root", null, 0, 100, { metadata: { job_id: "job-negative" } }),
    row("negative", "late", "root", 60_000, 0, { status: "failed", duration_ms: null }),
  ];
  for (let i = 0; i < 600; i++) {
    out.push(
      row("wide", `call-${i}`, "root", 10 + i * 10, 15 + i * 10, {
        ...(i % 200 === 7 ? { status: "failed", error_message: `call ${i} failed` } : {}),
        metadata: { region: `r${i % 7}`, payload: "p".repeat(400), note: `n${i}` },
      }),
    );
  }
  return out;
}

describe.each(await backends())("answers and inputs that do not fit, on $name", ({ open }) => {
  let db: TestDatabase;
  let tools: ToolClient;

  beforeAll(async () => {
    db = await open();
    await applySchema(db.writer, db.table());
    await insertSpans(db.writer, rows(), db.table());
    tools = await connectTools({ spans: new SpanTable(db.reader, db.table(), ["job_id"]), now: () => NOW });
  });
  afterAll(async () => {
    await tools?.close();
    await db?.close();
  });

  it("a 200k-character error: every tool's whole result fits the budget, cut the same way in both forms", async () => {
    for (const [name, args] of [
      ["get_trace", { trace_id: "huge-error" }],
      ["list_failed_spans", { limit: 100 }],
      ["find_gaps", { trace_id: "huge-error" }],
      ["diagnose", { trace_id: "huge-error" }],
    ] as const) {
      const result = await tools.call(name, args);
      expect(result.isError, `${name}: ${textOf(result).slice(0, 300)}`).toBeFalsy();
      expect(resultBytes(result), name).toBeLessThanOrEqual(BUDGET);
    }
    const { out, text } = await tools.structured(getTrace, { trace_id: "huge-error" });
    const error = out.spans.find((s) => s.span_id === "root")!.error!;
    expect(error.length).toBeLessThan(5000);
    expect(error).toMatch(/chars cut\]$/);
    expect(text).toMatch(/chars cut\]/);
  });

  it("get_trace with max_spans 500 and all metadata stays within the budget, failures kept", async () => {
    const result = (await tools.call("get_trace", { trace_id: "wide", max_spans: 500, include_metadata: "all" })) as CallToolResult;
    expect(resultBytes(result)).toBeLessThanOrEqual(BUDGET);
    const out = getTrace.outputSchema.parse(result.structuredContent);
    expect(out.span_count).toBe(601);
    for (const id of ["call-7", "call-207", "call-407"]) expect(out.spans.map((s) => s.span_id)).toContain(id);
    expect(out.findings.join(" ")).toMatch(/to fit the answer budget/);
  });

  it("trace:// of a big trace stays within the budget and says it was cut", async () => {
    const read = await tools.client.readResource({ uri: "trace://wide" });
    const text = (read.contents[0] as { text: string }).text;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(BUDGET);
    const body = JSON.parse(text);
    expect(body.truncated).toBe(true);
    expect(body.note).toMatch(/Answer cut to fit/);
    expect(body.answer_cut.lists_cut[0]).toMatchObject({ path: "spans", total: 601 });
  });

  it("a NUL byte in any argument is refused before SQL, naming the argument", async () => {
    const a = await tools.error("get_trace", { trace_id: "abc\u0000def" });
    expect(a).toMatchObject({ code: "bad_input", text: expect.stringMatching(/^trace_id contains a NUL character/) });
    const b = await tools.error("list_failed_spans", { metadata: { region: "U\u0000S" } });
    expect(b.text).toMatch(/^metadata\.region contains a NUL character/);
    // and the server keeps answering
    expect((await tools.call("get_trace", { trace_id: "negative" })).isError).toBeFalsy();
  });

  it("arguments the input schema refuses, and an unknown tool, read like every other bad input", async () => {
    for (const [name, args] of [
      ["get_trace", { trace_id: 123 }],
      ["list_failed_spans", { limit: 5000 }],
      ["find_gaps", { job_id: "" }],
      ["diagnose", { job_id: ["a", "b"] }],
    ] as const) {
      const r = await tools.call(name, args as Record<string, unknown>);
      expect(r.isError, name).toBe(true);
      expect(r._meta?.["trace-doctor/error"], name).toEqual({ code: "bad_input", source: "schema" });
      expect(textOf(r), name).toMatch(/Input validation error[\s\S]*Fix these arguments and call again/);
    }
    const unknown = await tools.call("get_traces", { trace_id: "x" });
    expect(unknown._meta?.["trace-doctor/error"]).toEqual({ code: "bad_input", source: "schema" });
    expect(textOf(unknown)).toMatch(/The tools are diagnose, get_trace, list_failed_spans/);
    // A refusal the tool itself makes after the schema passed keeps no schema source.
    expect((await tools.call("list_failed_spans", { min_duration_ms: 10, max_duration_ms: 1 }))._meta?.["trace-doctor/error"]).toEqual({ code: "bad_input" });
  });

  it("metadata that is not a JSON object is read as empty, with a note, and diagnose still answers", async () => {
    const { out, text } = await tools.structured(getTrace, { trace_id: "odd-meta" });
    expect(out.spans.filter((s) => s.flags?.includes("metadata_not_object")).map((s) => s.span_id).sort()).toEqual(["c1", "c2", "root"]);
    expect(text).toMatch(/metadata that is not a JSON object/);
    const d = await tools.structured(diagnose, { trace_id: "odd-meta" });
    expect(d.out.hypotheses.length).toBeGreaterThan(0);
    const l = await tools.structured(listFailedSpans, {});
    expect(l.out.total_failures).toBeGreaterThan(0);
  });

  it("a span that ends before it starts is flagged, and no negative duration is printed", async () => {
    const { out, text } = await tools.structured(getTrace, { trace_id: "negative" });
    const late = out.spans.find((s) => s.span_id === "late")!;
    expect(late.flags).toContain("negative_duration");
    expect(late.duration_ms).toBeUndefined();
    expect(out.findings.join(" ")).toMatch(/end before they start/);
    expect(text).not.toMatch(/-\d+m\d\ds|-\d+ms/);
  });

  it("a column of the wrong type is named, with the type expected", async () => {
    const table = db.table("int_ids");
    await db.writer.query(`CREATE TABLE ${table} (trace_id integer, span_id integer, service text, operation text, started_at timestamptz, status text)`);
    const other = await connectTools({ spans: new SpanTable(db.reader, table, ["job_id"]) });
    const error = await other.error("get_trace", { trace_id: "1" });
    expect(error.code).toBe("database");
    expect(error.text).toMatch(/trace_id is integer, expected text, varchar or uuid; span_id is integer/);
    await other.close();
  });
});
