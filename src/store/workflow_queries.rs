// Budgets, payment requests, the bank's side. Compiled once per backend inside `queries.rs`'s module (see `mod.rs`);
// `super::` is that backend's ledger queries.

use super::{
    ensure_year_open, get_transaction, idempotent_write, idempotent_write_probed, post_locked, post_locked_with,
    reserved_for_transfers,
};
use crate::domain::accounts::{Side, BANK_ACCOUNT, SOURCES, SUSPENSE, TAXES};
use crate::domain::chain::link_hash;
use crate::domain::money::{Amount, Money};
use crate::domain::posting::{EntryDraft, PostingError, TxnKind};
use crate::domain::roles::Role;
use crate::domain::workflow::{check_separation, transition, Action, PaymentStatus, Step};
use crate::store::rows::*;
use crate::store::schema::*;
use crate::store::{
    now_micros, Actor, Alongside, BackendOps, LockTarget, BankResult, BudgetLineInput, IdempotencyKey, NewCredit, NewPayment,
    NewStatementLine, NewTransaction, Probe, Shortfall, StoreError, Written,
};
use chrono::Datelike;
use diesel::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

// ---------------------------------------------------------------------------------------------------------------
// Budgets

fn budget_versions(c: &mut Conn, village_id: &str, year: i32) -> Result<Vec<BudgetRow>, StoreError> {
    Ok(budgets::table
        .filter(budgets::village_id.eq(village_id))
        .filter(budgets::year.eq(year))
        .order(budgets::version)
        .select(BudgetRow::as_select())
        .load(c)?)
}

fn ensure_accounts_exist(c: &mut Conn, village_id: &str, codes: &[String]) -> Result<(), StoreError> {
    let mut wanted = codes.to_vec();
    wanted.sort();
    wanted.dedup();
    let found: Vec<String> = accounts::table
        .filter(accounts::village_id.eq(village_id))
        .filter(accounts::code.eq_any(&wanted))
        .select(accounts::code)
        .load(c)?;
    match wanted.into_iter().find(|w| !found.contains(w)) {
        Some(missing) => Err(StoreError::UnknownAccount(missing)),
        None => Ok(()),
    }
}

fn insert_budget_lines(
    c: &mut Conn,
    village_id: &str,
    year: i32,
    version: i32,
    lines: &[BudgetLineInput],
) -> Result<(), StoreError> {
    let rows: Vec<BudgetLineRow> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| BudgetLineRow {
            village_id: village_id.to_string(),
            year,
            version,
            line_no: i32::try_from(i + 1).expect("line count is bounded"),
            account_code: l.account_code.clone(),
            activity_code: l.activity_code.clone(),
            activity_name: l.activity_name.clone(),
            source: l.source.clone(),
            ceiling: l.ceiling,
        })
        .collect();
    diesel::insert_into(budget_lines::table).values(&rows).execute(c)?;
    Ok(())
}

pub fn put_budget_draft(
    c: &mut Conn,
    village_id: &str,
    year: i32,
    lines: &[BudgetLineInput],
    actor: &str,
) -> Result<BudgetRecord, StoreError> {
    c.write_txn(&mut |c| {
        c.lock_village(village_id)?.ok_or(StoreError::NotFound("village"))?;
        ensure_year_open(c, village_id, year)?;
        let versions = budget_versions(c, village_id, year)?;
        if versions.iter().any(|b| b.status != "draft") {
            return Err(StoreError::Workflow(crate::domain::workflow::WorkflowError::InvalidTransition {
                action: "replace the draft of",
                from: "adopted (use POST .../revisions)",
            }));
        }
        let codes: Vec<String> = lines.iter().map(|l| l.account_code.clone()).collect();
        ensure_accounts_exist(c, village_id, &codes)?;
        diesel::delete(
            budget_lines::table.filter(budget_lines::village_id.eq(village_id)).filter(budget_lines::year.eq(year)),
        )
        .execute(c)?;
        diesel::delete(budgets::table.filter(budgets::village_id.eq(village_id)).filter(budgets::year.eq(year)))
            .execute(c)?;
        let row = BudgetRow {
            village_id: village_id.to_string(),
            year,
            version: 1,
            status: "draft".into(),
            note: None,
            created_by: actor.to_string(),
            created_at: now_micros(),
            adopted_by: None,
            adopted_at: None,
        };
        diesel::insert_into(budgets::table).values(&row).execute(c)?;
        insert_budget_lines(c, village_id, year, 1, lines)?;
        load_budget(c, village_id, year)?.ok_or(StoreError::Internal("the draft just written is missing".into()))
    })
}

