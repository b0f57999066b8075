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
    let mut bad = small.clone();
    bad["amount"] = json!("-5");
    app.post("/api/v1/tax/calculate").token(&v.head).json(&bad).send().await.assert_problem(422, "invalid_amount");
}
