//! Payment requests (SPP and tax deposits) and their workflow. The state machine and separation of duties are
//! `domain::workflow`, the budget movements `domain::budget`, what a cancel gives back `domain::settlement`; each
//! step here locks the request's village, reads what those need, and writes the event, the new status and what the
//! domain decided.

use super::backend::{LockTarget, Probe};
use super::budget::{ensure_accounts_exist, positions_of, require_adopted_budget, write_moves};
use super::ledger::{ensure_year_open, post_locked, reserved_for_transfers, NewTransaction};
use super::rows::*;
use super::schema::*;
use super::write::{idempotent_write, idempotent_write_probed, IdempotencyKey, Written};
use super::{now_micros, Db, DbConn, StoreError};
use crate::domain::accounts::BANK_ACCOUNT;
use crate::domain::accounts::CASH_IN_HAND;
use crate::domain::budget::{self, LineKey};
use crate::domain::chain::{
    canonical_date, canonical_time, link_hash, CanonicalEvent, CanonicalPayment, CanonicalPaymentLine, CanonicalReceipt,
};
use crate::domain::ids::PaymentId;
use crate::domain::money::{Amount, Money};
use crate::domain::posting::PostingError;
use crate::domain::settlement::{cancel_releases_commitment, releasable, PaymentKind, ReceiptStatus};
use crate::domain::workflow::{check_separation, drafter, transition, Action, PaymentStatus, Step, TransferStatus};
use chrono::Datelike;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use std::collections::BTreeMap;

/// Who acts on a request: recorded in its events.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub name: String,
    pub role: crate::domain::roles::Role,
}

#[derive(Debug, Clone)]
pub struct NewPaymentLine {
    pub account_code: String,
    pub source: Option<String>,
    pub amount: Money,
    /// (tax, amount)
    pub withholdings: Vec<(String, Money)>,
    /// A tax deposit's line: the billing code it is paid under.
    pub billing_code: Option<String>,
    /// The receipt it belongs to, from 1 (always 1 for a request of one payee).
    pub receipt_no: i32,
}

/// One receipt of an advance's accountability (SPJ): who was paid, and the lines (with their withholdings).
#[derive(Debug, Clone)]
pub struct SpjReceipt {
    pub payee_name: String,
    pub payee_npwp: Option<String>,
    pub description: Option<String>,
    pub lines: Vec<NewPaymentLine>,
}

/// One receipt of a request with many: its payee (the lines carry its number).
#[derive(Debug, Clone)]
pub struct NewReceipt {
    pub payee_name: String,
    pub payee_bank_code: String,
    pub payee_account_number: String,
    pub payee_npwp: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewPayment {
    pub village_id: String,
    pub kind: PaymentKind,
    pub fiscal_year: i32,
    pub activity_code: Option<String>,
    pub description: String,
    pub payee_name: String,
    pub payee_bank_code: String,
    pub payee_account_number: String,
    pub payee_npwp: Option<String>,
    pub invoice_number: Option<String>,
    pub invoice_date: Option<NaiveDate>,
    pub billing_code: Option<String>,
    pub lines: Vec<NewPaymentLine>,
    /// Empty for a request of one payee (the fields above); else 1 to 500 receipts, each with lines of its number.
    pub receipts: Vec<NewReceipt>,
    pub totals: crate::domain::workflow::Totals,
    pub actor: Actor,
    /// Recorded on the creation event (the trail): e.g. withholdings entered other than the calculator proposed.
    pub note: Option<String>,
}

/// A digest of what the request asks for (payee, lines, amounts), from its canonical form (`domain::chain`).
pub fn payment_digest(
    p: &PaymentRow,
    receipts: &[ReceiptRow],
    lines: &[PaymentLineRow],
    withholdings: &[WithholdingRow],
) -> String {
    let many = !receipts.is_empty();
    crate::domain::chain::payment_digest(&CanonicalPayment {
        id: &p.id,
        village_id: &p.village_id,
        kind: p.kind.as_str(),
        fiscal_year: p.fiscal_year,
        activity_code: p.activity_code.as_deref(),
        description: &p.description,
        payee: (&p.payee_name, &p.payee_bank_code, &p.payee_account_number, p.payee_npwp.as_deref()),
        invoice: (p.invoice_number.as_deref(), p.invoice_date.map(canonical_date)),
        billing_code: p.billing_code.as_deref(),
        gross_sen: p.gross,
        withheld_sen: p.withheld,
        net_sen: p.net,
        lines: lines
            .iter()
            .map(|l| CanonicalPaymentLine {
                line_no: l.line_no,
                account: &l.account_code,
                source: l.source.as_deref(),
                amount_sen: l.amount,
                withholdings: withholdings
                    .iter()
                    .filter(|w| w.line_no == l.line_no)
                    .map(|w| (w.tax.as_str(), w.amount))
                    .collect(),
                billing_code: l.billing_code.as_deref(),
                receipt_no: many.then_some(l.receipt_no),
            })
            .collect(),
        receipts: many.then(|| {
            receipts
                .iter()
                .map(|r| CanonicalReceipt {
                    receipt_no: r.receipt_no,
                    number: &r.number,
                    payee: (&r.payee_name, &r.payee_bank_code, &r.payee_account_number, r.payee_npwp.as_deref()),
                    description: r.description.as_deref(),
                    net_sen: r.net,
                })
                .collect()
        }),
    })
}

/// A workflow event's link hash, from its canonical form (`domain::chain`).
pub fn event_hash(e: &PaymentEventRow) -> String {
    link_hash(
        &e.prev_hash,
        &CanonicalEvent {
            record: "payment_event",
            id: &e.id,
            village_id: &e.village_id,
            chain_seq: e.chain_seq,
            payment_id: &e.payment_id,
            step: e.step.as_str(),
            action: &e.action,
            actor: &e.actor,
            actor_name: &e.actor_name,
            role: e.role.as_str(),
            from: e.from_status.map(PaymentStatus::as_str),
            to: e.to_status.as_str(),
            note: e.note.as_deref(),
            at: canonical_time(e.at),
            payment_digest: &e.payment_digest,
        },
    )
}

/// One event to append to a request's trail.
pub(super) struct EventDraft<'a> {
    pub step: Step,
    pub action: &'a str,
    pub actor: &'a Actor,
    pub from: Option<PaymentStatus>,
    pub to: PaymentStatus,
    pub note: Option<&'a str>,
    /// Also set the request's status to `to` and its `updated_at` to this, in the same statement.
    pub status_change: Option<NaiveDateTime>,
}

