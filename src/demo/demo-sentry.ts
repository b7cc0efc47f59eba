// The demo's Sentry: the local Sentry API stand-in, filled with the issues the demo spans imply, and
// the real SentryClient pointed at it over loopback HTTP.

import { randomBytes } from "node:crypto";
import { SentryClient } from "../sentry/sentry-client.js";
import { generateDemoDataset, type DemoManifest, type DemoSpanRow } from "./demo-dataset.js";
import { startSentryApiServer } from "./sentry-api-server.js";
import { demoSentryFixtures } from "./sentry-demo-fixtures.js";

export const DEMO_SENTRY_ORG = "project-beacon";

/** The stand-in for the spans of a demo database (rows, or the manifest they were generated from). */
export async function startDemoSentry(spans: DemoSpanRow[] | DemoManifest): Promise<{ client: SentryClient; url: string; close: () => Promise<void> }> {
  const rows = Array.isArray(spans) ? spans : generateDemoDataset({ now: new Date(spans.now), seed: spans.seed, jobs: spans.jobs }).rows;
  const token = randomBytes(16).toString("hex");
  const server = await startSentryApiServer({ fixtures: demoSentryFixtures(rows, { org: DEMO_SENTRY_ORG }), token });
  const client = new SentryClient({ baseUrl: server.url, token, org: DEMO_SENTRY_ORG, timeoutMs: 5000 });
  return { client, url: server.url, close: () => server.close() };
}
