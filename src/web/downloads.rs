//! Report downloads for the console's buttons: the API's own reports (`http::reports`), behind the console's
//! session instead of a bearer token, for the village or regency of the signed-in person. CSV or XLSX. Times are
//! in the regency's zone (the trail's column, the anomalies' evidence), as everywhere in the console.

use super::session::to_login;
use super::zone::{zone_of, Zone};
use super::{api_error_page, blocking, year_param, Ctx};
use crate::domain::roles::Role;
use crate::http::auth::READERS;
use crate::http::error::ApiError;
use crate::http::reports::{self as api, respond, Format, Plan, ReportQuery};
use crate::http::{load_village, AppState};
use crate::reports::table::{Cell, Report};
use crate::reports::village;
use actix_web::{web, HttpRequest, HttpResponse};

/// The reports the console offers as downloads.
const DOWNLOADS: [&str; 12] = [
    "cash-book",
    "trial-balance",
    "general-ledger",
    "reconciliation",
    "bank-book",
    "tax-book",
    "realisation",
    "wealth",
    "regency-realisation",
    "anomalies",
    "trail",
    "document",
];

pub async fn download(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    if ctx.session.is_none() || crate::web::session::session_ended(&ctx, &state).await {
        return to_login(&req);
    }
    let built = match build(&ctx, &state).await {
        Ok(b) => b,
        Err(e) => return api_error_page(&ctx, &e),
    };
    let (report, stem, format, village, signing, payee) = built;
    let signers = match (format, village) {
        (Format::Pdf, Some(v)) => match api::signers_of(&state, signing, v, payee.as_deref()).await {
            Ok(s) => s,
            Err(e) => return api_error_page(&ctx, &e),
        },
        _ => None,
    };
    respond(report, format, &stem, signers.as_ref()).unwrap_or_else(|e| api_error_page(&ctx, &e))
}

/// The report, its file's stem, the format, and for the signature block the village, whose signatures and the payee.
type Built = (Report, String, Format, Option<crate::store::rows::VillageRow>, api::Signing, Option<String>);

async fn build(ctx: &Ctx, state: &web::Data<AppState>) -> Result<Built, ApiError> {
    let who = ctx.session.as_ref().map(|s| s.principal.clone()).ok_or_else(|| ApiError::unauthorized("no session"))?;
    // A file: any format but JSON.
    let format = match ctx.q("format").and_then(Format::named) {
        Some(f) if f != Format::Json => f,
        _ => return Err(ApiError::validation("format must be csv, csv-excel, xlsx or pdf")),
    };
    let year = year_param(ctx);
    // The trial balance at the year's end, or today within the current year; the general ledger of `account`.
    let year_end = chrono::NaiveDate::from_ymd_opt(year, 12, 31);
    let at = year_end.map(|end| end.min(crate::http::ledger::today_wib()));
    let query =
        ReportQuery { year: Some(year), at, account: ctx.q("account").map(str::to_string), ..ReportQuery::default() };
    let name = ctx.q("report").unwrap_or("");
    let def = api::find(name).filter(|d| DOWNLOADS.contains(&d.name)).ok_or_else(ApiError::not_found)?;
    let mut payee = None;
    let (report, stem, village) = match def.plan {
        Plan::Village(plan) => {
            let vid = ctx.q("village").map(str::to_string).or_else(|| who.0.village_id.clone()).unwrap_or_default();
            let v = load_village(state, &vid).await?;
            who.require(&v, READERS)?;
            let (report, stem) = plan(v.clone(), &query)?.run(state).await?;
            (report, stem, Some(v))
        }
        Plan::Regency(plan) => {
            if who.role() != Role::Inspector {
                return Err(ApiError::forbidden());
            }
            let rid = who.0.regency_id.clone().unwrap_or_default();
            let db = state.db.clone();
            let regency = blocking(move || db.get_regency(&rid)).await?.ok_or_else(ApiError::not_found)?;
            let zone = Zone::of_regency(&regency);
            let (mut report, stem) = plan(regency, &query, state)?.run(state).await?;
            local_evidence(&mut report, zone);
            (report, stem, None)
        }
        Plan::Payment(plan) => {
            let pid = ctx.q("payment").unwrap_or("").to_string();
            let db = state.db.clone();
            let rec = blocking(move || db.get_payment(&pid)).await?.ok_or_else(ApiError::not_found)?;
            let v = load_village(state, &rec.payment.village_id).await?;
            who.require(&v, READERS)?;
            payee = rec.receipts.is_empty().then(|| rec.payment.payee_name.clone());
            if def.name != api::TRAIL.name {
                let (report, stem) = plan(rec, v.clone())?.run(state).await?;
                return Ok((report, stem, format, Some(v), def.signing, payee));
            }
            // The API's trail, with its times in the regency's zone instead of RFC 3339 UTC.
            let zone = zone_of(state, &v.regency_id).await?;
            let report = village::approval_trail_at(&rec, &v.code, zone.when_heading(), |at| zone.time(at));
            (report, rec.payment.id.to_string(), Some(v))
        }
    };
    Ok((report, stem, format, village, def.signing, payee))
}

/// The times in a report's evidence column (the anomalies') in the regency's zone.
fn local_evidence(report: &mut Report, zone: Zone) {
    for s in &mut report.sections {
        let Some(at) = s.columns.iter().position(|c| c.key == "evidence") else { continue };
        for row in &mut s.rows {
            if let Some(Cell::Text(t)) = row.get_mut(at) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(t) {
                    *t = zone.localise_json(&v).to_string();
                }
            }
        }
    }
}
