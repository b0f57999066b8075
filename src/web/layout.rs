//! The page shell (header, navigation, language switch, logout) and the pieces shared by pages: messages, error
//! blocks, report tables, bars.

use super::i18n::{self, Lang};
use super::{money, Ctx};
use crate::domain::roles::Role;
use crate::http::error::{ApiError, ErrorCode};
use crate::reports::table::{Cell, Kind, Section};
use maud::{html, Markup, DOCTYPE};

pub fn shell(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    let other = match ctx.lang {
        Lang::Id => (Lang::En, "English"),
        Lang::En => (Lang::Id, "Bahasa Indonesia"),
    };
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (ctx.t("app_name")) }
                link rel="stylesheet" href="/console/assets/console.css";
                link rel="icon" type="image/svg+xml" href="/console/assets/favicon.svg";
                script src="/console/assets/console.js" defer {}
            }
            body {
                a.skip href="#main" { (ctx.t("skip")) }
                header.top {
                    div.brand { a href="/console" { (ctx.t("app_name")) } }
                    @if let Some(s) = &ctx.session {
                        nav aria-label=(ctx.t("nav")) {
                            ul {
                                @match s.principal.role() {
                                    r if r.is_village_role() => {
                                        li { a href="/console/inbox" { (ctx.t("inbox")) } }
                                        @if r == Role::Implementer {
                                            li { a href="/console/payments/new" { (ctx.t("new_payment")) } }
                                        }
                                        @if r == Role::Treasurer {
                                            li { a href="/console/cash" { (ctx.t("nav_cash")) } }
                                        }
                                        li { a href="/console/budget" { (ctx.t("budget")) } }
                                        li { a href="/console/books" { (ctx.t("books")) } }
                                    }
                                    Role::Inspector => {
                                        li { a href="/console/dashboard" { (ctx.t("dashboard")) } }
                                    }
                                    _ => {}
                                }
                            }
                        }
                        div.who {
                            span { span.wide { (ctx.t("signed_in_as")) " " } strong { (s.name()) } span.wide { " (" (i18n::role(ctx.lang, s.principal.role().as_str())) ")" } }
                            form.inline method="post" action="/console/logout" {
                                input type="hidden" name="csrf" value=(s.csrf);
                                button.link type="submit" { (ctx.t("logout")) }
                            }
                        }
                    }
                    div.lang {
                        a href=(lang_link(ctx, other.0)) hreflang=(other.0.code()) lang=(other.0.code()) { (other.1) }
                    }
                }
                main #main tabindex="-1" { (body) }
            }
        }
    }
}

/// This page again in another language.
fn lang_link(ctx: &Ctx, lang: Lang) -> String {
    let (path, query) = ctx.here.split_once('?').unwrap_or((&ctx.here, ""));
    let kept: Vec<&str> = query.split('&').filter(|p| !p.is_empty() && !p.starts_with("lang=")).collect();
    let mut q = kept.join("&");
    if !q.is_empty() {
        q.push('&');
    }
    format!("{path}?{q}lang={}", lang.code())
}

pub fn message(ctx: &Ctx, title: &str, text: &str) -> Markup {
    html! {
        section.card {
            h1 { (title) }
            p { (text) }
            p { a href="/console" { (ctx.t("back")) } }
        }
    }
}

/// A plain-language error, with the figures where the API gives some, and the API's own wording folded away.
pub fn error_alert(ctx: &Ctx, e: &ApiError) -> Markup {
    html! {
        div.alert role="alert" {
            p { strong { (i18n::error_message(ctx.lang, e)) } }
            @if e.code == ErrorCode::BudgetExceeded {
                @if let Some(serde_json::Value::Array(lines)) = &e.errors {
                    ul {
                        @for l in lines {
                            li {
                                (l["account_code"].as_str().unwrap_or("")) " · " (l["activity_code"].as_str().unwrap_or("-"))
                                " · " (l["source"].as_str().unwrap_or("")) ": "
                                (ctx.t("col_amount")) " " (decimal_money(ctx.lang, &l["requested"])) ", "
                                (ctx.t("col_available")) " " (decimal_money(ctx.lang, &l["available"])) " / "
                                (ctx.t("col_ceiling")) " " (decimal_money(ctx.lang, &l["ceiling"]))
                            }
                        }
                    }
                }
            }
            @if e.code == ErrorCode::InsufficientFunds {
                @if let Some(v) = &e.errors {
                    p { (ctx.t("col_balance")) " " (decimal_money(ctx.lang, &v["balance"])) "; " (ctx.t("col_amount")) " " (decimal_money(ctx.lang, &v["needed"])) }
                }
            }
            details {
                summary { (ctx.t("technical")) }
                p.mono { (e.code.as_str()) ": " (e.detail) }
            }
        }
    }
}

