//! Every money-deciding fact chained (issue: trust): budgets, users, bank clients' access, the village's and the
//! regency's settings, closed years and statement lines are facts of the village's chain. An attacker with write
//! access to the database who edits, inserts or deletes their rows is named by verify (the subject and what is
//! wrong), and the service refuses to change a subject it finds tampered with, instead of recording the tampered
//! state as its own. Budget positions are checked against the chained budget and the ledger.

use crate::chain::raw_sql;
use crate::helpers::*;
use crate::workflow_helpers::*;
use base64::Engine;
use serde_json::{json, Value};

/// The user id a token was issued to.
fn sub(token: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice::<Value>(&raw).unwrap()["sub"].as_str().unwrap().to_string()
}

fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["fact_mismatches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_string(),
                m["subject"].as_str().unwrap().to_string(),
                m["finding"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn one(kind: &str, subject: &str, finding: &str) -> Vec<(String, String, String)> {
    vec![(kind.to_string(), subject.to_string(), finding.to_string())]
}

/// Runs the same statement on either backend (the tables have the same shape).
fn sql(app: &TestApp, statement: &str) {
    raw_sql(app, statement, statement).unwrap();
}

#[tokio::test]
async fn edits_of_budgets_users_scopes_settings_years_and_statements_are_named() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let w = app.create_village(&regency, "61.12.01.2002", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "50000000.00", "DDS", "DDS-1").await.assert_status(201);
    let clean = app.verify(&v).await;
    assert_eq!((clean["ok"].as_bool(), clean["fact_mismatches"].clone()), (Some(true), json!([])), "{clean}");

    // A budget ceiling raised in the database: named as the year's budget, and a revision is refused.
    sql(
        &app,
        &format!("UPDATE budget_lines SET ceiling = ceiling * 10 WHERE village_id = '{}' AND line_no = 1;", v.id),
    );
    let r = app.verify(&v).await;
    assert_eq!(r["ok"], false);
    assert_eq!(findings(&r), one("budget", "2026", "changed"), "{r}");
    let revise = app
        .post(&format!("/api/v1/villages/{}/budgets/2026/revisions", v.id))
        .token(&v.head)
        .json(&standard_budget())
        .send()
        .await;
    revise.assert_problem(409, "integrity_violation");
    sql(
        &app,
        &format!("UPDATE budget_lines SET ceiling = ceiling / 10 WHERE village_id = '{}' AND line_no = 1;", v.id),
    );
    assert_eq!(app.verify(&v).await["ok"], true, "put back, the budget agrees with its fact again");

    // A realised amount moved from one line to another: both positions are named.
    let shift = format!(
        "UPDATE budget_positions SET realised = realised + 100 WHERE village_id = '{0}' AND account_code = '5.2.1.07'; \
         UPDATE budget_positions SET realised = realised - 100 WHERE village_id = '{0}' AND account_code = '5.2.2.01';",
        v.id
    );
    raw_sql(
        &app,
        &format!("PRAGMA ignore_check_constraints = ON; {shift}"),
        &format!(
            "ALTER TABLE budget_positions DROP CONSTRAINT budget_positions_check, \
             DROP CONSTRAINT budget_positions_realised_check; {shift}"
        ),
    )
    .unwrap();
    let r = app.verify(&v).await;
    let positions: Vec<String> =
        r["position_mismatches"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect();
    assert_eq!(positions.len(), 2, "{r}");
    assert!(positions.iter().all(|p| p.ends_with(": realised")), "{r}");
    assert!(positions.iter().any(|p| p.contains("5.2.1.07")) && positions.iter().any(|p| p.contains("5.2.2.01")));
    sql(
        &app,
        &format!(
            "UPDATE budget_positions SET realised = realised - 100 WHERE village_id = '{0}' AND account_code = '5.2.1.07'; \
             UPDATE budget_positions SET realised = realised + 100 WHERE village_id = '{0}' AND account_code = '5.2.2.01';",
            v.id
        ),
    );

    // A user's role changed in the database (the implementer made head): named, and the administrator's next change
    // of that user is refused until it is put back.
    let implementer = sub(&v.implementer);
    sql(&app, &format!("UPDATE users SET role = 'head' WHERE id = '{implementer}';"));
    let r = app.verify(&v).await;
    assert_eq!(findings(&r), one("user", &implementer, "changed"), "{r}");
    app.req(reqwest::Method::PATCH, &format!("/api/v1/users/{implementer}"))
        .token(&app.admin_token)
        .json(&json!({"active": false}))
        .send()
        .await
        .assert_problem(409, "integrity_violation");
    sql(&app, &format!("UPDATE users SET role = 'implementer' WHERE id = '{implementer}';"));
    // A password hash swapped for one the attacker knows is a change too.
    let treasurer = sub(&v.treasurer);
    sql(&app, &format!("UPDATE users SET password_hash = 'x' || password_hash WHERE id = '{treasurer}';"));
    assert_eq!(findings(&app.verify(&v).await), one("user", &treasurer, "changed"));
    sql(&app, &format!("UPDATE users SET password_hash = substr(password_hash, 2) WHERE id = '{treasurer}';"));
    // A user of the other village moved into this one in the database: unrecorded here, removed there.
    let stranger = sub(&w.implementer);
    sql(&app, &format!("UPDATE users SET village_id = '{}' WHERE id = '{stranger}';", v.id));
    assert_eq!(findings(&app.verify(&v).await), one("user", &stranger, "unrecorded"));
    assert_eq!(findings(&app.verify(&w).await), one("user", &stranger, "removed"));
    sql(&app, &format!("UPDATE users SET village_id = '{}' WHERE id = '{stranger}';", w.id));

    // A bank client given the other village in the database: unrecorded there; its access removed here: removed.
    let client_id = app.get("/api/v1/bank-clients").token(&app.admin_token).send().await.assert_status(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    sql(
        &app,
        &format!("INSERT INTO bank_client_villages (bank_client_id, village_id) VALUES ('{client_id}', '{}');", w.id),
    );
    assert_eq!(findings(&app.verify(&w).await), one("bank_client", &client_id, "unrecorded"));
    sql(&app, &format!("DELETE FROM bank_client_villages WHERE village_id = '{}';", w.id));
    sql(&app, &format!("DELETE FROM bank_client_villages WHERE village_id = '{}';", v.id));
    assert_eq!(findings(&app.verify(&v).await), one("bank_client", &client_id, "removed"));
    sql(
        &app,
        &format!("INSERT INTO bank_client_villages (bank_client_id, village_id) VALUES ('{client_id}', '{}');", v.id),
    );

    // The village's bank account and the regency's cash-payment limit edited: both named.
    sql(&app, &format!("UPDATE villages SET bank_account = '9999999999' WHERE id = '{}';", v.id));
    sql(&app, &format!("UPDATE regencies SET cash_payment_limit = 100000000000 WHERE id = '{regency}';"));
    let r = app.verify(&v).await;
    let mut expected = one("regency", &regency, "changed");
    expected.extend(one("village", &v.id, "changed"));
    assert_eq!(findings(&r), expected, "{r}");
    assert_eq!(findings(&app.verify(&w).await), one("regency", &regency, "changed"), "every village of the regency");
    sql(&app, &format!("UPDATE villages SET bank_account = '1012345678' WHERE id = '{}';", v.id));
    sql(&app, &format!("UPDATE regencies SET cash_payment_limit = NULL WHERE id = '{regency}';"));

    // The budget line the bank's fee goes on, set by the treasurer and then moved in the database.
    app.req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/bank-entry-lines", v.id))
        .token(&v.treasurer)
        .json(&json!({"admin_fee": {"account_code": "5.2.2.01", "activity_code": "01.01.04", "source": "ADD"},
                      "interest_tax": null}))
        .send()
        .await
        .assert_status(200);
    assert_eq!(findings(&app.verify(&v).await), vec![]);
    sql(&app, &format!("UPDATE bank_entry_lines SET account_code = '5.3.5.01' WHERE village_id = '{}';", v.id));
    assert_eq!(findings(&app.verify(&v).await), one("charge_line", "admin_fee", "changed"));
    sql(&app, &format!("UPDATE bank_entry_lines SET account_code = '5.2.2.01' WHERE village_id = '{}';", v.id));

    // A statement line's amount edited.
    let r = app
        .post("/api/v1/bank/statements")
        .token(&bank)
        .key("st-1")
        .json(&json!({"village_id": v.id, "lines": [{"bank_reference": "DDS-1", "value_date": "2026-04-01",
                       "amount": "50000000.00", "direction": "credit", "balance": "50000000.00"}]}))
        .send()
        .await;
    assert_eq!(r.assert_status(201)["stored"], 1);
    sql(&app, &format!("UPDATE statement_lines SET amount = 1 WHERE village_id = '{}';", v.id));
    let r = app.verify(&v).await;
    let f = findings(&r);
    assert_eq!((f.len(), f[0].0.as_str(), f[0].2.as_str()), (1, "statement_line", "changed"), "{r}");
    sql(&app, &format!("UPDATE statement_lines SET amount = 5000000000 WHERE village_id = '{}';", v.id));

    // Everything put back: the chain and the rows agree again.
    let r = app.verify(&v).await;
    assert_eq!((r["ok"].as_bool(), r["fact_mismatches"].clone()), (Some(true), json!([])), "{r}");
}

#[tokio::test]
async fn a_closed_year_reopened_in_the_database_is_named() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.post_txn(
        &v,
        &json!({"kind": "receipt", "value_date": "2025-03-01", "description": "Sewa balai desa",
        "entries": [{"account_code": "1.1.1.02", "side": "debit", "amount": "1000000.00"},
                    {"account_code": "4.1.4.01", "side": "credit", "amount": "1000000.00", "source": "PAD"}]}),
    )
    .await
    .assert_status(201);
    app.post(&format!("/api/v1/villages/{}/fiscal-years/2025/close", v.id))
        .token(&v.head)
        .send()
        .await
        .assert_status(200);
    assert_eq!(app.verify(&v).await["ok"], true);
    sql(&app, &format!("UPDATE fiscal_years SET status = 'open' WHERE village_id = '{}' AND year = 2025;", v.id));
    let r = app.verify(&v).await;
    assert_eq!(findings(&r), one("fiscal_year", "2025", "removed"), "{r}");
    // A posting into the reopened year is possible for the database's user, but the books now say it was reopened.
    sql(&app, &format!("UPDATE fiscal_years SET status = 'closed' WHERE village_id = '{}' AND year = 2025;", v.id));
    assert_eq!(app.verify(&v).await["ok"], true);
}

#[tokio::test]
async fn the_service_own_changes_keep_the_chain_and_the_rows_in_agreement() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let w = app.create_village(&regency, "61.12.01.2002", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    // A revision, a user moved between villages, a bank client re-scoped and re-keyed, settings changed.
    let mut revised = standard_budget();
    revised["note"] = json!("APBDes Perubahan");
    app.post(&format!("/api/v1/villages/{}/budgets/2026/revisions", v.id))
        .token(&v.head)
        .json(&revised)
        .send()
        .await
        .assert_status(201);
    let implementer = sub(&v.implementer);
    app.req(reqwest::Method::PATCH, &format!("/api/v1/users/{implementer}"))
        .token(&app.admin_token)
        .json(&json!({"role": "implementer", "village_id": w.id}))
        .send()
        .await
        .assert_status(200);
    app.bank(&[&v.id]).await;
    let client_id = app.get("/api/v1/bank-clients").token(&app.admin_token).send().await.assert_status(200)[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.req(reqwest::Method::PATCH, &format!("/api/v1/bank-clients/{client_id}"))
        .token(&app.admin_token)
        .json(&json!({"village_ids": [w.id]}))
        .send()
        .await
        .assert_status(200);
    app.post(&format!("/api/v1/bank-clients/{client_id}/secret"))
        .token(&app.admin_token)
        .send()
        .await
        .assert_status(200);
    app.req(reqwest::Method::PATCH, &format!("/api/v1/villages/{}", v.id))
        .token(&app.admin_token)
        .json(&json!({"cash_limit": "7500000.00"}))
        .send()
        .await
        .assert_status(200);
    app.req(reqwest::Method::PATCH, &format!("/api/v1/regencies/{regency}"))
        .token(&app.admin_token)
        .json(&json!({"cash_payment_limit": "2000000.00"}))
        .send()
        .await
        .assert_status(200);
    for village in [&v, &w] {
        let r = app.verify(village).await;
        assert_eq!(
            (r["ok"].as_bool(), r["fact_mismatches"].clone(), r["position_mismatches"].clone()),
            (Some(true), json!([]), json!([])),
            "{r}"
        );
    }
    // Each change was a fact: the village's chain grew by the revision, the user leaving, the client's access
    // coming and going, its new secret (no longer here: not recorded here), the cash limit and the regency's limit.
    let r = app.verify(&v).await;
    assert!(r["checked"].as_i64().unwrap() >= v.base + 6, "{r}");
}

#[tokio::test]
async fn an_edited_stored_answer_is_named_and_not_replayed() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let bank = app.bank(&[&v.id]).await;
    let first = app.credit(&bank, &v, "1000000.00", "DDS", "DDS-1").await;
    let hash = first.assert_status(201)["hash"].as_str().unwrap().to_string();
    assert!(app.credit(&bank, &v, "1000000.00", "DDS", "DDS-1").await.headers.get("idempotent-replayed").is_some());
    assert_eq!(app.verify(&v).await["answer_mismatches"], json!([]));
    // The answer a retry would get is edited to claim another posting.
    sql(&app, &format!("UPDATE idempotency_keys SET body = replace(body, '{hash}', '{}');", "e".repeat(64)));
    let r = app.verify(&v).await;
    assert_eq!(r["ok"], false);
    let named = r["answer_mismatches"].as_array().unwrap();
    assert_eq!(named.len(), 1, "{r}");
    assert!(named[0].as_str().unwrap().ends_with("/credit-DDS-1"), "{r}");
    // The bank's retry is refused rather than told of a posting that is not the chain's.
    app.credit(&bank, &v, "1000000.00", "DDS", "DDS-1").await.assert_problem(409, "integrity_violation");
    assert_eq!(app.balance(&v, "1.1.1.02").await, "1000000.00", "posted once");
}

#[tokio::test]
async fn a_stored_answer_edited_under_the_chains_ids_and_hashes_is_named_and_not_replayed() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let bank = app.bank(&[&v.id]).await;
    app.credit(&bank, &v, "1000000.00", "DDS", "DDS-1").await.assert_status(201);
    app.credit(&bank, &v, "2000000.00", "DDS", "DDS-2").await.assert_status(201);
    assert_eq!(app.verify(&v).await["answer_mismatches"], json!([]), "the service's own answers recompute");
    // The first answer now shows ten times the amount, every id and hash left as they were.
    sql(
        &app,
        "UPDATE idempotency_keys SET body = replace(body, '\"1000000.00\"', '\"10000000.00\"') \
         WHERE key = 'credit-DDS-1';",
    );
    let r = app.verify(&v).await;
    assert_eq!(r["ok"], false);
    let named = r["answer_mismatches"].as_array().unwrap();
    assert_eq!(named.len(), 1, "only the edited answer: {r}");
    assert!(named[0].as_str().unwrap().ends_with("/credit-DDS-1"), "{r}");
    app.credit(&bank, &v, "1000000.00", "DDS", "DDS-1").await.assert_problem(409, "integrity_violation");
    assert!(app.credit(&bank, &v, "2000000.00", "DDS", "DDS-2").await.headers.get("idempotent-replayed").is_some());
}
