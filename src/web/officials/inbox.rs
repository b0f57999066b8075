//! The inbox: the requests waiting for my step, then the village's latest requests.

use super::{official, State};
use crate::domain::ids::PaymentId;
use crate::domain::roles::Role;
use crate::domain::workflow::PaymentStatus;
use crate::store::rows::PaymentRecord;
use crate::store::PaymentQuery;
use crate::web::layout::{done_notice, status_badge};
use crate::web::zone::{zone_of, Zone};
use crate::web::{api_error_page, blocking, money, page, Ctx};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use maud::{html, Markup};

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

/// How many requests a page of the village's list shows, and the most the waiting list shows.
const PAGE: i64 = 50;
const WAITING_MAX: i64 = 500;

/// What the list of every request is filtered by, from the page's query: `?q=` (payee or description),
/// `?status=`, and `?after=` (the last request of the previous, newer page).
#[derive(Debug, Clone, Default)]
struct ListFilter {
    search: Option<String>,
    status: Option<String>,
    after: Option<String>,
}

impl ListFilter {
    fn from_ctx(ctx: &Ctx) -> ListFilter {
        let text = |k: &str| ctx.q(k).map(str::trim).filter(|v| !v.is_empty() && v.chars().count() <= 100);
        ListFilter {
            search: text("q").map(str::to_string),
            status: text("status").filter(|s| PaymentStatus::parse(s).is_some()).map(str::to_string),
            after: text("after").filter(|a| PaymentId::parse(a).is_some()).map(str::to_string),
        }
    }

    /// The inbox with this filter, from `after` (None: the newest page).
    fn link(&self, after: Option<&str>) -> String {
        let mut q: Vec<(&str, &str)> = Vec::new();
        if let Some(s) = &self.search {
            q.push(("q", s));
        }
        if let Some(s) = &self.status {
            q.push(("status", s));
        }
        if let Some(a) = after {
            q.push(("after", a));
        }
        let query: Vec<String> =
            q.iter().map(|(k, v)| format!("{k}={}", crate::web::percent_encode(v, b"~"))).collect();
        if query.is_empty() {
            "/console/inbox#all".into()
        } else {
            format!("/console/inbox?{}#all", query.join("&"))
        }
    }
}

/// Search by payee or description and filter by status (a GET form: the list's address can be shared).
fn filter_form(ctx: &Ctx, f: &ListFilter) -> Markup {
    html! {
        form.filters method="get" action="/console/inbox#all" role="search" {
            label for="q" { (ctx.t("search_requests")) }
            input #q type="search" name="q" value=(f.search.as_deref().unwrap_or("")) maxlength="100";
            label for="status" { (ctx.t("col_status")) }
            select #status name="status" {
                option value="" { (ctx.t("all_statuses")) }
                @for s in PaymentStatus::ALL {
                    option value=(s.as_str()) selected[f.status.as_deref() == Some(s.as_str())] {
                        (crate::web::i18n::status(ctx.lang, s.as_str()))
                    }
                }
            }
            button type="submit" { (ctx.t("search")) }
        }
    }
}

/// Requests as a table, each dated by the local day it was made.
fn payment_rows(ctx: &Ctx, zone: Zone, rows: &[PaymentRecord], caption: &str) -> Markup {
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
                                td { (zone.date(p.created_at)) }
                                td {
                                    a href={"/console/payments/" (p.id)} { (p.description) }
                                    @if let Some(n) = &p.number { br; small.mono { (n) } }
                                }
                                td { (p.payee_name) }
                                td.num { (money(ctx.lang, p.net)) }
                                td { (status_badge(ctx, p.status.as_str())) }
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
    let filter = ListFilter::from_ctx(&ctx);
    let f = filter.clone();
    let loaded = blocking(move || {
        let mut waiting = Vec::new();
        for s in statuses {
            let q = PaymentQuery { status: Some(s), limit: WAITING_MAX, ..PaymentQuery::default() };
            waiting.extend(db.find_payments(&vid, &q)?);
        }
        waiting.sort_by_key(|a| a.payment.created_at);
        // One page of every request, newest first; one more than the page tells whether there is an older one.
        let q = PaymentQuery {
            status: f.status.as_deref(),
            search: f.search.as_deref(),
            after: f.after.as_deref(),
            newest_first: true,
            limit: PAGE + 1,
            ..PaymentQuery::default()
        };
        let mut all = db.find_payments(&vid, &q)?;
        let more = all.len() > PAGE as usize;
        all.truncate(PAGE as usize);
        Ok((waiting, all, more))
    })
    .await;
    let (waiting, all, more) = match loaded {
        Ok(x) => x,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let zone = match zone_of(&state, &village.regency_id).await {
        Ok(z) => z,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let body = html! {
        h1 { (village.name) " — " (ctx.t("inbox")) }
        (done_notice(&ctx))
        section #waiting aria-labelledby="waiting-h" {
            h2 #waiting-h { (ctx.t("inbox_title")) " (" (waiting.len()) ")" }
            @if waiting.is_empty() { p.empty { (ctx.t("inbox_empty")) } }
            @else { (payment_rows(&ctx, zone, &waiting, ctx.t("inbox_title"))) }
            @if who.role() == Role::Implementer {
                p { a.button.primary href="/console/payments/new" { (ctx.t("new_payment")) } }
            }
        }
        section #all aria-labelledby="all-h" {
            h2 #all-h { (ctx.t("all_requests")) }
            (filter_form(&ctx, &filter))
            (payment_rows(&ctx, zone, &all, ctx.t("all_requests")))
            nav.pager aria-label=(ctx.t("all_requests")) {
                @if filter.after.is_some() {
                    a.button href=(filter.link(None)) { (ctx.t("newest_requests")) }
                }
                @if let (true, Some(last)) = (more, all.last()) {
                    a.button #older href=(filter.link(Some(last.payment.id.as_str()))) { (ctx.t("older_requests")) }
                }
            }
        }
    };
    page(&ctx, StatusCode::OK, ctx.t("inbox"), body)
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
    fn list_links_keep_the_filter() {
        let f = ListFilter { search: Some("Toko & Co".into()), status: Some("paid".into()), after: None };
        assert_eq!(f.link(Some("0190")), "/console/inbox?q=Toko%20%26%20Co&status=paid&after=0190#all");
        assert_eq!(ListFilter::default().link(None), "/console/inbox#all");
    }
}