pub fn adopt_budget(c: &mut Conn, village_id: &str, year: i32, actor: &str) -> Result<BudgetRecord, StoreError> {
    c.write_txn(&mut |c| {
        c.lock_village(village_id)?.ok_or(StoreError::NotFound("village"))?;
        ensure_year_open(c, village_id, year)?;
        let versions = budget_versions(c, village_id, year)?;
        let draft = match versions.last() {
            None => return Err(StoreError::NotFound("budget")),
            Some(b) if b.status == "draft" => b.clone(),
            Some(b) => {
                return Err(StoreError::Workflow(crate::domain::workflow::WorkflowError::InvalidTransition {
                    action: "adopt",
                    from: if b.status == "adopted" { "adopted" } else { "superseded" },
                }))
            }
        };
        let now = now_micros();
        diesel::update(budgets::table.find((village_id, year, draft.version)))
            .set((
                budgets::status.eq("adopted"),
                budgets::adopted_by.eq(Some(actor)),
                budgets::adopted_at.eq(Some(now)),
            ))
            .execute(c)?;
        let lines = version_lines(c, village_id, year, draft.version)?;
        let positions: Vec<BudgetPositionRow> = lines
            .iter()
            .map(|l| BudgetPositionRow {
                village_id: village_id.to_string(),
                year,
                account_code: l.account_code.clone(),
                activity_code: l.activity_code.clone(),
                source: l.source.clone(),
                activity_name: l.activity_name.clone(),
                ceiling: l.ceiling,
                committed: 0,
                realised: 0,
            })
            .collect();
        diesel::insert_into(budget_positions::table).values(&positions).execute(c)?;
        load_budget(c, village_id, year)?.ok_or(StoreError::Internal("the budget just adopted is missing".into()))
    })
}

fn version_lines(c: &mut Conn, village_id: &str, year: i32, version: i32) -> Result<Vec<BudgetLineRow>, StoreError> {
    Ok(budget_lines::table
        .filter(budget_lines::village_id.eq(village_id))
        .filter(budget_lines::year.eq(year))
        .filter(budget_lines::version.eq(version))
        .order(budget_lines::line_no)
        .select(BudgetLineRow::as_select())
        .load(c)?)
}

fn positions(c: &mut Conn, village_id: &str, year: i32) -> Result<Vec<BudgetPositionRow>, StoreError> {
    Ok(budget_positions::table
        .filter(budget_positions::village_id.eq(village_id))
        .filter(budget_positions::year.eq(year))
        .order((budget_positions::account_code, budget_positions::activity_code, budget_positions::source))
        .select(BudgetPositionRow::as_select())
        .load(c)?)
}

fn shortfall(p: &BudgetPositionRow, requested: i64) -> Shortfall {
    Shortfall {
        account_code: p.account_code.clone(),
        activity_code: Some(p.activity_code.clone()).filter(|a| !a.is_empty()),
        source: p.source.clone(),
        ceiling: Amount(p.ceiling),
        committed: Amount(p.committed),
        realised: Amount(p.realised),
        available: Amount(p.ceiling - p.committed - p.realised),
        requested: Amount(requested),
    }
}

/// APBDes Perubahan: a new adopted version. No line may go below what it has realised and committed; a line left
/// out is a line revised to zero.
pub fn revise_budget(
    c: &mut Conn,
    village_id: &str,
    year: i32,
    lines: &[BudgetLineInput],
    note: Option<&str>,
    actor: &str,
) -> Result<BudgetRecord, StoreError> {
    c.write_txn(&mut |c| {
        c.lock_village(village_id)?.ok_or(StoreError::NotFound("village"))?;
        ensure_year_open(c, village_id, year)?;
        let versions = budget_versions(c, village_id, year)?;
        let current = match versions.last() {
            Some(b) if b.status == "adopted" => b.clone(),
            Some(_) => {
                return Err(StoreError::Workflow(crate::domain::workflow::WorkflowError::InvalidTransition {
                    action: "revise",
                    from: "a draft (adopt it first)",
                }))
            }
            None => return Err(StoreError::NotFound("budget")),
        };
        let codes: Vec<String> = lines.iter().map(|l| l.account_code.clone()).collect();
        ensure_accounts_exist(c, village_id, &codes)?;
        let existing = positions(c, village_id, year)?;
        let key = |a: &str, b: &str, s: &str| (a.to_string(), b.to_string(), s.to_string());
        let new_ceilings: BTreeMap<(String, String, String), &BudgetLineInput> =
            lines.iter().map(|l| (key(&l.account_code, &l.activity_code, &l.source), l)).collect();
        let mut short = Vec::new();
        for p in &existing {
            let ceiling = new_ceilings.get(&key(&p.account_code, &p.activity_code, &p.source)).map_or(0, |l| l.ceiling);
            if ceiling < p.committed + p.realised {
                short.push(shortfall(p, ceiling));
            }
        }
        if !short.is_empty() {
            return Err(StoreError::BudgetExceeded(short));
        }
        let version = current.version + 1;
        let now = now_micros();
        diesel::update(budgets::table.find((village_id, year, current.version)))
            .set(budgets::status.eq("superseded"))
            .execute(c)?;
        diesel::insert_into(budgets::table)
            .values(&BudgetRow {
                village_id: village_id.to_string(),
                year,
                version,
                status: "adopted".into(),
                note: note.map(str::to_string),
                created_by: actor.to_string(),
                created_at: now,
                adopted_by: Some(actor.to_string()),
                adopted_at: Some(now),
            })
            .execute(c)?;
        insert_budget_lines(c, village_id, year, version, lines)?;
        for p in &existing {
            let k = key(&p.account_code, &p.activity_code, &p.source);
            let target = budget_positions::table.find((village_id, year, &p.account_code, &p.activity_code, &p.source));
            match new_ceilings.get(&k) {
                Some(l) => {
                    diesel::update(target)
                        .set((
                            budget_positions::ceiling.eq(l.ceiling),
                            budget_positions::activity_name.eq(&l.activity_name),
                        ))
                        .execute(c)?;
                }
                // Dropped and unused (checked above): the line goes.
                None => {
                    diesel::delete(target).execute(c)?;
                }
            }
        }
        let fresh: Vec<BudgetPositionRow> = lines
            .iter()
            .filter(|l| {
                !existing.iter().any(|p| {
                    key(&p.account_code, &p.activity_code, &p.source)
                        == key(&l.account_code, &l.activity_code, &l.source)
                })
            })
            .map(|l| BudgetPositionRow {
                village_id: village_id.to_string(),
                year,
                account_code: l.account_code.clone(),
                activity_code: l.activity_code.clone(),
                source: l.source.clone(),
                activity_name: l.activity_name.clone(),
                ceiling: l.ceiling,
                committed: 0,
                realised: 0,
            })
            .collect();
        if !fresh.is_empty() {
            diesel::insert_into(budget_positions::table).values(&fresh).execute(c)?;
        }
        load_budget(c, village_id, year)?.ok_or(StoreError::Internal("the revised budget is missing".into()))
    })
}

