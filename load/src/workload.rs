//! The clients: each loops over scenarios picked from the mix until the deadline or the operation budget is spent.
//! A scenario is what one real actor does: the bank credits a village, a village pays a supplier through its full
//! approval chain, a village deposits the tax it withheld, an official reads the books.

use crate::api::{str_field, Api, Failure, Resp};
use crate::stats::Recorder;
use crate::util::{fmt_sen, Rng};
use crate::world::{Village, World, SPENDING};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Relative weights of the scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    pub credit: u32,
    pub payment: u32,
    pub tax: u32,
    pub read: u32,
    /// Batches of `BATCH` credits (`POST /bank/credits/batch`).
    pub batch: u32,
}

/// Credits per batch in the `batch` scenario.
pub const BATCH: usize = 100;

impl Mix {
    /// `realistic` (the default), `credits`, `payments`, `reads`, `batches`, or weights such as
    /// `credit=40,payment=25,tax=5,read=30,batch=0`.
    pub fn parse(s: &str) -> anyhow::Result<Mix> {
        let m = match s {
            "realistic" | "default" => Mix { credit: 40, payment: 25, tax: 5, read: 30, batch: 0 },
            "credits" => Mix { credit: 1, payment: 0, tax: 0, read: 0, batch: 0 },
            "payments" => Mix { credit: 0, payment: 1, tax: 0, read: 0, batch: 0 },
            "reads" => Mix { credit: 0, payment: 0, tax: 0, read: 1, batch: 0 },
            "batches" => Mix { credit: 0, payment: 0, tax: 0, read: 0, batch: 1 },
            custom => {
                let mut m = Mix { credit: 0, payment: 0, tax: 0, read: 0, batch: 0 };
                for part in custom.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let (name, w) = part
                        .split_once('=')
                        .ok_or_else(|| anyhow::anyhow!("--mix: expected NAME=WEIGHT, got `{part}`"))?;
                    let w: u32 = w.trim().parse().map_err(|_| anyhow::anyhow!("--mix: bad weight in `{part}`"))?;
                    match name.trim() {
                        "credit" | "credits" => m.credit = w,
                        "payment" | "payments" => m.payment = w,
                        "tax" | "taxes" => m.tax = w,
                        "read" | "reads" => m.read = w,
                        "batch" | "batches" => m.batch = w,
                        other => anyhow::bail!("--mix: unknown scenario `{other}` (credit, payment, tax, read, batch)"),
                    }
                }
                m
            }
        };
        anyhow::ensure!(m.total() > 0, "--mix: all weights are zero");
        anyhow::ensure!(m.total() <= 1_000_000, "--mix: weights too large");
        Ok(m)
    }

    pub fn total(&self) -> u32 {
        self.credit + self.payment + self.tax + self.read + self.batch
    }

    /// Payments and tax deposits need officials, budgets and funded villages.
    pub fn needs_officials(&self) -> bool {
        self.payment > 0 || self.tax > 0
    }

    pub fn describe(&self) -> String {
        let t = f64::from(self.total());
        let pct = |w: u32| f64::from(w) * 100.0 / t;
        format!(
            "credit {:.0}%, payment {:.0}%, tax {:.0}%, read {:.0}%, batch of {BATCH} {:.0}%",
            pct(self.credit),
            pct(self.payment),
            pct(self.tax),
            pct(self.read),
            pct(self.batch)
        )
    }

    pub fn to_json(self) -> Value {
        json!({"credit": self.credit, "payment": self.payment, "tax": self.tax, "read": self.read, "batch": self.batch})
    }
}

#[derive(Default)]
pub struct Counters {
    pub postings: AtomicU64,
    pub credits: AtomicU64,
    pub payments: AtomicU64,
    pub tax_deposits: AtomicU64,
    pub reads: AtomicU64,
    pub failed: AtomicU64,
    pub tax_fallbacks: AtomicU64,
    pub replays: AtomicU64,
    pub replay_mismatches: AtomicU64,
    pub unknown_outcomes: AtomicU64,
}

