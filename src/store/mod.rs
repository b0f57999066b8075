//! The store layer: one diesel codebase over SQLite and PostgreSQL.
//!
//! The queries live in `queries.rs`, which is compiled twice, once per concrete connection type (the way vaultwarden's
//! `db_run!` expands one body per backend): diesel's multi-backend connection cannot express row locks or
//! `BEGIN IMMEDIATE`, and the two backends need exactly those to serialize writers to one village. What differs
//! between the backends is confined to the [`BackendOps`] impls below.

mod group_commit;
mod pg_posting;
pub mod rows;
pub mod schema;

use crate::domain::posting::{EntryDraft, PostingError, TxnKind};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use rows::*;
use std::collections::HashMap;
use std::time::Duration;

/// Runs an expression on a pooled connection of the right backend: `dispatch!(db, read|write, conn => expr)`.
macro_rules! dispatch {
    ($db:expr, write, $c:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { write, .. } => {
                #[allow(unused_imports)]
                use $crate::store::sqlite_q as q;
                // Group commit: `finish` returns the result once the rows it wrote are committed.
                let mut guard = write.acquire();
                let out = {
                    let $c = guard.conn();
                    $body
                };
                guard.finish(out)
            }
            $crate::store::Db::Pg(pool) => {
                #[allow(unused_imports)]
                use $crate::store::pg_q as q;
                let mut pooled = pool.get()?;
                let out = {
                    let $c = &mut *pooled;
                    $body
                };
                $crate::store::discard_if_lost(&mut pooled, &out);
                out
            }
        }
    };
    ($db:expr, read, $c:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { read, .. } => {
                #[allow(unused_imports)]
                use $crate::store::sqlite_q as q;
                let mut pooled = read.get()?;
                let $c = &mut *pooled;
                $body
            }
            $crate::store::Db::Pg(pool) => {
                #[allow(unused_imports)]
                use $crate::store::pg_q as q;
                let mut pooled = pool.get()?;
                let out = {
                    let $c = &mut *pooled;
                    $body
                };
                $crate::store::discard_if_lost(&mut pooled, &out);
                out
            }
        }
    };
}