fn load_budget(c: &mut Conn, village_id: &str, year: i32) -> Result<Option<BudgetRecord>, StoreError> {
    let versions = budget_versions(c, village_id, year)?;
    let Some(current) = versions.last().cloned() else {
        return Ok(None);
    };
    let lines = version_lines(c, village_id, year, current.version)?;
    let positions = if current.status == "adopted" { positions(c, village_id, year)? } else { Vec::new() };
    Ok(Some(BudgetRecord { current, lines, positions, versions }))
}

pub fn get_budget(c: &mut Conn, village_id: &str, year: i32) -> Result<Option<BudgetRecord>, StoreError> {
    load_budget(c, village_id, year)
}

// ---------------------------------------------------------------------------------------------------------------
// Payment requests

#[derive(Serialize)]
struct CanonicalPaymentLine<'a> {
    line_no: i32,
    account: &'a str,
    source: Option<&'a str>,
    amount_sen: i64,
    withholdings: Vec<(&'a str, i64)>,
}

#[derive(Serialize)]
struct CanonicalPayment<'a> {
    id: &'a str,
    village_id: &'a str,
    kind: &'a str,
    fiscal_year: i32,
    activity_code: Option<&'a str>,
    description: &'a str,
    payee: (&'a str, &'a str, &'a str, Option<&'a str>),
    invoice: (Option<&'a str>, Option<String>),
    billing_code: Option<&'a str>,
    gross_sen: i64,
    withheld_sen: i64,
    net_sen: i64,
    lines: Vec<CanonicalPaymentLine<'a>>,
}

/// A digest of what the request asks for (payee, lines, amounts): each event records it, so a request edited in
/// the database after the fact no longer matches its trail.
pub fn payment_digest(p: &PaymentRow, lines: &[PaymentLineRow], withholdings: &[WithholdingRow]) -> String {
    let canonical = CanonicalPayment {
        id: &p.id,
        village_id: &p.village_id,
        kind: &p.kind,
        fiscal_year: p.fiscal_year,
        activity_code: p.activity_code.as_deref(),
        description: &p.description,
        payee: (&p.payee_name, &p.payee_bank_code, &p.payee_account_number, p.payee_npwp.as_deref()),
        invoice: (p.invoice_number.as_deref(), p.invoice_date.map(|d| d.format("%Y-%m-%d").to_string())),
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
            })
            .collect(),
    };
    hex::encode(Sha256::digest(serde_json::to_vec(&canonical).expect("serialises")))
}

#[derive(Serialize)]
pub struct CanonicalEvent<'a> {
    pub record: &'static str,
    pub id: &'a str,
    pub village_id: &'a str,
    pub chain_seq: i64,
    pub payment_id: &'a str,
    pub step: &'a str,
    pub action: &'a str,
    pub actor: &'a str,
    pub actor_name: &'a str,
    pub role: &'a str,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub note: Option<&'a str>,
    pub at: String,
    pub payment_digest: &'a str,
}

pub fn event_hash(e: &PaymentEventRow) -> String {
    link_hash(
        &e.prev_hash,
        &CanonicalEvent {
            record: "payment_event",
            id: &e.id,
            village_id: &e.village_id,
            chain_seq: e.chain_seq,
            payment_id: &e.payment_id,
            step: &e.step,
            action: &e.action,
            actor: &e.actor,
            actor_name: &e.actor_name,
            role: &e.role,
            from: e.from_status.as_deref(),
            to: &e.to_status,
            note: e.note.as_deref(),
            at: e.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            payment_digest: &e.payment_digest,
        },
    )
}

