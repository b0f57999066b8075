//! Budgets (APBDes) and payment requests (SPP, tax deposits) through their approval chain.

use super::auth::{Principal, READERS};
use super::error::{ApiError, ErrorCode, Problem};
use super::ledger::{page_limit, today_wib};
use super::views::*;
use super::{
    account_codes_in, blocking, idempotency_key, load_village, respond_written, unknown_account_first, Body,
    BodyRejection, State,
};
use crate::domain::accounts::{
    class_of_code, is_source, is_valid_account_code, is_valid_activity_code, AccountClass, TAXES,
};
use crate::domain::roles::Role;
use crate::domain::settlement::PaymentKind;
use crate::domain::text::{AccountNumber, BankCode, BankReference, BillingCode, Description, Name, Note, Npwp};
use crate::domain::workflow::{totals, Action, PaymentStatus, TotalsError};
use crate::store::rows::VillageRow;
use crate::store::{Actor, BudgetLineInput, NewPayment, NewPaymentLine};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Datelike;
use serde::Deserialize;
use std::collections::HashSet;

const MAX_BUDGET_LINES: usize = 2000;
const MAX_PAYMENT_LINES: usize = 50;
/// Receipts of one request, and lines over all of them (a month's salaries and allowances fit comfortably).
const MAX_RECEIPTS: usize = 500;
const MAX_RECEIPT_LINES_TOTAL: usize = 2000;
const MAX_WITHHOLDINGS_PER_LINE: usize = 5;

pub fn actor(who: &Principal) -> Actor {
    Actor { id: who.id().to_string(), name: who.0.name.clone(), role: who.role() }
}

fn check_year(year: i32) -> Result<(), ApiError> {
    let this = today_wib().year();
    if !(2000..=this + 1).contains(&year) {
        return Err(ApiError::validation(format!("year must be between 2000 and {}", this + 1)));
    }
    Ok(())
}

fn is_spending(code: &str) -> bool {
    matches!(class_of_code(code), Some(AccountClass::Expenditure | AccountClass::FinancingExpenditure))
}

fn budget_lines(lines: Vec<BudgetLineRequest>) -> Result<Vec<BudgetLineInput>, ApiError> {
    if lines.is_empty() || lines.len() > MAX_BUDGET_LINES {
        return Err(ApiError::validation(format!("a budget has 1 to {MAX_BUDGET_LINES} lines")));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.into_iter().enumerate() {
        let ceiling = l.amount.money().map_err(|e| ApiError::amount(&format!("lines[{i}].amount"), e))?;
        let class = is_valid_account_code(&l.account_code).then(|| class_of_code(&l.account_code)).flatten();
        if !matches!(
            class,
            Some(
                AccountClass::Revenue
                    | AccountClass::Expenditure
                    | AccountClass::FinancingReceipt
                    | AccountClass::FinancingExpenditure
            )
        ) {
            return Err(ApiError::validation(format!(
                "lines[{i}].account_code must be a revenue (4), spending (5) or financing (6) account"
            )));
        }
        if !is_source(&l.source) {
            return Err(ApiError::validation(format!("lines[{i}].source is not a source of funds")));
        }
        let activity = match (&l.activity_code, is_spending(&l.account_code)) {
            (Some(a), _) if is_valid_activity_code(a) => a.clone(),
            (Some(a), _) => {
                return Err(ApiError::validation(format!(
                    "lines[{i}].activity_code {a} is not a kegiatan of the catalogue (GET /catalogue/activities, written 02.03.10) nor a 90-99 slot of a sub-bidang"
                )))
            }
            (None, true) => {
                return Err(ApiError::validation(format!("lines[{i}] spends, so it needs an activity_code")))
            }
            (None, false) => String::new(),
        };
        if !seen.insert((l.account_code.clone(), activity.clone(), l.source.clone())) {
            return Err(ApiError::validation(format!(
                "lines[{i}] repeats account {}, activity {}, source {}",
                l.account_code, activity, l.source
            )));
        }
        let activity_name =
            l.activity_name.as_deref().map(|n| Name::parse("activity_name", n).map(Name::into_string)).transpose()?;
        out.push(BudgetLineInput {
            account_code: l.account_code,
            activity_code: activity,
            activity_name,
            source: l.source,
            ceiling,
        });
    }
    Ok(out)
}

type BudgetPath = web::Path<(String, i32)>;

/// Create or replace the draft budget of a year (treasurer or head).
#[utoipa::path(put, path = "/api/v1/villages/{id}/budgets/{year}", tag = "budget", request_body = BudgetRequest,
    security(("bearer" = [])), params(("id" = String, Path), ("year" = i32, Path)),
    responses((status = 200, body = BudgetView), (status = 409, body = Problem, description = "invalid_transition: already adopted"),
        (status = 422, body = Problem)))]
pub async fn put_budget(
    state: State,
    who: Principal,
    path: BudgetPath,
    body: Body<BudgetRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, year) = path.into_inner();
    let b = draft_budget(&state, &who, &id, year, body.value).await?;
    Ok(HttpResponse::Ok().json(BudgetView::from(&b)))
}

