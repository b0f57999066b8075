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

/// Diesel prepares each statement once per connection, but PostgreSQL re-plans a prepared statement on every
/// execution while it judges a custom plan (for the values at hand) cheaper than the generic one, which it did for
/// the posting statements: planning was 12% of the database's CPU in the credit benchmark (docs/benchmarks.md).
/// The service's statements are key look-ups and bounded index ranges whose best plan does not depend on the
/// values, so one generic plan per statement serves them all.
const PG_SESSION: &str = "SET plan_cache_mode = force_generic_plan";

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
