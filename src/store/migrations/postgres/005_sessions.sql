-- 005_sessions.sql (PostgreSQL) — login sessions, and the log of what ends them.
--
-- A session is the family of refresh tokens one login started (its id is the
-- family id): it ends at its original expiry however often it is refreshed,
-- and revoking it (logout, `errand user revoke`, a replayed refresh token, the
-- API token it was started with being revoked) ends its access tokens too.
CREATE TABLE auth_sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    api_token_id TEXT,                      -- the API token exchanged for it; NULL: a login
    created_ms   BIGINT NOT NULL,
    expires_ms   BIGINT NOT NULL,           -- refreshing never moves it
    refreshed_ms BIGINT,
    revoked_ms   BIGINT                     -- NULL while it is valid
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);
CREATE INDEX auth_sessions_token ON auth_sessions (api_token_id) WHERE api_token_id IS NOT NULL;

-- The families refresh tokens already started, as sessions.
INSERT INTO auth_sessions (id, user_id, created_ms, expires_ms, revoked_ms)
SELECT family_id, MIN(user_id), MIN(created_ms), MAX(expires_ms),
       CASE WHEN COUNT(*) FILTER (WHERE used_ms IS NULL) = 0 THEN MAX(used_ms) END
FROM refresh_tokens GROUP BY family_id;

-- Every change that ends sessions or changes what a user may do, in order.
-- Servers read it every second (a few seqs back: sequence values may commit
-- out of order): they drop what they cached about the user, token or session,
-- and close the WebSockets it opened.  The triggers write it, so a change
-- made any way (errand user, another server, SQL) is seen.
CREATE TABLE auth_changes (
    seq        BIGSERIAL PRIMARY KEY,
    kind       TEXT NOT NULL,               -- 'user', 'token' or 'session'
    subject    TEXT NOT NULL,               -- its id
    user_id    TEXT,
    changed_ms BIGINT NOT NULL
);
CREATE INDEX auth_changes_time ON auth_changes (changed_ms);

CREATE FUNCTION auth_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    now_ms BIGINT := (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT;
BEGIN
    IF TG_TABLE_NAME = 'users' AND TG_OP = 'DELETE' THEN
        INSERT INTO auth_changes (kind, subject, user_id, changed_ms)
        VALUES ('user', OLD.id, OLD.id, now_ms);
    ELSIF TG_TABLE_NAME = 'users' THEN
        IF OLD.role IS DISTINCT FROM NEW.role OR OLD.name IS DISTINCT FROM NEW.name THEN
            INSERT INTO auth_changes (kind, subject, user_id, changed_ms)
            VALUES ('user', NEW.id, NEW.id, now_ms);
        END IF;
    ELSIF OLD.revoked_ms IS NULL AND NEW.revoked_ms IS NOT NULL THEN
        INSERT INTO auth_changes (kind, subject, user_id, changed_ms)
        VALUES (CASE TG_TABLE_NAME WHEN 'api_tokens' THEN 'token' ELSE 'session' END,
                NEW.id, NEW.user_id, now_ms);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER auth_user_changed AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION auth_change();
CREATE TRIGGER auth_token_revoked AFTER UPDATE ON api_tokens
    FOR EACH ROW EXECUTE FUNCTION auth_change();
CREATE TRIGGER auth_session_revoked AFTER UPDATE ON auth_sessions
    FOR EACH ROW EXECUTE FUNCTION auth_change();
