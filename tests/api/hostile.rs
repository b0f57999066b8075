//! Hostile input: odd text, SQL-shaped strings, huge and nested bodies, out-of-range dates and amounts, and a
//! seeded random fuzz of postings. Never a 500 or a panic, and nothing written by a refused request.

use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::{json, Value};

#[tokio::test]
async fn odd_and_hostile_input_is_refused_or_stored_verbatim() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let path = format!("/api/v1/villages/{}/transactions", v.id);

    // Stored verbatim: SQL-shaped text, emoji, combining marks, other scripts.
    for text in ["'; DROP TABLE transactions; --", "Rp 1.000 🎉 Désa Sùngai", "زكاة 和 ไทย", "a\u{200D}b"]
    {
        let mut b = receipt("1.00", "4.1.4.01");
        b["description"] = json!(text);
        let r = app.post_txn(&v, &b).await;
        assert_eq!(r.assert_status(201)["description"], text);
    }
    // Refused: NUL, bidirectional overrides, whitespace only.
    for text in ["a\u{0000}b", "tagihan \u{202E}0001", "\u{2066}x\u{2069}", "   "] {
        let mut b = receipt("1.00", "4.1.4.01");
        b["description"] = json!(text);
        app.post_txn(&v, &b).await.assert_problem(422, "validation_failed");
    }
    // Dates out of range or malformed.
    for d in ["+275760-09-13", "0000-01-01", "2026-13-01", "2026-02-29", "20260301", "", "2026-03-01T00:00:00Z"] {
        let mut b = receipt("1.00", "4.1.4.01");
        b["value_date"] = json!(d);
        app.post_txn(&v, &b).await.assert_problem(422, "validation_failed");
    }
    // Amounts at and beyond the limit: the largest is accepted; a sen more is not.
    app.post_txn(&v, &receipt("999999999999999.99", "4.1.4.01")).await.assert_status(201);
    app.post_txn(&v, &receipt("1000000000000000.00", "4.1.4.01")).await.assert_problem(422, "invalid_amount");
    // Wrong JSON types anywhere.
    for b in [json!([]), json!("x"), json!(null), json!({"kind": 5}), json!({"entries": {}})] {
        app.post_txn(&v, &b).await.assert_problem(422, "validation_failed");
    }
    // Huge arrays: over the body limit, 413; under it but over the line limit, 422.
    let line = json!({"account_code": "5.2.1.07", "activity_code": "02.03.10", "source": "DDS", "amount": "1.00"});
    let huge = json!({"lines": vec![line.clone(); 5000]});
    let r = app
        .req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/budgets/2026", v.id))
        .token(&v.treasurer)
        .json(&huge)
        .send()
        .await;
    r.assert_problem(413, "payload_too_large");
    let many: Vec<Value> = (0..2001)
        .map(|i| json!({"account_code": "4.1.4.01", "source": "PAD", "amount": format!("{}.00", i + 1)}))
        .collect();
    let r = app
        .req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/budgets/2026", v.id))
        .token(&v.treasurer)
        .json(&json!({"lines": many}))
        .send()
        .await;
    r.assert_problem(422, "validation_failed");
    // Deep nesting inside a field.
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let mut b = receipt("1.00", "4.1.4.01");
    b["entries"][0]["amount"] = deep;
    let r = app.post_txn(&v, &b).await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.body);
    // Absurd paths and query strings.
    let long_id = "x".repeat(10_000);
    let r = app.get(&format!("/api/v1/transactions/{long_id}")).token(&v.treasurer).send().await;
    assert!(r.status.as_u16() == 404 || r.status.as_u16() == 414 || r.status.as_u16() == 431, "{}", r.status);
    app.get("/api/v1/transactions/%F0%9F%92%A3%27%20OR%201=1")
        .token(&v.treasurer)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("{path}?limit=99999999999999999999"))
        .token(&v.treasurer)
        .send()
        .await
        .assert_problem(422, "validation_failed");
    app.get(&format!("{path}?limit=-1")).token(&v.treasurer).send().await.assert_problem(422, "validation_failed");
    // Method not allowed on a known path is still a problem document.
    let r = app.req(reqwest::Method::DELETE, &path).token(&v.treasurer).send().await;
    assert!(r.status.is_client_error());
    assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json");

    let report = app.verify(&v).await;
    assert_eq!(report["ok"], true);
    assert_eq!(report["checked"], v.base + 5, "four texts and the largest amount; nothing from a refused request");
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400_and_json_that_breaks_a_rule_is_422() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let path = format!("/api/v1/villages/{}/transactions", v.id);
    let send = |body: Vec<u8>, content_type: &'static str| {
        app.post(&path).token(&v.treasurer).key(&uuid::Uuid::new_v4().to_string()).raw(body, content_type).send()
    };

    // Not JSON: syntax errors, other formats, bytes that are not even UTF-8.
    let not_json: Vec<(&str, Vec<u8>, &str)> = vec![
        ("cut short", b"{\"kind\": ".to_vec(), "application/json"),
        ("trailing comma", b"{\"kind\": \"receipt\",}".to_vec(), "application/json"),
        ("single quotes", b"{'kind': 'receipt'}".to_vec(), "application/json"),
        ("two documents", b"{} {}".to_vec(), "application/json"),
        ("a form", b"kind=receipt&description=x".to_vec(), "application/x-www-form-urlencoded"),
        ("XML", b"<transaction kind=\"receipt\"/>".to_vec(), "application/xml"),
        ("not UTF-8", vec![0xff, 0xfe, 0x7b, 0x7d], "application/json"),
    ];
    for (what, body, content_type) in not_json {
        let r = send(body, content_type).await;
        r.assert_problem(400, "validation_failed");
        assert!(r.body["detail"].as_str().unwrap().contains("not valid JSON"), "{what}: {}", r.body);
    }
    // The same on an endpoint without a token, and on an action whose body is optional.
    let r = app.post("/api/v1/auth/login").raw("{\"username\": \"admin\"", "application/json").send().await;
    r.assert_problem(400, "validation_failed");
    let r = app.post("/api/v1/payments/00000000-0000-0000-0000-000000000000/submit").token(&v.implementer);
    r.raw("note=x", "text/plain").send().await.assert_problem(400, "validation_failed");

    // Well-formed JSON that breaks a rule stays 422: unknown fields, wrong types, missing fields, the wrong shape.
    let mut unknown = receipt("1.00", "4.1.4.01");
    unknown["extra"] = json!(true);
    let mut wrong_type = receipt("1.00", "4.1.4.01");
    wrong_type["description"] = json!(12);
    let mut missing = receipt("1.00", "4.1.4.01");
    missing.as_object_mut().unwrap().remove("value_date");
    for (what, body) in
        [("unknown field", unknown), ("wrong type", wrong_type), ("missing field", missing), ("an array", json!([1]))]
    {
        let r = send(serde_json::to_vec(&body).unwrap(), "application/json").await;
        r.assert_problem(422, "validation_failed");
        assert!(!r.body["detail"].as_str().unwrap().contains("not valid JSON"), "{what}: {}", r.body);
    }
    assert_eq!(app.verify(&v).await["checked"], v.base, "nothing was written");
}

