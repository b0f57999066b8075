-- Taxes as the tax office counts them: each line of a tax deposit carries its own billing code and, once the bank
-- paid it, its own NTPN; regional tax (PAJAK_DAERAH) goes to the regency's treasury account; PPh 4(2) has its own
-- liability account in every village's chart.
ALTER TABLE payment_lines ADD COLUMN billing_code TEXT NULL;
ALTER TABLE payment_lines ADD COLUMN ntpn TEXT NULL;
ALTER TABLE regencies ADD COLUMN treasury_name TEXT NULL;
ALTER TABLE regencies ADD COLUMN treasury_bank_code TEXT NULL;
ALTER TABLE regencies ADD COLUMN treasury_account_number TEXT NULL;
INSERT INTO accounts (village_id, code, name, class, normal_side, balance)
SELECT v.id, '2.1.3.06', 'Utang PPh Pasal 4 ayat (2)', 'liability', 'credit', 0 FROM villages v
WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.village_id = v.id AND a.code = '2.1.3.06');
