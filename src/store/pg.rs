//! PostgreSQL's side of the seam (`backend.rs`): the hot paths in as few statements as possible.
//!
//! On PostgreSQL every statement is a round trip to another process and a parse/plan/execute there, and on a small
//! host that is where a posting's time goes (docs/benchmarks.md). The same work as SQLite's statement-per-row path
//! (in `backend.rs`) is done here by:
//! - one statement that locks the village row and reads the request's idempotency record with it (and, for a
//!   bank write, the bank credit, the balances and the client behind the token);
//! - one that reads the touched accounts' balances with the fiscal year's status;
//! - one data-modifying CTE that inserts the transaction and its entries, sets the balances, adds to the daily
//!   totals and advances the village's sequence and chain head.
//!
//! The statements' text never changes (entries travel as arrays through `unnest`), so diesel prepares each once per
//! connection and reuses it: [`Cached`] is raw SQL that, unlike `sql_query`, allows that.

use super::backend::{ClientState, LockTarget, Locked, PostingRows, Probe};
use super::rows::{
    BankCreditRow, EntryRow, IdempotencyRow, PaymentEventRow, PaymentLineRow, PaymentRecord, PaymentRow,
    TransactionRow, TransferRow, VillageRow, WithholdingRow,
};
use super::{IdempotencyKey, StoreError};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Bool, Date, Integer, Nullable, Text, Timestamp, Untyped};
use diesel::PgConnection;
use std::collections::HashMap;

/// A bind value of one of the SQL types these statements use.
enum Bind {
    Text(String),
    OptText(Option<String>),
    BigInt(i64),
    OptBigInt(Option<i64>),
    Integer(i32),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    Texts(Vec<String>),
    OptTexts(Vec<Option<String>>),
    BigInts(Vec<i64>),
    Integers(Vec<i32>),
    Dates(Vec<NaiveDate>),
    Timestamps(Vec<NaiveDateTime>),
}

/// Raw SQL with `?` where the binds go, in order. The text is a constant, so it is safe for diesel's prepared
/// statement cache (keyed by the text and the bind types).
struct Cached {
    sql: &'static str,
    binds: Vec<Bind>,
}

impl QueryFragment<Pg> for Cached {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        let mut pieces = self.sql.split('?');
        out.push_sql(pieces.next().unwrap_or_default());
        for (bind, piece) in self.binds.iter().zip(pieces) {
            match bind {
                Bind::Text(v) => out.push_bind_param::<Text, _>(v)?,
                Bind::OptText(v) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                Bind::BigInt(v) => out.push_bind_param::<BigInt, _>(v)?,
                Bind::OptBigInt(v) => out.push_bind_param::<Nullable<BigInt>, _>(v)?,
                Bind::Integer(v) => out.push_bind_param::<Integer, _>(v)?,
                Bind::Date(v) => out.push_bind_param::<Date, _>(v)?,
                Bind::Timestamp(v) => out.push_bind_param::<Timestamp, _>(v)?,
                Bind::Texts(v) => out.push_bind_param::<Array<Text>, _>(v)?,
                Bind::OptTexts(v) => out.push_bind_param::<Array<Nullable<Text>>, _>(v)?,
                Bind::BigInts(v) => out.push_bind_param::<Array<BigInt>, _>(v)?,
                Bind::Integers(v) => out.push_bind_param::<Array<Integer>, _>(v)?,
                Bind::Dates(v) => out.push_bind_param::<Array<Date>, _>(v)?,
                Bind::Timestamps(v) => out.push_bind_param::<Array<Timestamp>, _>(v)?,
            }
            out.push_sql(piece);
        }
        Ok(())
    }
}

impl QueryId for Cached {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Cached {
    type SqlType = Untyped;
}

impl RunQueryDsl<PgConnection> for Cached {}

fn cached(sql: &'static str, binds: Vec<Bind>) -> Cached {
    debug_assert_eq!(sql.matches('?').count(), binds.len(), "one bind per placeholder: {sql}");
    Cached { sql, binds }
}

#[derive(QueryableByName)]
struct LockedRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    regency_id: String,
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    bank_account: String,
    #[diesel(sql_type = BigInt)]
    cash_limit: i64,
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
    #[diesel(sql_type = BigInt)]
    chain_len: i64,
    #[diesel(sql_type = Text)]
    chain_head: String,
    #[diesel(sql_type = Timestamp)]
    created_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Text>)]
    idem_request_hash: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    idem_status: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    idem_body: Option<String>,
    #[diesel(sql_type = Nullable<BigInt>)]
    bc_amount: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    bc_source: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    bc_transaction_id: Option<String>,
    #[diesel(sql_type = BigInt)]
    snapshot_chain_len: i64,
    #[diesel(sql_type = Nullable<Bool>)]
    client_current: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    client_has_key: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    year_status: Option<String>,
    #[diesel(sql_type = Array<Text>)]
    codes: Vec<String>,
    #[diesel(sql_type = Array<BigInt>)]
    balances: Vec<i64>,
}

