ALTER TABLE statement_lines DROP COLUMN balance;
DROP TABLE bank_entry_lines;
DROP TABLE bank_entries;
