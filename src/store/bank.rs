//! The bank's side: released transfers, the bank's results (what they post is `domain::settlement`), incoming
//! credits (once per bank reference) and statement lines.

use super::backend::{Alongside, LockTarget, Probe};
use super::budget::{positions_of, write_moves};
use super::error::LineRefusal;
use super::ledger::{get_transaction, post_locked, post_locked_with, NewTransaction};
use super::payments::{append_event, move_budget_of, Actor, EventDraft};
use super::rows::*;
use super::schema::*;
use super::write::{idempotent_write, idempotent_write_probed, ClientCheck, IdempotencyKey, Written};
use super::{now_micros, Db, DbConn, StoreError};
use crate::domain::accounts::{Side, BANK_ACCOUNT, SOURCES, SUSPENSE};
use crate::domain::bank_entry::{self, BankEntryKind, ChargeLine};
use crate::domain::budget;
use crate::domain::facts::FactKind;
use crate::domain::ids::TransactionId;
use crate::domain::money::{Amount, Money};
use crate::domain::posting::{EntryDraft, TxnKind};
use crate::domain::roles::Role;
use crate::domain::settlement::{
    self, BankAnswer, PaidRequest, PaymentKind, ReceiptStatus, Settle, SettledLine, TransferState,
};
use crate::domain::workflow::{transition, Action, PaymentStatus, TransferStatus};
use chrono::{Datelike, NaiveDate};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankResult {
    pub paid: bool,
    pub bank_reference: String,
    pub value_date: NaiveDate,
    pub reason: Option<String>,
    pub ntpn: Option<String>,
    /// A tax deposit's NTPN per tax (`domain::settlement::line_ntpns`).
    pub ntpns: std::collections::BTreeMap<String, String>,
    /// Who at the bank executed the transfer (its user: the village head in a CMS that asks for one).
    pub executed_by: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewCredit {
    pub village_id: String,
    pub amount: Money,
    pub source: String,
    pub bank_reference: String,
    pub value_date: NaiveDate,
    pub description: String,
    pub client_id: String,
}

#[derive(Debug, Clone)]
pub struct NewStatementLine {
    pub bank_reference: String,
    pub value_date: NaiveDate,
    pub amount: Money,
    pub direction: String,
    /// The bank's balance after the line (may be negative only on an overdrawn account).
    pub balance: Option<i64>,
}

/// One of the bank's own entries as the bank reports it.
#[derive(Debug, Clone)]
pub struct NewBankEntry {
    pub kind: BankEntryKind,
    pub amount: Money,
    pub bank_reference: String,
    pub value_date: NaiveDate,
    /// The bank's own date, when it fell in a closed year and `value_date` is where it was carried to.
    pub bank_date: Option<NaiveDate>,
}

/// What became of one bank entry: posted now (`fresh`), or posted before under the same reference.
#[derive(Debug)]
pub struct BankEntryPosted {
    pub fresh: bool,
    pub entry: BankEntryRow,
    /// The account charged: 4.3.6.01 for interest, the chosen line's account, or suspense.
    pub account_code: String,
    /// Why a charge went to suspense (only on a fresh posting; a replay says `entry.suspense`).
    pub suspense_reason: Option<String>,
}

/// Each line's outcome, in the request's order.
pub type BankEntryOutcomes = Vec<Result<BankEntryPosted, LineRefusal>>;

/// The budget line the village charges a kind of bank entry to (none for interest, or while none is chosen) and its
/// live position in the adopted budget of `year` (none while the line is not budgeted).
fn charge_line_of(
    c: &mut DbConn,
    village_id: &str,
    kind: BankEntryKind,
    year: i32,
) -> Result<(Option<ChargeLine>, Option<budget::Position>), StoreError> {
    let line: Option<ChargeLine> = if kind.is_charge() {
        bank_entry_lines::table
            .find((village_id, kind))
            .select(BankEntryLineRow::as_select())
            .first(c)
            .optional()?
            .map(|l| ChargeLine { account: l.account_code, activity: l.activity_code, source: l.source })
    } else {
        None
    };
    let position = match &line {
        Some(l) => positions_of(c, village_id, year, std::iter::once(l.key()))?.into_values().next(),
        None => None,
    };
    Ok((line, position))
}

/// Moves a bank charge held in suspense onto the budget line the village charges that kind to (the head's act: the
/// treasurer or an administrator chose the line, the head adopted the budget it must fit in), dated as the bank
/// charged it: Dr the line, Cr suspense, the line realised. Refused while the charge would still go to suspense
/// (no line, not budgeted, not enough left), for a charge not in suspense, and in a closed year.
fn clear_suspended_locked(
    c: &mut DbConn,
    village: &mut VillageRow,
    bank_reference: &str,
    actor: &str,
    note: Option<&str>,
) -> Result<TransactionRecord, StoreError> {
    let entry: BankEntryRow = bank_entries::table
        .find((&village.id, bank_reference))
        .select(BankEntryRow::as_select())
        .first(c)
        .optional()?
        .ok_or(StoreError::NotFound("bank entry"))?;
    if !entry.suspense {
        return Err(StoreError::Conflict(format!("the bank's {} ({bank_reference}) is not in suspense", entry.kind)));
    }
    let year = entry.value_date.year();
    let (line, position) = charge_line_of(c, &village.id, entry.kind, year)?;
    let plan =
        bank_entry::clearing_plan(entry.kind, money(entry.amount)?, line.as_ref(), position).map_err(|reason| {
            StoreError::Validation(format!("the charge cannot leave suspense yet: {}", reason.describe()))
        })?;
    let new = NewTransaction {
        village_id: village.id.clone(),
        kind: TxnKind::BankEntry,
        value_date: entry.value_date,
        description: match note {
            Some(n) => format!("{} ({bank_reference}) dibebankan dari suspense: {n}", entry.kind.label()),
            None => format!("{} ({bank_reference}) dibebankan dari suspense", entry.kind.label()),
        },
        entries: plan.entries.clone(),
        reverses: None,
        payment_id: None,
        bank_reference: None,
        created_by: actor.to_string(),
    };
    let record = post_locked(c, village, &new, None)?;
    if let Some(m) = &plan.budget_move {
        write_moves(c, &village.id, year, &vec![m.clone()])?;
    }
    diesel::update(bank_entries::table.find((&village.id, bank_reference)))
        .set(bank_entries::suspense.eq(false))
        .execute(c)?;
    Ok(record)
}

/// Posts one bank entry under the village's lock, or answers the one posted before under its reference.
fn post_bank_entry_locked(
    c: &mut DbConn,
    village: &mut VillageRow,
    e: &NewBankEntry,
    client_id: &str,
) -> Result<BankEntryPosted, StoreError> {
    let existing: Option<BankEntryRow> = bank_entries::table
        .find((&village.id, &e.bank_reference))
        .select(BankEntryRow::as_select())
        .first(c)
        .optional()?;
    if let Some(row) = existing {
        if row.kind == e.kind && row.amount == e.amount.sen() && row.value_date == e.value_date {
            let account_code = entries::table
                .filter(entries::transaction_id.eq(&row.transaction_id))
                .filter(entries::account_code.ne(BANK_ACCOUNT))
                .select(entries::account_code)
                .first(c)?;
            return Ok(BankEntryPosted { fresh: false, entry: row, account_code, suspense_reason: None });
        }
        return Err(StoreError::Conflict(format!(
            "bank reference {} was already posted as {} of {} on {}",
            e.bank_reference,
            row.kind,
            Amount(row.amount),
            row.value_date
        )));
    }
    let credited = bank_credits::table.find((&village.id, &e.bank_reference)).count().get_result::<i64>(c)?;
    if credited > 0 {
        return Err(StoreError::Conflict(format!("bank reference {} is a credit already posted", e.bank_reference)));
    }
    let year = e.value_date.year();
    let (line, position) = charge_line_of(c, &village.id, e.kind, year)?;
    let plan = bank_entry::plan(e.kind, e.amount, line.as_ref(), position);
    let mut description = format!("{} ({})", e.kind.label(), e.bank_reference);
    if let Some(reason) = &plan.suspense {
        description = format!("[suspense: {}] {description}", reason.describe());
    }
    if let Some(d) = e.bank_date {
        description = crate::domain::year_end::carried_description(d, &description);
    }
    let new = NewTransaction {
        village_id: village.id.clone(),
        kind: TxnKind::BankEntry,
        value_date: e.value_date,
        description,
        entries: plan.entries.clone(),
        reverses: None,
        payment_id: None,
        bank_reference: Some(e.bank_reference.clone()),
        created_by: client_id.to_string(),
    };
    let record = post_locked(c, village, &new, None)?;
    if let Some(m) = &plan.budget_move {
        write_moves(c, &village.id, year, &vec![m.clone()])?;
    }
    let row = BankEntryRow {
        village_id: village.id.clone(),
        bank_reference: e.bank_reference.clone(),
        kind: e.kind,
        amount: e.amount.sen(),
        value_date: e.value_date,
        transaction_id: record.txn.id.clone(),
        suspense: plan.suspense.is_some(),
        client_id: client_id.to_string(),
        created_at: now_micros(),
    };
    c.insert_all(bank_entries::table, std::slice::from_ref(&row))?;
    let account_code = plan.entries[0].account_code.clone();
    let account_code = if account_code == BANK_ACCOUNT { plan.entries[1].account_code.clone() } else { account_code };
    Ok(BankEntryPosted {
        fresh: true,
        entry: row,
        account_code,
        suspense_reason: plan.suspense.as_ref().map(|r| r.describe()),
    })
}

/// The bank credit recorded under a reference: (amount, source, transaction id).
pub(super) fn find_bank_credit(
    c: &mut DbConn,
    village_id: &str,
    reference: &str,
) -> Result<Option<(i64, String, String)>, StoreError> {
    Ok(bank_credits::table
        .find((village_id, reference))
        .select((bank_credits::amount, bank_credits::source, bank_credits::transaction_id))
        .first(c)
        .optional()?)
}

fn get_transfer(c: &mut DbConn, id: &str) -> Result<Option<TransferRow>, StoreError> {
    Ok(transfers::table.find(id).select(TransferRow::as_select()).first(c).optional()?)
}

fn settlement(c: &mut DbConn, transfer: TransferRow) -> Result<Settlement, StoreError> {
    let payment = payments::table.find(&transfer.payment_id).select(PaymentRow::as_select()).first(c)?;
    let transaction = match &transfer.transaction_id {
        Some(id) => get_transaction(c, id)?,
        None => None,
    };
    let receipt = receipts::table
        .find((&transfer.payment_id, transfer.receipt_no))
        .select(ReceiptRow::as_select())
        .first(c)
        .optional()?;
    Ok(Settlement { transfer, payment, receipt, transaction })
}

fn money(sen: i64) -> Result<Money, StoreError> {
    Money::from_sen(sen).map_err(|_| StoreError::internal(format!("stored amount {sen}")))
}

/// The request as the domain's settlement sees it.
pub(super) fn paid_request(rec: &PaymentRecord) -> Result<PaidRequest, StoreError> {
    paid_receipt(rec, None)
}

/// What one receipt of a request with many amounts to (`None`, or a request of one payee: the whole request).
fn paid_receipt(rec: &PaymentRecord, receipt_no: Option<i32>) -> Result<PaidRequest, StoreError> {
    let Some(no) = receipt_no.filter(|_| !rec.receipts.is_empty()) else {
        return whole_request(rec);
    };
    let receipt = rec
        .receipts
        .iter()
        .find(|r| r.receipt_no == no)
        .ok_or_else(|| StoreError::internal(format!("request {} has no receipt {no}", rec.payment.id)))?;
    let lines: Vec<i32> = rec.lines.iter().filter(|l| l.receipt_no == no).map(|l| l.line_no).collect();
    let whole = whole_request(rec)?;
    Ok(PaidRequest {
        lines: whole.lines.into_iter().zip(&rec.lines).filter(|(_, l)| l.receipt_no == no).map(|(s, _)| s).collect(),
        net: money(receipt.net)?,
        withholdings: rec
            .withholdings
            .iter()
            .filter(|w| lines.contains(&w.line_no))
            .map(|w| Ok((w.tax.clone(), money(w.amount)?)))
            .collect::<Result<_, StoreError>>()?,
    })
}

fn whole_request(rec: &PaymentRecord) -> Result<PaidRequest, StoreError> {
    Ok(PaidRequest {
        lines: rec
            .lines
            .iter()
            .map(|l| {
                Ok(SettledLine {
                    account: l.account_code.clone(),
                    activity: l.activity_code.clone(),
                    source: l.source.clone(),
                    amount: money(l.amount)?,
                })
            })
            .collect::<Result<_, StoreError>>()?,
        net: money(rec.payment.net)?,
        withholdings: rec
            .withholdings
            .iter()
            .map(|w| Ok((w.tax.clone(), money(w.amount)?)))
            .collect::<Result<_, StoreError>>()?,
    })
}

/// The transfer's state as the domain sees it.
fn transfer_state(t: &TransferRow) -> Result<TransferState<'_>, StoreError> {
    if t.status == TransferStatus::Released {
        return Ok(TransferState::Released);
    }
    let (Some(bank_reference), Some(value_date)) = (t.bank_reference.as_deref(), t.value_date) else {
        return Err(StoreError::internal(format!("transfer {} is {} without its bank result", t.id, t.status)));
    };
    Ok(TransferState::Settled(BankAnswer { paid: t.status == TransferStatus::Paid, bank_reference, value_date }))
}

