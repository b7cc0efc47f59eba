-- trace-doctor: the table contract for trace spans, and the indexes its tools use.
-- Idempotent: `trace-doctor init-db` applies it; running it twice changes nothing.
-- The tools also read variants of this table: ids typed uuid, duration_ms float
-- or absent (derived from completed_at), and extra columns.

CREATE TABLE IF NOT EXISTS trace_spans (
  id             BIGSERIAL PRIMARY KEY,
  trace_id       TEXT        NOT NULL,
  span_id        TEXT        NOT NULL,
  parent_span_id TEXT,                    -- NULL for a root, or unknown
  service        TEXT        NOT NULL,    -- 'runner', 'router', 'modal', ...
  operation      TEXT        NOT NULL,    -- 'execute_question', 'inference_request', ...
  started_at     TIMESTAMPTZ NOT NULL,
  completed_at   TIMESTAMPTZ,             -- NULL while running, or if it never finished
  duration_ms    INTEGER,                 -- may be NULL: derive from completed_at
  status         TEXT        NOT NULL,    -- 'started' | 'completed' | 'failed' | 'error' | 'timeout'
  error_message  TEXT,
  metadata       JSONB       NOT NULL DEFAULT '{}'
);

-- get_trace: every span of a trace.
CREATE INDEX IF NOT EXISTS trace_spans_trace_id_idx ON trace_spans (trace_id);
-- get_trace by job_id, and hops linked only by job_id (the router does not yet propagate trace_id).
CREATE INDEX IF NOT EXISTS trace_spans_job_id_idx ON trace_spans ((metadata->>'job_id'));
-- time windows: recent failures, recent traces.
CREATE INDEX IF NOT EXISTS trace_spans_started_at_idx ON trace_spans (started_at);
-- list_failed_spans: failing spans (and spans still 'started') by time. Partial, so it stays small;
-- queries repeat this predicate verbatim so the planner can prove they match it.
CREATE INDEX IF NOT EXISTS trace_spans_failures_idx ON trace_spans (started_at)
  WHERE lower(status) IN ('failed', 'error', 'timeout', 'started');
-- list_failed_spans' contrast samples and examples, diagnose's cluster of one execution: the failing
-- spans of one operation over time, newest first, without walking every other operation's failures.
CREATE INDEX IF NOT EXISTS trace_spans_operation_failures_idx ON trace_spans (service, operation, started_at)
  WHERE lower(status) IN ('failed', 'error', 'timeout', 'started');
-- success baselines and per-operation counts: one operation over time (status included, so counting
-- successes and failures is an index-only scan).
CREATE INDEX IF NOT EXISTS trace_spans_operation_idx ON trace_spans (service, operation, started_at) INCLUDE (status);
-- find_gaps: recent executions (root spans: no parent, NULL or '') in a window. Queries repeat the
-- predicate verbatim.
CREATE INDEX IF NOT EXISTS trace_spans_roots_idx ON trace_spans (started_at) WHERE parent_span_id IS NULL OR parent_span_id = '';
