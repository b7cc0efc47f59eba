// What a tool is: one definition per file (name, title, annotations, input and output schema, the
// model-facing description, a handler and a renderer) that server.ts registers in a loop. Handlers get
// a typed context — the span reader, Sentry, the settings, the clock, this call's signal and the answer
// budget — and return the structured answer; `render` writes it for a model (again, from a cut copy,
// when the answer must shrink to fit). Failures are thrown as typed errors (errors.ts).

import { z } from "zod";
import { BASELINE_SAMPLE, MAX_SAMPLE, MIN_SAMPLE } from "../analysis/defaults.js";
import type { ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import type { SentryIssues } from "../sentry/sentry-client.js";
import type { SpanTable } from "../store/span-table.js";

export interface ToolSettings {
  /** Most spans read for one execution (TRACE_DOCTOR_MAX_TRACE_SPANS). */
  maxTraceSpans: number;
  immediateMs: number;
  unfinishedAfterMs: number;
  /** Sentry tag keys a job_id is searched under. */
  jobTagKeys: readonly string[];
}

export interface SentryAccess {
  /** Null when Sentry is not configured; then `missing` names the settings to set. */
  client: SentryIssues | null;
  missing: readonly string[];
}

export interface ToolContext {
  spans: SpanTable;
  sentry: SentryAccess;
  settings: ToolSettings;
  /** Epoch ms; fixed in tests so answers are reproducible. */
  now(): number;
  /** Aborted when the client cancels the call, goes away, or the call's deadline passes. */
  signal: AbortSignal;
  /**
   * Whether a structured answer and its rendering fit the answer budget (long data values counted as the
   * generic cut would shorten them). An answer found to fit as it is and then returned unchanged, the
   * same object, is sent with the text drawn and the JSON measured here.
   */
  fits(structured: object): boolean;
}

type ObjectSchema = z.ZodObject<z.ZodRawShape>;

export interface ToolDefinition<I extends ObjectSchema = ObjectSchema, O extends ObjectSchema = ObjectSchema> {
  name: string;
  title: string;
  /** For the model: what it does, when to use it, where its neighbour's job begins, what comes back. */
  description: string;
  annotations: ToolAnnotations;
  inputSchema: I;
  outputSchema: O;
  handler(ctx: ToolContext, input: z.output<I>): Promise<z.output<O>>;
  /** The answer as text for a model: dense, data quoted, nothing the structured form lacks. */
  render(output: z.output<O>, input: z.output<I>, ctx: ToolContext): string;
  /** Lists whose end matters most, so a budget cut drops their head (e.g. newest breadcrumbs last). */
  keepTail?: readonly string[];
  /** The tool's `_meta` in tools/list, e.g. the MCP Apps view that draws its answer (ui/waterfall-resource.ts). */
  meta?: Record<string, unknown>;
}

export function defineTool<I extends ObjectSchema, O extends ObjectSchema>(definition: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return definition;
}

/** Every tool here reads and never writes. */
export const READ_ONLY: ToolAnnotations = { readOnlyHint: true, idempotentHint: true, destructiveHint: false, openWorldHint: false };
/** Reads Sentry as well, which is outside this server. */
export const READ_ONLY_OPEN_WORLD: ToolAnnotations = { ...READ_ONLY, openWorldHint: true };

/** The `sample` input of the tools that learn from recent executions, with what it means for that tool. */
export const sampleInput = (meaning: string) =>
  z.number().int().min(MIN_SAMPLE).max(MAX_SAMPLE).default(BASELINE_SAMPLE).describe(`${meaning} (${MIN_SAMPLE}-${MAX_SAMPLE}).`);
