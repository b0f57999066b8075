DROP TABLE accountability_receipts;