/// Settles a released transfer under its village's lock: the domain decides (post, record the failure, replay, or
/// refuse); the store posts and realises, and writes the transfer's and the request's result and the event.
fn settle_locked(
    c: &mut DbConn,
    village: &mut VillageRow,
    transfer_id: &str,
    result: &BankResult,
    actor: &Actor,
) -> Result<Settlement, StoreError> {
    let transfer =
        get_transfer(c, transfer_id)?.filter(|t| t.village_id == village.id).ok_or(StoreError::NotFound("transfer"))?;
    let rec = c.load_payment(&transfer.payment_id)?.ok_or(StoreError::NotFound("payment"))?;
    super::payments::check_transfer(&rec, &transfer)?;
    let kind = rec.payment.kind;
    let answer =
        BankAnswer { paid: result.paid, bank_reference: &result.bank_reference, value_date: result.value_date };
    let posting = match settlement::settle(kind, &transfer_state(&transfer)?, &answer) {
        Settle::Replay => return settlement(c, transfer),
        Settle::Conflict => {
            return Err(StoreError::Conflict(format!(
                "transfer {} was already settled as {} with bank reference {}",
                transfer.id,
                transfer.status,
                transfer.bank_reference.as_deref().unwrap_or("-")
            )))
        }
        Settle::Post { kind, realise_budget } => Some((kind, realise_budget)),
        Settle::RecordFailure => None,
    };
    let from = rec.payment.status;
    let action = if result.paid { Action::Pay } else { Action::Fail };
    let (mut to, step) = transition(kind, from, action, Role::Bank)?;
    // Of a request with receipts, this result settles one; the request's status follows from all of them.
    let mut rec = rec;
    let receipt = transfer.receipt_no;
    if let Some(r) = rec.receipts.iter_mut().find(|r| r.receipt_no == receipt) {
        r.status = if result.paid { ReceiptStatus::Paid } else { ReceiptStatus::Failed };
        diesel::update(receipts::table.find((&r.payment_id, r.receipt_no)))
            .set(receipts::status.eq(r.status))
            .execute(c)?;
        to = settlement::status_after(&rec.receipts.iter().map(|r| r.status).collect::<Vec<_>>());
    }
    let line_ntpns = deposit_ntpns(&rec, result)?;
    let mut transaction = None;
    if let Some((txn_kind, realise)) = posting {
        let released = transfer.released_on.map(|d| (d, "the transfer was released"));
        settlement::check_value_date(result.value_date, rec.payment.fiscal_year, released)
            .map_err(StoreError::Validation)?;
        let new = NewTransaction {
            village_id: village.id.clone(),
            kind: txn_kind,
            value_date: result.value_date,
            description: rec.payment.description.clone(),
            entries: if kind == PaymentKind::Advance {
                settlement::advance_entries(money(rec.payment.net)?)
            } else {
                settlement::payment_entries(&paid_receipt(&rec, Some(receipt))?).map_err(StoreError::internal)?
            },
            reverses: None,
            payment_id: Some(rec.payment.id.clone()),
            bank_reference: Some(result.bank_reference.clone()),
            created_by: actor.id.clone(),
        };
        transaction = Some(post_locked(c, village, &new, Some(&transfer.id))?);
        if realise {
            let whole = rec.receipts.is_empty();
            move_budget_of(c, &rec, |l| whole || l.receipt_no == receipt, budget::realise)?;
        }
    }
    let outcome =
        Outcome { result, actor, to, transaction_id: transaction.as_ref().map(|t| t.txn.id.clone()), line_ntpns };
    let (transfer, payment) = write_outcome(c, transfer, &rec, &outcome)?;
    // The trail says who at the bank executed it, when the bank said so (chained with the event).
    let executed = result.executed_by.as_deref().map(|who| format!("dieksekusi di bank oleh {who}"));
    let note_text = match (result.paid, result.reason.as_deref(), executed) {
        (false, Some(reason), Some(e)) => Some(format!("{reason}; {e}")),
        (false, Some(reason), None) => Some(reason.to_string()),
        (_, _, e) => e,
    };
    let note = note_text.as_deref();
    let draft = EventDraft { step, action: action.as_str(), actor, from: Some(from), to, note, status_change: None };
    append_event(c, village, &rec, draft)?;
    // The answer is the rows as read under the lock with what this settlement wrote (no second read).
    let receipt = rec.receipts.iter().find(|r| r.receipt_no == receipt).cloned();
    Ok(Settlement { transfer, payment, receipt, transaction })
}

