-- Requests may be advances (panjar) too.
-- SQLite cannot change a CHECK in place: the table is rebuilt (SQLite's documented procedure, outside diesel's
-- transaction, see metadata.toml): with foreign keys off, a new table is filled, the old one dropped and the new one
-- renamed, so every reference to "payments" finds the new table; then the foreign keys are checked on again.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE payments_new (
    id                    TEXT PRIMARY KEY,
    village_id            TEXT NOT NULL REFERENCES villages(id),
    kind                  TEXT NOT NULL CHECK (kind IN ('spp', 'tax_deposit', 'advance')),
    fiscal_year           INTEGER NOT NULL,
    status                TEXT NOT NULL,
    activity_code         TEXT,
    description           TEXT NOT NULL,
    payee_name            TEXT NOT NULL,
    payee_bank_code       TEXT NOT NULL,
    payee_account_number  TEXT NOT NULL,
    payee_npwp            TEXT,
    invoice_number        TEXT,
    invoice_date          DATE,
    billing_code          TEXT,
    gross                 BIGINT NOT NULL CHECK (gross > 0),
    withheld              BIGINT NOT NULL CHECK (withheld >= 0),
    net                   BIGINT NOT NULL CHECK (net > 0),
    created_by            TEXT NOT NULL,
    created_at            TIMESTAMP NOT NULL,
    updated_at            TIMESTAMP NOT NULL,
    bank_reference        TEXT,
    ntpn                  TEXT,
    transaction_id        TEXT REFERENCES transactions(id),
    failure_reason        TEXT,
    number                TEXT,
    CHECK (gross = withheld + net)
);
INSERT INTO payments_new SELECT * FROM payments;
DROP TABLE payments;
ALTER TABLE payments_new RENAME TO payments;
CREATE INDEX payments_village_status ON payments(village_id, status, id);
CREATE INDEX payments_village_created ON payments(village_id, created_at);
CREATE UNIQUE INDEX payments_number ON payments(village_id, number);
COMMIT;
PRAGMA foreign_keys = ON;