/// Creates or replaces a year's draft budget (treasurer or head): the one path of the API and the console.
pub async fn draft_budget(
    state: &State,
    who: &Principal,
    village_id: &str,
    year: i32,
    body: BudgetRequest,
) -> Result<crate::store::rows::BudgetRecord, ApiError> {
    let village = load_village(state, village_id).await?;
    who.require(&village, &[Role::Treasurer, Role::Head])?;
    check_year(year)?;
    let lines = budget_lines(body.lines)?;
    let db = state.db.clone();
    let actor = who.id().to_string();
    blocking(move || db.put_budget_draft(&village.id, year, &lines, &actor)).await
}

/// Adopt the draft budget (head): the year opens for spending.
#[utoipa::path(post, path = "/api/v1/villages/{id}/budgets/{year}/adopt", tag = "budget", security(("bearer" = [])),
    params(("id" = String, Path), ("year" = i32, Path)),
    responses((status = 200, body = BudgetView), (status = 409, body = Problem)))]
pub async fn adopt_budget(state: State, who: Principal, path: BudgetPath) -> Result<HttpResponse, ApiError> {
    let (id, year) = path.into_inner();
    let b = adopt_draft_budget(&state, &who, &id, year).await?;
    Ok(HttpResponse::Ok().json(BudgetView::from(&b)))
}

/// Adopts a year's draft budget (head): the one path of the API and the console.
pub async fn adopt_draft_budget(
    state: &State,
    who: &Principal,
    village_id: &str,
    year: i32,
) -> Result<crate::store::rows::BudgetRecord, ApiError> {
    let village = load_village(state, village_id).await?;
    who.require(&village, &[Role::Head])?;
    let db = state.db.clone();
    let actor = who.id().to_string();
    blocking(move || db.adopt_budget(&village.id, year, &actor)).await
}

/// Revise the adopted budget (APBDes Perubahan, head). A line may not go below its realised + committed.
#[utoipa::path(post, path = "/api/v1/villages/{id}/budgets/{year}/revisions", tag = "budget", request_body = BudgetRequest,
    security(("bearer" = [])), params(("id" = String, Path), ("year" = i32, Path)),
    responses((status = 201, body = BudgetView), (status = 422, body = Problem, description = "budget_exceeded: a line below what it already used")))]
pub async fn revise_budget(
    state: State,
    who: Principal,
    path: BudgetPath,
    body: Body<BudgetRequest>,
) -> Result<HttpResponse, ApiError> {
    let (id, year) = path.into_inner();
    let b = revise_adopted_budget(&state, &who, &id, year, body.value).await?;
    Ok(HttpResponse::Created().json(BudgetView::from(&b)))
}

/// Revises a year's adopted budget (head; APBDes Perubahan): the one path of the API and the console.
pub async fn revise_adopted_budget(
    state: &State,
    who: &Principal,
    village_id: &str,
    year: i32,
    body: BudgetRequest,
) -> Result<crate::store::rows::BudgetRecord, ApiError> {
    let village = load_village(state, village_id).await?;
    who.require(&village, &[Role::Head])?;
    let note = body.note.as_deref().map(|n| Note::parse("note", n).map(Note::into_string)).transpose()?;
    let lines = budget_lines(body.lines)?;
    let db = state.db.clone();
    let actor = who.id().to_string();
    blocking(move || db.revise_budget(&village.id, year, &lines, note.as_deref(), &actor)).await
}

/// The budget of a year, with ceiling, committed, realised and available per line.
#[utoipa::path(get, path = "/api/v1/villages/{id}/budgets/{year}", tag = "budget", security(("bearer" = [])),
    params(("id" = String, Path), ("year" = i32, Path)),
    responses((status = 200, body = BudgetView), (status = 404, body = Problem)))]
pub async fn get_budget(state: State, who: Principal, path: BudgetPath) -> Result<HttpResponse, ApiError> {
    let (id, year) = path.into_inner();
    let village = load_village(&state, &id).await?;
    who.require(&village, READERS)?;
    let db = state.db.clone();
    let b = blocking(move || db.get_budget(&village.id, year)).await?.ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(BudgetView::from(&b)))
}

/// The payee as the contract gives it, parsed: a name, a bank, an account and an optional NPWP (digits only).
fn check_payee(p: &Payee) -> Result<Payee, ApiError> {
    Ok(Payee {
        name: Name::parse("payee.name", &p.name)?.into_string(),
        bank_code: BankCode::parse("payee.bank_code", &p.bank_code)?.into_string(),
        account_number: AccountNumber::parse("payee.account_number", &p.account_number)?.into_string(),
        npwp: p.npwp.as_deref().map(|n| Npwp::parse("payee.npwp", n).map(Npwp::into_string)).transpose()?,
    })
}

fn totals_error(e: TotalsError) -> ApiError {
    match e {
        TotalsError::WithholdingTooLarge { line, .. } => ApiError::new(
            ErrorCode::InvalidAmount,
            format!("lines[{line}]: the withholdings must be less than the line's amount"),
        ),
        TotalsError::Overflow => ApiError::new(ErrorCode::InvalidAmount, "the request's total is too large"),
    }
}

fn tax_account(tax: &str) -> Option<&'static str> {
    TAXES.iter().find(|(t, _)| *t == tax).map(|(_, a)| *a)
}

fn render_payment(r: &crate::store::rows::PaymentRecord) -> String {
    serde_json::to_string(&PaymentView::from(r)).unwrap_or_default()
}

