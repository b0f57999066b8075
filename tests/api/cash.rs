//! Payments from cash in hand (`pay-cash`): within the regency's per-payment limit and the cash the treasurer holds,
//! posted and realised as a bank payment would be, and listed for the regency.

use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::{json, Value};

async fn pay_cash(app: &TestApp, token: &str, payment: &str, date: &str) -> Resp {
    app.post(&format!("/api/v1/payments/{payment}/pay-cash"))
        .token(token)
        .json(&json!({"value_date": date}))
        .send()
        .await
}

fn small(amount: &str, withholdings: Value) -> Value {
    let mut body = spp("5.2.1.07", "02.03.10", "DDS", amount, withholdings);
    body["description"] = json!("Upah tukang harian");
    body
}

#[tokio::test]
async fn cash_payments_within_the_regencys_limit_and_the_cash_in_hand() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "50000000.00", "DDS", "DDS-1").await.assert_status(201);
    app.post_txn(&v, &withdrawal("3000000.00")).await.assert_status(201);

    let a = app.draft(&v, &small("1500000.00", json!([{"tax": "PPH22", "amount": "22500.00"}]))).await;
    app.approve_chain(&v, &a).await;
    // Until the regency sets a limit, nothing is paid in cash.
    pay_cash(&app, &v.treasurer, &a, "2026-05-02").await.assert_problem(422, "cash_limit_exceeded");
    let r = app
        .req(reqwest::Method::PATCH, &format!("/api/v1/regencies/{regency}"))
        .token(&app.admin_token)
        .json(&json!({"cash_payment_limit": "2000000.00"}))
        .send()
        .await;
    assert_eq!(r.assert_status(200)["cash_payment_limit"], "2000000.00");

    pay_cash(&app, &v.implementer, &a, "2026-05-02").await.assert_problem(403, "forbidden");
    pay_cash(&app, &v.head, &a, "2026-05-02").await.assert_problem(403, "forbidden");
    pay_cash(&app, &v.treasurer, &a, "2025-12-31").await.assert_problem(422, "validation_failed");
    let paid = pay_cash(&app, &v.treasurer, &a, "2026-05-02").await;
    assert_eq!(paid.assert_status(200)["status"], "paid");
    assert!(paid.body["transaction_id"].is_string(), "{}", paid.body);
    // 3,000,000 - (1,500,000 - 22,500); the tax is owed; the bank is untouched; the line realised.
    assert_eq!(app.balance(&v, "1.1.1.01").await, "1522500.00");
    assert_eq!(app.balance(&v, "2.1.3.03").await, "22500.00");
    assert_eq!(app.balance(&v, "1.1.1.02").await, "47000000.00");
    let budget = app.budget(&v).await;
    let materials = line(&budget, "5.2.1.07");
    assert_eq!((materials["committed"].as_str(), materials["realised"].as_str()), (Some("0.00"), Some("1500000.00")));
    let trail = app.payment(&v, &a).await;
    let last = trail["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["to"].as_str()), (Some("pay_cash"), Some("paid")), "{last}");
    pay_cash(&app, &v.treasurer, &a, "2026-05-02").await.assert_problem(409, "invalid_transition");
    app.act(&v.treasurer, &a, "release", None).await.assert_problem(409, "invalid_transition");

    // Above the regency's limit: refused, the request stays approved for the bank.
    let b = app.draft(&v, &small("2500000.00", json!([]))).await;
    app.approve_chain(&v, &b).await;
    pay_cash(&app, &v.treasurer, &b, "2026-05-03").await.assert_problem(422, "cash_limit_exceeded");
    // Within the limit but more than the cash in hand: refused, nothing moves.
    let c = app.draft(&v, &small("1800000.00", json!([]))).await;
    app.approve_chain(&v, &c).await;
    let short = pay_cash(&app, &v.treasurer, &c, "2026-05-03").await;
    short.assert_problem(422, "insufficient_funds");
    for id in [&b, &c] {
        assert_eq!(app.payment(&v, id).await["status"], "approved");
    }
    assert_eq!(app.balance(&v, "1.1.1.01").await, "1522500.00");
    let committed = line(&app.budget(&v).await, "5.2.1.07")["committed"].clone();
    assert_eq!(committed, "4300000.00");
    // The bank can still pay it.
    app.act(&v.treasurer, &c, "release", None).await.assert_status(200);

    // Taxes are never paid in cash.
    let dep = app
        .post(&format!("/api/v1/villages/{}/tax-deposits", v.id))
        .token(&v.treasurer)
        .key("dep")
        .json(&json!({"lines": [{"tax": "PPH22", "amount": "22500.00", "billing_code": "123456789012345"}]}))
        .send()
        .await;
    let dep = dep.assert_status(201)["id"].as_str().unwrap().to_string();
    app.deposit_chain(&v, &dep).await;
    pay_cash(&app, &v.treasurer, &dep, "2026-05-04").await.assert_problem(409, "invalid_transition");

    // The regency sees the cash payment.
    let inspector = app.inspector(&regency, "inspektur").await;
    let r = app
        .get(&format!("/api/v1/regencies/{regency}/anomalies?year=2026&as_of=2026-05-31"))
        .token(&inspector)
        .send()
        .await;
    let items = r.assert_status(200)["items"].as_array().unwrap().clone();
    let cash: Vec<&Value> = items.iter().filter(|i| i["rule"] == "cash_payment").collect();
    assert_eq!(cash.len(), 1, "{items:?}");
    assert_eq!(cash[0]["evidence"]["payment_id"], a.as_str());
    assert_eq!(cash[0]["evidence"]["amount"], "1477500.00");
    assert_eq!(app.verify(&v).await["ok"], true);
}
