//! A new payment request: the form (activities and accounts offered from the adopted budget), reading what a person
//! typed into the API's request type with plain-language mistakes, and saving it through the API's own handler.

use super::{official, State};
use crate::domain::accounts::{class_of_code, AccountClass, SOURCES, TAXES};
use crate::domain::money::{AmountInput, Money};
use crate::domain::roles::Role;
use crate::domain::tax::{PurchaseKind, Qualification};
use crate::domain::workflow::{transition, Action};
use crate::http::auth::{random_token, Principal};
use crate::http::error::ApiError;
use crate::http::payments;
use crate::http::payments::{propose_withholdings, LineBasis};
use crate::http::views::{Payee, PaymentLineRequest, PaymentRequest, ReceiptRequest, TaxBasis, WithholdingRequest};
use crate::store::rows::{PaymentRecord, VillageRow};
use crate::store::{IdempotencyKey, Written};
use crate::web::layout::error_alert;
use crate::web::session::{csrf_refused, to_login};
use crate::web::{api_error_page, blocking, error_page, normalise_amount, page, redirect, year_param, Ctx, Form};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

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

/// The form of a new request, or with `editing` (the request's id) of a draft or returned one being corrected.
fn new_form(
    ctx: &Ctx,
    form: &Form,
    ch: &Choices,
    year: i32,
    errors: &[String],
    api_error: Option<&ApiError>,
) -> Markup {
    request_form(ctx, form, ch, year, errors, api_error, None)
}

fn request_form(
    ctx: &Ctx,
    form: &Form,
    ch: &Choices,
    year: i32,
    errors: &[String],
    api_error: Option<&ApiError>,
    editing: Option<&str>,
) -> Markup {
    let Some(s) = &ctx.session else { return html! {} };
    let idem = match form.get("idem") {
        "" => random_token(18),
        k => k.to_string(),
    };
    let (title, action, keep) = match editing {
        None => (ctx.t("new_title"), "/console/payments".to_string(), format!("new-payment-{}", s.principal.id())),
        Some(id) => (ctx.t("edit_title"), format!("/console/payments/{id}/edit"), format!("edit-payment-{id}")),
    };
    html! {
        h1 { (title) }
        p { (ctx.t(if editing.is_some() { "edit_intro" } else { "new_intro" })) }
        @if !ch.has_budget { p.notice role="status" { (ctx.t("no_budget")) } }
        @if !errors.is_empty() {
            div.alert role="alert" #form-errors {
                p { strong { (ctx.t("form_errors")) } }
                ul { @for e in errors { li { (e) } } }
            }
        }
        @if let Some(e) = api_error { (error_alert(ctx, e)) }
        form.stack method="post" action=(action) novalidate data-keep=(keep) {
            input type="hidden" name="csrf" value=(s.csrf);
            input type="hidden" name="idem" value=(idem);
            (request_fieldset(ctx, form, ch, year))
            @if editing.is_some() && form.trimmed("payees_csv").is_empty() {
                (payee_fields(ctx, form))
            } @else if editing.is_some() {
                // A request of many payees keeps them: its list is corrected in place.
                fieldset {
                    legend { (ctx.t("payees_csv")) }
                    (payee_list(ctx, form))
                }
            } @else {
                (payee_fieldset(ctx, form))
            }
            (tax_fieldset(ctx, form))
            @for i in 0..FORM_LINES { (line_fieldset(ctx, form, ch, i)) }
            p.actions {
                button type="submit" name="propose" value="1" { (ctx.t("propose_taxes")) }
                " "
                button.primary type="submit" { (ctx.t(if editing.is_some() { "save_edit" } else { "save_draft" })) }
            }
        }
    }
}

/// The request's description, fiscal year and activity.
fn request_fieldset(ctx: &Ctx, form: &Form, ch: &Choices, year: i32) -> Markup {
    let v = |name: &str| form.get(name).to_string();
    html! {
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
    }
}

/// The payee, their bank account and NPWP, and the invoice; with the pasted payee list of a new request.
fn payee_fieldset(ctx: &Ctx, form: &Form) -> Markup {
    payee_block(ctx, form, true)
}

/// The payee's fields alone (an edit keeps the request's one payee).
fn payee_fields(ctx: &Ctx, form: &Form) -> Markup {
    payee_block(ctx, form, false)
}

