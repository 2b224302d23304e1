-- 003_message_touch.sql (SQLite) — a new message moves its conversation's
-- updated_ms inside the INSERT itself, so appending a message is one statement.

CREATE TRIGGER messages_touch_conversation AFTER INSERT ON messages
BEGIN
    UPDATE conversations SET updated_ms = NEW.created_ms WHERE id = NEW.conversation_id;
END;
