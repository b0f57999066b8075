-- Push instead of poll: a bank client may register a webhook URL; every transfer released to one of its villages
-- becomes an event in this outbox, written in the same database transaction as the release, and delivered (at
-- least once, in order per village and client) by the delivery worker.
ALTER TABLE bank_clients ADD COLUMN webhook_url TEXT;
CREATE TABLE webhook_outbox (
    id              TEXT PRIMARY KEY,
    bank_client_id  TEXT NOT NULL REFERENCES bank_clients(id),
    village_id      TEXT NOT NULL REFERENCES villages(id),
    event           TEXT NOT NULL,
    transfer_id     TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      TIMESTAMP NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    delivered_at    TIMESTAMP
);
CREATE INDEX webhook_outbox_pending ON webhook_outbox(delivered_at, bank_client_id, village_id, id);
CREATE TABLE webhook_attempts (
    outbox_id   TEXT NOT NULL REFERENCES webhook_outbox(id),
    attempt     INTEGER NOT NULL,
    at          TIMESTAMP NOT NULL,
    status      INTEGER,
    error       TEXT,
    PRIMARY KEY (outbox_id, attempt)
);
