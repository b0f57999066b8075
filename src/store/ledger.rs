//! The journal: postings (checked by `domain::posting`), reversals, transactions, balances and fiscal years.

use super::backend::{Alongside, PostingRows};
use super::rows::*;
use super::schema::*;
use super::write::{idempotent_write, IdempotencyKey, Written};
use super::{now_micros, Db, DbConn, StoreError};
use crate::domain::accounts::{Side, BANK_ACCOUNT};
use crate::domain::chain::{canonical_date, canonical_time, link_hash, CanonicalEntry, CanonicalTransaction};
use crate::domain::facts::FactKind;
use crate::domain::ids::{PaymentId, TransactionId, VillageId};
use crate::domain::money::Money;
use crate::domain::posting::{
    plan_posting, reversal_entries, takes_from_bank, touched_accounts, EntryDraft, PlanError, TxnKind, VillageHead,
    YearStatus,
};
use crate::domain::workflow::TransferStatus;
use crate::domain::year_end;
use chrono::{Datelike, NaiveDate};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use std::collections::{BTreeMap, HashMap};

/// A transaction to post. The store assigns its id, sequence numbers, timestamps and hashes.
#[derive(Debug, Clone)]
pub struct NewTransaction {
    pub village_id: VillageId,
    pub kind: TxnKind,
    pub value_date: NaiveDate,
    pub description: String,
    pub entries: Vec<EntryDraft>,
    pub reverses: Option<TransactionId>,
    pub payment_id: Option<PaymentId>,
    pub bank_reference: Option<String>,
    pub created_by: String,
}

#[derive(Debug, Clone, Default)]
pub struct TxnQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub account: Option<String>,
    /// Only the postings of this payment request (its disbursements, a tax deposit, an advance's SPJ).
    pub payment_id: Option<String>,
    pub after_seq: i64,
    pub limit: i64,
}

impl From<PlanError> for StoreError {
    fn from(e: PlanError) -> Self {
        match e {
            PlanError::Posting(p) => StoreError::Posting(p),
            PlanError::UnknownAccount(code) => StoreError::UnknownAccount(code),
        }
    }
}