/// A tiny seeded generator so a failure can be replayed (the seed is printed).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() as usize) % xs.len()]
    }
}

#[tokio::test]
async fn seeded_fuzz_of_postings_and_payments() {
    let cases: usize = std::env::var("KASDESA_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300);
    let seed = std::env::var("KASDESA_FUZZ_SEED").ok().and_then(|c| c.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    eprintln!("fuzz seed {seed}, {cases} cases");
    let mut rng = Rng(seed);
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let amounts = [
        json!("1.00"),
        json!("0.01"),
        json!("999999999999999.99"),
        json!("-1"),
        json!("1e3"),
        json!(1),
        json!(""),
        json!("12.345"),
        json!(null),
        json!("७"),
        json!("5000000.00"),
        json!("5000000.01"),
        json!(" 1"),
        json!("0"),
    ];
    let accounts =
        ["1.1.1.01", "1.1.1.02", "4.1.4.01", "4.2.1.01", "5.2.1.07", "2.1.9.99", "9.9.9", "", "1..1", "4.1.4.01'--"];
    let kinds = ["receipt", "transfer", "adjustment", "opening_balance", "disbursement", "reversal", "gift", ""];
    let sides = ["debit", "credit", "left", ""];
    let (mut created, mut refused) = (0usize, 0usize);
    for i in 0..cases {
        let n = 1 + rng.next() % 4;
        let entries: Vec<Value> = (0..n)
            .map(|_| json!({"account_code": rng.pick(&accounts), "side": rng.pick(&sides), "amount": rng.pick(&amounts).clone()}))
            .collect();
        let body = if i % 5 == 4 {
            // Payment drafts too.
            json!({"activity_code": rng.pick(&["02.03.10", "99.99.99", ""]), "description": "x",
                   "payee": {"name": "P", "bank_code": rng.pick(&["123", "12", "BANKIDJA"]), "account_number": rng.pick(&["1234567", "12a"])},
                   "lines": [{"account_code": rng.pick(&accounts), "source": rng.pick(&["DDS", "XXX"]), "amount": rng.pick(&amounts).clone(),
                              "withholdings": [{"tax": rng.pick(&["PPN", "VAT"]), "amount": rng.pick(&amounts).clone()}]}]})
        } else if rng.next() % 2 == 0 {
            // A valid receipt with at most one field mutated, so that many land and the rest are near misses.
            let mut b = receipt("10.00", "4.1.4.01");
            match rng.next() % 6 {
                0 => b["entries"][0]["amount"] = rng.pick(&amounts).clone(),
                1 => b["entries"][1]["account_code"] = json!(rng.pick(&accounts)),
                2 => b["kind"] = json!(rng.pick(&kinds)),
                3 => b["entries"][0]["side"] = json!(rng.pick(&sides)),
                _ => {}
            }
            b
        } else {
            json!({"kind": rng.pick(&kinds), "value_date": rng.pick(&["2026-03-01", "2026-02-30", "2099-01-01"]), "description": "fuzz", "entries": entries})
        };
        let (path, token) = if i % 5 == 4 {
            (format!("/api/v1/villages/{}/payments", v.id), &v.implementer)
        } else {
            (format!("/api/v1/villages/{}/transactions", v.id), &v.treasurer)
        };
        let r = app.post(&path).token(token).key(&format!("fuzz-{i}")).json(&body).send().await;
        match r.status.as_u16() {
            201 => created += 1,
            422 | 409 => {
                refused += 1;
                assert!(
                    [
                        "validation_failed",
                        "invalid_amount",
                        "unbalanced",
                        "unknown_account",
                        "insufficient_funds",
                        "cash_limit_exceeded"
                    ]
                    .contains(&r.code()),
                    "{}",
                    r.body
                );
            }
            s => panic!("case {i} (seed {seed}): {s} {}\n{body}", r.body),
        }
    }
    eprintln!("fuzz: {created} accepted, {refused} refused");
    assert!(created > cases / 10 && refused > cases / 10, "the generator exercises both sides");
    let report = app.verify(&v).await;
    assert_eq!(report["ok"], true, "{report}");
    let list = app.get(&format!("/api/v1/villages/{}/transactions?limit=1000", v.id)).token(&v.treasurer).send().await;
    let payments = app.get(&format!("/api/v1/villages/{}/payments?limit=1000", v.id)).token(&v.treasurer).send().await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len() + payments.body["items"].as_array().unwrap().len(),
        created,
        "every accepted request wrote once; no refused one wrote anything"
    );
}

#[tokio::test]
async fn a_formula_typed_into_a_description_reaches_a_spreadsheet_inert() {
    let (app, v) = {
        let app = spawn_app().await;
        let regency = app.create_regency("61.12").await;
        let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
        (app, v)
    };
    let mut r = receipt("1500000.00", "4.1.4.01");
    r["description"] = json!("=HYPERLINK(\"http://contoh.test\",\"klik\")");
    app.post_txn(&v, &r).await.assert_status(201);
    let csv = app
        .client
        .get(format!("{}/api/v1/villages/{}/reports/cash-book?year=2026&format=csv", app.base, v.id))
        .bearer_auth(&v.treasurer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://contoh.test\"\",\"\"klik\"\")\""), "{csv}");
    assert!(!csv.contains(",=HYPERLINK"), "no cell starts with the formula");
    // The JSON keeps what was typed, exactly.
    let json =
        app.get(&format!("/api/v1/villages/{}/reports/cash-book?year=2026", v.id)).token(&v.treasurer).send().await;
    assert!(json.assert_status(200).to_string().contains("=HYPERLINK"));
}

#[tokio::test]
async fn a_body_that_never_arrives_is_answered_and_the_connection_freed() {
    let app = spawn_app_with(|s| s.body_timeout_secs = 1).await;
    let addr = app.base.trim_start_matches("http://").to_string();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        // The headers promise 100 bytes; one arrives.
        s.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
            .unwrap();
        let started = std::time::Instant::now();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).unwrap_or(0);
        (String::from_utf8_lossy(&buf[..n]).to_string(), started.elapsed())
    })
    .await
    .unwrap();
    let (text, waited) = answer;
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("did not arrive within 1 s"), "{text}");
    assert!(waited < std::time::Duration::from_secs(5), "answered after the limit, not the socket's: {waited:?}");
}

