ALTER TABLE transfers DROP COLUMN receipt_no;
ALTER TABLE payment_lines DROP COLUMN receipt_no;
DROP TABLE receipts;
