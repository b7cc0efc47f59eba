// The answer budget on hand-made answers: what fits is untouched; long data values are cut the same
// way in both forms, with a marker and a count; lists lose their least important half, the newest
// breadcrumbs kept last; the cut is reported; the result always fits.

import { describe, expect, it } from "vitest";
import { answerBytes, capStrings, cutString, fitAnswer } from "../../src/answer-budget.js";

const render = (s: Record<string, unknown>) => JSON.stringify(s).slice(0, 5000);

describe("fitAnswer", () => {
  it("leaves an answer that fits exactly as it is", () => {
    const out = { a: "short", list: [1, 2, 3] };
    const fitted = fitAnswer(out, render, 10_000);
    expect(fitted.cut).toBeNull();
    expect(fitted.structured).toBe(out);
  });

  it("cuts a 200k-char error in the structured form and in the text drawn from it", () => {
    const out = { spans: [{ span_id: "s1", error: "x".repeat(200_000) }, { span_id: "s2", error: "ok" }] };
    const fitted = fitAnswer(out, (s) => `error=${JSON.stringify((s.spans as Array<{ error: string }>)[0]!.error)}`, 100_000);
    expect(answerBytes(fitted.structured, fitted.text)).toBeLessThanOrEqual(100_000);
    const error = (fitted.structured.spans as Array<{ error: string }>)[0]!.error;
    expect(error).toMatch(/…\[\+\d+ chars cut\]$/);
    expect(fitted.text).toContain(error.slice(-30));
    expect(fitted.cut).toMatchObject({ strings_cut: 1, original_bytes: expect.any(Number) });
    expect(fitted.structured.answer_cut).toEqual(fitted.cut);
    expect(fitted.text).toMatch(/Answer cut to fit 100000 bytes/);
    // the original is not touched
    expect(out.spans[0]!.error).toHaveLength(200_000);
  });

  it("halves the largest list, keeping its head, until it fits", () => {
    const out = { rows: Array.from({ length: 5000 }, (_, i) => ({ i, v: "y".repeat(60) })), keep: "this" };
    const fitted = fitAnswer(out, () => "text", 50_000);
    const rows = fitted.structured.rows as Array<{ i: number }>;
    expect(rows[0]!.i).toBe(0);
    expect(answerBytes(fitted.structured, fitted.text)).toBeLessThanOrEqual(50_000);
    expect(fitted.cut!.lists_cut).toEqual([{ path: "rows", kept: rows.length, total: 5000 }]);
    expect(fitted.structured.keep).toBe("this");
  });

  it("keeps the tail of lists whose end matters (the newest breadcrumbs)", () => {
    const out = { event: { breadcrumbs: Array.from({ length: 4000 }, (_, i) => ({ i, message: "z".repeat(40) })) } };
    const fitted = fitAnswer(out, () => "", 30_000, { keepTail: ["event.breadcrumbs"] });
    const crumbs = (fitted.structured.event as { breadcrumbs: Array<{ i: number }> }).breadcrumbs;
    expect(crumbs[crumbs.length - 1]!.i).toBe(3999);
  });

  it("cuts long object keys too (metadata keys are written by the services)", () => {
    const counter = { cut: 0 };
    const out = capStrings({ ["k".repeat(500)]: 1 }, 100, counter) as Record<string, unknown>;
    expect(Object.keys(out)[0]).toMatch(/^k{100}…\[\+400 chars cut\]$/);
    expect(counter.cut).toBe(1);
  });

  it("marks a cut string with how much was removed", () => {
    expect(cutString("abcdef", 4)).toBe("abcd…[+2 chars cut]");
    expect(cutString("abc", 4)).toBe("abc");
  });
});