/// Appends one event to the village's chain (under its lock), setting the request's status and `updated_at` in the
/// same statement when `status_change` is given.
#[allow(clippy::too_many_arguments)]
fn append_event(
    c: &mut Conn,
    village: &mut VillageRow,
    payment: &PaymentRow,
    digest: &str,
    step: Step,
    action: &str,
    actor: &Actor,
    from: Option<PaymentStatus>,
    to: PaymentStatus,
    note: Option<&str>,
    status_change: Option<chrono::NaiveDateTime>,
) -> Result<PaymentEventRow, StoreError> {
    let chain_seq = village.chain_len + 1;
    let mut e = PaymentEventRow {
        id: uuid::Uuid::now_v7().to_string(),
        village_id: village.id.clone(),
        payment_id: payment.id.clone(),
        chain_seq,
        step: step.as_str().to_string(),
        action: action.to_string(),
        actor: actor.id.clone(),
        actor_name: actor.name.clone(),
        role: actor.role.as_str().to_string(),
        from_status: from.map(|s| s.as_str().to_string()),
        to_status: to.as_str().to_string(),
        note: note.map(str::to_string),
        at: now_micros(),
        payment_digest: digest.to_string(),
        prev_hash: village.chain_head.clone(),
        hash: String::new(),
    };
    e.hash = event_hash(&e);
    c.write_event(&e, status_change)?;
    village.chain_len = chain_seq;
    village.chain_head = e.hash.clone();
    Ok(e)
}

pub fn create_payment(
    c: &mut Conn,
    new: &NewPayment,
    idem: Option<&IdempotencyKey>,
    render: &dyn Fn(&PaymentRecord) -> String,
) -> Result<Written<PaymentRecord>, StoreError> {
    idempotent_write(c, &new.village_id, idem, 201, render, &mut |c, village| {
        let codes: Vec<String> = new.lines.iter().map(|l| l.account_code.clone()).collect();
        ensure_accounts_exist(c, &village.id, &codes)?;
        let now = now_micros();
        let p = PaymentRow {
            id: uuid::Uuid::now_v7().to_string(),
            village_id: village.id.clone(),
            kind: new.kind.to_string(),
            fiscal_year: new.fiscal_year,
            status: PaymentStatus::Draft.as_str().into(),
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
        };
        let mut lines = Vec::new();
        let mut withholdings = Vec::new();
        for (i, l) in new.lines.iter().enumerate() {
            let line_no = i32::try_from(i + 1).expect("bounded");
            lines.push(PaymentLineRow {
                payment_id: p.id.clone(),
                line_no,
                village_id: village.id.clone(),
                account_code: l.account_code.clone(),
                activity_code: new.activity_code.clone(),
                source: l.source.clone(),
                amount: l.amount,
            });
            for (j, (tax, amount)) in l.withholdings.iter().enumerate() {
                withholdings.push(WithholdingRow {
                    payment_id: p.id.clone(),
                    line_no,
                    seq_no: i32::try_from(j + 1).expect("bounded"),
                    village_id: village.id.clone(),
                    tax: tax.clone(),
                    amount: *amount,
                });
            }
        }
        diesel::insert_into(payments::table).values(&p).execute(c)?;
        diesel::insert_into(payment_lines::table).values(&lines).execute(c)?;
        if !withholdings.is_empty() {
            diesel::insert_into(payment_withholdings::table).values(&withholdings).execute(c)?;
        }
        let digest = payment_digest(&p, &lines, &withholdings);
        let event =
            append_event(c, village, &p, &digest, Step::Draft, "create", &new.actor, None, PaymentStatus::Draft, None, None)?;
        // Answered from the rows just written, in the order a read would list them (no second read).
        Ok(PaymentRecord { payment: p, lines, withholdings, events: vec![event], transfers: Vec::new() })
    })
}

fn load_payment(c: &mut Conn, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
    c.load_payment(id)
}

/// The generic (SQLite) way of [`BackendOps::write_event`]: a statement per row.
#[allow(dead_code)] // PostgreSQL writes them in one statement (pg_posting.rs)
pub(crate) fn write_event_rows(
    c: &mut Conn,
    e: &PaymentEventRow,
    status_change: Option<chrono::NaiveDateTime>,
) -> Result<(), StoreError> {
    if let Some(at) = status_change {
        diesel::update(payments::table.find(&e.payment_id))
            .set((payments::status.eq(&e.to_status), payments::updated_at.eq(at)))
            .execute(c)?;
    }
    diesel::insert_into(payment_events::table).values(e).execute(c)?;
    diesel::update(villages::table.find(&e.village_id))
        .set((villages::chain_len.eq(e.chain_seq), villages::chain_head.eq(&e.hash)))
        .execute(c)?;
    Ok(())
}

/// The generic (SQLite) way of [`BackendOps::load_payment`]: a statement per table.
#[allow(dead_code)] // PostgreSQL reads a request in one statement (pg_posting.rs)
pub(crate) fn load_payment_rows(c: &mut Conn, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
    let Some(payment) = payments::table.find(id).select(PaymentRow::as_select()).first(c).optional()? else {
        return Ok(None);
    };
    Ok(Some(complete_payment(c, payment)?))
}

fn complete_payment(c: &mut Conn, payment: PaymentRow) -> Result<PaymentRecord, StoreError> {
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
    Ok(PaymentRecord { payment, lines, withholdings, events, transfers })
}

/// The village a request belongs to: one indexed read (SQLite's way of finding the village to lock for a step).
pub fn payment_village_id(c: &mut Conn, id: &str) -> Result<Option<String>, StoreError> {
    Ok(payments::table.find(id).select(payments::village_id).first::<String>(c).optional()?)
}

pub fn get_payment(c: &mut Conn, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
    load_payment(c, id)
}

