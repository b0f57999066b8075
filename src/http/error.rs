//! Every error leaves as `application/problem+json` (RFC 9457) with the contract's stable `code`.

use crate::domain::money::MoneyError;
use crate::domain::posting::PostingError;
use crate::store::StoreError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;

/// One error code of the contract: its machine-readable name, its HTTP status and the problem document's title.
#[derive(Debug)]
pub struct ErrorSpec {
    pub code: ErrorCode,
    pub name: &'static str,
    pub status: StatusCode,
    pub title: &'static str,
}

/// Declares `ErrorCode` and [`ERROR_CODES`] from one list, so that the variants and the table cannot drift apart
/// and every code's name, status and title is written exactly once.
macro_rules! error_codes {
    ($($variant:ident => $name:literal, $status:ident, $title:literal;)+) => {
        /// The contract's machine-readable error codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $($variant,)+
        }

        /// Every error code, in the order of [`ErrorCode`]'s variants (docs/api.md lists this table).
        pub const ERROR_CODES: &[ErrorSpec] = &[
            $(ErrorSpec { code: ErrorCode::$variant, name: $name, status: StatusCode::$status, title: $title },)+
        ];
    };
}

error_codes! {
    ValidationFailed => "validation_failed", UNPROCESSABLE_ENTITY, "The request is not valid";
    InvalidAmount => "invalid_amount", UNPROCESSABLE_ENTITY, "An amount is not valid";
    Unbalanced => "unbalanced", UNPROCESSABLE_ENTITY, "Debits do not equal credits";
    UnknownAccount => "unknown_account", UNPROCESSABLE_ENTITY, "Unknown account";
    BudgetExceeded => "budget_exceeded", UNPROCESSABLE_ENTITY, "The budget line's ceiling would be exceeded";
    InsufficientFunds => "insufficient_funds", UNPROCESSABLE_ENTITY, "Insufficient funds";
    CashLimitExceeded => "cash_limit_exceeded", UNPROCESSABLE_ENTITY, "Cash in hand would exceed the village's cash limit";
    InvalidTransition => "invalid_transition", CONFLICT, "Not allowed in the current state";
    SeparationOfDuties => "separation_of_duties", FORBIDDEN, "Separation of duties";
    AlreadyReversed => "already_reversed", CONFLICT, "Already reversed";
    FiscalYearClosed => "fiscal_year_closed", UNPROCESSABLE_ENTITY, "The fiscal year is closed";
    IdempotencyConflict => "idempotency_conflict", CONFLICT, "Idempotency-Key reused with a different request";
    Unauthorized => "unauthorized", UNAUTHORIZED, "Authentication required";
    Forbidden => "forbidden", FORBIDDEN, "Not allowed for this role";
    NotFound => "not_found", NOT_FOUND, "Not found";
    Conflict => "conflict", CONFLICT, "Conflict";
    IntegrityViolation => "integrity_violation", CONFLICT, "Stored records disagree with the hash chain";
    PayloadTooLarge => "payload_too_large", PAYLOAD_TOO_LARGE, "The request body is too large";
    RateLimited => "rate_limited", TOO_MANY_REQUESTS, "Too many requests";
    Unavailable => "unavailable", SERVICE_UNAVAILABLE, "Temporarily unavailable";
    Internal => "internal", INTERNAL_SERVER_ERROR, "Internal error";
}

impl ErrorCode {
    fn spec(self) -> &'static ErrorSpec {
        &ERROR_CODES[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    pub fn status(self) -> StatusCode {
        self.spec().status
    }

    pub fn title(self) -> &'static str {
        self.spec().title
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl utoipa::PartialSchema for ErrorCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The contract's machine-readable error codes."))
            .enum_values(Some(ERROR_CODES.iter().map(|e| e.name)))
            .into()
    }
}

impl utoipa::ToSchema for ErrorCode {}

/// The table of [`ERROR_CODES`] in Markdown, as docs/api.md lists it.
pub fn error_codes_markdown() -> String {
    let mut out = String::from("| code | HTTP status | title |\n| --- | --- | --- |\n");
    for e in ERROR_CODES {
        out.push_str(&format!("| `{}` | {} | {} |\n", e.name, e.status.as_u16(), e.title));
    }
    out
}

