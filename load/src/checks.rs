//! The books after the run, through the public API (as the regency's inspector) and the command line: every check
//! is per village, and any failure fails the run.

use crate::api::{Api, Failure};
use crate::stats::Recorder;
use crate::util::{fmt_sen, parse_sen};
use crate::world::{parallel, Village, World};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub const TRIAL: &str = "trial_balance";
pub const ENTRIES: &str = "balances_equal_entries";
pub const BUDGET: &str = "budget_within_ceiling";
pub const CASH: &str = "cash_not_negative";
pub const ONCE: &str = "acknowledged_exactly_once";
pub const CHAIN_API: &str = "hash_chain_api";
pub const CHAIN_CLI: &str = "hash_chain_cli";

const TITLES: &[(&str, &str)] = &[
    (TRIAL, "Σdebits = Σcredits (every transaction and every village's trial balance)"),
    (ENTRIES, "every stored balance equals its entries and the acknowledged postings"),
    (BUDGET, "no budget line over its ceiling; realised = paid payments (spending) or receipts (revenue)"),
    (CASH, "no cash account negative"),
    (ONCE, "every acknowledged posting present exactly once, and nothing else"),
    (CHAIN_API, "hash chain verifies (GET /audit/verify)"),
    (CHAIN_CLI, "hash chain verifies (kasdesa verify-chain)"),
];

const CASH_ACCOUNTS: &[&str] = &["1.1.1.01", "1.1.1.02"];
const MAX_EXAMPLES: usize = 8;

#[derive(Default)]
struct Tally {
    checked: u64,
    failed: u64,
    examples: Vec<String>,
    skipped: Option<String>,
}

#[derive(Default)]
pub struct Checks {
    tallies: Mutex<BTreeMap<&'static str, Tally>>,
    /// Σ of debit entries over every listed transaction, for the report.
    pub debits_total: Mutex<i64>,
    pub transactions_listed: Mutex<u64>,
}

/// One check's outcome, for the report.
pub struct Outcome {
    pub name: &'static str,
    pub title: &'static str,
    pub checked: u64,
    pub failed: u64,
    pub examples: Vec<String>,
    pub skipped: Option<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.failed == 0
    }

    pub fn to_json(&self) -> Value {
        json!({"name": self.name, "title": self.title, "ok": self.ok(), "checked": self.checked,
               "failed": self.failed, "examples": self.examples, "skipped": self.skipped})
    }
}

impl Checks {
    fn pass(&self, name: &'static str) {
        self.tallies.lock().expect("checks lock").entry(name).or_default().checked += 1;
    }

    fn fail(&self, name: &'static str, what: String) {
        let mut t = self.tallies.lock().expect("checks lock");
        let t = t.entry(name).or_default();
        t.checked += 1;
        t.failed += 1;
        if t.examples.len() < MAX_EXAMPLES {
            t.examples.push(what);
        }
    }

    fn expect(&self, name: &'static str, ok: bool, what: impl FnOnce() -> String) {
        if ok {
            self.pass(name)
        } else {
            self.fail(name, what())
        }
    }

    pub fn skip(&self, name: &'static str, why: &str) {
        self.tallies.lock().expect("checks lock").entry(name).or_default().skipped = Some(why.to_string());
    }

    pub fn outcomes(&self) -> Vec<Outcome> {
        let mut t = self.tallies.lock().expect("checks lock");
        TITLES
            .iter()
            .filter_map(|(name, title)| {
                let tally = t.remove(name)?;
                Some(Outcome {
                    name,
                    title,
                    checked: tally.checked,
                    failed: tally.failed,
                    examples: tally.examples,
                    skipped: tally.skipped,
                })
            })
            .collect()
    }
}

async fn get(api: &Api, rec: &Recorder, op: &'static str, path: &str, token: &str) -> Result<Value, Failure> {
    api.call(rec, op, Method::GET, path, Some(token), None, None).await.map(|r| r.body)
}

fn amount(v: &Value) -> Option<i64> {
    v.as_str().and_then(parse_sen)
}

