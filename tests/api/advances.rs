//! Advances (panjar) and their accountability (SPJ): an advance of 20,000,000 commits without realising; its SPJ
//! spends 18,500,000 net on two receipts (one with PPh 22 withheld) and returns 1,500,000; a year with an advance
//! not accounted for does not close. Figures to the rupiah.

use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::{json, Value};

fn advance(year: i32) -> Value {
    json!({"kind": "advance", "activity_code": "02.03.10", "fiscal_year": year,
           "description": "Panjar kegiatan rehabilitasi jalan dusun II (swakelola)",
           "payee": {"name": "Budi (Ketua TPK)", "bank_code": "123", "account_number": "2001002003"},
           "lines": [{"account_code": "5.2.1.07", "source": "DDS", "amount": "20000000.00"}]})
}

fn spj(returned: &str, date: &str) -> Value {
    json!({"value_date": date, "returned": returned, "receipts": [
        {"payee": "Toko Bangunan Sinar", "npwp": "01.234.567.8-901.000", "description": "Semen dan pasir",
         "lines": [{"account_code": "5.2.1.07", "source": "DDS", "amount": "12166500.00",
                    "withholdings": [{"tax": "PPH22", "amount": "166500.00"}]}]},
        {"payee": "Upah tukang (daftar hadir)", "lines": [{"account_code": "5.3.5.01", "source": "DDS", "amount": "6500000.00"}]}
    ]})
}

async fn account(app: &TestApp, token: &str, p: &str, body: &Value) -> Resp {
    app.post(&format!("/api/v1/payments/{p}/accountability")).token(token).json(body).send().await
}