/// The pools do not test a connection when it is checked out (that is a `SELECT 1` round trip on every request);
/// instead a connection whose request failed because the database went away is marked broken here, and r2d2
/// drops it when it comes back instead of handing it out again. Nothing is lost by the request that found it dead:
/// it fails with `Unavailable` (503, retry) before or without committing.
pub(crate) fn discard_if_lost<T>(c: &mut diesel::PgConnection, out: &Result<T, StoreError>) {
    if matches!(out, Err(StoreError::Unavailable(_))) {
        use diesel::connection::{AnsiTransactionManager, TransactionManager};
        AnsiTransactionManager::transaction_manager_status_mut(c).set_in_error();
    }
}

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[allow(clippy::duplicate_mod)]
mod sqlite_q {
    pub type Conn = diesel::SqliteConnection;
    include!("queries.rs");
    pub mod workflow {
        pub type Conn = super::Conn;
        include!("workflow_queries.rs");
    }
    pub mod reports {
        pub type Conn = super::Conn;
        include!("report_queries.rs");
    }
}
#[allow(clippy::duplicate_mod)]
mod pg_q {
    pub type Conn = diesel::PgConnection;
    include!("queries.rs");
    pub mod workflow {
        pub type Conn = super::Conn;
        include!("workflow_queries.rs");
    }
    pub mod reports {
        pub type Conn = super::Conn;
        include!("report_queries.rs");
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
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
    /// A transient conflict between concurrent writers; the write loop retries it.
    #[error("concurrent write conflict")]
    Retry,
    #[error("internal store error: {0}")]
    Internal(String),
}

impl From<DieselError> for StoreError {
    fn from(e: DieselError) -> Self {
        match &e {
            DieselError::NotFound => StoreError::NotFound("record"),
            DieselError::DatabaseError(kind, info) => {
                let msg = info.message().to_string();
                match kind {
                    DatabaseErrorKind::SerializationFailure => StoreError::Retry,
                    DatabaseErrorKind::UniqueViolation => {
                        if info.constraint_name().is_some_and(|c| c.starts_with("idempotency_keys"))
                            || msg.contains("idempotency_keys")
                        {
                            StoreError::Retry
                        } else {
                            StoreError::Conflict(unique_message(info.constraint_name(), &msg))
                        }
                    }
                    DatabaseErrorKind::ClosedConnection => StoreError::Unavailable(msg),
                    _ if msg.contains("deadlock detected") || msg.contains("database is locked") => StoreError::Retry,
                    _ if CONNECTION_LOST.iter().any(|m| msg.contains(m)) => StoreError::Unavailable(msg),
                    _ => StoreError::Internal(format!("{kind:?}: {msg}")),
                }
            }
            DieselError::BrokenTransactionManager => StoreError::Unavailable(e.to_string()),
            _ => StoreError::Internal(e.to_string()),
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

/// How many times a write that lost a race to a concurrent writer is tried again before giving up.
const WRITE_ATTEMPTS: u32 = 8;

/// What differs between the backends. Everything else in `queries.rs` is the same text for both.
pub trait BackendOps: Sized {
    /// Runs `f` in a write transaction that serializes with every other writer to the same village, retrying
    /// transient conflicts a bounded number of times. Must be the outermost transaction.
    fn write_txn<T>(&mut self, f: &mut dyn FnMut(&mut Self) -> Result<T, StoreError>) -> Result<T, StoreError>;
    /// Reads the village row, holding it locked until the transaction ends.
    fn lock_village(&mut self, id: &str) -> Result<Option<VillageRow>, StoreError>;
    /// [`Self::lock_village`], with the stored answer for the idempotency key and what `probe` asks, all as of the
    /// lock.
    fn lock_for_write(
        &mut self,
        target: LockTarget<'_>,
        idem: Option<&IdempotencyKey>,
        probe: &Probe<'_>,
    ) -> Result<Option<Locked>, StoreError>;
    /// For a posting dated in `year`: opens the year on first use (refusing a closed one) and returns the balances
    /// of the accounts among `codes` that exist.
    fn posting_balances(
        &mut self,
        village_id: &str,
        year: i32,
        codes: &[String],
    ) -> Result<std::collections::HashMap<String, i64>, StoreError>;
    /// A payment request with its lines, withholdings, events and transfers.
    fn load_payment(&mut self, id: &str) -> Result<Option<PaymentRecord>, StoreError>;
    /// Appends a workflow event: inserts it and advances the village's chain to it; with `status_change`, also sets
    /// the request's status to the event's `to_status` and its `updated_at`.
    fn write_event(&mut self, event: &PaymentEventRow, status_change: Option<NaiveDateTime>) -> Result<(), StoreError>;
    /// Writes a checked posting's rows: the transaction, its entries, the accounts' new balances (code, before,
    /// after), the daily totals, the village's new sequence and chain head (from `txn`), and the rows `along`.
    fn write_posting(
        &mut self,
        txn: &TransactionRow,
        entries: &[EntryRow],
        balances: &[(&String, i64, i64)],
        daily: &std::collections::BTreeMap<&str, (i64, i64)>,
        along: &Alongside,
    ) -> Result<(), StoreError>;
}

pub use pg_posting::StoredAnswer;

/// What a write asks to read with its village lock, in the same round trip where the backend can: the
/// bank-credit record of a reference, and the balances of the accounts it will post to.
#[derive(Default)]
pub struct Probe<'a> {
    pub bank_reference: Option<&'a str>,
    /// (fiscal year, account codes)
    pub balances: Option<(i32, &'a [String])>,
}

/// Whose village a write locks: named, or the village of a payment request (found in the same statement where
/// the backend can, which saves the caller a read before the write).
#[derive(Debug, Clone, Copy)]
pub enum LockTarget<'a> {
    Village(&'a str),
    PaymentOf(&'a str),
}

/// The village row, locked, with what the [`Probe`] asked for, all current as of the lock.
pub struct Locked {
    pub village: VillageRow,
    /// The stored answer for the request's idempotency key: (request hash, status, body).
    pub stored: Option<StoredAnswer>,
    /// The bank credit already recorded under the probed reference: (amount, source, transaction id).
    pub bank_credit: Option<(i64, String, String)>,
    /// The probed accounts' balances (those that exist) when the fiscal year is open; None when not read, or when
    /// the year is not open (the posting then takes the slow way, which opens or refuses the year).
    pub open_year_balances: Option<HashMap<String, i64>>,
}

/// Rows written in the same statement as a posting (they need its id, and a statement less is a round trip less).
#[derive(Default)]
pub struct Alongside {
    pub bank_credit: Option<BankCreditRow>,
    pub idempotency: Option<IdempotencyRow>,
}

fn retry_loop<T>(mut attempt: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    for n in 1..=WRITE_ATTEMPTS {
        match attempt() {
            Err(StoreError::Retry) if n < WRITE_ATTEMPTS => {
                // Small, growing, jittered pause so that racing writers do not collide again in lockstep.
                let jitter = u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 8);
                std::thread::sleep(Duration::from_millis(u64::from(n) * 2 + jitter));
            }
            Err(StoreError::Retry) => {
                return Err(StoreError::Unavailable("too many concurrent write conflicts; try again".into()))
            }
            other => return other,
        }
    }
    unreachable!("the loop returns on its last attempt")
}

impl BackendOps for diesel::SqliteConnection {
    fn write_txn<T>(&mut self, f: &mut dyn FnMut(&mut Self) -> Result<T, StoreError>) -> Result<T, StoreError> {
        // The connection is the group writer's (see group_commit.rs): the group's transaction is opened here if no
        // earlier writer left one open, with BEGIN IMMEDIATE so that a read-then-write never fails with
        // SQLITE_BUSY midway; the write itself runs in a savepoint and the group's last writer commits.
        retry_loop(|| {
            use diesel::connection::{AnsiTransactionManager, TransactionManager};
            let open = AnsiTransactionManager::transaction_manager_status_mut(self)
                .transaction_depth()
                .map_err(StoreError::from)?
                .is_some();
            if !open {
                AnsiTransactionManager::begin_transaction_sql(self, "BEGIN IMMEDIATE")?;
            }
            self.transaction(|c| f(c))
        })
    }

    fn lock_village(&mut self, id: &str) -> Result<Option<VillageRow>, StoreError> {
        use schema::villages::dsl;
        Ok(dsl::villages.find(id).select(VillageRow::as_select()).first(self).optional()?)
    }

    fn lock_for_write(
        &mut self,
        target: LockTarget<'_>,
        idem: Option<&IdempotencyKey>,
        probe: &Probe<'_>,
    ) -> Result<Option<Locked>, StoreError> {
        sqlite_q::lock_for_write_rows(self, target, idem, probe)
    }

    fn load_payment(&mut self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        sqlite_q::workflow::load_payment_rows(self, id)
    }

    fn write_event(&mut self, e: &PaymentEventRow, status_change: Option<NaiveDateTime>) -> Result<(), StoreError> {
        sqlite_q::workflow::write_event_rows(self, e, status_change)
    }

    fn posting_balances(
        &mut self,
        village_id: &str,
        year: i32,
        codes: &[String],
    ) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        sqlite_q::posting_balances_rows(self, village_id, year, codes)
    }

    fn write_posting(
        &mut self,
        txn: &TransactionRow,
        entries: &[EntryRow],
        balances: &[(&String, i64, i64)],
        daily: &std::collections::BTreeMap<&str, (i64, i64)>,
        along: &Alongside,
    ) -> Result<(), StoreError> {
        sqlite_q::write_posting_rows(self, txn, entries, balances, daily, along)
    }
}

impl BackendOps for diesel::PgConnection {
    fn write_txn<T>(&mut self, f: &mut dyn FnMut(&mut Self) -> Result<T, StoreError>) -> Result<T, StoreError> {
        retry_loop(|| self.transaction(|c| f(c)))
    }

    fn lock_village(&mut self, id: &str) -> Result<Option<VillageRow>, StoreError> {
        use schema::villages::dsl;
        Ok(dsl::villages.find(id).select(VillageRow::as_select()).for_update().first(self).optional()?)
    }

    fn lock_for_write(
        &mut self,
        target: LockTarget<'_>,
        idem: Option<&IdempotencyKey>,
        probe: &Probe<'_>,
    ) -> Result<Option<Locked>, StoreError> {
        pg_posting::lock_for_write(self, target, idem, probe)
    }

    fn load_payment(&mut self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        pg_posting::load_payment(self, id)
    }

    fn write_event(&mut self, e: &PaymentEventRow, status_change: Option<NaiveDateTime>) -> Result<(), StoreError> {
        pg_posting::write_event(self, e, status_change)
    }

    fn posting_balances(
        &mut self,
        village_id: &str,
        year: i32,
        codes: &[String],
    ) -> Result<std::collections::HashMap<String, i64>, StoreError> {
        let (status, balances) = pg_posting::balances_with_year(self, village_id, year, codes)?;
        match status.as_deref() {
            Some("open") => Ok(balances),
            Some(_) => Err(StoreError::FiscalYearClosed(year)),
            // The year is not open yet (or no account matched, which leaves its status unread): the slow way.
            None => {
                pg_q::ensure_year_open(self, village_id, year)?;
                Ok(balances)
            }
        }
    }

    fn write_posting(
        &mut self,
        txn: &TransactionRow,
        entries: &[EntryRow],
        balances: &[(&String, i64, i64)],
        daily: &std::collections::BTreeMap<&str, (i64, i64)>,
        along: &Alongside,
    ) -> Result<(), StoreError> {
        pg_posting::write_posting(self, txn, entries, balances, daily, along)
    }
}

#[derive(Debug)]
struct SqlitePragmas;

/// synchronous=FULL: every acknowledged commit is on disk, even across a power cut, not just a process crash.
const SQLITE_PRAGMAS: &str =
    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";

impl CustomizeConnection<diesel::SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut diesel::SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        conn.batch_execute(SQLITE_PRAGMAS).map_err(diesel::r2d2::Error::QueryError)
    }
}

#[derive(Debug)]
struct PgSession;

impl CustomizeConnection<diesel::PgConnection, diesel::r2d2::Error> for PgSession {
    fn on_acquire(&self, conn: &mut diesel::PgConnection) -> Result<(), diesel::r2d2::Error> {
        // Diesel prepares each statement once per connection, but PostgreSQL re-plans a prepared statement on every
        // execution while it judges a custom plan (for the values at hand) cheaper than the generic one, which it
        // did for the posting statements: planning was 12% of the database's CPU in the credit benchmark
        // (docs/benchmarks.md). The service's statements are key look-ups and bounded index ranges whose best plan
        // does not depend on the values, so one generic plan per statement serves them all.
        conn.batch_execute("SET plan_cache_mode = force_generic_plan").map_err(diesel::r2d2::Error::QueryError)
    }
}

type SqlitePool = Pool<ConnectionManager<diesel::SqliteConnection>>;
type PgPool = Pool<ConnectionManager<diesel::PgConnection>>;

/// The database: SQLite (one writer connection with group commit, a pool of readers) or PostgreSQL (one pool).
#[derive(Clone)]
pub enum Db {
    Sqlite { write: std::sync::Arc<group_commit::GroupWriter>, read: SqlitePool },
    Pg(PgPool),
}

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_connections: u32,
    pub connect_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions { max_connections: 16, connect_timeout: Duration::from_secs(5) }
    }
}