pub fn list_payments(
    c: &mut Conn,
    village_id: &str,
    status: Option<&str>,
    after_id: Option<&str>,
    limit: i64,
) -> Result<Vec<PaymentRecord>, StoreError> {
    let mut q = payments::table
        .filter(payments::village_id.eq(village_id.to_string()))
        .order(payments::id)
        .limit(limit)
        .select(PaymentRow::as_select())
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(payments::status.eq(s.to_string()));
    }
    if let Some(a) = after_id {
        q = q.filter(payments::id.gt(a.to_string()));
    }
    let rows = q.load(c)?;
    rows.into_iter().map(|p| complete_payment(c, p)).collect()
}

/// Lines grouped by budget key (account, activity, source), summed.
fn line_keys(p: &PaymentRecord) -> BTreeMap<(String, String, String), i64> {
    let mut keys = BTreeMap::new();
    for l in &p.lines {
        let k =
            (l.account_code.clone(), l.activity_code.clone().unwrap_or_default(), l.source.clone().unwrap_or_default());
        *keys.entry(k).or_insert(0) += l.amount;
    }
    keys
}

fn require_adopted_budget(c: &mut Conn, village_id: &str, year: i32) -> Result<(), StoreError> {
    ensure_year_open(c, village_id, year)?;
    let adopted: i64 = budgets::table
        .filter(budgets::village_id.eq(village_id))
        .filter(budgets::year.eq(year))
        .filter(budgets::status.eq("adopted"))
        .count()
        .get_result(c)?;
    if adopted == 0 {
        return Err(StoreError::NoAdoptedBudget(year));
    }
    Ok(())
}

/// Commits (sign +1) or releases (sign −1) the request's amounts against its budget lines.
fn commit_budget(c: &mut Conn, rec: &PaymentRecord, sign: i64) -> Result<(), StoreError> {
    let p = &rec.payment;
    let mut short = Vec::new();
    let mut updates = Vec::new();
    for ((account, activity, source), amount) in line_keys(rec) {
        let pos: Option<BudgetPositionRow> = budget_positions::table
            .find((&p.village_id, p.fiscal_year, &account, &activity, &source))
            .select(BudgetPositionRow::as_select())
            .first(c)
            .optional()?;
        match pos {
            None if sign > 0 => short.push(Shortfall {
                account_code: account,
                activity_code: Some(activity).filter(|a| !a.is_empty()),
                source,
                ceiling: Amount(0),
                committed: Amount(0),
                realised: Amount(0),
                available: Amount(0),
                requested: Amount(amount),
            }),
            None => return Err(StoreError::Internal(format!("no budget position for committed line {account}"))),
            Some(pos) => {
                if sign > 0 && pos.committed + pos.realised + amount > pos.ceiling {
                    short.push(shortfall(&pos, amount));
                } else {
                    updates.push((pos, sign * amount));
                }
            }
        }
    }
    if !short.is_empty() {
        return Err(StoreError::BudgetExceeded(short));
    }
    for (pos, delta) in updates {
        diesel::update(budget_positions::table.find((
            &pos.village_id,
            pos.year,
            &pos.account_code,
            &pos.activity_code,
            &pos.source,
        )))
        .set(budget_positions::committed.eq(budget_positions::committed + delta))
        .execute(c)?;
    }
    Ok(())
}

/// Moves the request's amounts from committed to realised (on `paid`).
fn realise_budget(c: &mut Conn, rec: &PaymentRecord) -> Result<(), StoreError> {
    let p = &rec.payment;
    for ((account, activity, source), amount) in line_keys(rec) {
        diesel::update(budget_positions::table.find((&p.village_id, p.fiscal_year, &account, &activity, &source)))
            .set((
                budget_positions::committed.eq(budget_positions::committed - amount),
                budget_positions::realised.eq(budget_positions::realised + amount),
            ))
            .execute(c)?;
    }
    Ok(())
}

