//! Balances, the cash book and the downloads of a village.

use super::{official, State};
use crate::http::error::ApiError;
use crate::store::rows::VillageRow;
use crate::web::layout::{report_table, year_form};
use crate::web::{api_error_page, blocking, money, page, year_param, Ctx};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use maud::{html, Markup};

/// A report's CSV, XLSX and PDF download buttons for a village and year.
fn download_item(ctx: &Ctx, report: &str, label: &'static str, village: &VillageRow, year: i32) -> Markup {
    download_item_with(ctx, report, label, village, year, "")
}

/// A download with more of the report's query (`&account=…`).
fn download_item_with(
    ctx: &Ctx,
    report: &str,
    label: &'static str,
    village: &VillageRow,
    year: i32,
    extra: &str,
) -> Markup {
    html! {
        li {
            (ctx.t(label)) ": "
            @for (format, name) in super::super::DOWNLOAD_FORMATS {
                a.button href={"/console/download?report=" (report) "&village=" (village.id) "&year=" (year) (extra) "&format=" (format)} download { (name) }
                " "
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
    let dl = |report: &str, label: &'static str| download_item(ctx, report, label, village, year);
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
                                td.num { (money(ctx.lang, if a.normal_side == crate::domain::accounts::Side::Credit { -a.balance } else { a.balance })) }
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
                (dl("wealth", "wealth"))
                (dl("trial-balance", "trial_balance"))
                (download_item_with(ctx, "general-ledger", "general_ledger_bank", village, year, "&account=1.1.1.02"))
                (dl("reconciliation", "reconciliation"))
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