// The row lock and the reads, in one statement. In READ COMMITTED, `FOR UPDATE` that waited for another writer
// returns the village row as that writer left it, but every other part of the statement (the joins and the
// sub-selects) reads the snapshot taken before the wait, which may predate that writer's commit. Every write that
// changes balances or records a bank credit advances the chain, so `snapshot_chain_len` (the chain as the snapshot
// saw it) equal to `chain_len` (as locked) proves the reads current; otherwise they are read again.
const LOCK_FOR_WRITE: &str = "SELECT v.id, v.regency_id, v.code, v.name, v.bank_account, v.cash_limit, \
     v.last_seq, v.chain_len, v.chain_head, v.created_at, \
     k.request_hash AS idem_request_hash, k.status AS idem_status, k.body AS idem_body, \
     bc.amount AS bc_amount, bc.source AS bc_source, bc.transaction_id AS bc_transaction_id, \
     (SELECT s.chain_len FROM villages s WHERE s.id = v.id) AS snapshot_chain_len, \
     b.active AND b.token_version = ? AS client_current, b.public_key IS NOT NULL AS client_has_key, \
     (SELECT f.status FROM fiscal_years f WHERE f.village_id = v.id AND f.year = ?) AS year_status, \
     ARRAY(SELECT a.code FROM accounts a WHERE a.village_id = v.id AND a.code = ANY(?) ORDER BY a.code) AS codes, \
     ARRAY(SELECT a.balance FROM accounts a WHERE a.village_id = v.id AND a.code = ANY(?) ORDER BY a.code) \
       AS balances \
     FROM villages v \
     LEFT JOIN idempotency_keys k ON k.principal = ? AND k.key = ? \
     LEFT JOIN bank_credits bc ON bc.village_id = v.id AND bc.bank_reference = ? \
     LEFT JOIN bank_clients b ON b.client_id = ? \
     WHERE v.id = COALESCE(?, (SELECT p.village_id FROM payments p WHERE p.id = ?)) FOR UPDATE OF v";

/// What the locking statement read.
pub enum LockRead {
    /// No such village (or request).
    Missing,
    /// Everything as of the lock.
    Current(Locked),
    /// The village, locked; the rest was read before a wait for another writer and must be read again.
    Stale(VillageRow),
}

/// A setting of the session as it stands (`current_setting`): what a transaction's `SET LOCAL` made it, if any.
pub fn setting(c: &mut PgConnection, name: &str) -> QueryResult<String> {
    diesel::select(diesel::dsl::sql::<Text>("current_setting(").bind::<Text, _>(name).sql(")")).get_result(c)
}

/// Locks the village row and reads, in the same statement, the stored answer for the key, the probed bank credit
/// and the probed balances.
pub fn lock_for_write(
    c: &mut PgConnection,
    target: LockTarget<'_>,
    idem: Option<&IdempotencyKey>,
    probe: &Probe<'_>,
) -> Result<LockRead, StoreError> {
    let (year, codes) = probe.balances.map_or((0, Vec::new()), |(y, codes)| (y, codes.to_vec()));
    let row: Option<LockedRow> = cached(
        LOCK_FOR_WRITE,
        vec![
            Bind::OptBigInt(probe.client.map(|k| k.version)),
            Bind::Integer(year),
            Bind::Texts(codes.clone()),
            Bind::Texts(codes),
            Bind::OptText(idem.map(|k| k.principal.clone())),
            Bind::OptText(idem.map(|k| k.key.clone())),
            Bind::OptText(probe.bank_reference.map(str::to_string)),
            Bind::OptText(probe.client.map(|k| k.client_id.clone())),
            Bind::OptText(match target {
                LockTarget::Village(id) => Some(id.to_string()),
                LockTarget::PaymentOf(_) => None,
            }),
            Bind::OptText(match target {
                LockTarget::Village(_) => None,
                LockTarget::PaymentOf(id) => Some(id.to_string()),
            }),
        ],
    )
    .get_result(c)
    .optional()?;
    let Some(r) = row else { return Ok(LockRead::Missing) };
    let village = VillageRow {
        id: r.id.into(),
        regency_id: r.regency_id,
        code: r.code,
        name: r.name,
        bank_account: r.bank_account,
        cash_limit: r.cash_limit,
        last_seq: r.last_seq,
        chain_len: r.chain_len,
        chain_head: r.chain_head,
        created_at: r.created_at,
    };
    if r.snapshot_chain_len != village.chain_len {
        // The lock waited for a writer that advanced the chain: the rest of the row may be stale.
        return Ok(LockRead::Stale(village));
    }
    let stored = match (r.idem_request_hash, r.idem_status, r.idem_body) {
        (Some(h), Some(s), Some(b)) => Some((h, s, b)),
        _ => None,
    };
    let bank_credit = match (r.bc_amount, r.bc_source, r.bc_transaction_id) {
        (Some(a), Some(s), Some(t)) => Some((a, s, t)),
        _ => None,
    };
    let open_year_balances = (probe.balances.is_some() && r.year_status.as_deref() == Some("open"))
        .then(|| r.codes.into_iter().zip(r.balances).collect());
    let client = match (r.client_current, r.client_has_key) {
        (Some(current), Some(has_key)) => Some(ClientState { current, has_key }),
        _ => None,
    };
    Ok(LockRead::Current(Locked { village, stored, bank_credit, open_year_balances, client }))
}

