-- 012_browser_history.sql (SQLite) — dated snapshots of data the browser
-- agent extracted from a page (include/errand/store_history.h), compared over
-- time by the trend finder (`errand trends`, browser_trends).
--
-- A snapshot is the rows of one extraction (a JSON array, the page's text:
-- untrusted) of a named source (a user's name for what is watched: "hn",
-- "prices"), with the URL it came from and the task that took it.
CREATE TABLE browser_history (
    id       TEXT PRIMARY KEY,
    source   TEXT NOT NULL,
    url      TEXT NOT NULL,
    task_id  TEXT,
    taken_ms INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    rows     TEXT NOT NULL
);
CREATE INDEX browser_history_source ON browser_history (source, taken_ms);
