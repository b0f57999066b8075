//! The simulated regency: villages, their officials and bank, and what the generator knows it has posted. Setup
//! creates it through the public API, in parallel.

use crate::api::{str_field, Api, Failure};
use crate::stats::Recorder;
use crate::util::{fmt_sen, parse_sen};
use chrono::{Datelike, NaiveDate};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub const PASSWORD: &str = "load-password-123";
/// Budget ceilings large enough that no run reaches them: control is exercised, never refused.
pub const CEILING_SEN: i64 = 90_000_000_000_000; // Rp 900,000,000,000.00
/// Each village's opening bank credit when the mix spends money.
pub const FUNDING_SEN: i64 = 50_000_000_000_000; // Rp 500,000,000,000.00

/// Spending lines of the budget: (account, activity, activity name, source).
pub const SPENDING: &[(&str, &str, &str, &str)] = &[
    ("5.2.1.07", "02.03.10", "Rehabilitasi Jalan Desa", "DDS"),
    ("5.2.2.01", "01.01.04", "Operasional Pemerintah Desa", "ADD"),
];

/// Tokens of the four village officials.
pub struct Officials {
    pub treasurer: String,
    pub head: String,
    pub secretary: String,
    pub implementer: String,
}

/// What the generator knows about a village's books from acknowledged (2xx) answers alone.
#[derive(Default)]
pub struct Book {
    /// Ids of acknowledged postings, in acknowledgement order.
    pub acked: Vec<String>,
    /// Debit-positive balance per account, summed from the acknowledged postings' entries.
    pub expected: HashMap<String, i64>,
    /// Realised amount per budget key (account, activity, source), from paid payments.
    pub realised: HashMap<(String, String, String), i64>,
    /// Withheld tax paid out through payments and not yet taken by a deposit, per tax.
    pub tax_owed: BTreeMap<String, i64>,
    /// Bank POSTs that never got an answer: they may or may not have posted.
    pub unknown: u64,
}

impl Book {
    /// Records an acknowledged posting (a transaction view): its id and its entries.
    pub fn record_posting(&mut self, txn: &Value) -> Result<(), Failure> {
        let id = str_field(txn, "id")?;
        let entries =
            txn["entries"].as_array().ok_or_else(|| Failure::Unexpected("a posting without entries".into()))?;
        for e in entries {
            let code = str_field(e, "account_code")?;
            let amount =
                parse_sen(&str_field(e, "amount")?).ok_or_else(|| Failure::Unexpected(format!("bad amount in {e}")))?;
            let delta = if e["side"] == "debit" { amount } else { -amount };
            *self.expected.entry(code).or_insert(0) += delta;
        }
        self.acked.push(id);
        Ok(())
    }
}

pub struct Village {
    pub id: String,
    pub code: String,
    pub officials: Option<Officials>,
    pub book: Mutex<Book>,
}

pub struct World {
    pub run_id: String,
    pub regency_id: String,
    pub villages: Vec<Village>,
    pub bank: String,
    pub inspector: String,
    /// Budgets were adopted (and officials created): payments and tax deposits can run.
    pub budgets: bool,
    pub today: NaiveDate,
    pub year: i32,
    refs: AtomicU64,
}

impl World {
    /// A bank reference unique to this run.
    pub fn next_reference(&self, prefix: &str) -> String {
        let n = self.refs.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}-{}-{n:08}", self.run_id.to_uppercase())
    }

    /// The bank's date for what it does now: today in WIB (a run that passes midnight dates on the new day, as the
    /// service dates a release by the day it is made), never before the run's first day.
    pub fn value_date(&self) -> String {
        today_wib().max(self.today).format("%Y-%m-%d").to_string()
    }
}

/// Today in WIB (UTC+7), the day the service dates a release by.
pub fn today_wib() -> NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive()
}

/// Runs `f(0..n)` on `concurrency` tasks; results in index order. The first error is returned.
pub async fn parallel<T, F, Fut>(n: usize, concurrency: usize, f: F) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let (f, next) = (f.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                match f(i).await {
                    Ok(v) => out.push((i, v)),
                    Err(e) => {
                        // Stop the others early: nothing after a setup failure is worth doing.
                        next.store(n, Ordering::Relaxed);
                        return Err(e.context(format!("item {i}")));
                    }
                }
            }
            Ok(out)
        }));
    }
    let mut all: Vec<(usize, T)> = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.map_err(|e| anyhow::anyhow!("a setup task panicked: {e}"))??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, v)| v).collect())
}

async fn post(
    api: &Api,
    rec: &Recorder,
    op: &'static str,
    path: &str,
    token: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    api.call(rec, op, Method::POST, path, Some(token), None, Some(body))
        .await
        .map(|r| r.body)
        .map_err(|e| anyhow::anyhow!("{op} ({path}): {e}"))
}

pub async fn login(api: &Api, rec: &Recorder, username: &str, password: &str) -> anyhow::Result<String> {
    let body = json!({"username": username, "password": password});
    let r = api
        .call(rec, "login", Method::POST, "/api/v1/auth/login", None, None, Some(&body))
        .await
        .map_err(|e| anyhow::anyhow!("login as {username}: {e}"))?;
    Ok(str_field(&r.body, "access_token")?)
}

pub struct SetupPlan {
    pub villages: usize,
    pub officials: bool,
    pub concurrency: usize,
    pub admin_password: String,
    pub today: NaiveDate,
}

