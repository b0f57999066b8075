use crate::helpers::*;
use serde_json::{json, Value};

async fn setup() -> (TestApp, Village) {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    (app, v)
}

#[tokio::test]
async fn receipt_reversal_and_balances_happy_path() {
    let (app, v) = setup().await;
    let chart = app.get(&format!("/api/v1/villages/{}/accounts", v.id)).token(&v.head).send().await;
    let chart = chart.assert_status(200).as_array().unwrap().clone();
    assert_eq!(chart.len(), 159, "the standard chart is seeded: balance-sheet accounts and every objek of the annex");
    assert!(chart.iter().any(|a| a["code"] == "4.2.1.01" && a["class"] == "revenue" && a["normal_side"] == "credit"));

    let r = app.post_txn(&v, &receipt("1500000.50", "4.1.4.01")).await;
    let t = r.assert_status(201).clone();
    assert_eq!(t["seq"], 1);
    assert_eq!(t["kind"], "receipt");
    assert_eq!(t["total"], "1500000.50");
    assert_eq!(t["entries"][0]["amount"], "1500000.50");
    // The first transaction follows the village's first facts (its settings, its regency's, its officials).
    assert_eq!(t["prev_hash"].as_str().unwrap().len(), 64);
    assert_ne!(t["prev_hash"], "0".repeat(64));
    assert_eq!(t["hash"].as_str().unwrap().len(), 64);
    assert_eq!(app.balance(&v, "1.1.1.02").await, "1500000.50");
    assert_eq!(app.balance(&v, "4.1.4.01").await, "1500000.50");

    let w = app.post_txn(&v, &withdrawal("250000.25")).await;
    assert_eq!(w.assert_status(201)["seq"], 2);
    assert_eq!(w.body["prev_hash"], t["hash"]);
    assert_eq!(app.balance(&v, "1.1.1.01").await, "250000.25");
    assert_eq!(app.balance(&v, "1.1.1.02").await, "1250000.25");

    // Balances at a past date come from the entries dated up to it.
    let at = app.get(&format!("/api/v1/villages/{}/balances?at=2026-03-02", v.id)).token(&v.secretary).send().await;
    let accounts = at.assert_status(200)["accounts"].as_array().unwrap().clone();
    let bal = |code: &str| accounts.iter().find(|a| a["code"] == code).unwrap()["balance"].clone();
    assert_eq!(bal("1.1.1.02"), "1500000.50");
    assert_eq!(bal("1.1.1.01"), "0.00");

    // Reverse the withdrawal: a new transaction, sides swapped, pointing at the original.
    let rev = app
        .post(&format!("/api/v1/transactions/{}/reverse", w.body["id"].as_str().unwrap()))
        .token(&v.treasurer)
        .json(&json!({"reason": "salah input"}))
        .send()
        .await;
    let rev = rev.assert_status(201).clone();
    assert_eq!(rev["kind"], "reversal");
    assert_eq!(rev["seq"], 3);
    assert_eq!(rev["reverses"], w.body["id"]);
    assert_eq!(rev["entries"][0]["side"], "credit");
    assert_eq!(rev["entries"][0]["account_code"], "1.1.1.01");
    assert_eq!(app.balance(&v, "1.1.1.01").await, "0.00");
    assert_eq!(app.balance(&v, "1.1.1.02").await, "1500000.50");

    let original =
        app.get(&format!("/api/v1/transactions/{}", w.body["id"].as_str().unwrap())).token(&v.implementer).send().await;
    assert_eq!(original.assert_status(200)["reversed_by"], rev["id"]);

    let again = app
        .post(&format!("/api/v1/transactions/{}/reverse", w.body["id"].as_str().unwrap()))
        .token(&v.treasurer)
        .json(&json!({"reason": "lagi"}))
        .send()
        .await;
    again.assert_problem(409, "already_reversed");
    let of_reversal = app
        .post(&format!("/api/v1/transactions/{}/reverse", rev["id"].as_str().unwrap()))
        .token(&v.treasurer)
        .json(&json!({"reason": "lagi"}))
        .send()
        .await;
    of_reversal.assert_problem(422, "validation_failed");

    let report = app.verify(&v).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["checked"], v.base + 3);
    assert_eq!(app.get(&format!("/api/v1/villages/{}", v.id)).token(&v.head).send().await.body["last_seq"], 3);
}

