-- 009_credentials.sql (PostgreSQL) — the same table as SQLite's 009 (read
-- the comments there): sealed credentials of outside services.
CREATE TABLE credentials (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    account    TEXT NOT NULL DEFAULT '',
    sealed     BYTEA NOT NULL,
    generation BIGINT NOT NULL DEFAULT 1,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
