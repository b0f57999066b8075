//! A payment request's page — its figures, its lines against their budget lines, the actions my role may take, the
//! approval trail and the bank transfers — and the actions' form posts.

use super::State;
use crate::domain::roles::Role;
use crate::domain::settlement::PaymentKind;
use crate::domain::workflow::{transition, Action, PaymentStatus};
use crate::http::auth::{Principal, READERS};
use crate::http::error::ApiError;
use crate::http::{load_village, payments};
use crate::store::rows::{BudgetPositionRow, PaymentRecord, VillageRow};
use crate::web::i18n;
use crate::web::layout::{budget_bar, done_notice, error_alert, status_badge};
use crate::web::session::{csrf_refused, to_login};
use crate::web::zone::{zone_of, Zone};
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
    let zone = zone_of(state, &village.regency_id).await?;
    Ok(Loaded { rec, village, positions, zone })
}

/// The actions the caller's role may take on a request in this status (none for anyone outside the village).
fn allowed_actions(who: &Principal, kind: PaymentKind, status: PaymentStatus) -> Vec<Action> {
    if !who.role().is_village_role() {
        return vec![];
    }
    ACTIONS.iter().copied().filter(|a| transition(kind, status, *a, who.role()).is_ok()).collect()
}

async fn render_payment(ctx: &Ctx, state: &State, id: &str, error: Option<(ApiError, Action)>) -> HttpResponse {
    let Some(s) = &ctx.session else { return error_page(ctx, StatusCode::UNAUTHORIZED, "", "") };
    let who = &s.principal;
    let Loaded { rec, village, positions, zone } = match load_payment(state, who, id).await {
        Ok(x) => x,
        Err(e) => return api_error_page(ctx, &e),
    };
    let p = &rec.payment;
    let allowed = allowed_actions(who, p.kind, p.status);
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
        (actions(ctx, s, &rec, &allowed))
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
                dt { (ctx.t("bank")) " / " (ctx.t("account_no")) } dd.mono { (p.payee_bank_code) " / " (p.payee_account_number) }
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
    let p = &rec.payment;
    let activity = p.activity_code.clone().unwrap_or_default();
    html! {
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
                                && (b.activity_code == activity || p.kind != PaymentKind::Spp));
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

/// A form per action the caller may take, with a note where the action needs one.
fn actions(ctx: &Ctx, s: &Session, rec: &PaymentRecord, allowed: &[Action]) -> Markup {
    html! {
        section.card aria-labelledby="act-h" {
            h2 #act-h { (ctx.t("actions")) }
            @if allowed.is_empty() { p { (ctx.t("no_actions")) } }
            div.actions {
                @for a in allowed {
                    form.action method="post" action={"/console/payments/" (rec.payment.id) "/" (a.as_str())} {
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
                                    td.mono { (r.payee_bank_code) " / " (r.payee_account_number) }
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
                        li { "#" (t.attempt) " · " (money(ctx.lang, t.amount)) " · " (t.status)
                            @if let Some(r) = &t.bank_reference { " · " span.mono { (r) } }
                            @if let Some(r) = &t.reason { " · " (r) } }
                    }
                }
            }
        }
    }
}

pub async fn act(req: HttpRequest, state: State, path: web::Path<(String, String)>, body: web::Bytes) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let form = Form::parse(&body);
    let Some(s) = &ctx.session else { return to_login(&req) };
    if !s.csrf_ok(&form) {
        return csrf_refused(&ctx);
    }
    if crate::web::session::session_ended(&ctx, &state).await {
        return to_login(&req);
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
    let result = payments::take_step(&state, &who, &id, a, note, None, None).await;
    match result {
        Ok(_) => redirect(&format!("/console/payments/{id}?done={}", a.as_str())),
        Err(e) => render_payment(&ctx, &state, &id, Some((e, a))).await,
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
