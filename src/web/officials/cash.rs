//! The treasurer's cash page (`/console/cash`): a receipt of the village's own revenue (rent of the village hall,
//! market fees) into the bank account or cash in hand, a withdrawal from the bank into cash in hand, and cash paid
//! back into the bank; with the two balances and the regency's cash limit. Each is posted through the API's own
//! path (`http::ledger::post_manual_transaction`), so the console has exactly the API's rules (a receipt debits a
//! cash account, a transfer moves only between the two, cash in hand never above the limit nor below zero).

use super::State;
use crate::domain::accounts::{AccountClass, Side, BANK_ACCOUNT, CASH_IN_HAND, SOURCES};
use crate::domain::money::{AmountInput, Money};
use crate::domain::posting::TxnKind;
use crate::domain::roles::Role;
use crate::http::auth::{random_token, Principal};
use crate::http::error::ApiError;
use crate::http::views::{EntryRequest, TransactionRequest};
use crate::store::rows::{AccountRow, VillageRow};
use crate::store::{IdempotencyKey, Written};
use crate::web::layout::error_alert;
use crate::web::session::{csrf_refused, to_login};
use crate::web::{api_error_page, blocking, money, normalise_amount, page, redirect, Ctx, Form};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use maud::{html, Markup};

/// What the treasurer records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Movement {
    /// Own revenue received, into the bank account or cash in hand.
    Receipt,
    /// Bank → cash in hand.
    Withdrawal,
    /// Cash in hand → bank.
    Deposit,
}

impl Movement {
    fn parse(s: &str) -> Option<Movement> {
        match s {
            "receipt" => Some(Movement::Receipt),
            "withdrawal" => Some(Movement::Withdrawal),
            "deposit" => Some(Movement::Deposit),
            _ => None,
        }
    }
    const ALL: [(&'static str, &'static str); 3] =
        [("receipt", "cash_receipt"), ("withdrawal", "cash_withdrawal"), ("deposit", "cash_deposit")];
}

/// The village's revenue accounts (class 4) and its two cash balances.
struct Figures {
    revenue: Vec<(String, String)>,
    cash: i64,
    bank: i64,
    cash_limit: i64,
}

async fn figures(state: &State, village: &VillageRow) -> Result<Figures, ApiError> {
    let db = state.db.clone();
    let id = village.id.clone();
    let accounts: Vec<AccountRow> = blocking(move || db.accounts(&id)).await?;
    let balance = |code: &str| accounts.iter().find(|a| a.code == code).map_or(0, |a| a.balance);
    Ok(Figures {
        revenue: accounts
            .iter()
            .filter(|a| a.class == AccountClass::Revenue)
            .map(|a| (a.code.clone(), a.name.clone()))
            .collect(),
        cash: balance(CASH_IN_HAND),
        bank: balance(BANK_ACCOUNT),
        cash_limit: village.cash_limit,
    })
}

