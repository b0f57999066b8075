//! The store: diesel over PostgreSQL and SQLite, one codebase compiled once.
//!
//! Every store function takes a [`DbConn`] (diesel's `MultiConnection` over both backends) and is written once with
//! diesel's DSL. Where the backends must differ (how a write transaction starts and locks its village, and
//! PostgreSQL's fast paths that do in one statement what SQLite does in several) the difference is in one file,
//! `backend.rs`, which names each seam and matches on the backend there and nowhere else.
//!
//! The files are by subject: `admin.rs` (regencies, villages, users, bank clients), `ledger.rs` (postings,
//! reversals, balances, fiscal years), `chain.rs` (verification), `budget.rs`, `payments.rs` (requests and their
//! workflow), `bank.rs` (transfers, settlements, credits, statements), `reports.rs` (what the books read); `write.rs`
//! is the idempotent write skeleton they share. The rules that decide money and workflow are not here: the store
//! reads their inputs, calls `crate::domain`, and writes what it returns.

mod admin;
pub mod anchor;
mod backend;
mod bank;
mod budget;
mod chain;
mod coalesce;
mod conn;
mod error;
mod facts;
mod group_commit;
mod ledger;
mod login;
mod payments;
mod pg;
mod replica;
mod reports;
pub mod rows;
pub mod schema;
mod sqlite;
mod types;
pub mod webhooks;
mod write;

pub use admin::BankClientChange;
pub use chain::{Anchors, ChainBreak, ChainReport};
pub use conn::{Backend, DbConn};
pub use error::{LineRefusal, StoreError};
/// What the chain says of a transaction row: public for independent verifiers (and for the tamper tests, which
/// play an attacker who recomputes every hash after an edit).
pub use ledger::transaction_hash;
pub use replica::Replica;
pub use reports::{AdvanceBookEntry, LedgerLine, SpendingByKey};
pub use write::{ClientCheck, IdempotencyKey, StoredAnswer, Written};

use chrono::NaiveDateTime;
use conn::Manager;
use diesel::connection::{Connection, SimpleConnection, TransactionManager};
use diesel::r2d2::Pool;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::time::Duration;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

type DbPool = Pool<Manager>;

/// The database: SQLite (one writer connection with group commit, a pool of readers) or PostgreSQL (one pool).
#[derive(Clone)]
pub enum Db {
    Sqlite {
        write: std::sync::Arc<group_commit::GroupWriter>,
        read: DbPool,
    },
    /// The pool, and the coalescer of single bank credits (`coalesce.rs`; none when `credit_writers` is 0).
    Pg(DbPool, Option<std::sync::Arc<bank::CreditCoalescer>>),
    /// One connection held in a read-only transaction ([`Db::snapshot`]): every read on it sees the same moment,
    /// and none waits for the pool again. Writes are refused.
    Snapshot {
        conn: std::sync::Arc<std::sync::Mutex<Pooled>>,
        backend: Backend,
    },
}

type Pooled = diesel::r2d2::PooledConnection<Manager>;

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_connections: u32,
    pub connect_timeout: Duration,
    /// The URL names a pooler in transaction mode (`database_pooled`): see `DbConn::open`.
    pub pooled: bool,
    /// How many groups of single bank credits PostgreSQL writes at once (`coalesce.rs`); 0: each alone.
    pub credit_writers: u32,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions { max_connections: 16, connect_timeout: Duration::from_secs(5), pooled: false, credit_writers: 2 }
    }
}

/// The path of an SQLite URL (`sqlite://path`, `sqlite:path`), or None for any other scheme.
pub fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))
}

pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The SQLite database holds every village's books: readable by the service's user only. A new directory is made
/// 0700; the database file is created 0600 before SQLite opens it (SQLite gives its WAL and shared-memory files the
/// database file's permissions), and existing files are brought to 0600.
fn private_sqlite_files(path: &std::path::Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(parent)?;
        }
        if !path.exists() {
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    Ok(())
}

/// A connection whose request failed because the database went away is marked broken, so that r2d2 drops it
/// when it comes back instead of handing it out again. Nothing is lost by the request that found it dead: it fails
/// with `Unavailable` (503, retry) before or without committing.
pub(super) fn discard_if_lost<T>(c: &mut DbConn, out: &Result<T, StoreError>) {
    if matches!(out, Err(StoreError::Unavailable(_))) {
        <DbConn as Connection>::TransactionManager::transaction_manager_status_mut(c).set_in_error();
    }
}

