// One execution said the same way in every answer that judges it (diagnose, compare_executions): its
// traces, its root hop, status, start and duration.

import { z } from "zod";
import { isoTime, round } from "./format.js";
import { hopName, knownEndMs } from "./span.js";
import type { SpanTree } from "./span-tree.js";

export const executionSummarySchema = z.object({
  trace_ids: z.array(z.string()),
  root_span_id: z.string(),
  root: z.string(),
  status: z.string(),
  started_at: z.string(),
  duration_ms: z.number().optional(),
});
export type ExecutionSummary = z.infer<typeof executionSummarySchema>;

/** The tree's first root stands for the execution; an unfinished root says so. */
export function executionSummary(tree: SpanTree): ExecutionSummary {
  const root = tree.roots[0]!;
  const end = knownEndMs(root.span);
  return {
    trace_ids: tree.traceIds,
    root_span_id: root.span.spanId,
    root: hopName(root.span.service, root.span.operation),
    status: root.flags.includes("unfinished") ? "unfinished" : root.span.status,
    started_at: isoTime(root.span.startMs),
    ...(end !== null && { duration_ms: round(end - root.span.startMs) }),
  };
}
