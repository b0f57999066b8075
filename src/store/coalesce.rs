//! Coalescing concurrent writes into groups (PostgreSQL's single bank credits, `Db::post_credit`).
//!
//! On PostgreSQL a credit alone is four round trips and one commit of its own (BEGIN, the lock with its reads, the
//! write, COMMIT), and on a small host the database's share of each of those is what limits credits per second
//! (docs/benchmarks.md). Here concurrent callers hand their writes to a *leader*: whoever submits while fewer than
//! `leaders` groups are running takes everything queued (up to [`MAX_GROUP`]) and runs it as one group, which the
//! caller's `run` writes in one database transaction with one commit (`DbConn::write_group`); the others wait
//! for their own outcome. Under light load a write finds a leader's place free and runs at once, alone, as before;
//! under load the queue fills while the leaders work, and the next group takes it whole: the group grows with the
//! load, with no timer and no added wait.
//!
//! Each write keeps its own outcome: nobody's answer is released before `run` has returned it (after the group's
//! commit). A leader that panics tells every member of its group that nothing of it is known to be saved.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// At most this many writes share one group: bounds how long the group's first member waits for the rest (a
/// credit's two statements each, about 1 ms on this machine, so a full group holds its locks some tens of ms).
pub const MAX_GROUP: usize = 32;

struct State<I, O> {
    queue: VecDeque<(u64, I)>,
    done: HashMap<u64, O>,
    /// Writes whose submitter is gone (its thread panicked while leading another group): their outcome is dropped.
    abandoned: HashSet<u64>,
    /// Each waiting submitter's own wake-up: a group's end wakes its members and the one submitter that leads
    /// next, not everyone waiting.
    wakers: HashMap<u64, Arc<Condvar>>,
    /// Submitters leading a group now (busy: not to be woken to lead another).
    leading: HashSet<u64>,
    running: usize,
    next_id: u64,
}

impl<I, O> State<I, O> {
    /// Wakes the submitters of `ids` (their outcomes are in), and, with a leader's place free and writes queued,
    /// the submitter of the first of them to lead the next group.
    fn wake(&self, ids: &[u64], leaders: usize) {
        for k in ids {
            if let Some(w) = self.wakers.get(k) {
                w.notify_one();
            }
        }
        if self.running < leaders {
            // The first queued write whose submitter is waiting (one leading a group of others' writes is busy).
            let next = self.queue.iter().map(|(k, _)| k).find(|k| !self.leading.contains(k));
            if let Some(w) = next.and_then(|k| self.wakers.get(k)) {
                w.notify_one();
            }
        }
    }
}

/// Counters since start, for `/metrics`: groups run, the writes they held (their ratio is the mean group).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoalesceStats {
    pub groups: u64,
    pub writes: u64,
    /// Writes a group could not answer and ran again alone (`Coalescer::ran_alone`).
    pub alone: u64,
}

pub struct Coalescer<I, O> {
    state: Mutex<State<I, O>>,
    /// How many groups may run at once (each on its own connection): one leader's commit and the service's own
    /// work overlap the next group's statements.
    leaders: usize,
    groups: AtomicU64,
    writes: AtomicU64,
    alone: AtomicU64,
}

