-- A closed year's SiLPA (cash + bank at 31 December less taxes owed) and the posting that carried it into the next
-- year as 6.1.1.01 SiLPA Tahun Sebelumnya (none when the SiLPA is not positive).
ALTER TABLE fiscal_years ADD COLUMN silpa BIGINT;
ALTER TABLE fiscal_years ADD COLUMN silpa_transaction_id TEXT;
