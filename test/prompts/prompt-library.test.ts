// The prompt library: every file in prompts/ loads and fixes the shape of the final answer; bad files
// are refused with the file named; rendering fills, drops and defaults arguments; and the prompts work
// through a real MCP client (list, get, argument completion from the demo data) on PGlite and Postgres.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { generateDemoDataset, type DemoManifest } from "../../src/demo/demo-dataset.js";
import { compilePrompts, defaultPromptDir, loadPrompts, registerPrompts, renderPrompt, type CompiledPrompts, type PromptTemplate } from "../../src/prompts/prompt-library.js";
import { SpanArgumentCompleter } from "../../src/prompts/argument-completion.js";
import { SpanTable } from "../../src/store/span-table.js";
import { applySchema, insertSpans } from "../../src/store/span-writer.js";
import { backends, type TestDatabase } from "../support/test-databases.js";

const TOOLS = ["diagnose", "list_failed_spans", "get_trace", "find_gaps", "compare_executions", "sentry_issue_context"];
const ANSWER_SECTIONS = ["**Root cause**", "**Evidence**", "**Confidence**", "**Next checks**"];

const prompts = loadPrompts();
const byName = (name: string): PromptTemplate => {
  const p = prompts.find((t) => t.name === name);
  if (!p) throw new Error(`no prompt ${name}`);
  return p;
};

describe("the prompts in prompts/", () => {
  it("are all loaded, with unique names matching their files", () => {
    const names = prompts.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(["diagnose_failure", "investigate_immediate_failures", "triage_recent_failures", "investigate_latency"]));
    for (const p of prompts) expect(p.file).toBe(join(defaultPromptDir(), `${p.name}.md`));
  });

  it.each(prompts.map((p) => [p.name, p] as const))("%s fixes the shape of the final answer and stays short", (_, p) => {
    const shape = p.body.slice(p.body.indexOf("Answer in exactly this shape"));
    expect(shape.length).toBeLessThan(p.body.length);
    let at = 0;
    for (const section of ANSWER_SECTIONS) {
      const next = shape.indexOf(section, at);
      expect(next, `${p.name}: ${section} in order`).toBeGreaterThan(at - 1);
      at = next;
    }
    expect(shape).toMatch(/span ids, trace ids, Sentry event ids/);
    expect(shape).toMatch(/high, medium or low/);
    const lines = readFileSync(p.file, "utf8").split("\n").length;
    expect(lines).toBeGreaterThanOrEqual(25);
    expect(lines).toBeLessThanOrEqual(65);
  });

  it.each(prompts.map((p) => [p.name, p] as const))("%s names only real tools", (_, p) => {
    const named = [...p.body.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!).filter((w) => w.includes("_") || w === "diagnose");
    const tools = named.filter((w) => /^(get|list|find|sentry|diagnose|compare)/.test(w));
    expect(tools.length).toBeGreaterThan(0);
    for (const t of tools) expect(TOOLS).toContain(t);
  });

  it("declares the arguments each prompt takes", () => {
    const args = (name: string) => byName(name).arguments.map(({ name, required, complete, default: d }) => ({ name, required, complete, default: d }));
    expect(args("diagnose_failure")).toEqual([
      { name: "job_id", required: false, complete: "job_ids", default: undefined },
      { name: "trace_id", required: false, complete: "trace_ids", default: undefined },
      { name: "issue", required: false, complete: "sentry_issues", default: undefined },
    ]);
    expect(byName("diagnose_failure").description).toMatch(/at least one of job_id, trace_id or issue/);
    expect(args("investigate_immediate_failures")).toEqual([
      { name: "threshold_ms", required: false, complete: undefined, default: "100" },
      { name: "service", required: false, complete: "services", default: undefined },
      { name: "window", required: false, complete: undefined, default: "24h" },
    ]);
    expect(args("triage_recent_failures")[0]).toEqual({ name: "window", required: false, complete: undefined, default: "24h" });
    expect(args("investigate_latency").map((a) => a.complete)).toEqual(["edges", "operations", undefined]);
  });
});

