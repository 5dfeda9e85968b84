-- Reads of the reports and the console that must cost their own rows (issue 17 point 2,
-- issue 14's page targets). Each expression is written exactly as store/sessions.rs writes it.
--
-- A customer's invoices in id order (the customer page): with the id in the index the planner
-- no longer prefers the primary key's (kind, id) order, which read every invoice to find one
-- customer's (EXPLAIN QUERY PLAN showed it on SQLite).
DROP INDEX documents_invoice_customer;
CREATE INDEX documents_invoice_customer ON documents (ordo_json_at(body, '{customer_id}'), id)
    WHERE kind = 'invoice';
-- An order's invoices (cycle-time's order-to-cash) and shipments (fulfilment), so a report
-- over a period reads the documents of that period's orders, not every one ever written.
CREATE INDEX documents_invoice_order ON documents (ordo_json_at(body, '{order_id}'), id)
    WHERE kind = 'invoice';
CREATE INDEX documents_shipment_order ON documents (ordo_json_at(body, '{order_id}'), id)
    WHERE kind = 'shipment';
