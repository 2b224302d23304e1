-- 006_task_lease.sql (PostgreSQL) — who runs a task, and until when (store.h, leases).
-- attempt: each worker that takes the task bumps it, and the steps an attempt
-- records are stored only while it is still the task's attempt (fencing): a
-- worker frozen past the broker's heartbeat, whose task went to another, can no
-- longer record anything when it wakes.  owner: the process of the current
-- attempt, for messages.  deadline_ms: set when the task first starts (its time
-- budget plus a margin); a task not ended by then is failed by whoever notices.

ALTER TABLE tasks ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN owner TEXT;
ALTER TABLE tasks ADD COLUMN deadline_ms BIGINT;
