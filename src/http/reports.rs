//! Report endpoints: the village books and statements, the approval trail, and the regency roll-ups, each as JSON
//! (default), CSV or XLSX (`?format=`).
//!
//! One handler serves them all ([`serve`]): a report ([`ReportDef`]) is a name, a computation from the store (with
//! what it is about — the path's village, payment request or regency — loaded and checked against the caller's
//! scope first, and its parameters read from the query) and the rendering to JSON, CSV or XLSX ([`respond`]). The
//! one-line functions per path at the end exist for the router and the OpenAPI document.

use super::auth::{Principal, READERS};
use super::error::{ApiError, Problem};
use super::ledger::today_wib;
use super::{blocking, load_village, AppState, State};
use crate::domain::roles::Role;
use crate::reports::regency;
use crate::reports::table::Report;
use crate::reports::village::{self, Period};
use crate::store::rows::{PaymentRecord, RegencyRow, VillageRow};
use crate::store::{Db, StoreError};
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
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
    /// `json` (default), `csv`, `csv-excel` (for Excel in Indonesian: `;`, decimal commas, UTF-8 BOM), `xlsx` or
    /// `pdf`.
    pub format: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    /// The CSV for a spreadsheet in an Indonesian locale (`reports::table::CsvDialect::Excel`).
    CsvExcel,
    Xlsx,
    Pdf,
}

impl Format {
    /// The format a `format=` value names (the API's and the console's downloads alike).
    pub fn named(name: &str) -> Option<Format> {
        match name {
            "json" => Some(Format::Json),
            "csv" => Some(Format::Csv),
            "csv-excel" => Some(Format::CsvExcel),
            "xlsx" => Some(Format::Xlsx),
            "pdf" => Some(Format::Pdf),
            _ => None,
        }
    }
}

impl ReportQuery {
    pub fn format(&self) -> Result<Format, ApiError> {
        Format::named(self.format.as_deref().unwrap_or("json"))
            .ok_or_else(|| ApiError::validation("format must be json, csv, csv-excel, xlsx or pdf"))
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

/// The report as JSON, or as a CSV, XLSX or PDF download named after it (the PDF with the signature block of
/// `signers`, when the report is a village's).
pub fn respond(
    report: Report,
    format: Format,
    file_stem: &str,
    signers: Option<&crate::reports::pdf::Signers>,
) -> Result<HttpResponse, ApiError> {
    let name = format!("{}-{}", report.key, file_stem).replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-");
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(report.to_json()),
        Format::Csv => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.csv\"")))
            .body(report.to_csv()),
        Format::CsvExcel => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
            .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}-excel.csv\"")))
            .body(report.to_csv_as(crate::reports::table::CsvDialect::Excel)),
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
        Format::Pdf => {
            let now = chrono::Utc::now() + chrono::Duration::hours(7);
            let printed = format!("{} WIB", now.format("%d-%m-%Y %H:%M"));
            HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, "application/pdf"))
                .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.pdf\"")))
                .body(crate::reports::pdf::to_pdf(&report, signers, &printed))
        }
    })
}

/// The computation of a report from the store, run off the async workers.
type Work = Box<dyn FnOnce(&Db) -> Result<Report, StoreError> + Send>;

/// A report ready to compute: the work and the stem of its file's name.
pub struct Planned {
    work: Work,
    file_stem: String,
}

impl Planned {
    fn new(file_stem: String, work: impl FnOnce(&Db) -> Result<Report, StoreError> + Send + 'static) -> Planned {
        Planned { work: Box::new(work), file_stem }
    }

    /// Computes the report on `db` (the primary, or for a regency's report possibly the standby).
    pub async fn run_on(self, db: crate::store::Db) -> Result<(Report, String), ApiError> {
        let work = self.work;
        // One read-only transaction for all of a report's reads: they agree with each other, and the report takes
        // the pool once.
        let report = blocking(move || db.snapshot(|db| work(db))).await?;
        Ok((report, self.file_stem))
    }

    /// Computes the report on the primary.
    pub async fn run(self, state: &AppState) -> Result<(Report, String), ApiError> {
        self.run_on(state.db.clone()).await
    }
}