/// Appends one event to the village's chain (under its lock).
pub(super) fn append_event(
    c: &mut DbConn,
    village: &mut VillageRow,
    rec: &PaymentRecord,
    draft: EventDraft<'_>,
) -> Result<PaymentEventRow, StoreError> {
    let chain_seq = village.chain_len + 1;
    let mut e = PaymentEventRow {
        id: uuid::Uuid::now_v7().to_string(),
        village_id: village.id.clone(),
        payment_id: rec.payment.id.clone(),
        chain_seq,
        step: draft.step,
        action: draft.action.to_string(),
        actor: draft.actor.id.clone(),
        actor_name: draft.actor.name.clone(),
        role: draft.actor.role,
        from_status: draft.from,
        to_status: draft.to,
        note: draft.note.map(str::to_string),
        at: now_micros(),
        payment_digest: payment_digest(&rec.payment, &rec.receipts, &rec.lines, &rec.withholdings),
        prev_hash: village.chain_head.clone(),
        hash: String::new(),
    };
    e.hash = event_hash(&e);
    c.write_event(&e, draft.status_change)?;
    village.chain_len = chain_seq;
    village.chain_head = e.hash.clone();
    Ok(e)
}

/// What a request asks for beside its own row: its lines, its receipts and its withholdings (for a draft, and for
/// an edit once the old ones are deleted).
fn insert_request_rows(c: &mut DbConn, rec: &PaymentRecord) -> Result<(), StoreError> {
    c.insert_all(payment_lines::table, &rec.lines)?;
    if !rec.receipts.is_empty() {
        c.insert_all(receipts::table, &rec.receipts)?;
    }
    if !rec.withholdings.is_empty() {
        c.insert_all(payment_withholdings::table, &rec.withholdings)?;
    }
    Ok(())
}

/// The rows of a new request, as drafted.
fn draft_rows(new: &NewPayment, village_id: &str) -> PaymentRecord {
    let now = now_micros();
    let payment = PaymentRow {
        id: PaymentId::new(),
        village_id: village_id.into(),
        kind: new.kind,
        fiscal_year: new.fiscal_year,
        status: PaymentStatus::Draft,
        activity_code: new.activity_code.clone(),
        description: new.description.clone(),
        payee_name: new.payee_name.clone(),
        payee_bank_code: new.payee_bank_code.clone(),
        payee_account_number: new.payee_account_number.clone(),
        payee_npwp: new.payee_npwp.clone(),
        invoice_number: new.invoice_number.clone(),
        invoice_date: new.invoice_date,
        billing_code: new.billing_code.clone(),
        gross: new.totals.gross,
        withheld: new.totals.withheld,
        net: new.totals.net,
        created_by: new.actor.id.clone(),
        created_at: now,
        updated_at: now,
        bank_reference: None,
        ntpn: None,
        transaction_id: None,
        failure_reason: None,
        number: None,
    };
    let mut lines = Vec::new();
    let mut withholdings = Vec::new();
    for (i, l) in new.lines.iter().enumerate() {
        let line_no = i32::try_from(i + 1).expect("bounded");
        lines.push(PaymentLineRow {
            payment_id: payment.id.clone(),
            line_no,
            village_id: village_id.into(),
            account_code: l.account_code.clone(),
            activity_code: new.activity_code.clone(),
            source: l.source.clone(),
            amount: l.amount.sen(),
            billing_code: l.billing_code.clone(),
            ntpn: None,
            receipt_no: l.receipt_no,
        });
        for (j, (tax, amount)) in l.withholdings.iter().enumerate() {
            withholdings.push(WithholdingRow {
                payment_id: payment.id.clone(),
                line_no,
                seq_no: i32::try_from(j + 1).expect("bounded"),
                village_id: village_id.into(),
                tax: tax.clone(),
                amount: amount.sen(),
            });
        }
    }
    let receipts = new
        .receipts
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let no = i32::try_from(i + 1).expect("bounded");
            let gross: i64 = lines.iter().filter(|l| l.receipt_no == no).map(|l| l.amount).sum();
            let line_nos: Vec<i32> = lines.iter().filter(|l| l.receipt_no == no).map(|l| l.line_no).collect();
            let withheld: i64 = withholdings.iter().filter(|w| line_nos.contains(&w.line_no)).map(|w| w.amount).sum();
            ReceiptRow {
                payment_id: payment.id.clone(),
                receipt_no: no,
                village_id: village_id.into(),
                number: String::new(),
                payee_name: r.payee_name.clone(),
                payee_bank_code: r.payee_bank_code.clone(),
                payee_account_number: r.payee_account_number.clone(),
                payee_npwp: r.payee_npwp.clone(),
                description: r.description.clone(),
                gross,
                withheld,
                net: gross - withheld,
                status: ReceiptStatus::Pending,
            }
        })
        .collect();
    PaymentRecord { payment, receipts, lines, withholdings, events: Vec::new(), transfers: Vec::new() }
}

/// What a list of requests asks for. The default is the API's: oldest first, no filter.
#[derive(Debug, Clone, Default)]
pub struct PaymentQuery<'a> {
    pub status: Option<&'a str>,
    /// Newest first (the console's inbox) instead of oldest first.
    pub newest_first: bool,
    /// The last id of the previous page, in this order.
    pub after: Option<&'a str>,
    pub limit: i64,
    /// Part of the payee's name or of the description (any case), or a request's whole id.
    pub search: Option<&'a str>,
    /// Gross amount bounds, in sen.
    pub min_gross: Option<i64>,
    pub max_gross: Option<i64>,
    /// Created in [from, until), UTC.
    pub created_from: Option<NaiveDateTime>,
    pub created_until: Option<NaiveDateTime>,
}

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);

