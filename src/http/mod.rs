//! The HTTP layer: routes, extractors, and the mapping of the store's answers to the contract.

pub mod admin;
pub mod anchors;
pub mod auth;
pub mod bank;
pub mod catalogue;
pub mod error;
pub mod guard;
pub mod ledger;
pub mod openapi;
pub mod ops;
pub mod payments;
pub mod reports;
pub mod snap;

pub mod tax;
pub mod views;

use crate::config::Settings;
use crate::store::rows::VillageRow;
use crate::store::{Db, IdempotencyKey, Written};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use auth::{JwtKeys, Principal};
use error::{ApiError, ErrorCode};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct AppState {
    pub db: Db,
    pub jwt: JwtKeys,
    pub settings: Settings,
    pub metrics: Metrics,
    /// The key that signs checkpoints of the chain heads (not in the database).
    pub anchor: Arc<crate::anchor::AnchorKey>,
    /// The key that signs webhook deliveries.
    pub webhook_key: Arc<crate::anchor::AnchorKey>,
    /// The standby the regency's reports read, when configured (`database_read_url`).
    pub replica: Option<Arc<crate::store::Replica>>,
}

impl AppState {
    /// The database the regency's reports read: the standby while it is up and current enough, else the primary.
    pub fn report_db(&self) -> Db {
        match self.replica.as_ref().and_then(|r| r.usable()) {
            Some(db) => {
                Metrics::inc(&self.metrics.replica_reads);
                db.clone()
            }
            None => self.db.clone(),
        }
    }
}

#[derive(Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub client_errors: AtomicU64,
    pub server_errors: AtomicU64,
    pub transactions_posted: AtomicU64,
    pub idempotent_replays: AtomicU64,
    /// Reports served from the standby.
    pub replica_reads: AtomicU64,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

pub type State = web::Data<AppState>;

