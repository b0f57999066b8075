//! Signed bank requests (SNAP conventions): a bank client with a registered RSA key must sign every request; its
//! headers are checked; an external id is used once a day; the bank's result may say who executed the transfer.

use crate::helpers::*;
use crate::workflow_helpers::*;
use base64::Engine;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const PRIVATE: &str = include_str!("../fixtures/snap-test-bank.key");
const PUBLIC: &str = include_str!("../fixtures/snap-test-bank.pub");
const TOO_SMALL: &str = include_str!("../fixtures/snap-too-small-1024.pub");
/// Another bank's public key: a request signed with ours does not verify with it.
const OTHER: &str = include_str!("../fixtures/snap-other-bank.pub");

/// What a bank's integration signs and sends.
struct Signed {
    timestamp: String,
    partner: String,
    external_id: String,
    signature: String,
}

fn now_wib(offset_secs: i64) -> String {
    let t = chrono::Utc::now() + chrono::Duration::seconds(offset_secs);
    t.with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).unwrap())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn sign(method: &str, path: &str, body: &[u8], timestamp: &str, partner: &str, external_id: &str) -> Signed {
    let text = format!("{method}:{path}:{}:{timestamp}", hex::encode(Sha256::digest(body)));
    let key = rsa::pkcs1v15::SigningKey::<Sha256>::new(rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE).unwrap());
    let signature = base64::engine::general_purpose::STANDARD.encode(key.sign(text.as_bytes()).to_bytes());
    Signed { timestamp: timestamp.into(), partner: partner.into(), external_id: external_id.into(), signature }
}

