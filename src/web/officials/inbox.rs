//! The inbox: the requests waiting for my step, then the village's latest requests.

use super::{official, State};
use crate::domain::roles::Role;
use crate::store::rows::PaymentRecord;
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
                                td { a href={"/console/payments/" (p.id)} { (p.description) } }
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
            (payment_rows(&ctx, zone, &all, ctx.t("all_requests")))
        }
    };
    page(&ctx, StatusCode::OK, ctx.t("inbox"), body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::workflow::PaymentStatus;

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
}