describe("renderPrompt", () => {
  it("fills arguments and keeps the optional sections that have a value", () => {
    const text = renderPrompt(byName("diagnose_failure"), { job_id: "bias-detection-1761135900618", issue: "RUNNER-1A" });
    expect(text).toContain("- job_id: bias-detection-1761135900618");
    expect(text).toContain("- Sentry issue: RUNNER-1A");
    expect(text).not.toContain("- trace_id:");
    expect(text).not.toContain("No job_id, trace_id or issue was given");
    expect(text).not.toMatch(/\{\{|\}\}/);
    expect(text).not.toMatch(/\n{3,}/);
  });

  it("says what to do when no id is given, and treats blank values as missing", () => {
    const text = renderPrompt(byName("diagnose_failure"), { job_id: "  ", trace_id: "" });
    expect(text).toContain("No job_id, trace_id or issue was given");
    expect(text).not.toContain("- job_id:");
  });

  it("applies defaults from the front matter and drops empty optional sections", () => {
    const text = renderPrompt(byName("investigate_immediate_failures"), {});
    expect(text).toContain("Find failures that end in under 100 ms over the last 24h");
    expect(text).toContain("since=24h, max_duration_ms=100, immediate_ms=100.");
    expect(text).not.toContain("service=");
    const scoped = renderPrompt(byName("investigate_immediate_failures"), { threshold_ms: "50", service: "runner", window: "2h" });
    expect(scoped).toContain("under 50 ms in service runner over the last 2h");
    expect(scoped).toContain("since=2h, max_duration_ms=50, immediate_ms=50, service=runner.");
  });

  it("does not HTML-escape values", () => {
    const text = renderPrompt(byName("investigate_latency"), { edge: 'runner → router <"x"> & co' });
    expect(text).toContain('on the edge runner → router <"x"> & co over the last 24h');
    expect(text).not.toContain("&amp;");
    expect(text).not.toContain("No edge or operation was given");
  });

  it("refuses a missing required argument", () => {
    const t: PromptTemplate = { name: "t", title: "T", description: "d", file: "t.md", body: "Look at {{job}}.", arguments: [{ name: "job", description: "a job", required: true }] };
    expect(() => renderPrompt(t, {})).toThrow(/Prompt t needs argument job/);
    expect(renderPrompt(t, { job: "j-1" })).toBe("Look at j-1.\n");
  });
});

describe("loadPrompts on bad files", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (file: string, text: string) => {
    dir = mkdtempSync(join(tmpdir(), "td-prompts-"));
    writeFileSync(join(dir, file), text);
    return join(dir, file);
  };
  const good = (name: string, extra = "") => `---\nname: ${name}\ntitle: T\ndescription: D\n${extra}---\nBody\n`;

  it.each([
    ["no front matter", "broken.md", "Just text\n", /must start with YAML front matter/],
    ["invalid YAML", "broken.md", "---\nname: broken\ntitle: [unclosed\n---\nBody\n", /front matter is not valid YAML/],
    ["a missing title", "broken.md", "---\nname: broken\ndescription: D\n---\nBody\n", /title/],
    ["an unknown key", "broken.md", good("broken", "colour: red\n"), /colour|Unrecognized key/i],
    ["an unknown completion source", "broken.md", good("broken", "arguments:\n  - name: a\n    description: x\n    complete: planets\n"), /arguments\.0\.complete/],
    ["required with a default", "broken.md", good("broken", "arguments:\n  - name: a\n    description: x\n    required: true\n    default: 1\n"), /required argument cannot have a default/],
    ["a duplicated argument", "broken.md", good("broken", "arguments:\n  - {name: a, description: x}\n  - {name: a, description: y}\n"), /argument "a" is declared twice/],
    ["a name not matching the file", "broken.md", good("other"), /must match the file name \(broken\)/],
    ["an undeclared variable in the body", "broken.md", "---\nname: broken\ntitle: T\ndescription: D\n---\nSee {{job_id}}\n", /undeclared argument\(s\) job_id/],
    ["an unclosed section", "broken.md", "---\nname: broken\ntitle: T\ndescription: D\narguments: [{name: a, description: x}]\n---\n{{#a}} open\n", /not a valid Mustache template/],
  ])("refuses %s, naming the file", (_, file, text, reason) => {
    const path = write(file, text);
    expect(() => loadPrompts(dir)).toThrow(reason);
    expect(() => loadPrompts(dir)).toThrow(`Prompt file ${path}:`);
  });

  it("refuses two files with the same prompt name", () => {
    write("a.md", good("a"));
    writeFileSync(join(dir, "b.md"), good("b").replace("name: b", "name: a"));
    expect(() => loadPrompts(dir)).toThrow(/b\.md: name "a" must match|already used/);
  });

  it("says which folder it could not read", () => {
    dir = join(tmpdir(), "td-prompts-missing-folder");
    expect(() => loadPrompts(dir)).toThrow(`Cannot read the prompt folder ${dir}`);
  });

  it("accepts CRLF files and numeric defaults", () => {
    write("crlf.md", "---\r\nname: crlf\r\ntitle: T\r\ndescription: D\r\narguments:\r\n  - name: n\r\n    description: x\r\n    default: 5\r\n---\r\nN={{n}}\r\n");
    const [p] = loadPrompts(dir);
    expect(p!.arguments[0]).toMatchObject({ name: "n", required: false, default: "5" });
    expect(renderPrompt(p!, {})).toBe("N=5\n");
  });
});