async fn send(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: &[u8],
    s: Option<&Signed>,
    key: Option<&str>,
) -> Resp {
    let mut r = app.client.request(method, format!("{}{path}", app.base)).bearer_auth(token).body(body.to_vec());
    if !body.is_empty() {
        r = r.header("content-type", "application/json");
    }
    if let Some(k) = key {
        r = r.header("idempotency-key", k);
    }
    if let Some(s) = s {
        r = r
            .header("x-timestamp", &s.timestamp)
            .header("x-partner-id", &s.partner)
            .header("x-external-id", &s.external_id)
            .header("x-signature", &s.signature);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    Resp { status, headers, body }
}

#[tokio::test]
async fn a_client_with_a_key_must_sign_every_request() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    // A key too small is refused; a good one registered.
    let small = app
        .post("/api/v1/bank-clients")
        .token(&app.admin_token)
        .json(&json!({"name": "Bank Lemah", "village_ids": [v.id], "public_key": TOO_SMALL}))
        .send()
        .await;
    small.assert_problem(422, "validation_failed");
    assert!(small.body["detail"].as_str().unwrap().contains("2048"), "{}", small.body);
    let created = app
        .post("/api/v1/bank-clients")
        .token(&app.admin_token)
        .json(&json!({"name": "Bank Kalbar", "village_ids": [v.id], "public_key": PUBLIC}))
        .send()
        .await;
    let created = created.assert_status(201).clone();
    let (id, client) =
        (created["id"].as_str().unwrap().to_string(), created["client_id"].as_str().unwrap().to_string());
    let login = app
        .post("/api/v1/auth/token")
        .json(&json!({"client_id": client, "client_secret": created["client_secret"]}))
        .send()
        .await;
    let token = login.assert_status(200)["access_token"].as_str().unwrap().to_string();

    // Unsigned: refused, saying what is missing.
    let r = send(&app, &token, reqwest::Method::GET, "/api/v1/bank/transfers", b"", None, None).await;
    r.assert_problem(401, "unauthorized");
    assert!(r.body["detail"].as_str().unwrap().contains("X-TIMESTAMP"), "{}", r.body);
    // Signed: served. The path signed includes the query string.
    let path = "/api/v1/bank/transfers?status=released";
    let s = sign("GET", path, b"", &now_wib(0), &client, "ext-0001");
    send(&app, &token, reqwest::Method::GET, path, b"", Some(&s), None).await.assert_status(200);
    // A credit, signed over its exact bytes.
    let body = serde_json::to_vec(&json!({"village_id": v.id, "amount": "25000000.00", "source": "DDS",
        "bank_reference": "DDS-2026-01", "value_date": "2026-04-01", "description": "Penyaluran Dana Desa"}))
    .unwrap();
    let s = sign("POST", "/api/v1/bank/credits", &body, &now_wib(0), &client, "ext-0002");
    send(&app, &token, reqwest::Method::POST, "/api/v1/bank/credits", &body, Some(&s), Some("k-1"))
        .await
        .assert_status(201);
    // The same external id again the same day: 409, whatever else is right.
    let s = sign("POST", "/api/v1/bank/credits", &body, &now_wib(0), &client, "ext-0002");
    send(&app, &token, reqwest::Method::POST, "/api/v1/bank/credits", &body, Some(&s), Some("k-2"))
        .await
        .assert_problem(409, "conflict");
    // A body changed after signing, a stale or future timestamp, another partner id: 401.
    let s = sign("POST", "/api/v1/bank/credits", &body, &now_wib(0), &client, "ext-0003");
    let mut changed = body.clone();
    let at = changed.iter().position(|b| *b == b'2').unwrap();
    changed[at] = b'9';
    let r = send(&app, &token, reqwest::Method::POST, "/api/v1/bank/credits", &changed, Some(&s), Some("k-3")).await;
    r.assert_problem(401, "unauthorized");
    assert!(r.body["detail"].as_str().unwrap().contains("X-SIGNATURE"));
    for (ts, partner, ext) in [
        (now_wib(-400), client.as_str(), "ext-0004"),
        (now_wib(400), client.as_str(), "ext-0005"),
        (now_wib(0), "bank_lain", "ext-0006"),
    ] {
        let s = sign("POST", "/api/v1/bank/credits", &body, &ts, partner, ext);
        send(&app, &token, reqwest::Method::POST, "/api/v1/bank/credits", &body, Some(&s), Some(ext))
            .await
            .assert_problem(401, "unauthorized");
    }
    // A token of this client without the `signed` hint (as tokens were issued before it existed): an unsigned
    // request is still refused, by the check under the credit's lock or by the extractor; signed, it is served.
    let mut claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["signed"], true, "a keyed client's token says its requests are signed");
    claims.as_object_mut().unwrap().remove("signed");
    let jwt_key = std::fs::read(app.data_dir.path().join("jwt.key")).unwrap();
    let hintless = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&jwt_key),
    )
    .unwrap();
    let other = serde_json::to_vec(&json!({"village_id": v.id, "amount": "1.00", "source": "DDS",
        "bank_reference": "DDS-HINT", "value_date": "2026-04-01", "description": "Tanpa tanda tangan"}))
    .unwrap();
    for (method, path, body, key) in [
        (reqwest::Method::POST, "/api/v1/bank/credits", other.as_slice(), Some("k-hint")),
        (reqwest::Method::GET, "/api/v1/bank/transfers", b"".as_slice(), None),
    ] {
        let r = send(&app, &hintless, method, path, body, None, key).await;
        r.assert_problem(401, "unauthorized");
        assert!(r.body["detail"].as_str().unwrap().contains("X-SIGNATURE"), "{}", r.body);
    }
    let s = sign("POST", "/api/v1/bank/credits", &other, &now_wib(0), &client, "ext-0007");
    send(&app, &hintless, reqwest::Method::POST, "/api/v1/bank/credits", &other, Some(&s), Some("k-hint"))
        .await
        .assert_status(201);
    // Nothing refused was posted: two credits.
    assert_eq!(app.balance(&v, "1.1.1.02").await, "25000001.00");

    // The key rotated to another bank's: what this key signs no longer verifies (and the old token has ended).
    let rotated = app
        .req(reqwest::Method::PATCH, &format!("/api/v1/bank-clients/{id}"))
        .token(&app.admin_token)
        .json(&json!({"public_key": OTHER}))
        .send()
        .await;
    assert_eq!(rotated.assert_status(200)["signs_requests"], true);
    let s = sign("GET", "/api/v1/bank/transfers", b"", &now_wib(0), &client, "ext-0010");
    send(&app, &token, reqwest::Method::GET, "/api/v1/bank/transfers", b"", Some(&s), None)
        .await
        .assert_problem(401, "unauthorized");
    let login = app
        .post("/api/v1/auth/token")
        .json(&json!({"client_id": client, "client_secret": created["client_secret"]}))
        .send()
        .await;
    let token = login.assert_status(200)["access_token"].as_str().unwrap().to_string();
    let s = sign("GET", "/api/v1/bank/transfers", b"", &now_wib(0), &client, "ext-0011");
    let r = send(&app, &token, reqwest::Method::GET, "/api/v1/bank/transfers", b"", Some(&s), None).await;
    r.assert_problem(401, "unauthorized");
    assert!(r.body["detail"].as_str().unwrap().contains("X-SIGNATURE"), "signed with the wrong key: {}", r.body);

    // The key rotated to none: the token ends; a new one works unsigned (the plain bearer flow).
    let patch = app
        .req(reqwest::Method::PATCH, &format!("/api/v1/bank-clients/{id}"))
        .token(&app.admin_token)
        .json(&json!({"public_key": null}))
        .send()
        .await;
    assert_eq!(patch.assert_status(200)["signs_requests"], false);
    send(&app, &token, reqwest::Method::GET, "/api/v1/bank/transfers", b"", None, None)
        .await
        .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn the_bank_says_who_executed_the_transfer_and_the_trail_keeps_it() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "50000000.00", "DDS", "DDS-1").await.assert_status(201);
    let p = app.draft(&v, &materials_spp()).await;
    app.approve_chain(&v, &p).await;
    app.act(&v.treasurer, &p, "release", None).await.assert_status(200);
    let t = app.transfer_of(&bank, &p).await;
    let result = json!({"status": "paid", "bank_reference": "TRF-1", "value_date": "2026-04-10",
                        "executed_by": "H. Abdul Rahman (Kepala Desa)"});
    let settled = app.bank_result(&bank, t["id"].as_str().unwrap(), "res-1", &result).await;
    assert_eq!(settled.assert_status(200)["transfer"]["executed_by"], "H. Abdul Rahman (Kepala Desa)");
    let trail = app.get(&format!("/api/v1/payments/{p}/trail")).token(&v.secretary).send().await;
    let trail = trail.assert_status(200).to_string();
    assert!(trail.contains("dieksekusi di bank oleh H. Abdul Rahman (Kepala Desa)"), "{trail}");
    assert_eq!(app.verify(&v).await["ok"], true, "the note is chained with the event");
}
