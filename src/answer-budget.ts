// The one answer budget (TRACE_DOCTOR_MAX_ANSWER_BYTES, 100 KB by default): a tool's structured content
// and its text, together, fit it. Data written by the monitored services or by Sentry is cut the same
// way in both forms — the structured value is shortened and the text is rendered again from it — then,
// if that is not enough, the largest lists lose their least important half, and the cut is reported in
// `answer_cut` and in the text.

import { z } from "zod";

/** The steps strings are shortened to, longest first. */
const STRING_STEPS = [4000, 1000, 300, 100] as const;
/** Room kept for the JSON-RPC envelope and the cut note. */
const ENVELOPE_BYTES = 600;

export const answerCutSchema = z
  .object({
    budget_bytes: z.number(),
    /** Size of text plus structured content before any cut. */
    original_bytes: z.number(),
    /** Strings (data values, keys) shortened, and the length they were cut to. */
    strings_cut: z.number(),
    string_max_chars: z.number().optional(),
    lists_cut: z.array(z.object({ path: z.string(), kept: z.number(), total: z.number() })),
  })
  .describe("Present when the answer was cut to fit the answer budget: what was shortened. Ask a narrower question to see the rest.");
export type AnswerCut = z.infer<typeof answerCutSchema>;

/** Marks where a string was cut, in both the structured and the text form. */
export function cutMarker(removed: number): string {
  return `…[+${removed} chars cut]`;
}

export function cutString(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}${cutMarker(text.length - max)}` : text;
}

export function answerBytes(structured: unknown, text: string): number {
  return answerBytesOfJson(JSON.stringify(structured) ?? "", text);
}

/** answerBytes() of structured content already serialized. */
export function answerBytesOfJson(structuredJson: string, text: string): number {
  return Buffer.byteLength(structuredJson) + Buffer.byteLength(text) + ENVELOPE_BYTES;
}

export interface BudgetOptions {
  /** Lists where the end matters most (newest breadcrumbs last): they lose their head instead of their tail. */
  keepTail?: readonly string[];
}

export interface FittedAnswer {
  structured: Record<string, unknown>;
  text: string;
  cut: AnswerCut | null;
}

/**
 * Fits an answer to `budget` bytes. `render` draws the text from (a possibly cut copy of) the
 * structured content, so both forms show the same cut values.
 */
export function fitAnswer(
  structured: Record<string, unknown>,
  render: (structured: Record<string, unknown>) => string,
  budget: number,
  options: BudgetOptions = {},
): FittedAnswer {
  let text = render(structured);
  const original = answerBytes(structured, text);
  if (original <= budget) return { structured, text, cut: null };

  let current = structured;
  let stringsCut = 0;
  let stringMax: number | undefined;
  const listsCut = new Map<string, { kept: number; total: number }>();
  for (const max of STRING_STEPS) {
    const counter = { cut: 0 };
    current = capStrings(structured, max, counter) as Record<string, unknown>;
    stringsCut = counter.cut;
    stringMax = max;
    text = render(current);
    if (answerBytes(current, text) <= budget) return finish();
  }

  // Still too big: halve the largest list until it fits (lists hold their most important items first).
  for (let guard = 0; guard < 200; guard++) {
    const largest = largestList(current);
    if (!largest || largest.list.length <= 1) break;
    const keep = Math.max(1, Math.floor(largest.list.length / 2));
    const before = listsCut.get(largest.path)?.total ?? largest.list.length;
    const tail = options.keepTail?.includes(largest.path.replace(/\[\d+\]/g, "[]"));
    largest.replace(tail ? largest.list.slice(largest.list.length - keep) : largest.list.slice(0, keep));
    listsCut.set(largest.path, { kept: keep, total: before });
    text = render(current);
    if (answerBytes(current, text) <= budget) return finish();
  }
  return finish();

  function finish(): FittedAnswer {
    const cut: AnswerCut = {
      budget_bytes: budget,
      original_bytes: original,
      strings_cut: stringsCut,
      ...(stringsCut && stringMax !== undefined ? { string_max_chars: stringMax } : {}),
      lists_cut: [...listsCut.entries()].map(([path, v]) => ({ path, ...v })),
    };
    const out = { ...current, answer_cut: cut };
    return { structured: out, text: `${text}\n\n${cutNote(cut)}`, cut };
  }
}

export function cutNote(cut: AnswerCut): string {
  const parts: string[] = [];
  if (cut.strings_cut) parts.push(`${cut.strings_cut} long value(s) shortened to ${cut.string_max_chars} chars (marked …[+N chars cut])`);
  for (const l of cut.lists_cut) parts.push(`${l.path} cut to ${l.kept} of ${l.total}`);
  return `[Answer cut to fit ${cut.budget_bytes} bytes (it was ${cut.original_bytes}): ${parts.join("; ") || "nothing could be cut"}. Ask a narrower question — one trace, focus_span_id, a smaller limit — to see the rest.]`;
}

/** A deep copy with every string value and object key longer than `max` cut. */
export function capStrings(value: unknown, max: number, counter: { cut: number }): unknown {
  if (typeof value === "string") {
    if (value.length <= max) return value;
    counter.cut++;
    return cutString(value, max);
  }
  if (Array.isArray(value)) return value.map((v) => capStrings(v, max, counter));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      let key = k;
      if (k.length > max) {
        counter.cut++;
        key = cutString(k, max);
      }
      out[key] = capStrings(v, max, counter);
    }
    return out;
  }
  return value;
}

interface FoundList {
  path: string;
  list: unknown[];
  replace(next: unknown[]): void;
}

/** The list whose JSON is largest, anywhere in the answer. */
function largestList(root: Record<string, unknown>): FoundList | null {
  let best: FoundList | null = null;
  let bestSize = 0;
  const visit = (value: unknown, path: string, replace: (next: unknown[]) => void) => {
    if (Array.isArray(value)) {
      const size = JSON.stringify(value).length;
      if (value.length > 1 && size > bestSize) {
        best = { path, list: value, replace };
        bestSize = size;
      }
      value.forEach((v, i) => visit(v, `${path}[${i}]`, (next) => (value[i] = next)));
      return;
    }
    if (value && typeof value === "object") {
      const record = value as Record<string, unknown>;
      for (const [k, v] of Object.entries(record)) visit(v, path ? `${path}.${k}` : k, (next) => (record[k] = next));
    }
  };
  visit(root, "", () => {});
  return best;
}
