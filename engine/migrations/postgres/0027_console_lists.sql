-- The web console's lists (engine/src/console, the order search of the API): indexes on the
-- fields those lists filter and sort by, so a page costs its own rows, not the whole store
-- (`ordo bench console`, 100,000 orders). Each expression is written exactly as the queries of
-- store/sessions.rs write it (`json_at`/`json_num` of store/postgres.rs), or it is not used.
--
-- The text at a path of a stored JSON text, never an error: a stored text with `\u0000` (a
-- partner file's raw bytes may hold one) is refused by every JSON function of PostgreSQL, so
-- it is read with that escape replaced by U+FFFD; a text still unreadable gives NULL. A write
-- must not fail on an index here.
CREATE FUNCTION ordo_json_at(doc TEXT, path TEXT[]) RETURNS TEXT
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS
$$ BEGIN
    RETURN doc::json #>> path;
EXCEPTION WHEN others THEN
    BEGIN
        RETURN replace(doc, '\u0000', '\ufffd')::json #>> path;
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END;
END $$;
-- A number inside a JSON text, or NULL when it is not a plain decimal: never an error, so a
-- hostile or odd value cannot make a document write fail on its index.
CREATE FUNCTION ordo_number(t TEXT) RETURNS DOUBLE PRECISION
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT CASE WHEN length(t) <= 30 AND t ~ '^\s*-?[0-9]+(\.[0-9]+)?\s*$'
               THEN t::double precision END $$;
-- Orders by customer and by date; invoices by customer (the customer page).
CREATE INDEX documents_order_customer ON documents (ordo_json_at(body, '{customer_id}'), id)
    WHERE kind = 'order';
CREATE INDEX documents_order_date ON documents (ordo_json_at(body, '{order_date}'), id)
    WHERE kind = 'order';
CREATE INDEX documents_invoice_customer ON documents (ordo_json_at(body, '{customer_id}'))
    WHERE kind = 'invoice';
-- The invoices not closed (receivables aging reads these, not every invoice).
CREATE INDEX documents_invoice_unclosed ON documents (id)
    WHERE kind = 'invoice' AND (ordo_json_at(body, '{status}') IS NULL OR ordo_json_at(body, '{status}') NOT IN ('paid', 'cancelled'));
-- Orders by amount: the priced total of their instance.
CREATE INDEX instances_order_total ON instances (ordo_number(ordo_json_at(data, '{pricing,total}')));
-- Orders by state, in id order.
CREATE INDEX instances_status_key ON instances (status, business_key);
-- A partner's received files, newest first, and its quarantine (each stored file holds its raw
-- bytes: a list must not read them all).
CREATE INDEX documents_edi_file_partner
    ON documents (ordo_json_at(body, '{partner}'), ordo_json_at(body, '{received_at}'))
    WHERE kind = 'edi_file';
CREATE INDEX documents_edi_file_quarantine
    ON documents (ordo_json_at(body, '{partner}'), ordo_json_at(body, '{received_at}'))
    WHERE kind = 'edi_file' AND (ordo_json_at(body, '{outcome,outcome}') = 'rejected'
        OR (ordo_json_at(body, '{outcome,outcome}') = 'processed'
            AND ordo_json_at(body, '{outcome,problems}') LIKE '[%'
            AND ordo_json_at(body, '{outcome,problems}') <> '[]'));
-- Interchanges sent: a partner's, by control number; an order's.
CREATE INDEX documents_edi_sent_partner
    ON documents (ordo_json_at(body, '{partner}'), ordo_number(ordo_json_at(body, '{control_number}')))
    WHERE kind = 'edi_sent';
CREATE INDEX documents_edi_sent_order ON documents (ordo_json_at(body, '{order_id}'))
    WHERE kind = 'edi_sent';
