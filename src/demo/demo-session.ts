// The README's main command: a scripted session that attaches a real MCP client to the server over
// stdio, on the embedded demo database, and prints what a model would see for each call.

import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { defaultDemoDir } from "../config.js";
import { readDemoManifest } from "./demo-database.js";

const SERVER_ENTRY = fileURLToPath(new URL("../index.js", import.meta.url));

function banner(text: string): void {
  process.stdout.write(`\n${"═".repeat(78)}\n${text}\n${"═".repeat(78)}\n`);
}

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");
}

export async function runDemoSession(): Promise<void> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "DATABASE_URL") env[k] = v;
  const demoDir = env.TRACE_DOCTOR_DEMO_DIR ?? defaultDemoDir(env);

  const transport = new StdioClientTransport({ command: process.execPath, args: [SERVER_ENTRY], env, stderr: "inherit" });
  const client = new Client({ name: "trace-doctor-demo", version: "1.0.0" });
  const started = performance.now();
  await client.connect(transport);
  process.stdout.write(`Connected to ${client.getServerVersion()?.name} over stdio in ${Math.round(performance.now() - started)} ms.\n`);
  process.stdout.write(`Server instructions:\n${client.getInstructions()}\n`);

  const manifest = readDemoManifest(demoDir);
  if (!manifest) throw new Error(`The server did not leave a demo manifest in ${demoDir}.`);
  const ex = manifest.examples;

  const tools = await client.listTools();
  process.stdout.write(`Tools: ${tools.tools.map((t) => t.name).join(", ")}\n`);

  const call = async (question: string, name: string, args: Record<string, unknown>) => {
    banner(`${question}\n→ ${name} ${JSON.stringify(args)}`);
    const t0 = performance.now();
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    const ms = performance.now() - t0;
    const text = textOf(result);
    process.stdout.write(`${text}\n`);
    process.stdout.write(`\n(${result.isError ? "isError, " : ""}${Math.round(ms)} ms, ${text.length} chars ≈ ${Math.ceil(text.length / 4)} tokens)\n`);
    return result;
  };

  await call("User: executions keep failing. What is failing in the last 24 hours?", "list_failed_spans", {
    service: "runner",
    operation: "execute_question",
    limit: 3,
  });
  const failing = await call(`User: why did job ${ex.immediateFailureJobId} fail?`, "get_trace", { job_id: ex.immediateFailureJobId });
  const gaps = await call("Which hops are missing from it, compared with successful executions?", "find_gaps", { job_id: ex.immediateFailureJobId });
  const sentry = await call("What does Sentry say about the same job?", "sentry_issue_context", { job_id: ex.immediateFailureJobId, max_breadcrumbs: 5 });
  await call("For contrast, a successful job of the same region and model, before the failures began:", "find_gaps", { job_id: ex.successJobId });
  await call("A job whose router hop wrote its own trace_id (joined by job_id):", "get_trace", { trace_id: ex.linkedByJobIdRunnerTraceId });
  await call("A mistyped id gets an error the model can act on:", "get_trace", { trace_id: "no-such-trace" });

  const trace = failing.structuredContent as { duration_ms: number; services: string[]; failed_span_ids: string[]; trace_ids: string[] } | undefined;
  const missing = (gaps.structuredContent as { findings: Array<{ kind: string; severity: string; missing?: string[]; span_ids: string[] }> } | undefined)?.findings.find(
    (f) => f.kind === "missing_hop" && f.severity === "high",
  );
  if (trace) {
    banner("What the evidence says about the failing job");
    const lines = [
      `- Services that wrote spans for this job: ${trace.services.join(", ")}.`,
      `- The whole job took ${trace.duration_ms} ms${trace.duration_ms < 100 ? ": too fast for a network round trip to the router and a model call" : ""}.`,
    ];
    if (missing) {
      const [first, ...below] = missing.missing!;
      lines.push(`- Missing hop: ${first}${below.length ? ` (and below it ${below.join(", ")})` : ""}, which successful executions always have; evidence span ${missing.span_ids.join(", ")}.`);
    }
    lines.push(`- Evidence: trace ${trace.trace_ids.join(", ")}; failed spans ${trace.failed_span_ids.join(", ")}.`);
    const event = (sentry.structuredContent as { issue?: { short_id?: string }; event?: { event_id: string; contexts: Record<string, Record<string, unknown>> } } | undefined);
    if (event?.event) {
      const exec = event.event.contexts.execution ?? {};
      lines.push(
        `- Sentry ${event.issue?.short_id} event ${event.event.event_id}: duration_ms=${exec.duration_ms}, has_output=${exec.has_output}, has_receipt=${exec.has_receipt}${
          exec.has_output === false && exec.has_receipt === false ? " — the executor returned with neither output nor receipt" : ""
        }.`,
      );
    }
    if (missing && trace.duration_ms < 100) {
      lines.push("- Hypothesis to test: the runner's call to the router failed before the request reached it (configuration, DNS, connection refused, credentials).");
    }
    process.stdout.write(lines.join("\n") + "\n");
  }
  await client.close();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runDemoSession().catch((err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
