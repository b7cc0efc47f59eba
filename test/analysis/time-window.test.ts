// Tests for time windows as the tools accept them: ISO 8601 or a duration back from now, and the
// messages that reject anything else.
import { describe, it, expect } from "vitest";
import { describeWindow, parseTimePoint, parseWindow, TimeWindowError } from "../../src/analysis/time-window.js";

const NOW = Date.UTC(2025, 9, 22, 18, 30, 0);

describe("parseTimePoint", () => {
  it.each([
    ["500ms", 500],
    ["90s", 90_000],
    ["15m", 15 * 60_000],
    ["2h", 2 * 3_600_000],
    ["1.5h", 1.5 * 3_600_000],
    ["7d", 7 * 86_400_000],
    ["1w", 7 * 86_400_000],
    ["2H", 2 * 3_600_000],
    [" 30 m ", 30 * 60_000],
    ["0s", 0],
    ["now", 0],
    ["NOW", 0],
  ])("%j is that long before now", (value, back) => {
    expect(parseTimePoint(value, NOW, "since")).toBe(NOW - back);
  });

  it.each([
    ["2025-10-22T12:00:00Z", Date.UTC(2025, 9, 22, 12)],
    ["2025-10-22T12:00:00.250Z", Date.UTC(2025, 9, 22, 12, 0, 0, 250)],
    ["2025-10-22T14:00:00+02:00", Date.UTC(2025, 9, 22, 12)],
    ["2025-10-22", Date.UTC(2025, 9, 22)],
  ])("reads ISO 8601 %j", (value, ms) => {
    expect(parseTimePoint(value, NOW, "since")).toBe(ms);
  });

  it.each(["yesterday", "", "15", "-5m", "5 minutes", "2025-13-45T00:00:00Z", "22/10/2025", "1y"])("rejects %j with an example", (value) => {
    expect(() => parseTimePoint(value, NOW, "until")).toThrow(TimeWindowError);
    expect(() => parseTimePoint(value, NOW, "until")).toThrow(
      `until ${JSON.stringify(value)} is not a time: use ISO 8601 (2025-10-22T12:00:00Z) or a duration back from now (30m, 2h, 7d).`,
    );
  });
});

describe("parseWindow", () => {
  it.each([
    ["defaults to the last 24 h", undefined, undefined, { fromMs: NOW - 86_400_000, toMs: NOW }],
    ["relative since, until now", "2h", undefined, { fromMs: NOW - 7_200_000, toMs: NOW }],
    ["relative both", "3h", "1h", { fromMs: NOW - 10_800_000, toMs: NOW - 3_600_000 }],
    ["absolute both", "2025-10-22T12:00:00Z", "2025-10-22T13:00:00Z", { fromMs: Date.UTC(2025, 9, 22, 12), toMs: Date.UTC(2025, 9, 22, 13) }],
    ["absolute since, relative until", "2025-10-22T12:00:00Z", "now", { fromMs: Date.UTC(2025, 9, 22, 12), toMs: NOW }],
  ])("%s", (_, since, until, expected) => {
    expect(parseWindow(since, until, NOW)).toEqual(expected);
  });

  it("uses the default since it is given", () => {
    expect(parseWindow(undefined, undefined, NOW, "7d")).toEqual({ fromMs: NOW - 7 * 86_400_000, toMs: NOW });
  });

  it.each([
    ["since after until", "1h", "2h"],
    ["since equal to until", "2025-10-22T12:00:00Z", "2025-10-22T12:00:00Z"],
    ["since in the future", "2025-10-23T00:00:00Z", undefined],
  ])("rejects an empty window: %s", (_, since, until) => {
    expect(() => parseWindow(since, until, NOW)).toThrow(/^The window is empty: since \(.+\) is not before until \(.+\)\.$/);
  });

  it("names the field that is wrong", () => {
    expect(() => parseWindow("last week", undefined, NOW)).toThrow(/^since "last week" is not a time/);
    expect(() => parseWindow("2h", "soon", NOW)).toThrow(/^until "soon" is not a time/);
  });

  it("describes a window as two ISO times", () => {
    expect(describeWindow({ fromMs: Date.UTC(2025, 9, 22, 12), toMs: NOW })).toBe("2025-10-22T12:00:00.000Z → 2025-10-22T18:30:00.000Z");
  });
});

describe("parseTimePoint: zone-less times", () => {
  it("reads a time without a zone as UTC", () => {
    expect(parseTimePoint("2025-10-22T12:00:00", Date.now(), "since")).toBe(Date.UTC(2025, 9, 22, 12));
    expect(parseTimePoint("2025-10-22T12:00", Date.now(), "since")).toBe(Date.UTC(2025, 9, 22, 12));
    expect(parseTimePoint("2025-10-22T12:00:00+02:00", Date.now(), "since")).toBe(Date.UTC(2025, 9, 22, 10));
  });
});
