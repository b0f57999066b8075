//! Latency and error bookkeeping: per operation, a bounded reservoir of samples (percentiles by sorting), exact
//! counts and maxima, and error counts by status and code.

use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// At most this many latency samples are kept per operation (reservoir sampling beyond it).
const RESERVOIR: usize = 200_000;

#[derive(Default)]
struct OpStats {
    count: u64,
    errors: u64,
    sum_us: u64,
    max_us: u64,
    samples: Vec<u32>,
}

#[derive(Default)]
pub struct Recorder {
    ops: Mutex<HashMap<&'static str, OpStats>>,
    errors: Mutex<BTreeMap<String, u64>>,
    requests: AtomicU64,
}

#[derive(Debug, Clone)]
pub struct OpSummary {
    pub op: &'static str,
    pub count: u64,
    pub errors: u64,
    pub mean_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl OpSummary {
    pub fn to_json(&self) -> Value {
        json!({"op": self.op, "count": self.count, "errors": self.errors, "mean_ms": round3(self.mean_ms),
               "p50_ms": round3(self.p50_ms), "p95_ms": round3(self.p95_ms), "p99_ms": round3(self.p99_ms),
               "max_ms": round3(self.max_ms)})
    }
}

pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The q-quantile (0 < q ≤ 1) of sorted samples: the smallest sample with at least q of them at or below it.
fn quantile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

impl Recorder {
    /// One finished request (or scenario): its latency and, if it failed, a label such as `422 budget_exceeded`.
    pub fn record(&self, op: &'static str, elapsed: Duration, error: Option<String>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        {
            let mut ops = self.ops.lock().expect("stats lock");
            let s = ops.entry(op).or_default();
            s.count += 1;
            s.sum_us = s.sum_us.saturating_add(us);
            s.max_us = s.max_us.max(us);
            let sample = u32::try_from(us).unwrap_or(u32::MAX);
            if s.samples.len() < RESERVOIR {
                s.samples.push(sample);
            } else {
                // Algorithm R with a deterministic hash of the count as the random draw.
                let j = (splitmix(s.count) % s.count) as usize;
                if j < RESERVOIR {
                    s.samples[j] = sample;
                }
            }
            if error.is_some() {
                s.errors += 1;
            }
        }
        if let Some(e) = error {
            *self.errors.lock().expect("stats lock").entry(format!("{op}: {e}")).or_insert(0) += 1;
        }
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.errors.lock().expect("stats lock").clone()
    }

    /// Per-operation summaries, in the order given (operations not seen are left out), then any others by name.
    pub fn summary(&self, order: &[&str]) -> Vec<OpSummary> {
        let ops = self.ops.lock().expect("stats lock");
        let mut names: Vec<&'static str> = ops.keys().copied().collect();
        names.sort_by_key(|n| (order.iter().position(|o| o == n).unwrap_or(usize::MAX), *n));
        names
            .into_iter()
            .map(|op| {
                let s = &ops[op];
                let mut sorted = s.samples.clone();
                sorted.sort_unstable();
                OpSummary {
                    op,
                    count: s.count,
                    errors: s.errors,
                    mean_ms: if s.count == 0 { 0.0 } else { s.sum_us as f64 / s.count as f64 / 1000.0 },
                    p50_ms: quantile(&sorted, 0.50),
                    p95_ms: quantile(&sorted, 0.95),
                    p99_ms: quantile(&sorted, 0.99),
                    max_ms: s.max_us as f64 / 1000.0,
                }
            })
            .collect()
    }
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_rank() {
        let v: Vec<u32> = (1..=100).map(|x| x * 1000).collect();
        assert_eq!(quantile(&v, 0.50), 50.0);
        assert_eq!(quantile(&v, 0.95), 95.0);
        assert_eq!(quantile(&v, 0.99), 99.0);
        assert_eq!(quantile(&v, 1.0), 100.0);
        assert_eq!(quantile(&[], 0.5), 0.0);
    }

    #[test]
    fn records_errors_by_label() {
        let r = Recorder::default();
        r.record("credit", Duration::from_millis(3), None);
        r.record("credit", Duration::from_millis(5), Some("503 unavailable".into()));
        let s = r.summary(&["credit"]);
        assert_eq!((s[0].count, s[0].errors), (2, 1));
        assert_eq!(s[0].max_ms, 5.0);
        assert_eq!(r.errors()["credit: 503 unavailable"], 1);
        assert_eq!(r.requests(), 2);
    }
}