impl Db {
    /// Posts a transaction atomically; with a key, stores `render`'s body as the response a retry will get.
    pub fn post_transaction(
        &self,
        new: &NewTransaction,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&TransactionRecord) -> String,
    ) -> Result<Written<TransactionRecord>, StoreError> {
        self.write("post_transaction", |c| {
            idempotent_write(c, &new.village_id, idem, 201, render, &mut |c, village| {
                post_locked(c, village, new, None)
            })
        })
    }

    pub fn reverse_transaction(
        &self,
        original_id: &str,
        value_date: NaiveDate,
        reason: &str,
        actor: &str,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&TransactionRecord) -> String,
    ) -> Result<Written<TransactionRecord>, StoreError> {
        self.write("reverse_transaction", |c| {
            let original = get_transaction(c, original_id)?.ok_or(StoreError::NotFound("transaction"))?;
            let village_id = original.txn.village_id.clone();
            idempotent_write(c, &village_id, idem, 201, render, &mut |c, village| {
                // Re-read under the lock: a concurrent reversal may have committed since the first read.
                let original = get_transaction(c, original_id)?.ok_or(StoreError::NotFound("transaction"))?;
                let new = reversal_of(c, &original, village, value_date, reason, actor)?;
                post_locked(c, village, &new, None)
            })
        })
    }

    pub fn get_transaction(&self, id: &str) -> Result<Option<TransactionRecord>, StoreError> {
        self.read("get_transaction", |c| get_transaction(c, id))
    }

    pub fn list_transactions(&self, village_id: &str, query: &TxnQuery) -> Result<Vec<TransactionRecord>, StoreError> {
        self.read("list_transactions", |c| list_transactions(c, village_id, query))
    }

    pub fn accounts(&self, village_id: &str) -> Result<Vec<AccountRow>, StoreError> {
        self.read("accounts", |c| accounts(c, village_id))
    }

    /// Debit-positive balance per account from the entries with value date on or before `at`.
    pub fn balances_at(&self, village_id: &str, at: NaiveDate) -> Result<Vec<(String, i64)>, StoreError> {
        self.read("balances_at", |c| balances_at(c, village_id, at))
    }

    /// Closes a fiscal year (`domain::year_end`): refused before it has ended, while a transfer of it is in flight
    /// or once the next year is closed; computes its SiLPA at 31 December and, when positive, opens the next year
    /// with it (Dr 3.1.1.01, Cr 6.1.1.01, dated 1 January); then no posting may be dated in the year.
    pub fn close_fiscal_year(
        &self,
        village_id: &str,
        year: i32,
        actor: &str,
        today: NaiveDate,
    ) -> Result<FiscalYearRow, StoreError> {
        let (last_day, first_day) =
            year_end::year_bounds(year).ok_or_else(|| StoreError::Validation(format!("year {year}")))?;
        self.write("close_fiscal_year", |c| {
            c.write_txn(&mut |c| {
                let mut village = c.lock_village(village_id)?.ok_or(StoreError::NotFound("village"))?;
                super::facts::ensure_intact(c, village_id, FactKind::FiscalYear, &year.to_string())?;
                ensure_year_open(c, village_id, year)?;
                let in_flight: i64 =
                    transfers::table
                        .inner_join(payments::table.on(
                            payments::id.eq(transfers::payment_id).and(payments::village_id.eq(transfers::village_id)),
                        ))
                        .filter(transfers::village_id.eq(village_id))
                        .filter(transfers::status.eq(TransferStatus::Released))
                        .filter(payments::fiscal_year.eq(year))
                        .count()
                        .get_result(c)?;
                let next_closed = fiscal_years::table
                    .find((village_id, year + 1))
                    .select(fiscal_years::status)
                    .first::<YearStatus>(c)
                    .optional()?
                    == Some(YearStatus::Closed);
                let unaccounted: i64 = payments::table
                    .filter(payments::village_id.eq(village_id))
                    .filter(payments::kind.eq(crate::domain::settlement::PaymentKind::Advance))
                    .filter(payments::fiscal_year.eq(year))
                    .filter(payments::status.eq(crate::domain::workflow::PaymentStatus::Paid))
                    .count()
                    .get_result(c)?;
                year_end::check_close(year, today, in_flight, unaccounted, next_closed)
                    .map_err(|e| StoreError::Conflict(e.to_string()))?;
                let balances: BTreeMap<String, i64> = balances_at(c, village_id, last_day)?.into_iter().collect();
                let silpa = year_end::silpa(&balances);
                let carried = match Money::from_sen(silpa) {
                    Ok(amount) => {
                        let entry = |account: &str, side| EntryDraft {
                            account_code: account.to_string(),
                            side,
                            amount,
                            activity_code: None,
                            source: None,
                        };
                        let new = NewTransaction {
                            village_id: village_id.into(),
                            kind: TxnKind::OpeningBalance,
                            value_date: first_day,
                            description: format!("SiLPA Tahun Anggaran {year}"),
                            entries: vec![
                                entry(year_end::EQUITY, Side::Debit),
                                entry(year_end::SILPA_ACCOUNT, Side::Credit),
                            ],
                            reverses: None,
                            payment_id: None,
                            bank_reference: None,
                            created_by: actor.to_string(),
                        };
                        Some(post_locked(c, &mut village, &new, None)?.txn.id.to_string())
                    }
                    Err(_) => None,
                };
                let now = now_micros();
                diesel::update(fiscal_years::table.find((village_id, year)))
                    .set((
                        fiscal_years::status.eq(YearStatus::Closed),
                        fiscal_years::closed_at.eq(Some(now)),
                        fiscal_years::closed_by.eq(Some(actor)),
                        fiscal_years::silpa.eq(Some(silpa)),
                        fiscal_years::silpa_transaction_id.eq(&carried),
                    ))
                    .execute(c)?;
                super::facts::record(c, &mut village, FactKind::FiscalYear, &year.to_string(), actor)?;
                Ok(FiscalYearRow {
                    village_id: village_id.into(),
                    year,
                    status: YearStatus::Closed,
                    closed_at: Some(now),
                    closed_by: Some(actor.to_string()),
                    silpa: Some(silpa),
                    silpa_transaction_id: carried.clone(),
                })
            })
        })
    }

    /// The village's closed fiscal years.
    pub fn closed_years(&self, village_id: &str) -> Result<Vec<i32>, StoreError> {
        self.read("closed_years", |c| closed_years(c, village_id))
    }

    pub fn fiscal_years(&self, village_id: &str) -> Result<Vec<FiscalYearRow>, StoreError> {
        self.read("fiscal_years", |c| {
            Ok(fiscal_years::table
                .filter(fiscal_years::village_id.eq(village_id))
                .order(fiscal_years::year)
                .select(FiscalYearRow::as_select())
                .load(c)?)
        })
    }
}

