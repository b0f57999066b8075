use crate::helpers::*;
use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use serde_json::{json, Value};

fn b64(v: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
}

fn decode_payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn login_answers_the_same_for_unknown_user_and_wrong_password() {
    let app = spawn_app().await;
    let wrong =
        app.post("/api/v1/auth/login").json(&json!({"username": "admin", "password": "nope-nope-nope"})).send().await;
    wrong.assert_problem(401, "unauthorized");
    let unknown =
        app.post("/api/v1/auth/login").json(&json!({"username": "ghost", "password": "nope-nope-nope"})).send().await;
    unknown.assert_problem(401, "unauthorized");
    assert_eq!(wrong.body, unknown.body);
    app.post("/api/v1/auth/login")
        .json(&json!({"username": "admin"}))
        .send()
        .await
        .assert_problem(422, "validation_failed");

    let ok =
        app.post("/api/v1/auth/login").json(&json!({"username": "admin", "password": ADMIN_PASSWORD})).send().await;
    let body = ok.assert_status(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let claims = decode_payload(body["access_token"].as_str().unwrap());
    for claim in ["sub", "role", "exp", "iat", "nbf", "iss", "aud"] {
        assert!(!claims[claim].is_null(), "claim {claim} missing: {claims}");
    }
    assert_eq!(claims["role"], "admin");

    // Bank clients: a good secret works, a wrong one does not, and the token is scoped to its villages.
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "1000.00").await;
    let created = app
        .post("/api/v1/bank-clients")
        .token(&app.admin_token)
        .json(&json!({"name": "Bank Kalbar", "village_ids": [v.id]}))
        .send()
        .await;
    let created = created.assert_status(201).clone();
    let bad = app
        .post("/api/v1/auth/token")
        .json(&json!({"client_id": created["client_id"], "client_secret": "wrong"}))
        .send()
        .await;
    bad.assert_problem(401, "unauthorized");
    let good = app
        .post("/api/v1/auth/token")
        .json(&json!({"client_id": created["client_id"], "client_secret": created["client_secret"]}))
        .send()
        .await;
    let claims = decode_payload(good.assert_status(200)["access_token"].as_str().unwrap());
    assert_eq!(claims["role"], "bank");
    assert_eq!(claims["village_ids"], json!([v.id]));
    // Users never see password hashes.
    let u = app
        .post("/api/v1/users")
        .token(&app.admin_token)
        .json(&json!({"username": "someone", "password": PASSWORD, "role": "inspector", "regency_id": regency}))
        .send()
        .await;
    let text = u.assert_status(201).to_string();
    assert!(!text.contains("argon2") && !text.contains(PASSWORD), "{text}");
}