pub struct Run {
    pub world: Arc<World>,
    pub api: Arc<Api>,
    /// Every HTTP request of the run, by operation.
    pub rec: Recorder,
    /// Every scenario of the run, end to end.
    pub scen: Recorder,
    pub c: Counters,
    pub mix: Mix,
    pub replay_share: f64,
    /// Villages each credit batch spreads over (0: a village drawn for every item).
    pub batch_villages: usize,
    pub deadline: Option<Instant>,
    pub max_ops: Option<u64>,
    /// Open loop: each client starts a scenario every `interval` (the offered rate split over the clients) instead
    /// of starting the next as soon as the last one ends.
    pub interval: Option<Duration>,
    started: AtomicU64,
    examples: Mutex<Vec<String>>,
    /// Bank POSTs whose every try got `503` or no answer: their outcome is not known, so the bank tries them again
    /// after the run (`resolve_unanswered`), as a bank keeps retrying until it has an answer.
    unanswered: Mutex<Vec<Unanswered>>,
}

/// A bank POST with no answer yet, and where its posting is in the answer.
struct Unanswered {
    village: usize,
    op: &'static str,
    path: String,
    key: String,
    body: Value,
    posting: fn(&Value) -> Value,
}

pub fn load(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// The order operations are reported in.
pub const OPS: &[&str] = &[
    "credit",
    "credit (replay)",
    "spp draft",
    "tax draft",
    "submit",
    "verify",
    "approve",
    "release",
    "bank result",
    "bank result (replay)",
    "read accounts",
    "read balances",
    "read budget",
    "read transactions",
    "report trial balance",
    "report realisation",
    "report bank book",
    "report regency realisation",
];
pub const SCENARIOS: &[&str] = &["credit", "payment chain", "tax deposit chain", "read"];

type StepResult<T> = Result<T, (&'static str, Failure)>;

impl Run {
    pub fn new(
        world: Arc<World>,
        api: Arc<Api>,
        mix: Mix,
        replay_share: f64,
        deadline: Option<Instant>,
        max_ops: Option<u64>,
        interval: Option<Duration>,
    ) -> Run {
        Run {
            world,
            api,
            rec: Recorder::default(),
            scen: Recorder::default(),
            c: Counters::default(),
            mix,
            replay_share,
            batch_villages: 0,
            deadline,
            max_ops,
            interval,
            started: AtomicU64::new(0),
            examples: Mutex::new(Vec::new()),
            unanswered: Mutex::new(Vec::new()),
        }
    }

    pub fn with_batch_villages(mut self, k: usize) -> Run {
        self.batch_villages = k;
        self
    }

    /// After the run, before the books are checked: every bank POST still without an answer is sent again under
    /// its key until it gets one (bounded), and a posting it acknowledges is recorded. What stays unanswered is
    /// counted as an unknown outcome of its village (it may or may not have posted). Returns (answered, unknown).
    pub async fn resolve_unanswered(&self) -> (u64, u64) {
        let pending = std::mem::take(&mut *self.unanswered.lock().expect("unanswered lock"));
        let (mut answered, mut unknown) = (0, 0);
        for u in pending {
            let v = &self.world.villages[u.village];
            let mut outcome = None;
            for _ in 0..20 {
                match self.api.bank_post(&self.rec, u.op, &u.path, &self.world.bank, &u.key, &u.body).await {
                    Ok(r) => {
                        outcome = Some(Some(r));
                        break;
                    }
                    Err(f) if f.is_transport() || f.status() == Some(503) => {
                        tokio::time::sleep(Duration::from_millis(500)).await
                    }
                    // A definite refusal: nothing was posted.
                    Err(_) => {
                        outcome = Some(None);
                        break;
                    }
                }
            }
            match outcome {
                Some(Some(r)) => {
                    answered += 1;
                    if self.record_posting(v, &(u.posting)(&r.body)).is_err() {
                        self.example(format!("{} {}: the late answer holds no posting", u.op, u.path));
                    }
                }
                Some(None) => answered += 1,
                None => {
                    unknown += 1;
                    v.book.lock().expect("book lock").unknown += 1;
                    inc(&self.c.unknown_outcomes);
                }
            }
        }
        (answered, unknown)
    }

    /// The first few failures, with detail, for the report.
    pub fn examples(&self) -> Vec<String> {
        self.examples.lock().expect("examples lock").clone()
    }

    fn example(&self, s: String) {
        let mut e = self.examples.lock().expect("examples lock");
        if e.len() < 12 {
            e.push(s);
        }
    }

    fn village<'a>(&'a self, rng: &mut Rng) -> &'a Village {
        let n = self.world.villages.len() as u64;
        &self.world.villages[rng.below(n) as usize]
    }

    fn record_posting(&self, v: &Village, txn: &Value) -> Result<(), Failure> {
        v.book.lock().expect("book lock").record_posting(txn)?;
        inc(&self.c.postings);
        Ok(())
    }
}