/// The reversal of `original`: the same lines, sides swapped, dated no earlier than the original.
fn reversal_of(
    c: &mut DbConn,
    original: &TransactionRecord,
    village: &VillageRow,
    value_date: NaiveDate,
    reason: &str,
    actor: &str,
) -> Result<NewTransaction, StoreError> {
    let credited = bank_credits::table
        .filter(bank_credits::village_id.eq(&original.txn.village_id))
        .filter(bank_credits::transaction_id.eq(&original.txn.id))
        .count()
        .get_result::<i64>(c)?;
    let reported_by_bank = credited > 0 || original.txn.payment_id.is_some();
    crate::domain::posting::check_reversible_by_hand(original.txn.kind, reported_by_bank)?;
    if original.reversed_by.is_some() {
        return Err(StoreError::AlreadyReversed(original.txn.id.to_string()));
    }
    if value_date < original.txn.value_date {
        return Err(StoreError::Validation(format!(
            "a reversal cannot be dated before the original's value date {}",
            original.txn.value_date
        )));
    }
    let drafts: Vec<EntryDraft> = original.entries.iter().map(entry_draft).collect::<Result<_, _>>()?;
    Ok(NewTransaction {
        village_id: village.id.clone(),
        kind: TxnKind::Reversal,
        value_date,
        description: format!("Pembalikan transaksi #{}: {}", original.txn.seq, reason),
        entries: reversal_entries(&drafts),
        reverses: Some(original.txn.id.clone()),
        payment_id: original.txn.payment_id.clone(),
        bank_reference: None,
        created_by: actor.to_string(),
    })
}

pub(super) fn entry_draft(e: &EntryRow) -> Result<EntryDraft, StoreError> {
    Ok(EntryDraft {
        account_code: e.account_code.clone(),
        side: e.side,
        amount: crate::domain::money::Money::from_sen(e.amount)
            .map_err(|_| StoreError::internal(format!("stored amount {}", e.amount)))?,
        activity_code: e.activity_code.clone(),
        source: e.source.clone(),
    })
}

/// The village's closed fiscal years, on `c`.
pub(super) fn closed_years(c: &mut DbConn, village_id: &str) -> Result<Vec<i32>, StoreError> {
    Ok(fiscal_years::table
        .filter(fiscal_years::village_id.eq(village_id))
        .filter(fiscal_years::status.eq(YearStatus::Closed))
        .select(fiscal_years::year)
        .load(c)?)
}

/// Ensures the value date's fiscal year is open (opening it on first use).
pub(super) fn ensure_year_open(c: &mut DbConn, village_id: &str, year: i32) -> Result<(), StoreError> {
    let existing: Option<FiscalYearRow> =
        fiscal_years::table.find((village_id, year)).select(FiscalYearRow::as_select()).first(c).optional()?;
    match existing {
        Some(fy) if fy.status == YearStatus::Closed => Err(StoreError::FiscalYearClosed(year)),
        Some(_) => Ok(()),
        None => {
            diesel::insert_into(fiscal_years::table)
                .values(&FiscalYearRow {
                    village_id: village_id.into(),
                    year,
                    status: YearStatus::Open,
                    closed_at: None,
                    closed_by: None,
                    silpa: None,
                    silpa_transaction_id: None,
                })
                .execute(c)?;
            Ok(())
        }
    }
}