/// The problem document. `errors` carries per-field or per-line detail where there is some.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: ErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub errors: Option<Value>,
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Option<Value>,
    /// The status when it is not the code's own: `400` for a `validation_failed` body that is not JSON at all.
    status: Option<StatusCode>,
    /// Seconds for `Retry-After`, when the answer says how long to wait (1 otherwise for `429` and `503`).
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError { code, detail: detail.into(), errors: None, status: None, retry_after: None }
    }
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs.max(1));
        self
    }
    pub fn with_errors(mut self, errors: Value) -> Self {
        self.errors = Some(errors);
        self
    }
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, detail)
    }
    /// A request body that is not JSON (or could not be read): `400 validation_failed`. A well-formed body that
    /// breaks a rule is [`ApiError::validation`], `422`.
    pub fn malformed_body(detail: impl Into<String>) -> Self {
        ApiError { status: Some(StatusCode::BAD_REQUEST), ..Self::validation(detail) }
    }
    pub fn status(&self) -> StatusCode {
        self.status.unwrap_or_else(|| self.code.status())
    }
    pub fn not_found() -> Self {
        Self::new(ErrorCode::NotFound, "no such resource")
    }
    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden, "your role may not do this")
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, detail)
    }
    pub fn internal() -> Self {
        Self::new(ErrorCode::Internal, "an internal error occurred; it has been logged")
    }
    pub fn amount(field: &str, e: MoneyError) -> Self {
        Self::new(ErrorCode::InvalidAmount, format!("{field}: {e}")).with_errors(serde_json::json!([{
            "field": field, "message": e.to_string()
        }]))
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:kasdesa:problem:{}", self.code.as_str()),
            title: self.code.title().to_string(),
            status: self.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status_code());
        resp.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if self.code == ErrorCode::Unavailable || self.code == ErrorCode::RateLimited {
            resp.insert_header((header::RETRY_AFTER, self.retry_after.unwrap_or(1).to_string()));
        }
        if self.code == ErrorCode::Unauthorized {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        resp.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<PostingError> for ApiError {
    fn from(e: PostingError) -> Self {
        let code = match &e {
            PostingError::Unbalanced { .. } => ErrorCode::Unbalanced,
            PostingError::Overflow => ErrorCode::InvalidAmount,
            PostingError::InsufficientFunds { .. } => ErrorCode::InsufficientFunds,
            PostingError::CashLimitExceeded { .. } | PostingError::CashPaymentOverLimit { .. } => {
                ErrorCode::CashLimitExceeded
            }
            PostingError::TooFewEntries | PostingError::TooManyEntries | PostingError::KindRule(_) => {
                ErrorCode::ValidationFailed
            }
        };
        let errors = match &e {
            PostingError::Unbalanced { debits, credits } => {
                Some(serde_json::json!({"debits": debits.to_string(), "credits": credits.to_string()}))
            }
            PostingError::InsufficientFunds { account, balance, needed } => Some(serde_json::json!({
                "account_code": account, "balance": balance.to_string(), "needed": needed.to_string()
            })),
            PostingError::CashLimitExceeded { would_be, limit } => {
                Some(serde_json::json!({"would_be": would_be.to_string(), "cash_limit": limit.to_string()}))
            }
            _ => None,
        };
        ApiError { errors, ..ApiError::new(code, e.to_string()) }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => ApiError::not_found(),
            StoreError::Conflict(m) => ApiError::new(ErrorCode::Conflict, m),
            StoreError::Integrity(m) => {
                tracing::error!(detail = %m, "stored state disagrees with the chain; refused");
                ApiError::new(ErrorCode::IntegrityViolation, m)
            }
            StoreError::AlreadyReversed(id) => {
                ApiError::new(ErrorCode::AlreadyReversed, format!("transaction {id} has already been reversed"))
            }
            StoreError::IdempotencyConflict => ApiError::new(
                ErrorCode::IdempotencyConflict,
                "this Idempotency-Key was already used with a different request",
            ),
            StoreError::Posting(p) => p.into(),
            StoreError::UnknownAccount(code) => {
                ApiError::new(ErrorCode::UnknownAccount, format!("account {code} is not in this village's chart"))
                    .with_errors(serde_json::json!([{ "account_code": code }]))
            }
            StoreError::FiscalYearClosed(y) => {
                ApiError::new(ErrorCode::FiscalYearClosed, format!("fiscal year {y} is closed"))
            }
            StoreError::Validation(m) => ApiError::validation(m),
            StoreError::Workflow(w) => {
                use crate::domain::workflow::WorkflowError as W;
                let code = match w {
                    W::Forbidden { .. } => ErrorCode::Forbidden,
                    W::InvalidTransition { .. } => ErrorCode::InvalidTransition,
                    W::SeparationOfDuties { .. } => ErrorCode::SeparationOfDuties,
                };
                ApiError::new(code, w.to_string())
            }
            StoreError::BudgetExceeded(lines) => {
                let detail = lines
                    .iter()
                    .map(|l| {
                        format!(
                            "{} {} {}: asks {}, available {} of ceiling {} (committed {}, realised {})",
                            l.account_code,
                            l.activity_code.as_deref().unwrap_or("-"),
                            l.source,
                            l.requested,
                            l.available,
                            l.ceiling,
                            l.committed,
                            l.realised
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                ApiError::new(ErrorCode::BudgetExceeded, format!("the budget does not cover this: {detail}"))
                    .with_errors(serde_json::to_value(&lines).unwrap_or_default())
            }
            StoreError::NoAdoptedBudget(y) => ApiError::new(
                ErrorCode::FiscalYearClosed,
                format!("fiscal year {y} has no adopted budget: nothing may be spent in it yet"),
            ),
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "database unavailable");
                ApiError::new(ErrorCode::Unavailable, "the database is unavailable; retry shortly")
            }
            StoreError::Retry => ApiError::new(ErrorCode::Unavailable, "too many concurrent writers; retry shortly"),
            StoreError::ClientRefused { signs: true } => super::auth::unsigned_refused(),
            StoreError::ClientRefused { signs: false } => super::auth::client_ended(),
            StoreError::Internal(m) => {
                // `{:#}` prints the whole cause chain.
                tracing::error!(error = format!("{m:#}"), "store error");
                ApiError::internal()
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        ApiError::new(ErrorCode::Unavailable, "the server is shutting down")
    }
}

impl From<crate::domain::text::FieldError> for ApiError {
    fn from(e: crate::domain::text::FieldError) -> Self {
        ApiError::validation(e.to_string()).with_errors(serde_json::json!([{ "field": e.field, "message": e.rule }]))
    }
}

impl From<crate::users::UserError> for ApiError {
    fn from(e: crate::users::UserError) -> Self {
        use crate::users::UserError as U;
        match e {
            U::Scope(m) => ApiError::validation(m),
            U::Store(s) => s.into(),
            U::Hash => ApiError::internal(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_order_of_the_variants_and_names_each_code_once() {
        for (i, e) in ERROR_CODES.iter().enumerate() {
            assert_eq!(e.code as usize, i, "{}", e.name);
            // The name is the variant's, in snake case: ValidationFailed is validation_failed.
            let variant = format!("{:?}", e.code);
            let mut snake = String::new();
            for (j, c) in variant.chars().enumerate() {
                if c.is_ascii_uppercase() && j > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            assert_eq!(e.name, snake);
            assert_eq!(ERROR_CODES.iter().filter(|o| o.name == e.name).count(), 1);
        }
    }

    #[test]
    fn docs_api_md_lists_the_table() {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
        assert!(
            docs.contains(&error_codes_markdown()),
            "docs/api.md's error table differs from:\n{}",
            error_codes_markdown()
        );
    }

    #[test]
    fn a_problem_takes_its_code_status_and_title_from_the_table() {
        let p = ApiError::new(ErrorCode::BudgetExceeded, "x").problem();
        assert_eq!(
            (p.status, p.title.as_str(), p.type_uri.as_str()),
            (422, "The budget line's ceiling would be exceeded", "urn:kasdesa:problem:budget_exceeded")
        );
        assert_eq!(serde_json::to_value(p.code).unwrap(), "budget_exceeded");
        let p = ApiError::malformed_body("not JSON").problem();
        assert_eq!((p.status, p.code), (400, ErrorCode::ValidationFailed));
        assert_eq!(ApiError::malformed_body("x").status_code(), StatusCode::BAD_REQUEST);
    }
}
