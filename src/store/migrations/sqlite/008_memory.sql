-- 008_memory.sql (SQLite) — shared memory: items, their full-text index, and
-- the embeddings of their texts (include/errand/store_memory.h).
--
-- An item is one piece of text an agent or a user chose to keep.  It belongs
-- to a user (user_id; '' for memory every user shares) and to a scope
-- ('user', 'conversation', 'agent', 'global') with the scope's own id
-- (scope_id: a conversation id, an agent name; '' for none).  Saving the same
-- text again in the same place updates the item (the unique key below, on the
-- SHA-256 of the text) instead of storing a copy.  seq is the FTS5 rowid: an
-- INTEGER PRIMARY KEY keeps it stable across VACUUM, which a plain rowid is not.
CREATE TABLE memory_items (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    user_id    TEXT NOT NULL DEFAULT '',
    scope      TEXT NOT NULL,
    scope_id   TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL,
    text       TEXT NOT NULL,
    source     TEXT NOT NULL DEFAULT '',
    untrusted  INTEGER NOT NULL DEFAULT 0,   -- 1: came from outside content (pages, mail)
    hash       TEXT NOT NULL,                -- SHA-256 of text, hex
    created_ms INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    expires_ms INTEGER                       -- NULL: kept until forgotten
);
CREATE UNIQUE INDEX memory_items_place ON memory_items (user_id, scope, scope_id, hash);
CREATE INDEX memory_items_recent ON memory_items (user_id, updated_ms);
CREATE INDEX memory_items_hash ON memory_items (hash);

-- BM25 over the texts: an external-content FTS5 table kept in step by triggers.
CREATE VIRTUAL TABLE memory_fts USING fts5(
    text, content = 'memory_items', content_rowid = 'seq',
    tokenize = 'porter unicode61 remove_diacritics 2');
CREATE TRIGGER memory_items_ai AFTER INSERT ON memory_items BEGIN
    INSERT INTO memory_fts (rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER memory_items_ad AFTER DELETE ON memory_items BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER memory_items_au AFTER UPDATE OF text ON memory_items BEGIN
    INSERT INTO memory_fts (memory_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    INSERT INTO memory_fts (rowid, text) VALUES (new.seq, new.text);
END;

-- A deleted user's own memories go with them.
CREATE TRIGGER memory_items_user_gone AFTER DELETE ON users BEGIN
    DELETE FROM memory_items WHERE user_id = old.id;
END;

-- One embedding per (model, text hash): the vectors of the items and the
-- cache that spares asking the provider twice for one text.  vec: dim
-- little-endian float32 values, L2-normalised.
CREATE TABLE memory_vectors (
    seq        INTEGER PRIMARY KEY,
    model      TEXT NOT NULL,
    hash       TEXT NOT NULL,
    dim        INTEGER NOT NULL,
    vec        BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (model, hash)
);

-- The graph: entities (one row per thing, found again by any of its names),
-- and relations between them (subject, predicate, object), each with the
-- confidence and source of whoever stated it and when it holds.  Like items,
-- they belong to a user or ('') to everyone.  Names are matched normalised
-- (lower case, single spaces): memory_aliases maps every known name to its entity.
CREATE TABLE memory_entities (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL DEFAULT '',
    name       TEXT NOT NULL,
    type       TEXT NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL
);
CREATE TABLE memory_aliases (
    user_id   TEXT NOT NULL,
    alias     TEXT NOT NULL,                 -- normalised
    entity_id TEXT NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, alias)
);
CREATE TABLE memory_relations (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL DEFAULT '',
    subject_id TEXT NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    predicate  TEXT NOT NULL,
    object_id  TEXT NOT NULL REFERENCES memory_entities (id) ON DELETE CASCADE,
    confidence REAL NOT NULL DEFAULT 1,
    source     TEXT NOT NULL DEFAULT '',
    valid_from INTEGER,
    valid_to   INTEGER,
    created_ms INTEGER NOT NULL,
    UNIQUE (user_id, subject_id, predicate, object_id)
);
CREATE INDEX memory_relations_subject ON memory_relations (subject_id);
CREATE INDEX memory_relations_object ON memory_relations (object_id);
CREATE TRIGGER memory_graph_user_gone AFTER DELETE ON users BEGIN
    DELETE FROM memory_entities WHERE user_id = old.id;
END;