/// Draft a payment request (implementer). Gross, withheld and net are computed here. Requires `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/villages/{id}/payments", tag = "payments", request_body = PaymentRequest,
    security(("bearer" = [])), params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 201, body = PaymentView), (status = 422, body = Problem)))]
pub async fn create_payment(
    state: State,
    who: Principal,
    id: web::Path<String>,
    req: HttpRequest,
    body: Result<Body<PaymentRequest>, BodyRejection>,
) -> Result<HttpResponse, ApiError> {
    // A refused body or a missing key: the village's scope first, then an unknown account before the rest.
    let body = match body {
        Ok(body) => body,
        Err(rejected) => {
            let codes = account_codes_in(rejected.json.as_ref(), "lines");
            return Err(refused_draft(&state, &who, &id, &codes, rejected.error).await);
        }
    };
    let key = match idempotency_key(&req, &who, &body.request_hash, true) {
        Ok(key) => key,
        Err(e) => {
            let codes: Vec<String> = body.value.lines.iter().map(|l| l.account_code.clone()).collect();
            return Err(refused_draft(&state, &who, &id, &codes, e).await);
        }
    };
    let written = draft_payment(&state, &who, &id, key, body.value).await?;
    Ok(respond_written(&state, written, StatusCode::CREATED, |r| PaymentView::from(r)))
}

/// The answer to a draft refused before `draft_payment`: `404`/`403` when the caller may not draft in the village,
/// else `unknown_account` when a line names an account outside its chart, else `err`.
async fn refused_draft(state: &State, who: &Principal, village_id: &str, codes: &[String], err: ApiError) -> ApiError {
    let village = match load_village(state, village_id).await {
        Ok(v) => v,
        Err(e) => return e,
    };
    if let Err(e) = who.require(&village, &[Role::Implementer]) {
        return e;
    }
    unknown_account_first(state, &village.id, codes, err).await
}

/// Validates a payment request and drafts it: the one path for the API and the web console, so both keep exactly
/// the same rules. A line whose account is not in the village's chart is `unknown_account` whatever else is wrong.
pub async fn draft_payment(
    state: &State,
    who: &Principal,
    village_id: &str,
    key: Option<crate::store::IdempotencyKey>,
    p: PaymentRequest,
) -> Result<crate::store::Written<crate::store::rows::PaymentRecord>, ApiError> {
    let village = load_village(state, village_id).await?;
    who.require(&village, &[Role::Implementer])?;
    let village_id = village.id.clone();
    let codes: Vec<String> = p
        .lines
        .iter()
        .chain(p.receipts.iter().flatten().flat_map(|r| r.lines.iter()))
        .map(|l| l.account_code.clone())
        .collect();
    match checked_draft(state, who, village, key, p).await {
        Ok(written) => Ok(written),
        Err(e) => Err(unknown_account_first(state, &village_id, &codes, e).await),
    }
}

/// `draft_payment` once the caller may draft in the village: every check of the request, then the write.
async fn checked_draft(
    state: &State,
    who: &Principal,
    village: VillageRow,
    key: Option<crate::store::IdempotencyKey>,
    p: PaymentRequest,
) -> Result<crate::store::Written<crate::store::rows::PaymentRecord>, ApiError> {
    let new = build_payment(state, who, village, p).await?;
    let db = state.db.clone();
    blocking(move || db.create_payment(&new, key.as_ref(), &render_payment)).await
}