#[tokio::test]
async fn an_advance_is_paid_then_accounted_for_with_the_rest_returned() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "300000000.00", "DDS", "DDS-1").await.assert_status(201);

    let mut taxed = advance(2026);
    taxed["lines"][0]["withholdings"] = json!([{"tax": "PPH22", "amount": "1.00"}]);
    let r = app
        .post(&format!("/api/v1/villages/{}/payments", v.id))
        .token(&v.implementer)
        .key("taxed")
        .json(&taxed)
        .send()
        .await;
    r.assert_problem(422, "validation_failed");

    let p = app.pay_through(&v, &bank, &advance(2026), "TRF-UM-1", "2026-04-10").await;
    let paid = app.payment(&v, &p).await;
    assert_eq!((paid["status"].as_str(), paid["kind"].as_str()), (Some("paid"), Some("advance")));
    assert_eq!(paid["number"], "0001/SPP-UM/61.12.01.2001/2026");
    // Paid out, still committed, nothing realised: the advance is outstanding.
    assert_eq!(app.balance(&v, "1.1.1.02").await, "280000000.00");
    assert_eq!(app.balance(&v, "1.1.4.01").await, "20000000.00");
    assert_eq!(app.balance(&v, "5.2.1.07").await, "0.00");
    let l = line(&app.budget(&v).await, "5.2.1.07").clone();
    assert_eq!((l["committed"].as_str(), l["realised"].as_str()), (Some("20000000.00"), Some("0.00")));

    // Paid Friday 10 April: the SPJ is due ten working days later, on 24 April; the regency sees it the day after.
    let inspector = app.inspector(&regency, "inspektur").await;
    let overdue = |as_of: &'static str| {
        let (app, inspector, regency) = (&app, inspector.clone(), regency.clone());
        async move {
            let r = app
                .get(&format!("/api/v1/regencies/{regency}/anomalies?year=2026&as_of={as_of}"))
                .token(&inspector)
                .send()
                .await;
            let items = r.assert_status(200)["items"].as_array().unwrap().clone();
            items.into_iter().filter(|i| i["rule"] == "advance_not_accounted").count()
        }
    };
    assert_eq!(overdue("2026-04-24").await, 0);
    assert_eq!(overdue("2026-04-25").await, 1);

    // The SPJ is the implementer's, and must clear the advance exactly.
    account(&app, &v.secretary, &p, &spj("1500000.00", "2026-04-20")).await.assert_problem(403, "forbidden");
    let r = account(&app, &v.implementer, &p, &spj("1000000.00", "2026-04-20")).await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("must equal the advance"), "{}", r.body);
    account(&app, &v.implementer, &p, &spj("-1500000.00", "2026-04-20")).await.assert_problem(422, "validation_failed");
    account(&app, &v.implementer, &p, &spj("1,5", "2026-04-20")).await.assert_problem(422, "invalid_amount");
    // Paid out on 10 April: its spending cannot be accounted for on the 9th.
    let early = account(&app, &v.implementer, &p, &spj("1500000.00", "2026-04-09")).await;
    early.assert_problem(422, "validation_failed");
    assert!(early.body["detail"].as_str().unwrap().contains("before"), "{}", early.body);
    let done = account(&app, &v.implementer, &p, &spj("1500000.00", "2026-04-20")).await;
    assert_eq!(done.assert_status(200)["status"], "accounted");
    // 12,000,000 + 6,500,000 net spent, 1,500,000 back in the bank, the tax owed, the advance cleared.
    assert_eq!(app.balance(&v, "1.1.4.01").await, "0.00");
    assert_eq!(app.balance(&v, "1.1.1.02").await, "281500000.00");
    assert_eq!(app.balance(&v, "2.1.3.03").await, "166500.00");
    assert_eq!(app.balance(&v, "5.2.1.07").await, "12166500.00");
    assert_eq!(app.balance(&v, "5.3.5.01").await, "6500000.00");
    let budget = app.budget(&v).await;
    let (materials, wages) = (line(&budget, "5.2.1.07").clone(), line(&budget, "5.3.5.01").clone());
    assert_eq!((materials["committed"].as_str(), materials["realised"].as_str()), (Some("0.00"), Some("12166500.00")));
    assert_eq!(wages["realised"], "6500000.00");
    account(&app, &v.implementer, &p, &spj("1500000.00", "2026-04-20")).await.assert_problem(409, "invalid_transition");
    let trail = app.payment(&v, &p).await;
    let last = trail["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "account");
    assert!(last["note"].as_str().unwrap().contains("2 kuitansi"), "{last}");
    assert_eq!(overdue("2026-04-25").await, 0, "accounted for");
    // Buku Pembantu Panjar: paid out, accounted for and returned; nothing left to account for.
    let book = app.get(&format!("/api/v1/villages/{}/reports/advances?year=2026", v.id)).token(&inspector).send().await;
    let book = book.assert_status(200).clone();
    let rows = book["advances"]["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2, "{book}");
    assert_eq!((rows[0]["advanced"].as_str(), rows[0]["balance"].as_str()), (Some("20000000.00"), Some("20000000.00")));
    assert_eq!(
        (rows[1]["accounted"].as_str(), rows[1]["returned"].as_str(), rows[1]["balance"].as_str()),
        (Some("18500000.00"), Some("1500000.00"), Some("0.00"))
    );
    assert_eq!(rows[0]["implementer_name"], "implementer-61-12-01-2001");
    assert_eq!(book["outstanding"], "0.00");
    assert_eq!(app.verify(&v).await["ok"], true);
}

#[tokio::test]
async fn a_year_with_an_advance_not_accounted_for_does_not_close() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let mut budget = standard_budget();
    budget["lines"].as_array_mut().unwrap().retain(|l| l["account_code"] != "5.2.2.01");
    app.req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/budgets/2025", v.id))
        .token(&v.treasurer)
        .json(&budget)
        .send()
        .await
        .assert_status(200);
    app.post(&format!("/api/v1/villages/{}/budgets/2025/adopt", v.id)).token(&v.head).send().await.assert_status(200);
    let bank = app.bank(&[&v.id]).await;
    app.post("/api/v1/bank/credits")
        .token(&bank)
        .key("dds-2025")
        .json(&json!({"village_id": v.id, "amount": "100000000.00", "source": "DDS", "bank_reference": "DDS-2025",
                      "value_date": "2025-03-01", "description": "Dana Desa"}))
        .send()
        .await
        .assert_status(201);
    let p = app.pay_through(&v, &bank, &advance(2025), "TRF-UM-2025", "2025-06-10").await;
    let close = || app.post(&format!("/api/v1/villages/{}/fiscal-years/2025/close", v.id)).token(&v.head).send();
    let r = close().await;
    r.assert_problem(409, "conflict");
    assert!(r.body["detail"].as_str().unwrap().contains("not yet accounted for"), "{}", r.body);
    account(&app, &v.implementer, &p, &spj("1500000.00", "2025-06-20")).await.assert_status(200);
    let closed = close().await;
    // 100,000,000 - 20,000,000 + 1,500,000 returned - 166,500 tax owed.
    assert_eq!(closed.assert_status(200)["silpa"], "81333500.00");
}

/// The SQLite migration that admits advances rebuilds the payments table: run on a database full of requests (down,
/// then up again, as an upgrade would), every request, line, event and transfer is still there and the chain holds.
#[tokio::test]
async fn the_payments_table_rebuild_keeps_every_request() {
    let app = spawn_app().await;
    if !app.database_url.starts_with("sqlite://") {
        return; // PostgreSQL changes the constraint in place.
    }
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "300000000.00", "DDS", "DDS-1").await.assert_status(201);
    let p = app.pay_through(&v, &bank, &materials_spp(), "TRF-1", "2026-04-10").await;
    let before = app.payment(&v, &p).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite/2026-12-02-000009_advance_kind");
    for step in ["down.sql", "up.sql"] {
        let sql = std::fs::read_to_string(dir.join(step)).unwrap();
        crate::chain::raw_sql(&app, &sql, "").unwrap();
    }
    assert_eq!(app.payment(&v, &p).await, before);
    assert_eq!(app.verify(&v).await["ok"], true);
    let r = app
        .post(&format!("/api/v1/villages/{}/payments", v.id))
        .token(&v.implementer)
        .key("after-rebuild")
        .json(&advance(2026))
        .send()
        .await;
    r.assert_status(201);
}
