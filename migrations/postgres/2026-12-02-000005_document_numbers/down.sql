DROP INDEX payments_number;
ALTER TABLE payments DROP COLUMN number;
DROP TABLE document_numbers;