/// A tax deposit the bank paid is finished only with the NTPN of each of its taxes (`None` for anything else).
fn deposit_ntpns(rec: &PaymentRecord, result: &BankResult) -> Result<Option<Vec<String>>, StoreError> {
    if rec.payment.kind != PaymentKind::TaxDeposit || !result.paid {
        return Ok(None);
    }
    let taxes: Vec<&str> = rec
        .lines
        .iter()
        .map(|l| {
            settlement::tax_of(&l.account_code)
                .ok_or_else(|| StoreError::internal(format!("tax line on {}", l.account_code)))
        })
        .collect::<Result<_, _>>()?;
    Ok(Some(settlement::line_ntpns(&taxes, result.ntpn.as_deref(), &result.ntpns).map_err(StoreError::Validation)?))
}

/// What a settlement writes on the transfer, the request and (for a tax deposit) its lines.
struct Outcome<'a> {
    result: &'a BankResult,
    actor: &'a Actor,
    to: PaymentStatus,
    transaction_id: Option<TransactionId>,
    line_ntpns: Option<Vec<String>>,
}

/// Writes the bank's result on the transfer, the request and a deposit's lines; returns the rows as written.
fn write_outcome(
    c: &mut DbConn,
    mut transfer: TransferRow,
    rec: &PaymentRecord,
    o: &Outcome<'_>,
) -> Result<(TransferRow, PaymentRow), StoreError> {
    let (result, now) = (o.result, now_micros());
    let ntpn = o.line_ntpns.as_ref().and_then(|n| n.first().cloned()).or_else(|| result.ntpn.clone());
    transfer.status = if result.paid { TransferStatus::Paid } else { TransferStatus::Failed };
    transfer.result_at = Some(now);
    transfer.bank_reference = Some(result.bank_reference.clone());
    transfer.value_date = Some(result.value_date);
    transfer.reason = result.reason.clone();
    transfer.ntpn = ntpn.clone();
    transfer.settled_by = Some(o.actor.id.clone());
    transfer.transaction_id = o.transaction_id.clone();
    transfer.executed_by = result.executed_by.clone();
    diesel::update(transfers::table.find(&transfer.id))
        .set((
            transfers::status.eq(&transfer.status),
            transfers::result_at.eq(transfer.result_at),
            transfers::bank_reference.eq(&transfer.bank_reference),
            transfers::value_date.eq(transfer.value_date),
            transfers::reason.eq(&transfer.reason),
            transfers::ntpn.eq(&transfer.ntpn),
            transfers::settled_by.eq(&transfer.settled_by),
            transfers::transaction_id.eq(&transfer.transaction_id),
            transfers::executed_by.eq(&transfer.executed_by),
        ))
        .execute(c)?;
    let mut payment = rec.payment.clone();
    payment.status = o.to;
    payment.updated_at = now;
    payment.bank_reference = Some(result.bank_reference.clone());
    payment.ntpn = ntpn;
    payment.transaction_id = o.transaction_id.clone();
    payment.failure_reason = result.reason.clone().filter(|_| !result.paid);
    diesel::update(payments::table.find(&payment.id))
        .set((
            payments::status.eq(&payment.status),
            payments::updated_at.eq(payment.updated_at),
            payments::bank_reference.eq(&payment.bank_reference),
            payments::ntpn.eq(&payment.ntpn),
            payments::transaction_id.eq(&payment.transaction_id),
            payments::failure_reason.eq(&payment.failure_reason),
        ))
        .execute(c)?;
    for (line, ntpn) in rec.lines.iter().zip(o.line_ntpns.iter().flatten()) {
        diesel::update(payment_lines::table.find((&line.payment_id, line.line_no)))
            .set(payment_lines::ntpn.eq(ntpn))
            .execute(c)?;
    }
    Ok((transfer, payment))
}

