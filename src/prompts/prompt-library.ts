// The prompt templates in prompts/: Markdown with YAML front matter, loaded and checked at start-up,
// rendered with Mustache (no HTML escaping) and registered as MCP prompts whose arguments complete
// from live data. The prompts live in files so they can be read and reviewed as prose.
//
// The build parses and checks the package's files once and puts the result in the bundle
// (compilePrompts): at start-up a file that still reads as it did then is taken from there, so the
// YAML parser and Mustache load only for a file edited since the build, and Mustache on the first
// prompts/get.

import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, join } from "node:path";
import type Mustache from "mustache";
import type { TemplateSpans } from "mustache";
import { z } from "zod";
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { GetPromptResult } from "@modelcontextprotocol/sdk/types.js";
import { packageFile } from "../package-files.js";
import { isCompletionSource, type ArgumentCompleter, type CompletionSource } from "./argument-completion.js";


export interface PromptArgument {
  name: string;
  description: string;
  required: boolean;
  complete?: CompletionSource;
  /** Used when the argument is missing or blank. */
  default?: string;
}

export interface PromptTemplate {
  name: string;
  title: string;
  description: string;
  arguments: PromptArgument[];
  /** Mustache template of the user message. */
  body: string;
  /** The file it was read from, for messages. */
  file: string;
}

/** A prompt file as the build read it, and the template it parsed from it. */
export interface CompiledPrompt {
  text: string;
  template: Omit<PromptTemplate, "file">;
}

/** By file name. */
export type CompiledPrompts = Record<string, CompiledPrompt>;
/** What the build put in the bundle (esbuild's define), as JSON text; absent when running from src/. */
declare const __TRACE_DOCTOR_PROMPTS__: string | undefined;
const BUILT_PROMPTS: CompiledPrompts | undefined = typeof __TRACE_DOCTOR_PROMPTS__ === "undefined" ? undefined : (JSON.parse(__TRACE_DOCTOR_PROMPTS__) as CompiledPrompts);

// Loaded on first use (CommonJS builds, so synchronously): neither is needed to serve unedited prompts.
const requirePackage = createRequire(import.meta.url);
let yamlModule: typeof import("yaml") | undefined;
let mustacheModule: typeof Mustache | undefined;
const parseYaml = (text: string): unknown => (yamlModule ??= requirePackage("yaml") as typeof import("yaml")).parse(text);
const mustache = () => (mustacheModule ??= requirePackage("mustache") as typeof Mustache);

const NAME = /^[a-z][a-z0-9_]{0,63}$/;
const FRONT_MATTER = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)([\s\S]*)$/;

/** The front matter's schema, built on the first file parsed. */
const frontMatterSchema = () => (frontMatter ??= makeFrontMatterSchema());
let frontMatter: ReturnType<typeof makeFrontMatterSchema> | undefined;

function makeFrontMatterSchema() {
  const argumentSchema = z
    .object({
      name: z.string().regex(NAME, "lower-case letters, digits and '_', starting with a letter"),
      description: z.string().trim().min(1),
      required: z.boolean().default(false),
      complete: z
        .string()
        .refine(isCompletionSource, "one of job_ids, trace_ids, services, operations, edges, sentry_issues, metadata:<key>")
        .optional(),
      default: z.union([z.string(), z.number(), z.boolean()]).transform(String).optional(),
    })
    .strict()
    .refine((a) => !(a.required && a.default !== undefined), "a required argument cannot have a default");
  return z
    .object({
      name: z.string().regex(NAME, "lower-case letters, digits and '_', starting with a letter"),
      title: z.string().trim().min(1),
      description: z.string().trim().min(1),
      arguments: z.array(argumentSchema).default([]),
    })
    .strict();
}

export class PromptFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`Prompt file ${file}: ${reason}`);
    this.name = "PromptFileError";
  }
}

/** The package's prompts/ folder. */
export function defaultPromptDir(): string {
  return packageFile("prompts");
}

/**
 * Every *.md in dir, by file name; throws a PromptFileError naming the file on anything malformed. A
 * file whose text is the one `compiled` holds under its name is not parsed again.
 */
export function loadPrompts(dir: string = defaultPromptDir(), compiled: CompiledPrompts | undefined = BUILT_PROMPTS): PromptTemplate[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".md")).sort();
  } catch (err) {
    throw new Error(`Cannot read the prompt folder ${dir}: ${(err as Error).message}`);
  }
  const prompts = files.map((f) => {
    const file = join(dir, f);
    const text = readFileSync(file, "utf8");
    const built = compiled && Object.hasOwn(compiled, f) ? compiled[f] : undefined;
    return built && built.text === text ? { ...built.template, file } : parsePromptFile(file, text);
  });
  const seen = new Map<string, string>();
  for (const p of prompts) {
    const other = seen.get(p.name);
    if (other) throw new PromptFileError(p.file, `prompt name ${JSON.stringify(p.name)} is already used by ${other}`);
    seen.set(p.name, p.file);
  }
  return prompts;
}

