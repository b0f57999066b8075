//! The bank API (role `bank`, scoped to its villages): released transfers, their results, incoming credits and
//! statement lines. Every POST requires `Idempotency-Key`.

use super::auth::Principal;
use super::error::{ApiError, Problem};
use super::payments::actor;
use super::views::*;
use super::{blocking, idempotency_key, respond_written, text_field, Body, State};
use crate::domain::accounts::{class_of_code, is_source, is_valid_account_code, is_valid_activity_code, AccountClass};
use crate::domain::bank_entry::{BankEntryKind, ChargeLine};
use crate::domain::money::Money;
use crate::domain::roles::Role;
use crate::domain::text::{BankReference, Description, Name, Note, Ntpn};
use crate::store::{BankResult, NewCredit, NewStatementLine};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Datelike;
use serde::Deserialize;
use std::collections::HashMap;

const MAX_STATEMENT_LINES: usize = 1000;

fn require_bank(who: &Principal) -> Result<Vec<String>, ApiError> {
    if who.role() != Role::Bank {
        return Err(ApiError::forbidden());
    }
    Ok(who.0.village_ids.clone().unwrap_or_default())
}

fn bank_date(d: chrono::NaiveDate) -> Result<(), ApiError> {
    if d.year() < 2000 || d > crate::domain::posting::latest_allowed_value_date(chrono::Utc::now()) {
        return Err(ApiError::validation(format!("value_date {d} is out of range")));
    }
    Ok(())
}

fn reference(r: &str) -> Result<String, ApiError> {
    let r = BankReference::parse("bank_reference", r)?.into_string();
    if !r.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::validation("bank_reference must be visible ASCII characters"));
    }
    Ok(r)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TransferQuery {
    /// `released` (default): waiting for the bank; `paid` or `failed`: settled.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Released, unsettled transfer instructions for the caller's villages, oldest first.
#[utoipa::path(get, path = "/api/v1/bank/transfers", tag = "bank", security(("bearer" = [])), params(TransferQuery),
    responses((status = 200, body = TransferPage), (status = 403, body = Problem)))]
pub async fn list_transfers(
    state: State,
    who: Principal,
    query: web::Query<TransferQuery>,
) -> Result<HttpResponse, ApiError> {
    let villages = require_bank(&who)?;
    let q = query.into_inner();
    let status = q.status.unwrap_or_else(|| "released".into());
    if !["released", "paid", "failed"].contains(&status.as_str()) {
        return Err(ApiError::validation("status must be released, paid or failed"));
    }
    let limit = super::ledger::page_limit(q.limit)?;
    if let Some(c) = &q.cursor {
        if uuid::Uuid::parse_str(c).is_err() {
            return Err(ApiError::validation("cursor is not one this server issued"));
        }
    }
    let db = state.db.clone();
    let ids = villages.clone();
    let (mut rows, accounts, withheld) = blocking(move || {
        let rows = db.list_transfers(&ids, &status, q.cursor.as_deref(), limit + 1)?;
        // A transfer that no longer says what its chained request says is not served (and verify names it).
        let withheld = db.transfers_withheld(&rows)?;
        let accounts: HashMap<String, String> = db
            .list_villages(crate::store::VillageFilter::Ids(&ids))?
            .into_iter()
            .map(|v| (v.id.into(), v.bank_account))
            .collect();
        Ok((rows, accounts, withheld))
    })
    .await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|(t, _, _)| t.id.clone())
    } else {
        None
    };
    let items = rows
        .iter()
        .filter(|(t, _, _)| !withheld.contains(t.id.as_str()))
        .map(|(t, p, r)| TransferView::new(t, p, r.as_ref(), accounts.get(t.village_id.as_str()).cloned()))
        .collect();
    Ok(HttpResponse::Ok().json(TransferPage { items, next_cursor: next_cursor.map(String::from) }))
}

fn render_settlement(s: &crate::store::rows::Settlement) -> String {
    serde_json::to_string(&settlement_view(s)).unwrap_or_default()
}