#[tokio::test]
async fn forged_and_malformed_tokens_are_401() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "1000.00").await;
    let path = format!("/api/v1/villages/{}/accounts", v.id);
    app.get(&path).token(&v.treasurer).send().await.assert_status(200);

    let key = std::fs::read(app.data_dir.path().join("jwt.key")).unwrap();
    let good = decode_payload(&v.treasurer);
    let now = jsonwebtoken::get_current_timestamp();
    let sign =
        |claims: &Value, secret: &[u8]| encode(&Header::default(), claims, &EncodingKey::from_secret(secret)).unwrap();
    let with = |field: &str, value: Value| {
        let mut c = good.clone();
        c[field] = value;
        c
    };
    let without = |field: &str| {
        let mut c = good.clone();
        c.as_object_mut().unwrap().remove(field);
        c
    };

    let mut attacks: Vec<(&str, String)> = vec![
        ("expired", sign(&with("exp", json!(now - 3600)), &key)),
        ("not yet valid", sign(&with("nbf", json!(now + 3600)), &key)),
        ("wrong audience", sign(&with("aud", json!("someone-else")), &key)),
        ("wrong issuer", sign(&with("iss", json!("evil")), &key)),
        ("no exp", sign(&without("exp"), &key)),
        ("no aud", sign(&without("aud"), &key)),
        ("no sub", sign(&without("sub"), &key)),
        ("re-signed with another key", sign(&good, b"another-key-another-key-another-key-1234")),
        ("role escalated, old signature", {
            let parts: Vec<&str> = v.treasurer.split('.').collect();
            format!("{}.{}.{}", parts[0], b64(with("role", json!("admin")).to_string().as_bytes()), parts[2])
        }),
        ("alg none", format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(good.to_string().as_bytes()))),
        (
            "HS512 with the right key",
            encode(&Header::new(jsonwebtoken::Algorithm::HS512), &good, &EncodingKey::from_secret(&key)).unwrap(),
        ),
        ("garbage", "not-a-token".into()),
        ("empty", "".into()),
        ("village role without village", sign(&without("village_id"), &key)),
    ];
    attacks
        .push(("scope of another village", sign(&with("village_id", json!(uuid::Uuid::now_v7().to_string())), &key)));

    for (what, token) in &attacks {
        let r = app.get(&path).header("authorization", &format!("Bearer {token}")).send().await;
        // "scope of another village" is correctly signed, but its scope is not the user's: refused like the rest
        // (every token is checked against the user it names).
        assert_eq!(r.status.as_u16(), 401, "{what}: {}", r.body);
        assert_eq!(r.code(), "unauthorized", "{what}");
        assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer");
    }
    app.get(&path).send().await.assert_problem(401, "unauthorized");
    app.get(&path).header("authorization", "Basic YWRtaW46YWRtaW4=").send().await.assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn health_docs_and_metrics_need_no_token() {
    let app = spawn_app().await;
    let live = app.get("/health/live").send().await;
    assert_eq!(live.assert_status(200)["status"], "ok");
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.assert_status(200)["status"], "ready");
    assert!(ready.headers.get("x-request-id").is_some());
    assert_eq!(ready.headers.get("x-content-type-options").unwrap(), "nosniff");
    let doc = app.get("/api/v1/openapi.json").send().await;
    let doc = doc.assert_status(200).clone();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/villages/{id}/transactions",
        "/api/v1/transactions/{id}/reverse",
        "/api/v1/auth/login",
        "/api/v1/villages/{id}/audit/verify",
        "/api/v1/bank-clients",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    // A body that is not JSON is 400 wherever a body is taken.
    assert!(doc["paths"]["/api/v1/villages/{id}/transactions"]["post"]["responses"]["400"].is_object());
    assert!(doc["paths"]["/api/v1/payments/{id}/submit"]["post"]["responses"]["400"].is_object());
    assert!(doc["paths"]["/api/v1/villages/{id}/transactions"]["get"]["responses"]["400"].is_null());
    let ui = app.client.get(format!("{}/docs/", app.base)).send().await.unwrap();
    assert_eq!(ui.status().as_u16(), 200);
    assert!(ui.text().await.unwrap().contains("swagger"), "Swagger UI is served from the binary");
    let metrics = app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("kasdesa_http_requests_total"));
}

/// SQLite's group writer shows its commits, the writes they held and its busy time; PostgreSQL has no such writer.
#[tokio::test]
async fn metrics_show_the_sqlite_writers_groups() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let counter = |text: &str, name: &str| -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    };
    let read = || async { app.client.get(format!("{}/metrics", app.base)).send().await.unwrap().text().await.unwrap() };
    let before = read().await;
    let path = format!("/api/v1/villages/{}/transactions", v.id);
    for n in 0..3 {
        let key = format!("metrics-{n}");
        app.post(&path)
            .token(&v.treasurer)
            .key(&key)
            .json(&receipt("10.00", "4.1.4.01"))
            .send()
            .await
            .assert_status(201);
    }
    let after = read().await;
    if pg_base_url().is_some() {
        assert!(counter(&after, "kasdesa_sqlite_group_commits_total").is_none(), "no SQLite writer on PostgreSQL");
        return;
    }
    let delta = |name: &str| counter(&after, name).unwrap() - counter(&before, name).unwrap();
    let (commits, writes) = (delta("kasdesa_sqlite_group_commits_total"), delta("kasdesa_sqlite_group_writes_total"));
    assert!(writes >= 3.0, "three postings were committed: {writes}");
    assert!((1.0..=writes).contains(&commits), "{commits} commits for {writes} writes");
    assert!(delta("kasdesa_sqlite_writer_busy_seconds_total") > 0.0);
}

#[tokio::test]
async fn docs_without_the_trailing_slash_show_the_ui() {
    let app = spawn_app().await;
    // A browser (or curl -L) following the redirect lands on the UI.
    let ui = app.client.get(format!("{}/docs", app.base)).send().await.unwrap();
    assert_eq!(ui.status().as_u16(), 200);
    assert_eq!(ui.url().path(), "/docs/");
    assert!(ui.text().await.unwrap().contains("swagger"));
    // The redirect itself, as a client that does not follow it sees it.
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = plain.get(format!("{}/docs", app.base)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 308);
    assert_eq!(r.headers()["location"], "/docs/");
}