/// The path of an SQLite URL (`sqlite://path`, `sqlite:path`), or None for any other scheme.
pub fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

impl Db {
    /// Opens the pools and runs the embedded migrations. The scheme picks the backend; nothing is guessed.
    pub fn connect(url: &str, opts: &PoolOptions) -> anyhow::Result<Db> {
        let db = if let Some(path) = sqlite_path(url) {
            if let Some(parent) = std::path::Path::new(path).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent)?;
                }
            }
            let build = |size: u32| {
                Pool::builder()
                    .max_size(size)
                    .connection_timeout(opts.connect_timeout)
                    .connection_customizer(Box::new(SqlitePragmas))
                    .build(ConnectionManager::<diesel::SqliteConnection>::new(path))
            };
            let mut writer = diesel::SqliteConnection::establish(path)?;
            writer.batch_execute(SQLITE_PRAGMAS)?;
            let write = std::sync::Arc::new(group_commit::GroupWriter::new(writer));
            let read = build(opts.max_connections.max(2))?;
            Db::Sqlite { write, read }
        } else if is_postgres_url(url) {
            let pool = Pool::builder()
                .max_size(opts.max_connections)
                .test_on_check_out(false)
                .connection_customizer(Box::new(PgSession))
                .connection_timeout(opts.connect_timeout)
                .build(ConnectionManager::<diesel::PgConnection>::new(url))?;
            Db::Pg(pool)
        } else {
            anyhow::bail!("unsupported database URL (use sqlite://PATH or postgres://...)");
        };
        db.migrate()?;
        Ok(db)
    }

    pub fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite { write, .. } => {
                let mut guard = write.acquire();
                let ran = guard.conn().run_pending_migrations(SQLITE_MIGRATIONS).map(|_| ());
                let ran = ran.map_err(|e| StoreError::Internal(format!("migrations: {e}")));
                guard.finish(ran)?;
            }
            Db::Pg(pool) => {
                let mut c = pool.get()?;
                // Several instances starting at once must not run the migrations twice.
                c.batch_execute("SELECT pg_advisory_lock(727274)")?;
                let r = c.run_pending_migrations(PG_MIGRATIONS).map(|_| ()).map_err(|e| anyhow::anyhow!("{e}"));
                c.batch_execute("SELECT pg_advisory_unlock(727274)")?;
                r?;
            }
        }
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite { .. } => "sqlite",
            Db::Pg(_) => "postgres",
        }
    }

    /// An online, consistent copy of an SQLite database (`VACUUM INTO`), written to `path` (which must not exist).
    pub fn backup_sqlite(&self, path: &std::path::Path) -> anyhow::Result<()> {
        let Db::Sqlite { read, .. } = self else {
            anyhow::bail!("backup_sqlite is for SQLite; for PostgreSQL use pg_dump (kasdesa backup does)");
        };
        anyhow::ensure!(!path.exists(), "{} exists already", path.display());
        let target = path.to_str().ok_or_else(|| anyhow::anyhow!("the path is not UTF-8"))?.replace('\'', "''");
        read.get()?.batch_execute(&format!("VACUUM INTO '{target}'"))?;
        Ok(())
    }

    /// A cheap round trip, for readiness.
    pub fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, read, c => c.batch_execute("SELECT 1").map_err(StoreError::from))
    }
}

