//! Report endpoints: the village books and statements, the approval trail, and the regency roll-ups, each as JSON
//! (default), CSV or XLSX (`?format=`).

use super::auth::{Principal, READERS};
use super::error::{ApiError, Problem};
use super::ledger::today_wib;
use super::{blocking, load_village, State};
use crate::domain::roles::Role;
use crate::reports::regency;
use crate::reports::table::Report;
use crate::reports::village::{self, Period};
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// Fiscal year; default the current one.
    pub year: Option<i32>,
    /// First date (inclusive), inside the year.
    pub from: Option<NaiveDate>,
    /// Last date (inclusive), inside the year.
    pub to: Option<NaiveDate>,
    /// `1`: the first semester (to 30 June).
    pub semester: Option<u8>,
    /// For the trial balance: the date (default today).
    pub at: Option<NaiveDate>,
    /// For the general ledger: the account code.
    pub account: Option<String>,
    /// For anomalies: the date deadlines are judged at (default today, or the year's end if earlier).
    pub as_of: Option<NaiveDate>,
    /// `json` (default), `csv` or `xlsx`.
    pub format: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl ReportQuery {
    pub fn format(&self) -> Result<Format, ApiError> {
        match self.format.as_deref().unwrap_or("json") {
            "json" => Ok(Format::Json),
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            _ => Err(ApiError::validation("format must be json, csv or xlsx")),
        }
    }

    fn period(&self) -> Result<Period, ApiError> {
        let year = self.year.unwrap_or_else(|| today_wib().year());
        if !(2000..=today_wib().year() + 1).contains(&year) {
            return Err(ApiError::validation("year is out of range"));
        }
        let to = match self.semester {
            None => self.to,
            Some(1) if self.to.is_none() => NaiveDate::from_ymd_opt(year, 6, 30),
            Some(1) => return Err(ApiError::validation("give either semester or to")),
            Some(_) => return Err(ApiError::validation("semester may only be 1 (the full year is the default)")),
        };
        Period::new(year, self.from, to).map_err(ApiError::validation)
    }
}

/// The report as JSON, or as a CSV or XLSX download named after it.
pub fn respond(report: Report, format: Format, file_stem: &str) -> Result<HttpResponse, ApiError> {
    let name = format!("{}-{}", report.key, file_stem).replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-");
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(report.to_json()),
        Format::Csv => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")))
            .body(report.to_csv()),
        Format::Xlsx => {
            let bytes = report.to_xlsx().map_err(|e| {
                tracing::error!(error = %e, "writing XLSX failed");
                ApiError::internal()
            })?;
            HttpResponse::Ok()
                .insert_header((
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ))
                .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.xlsx\"")))
                .body(bytes)
        }
    })
}

type Builder =
    fn(&crate::store::Db, &crate::store::rows::VillageRow, &Period) -> Result<Report, crate::store::StoreError>;

async fn village_report(
    state: State,
    who: Principal,
    id: String,
    query: ReportQuery,
    build: Builder,
) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, READERS)?;
    let format = query.format()?;
    let period = query.period()?;
    let stem = format!("{}-{}", village.code, period.year);
    let db = state.db.clone();
    let report = blocking(move || build(&db, &village, &period)).await?;
    respond(report, format, &stem)
}

macro_rules! village_report_handler {
    ($name:ident, $builder:path, $path:literal, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(get, path = $path, tag = "reports", security(("bearer" = [])),
            params(("id" = String, Path), ReportQuery),
            responses((status = 200, description = "JSON, CSV or XLSX"), (status = 404, body = Problem), (status = 422, body = Problem)))]
        pub async fn $name(
            state: State,
            who: Principal,
            id: web::Path<String>,
            query: web::Query<ReportQuery>,
        ) -> Result<HttpResponse, ApiError> {
            village_report(state, who, id.into_inner(), query.into_inner(), $builder).await
        }
    };
}

village_report_handler!(
    cash_book,
    village::cash_book,
    "/api/v1/villages/{id}/reports/cash-book",
    "Buku Kas Umum: receipts, payments, cumulative payments and the running balance."
);
village_report_handler!(
    bank_book,
    village::bank_book,
    "/api/v1/villages/{id}/reports/bank-book",
    "Buku Bank: deposits, interest, withdrawals, taxes, charges and the running balance."
);
village_report_handler!(
    tax_book,
    village::tax_book,
    "/api/v1/villages/{id}/reports/tax-book",
    "Buku Pembantu Pajak: per tax, withheld, deposited and owed."
);
village_report_handler!(realisation, village::realisation, "/api/v1/villages/{id}/reports/realisation", "Laporan Realisasi APBDes: per account with class sub-totals and surplus/deficit, by activity and by source; `semester=1` or `to=` for part of the year.");
village_report_handler!(
    reconciliation,
    village::reconciliation,
    "/api/v1/villages/{id}/reports/reconciliation",
    "Bank statement lines against the ledger by bank reference, direction and amount; the unmatched on both sides."
);

