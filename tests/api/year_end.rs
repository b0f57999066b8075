//! Year end: a year closes only once it has ended and no transfer of it is in flight; its SiLPA (cash and bank at
//! 31 December less taxes owed) opens the next year as 6.1.1.01; the next year's trial balance holds none of the
//! last year's revenue and spending. Figures to the rupiah.

use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::{json, Value};

async fn trial_balance(app: &TestApp, v: &Village, at: &str) -> Vec<Value> {
    let r =
        app.get(&format!("/api/v1/villages/{}/reports/trial-balance?at={at}", v.id)).token(&v.secretary).send().await;
    let r = r.assert_status(200).clone();
    assert_eq!(r["balanced"], true, "{r}");
    r["accounts"]["rows"].as_array().unwrap().clone()
}

fn side(rows: &[Value], code: &str) -> (String, String) {
    let r = rows.iter().find(|r| r["account_code"] == code).unwrap_or_else(|| panic!("{code}"));
    (r["debit"].as_str().unwrap().to_string(), r["credit"].as_str().unwrap().to_string())
}

fn pair(d: &str, c: &str) -> (String, String) {
    (d.to_string(), c.to_string())
}

#[tokio::test]
async fn a_year_closes_with_its_silpa_carried_into_the_next() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let bank = app.bank(&[&v.id]).await;
    let budget = json!({"lines": [
        {"account_code": "4.2.1.01", "source": "DDS", "amount": "500000000.00"},
        {"account_code": "5.2.1.07", "activity_code": "02.03.10", "source": "DDS", "amount": "100000000.00"}]});
    app.req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/budgets/2025", v.id))
        .token(&v.treasurer)
        .json(&budget)
        .send()
        .await
        .assert_status(200);
    app.post(&format!("/api/v1/villages/{}/budgets/2025/adopt", v.id)).token(&v.head).send().await.assert_status(200);
    app.post("/api/v1/bank/credits")
        .token(&bank)
        .key("dds-2025")
        .json(&json!({"village_id": v.id, "amount": "100000000.00", "source": "DDS", "bank_reference": "DDS-2025",
                      "value_date": "2025-03-01", "description": "Dana Desa tahap I"}))
        .send()
        .await
        .assert_status(201);
    let mut body = materials_spp();
    body["fiscal_year"] = json!(2025);
    body["invoice_date"] = json!("2025-06-02");
    app.office_day("2025-06-02");
    let paid = app.draft(&v, &body).await;
    app.approve_chain(&v, &paid).await;
    app.act(&v.treasurer, &paid, "release", None).await.assert_status(200);
    let t = app.transfer_of(&bank, &paid).await;
    let result = json!({"status": "paid", "bank_reference": "TRF-2025-1", "value_date": "2025-06-10"});
    app.bank_result(&bank, t["id"].as_str().unwrap(), "r1", &result).await.assert_status(200);

    // A second request of 2025 is with the bank: the year may not close.
    let mut second = spp("5.2.1.07", "02.03.10", "DDS", "2000000.00", json!([]));
    second["fiscal_year"] = json!(2025);
    let second = app.draft(&v, &second).await;
    app.approve_chain(&v, &second).await;
    app.act(&v.treasurer, &second, "release", None).await.assert_status(200);
    let close = || app.post(&format!("/api/v1/villages/{}/fiscal-years/2025/close", v.id)).token(&v.head).send();
    let r = close().await;
    r.assert_problem(409, "conflict");
    assert!(r.body["detail"].as_str().unwrap().contains("not yet settled"), "{}", r.body);
    let t2 = app.transfer_of(&bank, &second).await;
    let failed = json!({"status": "failed", "bank_reference": "TRF-2025-2", "value_date": "2025-12-20", "reason": "rekening ditutup"});
    app.bank_result(&bank, t2["id"].as_str().unwrap(), "r2", &failed).await.assert_status(200);

    // The current year has not ended.
    app.post(&format!("/api/v1/villages/{}/fiscal-years/{}/close", v.id, chrono_year()))
        .token(&v.head)
        .send()
        .await
        .assert_problem(409, "conflict");

    // Bank 100,000,000 - 9,933,500 = 90,066,500; taxes owed 1,000,000 + 166,500: SiLPA 88,900,000.
    let r = close().await;
    let closed = r.assert_status(200).clone();
    assert_eq!(
        (closed["status"].as_str(), closed["silpa"].as_str()),
        (Some("closed"), Some("88900000.00")),
        "{closed}"
    );
    close().await.assert_problem(422, "fiscal_year_closed");
    let years = app.get(&format!("/api/v1/villages/{}/fiscal-years", v.id)).token(&v.head).send().await;
    let years = years.assert_status(200).as_array().unwrap().clone();
    let y2025 = years.iter().find(|y| y["year"] == 2025).unwrap();
    assert_eq!((y2025["silpa"].as_str(), y2025["silpa_transaction_id"].is_string()), (Some("88900000.00"), true));
    let carry = app
        .get(&format!("/api/v1/transactions/{}", y2025["silpa_transaction_id"].as_str().unwrap()))
        .token(&v.head)
        .send()
        .await;
    let carry = carry.assert_status(200).clone();
    assert_eq!((carry["value_date"].as_str(), carry["fiscal_year"].as_i64()), (Some("2026-01-01"), Some(2026)));

    // 31 December 2025: the year's revenue and spending.
    let tb = trial_balance(&app, &v, "2025-12-31").await;
    assert_eq!(side(&tb, "4.2.1.01"), pair("0.00", "100000000.00"));
    assert_eq!(side(&tb, "5.2.1.07"), pair("11100000.00", "0.00"));
    assert_eq!(side(&tb, "3.1.1.01"), pair("0.00", "0.00"));
    assert_eq!(side(&tb, "1.1.1.02"), pair("90066500.00", "0.00"));
    // 31 January 2026: none of 2025's revenue and spending; the SiLPA realised as financing; equity holds what is
    // left of 2025's result after the SiLPA (nothing: the village held no other balance).
    let tb = trial_balance(&app, &v, "2026-01-31").await;
    assert_eq!(side(&tb, "4.2.1.01"), pair("0.00", "0.00"));
    assert_eq!(side(&tb, "5.2.1.07"), pair("0.00", "0.00"));
    assert_eq!(side(&tb, "6.1.1.01"), pair("0.00", "88900000.00"));
    assert_eq!(side(&tb, "3.1.1.01"), pair("0.00", "0.00"));
    assert_eq!(side(&tb, "1.1.1.02"), pair("90066500.00", "0.00"));
    assert_eq!(side(&tb, "2.1.3.01"), pair("0.00", "1000000.00"));
    assert_eq!(side(&tb, "2.1.3.03"), pair("0.00", "166500.00"));
    // The 2026 realisation report: SiLPA of the previous year as net financing.
    let lra = app.get(&format!("/api/v1/villages/{}/reports/realisation?year=2026", v.id)).token(&v.head).send().await;
    let lra = lra.assert_status(200).clone();
    assert_eq!(lra["summary"]["net_financing"]["realised"], "88900000.00", "{}", lra["summary"]);
    assert_eq!(lra["summary"]["revenue"]["realised"], "0.00");

    // The bank's facts dated in 2025 are not lost: they land on 1 January 2026, saying the bank's date; nothing
    // more is posted in 2025, and the chain holds.
    let late = app
        .post("/api/v1/bank/entries")
        .token(&bank)
        .key("late-interest")
        .json(&json!({"village_id": v.id, "lines": [
            {"kind": "interest", "amount": "1000.00", "bank_reference": "INT-2025-12", "value_date": "2025-12-31"}]}))
        .send()
        .await;
    let posted = late.assert_status(200)["results"][0].clone();
    assert_eq!(posted["status"], 201, "{posted}");
    let credit = app
        .post("/api/v1/bank/credits")
        .token(&bank)
        .key("late-credit")
        .json(&json!({"village_id": v.id, "amount": "2500000.00", "source": "PAD", "bank_reference": "PAD-2025-12",
                      "value_date": "2025-12-31", "description": "Sewa balai Desember"}))
        .send()
        .await;
    let credit = credit.assert_status(201).clone();
    assert_eq!((credit["value_date"].as_str(), credit["fiscal_year"].as_i64()), (Some("2026-01-01"), Some(2026)));
    assert!(credit["description"].as_str().unwrap().starts_with("[tanggal bank "), "{credit}");
    // Two credits of a batch dated in the closed year: carried the same way, each alone.
    let batch = app
        .post("/api/v1/bank/credits/batch")
        .token(&bank)
        .key("late-batch")
        .json(&json!({"items": [
            {"village_id": v.id, "amount": "100.00", "source": "PAD", "bank_reference": "PAD-2025-12-B1",
             "value_date": "2025-12-30", "description": "Retribusi pasar"},
            {"village_id": v.id, "amount": "200.00", "source": "PAD", "bank_reference": "PAD-2025-12-B2",
             "value_date": "2025-12-31", "description": "Retribusi pasar"}]}))
        .send()
        .await;
    let batch = batch.assert_status(200).clone();
    let carried: Vec<&str> =
        batch["results"].as_array().unwrap().iter().map(|r| r["transaction_id"].as_str().unwrap()).collect();
    assert_eq!(carried.len(), 2, "{batch}");
    for id in [posted["transaction_id"].as_str().unwrap(), credit["id"].as_str().unwrap(), carried[0], carried[1]] {
        let t = app.get(&format!("/api/v1/transactions/{id}")).token(&v.head).send().await;
        let t = t.assert_status(200).clone();
        assert_eq!(t["value_date"], "2026-01-01");
        let said = t["description"].as_str().unwrap();
        assert!(said.starts_with("[tanggal bank 3") && said.contains("-12-2025, "), "{t}");
    }
    let tb = trial_balance(&app, &v, "2025-12-31").await;
    assert_eq!(side(&tb, "1.1.1.02"), pair("90066500.00", "0.00"), "2025 is as it was closed");
    assert_eq!(app.verify(&v).await["ok"], true);
}

fn chrono_year() -> i32 {
    use chrono::Datelike;
    (chrono::Utc::now() + chrono::Duration::hours(7)).year()
}