/// A retried write's identity: who sent it, the key they chose, and a hash of what they asked.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub principal: String,
    pub key: String,
    pub request_hash: String,
}

/// The result of an idempotent write: done now, or the stored response of the first attempt.
#[derive(Debug)]
pub enum Written<T> {
    Fresh(T),
    Replay { status: u16, body: String },
}

/// A transaction to post. The store assigns its id, sequence numbers, timestamps and hashes.
#[derive(Debug, Clone)]
pub struct NewTransaction {
    pub village_id: String,
    pub kind: TxnKind,
    pub value_date: NaiveDate,
    pub description: String,
    pub entries: Vec<EntryDraft>,
    pub reverses: Option<String>,
    pub payment_id: Option<String>,
    pub bank_reference: Option<String>,
    pub created_by: String,
}

#[derive(Debug, Clone, Copy)]
pub enum VillageFilter<'a> {
    All,
    Regency(&'a str),
    Ids(&'a [String]),
}

#[derive(Debug, Clone, Default)]
pub struct TxnQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub account: Option<String>,
    pub after_seq: i64,
    pub limit: i64,
}

/// Where the hash chain (or the balances) first disagree with the rows.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ChainBreak {
    /// The position in the village's chain.
    pub chain_seq: i64,
    /// The transaction's own sequence number, when the broken link is a transaction.
    pub seq: Option<i64>,
    pub transaction_id: Option<String>,
    /// The payment event's id, when the broken link is a workflow event.
    pub payment_event_id: Option<String>,
    /// `hash_mismatch`, `prev_hash_mismatch`, `missing_link` or `head_mismatch`.
    pub reason: String,
}

