//! Pages of the regency's inspectors: the dashboard (realisation per village as a chart, anomalies with their
//! evidence, the villages) and each village's books, payment trail and chain verification.

use super::layout::{legend, report_table, status_badge, year_form};
use super::officials::{budget_table, village_books};
use super::session::to_login;
use super::zone::Zone;
use super::{api_error_page, blocking, error_page, money, page, year_param, Ctx};
use crate::domain::roles::Role;
use crate::http::auth::{Principal, READERS};
use crate::http::error::ApiError;
use crate::http::ledger::today_wib;
use crate::http::{load_village, AppState};
use crate::reports::regency;
use crate::reports::table::{Cell, Report};
use crate::reports::village::Period;
use crate::store::rows::{PaymentRecord, RegencyRow};
use crate::store::{ChainReport, StoreError, VillageFilter};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use maud::{html, Markup};

type State = web::Data<AppState>;

async fn inspector(req: &HttpRequest, ctx: &Ctx, state: &State) -> Result<(Principal, RegencyRow), HttpResponse> {
    let Some(s) = &ctx.session else { return Err(to_login(req)) };
    if crate::web::session::session_ended(ctx, state).await {
        return Err(to_login(req));
    }
    let p = s.principal.clone();
    if p.role() != Role::Inspector {
        return Err(error_page(ctx, StatusCode::FORBIDDEN, ctx.t("error_title"), ctx.t("forbidden_page")));
    }
    let id = p.0.regency_id.clone().unwrap_or_default();
    let db = state.db.clone();
    match blocking(move || db.get_regency(&id)).await {
        Ok(Some(r)) => Ok((p, r)),
        Ok(None) => Err(api_error_page(ctx, &ApiError::not_found())),
        Err(e) => Err(api_error_page(ctx, &e)),
    }
}

fn money_of(c: Option<&Cell>) -> i64 {
    match c {
        Some(Cell::Money(m)) => *m,
        _ => 0,
    }
}

fn text_of(c: Option<&Cell>) -> String {
    match c {
        Some(Cell::Text(t)) => t.clone(),
        _ => String::new(),
    }
}

fn pct(part: i64, whole: i64) -> f64 {
    if whole > 0 {
        part as f64 * 100.0 / whole as f64
    } else {
        0.0
    }
}

/// Realisation per village as a horizontal bar chart: spending realised of its ceiling, revenue received of its
/// budget. Server-rendered SVG with a title and description; the same figures are in the table below it.
fn chart(ctx: &Ctx, report: &Report) -> Markup {
    let rows: Vec<(String, f64, f64)> = report
        .sections
        .first()
        .map(|s| {
            s.rows
                .iter()
                .map(|r| {
                    let name = text_of(r.get(1));
                    let revenue = pct(money_of(r.get(3)), money_of(r.get(2)));
                    let spending = pct(money_of(r.get(6)), money_of(r.get(5)));
                    (name, spending, revenue)
                })
                .collect()
        })
        .unwrap_or_default();
    let scale = rows.iter().map(|(_, s, r)| s.max(*r)).fold(100.0_f64, f64::max);
    let (label_w, bar_w, row_h) = (170.0, 380.0, 46.0);
    let height = rows.len().max(1) as f64 * row_h + 40.0;
    let width = label_w + bar_w + 70.0;
    let x = |p: f64| label_w + p / scale * bar_w;
    html! {
        figure.chart {
            svg #realisation-chart viewBox={"0 0 " (width) " " (height)} role="img" aria-labelledby="chart-t chart-d" {
                title #chart-t { (ctx.t("chart_title")) }
                desc #chart-d {
                    @for (name, s, r) in &rows { (name) ": " (ctx.t("chart_spending")) " " (pct_text(ctx, *s)) ", " (ctx.t("chart_revenue")) " " (pct_text(ctx, *r)) ". " }
                }
                // Gridlines at 0, 50 and 100 %.
                @for g in [0.0, 50.0, 100.0] {
                    line.grid x1=(x(g)) x2=(x(g)) y1="0" y2=(height - 24.0) {}
                    text.axis x=(x(g)) y=(height - 8.0) text-anchor="middle" { (g) "%" }
                }
                @for (i, (name, s, r)) in rows.iter().enumerate() {
                    @let y = i as f64 * row_h + 6.0;
                    text.label x=(label_w - 8.0) y=(y + 20.0) text-anchor="end" { (truncate(name, 22)) }
                    rect.c-sp x=(label_w) y=(y) width=(format!("{:.2}", x(*s) - label_w)) height="16" {}
                    text.val x=(x(*s) + 4.0) y=(y + 13.0) { (pct_text(ctx, *s)) }
                    rect.c-rev x=(label_w) y=(y + 18.0) width=(format!("{:.2}", x(*r) - label_w)) height="16" {}
                    text.val x=(x(*r) + 4.0) y=(y + 31.0) { (pct_text(ctx, *r)) }
                }
            }
            figcaption {
                ul.legend {
                    li { span.sw.c-sp {} (ctx.t("chart_spending")) }
                    li { span.sw.c-rev {} (ctx.t("chart_revenue")) }
                }
            }
        }
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    } else {
        s.to_string()
    }
}