/// `%`, `_` and the escape character itself match literally in a LIKE pattern after this.
fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The lines, withholdings, events and transfers of a page of requests: four statements for the page.
pub(super) fn complete_payments(c: &mut DbConn, page: Vec<PaymentRow>) -> Result<Vec<PaymentRecord>, StoreError> {
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<PaymentId> = page.iter().map(|p| p.id.clone()).collect();
    let mut receipts: BTreeMap<PaymentId, Vec<ReceiptRow>> = BTreeMap::new();
    for r in receipts::table
        .filter(receipts::payment_id.eq_any(&ids))
        .order((receipts::payment_id, receipts::receipt_no))
        .select(ReceiptRow::as_select())
        .load(c)?
    {
        receipts.entry(r.payment_id.clone()).or_default().push(r);
    }
    let mut lines: BTreeMap<PaymentId, Vec<PaymentLineRow>> = BTreeMap::new();
    for l in payment_lines::table
        .filter(payment_lines::payment_id.eq_any(&ids))
        .order((payment_lines::payment_id, payment_lines::line_no))
        .select(PaymentLineRow::as_select())
        .load(c)?
    {
        lines.entry(l.payment_id.clone()).or_default().push(l);
    }
    let mut withholdings: BTreeMap<PaymentId, Vec<WithholdingRow>> = BTreeMap::new();
    for w in payment_withholdings::table
        .filter(payment_withholdings::payment_id.eq_any(&ids))
        .order((payment_withholdings::payment_id, payment_withholdings::line_no, payment_withholdings::seq_no))
        .select(WithholdingRow::as_select())
        .load(c)?
    {
        withholdings.entry(w.payment_id.clone()).or_default().push(w);
    }
    let mut events: BTreeMap<PaymentId, Vec<PaymentEventRow>> = BTreeMap::new();
    for e in payment_events::table
        .filter(payment_events::payment_id.eq_any(&ids))
        .order((payment_events::payment_id, payment_events::chain_seq))
        .select(PaymentEventRow::as_select())
        .load(c)?
    {
        events.entry(e.payment_id.clone()).or_default().push(e);
    }
    let mut transfers: BTreeMap<PaymentId, Vec<TransferRow>> = BTreeMap::new();
    for t in transfers::table
        .filter(transfers::payment_id.eq_any(&ids))
        .order((transfers::payment_id, transfers::attempt))
        .select(TransferRow::as_select())
        .load(c)?
    {
        transfers.entry(t.payment_id.clone()).or_default().push(t);
    }
    Ok(page
        .into_iter()
        .map(|payment| PaymentRecord {
            receipts: receipts.remove(&payment.id).unwrap_or_default(),
            lines: lines.remove(&payment.id).unwrap_or_default(),
            withholdings: withholdings.remove(&payment.id).unwrap_or_default(),
            events: events.remove(&payment.id).unwrap_or_default(),
            transfers: transfers.remove(&payment.id).unwrap_or_default(),
            payment,
        })
        .collect())
}

pub(super) fn complete_payment(c: &mut DbConn, payment: PaymentRow) -> Result<PaymentRecord, StoreError> {
    let lines = payment_lines::table
        .filter(payment_lines::payment_id.eq(&payment.id))
        .order(payment_lines::line_no)
        .select(PaymentLineRow::as_select())
        .load(c)?;
    let withholdings = payment_withholdings::table
        .filter(payment_withholdings::payment_id.eq(&payment.id))
        .order((payment_withholdings::line_no, payment_withholdings::seq_no))
        .select(WithholdingRow::as_select())
        .load(c)?;
    let events = payment_events::table
        .filter(payment_events::payment_id.eq(&payment.id))
        .order(payment_events::chain_seq)
        .select(PaymentEventRow::as_select())
        .load(c)?;
    let transfers = transfers::table
        .filter(transfers::payment_id.eq(&payment.id))
        .order(transfers::attempt)
        .select(TransferRow::as_select())
        .load(c)?;
    let receipts = receipts::table
        .filter(receipts::payment_id.eq(&payment.id))
        .order(receipts::receipt_no)
        .select(ReceiptRow::as_select())
        .load(c)?;
    Ok(PaymentRecord { payment, receipts, lines, withholdings, events, transfers })
}

/// The request's amounts per budget line, of the lines `which` keeps.
fn request_amounts_of(
    rec: &PaymentRecord,
    which: impl Fn(&PaymentLineRow) -> bool,
) -> Result<BTreeMap<LineKey, i64>, StoreError> {
    Ok(budget::request_amounts(
        rec.lines
            .iter()
            .filter(|l| which(l))
            .map(|l| (LineKey::new(&l.account_code, l.activity_code.as_deref(), l.source.as_deref()), l.amount)),
    )?)
}

/// One of `domain::budget`'s movements: commit, release or realise.
pub(super) type BudgetMove =
    fn(&BTreeMap<LineKey, budget::Position>, &BTreeMap<LineKey, i64>) -> Result<budget::Moves, budget::BudgetError>;

/// Moves the request's budget lines with `how` (commit, release or realise), under the village's lock.
pub(super) fn move_budget(c: &mut DbConn, rec: &PaymentRecord, how: BudgetMove) -> Result<(), StoreError> {
    move_budget_of(c, rec, |_| true, how)
}

/// [`move_budget`] for the lines `which` keeps (a receipt's, of a request with many).
pub(super) fn move_budget_of(
    c: &mut DbConn,
    rec: &PaymentRecord,
    which: impl Fn(&PaymentLineRow) -> bool,
    how: BudgetMove,
) -> Result<(), StoreError> {
    let p = &rec.payment;
    let request = request_amounts_of(rec, which)?;
    let positions = positions_of(c, &p.village_id, p.fiscal_year, request.keys().cloned())?;
    let moves = how(&positions, &request)?;
    write_moves(c, &p.village_id, p.fiscal_year, &moves)
}