/// Every check of a request's body (the same for a draft and an edit): what the store writes.
async fn build_payment(
    state: &State,
    who: &Principal,
    village: VillageRow,
    p: PaymentRequest,
) -> Result<NewPayment, ApiError> {
    if !is_valid_activity_code(&p.activity_code) {
        return Err(ApiError::validation(format!(
            "activity_code {} is not a kegiatan of the catalogue (GET /catalogue/activities, written 02.03.10) nor a 90-99 slot of a sub-bidang",
            p.activity_code
        )));
    }
    let description = Description::parse("description", &p.description)?.into_string();
    let kind = match p.kind.as_deref() {
        None | Some("spp") => PaymentKind::Spp,
        Some("advance") => PaymentKind::Advance,
        Some(other) => {
            return Err(ApiError::validation(format!(
                "kind {other:?} is not spp or advance (tax deposits are drafted with /tax-deposits)"
            )))
        }
    };
    if kind == PaymentKind::Advance {
        if p.receipts.is_some() {
            return Err(ApiError::validation(
                "an advance is paid to one implementer: give payee and lines, not receipts",
            ));
        }
        if p.lines.iter().any(|l| !l.withholdings.is_empty() || l.tax_basis.is_some()) {
            return Err(ApiError::validation(
                "an advance withholds no tax: the taxes are withheld on the receipts of its accountability",
            ));
        }
    }
    let fiscal_year = p.fiscal_year.unwrap_or_else(|| today_wib().year());
    check_year(fiscal_year)?;
    // One payee with its lines, or many receipts each with its own: the same checks per receipt.
    let groups: Vec<(Payee, Option<String>, Vec<PaymentLineRequest>)> = match (p.payee, p.receipts) {
        (Some(payee), None) => vec![(payee, None, p.lines)],
        (None, Some(receipts)) if p.lines.is_empty() => {
            if receipts.is_empty() || receipts.len() > MAX_RECEIPTS {
                return Err(ApiError::validation(format!("a request has 1 to {MAX_RECEIPTS} receipts")));
            }
            if receipts.iter().map(|r| r.lines.len()).sum::<usize>() > MAX_RECEIPT_LINES_TOTAL {
                return Err(ApiError::validation(format!(
                    "a request's receipts have at most {MAX_RECEIPT_LINES_TOTAL} lines in all"
                )));
            }
            receipts.into_iter().map(|r| (r.payee, r.description, r.lines)).collect()
        }
        _ => {
            return Err(ApiError::validation(
                "give either payee and lines, or receipts (each with its payee and lines)",
            ))
        }
    };
    let many = groups.len() > 1 || groups.iter().any(|g| g.1.is_some());
    let tax_date = p.invoice_date.unwrap_or_else(today_wib);
    let regency = if groups.iter().flat_map(|g| &g.2).any(|l| l.tax_basis.is_some()) {
        regency_code(state, &village).await?
    } else {
        None
    };
    let mut lines = Vec::new();
    let mut receipts = Vec::new();
    let mut notes = Vec::new();
    let mut first_payee = None;
    for (r, (payee, receipt_description, receipt_lines)) in groups.into_iter().enumerate() {
        let at = |field: &str| if many { format!("receipts[{r}].{field}") } else { field.to_string() };
        let payee = check_payee(&payee).map_err(|mut e| {
            if many {
                e.detail = format!("receipts[{r}]: {}", e.detail);
            }
            e
        })?;
        if receipt_lines.is_empty() || receipt_lines.len() > MAX_PAYMENT_LINES {
            return Err(ApiError::validation(format!("{} has 1 to {MAX_PAYMENT_LINES} lines", at("lines"))));
        }
        let basis = LineBasis { payee_has_npwp: payee.npwp.is_some(), date: tax_date, regency: regency.as_deref() };
        let receipt_no = i32::try_from(r + 1).expect("bounded");
        let mut receipt_totals = Vec::new();
        for (i, l) in receipt_lines.into_iter().enumerate() {
            let (mut line, note) = payment_line(state, i, l, &basis).map_err(|mut e| {
                if many {
                    e.detail = format!("receipts[{r}]: {}", e.detail);
                }
                e
            })?;
            line.receipt_no = receipt_no;
            receipt_totals.push((line.amount.sen(), line.withholdings.iter().map(|w| w.1.sen()).collect()));
            lines.push(line);
            notes.extend(note);
        }
        totals(&receipt_totals).map_err(totals_error)?;
        let description = receipt_description
            .as_deref()
            .map(|d| Description::parse(&at("description"), d).map(Description::into_string))
            .transpose()?;
        if first_payee.is_none() {
            first_payee = Some(payee.clone());
        }
        if many {
            receipts.push(crate::store::NewReceipt {
                payee_name: payee.name,
                payee_bank_code: payee.bank_code,
                payee_account_number: payee.account_number,
                payee_npwp: payee.npwp,
                description,
            });
        }
    }
    let payee = first_payee.expect("at least one receipt");
    let t = totals(
        &lines.iter().map(|l| (l.amount.sen(), l.withholdings.iter().map(|w| w.1.sen()).collect())).collect::<Vec<_>>(),
    )
    .map_err(totals_error)?;
    let invoice_number = p
        .invoice_number
        .as_deref()
        .map(|n| BankReference::parse("invoice_number", n).map(BankReference::into_string))
        .transpose()?;
    let new = NewPayment {
        village_id: village.id.into(),
        kind,
        fiscal_year,
        activity_code: Some(p.activity_code),
        description,
        payee_name: payee.name,
        payee_bank_code: payee.bank_code,
        payee_account_number: payee.account_number,
        payee_npwp: payee.npwp,
        invoice_number,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
        invoice_date: p.invoice_date,
        billing_code: None,
        lines,
        receipts,
        totals: t,
        actor: actor(who),
    };
    Ok(new)
}

/// Changes what a draft or returned request asks for (implementer), with the same body and the same checks as a
/// draft: it is a draft again, keeps its number, and its trail says it was edited. Its kind, fiscal year and number
/// of receipts stay as drafted.
#[utoipa::path(put, path = "/api/v1/payments/{id}", tag = "payments", request_body = PaymentRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PaymentView), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "invalid_transition: no longer a draft or returned"),
        (status = 422, body = Problem)))]
pub async fn edit_payment(
    state: State,
    who: Principal,
    id: web::Path<String>,
    req: HttpRequest,
    body: Body<PaymentRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req, &who, &body.request_hash, false)?;
    let db = state.db.clone();
    let pid = id.to_string();
    let found = blocking(move || db.get_payment(&pid)).await?.ok_or_else(ApiError::not_found)?;
    let village = load_village(&state, found.payment.village_id.as_str()).await?;
    let written = edit_request(&state, &who, village, &id, key, body.value).await?;
    Ok(respond_written(&state, written, StatusCode::OK, |r| PaymentView::from(r)))
}

