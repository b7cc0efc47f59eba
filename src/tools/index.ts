// The tools this server offers, in the order clients list them. Adding a tool is a file plus a line here.

import compareExecutions from "./compare-executions.js";
import diagnose from "./diagnose.js";
import findGaps from "./find-gaps.js";
import getTrace from "./get-trace.js";
import listFailedSpans from "./list-failed-spans.js";
import sentryIssueContext from "./sentry-issue-context.js";
import type { ToolDefinition } from "./tool-definition.js";

export const TOOLS: readonly ToolDefinition[] = [diagnose, getTrace, listFailedSpans, findGaps, compareExecutions, sentryIssueContext];
