//! The ledger endpoints: the chart, balances, manual transactions, reversals, fiscal years and chain verification.

use super::auth::{Principal, READERS};
use super::error::{ApiError, Problem};
use super::views::*;
use super::{
    account_codes_in, blocking, idempotency_key, load_village, respond_written, unknown_account_first, Body,
    BodyRejection, Metrics, State,
};
use crate::domain::accounts::{is_source, is_valid_account_code, is_valid_activity_code};
use crate::domain::posting::{check_balanced, check_manual_kind, latest_allowed_value_date, EntryDraft};
use crate::domain::roles::Role;
use crate::domain::text::{BankReference, Description, Note};
use crate::store::rows::VillageRow;
use crate::store::{ChainReport, NewTransaction, TxnQuery};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use std::collections::HashMap;

/// Today in Asia/Jakarta (WIB, UTC+7): the default value date.
pub fn today_wib() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// Oldest fiscal year the ledger accepts; a guard against typos like 0226.
const FIRST_FISCAL_YEAR: i32 = 2000;

pub(super) fn check_value_date(d: NaiveDate) -> Result<(), ApiError> {
    if d.year() < FIRST_FISCAL_YEAR {
        return Err(ApiError::validation(format!("value_date must be in {FIRST_FISCAL_YEAR} or later")));
    }
    let latest = latest_allowed_value_date(chrono::Utc::now());
    if d > latest {
        return Err(ApiError::validation(format!("value_date {d} is in the future (latest allowed: {latest})")));
    }
    Ok(())
}

/// Validates a manual transaction's entries into drafts: amounts, codes, then the domain's posting rules.
fn entry_drafts(entries: Vec<EntryRequest>) -> Result<Vec<EntryDraft>, ApiError> {
    let mut drafts = Vec::with_capacity(entries.len());
    for (i, e) in entries.into_iter().enumerate() {
        let field = format!("entries[{i}].amount");
        let amount = e.amount.money().map_err(|err| ApiError::amount(&field, err))?;
        if !is_valid_account_code(&e.account_code) {
            return Err(ApiError::validation(format!(
                "entries[{i}].account_code is not an account code like 4.2.1.01"
            )));
        }
        if let Some(a) = &e.activity_code {
            if !is_valid_activity_code(a) {
                return Err(ApiError::validation(format!(
                    "entries[{i}].activity_code {a} is not a kegiatan of the catalogue (GET /catalogue/activities, written 02.03.10) nor a 90-99 slot of a sub-bidang"
                )));
            }
        }
        if let Some(s) = &e.source {
            if !is_source(s) {
                return Err(ApiError::validation(format!(
                    "entries[{i}].source must be one of DDS, ADD, PBH, PAD, PBP, PBK, SWD, DLL"
                )));
            }
        }
        drafts.push(EntryDraft {
            account_code: e.account_code,
            side: e.side,
            amount,
            activity_code: e.activity_code,
            source: e.source,
        });
    }
    Ok(drafts)
}

fn render(r: &crate::store::rows::TransactionRecord) -> String {
    serde_json::to_string(&TransactionView::from(r)).unwrap_or_default()
}

/// Post a manual receipt, transfer, opening balance or adjustment (treasurer). Requires `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/villages/{id}/transactions", tag = "ledger", request_body = TransactionRequest,
    security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = String, Header, description = "required; a retry with the same key and body gets the first response")),
    responses((status = 201, body = TransactionView), (status = 409, body = Problem, description = "idempotency_conflict"),
        (status = 422, body = Problem, description = "unbalanced, invalid_amount, unknown_account, insufficient_funds, cash_limit_exceeded, fiscal_year_closed, validation_failed")))]
pub async fn create_transaction(
    state: State,
    who: Principal,
    id: web::Path<String>,
    req: HttpRequest,
    body: Result<Body<TransactionRequest>, BodyRejection>,
) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, &[Role::Treasurer])?;
    let village_id = village.id.clone();
    let (codes, result) = match body {
        Ok(body) => {
            let codes: Vec<String> = body.value.entries.iter().map(|e| e.account_code.clone()).collect();
            (codes, post_manual(&state, &who, village, &req, body).await)
        }
        Err(rejected) => (account_codes_in(rejected.json.as_ref(), "entries"), Err(rejected.error)),
    };
    match result {
        Ok(response) => Ok(response),
        Err(e) => Err(unknown_account_first(&state, &village_id, &codes, e).await),
    }
}

/// `create_transaction` once the caller may post in the village: every check of the request, then the posting.
async fn post_manual(
    state: &State,
    who: &Principal,
    village: VillageRow,
    req: &HttpRequest,
    body: Body<TransactionRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(req, who, &body.request_hash, true)?;
    let written = post_manual_transaction(state, who, village, key, body.value).await?;
    Ok(respond_written(state, written, StatusCode::CREATED, |r| TransactionView::from(r)))
}