/// One client: scenarios back to back until the deadline or the shared operation budget is reached.
pub async fn client(run: Arc<Run>, seed: u64) {
    let mut rng = Rng::new(seed);
    let total = u64::from(run.mix.total());
    // Open loop: staggered start, then one scenario per interval (none skipped when running late).
    let mut next = run.interval.map(|iv| Instant::now() + iv.mul_f64((rng.below(1000) as f64) / 1000.0));
    // Bounded however the flags are set: at most this many scenarios per client.
    for _ in 0..10_000_000u64 {
        if let (Some(at), Some(iv)) = (next.as_mut(), run.interval) {
            if run.deadline.is_some_and(|d| *at >= d) {
                break;
            }
            tokio::time::sleep_until(tokio::time::Instant::from_std(*at)).await;
            *at += iv;
        }
        if run.deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        if run.max_ops.is_some_and(|m| run.started.fetch_add(1, Ordering::Relaxed) >= m) {
            break;
        }
        let mut pick = u32::try_from(rng.below(total)).unwrap_or(0);
        let started = Instant::now();
        let (name, result) = if pick < run.mix.credit {
            ("credit", credit(&run, &mut rng).await)
        } else if pick < run.mix.credit + run.mix.batch {
            ("credit batch", credit_batch(&run, &mut rng).await)
        } else {
            pick -= run.mix.credit + run.mix.batch;
            if pick < run.mix.payment {
                ("payment chain", payment(&run, &mut rng).await)
            } else {
                pick -= run.mix.payment;
                if pick < run.mix.tax {
                    match tax_deposit(&run, &mut rng).await {
                        Some(r) => ("tax deposit chain", r),
                        None => {
                            // Nothing withheld yet anywhere we looked: the bank credits someone instead.
                            inc(&run.c.tax_fallbacks);
                            ("credit", credit(&run, &mut rng).await)
                        }
                    }
                } else {
                    ("read", read(&run, &mut rng).await)
                }
            }
        };
        let error = match result {
            Ok(()) => None,
            Err((step, f)) => {
                inc(&run.c.failed);
                run.example(format!("{name} failed at {step}: {f}"));
                Some(format!("failed at {step}"))
            }
        };
        run.scen.record(name, started.elapsed(), error);
    }
}

/// Sends a bank POST a second time with the same key (share `replay_share` of them): the answer must be the same.
async fn maybe_replay(run: &Run, rng: &mut Rng, op: &'static str, path: &str, key: &str, body: &Value, first: &Resp) {
    if !rng.chance(run.replay_share) {
        return;
    }
    inc(&run.c.replays);
    // Retried as a bank retries (503 or no answer: the same request again). A replay that still gets no answer is
    // an error of the run (counted as one), not a different answer.
    let again = run.api.bank_post(&run.rec, op, path, &run.world.bank, key, body).await;
    let problem = match again {
        Err(crate::api::Failure::Status { status: 503, .. }) | Err(crate::api::Failure::Transport(_)) => None,
        Ok(r) if r.status == first.status && r.body == first.body && r.replayed => None,
        Ok(r) if r.status == first.status && r.body == first.body => {
            Some("no `Idempotent-Replayed: true` header".into())
        }
        Ok(r) => Some(format!(
            "status {} (first {}), body {}",
            r.status,
            first.status,
            crate::api::truncate(&r.body.to_string(), 200)
        )),
        Err(e) => Some(e.to_string()),
    };
    if let Some(p) = problem {
        inc(&run.c.replay_mismatches);
        run.example(format!("{op} of {path} differs from the first answer: {p}"));
    }
}