fn settlement_view(s: &crate::store::rows::Settlement) -> SettlementView {
    SettlementView {
        transfer: TransferView::new(&s.transfer, &s.payment, s.receipt.as_ref(), None),
        payment_status: s.payment.status,
        transaction: s.transaction.as_ref().map(TransactionView::from),
    }
}

/// Settle a transfer: `paid` posts the disbursement exactly once however often it is retried; `failed` records the
/// reason. The same result again is answered as before; a different one is `409 conflict`.
#[utoipa::path(post, path = "/api/v1/bank/transfers/{id}/result", tag = "bank", request_body = TransferResultRequest,
    security(("bearer" = [])), params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 200, body = SettlementView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn transfer_result(
    state: State,
    who: Principal,
    id: web::Path<String>,
    req: HttpRequest,
    body: Body<TransferResultRequest>,
) -> Result<HttpResponse, ApiError> {
    let villages = require_bank(&who)?;
    let key = idempotency_key(&req, &who, &body.request_hash, true)?;
    let db = state.db.clone();
    let tid = id.clone();
    let transfer = blocking(move || db.get_transfer(&tid)).await?.ok_or_else(ApiError::not_found)?;
    if !villages.iter().any(|v| transfer.village_id == *v) {
        return Err(ApiError::not_found());
    }
    let r = body.value;
    bank_date(r.value_date)?;
    let paid = r.status == ResultStatus::Paid;
    let reason = r.reason.as_deref().map(|x| Note::parse("reason", x).map(Note::into_string)).transpose()?;
    if !paid && reason.is_none() {
        return Err(ApiError::validation("a failed transfer needs a reason"));
    }
    let ntpn = r.ntpn.as_deref().map(|x| Ntpn::parse("ntpn", x).map(Ntpn::into_string)).transpose()?;
    let mut ntpns = std::collections::BTreeMap::new();
    for (tax, n) in r.ntpns.unwrap_or_default() {
        let n = Ntpn::parse(&format!("ntpns.{tax}"), &n)?.into_string();
        ntpns.insert(tax, n);
    }
    let executed_by =
        r.executed_by.as_deref().map(|x| Name::parse("executed_by", x).map(Name::into_string)).transpose()?;
    let result = BankResult {
        paid,
        bank_reference: reference(&r.bank_reference)?,
        value_date: r.value_date,
        reason,
        ntpn,
        ntpns,
        executed_by,
    };
    let db = state.db.clone();
    let actor = actor(&who);
    let written = blocking(move || {
        db.settle_transfer(&transfer.id, &transfer.village_id, &result, &actor, key.as_ref(), &render_settlement)
    })
    .await?;
    Ok(respond_written(&state, written, StatusCode::OK, settlement_view))
}

fn render_txn(r: &crate::store::rows::TransactionRecord) -> String {
    serde_json::to_string(&TransactionView::from(r)).unwrap_or_default()
}

