-- 003_message_touch.sql (PostgreSQL) — a new message moves its conversation's
-- updated_ms inside the INSERT itself, so appending a message is one statement
-- (one round trip, atomic without a transaction around it).

CREATE FUNCTION messages_touch_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE conversations SET updated_ms = NEW.created_ms WHERE id = NEW.conversation_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER messages_touch_conversation AFTER INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_touch_conversation();