impl Db {
    /// Opens the pools and runs the embedded migrations. The scheme picks the backend; nothing is guessed.
    pub fn connect(url: &str, opts: &PoolOptions) -> anyhow::Result<Db> {
        let pool = |backend: Backend, target: &str, size: u32| {
            Pool::builder()
                .max_size(size)
                .test_on_check_out(false)
                .connection_timeout(opts.connect_timeout)
                .build(Manager { backend, target: target.to_string(), pooled: opts.pooled })
        };
        let db = if let Some(path) = sqlite_path(url) {
            private_sqlite_files(std::path::Path::new(path))?;
            let writer = DbConn::open(Backend::Sqlite, path, false)?;
            let write = std::sync::Arc::new(group_commit::GroupWriter::new(writer));
            Db::Sqlite { write, read: pool(Backend::Sqlite, path, opts.max_connections.max(2))? }
        } else if is_postgres_url(url) {
            Db::Pg(
                pool(Backend::Pg, url, opts.max_connections)?,
                (opts.credit_writers > 0)
                    .then(|| std::sync::Arc::new(coalesce::Coalescer::new(opts.credit_writers as usize))),
            )
        } else {
            anyhow::bail!("unsupported database URL (use sqlite://PATH or postgres://...)");
        };
        db.migrate()?;
        let changed = db.sync_charts()?;
        if changed > 0 {
            tracing::info!(villages = changed, "charts brought up to the standard chart");
        }
        let baselined = db.baseline_facts()?;
        if baselined > 0 {
            tracing::info!(villages = baselined, "budgets, users, bank clients and settings chained as first facts");
        }
        db.warn_without_autovacuum();
        Ok(db)
    }

    /// Says so, once at start, when PostgreSQL's autovacuum is off: then nothing gathers the planner's statistics,
    /// and a write statement's generic plan made while a table was small stays as it was while the table grows
    /// (conn.rs). Nothing is refused: the operator is told, and `ANALYZE` (or turning autovacuum on) is the cure.
    fn warn_without_autovacuum(&self) {
        let Db::Pg(pool, _) = self else { return };
        let setting = pool.get().ok().and_then(|mut c| match &mut *c {
            DbConn::Pg(pg) => pg::setting(pg, "autovacuum").ok(),
            DbConn::Sqlite(_) => None,
        });
        if setting.as_deref() == Some("off") {
            tracing::warn!(
                "PostgreSQL's autovacuum is off: the planner's statistics are not kept up to date, and plans made \
                 while the tables were small are kept as they grow; run ANALYZE regularly or turn autovacuum on"
            );
        }
    }