/** What the build puts in the bundle: each file of dir with its text and its checked template. */
export function compilePrompts(dir: string = defaultPromptDir()): CompiledPrompts {
  const compiled: CompiledPrompts = {};
  for (const { file, ...template } of loadPrompts(dir, undefined)) compiled[basename(file)] = { text: readFileSync(file, "utf8"), template };
  return compiled;
}

export function parsePromptFile(file: string, text: string): PromptTemplate {
  const match = FRONT_MATTER.exec(text);
  if (!match) throw new PromptFileError(file, "must start with YAML front matter between two '---' lines");
  let data: unknown;
  try {
    data = parseYaml(match[1]!);
  } catch (err) {
    throw new PromptFileError(file, `front matter is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
  const parsed = frontMatterSchema().safeParse(data ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? i.path.join(".") : "(front matter)"}: ${i.message}`);
    throw new PromptFileError(file, `bad front matter — ${problems.join("; ")}`);
  }
  const meta = parsed.data;
  const expected = basename(file).replace(/\.md$/, "");
  if (meta.name !== expected) throw new PromptFileError(file, `name ${JSON.stringify(meta.name)} must match the file name (${expected})`);
  const names = meta.arguments.map((a) => a.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new PromptFileError(file, `argument ${JSON.stringify(dup)} is declared twice`);

  const body = match[2]!.trim();
  let used: Set<string>;
  try {
    used = templateVariables(mustache().parse(body));
  } catch (err) {
    throw new PromptFileError(file, `body is not a valid Mustache template: ${(err as Error).message}`);
  }
  const undeclared = [...used].filter((v) => v !== "." && !names.includes(v));
  if (undeclared.length) throw new PromptFileError(file, `body uses undeclared argument(s) ${undeclared.join(", ")}`);

  return {
    name: meta.name,
    title: meta.title,
    description: meta.description,
    arguments: meta.arguments.map((a) => ({
      name: a.name,
      description: a.description,
      required: a.required,
      ...(a.complete ? { complete: a.complete as CompletionSource } : {}),
      ...(a.default !== undefined ? { default: a.default } : {}),
    })),
    body,
    file,
  };
}

/** Names referenced by variable, section and inverted-section tags. */
function templateVariables(tokens: TemplateSpans, into = new Set<string>()): Set<string> {
  for (const token of tokens) {
    const [type, value] = token;
    if (type === "name" || type === "&" || type === "#" || type === "^") into.add(value);
    const children = token[4];
    if (Array.isArray(children)) templateVariables(children as TemplateSpans, into);
  }
  return into;
}

/** Fills the template: blank values count as missing, defaults apply, a missing required argument throws. */
export function renderPrompt(t: PromptTemplate, args: Record<string, string | undefined>): string {
  const view: Record<string, string> = {};
  for (const a of t.arguments) {
    const value = args[a.name]?.trim();
    if (value) view[a.name] = value;
    else if (a.default !== undefined) view[a.name] = a.default;
    else if (a.required) throw new Error(`Prompt ${t.name} needs argument ${a.name}: ${a.description}`);
  }
  const text = mustache().render(t.body, view, {}, { escape: (s: string) => s });
  return text.replace(/\n{3,}/g, "\n\n").trim() + "\n";
}

function argumentSchemaFor(a: PromptArgument, completer: ArgumentCompleter) {
  const description = a.default !== undefined && !/default/i.test(a.description) ? `${a.description} (default ${a.default})` : a.description;
  // Arguments go into the prompt text: bounded, like every answer.
  const text = () => z.string().max(MAX_ARGUMENT_CHARS);
  if (!a.complete) return a.required ? text().describe(description) : text().optional().describe(description);
  const source = a.complete;
  const complete = async (value: string | undefined): Promise<string[]> => {
    try {
      return await completer.complete(source, value ?? "");
    } catch {
      return []; // completion is a convenience: never an error for the client
    }
  };
  // The SDK turns completions on when it sees a completable inside an optional, but completes from
  // the field itself: mark both.
  const inner = completable(text(), complete);
  return a.required ? completable(inner.describe(description), complete) : completable(inner.optional().describe(description), complete);
}

/** Longest value an argument may have: ids, windows and names, never documents. */
export const MAX_ARGUMENT_CHARS = 500;

/** Each template as an MCP prompt returning one user message with the rendered text. */
export function registerPrompts(server: McpServer, prompts: PromptTemplate[], completer: ArgumentCompleter): void {
  for (const t of prompts) {
    const argsSchema = Object.fromEntries(t.arguments.map((a) => [a.name, argumentSchemaFor(a, completer)]));
    server.registerPrompt(t.name, { title: t.title, description: t.description, argsSchema }, (args): GetPromptResult => ({
      description: t.description,
      messages: [{ role: "user", content: { type: "text", text: renderPrompt(t, args as Record<string, string | undefined>) } }],
    }));
  }
}