/// A tax deposit may not clear more than is owed: the liability's balance less other deposits under way.
fn check_tax_outstanding(c: &mut DbConn, rec: &PaymentRecord) -> Result<(), StoreError> {
    let p = &rec.payment;
    for l in &rec.lines {
        let (owed, pending) = tax_owed(c, &p.village_id, &l.account_code, Some(&p.id))?;
        let available = owed - pending;
        if l.amount > available {
            return Err(StoreError::Validation(format!(
                "the deposit for {} is {}, but only {} is withheld and not yet being deposited",
                l.account_code,
                Amount(l.amount),
                Amount(available.max(0))
            )));
        }
    }
    Ok(())
}

/// What the village owes on a tax's liability `account` (its balance: withheld and not yet deposited) and what the
/// tax deposits under way (approved, released, or failed and waiting) already hold of it, leaving out `except`.
fn tax_owed(c: &mut DbConn, village_id: &str, account: &str, except: Option<&str>) -> Result<(i64, i64), StoreError> {
    let balance: Option<i64> =
        accounts::table.find((village_id, account)).select(accounts::balance).first(c).optional()?;
    let owed = -balance.unwrap_or(0); // liabilities are credit-normal
    let pending: Vec<(String, i64)> = payment_lines::table
        .inner_join(
            payments::table
                .on(payments::id.eq(payment_lines::payment_id).and(payments::village_id.eq(payment_lines::village_id))),
        )
        .filter(payments::village_id.eq(village_id))
        .filter(payments::kind.eq("tax_deposit"))
        .filter(payments::status.eq_any(["approved", "released", "failed"]))
        .filter(payment_lines::account_code.eq(account))
        .select((payments::id, payment_lines::amount))
        .load(c)?;
    let pending = pending.iter().filter(|(id, _)| Some(id.as_str()) != except).map(|(_, a)| a).sum();
    Ok((owed, pending))
}

/// A tax the village withheld: what it owes on it and what deposits under way already hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxOwed {
    pub tax: &'static str,
    pub account: &'static str,
    pub owed: i64,
    pub pending: i64,
}

impl Db {
    /// Per tax, in the order of `domain::accounts::TAXES`: what the village owes and what is being deposited (the
    /// treasurer's deposit form; approval refuses more than `owed - pending`).
    pub fn taxes_owed(&self, village_id: &str) -> Result<Vec<TaxOwed>, StoreError> {
        self.read("taxes_owed", |c| {
            crate::domain::accounts::TAXES
                .iter()
                .map(|(tax, account)| {
                    let (owed, pending) = tax_owed(c, village_id, account, None)?;
                    Ok(TaxOwed { tax, account, owed, pending })
                })
                .collect()
        })
    }
}

fn history(rec: &PaymentRecord) -> Vec<(String, Step)> {
    rec.events.iter().map(|e| (e.actor.clone(), e.step)).collect()
}

