// What one MCP request carries down to the adapters without every function passing it on: its abort
// signal (client cancellation or disconnect), its deadline, and a counter of the work done, for progress.
// Carried by AsyncLocalStorage; outside a request (scripts, start-up checks) there is no scope.

import { AsyncLocalStorage } from "node:async_hooks";
import { CancelledError, DeadlineError } from "./errors.js";

export interface RequestScope {
  /** Aborted on cancellation, disconnect, or when the deadline passes. */
  signal: AbortSignal;
  /** Epoch ms by which the request must be answered. */
  deadlineMs: number;
  /** The request's deadline in ms, for messages. */
  timeoutMs: number;
  /** Called by adapters after each statement or HTTP call, with what it was. */
  step(what: string): void;
}

const storage = new AsyncLocalStorage<RequestScope>();

export function runInScope<T>(scope: RequestScope, fn: () => Promise<T>): Promise<T> {
  return storage.run(scope, fn);
}

/** Runs fn outside any request: for work shared by calls, which no one call's cancellation may stop. */
export function outsideScope<T>(fn: () => T): T {
  return storage.exit(fn);
}

export function currentScope(): RequestScope | undefined {
  return storage.getStore();
}

/** Throws when the request was cancelled or is past its deadline: check before starting work. */
export function throwIfStopped(scope: RequestScope | undefined = currentScope()): void {
  if (!scope) return;
  if (Date.now() >= scope.deadlineMs) throw deadlineError(scope);
  if (scope.signal.aborted) throw stoppedError(scope);
}

/** Why the scope's signal fired: its deadline, or the client. */
export function stoppedError(scope: RequestScope): Error {
  return Date.now() >= scope.deadlineMs - 5 ? deadlineError(scope) : new CancelledError();
}

export function deadlineError(scope: RequestScope): DeadlineError {
  return new DeadlineError(
    `The call did not finish within its ${scope.timeoutMs} ms deadline (TRACE_DOCTOR_REQUEST_TIMEOUT_MS); its queries were stopped. Narrow it (a shorter window, a trace_id, a smaller sample) or raise the deadline.`,
  );
}

/** Milliseconds left before the deadline (Infinity outside a request). */
export function remainingMs(scope: RequestScope | undefined = currentScope()): number {
  return scope ? Math.max(0, scope.deadlineMs - Date.now()) : Infinity;
}
