//! The bank API: credits, statements, scope, and races on settlement, approval and release.

use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::json;
use std::sync::Arc;

fn rounds() -> usize {
    std::env::var("KASDESA_RACE_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(5)
}

#[tokio::test]
async fn credits_statements_and_scope() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let other = app.create_village(&regency, "61.12.01.2002", "10000000.00").await;
    let bank = app.bank(&[&v.id]).await;

    // A known source lands in its revenue account; an unknown one in suspense.
    let dds = app.credit(&bank, &v, "100.00", "DDS", "REF-1").await;
    assert_eq!(dds.assert_status(201)["entries"][1]["account_code"], "4.2.1.01");
    assert_eq!(dds.body["kind"], "receipt");
    let odd = app.credit(&bank, &v, "7.00", "CSR", "REF-2").await;
    let odd = odd.assert_status(201).clone();
    assert_eq!(odd["entries"][1]["account_code"], "2.1.9.99");
    assert!(odd["description"].as_str().unwrap().contains("CSR"));
    // The same bank reference under a new key posts nothing new; with another amount it is a conflict.
    let again = app.post("/api/v1/bank/credits").token(&bank).key("another-key")
        .json(&json!({"village_id": v.id, "amount": "100.00", "source": "DDS", "bank_reference": "REF-1", "value_date": "2026-04-01", "description": "Penyaluran dana"}))
        .send().await;
    assert_eq!(again.assert_status(201)["id"], dds.body["id"]);
    app.post("/api/v1/bank/credits").token(&bank).key("third-key")
        .json(&json!({"village_id": v.id, "amount": "100.01", "source": "DDS", "bank_reference": "REF-1", "value_date": "2026-04-01", "description": "x"}))
        .send().await.assert_problem(409, "conflict");
    // Same key, other body: idempotency_conflict.
    app.post("/api/v1/bank/credits").token(&bank).key("credit-REF-1")
        .json(&json!({"village_id": v.id, "amount": "1.00", "source": "DDS", "bank_reference": "REF-9", "value_date": "2026-04-01", "description": "x"}))
        .send().await.assert_problem(409, "idempotency_conflict");
    assert_eq!(app.balance(&v, "1.1.1.02").await, "107.00");
    // The treasurer classifies the suspense credit: an adjustment from suspense to its revenue account.
    let classify = json!({"kind": "adjustment", "value_date": "2026-04-02", "description": "Klasifikasi CSR sebagai lain-lain pendapatan",
        "entries": [{"account_code": "2.1.9.99", "side": "debit", "amount": "7.00"}, {"account_code": "4.3.9.90", "side": "credit", "amount": "7.00", "source": "DLL"}]});
    app.post_txn(&v, &classify).await.assert_status(201);
    assert_eq!(app.balance(&v, "2.1.9.99").await, "0.00");

    // Outside its villages a bank sees nothing; other roles may not use the bank API.
    app.credit(&bank, &other, "1.00", "DDS", "REF-X").await.assert_problem(404, "not_found");
    app.post("/api/v1/bank/credits").token(&v.treasurer).key("k")
        .json(&json!({"village_id": v.id, "amount": "1.00", "source": "DDS", "bank_reference": "R", "value_date": "2026-04-01", "description": "x"}))
        .send().await.assert_problem(403, "forbidden");
    app.get("/api/v1/bank/transfers").token(&v.treasurer).send().await.assert_problem(403, "forbidden");
    app.get("/api/v1/bank/transfers?status=lost").token(&bank).send().await.assert_problem(422, "validation_failed");
    app.post("/api/v1/bank/credits").token(&bank)
        .json(&json!({"village_id": v.id, "amount": "1.00", "source": "DDS", "bank_reference": "R", "value_date": "2026-04-01", "description": "x"}))
        .send().await.assert_problem(422, "validation_failed");
    app.post("/api/v1/bank/credits").token(&bank).key("k-future")
        .json(&json!({"village_id": v.id, "amount": "1.00", "source": "DDS", "bank_reference": "R", "value_date": "2099-04-01", "description": "x"}))
        .send().await.assert_problem(422, "validation_failed");
    app.post("/api/v1/bank/credits").token(&bank).key("k-amount")
        .json(&json!({"village_id": v.id, "amount": "1.001", "source": "DDS", "bank_reference": "R", "value_date": "2026-04-01", "description": "x"}))
        .send().await.assert_problem(422, "invalid_amount");
    let missing = uuid::Uuid::now_v7();
    app.bank_result(&bank, &missing.to_string(), "k-m", &paid("X")).await.assert_problem(404, "not_found");

    // Statements: stored, duplicates counted, changed figures refused.
    let stmt = |lines: serde_json::Value| json!({"village_id": v.id, "lines": lines});
    let r = app.post("/api/v1/bank/statements").token(&bank).key("st-1")
        .json(&stmt(json!([{"bank_reference": "REF-1", "value_date": "2026-04-01", "amount": "100.00", "direction": "credit"},
                           {"bank_reference": "ADM-04", "value_date": "2026-04-30", "amount": "15.00", "direction": "debit"}]))).send().await;
    assert_eq!(r.assert_status(201)["stored"], 2);
    let r = app
        .post("/api/v1/bank/statements")
        .token(&bank)
        .key("st-2")
        .json(&stmt(
            json!([{"bank_reference": "REF-1", "value_date": "2026-04-01", "amount": "100.00", "direction": "credit"}]),
        ))
        .send()
        .await;
    assert_eq!((r.body["stored"].as_u64(), r.body["duplicates"].as_u64()), (Some(0), Some(1)));
    app.post("/api/v1/bank/statements")
        .token(&bank)
        .key("st-3")
        .json(&stmt(
            json!([{"bank_reference": "REF-1", "value_date": "2026-04-01", "amount": "99.00", "direction": "credit"}]),
        ))
        .send()
        .await
        .assert_problem(409, "conflict");
    app.post("/api/v1/bank/statements")
        .token(&bank)
        .key("st-4")
        .json(&stmt(
            json!([{"bank_reference": "REF-7", "value_date": "2026-04-01", "amount": "9.00", "direction": "sideways"}]),
        ))
        .send()
        .await
        .assert_problem(422, "validation_failed");
    assert_eq!(app.verify(&v).await["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn races_have_exactly_one_winner() {
    let app = Arc::new(spawn_app().await);
    let regency = app.create_regency("61.12").await;
    for round in 0..rounds() {
        let v = Arc::new(app.create_village(&regency, &format!("61.12.01.{round:04}"), "10000000.00").await);
        let bank = Arc::new(app.bank(&[&v.id]).await);
        app.adopt_budget(&v, &standard_budget()).await;

        // Two approvals race for the last rupiah of a budget line (5.2.2.01 ADD has 20,000,000).
        let p1 = app.draft(&v, &spp("5.2.2.01", "01.01.04", "ADD", "15000000.00", json!([]))).await;
        let p2 = app.draft(&v, &spp("5.2.2.01", "01.01.04", "ADD", "15000000.00", json!([]))).await;
        for p in [&p1, &p2] {
            app.act(&v.implementer, p, "submit", None).await.assert_status(200);
            app.act(&v.secretary, p, "verify", None).await.assert_status(200);
        }
        let (a, b) = tokio::join!(app.act(&v.head, &p1, "approve", None), app.act(&v.head, &p2, "approve", None));
        let mut outcomes = [a.status.as_u16(), b.status.as_u16()];
        outcomes.sort();
        assert_eq!(outcomes, [200, 422], "round {round}: {} / {}", a.body, b.body);
        let loser = if a.status.as_u16() == 422 { &a } else { &b };
        loser.assert_problem(422, "budget_exceeded");
        assert_eq!(line(&app.budget(&v).await, "5.2.2.01")["committed"], "15000000.00");
        let winner = if a.status.as_u16() == 200 { p1.clone() } else { p2.clone() };

        // Two releases race for the last rupiah of the bank account.
        app.credit(&bank, &v, "19999999.99", "DDS", &format!("R{round}")).await.assert_status(201);
        let p3 = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "5000000.00", json!([]))).await;
        app.approve_chain(&v, &p3).await;
        let (a, b) =
            tokio::join!(app.act(&v.treasurer, &winner, "release", None), app.act(&v.treasurer, &p3, "release", None));
        let mut outcomes = [a.status.as_u16(), b.status.as_u16()];
        outcomes.sort();
        assert_eq!(outcomes, [200, 422], "round {round}: {} / {}", a.body, b.body);
        let loser = if a.status.as_u16() == 422 { &a } else { &b };
        loser.assert_problem(422, "insufficient_funds");

        // The bank retries a result while the first is in flight: one posting, one answer.
        let released = if a.status.as_u16() == 200 { winner.clone() } else { p3.clone() };
        let t = app.transfer_of(&bank, &released).await;
        let tid = t["id"].as_str().unwrap().to_string();
        let mut handles = Vec::new();
        for i in 0..8 {
            let (app, bank, tid) = (app.clone(), bank.clone(), tid.clone());
            // Half reuse one key, half use their own: both kinds of retry must converge.
            let key = if i % 2 == 0 { "same-key".to_string() } else { format!("key-{i}") };
            handles.push(tokio::spawn(async move { app.bank_result(&bank, &tid, &key, &paid("BANK-REF")).await }));
        }
        let mut txn_ids = std::collections::HashSet::new();
        for h in handles {
            let r = h.await.unwrap();
            assert_eq!(r.status.as_u16(), 200, "{}", r.body);
            txn_ids.insert(r.body["transaction"]["id"].as_str().unwrap().to_string());
        }
        assert_eq!(txn_ids.len(), 1, "one disbursement, whatever the retries");
        let disbursements = app
            .get(&format!("/api/v1/villages/{}/transactions?account=5.2.2.01", v.id))
            .token(&v.treasurer)
            .send()
            .await;
        let n = disbursements.assert_status(200)["items"].as_array().unwrap().len()
            + app
                .get(&format!("/api/v1/villages/{}/transactions?account=5.2.1.07", v.id))
                .token(&v.treasurer)
                .send()
                .await
                .body["items"]
                .as_array()
                .unwrap()
                .len();
        assert_eq!(n, 1);
        assert_eq!(app.verify(&v).await["ok"], true);
    }
}