/// Release: the bank account, less what released transfers already hold, must cover what is sent; a transfer is
/// written for the bank to execute: one for a request of one payee, else one per receipt not yet sent or failed
/// (a re-release sends the failed receipts only). Each is dated `released_on`, the office's day.
fn release_transfers(
    c: &mut DbConn,
    village: &VillageRow,
    rec: &mut PaymentRecord,
    actor: &Actor,
    released_on: NaiveDate,
) -> Result<Vec<TransferRow>, StoreError> {
    let sends: Vec<(i32, i64)> = if rec.receipts.is_empty() {
        vec![(1, rec.payment.net)]
    } else {
        rec.receipts.iter().filter(|r| releasable(r.status)).map(|r| (r.receipt_no, r.net)).collect()
    };
    let needed: i64 = sends.iter().map(|s| s.1).sum();
    let bank: i64 = accounts::table.find((&village.id, BANK_ACCOUNT)).select(accounts::balance).first(c)?;
    let available = bank - reserved_for_transfers(c, &village.id, None)?;
    if available < needed {
        return Err(StoreError::Posting(PostingError::InsufficientFunds {
            account: BANK_ACCOUNT.into(),
            balance: Amount(available),
            needed: Amount(needed),
        }));
    }
    let mut out = Vec::with_capacity(sends.len());
    for (i, (receipt_no, amount)) in sends.into_iter().enumerate() {
        out.push(new_transfer(village, rec, actor, rec.transfers.len() + 1 + i, receipt_no, amount, released_on));
    }
    c.insert_all(transfers::table, &out)?;
    // The banks that asked to be told hear of it from the outbox, written in this same transaction.
    super::webhooks::enqueue_released(c, village, rec, &out)?;
    for r in rec.receipts.iter_mut().filter(|r| releasable(r.status)) {
        r.status = ReceiptStatus::Released;
        diesel::update(receipts::table.find((&r.payment_id, r.receipt_no)))
            .set(receipts::status.eq(r.status))
            .execute(c)?;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn new_transfer(
    village: &VillageRow,
    rec: &PaymentRecord,
    actor: &Actor,
    attempt: usize,
    receipt_no: i32,
    amount: i64,
    released_on: NaiveDate,
) -> TransferRow {
    TransferRow {
        id: crate::domain::ids::TransferId::new(),
        village_id: village.id.clone(),
        payment_id: rec.payment.id.clone(),
        attempt: i32::try_from(attempt).expect("bounded"),
        receipt_no,
        amount,
        status: TransferStatus::Released,
        released_by: actor.id.clone(),
        released_at: now_micros(),
        result_at: None,
        bank_reference: None,
        value_date: None,
        reason: None,
        ntpn: None,
        settled_by: None,
        transaction_id: None,
        executed_by: None,
        released_on: Some(released_on),
    }
}

/// Takes the next number of a kind of document in a village's year, under the village's lock (gap-free: the
/// counter moves in the same database transaction as the document it numbers).
fn next_number(c: &mut DbConn, village: &VillageRow, year: i32, kind: PaymentKind) -> Result<String, StoreError> {
    let seq = next_in_series(c, village, year, kind.as_str())?;
    Ok(crate::domain::numbering::document_number(seq, kind, &village.code, year))
}

/// The next number of a series (`document_numbers.kind`) in a village's year.
fn next_in_series(c: &mut DbConn, village: &VillageRow, year: i32, series: &str) -> Result<i64, StoreError> {
    let key = (&village.id, year, series);
    let last: Option<i64> =
        document_numbers::table.find(key).select(document_numbers::last_number).first(c).optional()?;
    let seq = last.unwrap_or(0) + 1;
    if last.is_some() {
        diesel::update(document_numbers::table.find(key)).set(document_numbers::last_number.eq(seq)).execute(c)?;
    } else {
        diesel::insert_into(document_numbers::table)
            .values((
                document_numbers::village_id.eq(&village.id),
                document_numbers::year.eq(year),
                document_numbers::kind.eq(series),
                document_numbers::last_number.eq(seq),
            ))
            .execute(c)?;
    }
    Ok(seq)
}

/// Pays an approved request from cash in hand (`pay-cash`): within the regency's per-payment limit, dated in the
/// request's fiscal year; posts the disbursement with cash in hand credited (never below zero) and realises the
/// commitment, as a bank payment would.
fn pay_in_cash(
    c: &mut DbConn,
    village: &mut VillageRow,
    rec: &PaymentRecord,
    actor: &Actor,
    paid_on: NaiveDate,
) -> Result<TransactionRecord, StoreError> {
    let limit: Option<i64> =
        regencies::table.find(&village.regency_id).select(regencies::cash_payment_limit).first(c)?;
    if !rec.receipts.is_empty() {
        return Err(StoreError::Validation(
            "a request with many receipts is paid by bank transfer, one per receipt, not from cash in hand".into(),
        ));
    }
    crate::domain::settlement::check_cash_payment(rec.payment.net, limit)?;
    if paid_on.year() != rec.payment.fiscal_year {
        return Err(StoreError::Validation(format!(
            "a request of fiscal year {} is paid in that year, not on {paid_on}",
            rec.payment.fiscal_year
        )));
    }
    let entries = crate::domain::settlement::payment_entries_from(&super::bank::paid_request(rec)?, CASH_IN_HAND)
        .map_err(StoreError::internal)?;
    let new = NewTransaction {
        village_id: village.id.clone(),
        kind: rec.payment.kind.transaction_kind(),
        value_date: paid_on,
        description: format!("Dibayar tunai: {}", rec.payment.description),
        entries,
        reverses: None,
        payment_id: Some(rec.payment.id.clone()),
        bank_reference: None,
        created_by: actor.id.clone(),
    };
    let posted = post_locked(c, village, &new, None)?;
    move_budget(c, rec, budget::realise)?;
    diesel::update(payments::table.find(&rec.payment.id))
        .set(payments::transaction_id.eq(&posted.txn.id))
        .execute(c)?;
    Ok(posted)
}

/// Why a request's stored state is not what its trail says, if it is not: its content must give the digest its
/// latest event recorded, and its status must be that event's. (A rejected request set to approved by a one-column
/// UPDATE, or a payee changed after release, fails here.)
pub(super) fn trail_mismatch(rec: &PaymentRecord) -> Option<&'static str> {
    let digest = payment_digest(&rec.payment, &rec.receipts, &rec.lines, &rec.withholdings);
    match rec.events.last() {
        None => Some("it has no trail"),
        Some(e) if e.payment_digest != digest => Some("its content differs from what its trail recorded"),
        Some(e) if e.to_status != rec.payment.status => Some("its status is not the one its trail ends in"),
        Some(_) => None,
    }
}

/// Refuses to act on a request whose stored state is not what its trail says.
pub(super) fn check_intact(rec: &PaymentRecord) -> Result<(), StoreError> {
    match trail_mismatch(rec) {
        None => Ok(()),
        Some(why) => Err(StoreError::Integrity(format!(
            "payment request {} was changed outside kasdesa ({why}): nothing was done; the regency's anomalies name it",
            rec.payment.id
        ))),
    }
}

/// Why a transfer does not pay what its chained request says, if it does not: the amount must be the receipt's
/// net (or the request's, for one payee).
pub(super) fn transfer_mismatch(rec: &PaymentRecord, t: &TransferRow) -> Option<String> {
    let net = match rec.receipts.iter().find(|r| r.receipt_no == t.receipt_no) {
        Some(r) => r.net,
        None if rec.receipts.is_empty() => rec.payment.net,
        None => return Some(format!("transfer {} names receipt {} the request does not have", t.id, t.receipt_no)),
    };
    (t.amount != net)
        .then(|| format!("transfer {} is for {} but its receipt's net is {}", t.id, Amount(t.amount), Amount(net)))
}

/// Refuses to serve or settle a transfer that does not say what its chained request says.
pub(super) fn check_transfer(rec: &PaymentRecord, t: &TransferRow) -> Result<(), StoreError> {
    check_intact(rec)?;
    match transfer_mismatch(rec, t) {
        None => Ok(()),
        Some(why) => Err(StoreError::Integrity(format!(
            "{why} (changed outside kasdesa): nothing was done; the regency's anomalies name it"
        ))),
    }
}

/// Every request of the village whose stored content or status differs from its trail, and every transfer of it
/// that does not pay its receipt's net: (requests, transfers).
pub(super) fn payment_mismatches(c: &mut DbConn, village_id: &str) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let mut out = Vec::new();
    let mut transfers_out = Vec::new();
    let mut after = PaymentId::from(String::new());
    loop {
        let page: Vec<PaymentRow> = payments::table
            .filter(payments::village_id.eq(village_id))
            .filter(payments::id.gt(&after))
            .order(payments::id)
            .limit(500)
            .select(PaymentRow::as_select())
            .load(c)?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        for rec in complete_payments(c, page)? {
            if trail_mismatch(&rec).is_some() {
                out.push(rec.payment.id.to_string());
            }
            for t in &rec.transfers {
                if transfer_mismatch(&rec, t).is_some() {
                    transfers_out.push(t.id.to_string());
                }
            }
        }
    }
    Ok((out, transfers_out))
}

