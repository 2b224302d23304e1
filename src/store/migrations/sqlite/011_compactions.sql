-- 011_compactions.sql (SQLite) — summaries of a conversation's older messages.
--
-- A conversation that outgrows the model's context window has its older
-- messages summarised (compact.h); the summary stands in for the messages up
-- to through_msg_id in what the model reads.  The messages stay as they are.
CREATE TABLE conversation_compactions (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    through_msg_id  INTEGER NOT NULL,
    summary         TEXT NOT NULL,
    task_id         TEXT,
    model           TEXT NOT NULL,
    messages        INTEGER NOT NULL,
    tokens_before   INTEGER NOT NULL,
    created_ms      INTEGER NOT NULL
);
CREATE INDEX conversation_compactions_conv
    ON conversation_compactions (conversation_id, through_msg_id);