/// Registers every route under `/api/v1`, plus health, metrics and docs.
pub fn configure(state: Arc<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let max_body = state.settings.max_body_bytes;
        cfg.app_data(web::Data::from(state))
            .app_data(web::PayloadConfig::new(max_body))
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| ApiError::validation(format!("bad query parameter: {e}")).into()),
            )
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| ApiError::validation(format!("bad path parameter: {e}")).into()),
            )
            .service(
                web::scope("/api/v1")
                    .wrap(actix_web::middleware::from_fn(snap::verify))
                    // The bank's routes first: they are the busiest, and the router tries the routes in this
                    // order, each pattern with a parameter by a regular expression (measured: 7% of a credit's
                    // service time when they came last).
                    .route("/bank/transfers", web::get().to(bank::list_transfers))
                    .route("/bank/transfers/{id}/result", web::post().to(bank::transfer_result))
                    .route("/bank/credits", web::post().to(bank::credit))
                    .service(
                        // A thousand credits are larger than an ordinary request.
                        web::resource("/bank/credits/batch")
                            .app_data(web::PayloadConfig::new(max_body.max(2 * 1024 * 1024)))
                            .route(web::post().to(bank::credit_batch)),
                    )
                    .route("/bank/statements", web::post().to(bank::statements))
                    .route("/bank/entries", web::post().to(bank::bank_entries))
                    .route("/auth/login", web::post().to(admin::login))
                    .route("/auth/logout", web::post().to(admin::logout))
                    .route("/auth/token", web::post().to(admin::client_token))
                    .route("/regencies", web::post().to(admin::create_regency))
                    .route("/regencies/{id}", web::patch().to(admin::update_regency))
                    .route("/regencies", web::get().to(admin::list_regencies))
                    .route("/regencies/{id}", web::get().to(admin::get_regency))
                    .route("/villages", web::post().to(admin::create_village))
                    .route("/villages", web::get().to(admin::list_villages))
                    .route("/villages/{id}", web::get().to(admin::get_village))
                    .route("/villages/{id}", web::patch().to(admin::update_village))
                    .route("/users", web::post().to(admin::create_user))
                    .route("/users/{id}", web::patch().to(admin::update_user))
                    .route("/users/{id}/password", web::post().to(admin::reset_password))
                    .route("/bank-clients", web::post().to(admin::create_bank_client))
                    .route("/bank-clients", web::get().to(admin::list_bank_clients))
                    .route("/bank-clients/{id}", web::patch().to(admin::update_bank_client))
                    .route("/bank-clients/{id}/secret", web::post().to(admin::rotate_bank_secret))
                    .route("/bank-clients/{id}/deliveries", web::get().to(admin::webhook_deliveries))
                    .route("/webhooks/key", web::get().to(admin::webhook_key))
                    .route("/catalogue/accounts", web::get().to(catalogue::accounts))
                    .route("/catalogue/activities", web::get().to(catalogue::activities))
                    .route("/villages/{id}/accounts", web::get().to(ledger::accounts))
                    .route("/villages/{id}/accounts", web::post().to(catalogue::add_account))
                    .route("/villages/{id}/balances", web::get().to(ledger::balances))
                    .route("/villages/{id}/transactions", web::post().to(ledger::create_transaction))
                    .route("/villages/{id}/transactions", web::get().to(ledger::list_transactions))
                    .route("/villages/{id}/fiscal-years", web::get().to(ledger::fiscal_years))
                    .route("/villages/{id}/fiscal-years/{year}/close", web::post().to(ledger::close_fiscal_year))
                    .route("/villages/{id}/audit/verify", web::get().to(ledger::verify_chain))
                    .service(
                        // A kept file of checkpoints can be larger than an ordinary request.
                        web::resource("/villages/{id}/audit/verify")
                            .app_data(web::PayloadConfig::new(max_body.max(32 * 1024 * 1024)))
                            .route(web::post().to(anchors::verify_with)),
                    )
                    .route("/audit/anchor-key", web::get().to(anchors::anchor_key))
                    .route("/regencies/{id}/checkpoints", web::get().to(anchors::list))
                    .route("/regencies/{id}/checkpoints", web::post().to(anchors::create))
                    .route("/transactions/{id}", web::get().to(ledger::get_transaction))
                    .route("/transactions/{id}/reverse", web::post().to(ledger::reverse_transaction))
                    .route("/villages/{id}/budgets/{year}", web::put().to(payments::put_budget))
                    .route("/villages/{id}/budgets/{year}", web::get().to(payments::get_budget))
                    .route("/villages/{id}/budgets/{year}/adopt", web::post().to(payments::adopt_budget))
                    .route("/villages/{id}/budgets/{year}/revisions", web::post().to(payments::revise_budget))
                    .route("/tax/calculate", web::post().to(tax::calculate_tax))
                    .route("/villages/{id}/payments", web::post().to(payments::create_payment))
                    .route("/villages/{id}/payments", web::get().to(payments::list_payments))
                    .route("/villages/{id}/tax-deposits", web::post().to(payments::create_tax_deposit))
                    .route("/payments/{id}", web::get().to(payments::get_payment))
                    .route("/payments/{id}", web::put().to(payments::edit_payment))
                    .route("/payments/{id}/submit", web::post().to(payments::submit))
                    .route("/payments/{id}/verify", web::post().to(payments::verify))
                    .route("/payments/{id}/return", web::post().to(payments::return_))
                    .route("/payments/{id}/approve", web::post().to(payments::approve))
                    .route("/payments/{id}/reject", web::post().to(payments::reject))
                    .route("/payments/{id}/release", web::post().to(payments::release))
                    .route("/payments/{id}/cancel", web::post().to(payments::cancel))
                    .route("/payments/{id}/pay-cash", web::post().to(payments::pay_cash))
                    .route("/payments/{id}/accountability", web::post().to(payments::accountability))
                    .route("/villages/{id}/bank-entry-lines", web::get().to(bank::get_bank_entry_lines))
                    .route("/villages/{id}/bank-entry-lines", web::put().to(bank::put_bank_entry_lines))
                    .route(
                        "/villages/{id}/bank-entries/{bank_reference}/clear",
                        web::post().to(bank::clear_suspended_charge),
                    )
                    .route("/villages/{id}/reports/cash-book", web::get().to(reports::cash_book))
                    .route("/villages/{id}/reports/advances", web::get().to(reports::advances_book))
                    .route("/villages/{id}/reports/activities", web::get().to(reports::activities_book))
                    .route("/villages/{id}/reports/spp-register", web::get().to(reports::spp_register))
                    .route("/villages/{id}/reports/wealth", web::get().to(reports::wealth))
                    .route("/villages/{id}/reports/bank-book", web::get().to(reports::bank_book))
                    .route("/villages/{id}/reports/tax-book", web::get().to(reports::tax_book))
                    .route("/villages/{id}/reports/realisation", web::get().to(reports::realisation))
                    .route("/villages/{id}/reports/trial-balance", web::get().to(reports::trial_balance))
                    .route("/villages/{id}/reports/general-ledger", web::get().to(reports::general_ledger))
                    .route("/villages/{id}/reports/reconciliation", web::get().to(reports::reconciliation))
                    .route("/payments/{id}/trail", web::get().to(reports::payment_trail))
                    .route("/payments/{id}/document", web::get().to(reports::payment_document))
                    .route("/regencies/{id}/reports/realisation", web::get().to(reports::regency_realisation))
                    .route("/regencies/{id}/anomalies", web::get().to(reports::regency_anomalies))
                    .route("/openapi.json", web::get().to(openapi::openapi_json)),
            )
            .route("/health/live", web::get().to(ops::live))
            .route("/health/ready", web::get().to(ops::ready))
            .route("/metrics", web::get().to(ops::metrics))
            .route("/docs", web::get().to(openapi::docs_redirect))
            .service(openapi::swagger_ui())
            .default_service(web::to(ops::not_found));
    }
}