impl Db {
    pub fn create_payment(
        &self,
        new: &NewPayment,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&PaymentRecord) -> String,
    ) -> Result<Written<PaymentRecord>, StoreError> {
        self.write("create_payment", |c| {
            idempotent_write(c, &new.village_id, idem, 201, render, &mut |c, village| {
                let codes: Vec<String> = new.lines.iter().map(|l| l.account_code.clone()).collect();
                ensure_accounts_exist(c, &village.id, &codes)?;
                let mut rec = draft_rows(new, &village.id);
                rec.payment.number = Some(next_number(c, village, new.fiscal_year, new.kind)?);
                for r in &mut rec.receipts {
                    let seq = next_in_series(c, village, new.fiscal_year, crate::domain::numbering::RECEIPT_SERIES)?;
                    r.number = crate::domain::numbering::numbered(
                        seq,
                        crate::domain::numbering::RECEIPT_CODE,
                        &village.code,
                        new.fiscal_year,
                    );
                }
                diesel::insert_into(payments::table).values(&rec.payment).execute(c)?;
                insert_request_rows(c, &rec)?;
                let draft = EventDraft {
                    step: drafter(new.kind).1,
                    action: "create",
                    actor: &new.actor,
                    from: None,
                    to: PaymentStatus::Draft,
                    note: new.note.as_deref(),
                    status_change: None,
                };
                let event = append_event(c, village, &rec, draft)?;
                // Answered from the rows just written, in the order a read would list them (no second read).
                rec.events.push(event);
                Ok(rec)
            })
        })
    }

    pub fn get_payment(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        self.read("get_payment", |c| c.load_payment(id))
    }

    /// A page of the village's requests, oldest first, after the cursor (the API's order).
    pub fn list_payments(
        &self,
        village_id: &str,
        status: Option<&str>,
        after_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let query = PaymentQuery { status, after: after_id, limit, ..PaymentQuery::default() };
        self.find_payments(village_id, &query)
    }

    /// A page of the village's requests as `query` asks (order, filters, search), with their lines, withholdings,
    /// events and transfers: five statements for the whole page, whatever its size.
    pub fn find_payments(&self, village_id: &str, query: &PaymentQuery<'_>) -> Result<Vec<PaymentRecord>, StoreError> {
        self.read("find_payments", |c| {
            let mut q = payments::table
                .filter(payments::village_id.eq(village_id.to_string()))
                .limit(query.limit)
                .select(PaymentRow::as_select())
                .into_boxed();
            q = if query.newest_first { q.order(payments::id.desc()) } else { q.order(payments::id) };
            if let Some(a) = query.after {
                q = if query.newest_first {
                    q.filter(payments::id.lt(a.to_string()))
                } else {
                    q.filter(payments::id.gt(a.to_string()))
                };
            }
            if let Some(s) = query.status {
                q = q.filter(payments::status.eq(s.to_string()));
            }
            if let Some(text) = query.search.map(str::trim).filter(|t| !t.is_empty()) {
                let pattern = format!("%{}%", like_escaped(&text.to_lowercase()));
                q = q.filter(
                    lower(payments::payee_name)
                        .like(pattern.clone())
                        .escape('\\')
                        .or(lower(payments::description).like(pattern).escape('\\'))
                        .or(payments::id.eq(text.to_string()))
                        .or(payments::number.eq(text.to_string())),
                );
            }
            if let Some(min) = query.min_gross {
                q = q.filter(payments::gross.ge(min));
            }
            if let Some(max) = query.max_gross {
                q = q.filter(payments::gross.le(max));
            }
            if let Some(from) = query.created_from {
                q = q.filter(payments::created_at.ge(from));
            }
            if let Some(until) = query.created_until {
                q = q.filter(payments::created_at.lt(until));
            }
            let rows = q.load(c)?;
            complete_payments(c, rows)
        })
    }

    /// The accountability (SPJ) of a paid advance (see `account_locked`), for the caller `in_scope` accepts.
    #[allow(clippy::too_many_arguments)]
    pub fn account_advance(
        &self,
        payment_id: &str,
        in_scope: &dyn Fn(&VillageRow) -> bool,
        actor: &Actor,
        receipts: &[SpjReceipt],
        returned: i64,
        value_date: NaiveDate,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&PaymentRecord) -> String,
    ) -> Result<Written<PaymentRecord>, StoreError> {
        self.on_payment("account_advance", payment_id, in_scope, idem, render, &mut |c, village, rec| {
            account_locked(c, village, rec, actor, receipts, returned, value_date)
        })
    }

    /// Takes one step of a request's chain atomically; with a key, stores `render`'s body for retries. Locks the
    /// request's village (found with the lock) and takes the step if `in_scope` accepts the village: the caller's
    /// scope check, made here so that it costs no read of its own. Outside the scope the request is `NotFound`, as
    /// if it did not exist.
    #[allow(clippy::too_many_arguments)]
    pub fn transition_payment(
        &self,
        payment_id: &str,
        in_scope: &dyn Fn(&VillageRow) -> bool,
        action: Action,
        actor: &Actor,
        note: Option<&str>,
        on: NaiveDate,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&PaymentRecord) -> String,
    ) -> Result<Written<PaymentRecord>, StoreError> {
        self.on_payment("transition_payment", payment_id, in_scope, idem, render, &mut |c, village, rec| {
            take_step(c, village, rec, action, actor, note, on)
        })
    }

    /// Replaces what a draft or returned request asks for (`Action::Edit`: its drafting role, before verification),
    /// keeping its id, number and kuitansi numbers: its lines, withholdings, payee, invoice and description become
    /// `new`'s, it is a draft again, and its trail records the edit with the new content's digest. Its kind, fiscal
    /// year and number of receipts stay (each numbers it): to change those, cancel it and draft another.
    pub fn edit_payment(
        &self,
        payment_id: &str,
        in_scope: &dyn Fn(&VillageRow) -> bool,
        new: &NewPayment,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&PaymentRecord) -> String,
    ) -> Result<Written<PaymentRecord>, StoreError> {
        self.on_payment("edit_payment", payment_id, in_scope, idem, render, &mut |c, village, rec| {
            let from = rec.payment.status;
            let (to, step) = transition(rec.payment.kind, from, Action::Edit, new.actor.role)?;
            check_separation(&history(&rec), &new.actor.id, step)?;
            if new.kind != rec.payment.kind || new.fiscal_year != rec.payment.fiscal_year {
                return Err(StoreError::Validation(
                    "the kind and the fiscal year of a request stay as drafted (they number it): cancel it and draft \
                     another"
                        .into(),
                ));
            }
            if new.receipts.len() != rec.receipts.len() {
                return Err(StoreError::Validation(format!(
                    "this request has {} receipts (each numbered): an edit keeps that many; cancel it and draft \
                     another to change them",
                    rec.receipts.len()
                )));
            }
            let codes: Vec<String> = new.lines.iter().map(|l| l.account_code.clone()).collect();
            ensure_accounts_exist(c, &village.id, &codes)?;
            let mut fresh = draft_rows(new, &village.id);
            let id = rec.payment.id.clone();
            let now = now_micros();
            fresh.payment = PaymentRow {
                id: id.clone(),
                status: to,
                number: rec.payment.number.clone(),
                created_by: rec.payment.created_by.clone(),
                created_at: rec.payment.created_at,
                updated_at: now,
                ..fresh.payment
            };
            fresh.lines.iter_mut().for_each(|l| l.payment_id = id.clone());
            fresh.withholdings.iter_mut().for_each(|w| w.payment_id = id.clone());
            for (r, old) in fresh.receipts.iter_mut().zip(&rec.receipts) {
                r.payment_id = id.clone();
                r.number.clone_from(&old.number);
            }
            diesel::delete(payment_withholdings::table.filter(payment_withholdings::payment_id.eq(&id))).execute(c)?;
            diesel::delete(payment_lines::table.filter(payment_lines::payment_id.eq(&id))).execute(c)?;
            diesel::delete(receipts::table.filter(receipts::payment_id.eq(&id))).execute(c)?;
            let p = &fresh.payment;
            diesel::update(payments::table.find(&id))
                .set((
                    payments::activity_code.eq(&p.activity_code),
                    payments::description.eq(&p.description),
                    payments::payee_name.eq(&p.payee_name),
                    payments::payee_bank_code.eq(&p.payee_bank_code),
                    payments::payee_account_number.eq(&p.payee_account_number),
                    payments::payee_npwp.eq(&p.payee_npwp),
                    payments::invoice_number.eq(&p.invoice_number),
                    payments::invoice_date.eq(&p.invoice_date),
                    payments::gross.eq(p.gross),
                    payments::withheld.eq(p.withheld),
                    payments::net.eq(p.net),
                ))
                .execute(c)?;
            insert_request_rows(c, &fresh)?;
            let draft = EventDraft {
                step,
                action: Action::Edit.as_str(),
                actor: &new.actor,
                from: Some(from),
                to,
                note: new.note.as_deref(),
                status_change: Some(now),
            };
            let event = append_event(c, village, &fresh, draft)?;
            fresh.events = rec.events;
            fresh.events.push(event);
            Ok(fresh)
        })
    }

    /// An idempotent write on one request under its village's lock (found with the lock), for a caller whose scope
    /// `in_scope` accepts the village; outside it the request is `NotFound`, as if it did not exist.
    fn on_payment(
        &self,
        op: &'static str,
        payment_id: &str,
        in_scope: &dyn Fn(&VillageRow) -> bool,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&PaymentRecord) -> String,
        write: &mut dyn FnMut(&mut DbConn, &mut VillageRow, PaymentRecord) -> Result<PaymentRecord, StoreError>,
    ) -> Result<Written<PaymentRecord>, StoreError> {
        self.write(op, |c| {
            let target = LockTarget::PaymentOf(payment_id);
            idempotent_write_probed(c, target, idem, &Probe::default(), 200, render, &mut |c, ctx| {
                let village = &mut ctx.locked.village;
                if !in_scope(village) {
                    return Err(StoreError::NotFound("payment"));
                }
                let rec = c
                    .load_payment(payment_id)?
                    .filter(|r| r.payment.village_id == village.id)
                    .ok_or(StoreError::NotFound("payment"))?;
                check_intact(&rec)?;
                write(c, village, rec)
            })
        })
    }
}

