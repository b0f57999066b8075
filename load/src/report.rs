//! The summary: a table for people, the same figures as JSON for scripts.

use crate::checks::Outcome;
use crate::stats::{round3, OpSummary};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

fn f1(v: &Value) -> String {
    v.as_f64().map_or_else(|| "-".into(), |x| format!("{x:.1}"))
}

fn f2(v: &Value) -> String {
    v.as_f64().map_or_else(|| "-".into(), |x| format!("{x:.2}"))
}

/// The reads alone after the run (`--reads-after`), on the database it grew.
pub struct ReadsAfter {
    pub seconds: f64,
    pub clients: usize,
    pub reads: u64,
    pub errors: BTreeMap<String, u64>,
    pub latency: Vec<OpSummary>,
}

pub struct Report {
    pub header: Value,
    pub setup_secs: f64,
    pub setup_requests: u64,
    pub setup_errors: BTreeMap<String, u64>,
    pub run_secs: f64,
    pub postings: u64,
    pub requests: u64,
    pub scenarios: Vec<(&'static str, u64)>,
    pub failed_scenarios: u64,
    pub tax_fallbacks: u64,
    pub replays: u64,
    pub replay_mismatches: u64,
    pub unknown_outcomes: u64,
    pub errors: BTreeMap<String, u64>,
    pub max_errors: u64,
    pub examples: Vec<String>,
    pub latency: Vec<OpSummary>,
    pub scenario_latency: Vec<OpSummary>,
    pub reads_after: Option<ReadsAfter>,
    pub server: Option<Value>,
    pub generator: Value,
    pub check_secs: f64,
    pub checks: Vec<Outcome>,
    pub debits_total: i64,
    pub transactions_listed: u64,
}

impl Report {
    pub fn errors_total(&self) -> u64 {
        self.errors.values().sum()
    }

    pub fn pass(&self) -> bool {
        self.checks.iter().all(Outcome::ok)
            && self.replay_mismatches == 0
            && self.errors_total() <= self.max_errors
            && self.setup_errors.is_empty()
            && self.reads_after.as_ref().is_none_or(|r| r.errors.is_empty())
    }

    fn rate(&self, n: u64) -> f64 {
        if self.run_secs > 0.0 {
            n as f64 / self.run_secs
        } else {
            0.0
        }
    }

    pub fn to_json(&self) -> Value {
        let mut doc = self.header.clone();
        doc["setup"] = json!({"seconds": round3(self.setup_secs), "requests": self.setup_requests,
                              "errors": self.setup_errors});
        doc["run"] = json!({
            "seconds": round3(self.run_secs),
            "postings": self.postings,
            "postings_per_s": round3(self.rate(self.postings)),
            "requests": self.requests,
            "requests_per_s": round3(self.rate(self.requests)),
            "scenarios": self.scenarios.iter().map(|(k, n)| (k.to_string(), json!({"count": n, "per_s": round3(self.rate(*n))}))).collect::<serde_json::Map<_, _>>(),
            "failed_scenarios": self.failed_scenarios,
            "tax_fallbacks": self.tax_fallbacks,
            "replays": {"sent": self.replays, "mismatched": self.replay_mismatches},
            "unknown_outcomes": self.unknown_outcomes,
            "errors_total": self.errors_total(),
            "errors": self.errors,
            "failure_examples": self.examples,
            "latency": self.latency.iter().map(OpSummary::to_json).collect::<Vec<_>>(),
            "scenario_latency": self.scenario_latency.iter().map(OpSummary::to_json).collect::<Vec<_>>(),
        });
        doc["reads_after"] = self.reads_after.as_ref().map_or(Value::Null, |r| {
            json!({"seconds": round3(r.seconds), "clients": r.clients, "reads": r.reads,
                   "reads_per_s": round3(r.reads as f64 / r.seconds.max(1e-9)), "errors": r.errors,
                   "latency": r.latency.iter().map(OpSummary::to_json).collect::<Vec<_>>()})
        });
        doc["server"] = self.server.clone().unwrap_or(Value::Null);
        doc["generator"] = self.generator.clone();
        doc["checks"] = json!({
            "seconds": round3(self.check_secs),
            "transactions_listed": self.transactions_listed,
            "debits_total": crate::util::fmt_sen(self.debits_total),
            "results": self.checks.iter().map(Outcome::to_json).collect::<Vec<_>>(),
        });
        doc["pass"] = json!(self.pass());
        doc
    }