/// The net amount of transfers released to the bank and not yet settled: money the bank account has promised away.
/// `except` leaves out the transfer being settled.
pub(super) fn reserved_for_transfers(
    c: &mut DbConn,
    village_id: &str,
    except: Option<&str>,
) -> Result<i64, StoreError> {
    let mut q = transfers::table
        .filter(transfers::village_id.eq(village_id.to_string()))
        .filter(transfers::status.eq("released"))
        .select(sql::<BigInt>("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(transfers::id.ne(id.to_string()));
    }
    Ok(q.first(c)?)
}

/// Posts under the village lock: every check, then every write, or nothing. Advances the village's sequence and
/// chain in `village` too, so a caller can append more to the chain in the same database transaction.
/// `settling` names the transfer whose settlement this is (its reservation of bank money is then spent, not held).
pub(super) fn post_locked(
    c: &mut DbConn,
    village: &mut VillageRow,
    new: &NewTransaction,
    settling: Option<&str>,
) -> Result<TransactionRecord, StoreError> {
    post_locked_with(c, village, new, settling, None, &mut |_| Alongside::default())
}

/// [`post_locked`], with the balances when they were read with the lock (`prefetched`: the accounts of the
/// posting that exist, the year being open) and rows to write along with it.
pub(super) fn post_locked_with(
    c: &mut DbConn,
    village: &mut VillageRow,
    new: &NewTransaction,
    settling: Option<&str>,
    prefetched: Option<HashMap<String, i64>>,
    alongside: &mut dyn FnMut(&TransactionRecord) -> Alongside,
) -> Result<TransactionRecord, StoreError> {
    // The domain refuses an unbalanced posting before anything is read, whoever calls.
    crate::domain::posting::check_balanced(&new.entries)?;
    let codes = touched_accounts(&new.entries);
    // Opens the year on first use, refuses a closed one, and reads the balances of the accounts that exist; unless
    // the lock brought them (the year was open then, and the lock is still held).
    let balances: HashMap<String, i64> = match prefetched {
        Some(b) if codes.iter().all(|code| b.contains_key(code)) => b,
        _ => c.posting_balances(&village.id, new.value_date.year(), &codes)?,
    };
    let reserved =
        if holds_reservation(new, &balances) { reserved_for_transfers(c, &village.id, settling)? } else { 0 };
    let head = village_head(village);
    let plan = plan_posting(&head, &balances, reserved, new.value_date, &new.entries)?;

    let record = posting_rows(village, new, &plan, head.chain_head);
    let along = alongside(&record);
    c.write_posting(&PostingRows {
        txn: &record.txn,
        entries: &record.entries,
        balances: &plan.balances,
        daily: &plan.daily,
        along: &along,
    })?;
    village.last_seq = plan.seq;
    village.chain_len = plan.chain_seq;
    village.chain_head = record.txn.hash.clone();
    Ok(record)
}

/// Whether a posting must leave the bank money released to transfers alone (money released to the bank for payments
/// is not available to anything else until the bank settles it): it takes from the bank, of a kind that respects
/// the reservation, in a chart that has the bank account.
fn holds_reservation(new: &NewTransaction, balances: &HashMap<String, i64>) -> bool {
    crate::domain::posting::respects_reservation(new.kind)
        && takes_from_bank(&new.entries)
        && balances.contains_key(BANK_ACCOUNT)
}

/// What a posting needs of its locked village.
fn village_head(village: &VillageRow) -> VillageHead {
    VillageHead {
        last_seq: village.last_seq,
        chain_len: village.chain_len,
        chain_head: village.chain_head.clone(),
        cash_limit: village.cash_limit,
    }
}

/// Several postings to one locked village in one write: each planned on what the ones before it left
/// (`domain::posting::PlanRun`, so each is checked exactly as if posted alone) and refused alone, in its place,
/// with the error it would have had; the ones planned are written together by the seam
/// (`DbConn::write_postings`: on PostgreSQL one statement for all of them) and the village's head advances past
/// them. `balances` are the balances of every account the postings touch, read under the lock in their fiscal
/// year, which must be open (the caller read them with `posting_balances`). `alongside(i, record)` gives the rows
/// written with the `i`-th posting.
pub(super) fn post_run_locked(
    c: &mut DbConn,
    village: &mut VillageRow,
    news: &[NewTransaction],
    balances: HashMap<String, i64>,
    alongside: &mut dyn FnMut(usize, &TransactionRecord) -> Alongside,
) -> Result<Vec<Result<TransactionRecord, StoreError>>, StoreError> {
    let reserves: Vec<bool> = news.iter().map(|n| holds_reservation(n, &balances)).collect();
    // Nothing in a run changes what released transfers hold, so the reservation is read once.
    let reserved = if reserves.contains(&true) { reserved_for_transfers(c, &village.id, None)? } else { 0 };
    let mut run = crate::domain::posting::PlanRun::new(village_head(village), balances);
    let mut out = Vec::with_capacity(news.len());
    let mut planned = Vec::with_capacity(news.len());
    for (i, new) in news.iter().enumerate() {
        let reserve = if reserves[i] { reserved } else { 0 };
        match run.plan(reserve, new.value_date, &new.entries) {
            Err(e) => out.push(Err(StoreError::from(e))),
            Ok(plan) => {
                let record = posting_rows(village, new, &plan, run.head_hash().to_string());
                run.linked(record.txn.hash.clone());
                let along = alongside(i, &record);
                out.push(Ok(record.clone()));
                planned.push((record, plan, along));
            }
        }
    }
    if planned.is_empty() {
        return Ok(out);
    }
    let rows: Vec<PostingRows<'_>> = planned
        .iter()
        .map(|(record, plan, along)| PostingRows {
            txn: &record.txn,
            entries: &record.entries,
            balances: &plan.balances,
            daily: &plan.daily,
            along,
        })
        .collect();
    c.write_postings(&rows, &run.combined())?;
    let last = &planned.last().expect("not empty").0.txn;
    village.last_seq = last.seq;
    village.chain_len = last.chain_seq;
    village.chain_head = last.hash.clone();
    Ok(out)
}

/// The transaction and entry rows of a planned posting, hashed onto the chain after `prev_hash`.
fn posting_rows(
    village: &VillageRow,
    new: &NewTransaction,
    plan: &crate::domain::posting::PostingPlan,
    prev_hash: String,
) -> TransactionRecord {
    let id = TransactionId::new();
    let entry_rows: Vec<EntryRow> = new
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| EntryRow {
            transaction_id: id.clone(),
            line_no: i32::try_from(i + 1).expect("entry count is bounded"),
            village_id: village.id.clone(),
            account_code: e.account_code.clone(),
            side: e.side,
            amount: e.amount.sen(),
            activity_code: e.activity_code.clone(),
            source: e.source.clone(),
            value_date: new.value_date,
        })
        .collect();
    let mut txn = TransactionRow {
        id,
        village_id: village.id.clone(),
        seq: plan.seq,
        chain_seq: plan.chain_seq,
        fiscal_year: plan.fiscal_year,
        kind: new.kind,
        value_date: new.value_date,
        description: new.description.clone(),
        reverses: new.reverses.clone(),
        payment_id: new.payment_id.clone(),
        bank_reference: new.bank_reference.clone(),
        created_by: new.created_by.clone(),
        created_at: now_micros(),
        prev_hash,
        hash: String::new(),
    };
    txn.hash = transaction_hash(&txn, &entry_rows);
    TransactionRecord { txn, entries: entry_rows, reversed_by: None }
}

