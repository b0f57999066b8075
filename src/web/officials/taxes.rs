//! The treasurer's tax deposit form (`/console/tax-deposits/new`): per tax, what the village withheld and still
//! owes, what deposits under way already hold, and what is left to deposit; the treasurer enters each tax's amount
//! (filled in with what is left) and its billing code, and the deposit (an SSP request) is drafted through the API's
//! own path (`http::payments::draft_tax_deposit`), then goes through the chain on its own page like any request.

use super::State;
use crate::domain::money::{AmountInput, Money};
use crate::domain::roles::Role;
use crate::http::auth::{random_token, Principal};
use crate::http::error::ApiError;
use crate::http::views::{TaxDepositLineRequest, TaxDepositRequest};
use crate::store::rows::VillageRow;
use crate::store::{IdempotencyKey, TaxOwed};
use crate::web::layout::error_alert;
use crate::web::session::{csrf_refused, to_login};
use crate::web::{api_error_page, blocking, i18n, money, normalise_amount, page, redirect, Ctx, Form};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

async fn owed(state: &State, village: &VillageRow) -> Result<Vec<TaxOwed>, ApiError> {
    let db = state.db.clone();
    let id = village.id.clone();
    blocking(move || db.taxes_owed(&id)).await
}

fn deposit_form(ctx: &Ctx, form: &Form, taxes: &[TaxOwed], errors: &[String], api_error: Option<&ApiError>) -> Markup {
    let Some(s) = &ctx.session else { return html! {} };
    let idem = match form.get("idem") {
        "" => random_token(18),
        k => k.to_string(),
    };
    let sent = !form.get("idem").is_empty();
    let owing: Vec<&TaxOwed> = taxes.iter().filter(|t| t.owed > 0 || t.pending > 0).collect();
    html! {
        h1 { (ctx.t("deposit_title")) }
        p { (ctx.t("deposit_intro")) }
        @if !errors.is_empty() {
            div.alert role="alert" #form-errors {
                p { strong { (ctx.t("form_errors")) } }
                ul { @for e in errors { li { (e) } } }
            }
        }
        @if let Some(e) = api_error { (error_alert(ctx, e)) }
        @if owing.is_empty() {
            p.notice role="status" #nothing-owed { (ctx.t("deposit_nothing")) }
        } @else {
            form.stack method="post" action="/console/tax-deposits" novalidate data-keep={"deposit-" (s.principal.id())}
                data-sending=(ctx.t("sending")) {
                input type="hidden" name="csrf" value=(s.csrf);
                input type="hidden" name="idem" value=(idem);
                @for t in &owing {
                    @let left = (t.owed - t.pending).max(0);
                    @let amount_name = format!("{}_amount", t.tax);
                    @let billing_name = format!("{}_billing", t.tax);
                    fieldset.line id={"tax-" (t.tax)} {
                        legend { (i18n::tax_name(t.tax)) " " small.mono { (t.account) } }
                        dl.grid {
                            dt { (ctx.t("deposit_owed")) } dd.num { (money(ctx.lang, t.owed)) }
                            dt { (ctx.t("deposit_pending")) } dd.num { (money(ctx.lang, t.pending)) }
                            dt { (ctx.t("deposit_left")) } dd.num { strong { (money(ctx.lang, left)) } }
                        }
                        div.row {
                            p { label for=(amount_name) { (ctx.t("deposit_amount")) " (Rp)" }
                                input id=(amount_name) type="text" name=(amount_name) inputmode="decimal" autocomplete="off"
                                    value=(if sent { form.get(&amount_name).to_string() } else if left > 0 { super::drafting::typed_amount(left) } else { String::new() }); }
                            p { label for=(billing_name) { (ctx.t("deposit_billing")) }
                                input id=(billing_name) type="text" name=(billing_name) inputmode="numeric" maxlength="15"
                                    autocomplete="off" value=(form.get(&billing_name)); }
                        }
                    }
                }
                p.actions { button.primary type="submit" { (ctx.t("deposit_save")) } }
            }
        }
    }
}

/// The deposit the form asks for, as the API's request: each tax with an amount, with its billing code.
fn read_form(ctx: &Ctx, form: &Form, taxes: &[TaxOwed]) -> Result<TaxDepositRequest, Vec<String>> {
    let mut errors = Vec::new();
    let mut lines = Vec::new();
    for t in taxes {
        let typed = form.trimmed(&format!("{}_amount", t.tax));
        let billing = form.trimmed(&format!("{}_billing", t.tax));
        if typed.is_empty() && billing.is_empty() {
            continue;
        }
        let name = i18n::tax_name(t.tax);
        let Some(amount) = normalise_amount(typed).and_then(|a| Money::parse(&a).ok()) else {
            errors.push(format!("{name}: {}", ctx.t("deposit_err_amount")));
            continue;
        };
        if billing.len() != 15 || !billing.chars().all(|c| c.is_ascii_digit()) {
            errors.push(format!("{name}: {}", ctx.t("deposit_err_billing")));
            continue;
        }
        lines.push(TaxDepositLineRequest {
            tax: t.tax.to_string(),
            amount: AmountInput(Ok(amount)),
            billing_code: Some(billing.to_string()),
        });
    }
    if lines.is_empty() && errors.is_empty() {
        errors.push(ctx.t("deposit_err_none").to_string());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(TaxDepositRequest { description: None, billing_code: None, lines, fiscal_year: None })
}

fn idempotency_key(form: &Form, who: &Principal, village_id: &str) -> IdempotencyKey {
    super::form_key(form, who, "console-ssp-", &format!("POST /api/v1/villages/{village_id}/tax-deposits (console)"))
}

async fn treasurer(req: &HttpRequest, ctx: &Ctx, state: &State) -> Result<(Principal, VillageRow), HttpResponse> {
    super::official_as(req, ctx, state, Role::Treasurer, "deposit_treasurer_only").await
}

pub async fn new_deposit(req: HttpRequest, state: State) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let (_, village) = match treasurer(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match owed(&state, &village).await {
        Ok(t) => {
            page(&ctx, StatusCode::OK, ctx.t("deposit_title"), deposit_form(&ctx, &Form::parse(b""), &t, &[], None))
        }
        Err(e) => api_error_page(&ctx, &e),
    }
}

pub async fn create_deposit(req: HttpRequest, state: State, body: web::Bytes) -> HttpResponse {
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
    let taxes = match owed(&state, &village).await {
        Ok(t) => t,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let again = |status: StatusCode, errors: &[String], e: Option<&ApiError>| {
        page(&ctx, status, ctx.t("deposit_title"), deposit_form(&ctx, &form, &taxes, errors, e))
    };
    let request = match read_form(&ctx, &form, &taxes) {
        Ok(r) => r,
        Err(errors) => return again(StatusCode::UNPROCESSABLE_ENTITY, &errors, None),
    };
    let idem = idempotency_key(&form, &who, &village.id);
    match crate::http::payments::draft_tax_deposit(&state, &who, &village.id, Some(idem), request).await {
        Ok(written) => redirect(&format!("/console/payments/{}?done=created", super::drafting::written_id(written))),
        Err(e) => {
            let status = StatusCode::from_u16(e.problem().status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            again(status, &[], Some(&e))
        }
    }
}
