//! A payment request's page — its figures, its lines against their budget lines, the actions my role may take, the
//! approval trail and the bank transfers — and the actions' form posts.

use super::State;
use crate::domain::money::{AmountInput, Money};
use crate::domain::roles::Role;
use crate::domain::settlement::PaymentKind;
use crate::domain::workflow::{transition, Action};
use crate::http::auth::{Principal, READERS};
use crate::http::error::ApiError;
use crate::http::views::{AccountabilityReceiptRequest, AccountabilityRequest, PaymentLineRequest};
use crate::http::{load_village, payments};
use crate::store::rows::{BudgetPositionRow, PaymentRecord, VillageRow};
use crate::web::i18n;
use crate::web::layout::{budget_bar, done_notice, error_alert, status_badge};
use crate::web::session::{csrf_refused, to_login};
use crate::web::zone::Zone;
use crate::web::{api_error_page, blocking, error_page, money, page, redirect, Ctx, Form, Session};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html, Markup};

fn action_of(s: &str) -> Option<Action> {
    Some(match s {
        "submit" => Action::Submit,
        "verify" => Action::Verify,
        "return" => Action::Return,
        "approve" => Action::Approve,
        "reject" => Action::Reject,
        "release" => Action::Release,
        "cancel" => Action::Cancel,
        "pay_cash" => Action::PayCash,
        _ => return None,
    })
}

const ACTIONS: [Action; 8] = [
    Action::Submit,
    Action::Verify,
    Action::Return,
    Action::Approve,
    Action::Reject,
    Action::Release,
    Action::PayCash,
    Action::Cancel,
];

/// Receipt rows of the console's SPJ form (the API takes up to 500).
const SPJ_ROWS: usize = 6;

fn needs_note(a: Action) -> bool {
    matches!(a, Action::Return | Action::Reject | Action::Cancel)
}

pub async fn payment(req: HttpRequest, state: State, path: web::Path<String>) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    if ctx.session.is_none() || crate::web::session::session_ended(&ctx, &state).await {
        return to_login(&req);
    }
    render_payment(&ctx, &state, &path.into_inner(), None).await
}

/// What the payment page shows: the request, its village, the budget lines of its year, the regency's time zone.
struct Loaded {
    rec: PaymentRecord,
    village: VillageRow,
    positions: Vec<BudgetPositionRow>,
    zone: Zone,
    /// The regency's per-payment cash limit (`pay-cash`), if it allows cash payments at all.
    cash_limit: Option<i64>,
}

/// Loads what the payment page shows; `404` when the request does not exist or is outside the caller's scope.
async fn load_payment(state: &State, who: &Principal, id: &str) -> Result<Loaded, ApiError> {
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
    let db = state.db.clone();
    let rid = village.regency_id.clone();
    let regency = blocking(move || db.get_regency(&rid)).await?;
    let zone = regency.as_ref().map_or(Zone::WIB, Zone::of_regency);
    let cash_limit = regency.and_then(|r| r.cash_payment_limit);
    Ok(Loaded { rec, village, positions, zone, cash_limit })
}

/// The actions the caller's role may take on a request in this status (none for anyone outside the village).
/// Paying in cash is offered only where the regency allows it for this amount (one payee, within its limit).
fn allowed_actions(who: &Principal, rec: &PaymentRecord, cash_limit: Option<i64>) -> Vec<Action> {
    if !who.role().is_village_role() {
        return vec![];
    }
    let p = &rec.payment;
    let cash_ok = rec.receipts.is_empty() && cash_limit.is_some_and(|limit| p.net <= limit);
    ACTIONS
        .iter()
        .copied()
        .filter(|a| transition(p.kind, p.status, *a, who.role()).is_ok())
        .filter(|a| *a != Action::PayCash || cash_ok)
        .collect()
}

async fn render_payment(ctx: &Ctx, state: &State, id: &str, error: Option<(ApiError, Action)>) -> HttpResponse {
    render_payment_with(ctx, state, id, error, &Form::parse(b"")).await
}

