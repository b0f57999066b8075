//! Group commit for SQLite's single writer connection.
//!
//! With `synchronous = FULL` every commit waits for the disk, and SQLite has one writer: committing each request
//! on its own caps the service at one disk flush per write (about 1 ms here). Instead, a writer that finishes its
//! work while others are queued for the connection leaves the transaction open and hands the connection on; the
//! last writer of the group (nobody queued, or the group full) commits for all of them. Each write runs in its own
//! savepoint, so a write that fails rolls back alone, and nobody's answer is released before the commit that holds
//! its rows has returned: a 2xx still means the rows are on disk. When the commit fails, every member of the group
//! is told so (`Unavailable`) and none of their rows exist.
//!
//! The protocol, per write: count yourself as queued, take the connection, stop counting; run the write (which
//! opens the group's transaction if none is open, see `DbConn::write_txn`); then either pass on (others are
//! queued and the group has room: release the connection and wait for the group's outcome) or commit (and publish
//! the outcome to everyone waiting on it). Someone queued always takes the connection next, so an open group is
//! always closed by one of its members.

use super::{DbConn, StoreError};
use diesel::connection::{Connection, TransactionManager};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// The writer's transaction manager (the multi-connection's, which hands each call to SQLite's).
type Tm = <DbConn as Connection>::TransactionManager;

/// At most this many writes share one commit: bounds the latency a write can add to the group's first member.
pub const MAX_GROUP: usize = 64;

/// The outcome of one group's commit, published once to every member waiting on it.
#[derive(Default)]
struct GroupOutcome {
    result: Mutex<Option<Result<(), String>>>,
    decided: Condvar,
}

impl GroupOutcome {
    fn publish(&self, r: Result<(), String>) {
        *lock(&self.result) = Some(r);
        self.decided.notify_all();
    }

    fn wait(&self) -> Result<(), String> {
        let mut slot = lock(&self.result);
        loop {
            if let Some(r) = slot.as_ref() {
                return r.clone();
            }
            slot = self.decided.wait(slot).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A poisoned lock only means a write panicked while holding it; the state it guards is repaired by that write's
/// guard (the group is rolled back), so carrying on is safe.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct Slot {
    conn: DbConn,
    /// The open group, if the connection is inside a transaction left open for the next writer.
    group: Option<Arc<GroupOutcome>>,
    /// Writes with rows in the open group.
    members: usize,
}

/// SQLite's one writer connection, shared by group commit.
pub struct GroupWriter {
    slot: Mutex<Slot>,
    queued: AtomicUsize,
    /// What `/metrics` shows of the writer (`GroupStats`).
    commits: AtomicU64,
    committed_writes: AtomicU64,
    held_micros: AtomicU64,
}

/// Counters of the group writer since start: commits, writes they committed (their ratio is the mean group), and
/// the time the connection was held by a write or a commit (near the run's length: the one writer is the limit).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupStats {
    pub commits: u64,
    pub committed_writes: u64,
    pub held_micros: u64,
}

/// The connection, held by one write; [`WriterGuard::finish`] commits or hands it on.
pub struct WriterGuard<'a> {
    writer: &'a GroupWriter,
    slot: Option<MutexGuard<'a, Slot>>,
    /// When this write took the connection.
    taken: std::time::Instant,
}

