//! Login throttling: after repeated failures a username (known or not, so that the answer reveals nothing about
//! which exist) is locked for a while, and so is an address that keeps failing. In memory, per instance: behind a
//! load balancer each instance counts its own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bound on tracked names and addresses: an attacker cycling names cannot grow the map without limit.
const MAX_TRACKED: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    first_failure: Instant,
    locked_until: Option<Instant>,
}

pub struct LoginGuard {
    max_failures: u32,
    max_failures_per_address: u32,
    window: Duration,
    lockout: Duration,
    names: Mutex<HashMap<String, Record>>,
    addresses: Mutex<HashMap<String, Record>>,
}

impl LoginGuard {
    pub fn new(max_failures: u32, lockout: Duration) -> LoginGuard {
        LoginGuard {
            max_failures,
            max_failures_per_address: max_failures.saturating_mul(10),
            window: lockout,
            lockout,
            names: Mutex::new(HashMap::new()),
            addresses: Mutex::new(HashMap::new()),
        }
    }

    fn locked_in(map: &Mutex<HashMap<String, Record>>, key: &str, now: Instant) -> Option<Duration> {
        let map = map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).and_then(|r| r.locked_until).filter(|u| *u > now).map(|u| u - now)
    }

    /// How long the caller must wait, if locked out.
    pub fn check(&self, name: &str, address: &str) -> Option<Duration> {
        let now = Instant::now();
        let a = Self::locked_in(&self.names, &name.to_lowercase(), now);
        let b = Self::locked_in(&self.addresses, address, now);
        a.max(b)
    }

    fn fail(map: &Mutex<HashMap<String, Record>>, key: String, limit: u32, window: Duration, lockout: Duration) {
        let now = Instant::now();
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, r| now.duration_since(r.first_failure) < window || r.locked_until.is_some_and(|u| u > now));
            if map.len() >= MAX_TRACKED {
                map.clear();
            }
        }
        let r = map.entry(key).or_insert(Record { failures: 0, first_failure: now, locked_until: None });
        if now.duration_since(r.first_failure) >= window && r.locked_until.is_none_or(|u| u <= now) {
            *r = Record { failures: 0, first_failure: now, locked_until: None };
        }
        r.failures += 1;
        if r.failures >= limit {
            r.locked_until = Some(now + lockout);
        }
    }

    pub fn failure(&self, name: &str, address: &str) {
        Self::fail(&self.names, name.to_lowercase(), self.max_failures, self.window, self.lockout);
        Self::fail(&self.addresses, address.to_string(), self.max_failures_per_address, self.window, self.lockout);
    }

    /// How many more failures a name may have before it is locked, once it has had some (None: none yet, or the
    /// window passed).
    pub fn attempts_left(&self, name: &str) -> Option<u32> {
        let now = Instant::now();
        let map = self.names.lock().unwrap_or_else(|p| p.into_inner());
        let r = map.get(&name.to_lowercase())?;
        if now.duration_since(r.first_failure) >= self.window || r.failures == 0 {
            return None;
        }
        Some(self.max_failures.saturating_sub(r.failures))
    }

    pub fn success(&self, name: &str) {
        self.names.lock().unwrap_or_else(|p| p.into_inner()).remove(&name.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_is_left_before_the_lock() {
        let g = LoginGuard::new(5, Duration::from_secs(60));
        assert_eq!(g.attempts_left("ani"), None);
        for _ in 0..3 {
            g.failure("ani", "1.2.3.4");
        }
        assert_eq!(g.attempts_left("ANI"), Some(2));
        g.success("ani");
        assert_eq!(g.attempts_left("ani"), None);
    }

    #[test]
    fn locks_after_the_limit_and_resets_on_success() {
        let g = LoginGuard::new(3, Duration::from_secs(60));
        for _ in 0..2 {
            g.failure("ani", "1.2.3.4");
        }
        assert!(g.check("ani", "1.2.3.4").is_none());
        g.success("ani");
        for _ in 0..3 {
            g.failure("Ani", "1.2.3.4");
        }
        assert!(g.check("ani", "5.6.7.8").is_some());
        assert!(g.check("budi", "5.6.7.8").is_none());
    }

    #[test]
    fn an_address_cycling_names_is_locked_too() {
        let g = LoginGuard::new(2, Duration::from_secs(60));
        for i in 0..20 {
            g.failure(&format!("user{i}"), "9.9.9.9");
        }
        assert!(g.check("someone-new", "9.9.9.9").is_some());
    }
}
