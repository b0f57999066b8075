//! kasdesa: a village treasury ledger service.
//!
//! Layout: `domain` (pure rules: money, postings, chain, roles), `store` (diesel over SQLite and PostgreSQL),
//! `http` (actix-web handlers and the contract's errors), `reports` (books, realisation, anomalies; JSON/CSV/XLSX), `app` (state and server), `cli` (the binary's commands).

pub mod anchor;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod reports;
pub mod store;
pub mod users;
pub mod web;
pub mod webhooks;
