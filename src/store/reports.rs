//! What the books and reports read. Every query is bounded by a village (or a regency's villages) and a date range,
//! and served by an index; the reports themselves are computed in `crate::reports`.

use super::rows::*;
use super::schema::*;
use super::{Db, DbConn, StoreError};
use crate::domain::accounts::{BANK_ACCOUNT, CASH_IN_HAND};
use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use std::collections::{BTreeMap, BTreeSet};

/// Spending realised on (account, activity, source), in sen.
pub type SpendingByKey = (String, Option<String>, Option<String>, i64);

/// One advance as the Buku Pembantu Panjar reads it.
#[derive(Debug, Clone)]
pub struct AdvanceBookEntry {
    pub payment: PaymentRow,
    pub implementer: String,
    pub paid_on: Option<NaiveDate>,
    pub accounted_on: Option<NaiveDate>,
    /// Σ net of the SPJ's receipts, once accounted for.
    pub spent: Option<i64>,
}

/// One journal entry with its transaction's header, as the books list it.
#[derive(Debug, Clone)]
pub struct LedgerLine {
    pub txn_id: String,
    pub seq: i64,
    pub kind: String,
    pub value_date: NaiveDate,
    pub description: String,
    pub bank_reference: Option<String>,
    pub payment_id: Option<String>,
    pub line_no: i32,
    pub account_code: String,
    pub side: String,
    pub amount: i64,
    pub activity_code: Option<String>,
    pub source: Option<String>,
}

impl LedgerLine {
    /// Debit-positive amount.
    pub fn signed(&self) -> i64 {
        if self.side == "debit" {
            self.amount
        } else {
            -self.amount
        }
    }
}

type LineTuple = (
    String,
    i64,
    String,
    NaiveDate,
    String,
    Option<String>,
    Option<String>,
    i32,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
);

/// An entry's transaction, in the entry's village: the join stays on one village's shard (tests/api/sharding.rs).
type SameTransaction = diesel::dsl::And<
    diesel::dsl::Eq<entries::transaction_id, transactions::id>,
    diesel::dsl::Eq<entries::village_id, transactions::village_id>,
>;

fn same_transaction() -> SameTransaction {
    entries::transaction_id.eq(transactions::id).and(entries::village_id.eq(transactions::village_id))
}

fn to_line(t: LineTuple) -> LedgerLine {
    LedgerLine {
        txn_id: t.0,
        seq: t.1,
        kind: t.2,
        value_date: t.3,
        description: t.4,
        bank_reference: t.5,
        payment_id: t.6,
        line_no: t.7,
        account_code: t.8,
        side: t.9,
        amount: t.10,
        activity_code: t.11,
        source: t.12,
    }
}

macro_rules! line_select {
    () => {
        (
            transactions::id,
            transactions::seq,
            transactions::kind,
            entries::value_date,
            transactions::description,
            transactions::bank_reference,
            transactions::payment_id,
            entries::line_no,
            entries::account_code,
            entries::side,
            entries::amount,
            entries::activity_code,
            entries::source,
        )
    };
}