/// A bank POST that posts a transaction: retried on no answer; the posting is recorded when acknowledged.
#[allow(clippy::too_many_arguments)]
async fn bank_posting(
    run: &Run,
    rng: &mut Rng,
    v: &Village,
    op: &'static str,
    replay_op: &'static str,
    path: &str,
    body: &Value,
    // Where the posting is in the answer, for a POST the bank tries again after the run if it got no answer (a
    // credit); `None` counts such a POST as an unknown outcome at once (a transfer's result, whose request the
    // scenario follows no further).
    posting: Option<fn(&Value) -> Value>,
) -> StepResult<Resp> {
    let key = uuid::Uuid::new_v4().to_string();
    let r = match run.api.bank_post(&run.rec, op, path, &run.world.bank, &key, body).await {
        Ok(r) => r,
        Err(f) => {
            // No answer, or `503` (the service could not tell whether its commit landed: a connection lost at
            // COMMIT): the outcome is unknown until the bank tries again under the same key.
            let unknown = f.is_transport() || f.status() == Some(503);
            if let (true, Some(posting)) = (unknown, posting) {
                let village = run.world.villages.iter().position(|w| std::ptr::eq(w, v)).expect("a world village");
                run.unanswered.lock().expect("unanswered lock").push(Unanswered {
                    village,
                    op,
                    path: path.to_string(),
                    key,
                    body: body.clone(),
                    posting,
                });
            } else if unknown {
                v.book.lock().expect("book lock").unknown += 1;
                inc(&run.c.unknown_outcomes);
            }
            return Err((op, f));
        }
    };
    maybe_replay(run, rng, replay_op, path, &key, body, &r).await;
    Ok(r)
}

async fn credit(run: &Run, rng: &mut Rng) -> StepResult<()> {
    let v = run.village(rng);
    // Rp 1,000 to Rp 50,000,000 in whole rupiah, from one of the usual sources.
    let amount = rng.range(100_000, 5_000_000_000) / 100 * 100;
    let source = ["DDS", "ADD", "PAD", "PBH", "DLL"][rng.below(5) as usize];
    let body = json!({"village_id": v.id, "amount": fmt_sen(amount), "source": source,
                      "bank_reference": run.world.next_reference("CR"), "value_date": run.world.value_date(),
                      "description": "Transfer masuk ke rekening kas desa"});
    let r = bank_posting(run, rng, v, "credit", "credit (replay)", "/api/v1/bank/credits", &body, Some(|b| b.clone()))
        .await?;
    run.record_posting(v, &r.body).map_err(|f| ("credit", f))?;
    inc(&run.c.credits);
    Ok(())
}

/// A batch of `BATCH` Dana Desa credits to random villages (or spread over `batch_villages` of them); each posted
/// item is recorded as the single call's posting would be (Dr 1.1.1.02, Cr 4.2.1.01), so the book checks cover
/// them.
async fn credit_batch(run: &Run, rng: &mut Rng) -> StepResult<()> {
    let mut items = Vec::with_capacity(BATCH);
    let mut villages = Vec::with_capacity(BATCH);
    let chosen: Vec<&Village> = (0..run.batch_villages).map(|_| run.village(rng)).collect();
    for i in 0..BATCH {
        let v = if chosen.is_empty() { run.village(rng) } else { chosen[i % chosen.len()] };
        let amount = rng.range(100_000, 5_000_000_000) / 100 * 100;
        items.push(json!({"village_id": v.id, "amount": fmt_sen(amount), "source": "DDS",
                          "bank_reference": run.world.next_reference("BT"), "value_date": run.world.value_date(),
                          "description": "Transfer masuk (batch)"}));
        villages.push((v, amount));
    }
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({"items": items});
    let r = run
        .api
        .call(
            &run.rec,
            "credit batch",
            Method::POST,
            "/api/v1/bank/credits/batch",
            Some(&run.world.bank),
            Some(&key),
            Some(&body),
        )
        .await
        .map_err(|f| ("credit batch", f))?;
    let results = r.body["results"].as_array().cloned().unwrap_or_default();
    if results.len() != BATCH {
        return Err(("credit batch", Failure::Unexpected(format!("{} results for {BATCH} items", results.len()))));
    }
    for ((v, amount), res) in villages.into_iter().zip(results) {
        if res["status"] != 201 {
            return Err(("credit batch", Failure::Unexpected(format!("an item was refused: {res}"))));
        }
        let txn = json!({"id": res["transaction_id"], "entries": [
            {"account_code": "1.1.1.02", "side": "debit", "amount": fmt_sen(amount)},
            {"account_code": "4.2.1.01", "side": "credit", "amount": fmt_sen(amount)}]});
        run.record_posting(v, &txn).map_err(|f| ("credit batch", f))?;
        inc(&run.c.credits);
    }
    Ok(())
}

async fn transition(run: &Run, token: &str, payment: &str, action: &'static str) -> StepResult<Resp> {
    let path = format!("/api/v1/payments/{payment}/{action}");
    run.api.call(&run.rec, action, Method::POST, &path, Some(token), None, None).await.map_err(|f| (action, f))
}

