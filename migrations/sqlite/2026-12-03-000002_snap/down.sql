ALTER TABLE transfers DROP COLUMN executed_by;
DROP TABLE bank_external_ids;
ALTER TABLE bank_clients DROP COLUMN public_key;