/// The entries on `accounts` dated in [from, to], in book order (date, sequence, line).
fn account_lines(
    c: &mut DbConn,
    village_id: &str,
    accounts: &[&str],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<LedgerLine>, StoreError> {
    let codes: Vec<String> = accounts.iter().map(|a| a.to_string()).collect();
    let rows: Vec<LineTuple> = entries::table
        .inner_join(transactions::table.on(same_transaction()))
        .filter(entries::village_id.eq(village_id))
        .filter(entries::account_code.eq_any(codes))
        .filter(entries::value_date.ge(from))
        .filter(entries::value_date.le(to))
        .order((entries::value_date, transactions::seq, entries::line_no))
        .select(line_select!())
        .load(c)?;
    Ok(rows.into_iter().map(to_line).collect())
}

/// For the cash book: the non-cash entries of every transaction that moves cash (bank or cash in hand).
fn cash_counter_lines(
    c: &mut DbConn,
    village_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<LedgerLine>, StoreError> {
    let cash = [CASH_IN_HAND.to_string(), BANK_ACCOUNT.to_string()];
    let cash_entries = diesel::alias!(entries as cash_entries);
    let moving = cash_entries
        .filter(cash_entries.field(entries::village_id).eq(village_id.to_string()))
        .filter(cash_entries.field(entries::account_code).eq_any(cash.clone()))
        .filter(cash_entries.field(entries::value_date).ge(from))
        .filter(cash_entries.field(entries::value_date).le(to))
        .select(cash_entries.field(entries::transaction_id));
    let rows: Vec<LineTuple> = entries::table
        .inner_join(transactions::table.on(same_transaction()))
        .filter(entries::village_id.eq(village_id))
        .filter(entries::account_code.ne_all(cash))
        .filter(entries::value_date.ge(from))
        .filter(entries::value_date.le(to))
        .filter(entries::transaction_id.eq_any(moving))
        .order((entries::value_date, transactions::seq, entries::line_no))
        .select(line_select!())
        .load(c)?;
    Ok(rows.into_iter().map(to_line).collect())
}

/// The accounts touched by each transaction of a village that touches `account` in [from, to] (the bank book's
/// columns): the village's entries of the period (an entry has its transaction's value date) in one index range,
/// grouped here. Not by a list of transaction ids: `transaction_id = ANY($1)` with a few hundred ids is judged, on
/// a table the planner has no statistics for, to match most of it, and the sequential scan that follows compares
/// every entry of every village with every id (1.4–2.9 s against 42,000 entries in session 10's soak); nor by a
/// self-join, which without statistics became a nested loop over the village's entries squared (51 ms for a village
/// of 509 entries). This is linear in the village's entries of the period, whatever the planner knows.
fn transaction_accounts_touching(
    c: &mut DbConn,
    village_id: &str,
    account: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeMap<String, BTreeSet<String>>, StoreError> {
    let rows: Vec<(String, String)> = entries::table
        .filter(entries::village_id.eq(village_id))
        .filter(entries::value_date.ge(from))
        .filter(entries::value_date.le(to))
        .select((entries::transaction_id, entries::account_code))
        .load(c)?;
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (t, a) in rows {
        out.entry(t).or_default().insert(a);
    }
    out.retain(|_, accounts| accounts.contains(account));
    Ok(out)
}

/// Σdebit and Σcredit per (village, account) over [from, to], from the daily totals.
fn period_totals(
    c: &mut DbConn,
    village_ids: &[String],
    from: Option<NaiveDate>,
    to: NaiveDate,
) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
    let mut q = account_daily::table
        .filter(account_daily::village_id.eq_any(village_ids.to_vec()))
        .filter(account_daily::value_date.le(to))
        .group_by((account_daily::village_id, account_daily::account_code))
        .select((
            account_daily::village_id,
            account_daily::account_code,
            sql::<BigInt>("CAST(COALESCE(SUM(debit), 0) AS BIGINT)"),
            sql::<BigInt>("CAST(COALESCE(SUM(credit), 0) AS BIGINT)"),
        ))
        .into_boxed();
    if let Some(f) = from {
        q = q.filter(account_daily::value_date.ge(f));
    }
    Ok(q.load(c)?)
}

/// Daily (debit, credit) of one account over [from, to], for running balances.
fn account_days(
    c: &mut DbConn,
    village_id: &str,
    account: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(NaiveDate, i64, i64)>, StoreError> {
    Ok(account_daily::table
        .filter(account_daily::village_id.eq(village_id))
        .filter(account_daily::account_code.eq(account))
        .filter(account_daily::value_date.ge(from))
        .filter(account_daily::value_date.le(to))
        .order(account_daily::value_date)
        .select((account_daily::value_date, account_daily::debit, account_daily::credit))
        .load(c)?)
}

/// Spending realised per (account, activity, source) over [from, to]: debits less credits on 5.x and 6.2.x.
fn spending_by_key(
    c: &mut DbConn,
    village_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<SpendingByKey>, StoreError> {
    flows_by_key(c, village_id, from, to, Flow::Spent)
}

/// Which way money moves on a group of accounts, and so which side of their entries counts as positive.
#[derive(Clone, Copy)]
pub(super) enum Flow {
    /// Spending (5) and financing expenditure (6.2): debits less credits.
    Spent,
    /// Revenue (4) and financing receipts (6.1): credits less debits.
    Received,
}

/// Per (account, activity, source) of one flow's accounts, the net amount of their entries dated in [from, to].
pub(super) fn flows_by_key(
    c: &mut DbConn,
    village_id: &str,
    from: NaiveDate,
    to: NaiveDate,
    flow: Flow,
) -> Result<Vec<SpendingByKey>, StoreError> {
    let (a, b, net) = match flow {
        Flow::Spent => {
            ("5.%", "6.2.%", "CAST(COALESCE(SUM(CASE WHEN side = 'debit' THEN amount ELSE -amount END), 0) AS BIGINT)")
        }
        Flow::Received => {
            ("4.%", "6.1.%", "CAST(COALESCE(SUM(CASE WHEN side = 'credit' THEN amount ELSE -amount END), 0) AS BIGINT)")
        }
    };
    Ok(entries::table
        .filter(entries::village_id.eq(village_id))
        .filter(entries::value_date.ge(from))
        .filter(entries::value_date.le(to))
        .filter(entries::account_code.like(a).or(entries::account_code.like(b)))
        .group_by((entries::account_code, entries::activity_code, entries::source))
        .select((entries::account_code, entries::activity_code, entries::source, sql::<BigInt>(net)))
        .load(c)?)
}

fn budget_positions(c: &mut DbConn, village_ids: &[String], year: i32) -> Result<Vec<BudgetPositionRow>, StoreError> {
    Ok(budget_positions::table
        .filter(budget_positions::village_id.eq_any(village_ids.to_vec()))
        .filter(budget_positions::year.eq(year))
        .order((budget_positions::village_id, budget_positions::account_code))
        .select(BudgetPositionRow::as_select())
        .load(c)?)
}

fn statement_lines(
    c: &mut DbConn,
    village_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<StatementLineRow>, StoreError> {
    Ok(statement_lines::table
        .filter(statement_lines::village_id.eq(village_id))
        .filter(statement_lines::value_date.ge(from))
        .filter(statement_lines::value_date.le(to))
        .order((statement_lines::value_date, statement_lines::bank_reference))
        .select(StatementLineRow::as_select())
        .load(c)?)
}

/// Requests of these villages created in [from, to] that went at least as far as approval.
fn approved_payments(
    c: &mut DbConn,
    village_ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<PaymentRow>, StoreError> {
    let start = from.and_hms_opt(0, 0, 0).expect("midnight");
    let end = to.succ_opt().unwrap_or(to).and_hms_opt(0, 0, 0).expect("midnight");
    Ok(payments::table
        .filter(payments::village_id.eq_any(village_ids.to_vec()))
        .filter(payments::kind.eq("spp"))
        .filter(payments::status.eq_any(["approved", "released", "failed", "paid"]))
        .filter(payments::created_at.ge(start))
        .filter(payments::created_at.lt(end))
        .order((payments::village_id, payments::created_at))
        .select(PaymentRow::as_select())
        .load(c)?)
}

fn transfers_released(
    c: &mut DbConn,
    village_ids: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<TransferRow>, StoreError> {
    let start = from.and_hms_opt(0, 0, 0).expect("midnight") - chrono::Duration::hours(14);
    let end = to.succ_opt().unwrap_or(to).and_hms_opt(0, 0, 0).expect("midnight") + chrono::Duration::hours(14);
    Ok(transfers::table
        .filter(transfers::village_id.eq_any(village_ids.to_vec()))
        .filter(transfers::released_at.ge(start))
        .filter(transfers::released_at.lt(end))
        .order((transfers::village_id, transfers::released_at))
        .select(TransferRow::as_select())
        .load(c)?)
}

impl Db {
    pub fn account_lines(
        &self,
        village_id: &str,
        accounts: &[&str],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<LedgerLine>, StoreError> {
        self.read("account_lines", |c| account_lines(c, village_id, accounts, from, to))
    }
    pub fn cash_counter_lines(
        &self,
        village_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<LedgerLine>, StoreError> {
        self.read("cash_counter_lines", |c| cash_counter_lines(c, village_id, from, to))
    }
    /// The accounts touched by each transaction of the village that touches `account` in [from, to].
    pub fn transaction_accounts_touching(
        &self,
        village_id: &str,
        account: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<String, BTreeSet<String>>, StoreError> {
        self.read("transaction_accounts_touching", |c| transaction_accounts_touching(c, village_id, account, from, to))
    }
    /// Σdebit, Σcredit per (village, account) with value dates in [from, to] (from the start when None).
    pub fn period_totals(
        &self,
        village_ids: &[String],
        from: Option<NaiveDate>,
        to: NaiveDate,
    ) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
        self.read("period_totals", |c| period_totals(c, village_ids, from, to))
    }
    pub fn account_days(
        &self,
        village_id: &str,
        account: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, i64, i64)>, StoreError> {
        self.read("account_days", |c| account_days(c, village_id, account, from, to))
    }
    pub fn spending_by_key(
        &self,
        village_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SpendingByKey>, StoreError> {
        self.read("spending_by_key", |c| spending_by_key(c, village_id, from, to))
    }
    pub fn budget_positions(&self, village_ids: &[String], year: i32) -> Result<Vec<BudgetPositionRow>, StoreError> {
        self.read("budget_positions", |c| budget_positions(c, village_ids, year))
    }
    pub fn statement_lines(
        &self,
        village_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StatementLineRow>, StoreError> {
        self.read("statement_lines", |c| statement_lines(c, village_id, from, to))
    }
    pub fn approved_payments(
        &self,
        village_ids: &[String],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<PaymentRow>, StoreError> {
        self.read("approved_payments", |c| approved_payments(c, village_ids, from, to))
    }
    /// Every numbered request of a village: id → number (for the books' No Bukti).
    /// The numbers a village's books print as No Bukti: each request's (by its id) and, for a request of many
    /// receipts, each receipt's kuitansi number by the transaction that paid it (keyed `txn:<id>`).
    pub fn payment_numbers(&self, village_id: &str) -> Result<std::collections::HashMap<String, String>, StoreError> {
        self.read("payment_numbers", |c| {
            let rows: Vec<(crate::domain::ids::PaymentId, Option<String>)> = payments::table
                .filter(payments::village_id.eq(village_id))
                .select((payments::id, payments::number))
                .load(c)?;
            let mut out: std::collections::HashMap<String, String> =
                rows.into_iter().filter_map(|(id, n)| n.map(|n| (id.into(), n))).collect();
            let paid: Vec<(Option<crate::domain::ids::TransactionId>, String)> = transfers::table
                .inner_join(
                    receipts::table.on(receipts::payment_id
                        .eq(transfers::payment_id)
                        .and(receipts::receipt_no.eq(transfers::receipt_no))
                        .and(receipts::village_id.eq(transfers::village_id))),
                )
                .filter(transfers::village_id.eq(village_id))
                .filter(transfers::transaction_id.is_not_null())
                .select((transfers::transaction_id, receipts::number))
                .load(c)?;
            for (txn, number) in paid {
                if let Some(t) = txn {
                    out.insert(format!("txn:{t}"), number);
                }
            }
            Ok(out)
        })
    }

    /// The advances of a village's year that were paid, for the Buku Pembantu Panjar: who drew each (the drafter's
    /// name in the trail), when the bank paid it, and when and for how much it was accounted for.
    pub fn advance_book(&self, village_id: &str, year: i32) -> Result<Vec<AdvanceBookEntry>, StoreError> {
        self.read("advance_book", |c| {
            let advances: Vec<PaymentRow> = payments::table
                .filter(payments::village_id.eq(village_id))
                .filter(payments::kind.eq(crate::domain::settlement::PaymentKind::Advance))
                .filter(payments::fiscal_year.eq(year))
                .filter(payments::status.eq_any([
                    crate::domain::workflow::PaymentStatus::Paid,
                    crate::domain::workflow::PaymentStatus::Accounted,
                ]))
                .order(payments::id)
                .select(PaymentRow::as_select())
                .load(c)?;
            let mut out = Vec::with_capacity(advances.len());
            for payment in advances {
                let paid_on: Option<Option<NaiveDate>> = transfers::table
                    .filter(transfers::payment_id.eq(&payment.id))
                    .filter(transfers::status.eq(crate::domain::workflow::TransferStatus::Paid))
                    .select(transfers::value_date)
                    .first(c)
                    .optional()?;
                let implementer: Option<String> = payment_events::table
                    .filter(payment_events::payment_id.eq(&payment.id))
                    .filter(payment_events::action.eq("create"))
                    .select(payment_events::actor_name)
                    .first(c)
                    .optional()?;
                let spj: Vec<(i64, String)> = accountability_receipts::table
                    .filter(accountability_receipts::payment_id.eq(&payment.id))
                    .select((accountability_receipts::net, accountability_receipts::transaction_id))
                    .load(c)?;
                let accounted_on = match spj.first() {
                    Some((_, txn)) => {
                        Some(transactions::table.find(txn).select(transactions::value_date).first::<NaiveDate>(c)?)
                    }
                    None => None,
                };
                let spent = (!spj.is_empty()).then(|| spj.iter().map(|s| s.0).sum());
                out.push(AdvanceBookEntry {
                    implementer: implementer.unwrap_or_else(|| payment.created_by.clone()),
                    paid_on: paid_on.flatten(),
                    accounted_on,
                    spent,
                    payment,
                });
            }
            Ok(out)
        })
    }

    /// Advances paid and not yet accounted for, with the day the bank paid each.
    pub fn outstanding_advances(&self, village_id: &str) -> Result<Vec<(PaymentRow, NaiveDate)>, StoreError> {
        self.read("outstanding_advances", |c| {
            let rows: Vec<(PaymentRow, Option<NaiveDate>)> = payments::table
                .inner_join(
                    transfers::table
                        .on(transfers::payment_id.eq(payments::id).and(transfers::village_id.eq(payments::village_id))),
                )
                .filter(payments::village_id.eq(village_id))
                .filter(payments::kind.eq(crate::domain::settlement::PaymentKind::Advance))
                .filter(payments::status.eq(crate::domain::workflow::PaymentStatus::Paid))
                .filter(transfers::status.eq(crate::domain::workflow::TransferStatus::Paid))
                .select((PaymentRow::as_select(), transfers::value_date))
                .load(c)?;
            Ok(rows.into_iter().filter_map(|(p, d)| d.map(|d| (p, d))).collect())
        })
    }

    /// Payments made from cash in hand in the period: (payment id, amount paid out, date, transaction id).
    pub fn cash_payments(
        &self,
        village_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(String, i64, NaiveDate, String)>, StoreError> {
        self.read("cash_payments", |c| {
            let rows: Vec<(Option<String>, i64, NaiveDate, String)> = entries::table
                .inner_join(transactions::table.on(same_transaction()))
                .filter(entries::village_id.eq(village_id))
                .filter(entries::account_code.eq(CASH_IN_HAND))
                .filter(entries::side.eq(crate::domain::accounts::Side::Credit))
                .filter(entries::value_date.ge(from))
                .filter(entries::value_date.le(to))
                .filter(transactions::kind.eq(crate::domain::posting::TxnKind::Disbursement))
                .filter(transactions::payment_id.is_not_null())
                .order((entries::value_date, transactions::seq))
                .select((transactions::payment_id, entries::amount, entries::value_date, transactions::id))
                .load(c)?;
            Ok(rows.into_iter().filter_map(|(p, a, d, t)| p.map(|p| (p, a, d, t))).collect())
        })
    }

    pub fn transfers_released(
        &self,
        village_ids: &[String],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<TransferRow>, StoreError> {
        self.read("transfers_released", |c| transfers_released(c, village_ids, from, to))
    }
}
