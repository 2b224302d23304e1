-- 001_init.sql (SQLite) — users, conversations, messages, tasks, task events, agent configs.
-- Times are milliseconds since the epoch; ids are UUIDv7 text except the
-- integer ids of messages and events, whose order is the order of insertion
-- (INTEGER PRIMARY KEY gives max + 1; rows are never deleted one by one, so
-- AUTOINCREMENT, which costs a write to sqlite_sequence per insert, is not needed).

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL DEFAULT 'user',
    created_ms INTEGER NOT NULL
);

CREATE TABLE conversations (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title      TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
CREATE INDEX conversations_user ON conversations (user_id, updated_ms);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    task_id         TEXT,
    role            TEXT NOT NULL,
    content         TEXT NOT NULL,
    created_ms      INTEGER NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- status: 0 queued, 1 routed, 2 running, 3 done, 4 failed, 5 cancelled (store.h);
-- it only moves forward, which the UPDATEs in src/store/tasks.c enforce.
CREATE TABLE tasks (
    id              TEXT PRIMARY KEY,
    parent_id       TEXT,
    conversation_id TEXT,
    user_id         TEXT,
    trace_id        TEXT,
    agent           TEXT,
    request         TEXT NOT NULL DEFAULT '',
    result          TEXT,
    error           TEXT,
    meta            TEXT,
    status          INTEGER NOT NULL DEFAULT 0 CHECK (status BETWEEN 0 AND 5),
    tokens_in       INTEGER NOT NULL DEFAULT 0,
    tokens_out      INTEGER NOT NULL DEFAULT 0,
    created_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);
-- Every index costs a page write per insert, and tasks are written on the hot
-- path: index what is looked up (a user's tasks, a task's children, a
-- conversation's tasks).  status is deliberately not indexed: it changes on
-- every advance, and lists by status alone are rare and small.
CREATE INDEX tasks_user ON tasks (user_id, created_ms);
CREATE INDEX tasks_parent ON tasks (parent_id, created_ms) WHERE parent_id IS NOT NULL;
CREATE INDEX tasks_conversation ON tasks (conversation_id, created_ms)
    WHERE conversation_id IS NOT NULL;

CREATE TABLE task_events (
    id         INTEGER PRIMARY KEY,
    task_id    TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    step_key   TEXT,
    kind       TEXT NOT NULL,
    data       TEXT,
    created_ms INTEGER NOT NULL,
    UNIQUE (task_id, step_key)   -- also the index for a task's events
);

CREATE TABLE agent_configs (
    agent      TEXT PRIMARY KEY,
    config     TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
);