/// The accountability (SPJ) of a paid advance under the village's lock: the drafter's duty; the receipts' net plus
/// `returned` equal to the advance (`domain::settlement::accountability_entries`); the advance's commitment released
/// and what was spent realised (`domain::budget::account_for`); one posting (spending, taxes owed, the return to the
/// bank, the advance cleared); the receipts kept; the event.
#[allow(clippy::too_many_arguments)]
fn account_locked(
    c: &mut DbConn,
    village: &mut VillageRow,
    mut rec: PaymentRecord,
    actor: &Actor,
    receipts: &[SpjReceipt],
    returned: i64,
    value_date: NaiveDate,
) -> Result<PaymentRecord, StoreError> {
    use crate::domain::settlement::{accountability_entries, PaidRequest, SettledLine};
    let (from, kind) = (rec.payment.status, rec.payment.kind);
    if kind != PaymentKind::Advance {
        return Err(StoreError::Validation("only an advance (kind advance) is accounted for".into()));
    }
    let (to, step) = transition(kind, from, Action::Account, actor.role)?;
    check_separation(&history(&rec), &actor.id, step)?;
    // Accounted for on or after the day the bank paid the advance out (its paid transfer's value date).
    let paid_on = rec.transfers.iter().filter_map(|t| t.value_date).max().map(|d| (d, "the advance was paid out"));
    crate::domain::settlement::check_value_date(value_date, rec.payment.fiscal_year, paid_on)
        .map_err(StoreError::Validation)?;
    let activity = rec.payment.activity_code.clone();
    let lines: Vec<&NewPaymentLine> = receipts.iter().flat_map(|r| &r.lines).collect();
    let gross: i64 = lines.iter().map(|l| l.amount.sen()).sum();
    let withheld: i64 = lines.iter().flat_map(|l| &l.withholdings).map(|w| w.1.sen()).sum();
    let money =
        |sen: i64| Money::from_sen(sen).map_err(|_| StoreError::Validation("the receipts must spend something".into()));
    let spent = PaidRequest {
        lines: lines
            .iter()
            .map(|l| SettledLine {
                account: l.account_code.clone(),
                activity: activity.clone(),
                source: l.source.clone(),
                amount: l.amount,
            })
            .collect(),
        net: money(gross - withheld)?,
        withholdings: lines.iter().flat_map(|l| l.withholdings.iter().cloned()).collect(),
    };
    let entries = accountability_entries(money(rec.payment.net)?, &spent, returned)
        .map_err(|e| StoreError::Validation(e.to_string()))?;
    let codes: Vec<String> = lines.iter().map(|l| l.account_code.clone()).collect();
    ensure_accounts_exist(c, &village.id, &codes)?;
    let committed = request_amounts_of(&rec, |_| true)?;
    let spent_by_line = budget::request_amounts(
        lines.iter().map(|l| (LineKey::new(&l.account_code, activity.as_deref(), l.source.as_deref()), l.amount.sen())),
    )?;
    let keys: std::collections::BTreeSet<LineKey> = committed.keys().chain(spent_by_line.keys()).cloned().collect();
    let year = rec.payment.fiscal_year;
    let positions = positions_of(c, &village.id, year, keys.into_iter())?;
    let moves = budget::account_for(&positions, &committed, &spent_by_line)?;
    write_moves(c, &village.id, year, &moves)?;
    let new = NewTransaction {
        village_id: village.id.clone(),
        kind: crate::domain::posting::TxnKind::Disbursement,
        value_date,
        description: format!(
            "SPJ panjar {}: {}",
            rec.payment.number.as_deref().unwrap_or_default(),
            rec.payment.description
        ),
        entries,
        reverses: None,
        payment_id: Some(rec.payment.id.clone()),
        bank_reference: None,
        created_by: actor.id.clone(),
    };
    let posted = post_locked(c, village, &new, None)?;
    for (i, r) in receipts.iter().enumerate() {
        let g: i64 = r.lines.iter().map(|l| l.amount.sen()).sum();
        let w: i64 = r.lines.iter().flat_map(|l| &l.withholdings).map(|w| w.1.sen()).sum();
        diesel::insert_into(accountability_receipts::table)
            .values((
                accountability_receipts::payment_id.eq(&rec.payment.id),
                accountability_receipts::receipt_no.eq(i32::try_from(i + 1).expect("bounded")),
                accountability_receipts::village_id.eq(&village.id),
                accountability_receipts::payee_name.eq(&r.payee_name),
                accountability_receipts::payee_npwp.eq(&r.payee_npwp),
                accountability_receipts::description.eq(&r.description),
                accountability_receipts::gross.eq(g),
                accountability_receipts::withheld.eq(w),
                accountability_receipts::net.eq(g - w),
                accountability_receipts::transaction_id.eq(&posted.txn.id),
            ))
            .execute(c)?;
    }
    let note = format!(
        "SPJ: {} kuitansi, belanja {}, pajak {}, dikembalikan {}",
        receipts.len(),
        Amount(gross),
        Amount(withheld),
        Amount(returned)
    );
    let updated_at = now_micros();
    let draft = EventDraft {
        step,
        action: Action::Account.as_str(),
        actor,
        from: Some(from),
        to,
        note: Some(&note),
        status_change: Some(updated_at),
    };
    let event = append_event(c, village, &rec, draft)?;
    rec.payment.status = to;
    rec.payment.updated_at = updated_at;
    rec.events.push(event);
    Ok(rec)
}

