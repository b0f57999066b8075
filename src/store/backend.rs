//! The seam between the backends: every place where PostgreSQL and SQLite do the same job differently, and nowhere
//! else. Each method matches on the connection once; PostgreSQL's side is in `pg.rs` (fewer statements: on
//! PostgreSQL every statement is a round trip to another process), SQLite's side is below and in `sqlite.rs` (a
//! statement per row: SQLite runs in-process, so a statement costs no round trip, but each is prepared once per
//! connection, not on every call).
//!
//! | seam | PostgreSQL | SQLite |
//! | --- | --- | --- |
//! | [`DbConn::write_txn`] | a transaction, retried on conflicts | `BEGIN IMMEDIATE` once per commit group (`group_commit.rs`), a savepoint per write |
//! | [`DbConn::lock_village`] | `SELECT … FOR UPDATE` | a plain read: the group's `BEGIN IMMEDIATE` already holds the database's one write lock |
//! | [`DbConn::lock_for_write`] | one statement: the lock, the stored answer, the bank credit, the balances, the bank client | one statement per question |
//! | [`DbConn::posting_balances`] | one statement with the year's status | the year, then each account |
//! | [`DbConn::write_posting`] | one data-modifying CTE, guarded by the balances it checked | a statement per row |
//! | [`DbConn::write_postings`] | one CTE for a run of postings to one village, arrays through `unnest` | a statement per row |
//! | [`DbConn::load_payment`] | one statement (JSON) | a statement per table |
//! | [`DbConn::write_event`] | one statement | a statement per row |

use super::rows::*;
use super::schema::*;
use super::write::{find_idempotent_row, IdempotencyKey, StoredAnswer};
use super::{pg, DbConn, StoreError};
use crate::domain::posting::BalanceChange;
use chrono::NaiveDateTime;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// How many times a write that lost a race to a concurrent writer is tried again before giving up.
const WRITE_ATTEMPTS: u32 = 8;

/// What a write asks to read with its village lock, in the same round trip where the backend can: the
/// bank-credit record of a reference, and the balances of the accounts it will post to.
#[derive(Default)]
pub struct Probe<'a> {
    pub bank_reference: Option<&'a str>,
    /// (fiscal year, account codes)
    pub balances: Option<(i32, &'a [String])>,
    /// The bank client whose token the write checks (`ClientCheck`).
    pub client: Option<&'a super::write::ClientCheck>,
}

/// A checked bank client as the lock found it: at the token's version and active, and whether it has a key.
#[derive(Debug, Clone, Copy)]
pub struct ClientState {
    pub current: bool,
    pub has_key: bool,
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
    /// The probed bank client; None when not asked, or when there is no such client.
    pub client: Option<ClientState>,
}

/// Rows written in the same statement as a posting (they need its id, and a statement less is a round trip less).
#[derive(Default, Clone)]
pub struct Alongside {
    pub bank_credit: Option<BankCreditRow>,
    pub idempotency: Option<IdempotencyRow>,
}

/// A posting's rows, as the seam writes them.
pub struct PostingRows<'a> {
    pub txn: &'a TransactionRow,
    pub entries: &'a [EntryRow],
    pub balances: &'a [BalanceChange],
    /// Σdebit and Σcredit per account on the value date.
    pub daily: &'a BTreeMap<String, (i64, i64)>,
    pub along: &'a Alongside,
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