/// Where a credit from `source` lands: its revenue account, or suspense for a source the chart does not know (for
/// the treasurer to classify by reversal and repost).
fn credit_target(credit: &NewCredit) -> (&'static str, Option<String>, String) {
    match SOURCES.iter().find(|(s, _)| *s == credit.source) {
        Some((s, account)) => (account, Some(s.to_string()), credit.description.clone()),
        None => (SUSPENSE, None, format!("[sumber tidak dikenal: {}] {}", credit.source, credit.description)),
    }
}

/// A credit in a closed year is booked on the first day of the next open one, saying the bank's date.
fn carry_credit(credit: &NewCredit, closed: &[i32]) -> NewCredit {
    let mut credit = credit.clone();
    if let Some(d) = crate::domain::year_end::carried_date(credit.value_date, closed) {
        credit.description = crate::domain::year_end::carried_description(credit.value_date, &credit.description);
        credit.value_date = d;
    }
    credit
}

/// One credit's answer within a batch: posted (or answered by its earlier posting), or refused alone.
type CreditAnswer = Result<Written<TransactionRecord>, StoreError>;

/// Whether a credit repeats the one recorded under its bank reference (amount, source): then it is answered with
/// that posting; otherwise it is refused.
fn same_credit(recorded: (i64, &str), credit: &NewCredit) -> bool {
    recorded.0 == credit.amount.sen() && recorded.1 == credit.source
}

fn credit_conflict(credit: &NewCredit, recorded_amount: i64) -> StoreError {
    StoreError::Conflict(format!(
        "bank reference {} was already credited with {}",
        credit.bank_reference,
        Amount(recorded_amount)
    ))
}

/// The transaction a credit posts: debit the bank, credit its source's account (`credit_target`).
fn credit_transaction(credit: &NewCredit) -> NewTransaction {
    let (account, source, description) = credit_target(credit);
    let amount = credit.amount;
    let entry = |account: &str, side| EntryDraft {
        account_code: account.into(),
        side,
        amount,
        activity_code: None,
        source: source.clone(),
    };
    NewTransaction {
        village_id: credit.village_id.as_str().into(),
        kind: TxnKind::Receipt,
        value_date: credit.value_date,
        description,
        entries: vec![entry(BANK_ACCOUNT, Side::Debit), entry(account, Side::Credit)],
        reverses: None,
        payment_id: None,
        bank_reference: Some(credit.bank_reference.clone()),
        created_by: credit.client_id.clone(),
    }
}