/// A batch's credits to one village are posted under one lock in one write (`post_credit_run`); each is still
/// answered as it would be alone, the daily totals the reports read add up per day, and the chain holds.
#[tokio::test]
async fn a_villages_credits_in_a_batch_are_written_together_and_answered_alone() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let w = app.create_village(&regency, "61.12.01.2002", "5000000.00").await;
    let bank = app.bank(&[&v.id, &w.id]).await;
    let credit = |village: &str, amount: &str, source: &str, reference: &str, date: &str| {
        serde_json::json!({"village_id": village, "amount": amount, "source": source, "bank_reference": reference,
                           "value_date": date, "description": "Penerimaan"})
    };
    let old = app
        .post("/api/v1/bank/credits")
        .token(&bank)
        .key("before")
        .json(&credit(&v.id, "700.00", "DDS", "R-OLD", "2026-04-01"))
        .send()
        .await;
    let old = old.assert_status(201)["id"].as_str().unwrap().to_string();
    let items = vec![
        credit(&v.id, "1000.00", "DDS", "R-1", "2026-04-01"),
        credit(&v.id, "2000.00", "ADD", "R-2", "2026-04-01"),
        credit(&w.id, "4000.00", "DDS", "W-1", "2026-04-01"),
        credit(&v.id, "300.00", "XYZ", "R-3", "2026-04-02"), // a source the chart does not know: suspense
        credit(&v.id, "700.00", "DDS", "R-OLD", "2026-04-01"), // recorded before the batch: that posting
        credit(&v.id, "701.00", "DDS", "R-OLD", "2026-04-01"), // recorded before, other figures: refused
        credit(&v.id, "2000.00", "ADD", "R-2", "2026-04-01"), // earlier in the batch: that posting
        credit(&v.id, "2500.00", "ADD", "R-2", "2026-04-01"), // earlier in the batch, other figures: refused
        credit(&v.id, "50.00", "PAD", "R-4", "2026-04-02"),
        credit(&w.id, "8000.00", "DDS", "W-2", "2026-04-02"),
    ];
    let body = serde_json::json!({"items": items});
    let r = app.post("/api/v1/bank/credits/batch").token(&bank).key("run-1").json(&body).send().await;
    let answer = r.assert_status(200).clone();
    let results = answer["results"].as_array().unwrap();
    let statuses: Vec<i64> = results.iter().map(|x| x["status"].as_i64().unwrap()).collect();
    assert_eq!(statuses, vec![201, 201, 201, 201, 201, 409, 201, 409, 201, 201], "{answer}");
    assert_eq!(results[4]["transaction_id"], old.as_str());
    assert_eq!(results[6]["transaction_id"], results[1]["transaction_id"]);
    assert!(results[5]["detail"].as_str().unwrap().contains("already credited with"), "{}", results[5]);
    assert_eq!(results[7]["code"], "conflict");
    // To the rupiah, per account and per day (the trial balance sums the daily totals).
    assert_eq!(app.balance(&v, "1.1.1.02").await, "4050.00");
    assert_eq!(app.balance(&w, "1.1.1.02").await, "12000.00");
    async fn tb(app: &TestApp, village: &Village, at: &str) -> [(String, String); 5] {
        let r = app
            .get(&format!("/api/v1/villages/{}/reports/trial-balance?at={at}", village.id))
            .token(&village.treasurer)
            .send()
            .await;
        let r = r.assert_status(200).clone();
        assert_eq!(r["balanced"], true);
        let row = |code: &str| {
            let rows = r["accounts"]["rows"].as_array().unwrap();
            let row = rows.iter().find(|x| x["account_code"] == code).unwrap();
            (row["debit"].as_str().unwrap().to_string(), row["credit"].as_str().unwrap().to_string())
        };
        ["1.1.1.02", "4.2.1.01", "4.2.3.01", "2.1.9.99", "4.1.4.01"].map(row)
    }
    let pair = |d: &str, c: &str| (d.to_string(), c.to_string());
    let z = "0.00";
    assert_eq!(
        tb(&app, &v, "2026-04-01").await,
        [pair("3700.00", z), pair(z, "1700.00"), pair(z, "2000.00"), pair(z, z), pair(z, z)]
    );
    assert_eq!(
        tb(&app, &v, "2026-04-02").await,
        [pair("4050.00", z), pair(z, "1700.00"), pair(z, "2000.00"), pair(z, "300.00"), pair(z, "50.00")]
    );
    assert_eq!(tb(&app, &w, "2026-04-01").await[0], pair("4000.00", z));
    assert_eq!(tb(&app, &w, "2026-04-02").await[0], pair("12000.00", z));
    // Numbered without gaps, chained, and the same answer when the batch is sent again.
    let list = app.get(&format!("/api/v1/villages/{}/transactions?limit=50", v.id)).token(&v.treasurer).send().await;
    let mut seqs: Vec<i64> =
        list.assert_status(200)["items"].as_array().unwrap().iter().map(|t| t["seq"].as_i64().unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs.len(), 5, "the earlier credit and four of the batch");
    assert!(seqs.windows(2).all(|p| p[1] == p[0] + 1), "{seqs:?}");
    let again = app.post("/api/v1/bank/credits/batch").token(&bank).key("run-1").json(&body).send().await;
    assert_eq!(again.assert_status(200).clone(), answer);
    assert_eq!(app.balance(&v, "1.1.1.02").await, "4050.00");
    for village in [&v, &w] {
        assert_eq!(app.verify(village).await["ok"], true);
    }
}

