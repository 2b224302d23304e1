-- 005_sessions.sql (SQLite) — login sessions, and the log of what ends them.
--
-- A session is the family of refresh tokens one login started (its id is the
-- family id): it ends at its original expiry however often it is refreshed,
-- and revoking it (logout, `errand user revoke`, a replayed refresh token, the
-- API token it was started with being revoked) ends its access tokens too.
CREATE TABLE auth_sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    api_token_id TEXT,                      -- the API token exchanged for it; NULL: a login
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL,          -- refreshing never moves it
    refreshed_ms INTEGER,
    revoked_ms   INTEGER                    -- NULL while it is valid
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);
CREATE INDEX auth_sessions_token ON auth_sessions (api_token_id) WHERE api_token_id IS NOT NULL;

-- The families refresh tokens already started, as sessions.
INSERT INTO auth_sessions (id, user_id, created_ms, expires_ms, revoked_ms)
SELECT family_id, MIN(user_id), MIN(created_ms), MAX(expires_ms),
       CASE WHEN SUM(used_ms IS NULL) = 0 THEN MAX(used_ms) END
FROM refresh_tokens GROUP BY family_id;

-- Every change that ends sessions or changes what a user may do, in order.
-- Servers read it every second: they drop what they cached about the user,
-- token or session, and close the WebSockets it opened.  The triggers write
-- it, so a change made any way (errand user, another server, SQL) is seen.
-- AUTOINCREMENT: old rows are pruned, and a seq must never come back.
CREATE TABLE auth_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,               -- 'user', 'token' or 'session'
    subject    TEXT NOT NULL,               -- its id
    user_id    TEXT,
    changed_ms INTEGER NOT NULL
);
CREATE INDEX auth_changes_time ON auth_changes (changed_ms);

CREATE TRIGGER auth_user_changed AFTER UPDATE OF role, name ON users
WHEN OLD.role IS NOT NEW.role OR OLD.name IS NOT NEW.name
BEGIN
    INSERT INTO auth_changes (kind, subject, user_id, changed_ms)
    VALUES ('user', NEW.id, NEW.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER auth_user_deleted AFTER DELETE ON users
BEGIN
    INSERT INTO auth_changes (kind, subject, user_id, changed_ms)
    VALUES ('user', OLD.id, OLD.id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER auth_token_revoked AFTER UPDATE OF revoked_ms ON api_tokens
WHEN OLD.revoked_ms IS NULL AND NEW.revoked_ms IS NOT NULL
BEGIN
    INSERT INTO auth_changes (kind, subject, user_id, changed_ms)
    VALUES ('token', NEW.id, NEW.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER auth_session_revoked AFTER UPDATE OF revoked_ms ON auth_sessions
WHEN OLD.revoked_ms IS NULL AND NEW.revoked_ms IS NOT NULL
BEGIN
    INSERT INTO auth_changes (kind, subject, user_id, changed_ms)
    VALUES ('session', NEW.id, NEW.user_id, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