fn bank_credit_row(credit: &NewCredit, record: &TransactionRecord) -> BankCreditRow {
    BankCreditRow {
        village_id: record.txn.village_id.clone(),
        bank_reference: credit.bank_reference.clone(),
        amount: credit.amount.sen(),
        source: credit.source.clone(),
        transaction_id: record.txn.id.clone(),
        client_id: credit.client_id.clone(),
        created_at: now_micros(),
    }
}

/// Credits to one village in one fiscal year (at least two, from a batch), under one lock and in one write
/// (`ledger::post_run_locked`): the village locked, the references' records read, the balances read, everything
/// written in one statement and committed. Each credit is answered as [`post_credit_on`] would answer it alone: a
/// reference already recorded (before, or earlier in the run) with the same figures by that posting, with other
/// figures refused. `None` when the year is closed: the caller carries each credit alone.
fn post_credit_run(c: &mut DbConn, credits: &[&NewCredit]) -> Result<Option<Vec<CreditAnswer>>, StoreError> {
    /// What becomes of one credit of the run.
    enum Fate {
        /// Posted as the run's `n`-th posting.
        Post(usize),
        /// Answered by the posting already recorded under its reference.
        Recorded(TransactionId),
        /// Its reference is the run's `i`-th credit's, with the same figures.
        SameAs(usize),
        Refused(StoreError),
    }
    let village_id = credits[0].village_id.as_str();
    let year = credits[0].value_date.year();
    assert!(credits.iter().all(|k| k.village_id.as_str() == village_id && k.value_date.year() == year));
    c.write_txn(&mut |c| {
        let Some(mut village) = c.lock_village(village_id)? else {
            return Ok(Some(credits.iter().map(|_| Err(StoreError::NotFound("village"))).collect()));
        };
        let references: Vec<&str> = credits.iter().map(|k| k.bank_reference.as_str()).collect();
        let recorded: std::collections::HashMap<String, (i64, String, TransactionId)> = bank_credits::table
            .filter(bank_credits::village_id.eq(village_id))
            .filter(bank_credits::bank_reference.eq_any(&references))
            .select((
                bank_credits::bank_reference,
                bank_credits::amount,
                bank_credits::source,
                bank_credits::transaction_id,
            ))
            .load::<(String, i64, String, TransactionId)>(c)?
            .into_iter()
            .map(|(r, a, s, t)| (r, (a, s, t)))
            .collect();
        let mut codes: Vec<String> = std::iter::once(BANK_ACCOUNT.to_string())
            .chain(credits.iter().map(|k| credit_target(k).0.to_string()))
            .collect();
        codes.sort();
        codes.dedup();
        let balances = match c.posting_balances(village_id, year, &codes) {
            Err(StoreError::FiscalYearClosed(_)) => return Ok(None),
            other => other?,
        };
        let mut fates = Vec::with_capacity(credits.len());
        let mut news: Vec<NewTransaction> = Vec::new();
        let mut posting: Vec<usize> = Vec::new(); // news[n] is credits[posting[n]]
        let mut first_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for (i, credit) in credits.iter().enumerate() {
            let fate = if let Some((amount, source, txn)) = recorded.get(&credit.bank_reference) {
                if same_credit((*amount, source), credit) {
                    Fate::Recorded(txn.clone())
                } else {
                    Fate::Refused(credit_conflict(credit, *amount))
                }
            } else if let Some(&j) = first_of.get(credit.bank_reference.as_str()) {
                if same_credit((credits[j].amount.sen(), &credits[j].source), credit) {
                    Fate::SameAs(j)
                } else {
                    Fate::Refused(credit_conflict(credit, credits[j].amount.sen()))
                }
            } else {
                first_of.insert(&credit.bank_reference, i);
                news.push(credit_transaction(credit));
                posting.push(i);
                Fate::Post(news.len() - 1)
            };
            fates.push(fate);
        }
        let posted = super::ledger::post_run_locked(c, &mut village, &news, balances, &mut |n, record| Alongside {
            bank_credit: Some(bank_credit_row(credits[posting[n]], record)),
            idempotency: None,
        })?;
        // A repeated reference is answered as its first credit was (that one was posted, or refused).
        let repeats: Vec<Option<Result<TransactionRecord, StoreError>>> = fates
            .iter()
            .map(|fate| match fate {
                Fate::SameAs(j) => match &fates[*j] {
                    Fate::Post(n) => Some(match &posted[*n] {
                        Ok(record) => Ok(record.clone()),
                        Err(e) => Err(StoreError::Conflict(format!(
                            "bank reference {} is repeated in this batch, and its first item was refused: {e}",
                            credits[*j].bank_reference
                        ))),
                    }),
                    _ => unreachable!("a reference's first credit of the run is posted"),
                },
                _ => None,
            })
            .collect();
        let mut posted: Vec<Option<Result<TransactionRecord, StoreError>>> = posted.into_iter().map(Some).collect();
        let mut out = Vec::with_capacity(credits.len());
        for (fate, repeat) in fates.into_iter().zip(repeats) {
            let answer = match fate {
                Fate::Post(n) => posted[n].take().expect("each posting is answered once"),
                Fate::Recorded(txn) => get_transaction(c, &txn)?.ok_or(StoreError::NotFound("transaction")),
                Fate::SameAs(_) => repeat.expect("answered above"),
                Fate::Refused(e) => Err(e),
            };
            out.push(answer.map(Written::Fresh));
        }
        Ok(Some(out))
    })
}

/// [`Db::post_credit`] on a connection: posted as dated, or carried out of a closed year.
fn post_credit_carried(
    c: &mut DbConn,
    credit: &NewCredit,
    client: Option<&ClientCheck>,
    idem: Option<&IdempotencyKey>,
    render: &dyn Fn(&TransactionRecord) -> String,
) -> Result<Written<TransactionRecord>, StoreError> {
    match post_credit_on(c, credit, client, idem, render) {
        Err(StoreError::FiscalYearClosed(_)) => {
            let closed = super::ledger::closed_years(c, &credit.village_id)?;
            post_credit_on(c, &carry_credit(credit, &closed), client, idem, render)
        }
        other => other,
    }
}

