//! Crash safety: the real binary under load from bank clients, killed with SIGKILL at random moments and
//! restarted on the same database. Every posting a client saw acknowledged is present exactly once, nothing
//! unacknowledged is half-written (retried with its key it lands once), the books balance and the chain verifies.
//! KASDESA_CRASH_KILLS sets the number of kills (default 5).

use crate::helpers::*;
use serde_json::json;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) struct Server {
    pub(crate) child: Option<Child>,
    pub(crate) port: u16,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) log: std::path::PathBuf,
}

impl Server {
    pub(crate) fn start(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_kasdesa"))
            .arg("serve")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("KASDESA_BIND", format!("127.0.0.1:{}", self.port))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("the server starts");
        self.child = Some(child);
    }

    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().expect("SIGKILL");
            c.wait().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub(crate) async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{base}/health/ready")).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come back");
}

/// A small deterministic generator for kill timings (the seed is printed).
fn next(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *seed >> 33
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkill_loses_nothing_acknowledged_and_duplicates_nothing() {
    let kills: usize = std::env::var("KASDESA_CRASH_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(5);
    let dir = tempfile::tempdir().unwrap();
    let (database_url, pg) = fresh_database(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Server {
        child: None,
        port,
        env: vec![
            ("KASDESA_DATABASE_URL".into(), database_url.clone()),
            ("KASDESA_DATA_DIR".into(), dir.path().display().to_string()),
            ("KASDESA_ADMIN_PASSWORD".into(), ADMIN_PASSWORD.into()),
            ("KASDESA_WORKERS".into(), "2".into()),
            ("KASDESA_POOL_TIMEOUT_SECS".into(), "2".into()),
            ("RUST_LOG".into(), "info".into()),
        ],
        log: dir.path().join("server.log"),
    };
    server.start();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    wait_ready(&client, &base).await;

    // Set-up over HTTP, as an administrator and a bank would.
    let post = |path: &str, token: &str, body: serde_json::Value| {
        client.post(format!("{base}/api/v1{path}")).bearer_auth(token).json(&body).send()
    };
    let admin = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let regency: serde_json::Value =
        post("/regencies", &admin, json!({"code": "61.12", "name": "Kubu Raya"})).await.unwrap().json().await.unwrap();
    let village: serde_json::Value = post(
        "/villages",
        &admin,
        json!({"code": "61.12.01.2001", "name": "Desa", "regency_id": regency["id"],
        "bank_account": "1012345678", "cash_limit": "1000000.00"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let vid = village["id"].as_str().unwrap().to_string();
    let bank: serde_json::Value = post("/bank-clients", &admin, json!({"name": "Bank", "village_ids": [vid]}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = bank["client_secret"].as_str().unwrap().to_string();
    let token = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"client_id": bank["client_id"], "client_secret": secret}))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    // Load: each client posts credits; on any failure it retries the same request with the same key.
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let mut workers = Vec::new();
    for w in 0..8 {
        let (client, base, token, vid, stop, acked) =
            (client.clone(), base.clone(), token.clone(), vid.clone(), stop.clone(), acked.clone());
        workers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let key = format!("w{w}-{n}");
                let credit = |reference: &str| {
                    json!({"village_id": vid, "amount": "1.00", "source": "DDS", "bank_reference": reference,
                           "value_date": "2026-04-01", "description": "kredit"})
                };
                // Odd workers send batches of five (acknowledged when the batch's answer arrives), even ones single
                // credits.
                let batch = w % 2 == 1;
                let (path, body, ok) = if batch {
                    let items: Vec<_> = (0..5).map(|i| credit(&format!("{key}-{i}"))).collect();
                    ("bank/credits/batch", json!({"items": items}), 200)
                } else {
                    ("bank/credits", credit(&key), 201)
                };
                // Until acknowledged; bounded so a wedged server fails the test instead of hanging it.
                for attempt in 0..400 {
                    let r = client
                        .post(format!("{base}/api/v1/{path}"))
                        .bearer_auth(&token)
                        .header("Idempotency-Key", &key)
                        .json(&body)
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().as_u16() == ok => {
                            let t: serde_json::Value = r.json().await.unwrap();
                            let posted: Vec<(String, String)> = if batch {
                                t["results"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .map(|item| {
                                        assert_eq!(item["status"], 201, "{t}");
                                        (
                                            item["bank_reference"].as_str().unwrap().to_string(),
                                            item["transaction_id"].as_str().unwrap().to_string(),
                                        )
                                    })
                                    .collect()
                            } else {
                                vec![(key.clone(), t["id"].as_str().unwrap().to_string())]
                            };
                            for (reference, id) in posted {
                                let previous = acked.lock().unwrap().insert(reference, id.clone());
                                assert!(previous.is_none_or(|p| p == id));
                            }
                            break;
                        }
                        Ok(r) => {
                            let status = r.status().as_u16();
                            assert!(
                                status == 503,
                                "only 503 may answer a server in trouble, got {status}: {}",
                                r.text().await.unwrap_or_default()
                            );
                        }
                        Err(_) => {} // the server is down: try again
                    }
                    assert!(attempt < 399, "{key} never acknowledged");
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                n += 1;
            }
        }));
    }

    let mut seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    eprintln!("crash test seed {seed}");
    for _ in 0..kills {
        tokio::time::sleep(Duration::from_millis(150 + next(&mut seed) % 600)).await;
        server.kill();
        tokio::time::sleep(Duration::from_millis(next(&mut seed) % 200)).await;
        server.start();
        wait_ready(&client, &base).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }

    // The books: every acknowledged posting once, nothing else.
    let acked = acked.lock().unwrap().clone();
    let treasurer = {
        post(
            "/users",
            &admin,
            json!({"username": "bendahara", "password": PASSWORD, "role": "treasurer", "village_id": vid}),
        )
        .await
        .unwrap();
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "bendahara", "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/villages/{vid}/transactions?limit=1000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value =
            client.get(url).bearer_auth(&treasurer).send().await.unwrap().json().await.unwrap();
        for t in page["items"].as_array().unwrap() {
            *seen.entry(t["id"].as_str().unwrap().to_string()).or_default() += 1;
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), acked.len(), "no posting without an acknowledged key, none missing");
    for id in acked.values() {
        assert_eq!(seen.get(id), Some(&1), "acknowledged posting {id} present exactly once");
    }
    let verify: serde_json::Value = client
        .get(format!("{base}/api/v1/villages/{vid}/audit/verify"))
        .bearer_auth(&treasurer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verify["ok"], true, "{verify}");
    // Before the postings, four facts: the village's settings, its regency's, the bank client's access and the
    // treasurer.
    assert_eq!(verify["checked"], 4 + acked.len() as i64);
    eprintln!("crash test: {kills} SIGKILLs survived, {} postings acknowledged and verified", acked.len());

    // Secrets never reach the logs.
    server.kill();
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    for secret in [ADMIN_PASSWORD, PASSWORD, secret.as_str(), "$argon2"] {
        assert!(!log.contains(secret), "a secret leaked into the log");
    }
    assert!(!log.is_empty());
    drop(server);
    if let Some((base, name)) = pg {
        if let Ok(mut c) = <diesel::PgConnection as diesel::Connection>::establish(&base) {
            let _ = diesel::connection::SimpleConnection::batch_execute(
                &mut c,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}
