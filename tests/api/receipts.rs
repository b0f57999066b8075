//! One SPP, many receipts: a month's daily wages as one request with 25 payees, one approval, one transfer per
//! receipt; one fails and is re-released alone; partly paid requests; cancelling what failed; tamper evidence.
//! Figures to the rupiah.

use crate::chain::raw_sql;
use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::{json, Value};

fn wages(n: usize, taxed: usize) -> Value {
    let receipts: Vec<Value> = (1..=n)
        .map(|i| {
            let withholdings = if i <= taxed { json!([{"tax": "PPH21", "amount": "20000.00"}]) } else { json!([]) };
            json!({"payee": {"name": format!("Pekerja {i}"), "bank_code": "123", "account_number": format!("100000{i:04}")},
                   "description": format!("Upah harian pekerja {i}"),
                   "lines": [{"account_code": "5.2.1.07", "source": "DDS", "amount": "400000.00", "withholdings": withholdings}]})
        })
        .collect();
    json!({"activity_code": "02.03.10", "description": "Upah pekerja rehabilitasi jalan, Maret", "receipts": receipts})
}

async fn released(app: &TestApp, bank: &str, payment: &str) -> Vec<Value> {
    let r = app.get("/api/v1/bank/transfers?status=released&limit=200").token(bank).send().await;
    r.assert_status(200)["items"].as_array().unwrap().iter().filter(|t| t["payment_id"] == payment).cloned().collect()
}

async fn settle(app: &TestApp, bank: &str, t: &Value, paid: bool) {
    let id = t["id"].as_str().unwrap();
    let body = if paid {
        json!({"status": "paid", "bank_reference": format!("TRF-{id}"), "value_date": "2026-04-10"})
    } else {
        json!({"status": "failed", "bank_reference": format!("TRF-{id}"), "value_date": "2026-04-10", "reason": "rekening ditutup"})
    };
    app.bank_result(bank, id, &format!("res-{id}-{paid}"), &body).await.assert_status(200);
}

#[tokio::test]
async fn twenty_five_receipts_one_failed_and_re_released() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "300000000.00", "DDS", "DDS-1").await.assert_status(201);

    let p = app.draft(&v, &wages(25, 5)).await;
    let spp = app.payment(&v, &p).await;
    assert_eq!(spp["number"], "0001/SPP/61.12.01.2001/2026");
    // 25 × 400,000 gross; 5 × 20,000 PPh 21 withheld.
    assert_eq!(
        (spp["gross"].as_str(), spp["withheld"].as_str(), spp["net"].as_str()),
        (Some("10000000.00"), Some("100000.00"), Some("9900000.00"))
    );
    let receipts = spp["receipts"].as_array().unwrap().clone();
    assert_eq!(receipts.len(), 25);
    assert_eq!(receipts[0]["number"], "0001/KW/61.12.01.2001/2026");
    assert_eq!(receipts[24]["number"], "0025/KW/61.12.01.2001/2026");
    assert_eq!((receipts[0]["net"].as_str(), receipts[24]["net"].as_str()), (Some("380000.00"), Some("400000.00")));
    assert!(receipts.iter().all(|r| r["status"] == "pending"));

    // One approval for all of them.
    app.approve_chain(&v, &p).await;
    assert_eq!(line(&app.budget(&v).await, "5.2.1.07")["committed"], "10000000.00");
    app.act(&v.treasurer, &p, "release", None).await.assert_status(200);
    let out = released(&app, &bank, &p).await;
    assert_eq!(out.len(), 25, "one transfer per receipt");
    let thirteen = out.iter().find(|t| t["payee"]["name"] == "Pekerja 13").unwrap().clone();
    assert_eq!(
        (thirteen["amount"].as_str(), thirteen["receipt_number"].as_str()),
        (Some("400000.00"), Some("0013/KW/61.12.01.2001/2026"))
    );
    assert_eq!(thirteen["payee"]["account_number"], "1000000013");

    for t in &out {
        settle(&app, &bank, t, t["id"] != thirteen["id"]).await;
        if t["id"] == out[0]["id"] {
            assert_eq!(app.payment(&v, &p).await["status"], "released", "still out: the rest");
        }
    }
    let after = app.payment(&v, &p).await;
    assert_eq!(after["status"], "partially_paid");
    // Paid: 9,900,000 - 400,000; realised 24 × 400,000; receipt 13 still committed.
    assert_eq!(app.balance(&v, "1.1.1.02").await, "290500000.00");
    assert_eq!(app.balance(&v, "2.1.3.02").await, "100000.00");
    let l = line(&app.budget(&v).await, "5.2.1.07").clone();
    assert_eq!((l["committed"].as_str(), l["realised"].as_str()), (Some("400000.00"), Some("9600000.00")));

    // Released again: the failed receipt only.
    app.act(&v.treasurer, &p, "release", None).await.assert_status(200);
    let again = released(&app, &bank, &p).await;
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["payee"]["name"], "Pekerja 13");
    settle(&app, &bank, &again[0], true).await;
    assert_eq!(app.payment(&v, &p).await["status"], "paid");
    assert_eq!(app.balance(&v, "1.1.1.02").await, "290100000.00");
    let l = line(&app.budget(&v).await, "5.2.1.07").clone();
    assert_eq!((l["committed"].as_str(), l["realised"].as_str()), (Some("0.00"), Some("10000000.00")));
    // One book row per receipt: 25 disbursements, each numbered with the SPP.
    let book =
        app.get(&format!("/api/v1/villages/{}/reports/cash-book?year=2026", v.id)).token(&v.secretary).send().await;
    let rows = book.assert_status(200)["entries"]["rows"].as_array().unwrap().clone();
    let wages_rows = rows.iter().filter(|r| r["account_code"] == "5.2.1.07").count();
    assert_eq!(wages_rows, 25);
    // Register SPP: one request for its 25 payees; Buku Pembantu Kegiatan: 25 entries of the road works.
    let register =
        app.get(&format!("/api/v1/villages/{}/reports/spp-register?year=2026", v.id)).token(&v.head).send().await;
    let register = register.assert_status(200)["requests"].clone();
    let rows = register["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0]["number"].as_str(), rows[0]["payee"].as_str(), rows[0]["status"].as_str()),
        (Some("0001/SPP/61.12.01.2001/2026"), Some("25 penerima"), Some("paid"))
    );
    assert_eq!(
        (register["totals"]["gross"].as_str(), register["totals"]["net"].as_str()),
        (Some("10000000.00"), Some("9900000.00"))
    );
    let activities =
        app.get(&format!("/api/v1/villages/{}/reports/activities?year=2026", v.id)).token(&v.head).send().await;
    let entries = activities.assert_status(200)["entries"].clone();
    let rows = entries["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 25);
    // Each payee's payment is booked under its own kuitansi number (No Bukti).
    assert!(
        rows.iter()
            .all(|r| r["activity_code"] == "02.03.10"
                && r["voucher"].as_str().unwrap().contains("/KW/61.12.01.2001/2026"))
    );
    let vouchers: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["voucher"].as_str().unwrap()).collect();
    assert_eq!(vouchers.len(), 25, "{vouchers:?}");
    let bku = app.get(&format!("/api/v1/villages/{}/reports/cash-book?year=2026", v.id)).token(&v.head).send().await;
    assert!(bku.assert_status(200).to_string().contains("0013/KW/61.12.01.2001/2026"), "the cash book too");
    assert_eq!(rows[24]["cumulative"], "10000000.00");
    assert_eq!(entries["totals"]["amount"], "10000000.00");
    assert_eq!(app.verify(&v).await["ok"], true);
    // The printed SPP carries a kuitansi row per payee, with the amount in words.
    let doc =
        crate::pdf::pdf(&app, &v.head, &format!("/api/v1/payments/{p}/document?format=pdf"), "spp-receipts.pdf").await;
    let doc = crate::pdf::squeezed(&doc.concat());
    for s in ["0013/KW/61.12.01.2001/2026", "Pekerja13", "Empatratusriburupiah", "9.900.000,00"] {
        assert!(doc.contains(s), "{s} missing from the printed SPP");
    }

    // A receipt's payee edited in the database no longer matches the trail.
    raw_sql(
        &app,
        "UPDATE receipts SET payee_account_number = '999' WHERE receipt_no = 7",
        "UPDATE receipts SET payee_account_number = '999' WHERE receipt_no = 7",
    )
    .unwrap();
    let report = app.verify(&v).await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["payment_mismatches"], json!([p]));
}

