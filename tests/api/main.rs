//! The API suite: one binary, run against SQLite by default and against PostgreSQL when
//! KASDESA_TEST_DATABASE_URL is set (see `.ci/run`).

mod access;
mod advances;
mod anchors;
mod anomalies;
mod auth;
mod backup;
mod bank;
mod bank_entries;
mod cash;
mod catalogue;
mod chain;
mod concurrency;
mod console;
mod crash;
mod facts;
mod faults;
mod helpers;
mod hostile;
mod ledger;
mod numbers;
mod payments;
mod pdf;
mod props;
mod receipts;
mod reports;
mod sharding;
mod snap;
mod tax;
mod trust;
mod webhooks;
mod workflow_helpers;
mod year_end;
