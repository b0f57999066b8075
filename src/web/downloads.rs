//! Report downloads for the console's buttons: the same report builders as the API's report endpoints, behind
//! the console's session instead of a bearer token. CSV or XLSX.

use super::session::to_login;
use super::{api_error_page, blocking, year_param, Ctx};
use crate::domain::roles::Role;
use crate::http::auth::READERS;
use crate::http::error::ApiError;
use crate::http::ledger::today_wib;
use crate::http::reports::{respond, Format};
use crate::http::{load_village, AppState};
use crate::reports::table::Report;
use crate::reports::{regency, village};
use crate::store::StoreError;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;

pub async fn download(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    if ctx.session.is_none() {
        return to_login(&req);
    }
    match build(&ctx, &state).await {
        Ok((report, stem, format)) => respond(report, format, &stem).unwrap_or_else(|e| api_error_page(&ctx, &e)),
        Err(e) => api_error_page(&ctx, &e),
    }
}

async fn build(ctx: &Ctx, state: &web::Data<AppState>) -> Result<(Report, String, Format), ApiError> {
    let who = ctx.session.as_ref().map(|s| s.principal.clone()).ok_or_else(|| ApiError::unauthorized("no session"))?;
    let format = match ctx.q("format") {
        Some("csv") => Format::Csv,
        Some("xlsx") => Format::Xlsx,
        _ => return Err(ApiError::validation("format must be csv or xlsx")),
    };
    let year = year_param(ctx);
    let period = village::Period::new(year, None, None).map_err(ApiError::validation)?;
    let db = state.db.clone();
    let report = ctx.q("report").unwrap_or("");
    match report {
        "cash-book" | "bank-book" | "tax-book" | "realisation" => {
            let vid = ctx.q("village").map(str::to_string).or_else(|| who.0.village_id.clone()).unwrap_or_default();
            let v = load_village(state, &vid).await?;
            who.require(&v, READERS)?;
            let build: fn(
                &crate::store::Db,
                &crate::store::rows::VillageRow,
                &village::Period,
            ) -> Result<Report, StoreError> = match report {
                "cash-book" => village::cash_book,
                "bank-book" => village::bank_book,
                "tax-book" => village::tax_book,
                _ => village::realisation,
            };
            let stem = format!("{}-{}", v.code, year);
            let r = blocking(move || build(&db, &v, &period)).await?;
            Ok((r, stem, format))
        }
        "regency-realisation" | "anomalies" => {
            if who.role() != Role::Inspector {
                return Err(ApiError::forbidden());
            }
            let rid = who.0.regency_id.clone().unwrap_or_default();
            let rules = state.settings.anomalies.clone();
            let is_anomalies = report == "anomalies";
            let r = blocking(move || {
                let Some(reg) = db.get_regency(&rid)? else { return Err(StoreError::NotFound("regency")) };
                let stem = format!("{}-{}", reg.code, year);
                let report = if is_anomalies {
                    let as_of = today_wib().min(NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or_else(today_wib));
                    regency::anomalies(&db, &reg, &period, as_of, &rules)?
                } else {
                    regency::realisation(&db, &reg, &period)?
                };
                Ok((report, stem))
            })
            .await?;
            Ok((r.0, r.1, format))
        }
        "trail" => {
            let pid = ctx.q("payment").unwrap_or("").to_string();
            let rec = blocking(move || db.get_payment(&pid)).await?.ok_or_else(ApiError::not_found)?;
            let v = load_village(state, &rec.payment.village_id).await?;
            who.require(&v, READERS)?;
            Ok((crate::reports::village::approval_trail(&rec, &v.code), rec.payment.id.clone(), format))
        }
        _ => Err(ApiError::not_found()),
    }
}
