//! The annex of Permendagri 20/2018 as every village's chart and activity catalogue: the catalogue endpoints, the
//! chart each village holds, its own objek in the 90–99 slots, activity codes refused outside the catalogue, and an
//! older database brought to the annex's chart without changing a posted amount or a hash.

use crate::chain::raw_sql;
use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::{json, Value};

async fn setup() -> (TestApp, Village) {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    (app, v)
}

async fn chart(app: &TestApp, v: &Village) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/villages/{}/accounts", v.id)).token(&v.head).send().await;
    r.assert_status(200).as_array().unwrap().clone()
}

fn name_of<'a>(chart: &'a [Value], code: &str) -> Option<&'a str> {
    chart.iter().find(|a| a["code"] == code).and_then(|a| a["name"].as_str())
}

#[tokio::test]
async fn every_village_holds_the_annex_with_its_names() {
    let (app, v) = setup().await;
    let accounts = app.get("/api/v1/catalogue/accounts").token(&v.implementer).send().await;
    let accounts = accounts.assert_status(200).as_array().unwrap().clone();
    assert_eq!(accounts.len(), 204);
    let objek: Vec<&Value> = accounts.iter().filter(|a| a["level"] == "objek").collect();
    assert_eq!(objek.len(), 148);
    let first = &accounts[0];
    assert_eq!(
        (first["code"].as_str(), first["level"].as_str(), first["parent"].is_null()),
        (Some("4"), Some("akun"), true)
    );
    let activities = app.get("/api/v1/catalogue/activities").token(&v.head).send().await;
    let activities = activities.assert_status(200).as_array().unwrap().clone();
    assert_eq!(activities.len(), 207);
    let road = activities.iter().find(|a| a["code"] == "2.3.10").unwrap();
    assert_eq!(road["parent"], "2.3");
    assert_eq!(road["level"], "kegiatan");
    app.get("/api/v1/catalogue/accounts").send().await.assert_problem(401, "unauthorized");

    let chart = chart(&app, &v).await;
    assert_eq!(chart.len(), 11 + 148, "the balance-sheet accounts and every objek");
    for o in &objek {
        assert_eq!(name_of(&chart, o["code"].as_str().unwrap()), o["name"].as_str(), "{}", o["code"]);
    }
    assert_eq!(name_of(&chart, "5.3.4.01"), Some("Belanja Modal Honor Tim yang Melaksanakan Kegiatan"));
    assert_eq!(name_of(&chart, "5.2.9.01"), None, "not in the annex");
    assert_eq!(name_of(&chart, "4.3.9.01"), None, "not in the annex");
    assert_eq!(name_of(&chart, "1.1.1.02"), Some("Rekening Kas Desa"));
    // Headings are not accounts: postings go to objek only.
    assert_eq!(name_of(&chart, "5.2.1"), None);
}

#[tokio::test]
async fn a_village_adds_its_own_objek_in_the_90_99_slots_only() {
    let (app, v) = setup().await;
    let add = |token: &str, code: &str| {
        app.post(&format!("/api/v1/villages/{}/accounts", v.id))
            .token(token)
            .json(&json!({"code": code, "name": "Hasil Usaha Air Bersih Desa"}))
            .send()
    };
    let r = add(&v.treasurer, "4.1.1.91").await;
    let a = r.assert_status(201);
    assert_eq!(
        (a["code"].as_str(), a["class"].as_str(), a["balance"].as_str()),
        (Some("4.1.1.91"), Some("revenue"), Some("0.00"))
    );
    assert_eq!(name_of(&chart(&app, &v).await, "4.1.1.91"), Some("Hasil Usaha Air Bersih Desa"));
    add(&v.treasurer, "4.1.1.91").await.assert_problem(409, "conflict");
    add(&v.treasurer, "4.1.1.90").await.assert_problem(409, "conflict");
    for code in ["4.1.1.02", "4.1.1.89", "5.1.3.91", "1.1.1.91", "4.1.1", "7.1.1.91", "4.1.1.100"] {
        add(&v.treasurer, code).await.assert_problem(422, "validation_failed");
    }
    add(&v.implementer, "5.2.5.91").await.assert_problem(403, "forbidden");
    add(&app.admin_token, "5.2.5.91").await.assert_status(201);
    let r = app
        .post(&format!("/api/v1/villages/{}/accounts", v.id))
        .token(&v.treasurer)
        .json(&json!({"code": "5.2.5.92", "name": ""}))
        .send()
        .await;
    r.assert_problem(422, "validation_failed");

    // Its own objek is budgeted and received into like any other.
    app.post_txn(&v, &receipt("250000.00", "4.1.1.91")).await.assert_status(201);
    assert_eq!(app.balance(&v, "4.1.1.91").await, "250000.00");
}