/// submit → verify → approve → release, each by its own official; the released transfers' ids (one per receipt).
async fn approval_chain(run: &Run, v: &Village, payment: &str) -> StepResult<Vec<String>> {
    let o = v.officials.as_ref().expect("payments run only with officials");
    approval_chain_from(run, v, &o.implementer, payment).await
}

/// The chain of a request whose drafter (`submitter`: the implementer for a payment, the treasurer for a tax
/// deposit) submits it.
async fn approval_chain_from(run: &Run, v: &Village, submitter: &str, payment: &str) -> StepResult<Vec<String>> {
    let o = v.officials.as_ref().expect("payments run only with officials");
    transition(run, submitter, payment, "submit").await?;
    transition(run, &o.secretary, payment, "verify").await?;
    transition(run, &o.head, payment, "approve").await?;
    let released = transition(run, &o.treasurer, payment, "release").await?;
    let ids: Vec<String> = released.body["transfers"]
        .as_array()
        .map(|ts| {
            ts.iter()
                .filter(|t| t["status"] == "released")
                .filter_map(|t| t["id"].as_str())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(("release", Failure::Unexpected("no released transfer in the answer".into())));
    }
    Ok(ids)
}

/// The bank pays the transfer; the answer's transaction is the posting. `last`: the request's last transfer, after
/// which it must be paid (before it, a request with more receipts is still released).
async fn settle(
    run: &Run,
    rng: &mut Rng,
    v: &Village,
    transfer: &str,
    ntpns: Option<Value>,
    last: bool,
) -> StepResult<Value> {
    let mut body = json!({"status": "paid", "bank_reference": run.world.next_reference("TRF"),
                          "value_date": run.world.value_date()});
    if let Some(n) = ntpns {
        body["ntpns"] = n;
    }
    let path = format!("/api/v1/bank/transfers/{transfer}/result");
    let r = bank_posting(run, rng, v, "bank result", "bank result (replay)", &path, &body, None).await?;
    let expected = if last { "paid" } else { "released" };
    if r.body["payment_status"] != expected || !r.body["transaction"].is_object() {
        return Err((
            "bank result",
            Failure::Unexpected(format!("not paid: {}", crate::api::truncate(&r.body.to_string(), 200))),
        ));
    }
    let txn = r.body["transaction"].clone();
    run.record_posting(v, &txn).map_err(|f| ("bank result", f))?;
    Ok(txn)
}

/// An advance (panjar) to the implementer, paid by the bank, then its accountability (SPJ): one receipt spending
/// nine tenths of it, the rest returned to the bank. The SPJ's posting is found among the request's postings.
async fn advance(run: &Run, rng: &mut Rng) -> StepResult<()> {
    let v = run.village(rng);
    let o = v.officials.as_ref().expect("advances run only with officials");
    let line = rng.below(SPENDING.len() as u64) as usize;
    let (account, activity, _, source) = SPENDING[line];
    // Rp 1,000,000 to Rp 20,000,000, whole hundreds of rupiah.
    let gross = rng.range(100_000_000, 2_000_000_000) / 10_000 * 10_000;
    let returned = gross / 10;
    let spent = gross - returned;
    let n = rng.below(1_000_000);
    let body = json!({
        "kind": "advance", "activity_code": activity, "fiscal_year": run.world.year,
        "description": "Panjar kegiatan swakelola",
        "payee": {"name": "Ketua TPK", "bank_code": "123", "account_number": format!("2002{n:06}")},
        "lines": [{"account_code": account, "source": source, "amount": fmt_sen(gross)}],
    });
    let key = uuid::Uuid::new_v4().to_string();
    let path = format!("/api/v1/villages/{}/payments", v.id);
    let draft = run
        .api
        .call(&run.rec, "advance draft", Method::POST, &path, Some(&o.implementer), Some(&key), Some(&body))
        .await
        .map_err(|f| ("advance draft", f))?;
    let id = str_field(&draft.body, "id").map_err(|f| ("advance draft", f))?;
    let transfers = approval_chain(run, v, &id).await?;
    let paid = settle(run, rng, v, &transfers[0], None, true).await?;
    let spj = json!({"returned": fmt_sen(returned), "value_date": run.world.value_date(), "receipts": [
        {"payee": "Toko Bangunan", "description": "Bahan kegiatan",
         "lines": [{"account_code": account, "source": source, "amount": fmt_sen(spent)}]}]});
    let key = uuid::Uuid::new_v4().to_string();
    let path = format!("/api/v1/payments/{id}/accountability");
    run.api
        .call(&run.rec, "spj", Method::POST, &path, Some(&o.implementer), Some(&key), Some(&spj))
        .await
        .map_err(|f| ("spj", f))?;
    // The SPJ's posting: the request's postings other than the advance's payment.
    let path = format!("/api/v1/villages/{}/transactions?payment_id={id}", v.id);
    let postings = run
        .api
        .call(&run.rec, "spj posting", Method::GET, &path, Some(&o.treasurer), None, None)
        .await
        .map_err(|f| ("spj posting", f))?;
    let paid_id = str_field(&paid, "id").map_err(|f| ("spj posting", f))?;
    let txn = postings.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["id"].as_str() != Some(paid_id.as_str())))
        .cloned()
        .ok_or(("spj posting", Failure::Unexpected("the SPJ posted nothing".into())))?;
    run.record_posting(v, &txn).map_err(|f| ("spj", f))?;
    *v.book.lock().expect("book lock").realised.entry((account.into(), activity.into(), source.into())).or_insert(0) +=
        spent;
    inc(&run.c.payments);
    Ok(())
}