#[derive(QueryableByName)]
struct BalanceWithYear {
    #[diesel(sql_type = Text)]
    code: String,
    #[diesel(sql_type = BigInt)]
    balance: i64,
    #[diesel(sql_type = Nullable<Text>)]
    year_status: Option<String>,
}

const BALANCES_WITH_YEAR: &str = "SELECT a.code, a.balance, \
     (SELECT f.status FROM fiscal_years f WHERE f.village_id = a.village_id AND f.year = ?) AS year_status \
     FROM accounts a WHERE a.village_id = ? AND a.code = ANY(?)";

/// The balances of the accounts among `codes` that exist, and the status of `year` (None: not opened yet, or
/// none of the accounts exists, so that the caller asks again the slow way).
pub fn balances_with_year(
    c: &mut PgConnection,
    village_id: &str,
    year: i32,
    codes: &[String],
) -> Result<(Option<String>, HashMap<String, i64>), StoreError> {
    let rows: Vec<BalanceWithYear> = cached(
        BALANCES_WITH_YEAR,
        vec![Bind::Integer(year), Bind::Text(village_id.to_string()), Bind::Texts(codes.to_vec())],
    )
    .load(c)?;
    let status = rows.first().and_then(|r| r.year_status.clone());
    Ok((status, rows.into_iter().map(|r| (r.code, r.balance)).collect()))
}

// Every CTE runs against the same snapshot and touches its own table once; the entries' foreign keys are checked
// at the end of the statement, after the transaction's row exists. The final UPDATE is the guard: it advances the
// village only if every balance was still what the checks saw (`a.balance = u.before`) and the fiscal year is
// still open; otherwise it updates nothing and the caller rolls the whole transaction back and tries again.
macro_rules! write_posting_sql {
    ($($along:expr),*) => {
        concat!(
            "WITH \
             t AS (INSERT INTO transactions (id, village_id, seq, chain_seq, fiscal_year, kind, value_date, \
                   description, reverses, payment_id, bank_reference, created_by, created_at, prev_hash, hash) \
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)), \
             e AS (INSERT INTO entries (transaction_id, line_no, village_id, account_code, side, amount, \
                   activity_code, source, value_date) \
                   SELECT ?, u.line_no, ?, u.code, u.side, u.amount, u.activity, u.source, ? \
                   FROM unnest(?::int4[], ?::text[], ?::text[], ?::int8[], ?::text[], ?::text[]) \
                     AS u(line_no, code, side, amount, activity, source)), \
             b AS (UPDATE accounts a SET balance = u.after \
                   FROM unnest(?::text[], ?::int8[], ?::int8[]) AS u(code, before, after) \
                   WHERE a.village_id = ? AND a.code = u.code AND a.balance = u.before RETURNING 1), \
             d AS (INSERT INTO account_daily (village_id, account_code, value_date, debit, credit) \
                   SELECT ?, u.code, ?, u.debit, u.credit \
                   FROM unnest(?::text[], ?::int8[], ?::int8[]) AS u(code, debit, credit) \
                   ON CONFLICT (village_id, account_code, value_date) DO UPDATE \
                   SET debit = account_daily.debit + EXCLUDED.debit, \
                       credit = account_daily.credit + EXCLUDED.credit), ",
            $($along, ", ",)*
            "z AS (SELECT 1) \
             UPDATE villages SET last_seq = ?, chain_len = ?, chain_head = ? \
             WHERE id = ? AND (SELECT count(*) FROM b) = ? \
               AND EXISTS (SELECT 1 FROM fiscal_years f WHERE f.village_id = ? AND f.year = ? AND f.status = 'open')"
        )
    };
}

macro_rules! along_credit {
    () => {
        "c AS (INSERT INTO bank_credits (village_id, bank_reference, amount, source, transaction_id, client_id, \
         created_at) VALUES (?, ?, ?, ?, ?, ?, ?))"
    };
}
macro_rules! along_answer {
    () => {
        "k AS (INSERT INTO idempotency_keys (principal, key, request_hash, village_id, status, body, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?))"
    };
}

const WRITE_POSTING: &str = write_posting_sql!();
const WRITE_POSTING_CREDIT: &str = write_posting_sql!(along_credit!());
const WRITE_POSTING_ANSWER: &str = write_posting_sql!(along_answer!());
const WRITE_POSTING_CREDIT_ANSWER: &str = write_posting_sql!(along_credit!(), along_answer!());

