//! The one connection type every store function takes: diesel's [`MultiConnection`](diesel::MultiConnection) over
//! PostgreSQL and SQLite. Queries written with diesel's DSL against [`DbConn`] are compiled once and run on either
//! backend; the few places where the backends must differ match on the variant, and all of them are in
//! `backend.rs` (the seam).

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::{Connection, PgConnection, SqliteConnection};

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// synchronous=FULL: every acknowledged commit is on disk, even across a power cut, not just a process crash.
pub(crate) const SQLITE_PRAGMAS: &str =
    "PRAGMA busy_timeout = 10000; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;";

/// How PostgreSQL plans the service's prepared statements (diesel prepares each once per connection).
///
/// A session plans each execution for its values (`force_custom_plan`): that is what reads get. A generic plan is
/// made once, for the table as it is then, and kept for the connection's life; PostgreSQL makes a new one only when
/// the table's statistics change (ANALYZE). With autovacuum off (as on the benchmark machine) they never change, and
/// a report statement first planned on a nearly empty table kept its sequential scan while the table grew: the bank
/// book's look-up of 400 transactions' entries (`entries.transaction_id = ANY($1)`) took 1.4–2.9 s against 42,000
/// entries, and 11 ms once planned again (docs/benchmarks.md, session 10).
///
/// Write transactions say `force_generic_plan` for themselves (`WRITE_BEGIN`): their statements are key look-ups
/// and inserts whose best plan does not depend on the values, and planning them on every execution was 12% of the
/// database's CPU in the credit benchmark.
const PG_SESSION: &str = "SET plan_cache_mode = force_custom_plan";

/// How a PostgreSQL write transaction begins (one round trip): its statements keep one generic plan each
/// (`PG_SESSION`). `SET LOCAL` lasts for the transaction only, so it is also right through a pooler.
pub(crate) const WRITE_BEGIN: &str = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan";

/// [`WRITE_BEGIN`] for a transaction whose commit does not wait for the disk (`backend::with_deferred_commits`).
pub(crate) const DEFERRED_WRITE_BEGIN: &str =
    "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL synchronous_commit = off";

/// Which backend a URL names: nothing is guessed from the text beyond its scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Pg,
    Sqlite,
}

impl DbConn {
    /// Opens one connection of the given backend with its session settings.
    ///
    /// `pooled`: the PostgreSQL URL is a pooler in transaction mode (PgBouncer's `pool_mode = transaction`), which
    /// hands each transaction, and each statement outside one, to whichever server session is free. A statement
    /// prepared by name on one session is then missing on the next ("prepared statement … does not exist"), and a
    /// setting made on a session stays with that server session for other clients. So diesel's statement cache is
    /// off (every statement is sent unnamed, parsed and planned each time: the price of the pooler) and
    /// `PG_SESSION` is not sent. Nothing else in the store keeps session state: the batch's deferred commits are
    /// `SET LOCAL` inside each transaction (`backend::with_deferred_commits`) and the migrations' lock is a
    /// transaction's (`Db::migrate`).
    pub fn open(backend: Backend, target: &str, pooled: bool) -> Result<DbConn, diesel::ConnectionError> {
        let conn = match backend {
            Backend::Pg => {
                let mut c = PgConnection::establish(target)?;
                if pooled {
                    c.set_prepared_statement_cache_size(diesel::connection::CacheSize::Disabled);
                } else {
                    c.batch_execute(PG_SESSION).map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                }
                DbConn::Pg(c)
            }
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(target)?;
                c.batch_execute(SQLITE_PRAGMAS).map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                DbConn::Sqlite(c)
            }
        };
        Ok(conn)
    }

    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Pg(_) => Backend::Pg,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// The r2d2 manager: opens connections of one backend (never by trying the URL on each backend in turn). The pool
/// does not test a connection on checkout (a `SELECT 1` round trip per request); a connection whose request failed
/// because the database went away is marked broken instead (`Db::run`), and r2d2 drops it.
#[derive(Debug, Clone)]
pub struct Manager {
    pub backend: Backend,
    pub target: String,
    pub pooled: bool,
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        DbConn::open(self.backend, &self.target, self.pooled).map_err(r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1").map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::connection::TransactionManager;
        <DbConn as Connection>::TransactionManager::is_broken_transaction_manager(conn)
    }
}
