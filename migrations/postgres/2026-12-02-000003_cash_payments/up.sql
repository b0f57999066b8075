-- The most a village of the regency may pay from cash in hand for one payment (the regency's regulation); NULL: no
-- cash payments at all (non-cash is the rule).
ALTER TABLE regencies ADD COLUMN cash_payment_limit BIGINT;
