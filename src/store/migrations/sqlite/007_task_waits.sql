-- 007_task_waits.sql (SQLite) — tasks parked on a person's answer (store.h, waits).
-- A task whose tool call needs an approval does not hold a worker while it
-- waits: the worker records the wait here and takes the next task.  The answer
-- (or expires_ms passing: a denial) is recorded as the event step_key and the
-- task goes back to its agent's queue, to replay its recorded steps up to the
-- call.  A row per task: its calls are asked one at a time.  Deleting the row
-- is what resumes the task, so of two answers only one resumes it.

CREATE TABLE task_waits (
    task_id     TEXT PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
    call_id     TEXT NOT NULL,
    step_key    TEXT NOT NULL,
    tool        TEXT NOT NULL,
    admin_only  INTEGER NOT NULL DEFAULT 0,
    created_ms  INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL
);
CREATE INDEX task_waits_expiry ON task_waits (expires_ms);
