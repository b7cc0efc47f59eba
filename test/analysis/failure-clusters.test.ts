// Tests for the failure-cluster arithmetic: the error signature that groups failures, the duration
// shape of a cluster, and the metadata values that set failures apart from successes.
import { describe, it, expect } from "vitest";
import {
  chanceOfAtLeast,
  contrastMetadata,
  durationShape,
  errorSignature,
  shapeSentence,
  type DurationStats,
  type ValueCounts,
} from "../../src/analysis/failure-clusters.js";

describe("errorSignature", () => {
  it.each([
    ["nothing", null, ""],
    ["empty", "", ""],
    ["plain words kept", "execution failed", "execution failed"],
    ["numbers masked, units kept", "timeout after 30012ms for job 17", "timeout after <n>ms for job <n>"],
    ["decimals are one number", "took 2.41s of 3.5s budget", "took <n>s of <n>s budget"],
    ["uuid masked whole", "span 8f14e45f-ceea-467f-a0e6-2b1c1a2b3c4d not found", "span <id> not found"],
    ["uppercase uuid", "trace 8F14E45F-CEEA-467F-A0E6-2B1C1A2B3C4D lost", "trace <id> lost"],
    ["double-quoted value", 'unknown model "llama3.2-1b"', "unknown model <str>"],
    ["single-quoted value", "provider 'modal-us-east' refused", "provider <str> refused"],
    ["long hex id", "trace 4bf92f3577b34da6a3ce929d0e0e4736 dropped", "trace <hex> dropped"],
    ["twelve hex digits is an id", "request deadbeefcafe failed", "request <hex> failed"],
    ["eleven hex-ish letters are a word", "deadbeefcaf failed", "deadbeefcaf failed"],
    ["hex glued to a word is not an id", "x_deadbeefcafe1234", "x_deadbeefcafe<n>"],
    ["whitespace collapsed and trimmed", "  connection\t\treset\n by   peer  ", "connection reset by peer"],
    ["digits inside words masked, letters kept", "HTTP/2 503 from router-v3", "HTTP/<n> <n> from router-v<n>"],
  ])("%s", (_, message, expected) => {
    expect(errorSignature(message)).toBe(expected);
  });

  it("groups occurrences of one error that differ only in ids and numbers", () => {
    const a = errorSignature('timeout after 30012ms for job 17 (trace 4bf92f3577b34da6a3ce929d0e0e4736, host "a")');
    const b = errorSignature('timeout after 29990ms for job 42 (trace 00f067aa0ba902b7aaaaaaaaaaaaaaaa, host "bb")');
    expect(a).toBe(b);
    expect(errorSignature("connection refused")).not.toBe(errorSignature("connection reset"));
  });

  it("caps the signature at 200 characters", () => {
    const sig = errorSignature("word ".repeat(100));
    expect(sig).toHaveLength(200);
    expect(sig.startsWith("word word")).toBe(true);
  });
});

const stats = (p05: number | null, p50: number | null, p95: number | null): DurationStats => ({
  count: 10,
  minMs: p05,
  p05Ms: p05,
  p50Ms: p50,
  p95Ms: p95,
  maxMs: p95,
});

