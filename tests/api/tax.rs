//! Taxes the way the tax office counts them: the calculator over HTTP, tax deposits by the treasurer with a billing
//! code and an NTPN per tax, deadlines.

use crate::helpers::*;
use serde_json::json;

#[tokio::test]
async fn the_calculator_gives_the_worked_example_to_the_rupiah() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let body = json!({"date": "2026-03-02", "kind": "goods", "amount": "11100000.00", "includes_vat": true,
        "vendor_vat_registered": true, "vendor_has_npwp": true});
    let r = app.post("/api/v1/tax/calculate").token(&v.implementer).json(&body).send().await;
    let c = r.assert_status(200);
    assert_eq!(c["dpp"], "10000000.00");
    assert_eq!(c["net"], "9850000.00");
    assert_eq!(c["withholdings"][0], json!({"tax": "PPN", "rate": "12", "base": "9166666.00", "amount": "1100000.00"}));
    assert_eq!(
        c["withholdings"][1],
        json!({"tax": "PPH22", "rate": "1.5", "base": "10000000.00", "amount": "150000.00"})
    );
    // Before 2022-04-01 the same invoice bore 10%.
    let mut old = body.clone();
    old["date"] = json!("2022-03-31");
    let c = app.post("/api/v1/tax/calculate").token(&v.implementer).json(&old).send().await;
    assert_eq!(c.assert_status(200)["withholdings"][0]["amount"], "1009090.00");
    // Construction needs the contractor's qualification; anyone signed in may ask, nobody else.
    let build = json!({"date": "2026-03-02", "kind": "construction", "amount": "100000000.00", "includes_vat": false,
        "vendor_vat_registered": false, "vendor_has_npwp": true});
    app.post("/api/v1/tax/calculate").token(&v.head).json(&build).send().await.assert_problem(422, "validation_failed");
    let mut small = build.clone();
    small["contractor_qualification"] = json!("small");
    let c = app.post("/api/v1/tax/calculate").token(&v.head).json(&small).send().await;
    assert_eq!(
        c.assert_status(200)["withholdings"][0],
        json!({"tax": "PPH4_2", "rate": "1.75", "base": "100000000.00", "amount": "1750000.00"})
    );
    app.post("/api/v1/tax/calculate").json(&small).send().await.assert_problem(401, "unauthorized");
    // Meals bear the regency's own tax (10% by default), not PPN.
    let meal = json!({"date": "2026-03-02", "kind": "meals", "amount": "1100000.00", "includes_vat": true,
        "vendor_vat_registered": true, "vendor_has_npwp": true});
    let c = app.post("/api/v1/tax/calculate").token(&v.implementer).json(&meal).send().await;
    let c = c.assert_status(200);
    assert_eq!(
        c["withholdings"],
        json!([{"tax": "PAJAK_DAERAH", "rate": "10", "base": "1000000.00", "amount": "100000.00"}])
    );
    let mut bad = small.clone();
    bad["amount"] = json!("-5");
    app.post("/api/v1/tax/calculate").token(&v.head).json(&bad).send().await.assert_problem(422, "invalid_amount");
}

use crate::chain::raw_sql;
use crate::workflow_helpers::*;

