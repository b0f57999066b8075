DROP TABLE webhook_attempts;
DROP TABLE webhook_outbox;
ALTER TABLE bank_clients DROP COLUMN webhook_url;