/// The edit of request `id` of `village` (as the caller found it; the write checks it again under the lock): the one
/// path for the API and the console.
pub async fn edit_request(
    state: &State,
    who: &Principal,
    village: VillageRow,
    id: &str,
    key: Option<crate::store::IdempotencyKey>,
    p: PaymentRequest,
) -> Result<crate::store::Written<crate::store::rows::PaymentRecord>, ApiError> {
    who.require(&village, &[Role::Implementer])?;
    let new = build_payment(state, who, village, p).await?;
    let db = state.db.clone();
    let id = id.to_string();
    let scope = who.clone();
    let in_scope = move |v: &crate::store::rows::VillageRow| scope.sees_village(v);
    blocking(move || db.edit_payment(&id, &in_scope, &new, key.as_ref(), &render_payment)).await
}

/// Draft a tax deposit request (implementer): withheld taxes paid to the state treasury through the same approval
/// chain; on `paid` it debits the tax liabilities and credits the bank account. Requires `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/villages/{id}/tax-deposits", tag = "payments", request_body = TaxDepositRequest,
    security(("bearer" = [])), params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    responses((status = 201, body = PaymentView), (status = 422, body = Problem)))]
pub async fn create_tax_deposit(
    state: State,
    who: Principal,
    id: web::Path<String>,
    req: HttpRequest,
    body: Body<TaxDepositRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req, &who, &body.request_hash, true)?;
    let written = draft_tax_deposit(&state, &who, &id, key, body.value).await?;
    Ok(respond_written(&state, written, StatusCode::CREATED, |r| PaymentView::from(r)))
}

/// Validates a tax deposit and drafts it: the one path for the API and the console's deposit form.
pub async fn draft_tax_deposit(
    state: &State,
    who: &Principal,
    village_id: &str,
    key: Option<crate::store::IdempotencyKey>,
    d: TaxDepositRequest,
) -> Result<crate::store::Written<crate::store::rows::PaymentRecord>, ApiError> {
    let village = load_village(state, village_id).await?;
    // The treasurer is the village's withholding agent: depositing what was withheld is the treasurer's duty.
    who.require(&village, &[Role::Treasurer])?;
    let fiscal_year = d.fiscal_year.unwrap_or_else(|| today_wib().year());
    check_year(fiscal_year)?;
    if d.lines.is_empty() || d.lines.len() > TAXES.len() {
        return Err(ApiError::validation("a tax deposit has one line per tax, at least one"));
    }
    let default_billing = d.billing_code.as_deref().map(|b| BillingCode::parse("billing_code", b)).transpose()?;
    let (lines, seen) = deposit_lines(d.lines, default_billing.as_ref())?;
    let (payee_name, payee_bank_code, payee_account_number) = deposit_payee(state, &village, &seen, &lines).await?;
    let description = match d.description.as_deref() {
        Some(text) => Description::parse("description", text)?.into_string(),
        None => format!("Setor pajak: {}", seen.iter().cloned().collect::<Vec<_>>().join(", ")),
    };
    let t = totals(&lines.iter().map(|l| (l.amount.sen(), vec![])).collect::<Vec<_>>()).map_err(totals_error)?;
    let billing_code = lines[0].billing_code.clone();
    let new = NewPayment {
        village_id: village.id.into(),
        kind: PaymentKind::TaxDeposit,
        fiscal_year,
        activity_code: None,
        description,
        payee_name,
        payee_bank_code,
        payee_account_number,
        payee_npwp: None,
        invoice_number: None,
        invoice_date: None,
        billing_code,
        lines,
        receipts: Vec::new(),
        totals: t,
        actor: actor(who),
        note: None,
    };
    let db = state.db.clone();
    blocking(move || db.create_payment(&new, key.as_ref(), &render_payment)).await
}

/// Line `i` of a request, checked: a spending account and a source of funds, its withholdings (proposed by the
/// calculator when it has a `tax_basis` and none of its own; the override noted when they differ).
fn payment_line(
    state: &State,
    i: usize,
    mut l: PaymentLineRequest,
    ctx: &LineBasis<'_>,
) -> Result<(NewPaymentLine, Option<String>), ApiError> {
    let amount = l.amount.money().map_err(|e| ApiError::amount(&format!("lines[{i}].amount"), e))?;
    let mut note = None;
    if let Some(basis) = l.tax_basis.take() {
        let proposed = propose_withholdings(state, &basis, ctx, amount)
            .map_err(|e| ApiError::validation(format!("lines[{i}].tax_basis: {e}")))?;
        if l.withholdings.is_empty() {
            l.withholdings = proposed
                .iter()
                .map(|(tax, sen)| WithholdingRequest {
                    tax: tax.to_string(),
                    amount: crate::domain::money::AmountInput(crate::domain::money::Money::from_sen(*sen)),
                })
                .collect();
        } else {
            let entered: Vec<(&str, i64)> =
                l.withholdings.iter().map(|w| (w.tax.as_str(), w.amount.money().map_or(-1, |m| m.sen()))).collect();
            note = crate::domain::tax::override_note(i, &proposed, &entered);
        }
    }
    if !is_valid_account_code(&l.account_code) || !is_spending(&l.account_code) {
        return Err(ApiError::validation(format!("lines[{i}].account_code must be a spending account (5.x or 6.2.x)")));
    }
    if !is_source(&l.source) {
        return Err(ApiError::validation(format!("lines[{i}].source is not a source of funds")));
    }
    if l.withholdings.len() > MAX_WITHHOLDINGS_PER_LINE {
        return Err(ApiError::validation(format!("lines[{i}] has more than {MAX_WITHHOLDINGS_PER_LINE} withholdings")));
    }
    let mut taxes = HashSet::new();
    let mut withholdings = Vec::new();
    for (j, w) in l.withholdings.into_iter().enumerate() {
        let a = w.amount.money().map_err(|e| ApiError::amount(&format!("lines[{i}].withholdings[{j}].amount"), e))?;
        if tax_account(&w.tax).is_none() {
            return Err(ApiError::validation(format!(
                "lines[{i}].withholdings[{j}].tax must be PPN, PPH21, PPH22, PPH23, PPH4_2 or PAJAK_DAERAH"
            )));
        }
        if !taxes.insert(w.tax.clone()) {
            return Err(ApiError::validation(format!("lines[{i}] withholds {} twice", w.tax)));
        }
        withholdings.push((w.tax, a));
    }
    let line = NewPaymentLine {
        account_code: l.account_code,
        source: Some(l.source),
        amount,
        withholdings,
        billing_code: None,
        receipt_no: 1,
    };
    Ok((line, note))
}

