-- ordo core schema (PostgreSQL). Quantities are NUMERIC; times are epoch millis;
-- JSON is kept as TEXT holding exact numbers (serde_json arbitrary precision).

CREATE TABLE workflow_defs (
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    source_hash TEXT NOT NULL,
    path TEXT NOT NULL,
    source TEXT NOT NULL,
    loaded_at BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    version BIGINT NOT NULL,
    business_key TEXT NOT NULL,
    status TEXT NOT NULL,
    step TEXT NOT NULL,
    history_seq BIGINT NOT NULL DEFAULT 0,
    token BIGINT NOT NULL,
    attempt BIGINT NOT NULL,
    data TEXT NOT NULL,
    error TEXT,
    end_status TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX instances_key ON instances (workflow, business_key);
CREATE INDEX instances_business_key ON instances (business_key);
CREATE INDEX instances_status ON instances (status);

CREATE TABLE history (
    instance_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    step TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    outcome TEXT,
    detail TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);

CREATE TABLE inbox (
    msg_id TEXT PRIMARY KEY,
    processed_at BIGINT NOT NULL
);

-- Outbox of step messages: written in the step transaction, published to RabbitMQ after commit.
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    msg_id TEXT NOT NULL,
    body BYTEA NOT NULL,
    deliver_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Messages for the outside world, delivered after commit, once per (channel, key).
CREATE TABLE outbound (
    id BIGSERIAL PRIMARY KEY,
    channel TEXT NOT NULL,
    key TEXT NOT NULL,
    instance_id TEXT,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (channel, key)
);
CREATE INDEX outbound_unsent ON outbound (sent_at, id);

CREATE TABLE timers (
    id BIGSERIAL PRIMARY KEY,
    instance_id TEXT NOT NULL,
    step TEXT NOT NULL,
    token BIGINT NOT NULL,
    fire_at BIGINT NOT NULL
);
CREATE INDEX timers_due ON timers (fire_at);
CREATE INDEX timers_instance ON timers (instance_id);

CREATE TABLE waits (
    instance_id TEXT PRIMARY KEY,
    step TEXT NOT NULL,
    token BIGINT NOT NULL,
    event TEXT NOT NULL,
    business_key TEXT NOT NULL
);
CREATE INDEX waits_event ON waits (event, business_key);

CREATE TABLE pending_events (
    id BIGSERIAL PRIMARY KEY,
    event TEXT NOT NULL,
    business_key TEXT NOT NULL,
    outcome TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX pending_events_key ON pending_events (event, business_key, id);

CREATE TABLE tasks (
    id BIGSERIAL PRIMARY KEY,
    instance_id TEXT NOT NULL,
    step TEXT NOT NULL,
    token BIGINT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    note TEXT,
    created_at BIGINT NOT NULL,
    due_at BIGINT,
    decided_at BIGINT
);
CREATE INDEX tasks_status ON tasks (status);

CREATE TABLE documents (
    kind TEXT NOT NULL,
    -- C collation: prefix listing compares ids bytewise, whatever the database locale.
    id TEXT COLLATE "C" NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);

CREATE TABLE number_series (
    series TEXT PRIMARY KEY,
    last_value BIGINT NOT NULL
);

CREATE TABLE stock (
    item TEXT NOT NULL,
    location TEXT NOT NULL,
    quantity NUMERIC NOT NULL,
    PRIMARY KEY (item, location)
);

CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
