// Typed errors, raised where a failure is understood and turned into a tool result in one place
// (tools/tool-result.ts). Each carries a stable code a script can branch on and a message a model can act on.

export type ErrorCode =
  /** The request cannot be served as given: say what to give instead. */
  | "bad_input"
  /** Nothing matches: say what exists instead. */
  | "not_found"
  /** A setting the request needs is missing. */
  | "not_configured"
  /** Sentry refused or failed. */
  | "upstream"
  /** The database refused or failed. */
  | "database"
  /** A deadline or statement timeout passed. */
  | "timeout"
  /** The server or an upstream is saturated: try again later. */
  | "busy"
  /** The client cancelled the request. */
  | "cancelled";

export class TraceDoctorError extends Error {
  constructor(
    message: string,
    readonly code: ErrorCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class InputError extends TraceDoctorError {
  constructor(message: string) {
    super(message, "bad_input");
  }
}

export class NotFoundError extends TraceDoctorError {
  constructor(message: string) {
    super(message, "not_found");
  }
}

export class NotConfiguredError extends TraceDoctorError {
  constructor(message: string) {
    super(message, "not_configured");
  }
}

/** The request's deadline (TRACE_DOCTOR_REQUEST_TIMEOUT_MS) passed before it finished. */
export class DeadlineError extends TraceDoctorError {
  constructor(message: string) {
    super(message, "timeout");
  }
}

/** The client cancelled the call, or went away. */
export class CancelledError extends TraceDoctorError {
  constructor(message = "The call was cancelled by the client; its queries were stopped.") {
    super(message, "cancelled");
  }
}

/** The server could not serve the call in time because others hold what it needs. */
export class BusyError extends TraceDoctorError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message, "busy");
  }
}
