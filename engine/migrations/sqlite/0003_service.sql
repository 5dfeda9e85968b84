-- The service surface (engine/src/api): API users and their token hashes, idempotency keys
-- committed with what they created, and the append-only audit trail.
CREATE TABLE api_users (
    name TEXT PRIMARY KEY,
    roles TEXT NOT NULL,
    -- the public half of the token, to find the row; the secret half is only hashed
    token_id TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE api_idempotency (
    owner TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX api_idempotency_age ON api_idempotency (created_at);

CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    via TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    order_id TEXT,
    before TEXT,
    after TEXT
);
CREATE INDEX audit_order ON audit (order_id);
-- append-only: no statement may change or remove a row
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
