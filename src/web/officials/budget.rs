//! The budget page: each line's ceiling, committed, realised and available, with bars.

use super::{official, State};
use crate::store::rows::BudgetPositionRow;
use crate::web::layout::{budget_bar, legend, year_form};
use crate::web::{api_error_page, blocking, money, page, year_param, Ctx};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use maud::{html, Markup};

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

/// The budget's lines as a table with a bar each (also on the inspector's village page).
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