#[tokio::test]
async fn a_partly_paid_request_cancels_what_failed() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "300000000.00", "DDS", "DDS-1").await.assert_status(201);
    let p = app.draft(&v, &wages(3, 0)).await;
    app.approve_chain(&v, &p).await;
    app.post(&format!("/api/v1/payments/{p}/pay-cash"))
        .token(&v.treasurer)
        .json(&json!({"value_date": "2026-04-10"}))
        .send()
        .await
        .assert_problem(422, "validation_failed");
    app.act(&v.treasurer, &p, "release", None).await.assert_status(200);
    let out = released(&app, &bank, &p).await;
    settle(&app, &bank, &out[0], true).await;
    settle(&app, &bank, &out[1], false).await;
    settle(&app, &bank, &out[2], false).await;
    assert_eq!(app.payment(&v, &p).await["status"], "partially_paid");
    app.act(&v.implementer, &p, "cancel", Some("batal")).await.assert_problem(403, "forbidden");
    app.act(&v.head, &p, "cancel", Some("pekerja tidak punya rekening aktif")).await.assert_status(200);
    let after = app.payment(&v, &p).await;
    assert_eq!(after["status"], "paid");
    let statuses: Vec<&str> =
        after["receipts"].as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "cancelled").count(), 2);
    let l = line(&app.budget(&v).await, "5.2.1.07").clone();
    assert_eq!((l["committed"].as_str(), l["realised"].as_str()), (Some("0.00"), Some("400000.00")));
    assert_eq!(app.balance(&v, "1.1.1.02").await, "299600000.00");
    assert_eq!(app.verify(&v).await["ok"], true);
}

#[tokio::test]
async fn receipts_are_checked_like_payees() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let post = |body: Value| {
        app.post(&format!("/api/v1/villages/{}/payments", v.id))
            .token(&v.implementer)
            .key(&uuid::Uuid::new_v4().to_string())
            .json(&body)
            .send()
    };
    let mut none = wages(1, 0);
    none["receipts"] = json!([]);
    post(none).await.assert_problem(422, "validation_failed");
    let mut both = wages(2, 0);
    both["payee"] = json!({"name": "CV", "bank_code": "123", "account_number": "1"});
    post(both).await.assert_problem(422, "validation_failed");
    let mut bad = wages(3, 0);
    bad["receipts"][1]["payee"]["account_number"] = json!("");
    let r = post(bad).await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("receipts[1]"), "{}", r.body);
    post(wages(501, 0)).await.assert_problem(422, "validation_failed");
    let mut unknown = wages(2, 0);
    unknown["receipts"][1]["lines"][0]["account_code"] = json!("5.9.9.99");
    post(unknown).await.assert_problem(422, "unknown_account");
}
