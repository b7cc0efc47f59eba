// get_trace: one trace (or one job's traces) as a tree — timings, offsets, self time, critical path,
// errors — as a compact text waterfall and as structured content, pruned to a span budget by priority.

import { z } from "zod";
import { buildSpanTree, SPAN_FLAGS } from "../analysis/span-tree.js";
import { pruneTrace } from "../analysis/prune.js";
import { buildTraceReport, type MetadataMode, type TraceReport } from "../analysis/trace-report.js";
import { renderWaterfall } from "../analysis/waterfall.js";
import { InputError } from "../errors.js";
import { findExecution, requireOneId } from "../investigation/execution-lookup.js";
import { WATERFALL_TOOL_META } from "../ui/waterfall-meta.js";
import { defineTool, READ_ONLY } from "./tool-definition.js";

export const MAX_SPANS_LIMIT = 500;

export const getTraceInput = z.object({
  trace_id: z.string().trim().min(1).max(200).optional().describe("The trace id (trace_spans.trace_id). Give this or job_id."),
  job_id: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe("A job id (or other correlation value) found in span metadata, e.g. bias-detection-1761135900618. Returns every trace of that job, joined."),
  max_spans: z
    .number()
    .int()
    .min(1)
    .max(MAX_SPANS_LIMIT)
    .default(200)
    .describe(`Span budget for the answer (1-${MAX_SPANS_LIMIT}). Larger traces are pruned by priority and the cut is reported.`),
  focus_span_id: z.string().trim().min(1).max(200).optional().describe("Show only the subtree under this span (from an earlier answer)."),
  include_metadata: z
    .enum(["changed", "all", "none"])
    .default("changed")
    .describe("Span metadata to include: 'changed' (keys whose value differs from the parent's; default), 'all', or 'none'."),
  include_linked: z
    .boolean()
    .default(true)
    .describe("Also pull in hops from other trace ids that share a correlation key (job_id) and overlap in time, marked as joined."),
});

const spanFlag = z.enum(SPAN_FLAGS);

export const getTraceOutput = z.object({
  resolved: z.object({
    by: z.enum(["trace_id", "job_id"]),
    value: z.string(),
    key: z.string().optional(),
    note: z.string().optional(),
  }),
  trace_ids: z.array(z.string()),
  services: z.array(z.string()),
  roots: z.array(z.object({ span_id: z.string(), trace_id: z.string(), service: z.string(), operation: z.string() })),
  start_time: z.string(),
  duration_ms: z.number(),
  span_count: z.number(),
  status_counts: z.record(z.string(), z.number()),
  failed_span_ids: z
    .array(z.string())
    .describe("Every failing span of the trace (shown in spans or folded into collapsed rows), up to 5,000; failed_span_ids_truncated says when there were more."),
  failed_span_ids_truncated: z.boolean(),
  critical_path: z.array(
    z.object({ span_id: z.string(), service: z.string(), operation: z.string(), duration_ms: z.number(), self_ms: z.number().optional(), critical_ms: z.number() }),
  ),
  spans: z.array(
    z.object({
      span_id: z.string(),
      trace_id: z.string(),
      parent_span_id: z.string().optional(),
      service: z.string(),
      operation: z.string(),
      status: z.string(),
      depth: z.number(),
      offset_ms: z.number(),
      duration_ms: z.number().optional(),
      self_ms: z.number().optional(),
      critical: z.boolean(),
      error: z.string().optional(),
      flags: z.array(spanFlag).optional(),
      linked_by: z.string().optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
    }),
  ),
  collapsed: z.array(
    z.object({
      parent_span_id: z.string().optional(),
      kinds: z.number().optional(),
      service: z.string(),
      operation: z.string(),
      count: z.number(),
      hidden_descendants: z.number(),
      failed: z.number(),
      offset_ms: z.number(),
      p50_ms: z.number().optional(),
      total_ms: z.number(),
      sample_span_ids: z.array(z.string()),
    }),
  ),
  shown_spans: z.number(),
  hidden_spans: z.number(),
  truncated: z.boolean(),
  read_truncated: z.boolean().describe("True when the trace had more spans than the server reads for one request (TRACE_DOCTOR_MAX_TRACE_SPANS)."),
  findings: z.array(z.string()),
  focus_span_id: z.string().optional(),
  focus_span_count: z.number().optional(),
});