describe("durationShape", () => {
  const t = { immediateMs: 100 };
  it.each([
    ["13 ms failures are immediate", stats(12, 13, 14), "failed", "immediate"],
    ["p95 just under the threshold is immediate", stats(1, 50, 99.9), "failed", "immediate"],
    ["p95 at the threshold is not immediate", stats(1, 50, 100), "failed", "spread"],
    ["piled up at 30 s is timeout-like", stats(29_990, 30_000, 30_012), "timeout", "timeout-like"],
    ["band of 5% of p50 is still timeout-like", stats(29_000, 30_000, 30_500), "failed", "timeout-like"],
    ["band just over 5% of p50 is spread", stats(29_000, 30_000, 30_501), "failed", "spread"],
    ["at 1 s the band may be 50 ms", stats(1_000, 1_000, 1_050), "failed", "timeout-like"],
    ["at 1 s a 51 ms band is spread", stats(1_000, 1_000, 1_051), "failed", "spread"],
    ["a tight pile under 1 s is not a timeout", stats(990, 999, 1_000), "failed", "spread"],
    ["wide durations are spread", stats(200, 800, 2_500), "error", "spread"],
    ["unfinished status wins over any numbers", stats(12, 13, 14), "unfinished", "unfinished"],
    ["unfinished with no durations", stats(null, null, null), "unfinished", "unfinished"],
    ["no durations is unknown", stats(null, null, null), "failed", "unknown"],
    ["a missing p05 is unknown", stats(null, 13, 14), "failed", "unknown"],
  ] as const)("%s", (_, s, status, expected) => {
    expect(durationShape(s, status, t)).toBe(expected);
  });

  it("uses the threshold it is given", () => {
    expect(durationShape(stats(150, 160, 180), "failed", { immediateMs: 100 })).toBe("spread");
    expect(durationShape(stats(150, 160, 180), "failed", { immediateMs: 200 })).toBe("immediate");
  });

  it("writes a sentence with the numbers that decided the shape", () => {
    expect(shapeSentence("immediate", stats(12, 13, 14), t)).toMatch(/95% end within 14 ms, under 100 ms/);
    expect(shapeSentence("timeout-like", stats(29_990, 30_000, 30_012), t)).toMatch(/~30000 ms \(p5–p95 within 22 ms\)/);
    expect(shapeSentence("unknown", stats(null, null, null), t)).toBe("duration unknown");
  });
});

/** Builds value counts from rows of metadata, as the store would count them. */
function counts(rows: Array<Record<string, string>>): ValueCounts {
  const out: ValueCounts = new Map();
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      const values = out.get(k) ?? new Map<string, number>();
      values.set(v, (values.get(v) ?? 0) + 1);
      out.set(k, values);
    }
  }
  return out;
}

const repeat = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