/// A transaction's link hash, from its canonical form (`domain::chain`).
pub fn transaction_hash(txn: &TransactionRow, entries: &[EntryRow]) -> String {
    let canonical = CanonicalTransaction {
        record: "transaction",
        id: &txn.id,
        village_id: &txn.village_id,
        chain_seq: txn.chain_seq,
        seq: txn.seq,
        fiscal_year: txn.fiscal_year,
        kind: txn.kind.as_str(),
        value_date: canonical_date(txn.value_date),
        description: &txn.description,
        reverses: txn.reverses.as_deref(),
        payment_id: txn.payment_id.as_deref(),
        bank_reference: txn.bank_reference.as_deref(),
        created_by: &txn.created_by,
        created_at: canonical_time(txn.created_at),
        entries: entries
            .iter()
            .map(|e| CanonicalEntry {
                account: &e.account_code,
                side: e.side.as_str(),
                amount_sen: e.amount,
                activity: e.activity_code.as_deref(),
                source: e.source.as_deref(),
            })
            .collect(),
    };
    link_hash(&txn.prev_hash, &canonical)
}

/// Attaches entries and `reversed_by` to a page of one village's transaction rows, with two queries for the whole
/// page. Both also name the village: without it, on a table the planner has no statistics for, a page of a few
/// hundred ids is judged to match most of the table and read by a sequential scan of every village's entries
/// (`reports::transaction_accounts_touching` says more); with it, the read is bounded by the village.
pub(super) fn with_entries(c: &mut DbConn, txns: Vec<TransactionRow>) -> Result<Vec<TransactionRecord>, StoreError> {
    let Some(village_id) = txns.first().map(|t| t.village_id.to_string()) else {
        return Ok(Vec::new());
    };
    assert!(txns.iter().all(|t| t.village_id.as_str() == village_id), "a page is one village's");
    let ids: Vec<TransactionId> = txns.iter().map(|t| t.id.clone()).collect();
    let mut by_txn: HashMap<TransactionId, Vec<EntryRow>> = HashMap::new();
    for e in entries::table
        .filter(entries::village_id.eq(&village_id))
        .filter(entries::transaction_id.eq_any(&ids))
        .order((entries::transaction_id, entries::line_no))
        .select(EntryRow::as_select())
        .load(c)?
    {
        by_txn.entry(e.transaction_id.clone()).or_default().push(e);
    }
    let reversals: HashMap<TransactionId, TransactionId> = transactions::table
        .filter(transactions::village_id.eq(&village_id))
        .filter(transactions::reverses.eq_any(&ids))
        .select((transactions::reverses.assume_not_null(), transactions::id))
        .load::<(TransactionId, TransactionId)>(c)?
        .into_iter()
        .collect();
    Ok(txns
        .into_iter()
        .map(|t| {
            let entries = by_txn.remove(&t.id).unwrap_or_default();
            let reversed_by = reversals.get(&t.id).cloned();
            TransactionRecord { txn: t, entries, reversed_by }
        })
        .collect())
}

