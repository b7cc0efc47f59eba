// The README's main command: a scripted agent session. It attaches a real MCP client to the server
// over stdio (on the embedded demo database and the local Sentry stand-in), fetches the
// diagnose_failure prompt for the 13 ms job, follows its steps, prints each call with a short view
// of the answer, and ends with the diagnosis in the shape the prompt asks for.

import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { defaultDemoDir } from "../config.js";
import { packageFile } from "../package-files.js";
import { readDemoManifest } from "./demo-database.js";
import type { DiagnosisReport } from "../analysis/diagnosis-report.js";
import type { GapReport } from "../analysis/gap-report.js";
import type { SentryReport } from "../analysis/sentry-report.js";

/** The built command, the same from src/demo/ and from the bundle. */
const SERVER_ENTRY = packageFile("dist", "index.js");
const SHORT_VIEW_LINES = 14;

const out = (text = "") => process.stdout.write(`${text}\n`);
const rule = (title: string) => out(`\n${"─".repeat(6)} ${title} ${"─".repeat(Math.max(4, 72 - title.length))}`);

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n");
}

function shortView(text: string, lines = SHORT_VIEW_LINES): string {
  const all = text.split("\n");
  const shown = all.slice(0, lines).map((l) => (l.length > 220 ? `${l.slice(0, 217)}...` : l));
  return `${shown.map((l) => `  │ ${l}`).join("\n")}${all.length > lines ? `\n  │ … ${all.length - lines} more line(s)` : ""}`;
}

export async function runDemoSession(): Promise<void> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "DATABASE_URL" && !k.startsWith("SENTRY_")) env[k] = v;
  const demoDir = env.TRACE_DOCTOR_DEMO_DIR ?? defaultDemoDir(env);

  const client = new Client({ name: "trace-doctor-demo", version: "1.0.0" });
  const started = performance.now();
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [SERVER_ENTRY], env, stderr: "inherit" }));
  const manifest = readDemoManifest(demoDir);
  if (!manifest) throw new Error(`The server did not leave a demo manifest in ${demoDir}.`);
  const ex = manifest.examples;
  const [{ tools }, { prompts }] = await Promise.all([client.listTools(), client.listPrompts()]);
  out(`Connected to ${client.getServerVersion()?.name} over stdio in ${Math.round(performance.now() - started)} ms (demo data: no DATABASE_URL, no Sentry settings).`);
  out(`Tools: ${tools.map((t) => t.name).join(", ")}`);
  out(`Prompts: ${prompts.map((p) => p.name).join(", ")}`);

  out(`\nUser: "Executions keep failing in about 13 ms. Why did job ${ex.immediateFailureJobId} fail?"`);
  rule(`prompt diagnose_failure {job_id: ${ex.immediateFailureJobId}}`);
  const prompt = await client.getPrompt({ name: "diagnose_failure", arguments: { job_id: ex.immediateFailureJobId } });
  const promptText = prompt.messages.map((m) => (m.content.type === "text" ? m.content.text : "")).join("\n");
  out(shortView(promptText, 8));
  out("  The agent follows the prompt's steps:");

  let totalTokens = 0;
  const call = async (name: string, args: Record<string, unknown>) => {
    rule(`${name} ${JSON.stringify(args)}`);
    const t0 = performance.now();
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    const text = textOf(result);
    const tokens = Math.ceil(text.length / 4);
    totalTokens += tokens;
    out(shortView(text));
    out(`  (${result.isError ? "isError, " : ""}${Math.round(performance.now() - t0)} ms, ≈${tokens} tokens)`);
    return result;
  };

  const diagnosis = (await call("diagnose", { job_id: ex.immediateFailureJobId })).structuredContent as DiagnosisReport;
  const [service, operation] = diagnosis.execution.root.split(".");
  await call("list_failed_spans", { service, operation, limit: 3 });
  await call("get_trace", { job_id: ex.immediateFailureJobId });
  const gaps = (await call("find_gaps", { job_id: ex.immediateFailureJobId })).structuredContent as GapReport;
  const sentry = (await call("sentry_issue_context", { job_id: ex.immediateFailureJobId, max_breadcrumbs: 5 })).structuredContent as
    | SentryReport
    | undefined;

  rule("final answer, in the shape the prompt fixes");
  const top = diagnosis.hypotheses[0]!;
  const second = diagnosis.hypotheses[1];
  out(`1. Root cause — ${top.summary}`);
  out("2. Evidence —");
  for (const e of top.evidence) out(`   - ${e.type} ${e.id}: ${e.note}`);
  const cut = gaps.findings.find((f) => f.kind === "missing_hop" && f.severity === "high");
  if (cut) out(`   - find_gaps: ${cut.sentence}`);
  if (sentry?.event) {
    const exec = sentry.event.contexts.execution ?? {};
    out(`   - Sentry ${sentry.issue.short_id} event ${sentry.event.event_id}: duration_ms=${exec.duration_ms}, has_output=${exec.has_output}, has_receipt=${exec.has_receipt}.`);
  }
  if (second) out(`   - also holds: ${second.kind} (${second.label}) — ${second.summary}`);
  out(`3. Confidence — ${top.label} (${top.confidence.toFixed(2)}); it would change if: ${top.checks[0]}`);
  out("4. Next checks —");
  for (const c of top.checks.slice(1)) out(`   - ${c}`);
  if (diagnosis.not_checked.length) out(`   (not checked: ${diagnosis.not_checked.join("; ")})`);
  out(`\nThe whole investigation cost ≈${totalTokens} tokens of tool answers.`);

  rule("the same single call on the demo's other failure patterns");
  const others: Array<[string, string | undefined]> = [
    ["provider timeout", ex.timeoutJobId],
    ["provider rejected at once", ex.downstreamRejectedJobId],
    ["router crashed mid-request", ex.lostRequestJobId],
    ["router cold start (succeeded)", ex.slowHandoffJobId],
    ["healthy job", ex.successJobId],
  ];
  for (const [what, job] of others) {
    if (!job) continue;
    const r = (await client.callTool({ name: "diagnose", arguments: { job_id: job } })) as CallToolResult;
    const d = r.structuredContent as DiagnosisReport | undefined;
    const h = d?.hypotheses[0];
    out(`  ${what.padEnd(30)} ${job.padEnd(30)} → ${h ? `${h.kind} (${h.label})` : textOf(r).split("\n")[0]}`);
  }
  await client.close();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runDemoSession().catch((err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