/// Creates a regency, its villages, an inspector and a bank client for all of them; with `officials`, four users
/// per village (logged in), an adopted budget and an opening bank credit (an acknowledged posting).
pub async fn setup(api: Arc<Api>, rec: Arc<Recorder>, plan: SetupPlan) -> anyhow::Result<World> {
    let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let admin = login(&api, &rec, "admin", &plan.admin_password).await?;
    let regency = post(
        &api,
        &rec,
        "create regency",
        "/api/v1/regencies",
        &admin,
        &json!({"code": format!("LOAD-{run_id}"), "name": format!("Kabupaten Uji Beban {run_id}")}),
    )
    .await?;
    let regency_id = str_field(&regency, "id")?;

    let villages = {
        let (api, rec, admin, regency_id, run_id) =
            (api.clone(), rec.clone(), admin.clone(), regency_id.clone(), run_id.clone());
        parallel(plan.villages, plan.concurrency, move |i| {
            let (api, rec, admin, regency_id, run_id) =
                (api.clone(), rec.clone(), admin.clone(), regency_id.clone(), run_id.clone());
            async move {
                let code = format!("L{run_id}.{:04}", i + 1);
                let body = json!({"code": code, "name": format!("Desa Uji {}", i + 1), "regency_id": regency_id,
                                  "bank_account": format!("10{:08}", i + 1), "cash_limit": "10000000.00"});
                let v = post(&api, &rec, "create village", "/api/v1/villages", &admin, &body).await?;
                Ok((str_field(&v, "id")?, code))
            }
        })
        .await?
    };
    let ids: Vec<String> = villages.iter().map(|(id, _)| id.clone()).collect();

    let inspector_name = format!("inspektur-{run_id}");
    post(
        &api,
        &rec,
        "create user",
        "/api/v1/users",
        &admin,
        &json!({"username": inspector_name, "password": PASSWORD, "role": "inspector", "regency_id": regency_id}),
    )
    .await?;
    let inspector = login(&api, &rec, &inspector_name, PASSWORD).await?;
    let client = post(
        &api,
        &rec,
        "create bank client",
        "/api/v1/bank-clients",
        &admin,
        &json!({"name": format!("Bank Uji Beban {run_id}"), "village_ids": ids}),
    )
    .await?;
    let creds =
        json!({"client_id": str_field(&client, "client_id")?, "client_secret": str_field(&client, "client_secret")?});
    let token = api
        .call(&rec, "bank token", Method::POST, "/api/v1/auth/token", None, None, Some(&creds))
        .await
        .map_err(|e| anyhow::anyhow!("bank token: {e}"))?;
    let bank = str_field(&token.body, "access_token")?;

    let year = plan.today.year();
    let mut world = World {
        run_id: run_id.clone(),
        regency_id,
        villages: villages
            .into_iter()
            .map(|(id, code)| Village { id, code, officials: None, book: Mutex::new(Book::default()) })
            .collect(),
        bank,
        inspector,
        budgets: plan.officials,
        today: plan.today,
        year,
        refs: AtomicU64::new(0),
    };
    if !plan.officials {
        return Ok(world);
    }

    let value_date = world.value_date();
    let vs: Arc<Vec<(String, String)>> =
        Arc::new(world.villages.iter().map(|v| (v.id.clone(), v.code.clone())).collect());
    let made = {
        let (api, rec, admin, bank, run_id) =
            (api.clone(), rec.clone(), admin.clone(), world.bank.clone(), run_id.clone());
        parallel(vs.len(), plan.concurrency, move |i| {
            let (api, rec, admin, bank, run_id, vs) =
                (api.clone(), rec.clone(), admin.clone(), bank.clone(), run_id.clone(), vs.clone());
            let value_date = value_date.clone();
            async move {
                let (id, _) = &vs[i];
                let mut tokens = Vec::new();
                for role in ["treasurer", "head", "secretary", "implementer"] {
                    let username = format!("{role}-{run_id}-{}", i + 1);
                    let body = json!({"username": username, "password": PASSWORD, "role": role, "village_id": id});
                    post(&api, &rec, "create user", "/api/v1/users", &admin, &body).await?;
                    tokens.push(login(&api, &rec, &username, PASSWORD).await?);
                }
                let o = Officials {
                    treasurer: tokens[0].clone(),
                    head: tokens[1].clone(),
                    secretary: tokens[2].clone(),
                    implementer: tokens[3].clone(),
                };
                let mut lines =
                    vec![json!({"account_code": "4.2.1.01", "source": "DDS", "amount": fmt_sen(CEILING_SEN)})];
                for (account, activity, name, source) in SPENDING {
                    lines.push(json!({"account_code": account, "activity_code": activity, "activity_name": name,
                                      "source": source, "amount": fmt_sen(CEILING_SEN)}));
                }
                let path = format!("/api/v1/villages/{id}/budgets/{year}");
                api.call(
                    &rec,
                    "budget put",
                    Method::PUT,
                    &path,
                    Some(&o.treasurer),
                    None,
                    Some(&json!({"lines": lines})),
                )
                .await
                .map_err(|e| anyhow::anyhow!("budget PUT: {e}"))?;
                post(&api, &rec, "budget adopt", &format!("{path}/adopt"), &o.head, &json!({})).await?;
                let key = uuid::Uuid::new_v4().to_string();
                let body = json!({"village_id": id, "amount": fmt_sen(FUNDING_SEN), "source": "DDS",
                                  "bank_reference": format!("FUND-{}-{:04}", run_id.to_uppercase(), i + 1),
                                  "value_date": value_date, "description": "Penyaluran Dana Desa (uji beban)"});
                let r = api
                    .bank_post(&rec, "funding credit", "/api/v1/bank/credits", &bank, &key, &body)
                    .await
                    .map_err(|e| anyhow::anyhow!("funding credit: {e}"))?;
                Ok((o, r.body))
            }
        })
        .await?
    };
    for (v, (o, funding)) in world.villages.iter_mut().zip(made) {
        v.officials = Some(o);
        v.book.get_mut().expect("book lock").record_posting(&funding)?;
    }
    Ok(world)
}
