//! Concurrent writers: no gap or duplicate in sequences, no negative cash, one winner per race, one posting per key.

use crate::helpers::*;
use serde_json::{json, Value};
use std::sync::Arc;

const CLIENTS: usize = 32;

async fn seqs(app: &TestApp, v: &Village) -> Vec<i64> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/villages/{}/transactions?limit=1000", v.id);
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&path).token(&v.treasurer).send().await.assert_status(200).clone();
        all.extend(page["items"].as_array().unwrap().iter().map(|t| t["seq"].as_i64().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return all,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_clients_on_one_village_and_on_many() {
    let app = Arc::new(spawn_app().await);
    let regency = app.create_regency("61.12").await;
    let mut villages = Vec::new();
    for i in 0..5 {
        villages.push(Arc::new(app.create_village(&regency, &format!("61.12.01.20{i:02}"), "5000000.00").await));
    }
    const PER_CLIENT: usize = 4;
    let mut handles = Vec::new();
    for client in 0..CLIENTS {
        // Half the clients hammer village 0; the other half spread over the rest.
        let v = if client % 2 == 0 { villages[0].clone() } else { villages[1 + client % 4].clone() };
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let mut ok = 0;
            for n in 0..PER_CLIENT {
                let body = if n == PER_CLIENT - 1 { withdrawal("100.00") } else { receipt("1000.00", "4.2.1.01") };
                let r = app.post_txn(&v, &body).await;
                match r.status.as_u16() {
                    201 => ok += 1,
                    // A withdrawal racing ahead of the receipts may find no money: refused, never negative.
                    422 => assert_eq!(r.code(), "insufficient_funds", "{}", r.body),
                    s => panic!("unexpected {s}: {}", r.body),
                }
            }
            (v.id.clone(), ok)
        }));
    }
    let mut posted: std::collections::HashMap<String, i64> = Default::default();
    for h in handles {
        let (vid, ok) = h.await.unwrap();
        *posted.entry(vid).or_default() += ok;
    }
    for v in &villages {
        let expected = posted.get(&v.id).copied().unwrap_or(0);
        let got = seqs(&app, v).await;
        assert_eq!(got, (1..=expected).collect::<Vec<_>>(), "village {}: gap-free and no duplicates", v.code);
        let report = app.verify(v).await;
        assert_eq!(report["ok"], true, "{report}");
        assert_eq!(report["checked"], v.base + expected);
        for code in ["1.1.1.01", "1.1.1.02"] {
            assert!(!app.balance(v, code).await.starts_with('-'), "{code} negative in {}", v.code);
        }
    }
    assert!(posted[&villages[0].id] >= (CLIENTS / 2 * (PER_CLIENT - 1)) as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_withdrawals_for_the_last_rupiah_have_exact_winners() {
    let app = Arc::new(spawn_app().await);
    let regency = app.create_regency("61.12").await;
    let v = Arc::new(app.create_village(&regency, "61.12.01.2001", "1000000000.00").await);
    app.post_txn(&v, &receipt("10000.00", "4.2.1.01")).await.assert_status(201);
    let mut handles = Vec::new();
    for _ in 0..CLIENTS {
        let (app, v) = (app.clone(), v.clone());
        handles.push(tokio::spawn(async move { app.post_txn(&v, &withdrawal("1000.00")).await }));
    }
    let (mut won, mut lost) = (0, 0);
    for h in handles {
        let r = h.await.unwrap();
        match r.status.as_u16() {
            201 => won += 1,
            _ => {
                r.assert_problem(422, "insufficient_funds");
                lost += 1;
            }
        }
    }
    assert_eq!((won, lost), (10, CLIENTS - 10));
    assert_eq!(app.balance(&v, "1.1.1.02").await, "0.00");
    assert_eq!(app.balance(&v, "1.1.1.01").await, "10000.00");
    assert_eq!(app.verify(&v).await["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_retries_of_one_request_post_once() {
    let app = Arc::new(spawn_app().await);
    let regency = app.create_regency("61.12").await;
    let v = Arc::new(app.create_village(&regency, "61.12.01.2001", "5000000.00").await);
    let body = receipt("123456.78", "4.2.3.01");
    let mut handles = Vec::new();
    for _ in 0..16 {
        let (app, v, body) = (app.clone(), v.clone(), body.clone());
        handles.push(tokio::spawn(async move {
            app.post(&format!("/api/v1/villages/{}/transactions", v.id))
                .token(&v.treasurer)
                .key("one-and-only")
                .json(&body)
                .send()
                .await
        }));
    }
    let mut bodies = Vec::new();
    for h in handles {
        let r = h.await.unwrap();
        assert_eq!(r.status.as_u16(), 201, "{}", r.body);
        bodies.push(r.body);
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "every retry sees the same transaction");
    assert_eq!(seqs(&app, &v).await, vec![1]);
    assert_eq!(app.balance(&v, "1.1.1.02").await, "123456.78");

    // Racing reversals of one transaction: exactly one wins.
    let id = bodies[0]["id"].as_str().unwrap().to_string();
    let mut handles = Vec::new();
    for _ in 0..16 {
        let (app, v, id) = (app.clone(), v.clone(), id.clone());
        handles.push(tokio::spawn(async move {
            app.post(&format!("/api/v1/transactions/{id}/reverse"))
                .token(&v.treasurer)
                .json(&json!({"reason": "balapan"}))
                .send()
                .await
        }));
    }
    let mut winners = 0;
    for h in handles {
        let r = h.await.unwrap();
        if r.status.as_u16() == 201 {
            winners += 1;
        } else {
            r.assert_problem(409, "already_reversed");
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(app.balance(&v, "1.1.1.02").await, "0.00");
    assert_eq!(app.verify(&v).await["ok"], true);
}

/// Bank credits read the village's balances and the bank reference together with the village lock. Many clients
/// crediting one village (so most wait for the lock) must still add up exactly, and one bank reference sent under
/// different keys at once must post once, every sender getting that one posting.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bank_credits_to_one_village_add_up() {
    let app = Arc::new(spawn_app().await);
    let regency = app.create_regency("61.12").await;
    let v = Arc::new(app.create_village(&regency, "61.12.01.2001", "5000000.00").await);
    let bank = Arc::new(app.bank(&[&v.id]).await);
    const PER_CLIENT: usize = 4;
    let mut handles = Vec::new();
    for client in 0..CLIENTS {
        let (app, v, bank) = (app.clone(), v.clone(), bank.clone());
        handles.push(tokio::spawn(async move {
            let mut shared = None;
            for n in 0..=PER_CLIENT {
                // The last one of each client is the same bank transaction as every other client's last one.
                let (reference, amount) = if n == PER_CLIENT {
                    ("CR-SHARED".to_string(), "5.00")
                } else {
                    (format!("CR-{client}-{n}"), "1000.00")
                };
                let r = app
                    .post("/api/v1/bank/credits")
                    .token(&bank)
                    .key(&format!("key-{client}-{n}"))
                    .json(&json!({"village_id": v.id, "amount": amount, "source": "DDS", "bank_reference": reference,
                                  "value_date": "2026-04-01", "description": "Penyaluran dana"}))
                    .send()
                    .await;
                assert_eq!(r.status.as_u16(), 201, "{}", r.body);
                if n == PER_CLIENT {
                    shared = Some(r.body["id"].as_str().unwrap().to_string());
                }
            }
            shared.unwrap()
        }));
    }
    let mut shared_ids = std::collections::BTreeSet::new();
    for h in handles {
        shared_ids.insert(h.await.unwrap());
    }
    assert_eq!(shared_ids.len(), 1, "one posting for the shared bank reference: {shared_ids:?}");
    let expected = CLIENTS * PER_CLIENT + 1;
    assert_eq!(seqs(&app, &v).await, (1..=expected as i64).collect::<Vec<_>>());
    assert_eq!(app.balance(&v, "1.1.1.02").await, format!("{}.00", CLIENTS * PER_CLIENT * 1000 + 5));
    assert_eq!(app.balance(&v, "4.2.1.01").await, format!("{}.00", CLIENTS * PER_CLIENT * 1000 + 5));
    let report = app.verify(&v).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["balance_mismatches"], json!([]));
}

/// Concurrent single credits to many villages (on PostgreSQL coalesced into groups written in one database
/// transaction each, `store/coalesce.rs`), each answered as it would be alone: a reference already credited with
/// other figures refused, one Idempotency-Key sent by every client to different villages posted once and refused
/// for the rest, a retry replayed with the first answer, credits dated in a year not yet open; every village's books
/// hold exactly what was acknowledged, in a gap-free chain that verifies. On PostgreSQL `/metrics` shows that groups
/// of several credits were written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_credits_to_many_villages_are_each_answered_as_alone() {
    let app = Arc::new(spawn_app().await);
    let regency = app.create_regency("61.12").await;
    let mut villages = Vec::new();
    for i in 0..6 {
        villages.push(app.create_village(&regency, &format!("61.12.01.20{i:02}"), "5000000.00").await);
    }
    let ids: Vec<&str> = villages.iter().map(|v| v.id.as_str()).collect();
    let bank = Arc::new(app.bank(&ids).await);
    let credit = |v: &str, reference: &str, amount: &str| {
        json!({"village_id": v, "amount": amount, "source": "DDS", "bank_reference": reference,
               "value_date": "2026-04-01", "description": "Penyaluran dana"})
    };
    for v in &villages {
        let body = credit(&v.id, &format!("DUP-{}", v.id), "7.00");
        app.post("/api/v1/bank/credits")
            .token(&bank)
            .key(&format!("first-{}", v.id))
            .json(&body)
            .send()
            .await
            .assert_status(201);
    }
    let villages = Arc::new(villages);
    const PER_CLIENT: usize = 6;
    let mut handles = Vec::new();
    for client in 0..CLIENTS {
        let (app, villages, bank) = (app.clone(), villages.clone(), bank.clone());
        handles.push(tokio::spawn(async move {
            // (village index, amount in rupiah) of each credit this client was told was posted.
            let mut posted: Vec<(usize, i64)> = Vec::new();
            let mut shared_key_won = false;
            for n in 0..PER_CLIENT {
                let vi = (client + n) % villages.len();
                let v = &villages[vi].id;
                let send = |key: String, body: Value| {
                    let (app, bank) = (app.clone(), bank.clone());
                    async move { app.post("/api/v1/bank/credits").token(&bank).key(&key).json(&body).send().await }
                };
                match n {
                    // A reference the village already received, with other figures: refused alone.
                    0 => send(format!("dup-{client}"), credit(v, &format!("DUP-{v}"), "8.00"))
                        .await
                        .assert_problem(409, "conflict"),
                    // The same key from every client, each to its own credit: one is posted, the rest refused.
                    1 => {
                        let r = send("one-key".into(), credit(v, &format!("ONE-{client}"), "3.00")).await;
                        if r.status.as_u16() == 201 {
                            shared_key_won = true;
                            posted.push((vi, 3));
                        } else {
                            r.assert_problem(409, "idempotency_conflict");
                        }
                    }
                    // Dated in the year before, which no credit has opened yet: the first to open it goes alone.
                    5 => {
                        let mut body = credit(v, &format!("LAST-{client}"), "500.00");
                        body["value_date"] = json!("2025-12-15");
                        send(format!("last-{client}"), body).await.assert_status(201);
                        posted.push((vi, 500));
                    }
                    _ => {
                        let key = format!("k-{client}-{n}");
                        let body = credit(v, &format!("CR-{client}-{n}"), "1000.00");
                        let first = send(key.clone(), body.clone()).await;
                        let id = first.assert_status(201)["id"].clone();
                        posted.push((vi, 1000));
                        if n % 2 == 0 {
                            // The bank's retry: the first answer again, nothing posted twice.
                            let again = send(key, body).await;
                            assert_eq!(again.assert_status(201)["id"], id);
                        }
                    }
                }
            }
            (posted, shared_key_won)
        }));
    }
    let mut expected = vec![7i64; villages.len()];
    let mut count = vec![1usize; villages.len()];
    let mut winners = 0;
    for h in handles {
        let (posted, won) = h.await.unwrap();
        winners += usize::from(won);
        for (vi, amount) in posted {
            expected[vi] += amount;
            count[vi] += 1;
        }
    }
    assert_eq!(winners, 1, "one credit posted under the key every client used");
    for (vi, v) in villages.iter().enumerate() {
        assert_eq!(app.balance(v, "1.1.1.02").await, format!("{}.00", expected[vi]), "village {vi}");
        assert_eq!(seqs(&app, v).await, (1..=count[vi] as i64).collect::<Vec<_>>(), "village {vi}");
        let report = app.verify(v).await;
        assert_eq!(report["ok"], true, "{report}");
    }
    if pg_base_url().is_some() {
        let text = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
        let counter = |name: &str| -> f64 {
            text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok()).unwrap()
        };
        let (groups, writes) =
            (counter("kasdesa_pg_credit_groups_total"), counter("kasdesa_pg_credit_group_writes_total"));
        assert!(writes >= (CLIENTS * PER_CLIENT) as f64, "every credit went through the groups: {writes}");
        assert!(groups < writes, "32 concurrent clients formed groups of several credits: {groups} for {writes}");
    }
}

/// Two instances of the service on one database, driven alternately (as behind a load balancer): an
/// Idempotency-Key used on one is replayed by the other, and concurrent credits through both land once each, in
/// one gap-free chain.
#[tokio::test]
async fn two_instances_share_idempotency_and_one_chain() {
    let app = spawn_app().await;
    let second = spawn_second_instance(&app).await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let bank = app.bank(&[&v.id]).await;
    let body = |i: usize| {
        serde_json::json!({"village_id": v.id, "amount": format!("{}.00", 1000 + i), "source": "DDS",
                           "bank_reference": format!("ALT-{i}"), "value_date": "2026-04-01", "description": "Dana Desa"})
    };
    let send = |base: String, i: usize, key: String| {
        let client = app.client.clone();
        let bank = bank.clone();
        let b = body(i);
        async move {
            let r = client
                .post(format!("{base}/api/v1/bank/credits"))
                .bearer_auth(bank)
                .header("idempotency-key", key)
                .json(&b)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let replayed = r.headers().get("idempotent-replayed").is_some();
            (status, replayed, r.json::<serde_json::Value>().await.unwrap())
        }
    };
    // The same key on the second instance replays the first's answer.
    let (s1, _, first) = send(app.base.clone(), 0, "alt-key-0".into()).await;
    let (s2, replayed, again) = send(second.clone(), 0, "alt-key-0".into()).await;
    assert_eq!((s1, s2, replayed), (201, 201, true));
    assert_eq!(first, again);
    // Forty credits at once, alternating between the instances.
    let mut tasks = Vec::new();
    for i in 1..=40 {
        let base = if i % 2 == 0 { app.base.clone() } else { second.clone() };
        tasks.push(tokio::spawn(send(base, i, format!("alt-key-{i}"))));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().0, 201);
    }
    let expected: usize = (0..=40).map(|i| 1000 + i).sum();
    assert_eq!(app.balance(&v, "1.1.1.02").await, format!("{expected}.00"));
    let report = app.verify(&v).await;
    assert_eq!((report["ok"].as_bool(), report["checked"].as_i64()), (Some(true), Some(v.base + 1 + 41)), "{report}");
    // (the village's first facts, the bank client's access, and the forty-one credits)
}