/// A login from a chosen loopback address (127.0.0.x): the throttle counts per address.
async fn login_from(base: &str, from: u8, name: &str, password: &str) -> Resp {
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, from)))
        .build()
        .unwrap();
    let r = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.json().await.unwrap_or(Value::Null);
    Resp { status, headers, body }
}

/// The seconds a 429 says, in its `Retry-After` and in its words (they must agree).
fn wait_of(r: &Resp) -> u64 {
    r.assert_problem(429, "rate_limited");
    let header: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(&format!("{header} second")), "the message says the header's wait: {detail} / {header}");
    header
}

#[tokio::test]
async fn failures_slow_the_guesser_and_never_lock_out_the_user() {
    let app = spawn_app().await;
    let second = spawn_second_instance(&app).await;
    let regency = app.create_regency("61.12").await;
    app.create_user("bendahara", "inspector", None, Some(&regency)).await;
    // The user signs in from the office (127.0.0.1): that pair is known from now on.
    login_from(&app.base, 1, "bendahara", PASSWORD).await.assert_status(200);
    // A guesser at 127.0.0.2, known name or not: five failures are free, then each attempt waits, growing; the
    // wait is counted in the database, so the second instance makes the guesser wait too.
    for name in ["bendahara", "tidak-ada"] {
        for _ in 0..5 {
            login_from(&app.base, 2, name, "salah-salah-salah").await.assert_problem(401, "unauthorized");
        }
        let r = login_from(&second, 2, name, PASSWORD).await;
        assert_eq!(wait_of(&r), 1, "the same answer for a name that exists and one that does not");
    }
    // Not a lock: once the wait is over, the right password works again (and the pair's failures are forgotten).
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    login_from(&app.base, 2, "bendahara", PASSWORD).await.assert_status(200);
    // Spread over many addresses, the guesses pass the name's own bound: addresses it never signed in from wait ...
    // (five from before and five now: the name's ten free ones are used up, so 1 s.)
    for (from, n) in [(10, 3), (11, 2)] {
        for _ in 0..n {
            login_from(&app.base, from, "bendahara", "salah-salah-salah").await.assert_problem(401, "unauthorized");
        }
    }
    let r = login_from(&app.base, 20, "bendahara", PASSWORD).await;
    let waited = wait_of(&r);
    assert_eq!(waited, 1);
    // ... but the user at the office, and at the address they just signed in from, are not slowed at all.
    login_from(&app.base, 1, "bendahara", PASSWORD).await.assert_status(200);
    login_from(&second, 2, "bendahara", PASSWORD).await.assert_status(200);
    // Bank credentials are throttled the same way.
    for _ in 0..5 {
        app.post("/api/v1/auth/token")
            .json(&json!({"client_id": "bank_x", "client_secret": "y"}))
            .send()
            .await
            .assert_problem(401, "unauthorized");
    }
    let r = app.post("/api/v1/auth/token").json(&json!({"client_id": "bank_x", "client_secret": "y"})).send().await;
    r.assert_problem(429, "rate_limited");
}