/// An incoming credit to a village account: a receipt (Dr 1.1.1.02, Cr the source's revenue account; unknown
/// sources into suspense 2.1.9.99). One bank reference posts once per village.
#[utoipa::path(post, path = "/api/v1/bank/credits", tag = "bank", request_body = CreditRequest,
    security(("bearer" = [])), params(("Idempotency-Key" = String, Header)),
    responses((status = 201, body = TransactionView), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn credit(
    state: State,
    writer: super::auth::BankWriter,
    req: HttpRequest,
    body: Body<CreditRequest>,
) -> Result<HttpResponse, ApiError> {
    let who = &writer.principal;
    let villages = require_bank(who)?;
    let key = idempotency_key(&req, who, &body.request_hash, true)?;
    // No separate read of the village, nor of the client behind an unsigned token: the write locks the village,
    // checks the client in the same statement (before a stored answer is replayed) and answers 404 for a village
    // that does not exist.
    let credit = parse_credit(&villages, who.id(), body.value)?;
    let db = state.db.clone();
    let check = writer.check;
    let written = blocking(move || db.post_credit(&credit, check.as_ref(), key.as_ref(), render_txn)).await?;
    Ok(respond_written(&state, written, StatusCode::CREATED, |r| TransactionView::from(r)))
}

/// The most credits one batch may carry.
const MAX_BATCH: usize = 1000;

/// The village's closed years, for carrying a bank fact dated in one (`domain::year_end::carried_date`).
async fn closed_years(state: &State, village_id: &str) -> Result<Vec<i32>, ApiError> {
    let db = state.db.clone();
    let id = village_id.to_string();
    blocking(move || db.closed_years(&id)).await
}

/// One credit of a request, parsed as `POST /bank/credits` parses its body.
fn parse_credit(villages: &[String], client_id: &str, c: CreditRequest) -> Result<NewCredit, ApiError> {
    if !villages.contains(&c.village_id) {
        return Err(ApiError::not_found());
    }
    let amount = c.amount.money().map_err(|e| ApiError::amount("amount", e))?;
    bank_date(c.value_date)?;
    let source = text_field("source", &c.source, 20)?;
    Ok(NewCredit {
        village_id: c.village_id,
        amount,
        source,
        bank_reference: reference(&c.bank_reference)?,
        value_date: c.value_date,
        description: Description::parse("description", &c.description)?.into_string(),
        client_id: client_id.to_string(),
    })
}

fn refused(bank_reference: Option<String>, e: &ApiError) -> CreditBatchResult {
    CreditBatchResult {
        bank_reference,
        status: e.status().as_u16(),
        transaction_id: None,
        code: Some(e.code.as_str().to_string()),
        detail: Some(e.detail.clone()),
    }
}

/// Up to 1,000 incoming credits at once: each is posted or refused alone, exactly as `POST /bank/credits` would
/// (a bank reference posts once per village; a refused item writes nothing). The answer lists every item in order;
/// a retry with the same `Idempotency-Key` replays it. Items of different villages are different transactions (no
/// transaction spans two villages).
#[utoipa::path(post, path = "/api/v1/bank/credits/batch", tag = "bank", request_body = CreditBatchRequest,
    security(("bearer" = [])), params(("Idempotency-Key" = String, Header)),
    responses((status = 200, body = CreditBatchAnswer), (status = 422, body = Problem), (status = 409, body = Problem)))]
pub async fn credit_batch(
    state: State,
    who: Principal,
    req: HttpRequest,
    body: Body<CreditBatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let villages = require_bank(&who)?;
    let key = idempotency_key(&req, &who, &body.request_hash, true)?.ok_or_else(ApiError::internal)?;
    let items = body.value.items;
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(ApiError::validation(format!("a batch has 1 to {MAX_BATCH} items")));
    }
    let db = state.db.clone();
    let k = key.clone();
    if let Some((status, body)) = blocking(move || db.find_idempotent(&k)).await? {
        return Ok(respond_written::<(), ()>(
            &state,
            crate::store::Written::Replay { status, body },
            StatusCode::OK,
            |_| (),
        ));
    }
    let client = who.id().to_string();
    let parsed: Vec<Result<NewCredit, (Option<String>, ApiError)>> = items
        .into_iter()
        .map(|item| {
            let reference = item.get("bank_reference").and_then(|r| r.as_str()).map(str::to_string);
            serde_json::from_value::<CreditRequest>(item)
                .map_err(|e| ApiError::validation(format!("an item is not a credit: {e}")))
                .and_then(|c| parse_credit(&villages, &client, c))
                .map_err(|e| (reference, e))
        })
        .collect();
    // The well-formed items are posted together (each alone, see `Db::post_credits`); the answer is stored after
    // them with a durable commit, and only then sent.
    let credits: Vec<NewCredit> = parsed.iter().filter_map(|p| p.as_ref().ok().cloned()).collect();
    let db = state.db.clone();
    let mut posted = blocking(move || db.post_credits(&credits, &render_txn)).await?.into_iter();
    let results: Vec<CreditBatchResult> = parsed
        .into_iter()
        .map(|p| match p {
            Err((reference, e)) => refused(reference, &e),
            Ok(credit) => {
                let reference = Some(credit.bank_reference.clone());
                match posted.next() {
                    Some(Ok(crate::store::Written::Fresh(t))) => CreditBatchResult {
                        bank_reference: reference,
                        status: 201,
                        transaction_id: Some(t.txn.id.to_string()),
                        code: None,
                        detail: None,
                    },
                    Some(Err(e)) => refused(reference, &ApiError::from(e)),
                    Some(Ok(crate::store::Written::Replay { .. })) | None => refused(reference, &ApiError::internal()),
                }
            }
        })
        .collect();
    let posted = results.iter().filter(|r| r.status == 201).count();
    for _ in 0..posted {
        super::Metrics::inc(&state.metrics.transactions_posted);
    }
    let answer = serde_json::to_string(&CreditBatchAnswer { results }).map_err(|_| ApiError::internal())?;
    let db = state.db.clone();
    let stored = answer.clone();
    // A concurrent retry of the same batch that stored first: its answer is the one (the same postings).
    let earlier = blocking(move || db.store_answer(&key, 200, &stored)).await?;
    let body = earlier.map_or(answer, |(_, b)| b);
    Ok(HttpResponse::Ok().insert_header((actix_web::http::header::CONTENT_TYPE, "application/json")).body(body))
}

