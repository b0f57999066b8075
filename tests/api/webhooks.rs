//! Push instead of poll: a bank client's webhook gets `transfer.released` from a durable outbox written with the
//! release, signed, at least once, in order per village, with retries; a SIGKILL between the release's commit and
//! the delivery loses nothing. Receivers listen on 127.0.0.1 only.

use crate::crash::{wait_ready, Server};
use crate::helpers::*;
use crate::workflow_helpers::*;
use base64::Engine;
use ed25519_dalek::Verifier;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request the receiver got, and what it answered.
#[derive(Debug, Clone)]
struct Got {
    headers: HashMap<String, String>,
    body: String,
    answered: u16,
}

/// A webhook receiver on 127.0.0.1 that answers 500 to its first `fail_first` requests and 200 after.
async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Vec<Got>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}/kasdesa/events", listener.local_addr().unwrap().port());
    let got: Arc<Mutex<Vec<Got>>> = Arc::default();
    let seen = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let (head, body) = loop {
                let n = s.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break (String::new(), String::new());
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let head = text[..end].to_string();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + length {
                        break (head, String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).to_string());
                    }
                }
            };
            if head.is_empty() {
                continue;
            }
            let headers: HashMap<String, String> = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())))
                .collect();
            let answered = {
                let mut g = seen.lock().unwrap();
                let answered = if g.len() < fail_first { 500 } else { 200 };
                g.push(Got { headers, body, answered });
                answered
            };
            let reply = format!("HTTP/1.1 {answered} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = s.write_all(reply.as_bytes()).await;
        }
    });
    (url, got)
}

