//! Small helpers: a seeded PRNG, money strings, and reading /proc.

use std::path::Path;

/// SplitMix64: fast, seedable, good enough to pick operations and amounts.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `lo..hi` (hi > lo).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + i64::try_from(self.below(u64::try_from(hi - lo).unwrap_or(1))).unwrap_or(0)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

/// A fresh random seed from the operating system (via a v4 UUID).
pub fn random_seed() -> u64 {
    let b = uuid::Uuid::new_v4().into_bytes();
    u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// Sen to the API's decimal string: 150000 → "1500.00".
pub fn fmt_sen(sen: i64) -> String {
    let sign = if sen < 0 { "-" } else { "" };
    let a = sen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// The API's decimal string to sen: "1500.00" → 150000, "-3.5" → -350.
pub fn parse_sen(s: &str) -> Option<i64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        2 => frac.parse::<i64>().ok()?,
        _ => return None,
    };
    let v = whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(frac)?;
    Some(if neg { -v } else { v })
}

/// A `Name:   1234 kB` field of /proc/PID/status, in kB.
pub fn proc_status_kb(pid: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(':')))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
}

/// User + system CPU seconds of a process, from /proc/PID/stat (clock ticks of 1/100 s, Linux's USER_HZ).
pub fn proc_cpu_secs(pid: &str) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces; the fields after its closing parenthesis are space-separated.
    let rest = &text[text.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Machine-wide CPU time from /proc/stat: (busy, idle + iowait), in clock ticks summed over all CPUs.
pub fn system_cpu_ticks() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already counted in user).
    let idle = v.get(3)? + v.get(4).unwrap_or(&0);
    let busy = v.iter().take(8).sum::<u64>() - idle;
    Some((busy, idle))
}

/// The machine: logical CPUs, CPU model and memory, as far as /proc tells.
pub fn machine() -> serde_json::Value {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name").map(|r| r.trim_start_matches([' ', '\t', ':']).to_string()))
        })
        .unwrap_or_else(|| "unknown".into());
    let mem_mb = proc_meminfo_kb("MemTotal").map_or(0, |kb| kb / 1024);
    serde_json::json!({"cpus": cpus, "cpu_model": model, "memory_mb": mem_mb})
}

fn proc_meminfo_kb(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(Path::new("/proc/meminfo")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field).and_then(|r| r.strip_prefix(':')))
        .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_round_trips() {
        for (s, v) in [("1500.00", 150_000), ("0.01", 1), ("-3.5", -350), ("12", 1200), ("-0.10", -10)] {
            assert_eq!(parse_sen(s), Some(v), "{s}");
        }
        assert_eq!(fmt_sen(150_000), "1500.00");
        assert_eq!(fmt_sen(-10), "-0.10");
        assert_eq!(parse_sen("1.234"), None);
        assert_eq!(parse_sen("abc"), None);
        assert_eq!(parse_sen(""), None);
    }

    #[test]
    fn rng_is_bounded() {
        let mut r = Rng::new(7);
        for _ in 0..1000 {
            let x = r.range(10, 20);
            assert!((10..20).contains(&x));
        }
    }
}