async fn payment(run: &Run, rng: &mut Rng) -> StepResult<()> {
    // One in ten is an advance and its SPJ.
    if rng.chance(0.1) {
        return advance(run, rng).await;
    }
    let v = run.village(rng);
    let o = v.officials.as_ref().expect("payments run only with officials");
    let line = rng.below(SPENDING.len() as u64) as usize;
    let (account, activity, _, source) = SPENDING[line];
    // Rp 100,000 to Rp 20,000,000, whole rupiah; half of them with taxes withheld.
    let gross = rng.range(10_000_000, 2_000_000_000) / 100 * 100;
    let mut withheld: Vec<(&str, i64)> = Vec::new();
    if rng.chance(0.5) {
        if line == 0 {
            withheld.push(("PPN", gross * 10 / 110 / 100 * 100));
            withheld.push(("PPH22", gross * 15 / 1000 / 100 * 100));
        } else {
            withheld.push(("PPH21", gross * 5 / 100 / 100 * 100));
        }
        withheld.retain(|(_, a)| *a > 0);
    }
    let withholdings: Vec<Value> = withheld.iter().map(|(t, a)| json!({"tax": t, "amount": fmt_sen(*a)})).collect();
    let n = rng.below(1_000_000);
    let line_of = |amount: i64, withholdings: &Vec<Value>| json!([{"account_code": account, "source": source, "amount": fmt_sen(amount), "withholdings": withholdings}]);
    // One in five is a list of payees on one SPP (wages, allowances): the same line split over 2 to 6 receipts,
    // each paid by its own transfer; the rest one payee.
    let receipts = if rng.chance(0.2) { 2 + rng.below(5) as i64 } else { 1 };
    let mut body = json!({
        "activity_code": activity,
        "description": "Belanja material kegiatan desa",
        "invoice_number": format!("INV-{n:06}"),
        "invoice_date": run.world.value_date(),
        "fiscal_year": run.world.year,
    });
    if receipts == 1 {
        body["payee"] =
            json!({"name": "CV Maju Bersama", "bank_code": "123", "account_number": format!("1009{:06}", n)});
        body["lines"] = line_of(gross, &withholdings);
    } else {
        // Each receipt its share of the gross (the first takes the remainder) and of every tax withheld.
        let share = |total: i64, i: i64| total / receipts + if i == 0 { total % receipts } else { 0 };
        body["receipts"] = (0..receipts)
            .map(|i| {
                let w: Vec<Value> = withheld
                    .iter()
                    .map(|(t, a)| json!({"tax": t, "amount": fmt_sen(share(*a, i))}))
                    .filter(|w| w["amount"] != "0.00")
                    .collect();
                json!({"payee": {"name": format!("Penerima {i}"), "bank_code": "123", "account_number": format!("1010{:06}{i}", n)},
                       "lines": line_of(share(gross, i), &w)})
            })
            .collect::<Vec<_>>()
            .into();
    }
    let key = uuid::Uuid::new_v4().to_string();
    let path = format!("/api/v1/villages/{}/payments", v.id);
    let draft = run
        .api
        .call(&run.rec, "spp draft", Method::POST, &path, Some(&o.implementer), Some(&key), Some(&body))
        .await
        .map_err(|f| ("spp draft", f))?;
    let id = str_field(&draft.body, "id").map_err(|f| ("spp draft", f))?;
    let transfers = approval_chain(run, v, &id).await?;
    for (i, t) in transfers.iter().enumerate() {
        settle(run, rng, v, t, None, i + 1 == transfers.len()).await?;
    }
    {
        let mut b = v.book.lock().expect("book lock");
        *b.realised.entry((account.into(), activity.into(), source.into())).or_insert(0) += gross;
        for (tax, amount) in withheld {
            *b.tax_owed.entry(tax.to_string()).or_insert(0) += amount;
        }
    }
    inc(&run.c.payments);
    Ok(())
}

