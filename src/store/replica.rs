//! A hot standby for the regency's reports (`database.read_url`). Only reports over a whole regency read it: they
//! are the heavy reads, and their readers (inspectors) do not write what they read, so a standby a little behind
//! never hides a reader's own write. Everything else, and every village's own books, reads the primary.
//!
//! The standby is used while it is reachable and no further behind than `read_max_lag_ms`; otherwise the report
//! reads the primary. Its state is looked at most once a second, so a request does not pay for the check.

use super::{Db, DbConn, PoolOptions};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Double};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the standby's state is looked at again.
const RECHECK: Duration = Duration::from_secs(1);

#[derive(QueryableByName)]
struct Lag {
    #[diesel(sql_type = Bool)]
    standby: bool,
    #[diesel(sql_type = Double)]
    lag_ms: f64,
}

pub struct Replica {
    db: Db,
    max_lag: Duration,
    last: Mutex<Option<(Instant, bool)>>,
}

impl Replica {
    /// Opens a pool to the standby: no migrations, no writes (a standby refuses them).
    pub fn connect(url: &str, opts: &PoolOptions, max_lag: Duration) -> anyhow::Result<Replica> {
        anyhow::ensure!(super::is_postgres_url(url), "database.read_url must be a postgres:// URL");
        Ok(Replica { db: Db::connect_reader(url, opts)?, max_lag, last: Mutex::new(None) })
    }

    /// The standby's pool, if it is up and within the lag bound now; else `None` (read the primary).
    pub fn usable(&self) -> Option<&Db> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let fresh = match *last {
            Some((at, ok)) if at.elapsed() < RECHECK => ok,
            _ => {
                let ok = self.check();
                *last = Some((Instant::now(), ok));
                ok
            }
        };
        fresh.then_some(&self.db)
    }

    /// Up, and replayed all it received or its last replayed transaction within the bound. A server that is not in
    /// recovery (the primary itself, or a promoted standby) is current by definition.
    fn check(&self) -> bool {
        let lag = self.db.read("replica_lag", |c: &mut DbConn| {
            Ok(diesel::sql_query(
                "SELECT pg_is_in_recovery() AS standby, \
                 CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0 \
                      ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000.0, 1e12) END::float8 AS lag_ms",
            )
            .get_result::<Lag>(c)?)
        });
        match lag {
            Ok(l) => {
                let ok = l.lag_ms <= self.max_lag.as_millis() as f64;
                if !ok {
                    tracing::warn!(
                        lag_ms = l.lag_ms,
                        standby = l.standby,
                        "the standby lags: reports read the primary"
                    );
                }
                ok
            }
            Err(e) => {
                tracing::warn!(error = %e, "the standby is unreachable: reports read the primary");
                false
            }
        }
    }
}

impl Db {
    /// A pool for reading only (a standby): no migrations, no start-up writes.
    pub fn connect_reader(url: &str, opts: &PoolOptions) -> anyhow::Result<Db> {
        let pool = diesel::r2d2::Pool::builder()
            .max_size(opts.max_connections)
            .test_on_check_out(false)
            .connection_timeout(opts.connect_timeout)
            // Built lazily: a standby that is down at start-up is a fallback to the primary, not a failed start.
            .min_idle(Some(0))
            .build_unchecked(super::conn::Manager {
                backend: super::Backend::Pg,
                target: url.to_string(),
                pooled: opts.pooled,
            });
        // The standby is read only: it writes no credits.
        Ok(Db::Pg(pool, None))
    }
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica").field("max_lag", &self.max_lag).finish()
    }
}