/// One credit, as dated, in its own (idempotent) write transaction on `c`.
fn post_credit_on(
    c: &mut DbConn,
    credit: &NewCredit,
    client: Option<&ClientCheck>,
    idem: Option<&IdempotencyKey>,
    render: &dyn Fn(&TransactionRecord) -> String,
) -> Result<Written<TransactionRecord>, StoreError> {
    let mut codes = vec![BANK_ACCOUNT.to_string(), credit_target(credit).0.to_string()];
    codes.sort();
    let probe = Probe {
        bank_reference: Some(&credit.bank_reference),
        balances: Some((credit.value_date.year(), &codes)),
        client,
    };
    let target = LockTarget::Village(&credit.village_id);
    idempotent_write_probed(c, target, idem, &probe, 201, render, &mut |c, ctx| {
        if let Some((amount, source, transaction_id)) = ctx.locked.bank_credit.clone() {
            // The same bank transaction again (a retry under a new key): answered with the first posting.
            if same_credit((amount, &source), credit) {
                return get_transaction(c, &transaction_id)?.ok_or(StoreError::NotFound("transaction"));
            }
            return Err(credit_conflict(credit, amount));
        }
        let new = credit_transaction(credit);
        let prefetched = ctx.locked.open_year_balances.take();
        let mut village = ctx.locked.village.clone();
        let posted = post_locked_with(c, &mut village, &new, None, prefetched, &mut |record| Alongside {
            bank_credit: Some(bank_credit_row(credit, record)),
            idempotency: ctx.answer_row(record),
        })?;
        ctx.locked.village = village;
        Ok(posted)
    })
}

/// A single credit waiting for its group (`Db::post_credit`).
pub struct CreditItem {
    credit: NewCredit,
    client: Option<ClientCheck>,
    idem: Option<IdempotencyKey>,
    render: fn(&TransactionRecord) -> String,
}

pub type CreditOutcome = Result<Written<TransactionRecord>, StoreError>;

/// PostgreSQL's single credits, coalesced (`Db::post_credit`).
pub type CreditCoalescer = super::coalesce::Coalescer<CreditItem, CreditOutcome>;

/// A rule the credit broke, decided before it wrote anything: its answer, whether alone or in a group. (A closed
/// year is not: the credit is carried into the next year, alone; nor is anything of the database's.)
fn credit_refusal(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::NotFound(_)
            | StoreError::Conflict(_)
            | StoreError::Integrity(_)
            | StoreError::IdempotencyConflict
            | StoreError::ClientRefused { .. }
            | StoreError::Validation(_)
            | StoreError::Posting(_)
            | StoreError::UnknownAccount(_)
    )
}

/// Single credits of a group (`coalesce.rs`), posted in one database transaction (`DbConn::write_group`): each as
/// [`post_credit_carried`] posts it alone, one after the other in the order of their villages (a group locks its
/// villages in id order, so two groups never wait for each other in a cycle; credits to one village keep their
/// order, and each sees the one before it). A credit the group could not answer is posted alone after it.
fn post_credit_group(c: &mut DbConn, items: &[CreditItem]) -> (Vec<CreditOutcome>, usize) {
    let post = |c: &mut DbConn, k: &CreditItem| {
        post_credit_carried(c, &k.credit, k.client.as_ref(), k.idem.as_ref(), &k.render)
    };
    if let [one] = items {
        return (vec![post(c, one)], 0);
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| items[a].credit.village_id.cmp(&items[b].credit.village_id));
    let grouped = c.write_group(order.len(), &mut |c, n| post(c, &items[order[n]]), &credit_refusal);
    let mut out: Vec<Option<CreditOutcome>> = items.iter().map(|_| None).collect();
    let mut alone = 0;
    for (&i, g) in order.iter().zip(grouped) {
        out[i] = Some(match g {
            super::backend::Grouped::Done(r) => r,
            super::backend::Grouped::Alone => {
                alone += 1;
                post(c, &items[i])
            }
        });
    }
    (out.into_iter().map(|o| o.expect("every credit of the group is answered")).collect(), alone)
}

impl Db {
    pub fn list_transfers(
        &self,
        village_ids: &[String],
        status: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(TransferRow, PaymentRow, Option<ReceiptRow>)>, StoreError> {
        self.read("list_transfers", |c| {
            let mut q = transfers::table
                .inner_join(
                    payments::table
                        .on(payments::id.eq(transfers::payment_id).and(payments::village_id.eq(transfers::village_id))),
                )
                .left_join(
                    receipts::table.on(receipts::payment_id
                        .eq(transfers::payment_id)
                        .and(receipts::receipt_no.eq(transfers::receipt_no))
                        .and(receipts::village_id.eq(transfers::village_id))),
                )
                .filter(transfers::village_id.eq_any(village_ids.to_vec()))
                .filter(transfers::status.eq(status.to_string()))
                .order(transfers::id)
                .limit(limit)
                .select((TransferRow::as_select(), PaymentRow::as_select(), Option::<ReceiptRow>::as_select()))
                .into_boxed();
            if let Some(a) = after {
                q = q.filter(transfers::id.gt(a.to_string()));
            }
            Ok(q.load(c)?)
        })
    }

    /// Of the transfers listed, those that do not say what their chained request says (`payments::check_transfer`):
    /// the bank is not served them. Each is logged.
    pub fn transfers_withheld(
        &self,
        rows: &[(TransferRow, PaymentRow, Option<ReceiptRow>)],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut payments: Vec<PaymentRow> = Vec::new();
        for (_, p, _) in rows {
            if !payments.iter().any(|q| q.id == p.id) {
                payments.push(p.clone());
            }
        }
        self.read("transfers_withheld", |c| {
            let records = super::payments::complete_payments(c, payments)?;
            let mut withheld = std::collections::HashSet::new();
            for (t, p, _) in rows {
                let Some(rec) = records.iter().find(|r| r.payment.id == p.id) else { continue };
                // The transfer as listed (its row may have been read before the record's).
                if let Err(e) = super::payments::check_transfer(rec, t) {
                    tracing::error!(transfer = %t.id, payment = %p.id, error = %e, "transfer withheld from the bank");
                    withheld.insert(t.id.to_string());
                }
            }
            Ok(withheld)
        })
    }

    pub fn get_transfer(&self, id: &str) -> Result<Option<TransferRow>, StoreError> {
        self.read("get_transfer", |c| get_transfer(c, id))
    }

    /// `village_id` is the transfer's village as the caller read it for its scope check; the transfer is read again
    /// under that village's lock.
    pub fn settle_transfer(
        &self,
        transfer_id: &str,
        village_id: &str,
        result: &BankResult,
        actor: &Actor,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&Settlement) -> String,
    ) -> Result<Written<Settlement>, StoreError> {
        self.write("settle_transfer", |c| {
            idempotent_write(c, village_id, idem, 200, render, &mut |c, village| {
                settle_locked(c, village, transfer_id, result, actor)
            })
        })
    }

