// Every span tool on the contract's variants, not just the canonical table: ids typed uuid,
// duration_ms float, extra columns; and duration_ms absent with json metadata. Same data, same answers.

import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SpanTable } from "../../src/store/span-table.js";
import diagnose from "../../src/tools/diagnose.js";
import findGaps from "../../src/tools/find-gaps.js";
import listFailedSpans from "../../src/tools/list-failed-spans.js";
import { backends, type TestDatabase } from "../support/test-databases.js";
import { connectTools, type ToolClient } from "../support/tool-client.js";

const NOW = Date.parse("2025-10-22T18:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

interface Row {
  trace: string;
  span: string;
  parent: string | null;
  service: string;
  operation: string;
  start: number;
  end: number;
  status: string;
  error: string | null;
  meta: Record<string, unknown>;
}

/** 12 successful executions and 3 failing in 13 ms with no router hop, ids as uuids. */
function rows(): Row[] {
  const out: Row[] = [];
  for (let k = 0; k < 15; k++) {
    const failing = k >= 12;
    const at = NOW - 3_600_000 + k * 60_000;
    const [t, r, c, i, m] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const meta = { job_id: `job-${k}`, region: failing ? "US" : k % 2 ? "US" : "EU" };
    if (failing) {
      out.push({ trace: t, span: r, parent: null, service: "runner", operation: "execute_question", start: at, end: at + 13, status: "failed", error: "execution failed", meta });
      out.push({ trace: t, span: c, parent: r, service: "runner", operation: "call_router", start: at + 1, end: at + 12, status: "failed", error: null, meta: {} });
    } else {
      out.push({ trace: t, span: r, parent: null, service: "runner", operation: "execute_question", start: at, end: at + 2400, status: "completed", error: null, meta });
      out.push({ trace: t, span: c, parent: r, service: "runner", operation: "call_router", start: at + 1, end: at + 2380, status: "completed", error: null, meta: {} });
      out.push({ trace: t, span: i, parent: c, service: "router", operation: "inference_request", start: at + 25, end: at + 2360, status: "completed", error: null, meta: {} });
      out.push({ trace: t, span: m, parent: i, service: "modal", operation: "run_inference", start: at + 40, end: at + 2350, status: "completed", error: null, meta: {} });
    }
  }
  return out;
}

const VARIANTS = [
  {
    name: "uuid ids, float duration_ms, extra columns",
    ddl: (t: string) => `CREATE TABLE ${t} (id bigserial primary key, trace_id uuid not null, span_id uuid not null, parent_span_id uuid,
      service text not null, operation text not null, started_at timestamptz not null, completed_at timestamptz,
      duration_ms double precision, status text not null, error_message text, metadata jsonb not null default '{}', tenant text default 'acme')`,
    insert: (t: string, r: Row) => ({
      sql: `INSERT INTO ${t} (trace_id, span_id, parent_span_id, service, operation, started_at, completed_at, duration_ms, status, error_message, metadata)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      params: [r.trace, r.span, r.parent, r.service, r.operation, iso(r.start), iso(r.end), r.end - r.start + 0.4, r.status, r.error, JSON.stringify(r.meta)],
    }),
  },
  {
    name: "no duration_ms, json metadata, varchar names",
    ddl: (t: string) => `CREATE TABLE ${t} (trace_id varchar(64) not null, span_id varchar(64) not null, parent_span_id varchar(64),
      service varchar(40) not null, operation varchar(80) not null, started_at timestamptz not null, completed_at timestamptz,
      status varchar(16) not null, error_message text, metadata json)`,
    insert: (t: string, r: Row) => ({
      sql: `INSERT INTO ${t} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      params: [r.trace, r.span, r.parent, r.service, r.operation, iso(r.start), iso(r.end), r.status.toUpperCase(), r.error, JSON.stringify(r.meta)],
    }),
  },
];

describe.each(await backends())("span tools on table variants, $name", ({ open }) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await open();
  });
  afterAll(() => db?.close());

  describe.each(VARIANTS.map((v, i) => ({ ...v, i })))("$name", (variant) => {
    let spans: SpanTable;
    let tools: ToolClient;
    beforeAll(async () => {
      const table = db.table(`all_tools_${variant.i}`);
      await db.writer.query(variant.ddl(table));
      for (const r of rows()) {
        const { sql, params } = variant.insert(table, r);
        await db.writer.query(sql, params);
      }
      spans = new SpanTable(db.reader, table, ["job_id"]);
      tools = await connectTools({ spans, settings: { maxTraceSpans: 1000 }, sentryMissing: ["SENTRY_ORG"], now: () => NOW });
    });

    it("list_failed_spans finds the immediate cluster and region=US", async () => {
      const { out } = await tools.structured(listFailedSpans);
      const root = out.clusters.find((c) => c.operation === "execute_question")!;
      expect(root).toMatchObject({ count: 3, shape: "immediate", status: "failed" });
      expect(root.distinguishing?.map((d) => `${d.key}=${d.value}`)).toContain("region=US");
    });

    it("find_gaps says the router hop is missing", async () => {
      const { out } = await tools.structured(findGaps, { job_id: "job-13" });
      expect(out.findings[0]).toMatchObject({ kind: "missing_hop", severity: "high" });
    });

    it("diagnose ranks immediate_caller_failure first", async () => {
      const { out } = await tools.structured(diagnose, { job_id: "job-14" });
      expect(out.hypotheses[0]!.kind).toBe("immediate_caller_failure");
    });
  });
});