export type GetTraceInput = z.infer<typeof getTraceInput>;
export type GetTraceOutput = z.infer<typeof getTraceOutput>;

const description = `Show one trace as a tree: every hop (service.operation) with its offset from the trace start, duration, self time (time not covered by children), status and error, the critical path, and what is odd (orphans, spans that never finished, clock skew, hops joined across trace ids by job_id).
Use it when you have a trace_id or a job_id and need to see what happened inside one execution — e.g. "why did job bias-detection-1761135900618 fail?". Give trace_id or job_id (a job id is looked up in span metadata and all its traces are joined, since some services do not propagate trace_id).
Returns a compact text waterfall (one line per span) plus the same data as structured content. Large traces are pruned to max_spans by priority (failures and their ancestors, then the critical path); hidden siblings are collapsed into "×N" lines with p50/total, and the cut is always stated — use focus_span_id to expand a subtree.
Pair with list_failed_spans (to find failing traces first) and find_gaps (to see missing hops and slow hand-offs in the same trace).`;

export default defineTool({
  name: "get_trace",
  title: "Get trace",
  description,
  annotations: READ_ONLY,
  inputSchema: getTraceInput,
  outputSchema: getTraceOutput,
  // MCP Apps hosts draw the answer as an interactive waterfall; other clients ignore this.
  meta: WATERFALL_TOOL_META,
  async handler(ctx, input) {
    requireOneId(input);
    const { maxTraceSpans } = ctx.settings;
    const { loaded, resolved } = await findExecution(ctx.spans, input, maxTraceSpans, ctx.now());
    const tree = buildSpanTree(loaded.spans, { correlationKeys: [...ctx.spans.correlationKeys] });
    let focus = null;
    if (input.focus_span_id) {
      focus = tree.nodes.find((n) => n.span.spanId === input.focus_span_id) ?? null;
      if (!focus) {
        throw new InputError(
          `Span ${input.focus_span_id} is not in ${tree.traceIds.join(", ")}. Call get_trace without focus_span_id to see the span ids, then pass one of them.`,
        );
      }
    }
    // Within the answer budget, metadata goes first and then spans, re-pruned by priority, so failures,
    // their ancestors and the critical path are the last to go.
    let metadata: MetadataMode = input.include_metadata;
    let maxSpans = input.max_spans;
    for (;;) {
      const report: TraceReport = buildTraceReport(tree, pruneTrace(tree, maxSpans, focus), { metadata, focus });
      if (loaded.truncated) {
        report.findings.unshift(`This trace has more than ${maxTraceSpans} spans; only the first ${maxTraceSpans} by start time were read (TRACE_DOCTOR_MAX_TRACE_SPANS).`);
      }
      if (metadata !== input.include_metadata) {
        report.findings.push(`Span metadata shown as '${metadata}' instead of '${input.include_metadata}' to fit the answer budget (TRACE_DOCTOR_MAX_ANSWER_BYTES).`);
      }
      if (maxSpans < input.max_spans) {
        report.findings.push(`Pruned to ${maxSpans} rows instead of ${input.max_spans} to fit the answer budget (TRACE_DOCTOR_MAX_ANSWER_BYTES); failures, their ancestors and the critical path are kept first.`);
      }
      const output: GetTraceOutput = { resolved, ...report, read_truncated: loaded.truncated };
      if (ctx.fits(output)) return output;
      if (metadata !== "none") {
        metadata = metadata === "all" ? "changed" : "none";
      } else if (maxSpans > 5 && report.shown_spans > 5) {
        maxSpans = Math.max(5, Math.floor(Math.min(maxSpans, report.shown_spans) * 0.6));
      } else {
        return output; // the generic cut shortens what is left
      }
    }
  },
  render: (output) => (output.resolved.note ? `${output.resolved.note}\n` : "") + renderWaterfall(output, { maxSpansHint: MAX_SPANS_LIMIT }),
});