/// One workflow step under the village's lock: the domain's transition and separation of duties, then what the
/// step does to the budget, the tax owed or the bank (approve, cancel, release), then the event.
fn take_step(
    c: &mut DbConn,
    village: &mut VillageRow,
    mut rec: PaymentRecord,
    action: Action,
    actor: &Actor,
    note: Option<&str>,
    on: NaiveDate,
) -> Result<PaymentRecord, StoreError> {
    let (from, kind) = (rec.payment.status, rec.payment.kind);
    let (to, step) = transition(kind, from, action, actor.role)?;
    check_separation(&history(&rec), &actor.id, step)?;
    match action {
        Action::Approve if kind.uses_budget() => {
            require_adopted_budget(c, &village.id, rec.payment.fiscal_year)?;
            move_budget(c, &rec, budget::commit)?;
        }
        Action::Approve => {
            ensure_year_open(c, &village.id, rec.payment.fiscal_year)?;
            check_tax_outstanding(c, &rec)?;
        }
        Action::Cancel if cancel_releases_commitment(kind, from) => {
            // Of a request with receipts, only those not paid give their commitment back, and are cancelled.
            let open: Vec<i32> = rec.receipts.iter().filter(|r| releasable(r.status)).map(|r| r.receipt_no).collect();
            move_budget_of(c, &rec, |l| rec.receipts.is_empty() || open.contains(&l.receipt_no), budget::release)?;
            for r in rec.receipts.iter_mut().filter(|r| open.contains(&r.receipt_no)) {
                r.status = ReceiptStatus::Cancelled;
                diesel::update(receipts::table.find((&r.payment_id, r.receipt_no)))
                    .set(receipts::status.eq(r.status))
                    .execute(c)?;
            }
        }
        Action::Release => {
            let released = release_transfers(c, village, &mut rec, actor, on)?;
            rec.transfers.extend(released);
        }
        Action::PayCash => {
            let txn = pay_in_cash(c, village, &rec, actor, on)?;
            rec.payment.transaction_id = Some(txn.txn.id);
        }
        Action::Submit | Action::Verify | Action::Return | Action::Reject | Action::Cancel => {}
        Action::Pay | Action::Fail => {
            return Err(StoreError::internal("the bank's result is settled by settle_transfer, not as a step"))
        }
        Action::Account => {
            return Err(StoreError::internal("an advance's accountability is account_advance, not a plain step"))
        }
        Action::Edit => return Err(StoreError::internal("an edit is edit_payment, not a plain step")),
    }
    let updated_at = now_micros();
    let draft = EventDraft {
        step,
        action: action.as_str(),
        actor,
        from: Some(from),
        to,
        note,
        status_change: Some(updated_at),
    };
    let event = append_event(c, village, &rec, draft)?;
    // The answer is the record as read under the lock plus what this step wrote (no second read): the new
    // status, the event (the chain's newest), and a released transfer (the newest attempt).
    rec.payment.status = to;
    rec.payment.updated_at = updated_at;
    rec.events.push(event);
    Ok(rec)
}