impl ChainBreak {
    pub fn missing(chain_seq: i64) -> ChainBreak {
        ChainBreak { chain_seq, seq: None, transaction_id: None, payment_event_id: None, reason: "missing_link".into() }
    }
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    pub ok: bool,
    pub checked: i64,
    pub first_broken: Option<ChainBreak>,
    /// Accounts whose stored balance differs from the sum of their entries.
    pub balance_mismatches: Vec<String>,
    /// Payment requests whose stored content no longer matches the digest in their latest chained event.
    pub payment_mismatches: Vec<String>,
}

/// A budget line a request (or a revision) does not fit in.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Shortfall {
    pub account_code: String,
    pub activity_code: Option<String>,
    pub source: String,
    #[schema(value_type = String)]
    pub ceiling: crate::domain::money::Amount,
    #[schema(value_type = String)]
    pub committed: crate::domain::money::Amount,
    #[schema(value_type = String)]
    pub realised: crate::domain::money::Amount,
    #[schema(value_type = String)]
    pub available: crate::domain::money::Amount,
    /// What this request (or this revision's ceiling) asks of the line.
    #[schema(value_type = String)]
    pub requested: crate::domain::money::Amount,
}

/// Who acts on a request: recorded in its events.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: String,
    pub name: String,
    pub role: crate::domain::roles::Role,
}

#[derive(Debug, Clone)]
pub struct BudgetLineInput {
    pub account_code: String,
    /// Empty for lines without an activity.
    pub activity_code: String,
    pub activity_name: Option<String>,
    pub source: String,
    pub ceiling: i64,
}

#[derive(Debug, Clone)]
pub struct NewPaymentLine {
    pub account_code: String,
    pub source: Option<String>,
    pub amount: i64,
    /// (tax, amount in sen)
    pub withholdings: Vec<(String, i64)>,
}