/// What a report is about, and how its query's parameters (422 when one is wrong) make it ready to compute.
#[derive(Clone, Copy)]
pub enum Plan {
    /// A village's report (`/villages/{id}/reports/...`).
    Village(fn(VillageRow, &ReportQuery) -> Result<Planned, ApiError>),
    /// A payment request's report (`/payments/{id}/...`), with the request's village.
    Payment(fn(PaymentRecord, VillageRow) -> Result<Planned, ApiError>),
    /// A regency's report (`/regencies/{id}/...`), for its inspectors.
    Regency(fn(RegencyRow, &ReportQuery, &AppState) -> Result<Planned, ApiError>),
}

/// Whose signatures close a report's printed form.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// A village's book: the head and the treasurer.
    Books,
    /// A payment request's form: drafter, verifier, treasurer, head and payee.
    Payment,
    /// No signature block (the regency's roll-ups).
    None,
}

/// A report of the API.
pub struct ReportDef {
    /// The last segment of its path (and the console's `?report=`).
    pub name: &'static str,
    pub plan: Plan,
    pub signing: Signing,
}

type VillageBook = fn(&Db, &VillageRow, &Period) -> Result<Report, StoreError>;

/// A village's book over the query's period.
fn village_book(v: VillageRow, q: &ReportQuery, build: VillageBook) -> Result<Planned, ApiError> {
    let period = q.period()?;
    Ok(Planned::new(format!("{}-{}", v.code, period.year), move |db| build(db, &v, &period)))
}

pub const CASH_BOOK: ReportDef = ReportDef {
    name: "cash-book",
    plan: Plan::Village(|v, q| village_book(v, q, village::cash_book)),
    signing: Signing::Books,
};
pub const BANK_BOOK: ReportDef = ReportDef {
    name: "bank-book",
    plan: Plan::Village(|v, q| village_book(v, q, village::bank_book)),
    signing: Signing::Books,
};
pub const TAX_BOOK: ReportDef = ReportDef {
    name: "tax-book",
    plan: Plan::Village(|v, q| village_book(v, q, village::tax_book)),
    signing: Signing::Books,
};
pub const REALISATION: ReportDef = ReportDef {
    name: "realisation",
    plan: Plan::Village(|v, q| village_book(v, q, village::realisation)),
    signing: Signing::Books,
};
pub const ADVANCES: ReportDef = ReportDef {
    name: "advances",
    plan: Plan::Village(|v, q| village_book(v, q, village::advances_book)),
    signing: Signing::Books,
};
pub const ACTIVITIES: ReportDef = ReportDef {
    name: "activities",
    plan: Plan::Village(|v, q| village_book(v, q, village::activities_book)),
    signing: Signing::Books,
};
pub const SPP_REGISTER: ReportDef = ReportDef {
    name: "spp-register",
    plan: Plan::Village(|v, q| village_book(v, q, village::spp_register)),
    signing: Signing::Books,
};
pub const WEALTH: ReportDef = ReportDef {
    name: "wealth",
    plan: Plan::Village(|v, q| village_book(v, q, village::wealth)),
    signing: Signing::Books,
};
pub const RECONCILIATION: ReportDef = ReportDef {
    name: "reconciliation",
    plan: Plan::Village(|v, q| village_book(v, q, village::reconciliation)),
    signing: Signing::Books,
};

/// The trial balance at the end of `at` (default today).
pub const TRIAL_BALANCE: ReportDef = ReportDef {
    name: "trial-balance",
    signing: Signing::Books,
    plan: Plan::Village(|v, q| {
        let at = q.at.unwrap_or_else(today_wib);
        Ok(Planned::new(format!("{}-{}", v.code, at), move |db| village::trial_balance(db, &v, at)))
    }),
};

/// One account's ledger over the period; `account` is required.
pub const GENERAL_LEDGER: ReportDef = ReportDef {
    name: "general-ledger",
    signing: Signing::Books,
    plan: Plan::Village(|v, q| {
        let period = q.period()?;
        let account = q.account.clone().ok_or_else(|| ApiError::validation("account is required"))?;
        let stem = format!("{}-{}-{}", v.code, account, period.year);
        Ok(Planned::new(stem, move |db| village::general_ledger(db, &v, &account, &period)))
    }),
};

