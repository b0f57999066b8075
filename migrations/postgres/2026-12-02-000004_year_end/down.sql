ALTER TABLE fiscal_years DROP COLUMN silpa_transaction_id;
ALTER TABLE fiscal_years DROP COLUMN silpa;