    /// An incoming credit, posted once per bank reference. The bank-credit record and the two balances are read
    /// with the village lock, and the posting, the bank-credit record and the stored answer are written in one
    /// statement: on PostgreSQL a credit is four round trips. One dated in a closed year (the bank has moved the
    /// money: it is never refused for that) is booked on the first day of the next open year, saying the bank's
    /// date (`domain::year_end::carried_date`); the closed years are read only then. With `client`, the bank
    /// client's token is checked in the locking statement (`ClientCheck`).
    ///
    /// On PostgreSQL, concurrent credits are coalesced (`coalesce.rs`, `credit_writers` groups at once): a group's
    /// credits, of any villages, are written one after the other in one database transaction with one commit
    /// (`post_credit_group`), each still locked, checked, posted and answered as it would be alone.
    pub fn post_credit(
        &self,
        credit: &NewCredit,
        client: Option<&ClientCheck>,
        idem: Option<&IdempotencyKey>,
        render: fn(&TransactionRecord) -> String,
    ) -> Result<Written<TransactionRecord>, StoreError> {
        let Db::Pg(_, Some(credits)) = self else {
            return self.write("post_credit", |c| post_credit_carried(c, credit, client, idem, &render));
        };
        let item = CreditItem { credit: credit.clone(), client: client.cloned(), idem: idem.cloned(), render };
        let group = |c: &mut DbConn, items: &[CreditItem]| {
            let (outs, alone) = post_credit_group(c, items);
            if outs.iter().any(|o| matches!(o, Err(StoreError::Unavailable(_)))) {
                // The connection failed under the group: the pool must not hand it out again.
                super::discard_if_lost(c, &Err::<(), _>(StoreError::Unavailable(String::new())));
            }
            Ok((outs, alone))
        };
        let run = |items: Vec<CreditItem>| match self.write("post_credit_group", |c| group(c, &items)) {
            Ok((outs, alone)) => {
                credits.ran_alone(alone);
                outs
            }
            // No connection for the group: each of its credits is told so.
            Err(e) => {
                let e = e.to_string();
                items.iter().map(|_| Err(StoreError::Unavailable(e.clone()))).collect()
            }
        };
        let lost = || {
            Err(StoreError::Unavailable(
                "a credit in the same group failed unexpectedly; whether this one was saved is not known".into(),
            ))
        };
        credits.submit(item, &run, &lost)
    }

    /// Up to a batch of credits, each posted or refused alone, answered once all of them are on disk. The items of
    /// one village and fiscal year are posted together under one lock in one write (`post_credit_run`: on
    /// PostgreSQL five round trips for all of them), each still checked and refused alone; no transaction spans two
    /// villages, so the batch is a transaction per village:
    /// - on SQLite, on the group writer held for the whole batch: each credit is a savepoint of one commit;
    /// - on PostgreSQL, on one connection whose commits do not each wait for the disk (`synchronous_commit = off`
    ///   for the batch only), followed by the batch's durable commit: the WAL is flushed in order, so once that
    ///   commit is on disk every credit committed before it is too. The caller must make that commit (it stores
    ///   the batch's answer, see `store_answer`) before it answers: until then a crash may lose credits nobody was
    ///   told of, and the bank's retry with the same key posts them (their bank references keep them once).
    pub fn post_credits(
        &self,
        credits: &[NewCredit],
        render: &dyn Fn(&TransactionRecord) -> String,
    ) -> Result<Vec<Result<Written<TransactionRecord>, StoreError>>, StoreError> {
        let all = |c: &mut DbConn| -> Result<Vec<_>, StoreError> {
            let mut out: Vec<Option<Result<Written<TransactionRecord>, StoreError>>> =
                credits.iter().map(|_| None).collect();
            // The items of one village and fiscal year, in the batch's order.
            let mut groups: Vec<Vec<usize>> = Vec::new();
            let mut group_of: std::collections::HashMap<(&str, i32), usize> = std::collections::HashMap::new();
            for (i, credit) in credits.iter().enumerate() {
                let key = (credit.village_id.as_str(), credit.value_date.year());
                let g = *group_of.entry(key).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[g].push(i);
            }
            for items in groups {
                if items.len() > 1 {
                    let run: Vec<&NewCredit> = items.iter().map(|&i| &credits[i]).collect();
                    match post_credit_run(c, &run) {
                        Ok(Some(results)) => {
                            for (&i, r) in items.iter().zip(results) {
                                out[i] = Some(r);
                            }
                            continue;
                        }
                        Err(StoreError::Unavailable(e)) => return Err(StoreError::Unavailable(e)),
                        // A closed year (the credits are carried, each alone) or a failed run (rolled back):
                        // each item again alone, which answers it with its own error.
                        Ok(None) | Err(_) => {}
                    }
                }
                for i in items {
                    let one = post_credit_carried(c, &credits[i], None, None, render);
                    // A connection that failed stops the batch (503: the bank retries it whole, with the same key).
                    if let Err(StoreError::Unavailable(e)) = &one {
                        return Err(StoreError::Unavailable(e.clone()));
                    }
                    out[i] = Some(one);
                }
            }
            Ok(out.into_iter().map(|o| o.expect("every item is answered")).collect())
        };
        // On SQLite `with_deferred_commits` runs `all` as it is, on the group writer held for the batch.
        self.write("post_credits", |c| super::backend::with_deferred_commits(c, all))
    }

