-- 012_browser_history.sql (PostgreSQL) — dated snapshots of extracted page
-- data for the trend finder; the same table as SQLite's 012 (read the
-- comments there).
CREATE TABLE browser_history (
    id       TEXT PRIMARY KEY,
    source   TEXT NOT NULL,
    url      TEXT NOT NULL,
    task_id  TEXT,
    taken_ms BIGINT NOT NULL,
    count    INTEGER NOT NULL,
    rows     TEXT NOT NULL
);
CREATE INDEX browser_history_source ON browser_history (source, taken_ms);
