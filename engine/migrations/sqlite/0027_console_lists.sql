-- The web console's lists (engine/src/console, the order search of the API): indexes on the
-- fields those lists filter and sort by, so a page costs its own rows, not the whole store
-- (`ordo bench console`, 100,000 orders). Each expression is written exactly as the queries of
-- store/sessions.rs write it (`json_at`/`json_num` of store/sqlite.rs), or it is not used.
-- Orders by customer and by date; invoices by customer (the customer page).
CREATE INDEX documents_order_customer ON documents (json_extract(body, '$.customer_id'), id)
    WHERE kind = 'order';
CREATE INDEX documents_order_date ON documents (json_extract(body, '$.order_date'), id)
    WHERE kind = 'order';
CREATE INDEX documents_invoice_customer ON documents (json_extract(body, '$.customer_id'))
    WHERE kind = 'invoice';
-- The invoices not closed (receivables aging reads these, not every invoice).
CREATE INDEX documents_invoice_unclosed ON documents (id)
    WHERE kind = 'invoice' AND (json_extract(body, '$.status') IS NULL OR json_extract(body, '$.status') NOT IN ('paid', 'cancelled'));
-- Orders by amount: the priced total of their instance.
CREATE INDEX instances_order_total ON instances (CAST(json_extract(data, '$.pricing.total') AS REAL));
-- Orders by state, in id order.
CREATE INDEX instances_status_key ON instances (status, business_key);
-- A partner's received files, newest first, and its quarantine (each stored file holds its raw
-- bytes: a list must not read them all).
CREATE INDEX documents_edi_file_partner
    ON documents (json_extract(body, '$.partner'), json_extract(body, '$.received_at'))
    WHERE kind = 'edi_file';
CREATE INDEX documents_edi_file_quarantine
    ON documents (json_extract(body, '$.partner'), json_extract(body, '$.received_at'))
    WHERE kind = 'edi_file' AND (json_extract(body, '$.outcome.outcome') = 'rejected'
        OR (json_extract(body, '$.outcome.outcome') = 'processed'
            AND json_array_length(body, '$.outcome.problems') > 0));
-- Interchanges sent: a partner's, by control number; an order's.
CREATE INDEX documents_edi_sent_partner
    ON documents (json_extract(body, '$.partner'), CAST(json_extract(body, '$.control_number') AS REAL))
    WHERE kind = 'edi_sent';
CREATE INDEX documents_edi_sent_order ON documents (json_extract(body, '$.order_id'))
    WHERE kind = 'edi_sent';