    pub fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite { .. } => {
                self.write("migrate", |c| {
                    let DbConn::Sqlite(s) = c else { unreachable!("the SQLite writer is an SQLite connection") };
                    s.run_pending_migrations(SQLITE_MIGRATIONS)
                        .map(|_| ())
                        .map_err(|e| StoreError::internal(format!("migrations: {e}")))
                })?;
            }
            Db::Snapshot { .. } => anyhow::bail!("migrations run on the database, not on a snapshot"),
            Db::Pg(pool, _) => {
                let mut c = pool.get()?;
                let DbConn::Pg(pg) = &mut *c else { unreachable!("the PostgreSQL pool holds PostgreSQL connections") };
                // Several instances starting at once must not run the migrations twice: the lock is the
                // transaction's (released by its end, whatever happens), so it also holds through a pooler in
                // transaction mode, where a session's lock could stay behind on a server session. Each migration is
                // a savepoint of this transaction: all of them land, or none.
                pg.transaction(|pg| -> anyhow::Result<()> {
                    pg.batch_execute("SELECT pg_advisory_xact_lock(727274)")?;
                    pg.run_pending_migrations(PG_MIGRATIONS).map(|_| ()).map_err(|e| anyhow::anyhow!("{e}"))
                })?;
            }
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Pg(..) => Backend::Pg,
            Db::Snapshot { backend, .. } => *backend,
        }
    }

    /// Runs `f` on one connection in one read-only transaction (PostgreSQL: `REPEATABLE READ`; SQLite: a read
    /// transaction, a snapshot in WAL mode): a report's several reads (its opening balance, its lines, the numbers
    /// it prints) all see the same moment, and take the pool once instead of once each, which under load is where
    /// a report of many reads waited. On a snapshot already, `f` runs on it.
    pub fn snapshot<T>(&self, f: impl FnOnce(&Db) -> Result<T, StoreError>) -> Result<T, StoreError> {
        use diesel::connection::AnsiTransactionManager;
        let pool = match self {
            Db::Sqlite { read, .. } => read,
            Db::Pg(pool, _) => pool,
            Db::Snapshot { .. } => return f(self),
        };
        let mut conn = pool.get()?;
        match &mut *conn {
            DbConn::Pg(pg) => {
                AnsiTransactionManager::begin_transaction_sql(pg, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?
            }
            DbConn::Sqlite(s) => AnsiTransactionManager::begin_transaction_sql(s, "BEGIN DEFERRED")?,
        }
        let shared = std::sync::Arc::new(std::sync::Mutex::new(conn));
        let out = f(&Db::Snapshot { conn: shared.clone(), backend: self.backend() });
        let mut conn = std::sync::Arc::try_unwrap(shared)
            .map_err(|_| StoreError::internal("a snapshot outlived its read"))?
            .into_inner()
            .map_err(|_| StoreError::internal("a snapshot's connection was poisoned"))?;
        // Nothing was written: ending the transaction either way is the same; a commit is the cheaper.
        let ended =
            <DbConn as Connection>::TransactionManager::commit_transaction(&mut *conn).map_err(StoreError::from);
        discard_if_lost(&mut conn, &out);
        discard_if_lost(&mut conn, &ended);
        ended?;
        out
    }

    /// The SQLite group writer's counters (`/metrics`); none on PostgreSQL.
    pub fn group_stats(&self) -> Option<group_commit::GroupStats> {
        match self {
            Db::Sqlite { write, .. } => Some(write.stats()),
            _ => None,
        }
    }

    /// PostgreSQL's coalesced single credits (`/metrics`): groups written and the credits they held; none on
    /// SQLite, or with `credit_writers = 0`.
    pub fn credit_group_stats(&self) -> Option<coalesce::CoalesceStats> {
        match self {
            Db::Pg(_, Some(c)) => Some(c.stats()),
            _ => None,
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Pg => "postgres",
        }
    }

    /// Runs a read on a pooled connection.
    pub(crate) fn read<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut DbConn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _span = tracing::debug_span!("store", op, write = false).entered();
        let pool = match self {
            Db::Sqlite { read, .. } => read,
            Db::Pg(pool, _) => pool,
            Db::Snapshot { conn, .. } => {
                let mut conn = conn.lock().map_err(|_| StoreError::internal("a snapshot's connection was poisoned"))?;
                return f(&mut conn);
            }
        };
        let mut conn = pool.get()?;
        let out = f(&mut conn);
        discard_if_lost(&mut conn, &out);
        out
    }

    /// Runs a write: on PostgreSQL on a pooled connection, on SQLite on the one writer with group commit (the
    /// result is returned once the rows it wrote are committed).
    pub(crate) fn write<T>(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut DbConn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let _span = tracing::debug_span!("store", op, write = true).entered();
        match self {
            Db::Sqlite { write, .. } => {
                let mut guard = write.acquire();
                let out = f(guard.conn());
                guard.finish(out)
            }
            Db::Pg(pool, _) => {
                let mut conn = pool.get()?;
                let out = f(&mut conn);
                discard_if_lost(&mut conn, &out);
                out
            }
            Db::Snapshot { .. } => Err(StoreError::internal(format!("{op}: a snapshot is read-only"))),
        }
    }

    /// An online, consistent copy of an SQLite database (`VACUUM INTO`), written to `path` (which must not exist).
    pub fn backup_sqlite(&self, path: &std::path::Path) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.backend() == Backend::Sqlite,
            "backup_sqlite is for SQLite; for PostgreSQL use pg_dump (kasdesa backup does)"
        );
        anyhow::ensure!(!path.exists(), "{} exists already", path.display());
        let target = path.to_str().ok_or_else(|| anyhow::anyhow!("the path is not UTF-8"))?.replace('\'', "''");
        self.read("backup", |c| Ok(c.batch_execute(&format!("VACUUM INTO '{target}'"))?))?;
        Ok(())
    }

    /// A cheap round trip, for readiness.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.read("ping", |c| Ok(c.batch_execute("SELECT 1")?))
    }
}

/// Truncated to microseconds: what both backends store, and so what the hash covers.
pub fn now_micros() -> NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    let micros = now.and_utc().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros).expect("in range").naive_utc()
}

pub use admin::{Treasury, VillageFilter};
pub use bank::{BankEntryOutcomes, BankEntryPosted, BankResult, NewBankEntry, NewCredit, NewStatementLine};
pub use budget::BudgetLineInput;
pub use coalesce::CoalesceStats;
pub use group_commit::GroupStats;
pub use ledger::{NewTransaction, TxnQuery};
pub use payments::{Actor, NewPayment, NewPaymentLine, NewReceipt, PaymentQuery, SpjReceipt, TaxOwed};

/// A budget line a request (or a revision) does not fit in (the domain's type, re-exported where it was).
pub use crate::domain::budget::Shortfall;