#[tokio::test]
async fn every_ledger_error_code() {
    let (app, v) = setup().await;
    app.post_txn(&v, &receipt("1000.00", "4.1.4.01")).await.assert_status(201);

    let mut unbalanced = receipt("10.00", "4.1.4.01");
    unbalanced["entries"][1]["amount"] = json!("9.99");
    let r = app.post_txn(&v, &unbalanced).await;
    r.assert_problem(422, "unbalanced");
    assert_eq!(r.body["errors"]["debits"], "10.00");

    for bad in [
        json!("-5.00"),
        json!("0"),
        json!("1.001"),
        json!("1e3"),
        json!(12.5),
        json!("NaN"),
        json!(""),
        json!("1,000.00"),
        json!("1000000000000000.00"),
        json!(null),
        json!(" 5"),
    ] {
        let mut body = receipt("10.00", "4.1.4.01");
        body["entries"][0]["amount"] = bad.clone();
        let r = app.post_txn(&v, &body).await;
        r.assert_problem(422, "invalid_amount");
        assert!(r.body["detail"].as_str().unwrap().contains("entries[0].amount"), "{bad}: {}", r.body);
    }

    let mut unknown = receipt("10.00", "4.1.4.01");
    unknown["entries"][1]["account_code"] = json!("4.9.9.99");
    let r = app.post_txn(&v, &unknown).await;
    r.assert_problem(422, "unknown_account");
    assert_eq!(r.body["errors"][0]["account_code"], "4.9.9.99");

    let cases: Vec<(&str, Value)> = vec![
        (
            "one entry",
            json!({"kind": "receipt", "value_date": "2026-03-02", "description": "x",
            "entries": [{"account_code": "1.1.1.02", "side": "debit", "amount": "1.00"}]}),
        ),
        ("unknown field", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["extra"] = json!(1);
            b
        }),
        ("unknown kind", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["kind"] = json!("gift");
            b
        }),
        ("bad side", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["entries"][0]["side"] = json!("left");
            b
        }),
        ("bad date", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["value_date"] = json!("2026-02-30");
            b
        }),
        ("future date", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["value_date"] = json!("2099-01-01");
            b
        }),
        ("ancient date", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["value_date"] = json!("1999-12-31");
            b
        }),
        ("empty description", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["description"] = json!("  ");
            b
        }),
        ("long description", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["description"] = json!("x".repeat(501));
            b
        }),
        ("control chars", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["description"] = json!("a\u{0000}b");
            b
        }),
        ("bad source", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["entries"][1]["source"] = json!("XYZ");
            b
        }),
        ("bad activity", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["entries"][1]["activity_code"] = json!("09.01.01");
            b
        }),
        (
            "disbursement by hand",
            json!({"kind": "disbursement", "value_date": "2026-03-02", "description": "x",
            "entries": [{"account_code": "5.2.1.01", "side": "debit", "amount": "1.00"},
                        {"account_code": "1.1.1.02", "side": "credit", "amount": "1.00"}]}),
        ),
        (
            "receipt crediting the bank",
            json!({"kind": "receipt", "value_date": "2026-03-02", "description": "x",
            "entries": [{"account_code": "5.2.1.01", "side": "debit", "amount": "1.00"},
                        {"account_code": "1.1.1.02", "side": "credit", "amount": "1.00"}]}),
        ),
        (
            "adjustment touching cash",
            json!({"kind": "adjustment", "value_date": "2026-03-02", "description": "x",
            "entries": [{"account_code": "1.1.1.02", "side": "debit", "amount": "1.00"},
                        {"account_code": "4.1.4.01", "side": "credit", "amount": "1.00"}]}),
        ),
        ("reversal by hand", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["kind"] = json!("reversal");
            b
        }),
        (
            "too many entries",
            json!({"kind": "adjustment", "value_date": "2026-03-02", "description": "x",
            "entries": (0..201).map(|i| json!({"account_code": "2.1.9.99", "side": if i % 2 == 0 {"debit"} else {"credit"}, "amount": "1.00"})).collect::<Vec<_>>()}),
        ),
    ];
    for (what, body) in cases {
        let r = app.post_txn(&v, &body).await;
        assert_eq!(r.status.as_u16(), 422, "{what}: {}", r.body);
        assert!(["validation_failed"].contains(&r.code()), "{what}: {}", r.body);
    }

    // Malformed JSON and a missing Idempotency-Key.
    let r = app
        .post(&format!("/api/v1/villages/{}/transactions", v.id))
        .token(&v.treasurer)
        .key("k-raw")
        .raw("{\"kind\": ", "application/json")
        .send()
        .await;
    r.assert_problem(400, "validation_failed");
    let r = app
        .post(&format!("/api/v1/villages/{}/transactions", v.id))
        .token(&v.treasurer)
        .json(&receipt("1.00", "4.1.4.01"))
        .send()
        .await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("Idempotency-Key"));

    // Money the village does not have, and cash above its limit.
    let r = app.post_txn(&v, &withdrawal("1000.01")).await;
    r.assert_problem(422, "insufficient_funds");
    assert_eq!(r.body["errors"]["account_code"], "1.1.1.02");
    app.post_txn(&v, &receipt("20000000.00", "4.1.4.01")).await.assert_status(201);
    let r = app.post_txn(&v, &withdrawal("10000000.01")).await;
    r.assert_problem(422, "cash_limit_exceeded");
    app.post_txn(&v, &withdrawal("10000000.00")).await.assert_status(201);

    // Oversized body.
    let huge = format!("{{\"description\": \"{}\"}}", "x".repeat(300_000));
    let r = app
        .post(&format!("/api/v1/villages/{}/transactions", v.id))
        .token(&v.treasurer)
        .key("k-huge")
        .raw(huge, "application/json")
        .send()
        .await;
    r.assert_problem(413, "payload_too_large");

    // Deeply nested JSON is refused by the parser's recursion limit, not by a stack overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = app
        .post(&format!("/api/v1/villages/{}/transactions", v.id))
        .token(&v.treasurer)
        .key("k-deep")
        .raw(deep, "application/json")
        .send()
        .await;
    assert!(r.status.as_u16() == 413 || r.code() == "validation_failed", "{:?}", r.body);

    // Unknown transaction and village.
    let missing = uuid::Uuid::now_v7();
    app.get(&format!("/api/v1/transactions/{missing}"))
        .token(&v.treasurer)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.post(&format!("/api/v1/villages/{missing}/transactions"))
        .token(&v.treasurer)
        .key("k-x")
        .json(&receipt("1.00", "4.1.4.01"))
        .send()
        .await
        .assert_problem(404, "not_found");

    // Bad query parameters.
    let r = app.get(&format!("/api/v1/villages/{}/transactions?limit=0", v.id)).token(&v.treasurer).send().await;
    r.assert_problem(422, "validation_failed");
    let r = app.get(&format!("/api/v1/villages/{}/transactions?from=yesterday", v.id)).token(&v.treasurer).send().await;
    r.assert_problem(422, "validation_failed");
    let r = app.get(&format!("/api/v1/villages/{}/transactions?cursor=%21%21", v.id)).token(&v.treasurer).send().await;
    r.assert_problem(422, "validation_failed");

    // Nothing rejected above was written: three postings, a verifying chain.
    let report = app.verify(&v).await;
    assert_eq!(report["checked"], v.base + 3, "{report}");
    assert_eq!(report["ok"], true);
}

