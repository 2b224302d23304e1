-- 004_open_tasks.sql (SQLite) — the tasks that have not ended (queued, routed,
-- running), found without reading the whole table: a partial index holds only
-- them, so it stays a page or two however long the history grows.  The status
-- bound is written out (3 = done) where it is queried, or the planner cannot
-- tell the index applies.

CREATE INDEX tasks_open ON tasks (created_ms) WHERE status < 3;
