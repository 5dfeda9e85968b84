-- The receivables aging index (issue 17 point 2): one row per invoice that the aging counts
-- (not paid or cancelled, open amount not zero) with its currency, due date and open amount as
-- exact integers (whole units and billionths, as the sales aggregates keep money), so `aging`
-- and the console's Finance page sum it in SQL per currency and due date instead of reading
-- every unclosed invoice. Written by the store with the open-items index, from the text of every
-- `invoice` document written, in the writing transaction (store/openitems.rs). A document the
-- aging cannot read is a row of `aging_problems` instead, which fails the report naming it. `ordo report rebuild` recomputes it; `ordo report check` compares.
CREATE TABLE aging_items (
    invoice TEXT PRIMARY KEY,
    currency TEXT NOT NULL,
    due_date TEXT NOT NULL,
    open_units INTEGER NOT NULL CHECK (typeof(open_units) = 'integer'),
    open_nanos INTEGER NOT NULL CHECK (typeof(open_nanos) = 'integer')
) WITHOUT ROWID;
-- Covering: the report's GROUP BY reads only this index.
CREATE INDEX aging_items_due ON aging_items (currency, due_date, open_units, open_nanos);

-- An invoice document the aging cannot read (a missing open_amount or due date, an amount
-- with more than 9 decimals): kept with its located message, which fails the aging report.
CREATE TABLE aging_problems (
    invoice TEXT PRIMARY KEY,
    problem TEXT NOT NULL
);

-- Invoices stored before this migration are indexed when the store opens next, which deletes
-- this mark.
INSERT INTO kv (key, value) VALUES ('aging.rebuild', 'migration 0040');
