// Every threshold and sample size the diagnosis uses, defined once: settings, tool inputs and the
// core read them from here, and the README's settings table quotes them.

/** A failure faster than this is "immediate": too fast for a network round trip (TRACE_DOCTOR_IMMEDIATE_MS). */
export const IMMEDIATE_MS = 100;
/** A span still 'started' after this long counts as unfinished (TRACE_DOCTOR_UNFINISHED_AFTER_MS). */
export const UNFINISHED_AFTER_MS = 600_000;

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** Windows default to the last day; baselines are learned from the day before the execution judged. */
export const DEFAULT_WINDOW = "24h";
export const LOOKBACK_MS = DAY_MS;
/** A baseline or cluster window reaches this far past the execution judged, never past now. */
export const LOOKAHEAD_MS = HOUR_MS;

/** Successful executions a baseline is learned from (find_gaps and diagnose `sample`). */
export const BASELINE_SAMPLE = 300;
export const MIN_SAMPLE = 10;
export const MAX_SAMPLE = 2000;
/** Fewer successful executions than this and missing hops are not judged. */
export const MIN_BASELINE_EXECUTIONS = 5;
/** Most spans read for one baseline or aggregate sample. */
export const BASELINE_SPAN_LIMIT = 50_000;

/** Gaps shorter than this are noise (find_gaps `min_gap_ms`). */
export const MIN_GAP_MS = 50;
/** Without a baseline, a cross-service hand-off slower than this is reported (find_gaps `slow_handoff_ms`). */
export const SLOW_HANDOFF_MS = 250;
/** A hop present in at least this share of successful executions is expected. */
export const EXPECTED_HOP_SHARE = 0.9;

/** The metadata contrast reads at most this many of the latest failures and successes of a cluster. */
export const CONTRAST_SAMPLE = 500;
/** A metadata key with more distinct values than max(3, this share of the sample) behaves like an id: no contrast. */
export const ID_LIKE_SHARE = 0.5;
/** list_failed_spans counts an operation's spans in scope exactly up to this many; beyond, it estimates them. */
export const OPERATION_COUNT_EXACT = 5_000;
/** The estimate reads the newest OPERATION_SLICE_SAMPLE spans of each of OPERATION_SLICES equal slices of the window. */
export const OPERATION_SLICES = 24;
export const OPERATION_SLICE_SAMPLE = 100;
/** Clusters whose metadata is contrasted with successes (one bounded query each). */
export const CONTRASTED_CLUSTERS = 5;
/** list_failed_spans guesses its clusters from this many newest failures, to start their contrasts early. */
export const GUESS_SAMPLE = 2000;
/** Contrasts are started ahead only when this many pooled connections are idle (cluster statement, page, the rest). */
export const PREFETCH_MIN_IDLE = 3;
/** diagnose reads at most this many of the latest failures of an execution's cluster; more, and its count is "at least". */
export const CLUSTER_SAMPLE = 200;
/** diagnose's success rate of an operation is over at most this many of its latest spans. */
export const OUTCOME_SAMPLE = 1000;

/** A job_id lookup joins at most this many traces (the most recent). */
export const MAX_TRACES_PER_JOB = 20;
/** Hops linked by a correlation key are pulled in when they start within this margin of the trace. */
export const LINK_MARGIN_MS = 60_000;

/** An empty list_failed_spans answer counts the window's spans, and its failing ones, up to this many each. */
export const WINDOW_SUMMARY_CAP = 10_000;
