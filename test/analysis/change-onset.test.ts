// Change onset on hand-built samples of one operation: a release that appears with the failures is a
// candidate cause with its previous value and the failure rate before and after; values healthy runs
// carried before, values that came after the failures began, ids and outcome keys are not.

import { describe, expect, it } from "vitest";
import { changeAtOnset, valuesToCheck, type SampledExecution } from "../../src/analysis/change-onset.js";

const MIN = 60_000;
const ONSET = 1_000 * MIN;

/** `n` executions every minute up to (not including) `untilMs`, or from `fromMs` on. */
function run(n: number, fromMs: number, make: (k: number) => Partial<SampledExecution> & { metadata: Record<string, unknown> }): SampledExecution[] {
  return Array.from({ length: n }, (_, k) => ({ startMs: fromMs + k * MIN, failed: false, ...make(k) }));
}

const before = run(60, ONSET - 60 * MIN, (k) => ({ failed: k === 30, metadata: { release: "v41", region: k % 2 ? "EU" : "US", request_id: `r-${k}` } }));
const after = run(30, ONSET, (k) => ({ failed: true, metadata: { release: "v42", region: k % 2 ? "EU" : "US", request_id: `r-${100 + k}`, "error.type": "TypeError", has_output: false } }));
const failures = after.filter((e) => e.failed);

describe("changeAtOnset", () => {
  it("release v41 → v42 at the onset: a candidate, first seen at the onset, with its previous value and the failure rates", () => {
    const got = changeAtOnset({ onsetMs: ONSET, failures, before, after });
    expect(got.candidates).toEqual([
      { key: "release", value: "v42", firstSeenMs: ONSET, previous: [{ value: "v41", share: 1 }], failureRateBefore: 0.017, failureRateAfter: 1, failureShare: 1, before: 60, after: 30, changeKey: true },
    ]);
  });

  it("keys that describe the outcome are kept apart, never candidates", () => {
    const got = changeAtOnset({ onsetMs: ONSET, failures, before, after });
    expect(got.outcomes.map((o) => `${o.key}=${o.value}`).sort()).toEqual(["error.type=TypeError", "has_output=false"]);
    expect(got.candidates.map((c) => c.key)).not.toContain("error.type");
  });

  it("near miss: a value healthy executions carried before the failures (a region) is no change", () => {
    const us = after.map((e) => ({ ...e, metadata: { ...e.metadata, region: "US" } }));
    const got = changeAtOnset({ onsetMs: ONSET, failures: us, before, after: us });
    expect(got.candidates.map((c) => c.key)).toEqual(["release"]);
  });

  it("near miss: a value that arrived after the failures were already happening is no cause of them", () => {
    const late = after.map((e, k) => ({ ...e, metadata: { ...e.metadata, release: k < 10 ? "v41" : "v42" } }));
    const got = changeAtOnset({ onsetMs: ONSET, failures: late, before, after: late });
    expect(got.candidates).toEqual([]);
  });

  it("a feature flag whose key is new is a candidate too, with no previous value", () => {
    const flagged = after.map((e) => ({ ...e, metadata: { ...e.metadata, release: "v41", "feature.new_checkout": true } }));
    const got = changeAtOnset({ onsetMs: ONSET, failures: flagged, before, after: flagged });
    expect(got.candidates).toMatchObject([{ key: "feature.new_checkout", value: "true", previous: [], changeKey: true }]);
  });

  it("a change only some of the failures carry is no candidate", () => {
    const half = after.map((e, k) => ({ ...e, metadata: { ...e.metadata, release: k % 2 ? "v42" : "v41" } }));
    expect(changeAtOnset({ onsetMs: ONSET, failures: half, before, after: half }).candidates).toEqual([]);
  });

  it("too little before the onset to tell: nothing judged, and said", () => {
    const got = changeAtOnset({ onsetMs: ONSET, failures, before: before.slice(-2), after });
    expect(got.candidates).toEqual([]);
    expect(got.note).toMatch(/already there at the start of the 32 spans read/);
  });

  it("with only the values' shares (list_failed_spans), the same answer", () => {
    const got = changeAtOnset({ onsetMs: ONSET, failures: [], before, after, values: [{ key: "release", value: "v42", share: 1 }] });
    expect(got.candidates.map((c) => [c.key, c.value, c.failureRateAfter])).toEqual([["release", "v42", 1]]);
  });
});

describe("valuesToCheck", () => {
  it("values most failures carry; ids (a new value on nearly every failure) are not among them", () => {
    expect(valuesToCheck(failures).map((v) => `${v.key}=${v.value}${v.outcome ? " (outcome)" : ""}`)).toEqual(["error.type=TypeError (outcome)", "has_output=false (outcome)", "release=v42"]);
  });
});
