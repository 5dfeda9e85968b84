-- The double-entry ledger (engine/src/ledger, store/journal.rs). Amounts are signed integers in
-- ten-thousandths of the entry's currency (debit positive, credit negative), so SUM is exact on
-- both backends. The database itself refuses an unbalanced entry, a gap in a period's numbers,
-- an entry in a closed period and any change to what was written.
CREATE TABLE ledger_periods (
    period TEXT PRIMARY KEY,          -- YYYY-MM
    closed_at BIGINT NOT NULL,
    closed_by TEXT NOT NULL
);

CREATE TABLE ledger_entries (
    period TEXT NOT NULL,
    number BIGINT NOT NULL CHECK (number > 0),
    entry_date TEXT NOT NULL,
    event TEXT NOT NULL,
    source TEXT NOT NULL,
    currency TEXT NOT NULL,
    rule TEXT NOT NULL,
    order_id TEXT,
    invoice TEXT,
    customer TEXT,
    note TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (period, number),
    UNIQUE (event, source)
);
CREATE INDEX ledger_entries_order ON ledger_entries (order_id);
CREATE INDEX ledger_entries_invoice ON ledger_entries (invoice);

CREATE TABLE ledger_lines (
    period TEXT NOT NULL,
    number BIGINT NOT NULL,
    line_no BIGINT NOT NULL,
    account TEXT NOT NULL,
    amount_e4 BIGINT NOT NULL CHECK (amount_e4 <> 0),
    memo TEXT,
    PRIMARY KEY (period, number, line_no),
    FOREIGN KEY (period, number) REFERENCES ledger_entries (period, number) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX ledger_lines_account ON ledger_lines (account, period);

CREATE TABLE ledger_balances (
    period TEXT NOT NULL,
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    debit_e4 BIGINT NOT NULL,
    credit_e4 BIGINT NOT NULL,
    PRIMARY KEY (period, account, currency)
);

-- Lines are inserted first, then their entry: the entry's insert checks them.
CREATE FUNCTION ledger_entry_checks() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_number BIGINT;
    n BIGINT;
    s NUMERIC;
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_periods WHERE period = NEW.period) THEN
        RAISE EXCEPTION 'ledger: the period is closed';
    END IF;
    SELECT COALESCE(MAX(number), 0) INTO last_number FROM ledger_entries WHERE period = NEW.period;
    IF NEW.number <> last_number + 1 THEN
        RAISE EXCEPTION 'ledger: the journal number is not the next one of its period';
    END IF;
    SELECT COUNT(*), COALESCE(SUM(amount_e4), 0) INTO n, s
        FROM ledger_lines WHERE period = NEW.period AND number = NEW.number;
    IF n < 2 OR s <> 0 THEN
        RAISE EXCEPTION 'ledger: the entry does not balance';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_entry_checks BEFORE INSERT ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_checks();

CREATE FUNCTION ledger_lines_before_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ledger_entries WHERE period = NEW.period AND number = NEW.number) THEN
        RAISE EXCEPTION 'ledger: lines are written with their entry, never added to it';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER ledger_lines_before_entry BEFORE INSERT ON ledger_lines
    FOR EACH ROW EXECUTE FUNCTION ledger_lines_before_entry();

CREATE FUNCTION ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'ledger: entries are never changed or deleted; a closed period stays closed'; END $$;
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_lines_append_only BEFORE UPDATE OR DELETE ON ledger_lines
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
CREATE TRIGGER ledger_periods_stay_closed BEFORE DELETE ON ledger_periods
    FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