/// A percentage with one decimal, written the page language's way (Indonesian: `8,3%`).
fn pct_text(ctx: &Ctx, v: f64) -> String {
    let t = format!("{v:.1}%");
    match ctx.lang {
        crate::web::i18n::Lang::Id => t.replace('.', ","),
        crate::web::i18n::Lang::En => t,
    }
}

/// The evidence of an anomaly as a person reads it: labels in the page's language, amounts as money, requests as
/// links to their pages (by a short id), lists and nested records laid out, nothing as raw JSON.
fn evidence(ctx: &Ctx, v: &serde_json::Value) -> Markup {
    evidence_value(ctx, None, v)
}

fn is_amount(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    digits.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty() && a.bytes().all(|c| c.is_ascii_digit()) && b.len() == 2 && b.bytes().all(|c| c.is_ascii_digit())
    })
}

fn evidence_value(ctx: &Ctx, key: Option<&str>, v: &serde_json::Value) -> Markup {
    use serde_json::Value;
    let payment_link = |id: &str| html! { a.mono href={"/console/payments/" (id)} title=(id) { (id.chars().take(8).collect::<String>()) "…" } };
    html! {
        @match v {
            Value::Object(m) => {
                dl.evidence {
                    @for (k, v) in m {
                        dt { (crate::web::i18n::evidence_label(ctx.lang, k)) }
                        dd { (evidence_value(ctx, Some(k), v)) }
                    }
                }
            }
            Value::Array(items) => {
                ul.evidence {
                    @for item in items {
                        li { @if key == Some("payments") && item.is_string() { (payment_link(item.as_str().unwrap_or_default())) }
                             @else { (evidence_value(ctx, None, item)) }
                        }
                    }
                }
            }
            Value::String(s) if matches!(key, Some("payment_id") | Some("id")) && uuid::Uuid::parse_str(s).is_ok() => { (payment_link(s)) }
            Value::String(s) if matches!(key, Some("transaction_id") | Some("transfer_id")) => { span.mono title=(s) { (s.chars().take(8).collect::<String>()) "…" } }
            Value::String(s) if is_amount(s) => { (typed_money(ctx, s)) }
            Value::String(s) => { (s) }
            Value::Null => { "—" }
            other => { (other.to_string()) }
        }
    }
}

fn typed_money(ctx: &Ctx, s: &str) -> String {
    let negative = s.starts_with('-');
    match crate::domain::money::Money::parse(s.trim_start_matches('-')) {
        Ok(m) => crate::web::money(ctx.lang, if negative { -m.sen() } else { m.sen() }),
        Err(_) => s.to_string(),
    }
}