/// A JSON request body, parsed strictly, with a hash of its canonical form for idempotency.
pub struct Body<T> {
    pub value: T,
    pub request_hash: String,
}

/// Why a body was refused, with the JSON it held when it was JSON: a handler that ranks its errors (an unknown
/// account before anything else) takes `Result<Body<T>, BodyRejection>` and looks into it. Anywhere else it answers
/// as its `error`.
#[derive(Debug)]
pub struct BodyRejection {
    pub error: ApiError,
    pub json: Option<serde_json::Value>,
}

impl std::fmt::Display for BodyRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl ResponseError for BodyRejection {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.error.status()
    }
    fn error_response(&self) -> HttpResponse {
        self.error.error_response()
    }
}

impl From<BodyRejection> for ApiError {
    fn from(r: BodyRejection) -> Self {
        r.error
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = BodyRejection;
    type Future = LocalBoxFuture<'static, Result<Self, BodyRejection>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = web::Bytes::from_request(req, payload);
        let signature = format!("{} {}", req.method(), req.path());
        let limit = req.app_data::<web::Data<AppState>>().map_or(std::time::Duration::from_secs(30), |s| {
            std::time::Duration::from_secs(s.settings.body_timeout_secs)
        });
        Box::pin(async move {
            // A body that does not arrive in time is the client's: answered, and the worker freed.
            let bytes = actix_web::rt::time::timeout(limit, bytes).await.map_err(|_| BodyRejection {
                error: ApiError::malformed_body(format!(
                    "the request body did not arrive within {} s",
                    limit.as_secs()
                )),
                json: None,
            })?;
            let bytes = bytes.map_err(|e| {
                let error = if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(ErrorCode::PayloadTooLarge, "the request body is larger than this server accepts")
                } else {
                    ApiError::malformed_body(format!("could not read the request body: {e}"))
                };
                BodyRejection { error, json: None }
            })?;
            parse_body_keeping_json(&signature, &bytes)
        })
    }
}

fn parse_body_keeping_json<T: DeserializeOwned>(signature: &str, bytes: &[u8]) -> Result<Body<T>, BodyRejection> {
    // An action with nothing to say (submit, approve, ...) may send no body at all.
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    // Not JSON at all is the client's syntax error (400); JSON that breaks a rule (unknown or missing fields, wrong
    // types) is 422, below.
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        // Nesting deeper than the parser goes (128) is still JSON, so a rule it breaks, not a syntax error.
        let error = if e.to_string().starts_with("recursion limit exceeded") {
            ApiError::validation(format!("the body nests too deeply: {e}"))
        } else {
            ApiError::malformed_body(format!("the body is not valid JSON: {e}"))
        };
        BodyRejection { error, json: None }
    })?;
    // serde_json's maps are sorted, so this canonical form ignores key order and white space.
    let canonical =
        serde_json::to_vec(&value).map_err(|_| BodyRejection { error: ApiError::internal(), json: None })?;
    let mut h = Sha256::new();
    h.update(signature.as_bytes());
    h.update(b"\n");
    h.update(&canonical);
    let request_hash = hex::encode(h.finalize());
    match serde_json::from_value::<T>(value) {
        Ok(value) => Ok(Body { value, request_hash }),
        // Parsed again only on this path, so that a body that fits keeps a single parse.
        Err(e) => {
            Err(BodyRejection { error: ApiError::validation(format!("{e}")), json: serde_json::from_slice(bytes).ok() })
        }
    }
}

