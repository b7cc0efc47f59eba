// What users paste as "the Sentry issue", and what trace-doctor reads from it.

import { describe, expect, it } from "vitest";
import { normaliseEventId, parseIssueReference } from "../../src/sentry/issue-reference.js";

describe("parseIssueReference", () => {
  it.each([
    ["4711", { kind: "issue_id", issueId: "4711" }],
    ["RUNNER-1A", { kind: "short_id", shortId: "RUNNER-1A" }],
    ["pump-station-1", { kind: "short_id", shortId: "PUMP-STATION-1" }],
    ["9fac2ceed9344f2bbfdd1fdacb0ed9b1", { kind: "event_id", eventId: "9fac2ceed9344f2bbfdd1fdacb0ed9b1" }],
    ["9FAC2CEE-D934-4F2B-BFDD-1FDACB0ED9B1", { kind: "event_id", eventId: "9fac2ceed9344f2bbfdd1fdacb0ed9b1" }],
    ["https://project-beacon.sentry.io/issues/4711/", { kind: "url", issueId: "4711", org: "project-beacon" }],
    [
      "https://project-beacon.sentry.io/issues/4711/events/9fac2ceed9344f2bbfdd1fdacb0ed9b1/?project=3",
      { kind: "url", issueId: "4711", org: "project-beacon", eventId: "9fac2ceed9344f2bbfdd1fdacb0ed9b1" },
    ],
    ["https://sentry.io/organizations/project-beacon/issues/4711/", { kind: "url", issueId: "4711", org: "project-beacon" }],
    ["https://sentry.io/the-interstellar-jurisdiction/pump-station/issues/1/", { kind: "url", issueId: "1", org: "the-interstellar-jurisdiction" }],
    ["https://us.sentry.io/organizations/acme/issues/99/", { kind: "url", issueId: "99", org: "acme" }],
    ["http://sentry.internal:9000/organizations/acme/issues/12/events/latest/", { kind: "url", issueId: "12", org: "acme" }],
    ["https://us.sentry.io/issues/99/", { kind: "url", issueId: "99" }],
  ])("reads %s", (input, expected) => {
    expect(parseIssueReference(input)).toEqual(expected);
  });

  it.each(["", "hello world", "https://sentry.io/organizations/acme/projects/", "https://sentry.io/issues/abc/", "12ab"])("rejects %j with a message", (input) => {
    const r = parseIssueReference(input);
    expect(r).toHaveProperty("error");
    expect((r as { error: string }).error.length).toBeGreaterThan(20);
  });

  it("normalises event ids", () => {
    expect(normaliseEventId(" 9FAC2CEED9344F2BBFDD1FDACB0ED9B1 ")).toBe("9fac2ceed9344f2bbfdd1fdacb0ed9b1");
    expect(normaliseEventId("9fac2ceed9344f2bbfdd1fdacb0ed9b")).toBeNull();
  });
});
