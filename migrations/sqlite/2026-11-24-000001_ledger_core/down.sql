DROP TABLE idempotency_keys;
DROP TABLE bank_client_villages;
DROP TABLE bank_clients;
DROP TABLE users;
DROP TABLE entries;
DROP TABLE transactions;

DROP TABLE fiscal_years;
DROP TABLE accounts;
DROP TABLE villages;
DROP TABLE regencies;
