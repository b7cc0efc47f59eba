// The parts of Sentry's API responses trace-doctor reads, parsed leniently: unknown fields pass
// through, and fields self-hosted or older Sentry versions send as null (dateReceived, culprit,
// permalink, tag values) or leave out are tolerated.

import { z } from "zod";

const str = z.string().nullish();
const num = z.union([z.number(), z.string()]).nullish();

export const sentryProject = z.looseObject({ id: num, name: str, slug: str, platform: str });

export const sentryIssue = z.looseObject({
  id: z.union([z.string(), z.number()]).transform(String),
  shortId: str,
  title: str,
  culprit: str,
  permalink: str,
  level: str,
  status: str,
  substatus: str,
  platform: str,
  count: num,
  userCount: num,
  firstSeen: str,
  lastSeen: str,
  project: sentryProject.nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
});
export type SentryIssue = z.infer<typeof sentryIssue>;

export const sentryTag = z.looseObject({ key: str, value: z.unknown().nullish() });

const frame = z.looseObject({
  function: str,
  module: str,
  filename: str,
  absPath: str,
  lineNo: num,
  colNo: num,
  inApp: z.boolean().nullish(),
  package: str,
});
export type SentryFrame = z.infer<typeof frame>;

const exceptionValue = z.looseObject({
  type: str,
  value: str,
  module: str,
  mechanism: z.looseObject({ type: str, handled: z.boolean().nullish() }).nullish(),
  stacktrace: z.looseObject({ frames: z.array(frame).nullish() }).nullish(),
});

export const sentryBreadcrumb = z.looseObject({
  timestamp: z.union([z.string(), z.number()]).nullish(),
  type: str,
  category: str,
  level: str,
  message: str,
  data: z.record(z.string(), z.unknown()).nullish(),
});
export type SentryBreadcrumb = z.infer<typeof sentryBreadcrumb>;

export const sentryEntry = z.looseObject({ type: z.string(), data: z.unknown() });

export const sentryEvent = z.looseObject({
  id: z.union([z.string(), z.number()]).transform(String),
  eventID: str,
  groupID: num,
  projectID: num,
  title: str,
  message: str,
  platform: str,
  dateCreated: str,
  dateReceived: str,
  culprit: str,
  tags: z.array(sentryTag).nullish(),
  contexts: z.record(z.string(), z.unknown()).nullish(),
  entries: z.array(sentryEntry).nullish(),
  release: z.union([z.looseObject({ version: str }), z.string()]).nullish(),
});
export type SentryEvent = z.infer<typeof sentryEvent>;

/** Entries are typed by their `type`; these read the two trace-doctor uses, and ignore the rest. */
export const exceptionEntryData = z.looseObject({ values: z.array(exceptionValue).nullish() });
export const breadcrumbsEntryData = z.looseObject({ values: z.array(sentryBreadcrumb).nullish() });

export const shortIdLookup = z.looseObject({
  groupId: z.union([z.string(), z.number()]).transform(String),
  shortId: str,
  organizationSlug: str,
  projectSlug: str,
  group: sentryIssue.nullish(),
});

export const eventIdLookup = z.looseObject({
  groupId: z.union([z.string(), z.number()]).transform(String),
  eventId: str,
  organizationSlug: str,
  projectSlug: str,
  event: sentryEvent.nullish(),
});

export const issueList = z.array(sentryIssue);
export const eventList = z.array(z.looseObject({ id: z.union([z.string(), z.number()]).transform(String), eventID: str, dateCreated: str }));
