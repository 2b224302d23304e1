-- 010_usage.sql (SQLite) — what each LLM request used and cost
-- (include/errand/store_usage.h).  One row per request sent to a provider (a
-- step replayed from the record costs nothing and adds none).  day is the UTC
-- date of created_ms, kept as text so both dialects group by it alike;
-- cost_micros is in millionths of a US dollar, NULL when the model has no
-- price in llm.prices.  Rows outlive their tasks: usage is history.
CREATE TABLE llm_usage (
    id            INTEGER PRIMARY KEY,
    task_id       TEXT NOT NULL,
    root_id       TEXT NOT NULL,
    user_id       TEXT NOT NULL DEFAULT '',
    agent         TEXT NOT NULL,
    model         TEXT NOT NULL,
    day           TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    input_tokens  INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost_micros   INTEGER
);
CREATE INDEX llm_usage_user_day ON llm_usage (user_id, day);
CREATE INDEX llm_usage_root ON llm_usage (root_id);