describe("prompts/ as the build compiles it", () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const text = "---\nname: a\ntitle: Parsed\ndescription: D\n---\nBody\n";

  it("holds every prompt file's text and the template parsed from it", () => {
    const compiled = compilePrompts();
    dir = mkdtempSync(join(tmpdir(), "td-prompts-"));
    expect(Object.keys(compiled).sort()).toEqual(prompts.map((p) => `${p.name}.md`).sort());
    for (const p of prompts) {
      const { file, ...template } = p;
      expect(compiled[`${p.name}.md`]).toEqual({ text: readFileSync(file, "utf8"), template });
    }
    expect(loadPrompts(defaultPromptDir(), compiled)).toEqual(prompts);
  });

  it("is used for a file that reads the same, and an edited file is parsed again", () => {
    dir = mkdtempSync(join(tmpdir(), "td-prompts-"));
    writeFileSync(join(dir, "a.md"), text);
    const compiled: CompiledPrompts = { "a.md": { text, template: { name: "a", title: "From the build", description: "D", arguments: [], body: "Body" } } };
    expect(loadPrompts(dir, compiled)).toEqual([{ ...compiled["a.md"]!.template, file: join(dir, "a.md") }]);
    writeFileSync(join(dir, "a.md"), text.replace("Body", "Edited body"));
    expect(loadPrompts(dir, compiled)).toMatchObject([{ title: "Parsed", body: "Edited body" }]);
    // A file the build never saw is parsed, and checked, as ever.
    writeFileSync(join(dir, "b.md"), "no front matter\n");
    expect(() => loadPrompts(dir, compiled)).toThrow(/b\.md: must start with YAML front matter/);
  });
});

describe.each(await backends())("prompts through an MCP client on $name", ({ open }) => {
  let db: TestDatabase;
  let manifest: DemoManifest;
  let client: Client;
  let server: McpServer;

  beforeAll(async () => {
    db = await open();
    await applySchema(db.writer, db.table());
    const data = generateDemoDataset({ now: new Date() });
    manifest = data.manifest;
    await insertSpans(db.writer, data.rows, db.table());
    const spans = new SpanTable(db.reader, db.table(), ["job_id"]);
    server = new McpServer({ name: "prompt-test", version: "1" });
    registerPrompts(server, prompts, new SpanArgumentCompleter(spans));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    client = new Client({ name: "prompt-test-client", version: "1" });
    await client.connect(clientSide);
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
    await db?.close();
  });

  it("lists the prompts with their arguments", async () => {
    const { prompts: listed } = await client.listPrompts();
    expect(listed.map((p) => p.name).sort()).toEqual(prompts.map((p) => p.name).sort());
    const diagnose = listed.find((p) => p.name === "diagnose_failure")!;
    expect(diagnose.title).toBe("Diagnose a failure");
    expect(diagnose.arguments).toEqual([
      expect.objectContaining({ name: "job_id", required: false }),
      expect.objectContaining({ name: "trace_id", required: false }),
      expect.objectContaining({ name: "issue", required: false }),
    ]);
    const immediate = listed.find((p) => p.name === "investigate_immediate_failures")!;
    expect(immediate.arguments!.find((a) => a.name === "threshold_ms")!.description).toMatch(/\(default 100\)$/);
    expect(client.getServerCapabilities()?.completions).toBeDefined();
  });

  it("gets a prompt as one user message with the arguments filled in", async () => {
    const result = await client.getPrompt({ name: "diagnose_failure", arguments: { job_id: manifest.examples.immediateFailureJobId } });
    expect(result.messages).toHaveLength(1);
    const [message] = result.messages;
    expect(message!.role).toBe("user");
    expect(message!.content.type).toBe("text");
    const text = message!.content.type === "text" ? message!.content.text : "";
    expect(text).toContain(`- job_id: ${manifest.examples.immediateFailureJobId}`);
    expect(text).toContain("**Root cause**");
    const defaults = await client.getPrompt({ name: "investigate_immediate_failures", arguments: {} });
    expect(defaults.messages[0]!.content).toMatchObject({ type: "text", text: expect.stringContaining("under 100 ms over the last 24h") });
  });

  it("completes job_id with the demo's failing jobs, prefix-filtered", async () => {
    const job = manifest.examples.immediateFailureJobId;
    const prefix = job.slice(0, -2).toUpperCase();
    const { completion } = await client.complete({ ref: { type: "ref/prompt", name: "diagnose_failure" }, argument: { name: "job_id", value: prefix } });
    expect(completion.values).toContain(job);
    for (const v of completion.values) expect(v.toUpperCase().startsWith(prefix)).toBe(true);
    const all = await client.complete({ ref: { type: "ref/prompt", name: "diagnose_failure" }, argument: { name: "job_id", value: "" } });
    expect(all.completion.values).toHaveLength(20);
    expect(all.completion.values.every((v) => v.startsWith("bias-detection-"))).toBe(true);
  });

  it("completes services and answers [] for an argument without completion or an unknown Sentry", async () => {
    const services = await client.complete({ ref: { type: "ref/prompt", name: "triage_recent_failures" }, argument: { name: "service", value: "r" } });
    expect(new Set(services.completion.values)).toEqual(new Set(["runner", "router"]));
    const none = await client.complete({ ref: { type: "ref/prompt", name: "triage_recent_failures" }, argument: { name: "window", value: "2" } });
    expect(none.completion.values).toEqual([]);
    const issues = await client.complete({ ref: { type: "ref/prompt", name: "diagnose_failure" }, argument: { name: "issue", value: "" } });
    expect(issues.completion.values).toEqual([]);
  });
});
