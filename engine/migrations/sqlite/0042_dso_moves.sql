-- The DSO index (issue 17 point 2): per invoice, each day where what it leaves open changes
-- (its issue day, then each later payment's day) with the change (clamped at zero as the report
-- counts it) and, on the issue day, its total (reports/dso.rs `moves`). Rewritten by the store
-- with the aging index at every write of the invoice, in the same transaction
-- (store/openitems.rs). `dso` sums it in SQL per currency and month and runs the open amount
-- up month by month, instead of reading every invoice. Amounts are exact integers (whole units
-- and billionths). An invoice it cannot read is a row of `dso_problems`, which fails `dso`
-- naming it. `ordo report rebuild` recomputes it; `ordo report check` compares.
CREATE TABLE dso_moves (
    invoice TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (typeof(seq) = 'integer'),
    currency TEXT NOT NULL,
    month TEXT NOT NULL,
    day TEXT NOT NULL,
    open_units INTEGER NOT NULL CHECK (typeof(open_units) = 'integer'),
    open_nanos INTEGER NOT NULL CHECK (typeof(open_nanos) = 'integer'),
    invoiced_units INTEGER NOT NULL CHECK (typeof(invoiced_units) = 'integer'),
    invoiced_nanos INTEGER NOT NULL CHECK (typeof(invoiced_nanos) = 'integer'),
    issues INTEGER NOT NULL CHECK (typeof(issues) = 'integer'),
    PRIMARY KEY (invoice, seq)
) WITHOUT ROWID;
-- Covering: the report's GROUP BY reads only this index.
CREATE INDEX dso_moves_month ON dso_moves
    (currency, month, open_units, open_nanos, invoiced_units, invoiced_nanos, issues);

CREATE TABLE dso_problems (
    invoice TEXT PRIMARY KEY,
    problem TEXT NOT NULL
);

-- Invoices stored before this migration are indexed when the store opens next.
INSERT INTO kv (key, value) VALUES ('dso.rebuild', 'migration 0042');
