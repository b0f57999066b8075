// Row structs shared by both backends (diesel derives them generically over the backend).

use super::schema::*;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = regencies)]
pub struct RegencyRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = villages)]
pub struct VillageRow {
    pub id: String,
    pub regency_id: String,
    pub code: String,
    pub name: String,
    pub bank_account: String,
    pub cash_limit: i64,
    pub last_seq: i64,
    pub chain_len: i64,
    pub chain_head: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub village_id: String,
    pub code: String,
    pub name: String,
    pub class: String,
    pub normal_side: String,
    pub balance: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fiscal_years)]
pub struct FiscalYearRow {
    pub village_id: String,
    pub year: i32,
    pub status: String,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_by: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = transactions)]
pub struct TransactionRow {
    pub id: String,
    pub village_id: String,
    pub seq: i64,
    pub chain_seq: i64,
    pub fiscal_year: i32,
    pub kind: String,
    pub value_date: NaiveDate,
    pub description: String,
    pub reverses: Option<String>,
    pub payment_id: Option<String>,
    pub bank_reference: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = entries)]
pub struct EntryRow {
    pub transaction_id: String,
    pub line_no: i32,
    pub village_id: String,
    pub account_code: String,
    pub side: String,
    pub amount: i64,
    pub activity_code: Option<String>,
    pub source: Option<String>,
    pub value_date: NaiveDate,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub role: String,
    pub village_id: Option<String>,
    pub regency_id: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bank_clients)]
pub struct BankClientRow {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub secret_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys)]
pub struct IdempotencyRow {
    pub principal: String,
    pub key: String,
    pub request_hash: String,
    pub village_id: Option<String>,
    pub status: i32,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// A transaction with its entries, as stored.
#[derive(Debug, Clone)]
pub struct TransactionRecord {
    pub txn: TransactionRow,
    pub entries: Vec<EntryRow>,
    pub reversed_by: Option<String>,
}