#[tokio::test]
async fn a_batch_posts_or_refuses_each_credit_alone_and_replays() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let w = app.create_village(&regency, "61.12.01.2002", "5000000.00").await;
    let outside = app.create_village(&regency, "61.12.01.2003", "5000000.00").await;
    let bank = app.bank(&[&v.id, &w.id]).await;
    let credit = |village: &str, amount: &str, reference: &str| {
        serde_json::json!({"village_id": village, "amount": amount, "source": "DDS", "bank_reference": reference,
                           "value_date": "2026-04-01", "description": "Penyaluran"})
    };
    // 300 good credits over two villages (Rp 1,000 + i each), then the refusals.
    let mut items: Vec<serde_json::Value> = (0..300)
        .map(|i| credit(if i % 2 == 0 { &v.id } else { &w.id }, &format!("{}.00", 1000 + i), &format!("B-{i:04}")))
        .collect();
    items.push(credit(&outside.id, "5000.00", "B-OUT")); // another bank's village
    items.push(credit(&v.id, "-5.00", "B-NEG")); // not an amount
    items.push(credit(&v.id, "9999.00", "B-0000")); // a reference already posted with other figures
    items.push(credit(&v.id, "1000.00", "B-0000")); // the same bank transaction again: answered with the first
    items.push(serde_json::json!({"village_id": v.id})); // not a credit
    let body = serde_json::json!({"items": items});
    let r = app.post("/api/v1/bank/credits/batch").token(&bank).key("batch-1").json(&body).send().await;
    let answer = r.assert_status(200).clone();
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 305);
    assert!(results[..300].iter().all(|x| x["status"] == 201 && x["transaction_id"].is_string()));
    let tail: Vec<(i64, &str)> =
        results[300..].iter().map(|x| (x["status"].as_i64().unwrap(), x["code"].as_str().unwrap_or(""))).collect();
    assert_eq!(
        tail,
        vec![(404, "not_found"), (422, "invalid_amount"), (409, "conflict"), (201, ""), (422, "validation_failed")]
    );
    assert_eq!(results[303]["transaction_id"], results[0]["transaction_id"], "the same posting as the first");
    // To the rupiah: Σ(1000 + i) over even i < 300 into v, over odd i into w.
    let even: i64 = (0..300).filter(|i| i % 2 == 0).map(|i| 1000 + i).sum();
    let odd: i64 = (0..300).filter(|i| i % 2 == 1).map(|i| 1000 + i).sum();
    assert_eq!(app.balance(&v, "1.1.1.02").await, format!("{even}.00"));
    assert_eq!(app.balance(&w, "1.1.1.02").await, format!("{odd}.00"));
    // Retried with the same key: the same answer, nothing posted again.
    let again = app.post("/api/v1/bank/credits/batch").token(&bank).key("batch-1").json(&body).send().await;
    assert_eq!(again.assert_status(200).clone(), answer);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.balance(&v, "1.1.1.02").await, format!("{even}.00"));
    // The key with another batch: a conflict; more than 1,000 items or none: refused whole.
    let other = serde_json::json!({"items": [credit(&v.id, "1.00", "B-X")]});
    app.post("/api/v1/bank/credits/batch")
        .token(&bank)
        .key("batch-1")
        .json(&other)
        .send()
        .await
        .assert_problem(409, "idempotency_conflict");
    let many: Vec<serde_json::Value> = (0..1001).map(|i| credit(&v.id, "1.00", &format!("M-{i}"))).collect();
    app.post("/api/v1/bank/credits/batch")
        .token(&bank)
        .key("batch-2")
        .json(&serde_json::json!({"items": many}))
        .send()
        .await
        .assert_problem(422, "validation_failed");
    app.post("/api/v1/bank/credits/batch")
        .token(&bank)
        .key("batch-3")
        .json(&serde_json::json!({"items": []}))
        .send()
        .await
        .assert_problem(422, "validation_failed");
    for village in [&v, &w] {
        assert_eq!(app.verify(village).await["ok"], true);
    }
}
