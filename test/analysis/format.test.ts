// Tests for the shared number and untrusted-text formats the waterfall is written in.
import { describe, it, expect } from "vitest";
import { formatDataValue, formatMs, formatOffset, quoteData } from "../../src/analysis/format.js";

describe("formatMs", () => {
  const cases: Array<[number | null, string]> = [
    [null, "?"],
    [Number.NaN, "?"],
    [Number.POSITIVE_INFINITY, "?"],
    [0, "0ms"],
    [0.25, "0.3ms"],
    [13, "13ms"],
    [13.4, "13ms"],
    [-13, "-13ms"],
    [999, "999ms"],
    [1000, "1.00s"],
    [2410, "2.41s"],
    [12_345, "12.3s"],
    [59_000, "59.0s"],
    [60_000, "1m00s"],
    [65_000, "1m05s"],
    // Rounding the seconds must carry into the minutes, not print 60s.
    [119_700, "2m00s"],
    [3_599_600, "1h00m"],
    [3_600_000, "1h00m"],
    [7_380_000, "2h03m"],
    [7_199_000, "2h00m"],
    [-65_000, "-1m05s"],
  ];
  it.each(cases)("formatMs(%s) is %s", (ms, expected) => {
    expect(formatMs(ms)).toBe(expected);
  });
});

describe("formatOffset", () => {
  it.each([
    [0, "+0ms"],
    [15, "+15ms"],
    [-5, "-5ms"],
  ] as const)("formatOffset(%s) is %s", (ms, expected) => {
    expect(formatOffset(ms)).toBe(expected);
  });
});

describe("quoteData and formatDataValue", () => {
  const quoted: Array<[unknown, string]> = [
    ["plain", '"plain"'],
    ['say "hi"', '"say \\"hi\\""'],
    ["line\nbreak", '"line\\nbreak"'],
    [{ a: 1 }, '"{\\"a\\":1}"'],
    [undefined, '"undefined"'],
  ];
  it.each(quoted)("quoteData(%j) is %s", (value, expected) => {
    expect(quoteData(value)).toBe(expected);
  });

  it("cuts long text inside the quotes and says how much was cut", () => {
    expect(quoteData("abcdef", 4)).toBe('"abcd…(+2 chars)"');
    expect(JSON.parse(quoteData("a\n".repeat(300)))).toMatch(/…\(\+400 chars\)$/);
  });

  const values: Array<[unknown, string]> = [
    ["modal-us-east", "modal-us-east"],
    ["bias-detection-1761135900618", "bias-detection-1761135900618"],
    ["llama3.2-1b", "llama3.2-1b"],
    [13, "13"],
    [false, "false"],
    ["two words", '"two words"'],
    ["", '""'],
    ["x}", '"x}"'],
    ["a=b", '"a=b"'],
    [["US", "EU"], '"[\\"US\\",\\"EU\\"]"'],
  ];
  it.each(values)("formatDataValue(%j) is %s", (value, expected) => {
    expect(formatDataValue(value)).toBe(expected);
  });
});