/// A manual receipt, transfer, opening balance or adjustment by `who` (a treasurer of `village`): every check of
/// the request, then the posting. The one path of the API and the console's cash page.
pub async fn post_manual_transaction(
    state: &State,
    who: &Principal,
    village: VillageRow,
    key: Option<crate::store::IdempotencyKey>,
    t: TransactionRequest,
) -> Result<crate::store::Written<crate::store::rows::TransactionRecord>, ApiError> {
    check_value_date(t.value_date)?;
    let description = Description::parse("description", &t.description)?.into_string();
    let bank_reference = t
        .bank_reference
        .as_deref()
        .map(|r| BankReference::parse("bank_reference", r).map(BankReference::into_string))
        .transpose()?;
    let entries = entry_drafts(t.entries)?;
    check_balanced(&entries)?;
    check_manual_kind(t.kind, &entries)?;
    let new = NewTransaction {
        village_id: village.id,
        kind: t.kind,
        value_date: t.value_date,
        description,
        entries,
        reverses: None,
        payment_id: None,
        bank_reference,
        created_by: who.id().to_string(),
    };
    let db = state.db.clone();
    let written = blocking(move || db.post_transaction(&new, key.as_ref(), &render)).await?;
    if matches!(written, crate::store::Written::Fresh(_)) {
        Metrics::inc(&state.metrics.transactions_posted);
    }
    Ok(written)
}

/// Reverse a transaction (treasurer): a new transaction with every line on the other side. Once per original.
#[utoipa::path(post, path = "/api/v1/transactions/{id}/reverse", tag = "ledger", request_body = ReverseRequest,
    security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses((status = 201, body = TransactionView), (status = 409, body = Problem, description = "already_reversed"),
        (status = 422, body = Problem)))]
pub async fn reverse_transaction(
    state: State,
    who: Principal,
    id: web::Path<String>,
    req: HttpRequest,
    body: Body<ReverseRequest>,
) -> Result<HttpResponse, ApiError> {
    let original = {
        let db = state.db.clone();
        let id = id.clone();
        blocking(move || db.get_transaction(&id)).await?.ok_or_else(ApiError::not_found)?
    };
    let village = load_village(&state, &original.txn.village_id).await?;
    who.require(&village, &[Role::Treasurer])?;
    let key = idempotency_key(&req, &who, &body.request_hash, false)?;
    let reason = Note::parse("reason", &body.value.reason)?.into_string();
    let value_date = body.value.value_date.unwrap_or_else(|| today_wib().max(original.txn.value_date));
    check_value_date(value_date)?;
    let db = state.db.clone();
    let actor = who.id().to_string();
    let original_id = original.txn.id;
    let written =
        blocking(move || db.reverse_transaction(&original_id, value_date, &reason, &actor, key.as_ref(), &render))
            .await?;
    if matches!(written, crate::store::Written::Fresh(_)) {
        Metrics::inc(&state.metrics.transactions_posted);
    }
    Ok(respond_written(&state, written, StatusCode::CREATED, |r| TransactionView::from(r)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TxnListQuery {
    /// First value date (inclusive).
    pub from: Option<NaiveDate>,
    /// Last value date (inclusive).
    pub to: Option<NaiveDate>,
    /// Only transactions with an entry on this account.
    pub account: Option<String>,
    /// Only the postings of this payment request (its disbursements, a tax deposit, an advance's SPJ).
    pub payment_id: Option<String>,
    /// 1 to 1000, default 100.
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn encode_cursor(seq: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("seq:{seq}"))
}

fn decode_cursor(c: &str) -> Result<i64, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("seq:").and_then(|n| n.parse::<i64>().ok()))
        .filter(|n| *n >= 0)
        .ok_or_else(|| ApiError::validation("cursor is not one this server issued"))
}

pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    let l = limit.unwrap_or(100);
    if !(1..=1000).contains(&l) {
        return Err(ApiError::validation("limit must be between 1 and 1000"));
    }
    Ok(l)
}

/// The village's transactions in sequence order, cursor-paginated.
#[utoipa::path(get, path = "/api/v1/villages/{id}/transactions", tag = "ledger", security(("bearer" = [])),
    params(("id" = String, Path), TxnListQuery),
    responses((status = 200, body = TransactionPage), (status = 404, body = Problem)))]
