-- The sales aggregates (issue 17 point 2): what the `sales` report reads instead of every
-- invoice. Kept by the store in the transaction that first writes an `invoice` or
-- `credit_note` document (store/sales.rs): the document is marked in `sales_counted` once
-- (its primary key: a rewrite of the invoice, e.g. a payment, adds nothing), and its lines are
-- added per day and key. Amounts and quantities are exact: a whole part and billionths, both
-- integers, so SQL SUM adds them without rounding (a value with more than 9 decimals is a
-- problem row, never rounded). A credit note adds its lines negated. `ordo report rebuild`
-- recomputes all of it from the documents; `ordo report check` compares.
CREATE TABLE sales_counted (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX sales_counted_order ON sales_counted (order_id);

-- A document that could not be counted (not readable as an invoice, no stored order, a value
-- the aggregates cannot hold exactly): the sales report fails naming it until it is rewritten
-- or the aggregates are rebuilt.
CREATE TABLE sales_problems (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    problem TEXT NOT NULL,
    PRIMARY KEY (kind, id)
);

-- Per day, currency and item: net revenue, quantity, invoices holding the item.
CREATE TABLE sales_items_day (
    day TEXT NOT NULL, week TEXT NOT NULL, month TEXT NOT NULL, quarter TEXT NOT NULL,
    currency TEXT NOT NULL, item TEXT NOT NULL,
    net_units BIGINT NOT NULL, net_nanos BIGINT NOT NULL,
    qty_units BIGINT NOT NULL, qty_nanos BIGINT NOT NULL,
    invoices BIGINT NOT NULL,
    PRIMARY KEY (day, currency, item)
);

-- The same per day and every key (customer, item, channel, partner).
CREATE TABLE sales_lines_day (
    day TEXT NOT NULL, week TEXT NOT NULL, month TEXT NOT NULL, quarter TEXT NOT NULL,
    currency TEXT NOT NULL, customer TEXT NOT NULL, item TEXT NOT NULL, channel TEXT NOT NULL,
    partner TEXT NOT NULL,
    net_units BIGINT NOT NULL, net_nanos BIGINT NOT NULL,
    qty_units BIGINT NOT NULL, qty_nanos BIGINT NOT NULL,
    invoices BIGINT NOT NULL,
    PRIMARY KEY (day, currency, customer, item, channel, partner)
);

-- Documents per day and currency: invoices, credit notes, orders (counted with their first
-- invoice).
CREATE TABLE sales_totals_day (
    day TEXT NOT NULL, week TEXT NOT NULL, month TEXT NOT NULL, quarter TEXT NOT NULL,
    currency TEXT NOT NULL,
    invoices BIGINT NOT NULL, credit_notes BIGINT NOT NULL, orders BIGINT NOT NULL,
    PRIMARY KEY (day, currency)
);

-- The same per day and document key (customer, channel, partner).
CREATE TABLE sales_docs_day (
    day TEXT NOT NULL, week TEXT NOT NULL, month TEXT NOT NULL, quarter TEXT NOT NULL,
    currency TEXT NOT NULL, customer TEXT NOT NULL, channel TEXT NOT NULL, partner TEXT NOT NULL,
    invoices BIGINT NOT NULL, credit_notes BIGINT NOT NULL, orders BIGINT NOT NULL,
    PRIMARY KEY (day, currency, customer, channel, partner)
);

-- Documents stored before this migration are counted when the store opens next
-- (store/sales.rs, `rebuild_sales_if_marked`), which deletes this mark.
INSERT INTO kv (key, value) VALUES ('sales.rebuild', 'migration 0020');