/// A tax deposit may not clear more than is owed: the liability's balance less other deposits under way.
fn check_tax_outstanding(c: &mut Conn, rec: &PaymentRecord) -> Result<(), StoreError> {
    let p = &rec.payment;
    for l in &rec.lines {
        let balance: i64 = accounts::table.find((&p.village_id, &l.account_code)).select(accounts::balance).first(c)?;
        let owed = -balance; // liabilities are credit-normal
        let pending: Vec<i64> = payment_lines::table
            .inner_join(payments::table.on(payments::id.eq(payment_lines::payment_id)))
            .filter(payments::village_id.eq(&p.village_id))
            .filter(payments::kind.eq("tax_deposit"))
            .filter(payments::status.eq_any(["approved", "released", "failed"]))
            .filter(payments::id.ne(&p.id))
            .filter(payment_lines::account_code.eq(&l.account_code))
            .select(payment_lines::amount)
            .load(c)?;
        let available = owed - pending.iter().sum::<i64>();
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

fn history(rec: &PaymentRecord) -> Vec<(String, Step)> {
    rec.events.iter().filter_map(|e| Step::parse(&e.step).map(|s| (e.actor.clone(), s))).collect()
}

/// Locks the request's village (found with the lock) and takes the step if `in_scope` accepts the village: the
/// caller's scope check, made here so that it costs no read of its own. Outside the scope the request is
/// `NotFound`, as if it did not exist.
#[allow(clippy::too_many_arguments)]
pub fn transition_payment(
    c: &mut Conn,
    payment_id: &str,
    in_scope: &dyn Fn(&VillageRow) -> bool,
    action: Action,
    actor: &Actor,
    note: Option<&str>,
    idem: Option<&IdempotencyKey>,
    render: &dyn Fn(&PaymentRecord) -> String,
) -> Result<Written<PaymentRecord>, StoreError> {
    let target = LockTarget::PaymentOf(payment_id);
    idempotent_write_probed(c, target, idem, &Probe::default(), 200, render, &mut |c, ctx| {
        let village = &mut ctx.locked.village;
        if !in_scope(village) {
            return Err(StoreError::NotFound("payment"));
        }
        let mut rec = load_payment(c, payment_id)?
            .filter(|r| r.payment.village_id == village.id)
            .ok_or(StoreError::NotFound("payment"))?;
        let from = PaymentStatus::parse(&rec.payment.status)
            .ok_or_else(|| StoreError::Internal(format!("bad status {}", rec.payment.status)))?;
        let (to, step) = transition(from, action, actor.role)?;
        check_separation(&history(&rec), &actor.id, step)?;
        let is_spp = rec.payment.kind == "spp";
        match action {
            Action::Approve if is_spp => {
                require_adopted_budget(c, &village.id, rec.payment.fiscal_year)?;
                commit_budget(c, &rec, 1)?;
            }
            Action::Approve => {
                ensure_year_open(c, &village.id, rec.payment.fiscal_year)?;
                check_tax_outstanding(c, &rec)?;
            }
            Action::Cancel if is_spp && from.holds_commitment() => commit_budget(c, &rec, -1)?,
            Action::Release => {
                let bank: i64 = accounts::table.find((&village.id, BANK_ACCOUNT)).select(accounts::balance).first(c)?;
                let available = bank - reserved_for_transfers(c, &village.id, None)?;
                if available < rec.payment.net {
                    return Err(StoreError::Posting(PostingError::InsufficientFunds {
                        account: BANK_ACCOUNT.into(),
                        balance: Amount(available),
                        needed: Amount(rec.payment.net),
                    }));
                }
                let now = now_micros();
                let transfer = TransferRow {
                        id: uuid::Uuid::now_v7().to_string(),
                        village_id: village.id.clone(),
                        payment_id: rec.payment.id.clone(),
                        attempt: i32::try_from(rec.transfers.len() + 1).expect("bounded"),
                        amount: rec.payment.net,
                        status: "released".into(),
                        released_by: actor.id.clone(),
                        released_at: now,
                        result_at: None,
                        bank_reference: None,
                        value_date: None,
                        reason: None,
                        ntpn: None,
                        settled_by: None,
                        transaction_id: None,
                };
                diesel::insert_into(transfers::table).values(&transfer).execute(c)?;
                rec.transfers.push(transfer);
            }
            _ => {}
        }
        let updated_at = now_micros();
        let digest = payment_digest(&rec.payment, &rec.lines, &rec.withholdings);
        let event = append_event(
            c,
            village,
            &rec.payment,
            &digest,
            step,
            action.as_str(),
            actor,
            Some(from),
            to,
            note,
            Some(updated_at),
        )?;
        // The answer is the record as read under the lock plus what this step wrote (no second read): the new
        // status, the event (the chain's newest), and a released transfer (the newest attempt).
        rec.payment.status = to.as_str().to_string();
        rec.payment.updated_at = updated_at;
        rec.events.push(event);
        Ok(rec)
    })
}

// ---------------------------------------------------------------------------------------------------------------
// The bank's side

pub fn list_transfers(
    c: &mut Conn,
    village_ids: &[String],
    status: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<(TransferRow, PaymentRow)>, StoreError> {
    let mut q = transfers::table
        .inner_join(payments::table.on(payments::id.eq(transfers::payment_id)))
        .filter(transfers::village_id.eq_any(village_ids.to_vec()))
        .filter(transfers::status.eq(status.to_string()))
        .order(transfers::id)
        .limit(limit)
        .select((TransferRow::as_select(), PaymentRow::as_select()))
        .into_boxed();
    if let Some(a) = after {
        q = q.filter(transfers::id.gt(a.to_string()));
    }
    Ok(q.load(c)?)
}

pub fn get_transfer(c: &mut Conn, id: &str) -> Result<Option<TransferRow>, StoreError> {
    Ok(transfers::table.find(id).select(TransferRow::as_select()).first(c).optional()?)
}

fn settlement(c: &mut Conn, transfer: TransferRow) -> Result<Settlement, StoreError> {
    let payment = payments::table.find(&transfer.payment_id).select(PaymentRow::as_select()).first(c)?;
    let transaction = match &transfer.transaction_id {
        Some(id) => get_transaction(c, id)?,
        None => None,
    };
    Ok(Settlement { transfer, payment, transaction })
}

/// The disbursement: Dr each line's account (gross, with activity and source), Cr the bank (net), Cr each tax's
/// liability. A tax deposit: Dr each liability, Cr the bank.
fn settlement_entries(rec: &PaymentRecord) -> Result<Vec<EntryDraft>, StoreError> {
    let money = |sen: i64| Money::from_sen(sen).map_err(|_| StoreError::Internal(format!("bad amount {sen}")));
    let mut entries = Vec::new();
    for l in &rec.lines {
        entries.push(EntryDraft {
            account_code: l.account_code.clone(),
            side: Side::Debit,
            amount: money(l.amount)?,
            activity_code: l.activity_code.clone(),
            source: l.source.clone(),
        });
    }
    entries.push(EntryDraft {
        account_code: BANK_ACCOUNT.into(),
        side: Side::Credit,
        amount: money(rec.payment.net)?,
        activity_code: None,
        source: None,
    });
    let mut by_tax: BTreeMap<&str, i64> = BTreeMap::new();
    for w in &rec.withholdings {
        *by_tax.entry(w.tax.as_str()).or_insert(0) += w.amount;
    }
    for (tax, amount) in by_tax {
        let account = TAXES
            .iter()
            .find(|(t, _)| *t == tax)
            .map(|(_, a)| *a)
            .ok_or_else(|| StoreError::Internal(format!("unknown tax {tax}")))?;
        entries.push(EntryDraft {
            account_code: account.into(),
            side: Side::Credit,
            amount: money(amount)?,
            activity_code: None,
            source: None,
        });
    }
    Ok(entries)
}

/// `village_id` is the transfer's village as the caller read it for its scope check; the transfer is read again
/// under that village's lock.
#[allow(clippy::too_many_arguments)]
pub fn settle_transfer(
    c: &mut Conn,
    transfer_id: &str,
    village_id: &str,
    result: &BankResult,
    actor: &Actor,
    idem: Option<&IdempotencyKey>,
    render: &dyn Fn(&Settlement) -> String,
) -> Result<Written<Settlement>, StoreError> {
    idempotent_write(c, village_id, idem, 200, render, &mut |c, village| {
        let mut transfer = get_transfer(c, transfer_id)?
            .filter(|t| t.village_id == village.id)
            .ok_or(StoreError::NotFound("transfer"))?;
        if transfer.status != "released" {
            // Settled already: the same result again is answered as before; a different one is a conflict.
            let same = (transfer.status == "paid") == result.paid
                && transfer.bank_reference.as_deref() == Some(result.bank_reference.as_str())
                && transfer.value_date == Some(result.value_date);
            if same {
                return settlement(c, transfer);
            }
            return Err(StoreError::Conflict(format!(
                "transfer {} was already settled as {} with bank reference {}",
                transfer.id,
                transfer.status,
                transfer.bank_reference.as_deref().unwrap_or("-")
            )));
        }
        let rec = load_payment(c, &transfer.payment_id)?.ok_or(StoreError::NotFound("payment"))?;
        let mut payment = rec.payment.clone();
        let from = PaymentStatus::parse(&rec.payment.status).unwrap_or(PaymentStatus::Draft);
        let action = if result.paid { Action::Pay } else { Action::Fail };
        let (to, step) = transition(from, action, Role::Bank)?;
        let now = now_micros();
        let mut transaction_id = None;
        let mut transaction = None;
        if result.paid {
            let new = NewTransaction {
                village_id: village.id.clone(),
                kind: if rec.payment.kind == "tax_deposit" { TxnKind::TaxDeposit } else { TxnKind::Disbursement },
                value_date: result.value_date,
                description: rec.payment.description.clone(),
                entries: settlement_entries(&rec)?,
                reverses: None,
                payment_id: Some(rec.payment.id.clone()),
                bank_reference: Some(result.bank_reference.clone()),
                created_by: actor.id.clone(),
            };
            let posted = post_locked(c, village, &new, Some(&transfer.id))?;
            if rec.payment.kind == "spp" {
                realise_budget(c, &rec)?;
            }
            transaction_id = Some(posted.txn.id.clone());
            transaction = Some(posted);
        }
        diesel::update(transfers::table.find(&transfer.id))
            .set((
                transfers::status.eq(if result.paid { "paid" } else { "failed" }),
                transfers::result_at.eq(Some(now)),
                transfers::bank_reference.eq(Some(&result.bank_reference)),
                transfers::value_date.eq(Some(result.value_date)),
                transfers::reason.eq(result.reason.as_deref()),
                transfers::ntpn.eq(result.ntpn.as_deref()),
                transfers::settled_by.eq(Some(&actor.id)),
                transfers::transaction_id.eq(transaction_id.as_deref()),
            ))
            .execute(c)?;
        diesel::update(payments::table.find(&rec.payment.id))
            .set((
                payments::status.eq(to.as_str()),
                payments::updated_at.eq(now),
                payments::bank_reference.eq(Some(&result.bank_reference)),
                payments::ntpn.eq(result.ntpn.as_deref()),
                payments::transaction_id.eq(transaction_id.as_deref()),
                payments::failure_reason.eq(result.reason.as_deref().filter(|_| !result.paid)),
            ))
            .execute(c)?;
        let digest = payment_digest(&rec.payment, &rec.lines, &rec.withholdings);
        let note = if result.paid { None } else { result.reason.as_deref() };
        append_event(c, village, &rec.payment, &digest, step, action.as_str(), actor, Some(from), to, note, None)?;
        // The answer is the rows as read under the lock with what this settlement wrote (no second read).
        transfer.status = (if result.paid { "paid" } else { "failed" }).to_string();
        transfer.result_at = Some(now);
        transfer.bank_reference = Some(result.bank_reference.clone());
        transfer.value_date = Some(result.value_date);
        transfer.reason = result.reason.clone();
        transfer.ntpn = result.ntpn.clone();
        transfer.settled_by = Some(actor.id.clone());
        transfer.transaction_id = transaction_id.clone();
        payment.status = to.as_str().to_string();
        payment.updated_at = now;
        payment.bank_reference = Some(result.bank_reference.clone());
        payment.ntpn = result.ntpn.clone();
        payment.transaction_id = transaction_id;
        payment.failure_reason = result.reason.clone().filter(|_| !result.paid);
        Ok(Settlement { transfer, payment, transaction })
    })
}

pub fn post_credit(
    c: &mut Conn,
    credit: &NewCredit,
    idem: Option<&IdempotencyKey>,
    render: &dyn Fn(&TransactionRecord) -> String,
) -> Result<Written<TransactionRecord>, StoreError> {
    let known = SOURCES.iter().find(|(s, _)| *s == credit.source);
    let (account, source, description) = match known {
        Some((s, account)) => (*account, Some(s.to_string()), credit.description.clone()),
        // Unknown source: into suspense, for the treasurer to classify by reversal and repost.
        None => (SUSPENSE, None, format!("[sumber tidak dikenal: {}] {}", credit.source, credit.description)),
    };
    let mut codes = vec![BANK_ACCOUNT.to_string(), account.to_string()];
    codes.sort();
    // The bank-credit record and the two balances are read with the village lock, and the posting, the bank-credit
    // record and the stored answer are written in one statement: on PostgreSQL a credit is four round trips.
    let probe =
        Probe { bank_reference: Some(&credit.bank_reference), balances: Some((credit.value_date.year(), &codes)) };
    idempotent_write_probed(c, LockTarget::Village(&credit.village_id), idem, &probe, 201, render, &mut |c, ctx| {
        if let Some((amount, source, transaction_id)) = ctx.locked.bank_credit.clone() {
            // The same bank transaction again (a retry under a new key): answered with the first posting.
            if amount == credit.amount && source == credit.source {
                return get_transaction(c, &transaction_id)?.ok_or(StoreError::NotFound("transaction"));
            }
            return Err(StoreError::Conflict(format!(
                "bank reference {} was already credited with {}",
                credit.bank_reference,
                Amount(amount)
            )));
        }
        let amount = Money::from_sen(credit.amount).map_err(|e| StoreError::Validation(e.to_string()))?;
        let new = NewTransaction {
            village_id: ctx.locked.village.id.clone(),
            kind: TxnKind::Receipt,
            value_date: credit.value_date,
            description: description.clone(),
            entries: vec![
                EntryDraft {
                    account_code: BANK_ACCOUNT.into(),
                    side: Side::Debit,
                    amount,
                    activity_code: None,
                    source: source.clone(),
                },
                EntryDraft {
                    account_code: account.into(),
                    side: Side::Credit,
                    amount,
                    activity_code: None,
                    source: source.clone(),
                },
            ],
            reverses: None,
            payment_id: None,
            bank_reference: Some(credit.bank_reference.clone()),
            created_by: credit.client_id.clone(),
        };
        let prefetched = ctx.locked.open_year_balances.take();
        let mut village = ctx.locked.village.clone();
        let posted = post_locked_with(c, &mut village, &new, None, prefetched, &mut |record| Alongside {
            bank_credit: Some(BankCreditRow {
                village_id: record.txn.village_id.clone(),
                bank_reference: credit.bank_reference.clone(),
                amount: credit.amount,
                source: credit.source.clone(),
                transaction_id: record.txn.id.clone(),
                client_id: credit.client_id.clone(),
                created_at: now_micros(),
            }),
            idempotency: ctx.answer_row(record),
        })?;
        ctx.locked.village = village;
        Ok(posted)
    })
}

pub fn store_statement(
    c: &mut Conn,
    village_id: &str,
    lines: &[NewStatementLine],
    client_id: &str,
    idem: Option<&IdempotencyKey>,
    render: &dyn Fn(&(usize, usize)) -> String,
) -> Result<Written<(usize, usize)>, StoreError> {
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
                Some(e) if e.amount == l.amount && e.value_date == l.value_date => duplicates += 1,
                Some(_) => {
                    return Err(StoreError::Conflict(format!(
                        "statement line {} ({}) was already received with other figures",
                        l.bank_reference, l.direction
                    )))
                }
                None => {
                    diesel::insert_into(statement_lines::table)
                        .values(&StatementLineRow {
                            id: uuid::Uuid::now_v7().to_string(),
                            village_id: village.id.clone(),
                            bank_reference: l.bank_reference.clone(),
                            value_date: l.value_date,
                            amount: l.amount,
                            direction: l.direction.clone(),
                            client_id: client_id.to_string(),
                            received_at: now_micros(),
                        })
                        .execute(c)?;
                    stored += 1;
                }
            }
        }
        Ok((stored, duplicates))
    })
}

/// Every request of the village whose stored content differs from the digest its latest event recorded.
pub fn payment_mismatches(c: &mut Conn, village_id: &str) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    let mut after = String::new();
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
        for p in page {
            let rec = complete_payment(c, p)?;
            let digest = payment_digest(&rec.payment, &rec.lines, &rec.withholdings);
            if rec.events.last().map(|e| e.payment_digest.as_str()) != Some(digest.as_str()) {
                out.push(rec.payment.id.clone());
            }
        }
    }
    Ok(out)
}
