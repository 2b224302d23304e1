-- 008_memory.sql (PostgreSQL) — shared memory: items, their full-text index,
-- and the embeddings of their texts (include/errand/store_memory.h).
--
-- The same tables as SQLite's 008 (read the comments there); the full text is
-- a generated tsvector column with a GIN index, ranked with ts_rank_cd.  The
-- vectors are plain bytea searched in errand: pgvector is not required.
CREATE TABLE memory_items (
    seq        BIGSERIAL PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL DEFAULT '',
    scope      TEXT NOT NULL,
    scope_id   TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL,
    source     TEXT NOT NULL DEFAULT '',
    untrusted  INTEGER NOT NULL DEFAULT 0,
    hash       TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    expires_ms BIGINT,
    tsv        tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED
);
CREATE UNIQUE INDEX memory_items_place ON memory_items (user_id, scope, scope_id, hash);
CREATE INDEX memory_items_recent ON memory_items (user_id, updated_ms);
CREATE INDEX memory_items_hash ON memory_items (hash);
CREATE INDEX memory_items_tsv ON memory_items USING GIN (tsv);

CREATE FUNCTION memory_user_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM memory_items WHERE user_id = OLD.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER memory_items_user_gone AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION memory_user_gone();

CREATE TABLE memory_vectors (
    seq        BIGSERIAL PRIMARY KEY,
    model      TEXT NOT NULL,
    hash       TEXT NOT NULL,
    dim        INTEGER NOT NULL,
    vec        BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    UNIQUE (model, hash)
);

-- The graph (read the comments in SQLite's 008).
CREATE TABLE memory_entities (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    type       TEXT NOT NULL DEFAULT '',
    created_ms BIGINT NOT NULL
);
CREATE TABLE memory_aliases (
    user_id   TEXT NOT NULL,
    alias     TEXT NOT NULL,
    entity_id TEXT NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, alias)
);
CREATE TABLE memory_relations (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL DEFAULT '',
    subject_id TEXT NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    predicate  TEXT NOT NULL,
    object_id  TEXT NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    confidence DOUBLE PRECISION NOT NULL DEFAULT 1,
    source     TEXT NOT NULL DEFAULT '',
    valid_from BIGINT,
    valid_to   BIGINT,
    created_ms BIGINT NOT NULL,
    UNIQUE (user_id, subject_id, predicate, object_id)
);
CREATE INDEX memory_relations_subject ON memory_relations (subject_id);
CREATE INDEX memory_relations_object ON memory_relations (object_id);

CREATE OR REPLACE FUNCTION memory_user_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM memory_items WHERE user_id = OLD.id;
    DELETE FROM memory_entities WHERE user_id = OLD.id;
    RETURN NULL;
END
$$;