fn downloads(ctx: &Ctx, report: &str, year: i32, label: &'static str) -> Markup {
    html! {
        li {
            (ctx.t(label)) ": "
            @for (format, name) in super::DOWNLOAD_FORMATS {
                a.button href={"/console/download?report=" (report) "&year=" (year) "&format=" (format)} download { (name) }
                " "
            }
        }
    }
}

/// The anomalies: the village, the rule, what it found and the evidence (its times in the regency's zone).
fn anomaly_table(ctx: &Ctx, zone: Zone, items: &[serde_json::Value]) -> Markup {
    html! {
        div.scroll role="region" aria-labelledby="anom-h" tabindex="0" {
            table.anomalies {
                thead { tr {
                    th scope="col" { (ctx.t("col_village")) }
                    th scope="col" { (ctx.t("col_rule")) }
                    th scope="col" { (ctx.t("col_description")) }
                    th scope="col" { (ctx.t("col_evidence")) }
                } }
                tbody {
                    @for it in items {
                        tr {
                            td { a href={"/console/villages/" (it["village_id"].as_str().unwrap_or(""))} { (it["village_name"].as_str().unwrap_or("")) } }
                            td { (crate::web::i18n::rule_title(ctx.lang, it["rule"].as_str().unwrap_or(""))) }
                            td { (crate::web::i18n::rule_text(ctx.lang, it["rule"].as_str().unwrap_or(""), it["description"].as_str().unwrap_or(""))) }
                            td { (evidence(ctx, &zone.localise_json(&it["evidence"]))) }
                        }
                    }
                }
            }
        }
    }
}