/// The approval trail of a payment request (computed from the request as read), its times in the regency's zone
/// (RFC 3339 with the zone's offset, so a machine reads the instant and a person the local time).
pub const TRAIL: ReportDef = ReportDef {
    name: "trail",
    signing: Signing::Books,
    plan: Plan::Payment(|rec, v| {
        let stem = rec.payment.id.to_string();
        Ok(Planned::new(stem, move |db| {
            let zone = db
                .get_regency(&v.regency_id)?
                .as_ref()
                .map_or(crate::web::zone::Zone::WIB, crate::web::zone::Zone::of_regency);
            Ok(village::approval_trail_at(&rec, &v.code, zone.when_heading(), |at| zone.machine(at)))
        }))
    }),
};

/// The SPP as a document to print and sign, with its kuitansi.
pub const DOCUMENT: ReportDef = ReportDef {
    name: "document",
    signing: Signing::Payment,
    plan: Plan::Payment(|rec, v| {
        let stem = rec.payment.number.clone().unwrap_or_else(|| rec.payment.id.to_string());
        Ok(Planned::new(stem, move |db| {
            let names = db.accounts(&v.id)?.into_iter().map(|a| (a.code, a.name)).collect();
            let offset = db.get_regency(&v.regency_id)?.map_or(420, |r| r.utc_offset_minutes);
            Ok(village::spp_document(&rec, &v, &names, offset))
        }))
    }),
};

pub const REGENCY_REALISATION: ReportDef = ReportDef {
    name: "regency-realisation",
    signing: Signing::None,
    plan: Plan::Regency(|r, q, _| {
        let period = q.period()?;
        Ok(Planned::new(format!("{}-{}", r.code, period.year), move |db| regency::realisation(db, &r, &period)))
    }),
};

/// Anomalies as of `as_of` (default today, or the year's end if earlier), by the configured rules.
pub const ANOMALIES: ReportDef = ReportDef {
    name: "anomalies",
    signing: Signing::None,
    plan: Plan::Regency(|r, q, state| {
        let period = q.period()?;
        let year_end = NaiveDate::from_ymd_opt(period.year, 12, 31).expect("valid");
        let as_of = q.as_of.unwrap_or_else(|| today_wib().min(year_end));
        let rules = state.settings.anomalies.clone();
        let tax = state.settings.tax.clone();
        let anchor = state.anchor.verifying();
        let stem = format!("{}-{}", r.code, period.year);
        Ok(Planned::new(stem, move |db| {
            regency::anomalies(
                db,
                &r,
                &period,
                as_of,
                &regency::Rulebook { anomalies: &rules, tax: &tax, anchor: &anchor },
            )
        }))
    }),
};

/// Every report, by name.
pub const REPORTS: [&ReportDef; 15] = [
    &CASH_BOOK,
    &BANK_BOOK,
    &TAX_BOOK,
    &REALISATION,
    &RECONCILIATION,
    &ADVANCES,
    &ACTIVITIES,
    &SPP_REGISTER,
    &WEALTH,
    &TRIAL_BALANCE,
    &GENERAL_LEDGER,
    &TRAIL,
    &DOCUMENT,
    &REGENCY_REALISATION,
    &ANOMALIES,
];

pub fn find(name: &str) -> Option<&'static ReportDef> {
    REPORTS.iter().copied().find(|d| d.name == name)
}

/// A payment request and its village, for a caller who may read the village; `404` otherwise.
async fn load_payment(state: &AppState, who: &Principal, id: &str) -> Result<(PaymentRecord, VillageRow), ApiError> {
    let db = state.db.clone();
    let id = id.to_string();
    let rec = blocking(move || db.get_payment(&id)).await?.ok_or_else(ApiError::not_found)?;
    let village = load_village(state, &rec.payment.village_id).await?;
    who.require(&village, READERS)?;
    Ok((rec, village))
}

/// A regency, for its own inspectors (`403` for administrators, `404` for everyone else).
async fn load_regency_for(state: &AppState, who: &Principal, id: &str) -> Result<RegencyRow, ApiError> {
    match who.role() {
        Role::Inspector if who.0.regency_id.as_deref() == Some(id) => {}
        Role::Admin => return Err(ApiError::forbidden()),
        _ => return Err(ApiError::not_found()),
    }
    let db = state.db.clone();
    let id = id.to_string();
    blocking(move || db.get_regency(&id)).await?.ok_or_else(ApiError::not_found)
}