/// Writes a posting's rows in one statement: the transaction, its entries, the new balances, the daily totals,
/// the village's new sequence and chain head, and the rows `along`. A guard that fails (see above) is
/// [`StoreError::Retry`].
pub fn write_posting(c: &mut PgConnection, rows: &PostingRows<'_>) -> Result<(), StoreError> {
    let PostingRows { txn, entries, balances, daily, along } = *rows;
    let v = || Bind::Text(txn.village_id.to_string());
    let mut binds = vec![
        Bind::Text(txn.id.to_string()),
        v(),
        Bind::BigInt(txn.seq),
        Bind::BigInt(txn.chain_seq),
        Bind::Integer(txn.fiscal_year),
        Bind::Text(txn.kind.as_str().to_string()),
        Bind::Date(txn.value_date),
        Bind::Text(txn.description.to_string()),
        Bind::OptText(txn.reverses.as_deref().map(str::to_string)),
        Bind::OptText(txn.payment_id.as_deref().map(str::to_string)),
        Bind::OptText(txn.bank_reference.as_deref().map(str::to_string)),
        Bind::Text(txn.created_by.to_string()),
        Bind::Timestamp(txn.created_at),
        Bind::Text(txn.prev_hash.to_string()),
        Bind::Text(txn.hash.to_string()),
        // entries
        Bind::Text(txn.id.to_string()),
        v(),
        Bind::Date(txn.value_date),
        Bind::Integers(entries.iter().map(|e| e.line_no).collect()),
        Bind::Texts(entries.iter().map(|e| e.account_code.clone()).collect()),
        Bind::Texts(entries.iter().map(|e| e.side.as_str().to_string()).collect()),
        Bind::BigInts(entries.iter().map(|e| e.amount).collect()),
        Bind::OptTexts(entries.iter().map(|e| e.activity_code.clone()).collect()),
        Bind::OptTexts(entries.iter().map(|e| e.source.clone()).collect()),
        // balances
        Bind::Texts(balances.iter().map(|b| b.account.clone()).collect()),
        Bind::BigInts(balances.iter().map(|b| b.before).collect()),
        Bind::BigInts(balances.iter().map(|b| b.after).collect()),
        v(),
        // daily totals
        v(),
        Bind::Date(txn.value_date),
        Bind::Texts(daily.keys().cloned().collect()),
        Bind::BigInts(daily.values().map(|(debit, _)| *debit).collect()),
        Bind::BigInts(daily.values().map(|(_, credit)| *credit).collect()),
    ];
    if let Some(r) = &along.bank_credit {
        binds.extend([
            Bind::Text(r.village_id.to_string()),
            Bind::Text(r.bank_reference.to_string()),
            Bind::BigInt(r.amount),
            Bind::Text(r.source.to_string()),
            Bind::Text(r.transaction_id.to_string()),
            Bind::Text(r.client_id.to_string()),
            Bind::Timestamp(r.created_at),
        ]);
    }
    if let Some(r) = &along.idempotency {
        binds.extend([
            Bind::Text(r.principal.to_string()),
            Bind::Text(r.key.to_string()),
            Bind::Text(r.request_hash.to_string()),
            Bind::OptText(r.village_id.as_deref().map(str::to_string)),
            Bind::Integer(r.status),
            Bind::Text(r.body.to_string()),
            Bind::Timestamp(r.created_at),
        ]);
    }
    binds.extend([
        // village, and the guard
        Bind::BigInt(txn.seq),
        Bind::BigInt(txn.chain_seq),
        Bind::Text(txn.hash.to_string()),
        v(),
        Bind::BigInt(i64::try_from(balances.len()).expect("bounded")),
        v(),
        Bind::Integer(txn.fiscal_year),
    ]);
    let sql = match (&along.bank_credit, &along.idempotency) {
        (None, None) => WRITE_POSTING,
        (Some(_), None) => WRITE_POSTING_CREDIT,
        (None, Some(_)) => WRITE_POSTING_ANSWER,
        (Some(_), Some(_)) => WRITE_POSTING_CREDIT_ANSWER,
    };
    match cached(sql, binds).execute(c)? {
        1 => Ok(()),
        // A balance moved or the year closed since the checks: start again from the lock.
        0 => Err(StoreError::Retry),
        n => Err(StoreError::internal(format!("the posting updated {n} village rows"))),
    }
}

/// The array binds of a run of transactions, in the column order of the statements below (every column but the
/// village's, which each statement binds its own way).
fn transaction_binds<'a>(txns: impl Iterator<Item = &'a TransactionRow> + Clone) -> Vec<Bind> {
    let texts = |f: &dyn Fn(&TransactionRow) -> String| Bind::Texts(txns.clone().map(f).collect());
    let opt_texts = |f: &dyn Fn(&TransactionRow) -> Option<String>| Bind::OptTexts(txns.clone().map(f).collect());
    vec![
        texts(&|t| t.id.to_string()),
        Bind::BigInts(txns.clone().map(|t| t.seq).collect()),
        Bind::BigInts(txns.clone().map(|t| t.chain_seq).collect()),
        Bind::Integers(txns.clone().map(|t| t.fiscal_year).collect()),
        texts(&|t| t.kind.as_str().to_string()),
        Bind::Dates(txns.clone().map(|t| t.value_date).collect()),
        texts(&|t| t.description.to_string()),
        opt_texts(&|t| t.reverses.as_deref().map(str::to_string)),
        opt_texts(&|t| t.payment_id.as_deref().map(str::to_string)),
        opt_texts(&|t| t.bank_reference.as_deref().map(str::to_string)),
        texts(&|t| t.created_by.to_string()),
        Bind::Timestamps(txns.clone().map(|t| t.created_at).collect()),
        texts(&|t| t.prev_hash.to_string()),
        texts(&|t| t.hash.to_string()),
    ]
}

