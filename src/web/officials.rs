//! Pages of the village officials: the inbox of requests waiting for my step, a request with its figures, budget
//! line and trail (and the actions I may take), a new request, the budget with bars, balances and the cash book.

use super::i18n::{self};
use super::layout::{budget_bar, done_notice, error_alert, legend, report_table, status_badge};
use super::session::{csrf_refused, to_login};
use super::{api_error_page, blocking, error_page, money, normalise_amount, page, redirect, year_param, Ctx, Form};
use crate::domain::accounts::{class_of_code, AccountClass, SOURCES, TAXES};
use crate::domain::roles::Role;
use crate::domain::workflow::{transition, Action, PaymentStatus};
use crate::http::auth::{random_token, Principal, READERS};
use crate::http::error::ApiError;
use crate::http::views::PaymentRequest;
use crate::http::{load_village, payments, AppState};
use crate::store::rows::{BudgetPositionRow, PaymentRecord, VillageRow};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde_json::json;

type State = web::Data<AppState>;

/// The statuses in which a request waits for this role's step.
fn waiting_for(role: Role) -> &'static [&'static str] {
    match role {
        Role::Implementer => &["draft", "returned"],
        Role::Secretary => &["submitted"],
        Role::Head => &["verified"],
        Role::Treasurer => &["approved", "failed"],
        _ => &[],
    }
}

/// The signed-in village official and their village, or the answer to give instead.
async fn official(req: &HttpRequest, ctx: &Ctx, state: &State) -> Result<(Principal, VillageRow), HttpResponse> {
    let Some(s) = &ctx.session else { return Err(to_login(req)) };
    let p = s.principal.clone();
    if !p.role().is_village_role() {
        return Err(error_page(ctx, StatusCode::FORBIDDEN, ctx.t("error_title"), ctx.t("forbidden_page")));
    }
    let id = p.0.village_id.clone().unwrap_or_default();
    match load_village(state, &id).await {
        Ok(v) => Ok((p, v)),
        Err(e) => Err(api_error_page(ctx, &e)),
    }
}

