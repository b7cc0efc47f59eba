// estimateFromSlices: an operation's counts from its newest spans per time slice, as list_failed_spans
// reports them once an operation has too many spans in scope to count.

import { describe, expect, it } from "vitest";
import { estimateFromSlices, type SliceCounts } from "../../src/store/failure-queries.js";

const HOUR = 3_600_000;
const slice = (i: number, read: number, failed: number, oldestOffsetMs: number | null): SliceCounts => ({
  fromMs: i * HOUR,
  toMs: (i + 1) * HOUR,
  read,
  failed,
  succeeded: read - failed,
  oldestMs: oldestOffsetMs === null ? null : (i + 1) * HOUR - oldestOffsetMs,
});

describe("estimateFromSlices", () => {
  it("counts slices read to their end exactly", () => {
    expect(estimateFromSlices([slice(0, 10, 2, HOUR), slice(1, 249, 0, HOUR / 2)], 250)).toEqual({ total: 259, failed: 2, succeeded: 257, read: 259 });
  });

  it("scales a full slice by the share of it its sample covered, keeping the slice's own mix", () => {
    // 250 spans in the last quarter hour of the slice: about 1,000 in the hour, a fifth of them failed.
    expect(estimateFromSlices([slice(0, 250, 50, HOUR / 4)], 250)).toEqual({ total: 1000, failed: 200, succeeded: 800, read: 250 });
  });

  it("weights each slice by its own volume, so a busy hour counts for more than a quiet one", () => {
    const e = estimateFromSlices([slice(0, 100, 50, HOUR), slice(1, 250, 25, HOUR / 8)], 250);
    expect(e).toEqual({ total: 2100, failed: 250, succeeded: 1850, read: 350 });
  });

  it("never scales below what was read, and ignores empty slices", () => {
    expect(estimateFromSlices([slice(0, 250, 0, HOUR * 2), slice(1, 0, 0, null)], 250)).toEqual({ total: 250, failed: 0, succeeded: 250, read: 250 });
  });
});