#[derive(Debug, Clone)]
pub struct NewPayment {
    pub village_id: String,
    /// `spp` or `tax_deposit`.
    pub kind: &'static str,
    pub fiscal_year: i32,
    pub activity_code: Option<String>,
    pub description: String,
    pub payee_name: String,
    pub payee_bank_code: String,
    pub payee_account_number: String,
    pub payee_npwp: Option<String>,
    pub invoice_number: Option<String>,
    pub invoice_date: Option<NaiveDate>,
    pub billing_code: Option<String>,
    pub lines: Vec<NewPaymentLine>,
    pub totals: crate::domain::workflow::Totals,
    pub actor: Actor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankResult {
    pub paid: bool,
    pub bank_reference: String,
    pub value_date: NaiveDate,
    pub reason: Option<String>,
    pub ntpn: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewCredit {
    pub village_id: String,
    pub amount: i64,
    pub source: String,
    pub bank_reference: String,
    pub value_date: NaiveDate,
    pub description: String,
    pub client_id: String,
}

#[derive(Debug, Clone)]
pub struct NewStatementLine {
    pub bank_reference: String,
    pub value_date: NaiveDate,
    pub amount: i64,
    pub direction: String,
}

/// Spending realised on (account, activity, source), in sen.
pub type SpendingByKey = (String, Option<String>, Option<String>, i64);

/// One journal entry with its transaction's header, as the books list it.
#[derive(Debug, Clone)]
pub struct LedgerLine {
    pub txn_id: String,
    pub seq: i64,
    pub kind: String,
    pub value_date: NaiveDate,
    pub description: String,
    pub bank_reference: Option<String>,
    pub payment_id: Option<String>,
    pub line_no: i32,
    pub account_code: String,
    pub side: String,
    pub amount: i64,
    pub activity_code: Option<String>,
    pub source: Option<String>,
}

impl LedgerLine {
    /// Debit-positive amount.
    pub fn signed(&self) -> i64 {
        if self.side == "debit" {
            self.amount
        } else {
            -self.amount
        }
    }
}

/// Truncated to microseconds: what both backends store, and so what the hash covers.
pub fn now_micros() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    let micros = now.and_utc().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).expect("in range").naive_utc()
}

