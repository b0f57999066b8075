DELETE FROM accounts WHERE code = '2.1.3.06' AND balance = 0;
ALTER TABLE regencies DROP COLUMN treasury_account_number;
ALTER TABLE regencies DROP COLUMN treasury_bank_code;
ALTER TABLE regencies DROP COLUMN treasury_name;
ALTER TABLE payment_lines DROP COLUMN ntpn;
ALTER TABLE payment_lines DROP COLUMN billing_code;