/// Statement lines of a village account, kept for reconciliation. A line received again with the same figures is
/// counted as a duplicate; with other figures it is `409 conflict`.
#[utoipa::path(post, path = "/api/v1/bank/statements", tag = "bank", request_body = StatementRequest,
    security(("bearer" = [])), params(("Idempotency-Key" = String, Header)),
    responses((status = 201, body = StatementReceipt), (status = 404, body = Problem), (status = 409, body = Problem)))]
pub async fn statements(
    state: State,
    who: Principal,
    req: HttpRequest,
    body: Body<StatementRequest>,
) -> Result<HttpResponse, ApiError> {
    let villages = require_bank(&who)?;
    let key = idempotency_key(&req, &who, &body.request_hash, true)?;
    let s = body.value;
    if !villages.contains(&s.village_id) {
        return Err(ApiError::not_found());
    }
    if s.lines.is_empty() || s.lines.len() > MAX_STATEMENT_LINES {
        return Err(ApiError::validation(format!("a statement has 1 to {MAX_STATEMENT_LINES} lines")));
    }
    let mut lines = Vec::with_capacity(s.lines.len());
    for (i, l) in s.lines.into_iter().enumerate() {
        let amount = l.amount.money().map_err(|e| ApiError::amount(&format!("lines[{i}].amount"), e))?;
        bank_date(l.value_date)?;
        let balance = l
            .balance
            .as_deref()
            .map(Money::parse_balance)
            .transpose()
            .map_err(|e| ApiError::amount(&format!("lines[{i}].balance"), e))?;
        lines.push(NewStatementLine {
            bank_reference: reference(&l.bank_reference)?,
            value_date: l.value_date,
            amount,
            direction: l.direction.as_str().to_string(),
            balance,
        });
    }
    let db = state.db.clone();
    let client = who.id().to_string();
    let render = |r: &(usize, usize)| {
        serde_json::to_string(&StatementReceipt { stored: r.0, duplicates: r.1 }).unwrap_or_default()
    };
    let written = blocking(move || db.store_statement(&s.village_id, &lines, &client, key.as_ref(), &render)).await?;
    Ok(respond_written(&state, written, StatusCode::CREATED, |r| StatementReceipt { stored: r.0, duplicates: r.1 }))
}

const MAX_BANK_ENTRIES: usize = 1000;

fn bank_entry_result(
    r: &Result<crate::store::BankEntryPosted, crate::store::LineRefusal>,
    reference: &str,
) -> BankEntryResult {
    match r {
        Ok(p) => BankEntryResult {
            bank_reference: p.entry.bank_reference.clone(),
            status: if p.fresh { 201 } else { 200 },
            code: None,
            detail: None,
            transaction_id: Some(p.entry.transaction_id.clone()),
            account_code: Some(p.account_code.clone()),
            suspense: Some(p.entry.suspense),
            suspense_reason: p.suspense_reason.clone(),
        },
        Err(e) => {
            let e = ApiError::from(crate::store::StoreError::from(e.clone()));
            BankEntryResult {
                bank_reference: reference.to_string(),
                status: e.status().as_u16(),
                code: Some(e.code.as_str().to_string()),
                detail: Some(e.detail.clone()),
                transaction_id: None,
                account_code: None,
                suspense: None,
                suspense_reason: None,
            }
        }
    }
}

