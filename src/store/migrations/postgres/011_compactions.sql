-- 011_compactions.sql (PostgreSQL) — summaries of a conversation's older messages.
--
-- A conversation that outgrows the model's context window has its older
-- messages summarised (compact.h); the summary stands in for the messages up
-- to through_msg_id in what the model reads.  The messages stay as they are.
CREATE TABLE conversation_compactions (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    through_msg_id  BIGINT NOT NULL,
    summary         TEXT NOT NULL,
    task_id         TEXT,
    model           TEXT NOT NULL,
    messages        BIGINT NOT NULL,
    tokens_before   BIGINT NOT NULL,
    created_ms      BIGINT NOT NULL
);
CREATE INDEX conversation_compactions_conv
    ON conversation_compactions (conversation_id, through_msg_id);