/// The array binds of a run's entries (every column but the village's).
fn entry_binds<'a>(entries: impl Iterator<Item = &'a EntryRow> + Clone) -> Vec<Bind> {
    vec![
        Bind::Texts(entries.clone().map(|e| e.transaction_id.to_string()).collect()),
        Bind::Integers(entries.clone().map(|e| e.line_no).collect()),
        Bind::Texts(entries.clone().map(|e| e.account_code.clone()).collect()),
        Bind::Texts(entries.clone().map(|e| e.side.as_str().to_string()).collect()),
        Bind::BigInts(entries.clone().map(|e| e.amount).collect()),
        Bind::OptTexts(entries.clone().map(|e| e.activity_code.clone()).collect()),
        Bind::OptTexts(entries.clone().map(|e| e.source.clone()).collect()),
        Bind::Dates(entries.map(|e| e.value_date).collect()),
    ]
}

/// The array binds of a run's bank-credit records (every column but the village's).
fn bank_credit_binds<'a>(credits: impl Iterator<Item = &'a BankCreditRow> + Clone) -> Vec<Bind> {
    vec![
        Bind::Texts(credits.clone().map(|r| r.bank_reference.clone()).collect()),
        Bind::BigInts(credits.clone().map(|r| r.amount).collect()),
        Bind::Texts(credits.clone().map(|r| r.source.clone()).collect()),
        Bind::Texts(credits.clone().map(|r| r.transaction_id.to_string()).collect()),
        Bind::Texts(credits.clone().map(|r| r.client_id.clone()).collect()),
        Bind::Timestamps(credits.map(|r| r.created_at).collect()),
    ]
}

/// The array binds of a run's stored answers.
fn answer_binds<'a>(answers: impl Iterator<Item = &'a IdempotencyRow> + Clone) -> Vec<Bind> {
    vec![
        Bind::Texts(answers.clone().map(|r| r.principal.clone()).collect()),
        Bind::Texts(answers.clone().map(|r| r.key.clone()).collect()),
        Bind::Texts(answers.clone().map(|r| r.request_hash.clone()).collect()),
        Bind::OptTexts(answers.clone().map(|r| r.village_id.as_deref().map(str::to_string)).collect()),
        Bind::Integers(answers.clone().map(|r| r.status).collect()),
        Bind::Texts(answers.clone().map(|r| r.body.clone()).collect()),
        Bind::Timestamps(answers.map(|r| r.created_at).collect()),
    ]
}

// A run of postings to one village (`ledger::post_run_locked`) in one statement: [`write_posting`]'s statement with
// every row an array element. Each account's balance is set once, from its balance before the run's first posting
// to its balance after the last, under the same guard; the daily totals are the run's sums per account and day;
// the guard also asks every fiscal year of the run to be open.
const WRITE_POSTINGS: &str = "WITH \
     t AS (INSERT INTO transactions (id, village_id, seq, chain_seq, fiscal_year, kind, value_date, description, \
           reverses, payment_id, bank_reference, created_by, created_at, prev_hash, hash) \
           SELECT u.id, ?, u.seq, u.chain_seq, u.fiscal_year, u.kind, u.value_date, u.description, u.reverses, \
                  u.payment_id, u.bank_reference, u.created_by, u.created_at, u.prev_hash, u.hash \
           FROM unnest(?::text[], ?::int8[], ?::int8[], ?::int4[], ?::text[], ?::date[], ?::text[], ?::text[], \
                       ?::text[], ?::text[], ?::text[], ?::timestamp[], ?::text[], ?::text[]) \
             AS u(id, seq, chain_seq, fiscal_year, kind, value_date, description, reverses, payment_id, \
                  bank_reference, created_by, created_at, prev_hash, hash)), \
     e AS (INSERT INTO entries (transaction_id, line_no, village_id, account_code, side, amount, activity_code, \
           source, value_date) \
           SELECT u.txn, u.line_no, ?, u.code, u.side, u.amount, u.activity, u.source, u.value_date \
           FROM unnest(?::text[], ?::int4[], ?::text[], ?::text[], ?::int8[], ?::text[], ?::text[], ?::date[]) \
             AS u(txn, line_no, code, side, amount, activity, source, value_date)), \
     b AS (UPDATE accounts a SET balance = u.after \
           FROM unnest(?::text[], ?::int8[], ?::int8[]) AS u(code, before, after) \
           WHERE a.village_id = ? AND a.code = u.code AND a.balance = u.before RETURNING 1), \
     d AS (INSERT INTO account_daily (village_id, account_code, value_date, debit, credit) \
           SELECT ?, u.code, u.value_date, u.debit, u.credit \
           FROM unnest(?::text[], ?::date[], ?::int8[], ?::int8[]) AS u(code, value_date, debit, credit) \
           ON CONFLICT (village_id, account_code, value_date) DO UPDATE \
           SET debit = account_daily.debit + EXCLUDED.debit, credit = account_daily.credit + EXCLUDED.credit), \
     c AS (INSERT INTO bank_credits (village_id, bank_reference, amount, source, transaction_id, client_id, \
           created_at) \
           SELECT ?, u.reference, u.amount, u.source, u.txn, u.client, u.at \
           FROM unnest(?::text[], ?::int8[], ?::text[], ?::text[], ?::text[], ?::timestamp[]) \
             AS u(reference, amount, source, txn, client, at)), \
     k AS (INSERT INTO idempotency_keys (principal, key, request_hash, village_id, status, body, created_at) \
           SELECT u.principal, u.key, u.request_hash, u.village_id, u.status, u.body, u.at \
           FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::int4[], ?::text[], ?::timestamp[]) \
             AS u(principal, key, request_hash, village_id, status, body, at)), \
     z AS (SELECT 1) \
     UPDATE villages SET last_seq = ?, chain_len = ?, chain_head = ? \
     WHERE id = ? AND (SELECT count(*) FROM b) = ? \
       AND (SELECT count(*) FROM fiscal_years f WHERE f.village_id = ? AND f.year = ANY(?) AND f.status = 'open') = ?";

