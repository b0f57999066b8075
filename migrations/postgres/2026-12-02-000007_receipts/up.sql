-- A request with many receipts (kuitansi): each its own payee, lines and withholdings, its own transfer and status,
-- numbered gap-free per village and year. A request without rows here has one implicit receipt: its own payee.
CREATE TABLE receipts (
    payment_id            TEXT NOT NULL REFERENCES payments(id),
    receipt_no            INTEGER NOT NULL CHECK (receipt_no > 0),
    village_id            TEXT NOT NULL REFERENCES villages(id),
    number                TEXT NOT NULL,
    payee_name            TEXT NOT NULL,
    payee_bank_code       TEXT NOT NULL,
    payee_account_number  TEXT NOT NULL,
    payee_npwp            TEXT,
    description           TEXT,
    gross                 BIGINT NOT NULL CHECK (gross > 0),
    withheld              BIGINT NOT NULL CHECK (withheld >= 0),
    net                   BIGINT NOT NULL CHECK (net > 0),
    status                TEXT NOT NULL CHECK (status IN ('pending', 'released', 'paid', 'failed', 'cancelled')),
    PRIMARY KEY (payment_id, receipt_no)
);
CREATE UNIQUE INDEX receipts_number ON receipts(village_id, number);

ALTER TABLE payment_lines ADD COLUMN receipt_no INTEGER NOT NULL DEFAULT 1;
ALTER TABLE transfers ADD COLUMN receipt_no INTEGER NOT NULL DEFAULT 1;
