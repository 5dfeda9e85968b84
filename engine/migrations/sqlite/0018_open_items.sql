-- The open-items index (issue 19 point 3): one row per open receivable, derived from its
-- `invoice` document by ordo_recon::openitems::index_row on every write of the document, in
-- the writing transaction (store/openitems.rs). Keyed for the reconciliation matcher's
-- lookups: the invoice number normalised as the matcher normalises references (full key and
-- digits-only key), the customer, and the open amount net of payments in transit (as the
-- document states it, scale kept, and its normalised text `amount_key`, so equality is exact on
-- both backends). `ordo recon check-index` compares
-- the table with the documents.
CREATE TABLE open_items (
    invoice TEXT PRIMARY KEY,
    ref_key TEXT NOT NULL,
    digit_key TEXT,
    customer_id TEXT NOT NULL,
    amount_open TEXT NOT NULL,
    amount_key TEXT NOT NULL,
    currency TEXT NOT NULL,
    due_date TEXT NOT NULL,
    issue_date TEXT NOT NULL,
    terms TEXT NOT NULL
);
CREATE INDEX open_items_ref_key ON open_items (ref_key);
CREATE INDEX open_items_digit_key ON open_items (digit_key);
CREATE INDEX open_items_customer ON open_items (customer_id);
CREATE INDEX open_items_amount ON open_items (amount_key);

-- An invoice document that could not be read as an open item (a missing open_amount, a
-- wrong-typed date): kept with its located message, which fails a reconciliation run as
-- reading the document would.
CREATE TABLE open_item_problems (
    invoice TEXT PRIMARY KEY,
    problem TEXT NOT NULL
);

-- Invoices stored before this migration are indexed when the store opens next
-- (store/openitems.rs, `rebuild_open_items`), which deletes this mark.
INSERT INTO kv (key, value) VALUES ('open_items.rebuild', 'migration 0018');
