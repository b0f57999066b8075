//! Tamper evidence: a row edited directly in the database breaks the chain at exactly that row, and both the audit
//! endpoint and `kasdesa verify-chain` name it.

use crate::helpers::*;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};

/// Runs SQL straight against the test's database, as an attacker with database access would.
pub fn raw_sql(app: &TestApp, sqlite: &str, pg: &str) -> Result<(), String> {
    let url = &app.database_url;
    if let Some(path) = url.strip_prefix("sqlite://") {
        let mut c = SqliteConnection::establish(path).map_err(|e| e.to_string())?;
        c.batch_execute(sqlite).map_err(|e| e.to_string())
    } else {
        let mut c = PgConnection::establish(url).map_err(|e| e.to_string())?;
        c.batch_execute(pg).map_err(|e| e.to_string())
    }
}

async fn village_with_postings(n: usize) -> (TestApp, Village) {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    for i in 1..=n {
        app.post_txn(&v, &receipt(&format!("{i}000.00"), "4.1.4.01")).await.assert_status(201);
    }
    (app, v)
}

fn cli_verify(app: &TestApp, village_code: &str) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kasdesa"))
        .args(["verify-chain", "--village", village_code])
        .env("KASDESA_DATABASE_URL", &app.database_url)
        .env("KASDESA_DATA_DIR", app.data_dir.path())
        .env("RUST_LOG", "error")
        .output()
        .expect("the CLI runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string())
}

#[tokio::test]
async fn journal_rows_cannot_be_updated_or_deleted_through_sql() {
    let (app, _v) = village_with_postings(2).await;
    let e = raw_sql(&app, "UPDATE transactions SET description = 'x'", "UPDATE transactions SET description = 'x'");
    assert!(e.unwrap_err().contains("immutable"));
    let e = raw_sql(&app, "DELETE FROM entries", "DELETE FROM entries");
    assert!(e.unwrap_err().contains("immutable"));
}

#[tokio::test]
async fn an_edited_description_is_reported_at_its_sequence_number() {
    let (app, v) = village_with_postings(5).await;
    let (code, out) = cli_verify(&app, &v.code);
    assert_eq!(code, 0, "{out}");
    raw_sql(
        &app,
        "DROP TRIGGER transactions_no_update; UPDATE transactions SET description = 'diubah' WHERE seq = 3;",
        "ALTER TABLE transactions DISABLE TRIGGER transactions_immutable; \
         UPDATE transactions SET description = 'diubah' WHERE seq = 3;",
    )
    .unwrap();
    let report = app.verify(&v).await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["first_broken"]["seq"], 3, "{report}");
    assert_eq!(report["first_broken"]["reason"], "hash_mismatch");
    assert_eq!(report["checked"], v.base + 2);
    let (code, out) = cli_verify(&app, &v.code);
    assert_eq!(code, 1, "{out}");
    let cli: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(cli["first_broken"]["seq"], 3);
}