/// The bank's own entries on a village account (interest, the tax deducted from it, the administration fee), each
/// posted once per bank reference and never refused for budget reasons: interest is revenue 4.3.6.01; a charge is
/// realised on the line the village chose for it, or goes to suspense 2.1.9.99 when that line cannot absorb it.
/// Each line is answered alone (`results`, in order); a retry with the same `Idempotency-Key` replays the answer.
#[utoipa::path(post, path = "/api/v1/bank/entries", tag = "bank", request_body = BankEntriesRequest,
    security(("bearer" = [])), params(("Idempotency-Key" = String, Header)),
    responses((status = 200, body = BankEntriesAnswer), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn bank_entries(
    state: State,
    who: Principal,
    req: HttpRequest,
    body: Body<BankEntriesRequest>,
) -> Result<HttpResponse, ApiError> {
    let villages = require_bank(&who)?;
    let key = idempotency_key(&req, &who, &body.request_hash, true)?;
    let b = body.value;
    if !villages.contains(&b.village_id) {
        return Err(ApiError::not_found());
    }
    if b.lines.is_empty() || b.lines.len() > MAX_BANK_ENTRIES {
        return Err(ApiError::validation(format!("a request has 1 to {MAX_BANK_ENTRIES} lines")));
    }
    let mut lines = Vec::with_capacity(b.lines.len());
    let mut seen = std::collections::HashSet::new();
    for (i, l) in b.lines.into_iter().enumerate() {
        let amount = l.amount.money().map_err(|e| ApiError::amount(&format!("lines[{i}].amount"), e))?;
        bank_date(l.value_date)?;
        let bank_reference = reference(&l.bank_reference)?;
        if !seen.insert(bank_reference.clone()) {
            return Err(ApiError::validation(format!("lines[{i}].bank_reference {bank_reference} appears twice")));
        }
        lines.push(crate::store::NewBankEntry {
            kind: l.kind,
            amount,
            bank_reference,
            value_date: l.value_date,
            bank_date: None,
        });
    }
    // An entry dated in a closed year is booked on the first day of the next open one, saying the bank's date.
    let closed = closed_years(&state, &b.village_id).await?;
    for l in &mut lines {
        if let Some(d) = crate::domain::year_end::carried_date(l.value_date, &closed) {
            l.bank_date = Some(l.value_date);
            l.value_date = d;
        }
    }
    let refs: Vec<String> = lines.iter().map(|l| l.bank_reference.clone()).collect();
    let answer =
        move |results: &Vec<Result<crate::store::BankEntryPosted, crate::store::LineRefusal>>| BankEntriesAnswer {
            results: results.iter().zip(&refs).map(|(r, reference)| bank_entry_result(r, reference)).collect(),
        };
    let render = {
        let answer = answer.clone();
        move |r: &Vec<_>| serde_json::to_string(&answer(r)).unwrap_or_default()
    };
    let db = state.db.clone();
    let client = who.id().to_string();
    let written = blocking(move || db.post_bank_entries(&b.village_id, &lines, &client, key.as_ref(), &render)).await?;
    Ok(respond_written(&state, written, StatusCode::OK, answer))
}

fn charge_line(field: &str, v: Option<ChargeLineView>) -> Result<Option<ChargeLine>, ApiError> {
    let Some(v) = v else { return Ok(None) };
    if !matches!(class_of_code(&v.account_code), Some(AccountClass::Expenditure))
        || !is_valid_account_code(&v.account_code)
    {
        return Err(ApiError::validation(format!("{field}.account_code must be a spending account (5.x.x.xx)")));
    }
    if !is_valid_activity_code(&v.activity_code) {
        return Err(ApiError::validation(format!(
            "{field}.activity_code {} is not a kegiatan of the catalogue",
            v.activity_code
        )));
    }
    if !is_source(&v.source) {
        return Err(ApiError::validation(format!("{field}.source is not a source of funds")));
    }
    Ok(Some(ChargeLine { account: v.account_code, activity: v.activity_code, source: v.source }))
}

fn lines_view(rows: &[crate::store::rows::BankEntryLineRow]) -> BankEntryLinesView {
    let of = |kind: BankEntryKind| {
        rows.iter().find(|r| r.kind == kind).map(|r| ChargeLineView {
            account_code: r.account_code.clone(),
            activity_code: r.activity_code.clone(),
            source: r.source.clone(),
        })
    };
    BankEntryLinesView { interest_tax: of(BankEntryKind::InterestTax), admin_fee: of(BankEntryKind::AdminFee) }
}

/// The budget lines the bank's charges go to.
#[utoipa::path(get, path = "/api/v1/villages/{id}/bank-entry-lines", tag = "bank", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = BankEntryLinesView), (status = 404, body = Problem)))]
pub async fn get_bank_entry_lines(
    state: State,
    who: Principal,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let village = super::load_village(&state, &id).await?;
    who.require(&village, super::auth::READERS)?;
    let db = state.db.clone();
    let rows = blocking(move || db.bank_entry_lines(&village.id)).await?;
    Ok(HttpResponse::Ok().json(lines_view(&rows)))
}

/// Chooses the budget lines the bank's charges go to (treasurer or admin): both kinds at once, `null` for none.
#[utoipa::path(put, path = "/api/v1/villages/{id}/bank-entry-lines", tag = "bank", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = BankEntryLinesView,
    responses((status = 200, body = BankEntryLinesView), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_bank_entry_lines(
    state: State,
    who: Principal,
    id: web::Path<String>,
    body: Body<BankEntryLinesView>,
) -> Result<HttpResponse, ApiError> {
    let village = super::load_village(&state, &id).await?;
    who.require(&village, &[Role::Treasurer, Role::Admin])?;
    let b = body.value;
    let tax = charge_line("interest_tax", b.interest_tax)?;
    let fee = charge_line("admin_fee", b.admin_fee)?;
    let db = state.db.clone();
    let actor = who.id().to_string();
    let rows = blocking(move || {
        db.set_bank_entry_line(&village.id, BankEntryKind::InterestTax, tax.as_ref(), &actor)?;
        db.set_bank_entry_line(&village.id, BankEntryKind::AdminFee, fee.as_ref(), &actor)?;
        db.bank_entry_lines(&village.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(lines_view(&rows)))
}

/// Clear a bank charge held in suspense onto its budget line (head): once the line the treasurer chose
/// (`PUT /villages/{id}/bank-entry-lines`) is in the adopted budget with room for it, the charge is posted there as
/// of the bank's date (Dr the line, Cr 2.1.9.99) and the line realised; an optional `note` joins the posting's
/// description. Optional `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/villages/{id}/bank-entries/{bank_reference}/clear", tag = "bank",
    security(("bearer" = [])), request_body = Option<TransitionRequest>,
    params(("id" = String, Path), ("bank_reference" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = TransactionView), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "conflict: not in suspense"),
        (status = 422, body = Problem, description = "validation_failed: the line cannot take it yet; fiscal_year_closed")))]
pub async fn clear_suspended_charge(
    state: State,
    who: Principal,
    path: web::Path<(String, String)>,
    req: HttpRequest,
    body: Body<TransitionRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, reference) = path.into_inner();
    let village = super::load_village(&state, &id).await?;
    // The treasurer (or an administrator) chose the line; the head, who adopted the budget, moves spending onto it.
    who.require(&village, &[Role::Head])?;
    let reference = BankReference::parse("bank_reference", &reference)?.into_string();
    let key = idempotency_key(&req, &who, &body.request_hash, false)?;
    let note = body.value.note.as_deref().map(|n| Note::parse("note", n).map(Note::into_string)).transpose()?;
    let db = state.db.clone();
    let actor = who.id().to_string();
    let written = blocking(move || {
        db.clear_suspended_charge(&village.id, &reference, &actor, note.as_deref(), key.as_ref(), &render_txn)
    })
    .await?;
    Ok(respond_written(&state, written, StatusCode::CREATED, |r| TransactionView::from(r)))
}