async fn wait_for(got: &Arc<Mutex<Vec<Got>>>, delivered: usize, secs: u64) -> Vec<Got> {
    for _ in 0..secs * 10 {
        let g = got.lock().unwrap().clone();
        if g.iter().filter(|x| x.answered == 200).count() >= delivered {
            return g;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not delivered in {secs} s: {:?}", got.lock().unwrap());
}

/// A bank client with a webhook, logged in: (its id, its token).
async fn bank_with_webhook(app: &TestApp, villages: &[&str], url: &str) -> (String, String) {
    let created = app
        .post("/api/v1/bank-clients")
        .token(&app.admin_token)
        .json(&json!({"name": "Bank Kalbar", "village_ids": villages, "webhook_url": url}))
        .send()
        .await;
    let c = created.assert_status(201).clone();
    let t = app
        .post("/api/v1/auth/token")
        .json(&json!({"client_id": c["client_id"], "client_secret": c["client_secret"]}))
        .send()
        .await;
    (c["id"].as_str().unwrap().to_string(), t.assert_status(200)["access_token"].as_str().unwrap().to_string())
}

async fn approved_requests(app: &TestApp, v: &Village, bank: &str, n: usize) -> Vec<String> {
    app.adopt_budget(v, &standard_budget()).await;
    app.credit(bank, v, "100000000.00", "DDS", &format!("DDS-{}", v.code)).await.assert_status(201);
    let mut ids = Vec::new();
    for i in 0..n {
        let mut body = spp("5.2.1.07", "02.03.10", "DDS", &format!("{}00000.00", i + 1), json!([]));
        body["payee"]["name"] = json!(format!("Penerima {i}"));
        let p = app.draft(v, &body).await;
        app.approve_chain(v, &p).await;
        ids.push(p);
    }
    ids
}

fn verify_signature(key: &Value, g: &Got) {
    let raw: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(key["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let public = ed25519_dalek::VerifyingKey::from_bytes(&raw).unwrap();
    let sig: [u8; 64] = base64::engine::general_purpose::STANDARD
        .decode(&g.headers["x-kasdesa-signature"])
        .unwrap()
        .try_into()
        .unwrap();
    let signed = format!("{}.{}", g.headers["x-kasdesa-timestamp"], g.body);
    public.verify(signed.as_bytes(), &ed25519_dalek::Signature::from_bytes(&sig)).expect("a valid webhook signature");
}

#[tokio::test]
async fn released_transfers_are_pushed_signed_in_order_and_retried() {
    let app = spawn_app_with(|s| s.webhook_poll_ms = 100).await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let (url, got) = receiver(3).await;
    let (client_id, bank) = bank_with_webhook(&app, &[&v.id], &url).await;
    let ids = approved_requests(&app, &v, &bank, 3).await;
    for p in &ids {
        app.act(&v.treasurer, p, "release", None).await.assert_status(200);
    }
    // The first event fails three times (retried after 1 s, 2 s, 4 s) and holds the others back: order per village.
    let all = wait_for(&got, 3, 30).await;
    let delivered: Vec<&Got> = all.iter().filter(|g| g.answered == 200).collect();
    let order: Vec<String> = delivered
        .iter()
        .map(|g| {
            serde_json::from_str::<Value>(&g.body).unwrap()["transfer"]["payment_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(order, ids, "delivered in the order of release");
    assert_eq!(all[0].headers["x-kasdesa-delivery"], all[3].headers["x-kasdesa-delivery"], "the retries are one event");
    let first: Value = serde_json::from_str(&delivered[0].body).unwrap();
    assert_eq!(first["event"], "transfer.released");
    assert_eq!(first["transfer"]["amount"], "100000.00");
    assert_eq!(first["transfer"]["payee"]["name"], "Penerima 0");
    // Signed with the published key.
    let key = app.get("/api/v1/webhooks/key").send().await;
    let key = key.assert_status(200).clone();
    for g in &all {
        assert_eq!(g.headers["x-kasdesa-event"], "transfer.released");
        verify_signature(&key, g);
    }
    // The attempts, as the bank (and the administrator) see them.
    let d = app.get(&format!("/api/v1/bank-clients/{client_id}/deliveries")).token(&bank).send().await;
    let items = d.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3);
    let oldest = items.last().unwrap();
    let statuses: Vec<i64> =
        oldest["attempts"].as_array().unwrap().iter().map(|a| a["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, vec![500, 500, 500, 200]);
    assert!(oldest["delivered_at"].is_string());
    // Other banks' clients and village officials see nothing of them.
    app.get(&format!("/api/v1/bank-clients/{client_id}/deliveries"))
        .token(&v.treasurer)
        .send()
        .await
        .assert_problem(404, "not_found");
    // A URL that is neither https nor this machine is refused.
    let r = app
        .req(reqwest::Method::PATCH, &format!("/api/v1/bank-clients/{client_id}"))
        .token(&app.admin_token)
        .json(&json!({"webhook_url": "http://10.0.0.5/hook"}))
        .send()
        .await;
    r.assert_problem(422, "validation_failed");
}

#[tokio::test]
async fn a_sigkill_between_the_release_and_its_delivery_loses_no_event() {
    // The world, built in-process with no delivery at all.
    let app = spawn_app_with(|s| s.webhook_poll_ms = 0).await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let (url, got) = receiver(0).await;
    let (_, bank) = bank_with_webhook(&app, &[&v.id], &url).await;
    let ids = approved_requests(&app, &v, &bank, 4).await;
    // The releases go through the real binary, which never delivers (poll 0); once they are acknowledged it is
    // killed with SIGKILL.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Server {
        child: None,
        port,
        env: vec![
            ("KASDESA_DATABASE_URL".into(), app.database_url.clone()),
            ("KASDESA_DATA_DIR".into(), app.data_dir.path().display().to_string()),
            ("KASDESA_WEBHOOK_POLL_MS".into(), "0".into()),
            ("KASDESA_CHECKPOINT_INTERVAL_SECS".into(), "0".into()),
            ("KASDESA_WORKERS".into(), "1".into()),
            ("RUST_LOG".into(), "warn".into()),
        ],
        log: app.data_dir.path().join("killed.log"),
    };
    server.start();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&app.client, &base).await;
    for p in &ids {
        let r = app
            .client
            .post(format!("{base}/api/v1/payments/{p}/release"))
            .bearer_auth(&v.treasurer)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
    server.kill();
    assert!(got.lock().unwrap().is_empty(), "nothing was delivered before the kill");
    // Another instance on the same database delivers every event, in order.
    let _second = spawn_second_instance(&app).await;
    let all = wait_for(&got, 4, 20).await;
    let order: Vec<String> = all
        .iter()
        .map(|g| {
            serde_json::from_str::<Value>(&g.body).unwrap()["transfer"]["payment_id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(order, ids);
}