pub(super) fn get_transaction(c: &mut DbConn, id: &str) -> Result<Option<TransactionRecord>, StoreError> {
    let Some(t) = transactions::table.find(id).select(TransactionRow::as_select()).first(c).optional()? else {
        return Ok(None);
    };
    Ok(with_entries(c, vec![t])?.pop())
}

fn list_transactions(c: &mut DbConn, village_id: &str, query: &TxnQuery) -> Result<Vec<TransactionRecord>, StoreError> {
    let mut q = transactions::table
        .filter(transactions::village_id.eq(village_id.to_string()))
        .filter(transactions::seq.gt(query.after_seq))
        .select(TransactionRow::as_select())
        .order(transactions::seq)
        .limit(query.limit)
        .into_boxed();
    if let Some(from) = query.from {
        q = q.filter(transactions::value_date.ge(from));
    }
    if let Some(to) = query.to {
        q = q.filter(transactions::value_date.le(to));
    }
    if let Some(p) = &query.payment_id {
        q = q.filter(transactions::payment_id.eq(p.clone()));
    }
    if let Some(account) = &query.account {
        q = q.filter(
            transactions::id.eq_any(
                entries::table
                    .filter(entries::village_id.eq(village_id.to_string()))
                    .filter(entries::account_code.eq(account.clone()))
                    .select(entries::transaction_id),
            ),
        );
    }
    let rows = q.load(c)?;
    with_entries(c, rows)
}

pub(super) fn accounts(c: &mut DbConn, village_id: &str) -> Result<Vec<AccountRow>, StoreError> {
    Ok(accounts::table
        .filter(accounts::village_id.eq(village_id))
        .order(accounts::code)
        .select(AccountRow::as_select())
        .load(c)?)
}

pub(super) fn balances_at(c: &mut DbConn, village_id: &str, at: NaiveDate) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(account_daily::table
        .filter(account_daily::village_id.eq(village_id))
        .filter(account_daily::value_date.le(at))
        .group_by(account_daily::account_code)
        .select((account_daily::account_code, sql::<BigInt>("CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT)")))
        .load(c)?)
}