/// Neraca saldo at the end of a date.
#[utoipa::path(get, path = "/api/v1/villages/{id}/reports/trial-balance", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path), ReportQuery), responses((status = 200, description = "JSON, CSV or XLSX")))]
pub async fn trial_balance(
    state: State,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, READERS)?;
    let format = query.format()?;
    let at = query.at.unwrap_or_else(today_wib);
    let stem = format!("{}-{}", village.code, at);
    let db = state.db.clone();
    let report = blocking(move || village::trial_balance(&db, &village, at)).await?;
    respond(report, format, &stem)
}

/// Buku Besar of one account over a period.
#[utoipa::path(get, path = "/api/v1/villages/{id}/reports/general-ledger", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path), ReportQuery), responses((status = 200, description = "JSON, CSV or XLSX"), (status = 422, body = Problem)))]
pub async fn general_ledger(
    state: State,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, READERS)?;
    let format = query.format()?;
    let period = query.period()?;
    let account = query.account.clone().ok_or_else(|| ApiError::validation("account is required"))?;
    let stem = format!("{}-{}-{}", village.code, account, period.year);
    let db = state.db.clone();
    let report = blocking(move || village::general_ledger(&db, &village, &account, &period)).await?;
    respond(report, format, &stem)
}

/// The approval trail of a payment request: every transition, who, in which role, when, with the note.
#[utoipa::path(get, path = "/api/v1/payments/{id}/trail", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path), ReportQuery), responses((status = 200, description = "JSON, CSV or XLSX"), (status = 404, body = Problem)))]
pub async fn payment_trail(
    state: State,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let format = query.format()?;
    let db = state.db.clone();
    let rec = blocking(move || db.get_payment(&id)).await?.ok_or_else(ApiError::not_found)?;
    let village = load_village(&state, &rec.payment.village_id).await?;
    who.require(&village, READERS)?;
    let report = village::approval_trail(&rec, &village.code);
    respond(report, format, &rec.payment.id)
}

async fn load_regency_for(
    state: &State,
    who: &Principal,
    id: &str,
) -> Result<crate::store::rows::RegencyRow, ApiError> {
    match who.role() {
        Role::Inspector if who.0.regency_id.as_deref() == Some(id) => {}
        Role::Admin => return Err(ApiError::forbidden()),
        _ => return Err(ApiError::not_found()),
    }
    let db = state.db.clone();
    let id = id.to_string();
    blocking(move || db.get_regency(&id)).await?.ok_or_else(ApiError::not_found)
}

/// Realisation over the regency: one row per village plus regency totals (inspectors of the regency).
#[utoipa::path(get, path = "/api/v1/regencies/{id}/reports/realisation", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path), ReportQuery), responses((status = 200, description = "JSON, CSV or XLSX"), (status = 404, body = Problem)))]
pub async fn regency_realisation(
    state: State,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let regency = load_regency_for(&state, &who, &id).await?;
    let format = query.format()?;
    let period = query.period()?;
    let stem = format!("{}-{}", regency.code, period.year);
    let db = state.db.clone();
    let report = blocking(move || regency::realisation(&db, &regency, &period)).await?;
    respond(report, format, &stem)
}

/// Anomalies across the regency's villages: the rule, the evidence, the village (inspectors of the regency).
#[utoipa::path(get, path = "/api/v1/regencies/{id}/anomalies", tag = "reports", security(("bearer" = [])),
    params(("id" = String, Path), ReportQuery), responses((status = 200, description = "JSON, CSV or XLSX"), (status = 404, body = Problem)))]
pub async fn regency_anomalies(
    state: State,
    who: Principal,
    id: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ApiError> {
    let regency = load_regency_for(&state, &who, &id).await?;
    let format = query.format()?;
    let period = query.period()?;
    let as_of =
        query.as_of.unwrap_or_else(|| today_wib().min(NaiveDate::from_ymd_opt(period.year, 12, 31).expect("valid")));
    let stem = format!("{}-{}", regency.code, period.year);
    let rules = state.settings.anomalies.clone();
    let db = state.db.clone();
    let report = blocking(move || regency::anomalies(&db, &regency, &period, as_of, &rules)).await?;
    respond(report, format, &stem)
}