/// Checks one village's books against the API and against what the generator was told.
async fn check_village(api: &Api, rec: &Recorder, world: &World, v: &Village, checks: &Checks) {
    let token = world.inspector.as_str();
    let label = &v.code;
    let (acked, expected, realised, unknown) = {
        let b = v.book.lock().expect("book lock");
        (b.acked.clone(), b.expected.clone(), b.realised.clone(), b.unknown)
    };

    // The chart with stored balances (on each account's normal side), made debit-positive.
    let mut stored: BTreeMap<String, i64> = BTreeMap::new();
    match get(api, rec, "check accounts", &format!("/api/v1/villages/{}/accounts", v.id), token).await {
        Ok(Value::Array(accounts)) => {
            for a in &accounts {
                let (Some(code), Some(balance)) = (a["code"].as_str(), amount(&a["balance"])) else {
                    checks.fail(ENTRIES, format!("{label}: unreadable account {a}"));
                    continue;
                };
                let debit_positive = if a["normal_side"] == "credit" { -balance } else { balance };
                stored.insert(code.to_string(), debit_positive);
            }
            let sum: i64 = stored.values().sum();
            checks.expect(TRIAL, sum == 0, || format!("{label}: the trial balance is off by {}", fmt_sen(sum)));
            for code in CASH_ACCOUNTS {
                let b = stored.get(*code).copied().unwrap_or(0);
                checks.expect(CASH, b >= 0, || format!("{label}: cash account {code} is {}", fmt_sen(b)));
            }
        }
        Ok(other) => checks.fail(ENTRIES, format!("{label}: accounts answer is not a list: {other}")),
        Err(e) => checks.fail(ENTRIES, format!("{label}: could not read the accounts: {e}")),
    }

    // Every transaction, page by page.
    let mut listed_sum: HashMap<String, i64> = HashMap::new();
    // Credits less debits per (revenue or financing-receipt account, source) in the year: what a budget's revenue
    // line shows as realised.
    let mut received: HashMap<(String, String), i64> = HashMap::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut seqs: Vec<i64> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut complete = false;
    let max_pages = acked.len() / 1000 + 20;
    for _ in 0..max_pages {
        let mut path = format!("/api/v1/villages/{}/transactions?limit=1000", v.id);
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = match get(api, rec, "check transactions", &path, token).await {
            Ok(p) => p,
            Err(e) => {
                checks.fail(ONCE, format!("{label}: could not list the transactions: {e}"));
                break;
            }
        };
        for t in page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let id = t["id"].as_str().unwrap_or("?").to_string();
            seqs.push(t["seq"].as_i64().unwrap_or(-1));
            let (mut dr, mut cr) = (0i64, 0i64);
            for e in t["entries"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                let a = amount(&e["amount"]).unwrap_or(0);
                let code = e["account_code"].as_str().unwrap_or("?").to_string();
                let in_year = t["value_date"].as_str().is_some_and(|d| d.starts_with(&world.year.to_string()));
                if in_year && (code.starts_with("4.") || code.starts_with("6.1.")) {
                    let source = e["source"].as_str().unwrap_or("").to_string();
                    let signed = if e["side"] == "credit" { a } else { -a };
                    *received.entry((code.clone(), source)).or_insert(0) += signed;
                }
                if e["side"] == "debit" {
                    dr += a;
                    *listed_sum.entry(code).or_insert(0) += a;
                } else {
                    cr += a;
                    *listed_sum.entry(code).or_insert(0) -= a;
                }
            }
            let total = amount(&t["total"]).unwrap_or(-1);
            checks.expect(TRIAL, dr == cr && dr == total && dr > 0, || {
                format!(
                    "{label}: transaction {id} has debits {} and credits {} (total {})",
                    fmt_sen(dr),
                    fmt_sen(cr),
                    fmt_sen(total)
                )
            });
            *checks.debits_total.lock().expect("checks lock") += dr;
            *seen.entry(id).or_insert(0) += 1;
        }
        cursor = page["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            complete = true;
            break;
        }
    }
    *checks.transactions_listed.lock().expect("checks lock") += seqs.len() as u64;
    if complete {
        // Postings: each acknowledged one exactly once, none the generator was not told about (it is the only
        // writer), except ones whose answer never arrived.
        for id in &acked {
            let n = seen.get(id).copied().unwrap_or(0);
            checks.expect(ONCE, n == 1, || format!("{label}: acknowledged posting {id} is listed {n} times"));
        }
        let acked_set: HashSet<&String> = acked.iter().collect();
        let extra = seen.keys().filter(|id| !acked_set.contains(id)).count() as u64;
        let dupes = seen.values().filter(|n| **n > 1).count();
        checks.expect(ONCE, extra <= unknown && dupes == 0, || {
            format!(
                "{label}: {} transactions listed, {} acknowledged, {extra} never acknowledged ({unknown} unanswered), {dupes} listed twice",
                seqs.len(),
                acked.len()
            )
        });
        let mut sorted = seqs.clone();
        sorted.sort_unstable();
        let gap_free = sorted.iter().enumerate().all(|(i, s)| *s == i as i64 + 1);
        checks.expect(ONCE, gap_free, || format!("{label}: the sequence numbers are not 1..={}", seqs.len()));

        // Stored balances = the entries listed = the acknowledged postings' entries.
        let codes: HashSet<&String> = stored.keys().chain(listed_sum.keys()).chain(expected.keys()).collect();
        for code in codes {
            let (s, l, e) = (
                stored.get(code).copied().unwrap_or(0),
                listed_sum.get(code).copied().unwrap_or(0),
                expected.get(code).copied().unwrap_or(0),
            );
            checks.expect(ENTRIES, s == l && (l == e || unknown > 0), || {
                format!(
                    "{label}: account {code}: stored {} (debit-positive), entries {}, acknowledged postings {}",
                    fmt_sen(s),
                    fmt_sen(l),
                    fmt_sen(e)
                )
            });
        }
    }

    // The budget: a spending line within its ceiling and realised exactly what the paid payments spent; a revenue
    // line realised exactly what the ledger received on it (more than budgeted is allowed: money came in).
    if world.budgets {
        let path = format!("/api/v1/villages/{}/budgets/{}", v.id, world.year);
        match get(api, rec, "check budget", &path, token).await {
            Ok(b) => {
                for l in b["lines"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                    let [ceiling, committed, real, available] =
                        ["ceiling", "committed", "realised", "available"].map(|f| amount(&l[f]).unwrap_or(i64::MIN));
                    let key = (
                        l["account_code"].as_str().unwrap_or("").to_string(),
                        l["activity_code"].as_str().unwrap_or("").to_string(),
                        l["source"].as_str().unwrap_or("").to_string(),
                    );
                    let revenue = key.0.starts_with("4.") || key.0.starts_with("6.1.");
                    let want = if revenue {
                        received.get(&(key.0.clone(), key.2.clone())).copied().unwrap_or(0)
                    } else {
                        realised.get(&key).copied().unwrap_or(0)
                    };
                    let ok = committed >= 0
                        && real >= 0
                        && (revenue || committed + real <= ceiling)
                        && available == ceiling - committed - real
                        && (real == want || unknown > 0 || !complete);
                    checks.expect(BUDGET, ok, || {
                        format!(
                            "{label}: line {}/{}/{}: ceiling {}, committed {}, realised {} (paid payments or receipts: {}), available {}",
                            key.0,
                            key.1,
                            key.2,
                            fmt_sen(ceiling),
                            fmt_sen(committed),
                            fmt_sen(real),
                            fmt_sen(want),
                            fmt_sen(available)
                        )
                    });
                }
            }
            Err(e) => checks.fail(BUDGET, format!("{label}: could not read the budget: {e}")),
        }
    }

    // The server's own verification: chain, stored balances against entries, payment digests.
    match get(api, rec, "check verify", &format!("/api/v1/villages/{}/audit/verify", v.id), token).await {
        Ok(r) => {
            let ok = r["ok"] == true
                && r["first_broken"].is_null()
                && r["payment_mismatches"].as_array().is_some_and(Vec::is_empty);
            checks.expect(CHAIN_API, ok, || format!("{label}: {r}"));
            let mismatches = r["balance_mismatches"].as_array().map_or(1, Vec::len);
            checks.expect(ENTRIES, mismatches == 0, || {
                format!(
                    "{label}: the server finds balances that differ from their entries: {}",
                    r["balance_mismatches"]
                )
            });
        }
        Err(e) => checks.fail(CHAIN_API, format!("{label}: could not verify: {e}")),
    }
}