/// An API amount string ("1500000.00") in the language's format; anything else as it is.
fn decimal_money(lang: Lang, v: &serde_json::Value) -> String {
    let s = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
    let (int, frac) = s.split_once('.').unwrap_or((&s, "0"));
    let neg = int.starts_with('-');
    match (int.trim_start_matches('-').parse::<i64>(), format!("{frac:0<2}")[..2].parse::<i64>()) {
        (Ok(i), Ok(f)) => money(lang, if neg { -(i * 100 + f) } else { i * 100 + f }),
        _ => s,
    }
}

pub fn error_block(ctx: &Ctx, e: &ApiError) -> Markup {
    html! {
        section.card {
            h1 { (ctx.t("error_title")) }
            (error_alert(ctx, e))
            p { a href="/console" { (ctx.t("back")) } }
        }
    }
}

pub fn status_badge(ctx: &Ctx, status: &str) -> Markup {
    html! { span class={"badge s-" (status)} { (i18n::status(ctx.lang, status)) } }
}

fn cell_text(lang: Lang, c: &Cell) -> String {
    match c {
        Cell::Empty => String::new(),
        Cell::Text(s) => s.clone(),
        Cell::Int(i) => i.to_string(),
        Cell::Money(m) => money(lang, *m),
        Cell::Date(d) => d.format("%d-%m-%Y").to_string(),
        Cell::Percent(Some(p)) => crate::web::percent_text(lang, *p),
        Cell::Percent(None) => "–".into(),
    }
}

/// One section of a report as an accessible table (headings as the report has them, in Bahasa Indonesia).
pub fn report_table(ctx: &Ctx, s: &Section, caption: &str) -> Markup {
    html! {
        div.scroll role="region" aria-label=(caption) tabindex="0" {
            table {
                caption { (caption) }
                thead { tr { @for c in &s.columns { th scope="col" class=[numeric(c.kind)] { (c.heading) } } } }
                tbody {
                    @if s.rows.is_empty() {
                        tr { td colspan=(s.columns.len()) { (ctx.t("empty_report")) } }
                    }
                    @for r in &s.rows {
                        tr { @for (c, col) in r.iter().zip(&s.columns) { td class=[numeric(col.kind)] { (cell_text(ctx.lang, c)) } } }
                    }
                }
                @if let Some(t) = &s.totals {
                    tfoot { tr { @for (c, col) in t.iter().zip(&s.columns) { td class=[numeric(col.kind)] { (cell_text(ctx.lang, c)) } } } }
                }
            }
        }
    }
}

fn numeric(k: Kind) -> Option<&'static str> {
    matches!(k, Kind::Money | Kind::Int | Kind::Percent).then_some("num")
}

/// A stacked bar: realised, committed, available, of a ceiling. SVG with presentation attributes (no inline
/// style, so the CSP holds), described for screen readers.
pub fn budget_bar(ctx: &Ctx, ceiling: i64, committed: i64, realised: i64) -> Markup {
    let pct = |v: i64| if ceiling > 0 { (v.max(0) as f64 * 100.0 / ceiling as f64).min(100.0) } else { 0.0 };
    let (r, c) = (pct(realised), pct(committed));
    let c = c.min(100.0 - r);
    let label = format!(
        "{} {}, {} {}, {} {}",
        ctx.t("legend_realised"),
        money(ctx.lang, realised),
        ctx.t("col_committed"),
        money(ctx.lang, committed),
        ctx.t("legend_available"),
        money(ctx.lang, ceiling - committed - realised)
    );
    html! {
        svg.bar viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label=(label) {
            title { (label) }
            rect.b-avail x="0" y="0" width="100" height="6" {}
            rect.b-real x="0" y="0" width=(format!("{r:.2}")) height="6" {}
            rect.b-comm x=(format!("{r:.2}")) y="0" width=(format!("{c:.2}")) height="6" {}
        }
    }
}

pub fn legend(ctx: &Ctx) -> Markup {
    html! {
        ul.legend aria-hidden="true" {
            li { span.sw.b-real {} (ctx.t("legend_realised")) }
            li { span.sw.b-comm {} (ctx.t("legend_committed")) }
            li { span.sw.b-avail {} (ctx.t("legend_available")) }
        }
    }
}

/// A success notice after a redirect (`?done=`).
pub fn done_notice(ctx: &Ctx) -> Markup {
    html! {
        @if let Some(a) = ctx.q("done") {
            p.notice role="status" { (i18n::action_done(ctx.lang, a)) }
        }
    }
}

/// The year chooser of the pages with a `?year=`.
pub fn year_form(ctx: &Ctx, action: &str, year: i32) -> Markup {
    html! {
        form.inline.year method="get" action=(action) {
            label for="year" { (ctx.t("year")) }
            input #year type="number" name="year" value=(year) min="2000" max="2100";
            button type="submit" { (ctx.t("show")) }
        }
    }
}
