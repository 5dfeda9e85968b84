-- The web console (engine/src/console): a user's password (argon2 PHC string; set by
-- `ordo users passwd`) and the sessions of signed-in browsers. A session row is keyed by the
-- SHA-256 of the cookie's secret, so the store never holds a usable cookie; every process of
-- a cluster reads the same rows.
ALTER TABLE api_users ADD COLUMN password_hash TEXT;

CREATE TABLE console_sessions (
    id TEXT PRIMARY KEY,
    user_name TEXT NOT NULL REFERENCES api_users (name),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