/// The payment page, with the SPJ form holding `form_for_spj` (what was typed, after a refusal: nothing is lost).
async fn render_payment_with(
    ctx: &Ctx,
    state: &State,
    id: &str,
    error: Option<(ApiError, Action)>,
    form_for_spj: &Form,
) -> HttpResponse {
    let Some(s) = &ctx.session else { return error_page(ctx, StatusCode::UNAUTHORIZED, "", "") };
    let who = &s.principal;
    let Loaded { rec, village, positions, zone, cash_limit } = match load_payment(state, who, id).await {
        Ok(x) => x,
        Err(e) => return api_error_page(ctx, &e),
    };
    let p = &rec.payment;
    let allowed = allowed_actions(who, &rec, cash_limit);
    let spj = p.kind == PaymentKind::Advance && transition(p.kind, p.status, Action::Account, who.role()).is_ok();
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
        (figures(ctx, &rec, &village))
        (lines(ctx, &rec, &positions))
        // An advance waiting for its SPJ has that form instead of an empty list of actions.
        @if !(spj && allowed.is_empty()) { (actions(ctx, s, &rec, &allowed)) }
        @if spj { (spj_form(ctx, s, &rec, form_for_spj)) }
        (receipts(ctx, &rec))
        (trail(ctx, zone, &rec))
        (transfers(ctx, &rec))
    };
    page(ctx, http_status, ctx.t("payment_title"), body)
}

/// The request's figures: status, gross, withheld, net, payee, invoice, activity, year and village.
fn figures(ctx: &Ctx, rec: &PaymentRecord, village: &VillageRow) -> Markup {
    let p = &rec.payment;
    html! {
        section.card aria-labelledby="fig-h" {
            h2 #fig-h { (ctx.t("figures")) }
            dl.grid {
                @if let Some(n) = &p.number {
                    dt { (ctx.t("number")) } dd.mono #payment-number { (n) }
                }
                dt { (ctx.t("col_status")) } dd #payment-status data-status=(p.status) { (status_badge(ctx, p.status.as_str())) }
                dt { (ctx.t("col_gross")) } dd { (money(ctx.lang, p.gross)) }
                dt { (ctx.t("col_withheld")) } dd { (money(ctx.lang, p.withheld)) }
                dt { (ctx.t("col_net")) } dd { strong { (money(ctx.lang, p.net)) } }
                dt { (ctx.t("payee")) } dd { (p.payee_name) }
                dt { (ctx.t("bank")) " / " (ctx.t("account_no")) } dd.mono { (crate::web::banks::with_name(&p.payee_bank_code)) " / " (p.payee_account_number) }
                @if let Some(n) = &p.payee_npwp {
                    dt { "NPWP" }
                    dd.mono { (crate::domain::text::Npwp::parse("npwp", n).map_or(n.clone(), |n| n.formatted())) }
                }
                @if let Some(i) = &p.invoice_number {
                    dt { (ctx.t("invoice")) } dd { (i) @if let Some(d) = p.invoice_date { " · " (d.format("%d-%m-%Y")) } }
                }
                dt { (ctx.t("activity")) } dd.mono { (p.activity_code.clone().unwrap_or_default()) }
                dt { (ctx.t("fiscal_year")) } dd { (p.fiscal_year) }
                dt { (ctx.t("col_village")) } dd { (village.name) }
            }
        }
    }
}