impl DbConn {
    /// Runs `f` in a write transaction that serializes with every other writer to the same village, retrying
    /// transient conflicts a bounded number of times. Must be the outermost transaction of the write.
    pub(super) fn write_txn<T>(
        &mut self,
        f: &mut dyn FnMut(&mut DbConn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if GROUPED.get() {
            // One write of a group (`write_group`): the group's transaction is open, and a retry would need it
            // rolled back, so an error goes back to the group, which runs that write again alone.
            return f(self);
        }
        retry_loop(|| {
            if let DbConn::Sqlite(s) = self {
                // The connection is the group writer's (see group_commit.rs): the group's transaction is opened here
                // if no earlier writer left one open, with BEGIN IMMEDIATE so that a read-then-write never fails
                // with SQLITE_BUSY midway; the write itself runs in a savepoint and the group's last writer commits.
                let open = AnsiTransactionManager::transaction_manager_status_mut(s)
                    .transaction_depth()
                    .map_err(StoreError::from)?
                    .is_some();
                if !open {
                    AnsiTransactionManager::begin_transaction_sql(s, "BEGIN IMMEDIATE")?;
                }
            }
            if let DbConn::Pg(pg) = self {
                // Inside `with_deferred_commits` this transaction's commit does not wait for the disk; either way its
                // statements keep generic plans (conn.rs). Both are the transaction's own (`SET LOCAL`), sent with
                // the BEGIN in one round trip.
                let begin = if DEFERRED.get() { super::conn::DEFERRED_WRITE_BEGIN } else { super::conn::WRITE_BEGIN };
                AnsiTransactionManager::begin_transaction_sql(pg, begin)?;
                // As diesel's `transaction`: commit on success, else roll back and return the write's error.
                return match f(self) {
                    Ok(v) => {
                        <DbConn as Connection>::TransactionManager::commit_transaction(self)?;
                        Ok(v)
                    }
                    Err(e) => match <DbConn as Connection>::TransactionManager::rollback_transaction(self) {
                        Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(e),
                        Err(rollback) => Err(rollback.into()),
                    },
                };
            }
            self.transaction(|c| f(c))
        })
    }

    /// Reads the village row, holding it locked until the transaction ends.
    pub(super) fn lock_village(&mut self, id: &str) -> Result<Option<VillageRow>, StoreError> {
        let q = villages::table.find(id);
        Ok(match self {
            DbConn::Pg(c) => q.select(VillageRow::as_select()).for_update().first(c).optional()?,
            DbConn::Sqlite(_) => q.select(VillageRow::as_select()).first(self).optional()?,
        })
    }

    /// [`Self::lock_village`], with the stored answer for the idempotency key and what `probe` asks, all as of the
    /// lock.
    pub(super) fn lock_for_write(
        &mut self,
        target: LockTarget<'_>,
        idem: Option<&IdempotencyKey>,
        probe: &Probe<'_>,
    ) -> Result<Option<Locked>, StoreError> {
        let village = match self {
            DbConn::Pg(c) => match lock_for_write_pg(c, target, idem, probe)? {
                pg::LockRead::Missing => return Ok(None),
                pg::LockRead::Current(locked) => return Ok(Some(locked)),
                // The lock waited for a writer that changed what the statement read: read it again, now current.
                pg::LockRead::Stale(village) => village,
            },
            DbConn::Sqlite(_) => {
                let village_id = match target {
                    LockTarget::Village(id) => id.to_string(),
                    LockTarget::PaymentOf(payment_id) => {
                        let found = payments::table.find(payment_id).select(payments::village_id).first(self);
                        let Some(id) = found.optional()? else { return Ok(None) };
                        id
                    }
                };
                let Some(village) = self.lock_village(&village_id)? else { return Ok(None) };
                village
            }
        };
        let stored = match idem {
            Some(k) => find_idempotent_row(self, k)?,
            None => None,
        };
        let bank_credit = match probe.bank_reference {
            Some(r) => super::bank::find_bank_credit(self, &village.id, r)?,
            None => None,
        };
        let client = match probe.client {
            Some(k) => super::admin::find_client_state(self, &k.client_id)?.map(|(active, version, key)| ClientState {
                current: active && version == k.version,
                has_key: key.is_some(),
            }),
            None => None,
        };
        // Balances are not read ahead here: the posting reads them with the same two statements (the year, the
        // accounts), and on SQLite a statement costs no round trip.
        Ok(Some(Locked { village, stored, bank_credit, open_year_balances: None, client }))
    }

    /// For a posting dated in `year`: opens the year on first use (refusing a closed one) and returns the balances
    /// of the accounts among `codes` that exist.
    pub(super) fn posting_balances(
        &mut self,
        village_id: &str,
        year: i32,
        codes: &[String],
    ) -> Result<HashMap<String, i64>, StoreError> {
        if let DbConn::Pg(c) = self {
            let (status, balances) = pg::balances_with_year(c, village_id, year, codes)?;
            match status.as_deref() {
                Some("open") => return Ok(balances),
                Some(_) => return Err(StoreError::FiscalYearClosed(year)),
                // The year is not open yet (or no account matched, which leaves its status unread): the slow way.
                // Not in a group: opening the year is a row that a refused posting must not leave behind, and a
                // group keeps what its refused writes wrote before they were refused; the write goes alone.
                None if GROUPED.get() => return Err(StoreError::Retry),
                None => {
                    super::ledger::ensure_year_open(self, village_id, year)?;
                    return Ok(balances);
                }
            }
        }
        super::ledger::ensure_year_open(self, village_id, year)?;
        match self {
            DbConn::Sqlite(c) => super::sqlite::balances(c, village_id, codes),
            DbConn::Pg(_) => unreachable!("PostgreSQL returned above"),
        }
    }

    /// Writes a checked posting's rows: the transaction, its entries, the accounts' new balances, the daily totals,
    /// the village's new sequence and chain head (from the transaction), and the rows alongside.
    pub(super) fn write_posting(&mut self, rows: &PostingRows<'_>) -> Result<(), StoreError> {
        match self {
            DbConn::Pg(c) if GROUPED.get() => {
                // A write of a group: held, and written with the group's other villages' postings in one
                // statement (`write_group`); a second posting to the same village first writes the one held.
                if held_for(&rows.txn.village_id) {
                    write_held(c)?;
                }
                HELD.with_borrow_mut(|h| h.push(HeldPosting::of(rows)));
                Ok(())
            }
            DbConn::Pg(c) => pg::write_posting(c, rows),
            DbConn::Sqlite(c) => super::sqlite::write_posting(c, rows),
        }
    }

    /// Writes a run of checked postings to one village (`ledger::post_run_locked`), `combined` being what they
    /// do together to the balances and the daily totals: on PostgreSQL one statement for all of them (one posting
    /// alone is [`Self::write_posting`]'s statement), on SQLite a statement per row as for one.
    pub(super) fn write_postings(
        &mut self,
        rows: &[PostingRows<'_>],
        combined: &crate::domain::posting::CombinedPlan,
    ) -> Result<(), StoreError> {
        assert_eq!(rows.len(), combined.postings, "the combined plan is the run's");
        if let (DbConn::Pg(c), true) = (&mut *self, GROUPED.get()) {
            write_held(c)?;
        }
        match (self, rows) {
            (_, []) => Ok(()),
            (DbConn::Pg(c), [one]) => pg::write_posting(c, one),
            (DbConn::Pg(c), _) => pg::write_postings(c, rows, combined),
            (DbConn::Sqlite(c), _) => rows.iter().try_for_each(|r| super::sqlite::write_posting(c, r)),
        }
    }

    /// Inserts several rows of one table in one statement (diesel's multi-backend DSL has no multi-row insert).
    pub(super) fn insert_all<T, V>(&mut self, table: T, rows: V) -> Result<usize, StoreError>
    where
        T: diesel::Table,
        V: diesel::Insertable<T>,
        diesel::query_builder::InsertStatement<T, V::Values>: diesel::query_dsl::methods::ExecuteDsl<diesel::PgConnection>
            + diesel::query_dsl::methods::ExecuteDsl<diesel::SqliteConnection>,
    {
        let insert = diesel::insert_into(table).values(rows);
        Ok(match self {
            DbConn::Pg(c) => insert.execute(c)?,
            DbConn::Sqlite(c) => insert.execute(c)?,
        })
    }

    /// A payment request with its lines, withholdings, events and transfers.
    pub(super) fn load_payment(&mut self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        if let DbConn::Pg(c) = self {
            return pg::load_payment(c, id);
        }
        let Some(payment) = payments::table.find(id).select(PaymentRow::as_select()).first(self).optional()? else {
            return Ok(None);
        };
        Ok(Some(super::payments::complete_payment(self, payment)?))
    }

    /// Appends a workflow event: inserts it and advances the village's chain to it; with `status_change`, also sets
    /// the request's status to the event's `to_status` and its `updated_at`.
    pub(super) fn write_event(
        &mut self,
        e: &PaymentEventRow,
        status_change: Option<NaiveDateTime>,
    ) -> Result<(), StoreError> {
        if let DbConn::Pg(c) = self {
            return pg::write_event(c, e, status_change);
        }
        if let Some(at) = status_change {
            diesel::update(payments::table.find(&e.payment_id))
                .set((payments::status.eq(&e.to_status), payments::updated_at.eq(at)))
                .execute(self)?;
        }
        diesel::insert_into(payment_events::table).values(e).execute(self)?;
        diesel::update(villages::table.find(&e.village_id))
            .set((villages::chain_len.eq(e.chain_seq), villages::chain_head.eq(&e.hash)))
            .execute(self)?;
        Ok(())
    }
}

/// What became of one write of a group ([`DbConn::write_group`]).
pub(super) enum Grouped<T> {
    /// Its answer, committed with the group (or an answer that wrote nothing).
    Done(Result<T, StoreError>),
    /// Not answered in the group: the caller runs it again alone, in a transaction of its own.
    Alone,
}

impl DbConn {
    /// Runs `writes` writes (each `f(c, i)`, each a `write_txn` of its own as if alone) in one PostgreSQL
    /// transaction with one commit, in the order given: the caller orders them so that the villages they lock come
    /// in one order (`FOR UPDATE` in id order, so two groups never wait for each other in a cycle). A write's error
    /// that `is_answer` accepts is its answer (a rule it broke, decided before it wrote anything); any other error
    /// (a conflict to retry, a closed year to carry, the database's refusal) sends that write back to be run alone
    /// after the group. A statement the database refused aborts the transaction: then the group is rolled back and
    /// every write is run alone, so a write's answer never depends on another's. If the commit fails (the
    /// connection went away: whether it landed is not known), every write is answered 503, and the caller's retry
    /// with its key or bank reference finds what was saved. A write refused by a rule must have written nothing
    /// but its held posting, which the group drops (the first posting of a year, which opens the year, goes
    /// alone: `posting_balances`). Must be the outermost transaction; PostgreSQL only.
    pub(super) fn write_group<T>(
        &mut self,
        writes: usize,
        f: &mut dyn FnMut(&mut DbConn, usize) -> Result<T, StoreError>,
        is_answer: &dyn Fn(&StoreError) -> bool,
    ) -> Vec<Grouped<T>> {
        let alone = |n: usize| (0..n).map(|_| Grouped::Alone).collect::<Vec<Grouped<T>>>();
        let DbConn::Pg(pg) = self else { unreachable!("groups are PostgreSQL's (SQLite has group_commit.rs)") };
        if AnsiTransactionManager::begin_transaction_sql(pg, super::conn::WRITE_BEGIN).is_err() {
            return alone(writes);
        }
        /// Clears the mark however the group ends, a panic included.
        struct Reset;
        impl Drop for Reset {
            fn drop(&mut self) {
                GROUPED.set(false);
                HELD.with_borrow_mut(Vec::clear);
            }
        }
        assert!(!GROUPED.get(), "groups do not nest");
        assert!(HELD.with_borrow(Vec::is_empty), "nothing is held outside a group");
        GROUPED.set(true);
        HELD_FAILED.set(false);
        let reset = Reset;
        let mut results: Vec<Result<T, StoreError>> = Vec::with_capacity(writes);
        for i in 0..writes {
            MEMBER.set(i);
            let r = f(self, i);
            if r.is_err() {
                // A write that failed is rolled back: what it held is not written.
                HELD.with_borrow_mut(|h| h.retain(|p| p.member != i));
            }
            results.push(r);
            if HELD_FAILED.get() {
                break; // the group is rolled back (below): the rest would be written for nothing
            }
        }
        // The group's one statement for the postings still held.
        let DbConn::Pg(pg) = self else { unreachable!("checked above") };
        let held = write_held(pg);
        drop(reset);
        type Tm = <DbConn as Connection>::TransactionManager;
        // A statement the database refused aborts the transaction (and with it every write of the group), and a
        // COMMIT of an aborted transaction is a silent ROLLBACK, which diesel reports as a success: a round trip
        // asks before the commit, whatever the writes answered (a refusal swallowed anywhere in a write would
        // otherwise turn every answer of the group into a lie). A write of held postings whose guard failed wrote
        // part of its rows: the group is rolled back too.
        let aborted = held.is_err() || HELD_FAILED.get() || self.batch_execute("SELECT 1").is_err();
        if aborted {
            let _ = Tm::rollback_transaction(self);
            return alone(writes);
        }
        if let Err(e) = Tm::commit_transaction(self) {
            if Tm::transaction_manager_status_mut(self).transaction_depth().ok().flatten().is_some() {
                let _ = Tm::rollback_transaction(self);
            }
            Tm::transaction_manager_status_mut(self).set_in_error();
            let lost = format!("the commit of a group of writes failed, whether it was saved is not known: {e}");
            return (0..writes).map(|_| Grouped::Done(Err(StoreError::Unavailable(lost.clone())))).collect();
        }
        results
            .into_iter()
            .map(|r| match r {
                Err(e) if !is_answer(&e) => Grouped::Alone,
                r => Grouped::Done(r),
            })
            .collect()
    }
}

/// PostgreSQL's locking statement; in a group, a posting held for the group's write (`write_group`) is written
/// first when it is the village's (or any, for a payment's village): the village's next write must see it.
fn lock_for_write_pg(
    c: &mut diesel::PgConnection,
    target: LockTarget<'_>,
    idem: Option<&IdempotencyKey>,
    probe: &Probe<'_>,
) -> Result<pg::LockRead, StoreError> {
    let held = match target {
        LockTarget::Village(id) => held_for(id),
        LockTarget::PaymentOf(_) => HELD.with_borrow(|h| !h.is_empty()),
    };
    if held {
        write_held(c)?;
    }
    pg::lock_for_write(c, target, idem, probe)
}

/// A posting of a group held for the group's one write (`write_group`): at most one per village at a time.
pub(super) struct HeldPosting {
    /// The write of the group that posted it.
    member: usize,
    pub txn: TransactionRow,
    pub entries: Vec<EntryRow>,
    pub balances: Vec<BalanceChange>,
    pub daily: BTreeMap<String, (i64, i64)>,
    pub along: Alongside,
}

impl HeldPosting {
    fn of(rows: &PostingRows<'_>) -> HeldPosting {
        HeldPosting {
            member: MEMBER.get(),
            txn: rows.txn.clone(),
            entries: rows.entries.to_vec(),
            balances: rows.balances.to_vec(),
            daily: rows.daily.clone(),
            along: rows.along.clone(),
        }
    }
}

/// Whether a posting to `village_id` is held.
fn held_for(village_id: &str) -> bool {
    HELD.with_borrow(|h| h.iter().any(|p| p.txn.village_id == village_id))
}

/// Writes the postings held, in one statement (`pg::write_held`). A guard that failed leaves part of them written:
/// the group must be rolled back (`HELD_FAILED`).
fn write_held(c: &mut diesel::PgConnection) -> Result<(), StoreError> {
    let held = HELD.with_borrow_mut(std::mem::take);
    if held.is_empty() {
        return Ok(());
    }
    let written = pg::write_held(c, &held);
    if written.is_err() {
        HELD_FAILED.set(true);
    }
    written
}

thread_local! {
    /// Set while `write_group` runs its writes on this thread: `write_txn` then runs each write inside the
    /// group's transaction, and `write_posting` holds each posting for the group's one write.
    static GROUPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static HELD: std::cell::RefCell<Vec<HeldPosting>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The write of the group running now.
    static MEMBER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    /// Set when a write of held postings failed: the group is rolled back whatever its writes answered.
    static HELD_FAILED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// Set while `with_deferred_commits` runs on this thread: `write_txn` then opens PostgreSQL transactions whose
    /// commit does not wait for the disk.
    static DEFERRED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` (several write transactions) so that on PostgreSQL their commits do not each wait for the disk: each
/// transaction `write_txn` opens meanwhile says `SET LOCAL synchronous_commit = off`, which lasts for that
/// transaction only, so nothing is left on the session (a pooler in transaction mode may give the next transaction
/// another server session, and this one to another client). Durability comes from the caller's next durable commit
/// (see `Db::post_credits`). On SQLite, `f` runs as it is.
pub(super) fn with_deferred_commits<T>(
    c: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    if !matches!(c, DbConn::Pg(_)) {
        return f(c);
    }
    /// Clears the mark however `f` ends, a panic included.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            DEFERRED.set(false);
        }
    }
    assert!(!DEFERRED.get(), "deferred commits do not nest");
    DEFERRED.set(true);
    let _reset = Reset;
    f(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(c: &mut DbConn, name: &str) -> String {
        let DbConn::Pg(pg) = c else { unreachable!("a PostgreSQL connection") };
        pg::setting(pg, name).unwrap()
    }

    /// Reads are planned for their values on every execution; a write transaction keeps one generic plan per
    /// statement, for itself only (conn.rs says why); a deferred one also commits without waiting for the disk.
    #[test]
    fn reads_plan_for_their_values_and_write_transactions_keep_generic_plans() {
        let Some(url) = std::env::var("KASDESA_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
            eprintln!("PostgreSQL session test not run: set KASDESA_TEST_DATABASE_URL");
            return;
        };
        let mut c = DbConn::open(crate::store::Backend::Pg, &url, false).unwrap();
        assert_eq!(setting(&mut c, "plan_cache_mode"), "force_custom_plan");
        let inside = c.write_txn(&mut |c| Ok((setting(c, "plan_cache_mode"), setting(c, "synchronous_commit"))));
        assert_eq!(inside.unwrap(), ("force_generic_plan".to_string(), "on".to_string()));
        assert_eq!(setting(&mut c, "plan_cache_mode"), "force_custom_plan", "the write's setting ends with it");
        let deferred = with_deferred_commits(&mut c, |c| {
            c.write_txn(&mut |c| Ok((setting(c, "plan_cache_mode"), setting(c, "synchronous_commit"))))
        });
        assert_eq!(deferred.unwrap(), ("force_generic_plan".to_string(), "off".to_string()));
        // A write that fails is rolled back and leaves nothing of its settings either.
        let failed: Result<(), StoreError> = c.write_txn(&mut |_| Err(StoreError::Conflict("no".into())));
        assert!(matches!(failed, Err(StoreError::Conflict(_))));
        assert_eq!(setting(&mut c, "plan_cache_mode"), "force_custom_plan");
        assert_eq!(setting(&mut c, "synchronous_commit"), "on");
    }
}
