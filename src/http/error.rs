//! Every error leaves as `application/problem+json` (RFC 9457) with the contract's stable `code`.

use crate::domain::money::MoneyError;
use crate::domain::posting::PostingError;
use crate::store::StoreError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::Value;

/// The contract's machine-readable error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    ValidationFailed,
    InvalidAmount,
    Unbalanced,
    UnknownAccount,
    BudgetExceeded,
    InsufficientFunds,
    CashLimitExceeded,
    InvalidTransition,
    SeparationOfDuties,
    AlreadyReversed,
    FiscalYearClosed,
    IdempotencyConflict,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PayloadTooLarge,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::InvalidAmount => "invalid_amount",
            ErrorCode::Unbalanced => "unbalanced",
            ErrorCode::UnknownAccount => "unknown_account",
            ErrorCode::BudgetExceeded => "budget_exceeded",
            ErrorCode::InsufficientFunds => "insufficient_funds",
            ErrorCode::CashLimitExceeded => "cash_limit_exceeded",
            ErrorCode::InvalidTransition => "invalid_transition",
            ErrorCode::SeparationOfDuties => "separation_of_duties",
            ErrorCode::AlreadyReversed => "already_reversed",
            ErrorCode::FiscalYearClosed => "fiscal_year_closed",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            ErrorCode::ValidationFailed
            | ErrorCode::InvalidAmount
            | ErrorCode::Unbalanced
            | ErrorCode::UnknownAccount
            | ErrorCode::BudgetExceeded
            | ErrorCode::InsufficientFunds
            | ErrorCode::CashLimitExceeded
            | ErrorCode::FiscalYearClosed => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::InvalidTransition
            | ErrorCode::AlreadyReversed
            | ErrorCode::IdempotencyConflict
            | ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::SeparationOfDuties | ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn title(self) -> &'static str {
        match self {
            ErrorCode::ValidationFailed => "The request is not valid",
            ErrorCode::InvalidAmount => "An amount is not valid",
            ErrorCode::Unbalanced => "Debits do not equal credits",
            ErrorCode::UnknownAccount => "Unknown account",
            ErrorCode::BudgetExceeded => "The budget line's ceiling would be exceeded",
            ErrorCode::InsufficientFunds => "Insufficient funds",
            ErrorCode::CashLimitExceeded => "Cash in hand would exceed the village's cash limit",
            ErrorCode::InvalidTransition => "Not allowed in the current state",
            ErrorCode::SeparationOfDuties => "Separation of duties",
            ErrorCode::AlreadyReversed => "Already reversed",
            ErrorCode::FiscalYearClosed => "The fiscal year is closed",
            ErrorCode::IdempotencyConflict => "Idempotency-Key reused with a different request",
            ErrorCode::Unauthorized => "Authentication required",
            ErrorCode::Forbidden => "Not allowed for this role",
            ErrorCode::NotFound => "Not found",
            ErrorCode::Conflict => "Conflict",
            ErrorCode::PayloadTooLarge => "The request body is too large",
            ErrorCode::RateLimited => "Too many requests",
            ErrorCode::Unavailable => "Temporarily unavailable",
            ErrorCode::Internal => "Internal error",
        }
    }
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
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError { code, detail: detail.into(), errors: None, status: None }
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
            resp.insert_header((header::RETRY_AFTER, "1"));
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
            PostingError::CashLimitExceeded { .. } => ErrorCode::CashLimitExceeded,
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
            StoreError::Internal(m) => {
                tracing::error!(error = %m, "store error");
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
