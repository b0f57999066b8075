-- The ledger core. Money is BIGINT sen (exact on every backend); every village-owned row carries village_id so the
-- data can be sharded by village later.

CREATE TABLE regencies (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE villages (
    id            TEXT PRIMARY KEY,
    regency_id    TEXT NOT NULL REFERENCES regencies(id),
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    bank_account  TEXT NOT NULL,
    cash_limit    BIGINT NOT NULL CHECK (cash_limit >= 0),
    -- The village row is the lock for its sequence and hash chain: last_seq is the last transaction's seq,
    -- chain_len the last chained record's position, chain_head its hash.
    last_seq      BIGINT NOT NULL DEFAULT 0,
    chain_len     BIGINT NOT NULL DEFAULT 0,
    chain_head    TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX villages_regency ON villages(regency_id);

CREATE TABLE accounts (
    village_id   TEXT NOT NULL REFERENCES villages(id),
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    class        TEXT NOT NULL,
    normal_side  TEXT NOT NULL CHECK (normal_side IN ('debit', 'credit')),
    -- Debit-positive running balance, maintained in the same database transaction as the entries it sums.
    balance      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (village_id, code)
);

CREATE TABLE fiscal_years (
    village_id  TEXT NOT NULL REFERENCES villages(id),
    year        INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    closed_at   TIMESTAMP,
    closed_by   TEXT,
    PRIMARY KEY (village_id, year)
);

CREATE TABLE transactions (
    id              TEXT PRIMARY KEY,
    village_id      TEXT NOT NULL REFERENCES villages(id),
    seq             BIGINT NOT NULL,
    chain_seq       BIGINT NOT NULL,
    fiscal_year     INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    value_date      DATE NOT NULL,
    description     TEXT NOT NULL,
    -- Each original is reversed at most once: the UNIQUE constraint is the last line of defence.
    reverses        TEXT UNIQUE REFERENCES transactions(id),
    payment_id      TEXT,
    bank_reference  TEXT,
    created_by      TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL,
    UNIQUE (village_id, seq),
    UNIQUE (village_id, chain_seq)
);
CREATE INDEX transactions_village_date ON transactions(village_id, value_date, seq);

CREATE TABLE entries (
    transaction_id  TEXT NOT NULL REFERENCES transactions(id),
    line_no         INTEGER NOT NULL,
    village_id      TEXT NOT NULL,
    account_code    TEXT NOT NULL,
    side            TEXT NOT NULL CHECK (side IN ('debit', 'credit')),
    amount          BIGINT NOT NULL CHECK (amount > 0),
    activity_code   TEXT,
    source          TEXT,
    value_date      DATE NOT NULL,
    PRIMARY KEY (transaction_id, line_no),
    FOREIGN KEY (village_id, account_code) REFERENCES accounts(village_id, code)
);
CREATE INDEX entries_village_account_date ON entries(village_id, account_code, value_date);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    village_id     TEXT REFERENCES villages(id),
    regency_id     TEXT REFERENCES regencies(id),
    active         BOOLEAN NOT NULL DEFAULT 1,
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX users_village ON users(village_id);

CREATE TABLE bank_clients (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    active       BOOLEAN NOT NULL DEFAULT 1,
    created_at   TIMESTAMP NOT NULL
);

CREATE TABLE bank_client_villages (
    bank_client_id  TEXT NOT NULL REFERENCES bank_clients(id),
    village_id      TEXT NOT NULL REFERENCES villages(id),
    PRIMARY KEY (bank_client_id, village_id)
);

-- Stored responses of idempotent writes, written in the same database transaction as the write itself.
CREATE TABLE idempotency_keys (
    principal     TEXT NOT NULL,
    key           TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    village_id    TEXT,
    status        INTEGER NOT NULL,
    body          TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL,
    PRIMARY KEY (principal, key)
);

-- Journal rows are immutable: corrections are reversals. Tampering with these triggers off is what the hash chain
-- is for.
CREATE TRIGGER transactions_no_update BEFORE UPDATE ON transactions
BEGIN SELECT RAISE(ABORT, 'journal rows are immutable (UPDATE on transactions)'); END;
CREATE TRIGGER transactions_no_delete BEFORE DELETE ON transactions
BEGIN SELECT RAISE(ABORT, 'journal rows are immutable (DELETE on transactions)'); END;
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'journal rows are immutable (UPDATE on entries)'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'journal rows are immutable (DELETE on entries)'); END;