describe("contrastMetadata", () => {
  // 10 failures, all region=US, each with its own job id; 10 successes, 3 in US.
  const failures = repeat(10, (i) => ({ region: "US", model: i < 6 ? "llama3.2-1b" : "qwen", job_id: `job-f${i}` }));
  const successes = repeat(10, (i) => ({ region: i < 3 ? "US" : "EU", model: i < 5 ? "llama3.2-1b" : "qwen", job_id: `job-s${i}` }));

  it("finds region=US in 100% of failures vs 30% of successes, and skips the id-like job_id", () => {
    const out = contrastMetadata(counts(failures), 10, counts(successes), 10);
    expect(out).toEqual([{ key: "region", value: "US", failure_share: 1, success_share: 0.3, failures: 10, successes: 3 }]);
  });

  it("skips a key whose failures carry (almost) all distinct values, even a few of them", () => {
    // 4 failures, 4 job ids: more distinct values than max(3, 50% of 4).
    const four = repeat(4, (i) => ({ job_id: `job-${i}`, region: "US" }));
    const out = contrastMetadata(counts(four), 4, counts([{ region: "EU" }]), 1);
    expect(out.map((v) => v.key)).toEqual(["region"]);
  });

  it("skips a key that is an id among the successes even when the failures are too few to tell", () => {
    // One failure: every key has one value. job_id is unique per success, so it says nothing.
    const one = [{ job_id: "job-f0", region: "APAC" }];
    const out = contrastMetadata(counts(one), 1, counts(successes), 10);
    expect(out.map((v) => `${v.key}=${v.value}`)).toEqual(["region=APAC"]);
  });

  it("keeps from a cluster of one or two failures only values few successes carry", () => {
    // One failure in US, as 3 of 10 successes are: a coincidence. In APAC, where no success is: kept.
    expect(contrastMetadata(counts([{ region: "US" }]), 1, counts(successes), 10)).toEqual([]);
    const many = repeat(200, (i) => ({ region: i < 60 ? "US" : "EU" }));
    expect(contrastMetadata(counts([{ region: "US" }, { region: "US" }]), 2, counts(many), 200)).toEqual([]);
    expect(contrastMetadata(counts([{ region: "APAC" }, { region: "APAC" }]), 2, counts(many), 200).map((v) => v.value)).toEqual(["APAC"]);
    // From three failures on, the share rules alone decide, as before.
    expect(contrastMetadata(counts(repeat(3, () => ({ region: "US" }))), 3, counts(many), 200).map((v) => v.value)).toEqual(["US"]);
  });

  it("chanceOfAtLeast is the binomial tail at the successes' smoothed share", () => {
    expect(chanceOfAtLeast(1, 1, 3, 10)).toBeCloseTo(3.5 / 11, 6);
    expect(chanceOfAtLeast(2, 2, 60, 200)).toBeCloseTo((60.5 / 201) ** 2, 6);
    // P(X >= 1) over 3 draws at p = 0.5 / 11
    expect(chanceOfAtLeast(1, 3, 0, 10)).toBeCloseTo(1 - (1 - 0.5 / 11) ** 3, 6);
    expect(chanceOfAtLeast(0, 5, 1, 10)).toBe(1);
  });

  it.each([
    // zone=a: 75% of failures vs 25% of successes; zone=b: 25% of failures.
    ["passes both defaults", {}, ["zone=a"]],
    ["below minFailureShare", { minFailureShare: 0.8 }, []],
    ["difference under minDifference", { minDifference: 0.51 }, []],
    ["difference exactly minDifference passes", { minDifference: 0.5 }, ["zone=a"]],
    ["a lower minFailureShare lets zone=b through only if it beats successes", { minFailureShare: 0.2 }, ["zone=a"]],
  ])("%s", (_, options, expected) => {
    const f = counts(["a", "a", "a", "b"].map((zone) => ({ zone })));
    const s = counts(["a", "b", "b", "b"].map((zone) => ({ zone })));
    expect(contrastMetadata(f, 4, s, 4, options).map((v) => `${v.key}=${v.value}`)).toEqual(expected);
  });

  it("sorts conditions seen in successes by the difference in shares, then values only failures carry", () => {
    const f = counts(repeat(10, () => ({ a: "x", b: "y", c: "z" })));
    const s = counts(repeat(10, (i) => ({ a: i < 6 ? "x" : "-", b: "-", c: i < 3 ? "z" : "-" })));
    const out = contrastMetadata(f, 10, s, 10);
    expect(out.map((v) => [v.key, v.failure_share - v.success_share])).toEqual([
      ["c", 0.7],
      ["a", 0.4],
      ["b", 1],
    ]);
  });

  it("ignores a value carried by a single failure of a tiny cluster", () => {
    const two = [{ q: "q-1", flag: "false" }, { q: "q-2", flag: "false" }];
    const out = contrastMetadata(counts(two), 2, counts(repeat(10, () => ({ q: "q-3", flag: "true" }))), 10);
    expect(out.map((v) => `${v.key}=${v.value}`)).toEqual(["flag=false"]);
  });

  it("sets nothing apart when there are no successes to compare with", () => {
    expect(contrastMetadata(counts(repeat(3, () => ({ region: "US", model: "m" }))), 3, new Map(), 0)).toEqual([]);
  });

  it("returns nothing for no failures and honours limit", () => {
    expect(contrastMetadata(new Map(), 0, counts(successes), 10)).toEqual([]);
    const wide = counts(repeat(4, () => Object.fromEntries(repeat(10, (k) => [`k${k}`, "v"]))));
    const other = counts(repeat(4, () => ({ k0: "w" })));
    expect(contrastMetadata(wide, 4, other, 4)).toHaveLength(6);
    expect(contrastMetadata(wide, 4, other, 4, { limit: 2 })).toHaveLength(2);
  });
});

describe("errorSignature: apostrophes", () => {
  it("keeps words with an apostrophe and masks the quoted value", () => {
    expect(errorSignature("can't reach host 'alpha'")).toBe("can't reach host <str>");
    expect(errorSignature("can't reach host 'alpha'")).toBe(errorSignature("can't reach host 'beta'"));
  });
});
