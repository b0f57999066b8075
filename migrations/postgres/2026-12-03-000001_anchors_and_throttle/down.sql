ALTER TABLE bank_clients DROP COLUMN token_version;
DROP TABLE login_known;
DROP TABLE login_throttle;
DROP TABLE checkpoints;
