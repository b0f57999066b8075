//! Login throttling that cannot be turned into a weapon: failed passwords make the *next attempt wait*, and the
//! wait grows with the failures, but no one can lock a real user out of an address the user signs in from.
//!
//! Three counters, each of failures in a window since the last failure:
//! - the pair (username, address): after `FREE_PER_PAIR` (5) failures each further attempt from that address for that
//!   name waits 1 s, 2 s, 4 s … up to `MAX_WAIT`. Only the guesser's own address slows down.
//! - the username over every address, and the address over every username: they bound a guesser who spreads over
//!   many addresses or many names, but they apply only to pairs that are not *known* — a pair is known once it has
//!   signed in successfully. A real user at the address they always use (a village office behind one NAT) is
//!   never slowed by what others do.
//!
//! The wait is what `Retry-After` says and what the message says, rounded up to the second. The counters live in the
//! database (`login_throttle`, `login_known`), so every instance applies the same waits.

use chrono::{Duration, NaiveDateTime};

/// Failures of a pair before its attempts start to wait.
pub const FREE_PER_PAIR: i64 = 5;
/// Failures of a name (from addresses it never signed in from) before they wait.
pub const FREE_PER_USER: i64 = 10;
/// Failures from an address (for names never signed in there) before they wait.
pub const FREE_PER_ADDRESS: i64 = 30;
/// The longest any attempt waits.
pub const MAX_WAIT_SECS: i64 = 15 * 60;

/// A counter's state: failures since the window began, and when the last one was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub failures: i64,
    pub last_failure: NaiveDateTime,
}

/// What a login attempt's wait depends on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Attempt {
    pub pair: Option<Counter>,
    pub user: Option<Counter>,
    pub address: Option<Counter>,
    /// The name has signed in from this address before.
    pub known_pair: bool,
}

/// The wait after `failures` failures when `free` are free: 0 up to `free`, then 1 s, 2 s, 4 s … to `MAX_WAIT_SECS`.
pub fn wait_after(failures: i64, free: i64) -> i64 {
    if failures < free {
        return 0;
    }
    let doublings = (failures - free).min(20) as u32;
    (1i64 << doublings).min(MAX_WAIT_SECS)
}

/// A counter's failures still count while its window (the longest wait, after the last failure) lasts.
pub fn live(c: Option<Counter>, now: NaiveDateTime) -> Option<Counter> {
    c.filter(|c| now < c.last_failure + Duration::seconds(MAX_WAIT_SECS))
}

fn remaining(c: Option<Counter>, free: i64, now: NaiveDateTime) -> i64 {
    let Some(c) = live(c, now) else { return 0 };
    let until = c.last_failure + Duration::seconds(wait_after(c.failures, free));
    let left = until - now;
    // Rounded up: `Retry-After: 1` for 0.2 s left, never 0 while a wait lasts.
    (left.num_milliseconds() + 999).div_euclid(1000).max(0)
}

/// Seconds the attempt must wait before its password is even checked (0: go ahead).
pub fn wait_secs(a: &Attempt, now: NaiveDateTime) -> i64 {
    let pair = remaining(a.pair, FREE_PER_PAIR, now);
    if a.known_pair {
        return pair;
    }
    pair.max(remaining(a.user, FREE_PER_USER, now)).max(remaining(a.address, FREE_PER_ADDRESS, now))
}

/// How many failures the pair has left before its attempts wait (shown from the second failure on), if any counted.
pub fn attempts_left(pair: Option<Counter>, now: NaiveDateTime) -> Option<i64> {
    let c = live(pair, now)?;
    (c.failures > 0 && c.failures < FREE_PER_PAIR).then_some(FREE_PER_PAIR - c.failures)
}

/// A counter after one more failure at `now` (a counter whose window passed starts again).
pub fn after_failure(c: Option<Counter>, now: NaiveDateTime) -> Counter {
    match live(c, now) {
        Some(c) => Counter { failures: c.failures.saturating_add(1), last_failure: now },
        None => Counter { failures: 1, last_failure: now },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap().naive_utc()
    }

    fn fail_n(n: i64, at: NaiveDateTime) -> Option<Counter> {
        let mut c = None;
        for _ in 0..n {
            c = Some(after_failure(c, at));
        }
        c
    }

    #[test]
    fn waits_grow_and_stop_at_the_maximum() {
        assert_eq!((0..=3).map(|f| wait_after(f, 3)).collect::<Vec<_>>(), vec![0, 0, 0, 1]);
        assert_eq!(wait_after(4, 3), 2);
        assert_eq!(wait_after(13, 3), 900);
        assert_eq!(wait_after(i64::MAX, 3), 900);
    }

    #[test]
    fn others_cannot_slow_a_known_pair() {
        let now = t(0);
        let flood = Attempt { pair: None, user: fail_n(500, now), address: fail_n(5000, now), known_pair: true };
        assert_eq!(wait_secs(&flood, now), 0);
        // The same flood slows a pair that never signed in: the guesser.
        let guesser = Attempt { known_pair: false, ..flood };
        assert_eq!(wait_secs(&guesser, now), MAX_WAIT_SECS);
    }

    #[test]
    fn the_wait_is_rounded_up_and_ends() {
        let c = fail_n(FREE_PER_PAIR + 2, t(0)); // two past the free ones: 4 s
        let a = Attempt { pair: c, ..Default::default() };
        assert_eq!(wait_secs(&a, t(0)), 4);
        assert_eq!(wait_secs(&a, t(3)), 1);
        assert_eq!(wait_secs(&a, t(4)), 0);
        // The window passed: the counter starts again.
        assert_eq!(after_failure(c, t(MAX_WAIT_SECS)).failures, 1);
        assert_eq!(after_failure(c, t(10)).failures, FREE_PER_PAIR + 3);
        assert_eq!(attempts_left(fail_n(1, t(0)), t(1)), Some(FREE_PER_PAIR - 1));
        assert_eq!(attempts_left(fail_n(FREE_PER_PAIR, t(0)), t(1)), None);
    }

    proptest::proptest! {
        /// Whatever others did, a known pair waits only for its own failures, and no wait exceeds the maximum.
        #[test]
        fn bounded_and_never_a_weapon(pf in 0i64..50, uf in 0i64..10_000, af in 0i64..10_000, dt in 0i64..2000) {
            let now = t(dt);
            let a = Attempt { pair: fail_n(pf.min(60), t(0)), user: Some(Counter { failures: uf, last_failure: t(0) }),
                address: Some(Counter { failures: af, last_failure: t(0) }), known_pair: true };
            let w = wait_secs(&a, now);
            proptest::prop_assert!(w <= MAX_WAIT_SECS);
            proptest::prop_assert_eq!(w, wait_secs(&Attempt { user: None, address: None, ..a }, now));
            if pf < FREE_PER_PAIR { proptest::prop_assert_eq!(w, 0); }
        }
    }
}
