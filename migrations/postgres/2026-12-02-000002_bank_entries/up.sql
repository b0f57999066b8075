-- The bank's own entries (interest, the tax on it, the administration fee): each posted once per bank reference.
-- `suspense` is true when a charge could not be put on its budget line and went to 2.1.9.99 instead.
CREATE TABLE bank_entries (
    village_id      TEXT NOT NULL REFERENCES villages(id),
    bank_reference  TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('interest', 'interest_tax', 'admin_fee')),
    amount          BIGINT NOT NULL CHECK (amount > 0),
    value_date      DATE NOT NULL,
    transaction_id  TEXT NOT NULL REFERENCES transactions(id),
    suspense        BOOLEAN NOT NULL,
    client_id       TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (village_id, bank_reference)
);
CREATE INDEX bank_entries_transaction ON bank_entries(transaction_id);

-- The budget line a village charges each kind of bank charge to.
CREATE TABLE bank_entry_lines (
    village_id      TEXT NOT NULL REFERENCES villages(id),
    kind            TEXT NOT NULL CHECK (kind IN ('interest_tax', 'admin_fee')),
    account_code    TEXT NOT NULL,
    activity_code   TEXT NOT NULL,
    source          TEXT NOT NULL,
    PRIMARY KEY (village_id, kind)
);

-- The bank's balance after a statement line, when the bank sends it.
ALTER TABLE statement_lines ADD COLUMN balance BIGINT;
