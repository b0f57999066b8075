//! What a store call can fail with. Rule errors (a posting, the workflow, the budget) keep their domain type;
//! infrastructure errors are `Unavailable` (the database went away: retry) or `Internal` (a bug or a corrupt row),
//! and `Internal` keeps its cause for the log.

use crate::domain::budget::Shortfall;
use crate::domain::posting::PostingError;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// The result of an insert that may meet its row already there (another instance's, a concurrent retry's):
/// `Ok(true)` inserted, `Ok(false)` the row was there. (The multi-backend DSL has no `ON CONFLICT`.)
pub(super) fn inserted(r: diesel::QueryResult<usize>) -> Result<bool, StoreError> {
    match r {
        Ok(_) => Ok(true),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// Stored state that no longer matches the chain (edited in the database): nothing acts on it.
    #[error("{0}")]
    Integrity(String),
    #[error("transaction {0} has already been reversed")]
    AlreadyReversed(String),
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyConflict,
    #[error(transparent)]
    Posting(#[from] PostingError),
    #[error("account {0} is not in this village's chart")]
    UnknownAccount(String),
    #[error("fiscal year {0} is closed")]
    FiscalYearClosed(i32),
    #[error("{0}")]
    Validation(String),
    #[error(transparent)]
    Workflow(#[from] crate::domain::workflow::WorkflowError),
    #[error("the budget does not cover this")]
    BudgetExceeded(Vec<Shortfall>),
    #[error("fiscal year {0} has no adopted budget")]
    NoAdoptedBudget(i32),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A bank client's token checked under a write's lock (`ClientCheck`) is no longer good: the client was
    /// deactivated or changed (`signs` false), or it has a key and the request was not signed (`signs` true).
    #[error("the bank client's token is not honoured")]
    ClientRefused { signs: bool },
    /// A transient conflict between concurrent writers; the write loop retries it.
    #[error("concurrent write conflict")]
    Retry,
    /// A bug or a corrupt row: the cause chain goes to the log, the caller gets a 500 without it.
    #[error("internal store error: {0:#}")]
    Internal(anyhow::Error),
}

impl StoreError {
    /// An internal error with a message (and no deeper cause).
    pub fn internal(msg: impl std::fmt::Display) -> StoreError {
        StoreError::Internal(anyhow::anyhow!("{msg}"))
    }

    /// Whether this is an infrastructure failure (as opposed to a rule the request broke).
    pub fn is_infrastructure(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::Internal(_) | StoreError::Retry)
    }
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        let internal =
            |e: DieselError, what: &str| StoreError::Internal(anyhow::Error::new(e).context(what.to_string()));
        let DieselError::DatabaseError(kind, info) = &e else {
            return match e {
                DieselError::NotFound => StoreError::NotFound("record"),
                DieselError::BrokenTransactionManager => StoreError::Unavailable(e.to_string()),
                DieselError::DeserializationError(_) => internal(e, "a stored row could not be read"),
                _ => internal(e, "the database driver failed"),
            };
        };
        let msg = info.message().to_string();
        match kind {
            DatabaseErrorKind::SerializationFailure => StoreError::Retry,
            DatabaseErrorKind::UniqueViolation
                if info.constraint_name().is_some_and(|c| c.starts_with("idempotency_keys"))
                    || msg.contains("idempotency_keys") =>
            {
                StoreError::Retry
            }
            DatabaseErrorKind::UniqueViolation => StoreError::Conflict(unique_message(info.constraint_name(), &msg)),
            DatabaseErrorKind::ClosedConnection => StoreError::Unavailable(msg),
            _ if msg.contains("deadlock detected") || msg.contains("database is locked") => StoreError::Retry,
            _ if CONNECTION_LOST.iter().any(|m| msg.contains(m)) => StoreError::Unavailable(msg),
            _ => {
                let what = format!("database error ({kind:?})");
                internal(e, &what)
            }
        }
    }
}

/// How libpq and the server say a connection went away (a restart, `pg_terminate_backend`, a network cut).
const CONNECTION_LOST: &[&str] = &[
    "terminating connection",
    "server closed the connection",
    "no connection to the server",
    "connection not open",
    "could not receive data",
    "could not send data",
    "the database system is shutting down",
    "the database system is starting up",
    "connection to server",
    "broken pipe",
];

fn unique_message(constraint: Option<&str>, msg: &str) -> String {
    let what = constraint.unwrap_or(msg);
    if what.contains("code") {
        "a record with this code already exists".into()
    } else if what.contains("username") {
        "this username is taken".into()
    } else if what.contains("reverses") {
        "this transaction has already been reversed".into()
    } else {
        "a record with the same key already exists".into()
    }
}

impl From<diesel::r2d2::PoolError> for StoreError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

impl From<diesel::ConnectionError> for StoreError {
    fn from(e: diesel::ConnectionError) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// A refusal of one line of a batch (a bank entry): the other lines still post. The errors a line can meet alone;
/// any other error fails the whole request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineRefusal {
    Posting(PostingError),
    FiscalYearClosed(i32),
    Conflict(String),
    UnknownAccount(String),
}

impl LineRefusal {
    /// The refusal `e` is, or `e` itself when it must fail the whole request.
    pub fn of(e: StoreError) -> Result<LineRefusal, StoreError> {
        match e {
            StoreError::Posting(p) => Ok(LineRefusal::Posting(p)),
            StoreError::FiscalYearClosed(y) => Ok(LineRefusal::FiscalYearClosed(y)),
            StoreError::Conflict(m) => Ok(LineRefusal::Conflict(m)),
            StoreError::UnknownAccount(a) => Ok(LineRefusal::UnknownAccount(a)),
            other => Err(other),
        }
    }
}

impl From<LineRefusal> for StoreError {
    fn from(r: LineRefusal) -> Self {
        match r {
            LineRefusal::Posting(p) => StoreError::Posting(p),
            LineRefusal::FiscalYearClosed(y) => StoreError::FiscalYearClosed(y),
            LineRefusal::Conflict(m) => StoreError::Conflict(m),
            LineRefusal::UnknownAccount(a) => StoreError::UnknownAccount(a),
        }
    }
}
