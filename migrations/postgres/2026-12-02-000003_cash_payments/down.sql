ALTER TABLE regencies DROP COLUMN cash_payment_limit;