    pub fn to_text(&self) -> String {
        let h = &self.header;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "kasdesa-load{} — {} villages, {} clients{}, {}, mix: {}",
            h["label"].as_str().filter(|l| !l.is_empty()).map(|l| format!(" [{l}]")).unwrap_or_default(),
            h["config"]["villages"],
            h["config"]["clients"],
            h["config"]["rate"].as_f64().map(|r| format!(" (open loop, {r} scenarios/s offered)")).unwrap_or_default(),
            match (h["config"]["duration_s"].as_f64(), h["config"]["ops"].as_u64()) {
                (Some(d), _) => format!("{d} s"),
                (_, Some(o)) => format!("{o} operations"),
                _ => "-".into(),
            },
            h["config"]["mix_description"].as_str().unwrap_or("")
        );
        let _ = writeln!(
            s,
            "target: {} ({}, {}){}",
            h["target"]["base_url"].as_str().unwrap_or(""),
            h["target"]["backend"].as_str().unwrap_or("?"),
            if h["target"]["spawned"] == true { "spawned" } else { "already running" },
            if h["target"]["database"].is_string() {
                format!(", database {}", h["target"]["database"].as_str().unwrap_or(""))
            } else {
                String::new()
            }
        );
        let m = &h["machine"];
        let _ = writeln!(
            s,
            "machine: {} CPUs ({}), {} MB memory",
            m["cpus"],
            m["cpu_model"].as_str().unwrap_or("?"),
            m["memory_mb"]
        );
        let _ = writeln!(
            s,
            "setup: {:.1} s, {} requests{}",
            self.setup_secs,
            self.setup_requests,
            h["setup_note"].as_str().map(|n| format!(" ({n})")).unwrap_or_default()
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "throughput over {:.1} s", self.run_secs);
        let _ = writeln!(s, "  ledger postings   {:>9}  {:>9.1}/s", self.postings, self.rate(self.postings));
        let _ = writeln!(s, "  HTTP requests     {:>9}  {:>9.1}/s", self.requests, self.rate(self.requests));
        for (name, n) in &self.scenarios {
            let _ = writeln!(s, "  {:<17} {:>9}  {:>9.1}/s", name, n, self.rate(*n));
        }
        let _ = writeln!(
            s,
            "  bank replays (same Idempotency-Key): {} sent, {} differed; failed scenarios: {}; tax deposits with nothing owed (credited instead): {}",
            self.replays, self.replay_mismatches, self.failed_scenarios, self.tax_fallbacks
        );
        let _ = writeln!(s);
        let table = |s: &mut String, title: &str, rows: &[OpSummary]| {
            let _ = writeln!(
                s,
                "{:<28} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}",
                title, "count", "mean", "p50", "p95", "p99", "max", "errors"
            );
            for r in rows {
                let _ = writeln!(
                    s,
                    "  {:<26} {:>8} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7}",
                    r.op, r.count, r.mean_ms, r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms, r.errors
                );
            }
        };
        table(&mut s, "latency, ms (request)", &self.latency);
        table(&mut s, "latency, ms (scenario)", &self.scenario_latency);
        if let Some(r) = &self.reads_after {
            let _ = writeln!(
                s,
                "\nreads alone after the run: {} in {:.1} s ({:.1}/s), {} clients, errors {}",
                r.reads,
                r.seconds,
                r.reads as f64 / r.seconds.max(1e-9),
                r.clients,
                if r.errors.is_empty() { "none".to_string() } else { format!("{:?}", r.errors) }
            );
            table(&mut s, "latency, ms (reads alone)", &r.latency);
        }
        let _ = writeln!(s);
        if self.errors.is_empty() {
            let _ = writeln!(s, "errors: none");
        } else {
            let _ = writeln!(
                s,
                "errors by operation and code ({} in all, {} allowed):",
                self.errors_total(),
                self.max_errors
            );
            for (k, n) in &self.errors {
                let _ = writeln!(s, "  {k:<50} {n:>7}");
            }
        }
        for e in &self.examples {
            let _ = writeln!(s, "  e.g. {e}");
        }
        if !self.setup_errors.is_empty() {
            let _ = writeln!(s, "setup errors: {:?}", self.setup_errors);
        }
        let _ = writeln!(s);
        if let Some(sv) = &self.server {
            let _ = writeln!(
                s,
                "server: peak RSS {} MB during the run ({}; {} MB at its start); setup {} MB; run and checks {} MB",
                f1(&sv["peak_rss_mb_run"]),
                sv["peak_rss_method"].as_str().unwrap_or(""),
                f1(&sv["rss_mb_run_start"]),
                f1(&sv["peak_rss_mb_setup"]),
                f1(&sv["peak_rss_mb_run_and_checks"]),
            );
            if let Some(line) = sv["rss_timeline_mb"].as_array().filter(|l| l.len() > 1) {
                let points: Vec<String> = line.iter().map(|p| format!("{}s {}", p[0], f1(&p[1]))).collect();
                let _ = writeln!(
                    s,
                    "server RSS every 10 s (MB): {}; growth {} MB",
                    points.join(", "),
                    f1(&sv["rss_growth_mb"])
                );
            }
            let _ = writeln!(
                s,
                "        CPU {} s during the run = {} cores busy on average",
                f1(&sv["cpu_s_run"]),
                f2(&sv["cpu_cores_busy_run"])
            );
        }
        let g = &self.generator;
        let _ = writeln!(
            s,
            "generator: CPU {} s during the run = {} cores busy on average; peak RSS {} MB",
            f1(&g["cpu_s_run"]),
            f2(&g["cpu_cores_busy_run"]),
            f1(&g["peak_rss_mb"])
        );
        if let Some(b) = g["machine_cpu_busy_run"].as_f64() {
            let cpus = h["machine"]["cpus"].as_f64().unwrap_or(1.0);
            let _ = writeln!(
                s,
                "machine: {:.0}% of all CPUs busy during the run ({:.2} of {} cores: service, database, generator)",
                b * 100.0,
                b * cpus,
                cpus
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "book checks ({:.1} s; {} transactions listed, Σdebits = {}):",
            self.check_secs,
            self.transactions_listed,
            crate::util::fmt_sen(self.debits_total)
        );
        for c in &self.checks {
            let status = if c.skipped.is_some() && c.checked == 0 {
                "skip"
            } else if c.ok() {
                " ok "
            } else {
                "FAIL"
            };
            let _ = writeln!(s, "  [{status}] {} ({} checked, {} failed)", c.title, c.checked, c.failed);
            if let Some(why) = &c.skipped {
                let _ = writeln!(s, "         skipped: {why}");
            }
            for e in &c.examples {
                let _ = writeln!(s, "         {e}");
            }
        }
        let _ = writeln!(
            s,
            "  [{}] replayed bank requests answered identically ({} sent)",
            if self.replay_mismatches == 0 { " ok " } else { "FAIL" },
            self.replays
        );
        let _ = writeln!(
            s,
            "  [{}] errors during the run: {} (at most {} allowed)",
            if self.errors_total() <= self.max_errors { " ok " } else { "FAIL" },
            self.errors_total(),
            self.max_errors
        );
        let _ = writeln!(s);
        let _ = writeln!(s, "result: {}", if self.pass() { "PASS" } else { "FAIL" });
        s
    }
}
