-- 002_auth.sql (PostgreSQL) — what `errand serve` authenticates with: API tokens,
-- rotating refresh tokens, and the OpenID Connect identities users log in as.
-- Tokens are stored only as SHA-256 hex digests; the tokens themselves are
-- shown once, when issued.

CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label      TEXT NOT NULL DEFAULT '',
    token_hash TEXT NOT NULL UNIQUE,     -- also the lookup index
    created_ms BIGINT NOT NULL,
    revoked_ms BIGINT                    -- NULL while the token is valid
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- One row per refresh token; a login starts a family, each refresh adds the
-- next token of the family and marks the presented one used.  Presenting a used
-- token again (a stolen copy) revokes the family.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    used_ms    BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE user_identities (
    issuer     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      TEXT,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