/// Every village through the API, `concurrency` at a time.
pub async fn check_api(api: Arc<Api>, rec: Arc<Recorder>, world: Arc<World>, checks: Arc<Checks>, concurrency: usize) {
    let n = world.villages.len();
    let _ = parallel(n, concurrency, move |i| {
        let (api, rec, world, checks) = (api.clone(), rec.clone(), world.clone(), checks.clone());
        async move {
            check_village(&api, &rec, &world, &world.villages[i], &checks).await;
            Ok(())
        }
    })
    .await;
}

/// How to run `kasdesa verify-chain` against the service's database.
#[derive(Clone)]
pub struct Cli {
    pub bin: PathBuf,
    pub database_url: String,
    pub data_dir: Option<PathBuf>,
}

impl Cli {
    fn verify(&self, village: &str) -> Result<(), String> {
        let mut cmd = std::process::Command::new(&self.bin);
        cmd.args(["verify-chain", "--village", village])
            .env("KASDESA_DATABASE_URL", &self.database_url)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null());
        if let Some(d) = &self.data_dir {
            cmd.env("KASDESA_DATA_DIR", d);
        }
        let out = cmd.output().map_err(|e| format!("could not run {}: {e}", self.bin.display()))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let report: Value = serde_json::from_str(&stdout).unwrap_or(Value::Null);
        if out.status.success() && report["ok"] == true {
            Ok(())
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let said = if report.is_null() { stdout.trim().to_string() } else { report.to_string() };
            Err(format!(
                "exit {}: {} {}",
                out.status.code().map_or_else(|| "by signal".into(), |c| c.to_string()),
                crate::api::truncate(&said, 300),
                crate::api::truncate(stderr.trim(), 300)
            ))
        }
    }
}

/// `kasdesa verify-chain --village CODE` for every village, `concurrency` processes at a time.
pub async fn check_cli(cli: Cli, world: Arc<World>, checks: Arc<Checks>, concurrency: usize) {
    let codes: Arc<Vec<String>> = Arc::new(world.villages.iter().map(|v| v.code.clone()).collect());
    let n = codes.len();
    let _ = parallel(n, concurrency, move |i| {
        let (cli, codes, checks) = (cli.clone(), codes.clone(), checks.clone());
        async move {
            let code = codes[i].clone();
            let result = tokio::task::spawn_blocking(move || cli.verify(&code))
                .await
                .unwrap_or_else(|e| Err(format!("the check panicked: {e}")));
            match result {
                Ok(()) => checks.pass(CHAIN_CLI),
                Err(e) => checks.fail(CHAIN_CLI, format!("{}: {e}", codes[i])),
            }
            Ok(())
        }
    })
    .await;
}