#[tokio::test]
async fn an_edited_amount_breaks_the_chain_and_the_balances() {
    let (app, v) = village_with_postings(4).await;
    raw_sql(
        &app,
        "DROP TRIGGER entries_no_update; UPDATE entries SET amount = amount + 100 WHERE transaction_id = \
         (SELECT id FROM transactions WHERE seq = 2);",
        "ALTER TABLE entries DISABLE TRIGGER entries_immutable; UPDATE entries SET amount = amount + 100 WHERE \
         transaction_id = (SELECT id FROM transactions WHERE seq = 2);",
    )
    .unwrap();
    let report = app.verify(&v).await;
    assert_eq!(report["first_broken"]["seq"], 2, "{report}");
    let mismatched: Vec<&str> =
        report["balance_mismatches"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    assert_eq!(mismatched, vec!["1.1.1.02", "4.1.4.01"]);
}

#[tokio::test]
async fn a_deleted_row_is_reported() {
    let (app, v) = village_with_postings(4).await;
    raw_sql(
        &app,
        "DROP TRIGGER entries_no_delete; DROP TRIGGER transactions_no_delete; \
         DELETE FROM entries WHERE transaction_id = (SELECT id FROM transactions WHERE seq = 2); \
         DELETE FROM transactions WHERE seq = 2;",
        "ALTER TABLE entries DISABLE TRIGGER entries_immutable; ALTER TABLE transactions DISABLE TRIGGER transactions_immutable; \
         DELETE FROM entries WHERE transaction_id = (SELECT id FROM transactions WHERE seq = 2); \
         DELETE FROM transactions WHERE seq = 2;",
    )
    .unwrap();
    let report = app.verify(&v).await;
    assert_eq!(report["first_broken"]["chain_seq"], v.base + 2, "{report}");
    assert_eq!(report["first_broken"]["reason"], "missing_link");
    // And removing the newest row is caught by the village's chain head.
    let (app, v) = village_with_postings(3).await;
    raw_sql(
        &app,
        "DROP TRIGGER entries_no_delete; DROP TRIGGER transactions_no_delete; \
         DELETE FROM entries WHERE transaction_id = (SELECT id FROM transactions WHERE seq = 3); \
         DELETE FROM transactions WHERE seq = 3;",
        "ALTER TABLE entries DISABLE TRIGGER entries_immutable; ALTER TABLE transactions DISABLE TRIGGER transactions_immutable; \
         DELETE FROM entries WHERE transaction_id = (SELECT id FROM transactions WHERE seq = 3); \
         DELETE FROM transactions WHERE seq = 3;",
    )
    .unwrap();
    let report = app.verify(&v).await;
    assert_eq!(report["first_broken"]["reason"], "head_mismatch", "{report}");
    assert_eq!(report["first_broken"]["chain_seq"], v.base + 3);
}

#[tokio::test]
async fn workflow_events_and_payments_are_tamper_evident_too() {
    use crate::workflow_helpers::*;
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let inspector = app.inspector(&regency, "inspektorat").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let p = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "1000000.00", serde_json::json!([]))).await;
    app.approve_chain(&v, &p).await;
    assert_eq!(app.verify(&v).await["ok"], true);
    let approve_event = app.payment(&v, &p).await["events"][3].clone();
    assert_eq!(approve_event["action"], "approve");

    // The approval's actor rewritten: the chain breaks at exactly that event.
    let sql = format!(
        "UPDATE payment_events SET actor_name = 'orang lain' WHERE id = '{}';",
        approve_event["id"].as_str().unwrap()
    );
    raw_sql(
        &app,
        &format!("DROP TRIGGER payment_events_no_update; {sql}"),
        &format!("ALTER TABLE payment_events DISABLE TRIGGER payment_events_immutable; {sql}"),
    )
    .unwrap();
    let report = app.verify(&v).await;
    assert_eq!(report["first_broken"]["payment_event_id"], approve_event["id"], "{report}");
    assert_eq!(report["first_broken"]["chain_seq"], approve_event["chain_seq"]);
    assert_eq!(report["first_broken"]["reason"], "hash_mismatch");
    let (code, out) = cli_verify(&app, &v.code);
    assert_eq!(code, 1);
    assert!(out.contains(approve_event["id"].as_str().unwrap()));
    let anomalies = app.get(&format!("/api/v1/regencies/{regency}/anomalies?year=2026")).token(&inspector).send().await;
    let items = anomalies.assert_status(200)["items"].as_array().unwrap().clone();
    assert!(items.iter().any(
        |i| i["rule"] == "chain_break" && i["evidence"]["first_broken"]["payment_event_id"] == approve_event["id"]
    ));
}

#[tokio::test]
async fn an_edited_payment_and_an_inserted_row_are_reported() {
    use crate::workflow_helpers::*;
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let p = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "1000000.00", serde_json::json!([]))).await;
    app.approve_chain(&v, &p).await;
    // The approved payee's account number changed behind the service's back.
    let sql = format!("UPDATE payments SET payee_account_number = '9999999999' WHERE id = '{p}';");
    raw_sql(&app, &sql, &sql).unwrap();
    let report = app.verify(&v).await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["payment_mismatches"], serde_json::json!([p]));

    // A forged transaction appended without going through the village's chain head.
    let (app, v) = village_with_postings(2).await;
    let forged = format!(
        "INSERT INTO transactions (id, village_id, seq, chain_seq, fiscal_year, kind, value_date, description, created_by, created_at, prev_hash, hash) \
         SELECT 'forged', village_id, 3, {}, fiscal_year, kind, value_date, 'palsu', created_by, created_at, hash, hash FROM transactions WHERE seq = 2;",
        v.base + 3
    );
    raw_sql(&app, &forged, &forged).unwrap();
    let report = app.verify(&v).await;
    assert_eq!(report["first_broken"]["chain_seq"], v.base + 3, "{report}");
    assert_eq!(report["first_broken"]["seq"], 3);
}

#[tokio::test]
async fn a_corrupt_status_is_an_error_not_a_default() {
    use crate::workflow_helpers::*;
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let p = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "1000000.00", serde_json::json!([]))).await;
    let before = app.get(&format!("/api/v1/payments/{p}")).token(&v.treasurer).send().await;
    assert_eq!(before.assert_status(200)["status"], "draft");
    // A status the workflow does not know, written behind the service's back, is refused when it is read (500,
    // logged with the value) instead of being shown as some default status, and no step can be taken on it.
    let sql = format!("UPDATE payments SET status = 'approvedx' WHERE id = '{p}';");
    raw_sql(&app, &sql, &sql).unwrap();
    app.get(&format!("/api/v1/payments/{p}")).token(&v.treasurer).send().await.assert_problem(500, "internal");
    let submit = app.post(&format!("/api/v1/payments/{p}/submit")).token(&v.implementer).send().await;
    submit.assert_problem(500, "internal");
}
