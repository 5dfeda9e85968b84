-- ordo core schema (SQLite). Money and quantities are TEXT holding canonical decimal strings:
-- SQLite's NUMERIC affinity would turn them into REAL or rounded integers. Times are epoch millis.

CREATE TABLE workflow_defs (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    source_hash TEXT NOT NULL,
    path TEXT NOT NULL,
    source TEXT NOT NULL,
    loaded_at INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);

CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    version INTEGER NOT NULL,
    business_key TEXT NOT NULL,
    status TEXT NOT NULL,
    step TEXT NOT NULL,
    history_seq INTEGER NOT NULL DEFAULT 0,
    token INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    data TEXT NOT NULL,
    error TEXT,
    end_status TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX instances_key ON instances (workflow, business_key);
CREATE INDEX instances_business_key ON instances (business_key);
CREATE INDEX instances_status ON instances (status);

CREATE TABLE history (
    instance_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    step TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    outcome TEXT,
    detail TEXT NOT NULL,
    PRIMARY KEY (instance_id, seq)
);

CREATE TABLE inbox (
    msg_id TEXT PRIMARY KEY,
    processed_at INTEGER NOT NULL
);

-- Embedded queue: step messages. The step transaction inserts the next messages and deletes
-- the consumed ones, so enqueue and ack commit with the step.
CREATE TABLE queue_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id TEXT NOT NULL,
    body BLOB NOT NULL,
    visible_at INTEGER NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 0,
    dead INTEGER NOT NULL DEFAULT 0,
    dead_reason TEXT
);
CREATE INDEX queue_messages_ready ON queue_messages (dead, visible_at, seq);

-- Outbox of step messages for a broker. The embedded backend enqueues directly into
-- queue_messages instead; the table exists so both stores share one schema shape.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id TEXT NOT NULL,
    body BLOB NOT NULL,
    deliver_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- Messages for the outside world, delivered after commit, once per (channel, key).
CREATE TABLE outbound (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    key TEXT NOT NULL,
    instance_id TEXT,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    UNIQUE (channel, key)
);
CREATE INDEX outbound_unsent ON outbound (sent_at, id);

CREATE TABLE timers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    step TEXT NOT NULL,
    token INTEGER NOT NULL,
    fire_at INTEGER NOT NULL
);
CREATE INDEX timers_due ON timers (fire_at);
CREATE INDEX timers_instance ON timers (instance_id);

CREATE TABLE waits (
    instance_id TEXT PRIMARY KEY,
    step TEXT NOT NULL,
    token INTEGER NOT NULL,
    event TEXT NOT NULL,
    business_key TEXT NOT NULL
);
CREATE INDEX waits_event ON waits (event, business_key);

CREATE TABLE pending_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event TEXT NOT NULL,
    business_key TEXT NOT NULL,
    outcome TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX pending_events_key ON pending_events (event, business_key, id);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL,
    step TEXT NOT NULL,
    token INTEGER NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    note TEXT,
    created_at INTEGER NOT NULL,
    due_at INTEGER,
    decided_at INTEGER
);
CREATE INDEX tasks_status ON tasks (status);

CREATE TABLE documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);

CREATE TABLE number_series (
    series TEXT PRIMARY KEY,
    last_value INTEGER NOT NULL
);

CREATE TABLE stock (
    item TEXT NOT NULL,
    location TEXT NOT NULL,
    quantity TEXT NOT NULL,
    PRIMARY KEY (item, location)
);

CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