impl GroupWriter {
    pub fn new(conn: DbConn) -> GroupWriter {
        GroupWriter {
            slot: Mutex::new(Slot { conn, group: None, members: 0 }),
            queued: AtomicUsize::new(0),
            commits: AtomicU64::new(0),
            committed_writes: AtomicU64::new(0),
            held_micros: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> GroupStats {
        GroupStats {
            commits: self.commits.load(Ordering::Relaxed),
            committed_writes: self.committed_writes.load(Ordering::Relaxed),
            held_micros: self.held_micros.load(Ordering::Relaxed),
        }
    }

    fn held_since(&self, taken: std::time::Instant) {
        let micros = u64::try_from(taken.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.held_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Waits for the connection. Writers queued here are what keeps a group open.
    pub fn acquire(&self) -> WriterGuard<'_> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        let slot = lock(&self.slot);
        self.queued.fetch_sub(1, Ordering::SeqCst);
        WriterGuard { writer: self, slot: Some(slot), taken: std::time::Instant::now() }
    }
}

impl WriterGuard<'_> {
    pub fn conn(&mut self) -> &mut DbConn {
        &mut self.slot.as_mut().expect("held until finish").conn
    }

    /// Ends this write: its `out` is returned only once the rows it wrote are committed (or as an error if the
    /// group's commit failed). A write that failed has nothing in the group (its savepoint was rolled back) and
    /// returns at once, but still commits the group if nobody else is queued to do it.
    pub fn finish<T>(mut self, out: Result<T, StoreError>) -> Result<T, StoreError> {
        let mut slot = self.slot.take().expect("finish is called once");
        if !in_transaction(&mut slot.conn) {
            debug_assert!(slot.group.is_none(), "a group is open only inside a transaction");
            drop(slot);
            self.writer.held_since(self.taken);
            return out;
        }
        let group = slot.group.get_or_insert_with(|| Arc::new(GroupOutcome::default())).clone();
        if out.is_ok() {
            slot.members += 1;
        }
        let pass_on = self.writer.queued.load(Ordering::SeqCst) > 0 && slot.members < MAX_GROUP;
        if pass_on {
            drop(slot);
            self.writer.held_since(self.taken);
            let value = out?;
            return match group.wait() {
                Ok(()) => Ok(value),
                Err(e) => Err(StoreError::Unavailable(e)),
            };
        }
        let members = slot.members as u64;
        let committed = commit(&mut slot);
        drop(slot);
        self.writer.held_since(self.taken);
        if committed.is_ok() {
            self.writer.commits.fetch_add(1, Ordering::Relaxed);
            self.writer.committed_writes.fetch_add(members, Ordering::Relaxed);
        }
        group.publish(committed.clone());
        match committed {
            Ok(()) => out,
            Err(e) if out.is_ok() => Err(StoreError::Unavailable(e)),
            Err(_) => out,
        }
    }
}

impl Drop for WriterGuard<'_> {
    /// Only reached with the connection still held when a write panicked: the group cannot be trusted, so it is
    /// rolled back and its members are told.
    fn drop(&mut self) {
        if let Some(mut slot) = self.slot.take() {
            let group = slot.group.take();
            slot.members = 0;
            if in_transaction(&mut slot.conn) {
                let _ = Tm::rollback_transaction(&mut slot.conn);
            }
            if let Some(g) = group {
                g.publish(Err("a write in the same commit group failed unexpectedly; nothing was saved".into()));
            }
        }
    }
}

fn depth(conn: &mut DbConn) -> u32 {
    Tm::transaction_manager_status_mut(conn).transaction_depth().ok().flatten().map_or(0, |d| d.get())
}

fn in_transaction(conn: &mut DbConn) -> bool {
    depth(conn) > 0
}

/// Commits the open group (rolling it back if the commit fails) and resets the slot for the next one.
fn commit(slot: &mut Slot) -> Result<(), String> {
    slot.group = None;
    slot.members = 0;
    // Every write's savepoint is released or rolled back before it finishes: anything deeper is a bug, and
    // committing would then only release a savepoint.
    if depth(&mut slot.conn) != 1 {
        while in_transaction(&mut slot.conn) {
            if Tm::rollback_transaction(&mut slot.conn).is_err() {
                break;
            }
        }
        return Err("a write left its savepoint open; the commit group was rolled back".into());
    }
    match Tm::commit_transaction(&mut slot.conn) {
        Ok(()) => Ok(()),
        Err(e) => {
            if in_transaction(&mut slot.conn) {
                let _ = Tm::rollback_transaction(&mut slot.conn);
            }
            Err(format!("the commit failed, nothing was saved: {e}"))
        }
    }
}
