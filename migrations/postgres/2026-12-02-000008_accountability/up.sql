-- The receipts of an advance's accountability (SPJ): what the implementer spent it on, receipt by receipt. Their
-- lines and taxes are the SPJ's posting (transaction_id); the remainder returned is posted with them.
CREATE TABLE accountability_receipts (
    payment_id      TEXT NOT NULL REFERENCES payments(id),
    receipt_no      INTEGER NOT NULL CHECK (receipt_no > 0),
    village_id      TEXT NOT NULL REFERENCES villages(id),
    payee_name      TEXT NOT NULL,
    payee_npwp      TEXT,
    description     TEXT,
    gross           BIGINT NOT NULL CHECK (gross > 0),
    withheld        BIGINT NOT NULL CHECK (withheld >= 0),
    net             BIGINT NOT NULL CHECK (net > 0),
    transaction_id  TEXT NOT NULL REFERENCES transactions(id),
    PRIMARY KEY (payment_id, receipt_no)
);
