-- Signed checkpoints of the chain heads (domain::anchor). The key that signs them is not in the database: a row
-- here proves nothing until its signature is checked with the service's public key.
CREATE TABLE checkpoints (
    village_id  TEXT NOT NULL REFERENCES villages(id),
    chain_seq   BIGINT NOT NULL CHECK (chain_seq >= 0),
    hash        TEXT NOT NULL,
    at          TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    signature   TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (village_id, chain_seq, key_id)
);

-- Login throttling (domain::throttle), shared by every instance: failures per pair, name and address.
CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL CHECK (failures > 0),
    last_failure TIMESTAMP NOT NULL
);
-- Pairs (username, address) that have signed in: others' failures never slow them.
CREATE TABLE login_known (
    username     TEXT NOT NULL,
    address      TEXT NOT NULL,
    last_success TIMESTAMP NOT NULL,
    PRIMARY KEY (username, address)
);

-- A bank client's tokens carry its version: deactivating it, rotating its secret or changing its villages ends
-- them at once.
ALTER TABLE bank_clients ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