/// The `account_code` strings of the objects in a body's list `list` (`entries`, `lines`), however wrong the rest
/// of the body is: what [`unknown_account_first`] looks for in a body that did not even deserialize.
pub fn account_codes_in(json: Option<&serde_json::Value>, list: &str) -> Vec<String> {
    json.and_then(|j| j.get(list))
        .and_then(|l| l.as_array())
        .map(|items| {
            items.iter().filter_map(|i| i.get("account_code").and_then(|c| c.as_str()).map(str::to_string)).collect()
        })
        .unwrap_or_default()
}

/// The contract ranks `422 unknown_account` first: a request naming an account that is not in the village's chart
/// answers that, whatever else is wrong with it. The chart is read only here, when `err` (a `422` the request already
/// earned) is being answered, so a request that succeeds reads nothing more. Call it only once the caller is known
/// to see the village. A failure to read the chart leaves `err` as it is.
pub async fn unknown_account_first(state: &AppState, village_id: &str, codes: &[String], err: ApiError) -> ApiError {
    if codes.is_empty() || err.code == ErrorCode::UnknownAccount || err.status().as_u16() != 422 {
        return err;
    }
    let db = state.db.clone();
    let village_id = village_id.to_string();
    let Ok(chart) = blocking(move || db.accounts(&village_id)).await else {
        return err;
    };
    let known: std::collections::HashSet<&str> = chart.iter().map(|a| a.code.as_str()).collect();
    match codes.iter().find(|c| !known.contains(c.as_str())) {
        Some(missing) => crate::store::StoreError::UnknownAccount(missing.clone()).into(),
        None => err,
    }
}

/// Reads `Idempotency-Key`: 1 to 200 visible ASCII characters, scoped to the caller.
pub fn idempotency_key(
    req: &HttpRequest,
    who: &Principal,
    request_hash: &str,
    required: bool,
) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return if required {
            Err(ApiError::validation("the Idempotency-Key header is required on this request"))
        } else {
            Ok(None)
        };
    };
    let key = crate::domain::text::IdemKey::parse("Idempotency-Key", value.to_str().unwrap_or("\u{0}"))?;
    Ok(Some(IdempotencyKey {
        principal: who.id().to_string(),
        key: key.into_string(),
        request_hash: request_hash.to_string(),
    }))
}

/// Answers a fresh write with `status` and its view, or a replay with the stored response.
pub fn respond_written<T, V: serde::Serialize>(
    state: &AppState,
    written: Written<T>,
    status: actix_web::http::StatusCode,
    view: impl FnOnce(&T) -> V,
) -> HttpResponse {
    match written {
        Written::Fresh(t) => HttpResponse::build(status).json(view(&t)),
        Written::Replay { status, body } => {
            Metrics::inc(&state.metrics.idempotent_replays);
            let code = actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK);
            HttpResponse::build(code)
                .insert_header((header::CONTENT_TYPE, "application/json"))
                .insert_header(("Idempotent-Replayed", "true"))
                .body(body)
        }
    }
}

/// Runs blocking store work off the async workers, inside the request's span (so that what it logs carries the
/// request id).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    let span = tracing::Span::current();
    Ok(web::block(move || span.in_scope(|| caught(f))).await??)
}

/// Runs `f`, turning a panic into an internal error instead of a lost worker. Release builds check arithmetic
/// overflow (`overflow-checks` in Cargo.toml), so a figure that would pass 2^63 sen (a report's total over rows
/// edited in the database: no posting can reach it) stops the request here rather than printing a wrapped amount.
/// Writes run inside one database transaction each, which a panic leaves uncommitted.
fn caught<T>(f: impl FnOnce() -> Result<T, crate::store::StoreError>) -> Result<T, crate::store::StoreError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(out) => out,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            tracing::error!(panic = %what, "request stopped by a panic");
            Err(crate::store::StoreError::internal(if what.contains("overflow") {
                format!("a figure is beyond what kasdesa computes exactly ({what}): the stored rows cannot be right")
            } else {
                what
            }))
        }
    }
}

/// Loads a village by id; `404` when it does not exist.
pub async fn load_village(state: &AppState, id: &str) -> Result<VillageRow, ApiError> {
    let db = state.db.clone();
    let id = id.to_string();
    blocking(move || db.get_village(&id)).await?.ok_or_else(ApiError::not_found)
}

/// A short code-like text field with its own bound (a source code, say); free text has its own types in
/// `domain::text` (`Description`, `Note`, `Name`, ...), with the same rule (`domain::text::clean_text`).
pub fn text_field(name: &str, value: &str, max: usize) -> Result<String, ApiError> {
    Ok(crate::domain::text::clean_text(name, value, max)?)
}