/// The one report handler: loads and checks what the report is about, reads the format and the report's
/// parameters, computes it and renders it.
pub async fn serve(
    def: &ReportDef,
    state: State,
    who: Principal,
    id: String,
    query: ReportQuery,
) -> Result<HttpResponse, ApiError> {
    let mut payee = None;
    let (planned, format, village) = match def.plan {
        Plan::Village(plan) => {
            let village = load_village(&state, &id).await?;
            who.require(&village, READERS)?;
            let format = query.format()?;
            (plan(village.clone(), &query)?, format, Some(village))
        }
        Plan::Payment(plan) => {
            // The format is checked before the request is read.
            let format = query.format()?;
            let (rec, village) = load_payment(&state, &who, &id).await?;
            // A request with many receipts is signed for by each payee on its kuitansi row, not in the block.
            payee = rec.receipts.is_empty().then(|| rec.payment.payee_name.clone());
            (plan(rec, village.clone())?, format, Some(village))
        }
        Plan::Regency(plan) => {
            let regency = load_regency_for(&state, &who, &id).await?;
            let format = query.format()?;
            (plan(regency, &query, &state)?, format, None)
        }
    };
    let signers = match (format, village) {
        (Format::Pdf, Some(v)) => signers_of(&state, def.signing, v, payee.as_deref()).await?,
        _ => None,
    };
    // Only a regency's reports may read the standby: their readers do not write what they read.
    let db = if matches!(def.plan, Plan::Regency(_)) { state.report_db() } else { state.db.clone() };
    let (report, stem) = planned.run_on(db).await?;
    respond(report, format, &stem, signers.as_ref())
}

/// The signature block of a village's printed report: the village, today (WIB), and its officials' names; for a
/// payment's document, also the payee.
pub async fn signers_of(
    state: &AppState,
    signing: Signing,
    v: VillageRow,
    payee: Option<&str>,
) -> Result<Option<crate::reports::pdf::Signers>, ApiError> {
    use crate::reports::pdf::Signers;
    if signing == Signing::None {
        return Ok(None);
    }
    let db = state.db.clone();
    let id = v.id.to_string();
    let (head, treasurer) = blocking(move || db.village_officials(&id)).await?;
    Ok(Some(match signing {
        Signing::Payment => Signers::for_payment(&v.name, today_wib(), head, treasurer, payee),
        _ => Signers::for_books(&v.name, today_wib(), head, treasurer),
    }))
}

/// A route's handler for a report: the path's `{id}` and the query, to [`serve`]; documented for OpenAPI.
macro_rules! report_endpoint {
    ($name:ident, $def:expr, $path:literal, $doc:literal, responses($($responses:tt)*)) => {
        #[doc = $doc]
        #[utoipa::path(get, path = $path, tag = "reports", security(("bearer" = [])),
            params(("id" = String, Path), ReportQuery), responses($($responses)*))]
        pub async fn $name(
            state: State,
            who: Principal,
            id: web::Path<String>,
            query: web::Query<ReportQuery>,
        ) -> Result<HttpResponse, ApiError> {
            serve(&$def, state, who, id.into_inner(), query.into_inner()).await
        }
    };
}