/// Deposits everything a village has withheld; `None` when no village tried had anything to deposit.
async fn tax_deposit(run: &Run, rng: &mut Rng) -> Option<StepResult<()>> {
    let (v, owed) = (0..4).find_map(|_| {
        let v = run.village(rng);
        let owed = std::mem::take(&mut v.book.lock().expect("book lock").tax_owed);
        let owed: Vec<(String, i64)> = owed.into_iter().filter(|(_, a)| *a > 0).collect();
        (!owed.is_empty()).then_some((v, owed))
    })?;
    Some(tax_chain(run, rng, v, owed).await)
}

async fn tax_chain(run: &Run, rng: &mut Rng, v: &Village, owed: Vec<(String, i64)>) -> StepResult<()> {
    let o = v.officials.as_ref().expect("tax deposits run only with officials");
    let lines: Vec<Value> = owed.iter().map(|(t, a)| json!({"tax": t, "amount": fmt_sen(*a)})).collect();
    let body = json!({"description": "Setor pajak yang dipungut", "billing_code": format!("8202{:011}", rng.below(100_000_000_000)),
                      "lines": lines, "fiscal_year": run.world.year});
    let key = uuid::Uuid::new_v4().to_string();
    let path = format!("/api/v1/villages/{}/tax-deposits", v.id);
    let draft = run
        .api
        .call(&run.rec, "tax draft", Method::POST, &path, Some(&o.treasurer), Some(&key), Some(&body))
        .await
        .map_err(|f| ("tax draft", f))?;
    let id = str_field(&draft.body, "id").map_err(|f| ("tax draft", f))?;
    let transfer = approval_chain_from(run, v, &o.treasurer, &id).await?.remove(0);
    // The bank's proof of payment for each tax.
    let ntpns: serde_json::Map<String, Value> =
        owed.iter().map(|(t, _)| (t.clone(), json!(format!("{:016X}", rng.next_u64())))).collect();
    settle(run, rng, v, &transfer, Some(Value::Object(ntpns)), true).await?;
    inc(&run.c.tax_deposits);
    Ok(())
}

/// What officials read, weighted (of 100): the chart with balances, balances at a date, the budget, a page of the
/// journal, the village reports (trial balance, budget realisation, bank book), and now and then the inspector's
/// realisation report over the whole regency.
async fn read(run: &Run, rng: &mut Rng) -> StepResult<()> {
    let v = run.village(rng);
    let w = &run.world;
    let token = v.officials.as_ref().map_or(&w.inspector, |o| &o.treasurer);
    let village = format!("/api/v1/villages/{}", v.id);
    let (op, token, path) = match rng.below(100) {
        0..=14 => ("read accounts", token, format!("{village}/accounts")),
        15..=29 => ("read balances", token, format!("{village}/balances?at={}", w.value_date())),
        30..=39 if w.budgets => ("read budget", token, format!("{village}/budgets/{}", w.year)),
        30..=54 => ("read transactions", token, format!("{village}/transactions?limit=20")),
        55..=69 => ("report trial balance", token, format!("{village}/reports/trial-balance")),
        70..=84 => ("report realisation", token, format!("{village}/reports/realisation?year={}", w.year)),
        85..=97 => ("report bank book", token, format!("{village}/reports/bank-book?year={}", w.year)),
        _ => (
            "report regency realisation",
            &w.inspector,
            format!("/api/v1/regencies/{}/reports/realisation?year={}", w.regency_id, w.year),
        ),
    };
    run.api.call(&run.rec, op, Method::GET, &path, Some(token), None, None).await.map_err(|f| (op, f))?;
    inc(&run.c.reads);
    Ok(())
}
