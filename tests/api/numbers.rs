//! Human numbers for requests: gap-free per village, fiscal year and kind, unchanged by retries, unique under
//! concurrent drafting, and shown as No Bukti in the books.

use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;

async fn draft_with_key(app: &TestApp, v: &Village, body: &serde_json::Value, key: &str) -> serde_json::Value {
    let r =
        app.post(&format!("/api/v1/villages/{}/payments", v.id)).token(&v.implementer).key(key).json(body).send().await;
    assert!(r.status.as_u16() == 201, "{}", r.body);
    r.body.clone()
}

#[tokio::test]
async fn numbers_are_gap_free_per_village_year_and_kind() {
    let app = Arc::new(spawn_app().await);
    let regency = app.create_regency("61.12").await;
    let a = Arc::new(app.create_village(&regency, "61.12.01.2001", "10000000.00").await);
    let b = app.create_village(&regency, "61.12.01.2002", "10000000.00").await;
    app.adopt_budget(&a, &standard_budget()).await;
    let bank = app.bank(&[&a.id]).await;
    app.credit(&bank, &a, "50000000.00", "DDS", "DDS-1").await.assert_status(201);

    let body = spp("5.2.1.07", "02.03.10", "DDS", "1000000.00", json!([]));
    let first = draft_with_key(&app, &a, &body, "n-1").await;
    assert_eq!(first["number"], "0001/SPP/61.12.01.2001/2026");
    // A retry is answered with the same request and number: nothing is skipped.
    let again = draft_with_key(&app, &a, &body, "n-1").await;
    assert_eq!((again["id"].clone(), again["number"].clone()), (first["id"].clone(), first["number"].clone()));
    assert_eq!(draft_with_key(&app, &a, &body, "n-2").await["number"], "0002/SPP/61.12.01.2001/2026");
    assert_eq!(draft_with_key(&app, &b, &body, "n-b").await["number"], "0001/SPP/61.12.01.2002/2026");
    let mut last_year = body.clone();
    last_year["fiscal_year"] = json!(2025);
    assert_eq!(draft_with_key(&app, &a, &last_year, "n-2025").await["number"], "0001/SPP/61.12.01.2001/2025");

    // Twelve drafted at once take the next twelve numbers, each once.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (app, a, body) = (app.clone(), a.clone(), body.clone());
        tasks.push(tokio::spawn(
            async move { draft_with_key(&app, &a, &body, &format!("c-{i}")).await["number"].clone() },
        ));
    }
    let mut numbers = BTreeSet::new();
    for t in tasks {
        numbers.insert(t.await.unwrap().as_str().unwrap().to_string());
    }
    let expected: BTreeSet<String> = (3..=14).map(|n| format!("{n:04}/SPP/61.12.01.2001/2026")).collect();
    assert_eq!(numbers, expected);

    // A tax deposit has its own series; the books show the numbers as No Bukti.
    let p = app.pay_through(&a, &bank, &materials_spp(), "TRF-1", "2026-04-10").await;
    let number = app.payment(&a, &p).await["number"].as_str().unwrap().to_string();
    assert_eq!(number, "0015/SPP/61.12.01.2001/2026");
    let dep = app
        .post(&format!("/api/v1/villages/{}/tax-deposits", a.id))
        .token(&a.treasurer)
        .key("dep")
        .json(&json!({"lines": [{"tax": "PPN", "amount": "1000000.00", "billing_code": "123456789012345"}]}))
        .send()
        .await;
    assert_eq!(dep.assert_status(201)["number"], "0001/SSP/61.12.01.2001/2026");
    let book =
        app.get(&format!("/api/v1/villages/{}/reports/cash-book?year=2026", a.id)).token(&a.secretary).send().await;
    let rows = book.assert_status(200)["entries"]["rows"].as_array().unwrap().clone();
    assert!(rows.iter().any(|r| r["voucher"] == number.as_str()), "{rows:?}");
    assert_eq!(app.verify(&a).await["ok"], true);
}
