-- Signed bank requests (domain::snap): a bank client may register an RSA public key; then every request it makes
-- is signed, and each X-EXTERNAL-ID is used once per client and day (WIB).
ALTER TABLE bank_clients ADD COLUMN public_key TEXT;
CREATE TABLE bank_external_ids (
    client_id   TEXT NOT NULL,
    day         DATE NOT NULL,
    external_id TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (client_id, day, external_id)
);
-- Who at the bank executed a transfer (the bank's result may say: the village head in Kubu Raya's CMS).
ALTER TABLE transfers ADD COLUMN executed_by TEXT;
