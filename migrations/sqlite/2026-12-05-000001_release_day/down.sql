ALTER TABLE transfers DROP COLUMN released_on;