fn payment_rows(ctx: &Ctx, rows: &[PaymentRecord], caption: &str) -> Markup {
    html! {
        @if rows.is_empty() {
            p { (ctx.t("none_yet")) }
        } @else {
            div.scroll role="region" aria-label=(caption) tabindex="0" {
                table.payments {
                    caption.vh { (caption) }
                    thead { tr {
                        th scope="col" { (ctx.t("col_date")) }
                        th scope="col" { (ctx.t("col_description")) }
                        th scope="col" { (ctx.t("col_payee")) }
                        th scope="col" class="num" { (ctx.t("col_net")) }
                        th scope="col" { (ctx.t("col_status")) }
                    } }
                    tbody {
                        @for r in rows {
                            @let p = &r.payment;
                            tr {
                                td { (p.created_at.format("%d-%m-%Y")) }
                                td { a href={"/console/payments/" (p.id)} { (p.description) } }
                                td { (p.payee_name) }
                                td.num { (money(ctx.lang, p.net)) }
                                td { (status_badge(ctx, &p.status)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub async fn inbox(req: HttpRequest, state: State) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let (who, village) = match official(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let statuses = waiting_for(who.role());
    let db = state.db.clone();
    let vid = village.id.clone();
    let loaded = blocking(move || {
        let mut waiting = Vec::new();
        for s in statuses {
            waiting.extend(db.list_payments(&vid, Some(s), None, 1000)?);
        }
        waiting.sort_by_key(|a| a.payment.created_at);
        let mut all = db.list_payments(&vid, None, None, 1000)?;
        all.reverse();
        all.truncate(50);
        Ok((waiting, all))
    })
    .await;
    let (waiting, all) = match loaded {
        Ok(x) => x,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let body = html! {
        h1 { (village.name) " — " (ctx.t("inbox")) }
        (done_notice(&ctx))
        section #waiting aria-labelledby="waiting-h" {
            h2 #waiting-h { (ctx.t("inbox_title")) " (" (waiting.len()) ")" }
            @if waiting.is_empty() { p.empty { (ctx.t("inbox_empty")) } }
            @else { (payment_rows(&ctx, &waiting, ctx.t("inbox_title"))) }
            @if who.role() == Role::Implementer {
                p { a.button.primary href="/console/payments/new" { (ctx.t("new_payment")) } }
            }
        }
        section #all aria-labelledby="all-h" {
            h2 #all-h { (ctx.t("all_requests")) }
            (payment_rows(&ctx, &all, ctx.t("all_requests")))
        }
    };
    page(&ctx, StatusCode::OK, ctx.t("inbox"), body)
}

fn action_of(s: &str) -> Option<Action> {
    Some(match s {
        "submit" => Action::Submit,
        "verify" => Action::Verify,
        "return" => Action::Return,
        "approve" => Action::Approve,
        "reject" => Action::Reject,
        "release" => Action::Release,
        "cancel" => Action::Cancel,
        _ => return None,
    })
}

const ACTIONS: [Action; 7] =
    [Action::Submit, Action::Verify, Action::Return, Action::Approve, Action::Reject, Action::Release, Action::Cancel];

fn needs_note(a: Action) -> bool {
    matches!(a, Action::Return | Action::Reject | Action::Cancel)
}

pub async fn payment(req: HttpRequest, state: State, path: web::Path<String>) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    if ctx.session.is_none() {
        return to_login(&req);
    }
    render_payment(&ctx, &state, &path.into_inner(), None).await
}

/// Loads what the payment page shows; `None` when the request does not exist or is outside the caller's scope.
async fn load_payment(
    state: &State,
    who: &Principal,
    id: &str,
) -> Result<(PaymentRecord, VillageRow, Vec<BudgetPositionRow>), ApiError> {
    let db = state.db.clone();
    let pid = id.to_string();
    let rec = blocking(move || db.get_payment(&pid)).await?.ok_or_else(ApiError::not_found)?;
    let village = load_village(state, &rec.payment.village_id).await?;
    if !who.sees_village(&village) || !READERS.contains(&who.role()) {
        return Err(ApiError::not_found());
    }
    let db = state.db.clone();
    let (vid, year) = (village.id.clone(), rec.payment.fiscal_year);
    let positions = blocking(move || db.get_budget(&vid, year)).await?.map(|b| b.positions).unwrap_or_default();
    Ok((rec, village, positions))
}

async fn render_payment(ctx: &Ctx, state: &State, id: &str, error: Option<(ApiError, Action)>) -> HttpResponse {
    let Some(s) = &ctx.session else { return error_page(ctx, StatusCode::UNAUTHORIZED, "", "") };
    let who = &s.principal;
    let (rec, village, positions) = match load_payment(state, who, id).await {
        Ok(x) => x,
        Err(e) => return api_error_page(ctx, &e),
    };
    let p = &rec.payment;
    let status = PaymentStatus::parse(&p.status);
    let allowed: Vec<Action> = match status {
        Some(st) if who.role().is_village_role() => {
            ACTIONS.iter().copied().filter(|a| transition(st, *a, who.role()).is_ok()).collect()
        }
        _ => vec![],
    };
    let activity = p.activity_code.clone().unwrap_or_default();
    let http_status =
        error.as_ref().and_then(|(e, _)| StatusCode::from_u16(e.problem().status).ok()).unwrap_or(StatusCode::OK);
    let back = if who.role() == Role::Inspector {
        format!("/console/villages/{}", village.id)
    } else {
        "/console/inbox".into()
    };
    let body = html! {
        p { a href=(back) { "← " (ctx.t("back")) } }
        h1 { (ctx.t("payment_title")) ": " (p.description) }
        (done_notice(ctx))
        @if let Some((e, _)) = &error { (error_alert(ctx, e)) }
        section.card aria-labelledby="fig-h" {
            h2 #fig-h { (ctx.t("figures")) }
            dl.grid {
                dt { (ctx.t("col_status")) } dd #payment-status data-status=(p.status) { (status_badge(ctx, &p.status)) }
                dt { (ctx.t("col_gross")) } dd { (money(ctx.lang, p.gross)) }
                dt { (ctx.t("col_withheld")) } dd { (money(ctx.lang, p.withheld)) }
                dt { (ctx.t("col_net")) } dd { strong { (money(ctx.lang, p.net)) } }
                dt { (ctx.t("payee")) } dd { (p.payee_name) }
                dt { (ctx.t("bank")) " / " (ctx.t("account_no")) } dd.mono { (p.payee_bank_code) " / " (p.payee_account_number) }
                @if let Some(n) = &p.payee_npwp { dt { "NPWP" } dd.mono { (n) } }
                @if let Some(i) = &p.invoice_number {
                    dt { (ctx.t("invoice")) } dd { (i) @if let Some(d) = p.invoice_date { " · " (d.format("%d-%m-%Y")) } }
                }
                dt { (ctx.t("activity")) } dd.mono { (activity) }
                dt { (ctx.t("fiscal_year")) } dd { (p.fiscal_year) }
                dt { (ctx.t("col_village")) } dd { (village.name) }
            }
        }
        section aria-labelledby="lines-h" {
            h2 #lines-h { (ctx.t("lines")) }
            div.scroll role="region" aria-labelledby="lines-h" tabindex="0" {
                table {
                    thead { tr {
                        th scope="col" { (ctx.t("col_account")) }
                        th scope="col" { (ctx.t("col_source")) }
                        th scope="col" class="num" { (ctx.t("col_amount")) }
                        th scope="col" { (ctx.t("withholding")) }
                        th scope="col" { (ctx.t("budget_remaining")) }
                    } }
                    tbody {
                        @for l in &rec.lines {
                            @let source = l.source.clone().unwrap_or_default();
                            @let pos = positions.iter().find(|b| b.account_code == l.account_code && b.source == source
                                && (b.activity_code == activity || p.kind != "spp"));
                            tr {
                                td.mono { (l.account_code) }
                                td { (source) }
                                td.num { (money(ctx.lang, l.amount)) }
                                td {
                                    @for w in rec.withholdings.iter().filter(|w| w.line_no == l.line_no) {
                                        span.tag { (w.tax) " " (money(ctx.lang, w.amount)) } " "
                                    }
                                }
                                td {
                                    @if let Some(b) = pos {
                                        (money(ctx.lang, b.ceiling - b.committed - b.realised)) " / " (money(ctx.lang, b.ceiling))
                                        (budget_bar(ctx, b.ceiling, b.committed, b.realised))
                                    } @else if p.kind == "spp" {
                                        (ctx.t("no_budget_line"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section.card aria-labelledby="act-h" {
            h2 #act-h { (ctx.t("actions")) }
            @if allowed.is_empty() { p { (ctx.t("no_actions")) } }
            div.actions {
                @for a in &allowed {
                    form.action method="post" action={"/console/payments/" (p.id) "/" (a.as_str())} {
                        input type="hidden" name="csrf" value=(s.csrf);
                        @if needs_note(*a) {
                            @let fid = format!("note-{}", a.as_str());
                            label for=(fid) { (ctx.t("col_note")) " (" (i18n::action(ctx.lang, a.as_str())) ")" }
                            textarea id=(fid) name="note" rows="2" maxlength="500" required {}
                        }
                        button type="submit" class={ @if needs_note(*a) { "danger" } @else { "primary" } } name="go" value=(a.as_str()) {
                            (i18n::action(ctx.lang, a.as_str()))
                        }
                    }
                }
            }
        }
        section aria-labelledby="trail-h" {
            h2 #trail-h { (ctx.t("trail")) }
            ol.trail {
                @for e in &rec.events {
                    li {
                        strong { (i18n::action(ctx.lang, &e.action)) }
                        " — " (e.actor_name) " (" (i18n::role(ctx.lang, &e.role)) "), "
                        time datetime=(e.at.and_utc().to_rfc3339()) { (e.at.format("%d-%m-%Y %H:%M UTC")) }
                        " → " (status_badge(ctx, &e.to_status))
                        @if let Some(n) = &e.note { br; em { (n) } }
                    }
                }
            }
            p.downloads {
                a.button href={"/console/download?report=trail&payment=" (p.id) "&format=csv"} download { (ctx.t("download_trail")) " CSV" }
                " "
                a.button href={"/console/download?report=trail&payment=" (p.id) "&format=xlsx"} download { (ctx.t("download_trail")) " XLSX" }
            }
        }
        @if !rec.transfers.is_empty() {
            section aria-labelledby="tr-h" {
                h2 #tr-h { (ctx.t("transfers")) }
                ul {
                    @for t in &rec.transfers {
                        li { "#" (t.attempt) " · " (money(ctx.lang, t.amount)) " · " (t.status)
                            @if let Some(r) = &t.bank_reference { " · " span.mono { (r) } }
                            @if let Some(r) = &t.reason { " · " (r) } }
                    }
                }
            }
        }
    };
    page(ctx, http_status, ctx.t("payment_title"), body)
}

pub async fn act(req: HttpRequest, state: State, path: web::Path<(String, String)>, body: web::Bytes) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let form = Form::parse(&body);
    let Some(s) = &ctx.session else { return to_login(&req) };
    if !s.csrf_ok(&form) {
        return csrf_refused(&ctx);
    }
    let (id, action) = path.into_inner();
    let Some(a) = action_of(&action) else {
        return error_page(&ctx, StatusCode::NOT_FOUND, ctx.t("not_found_title"), ctx.t("not_found_text"));
    };
    let note = Some(form.trimmed("note").to_string()).filter(|n| !n.is_empty());
    if needs_note(a) && note.is_none() {
        let e = ApiError::validation(format!("a note saying why is required to {}", a.as_str()));
        return render_payment(&ctx, &state, &id, Some((e, a))).await;
    }
    let who = s.principal.clone();
    // The API's own path: the same checks, separation of duties, budget and funds rules, and errors.
    let result = payments::take_step(&state, &who, &id, a, note, None).await;
    match result {
        Ok(_) => redirect(&format!("/console/payments/{id}?done={}", a.as_str())),
        Err(e) => render_payment(&ctx, &state, &id, Some((e, a))).await,
    }
}

/// The choices the new-request form offers: from the adopted budget of the year and the village's chart.
struct Choices {
    activities: Vec<(String, String)>,
    accounts: Vec<(String, String)>,
    has_budget: bool,
}

async fn choices(state: &State, village: &VillageRow, year: i32) -> Result<Choices, ApiError> {
    let db = state.db.clone();
    let vid = village.id.clone();
    let (budget, chart) = blocking(move || Ok((db.get_budget(&vid, year)?, db.accounts(&vid)?))).await?;
    let positions = budget.map(|b| b.positions).unwrap_or_default();
    let spending = |code: &str| {
        matches!(class_of_code(code), Some(AccountClass::Expenditure | AccountClass::FinancingExpenditure))
    };
    let mut activities: Vec<(String, String)> = Vec::new();
    let mut accounts: Vec<(String, String)> = Vec::new();
    for p in positions.iter().filter(|p| spending(&p.account_code)) {
        if !activities.iter().any(|(c, _)| *c == p.activity_code) {
            activities.push((p.activity_code.clone(), p.activity_name.clone().unwrap_or_default()));
        }
        if !accounts.iter().any(|(c, _)| *c == p.account_code) {
            let name = chart.iter().find(|a| a.code == p.account_code).map(|a| a.name.clone()).unwrap_or_default();
            accounts.push((p.account_code.clone(), name));
        }
    }
    let has_budget = !positions.is_empty();
    if !has_budget {
        accounts = chart.iter().filter(|a| spending(&a.code)).map(|a| (a.code.clone(), a.name.clone())).collect();
    }
    activities.sort();
    accounts.sort();
    Ok(Choices { activities, accounts, has_budget })
}

const FORM_LINES: usize = 3;
const FORM_TAXES: usize = 2;

fn select(
    id: &str,
    name: &str,
    options: &[(String, String)],
    chosen: &str,
    placeholder: &str,
    required: bool,
) -> Markup {
    html! {
        select id=(id) name=(name) required[required] {
            option value="" { (placeholder) }
            @for (v, label) in options {
                option value=(v) selected[v == chosen] { (v) @if !label.is_empty() { " — " (label) } }
            }
        }
    }
}

fn new_form(
    ctx: &Ctx,
    form: &Form,
    ch: &Choices,
    year: i32,
    errors: &[String],
    api_error: Option<&ApiError>,
) -> Markup {
    let Some(s) = &ctx.session else { return html! {} };
    let idem = match form.get("idem") {
        "" => random_token(18),
        k => k.to_string(),
    };
    let sources: Vec<(String, String)> = SOURCES.iter().map(|(s, _)| ((*s).to_string(), String::new())).collect();
    let taxes: Vec<(String, String)> = TAXES.iter().map(|(t, _)| ((*t).to_string(), String::new())).collect();
    let v = |name: &str| form.get(name).to_string();
    html! {
        h1 { (ctx.t("new_title")) }
        p { (ctx.t("new_intro")) }
        @if !ch.has_budget { p.notice role="status" { (ctx.t("no_budget")) } }
        @if !errors.is_empty() {
            div.alert role="alert" #form-errors {
                p { strong { (ctx.t("form_errors")) } }
                ul { @for e in errors { li { (e) } } }
            }
        }
        @if let Some(e) = api_error { (error_alert(ctx, e)) }
        form.stack method="post" action="/console/payments" novalidate {
            input type="hidden" name="csrf" value=(s.csrf);
            input type="hidden" name="idem" value=(idem);
            fieldset {
                legend { (ctx.t("request_section")) }
                p { label for="description" { (ctx.t("description")) }
                    input #description type="text" name="description" value=(v("description")) maxlength="500" required; }
                div.row {
                    p { label for="fiscal_year" { (ctx.t("fiscal_year")) }
                        input #fiscal_year type="number" name="fiscal_year" value=(form.get("fiscal_year").parse::<i32>().unwrap_or(year)) min="2000" max="2100" required; }
                    p { label for="activity_code" { (ctx.t("activity")) }
                        @if ch.activities.is_empty() {
                            input #activity_code type="text" name="activity_code" value=(v("activity_code")) placeholder="02.03.10" required;
                        } @else {
                            (select("activity_code", "activity_code", &ch.activities, form.get("activity_code"), ctx.t("choose"), true))
                        }
                    }
                }
            }
            fieldset {
                legend { (ctx.t("payee")) }
                p { label for="payee_name" { (ctx.t("payee_name")) }
                    input #payee_name type="text" name="payee_name" value=(v("payee_name")) maxlength="200" required autocomplete="off"; }
                div.row {
                    p { label for="bank_code" { (ctx.t("bank_code")) }
                        input #bank_code type="text" name="bank_code" value=(v("bank_code")) maxlength="11" required inputmode="text"; }
                    p { label for="account_number" { (ctx.t("account_no")) }
                        input #account_number type="text" name="account_number" value=(v("account_number")) maxlength="20" required inputmode="numeric"; }
                }
                div.row {
                    p { label for="npwp" { (ctx.t("npwp")) }
                        input #npwp type="text" name="npwp" value=(v("npwp")) maxlength="25"; }
                    p { label for="invoice_number" { (ctx.t("invoice_number")) }
                        input #invoice_number type="text" name="invoice_number" value=(v("invoice_number")) maxlength="100"; }
                    p { label for="invoice_date" { (ctx.t("invoice_date")) }
                        input #invoice_date type="date" name="invoice_date" value=(v("invoice_date")); }
                }
            }
            @for i in 0..FORM_LINES {
                fieldset.line {
                    legend { (ctx.t("line_n")) " " (i + 1) }
                    div.row {
                        p { label for={"l" (i) "_account"} { (ctx.t("col_account")) }
                            (select(&format!("l{i}_account"), &format!("l{i}_account"), &ch.accounts, form.get(&format!("l{i}_account")), ctx.t("choose"), false)) }
                        p { label for={"l" (i) "_source"} { (ctx.t("col_source")) }
                            (select(&format!("l{i}_source"), &format!("l{i}_source"), &sources, form.get(&format!("l{i}_source")), ctx.t("choose"), false)) }
                        p { label for={"l" (i) "_amount"} { (ctx.t("col_amount")) " (Rp)" }
                            input id={"l" (i) "_amount"} type="text" name={"l" (i) "_amount"} value=(v(&format!("l{i}_amount"))) inputmode="decimal" autocomplete="off"; }
                    }
                    @for j in 0..FORM_TAXES {
                        div.row.tax {
                            p { label for={"l" (i) "_tax" (j)} { (ctx.t("withholding")) " " (j + 1) }
                                (select(&format!("l{i}_tax{j}"), &format!("l{i}_tax{j}"), &taxes, form.get(&format!("l{i}_tax{j}")), ctx.t("tax_none"), false)) }
                            p { label for={"l" (i) "_tax" (j) "_amount"} { (ctx.t("col_amount")) " " (ctx.t("col_tax")) " " (j + 1) " (Rp)" }
                                input id={"l" (i) "_tax" (j) "_amount"} type="text" name={"l" (i) "_tax" (j) "_amount"} value=(v(&format!("l{i}_tax{j}_amount"))) inputmode="decimal" autocomplete="off"; }
                        }
                    }
                }
            }
            p { button.primary type="submit" { (ctx.t("save_draft")) } }
        }
    }
}

pub async fn new_payment(req: HttpRequest, state: State) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let (who, village) = match official(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if who.role() != Role::Implementer {
        return error_page(&ctx, StatusCode::FORBIDDEN, ctx.t("error_title"), ctx.t("forbidden_page"));
    }
    let year = year_param(&ctx);
    let ch = match choices(&state, &village, year).await {
        Ok(c) => c,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let body = new_form(&ctx, &Form::parse(b""), &ch, year, &[], None);
    page(&ctx, StatusCode::OK, ctx.t("new_title"), body)
}

/// Reads the form into the API's request body, with plain-language messages for what a person can get wrong.
fn read_form(ctx: &Ctx, form: &Form) -> Result<serde_json::Value, Vec<String>> {
    let mut errors = Vec::new();
    let required = |errors: &mut Vec<String>, name: &str, label: &str| {
        if form.trimmed(name).is_empty() {
            errors.push(format!("{label}: {}", ctx.t("err_required")));
        }
    };
    required(&mut errors, "description", ctx.t("description"));
    required(&mut errors, "activity_code", ctx.t("activity"));
    required(&mut errors, "payee_name", ctx.t("payee_name"));
    required(&mut errors, "bank_code", ctx.t("bank_code"));
    required(&mut errors, "account_number", ctx.t("account_no"));
    let year = form.trimmed("fiscal_year");
    let fiscal_year = match year.parse::<i32>() {
        Ok(y) => Some(y),
        Err(_) if year.is_empty() => None,
        Err(_) => {
            errors.push(format!("{}: {}", ctx.t("fiscal_year"), ctx.t("err_year")));
            None
        }
    };
    let invoice_date = form.trimmed("invoice_date");
    if !invoice_date.is_empty() && chrono::NaiveDate::parse_from_str(invoice_date, "%Y-%m-%d").is_err() {
        errors.push(format!("{}: {}", ctx.t("invoice_date"), ctx.t("err_date")));
    }
    let mut lines = Vec::new();
    for i in 0..FORM_LINES {
        let label = format!("{} {}", ctx.t("line_n"), i + 1);
        let account = form.trimmed(&format!("l{i}_account"));
        let source = form.trimmed(&format!("l{i}_source"));
        let amount = form.trimmed(&format!("l{i}_amount"));
        let taxes: Vec<(&str, &str)> = (0..FORM_TAXES)
            .map(|j| (form.trimmed(&format!("l{i}_tax{j}")), form.trimmed(&format!("l{i}_tax{j}_amount"))))
            .collect();
        let touched =
            !account.is_empty() || !amount.is_empty() || taxes.iter().any(|(t, a)| !t.is_empty() || !a.is_empty());
        if !touched {
            continue;
        }
        if account.is_empty() || source.is_empty() || amount.is_empty() {
            errors.push(format!("{label} {}", ctx.t("err_line_incomplete")));
            continue;
        }
        let Some(amount) = normalise_amount(amount) else {
            errors.push(format!("{label}, {}: «{}» {}", ctx.t("col_amount"), truncate(amount), ctx.t("err_amount")));
            continue;
        };
        let mut withholdings = Vec::new();
        for (j, (tax, a)) in taxes.iter().enumerate() {
            let wlabel = format!("{label}, {} {}", ctx.t("withholding"), j + 1);
            match (tax.is_empty(), a.is_empty()) {
                (true, true) => {}
                (true, false) => errors.push(format!("{wlabel}: {} {}", ctx.t("col_tax"), ctx.t("err_required"))),
                (false, true) => errors.push(format!("{wlabel}: {} {}", ctx.t("col_amount"), ctx.t("err_required"))),
                (false, false) => match normalise_amount(a) {
                    Some(a) => withholdings.push(json!({"tax": tax, "amount": a})),
                    None => errors.push(format!("{wlabel}: «{}» {}", truncate(a), ctx.t("err_amount"))),
                },
            }
        }
        lines.push(json!({"account_code": account, "source": source, "amount": amount, "withholdings": withholdings}));
    }
    if lines.is_empty() && errors.iter().all(|e| !e.contains(ctx.t("line_n"))) {
        errors.push(ctx.t("err_no_lines").to_string());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let opt = |name: &str| Some(form.trimmed(name)).filter(|v| !v.is_empty());
    let mut payee = json!({"name": form.trimmed("payee_name"), "bank_code": form.trimmed("bank_code"),
        "account_number": form.trimmed("account_number")});
    if let Some(n) = opt("npwp") {
        payee["npwp"] = json!(n);
    }
    let mut body = json!({"activity_code": form.trimmed("activity_code"), "description": form.trimmed("description"),
        "payee": payee, "lines": lines});
    if let Some(y) = fiscal_year {
        body["fiscal_year"] = json!(y);
    }
    if let Some(n) = opt("invoice_number") {
        body["invoice_number"] = json!(n);
    }
    if let Some(d) = opt("invoice_date") {
        body["invoice_date"] = json!(d);
    }
    Ok(body)
}

fn truncate(s: &str) -> String {
    s.chars().take(30).collect()
}

pub async fn create_payment(req: HttpRequest, state: State, body: web::Bytes) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let form = Form::parse(&body);
    let (who, village) = match official(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(s) = &ctx.session else { return to_login(&req) };
    if !s.csrf_ok(&form) {
        return csrf_refused(&ctx);
    }
    if who.role() != Role::Implementer {
        return error_page(&ctx, StatusCode::FORBIDDEN, ctx.t("error_title"), ctx.t("forbidden_page"));
    }
    let year = form
        .trimmed("fiscal_year")
        .parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or_else(|| year_param(&ctx));
    let ch = match choices(&state, &village, year).await {
        Ok(c) => c,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let again = |status: StatusCode, errors: &[String], e: Option<&ApiError>| {
        page(&ctx, status, ctx.t("new_title"), new_form(&ctx, &form, &ch, year, errors, e))
    };
    let json_body = match read_form(&ctx, &form) {
        Ok(b) => b,
        Err(errors) => return again(StatusCode::UNPROCESSABLE_ENTITY, &errors, None),
    };
    // The API's handler does the validation, the idempotency (the form's key: sending it twice makes one request)
    // and the write, so the console has exactly the API's rules.
    let path = format!("/api/v1/villages/{}/payments", village.id);
    let bytes = serde_json::to_vec(&json_body).unwrap_or_default();
    let parsed = crate::http::parse_body::<PaymentRequest>(&format!("POST {path}"), &bytes);
    let body = match parsed {
        Ok(b) => b,
        Err(e) => return again(StatusCode::UNPROCESSABLE_ENTITY, &[], Some(&e)),
    };
    let key = form.trimmed("idem");
    let key = if key.is_empty() || key.len() > 100 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        random_token(18)
    } else {
        format!("console-{key}")
    };
    let idem =
        crate::store::IdempotencyKey { principal: who.id().to_string(), key, request_hash: body.request_hash.clone() };
    match payments::draft_payment(&state, &who, &village.id, Some(idem), body.value).await {
        Ok(written) => {
            let id = match written {
                crate::store::Written::Fresh(rec) => rec.payment.id,
                crate::store::Written::Replay { body, .. } => serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["id"].as_str().map(str::to_string))
                    .unwrap_or_default(),
            };
            if id.is_empty() {
                return redirect("/console/inbox");
            }
            redirect(&format!("/console/payments/{id}?done=created"))
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.problem().status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            again(status, &[], Some(&e))
        }
    }
}

fn year_form(ctx: &Ctx, action: &str, year: i32) -> Markup {
    html! {
        form.inline.year method="get" action=(action) {
            label for="year" { (ctx.t("year")) }
            input #year type="number" name="year" value=(year) min="2000" max="2100";
            button type="submit" { (ctx.t("show")) }
        }
    }
}

pub async fn budget(req: HttpRequest, state: State) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let (_, village) = match official(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let year = year_param(&ctx);
    let db = state.db.clone();
    let vid = village.id.clone();
    let budget = match blocking(move || db.get_budget(&vid, year)).await {
        Ok(b) => b,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let body = html! {
        h1 { (ctx.t("budget_title")) " " (year) " — " (village.name) }
        (year_form(&ctx, "/console/budget", year))
        @match &budget {
            None => p.notice role="status" { (ctx.t("no_budget")) },
            Some(b) => {
                p { (ctx.t("budget_status")) ": " strong { (b.current.status) } " · " (ctx.t("version")) " " (b.current.version) }
                (legend(&ctx))
                (budget_table(&ctx, &b.positions))
            }
        }
    };
    page(&ctx, StatusCode::OK, ctx.t("budget_title"), body)
}

pub fn budget_table(ctx: &Ctx, positions: &[BudgetPositionRow]) -> Markup {
    html! {
        div.scroll role="region" aria-label=(ctx.t("budget_title")) tabindex="0" {
            table.budget {
                caption { (ctx.t("budget_title")) }
                thead { tr {
                    th scope="col" { (ctx.t("col_account")) " · " (ctx.t("col_activity")) " · " (ctx.t("col_source")) }
                    th scope="col" class="num" { (ctx.t("col_ceiling")) }
                    th scope="col" class="num" { (ctx.t("col_committed")) }
                    th scope="col" class="num" { (ctx.t("col_realised")) }
                    th scope="col" class="num" { (ctx.t("col_available")) }
                } }
                tbody {
                    @for p in positions {
                        tr {
                            th scope="row" {
                                span.mono { (p.account_code) } " · " span.mono { (p.activity_code) } " · " (p.source)
                                @if let Some(n) = &p.activity_name { br; small { (n) } }
                                (budget_bar(ctx, p.ceiling, p.committed, p.realised))
                            }
                            td.num { (money(ctx.lang, p.ceiling)) }
                            td.num { (money(ctx.lang, p.committed)) }
                            td.num { (money(ctx.lang, p.realised)) }
                            td.num { strong { (money(ctx.lang, p.ceiling - p.committed - p.realised)) } }
                        }
                    }
                }
            }
        }
    }
}

/// Balances, the cash book and the download buttons of a village (officials: their own; inspectors: any of the
/// regency's, from `inspector::village`).
pub async fn village_books(ctx: &Ctx, state: &State, village: &VillageRow, year: i32) -> Result<Markup, ApiError> {
    let db = state.db.clone();
    let v = village.clone();
    let (accounts, cash_book) = blocking(move || {
        let period =
            crate::reports::village::Period::new(year, None, None).map_err(crate::store::StoreError::Validation)?;
        Ok((db.accounts(&v.id)?, crate::reports::village::cash_book(&db, &v, &period)?))
    })
    .await?;
    let dl = |report: &str, label: &'static str| {
        html! {
            li {
                (ctx.t(label)) ": "
                a.button href={"/console/download?report=" (report) "&village=" (village.id) "&year=" (year) "&format=csv"} download { "CSV" }
                " "
                a.button href={"/console/download?report=" (report) "&village=" (village.id) "&year=" (year) "&format=xlsx"} download { "XLSX" }
            }
        }
    };
    Ok(html! {
        section aria-labelledby="bal-h" {
            h2 #bal-h { (ctx.t("balances")) }
            div.scroll role="region" aria-labelledby="bal-h" tabindex="0" {
                table {
                    thead { tr { th scope="col" { (ctx.t("col_account")) } th scope="col" class="num" { (ctx.t("col_balance")) } } }
                    tbody {
                        @for a in accounts.iter().filter(|a| a.balance != 0) {
                            tr {
                                th scope="row" { span.mono { (a.code) } " " (a.name) }
                                td.num { (money(ctx.lang, if a.normal_side == "credit" { -a.balance } else { a.balance })) }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="dl-h" {
            h2 #dl-h { (ctx.t("downloads")) }
            ul.downloads {
                (dl("cash-book", "cash_book"))
                (dl("bank-book", "bank_book"))
                (dl("tax-book", "tax_book"))
                (dl("realisation", "realisation"))
            }
        }
        section aria-labelledby="bku-h" {
            h2 #bku-h { (ctx.t("cash_book")) " " (year) }
            @for s in &cash_book.sections { (report_table(ctx, s, &s.title)) }
        }
    })
}

pub async fn books(req: HttpRequest, state: State) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let (_, village) = match official(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let year = year_param(&ctx);
    let inner = match village_books(&ctx, &state, &village, year).await {
        Ok(m) => m,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let body = html! {
        h1 { (ctx.t("books")) " — " (village.name) }
        (year_form(&ctx, "/console/books", year))
        (inner)
    };
    page(&ctx, StatusCode::OK, ctx.t("books"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_village_role_has_an_inbox() {
        for r in [Role::Implementer, Role::Secretary, Role::Head, Role::Treasurer] {
            assert!(!waiting_for(r).is_empty());
            for s in waiting_for(r) {
                assert!(PaymentStatus::parse(s).is_some());
            }
        }
        assert!(waiting_for(Role::Inspector).is_empty());
    }

    #[test]
    fn only_the_seven_console_actions_are_accepted() {
        for a in ACTIONS {
            assert_eq!(action_of(a.as_str()), Some(a));
        }
        assert_eq!(action_of("pay"), None);
        assert_eq!(action_of("../x"), None);
    }
}