impl Db {
    pub fn create_regency(&self, code: &str, name: &str, utc_offset_minutes: i32) -> Result<RegencyRow, StoreError> {
        dispatch!(self, write, c => q::create_regency(c, code, name, utc_offset_minutes))
    }
    pub fn get_regency(&self, id: &str) -> Result<Option<RegencyRow>, StoreError> {
        dispatch!(self, read, c => q::get_regency(c, id))
    }
    pub fn list_regencies(&self) -> Result<Vec<RegencyRow>, StoreError> {
        dispatch!(self, read, c => q::list_regencies(c))
    }
    pub fn create_village(&self, v: VillageRow) -> Result<VillageRow, StoreError> {
        dispatch!(self, write, c => q::create_village(c, v))
    }
    pub fn get_village(&self, id: &str) -> Result<Option<VillageRow>, StoreError> {
        dispatch!(self, read, c => q::get_village(c, id))
    }
    pub fn update_village(&self, v: &VillageRow) -> Result<VillageRow, StoreError> {
        dispatch!(self, write, c => q::update_village(c, v))
    }
    pub fn find_village_by_code(&self, code: &str) -> Result<Option<VillageRow>, StoreError> {
        dispatch!(self, read, c => q::find_village_by_code(c, code))
    }
    pub fn list_villages(&self, filter: VillageFilter<'_>) -> Result<Vec<VillageRow>, StoreError> {
        dispatch!(self, read, c => q::list_villages(c, filter))
    }
    pub fn create_user(&self, u: UserRow) -> Result<UserRow, StoreError> {
        dispatch!(self, write, c => q::create_user(c, u))
    }
    pub fn get_user(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        dispatch!(self, read, c => q::get_user(c, id))
    }
    pub fn update_user(&self, u: &UserRow) -> Result<UserRow, StoreError> {
        dispatch!(self, write, c => q::update_user(c, u))
    }
    pub fn find_user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        dispatch!(self, read, c => q::find_user(c, username))
    }
    pub fn count_users(&self) -> Result<i64, StoreError> {
        dispatch!(self, read, c => q::count_users(c))
    }
    pub fn create_bank_client(&self, row: BankClientRow, village_ids: &[String]) -> Result<(), StoreError> {
        dispatch!(self, write, c => q::create_bank_client(c, row, village_ids))
    }
    pub fn find_bank_client(&self, client_id: &str) -> Result<Option<(BankClientRow, Vec<String>)>, StoreError> {
        dispatch!(self, read, c => q::find_bank_client(c, client_id))
    }
    pub fn find_idempotent(&self, idem: &IdempotencyKey) -> Result<Option<(u16, String)>, StoreError> {
        dispatch!(self, read, c => q::find_idempotent(c, idem))
    }
    /// Posts a transaction atomically; with a key, stores `render`'s body as the response a retry will get.
    pub fn post_transaction(
        &self,
        new: &NewTransaction,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&TransactionRecord) -> String,
    ) -> Result<Written<TransactionRecord>, StoreError> {
        dispatch!(self, write, c => q::post_transaction(c, new, idem, render))
    }
    pub fn reverse_transaction(
        &self,
        original_id: &str,
        value_date: NaiveDate,
        reason: &str,
        actor: &str,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&TransactionRecord) -> String,
    ) -> Result<Written<TransactionRecord>, StoreError> {
        dispatch!(self, write, c => q::reverse_transaction(c, original_id, value_date, reason, actor, idem, render))
    }
    pub fn get_transaction(&self, id: &str) -> Result<Option<TransactionRecord>, StoreError> {
        dispatch!(self, read, c => q::get_transaction(c, id))
    }
    pub fn list_transactions(&self, village_id: &str, query: &TxnQuery) -> Result<Vec<TransactionRecord>, StoreError> {
        dispatch!(self, read, c => q::list_transactions(c, village_id, query))
    }
    pub fn accounts(&self, village_id: &str) -> Result<Vec<AccountRow>, StoreError> {
        dispatch!(self, read, c => q::accounts(c, village_id))
    }
    /// Debit-positive balance per account from the entries with value date on or before `at`.
    pub fn balances_at(&self, village_id: &str, at: NaiveDate) -> Result<Vec<(String, i64)>, StoreError> {
        dispatch!(self, read, c => q::balances_at(c, village_id, at))
    }
    pub fn close_fiscal_year(&self, village_id: &str, year: i32, actor: &str) -> Result<FiscalYearRow, StoreError> {
        dispatch!(self, write, c => q::close_fiscal_year(c, village_id, year, actor))
    }
    pub fn fiscal_years(&self, village_id: &str) -> Result<Vec<FiscalYearRow>, StoreError> {
        dispatch!(self, read, c => q::fiscal_years(c, village_id))
    }
    /// Walks the village's chain in bounded batches and checks every link, then every stored balance.
    pub fn verify_chain(&self, village_id: &str) -> Result<ChainReport, StoreError> {
        dispatch!(self, read, c => q::verify_chain(c, village_id))
    }
}

