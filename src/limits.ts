// The ceilings every request runs under, defined once: settings default to them (config.ts) and the
// server, the answer budget and the Sentry client read them from here.

/** Each call's deadline, covering all its statements and Sentry calls (TRACE_DOCTOR_REQUEST_TIMEOUT_MS). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** The whole answer of a tool, resource or prompt: text and structured content (TRACE_DOCTOR_MAX_ANSWER_BYTES). */
export const DEFAULT_MAX_ANSWER_BYTES = 100_000;
/** The largest Sentry response body read (TRACE_DOCTOR_SENTRY_MAX_BYTES). */
export const DEFAULT_SENTRY_MAX_BYTES = 8_000_000;