#[tokio::test]
async fn a_bank_clients_tokens_end_when_it_is_deactivated_rekeyed_or_moved() {
    let app = spawn_app().await;
    let second = spawn_second_instance(&app).await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let w = app.create_village(&regency, "61.12.01.2002", "5000000.00").await;
    let created = app
        .post("/api/v1/bank-clients")
        .token(&app.admin_token)
        .json(&json!({"name": "Bank Kalbar", "village_ids": [v.id]}))
        .send()
        .await;
    let created = created.assert_status(201).clone();
    let (id, client_id) = (created["id"].as_str().unwrap(), created["client_id"].as_str().unwrap());
    let token_for = |secret: String| {
        let app = &app;
        async move {
            app.post("/api/v1/auth/token").json(&json!({"client_id": client_id, "client_secret": secret})).send().await
        }
    };
    let transfers = |base: String, token: String| {
        let app = &app;
        async move {
            app.client
                .get(format!("{base}/api/v1/bank/transfers"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let credit = |token: String, village: String, reference: &'static str| {
        let app = &app;
        async move {
            app.post("/api/v1/bank/credits")
                .token(&token)
                .key(reference)
                .json(&json!({"village_id": village, "amount": "1000.00", "source": "DDS", "bank_reference": reference,
                              "value_date": "2026-04-10", "description": "Setoran"}))
                .send()
                .await
                .status
                .as_u16()
        }
    };
    let patch = |body: serde_json::Value| {
        app.req(reqwest::Method::PATCH, &format!("/api/v1/bank-clients/{id}"))
            .token(&app.admin_token)
            .json(&body)
            .send()
    };
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let token = token_for(secret.clone()).await.assert_status(200)["access_token"].as_str().unwrap().to_string();
    assert_eq!(transfers(second.clone(), token.clone()).await, 200);
    assert_eq!(credit(token.clone(), v.id.clone(), "CR-1").await, 201);
    // Deactivated: the token stops at once, on both instances, and no new one is given. A credit (whose write checks
    // the client under its lock) is refused too, a replay of an answered key included, and posts nothing.
    let off = patch(json!({"active": false})).await;
    assert_eq!(off.assert_status(200)["active"], false);
    assert_eq!(transfers(app.base.clone(), token.clone()).await, 401);
    assert_eq!(transfers(second.clone(), token.clone()).await, 401);
    assert_eq!(credit(token.clone(), v.id.clone(), "CR-1").await, 401);
    assert_eq!(credit(token.clone(), v.id.clone(), "CR-2").await, 401);
    assert_eq!(app.balance(&v, "1.1.1.02").await, "1000.00");
    token_for(secret.clone()).await.assert_problem(401, "unauthorized");
    // Active again: the old token stays ended; a new one works.
    patch(json!({"active": true})).await.assert_status(200);
    assert_eq!(transfers(app.base.clone(), token.clone()).await, 401);
    let token = token_for(secret.clone()).await.assert_status(200)["access_token"].as_str().unwrap().to_string();
    // Moved to another village: the old token (which names the old one) ends; the new one reaches only the new.
    let moved = patch(json!({"village_ids": [w.id]})).await;
    assert_eq!(moved.assert_status(200)["village_ids"], json!([w.id]));
    assert_eq!(transfers(app.base.clone(), token.clone()).await, 401);
    let token = token_for(secret.clone()).await.assert_status(200)["access_token"].as_str().unwrap().to_string();
    assert_eq!(credit(token.clone(), w.id.clone(), "CR-W").await, 201);
    assert_eq!(credit(token.clone(), v.id.clone(), "CR-V").await, 404);
    // A new secret: the old secret and the current token end.
    let rotated = app.post(&format!("/api/v1/bank-clients/{id}/secret")).token(&app.admin_token).send().await;
    let new_secret = rotated.assert_status(200)["client_secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, secret);
    assert_eq!(transfers(app.base.clone(), token.clone()).await, 401);
    assert_eq!(credit(token.clone(), w.id.clone(), "CR-W2").await, 401);
    token_for(secret).await.assert_problem(401, "unauthorized");
    token_for(new_secret).await.assert_status(200);
    // Administrators list clients without secrets; no one else may change them.
    let list = app.get("/api/v1/bank-clients").token(&app.admin_token).send().await;
    let list = list.assert_status(200).clone();
    assert!(!list.to_string().contains("secret"), "{list}");
    app.req(reqwest::Method::PATCH, &format!("/api/v1/bank-clients/{id}"))
        .token(&v.head)
        .json(&json!({"active": false}))
        .send()
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn metrics_take_a_token_when_one_is_configured() {
    let app = spawn_app_with(|s| s.metrics_token = "scraper-secret-123".into()).await;
    let url = format!("{}/metrics", app.base);
    let none = app.client.get(&url).send().await.unwrap();
    assert_eq!(none.status().as_u16(), 401);
    let wrong = app.client.get(&url).bearer_auth("scraper-secret-12").send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let right = app.client.get(&url).bearer_auth("scraper-secret-123").send().await.unwrap();
    assert_eq!(right.status().as_u16(), 200);
    assert!(right.text().await.unwrap().contains("kasdesa_http_requests_total"));
}

#[tokio::test]
async fn an_ended_session_is_refused_on_the_very_next_request() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let other = app.create_village(&regency, "61.12.01.2002", "5000000.00").await;
    let me = |token: &str| app.get(&format!("/api/v1/villages/{}/accounts", v.id)).token(token).send();
    let user_id = |token: &str| {
        let payload = token.split('.').nth(1).unwrap();
        use base64::Engine;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
        serde_json::from_slice::<serde_json::Value>(&json).unwrap()["sub"].as_str().unwrap().to_string()
    };
    let patch = |id: String, body: serde_json::Value| {
        app.req(reqwest::Method::PATCH, &format!("/api/v1/users/{id}")).token(&app.admin_token).json(&body).send()
    };
    me(&v.treasurer).await.assert_status(200);
    // Deactivated: the token stops at once.
    patch(user_id(&v.treasurer), json!({"active": false})).await.assert_status(200);
    me(&v.treasurer).await.assert_problem(401, "unauthorized");
    // Another role: the old token (which says secretary) is refused; a new login works as the new role.
    me(&v.secretary).await.assert_status(200);
    patch(user_id(&v.secretary), json!({"role": "head", "village_id": v.id})).await.assert_status(200);
    me(&v.secretary).await.assert_problem(401, "unauthorized");
    let slug = v.code.to_lowercase().replace('.', "-");
    me(&app.login(&format!("secretary-{slug}"), PASSWORD).await).await.assert_status(200);
    // Moved to another village: the old token no longer reaches the old village's books.
    patch(user_id(&v.implementer), json!({"role": "implementer", "village_id": other.id})).await.assert_status(200);
    me(&v.implementer).await.assert_problem(401, "unauthorized");
    // Signed out: every token of the user ends, the console's cookie with it.
    me(&v.head).await.assert_status(200);
    let (status, _) = app.page(&v.head, "/console/inbox").await;
    assert_eq!(status, 200);
    app.post("/api/v1/auth/logout").token(&v.head).send().await;
    me(&v.head).await.assert_problem(401, "unauthorized");
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/console/inbox", app.base))
        .header("cookie", format!("kd_session={}", v.head))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "the console sends an ended session to sign in");
    assert!(r.headers()["location"].to_str().unwrap().starts_with("/console/login"));
}

#[tokio::test]
async fn two_instances_agree_on_an_ended_session() {
    let app = spawn_app().await;
    let second = spawn_second_instance(&app).await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let path = format!("/api/v1/villages/{}/accounts", v.id);
    let on = |base: &str, token: &str| app.client.get(format!("{base}{path}")).bearer_auth(token.to_string()).send();
    // A token issued by the first instance is honoured by the second (one signing key, one database) ...
    assert_eq!(on(&second, &v.treasurer).await.unwrap().status().as_u16(), 200);
    // ... and once the first instance ends it, the second refuses it on its very next request.
    app.post("/api/v1/auth/logout").token(&v.treasurer).send().await;
    assert_eq!(on(&second, &v.treasurer).await.unwrap().status().as_u16(), 401);
    assert_eq!(on(&app.base, &v.treasurer).await.unwrap().status().as_u16(), 401);
    // A deactivation made through the second instance ends the token on the first.
    assert_eq!(on(&app.base, &v.head).await.unwrap().status().as_u16(), 200);
    let sub = {
        use base64::Engine;
        let payload = v.head.split('.').nth(1).unwrap();
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
        serde_json::from_slice::<serde_json::Value>(&json).unwrap()["sub"].as_str().unwrap().to_string()
    };
    let r = app
        .client
        .patch(format!("{second}/api/v1/users/{sub}"))
        .bearer_auth(&app.admin_token)
        .json(&json!({"active": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(on(&app.base, &v.head).await.unwrap().status().as_u16(), 401);
}

/// An official who lost their password gets a new one from the administrator: shown once, the old password and
/// every session end at once, and the change is a fact of the village's chain. The console's login page says
/// whom to ask.
#[tokio::test]
async fn an_administrator_resets_a_lost_password() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let payload = v.treasurer.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let id = claims["sub"].as_str().unwrap().to_string();
    let path = format!("/api/v1/users/{id}/password");
    app.post(&path).token(&v.head).send().await.assert_problem(403, "forbidden");
    let r = app.post(&path).token(&app.admin_token).send().await;
    let new = r.assert_status(200)["password"].as_str().unwrap().to_string();
    assert!(new.len() >= 12);
    // The old session and the old password are over; the new one signs in.
    app.get(&format!("/api/v1/villages/{}/accounts", v.id))
        .token(&v.treasurer)
        .send()
        .await
        .assert_problem(401, "unauthorized");
    let old = app
        .post("/api/v1/auth/login")
        .json(&json!({"username": "treasurer-61-12-01-2001", "password": PASSWORD}))
        .send()
        .await;
    old.assert_problem(401, "unauthorized");
    let token = app.login("treasurer-61-12-01-2001", &new).await;
    let report = app.get(&format!("/api/v1/villages/{}/audit/verify", v.id)).token(&token).send().await;
    let report = report.assert_status(200).clone();
    assert_eq!((report["ok"].as_bool(), report["checked"].as_i64()), (Some(true), Some(v.base + 1)), "{report}");
    let login = app.client.get(format!("{}/console/login", app.base)).send().await.unwrap().text().await.unwrap();
    assert!(login.contains("Lupa kata sandi?"));
}
