//! Each anomaly rule planted once, with a near miss beside it; exactly the planted ones are flagged.

use crate::chain::raw_sql;
use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn spp_to(
    account_number: &str,
    account: &str,
    activity: &str,
    source: &str,
    amount: &str,
    withholdings: Value,
) -> Value {
    let mut b = spp(account, activity, source, amount, withholdings);
    b["payee"]["account_number"] = json!(account_number);
    b
}

async fn approved(app: &TestApp, v: &Village, body: &Value) -> String {
    let p = app.draft(v, body).await;
    app.approve_chain(v, &p).await;
    p
}

async fn settle(app: &TestApp, bank: &str, p: &str, reference: &str, date: &str) {
    let t = app.transfer_of(bank, p).await;
    app.bank_result(
        bank,
        t["id"].as_str().unwrap(),
        &format!("r-{reference}"),
        &json!({"status": "paid", "bank_reference": reference, "value_date": date}),
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn planted_anomalies_and_nothing_else() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let inspector = app.inspector(&regency, "inspektorat").await;
    let mut villages = BTreeMap::new();
    for name in ["A", "B", "C", "D", "E", "F", "G", "H"] {
        let v = app.create_village(&regency, &format!("61.12.01.200{}", villages.len()), "10000000.00").await;
        villages.insert(name, v);
    }
    let ids: Vec<&str> = villages.values().map(|v| v.id.as_str()).collect();
    let bank = app.bank(&ids).await;
    for v in villages.values() {
        app.adopt_budget(v, &standard_budget()).await;
        app.credit(&bank, v, "100000000.00", "DDS", &format!("DDS-{}", v.code)).await.assert_status(201);
    }

    // A: a split to stay under Rp 50 million (and a near miss totalling a sen less); a duplicate (and a near miss a rupiah apart).
    let a = &villages["A"];
    approved(&app, a, &spp_to("1111111111", "5.3.5.01", "02.03.10", "DDS", "30000000.00", json!([]))).await;
    approved(&app, a, &spp_to("1111111111", "5.3.5.01", "02.03.10", "DDS", "25000000.00", json!([]))).await;
    approved(&app, a, &spp_to("2222222222", "5.3.5.01", "02.03.10", "DDS", "20000000.00", json!([]))).await;
    approved(&app, a, &spp_to("2222222222", "5.3.5.01", "02.03.10", "DDS", "29999999.99", json!([]))).await;
    approved(&app, a, &spp_to("3333333333", "5.2.1.07", "02.03.10", "DDS", "7777777.00", json!([]))).await;
    approved(&app, a, &spp_to("3333333333", "5.2.1.07", "02.03.10", "DDS", "7777777.00", json!([]))).await;
    approved(&app, a, &spp_to("4444444444", "5.2.1.07", "02.03.10", "DDS", "7777777.00", json!([]))).await;
    approved(&app, a, &spp_to("4444444444", "5.2.1.07", "02.03.10", "DDS", "7777778.00", json!([]))).await;

    // B: cash in hand above a limit the regency lowered; C: exactly at its limit.
    let (b, c) = (&villages["B"], &villages["C"]);
    app.post_txn(b, &withdrawal("2000000.00")).await.assert_status(201);
    app.req(reqwest::Method::PATCH, &format!("/api/v1/villages/{}", b.id))
        .token(&app.admin_token)
        .json(&json!({"cash_limit": "1000000.00"}))
        .send()
        .await
        .assert_status(200);
    app.post_txn(c, &withdrawal("10000000.00")).await.assert_status(201);

    // D: PPh 22 withheld on 04-10 and never deposited; PPN withheld the same day and deposited on 04-20.
    let d = &villages["D"];
    let pd = approved(&app, d, &materials_spp()).await;
    app.act(&d.treasurer, &pd, "release", None).await.assert_status(200);
    settle(&app, &bank, &pd, "D-1", "2026-04-10").await;
    let dep = app.post(&format!("/api/v1/villages/{}/tax-deposits", d.id)).token(&d.treasurer).key("dep")
        .json(&json!({"description": "Setor PPN", "billing_code": "820261100012345", "lines": [{"tax": "PPN", "amount": "1000000.00"}]})).send().await;
    let dep = dep.assert_status(201)["id"].as_str().unwrap().to_string();
    app.deposit_chain(d, &dep).await;
    app.act(&d.treasurer, &dep, "release", None).await.assert_status(200);
    let t = app.transfer_of(&bank, &dep).await;
    let paid =
        json!({"status": "paid", "bank_reference": "D-2", "value_date": "2026-04-20", "ntpn": "0A1B2C3D4E5F6G7H"});
    app.bank_result(&bank, t["id"].as_str().unwrap(), "r-D-2", &paid).await.assert_status(200);

    // E: one release on a Saturday morning, one a minute before closing on a Monday (set in the database, since the
    // service stamps releases with the real clock).
    let e = &villages["E"];
    let e1 = approved(&app, e, &spp("5.2.1.07", "02.03.10", "DDS", "1000.00", json!([]))).await;
    let e2 = approved(&app, e, &spp("5.2.1.07", "02.03.10", "DDS", "2000.00", json!([]))).await;
    app.act(&e.treasurer, &e1, "release", None).await.assert_status(200);
    app.act(&e.treasurer, &e2, "release", None).await.assert_status(200);

    // F: a budget line whose ceiling was lowered in the database below what it realised; another used exactly.
    let f = &villages["F"];
    app.credit(&bank, f, "50000000.00", "DDS", "DDS-F-2").await.assert_status(201);
    let f1 = approved(&app, f, &spp("5.2.2.01", "01.01.04", "ADD", "15000000.00", json!([]))).await;
    let f2 = approved(&app, f, &spp("5.2.1.07", "02.03.10", "DDS", "100000000.00", json!([]))).await;
    for (p, r) in [(&f1, "F-1"), (&f2, "F-2")] {
        app.act(&f.treasurer, p, "release", None).await.assert_status(200);
        settle(&app, &bank, p, r, "2026-05-02").await;
    }
    raw_sql(
        &app,
        &format!("PRAGMA ignore_check_constraints = ON; UPDATE budget_positions SET ceiling = 1000000000 WHERE village_id = '{}' AND account_code = '5.2.2.01';", f.id),
        &format!("ALTER TABLE budget_positions DROP CONSTRAINT budget_positions_check; UPDATE budget_positions SET ceiling = 1000000000 WHERE village_id = '{}' AND account_code = '5.2.2.01';", f.id),
    ).unwrap();

    // Every release so far was stamped with the real clock, which may be outside working hours when the test runs:
    // all are moved into a Monday morning (09:00 WIB), then E's two are planted.
    let all = "UPDATE transfers SET released_at = '2026-03-09 02:00:00';";
    raw_sql(&app, all, all).unwrap();
    let plant = format!(
        "UPDATE transfers SET released_at = '2026-03-07 03:00:00' WHERE payment_id = '{e1}'; \
         UPDATE transfers SET released_at = '2026-03-09 08:59:00' WHERE payment_id = '{e2}';"
    );
    raw_sql(&app, &plant, &plant).unwrap();

    // G: a transaction edited in the database. H: untouched.
    let g = &villages["G"];
    app.post_txn(g, &receipt("5.00", "4.1.4.01")).await.assert_status(201);
    let t = format!("UPDATE transactions SET description = 'diubah' WHERE village_id = '{}' AND seq = 2;", g.id);
    raw_sql(
        &app,
        &format!("DROP TRIGGER transactions_no_update; {t}"),
        &format!("ALTER TABLE transactions DISABLE TRIGGER transactions_immutable; {t}"),
    )
    .unwrap();

    let r = app
        .get(&format!("/api/v1/regencies/{regency}/anomalies?year=2026&as_of=2026-06-30"))
        .token(&inspector)
        .send()
        .await;
    let r = r.assert_status(200).clone();
    let code_of: BTreeMap<String, &str> = villages.iter().map(|(k, v)| (v.code.clone(), *k)).collect();
    let mut found: Vec<(&str, String)> = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (code_of[i["village_code"].as_str().unwrap()], i["rule"].as_str().unwrap().to_string()))
        .collect();
    found.sort();
    let expected: Vec<(&str, String)> = vec![
        ("A", "duplicate_payment".into()),
        ("A", "split_payments".into()),
        ("B", "cash_over_limit".into()),
        ("D", "tax_not_deposited".into()),
        ("E", "released_outside_working_hours".into()),
        ("F", "budget_over_ceiling".into()),
        // The ceiling was lowered in the database, not by a revision: the position no longer agrees with the
        // chained budget, and that is a break of its own.
        ("F", "chain_break".into()),
        ("G", "chain_break".into()),
    ];
    assert_eq!(found, expected, "{}", serde_json::to_string_pretty(&r["items"]).unwrap());

    // The evidence names what was found.
    let f_break = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["rule"] == "chain_break" && i["village_id"] == villages["F"].id.as_str())
        .unwrap()
        .clone();
    assert_eq!(f_break["evidence"]["position_mismatches"], json!(["2026:5.2.2.01/01.01.04/ADD: ceiling"]), "{f_break}");
    let item = |rule: &str| r["items"].as_array().unwrap().iter().find(|i| i["rule"] == rule).unwrap().clone();
    assert_eq!(item("split_payments")["evidence"]["payee"], "123/1111111111");
    assert_eq!(item("split_payments")["evidence"]["total"], "55000000.00");
    assert_eq!(item("duplicate_payment")["evidence"]["payments"].as_array().unwrap().len(), 2);
    assert_eq!(item("cash_over_limit")["evidence"]["limit"], "1000000.00");
    assert_eq!(item("tax_not_deposited")["evidence"]["tax"], "PPH22");
    assert_eq!(item("tax_not_deposited")["evidence"]["withholdings"][0]["outstanding"], "166500.00");
    assert_eq!(item("released_outside_working_hours")["evidence"]["payment_id"], e1);
    assert_eq!(item("budget_over_ceiling")["evidence"]["account_code"], "5.2.2.01");
    assert_eq!(f_break["evidence"]["first_broken"], Value::Null);
    let g_break = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["rule"] == "chain_break" && i["village_id"] == villages["G"].id.as_str())
        .unwrap()
        .clone();
    assert_eq!(g_break["evidence"]["first_broken"]["seq"], 2);
    // Thirty days after 04-10 is not yet late: judged on 05-10, nothing for D.
    let early = app
        .get(&format!("/api/v1/regencies/{regency}/anomalies?year=2026&as_of=2026-05-10"))
        .token(&inspector)
        .send()
        .await;
    assert!(!early.body["items"].as_array().unwrap().iter().any(|i| i["rule"] == "tax_not_deposited"));
    // The same report as CSV for people.
    let csv = app
        .client
        .get(format!("{}/api/v1/regencies/{regency}/anomalies?year=2026&as_of=2026-06-30&format=csv", app.base))
        .bearer_auth(&inspector)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("Kode Desa,Nama Desa,Aturan,Keterangan,Bukti"));
    assert_eq!(csv.matches("split_payments").count(), 1);
}