/// The regency's reports read the standby (`database_read_url`) while it is up and current enough, and the
/// primary otherwise; a village's own books always read the primary. Here the "standby" is the primary's own
/// database (not in recovery: current by definition), and then a port where nothing listens (down: the primary).
#[tokio::test]
async fn the_regency_reports_read_the_standby_while_it_is_up_and_the_primary_when_it_is_not() {
    let replica_reads = |metrics: &str| -> u64 {
        metrics.lines().find_map(|l| l.strip_prefix("kasdesa_replica_reads_total ")).unwrap().trim().parse().unwrap()
    };
    // Down: a port nothing listens on. The report still answers, from the primary.
    let app = spawn_app_with(|s| {
        s.database_read_url = "postgres://postgres@127.0.0.1:1/none?connect_timeout=1".into();
        s.pool_timeout_secs = 1;
    })
    .await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.post_txn(&v, &receipt("1000.00", "4.2.1.01")).await.assert_status(201);
    let inspector = app.inspector(&regency, "inspektorat").await;
    let path = format!("/api/v1/regencies/{regency}/reports/realisation?year=2026");
    let r = app.get(&path).token(&inspector).send().await;
    assert!(r.assert_status(200).to_string().contains("1000.00"), "{}", r.body);
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(replica_reads(&metrics), 0, "nothing was read from a standby that is down");

    // Up (PostgreSQL only: the standby of an SQLite primary is not a thing).
    let Some(_) = pg_base_url() else { return };
    let app = spawn_app_with(|s| s.database_read_url = s.database_url.clone()).await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.post_txn(&v, &receipt("1000.00", "4.2.1.01")).await.assert_status(201);
    let inspector = app.inspector(&regency, "inspektorat").await;
    let r =
        app.get(&format!("/api/v1/regencies/{regency}/reports/realisation?year=2026")).token(&inspector).send().await;
    assert!(r.assert_status(200).to_string().contains("1000.00"), "the standby holds the posting: {}", r.body);
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert_eq!(replica_reads(&metrics), 1, "the regency's report read the standby");
}