/// A poisoned lock only means a leader panicked while holding it; [`LeaderGuard`] repairs what it guards.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<I, O> Coalescer<I, O> {
    pub fn new(leaders: usize) -> Self {
        assert!(leaders > 0, "at least one group runs");
        Coalescer {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                done: HashMap::new(),
                abandoned: HashSet::new(),
                wakers: HashMap::new(),
                leading: HashSet::new(),
                running: 0,
                next_id: 0,
            }),
            leaders,
            groups: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            alone: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> CoalesceStats {
        CoalesceStats {
            groups: self.groups.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            alone: self.alone.load(Ordering::Relaxed),
        }
    }

    /// Counts writes of a group that `run` ran again alone (for `/metrics`: a group rolled back shows here).
    pub fn ran_alone(&self, n: usize) {
        self.alone.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Submits `item` and returns its outcome: run by this thread as the leader of a group, or by another's.
    /// `run` must answer every item of the group it is given, in its order; `lost` is a member's outcome when
    /// the leader running its group panicked.
    pub fn submit(&self, item: I, run: &dyn Fn(Vec<I>) -> Vec<O>, lost: &dyn Fn() -> O) -> O {
        let mut s = lock(&self.state);
        let id = s.next_id;
        s.next_id += 1;
        s.queue.push_back((id, item));
        let waker = Arc::new(Condvar::new());
        s.wakers.insert(id, waker.clone());
        loop {
            if let Some(out) = s.done.remove(&id) {
                s.wakers.remove(&id);
                return out;
            }
            if s.running < self.leaders && !s.queue.is_empty() {
                s.running += 1;
                s.leading.insert(id);
                let take = s.queue.len().min(MAX_GROUP);
                let (ids, items): (Vec<u64>, Vec<I>) = s.queue.drain(..take).unzip();
                // Another place free and more queued: the next submitter leads too.
                s.wake(&[], self.leaders);
                drop(s);
                let mut guard = LeaderGuard { coalescer: self, ids, own: id, lost, finished: false };
                let outs = run(items);
                assert_eq!(outs.len(), guard.ids.len(), "a group answers each of its writes");
                self.groups.fetch_add(1, Ordering::Relaxed);
                self.writes.fetch_add(outs.len() as u64, Ordering::Relaxed);
                s = lock(&self.state);
                for (k, out) in guard.ids.iter().zip(outs) {
                    if !s.abandoned.remove(k) {
                        s.done.insert(*k, out);
                    }
                }
                s.running -= 1;
                s.leading.remove(&id);
                guard.finished = true;
                s.wake(&guard.ids, self.leaders);
                continue;
            }
            s = waker.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Held by a leader while its group runs: if `run` panics, every member is told (`lost`) and the leader's place
/// is freed, so that nobody waits forever.
struct LeaderGuard<'a, I, O> {
    coalescer: &'a Coalescer<I, O>,
    ids: Vec<u64>,
    own: u64,
    lost: &'a dyn Fn() -> O,
    finished: bool,
}

impl<I, O> Drop for LeaderGuard<'_, I, O> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        let mut s = lock(&self.coalescer.state);
        for k in &self.ids {
            // The leader's own write and any whose submitter is gone are answered to nobody.
            if *k != self.own && !s.abandoned.remove(k) {
                s.done.insert(*k, (self.lost)());
            }
        }
        // The leader's own write, when not in this group: still queued, it is withdrawn (nobody waits for it);
        // answered already, the answer is dropped; held by another group, that group's answer will be.
        let own = self.own;
        if !self.ids.contains(&own) {
            let queued = s.queue.len();
            s.queue.retain(|(k, _)| *k != own);
            if s.queue.len() == queued && s.done.remove(&own).is_none() {
                s.abandoned.insert(own);
            }
        }
        s.wakers.remove(&own);
        s.leading.remove(&own);
        s.running -= 1;
        s.wake(&self.ids, self.coalescer.leaders);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Many threads submitting at once: each gets its own item's outcome, no group is larger than the bound, no
    /// more groups run at once than allowed, and under contention groups do form.
    #[test]
    fn every_write_gets_its_own_outcome_in_bounded_groups() {
        let coalescer = Arc::new(Coalescer::<u64, u64>::new(2));
        let running = Arc::new(AtomicUsize::new(0));
        let most_running = Arc::new(AtomicUsize::new(0));
        let largest = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16u64)
            .map(|t| {
                let (coalescer, running, most_running, largest) =
                    (coalescer.clone(), running.clone(), most_running.clone(), largest.clone());
                std::thread::spawn(move || {
                    for n in 0..200u64 {
                        let item = t * 1000 + n;
                        let run = |items: Vec<u64>| {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most_running.fetch_max(now, Ordering::SeqCst);
                            largest.fetch_max(items.len(), Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_micros(200));
                            running.fetch_sub(1, Ordering::SeqCst);
                            items.into_iter().map(|i| i * 2 + 1).collect()
                        };
                        assert_eq!(coalescer.submit(item, &run, &|| 0), item * 2 + 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let stats = coalescer.stats();
        assert_eq!(stats.writes, 16 * 200);
        assert!(most_running.load(Ordering::SeqCst) <= 2, "at most two groups at once");
        assert!(largest.load(Ordering::SeqCst) <= MAX_GROUP);
        assert!(stats.groups < stats.writes, "16 threads and 2 leaders form groups: {stats:?}");
        let s = lock(&coalescer.state);
        assert!(s.queue.is_empty() && s.done.is_empty() && s.wakers.is_empty() && s.leading.is_empty());
        assert_eq!(s.running, 0);
    }

    /// A leader whose group panics: the members are told (`lost`), the leader's place is freed, and later writes
    /// go through.
    #[test]
    fn a_panicking_group_tells_its_members_and_frees_its_place() {
        let coalescer = Arc::new(Coalescer::<u64, Option<u64>>::new(1));
        let started = Arc::new(std::sync::Barrier::new(2));
        let leader = {
            let (coalescer, started) = (coalescer.clone(), started.clone());
            std::thread::spawn(move || {
                let run = |_: Vec<u64>| -> Vec<Option<u64>> {
                    started.wait();
                    // Give the member time to queue behind this group, then fail.
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    panic!("a bug in the group")
                };
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| coalescer.submit(1, &run, &|| None)))
            })
        };
        started.wait();
        // Queued while the leader runs: it waits, then leads a group of its own once the place is free.
        let member = {
            let coalescer = coalescer.clone();
            std::thread::spawn(move || coalescer.submit(2, &|items| items.into_iter().map(Some).collect(), &|| None))
        };
        assert!(leader.join().unwrap().is_err(), "the leader's own request sees its panic");
        assert_eq!(member.join().unwrap(), Some(2));
        assert_eq!(coalescer.submit(3, &|items| items.into_iter().map(Some).collect(), &|| None), Some(3));
        let s = lock(&coalescer.state);
        assert!(s.done.is_empty() && s.abandoned.is_empty() && s.wakers.is_empty() && s.leading.is_empty());
        assert_eq!(s.running, 0);
    }
}