fn payee_block(ctx: &Ctx, form: &Form, with_list: bool) -> Markup {
    let v = |name: &str| form.get(name).to_string();
    html! {
        fieldset {
            legend { (ctx.t("payee")) }
            p { label for="payee_name" { (ctx.t("payee_name")) }
                input #payee_name type="text" name="payee_name" value=(v("payee_name")) maxlength="200" required autocomplete="off"; }
            div.row {
                p { label for="bank_code" { (ctx.t("bank_code")) }
                    input #bank_code type="text" name="bank_code" value=(v("bank_code")) maxlength="11" required inputmode="numeric"
                        list="bank-codes" autocomplete="off";
                    datalist #bank-codes { @for (code, name) in crate::web::banks::all() { option value=(code) { (name) } } } }
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
            @if with_list {
                details open[!form.trimmed("payees_csv").is_empty()] {
                    summary { (ctx.t("payees_csv")) }
                    (payee_list(ctx, form))
                }
            }
        }
    }
}

/// The pasted payee list's help and text area.
fn payee_list(ctx: &Ctx, form: &Form) -> Markup {
    html! {
        p.hint #payees-help { (ctx.t("payees_csv_help")) }
        textarea #payees_csv name="payees_csv" rows="6" aria-describedby="payees-help"
            placeholder="Ahmad; 002; 1234567890; 1.500.000" { (form.get("payees_csv")) }
    }
}

/// The pasted payee list: one receipt per line (`name; bank code; account number; amount; NPWP?`, separated by
/// semicolons, tabs or commas), each with one line on `account` and `source`. The mistakes, by line.
fn read_payees(ctx: &Ctx, text: &str, account: &str, source: &str) -> Result<Vec<ReceiptRequest>, Vec<String>> {
    let mut receipts = Vec::new();
    let mut errors = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let sep = if line.contains(';') {
            ';'
        } else if line.contains('\t') {
            '\t'
        } else {
            ','
        };
        let f: Vec<&str> = line.split(sep).map(str::trim).collect();
        let label = format!("{} {}", ctx.t("err_csv_row"), n + 1);
        if f.len() < 4 || f[..4].iter().any(|x| x.is_empty()) {
            errors.push(format!("{label}: {}", ctx.t("err_csv_fields")));
            continue;
        }
        let Some(amount) = normalise_amount(f[3]) else {
            errors.push(format!("{label}, {}: «{}» {}", ctx.t("col_amount"), truncate(f[3]), ctx.t("err_amount")));
            continue;
        };
        receipts.push(ReceiptRequest {
            payee: Payee {
                name: f[0].to_string(),
                bank_code: f[1].to_string(),
                account_number: f[2].to_string(),
                npwp: f.get(4).filter(|x| !x.is_empty()).map(|x| x.to_string()),
            },
            description: None,
            lines: vec![PaymentLineRequest {
                account_code: account.to_string(),
                source: source.to_string(),
                amount: AmountInput(Money::parse(&amount)),
                withholdings: vec![],
                tax_basis: None,
            }],
        });
    }
    if errors.is_empty() {
        Ok(receipts)
    } else {
        Err(errors)
    }
}

/// What the request buys, for the tax calculator to propose each line's withholdings.
fn tax_fieldset(ctx: &Ctx, form: &Form) -> Markup {
    let kinds = [
        ("", "tax_kind_none"),
        ("goods", "tax_goods"),
        ("services", "tax_services"),
        ("construction", "tax_construction"),
        ("rent", "tax_rent"),
    ];
    let quals = [("small", "q_small"), ("medium", "q_medium"), ("large", "q_large"), ("none", "q_none")];
    let checked = |name: &str, default: bool| {
        if form.get("tax_kind").is_empty() && form.get(name).is_empty() {
            default
        } else {
            form.get(name) == "1"
        }
    };
    html! {
        fieldset.tax-basis {
            legend { (ctx.t("tax_section")) }
            div.row {
                p { label for="tax_kind" { (ctx.t("tax_kind")) }
                    select #tax_kind name="tax_kind" {
                        @for (value, key) in kinds {
                            option value=(value) selected[form.get("tax_kind") == value] { (ctx.t(key)) }
                        }
                    } }
                p { label for="qualification" { (ctx.t("qualification")) }
                    select #qualification name="qualification" {
                        option value="" selected[form.get("qualification").is_empty()] { "—" }
                        @for (value, key) in quals {
                            option value=(value) selected[form.get("qualification") == value] { (ctx.t(key)) }
                        }
                    } }
            }
            p.check { label { input type="checkbox" name="vendor_pkp" value="1" checked[checked("vendor_pkp", false)]; " " (ctx.t("vendor_pkp")) } }
            p.check { label { input type="checkbox" name="includes_vat" value="1" checked[checked("includes_vat", true)]; " " (ctx.t("includes_vat")) } }
            p.check { label { input type="checkbox" name="exempt_goods" value="1" checked[checked("exempt_goods", false)]; " " (ctx.t("exempt_goods")) } }
        }
    }
}

