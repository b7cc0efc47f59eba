// Which contrasts read ahead from guessed clusters stand for the real clusters' (the rest is read again).

import { describe, expect, it } from "vitest";
import { coveringMembers, type ClusterGuess, type ContrastedCluster } from "../../src/store/failure-queries.js";

const guess = (status: string, signature: string, band: "immediate" | "slower", messages: string[]): ClusterGuess => ({ service: "svc", operation: "op", status, signature, band, messages });
const real = (status: string, signature: string, band: "immediate" | "slower", messages: string[] | null): ContrastedCluster => ({ status, signature, band, messages });

describe("coveringMembers", () => {
  const guessed = [guess("failed", "boom <n>", "immediate", ["boom 1", "boom 2"]), guess("timeout", "deadline", "slower", ["deadline"])];

  it("maps each real cluster to the guess that read the same failures, in the real order", () => {
    expect(coveringMembers(guessed, [real("timeout", "deadline", "slower", ["deadline"]), real("failed", "boom <n>", "immediate", ["boom 2", "boom 1"])])).toEqual([1, 0]);
    expect(coveringMembers(guessed, [])).toEqual([]);
  });

  it("refuses a real cluster with a message the guess did not see, another band or status, or too many messages to list", () => {
    expect(coveringMembers(guessed, [real("failed", "boom <n>", "immediate", ["boom 1", "boom 2", "boom 3"])])).toBeNull();
    expect(coveringMembers(guessed, [real("failed", "boom <n>", "slower", ["boom 1", "boom 2"])])).toBeNull();
    expect(coveringMembers(guessed, [real("error", "boom <n>", "immediate", ["boom 1", "boom 2"])])).toBeNull();
    expect(coveringMembers(guessed, [real("timeout", "deadline", "slower", null)])).toBeNull();
    // One uncovered member is enough: the operation's statement is read again whole.
    expect(coveringMembers(guessed, [real("timeout", "deadline", "slower", ["deadline"]), real("failed", "other", "immediate", ["other"])])).toBeNull();
  });
});