/// What a request's lines share for the tax calculator: whether the payee has an NPWP, the invoice's date and the
/// village's regency (for its own rates).
pub struct LineBasis<'a> {
    pub payee_has_npwp: bool,
    pub date: chrono::NaiveDate,
    pub regency: Option<&'a str>,
}

/// The code of the village's regency (its own tax rates are keyed by it).
pub async fn regency_code(state: &State, village: &VillageRow) -> Result<Option<String>, ApiError> {
    let db = state.db.clone();
    let rid = village.regency_id.clone();
    Ok(blocking(move || db.get_regency(&rid)).await?.map(|r| r.code))
}

/// The calculator's withholdings for a line (tax code, sen); a zero tax is left out. The API's drafting and the
/// console's "Hitung potongan pajak" both propose with this.
pub fn propose_withholdings(
    state: &State,
    basis: &TaxBasis,
    ctx: &LineBasis<'_>,
    amount: crate::domain::money::Money,
) -> Result<Vec<(&'static str, i64)>, crate::domain::tax::TaxError> {
    let purchase = crate::domain::tax::Purchase {
        date: ctx.date,
        regency: ctx.regency.map(str::to_string),
        kind: basis.kind,
        amount,
        includes_vat: basis.includes_vat,
        vendor_vat_registered: basis.vendor_vat_registered,
        vendor_has_npwp: basis.vendor_has_npwp.unwrap_or(ctx.payee_has_npwp),
        contractor_qualification: basis.contractor_qualification,
        exempt_goods: basis.exempt_goods,
    };
    let c = crate::domain::tax::calculate(&state.settings.tax, &purchase)?;
    Ok(c.withholdings.iter().filter(|w| w.amount > 0).map(|w| (w.tax, w.amount)).collect())
}

/// A deposit's lines: one per tax type, each with its billing code (or the deposit's); and the taxes it holds.
fn deposit_lines(
    lines: Vec<TaxDepositLineRequest>,
    default_billing: Option<&BillingCode>,
) -> Result<(Vec<NewPaymentLine>, std::collections::BTreeSet<String>), ApiError> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (i, l) in lines.into_iter().enumerate() {
        let amount = l.amount.money().map_err(|e| ApiError::amount(&format!("lines[{i}].amount"), e))?;
        let account = tax_account(&l.tax).ok_or_else(|| {
            ApiError::validation(format!("lines[{i}].tax must be PPN, PPH21, PPH22, PPH23, PPH4_2 or PAJAK_DAERAH"))
        })?;
        if !seen.insert(l.tax.clone()) {
            return Err(ApiError::validation(format!("{} appears twice: one line per tax type", l.tax)));
        }
        let billing = match l.billing_code.as_deref() {
            Some(b) => BillingCode::parse(&format!("lines[{i}].billing_code"), b)?,
            None => default_billing
                .cloned()
                .ok_or_else(|| ApiError::validation(format!("lines[{i}].billing_code is required")))?,
        };
        out.push(NewPaymentLine {
            account_code: account.into(),
            source: None,
            amount,
            withholdings: vec![],
            billing_code: Some(billing.into_string()),
            receipt_no: 1,
        });
    }
    Ok((out, seen))
}

/// Who a deposit pays: the regency's treasury for regional tax (never together with state taxes, and only once the
/// regency has one), the state treasury (MPN, under the first line's billing code) for the rest.
async fn deposit_payee(
    state: &State,
    village: &VillageRow,
    taxes: &std::collections::BTreeSet<String>,
    lines: &[NewPaymentLine],
) -> Result<(String, String, String), ApiError> {
    if !taxes.contains(REGIONAL_TAX) {
        let first = lines[0].billing_code.clone().unwrap_or_default();
        return Ok(("Kas Negara (MPN)".to_string(), "MPN".to_string(), first));
    }
    if taxes.len() > 1 {
        return Err(ApiError::validation(
            "regional tax (PAJAK_DAERAH) goes to the regency's treasury and state taxes to the state's: deposit them separately",
        ));
    }
    let db = state.db.clone();
    let rid = village.regency_id.clone();
    let regency = blocking(move || db.get_regency(&rid)).await?.ok_or_else(ApiError::internal)?;
    let t = regency.treasury().ok_or_else(|| {
        ApiError::validation("the regency has no treasury account for regional tax (PATCH /regencies/{id})")
    })?;
    Ok((t.name, t.bank_code, t.account_number))
}