/// The request's tax basis, when the form names what it buys.
fn tax_basis(form: &Form) -> Option<TaxBasis> {
    let kind = PurchaseKind::parse(form.trimmed("tax_kind"))?;
    Some(TaxBasis {
        kind,
        includes_vat: form.get("includes_vat") == "1",
        vendor_vat_registered: form.get("vendor_pkp") == "1",
        vendor_has_npwp: Some(!form.trimmed("npwp").is_empty()),
        contractor_qualification: Qualification::parse(form.trimmed("qualification")),
        exempt_goods: form.get("exempt_goods") == "1",
    })
}

/// Whole rupiah the way people write them (`1.100.000`), or with sen (`1.100.000,50`).
pub(super) fn typed_amount(sen: i64) -> String {
    let rupiah = (sen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in rupiah.chars().enumerate() {
        if i > 0 && (rupiah.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    if sen % 100 == 0 {
        grouped
    } else {
        format!("{grouped},{:02}", sen % 100)
    }
}

/// The form with each line's withholdings filled in from the calculator (lines without an amount are left alone).
fn with_proposed_taxes(state: &State, form: Form, regency: Option<String>) -> Result<Form, String> {
    let Some(basis) = tax_basis(&form) else { return Ok(form) };
    let date = chrono::NaiveDate::parse_from_str(form.trimmed("invoice_date"), "%Y-%m-%d")
        .unwrap_or_else(|_| crate::http::ledger::today_wib());
    let mut form = form;
    for i in 0..FORM_LINES {
        let Some(amount) = normalise_amount(form.trimmed(&format!("l{i}_amount"))).and_then(|a| Money::parse(&a).ok())
        else {
            continue;
        };
        let ctx =
            LineBasis { payee_has_npwp: basis.vendor_has_npwp.unwrap_or(false), date, regency: regency.as_deref() };
        let taxes = propose_withholdings(state, &basis, &ctx, amount).map_err(|e| e.to_string())?;
        for j in 0..FORM_TAXES {
            let (tax, amount) =
                taxes.get(j).map_or((String::new(), String::new()), |(tax, sen)| (tax.to_string(), typed_amount(*sen)));
            form = form.with(&format!("l{i}_tax{j}"), &tax).with(&format!("l{i}_tax{j}_amount"), &amount);
        }
    }
    Ok(form)
}

/// Line `i`: account, source and amount, and its withholdings.
fn line_fieldset(ctx: &Ctx, form: &Form, ch: &Choices, i: usize) -> Markup {
    let sources: Vec<(String, String)> = SOURCES.iter().map(|(s, _)| ((*s).to_string(), String::new())).collect();
    let taxes: Vec<(String, String)> = TAXES.iter().map(|(t, _)| ((*t).to_string(), String::new())).collect();
    let v = |name: &str| form.get(name).to_string();
    html! {
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

/// Reads the form into the API's request type (no JSON in between), with plain-language messages for what a person
/// can get wrong; the API's handler then applies exactly the API's rules.
fn read_form(ctx: &Ctx, form: &Form) -> Result<PaymentRequest, Vec<String>> {
    let mut errors = Vec::new();
    let many = !form.trimmed("payees_csv").is_empty();
    let required: &[(&str, &str)] = if many {
        &[("description", "description"), ("activity_code", "activity")]
    } else {
        &[
            ("description", "description"),
            ("activity_code", "activity"),
            ("payee_name", "payee_name"),
            ("bank_code", "bank_code"),
            ("account_number", "account_no"),
        ]
    };
    for (name, label) in required {
        if form.trimmed(name).is_empty() {
            errors.push(format!("{}: {}", ctx.t(label), ctx.t("err_required")));
        }
    }
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
    if many {
        let (account, source) = (form.trimmed("l0_account"), form.trimmed("l0_source"));
        if account.is_empty() || source.is_empty() {
            errors.push(ctx.t("err_csv_line1").to_string());
        }
        match read_payees(ctx, form.trimmed("payees_csv"), account, source) {
            Ok(receipts) if errors.is_empty() => {
                let mut body = request_body(form, fiscal_year, Vec::new());
                body.payee = None;
                body.receipts = Some(receipts);
                return Ok(body);
            }
            Ok(_) => {}
            Err(mut e) => errors.append(&mut e),
        }
        return Err(errors);
    }
    let mut lines = Vec::new();
    for i in 0..FORM_LINES {
        match read_line(ctx, form, i) {
            Ok(Some(line)) => lines.push(line),
            Ok(None) => {}
            Err(mut e) => errors.append(&mut e),
        }
    }
    if lines.is_empty() && errors.iter().all(|e| !e.contains(ctx.t("line_n"))) {
        errors.push(ctx.t("err_no_lines").to_string());
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(request_body(form, fiscal_year, lines))
}

/// Line `i` of the form: `None` when nothing of it was filled in, or the mistakes in it.
fn read_line(ctx: &Ctx, form: &Form, i: usize) -> Result<Option<PaymentLineRequest>, Vec<String>> {
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
        return Ok(None);
    }
    if account.is_empty() || source.is_empty() || amount.is_empty() {
        return Err(vec![format!("{label} {}", ctx.t("err_line_incomplete"))]);
    }
    let Some(amount) = normalise_amount(amount) else {
        return Err(vec![format!("{label}, {}: «{}» {}", ctx.t("col_amount"), truncate(amount), ctx.t("err_amount"))]);
    };
    let mut errors = Vec::new();
    let mut withholdings = Vec::new();
    for (j, (tax, a)) in taxes.iter().enumerate() {
        let wlabel = format!("{label}, {} {}", ctx.t("withholding"), j + 1);
        match (tax.is_empty(), a.is_empty()) {
            (true, true) => {}
            (true, false) => errors.push(format!("{wlabel}: {} {}", ctx.t("col_tax"), ctx.t("err_required"))),
            (false, true) => errors.push(format!("{wlabel}: {} {}", ctx.t("col_amount"), ctx.t("err_required"))),
            (false, false) => match normalise_amount(a) {
                Some(a) => withholdings
                    .push(WithholdingRequest { tax: tax.to_string(), amount: AmountInput(Money::parse(&a)) }),
                None => errors.push(format!("{wlabel}: «{}» {}", truncate(a), ctx.t("err_amount"))),
            },
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Some(PaymentLineRequest {
        account_code: account.to_string(),
        source: source.to_string(),
        amount: AmountInput(Money::parse(&amount)),
        withholdings,
        tax_basis: tax_basis(form),
    }))
}

/// The API's request from a form without mistakes.
fn request_body(form: &Form, fiscal_year: Option<i32>, lines: Vec<PaymentLineRequest>) -> PaymentRequest {
    let opt = |name: &str| Some(form.trimmed(name)).filter(|v| !v.is_empty()).map(str::to_string);
    PaymentRequest {
        receipts: None,
        kind: None,
        activity_code: form.trimmed("activity_code").to_string(),
        description: form.trimmed("description").to_string(),
        payee: Some(Payee {
            name: form.trimmed("payee_name").to_string(),
            bank_code: form.trimmed("bank_code").to_string(),
            account_number: form.trimmed("account_number").to_string(),
            npwp: opt("npwp"),
        }),
        lines,
        invoice_number: opt("invoice_number"),
        // read_form checked the date.
        invoice_date: opt("invoice_date").and_then(|d| chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()),
        fiscal_year,
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(30).collect()
}

/// The form's idempotency key (see [`super::form_key`]).
fn idempotency_key(form: &Form, who: &Principal, village_id: &str) -> IdempotencyKey {
    super::form_key(form, who, "console-", &format!("POST /api/v1/villages/{village_id}/payments (console)"))
}

/// The id of the request a draft wrote, or the one a replay answered with.
pub(super) fn written_id(written: Written<crate::store::rows::PaymentRecord>) -> String {
    match written {
        Written::Fresh(rec) => rec.payment.id.into(),
        Written::Replay { body, .. } => serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_string))
            .unwrap_or_default(),
    }
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
    if form.get("propose") == "1" {
        // Fill in the proposal and show the form again: nothing is saved until the implementer says so.
        let regency = crate::http::payments::regency_code(&state, &village).await.ok().flatten();
        return match with_proposed_taxes(&state, form, regency) {
            Ok(filled) => {
                let body = html! {
                    p.ok role="status" #taxes-proposed { (ctx.t("taxes_proposed")) }
                    (new_form(&ctx, &filled, &ch, year, &[], None))
                };
                page(&ctx, StatusCode::OK, ctx.t("new_title"), body)
            }
            Err(e) => {
                let form = Form::parse(&body);
                page(
                    &ctx,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ctx.t("new_title"),
                    new_form(&ctx, &form, &ch, year, &[e], None),
                )
            }
        };
    }
    let again = |status: StatusCode, errors: &[String], e: Option<&ApiError>| {
        page(&ctx, status, ctx.t("new_title"), new_form(&ctx, &form, &ch, year, errors, e))
    };
    let request = match read_form(&ctx, &form) {
        Ok(r) => r,
        Err(errors) => return again(StatusCode::UNPROCESSABLE_ENTITY, &errors, None),
    };
    // The API's handler does the validation, the idempotency and the write, so the console has exactly the API's
    // rules.
    let idem = idempotency_key(&form, &who, &village.id);
    match payments::draft_payment(&state, &who, &village.id, Some(idem), request).await {
        Ok(written) => match written_id(written) {
            id if id.is_empty() => redirect("/console/inbox"),
            id => redirect(&format!("/console/payments/{id}?done=created")),
        },
        Err(e) => {
            let status = StatusCode::from_u16(e.problem().status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            again(status, &[], Some(&e))
        }
    }
}

/// The form of a draft or returned request, filled with what it asks for: a request of one payee with up to
/// `FORM_LINES` lines of up to `FORM_TAXES` withholdings each, or one of many payees in the pasted list's shape
/// (`pasted_list_form`); any other is corrected through the API, or cancelled and drafted again.
fn filled_form(rec: &PaymentRecord) -> Option<Form> {
    let p = &rec.payment;
    if !rec.receipts.is_empty() {
        return pasted_list_form(rec);
    }
    let too_many_taxes =
        rec.lines.iter().any(|l| rec.withholdings.iter().filter(|w| w.line_no == l.line_no).count() > FORM_TAXES);
    if rec.lines.len() > FORM_LINES || too_many_taxes {
        return None;
    }
    let mut form = Form::parse(b"")
        .with("description", &p.description)
        .with("fiscal_year", &p.fiscal_year.to_string())
        .with("activity_code", p.activity_code.as_deref().unwrap_or_default())
        .with("payee_name", &p.payee_name)
        .with("bank_code", &p.payee_bank_code)
        .with("account_number", &p.payee_account_number)
        .with("npwp", p.payee_npwp.as_deref().unwrap_or_default())
        .with("invoice_number", p.invoice_number.as_deref().unwrap_or_default())
        .with("invoice_date", &p.invoice_date.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default());
    for (i, l) in rec.lines.iter().enumerate() {
        form = form
            .with(&format!("l{i}_account"), &l.account_code)
            .with(&format!("l{i}_source"), l.source.as_deref().unwrap_or_default())
            .with(&format!("l{i}_amount"), &typed_amount(l.amount));
        for (j, w) in rec.withholdings.iter().filter(|w| w.line_no == l.line_no).enumerate() {
            form = form
                .with(&format!("l{i}_tax{j}"), &w.tax)
                .with(&format!("l{i}_tax{j}_amount"), &typed_amount(w.amount));
        }
    }
    Some(form)
}

/// A request of many payees as the pasted list would write it: one line per receipt, every line on one budget
/// account and source, no withholdings (what the drafting form's list makes). The list shows one payee a line
/// (`name; bank code; account number; amount; NPWP`), in receipt order, so the implementer corrects a name, an
/// account or an amount where it stands; the API keeps the number of receipts (and so each kuitansi number).
fn pasted_list_form(rec: &PaymentRecord) -> Option<Form> {
    let p = &rec.payment;
    let first = rec.lines.first()?;
    let shaped = rec.lines.len() == rec.receipts.len()
        && rec.withholdings.is_empty()
        && rec.lines.iter().all(|l| l.account_code == first.account_code && l.source == first.source)
        && rec.receipts.iter().all(|r| rec.lines.iter().filter(|l| l.receipt_no == r.receipt_no).count() == 1);
    if !shaped {
        return None;
    }
    let mut receipts: Vec<_> = rec.receipts.iter().collect();
    receipts.sort_by_key(|r| r.receipt_no);
    let list: Vec<String> = receipts
        .iter()
        .map(|r| {
            let amount = rec.lines.iter().find(|l| l.receipt_no == r.receipt_no).map_or(0, |l| l.amount);
            let mut row = format!(
                "{}; {}; {}; {}",
                r.payee_name,
                r.payee_bank_code,
                r.payee_account_number,
                typed_amount(amount)
            );
            if let Some(npwp) = r.payee_npwp.as_deref() {
                row.push_str(&format!("; {npwp}"));
            }
            row
        })
        .collect();
    Some(
        Form::parse(b"")
            .with("description", &p.description)
            .with("fiscal_year", &p.fiscal_year.to_string())
            .with("activity_code", p.activity_code.as_deref().unwrap_or_default())
            .with("l0_account", &first.account_code)
            .with("l0_source", first.source.as_deref().unwrap_or_default())
            .with("payees_csv", &list.join("\n")),
    )
}

/// The request to correct, if the caller may edit it here; else the page that says why.
async fn editable(
    ctx: &Ctx,
    state: &State,
    who: &Principal,
    village: &VillageRow,
    id: &str,
) -> Result<(PaymentRecord, Form), HttpResponse> {
    let db = state.db.clone();
    let pid = id.to_string();
    let rec = match blocking(move || db.get_payment(&pid)).await {
        Ok(Some(rec)) if rec.payment.village_id == village.id => rec,
        Ok(_) => return Err(error_page(ctx, StatusCode::NOT_FOUND, ctx.t("not_found_title"), ctx.t("not_found_text"))),
        Err(e) => return Err(api_error_page(ctx, &e)),
    };
    if let Err(e) = transition(rec.payment.kind, rec.payment.status, Action::Edit, who.role()) {
        return Err(api_error_page(ctx, &ApiError::from(crate::store::StoreError::Workflow(e))));
    }
    match filled_form(&rec) {
        Some(form) => Ok((rec, form)),
        None => Err(error_page(ctx, StatusCode::UNPROCESSABLE_ENTITY, ctx.t("edit_title"), ctx.t("edit_not_here"))),
    }
}

/// The form of a draft or returned request, filled with what it asks for (implementer).
pub async fn edit_payment(req: HttpRequest, state: State, path: web::Path<String>) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let (who, village) = match official(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = path.into_inner();
    let (rec, form) = match editable(&ctx, &state, &who, &village, &id).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let year = rec.payment.fiscal_year;
    let ch = match choices(&state, &village, year).await {
        Ok(c) => c,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let note = rec.events.iter().rev().find(|e| e.action == "return").and_then(|e| e.note.clone());
    let body = html! {
        p { a href={"/console/payments/" (id)} { "← " (ctx.t("back")) } }
        @if let Some(n) = note { div.notice role="status" #return-note { strong { (ctx.t("returned_because")) } " " (n) } }
        (request_form(&ctx, &form, &ch, year, &[], None, Some(&id)))
    };
    page(&ctx, StatusCode::OK, ctx.t("edit_title"), body)
}

/// Saves the corrected request through the API's own path (every check of a draft); it is a draft again.
pub async fn save_edit(req: HttpRequest, state: State, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
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
    let id = path.into_inner();
    let (rec, _) = match editable(&ctx, &state, &who, &village, &id).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let year = rec.payment.fiscal_year;
    let ch = match choices(&state, &village, year).await {
        Ok(c) => c,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let again = |status: StatusCode, form: &Form, errors: &[String], e: Option<&ApiError>| {
        page(&ctx, status, ctx.t("edit_title"), request_form(&ctx, form, &ch, year, errors, e, Some(&id)))
    };
    if form.get("propose") == "1" {
        let regency = crate::http::payments::regency_code(&state, &village).await.ok().flatten();
        return match with_proposed_taxes(&state, Form::parse(&body), regency) {
            Ok(filled) => again(StatusCode::OK, &filled, &[], None),
            Err(e) => again(StatusCode::UNPROCESSABLE_ENTITY, &form, &[e], None),
        };
    }
    let request = match read_form(&ctx, &form) {
        Ok(r) => r,
        Err(errors) => return again(StatusCode::UNPROCESSABLE_ENTITY, &form, &errors, None),
    };
    match payments::edit_request(&state, &who, village, &id, None, request).await {
        Ok(_) => redirect(&format!("/console/payments/{id}?done=edit")),
        Err(e) => {
            let status = StatusCode::from_u16(e.problem().status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
            again(status, &form, &[], Some(&e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposed_amounts_are_written_as_people_type_them() {
        assert_eq!(typed_amount(110_000_000), "1.100.000");
        assert_eq!(typed_amount(15_050), "150,50");
        assert_eq!(typed_amount(110_000_050), "1.100.000,50");
        assert_eq!(typed_amount(100), "1");
        assert_eq!(normalise_amount(&typed_amount(12_345_678_900)).as_deref(), Some("123456789"));
    }
}
