// The local Sentry API stand-in with what only tests need in front of it: injected faults (status
// codes, malformed bodies, rate-limit headers, delays, dropped connections, stalled bodies) and the
// quirks of an older self-hosted Sentry. Built on the hooks of src/demo/sentry-api-server.ts.

import type { IncomingMessage, ServerResponse } from "node:http";
import { startSentryApiServer, type SentryApiServer, type SentryApiServerOptions } from "../../src/demo/sentry-api-server.js";

/** An injected fault, matched in order on the request path plus query string (string: includes; RegExp: test). */
export interface FaultRule {
  path: string | RegExp;
  /** Status to answer with instead of routing, e.g. 401, 403, 404, 429, 500, 502, 503. */
  status?: number;
  /** How many requests the rule applies to; default: all. */
  times?: number;
  /** Raw body to send (e.g. malformed JSON "{oops"); with no status the answer is a 200. */
  body?: string;
  /** Extra headers; on a rule with neither status nor body they are added to the normal response. */
  headers?: Record<string, string>;
  /** Delay before responding (or before routing, when the rule sets no status/body/destroy). */
  delayMs?: number;
  /** Destroy the socket without a response (a network error for the client). */
  destroy?: boolean;
  /** Send the status line, headers and the start of a body, then stall until the client gives up. */
  stallBody?: boolean;
}

export interface TestSentryOptions extends Omit<SentryApiServerOptions, "hooks"> {
  /**
   * Mimic an older self-hosted Sentry: no permalink/links, no substatus/priority/issueType/issueCategory
   * on issues, dateReceived and culprit null, and null values for some tags (server_name, os.name, handled).
   */
  selfHostedQuirks?: boolean;
}

export interface TestSentryServer extends SentryApiServer {
  /** Mutable: tests push and clear rules at run time. */
  faults: FaultRule[];
}

/** Tags whose values an older self-hosted Sentry may return as null. */
const SELF_HOSTED_NULL_TAGS = new Set(["server_name", "os.name", "handled"]);
/** Fields an older self-hosted Sentry does not send on issues. */
const SELF_HOSTED_MISSING_ISSUE_FIELDS = ["permalink", "links", "substatus", "priority", "issueType", "issueCategory"];

/** Default bodies for injected statuses, worded as sentry.io (or the load balancer in front of it) words them. */
function defaultFaultBody(status: number): { body: string; contentType: string } {
  const json = (detail: string) => ({ body: JSON.stringify({ detail }), contentType: "application/json" });
  const html = (title: string) => ({
    body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`,
    contentType: "text/html",
  });
  switch (status) {
    case 400:
      return json("Bad request");
    case 401:
      return json("Invalid token");
    case 403:
      return json("You do not have permission to perform this action.");
    case 404:
      return json("The requested resource does not exist");
    case 429:
      return json("You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds");
    case 500:
      return json("Internal Error");
    case 502:
      return html("502 Bad Gateway");
    case 503:
      return html("503 Service Temporarily Unavailable");
    case 504:
      return html("504 Gateway Time-out");
    default:
      return json(`HTTP ${status}`);
  }
}

function quirkIssue(issue: Record<string, unknown>): Record<string, unknown> {
  for (const field of SELF_HOSTED_MISSING_ISSUE_FIELDS) delete issue[field];
  issue["culprit"] = null;
  return issue;
}

function quirkEvent(event: Record<string, unknown>): Record<string, unknown> {
  delete event["permalink"];
  delete event["links"];
  if ("dateReceived" in event) event["dateReceived"] = null;
  event["culprit"] = null;
  if (Array.isArray(event["tags"])) {
    event["tags"] = (event["tags"] as Array<Record<string, unknown>>).map((t) => (SELF_HOSTED_NULL_TAGS.has(String(t["key"])) ? { ...t, value: null } : t));
  }
  return event;
}

export async function startTestSentry(options: TestSentryOptions): Promise<TestSentryServer> {
  const { selfHostedQuirks, ...rest } = options;
  const faults: FaultRule[] = [];
  const uses = new WeakMap<FaultRule, number>();
  const pending = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  let closed = false;

  const take = (target: string): FaultRule | undefined => {
    for (const rule of faults) {
      const used = uses.get(rule) ?? 0;
      if (rule.times !== undefined && used >= rule.times) continue;
      let hit: boolean;
      if (typeof rule.path === "string") hit = target.includes(rule.path);
      else {
        rule.path.lastIndex = 0;
        hit = rule.path.test(target);
      }
      if (!hit) continue;
      uses.set(rule, used + 1);
      return rule;
    }
    return undefined;
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          pending.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      pending.add(entry);
    });
  const send = (res: ServerResponse, status: number, body: string, headers: Record<string, string>) => {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(status, { "Content-Length": String(Buffer.byteLength(body)), ...headers });
    res.end(body);
  };

  const beforeRoute = async (req: IncomingMessage, res: ServerResponse, target: string): Promise<"handled" | Record<string, string> | undefined> => {
    const fault = take(target);
    if (!fault) return undefined;
    if (fault.delayMs !== undefined && fault.delayMs > 0) await sleep(fault.delayMs);
    if (closed || req.socket.destroyed || fault.destroy) {
      req.socket.destroy();
      return "handled";
    }
    if (fault.stallBody) {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"id": "47');
      return "handled";
    }
    if (fault.status !== undefined || fault.body !== undefined) {
      const status = fault.status ?? 200;
      const fallback = defaultFaultBody(status);
      const body = fault.body ?? fallback.body;
      const contentType = fault.body !== undefined ? "application/json" : fallback.contentType;
      send(res, status, body, { "Content-Type": contentType, ...(fault.headers ?? {}) });
      return "handled";
    }
    return fault.headers ?? {};
  };

  const server = await startSentryApiServer({
    ...rest,
    hooks: {
      beforeRoute,
      ...(selfHostedQuirks ? { serveIssue: quirkIssue, serveEvent: quirkEvent } : {}),
      onClose: () => {
        closed = true;
        for (const p of pending) {
          clearTimeout(p.timer);
          p.resolve();
        }
        pending.clear();
      },
    },
  });
  return Object.assign(server, { faults });
}