/// The tax deposited to the regency's treasury instead of the state's.
const REGIONAL_TAX: &str = "PAJAK_DAERAH";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PaymentListQuery {
    pub status: Option<PaymentStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// The village's payment requests, oldest first, optionally by status.
#[utoipa::path(get, path = "/api/v1/villages/{id}/payments", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path), PaymentListQuery), responses((status = 200, body = PaymentPage)))]
pub async fn list_payments(
    state: State,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<PaymentListQuery>,
) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, READERS)?;
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let after = q.cursor.clone();
    if let Some(c) = &after {
        if uuid::Uuid::parse_str(c).is_err() {
            return Err(ApiError::validation("cursor is not one this server issued"));
        }
    }
    let db = state.db.clone();
    let status = q.status.map(|s| s.as_str());
    let mut rows = blocking(move || db.list_payments(&village.id, status, after.as_deref(), limit + 1)).await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.payment.id.clone())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(PaymentPage {
        items: rows.iter().map(PaymentView::from).collect(),
        next_cursor: next_cursor.map(String::from),
    }))
}

/// One request with its lines, events (the approval trail) and transfers.
#[utoipa::path(get, path = "/api/v1/payments/{id}", tag = "payments", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = PaymentView), (status = 404, body = Problem)))]
pub async fn get_payment(state: State, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let rec = blocking(move || db.get_payment(&id)).await?.ok_or_else(ApiError::not_found)?;
    let village = load_village(&state, &rec.payment.village_id).await?;
    who.require(&village, READERS)?;
    Ok(HttpResponse::Ok().json(PaymentView::from(&rec)))
}

/// The accountability (SPJ) of a paid advance (implementer): the receipts of what was spent (each its payee and
/// lines with withholdings) and the remainder returned; Σ net + returned = the advance (else `422`). Realises the
/// spending on its budget lines (`422 budget_exceeded` past what they have), posts the taxes owed and the return,
/// clears the advance → `accounted`.
#[utoipa::path(post, path = "/api/v1/payments/{id}/accountability", tag = "payments", request_body = AccountabilityRequest,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PaymentView), (status = 403, body = Problem), (status = 409, body = Problem),
        (status = 422, body = Problem)))]
pub async fn accountability(
    state: State,
    who: Principal,
    id: web::Path<String>,
    req: HttpRequest,
    body: Body<AccountabilityRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req, &who, &body.request_hash, false)?;
    let written = record_accountability(&state, &who, &id, body.value, key).await?;
    Ok(respond_written(&state, written, StatusCode::OK, |r| PaymentView::from(r)))
}

/// Pays an approved (or failed) request from cash in hand (treasurer): `422 cash_limit_exceeded` above the
/// regency's per-payment cash limit (or when the regency allows none), `422 insufficient_funds` when cash in hand
/// is short. Posts the disbursement (Cr 1.1.1.01) and realises the budget → `paid`.
#[utoipa::path(post, path = "/api/v1/payments/{id}/pay-cash", tag = "payments", request_body = Option<PayCashRequest>,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PaymentView),
        (status = 403, body = Problem, description = "forbidden (role) or separation_of_duties"),
        (status = 409, body = Problem, description = "invalid_transition"),
        (status = 422, body = Problem, description = "cash_limit_exceeded, insufficient_funds, validation_failed")))]
pub async fn pay_cash(
    state: State,
    who: Principal,
    id: web::Path<String>,
    req: HttpRequest,
    body: Body<PayCashRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(&req, &who, &body.request_hash, false)?;
    let PayCashRequest { value_date, note } = body.value;
    let paid_on = value_date.unwrap_or_else(today_wib);
    super::ledger::check_value_date(paid_on)?;
    let written = take_step(&state, &who, &id, Action::PayCash, note, Some(paid_on), key).await?;
    Ok(respond_written(&state, written, StatusCode::OK, |r| PaymentView::from(r)))
}