/// The request's lines, each with its withholdings and what is left on its budget line.
fn lines(ctx: &Ctx, rec: &PaymentRecord, positions: &[BudgetPositionRow]) -> Markup {
    if rec.payment.kind == PaymentKind::TaxDeposit {
        return deposit_lines(ctx, rec);
    }
    let p = &rec.payment;
    let activity = p.activity_code.clone().unwrap_or_default();
    let warnings = budget_warnings(ctx, rec, positions);
    html! {
        section aria-labelledby="lines-h" {
            h2 #lines-h { (ctx.t("lines")) }
            @if !warnings.is_empty() {
                div.alert role="status" #budget-warning {
                    p { strong { (ctx.t("budget_warning")) } }
                    ul { @for w in &warnings { li { (w) } } }
                }
            }
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
                                && (b.activity_code == activity || p.kind != PaymentKind::Spp));
                            tr {
                                td { span.mono { (l.account_code) }
                                    @if let Some(item) = crate::domain::catalogue::catalogue().account(&l.account_code) { br; small { (item.name) } } }
                                td { (source) }
                                td.num { (money(ctx.lang, l.amount)) }
                                td {
                                    @for w in rec.withholdings.iter().filter(|w| w.line_no == l.line_no) {
                                        span.tag { (i18n::tax_name(&w.tax)) " " (money(ctx.lang, w.amount)) } " "
                                    }
                                }
                                td {
                                    @if let Some(b) = pos {
                                        (money(ctx.lang, b.ceiling - b.committed - b.realised)) " / " (money(ctx.lang, b.ceiling))
                                        (budget_bar(ctx, b.ceiling, b.committed, b.realised))
                                    } @else if p.kind == PaymentKind::Spp {
                                        (ctx.t("no_budget_line"))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A tax deposit's lines: each tax, its amount, the billing code it is paid under and, once the bank paid it, the
/// NTPN (the state treasury's proof of payment).
fn deposit_lines(ctx: &Ctx, rec: &PaymentRecord) -> Markup {
    html! {
        section aria-labelledby="lines-h" {
            h2 #lines-h { (ctx.t("lines")) }
            div.scroll role="region" aria-labelledby="lines-h" tabindex="0" {
                table #deposit-lines {
                    thead { tr {
                        th scope="col" { (ctx.t("col_tax_type")) }
                        th scope="col" class="num" { (ctx.t("col_amount")) }
                        th scope="col" { (ctx.t("col_billing")) }
                        th scope="col" { (ctx.t("col_ntpn")) }
                    } }
                    tbody {
                        @for l in &rec.lines {
                            @let tax = crate::domain::settlement::tax_of(&l.account_code).unwrap_or("");
                            tr {
                                td { (i18n::tax_name(tax)) br; small.mono { (l.account_code) } }
                                td.num { (money(ctx.lang, l.amount)) }
                                td.mono { (l.billing_code.as_deref().unwrap_or("—")) }
                                td.mono { (l.ntpn.as_deref().unwrap_or("—")) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Before approval, what the head's approval would refuse, said early: a line with no budget line of its
/// (account, activity, source), or asking more than the line has left. Empty once approved (committed then).
fn budget_warnings(ctx: &Ctx, rec: &PaymentRecord, positions: &[BudgetPositionRow]) -> Vec<String> {
    use crate::domain::workflow::PaymentStatus as S;
    let p = &rec.payment;
    if p.kind != PaymentKind::Spp || !matches!(p.status, S::Draft | S::Returned | S::Submitted | S::Verified) {
        return Vec::new();
    }
    let activity = p.activity_code.clone().unwrap_or_default();
    // The lines of one budget line together (a request may split one line over several receipts).
    let mut asked: std::collections::BTreeMap<(String, String), i64> = std::collections::BTreeMap::new();
    for l in &rec.lines {
        *asked.entry((l.account_code.clone(), l.source.clone().unwrap_or_default())).or_insert(0) += l.amount;
    }
    asked
        .into_iter()
        .filter_map(|((account, source), amount)| {
            let pos = positions
                .iter()
                .find(|b| b.account_code == account && b.source == source && b.activity_code == activity);
            match pos {
                None => Some(ctx.t("warn_no_line").replace("{account}", &account).replace("{source}", &source)),
                Some(b) => {
                    let left = b.ceiling - b.committed - b.realised;
                    (amount > left).then(|| {
                        ctx.t("warn_over_line")
                            .replace("{account}", &account)
                            .replace("{amount}", &money(ctx.lang, amount))
                            .replace("{left}", &money(ctx.lang, left))
                    })
                }
            }
        })
        .collect()
}

/// A form per action the caller may take, with a note where the action needs one.
fn actions(ctx: &Ctx, s: &Session, rec: &PaymentRecord, allowed: &[Action]) -> Markup {
    html! {
        section.card aria-labelledby="act-h" {
            h2 #act-h { (ctx.t("actions")) }
            @let editable = transition(rec.payment.kind, rec.payment.status, Action::Edit, s.principal.role()).is_ok();
            @if allowed.is_empty() && !editable { p { (ctx.t("no_actions")) } }
            div.actions {
                @if editable {
                    a.button #edit-request href={"/console/payments/" (rec.payment.id) "/edit"} { (i18n::action(ctx.lang, "edit")) }
                }
                @for a in allowed {
                    form.action method="post" action={"/console/payments/" (rec.payment.id) "/" (a.as_str())}
                        data-confirm=[confirmation(ctx, rec, *a)] data-sending=(ctx.t("sending")) {
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
    }
}

/// What the console asks before a step that moves money or passes it on (submit, verify, approve, release, pay in
/// cash): the step, the amount and who is paid. None for the others (their note says why).
fn confirmation(ctx: &Ctx, rec: &PaymentRecord, a: Action) -> Option<String> {
    if !matches!(a, Action::Submit | Action::Verify | Action::Approve | Action::Release | Action::PayCash) {
        return None;
    }
    let p = &rec.payment;
    let to = if rec.receipts.is_empty() {
        format!("{} ({} / {})", p.payee_name, crate::web::banks::with_name(&p.payee_bank_code), p.payee_account_number)
    } else {
        ctx.t("n_payees").replace("{n}", &rec.receipts.len().to_string())
    };
    Some(
        ctx.t("confirm_step")
            .replace("{action}", i18n::action(ctx.lang, a.as_str()))
            .replace("{amount}", &money(ctx.lang, p.net))
            .replace("{payee}", &to),
    )
}

/// The approval trail (times in the regency's zone), with its downloads.
fn trail(ctx: &Ctx, zone: Zone, rec: &PaymentRecord) -> Markup {
    let id = &rec.payment.id;
    html! {
        section aria-labelledby="trail-h" {
            h2 #trail-h { (ctx.t("trail")) }
            ol.trail {
                @for e in &rec.events {
                    li {
                        strong { (i18n::action(ctx.lang, &e.action)) }
                        " — " (e.actor_name) " (" (i18n::role(ctx.lang, e.role.as_str())) "), "
                        time datetime=(zone.machine(e.at)) { (zone.time(e.at)) }
                        " → " (status_badge(ctx, e.to_status.as_str()))
                        @if let Some(n) = &e.note { br; em { (n) } }
                    }
                }
            }
            p.downloads {
                a.button href={"/console/download?report=trail&payment=" (id) "&format=csv"} download { (ctx.t("download_trail")) " CSV" }
                " "
                a.button href={"/console/download?report=trail&payment=" (id) "&format=xlsx"} download { (ctx.t("download_trail")) " XLSX" }
                " "
                a.button href={"/console/download?report=document&payment=" (id) "&format=pdf"} download { (ctx.t("print_spp")) " (PDF)" }
            }
        }
    }
}

/// The receipts of a request with many payees: each one's number, payee, net and status (a scrolling table on a
/// phone).
fn receipts(ctx: &Ctx, rec: &PaymentRecord) -> Markup {
    html! {
        @if !rec.receipts.is_empty() {
            section.card aria-labelledby="rc-h" {
                h2 #rc-h { (ctx.t("receipts")) " (" (rec.receipts.len()) ")" }
                div.scroll role="region" aria-label=(ctx.t("receipts")) tabindex="0" {
                    table #receipts {
                        thead { tr {
                            th scope="col" { (ctx.t("number")) }
                            th scope="col" { (ctx.t("payee")) }
                            th scope="col" { (ctx.t("bank")) " / " (ctx.t("account_no")) }
                            th scope="col" class="num" { (ctx.t("col_net")) }
                            th scope="col" { (ctx.t("col_status")) }
                        } }
                        tbody {
                            @for r in &rec.receipts {
                                tr {
                                    td.mono { (r.number) }
                                    td { (r.payee_name) }
                                    td.mono { (crate::web::banks::with_name(&r.payee_bank_code)) " / " (r.payee_account_number) }
                                    td.num { (money(ctx.lang, r.net)) }
                                    td { (crate::web::i18n::status(ctx.lang, receipt_status(r.status))) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A receipt's status in the words the console uses for requests.
fn receipt_status(s: crate::domain::settlement::ReceiptStatus) -> &'static str {
    use crate::domain::settlement::ReceiptStatus as R;
    match s {
        R::Pending => "not_sent",
        R::Released => "released",
        R::Paid => "paid",
        R::Failed => "failed",
        R::Cancelled => "cancelled",
    }
}

/// The bank transfers of the request, when there are any.
fn transfers(ctx: &Ctx, rec: &PaymentRecord) -> Markup {
    html! {
        @if !rec.transfers.is_empty() {
            section aria-labelledby="tr-h" {
                h2 #tr-h { (ctx.t("transfers")) }
                ul {
                    @for t in &rec.transfers {
                        li { "#" (t.attempt) " · " (money(ctx.lang, t.amount)) " · " (i18n::status(ctx.lang, t.status.as_str()))
                            @if let Some(r) = &t.bank_reference { " · " span.mono { (r) } }
                            @if let Some(r) = &t.reason { " · " (r) }
                            @if let Some(who) = &t.executed_by { " · " (ctx.t("executed_by")) " " (who) } }
                    }
                }
            }
        }
    }
}

/// A form post to a request's page: the session must be current and the form must carry its CSRF token; the
/// page's context and the form, or the answer to give instead.
async fn form_post(req: &HttpRequest, state: &State, body: &[u8]) -> Result<(Ctx, Form), HttpResponse> {
    let ctx = Ctx::from_request(req);
    let form = Form::parse(body);
    let Some(s) = &ctx.session else { return Err(to_login(req)) };
    if !s.csrf_ok(&form) {
        return Err(csrf_refused(&ctx));
    }
    if crate::web::session::session_ended(&ctx, state).await {
        return Err(to_login(req));
    }
    Ok((ctx, form))
}

pub async fn act(req: HttpRequest, state: State, path: web::Path<(String, String)>, body: web::Bytes) -> HttpResponse {
    let (ctx, form) = match form_post(&req, &state, &body).await {
        Ok(x) => x,
        Err(answer) => return answer,
    };
    let Some(s) = &ctx.session else { return to_login(&req) };
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
    let paid_on = (a == Action::PayCash).then(crate::http::ledger::today_wib);
    let result = payments::take_step(&state, &who, &id, a, note, paid_on, None).await;
    match result {
        Ok(_) => redirect(&format!("/console/payments/{id}?done={}", a.as_str())),
        Err(e) => render_payment(&ctx, &state, &id, Some((e, a))).await,
    }
}

/// The SPJ of a paid advance: what was bought from whom (a row each), what goes back to the village account, and
/// the day. The accounts offered are the advance's own lines.
fn spj_form(ctx: &Ctx, s: &Session, rec: &PaymentRecord, form: &Form) -> Markup {
    let accounts: Vec<&str> = {
        let mut a: Vec<&str> = rec.lines.iter().map(|l| l.account_code.as_str()).collect();
        a.dedup();
        a
    };
    let v = |name: String| form.get(&name).to_string();
    html! {
        section.card aria-labelledby="spj-h" {
            h2 #spj-h { (ctx.t("spj_title")) }
            p { (ctx.t("spj_intro")) " " strong { (money(ctx.lang, rec.payment.net)) } "." }
            form.stack method="post" action={"/console/payments/" (rec.payment.id) "/accountability"} novalidate data-keep={"spj-" (rec.payment.id)} {
                input type="hidden" name="csrf" value=(s.csrf);
                input type="hidden" name="idem" value=(match form.get("idem") { "" => crate::http::auth::random_token(18), k => k.to_string() });
                div.table-scroll {
                    table {
                        thead { tr {
                            th scope="col" { (ctx.t("spj_payee")) }
                            th scope="col" { (ctx.t("description")) }
                            th scope="col" { (ctx.t("col_account")) }
                            th scope="col" { (ctx.t("col_amount")) }
                        } }
                        tbody {
                            @for i in 0..SPJ_ROWS {
                                tr {
                                    td { input type="text" name={"r" (i) "_payee"} value=(v(format!("r{i}_payee"))) maxlength="200" aria-label={(ctx.t("spj_payee")) " " (i + 1)}; }
                                    td { input type="text" name={"r" (i) "_description"} value=(v(format!("r{i}_description"))) maxlength="500" aria-label={(ctx.t("description")) " " (i + 1)}; }
                                    td { select name={"r" (i) "_account"} aria-label={(ctx.t("col_account")) " " (i + 1)} {
                                        @for a in &accounts {
                                            option value=(a) selected[form.get(&format!("r{i}_account")) == *a] { (a) }
                                        }
                                    } }
                                    td { input type="text" name={"r" (i) "_amount"} value=(v(format!("r{i}_amount"))) inputmode="decimal" aria-label={(ctx.t("col_amount")) " " (i + 1)}; }
                                }
                            }
                        }
                    }
                }
                div.row {
                    p { label for="spj_returned" { (ctx.t("spj_returned")) }
                        input #spj_returned type="text" name="returned" value=(form.get("returned")) inputmode="decimal" required; }
                    p { label for="spj_date" { (ctx.t("spj_date")) }
                        input #spj_date type="date" name="value_date" value=(form.get("value_date")); }
                }
                p.actions { button.primary type="submit" { (ctx.t("spj_submit")) } }
            }
        }
    }
}

/// The SPJ form read into the API's request, or what is wrong with it in the official's words.
fn read_spj(ctx: &Ctx, form: &Form, rec: &PaymentRecord) -> Result<AccountabilityRequest, Vec<String>> {
    let source = rec.lines.first().and_then(|l| l.source.clone()).unwrap_or_default();
    let mut errors = Vec::new();
    let mut receipts = Vec::new();
    for i in 0..SPJ_ROWS {
        let payee = form.trimmed(&format!("r{i}_payee"));
        let amount = form.trimmed(&format!("r{i}_amount"));
        if payee.is_empty() && amount.is_empty() {
            continue;
        }
        let label = format!("{} {}", ctx.t("spj_row"), i + 1);
        if payee.is_empty() || amount.is_empty() {
            errors.push(format!("{label} {}", ctx.t("spj_incomplete")));
            continue;
        }
        let Some(amount) = crate::web::normalise_amount(amount) else {
            errors.push(format!("{label}, {}: {}", ctx.t("col_amount"), ctx.t("err_amount")));
            continue;
        };
        let description =
            Some(form.trimmed(&format!("r{i}_description"))).filter(|d| !d.is_empty()).map(str::to_string);
        receipts.push(AccountabilityReceiptRequest {
            payee: payee.to_string(),
            npwp: None,
            description,
            lines: vec![PaymentLineRequest {
                account_code: form.trimmed(&format!("r{i}_account")).to_string(),
                source: source.clone(),
                amount: AmountInput(Money::parse(&amount)),
                withholdings: vec![],
                tax_basis: None,
            }],
        });
    }
    if receipts.is_empty() {
        errors.push(ctx.t("spj_no_rows").to_string());
    }
    let returned = match form.trimmed("returned") {
        "" => "0.00".to_string(),
        r => match crate::web::normalise_amount(r) {
            Some(a) => a,
            None if r == "0" => "0.00".to_string(),
            None => {
                errors.push(format!("{}: {}", ctx.t("spj_returned"), ctx.t("err_amount")));
                String::new()
            }
        },
    };
    let value_date = match form.trimmed("value_date") {
        "" => None,
        d => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(format!("{}: {}", ctx.t("spj_date"), ctx.t("err_date")));
                None
            }
        },
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(AccountabilityRequest { receipts, returned, value_date })
}

/// The SPJ form's post: the API's own path (`record_accountability`), with the form's idempotency key so that a
/// second tap records it once.
pub async fn account(req: HttpRequest, state: State, path: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let (ctx, form) = match form_post(&req, &state, &body).await {
        Ok(x) => x,
        Err(answer) => return answer,
    };
    let Some(s) = &ctx.session else { return to_login(&req) };
    let id = path.into_inner();
    let who = s.principal.clone();
    let rec = match load_payment(&state, &who, &id).await {
        Ok(l) => l.rec,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let request = match read_spj(&ctx, &form, &rec) {
        Ok(r) => r,
        Err(errors) => {
            let e = ApiError::validation(errors.join("; "));
            return render_payment_with(&ctx, &state, &id, Some((e, Action::Account)), &form).await;
        }
    };
    let key = Some(form.trimmed("idem")).filter(|k| !k.is_empty()).map(|k| crate::store::IdempotencyKey {
        principal: who.id().to_string(),
        key: format!("console-spj-{}", k.chars().take(60).collect::<String>()),
        request_hash: format!(
            "{id}:{}",
            form.fields().filter(|(n, _)| *n != "csrf").map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&")
        ),
    });
    match payments::record_accountability(&state, &who, &id, request, key).await {
        Ok(_) => redirect(&format!("/console/payments/{id}?done=account")),
        Err(e) => render_payment_with(&ctx, &state, &id, Some((e, Action::Account)), &form).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_seven_console_actions_are_accepted() {
        for a in ACTIONS {
            assert_eq!(action_of(a.as_str()), Some(a));
        }
        assert_eq!(action_of("pay"), None);
        assert_eq!(action_of("../x"), None);
    }
}
