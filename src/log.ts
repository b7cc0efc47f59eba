// Diagnostics for operators. stdout belongs to the MCP protocol, so lines go to stderr (info and above),
// and to every connected client that turned logging on (notifications/message, at the level it set with
// logging/setLevel). Known secrets are scrubbed from every line before it goes anywhere.

export type LogLevel = "debug" | "info" | "notice" | "warning" | "error";

type Sink = (level: LogLevel, message: string) => void;

const sinks = new Set<Sink>();
/** Per sink, whether it takes a line of this level now; a sink without one takes every line. */
const wants = new Map<Sink, (level: LogLevel) => boolean>();
let secrets: string[] = [];

/** Values that must never be logged (the Sentry token, the database password, the HTTP token). */
export function setLogSecrets(values: readonly string[]): void {
  secrets = values.filter((v) => v.length >= 4);
}

export function scrubSecrets(text: string): string {
  let out = text;
  for (const s of secrets) out = out.split(s).join("***");
  return out.replace(/(postgres(?:ql)?:\/\/[^:/@\s]+):[^@\s]*@/gi, "$1:***@");
}

/**
 * Receives every line from now on (those `accepts` takes, when given: a debug line nobody takes is
 * not even scrubbed); returns the unsubscribe.
 */
export function onLog(sink: Sink, accepts?: (level: LogLevel) => boolean): () => void {
  sinks.add(sink);
  if (accepts) wants.set(sink, accepts);
  return () => {
    sinks.delete(sink);
    wants.delete(sink);
  };
}

function write(level: LogLevel, message: string): void {
  if (level === "debug" && ![...sinks].some((sink) => wants.get(sink)?.(level) ?? true)) return;
  const line = scrubSecrets(message);
  if (level !== "debug") process.stderr.write(`[trace-doctor] ${level === "error" ? "error: " : level === "warning" ? "warning: " : ""}${line}\n`);
  for (const sink of sinks) {
    try {
      sink(level, line);
    } catch {
      // a client that went away must not stop the log
    }
  }
}

export const logDebug = (message: string) => write("debug", message);
export const logInfo = (message: string) => write("info", message);
export const logWarning = (message: string) => write("warning", message);
export const logError = (message: string) => write("error", message);