report_endpoint!(
    advances_book,
    ADVANCES,
    "/api/v1/villages/{id}/reports/advances",
    "Buku Pembantu Panjar: each implementer's advances paid, accounted for (SPJ) and returned, with the balance still to account for.",
    responses((status = 200, description = "JSON, CSV, XLSX or PDF"), (status = 404, body = Problem), (status = 422, body = Problem))
);
report_endpoint!(
    activities_book,
    ACTIVITIES,
    "/api/v1/villages/{id}/reports/activities",
    "Buku Pembantu Kegiatan: every spending entry by activity, with each activity's running total.",
    responses(
        (status = 200, description = "JSON, CSV, XLSX or PDF"),
        (status = 404, body = Problem),
        (status = 422, body = Problem)
    )
);
report_endpoint!(
    spp_register,
    SPP_REGISTER,
    "/api/v1/villages/{id}/reports/spp-register",
    "Register SPP: the year's requests with their numbers, figures, status and the day the bank paid them.",
    responses(
        (status = 200, description = "JSON, CSV, XLSX or PDF"),
        (status = 404, body = Problem),
        (status = 422, body = Problem)
    )
);
report_endpoint!(
    wealth,
    WEALTH,
    "/api/v1/villages/{id}/reports/wealth",
    "Laporan Kekayaan Milik Desa (LPJ): assets from capital spending (5.3) and equity participations (6.2.2), this year, earlier years and in all; cash, bank, advances and taxes owed at the period's end.",
    responses(
        (status = 200, description = "JSON, CSV, XLSX or PDF"),
        (status = 404, body = Problem),
        (status = 422, body = Problem)
    )
);
report_endpoint!(
    cash_book,
    CASH_BOOK,
    "/api/v1/villages/{id}/reports/cash-book",
    "Buku Kas Umum: receipts, payments, cumulative payments and the running balance.",
    responses(
        (status = 200, description = "JSON, CSV or XLSX"),
        (status = 404, body = Problem),
        (status = 422, body = Problem)
    )
);
report_endpoint!(
    bank_book,
    BANK_BOOK,
    "/api/v1/villages/{id}/reports/bank-book",
    "Buku Bank: deposits, interest, withdrawals, taxes, charges and the running balance.",
    responses(
        (status = 200, description = "JSON, CSV or XLSX"),
        (status = 404, body = Problem),
        (status = 422, body = Problem)
    )
);
report_endpoint!(
    tax_book,
    TAX_BOOK,
    "/api/v1/villages/{id}/reports/tax-book",
    "Buku Pembantu Pajak: per tax, withheld, deposited and owed.",
    responses(
        (status = 200, description = "JSON, CSV or XLSX"),
        (status = 404, body = Problem),
        (status = 422, body = Problem)
    )
);
report_endpoint!(
    realisation,
    REALISATION,
    "/api/v1/villages/{id}/reports/realisation",
    "Laporan Realisasi APBDes: per account with class sub-totals and surplus/deficit, by activity and by source; `semester=1` or `to=` for part of the year.",
    responses((status = 200, description = "JSON, CSV or XLSX"), (status = 404, body = Problem), (status = 422, body = Problem))
);
report_endpoint!(
    reconciliation,
    RECONCILIATION,
    "/api/v1/villages/{id}/reports/reconciliation",
    "Bank statement lines against the ledger by bank reference, direction and amount; the unmatched on both sides.",
    responses(
        (status = 200, description = "JSON, CSV or XLSX"),
        (status = 404, body = Problem),
        (status = 422, body = Problem)
    )
);
report_endpoint!(
    trial_balance,
    TRIAL_BALANCE,
    "/api/v1/villages/{id}/reports/trial-balance",
    "Neraca saldo at the end of a date.",
    responses((status = 200, description = "JSON, CSV or XLSX"))
);
report_endpoint!(
    general_ledger,
    GENERAL_LEDGER,
    "/api/v1/villages/{id}/reports/general-ledger",
    "Buku Besar of one account over a period.",
    responses((status = 200, description = "JSON, CSV or XLSX"), (status = 422, body = Problem))
);
report_endpoint!(
    payment_trail,
    TRAIL,
    "/api/v1/payments/{id}/trail",
    "The approval trail of a payment request: every transition, who, in which role, when, with the note.",
    responses((status = 200, description = "JSON, CSV, XLSX or PDF"), (status = 404, body = Problem))
);
report_endpoint!(
    payment_document,
    DOCUMENT,
    "/api/v1/payments/{id}/document",
    "The SPP as a document (`format=pdf` to print): number, lines, taxes withheld, the amount in words, the electronic approvals, the kuitansi and the signature lines.",
    responses((status = 200, description = "PDF (or JSON, CSV, XLSX)"), (status = 404, body = Problem))
);
report_endpoint!(
    regency_realisation,
    REGENCY_REALISATION,
    "/api/v1/regencies/{id}/reports/realisation",
    "Realisation over the regency: one row per village plus regency totals (inspectors of the regency).",
    responses((status = 200, description = "JSON, CSV or XLSX"), (status = 404, body = Problem))
);
report_endpoint!(
    regency_anomalies,
    ANOMALIES,
    "/api/v1/regencies/{id}/anomalies",
    "Anomalies across the regency's villages: the rule, the evidence, the village (inspectors of the regency).",
    responses((status = 200, description = "JSON, CSV or XLSX"), (status = 404, body = Problem))
);