#[tokio::test]
async fn activity_codes_outside_the_catalogue_are_refused() {
    let (app, v) = setup().await;
    let mut budget = standard_budget();
    budget["lines"][1]["activity_code"] = json!("02.03.55");
    let r = app
        .req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/budgets/{YEAR}", v.id))
        .token(&v.treasurer)
        .json(&budget)
        .send()
        .await;
    r.assert_problem(422, "validation_failed");
    assert!(r.body["detail"].as_str().unwrap().contains("02.03.55"), "{}", r.body);

    // A village's own kegiatan in a sub-bidang's 90–99 slot is budgeted and paid like the annex's.
    let mut budget = standard_budget();
    budget["lines"][1]["activity_code"] = json!("02.03.91");
    app.adopt_budget(&v, &budget).await;
    let mut body = materials_spp();
    body["activity_code"] = json!("02.03.55");
    let r = app
        .post(&format!("/api/v1/villages/{}/payments", v.id))
        .token(&v.implementer)
        .key("unknown-activity")
        .json(&body)
        .send()
        .await;
    r.assert_problem(422, "validation_failed");
    body["activity_code"] = json!("02.03.91");
    app.draft(&v, &body).await;
}

/// A database of an earlier version: a chart with the old names and accounts the annex does not have, one of them
/// posted to. On the next start every village gets the annex's chart; the posted amounts, balances and chain stay.
#[tokio::test]
async fn an_older_chart_is_brought_to_the_annex_without_touching_money() {
    let (app, v) = setup().await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "5000000.00", "DDS", "CR-1").await.assert_status(201);
    let old = "UPDATE accounts SET name = 'Belanja Modal Gedung, Bangunan dan Taman' WHERE code = '5.3.4.01';
               DELETE FROM accounts WHERE code IN ('4.3.9.90', '5.2.5.90');
               INSERT INTO accounts (village_id, code, name, class, normal_side, balance)
                 SELECT id, '4.3.9.01', 'Lain-lain Pendapatan Desa yang Sah', 'revenue', 'credit', 0 FROM villages;
               DELETE FROM meta;";
    raw_sql(&app, old, old).unwrap();
    let before_verify = app.verify(&v).await;
    let before = chart(&app, &v).await;
    assert_eq!(name_of(&before, "5.3.4.01"), Some("Belanja Modal Gedung, Bangunan dan Taman"));
    assert_eq!(name_of(&before, "4.3.9.90"), None);

    let second = spawn_second_instance(&app).await;
    let r = app.client.get(format!("{second}/api/v1/villages/{}/accounts", v.id)).bearer_auth(&v.head).send().await;
    let after: Vec<Value> = r.unwrap().json().await.unwrap();
    assert_eq!(name_of(&after, "5.3.4.01"), Some("Belanja Modal Honor Tim yang Melaksanakan Kegiatan"));
    assert_eq!(name_of(&after, "4.3.9.90"), Some("Lain-lain pendapatan Desa yang sah"));
    assert!(name_of(&after, "5.2.5.90").is_some());
    assert_eq!(name_of(&after, "4.3.9.01"), Some("Lain-lain Pendapatan Desa yang Sah"), "an old account stays");
    assert_eq!(after.len(), before.len() + 2);
    for a in &before {
        let now = after.iter().find(|b| b["code"] == a["code"]).unwrap();
        assert_eq!(now["balance"], a["balance"], "{}", a["code"]);
    }
    assert_eq!(app.balance(&v, "1.1.1.02").await, "5000000.00");
    let after_verify = app.verify(&v).await;
    assert_eq!(after_verify["ok"], true, "{after_verify}");
    assert_eq!(after_verify["checked"], before_verify["checked"], "{after_verify}");
    // DLL credits now land in the annex's 4.3.9.90.
    app.credit(&bank, &v, "7.00", "DLL", "CR-2").await.assert_status(201);
    assert_eq!(app.balance(&v, "4.3.9.90").await, "7.00");
}