/// Withheld tax not deposited by its deadline, per village and tax: what is outstanding and the oldest deadline
/// missed (from the `tax_not_deposited` findings).
fn overdue_taxes(ctx: &Ctx, items: &[serde_json::Value]) -> Markup {
    let overdue: Vec<&serde_json::Value> = items.iter().filter(|i| i["rule"] == "tax_not_deposited").collect();
    let outstanding = |it: &serde_json::Value| -> (i64, String) {
        let ws = it["evidence"]["withholdings"].as_array().cloned().unwrap_or_default();
        let sen: i64 = ws
            .iter()
            .filter_map(|w| w["outstanding"].as_str())
            .filter_map(|a| crate::domain::money::Money::parse(a).ok())
            .map(|m| m.sen())
            .sum();
        let oldest = ws.iter().filter_map(|w| w["deadline"].as_str()).min().unwrap_or("").to_string();
        (sen, oldest)
    };
    html! {
        section #overdue-taxes aria-labelledby="tax-h" {
            h2 #tax-h { (ctx.t("overdue_taxes")) " (" (overdue.len()) ")" }
            @if overdue.is_empty() { p { (ctx.t("no_overdue_taxes")) } }
            @else {
                div.scroll role="region" aria-labelledby="tax-h" tabindex="0" {
                    table {
                        thead { tr {
                            th scope="col" { (ctx.t("col_village")) }
                            th scope="col" { (ctx.t("col_tax")) }
                            th scope="col" class="num" { (ctx.t("col_outstanding")) }
                            th scope="col" { (ctx.t("col_deadline")) }
                        } }
                        tbody {
                            @for it in &overdue {
                                @let (sen, oldest) = outstanding(it);
                                tr {
                                    td { a href={"/console/villages/" (it["village_id"].as_str().unwrap_or(""))} { (it["village_name"].as_str().unwrap_or("")) } }
                                    td { (it["evidence"]["tax"].as_str().unwrap_or("")) }
                                    td.num { (crate::web::money(ctx.lang, sen)) }
                                    td { (chrono::NaiveDate::parse_from_str(&oldest, "%Y-%m-%d").map(|d| d.format("%d-%m-%Y").to_string()).unwrap_or(oldest)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

pub async fn dashboard(req: HttpRequest, state: State) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let (_, regency) = match inspector(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let year = year_param(&ctx);
    let rules = state.settings.anomalies.clone();
    let tax = state.settings.tax.clone();
    let anchor = state.anchor.verifying();
    let db = state.db.clone();
    let r = regency.clone();
    let loaded = blocking(move || {
        let period = Period::new(year, None, None).map_err(StoreError::Validation)?;
        let as_of = today_wib().min(NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_else(today_wib));
        let realisation = regency::realisation(&db, &r, &period)?;
        let anomalies = regency::anomalies(
            &db,
            &r,
            &period,
            as_of,
            &regency::Rulebook { anomalies: &rules, tax: &tax, anchor: &anchor },
        )?;
        let villages = db.list_villages(VillageFilter::Regency(&r.id))?;
        Ok((realisation, anomalies, villages))
    })
    .await;
    let (realisation, anomalies, villages) = match loaded {
        Ok(x) => x,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let items = anomalies.extra.get("items").and_then(|v| v.as_array()).cloned().unwrap_or_default();
    let body = html! {
        h1 { (ctx.t("dashboard_title")) ": " (regency.name) " " (year) }
        (year_form(&ctx, "/console/dashboard", year))
        section aria-labelledby="chart-h" {
            h2 #chart-h { (ctx.t("chart_title")) }
            (chart(&ctx, &realisation))
            @for s in &realisation.sections { (report_table(&ctx, s, ctx.t("regency_realisation"))) }
        }
        (overdue_taxes(&ctx, &items))
        section #anomalies aria-labelledby="anom-h" {
            h2 #anom-h { (ctx.t("anomalies")) " (" (items.len()) ")" }
            @if items.is_empty() { p { (ctx.t("no_anomalies")) } }
            @else { (anomaly_table(&ctx, Zone::of_regency(&regency), &items)) }
        }
        section aria-labelledby="dl-h" {
            h2 #dl-h { (ctx.t("downloads")) }
            ul.downloads {
                (downloads(&ctx, "regency-realisation", year, "regency_realisation"))
                (downloads(&ctx, "anomalies", year, "anomalies"))
            }
        }
        section aria-labelledby="vil-h" {
            h2 #vil-h { (ctx.t("villages")) }
            ul.villages {
                @for v in &villages {
                    li { a href={"/console/villages/" (v.id) "?year=" (year)} { (v.name) } " " span.mono { "(" (v.code) ")" } }
                }
            }
        }
    };
    page(&ctx, StatusCode::OK, ctx.t("dashboard_title"), body)
}

/// The village's hash chain verification: intact, or where it breaks and which stored figures disagree.
fn chain_card(ctx: &Ctx, chain: &ChainReport) -> Markup {
    html! {
        section.card #chain aria-labelledby="chain-h" {
            h2 #chain-h { (ctx.t("chain")) }
            @if chain.ok {
                p.ok role="status" { "✓ " (ctx.t("chain_ok").replace("{n}", &chain.checked.to_string())) }
            } @else {
                div.alert role="alert" {
                    p { strong { (ctx.t("chain_broken")) } }
                    @if let Some(b) = &chain.first_broken { p.mono { "chain_seq " (b.chain_seq) ": " (b.reason) } }
                    @for a in &chain.balance_mismatches { p.mono { (a) } }
                    @for p in &chain.payment_mismatches { p.mono { (p) } }
                    @for t in &chain.transfer_mismatches { p.mono { (t) } }
                    @for m in &chain.fact_mismatches { p.mono { (m.kind.as_str()) " " (m.subject) ": " (m.finding.as_str()) } }
                    @for p in &chain.position_mismatches { p.mono { (p) } }
                }
            }
        }
    }
}

/// Every payment request of the village, newest first (dated by the local day), each with its trail in one line.
fn village_payments(ctx: &Ctx, zone: Zone, payments: &[PaymentRecord]) -> Markup {
    html! {
        section aria-labelledby="pay-h" {
            h2 #pay-h { (ctx.t("payments")) }
            @if payments.is_empty() { p { (ctx.t("none_yet")) } }
            @else {
                div.scroll role="region" aria-labelledby="pay-h" tabindex="0" {
                    table {
                        thead { tr {
                            th scope="col" { (ctx.t("col_date")) }
                            th scope="col" { (ctx.t("col_description")) }
                            th scope="col" class="num" { (ctx.t("col_gross")) }
                            th scope="col" { (ctx.t("col_status")) }
                            th scope="col" { (ctx.t("trail")) }
                        } }
                        tbody {
                            @for r in payments {
                                @let p = &r.payment;
                                tr {
                                    td { (zone.date(p.created_at)) }
                                    td { a href={"/console/payments/" (p.id)} { (p.description) } }
                                    td.num { (money(ctx.lang, p.gross)) }
                                    td { (status_badge(ctx, p.status.as_str())) }
                                    td { small { @for (i, e) in r.events.iter().enumerate() {
                                        @if i > 0 { " → " } (super::i18n::action(ctx.lang, &e.action)) " (" (e.actor_name) ")"
                                    } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Requests per page of the inspector's village page (each with its trail): a page stays small on a slow link.
const VILLAGE_PAGE: i64 = 50;

/// One village as the inspector sees it: chain verification, payment requests (each with its trail), the budget,
/// balances, the cash book and the downloads.
pub async fn village(req: HttpRequest, state: State, path: web::Path<String>) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let (who, regency) = match inspector(&req, &ctx, &state).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let village = match load_village(&state, &path).await {
        Ok(v) => v,
        Err(e) => return api_error_page(&ctx, &e),
    };
    if let Err(e) = who.require(&village, READERS) {
        return api_error_page(&ctx, &e);
    }
    let year = year_param(&ctx);
    // A page of the requests, newest first, from `?after=` (the last id of the previous page).
    let after =
        ctx.q("after").map(str::trim).filter(|a| crate::domain::ids::PaymentId::parse(a).is_some()).map(str::to_string);
    let db = state.db.clone();
    let vid = village.id.clone();
    let anchor = state.anchor.verifying();
    let from = after.clone();
    let loaded = blocking(move || {
        let chain = db.verify_chain(&vid, Some(crate::store::Anchors { key: &anchor, supplied: &[] }))?;
        let page = crate::store::PaymentQuery {
            newest_first: true,
            after: from.as_deref(),
            limit: VILLAGE_PAGE + 1,
            ..Default::default()
        };
        let payments = db.find_payments(&vid, &page)?;
        let budget = db.get_budget(&vid, year)?;
        Ok((chain, payments, budget))
    })
    .await;
    let (chain, mut payments, budget) = match loaded {
        Ok(x) => x,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let more = payments.len() as i64 > VILLAGE_PAGE;
    payments.truncate(VILLAGE_PAGE as usize);
    let books = match village_books(&ctx, &state, &village, year).await {
        Ok(m) => m,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let body = html! {
        p { a href={"/console/dashboard?year=" (year)} { "← " (ctx.t("dashboard")) } }
        h1 { (village.name) " (" (village.code) ") " (year) }
        (chain_card(&ctx, &chain))
        (village_payments(&ctx, Zone::of_regency(&regency), &payments))
        nav.pager aria-label=(ctx.t("payments")) {
            @if after.is_some() {
                a.button href={"/console/villages/" (village.id) "?year=" (year) "#pay-h"} { (ctx.t("newest_requests")) }
            }
            @if let (true, Some(last)) = (more, payments.last()) {
                a.button #older href={"/console/villages/" (village.id) "?year=" (year) "&after=" (last.payment.id) "#pay-h"} { (ctx.t("older_requests")) }
            }
        }
        section aria-labelledby="bud-h" {
            h2 #bud-h { (ctx.t("budget_title")) }
            @match &budget {
                None => p { (ctx.t("no_budget")) },
                Some(b) => { (legend(&ctx)) (budget_table(&ctx, &b.positions)) }
            }
        }
        h2 { (ctx.t("village_books")) }
        (books)
    };
    page(&ctx, StatusCode::OK, &village.name, body)
}
