-- A user's tokens carry the version they were issued under; a role or scope change, a deactivation or a logout
-- raises it, and every request checks it, so the old tokens stop working on the next request, on every instance.
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
