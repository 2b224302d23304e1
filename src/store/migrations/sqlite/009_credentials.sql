-- 009_credentials.sql (SQLite) — credentials errand holds for outside
-- services (OAuth tokens of `errand auth gmail`), sealed with the secret key
-- (include/errand/secret.h): the store only ever sees ciphertext.
--
-- generation counts the writes of a row: a rotated token is written with
-- UPDATE … WHERE generation = the one read, so of two processes refreshing at
-- once only one replaces the row and the other reads the winner's tokens.
CREATE TABLE credentials (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    account    TEXT NOT NULL DEFAULT '',
    sealed     BLOB NOT NULL,
    generation INTEGER NOT NULL DEFAULT 1,
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL
);
