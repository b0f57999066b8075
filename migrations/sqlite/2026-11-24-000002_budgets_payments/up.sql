-- Budgets (APBDes), payment requests (SPP) and tax deposits, their chained events, bank transfers, incoming credits
-- and statement lines. Every row carries village_id.

CREATE TABLE budgets (
    village_id  TEXT NOT NULL REFERENCES villages(id),
    year        INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'adopted', 'superseded')),
    note        TEXT,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    adopted_by  TEXT,
    adopted_at  TIMESTAMP,
    PRIMARY KEY (village_id, year, version)
);

CREATE TABLE budget_lines (
    village_id     TEXT NOT NULL,
    year           INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    line_no        INTEGER NOT NULL,
    account_code   TEXT NOT NULL,
    activity_code  TEXT NOT NULL,
    activity_name  TEXT,
    source         TEXT NOT NULL,
    ceiling        BIGINT NOT NULL CHECK (ceiling >= 0),
    PRIMARY KEY (village_id, year, version, line_no),
    FOREIGN KEY (village_id, year, version) REFERENCES budgets(village_id, year, version),
    UNIQUE (village_id, year, version, account_code, activity_code, source)
);

-- The live position of each line of the adopted budget: the one place budget control reads and writes.
-- activity_code is '' for lines without an activity (revenue, financing receipts).
CREATE TABLE budget_positions (
    village_id     TEXT NOT NULL REFERENCES villages(id),
    year           INTEGER NOT NULL,
    account_code   TEXT NOT NULL,
    activity_code  TEXT NOT NULL,
    source         TEXT NOT NULL,
    activity_name  TEXT,
    ceiling        BIGINT NOT NULL CHECK (ceiling >= 0),
    committed      BIGINT NOT NULL DEFAULT 0 CHECK (committed >= 0),
    realised       BIGINT NOT NULL DEFAULT 0 CHECK (realised >= 0),
    PRIMARY KEY (village_id, year, account_code, activity_code, source),
    -- Budget control as a database invariant: no line ever passes its ceiling.
    CHECK (committed + realised <= ceiling)
);

CREATE TABLE payments (
    id                    TEXT PRIMARY KEY,
    village_id            TEXT NOT NULL REFERENCES villages(id),
    kind                  TEXT NOT NULL CHECK (kind IN ('spp', 'tax_deposit')),
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
    CHECK (gross = withheld + net)
);
CREATE INDEX payments_village_status ON payments(village_id, status, id);

CREATE TABLE payment_lines (
    payment_id     TEXT NOT NULL REFERENCES payments(id),
    line_no        INTEGER NOT NULL,
    village_id     TEXT NOT NULL,
    account_code   TEXT NOT NULL,
    activity_code  TEXT,
    source         TEXT,
    amount         BIGINT NOT NULL CHECK (amount > 0),
    PRIMARY KEY (payment_id, line_no)
);

CREATE TABLE payment_withholdings (
    payment_id  TEXT NOT NULL REFERENCES payments(id),
    line_no     INTEGER NOT NULL,
    seq_no      INTEGER NOT NULL,
    village_id  TEXT NOT NULL,
    tax         TEXT NOT NULL,
    amount      BIGINT NOT NULL CHECK (amount > 0),
    PRIMARY KEY (payment_id, line_no, seq_no)
);

-- Every transition of a request, in the village's hash chain beside its transactions.
CREATE TABLE payment_events (
    id              TEXT PRIMARY KEY,
    village_id      TEXT NOT NULL REFERENCES villages(id),
    payment_id      TEXT NOT NULL REFERENCES payments(id),
    chain_seq       BIGINT NOT NULL,
    step            TEXT NOT NULL,
    action          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    actor_name      TEXT NOT NULL,
    role            TEXT NOT NULL,
    from_status     TEXT,
    to_status       TEXT NOT NULL,
    note            TEXT,
    at              TIMESTAMP NOT NULL,
    payment_digest  TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    UNIQUE (village_id, chain_seq)
);
CREATE INDEX payment_events_payment ON payment_events(payment_id, chain_seq);

CREATE TABLE transfers (
    id              TEXT PRIMARY KEY,
    village_id      TEXT NOT NULL REFERENCES villages(id),
    payment_id      TEXT NOT NULL REFERENCES payments(id),
    attempt         INTEGER NOT NULL,
    amount          BIGINT NOT NULL CHECK (amount > 0),
    status          TEXT NOT NULL CHECK (status IN ('released', 'paid', 'failed')),
    released_by     TEXT NOT NULL,
    released_at     TIMESTAMP NOT NULL,
    result_at       TIMESTAMP,
    bank_reference  TEXT,
    value_date      DATE,
    reason          TEXT,
    ntpn            TEXT,
    settled_by      TEXT,
    transaction_id  TEXT REFERENCES transactions(id),
    UNIQUE (payment_id, attempt)
);
CREATE INDEX transfers_village_status ON transfers(village_id, status, released_at);
CREATE INDEX transfers_status ON transfers(status, released_at, id);

-- One bank reference posts once per village, whatever key the bank retries with.
CREATE TABLE bank_credits (
    village_id      TEXT NOT NULL REFERENCES villages(id),
    bank_reference  TEXT NOT NULL,
    amount          BIGINT NOT NULL,
    source          TEXT NOT NULL,
    transaction_id  TEXT NOT NULL REFERENCES transactions(id),
    client_id       TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (village_id, bank_reference)
);

CREATE TABLE statement_lines (
    id              TEXT PRIMARY KEY,
    village_id      TEXT NOT NULL REFERENCES villages(id),
    bank_reference  TEXT NOT NULL,
    value_date      DATE NOT NULL,
    amount          BIGINT NOT NULL CHECK (amount > 0),
    direction       TEXT NOT NULL CHECK (direction IN ('credit', 'debit')),
    client_id       TEXT NOT NULL,
    received_at     TIMESTAMP NOT NULL,
    UNIQUE (village_id, bank_reference, direction)
);
CREATE INDEX statement_lines_village_date ON statement_lines(village_id, value_date);

CREATE INDEX transactions_payment ON transactions(payment_id);

CREATE TRIGGER payment_events_no_update BEFORE UPDATE ON payment_events
BEGIN SELECT RAISE(ABORT, 'journal rows are immutable (UPDATE on payment_events)'); END;
CREATE TRIGGER payment_events_no_delete BEFORE DELETE ON payment_events
BEGIN SELECT RAISE(ABORT, 'journal rows are immutable (DELETE on payment_events)'); END;
