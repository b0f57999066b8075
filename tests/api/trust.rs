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
async fn a_payment_is_paid_in_its_own_fiscal_year_and_not_before_its_release() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "50000000.00", "DDS", "DDS-1").await.assert_status(201);
    let p = app.draft(&v, &materials_spp()).await;
    app.approve_chain(&v, &p).await;
    // Released on 10 April: the bank cannot have paid it on the 9th.
    app.office_day("2026-04-10");
    app.act(&v.treasurer, &p, "release", None).await.assert_status(200);
    let t = app.transfer_of(&bank, &p).await;
    assert_eq!(t["released_on"], "2026-04-10", "{t}");
    let tid = t["id"].as_str().unwrap();
    let early = app
        .bank_result(
            &bank,
            tid,
            "r-early",
            &json!({"status": "paid", "bank_reference": "TRF-1", "value_date": "2026-04-09"}),
        )
        .await;
    early.assert_problem(422, "validation_failed");
    assert!(
        early.body["detail"].as_str().unwrap().contains("before the transfer was released on 2026-04-10"),
        "{}",
        early.body
    );
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

/// One world for the tamper tests: a village with a budget and funds, its bank, and a request approved and
/// released, waiting for the bank.
async fn released_world() -> (TestApp, Village, String, String, serde_json::Value) {
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
    (app, v, bank, p, t)
}

#[tokio::test]
async fn a_rejected_request_set_to_approved_in_the_database_is_not_released() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "50000000.00", "DDS", "DDS-1").await.assert_status(201);
    let p = app.draft(&v, &materials_spp()).await;
    for (token, action) in [(&v.implementer, "submit"), (&v.secretary, "verify")] {
        app.act(token, &p, action, None).await.assert_status(200);
    }
    app.act(&v.head, &p, "reject", Some("tidak sesuai RAB")).await.assert_status(200);
    let sql = format!("UPDATE payments SET status = 'approved' WHERE id = '{p}'");
    crate::chain::raw_sql(&app, &sql, &sql).unwrap();
    let r = app.act(&v.treasurer, &p, "release", None).await;
    r.assert_problem(409, "integrity_violation");
    assert!(r.body["detail"].as_str().unwrap().contains("status"), "{}", r.body);
    let report = app.verify(&v).await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["payment_mismatches"], json!([p]));
    let none = app.get("/api/v1/bank/transfers").token(&bank).send().await;
    assert_eq!(none.assert_status(200)["items"], json!([]), "nothing reached the bank");
}

#[tokio::test]
async fn a_transfer_amount_or_payee_changed_in_the_database_is_neither_served_nor_settled() {
    // The amount multiplied by 100 after release.
    let (app, v, bank, p, t) = released_world().await;
    let tid = t["id"].as_str().unwrap().to_string();
    assert_eq!(t["amount"], "9933500.00");
    let sql = format!("UPDATE transfers SET amount = amount * 100 WHERE id = '{tid}'");
    crate::chain::raw_sql(&app, &sql, &sql).unwrap();
    let served = app.get("/api/v1/bank/transfers").token(&bank).send().await;
    assert_eq!(served.assert_status(200)["items"], json!([]), "the inflated transfer is withheld from the bank");
    let r = app.bank_result(&bank, &tid, "res-x", &paid("TRF-X")).await;
    r.assert_problem(409, "integrity_violation");
    assert_eq!(app.payment(&v, &p).await["status"], "released", "nothing was settled");
    let report = app.verify(&v).await;
    assert_eq!(report["transfer_mismatches"], json!([tid]), "{report}");
    assert_eq!(report["ok"], false);

    // The payee's account changed after release: the request no longer matches its digest.
    let (app, v, bank, p, t) = released_world().await;
    let sql = format!("UPDATE payments SET payee_account_number = '999999999' WHERE id = '{p}'");
    crate::chain::raw_sql(&app, &sql, &sql).unwrap();
    let served = app.get("/api/v1/bank/transfers").token(&bank).send().await;
    assert_eq!(served.assert_status(200)["items"], json!([]));
    let r = app.bank_result(&bank, t["id"].as_str().unwrap(), "res-y", &paid("TRF-Y")).await;
    r.assert_problem(409, "integrity_violation");
    assert_eq!(app.verify(&v).await["payment_mismatches"], json!([p]));
}