/// Figures past 2^63 sen cannot come from postings (every amount and balance is bounded), but rows edited in the
/// database can hold them: the books then answer with a problem document naming no figure, never a total wrapped
/// around into a plausible amount.
#[tokio::test]
async fn totals_past_what_i64_holds_are_an_error_not_a_wrapped_figure() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.post_txn(&v, &receipt("1000.00", "4.1.4.01")).await.assert_status(201);
    app.post_txn(&v, &receipt("2000.00", "4.2.1.01")).await.assert_status(201);
    let huge = format!("UPDATE entries SET amount = {} WHERE village_id = '{}';", i64::MAX / 2 + 1, v.id);
    crate::chain::raw_sql(
        &app,
        &format!("DROP TRIGGER IF EXISTS entries_no_update; {huge}"),
        &format!("ALTER TABLE entries DISABLE TRIGGER entries_immutable; {huge}"),
    )
    .unwrap();
    for report in ["trial-balance", "realisation", "cash-book", "general-ledger?account=1.1.1.02&year=2026"] {
        let query = if report.contains('?') { String::new() } else { "?year=2026".into() };
        let r = app.get(&format!("/api/v1/villages/{}/reports/{report}{query}", v.id)).token(&v.treasurer).send().await;
        if r.status.as_u16() == 200 {
            // A report that sums nothing past i64 is right to answer: then no figure in it may be negative or wrapped.
            assert!(!r.body.to_string().contains("-9223372036854775"), "{report}: {}", r.body);
            continue;
        }
        assert_eq!(r.headers.get("content-type").unwrap(), "application/problem+json", "{report}");
        assert_eq!(r.status.as_u16(), 500, "{report}: {}", r.body);
        assert_eq!(r.body["code"], "internal", "{report}");
    }
}