async fn rules_of(app: &TestApp, inspector: &str, regency: &str, as_of: &str) -> Vec<serde_json::Value> {
    let r = app
        .get(&format!("/api/v1/regencies/{regency}/anomalies?year=2026&as_of={as_of}"))
        .token(inspector)
        .send()
        .await;
    r.assert_status(200)["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn withheld_tax_is_late_on_the_16th_not_the_15th_and_regional_tax_goes_to_the_regency() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let inspector = app.inspector(&regency, "inspektorat").await;
    let bank = app.bank(&[&v.id]).await;
    app.adopt_budget(&v, &standard_budget()).await;
    app.credit(&bank, &v, "50000000.00", "DDS", "DDS-1").await.assert_status(201);
    // Withheld in April (PPh 23 on a service, a regional tax on a meal): due by Friday 2026-05-15.
    let withholdings = json!([{"tax": "PPH23", "amount": "20000.00"}, {"tax": "PAJAK_DAERAH", "amount": "100000.00"}]);
    app.pay_through(&v, &bank, &spp("5.2.1.07", "02.03.10", "DDS", "1000000.00", withholdings), "T-1", "2026-04-20")
        .await;
    let late = |items: &[serde_json::Value]| items.iter().filter(|i| i["rule"] == "tax_not_deposited").count();
    assert_eq!(late(&rules_of(&app, &inspector, &regency, "2026-05-15").await), 0, "on the deadline: not late");
    let items = rules_of(&app, &inspector, &regency, "2026-05-16").await;
    assert_eq!(late(&items), 2, "the day after, both taxes are late: {items:?}");
    let pph23 = items.iter().find(|i| i["rule"] == "tax_not_deposited" && i["evidence"]["tax"] == "PPH23").unwrap();
    assert_eq!(pph23["evidence"]["withholdings"][0]["deadline"], "2026-05-15");
    // The inspector's dashboard lists what is overdue, per village and tax (today is past the deadline).
    let (status, html) = app.page(&inspector, "/console/dashboard?year=2026").await;
    assert_eq!(status, 200);
    let overdue = &html[html.find("id=\"overdue-taxes\"").expect("an overdue section")..];
    let overdue = &overdue[..overdue.find("</section>").unwrap()];
    assert!(
        overdue.contains("PPH23") && overdue.contains("PAJAK_DAERAH") && overdue.contains("15-05-2026"),
        "{overdue}"
    );

    // Regional tax is the regency's: refused until the regency has a treasury account, and never mixed with
    // state taxes; then paid to that account.
    let deposit = |lines: serde_json::Value| json!({"lines": lines, "fiscal_year": 2026});
    let regional = deposit(json!([{"tax": "PAJAK_DAERAH", "amount": "100000.00", "billing_code": "612100000000001"}]));
    let post = |key: &str, body: &serde_json::Value| {
        app.post(&format!("/api/v1/villages/{}/tax-deposits", v.id)).token(&v.treasurer).key(key).json(body).send()
    };
    post("d-0", &regional).await.assert_problem(422, "validation_failed");
    let mixed = deposit(json!([
        {"tax": "PAJAK_DAERAH", "amount": "100000.00", "billing_code": "612100000000001"},
        {"tax": "PPH23", "amount": "20000.00", "billing_code": "411124100000001"}]));
    let treasury = json!({"treasury": {"name": "Kas Daerah Kabupaten Kubu Raya", "bank_code": "123", "account_number": "1002003004"}});
    app.req(reqwest::Method::PATCH, &format!("/api/v1/regencies/{regency}"))
        .token(&app.admin_token)
        .json(&treasury)
        .send()
        .await
        .assert_status(200);
    post("d-1", &mixed).await.assert_problem(422, "validation_failed");
    let d = post("d-2", &regional).await;
    let d = d.assert_status(201).clone();
    assert_eq!(d["payee"]["name"], "Kas Daerah Kabupaten Kubu Raya");
    assert_eq!(d["payee"]["account_number"], "1002003004");
    let state =
        post("d-3", &deposit(json!([{"tax": "PPH23", "amount": "20000.00", "billing_code": "411124100000001"}]))).await;
    assert_eq!(state.assert_status(201)["payee"]["name"], "Kas Negara (MPN)");
    for (id, reference, ntpn) in [
        (d["id"].as_str().unwrap().to_string(), "MPN-D", "PD00000000000001"),
        (state.body["id"].as_str().unwrap().to_string(), "MPN-S", "0A1B2C3D4E5F6G7H"),
    ] {
        app.deposit_chain(&v, &id).await;
        app.act(&v.treasurer, &id, "release", None).await.assert_status(200);
        let t = app.transfer_of(&bank, &id).await;
        let result = json!({"status": "paid", "bank_reference": reference, "value_date": "2026-05-14", "ntpn": ntpn});
        app.bank_result(&bank, t["id"].as_str().unwrap(), reference, &result).await.assert_status(200);
    }
    assert_eq!(late(&rules_of(&app, &inspector, &regency, "2026-05-16").await), 0, "deposited on time");
    // The tax book shows each deposit's billing code and NTPN.
    let book =
        app.get(&format!("/api/v1/villages/{}/reports/tax-book?year=2026", v.id)).token(&v.treasurer).send().await;
    let book = book.assert_status(200).to_string();
    assert!(book.contains("612100000000001") && book.contains("PD00000000000001"), "{book}");
}

#[tokio::test]
async fn twelve_monthly_salaries_are_not_duplicates() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let inspector = app.inspector(&regency, "inspektorat").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let mut ids = Vec::new();
    for _ in 0..12 {
        let p = app.draft(&v, &spp("5.2.2.01", "01.01.04", "ADD", "1000000.00", json!([]))).await;
        app.approve_chain(&v, &p).await;
        ids.push(p);
    }
    // Made on the 25th of each month (set in the database: the service stamps requests with the real clock).
    for (m, p) in ids.iter().enumerate() {
        let at = format!("2026-{:02}-25 03:00:00", m + 1);
        let sql = format!("UPDATE payments SET created_at = '{at}' WHERE id = '{p}';");
        raw_sql(&app, &sql, &sql).unwrap();
    }
    let items = rules_of(&app, &inspector, &regency, "2026-12-31").await;
    assert!(items.iter().all(|i| i["rule"] != "duplicate_payment"), "{items:?}");
    // The same payment twice in one month is still one too many.
    let sql = format!("UPDATE payments SET created_at = '2026-05-27 03:00:00' WHERE id = '{}';", ids[5]);
    raw_sql(&app, &sql, &sql).unwrap();
    let items = rules_of(&app, &inspector, &regency, "2026-12-31").await;
    assert_eq!(items.iter().filter(|i| i["rule"] == "duplicate_payment").count(), 1, "{items:?}");
}

#[tokio::test]
async fn payment_lines_take_the_calculators_proposal_and_an_override_is_in_the_trail() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let mut body = spp("5.2.1.07", "02.03.10", "DDS", "11100000.00", json!([]));
    body["invoice_date"] = json!("2026-03-02");
    body["lines"][0]["tax_basis"] = json!({"kind": "goods", "vendor_vat_registered": true});
    let id = app.draft(&v, &body).await;
    let p = app.payment(&v, &id).await;
    assert_eq!(
        p["lines"][0]["withholdings"],
        json!([{"tax": "PPN", "amount": "1100000.00"}, {"tax": "PPH22", "amount": "150000.00"}])
    );
    assert_eq!(p["net"], "9850000.00");
    assert!(p["events"][0]["note"].is_null(), "as proposed: nothing to record");
    // Entered otherwise: drafted as entered, and the trail says what the calculator proposed.
    body["lines"][0]["withholdings"] = json!([{"tax": "PPN", "amount": "1000000.00"}]);
    let id = app.draft(&v, &body).await;
    let p = app.payment(&v, &id).await;
    assert_eq!(p["withheld"], "1000000.00");
    let note = p["events"][0]["note"].as_str().unwrap();
    assert!(note.contains("proposed PPH22 150000.00, PPN 1100000.00; entered PPN 1000000.00"), "{note}");
}
