-- The double-entry ledger (engine/src/ledger, store/journal.rs). Amounts are signed integers in
-- ten-thousandths of the entry's currency (debit positive, credit negative), so SUM is exact on
-- both backends. The database itself refuses an unbalanced entry, a gap in a period's numbers,
-- an entry in a closed period and any change to what was written.
CREATE TABLE ledger_periods (
    period TEXT PRIMARY KEY,          -- YYYY-MM
    closed_at INTEGER NOT NULL,
    closed_by TEXT NOT NULL
);

CREATE TABLE ledger_entries (
    period TEXT NOT NULL,
    number INTEGER NOT NULL CHECK (number > 0),
    entry_date TEXT NOT NULL,         -- the business event's date (YYYY-MM-DD)
    event TEXT NOT NULL,              -- invoice, shipment, goods_receipt, payment, dunning_fee
    source TEXT NOT NULL,             -- the document the event is about (INV-000001, SH-000001)
    currency TEXT NOT NULL,
    rule TEXT NOT NULL,               -- rule file and hash that made the lines
    order_id TEXT,
    invoice TEXT,
    customer TEXT,
    note TEXT,                        -- why the entry is not in its event's period
    created_at INTEGER NOT NULL,
    PRIMARY KEY (period, number),
    UNIQUE (event, source)
);
CREATE INDEX ledger_entries_order ON ledger_entries (order_id);
CREATE INDEX ledger_entries_invoice ON ledger_entries (invoice);

CREATE TABLE ledger_lines (
    period TEXT NOT NULL,
    number INTEGER NOT NULL,
    line_no INTEGER NOT NULL,
    account TEXT NOT NULL,
    amount_e4 INTEGER NOT NULL CHECK (amount_e4 <> 0),
    memo TEXT,
    PRIMARY KEY (period, number, line_no),
    FOREIGN KEY (period, number) REFERENCES ledger_entries (period, number) DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX ledger_lines_account ON ledger_lines (account, period);

-- Per account, period and currency, kept in the posting transaction so a trial balance reads
-- these rows, not every line. `ordo ledger check` compares them with the lines.
CREATE TABLE ledger_balances (
    period TEXT NOT NULL,
    account TEXT NOT NULL,
    currency TEXT NOT NULL,
    debit_e4 INTEGER NOT NULL,
    credit_e4 INTEGER NOT NULL,
    PRIMARY KEY (period, account, currency)
);

-- Lines are inserted first, then their entry: the entry's insert checks them.
CREATE TRIGGER ledger_entry_checks BEFORE INSERT ON ledger_entries BEGIN
    SELECT RAISE(ABORT, 'ledger: the period is closed')
        WHERE EXISTS (SELECT 1 FROM ledger_periods WHERE period = NEW.period);
    SELECT RAISE(ABORT, 'ledger: the journal number is not the next one of its period')
        WHERE NEW.number <> COALESCE((SELECT MAX(number) FROM ledger_entries WHERE period = NEW.period), 0) + 1;
    SELECT RAISE(ABORT, 'ledger: the entry does not balance')
        WHERE (SELECT COUNT(*) FROM ledger_lines WHERE period = NEW.period AND number = NEW.number) < 2
           OR (SELECT SUM(amount_e4) FROM ledger_lines WHERE period = NEW.period AND number = NEW.number) <> 0;
END;
CREATE TRIGGER ledger_lines_before_entry BEFORE INSERT ON ledger_lines BEGIN
    SELECT RAISE(ABORT, 'ledger: lines are written with their entry, never added to it')
        WHERE EXISTS (SELECT 1 FROM ledger_entries WHERE period = NEW.period AND number = NEW.number);
END;
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger: entries are never changed'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger: entries are never deleted'); END;
CREATE TRIGGER ledger_lines_no_update BEFORE UPDATE ON ledger_lines BEGIN SELECT RAISE(ABORT, 'ledger: entries are never changed'); END;
CREATE TRIGGER ledger_lines_no_delete BEFORE DELETE ON ledger_lines BEGIN SELECT RAISE(ABORT, 'ledger: entries are never deleted'); END;
CREATE TRIGGER ledger_periods_no_reopen BEFORE DELETE ON ledger_periods BEGIN SELECT RAISE(ABORT, 'ledger: a closed period stays closed'); END;