#[tokio::test]
async fn an_unknown_account_is_answered_before_anything_else_wrong_with_the_entries() {
    let (app, v) = setup().await;
    let path = format!("/api/v1/villages/{}/transactions", v.id);
    let with_unknown = |mut b: Value| {
        b["entries"][1]["account_code"] = json!("4.9.9.99");
        b
    };
    let cases: Vec<(&str, Value)> = vec![
        ("nothing else", with_unknown(receipt("1.00", "4.1.4.01"))),
        // The case: a receipt that also breaks the receipt rule (it credits the bank).
        (
            "kind rule",
            json!({"kind": "receipt", "value_date": "2026-03-02", "description": "x",
                   "entries": [{"account_code": "5.9.9.99", "side": "debit", "amount": "1.00"},
                               {"account_code": "1.1.1.02", "side": "credit", "amount": "1.00"}]}),
        ),
        ("unbalanced", {
            let mut b = with_unknown(receipt("1.00", "4.1.4.01"));
            b["entries"][0]["amount"] = json!("2.00");
            b
        }),
        ("invalid amount", {
            let mut b = with_unknown(receipt("1.00", "4.1.4.01"));
            b["entries"][0]["amount"] = json!("-1");
            b
        }),
        ("bad source", {
            let mut b = with_unknown(receipt("1.00", "4.1.4.01"));
            b["entries"][1]["source"] = json!("XYZ");
            b
        }),
        ("future date", {
            let mut b = with_unknown(receipt("1.00", "4.1.4.01"));
            b["value_date"] = json!("2099-01-01");
            b
        }),
        // Refused before the handler runs: the JSON does not fit the request's type.
        ("unknown field", {
            let mut b = with_unknown(receipt("1.00", "4.1.4.01"));
            b["extra"] = json!(1);
            b
        }),
        ("bad side", {
            let mut b = with_unknown(receipt("1.00", "4.1.4.01"));
            b["entries"][0]["side"] = json!("left");
            b
        }),
        ("missing field", {
            let mut b = with_unknown(receipt("1.00", "4.1.4.01"));
            b.as_object_mut().unwrap().remove("description");
            b
        }),
        // A code that is not even shaped like one is not in the chart either.
        ("malformed code", {
            let mut b = receipt("1.00", "4.1.4.01");
            b["entries"][1]["account_code"] = json!("4.x");
            b
        }),
    ];
    for (what, body) in &cases {
        let r = app.post_txn(&v, body).await;
        r.assert_problem(422, "unknown_account");
        assert!(r.body["errors"][0]["account_code"].is_string(), "{what}: {}", r.body);
    }
    // Without its Idempotency-Key too.
    let r = app.post(&path).token(&v.treasurer).json(&cases[1].1).send().await;
    r.assert_problem(422, "unknown_account");
    assert_eq!(r.body["errors"][0]["account_code"], "5.9.9.99");
    // Known accounts keep their own answers.
    let r = app
        .post_txn(
            &v,
            &json!({"kind": "receipt", "value_date": "2026-03-02", "description": "x",
                    "entries": [{"account_code": "5.2.1.01", "side": "debit", "amount": "1.00"},
                                {"account_code": "1.1.1.02", "side": "credit", "amount": "1.00"}]}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    // The scope and the role still come first: nothing about a chart the caller may not post in.
    let other = app.create_village(&v.regency_id, "61.12.01.2002", "5000000.00").await;
    let r = app.post(&path).token(&other.treasurer).key("k-other").json(&cases[1].1).send().await;
    r.assert_problem(404, "not_found");
    let r = app.post(&path).token(&v.head).key("k-head").json(&cases[1].1).send().await;
    r.assert_problem(403, "forbidden");
    // And a body that is not JSON is 400 whatever it names.
    let r = app.post(&path).token(&v.treasurer).key("k-raw").raw("{\"account_code\": \"4.9.9.99\"", "application/json");
    r.send().await.assert_problem(400, "validation_failed");
    assert_eq!(app.verify(&v).await["checked"], v.base, "nothing was written");
}

#[tokio::test]
async fn closed_fiscal_year_refuses_postings() {
    let (app, v) = setup().await;
    let mut old = receipt("100.00", "4.1.4.01");
    old["value_date"] = json!("2025-12-31");
    let first = app.post_txn(&v, &old).await;
    first.assert_status(201);
    app.post(&format!("/api/v1/villages/{}/fiscal-years/2025/close", v.id))
        .token(&v.treasurer)
        .send()
        .await
        .assert_problem(403, "forbidden");
    let r = app.post(&format!("/api/v1/villages/{}/fiscal-years/2025/close", v.id)).token(&v.head).send().await;
    assert_eq!(r.assert_status(200)["status"], "closed");
    app.post_txn(&v, &old).await.assert_problem(422, "fiscal_year_closed");
    let mut unknown_in_closed = old.clone();
    unknown_in_closed["entries"][1]["account_code"] = json!("4.9.9.99");
    app.post_txn(&v, &unknown_in_closed).await.assert_problem(422, "unknown_account");
    app.post(&format!("/api/v1/villages/{}/fiscal-years/2025/close", v.id))
        .token(&v.head)
        .send()
        .await
        .assert_problem(422, "fiscal_year_closed");
    // A reversal dated in the closed year is refused too; dated today, it lands in the open year.
    let id = first.body["id"].as_str().unwrap();
    let r = app
        .post(&format!("/api/v1/transactions/{id}/reverse"))
        .token(&v.treasurer)
        .json(&json!({"reason": "koreksi", "value_date": "2025-12-31"}))
        .send()
        .await;
    r.assert_problem(422, "fiscal_year_closed");
    let r = app
        .post(&format!("/api/v1/transactions/{id}/reverse"))
        .token(&v.treasurer)
        .json(&json!({"reason": "koreksi"}))
        .send()
        .await;
    assert_eq!(r.assert_status(201)["fiscal_year"], 2026);
    let years = app.get(&format!("/api/v1/villages/{}/fiscal-years", v.id)).token(&v.secretary).send().await;
    let years = years.assert_status(200).as_array().unwrap().clone();
    assert_eq!(years.len(), 2);
    assert_eq!(years[0]["status"], "closed");
    assert_eq!(years[1]["status"], "open");
}

#[tokio::test]
async fn idempotent_replay_and_conflict() {
    let (app, v) = setup().await;
    let path = format!("/api/v1/villages/{}/transactions", v.id);
    let body = receipt("750000.00", "4.1.4.01");
    let first = app.post(&path).token(&v.treasurer).key("receipt-001").json(&body).send().await;
    first.assert_status(201);
    // Same key, same body (even with keys reordered and different spacing): the stored response again.
    let reordered = serde_json::to_string_pretty(&body).unwrap();
    let replay = app.post(&path).token(&v.treasurer).key("receipt-001").raw(reordered, "application/json").send().await;
    assert_eq!(replay.status.as_u16(), 201);
    assert_eq!(replay.body, first.body);
    assert_eq!(replay.headers.get("idempotent-replayed").unwrap(), "true");
    // Same key, different body.
    let other = receipt("750000.01", "4.1.4.01");
    app.post(&path)
        .token(&v.treasurer)
        .key("receipt-001")
        .json(&other)
        .send()
        .await
        .assert_problem(409, "idempotency_conflict");
    // Same key on another endpoint is a different request too.
    let id = first.body["id"].as_str().unwrap();
    app.post(&format!("/api/v1/transactions/{id}/reverse"))
        .token(&v.treasurer)
        .key("receipt-001")
        .json(&json!({"reason": "x"}))
        .send()
        .await
        .assert_problem(409, "idempotency_conflict");
    // Keys are per caller: another treasurer's identical key is theirs alone.
    let v2 = app.create_village(&v.regency_id, "61.12.01.2002", "5000000.00").await;
    let p2 = format!("/api/v1/villages/{}/transactions", v2.id);
    app.post(&p2).token(&v2.treasurer).key("receipt-001").json(&body).send().await.assert_status(201);
    // A failed request stores nothing: after the failure is fixed, the same key posts.
    app.post(&path)
        .token(&v.treasurer)
        .key("w-1")
        .json(&withdrawal("999999999.00"))
        .send()
        .await
        .assert_problem(422, "insufficient_funds");
    app.post(&path)
        .token(&v.treasurer)
        .key("w-1")
        .json(&withdrawal("999999999.00"))
        .send()
        .await
        .assert_problem(422, "insufficient_funds");
    let bad_key = app.post(&path).token(&v.treasurer).key("has space").json(&body).send().await;
    bad_key.assert_problem(422, "validation_failed");

    let list = app.get(&path).token(&v.treasurer).send().await;
    assert_eq!(list.assert_status(200)["items"].as_array().unwrap().len(), 1, "one posting despite the replays");
    // A replayed reversal with its own key returns the first reversal, not already_reversed.
    let rp = format!("/api/v1/transactions/{id}/reverse");
    let r1 = app.post(&rp).token(&v.treasurer).key("rev-1").json(&json!({"reason": "x"})).send().await;
    r1.assert_status(201);
    let r2 = app.post(&rp).token(&v.treasurer).key("rev-1").json(&json!({"reason": "x"})).send().await;
    assert_eq!(r2.status.as_u16(), 201);
    assert_eq!(r2.body, r1.body);
}

#[tokio::test]
async fn listing_filters_and_cursor_pagination() {
    let (app, v) = setup().await;
    for day in 1..=7 {
        let mut b = receipt(&format!("{day}.00"), "4.1.4.01");
        b["value_date"] = json!(format!("2026-04-0{day}"));
        app.post_txn(&v, &b).await.assert_status(201);
    }
    let mut w = withdrawal("1.00");
    w["value_date"] = json!("2026-04-08");
    app.post_txn(&v, &w).await.assert_status(201);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/villages/{}/transactions?limit=3", v.id);
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&path).token(&v.secretary).send().await.assert_status(200).clone();
        for item in page["items"].as_array().unwrap() {
            seen.push(item["seq"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, (1..=8).collect::<Vec<_>>());
    let ranged = app
        .get(&format!("/api/v1/villages/{}/transactions?from=2026-04-03&to=2026-04-05", v.id))
        .token(&v.head)
        .send()
        .await;
    let seqs: Vec<i64> =
        ranged.assert_status(200)["items"].as_array().unwrap().iter().map(|t| t["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, vec![3, 4, 5]);
    let cash = app.get(&format!("/api/v1/villages/{}/transactions?account=1.1.1.01", v.id)).token(&v.head).send().await;
    let items = cash.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "transfer");
    app.get(&format!("/api/v1/villages/{}/transactions?from=2026-04-05&to=2026-04-03", v.id))
        .token(&v.head)
        .send()
        .await
        .assert_problem(422, "validation_failed");
}