pub async fn list_transactions(
    state: State,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<TxnListQuery>,
) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, READERS)?;
    let q = query.into_inner();
    if let (Some(f), Some(t)) = (q.from, q.to) {
        if f > t {
            return Err(ApiError::validation("from is after to"));
        }
    }
    let limit = page_limit(q.limit)?;
    let query = TxnQuery {
        from: q.from,
        to: q.to,
        account: q.account,
        payment_id: q.payment_id,
        after_seq: q.cursor.as_deref().map(decode_cursor).transpose()?.unwrap_or(0),
        limit: limit + 1,
    };
    let db = state.db.clone();
    let mut rows = blocking(move || db.list_transactions(&village.id, &query)).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| encode_cursor(r.txn.seq))
    } else {
        None
    };
    Ok(HttpResponse::Ok()
        .json(TransactionPage { items: rows.iter().map(TransactionView::from).collect(), next_cursor }))
}

/// One transaction with its entries.
#[utoipa::path(get, path = "/api/v1/transactions/{id}", tag = "ledger", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = TransactionView), (status = 404, body = Problem)))]
pub async fn get_transaction(state: State, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let record = blocking(move || db.get_transaction(&id)).await?.ok_or_else(ApiError::not_found)?;
    let village = load_village(&state, &record.txn.village_id).await?;
    who.require(&village, READERS)?;
    Ok(HttpResponse::Ok().json(TransactionView::from(&record)))
}

/// The chart of accounts with current balances (on each account's normal side).
#[utoipa::path(get, path = "/api/v1/villages/{id}/accounts", tag = "ledger", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Vec<AccountView>), (status = 404, body = Problem)))]
pub async fn accounts(state: State, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, READERS)?;
    let db = state.db.clone();
    let rows = blocking(move || db.accounts(&village.id)).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(|a| AccountView::new(a, a.balance)).collect::<Vec<_>>()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AtQuery {
    /// The end of this date; default today (Asia/Jakarta).
    pub at: Option<NaiveDate>,
}

/// Balance per account at the end of a date, summed from the entries.
#[utoipa::path(get, path = "/api/v1/villages/{id}/balances", tag = "ledger", security(("bearer" = [])),
    params(("id" = String, Path), AtQuery), responses((status = 200, body = BalancesView), (status = 404, body = Problem)))]
pub async fn balances(
    state: State,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<AtQuery>,
) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, READERS)?;
    let at = query.at.unwrap_or_else(today_wib);
    let db = state.db.clone();
    let vid = village.id.clone();
    let (chart, sums) = blocking(move || Ok((db.accounts(&vid)?, db.balances_at(&vid, at)?))).await?;
    let sums: HashMap<String, i64> = sums.into_iter().collect();
    let accounts = chart.iter().map(|a| AccountView::new(a, sums.get(&a.code).copied().unwrap_or(0))).collect();
    Ok(HttpResponse::Ok().json(BalancesView { village_id: village.id, at, accounts }))
}

/// The village's fiscal years and whether each is open.
#[utoipa::path(get, path = "/api/v1/villages/{id}/fiscal-years", tag = "ledger", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Vec<FiscalYearView>)))]
pub async fn fiscal_years(state: State, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, READERS)?;
    let db = state.db.clone();
    let rows = blocking(move || db.fiscal_years(&village.id)).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(FiscalYearView::from).collect::<Vec<_>>()))
}

/// Close a fiscal year (village head): once it has ended and no transfer of it is in flight (else `409 conflict`);
/// answers its SiLPA, which opens the next year as 6.1.1.01 realised. No posting may be dated in it afterwards.
#[utoipa::path(post, path = "/api/v1/villages/{id}/fiscal-years/{year}/close", tag = "ledger",
    security(("bearer" = [])), params(("id" = String, Path), ("year" = i32, Path)),
    responses((status = 200, body = FiscalYearView), (status = 422, body = Problem, description = "fiscal_year_closed: already closed")))]
pub async fn close_fiscal_year(
    state: State,
    who: Principal,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (id, year) = path.into_inner();
    let village = load_village(&state, &id).await?;
    who.require(&village, &[Role::Head])?;
    if !(FIRST_FISCAL_YEAR..=today_wib().year()).contains(&year) {
        return Err(ApiError::validation(format!("year must be between {FIRST_FISCAL_YEAR} and this year")));
    }
    let db = state.db.clone();
    let actor = who.id().to_string();
    let today = today_wib();
    let f = blocking(move || db.close_fiscal_year(&village.id, year, &actor, today)).await?;
    Ok(HttpResponse::Ok().json(FiscalYearView::from(f)))
}

/// Verify the village's hash chain, that every balance equals the sum of its entries, and the chain against its
/// stored signed checkpoints.
#[utoipa::path(get, path = "/api/v1/villages/{id}/audit/verify", tag = "audit", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = ChainReport), (status = 404, body = Problem)))]
pub async fn verify_chain(state: State, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, READERS)?;
    let db = state.db.clone();
    let key = state.anchor.verifying();
    let report =
        blocking(move || db.verify_chain(&village.id, Some(crate::store::Anchors { key: &key, supplied: &[] })))
            .await?;
    Ok(HttpResponse::Ok().json(report))
}
