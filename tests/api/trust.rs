//! No lone rewrites of money (issue: trust): one official cannot undo what the bank did, cannot move realised
//! spending between budget lines, and the bank's value date ties a payment to its fiscal year.

use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::json;

#[tokio::test]
async fn bank_facts_are_not_reversed_by_hand_and_spending_is_not_moved() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    let credit = app.credit(&bank, &v, "50000000.00", "DDS", "DDS-1").await;
    let credit_id = credit.assert_status(201)["id"].as_str().unwrap().to_string();
    let p = app.pay_through(&v, &bank, &materials_spp(), "TRF-1", "2026-04-10").await;
    let disbursement = app.payment(&v, &p).await["transaction_id"].as_str().unwrap().to_string();
    let fee = app
        .post("/api/v1/bank/entries")
        .token(&bank)
        .key("fee")
        .json(&json!({"village_id": v.id, "lines": [{"kind": "admin_fee", "amount": "15000.00", "bank_reference": "ADM-04", "value_date": "2026-04-30"}]}))
        .send()
        .await;
    let fee_id = fee.assert_status(200)["results"][0]["transaction_id"].as_str().unwrap().to_string();
    let before = app.balance(&v, "1.1.1.02").await;
    for (what, id) in [("disbursement", &disbursement), ("bank credit", &credit_id), ("bank entry", &fee_id)] {
        let r = app
            .post(&format!("/api/v1/transactions/{id}/reverse"))
            .token(&v.treasurer)
            .json(&json!({"reason": "koreksi"}))
            .send()
            .await;
        r.assert_problem(422, "validation_failed");
        assert!(r.body["detail"].as_str().unwrap().contains("bank"), "{what}: {}", r.body);
    }
    assert_eq!(app.balance(&v, "1.1.1.02").await, before, "nothing was reversed");
    assert_eq!(app.payment(&v, &p).await["status"], "paid");
    // A receipt the treasurer recorded is still theirs to reverse.
    let own = app.post_txn(&v, &receipt("1000.00", "4.1.4.01")).await;
    let own = own.assert_status(201)["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/transactions/{own}/reverse"))
        .token(&v.treasurer)
        .json(&json!({"reason": "salah catat"}))
        .send()
        .await
        .assert_status(201);

    // Realised spending cannot be moved to another line by an adjustment.
    let shift = json!({"kind": "adjustment", "value_date": "2026-04-11", "description": "pindah baris",
        "entries": [{"account_code": "5.2.2.01", "side": "debit", "amount": "11100000.00", "activity_code": "01.01.04", "source": "ADD"},
                    {"account_code": "5.2.1.07", "side": "credit", "amount": "11100000.00", "activity_code": "02.03.10", "source": "DDS"}]});
    let r = app.post_txn(&v, &shift).await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("spending"), "{}", r.body);
    assert_eq!(app.balance(&v, "5.2.1.07").await, "11100000.00");
    assert_eq!(app.verify(&v).await["ok"], true);
}

#[tokio::test]
async fn a_payment_is_paid_in_its_own_fiscal_year() {
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
    let tid = t["id"].as_str().unwrap();
    for date in ["2021-04-10", "2025-12-31"] {
        let r = app
            .bank_result(
                &bank,
                tid,
                &format!("r-{date}"),
                &json!({"status": "paid", "bank_reference": "TRF-1", "value_date": date}),
            )
            .await;
        r.assert_problem(422, "validation_failed");
    }
    assert_eq!(app.payment(&v, &p).await["status"], "released", "the transfer waits for a result in its year");
    let years = app.get(&format!("/api/v1/villages/{}/fiscal-years", v.id)).token(&v.head).send().await;
    assert!(!years.assert_status(200).as_array().unwrap().iter().any(|y| y["year"] == 2021), "no year was opened");
    app.bank_result(
        &bank,
        tid,
        "r-ok",
        &json!({"status": "paid", "bank_reference": "TRF-1", "value_date": "2026-04-10"}),
    )
    .await
    .assert_status(200);
    assert_eq!(app.payment(&v, &p).await["status"], "paid");
}