    /// Stores statement lines; a line already received with the same figures is counted as a duplicate, with
    /// other figures it is refused.
    pub fn store_statement(
        &self,
        village_id: &str,
        lines: &[NewStatementLine],
        client_id: &str,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&(usize, usize)) -> String,
    ) -> Result<Written<(usize, usize)>, StoreError> {
        self.write("store_statement", |c| {
            idempotent_write(c, village_id, idem, 201, render, &mut |c, village| {
                let (mut stored, mut duplicates) = (0usize, 0usize);
                for l in lines {
                    let existing: Option<StatementLineRow> = statement_lines::table
                        .filter(statement_lines::village_id.eq(&village.id))
                        .filter(statement_lines::bank_reference.eq(&l.bank_reference))
                        .filter(statement_lines::direction.eq(&l.direction))
                        .select(StatementLineRow::as_select())
                        .first(c)
                        .optional()?;
                    match existing {
                        Some(e)
                            if e.amount == l.amount.sen() && e.value_date == l.value_date && e.balance == l.balance =>
                        {
                            duplicates += 1
                        }
                        Some(_) => {
                            return Err(StoreError::Conflict(format!(
                                "statement line {} ({}) was already received with other figures",
                                l.bank_reference, l.direction
                            )))
                        }
                        None => {
                            let id = uuid::Uuid::now_v7().to_string();
                            diesel::insert_into(statement_lines::table)
                                .values(&StatementLineRow {
                                    id: id.clone(),
                                    village_id: village.id.clone(),
                                    bank_reference: l.bank_reference.clone(),
                                    value_date: l.value_date,
                                    amount: l.amount.sen(),
                                    direction: l.direction.clone(),
                                    client_id: client_id.to_string(),
                                    received_at: now_micros(),
                                    balance: l.balance,
                                })
                                .execute(c)?;
                            // The bank's line is a fact of the chain: a figure edited later is found by verify.
                            super::facts::record(c, village, FactKind::StatementLine, &id, client_id)?;
                            stored += 1;
                        }
                    }
                }
                Ok((stored, duplicates))
            })
        })
    }

    /// The bank's own entries for one village, each posted once per bank reference, all under one lock. A line
    /// refused alone (a closed year, a reference posted with other figures, a bank balance that cannot cover it)
    /// is answered with its error and the others still post.
    pub fn post_bank_entries(
        &self,
        village_id: &str,
        lines: &[NewBankEntry],
        client_id: &str,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&BankEntryOutcomes) -> String,
    ) -> Result<Written<BankEntryOutcomes>, StoreError> {
        self.write("post_bank_entries", |c| {
            idempotent_write(c, village_id, idem, 200, render, &mut |c, village| {
                let mut out = Vec::with_capacity(lines.len());
                for e in lines {
                    match post_bank_entry_locked(c, village, e, client_id) {
                        Ok(posted) => out.push(Ok(posted)),
                        Err(err) => out.push(Err(LineRefusal::of(err)?)),
                    }
                }
                Ok(out)
            })
        })
    }

    /// Clears a bank charge out of suspense onto its line (see [`clear_suspended_locked`]).
    pub fn clear_suspended_charge(
        &self,
        village_id: &str,
        bank_reference: &str,
        actor: &str,
        note: Option<&str>,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&TransactionRecord) -> String,
    ) -> Result<Written<TransactionRecord>, StoreError> {
        self.write("clear_suspended_charge", |c| {
            idempotent_write(c, village_id, idem, 201, render, &mut |c, village| {
                clear_suspended_locked(c, village, bank_reference, actor, note)
            })
        })
    }

    /// The budget lines a village charges the bank's charges to.
    pub fn bank_entry_lines(&self, village_id: &str) -> Result<Vec<BankEntryLineRow>, StoreError> {
        self.read("bank_entry_lines", |c| {
            Ok(bank_entry_lines::table
                .filter(bank_entry_lines::village_id.eq(village_id))
                .order(bank_entry_lines::kind)
                .select(BankEntryLineRow::as_select())
                .load(c)?)
        })
    }

    /// Sets (or with `None` clears) the line a kind of bank charge goes to. The line's account must be a
    /// spending account of the chart; it need not be budgeted yet (until it is, the charges go to suspense).
    pub fn set_bank_entry_line(
        &self,
        village_id: &str,
        kind: BankEntryKind,
        line: Option<&ChargeLine>,
        actor: &str,
    ) -> Result<(), StoreError> {
        self.write("set_bank_entry_line", |c| {
            c.write_txn(&mut |c| {
                let ids = [village_id.to_string()];
                super::facts::changing(c, &ids, FactKind::ChargeLine, kind.as_str(), actor, &mut |c| {
                    diesel::delete(bank_entry_lines::table.find((village_id, kind))).execute(c)?;
                    if let Some(l) = line {
                        super::budget::ensure_accounts_exist(c, village_id, std::slice::from_ref(&l.account))?;
                        let row = BankEntryLineRow {
                            village_id: village_id.into(),
                            kind,
                            account_code: l.account.clone(),
                            activity_code: l.activity.clone(),
                            source: l.source.clone(),
                        };
                        c.insert_all(bank_entry_lines::table, std::slice::from_ref(&row))?;
                    }
                    Ok(())
                })
            })
        })
    }

    /// The bank entries of a village by transaction, for the books.
    pub fn bank_entries_of(&self, village_id: &str) -> Result<Vec<BankEntryRow>, StoreError> {
        self.read("bank_entries_of", |c| {
            Ok(bank_entries::table
                .filter(bank_entries::village_id.eq(village_id))
                .select(BankEntryRow::as_select())
                .load(c)?)
        })
    }
}