impl Db {
    pub fn put_budget_draft(
        &self,
        village_id: &str,
        year: i32,
        lines: &[BudgetLineInput],
        actor: &str,
    ) -> Result<BudgetRecord, StoreError> {
        dispatch!(self, write, c => q::workflow::put_budget_draft(c, village_id, year, lines, actor))
    }
    pub fn adopt_budget(&self, village_id: &str, year: i32, actor: &str) -> Result<BudgetRecord, StoreError> {
        dispatch!(self, write, c => q::workflow::adopt_budget(c, village_id, year, actor))
    }
    pub fn revise_budget(
        &self,
        village_id: &str,
        year: i32,
        lines: &[BudgetLineInput],
        note: Option<&str>,
        actor: &str,
    ) -> Result<BudgetRecord, StoreError> {
        dispatch!(self, write, c => q::workflow::revise_budget(c, village_id, year, lines, note, actor))
    }
    pub fn get_budget(&self, village_id: &str, year: i32) -> Result<Option<BudgetRecord>, StoreError> {
        dispatch!(self, read, c => q::workflow::get_budget(c, village_id, year))
    }
    pub fn create_payment(
        &self,
        new: &NewPayment,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&PaymentRecord) -> String,
    ) -> Result<Written<PaymentRecord>, StoreError> {
        dispatch!(self, write, c => q::workflow::create_payment(c, new, idem, render))
    }
    pub fn get_payment(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        dispatch!(self, read, c => q::workflow::get_payment(c, id))
    }
    pub fn list_payments(
        &self,
        village_id: &str,
        status: Option<&str>,
        after_id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        dispatch!(self, read, c => q::workflow::list_payments(c, village_id, status, after_id, limit))
    }
    /// Takes one step of a request's chain atomically; with a key, stores `render`'s body for retries.
    #[allow(clippy::too_many_arguments)]
    pub fn transition_payment(
        &self,
        payment_id: &str,
        in_scope: &dyn Fn(&VillageRow) -> bool,
        action: crate::domain::workflow::Action,
        actor: &Actor,
        note: Option<&str>,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&PaymentRecord) -> String,
    ) -> Result<Written<PaymentRecord>, StoreError> {
        dispatch!(self, write, c => q::workflow::transition_payment(c, payment_id, in_scope, action, actor, note, idem, render))
    }
    pub fn list_transfers(
        &self,
        village_ids: &[String],
        status: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<(TransferRow, PaymentRow)>, StoreError> {
        dispatch!(self, read, c => q::workflow::list_transfers(c, village_ids, status, after, limit))
    }
    pub fn get_transfer(&self, id: &str) -> Result<Option<TransferRow>, StoreError> {
        dispatch!(self, read, c => q::workflow::get_transfer(c, id))
    }
    pub fn settle_transfer(
        &self,
        transfer_id: &str,
        village_id: &str,
        result: &BankResult,
        actor: &Actor,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&Settlement) -> String,
    ) -> Result<Written<Settlement>, StoreError> {
        dispatch!(self, write, c => q::workflow::settle_transfer(c, transfer_id, village_id, result, actor, idem, render))
    }
    pub fn post_credit(
        &self,
        credit: &NewCredit,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&TransactionRecord) -> String,
    ) -> Result<Written<TransactionRecord>, StoreError> {
        dispatch!(self, write, c => q::workflow::post_credit(c, credit, idem, render))
    }
    pub fn store_statement(
        &self,
        village_id: &str,
        lines: &[NewStatementLine],
        client_id: &str,
        idem: Option<&IdempotencyKey>,
        render: &dyn Fn(&(usize, usize)) -> String,
    ) -> Result<Written<(usize, usize)>, StoreError> {
        dispatch!(self, write, c => q::workflow::store_statement(c, village_id, lines, client_id, idem, render))
    }
}

impl Db {
    pub fn account_lines(
        &self,
        village_id: &str,
        accounts: &[&str],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<LedgerLine>, StoreError> {
        dispatch!(self, read, c => q::reports::account_lines(c, village_id, accounts, from, to))
    }
    pub fn cash_counter_lines(
        &self,
        village_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<LedgerLine>, StoreError> {
        dispatch!(self, read, c => q::reports::cash_counter_lines(c, village_id, from, to))
    }
    pub fn transaction_accounts(
        &self,
        txn_ids: &[String],
    ) -> Result<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>, StoreError> {
        dispatch!(self, read, c => q::reports::transaction_accounts(c, txn_ids))
    }
    /// Σdebit, Σcredit per (village, account) with value dates in [from, to] (from the start when None).
    pub fn period_totals(
        &self,
        village_ids: &[String],
        from: Option<NaiveDate>,
        to: NaiveDate,
    ) -> Result<Vec<(String, String, i64, i64)>, StoreError> {
        dispatch!(self, read, c => q::reports::period_totals(c, village_ids, from, to))
    }
    pub fn account_days(
        &self,
        village_id: &str,
        account: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, i64, i64)>, StoreError> {
        dispatch!(self, read, c => q::reports::account_days(c, village_id, account, from, to))
    }
    pub fn spending_by_key(
        &self,
        village_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SpendingByKey>, StoreError> {
        dispatch!(self, read, c => q::reports::spending_by_key(c, village_id, from, to))
    }
    pub fn budget_positions(&self, village_ids: &[String], year: i32) -> Result<Vec<BudgetPositionRow>, StoreError> {
        dispatch!(self, read, c => q::reports::budget_positions(c, village_ids, year))
    }
    pub fn statement_lines(
        &self,
        village_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<StatementLineRow>, StoreError> {
        dispatch!(self, read, c => q::reports::statement_lines(c, village_id, from, to))
    }
    pub fn approved_payments(
        &self,
        village_ids: &[String],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<PaymentRow>, StoreError> {
        dispatch!(self, read, c => q::reports::approved_payments(c, village_ids, from, to))
    }
    pub fn transfers_released(
        &self,
        village_ids: &[String],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<TransferRow>, StoreError> {
        dispatch!(self, read, c => q::reports::transfers_released(c, village_ids, from, to))
    }
}