/// Records an advance's accountability (SPJ): the one path for the API and the console.
pub async fn record_accountability(
    state: &State,
    who: &Principal,
    id: &str,
    a: AccountabilityRequest,
    key: Option<crate::store::IdempotencyKey>,
) -> Result<crate::store::Written<crate::store::rows::PaymentRecord>, ApiError> {
    // Zero is a valid return (the advance was spent to the last rupiah); a negative one is not.
    let returned =
        crate::domain::money::Money::parse_balance(&a.returned).map_err(|e| ApiError::amount("returned", e))?;
    if returned < 0 {
        return Err(ApiError::validation("returned may not be negative"));
    }
    let value_date = a.value_date.unwrap_or_else(today_wib);
    super::ledger::check_value_date(value_date)?;
    if a.receipts.is_empty() || a.receipts.len() > MAX_RECEIPTS {
        return Err(ApiError::validation(format!("an accountability has 1 to {MAX_RECEIPTS} receipts")));
    }
    let mut receipts = Vec::with_capacity(a.receipts.len());
    for (r, x) in a.receipts.into_iter().enumerate() {
        let payee_name = crate::domain::text::Name::parse(&format!("receipts[{r}].payee"), &x.payee)?.into_string();
        let payee_npwp = x
            .npwp
            .as_deref()
            .map(|n| crate::domain::text::Npwp::parse(&format!("receipts[{r}].npwp"), n).map(|n| n.into_string()))
            .transpose()?;
        let description = x
            .description
            .as_deref()
            .map(|d| Description::parse(&format!("receipts[{r}].description"), d).map(Description::into_string))
            .transpose()?;
        if x.lines.is_empty() || x.lines.len() > MAX_PAYMENT_LINES {
            return Err(ApiError::validation(format!("receipts[{r}].lines has 1 to {MAX_PAYMENT_LINES} lines")));
        }
        let basis = LineBasis { payee_has_npwp: payee_npwp.is_some(), date: value_date, regency: None };
        let mut lines = Vec::with_capacity(x.lines.len());
        let mut figures = Vec::new();
        for (i, l) in x.lines.into_iter().enumerate() {
            let (line, _) = payment_line(state, i, l, &basis).map_err(|mut e| {
                e.detail = format!("receipts[{r}]: {}", e.detail);
                e
            })?;
            figures.push((line.amount.sen(), line.withholdings.iter().map(|w| w.1.sen()).collect()));
            lines.push(line);
        }
        totals(&figures).map_err(totals_error)?;
        receipts.push(crate::store::SpjReceipt { payee_name, payee_npwp, description, lines });
    }
    let db = state.db.clone();
    let actor = actor(who);
    let id = id.to_string();
    let scope = who.clone();
    let in_scope = move |v: &crate::store::rows::VillageRow| scope.sees_village(v);
    let written = blocking(move || {
        db.account_advance(&id, &in_scope, &actor, &receipts, returned, value_date, key.as_ref(), &render_payment)
    })
    .await?;
    Ok(written)
}

/// Takes one step of a request's chain. The one path for the API's transition endpoints and the web console.
/// With an Idempotency-Key a retried step is answered with the first answer instead of `409 invalid_transition`.
pub async fn take_step(
    state: &State,
    who: &Principal,
    id: &str,
    action: Action,
    note: Option<String>,
    paid_on: Option<chrono::NaiveDate>,
    key: Option<crate::store::IdempotencyKey>,
) -> Result<crate::store::Written<crate::store::rows::PaymentRecord>, ApiError> {
    // The day of the step: a cash payment's own date, else the office's day (a release is dated by it).
    let on = paid_on.unwrap_or_else(|| state.settings.clock.today());
    let note = note.as_deref().map(|n| Note::parse("note", n).map(Note::into_string)).transpose()?;
    if matches!(action, Action::Return | Action::Reject | Action::Cancel) && note.is_none() {
        return Err(ApiError::validation(format!("a note saying why is required to {}", action.as_str())));
    }
    let db = state.db.clone();
    let actor = actor(who);
    let id = id.to_string();
    // The scope check is made by the write, on the village it locks (a request outside the caller's scope is 404).
    let who = who.clone();
    let in_scope = move |v: &crate::store::rows::VillageRow| who.sees_village(v);
    blocking(move || {
        db.transition_payment(&id, &in_scope, action, &actor, note.as_deref(), on, key.as_ref(), &render_payment)
    })
    .await
}

macro_rules! action_handler {
    ($name:ident, $action:expr, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "payments", request_body = Option<TransitionRequest>,
                    security(("bearer" = [])), params(("id" = String, Path)),
                    responses((status = 200, body = PaymentView),
                        (status = 403, body = Problem, description = "forbidden (role) or separation_of_duties"),
                        (status = 409, body = Problem, description = "invalid_transition"),
                        (status = 422, body = Problem)))]
        pub async fn $name(
            state: State,
            who: Principal,
            id: web::Path<String>,
            req: HttpRequest,
            body: Body<TransitionRequest>,
        ) -> Result<HttpResponse, ApiError> {
            let key = idempotency_key(&req, &who, &body.request_hash, false)?;
            let written = take_step(&state, &who, &id, $action, body.value.note, None, key).await?;
            Ok(respond_written(&state, written, StatusCode::OK, |r| PaymentView::from(r)))
        }
    };
}

action_handler!(submit, Action::Submit, "/api/v1/payments/{id}/submit", "draft/returned → submitted (implementer).");
action_handler!(verify, Action::Verify, "/api/v1/payments/{id}/verify", "submitted → verified (secretary).");
action_handler!(
    return_,
    Action::Return,
    "/api/v1/payments/{id}/return",
    "submitted/verified → returned (secretary; note required)."
);
action_handler!(
    approve,
    Action::Approve,
    "/api/v1/payments/{id}/approve",
    "verified → approved (head): commits the budget (`422 budget_exceeded`)."
);
action_handler!(reject, Action::Reject, "/api/v1/payments/{id}/reject", "verified → rejected (head; note required).");
action_handler!(
    release,
    Action::Release,
    "/api/v1/payments/{id}/release",
    "approved/failed → released (treasurer): a transfer instruction for the net amount (`422 insufficient_funds`)."
);
action_handler!(
    cancel,
    Action::Cancel,
    "/api/v1/payments/{id}/cancel",
    "→ cancelled: implementer from draft/returned, head from approved/failed (releases the commitment; note required)."
);
