-- Daily debit/credit totals per account, maintained with every posting in the same database transaction, so that
-- balances at a date, the trial balance and budget realisation (per village and over a whole regency) sum a few
-- rows per account-day instead of every entry.
CREATE TABLE account_daily (
    village_id    TEXT NOT NULL,
    account_code  TEXT NOT NULL,
    value_date    DATE NOT NULL,
    debit         BIGINT NOT NULL DEFAULT 0,
    credit        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (village_id, account_code, value_date),
    FOREIGN KEY (village_id, account_code) REFERENCES accounts(village_id, code)
);
CREATE INDEX account_daily_village_date ON account_daily(village_id, value_date);

INSERT INTO account_daily (village_id, account_code, value_date, debit, credit)
SELECT village_id, account_code, value_date,
       CAST(COALESCE(SUM(CASE WHEN side = 'debit' THEN amount ELSE 0 END), 0) AS BIGINT),
       CAST(COALESCE(SUM(CASE WHEN side = 'credit' THEN amount ELSE 0 END), 0) AS BIGINT)
FROM entries GROUP BY village_id, account_code, value_date;

-- The regency's time zone, for "released outside working hours" (WIB = +420 minutes).
ALTER TABLE regencies ADD COLUMN utc_offset_minutes INTEGER NOT NULL DEFAULT 420;

CREATE INDEX transfers_village_released ON transfers(village_id, released_at);
CREATE INDEX payments_village_created ON payments(village_id, created_at);
