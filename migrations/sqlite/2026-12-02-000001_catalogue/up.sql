-- Facts about the database itself, one value per key. `chart_digest` is the digest of the standard chart (the
-- Permendagri 20/2018 annex plus the balance-sheet accounts) that every village's chart was last brought up to: at
-- start-up, a different digest means the chart changed, and each village gets the accounts it lacks and the annex's
-- names for the codes it holds (`Db::sync_charts`). Amounts, balances and hashes are never touched.
CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