fn cash_form(ctx: &Ctx, form: &Form, f: &Figures, errors: &[String], api_error: Option<&ApiError>) -> Markup {
    let Some(s) = &ctx.session else { return html! {} };
    let idem = match form.get("idem") {
        "" => random_token(18),
        k => k.to_string(),
    };
    let chosen = Movement::parse(form.get("movement")).unwrap_or(Movement::Receipt);
    let date = match form.trimmed("value_date") {
        "" => crate::http::ledger::today_wib().format("%Y-%m-%d").to_string(),
        d => d.to_string(),
    };
    let into = match form.get("into") {
        "" => BANK_ACCOUNT,
        other => other,
    };
    let source = match form.get("source") {
        "" => "PAD",
        other => other,
    };
    html! {
        h1 { (ctx.t("cash_title")) }
        section aria-labelledby="cash-bal-h" {
            h2 #cash-bal-h { (ctx.t("balances")) }
            dl.grid {
                dt { (ctx.t("cash_bank")) } dd.num #bank-balance { (money(ctx.lang, f.bank)) }
                dt { (ctx.t("cash_in_hand")) } dd.num #cash-balance { (money(ctx.lang, f.cash)) }
                dt { (ctx.t("cash_limit")) } dd.num { (money(ctx.lang, f.cash_limit)) }
            }
        }
        p { a.button href="/console/tax-deposits/new" #deposit-link { (ctx.t("deposit_link")) } }
        @if let Some(seq) = ctx.q("done") {
            p.ok role="status" #cash-done { (ctx.t("cash_done")) " " (seq) ". " a href="/console/books" { (ctx.t("books")) } }
        }
        @if !errors.is_empty() {
            div.alert role="alert" #form-errors {
                p { strong { (ctx.t("form_errors")) } }
                ul { @for e in errors { li { (e) } } }
            }
        }
        @if let Some(e) = api_error { (error_alert(ctx, e)) }
        form.stack method="post" action="/console/cash" novalidate data-keep={"cash-" (s.principal.id())}
            data-sending=(ctx.t("sending")) {
            input type="hidden" name="csrf" value=(s.csrf);
            input type="hidden" name="idem" value=(idem);
            fieldset {
                legend { (ctx.t("cash_what")) }
                @for (value, label) in Movement::ALL {
                    label.choice {
                        input type="radio" name="movement" value=(value) checked[Movement::parse(value) == Some(chosen)];
                        " " (ctx.t(label))
                    }
                }
            }
            p { label for="value_date" { (ctx.t("col_date")) }
                input #value_date type="date" name="value_date" value=(date) required; }
            p { label for="amount" { (ctx.t("col_amount")) " (Rp)" }
                input #amount type="text" name="amount" inputmode="decimal" autocomplete="off" value=(form.get("amount")) required; }
            p { label for="description" { (ctx.t("description")) }
                input #description type="text" name="description" maxlength="500" value=(form.get("description")) required; }
            fieldset {
                legend { (ctx.t("cash_receipt_only")) }
                p { label for="account" { (ctx.t("cash_revenue_account")) }
                    select #account name="account" {
                        option value="" { (ctx.t("choose")) }
                        @for (code, name) in &f.revenue {
                            option value=(code) selected[code == form.get("account")] { (code) " — " (name) }
                        }
                    } }
                p { label for="into" { (ctx.t("cash_into")) }
                    select #into name="into" {
                        option value=(BANK_ACCOUNT) selected[into == BANK_ACCOUNT] { (ctx.t("cash_bank")) }
                        option value=(CASH_IN_HAND) selected[into == CASH_IN_HAND] { (ctx.t("cash_in_hand")) }
                    } }
                p { label for="source" { (ctx.t("col_source")) }
                    select #source name="source" {
                        @for (code, _) in SOURCES {
                            option value=(code) selected[*code == source] { (code) }
                        }
                    } }
                p { label for="bank_reference" { (ctx.t("cash_bank_reference")) }
                    input #bank_reference type="text" name="bank_reference" maxlength="64" value=(form.get("bank_reference")); }
            }
            p.actions { button.primary type="submit" { (ctx.t("cash_save")) } }
        }
    }
}

/// What the form asks to post, as the API's request, or what is wrong with it in plain words.
fn read_form(ctx: &Ctx, form: &Form) -> Result<TransactionRequest, Vec<String>> {
    let mut errors = Vec::new();
    let movement = Movement::parse(form.get("movement"));
    if movement.is_none() {
        errors.push(ctx.t("cash_err_what").to_string());
    }
    let value_date = form.trimmed("value_date").parse::<NaiveDate>().ok();
    if value_date.is_none() {
        errors.push(ctx.t("cash_err_date").to_string());
    }
    let amount = normalise_amount(form.get("amount")).and_then(|a| Money::parse(&a).ok());
    if amount.is_none() {
        errors.push(ctx.t("cash_err_amount").to_string());
    }
    let description = form.trimmed("description");
    if description.is_empty() {
        errors.push(ctx.t("cash_err_description").to_string());
    }
    let account = form.trimmed("account");
    if movement == Some(Movement::Receipt) && account.is_empty() {
        errors.push(ctx.t("cash_err_account").to_string());
    }
    let (Some(movement), Some(value_date), Some(amount)) = (movement, value_date, amount) else {
        return Err(errors);
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    let line = |code: &str, side: Side, source: Option<&str>| EntryRequest {
        account_code: code.to_string(),
        side,
        amount: AmountInput(Ok(amount)),
        activity_code: None,
        source: source.map(str::to_string),
    };
    let (kind, entries) = match movement {
        Movement::Receipt => {
            let into = if form.get("into") == CASH_IN_HAND { CASH_IN_HAND } else { BANK_ACCOUNT };
            let source = Some(form.trimmed("source")).filter(|s| !s.is_empty());
            (TxnKind::Receipt, vec![line(into, Side::Debit, None), line(account, Side::Credit, source)])
        }
        Movement::Withdrawal => {
            (TxnKind::Transfer, vec![line(CASH_IN_HAND, Side::Debit, None), line(BANK_ACCOUNT, Side::Credit, None)])
        }
        Movement::Deposit => {
            (TxnKind::Transfer, vec![line(BANK_ACCOUNT, Side::Debit, None), line(CASH_IN_HAND, Side::Credit, None)])
        }
    };
    Ok(TransactionRequest {
        kind,
        value_date,
        description: description.to_string(),
        entries,
        bank_reference: Some(form.trimmed("bank_reference")).filter(|r| !r.is_empty()).map(str::to_string),
    })
}

/// The form's key: sent twice (a double tap, a retry on a slow link), it posts once.
fn idempotency_key(form: &Form, who: &Principal, village_id: &str) -> IdempotencyKey {
    super::form_key(form, who, "console-cash-", &format!("POST /api/v1/villages/{village_id}/transactions (console)"))
}

/// The treasurer's page; other officials may not record cash (the API's rule) and are told so.
async fn treasurer(req: &HttpRequest, ctx: &Ctx, state: &State) -> Result<(Principal, VillageRow), HttpResponse> {
    super::official_as(req, ctx, state, Role::Treasurer, "cash_treasurer_only").await
}

pub async fn cash(req: HttpRequest, state: State) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let (_, village) = match treasurer(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match figures(&state, &village).await {
        Ok(f) => page(&ctx, StatusCode::OK, ctx.t("cash_title"), cash_form(&ctx, &Form::parse(b""), &f, &[], None)),
        Err(e) => api_error_page(&ctx, &e),
    }
}

pub async fn record_cash(req: HttpRequest, state: State, body: web::Bytes) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let form = Form::parse(&body);
    let (who, village) = match treasurer(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(s) = &ctx.session else { return to_login(&req) };
    if !s.csrf_ok(&form) {
        return csrf_refused(&ctx);
    }
    let f = match figures(&state, &village).await {
        Ok(f) => f,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let again = |status: StatusCode, errors: &[String], e: Option<&ApiError>| {
        page(&ctx, status, ctx.t("cash_title"), cash_form(&ctx, &form, &f, errors, e))
    };
    let request = match read_form(&ctx, &form) {
        Ok(r) => r,
        Err(errors) => return again(StatusCode::UNPROCESSABLE_ENTITY, &errors, None),
    };
    let idem = idempotency_key(&form, &who, &village.id);
    match crate::http::ledger::post_manual_transaction(&state, &who, village, Some(idem), request).await {
        Ok(Written::Fresh(r)) => redirect(&format!("/console/cash?done={}", r.txn.seq)),
        Ok(Written::Replay { body, .. }) => {
            let seq = serde_json::from_str::<serde_json::Value>(&body).ok().and_then(|v| v["seq"].as_i64());
            redirect(&format!("/console/cash?done={}", seq.unwrap_or_default()))
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.problem().status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            again(status, &[], Some(&e))
        }
    }
}