/// Writes a run of postings to one village in one statement (see above); `combined` is what they do together. A
/// guard that fails is [`StoreError::Retry`], as for one posting.
pub fn write_postings(
    c: &mut PgConnection,
    rows: &[PostingRows<'_>],
    combined: &crate::domain::posting::CombinedPlan,
) -> Result<(), StoreError> {
    let last = rows.last().expect("a run has postings").txn;
    let village = last.village_id.to_string();
    assert!(rows.iter().all(|r| r.txn.village_id == last.village_id), "a run is one village's");
    let v = || Bind::Text(village.clone());
    let txns = || rows.iter().map(|r| r.txn);
    let entries = || rows.iter().flat_map(|r| r.entries.iter());
    let credits = || rows.iter().filter_map(|r| r.along.bank_credit.as_ref());
    let answers = || rows.iter().filter_map(|r| r.along.idempotency.as_ref());
    let mut years: Vec<i32> = txns().map(|t| t.fiscal_year).collect();
    years.sort_unstable();
    years.dedup();
    let mut binds = vec![v()];
    binds.extend(transaction_binds(txns()));
    binds.push(v());
    binds.extend(entry_binds(entries()));
    binds.extend([
        // balances
        Bind::Texts(combined.balances.iter().map(|b| b.account.clone()).collect()),
        Bind::BigInts(combined.balances.iter().map(|b| b.before).collect()),
        Bind::BigInts(combined.balances.iter().map(|b| b.after).collect()),
        v(),
        // daily totals
        v(),
        Bind::Texts(combined.daily.keys().map(|(code, _)| code.clone()).collect()),
        Bind::Dates(combined.daily.keys().map(|(_, date)| *date).collect()),
        Bind::BigInts(combined.daily.values().map(|(debit, _)| *debit).collect()),
        Bind::BigInts(combined.daily.values().map(|(_, credit)| *credit).collect()),
        v(),
    ]);
    binds.extend(bank_credit_binds(credits()));
    binds.extend(answer_binds(answers()));
    binds.extend([
        // village, and the guard
        Bind::BigInt(last.seq),
        Bind::BigInt(last.chain_seq),
        Bind::Text(last.hash.to_string()),
        v(),
        Bind::BigInt(i64::try_from(combined.balances.len()).expect("bounded")),
        v(),
        Bind::Integers(years.clone()),
        Bind::BigInt(i64::try_from(years.len()).expect("bounded")),
    ]);
    match cached(WRITE_POSTINGS, binds).execute(c)? {
        1 => Ok(()),
        0 => Err(StoreError::Retry),
        n => Err(StoreError::internal(format!("the run of postings updated {n} village rows"))),
    }
}

// The postings a group of writes held (`DbConn::write_group`), one per village, in one statement: each village's
// posting as [`write_posting`] writes it, every row an array element that names its village. The guard asks every
// balance to be as each posting found it and every posting's year to be open; the statement then advances one
// village row per posting, else none.
const WRITE_HELD: &str = "WITH \
     t AS (INSERT INTO transactions (village_id, id, seq, chain_seq, fiscal_year, kind, value_date, description, \
           reverses, payment_id, bank_reference, created_by, created_at, prev_hash, hash) \
           SELECT * FROM unnest(?::text[], ?::text[], ?::int8[], ?::int8[], ?::int4[], ?::text[], ?::date[], \
                                ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::timestamp[], ?::text[], \
                                ?::text[])), \
     e AS (INSERT INTO entries (village_id, transaction_id, line_no, account_code, side, amount, activity_code, \
           source, value_date) \
           SELECT * FROM unnest(?::text[], ?::text[], ?::int4[], ?::text[], ?::text[], ?::int8[], ?::text[], \
                                ?::text[], ?::date[])), \
     b AS (UPDATE accounts a SET balance = u.after \
           FROM unnest(?::text[], ?::text[], ?::int8[], ?::int8[]) AS u(village, code, before, after) \
           WHERE a.village_id = u.village AND a.code = u.code AND a.balance = u.before RETURNING 1), \
     d AS (INSERT INTO account_daily (village_id, account_code, value_date, debit, credit) \
           SELECT * FROM unnest(?::text[], ?::text[], ?::date[], ?::int8[], ?::int8[]) \
           ON CONFLICT (village_id, account_code, value_date) DO UPDATE \
           SET debit = account_daily.debit + EXCLUDED.debit, credit = account_daily.credit + EXCLUDED.credit), \
     c AS (INSERT INTO bank_credits (village_id, bank_reference, amount, source, transaction_id, client_id, \
           created_at) \
           SELECT * FROM unnest(?::text[], ?::text[], ?::int8[], ?::text[], ?::text[], ?::text[], ?::timestamp[])), \
     k AS (INSERT INTO idempotency_keys (principal, key, request_hash, village_id, status, body, created_at) \
           SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::int4[], ?::text[], ?::timestamp[])) \
     UPDATE villages v SET last_seq = u.seq, chain_len = u.chain_seq, chain_head = u.head \
     FROM unnest(?::text[], ?::int8[], ?::int8[], ?::text[]) AS u(id, seq, chain_seq, head) \
     WHERE v.id = u.id AND (SELECT count(*) FROM b) = ? \
       AND (SELECT count(*) FROM fiscal_years f, unnest(?::text[], ?::int4[]) AS y(village, year) \
            WHERE f.village_id = y.village AND f.year = y.year AND f.status = 'open') = ?";

/// Writes the postings a group held, one per village, in one statement (see above). A guard that failed is
/// [`StoreError::Retry`] (and the rows the statement inserted stand until the group is rolled back).
pub fn write_held(c: &mut PgConnection, held: &[super::backend::HeldPosting]) -> Result<(), StoreError> {
    let mut villages: Vec<&str> = held.iter().map(|p| p.txn.village_id.as_str()).collect();
    villages.sort_unstable();
    villages.dedup();
    assert_eq!(villages.len(), held.len(), "a group holds one posting per village");
    let txns = || held.iter().map(|p| &p.txn);
    let entries = || held.iter().flat_map(|p| p.entries.iter());
    let balances = || held.iter().flat_map(|p| p.balances.iter().map(move |b| (p.txn.village_id.as_str(), b)));
    let daily = || {
        held.iter()
            .flat_map(|p| p.daily.iter().map(move |(code, dc)| (p.txn.village_id.as_str(), p.txn.value_date, code, dc)))
    };
    let credits = || held.iter().filter_map(|p| p.along.bank_credit.as_ref());
    let answers = || held.iter().filter_map(|p| p.along.idempotency.as_ref());
    let count = |n: usize| Bind::BigInt(i64::try_from(n).expect("bounded"));
    let ids = |it: &mut dyn Iterator<Item = &str>| Bind::Texts(it.map(str::to_string).collect());
    let mut binds = vec![ids(&mut txns().map(|t| t.village_id.as_str()))];
    binds.extend(transaction_binds(txns()));
    binds.push(ids(&mut entries().map(|e| e.village_id.as_str())));
    binds.extend(entry_binds(entries()));
    binds.extend([
        // balances
        ids(&mut balances().map(|(v, _)| v)),
        Bind::Texts(balances().map(|(_, b)| b.account.clone()).collect()),
        Bind::BigInts(balances().map(|(_, b)| b.before).collect()),
        Bind::BigInts(balances().map(|(_, b)| b.after).collect()),
        // daily totals
        ids(&mut daily().map(|(v, ..)| v)),
        Bind::Texts(daily().map(|(_, _, code, _)| code.clone()).collect()),
        Bind::Dates(daily().map(|(_, date, ..)| date).collect()),
        Bind::BigInts(daily().map(|(.., (debit, _))| *debit).collect()),
        Bind::BigInts(daily().map(|(.., (_, credit))| *credit).collect()),
        ids(&mut credits().map(|r| r.village_id.as_str())),
    ]);
    binds.extend(bank_credit_binds(credits()));
    binds.extend(answer_binds(answers()));
    binds.extend([
        // villages, and the guard
        ids(&mut txns().map(|t| t.village_id.as_str())),
        Bind::BigInts(txns().map(|t| t.seq).collect()),
        Bind::BigInts(txns().map(|t| t.chain_seq).collect()),
        Bind::Texts(txns().map(|t| t.hash.to_string()).collect()),
        count(balances().count()),
        ids(&mut txns().map(|t| t.village_id.as_str())),
        Bind::Integers(txns().map(|t| t.fiscal_year).collect()),
        count(held.len()),
    ]);
    match cached(WRITE_HELD, binds).execute(c)? {
        n if n == held.len() => Ok(()),
        0 => Err(StoreError::Retry),
        n => Err(StoreError::internal(format!("{} held postings updated {n} village rows", held.len()))),
    }
}

#[derive(QueryableByName)]
struct JsonText {
    #[diesel(sql_type = Text)]
    json: String,
}

#[derive(serde::Deserialize)]
struct PaymentJson {
    payment: PaymentRow,
    receipts: Vec<super::rows::ReceiptRow>,
    lines: Vec<PaymentLineRow>,
    withholdings: Vec<WithholdingRow>,
    events: Vec<PaymentEventRow>,
    transfers: Vec<TransferRow>,
}

// A request and its child tables in one statement instead of six, each tied to the request's village (a
// sharded database keeps them on its shard: tests/api/sharding.rs). Timestamps come out of `row_to_json` as
// ISO 8601 with microseconds (what both backends store), which chrono reads back exactly.
const LOAD_PAYMENT: &str = "SELECT json_build_object( \
     'payment', row_to_json(p), \
     'receipts', COALESCE((SELECT json_agg(r ORDER BY r.receipt_no) FROM receipts r WHERE r.payment_id = p.id AND r.village_id = p.village_id), \
                          '[]'::json), \
     'lines', COALESCE((SELECT json_agg(l ORDER BY l.line_no) FROM payment_lines l WHERE l.payment_id = p.id AND l.village_id = p.village_id), \
                       '[]'::json), \
     'withholdings', COALESCE((SELECT json_agg(w ORDER BY w.line_no, w.seq_no) FROM payment_withholdings w \
                               WHERE w.payment_id = p.id AND w.village_id = p.village_id), '[]'::json), \
     'events', COALESCE((SELECT json_agg(e ORDER BY e.chain_seq) FROM payment_events e WHERE e.payment_id = p.id AND e.village_id = p.village_id), \
                        '[]'::json), \
     'transfers', COALESCE((SELECT json_agg(t ORDER BY t.attempt) FROM transfers t WHERE t.payment_id = p.id AND t.village_id = p.village_id), \
                           '[]'::json) \
     )::text AS json FROM payments p WHERE p.id = ?";

/// A payment request with its lines, withholdings, events and transfers, in one statement.
pub fn load_payment(c: &mut PgConnection, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
    let row: Option<JsonText> = cached(LOAD_PAYMENT, vec![Bind::Text(id.to_string())]).get_result(c).optional()?;
    let Some(row) = row else { return Ok(None) };
    let p: PaymentJson = serde_json::from_str(&row.json)
        .map_err(|e| StoreError::Internal(anyhow::Error::new(e).context(format!("payment {id} read back as JSON"))))?;
    Ok(Some(PaymentRecord {
        payment: p.payment,
        receipts: p.receipts,
        lines: p.lines,
        withholdings: p.withholdings,
        events: p.events,
        transfers: p.transfers,
    }))
}

macro_rules! write_event_sql {
    ($($status:expr)?) => {
        concat!(
            "WITH e AS (INSERT INTO payment_events (id, village_id, payment_id, chain_seq, step, action, actor, \
                        actor_name, role, from_status, to_status, note, at, payment_digest, prev_hash, hash) \
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)), ",
            $($status, ", ",)?
            "z AS (SELECT 1) UPDATE villages SET chain_len = ?, chain_head = ? WHERE id = ?"
        )
    };
}
const WRITE_EVENT: &str = write_event_sql!();
const WRITE_EVENT_AND_STATUS: &str =
    write_event_sql!("p AS (UPDATE payments SET status = ?, updated_at = ? WHERE id = ? AND village_id = ?)");

/// Inserts a workflow event, advances the village's chain to it and, with `status_change`, sets the request's
/// status and `updated_at`: one statement.
pub fn write_event(
    c: &mut PgConnection,
    e: &PaymentEventRow,
    status_change: Option<NaiveDateTime>,
) -> Result<(), StoreError> {
    let mut binds = vec![
        Bind::Text(e.id.to_string()),
        Bind::Text(e.village_id.to_string()),
        Bind::Text(e.payment_id.to_string()),
        Bind::BigInt(e.chain_seq),
        Bind::Text(e.step.as_str().to_string()),
        Bind::Text(e.action.to_string()),
        Bind::Text(e.actor.to_string()),
        Bind::Text(e.actor_name.to_string()),
        Bind::Text(e.role.as_str().to_string()),
        Bind::OptText(e.from_status.map(|s| s.as_str().to_string())),
        Bind::Text(e.to_status.as_str().to_string()),
        Bind::OptText(e.note.as_deref().map(str::to_string)),
        Bind::Timestamp(e.at),
        Bind::Text(e.payment_digest.to_string()),
        Bind::Text(e.prev_hash.to_string()),
        Bind::Text(e.hash.to_string()),
    ];
    if let Some(at) = status_change {
        binds.extend([
            Bind::Text(e.to_status.as_str().to_string()),
            Bind::Timestamp(at),
            Bind::Text(e.payment_id.to_string()),
            Bind::Text(e.village_id.to_string()),
        ]);
    }
    binds.extend([Bind::BigInt(e.chain_seq), Bind::Text(e.hash.to_string()), Bind::Text(e.village_id.to_string())]);
    let sql = if status_change.is_some() { WRITE_EVENT_AND_STATUS } else { WRITE_EVENT };
    match cached(sql, binds).execute(c)? {
        1 => Ok(()),
        n => Err(StoreError::internal(format!("the event updated {n} village rows"))),
    }
}
