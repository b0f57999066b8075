//! The path to sharding by village (docs/scaling.md): no statement of the hot paths joins two villages' rows. Every
//! SQL statement the service sends while a village's year is worked through (credits and a batch, the bank's own
//! entries and statement, a request from draft to paid with its taxes deposited, the books, the regency's reports,
//! verification) is recorded through diesel's instrumentation, and each JOIN of two village tables must tie the
//! joined table to a village in its ON clause (`t.village_id = …`): on Citus, with `village_id` the distribution
//! column, such a join stays on one shard.
//!
//! The village tables are read from `src/store/schema.rs`: every table with a `village_id` column that is never
//! null (and `villages` itself, keyed by `id`). Tables keyed otherwise (regencies, users, bank clients, the
//! catalogue, idempotency answers keyed by principal) are reference or principal tables, not village shards.

use crate::helpers::*;
use crate::workflow_helpers::*;
use diesel::connection::{set_default_instrumentation, Instrumentation, InstrumentationEvent};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Mutex;

/// Every distinct statement any connection opened after recording began has sent (other tests' too: more of the
/// service's statements, all held to the same rule).
static STATEMENTS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn recorder() -> Option<Box<dyn Instrumentation>> {
    Some(Box::new(|event: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            let text = query.to_string();
            let sql = text.split(" -- binds:").next().unwrap_or(&text).trim().to_string();
            STATEMENTS.lock().unwrap_or_else(|e| e.into_inner()).insert(sql);
        }
    }))
}

/// The tables whose rows are one village's: `village_id -> Text` in their diesel definition, and `villages`.
fn village_tables() -> BTreeSet<String> {
    let schema = include_str!("../../src/store/schema.rs");
    let mut out = BTreeSet::from(["villages".to_string()]);
    for block in schema.split("diesel::table! {").skip(1) {
        let name = block.trim_start().split([' ', '(']).next().unwrap_or("").to_string();
        if block.lines().any(|l| l.trim() == "village_id -> Text,") {
            out.insert(name);
        }
    }
    out
}

/// The joins of `sql` that pair two village tables without tying the joined one to a village: (table, ON clause).
fn untied_joins(sql: &str, villages: &BTreeSet<String>) -> Vec<(String, String)> {
    let flat = sql.replace(['"', '`'], "").replace('\n', " ");
    let upper = flat.to_uppercase();
    let touches_village_table =
        |s: &str| villages.iter().any(|t| s.contains(&format!("{t} ")) || s.contains(&format!("{t}.")));
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = upper[at..].find(" JOIN ") {
        let start = at + found + " JOIN ".len();
        at = start;
        let rest = &flat[start..];
        let mut words = rest.split_whitespace();
        let table = words.next().unwrap_or("").trim_matches(|c| c == '(' || c == ')').to_string();
        if !villages.contains(&table) || !touches_village_table(&flat[..start]) {
            continue;
        }
        let alias = match words.next() {
            Some(w) if !w.eq_ignore_ascii_case("ON") => w.to_string(),
            _ => table.clone(),
        };
        let Some(on) = upper[start..].find(" ON ") else { continue };
        let cond_start = start + on + " ON ".len();
        let cond_end = [" JOIN ", " WHERE ", " ORDER ", " GROUP ", " LIMIT "]
            .iter()
            .filter_map(|k| upper[cond_start..].find(k))
            .min()
            .map_or(flat.len(), |e| cond_start + e);
        let cond = &flat[cond_start..cond_end];
        let tied = if table == "villages" {
            cond.contains(&format!("{alias}.id"))
        } else {
            cond.contains(&format!("{alias}.village_id"))
        };
        if !tied {
            out.push((table, cond.trim().to_string()));
        }
    }
    out
}

#[test]
fn the_join_check_names_an_untied_join_and_passes_a_tied_one() {
    let v = village_tables();
    assert!(v.contains("payments") && v.contains("payment_lines") && v.contains("transactions"), "{v:?}");
    assert!(!v.contains("idempotency_keys") && !v.contains("bank_clients") && !v.contains("users"), "{v:?}");
    let untied = r#"SELECT "payment_lines"."amount" FROM ("payment_lines" INNER JOIN "payments" ON ("payments"."id" = "payment_lines"."payment_id")) WHERE ("payments"."village_id" = $1)"#;
    assert_eq!(untied_joins(untied, &v).len(), 1);
    let tied = r#"SELECT "payment_lines"."amount" FROM ("payment_lines" INNER JOIN "payments" ON (("payments"."id" = "payment_lines"."payment_id") AND ("payments"."village_id" = "payment_lines"."village_id"))) WHERE ("payments"."village_id" = $1)"#;
    assert_eq!(untied_joins(tied, &v), vec![]);
    let raw = "SELECT v.id FROM villages v LEFT JOIN bank_credits bc ON bc.village_id = v.id AND bc.bank_reference = ? WHERE v.id = ?";
    assert_eq!(untied_joins(raw, &v), vec![]);
}

#[tokio::test]
async fn no_statement_of_the_hot_paths_joins_two_villages_rows() {
    set_default_instrumentation(recorder).expect("instrumentation");
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let w = app.create_village(&regency, "61.12.01.2002", "5000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let bank = app.bank(&[&v.id, &w.id]).await;
    app.credit(&bank, &v, "50000000.00", "DDS", "DDS-1").await.assert_status(201);
    let items: Vec<_> = (0..4)
        .map(|i| {
            let village = if i % 2 == 0 { &v.id } else { &w.id };
            json!({"village_id": village, "amount": "1000.00", "source": "PAD", "bank_reference": format!("B-{i}"),
                   "value_date": "2026-04-01", "description": "kredit"})
        })
        .collect();
    app.post("/api/v1/bank/credits/batch")
        .token(&bank)
        .key("batch")
        .json(&json!({"items": items}))
        .send()
        .await
        .assert_status(200);
    app.post("/api/v1/bank/entries")
        .token(&bank)
        .key("entries")
        .json(&json!({"village_id": v.id, "lines": [{"kind": "interest", "amount": "1200.00", "bank_reference": "INT-04", "value_date": "2026-04-30"}]}))
        .send()
        .await
        .assert_status(200);
    let p = app.pay_through(&v, &bank, &materials_spp(), "TRF-1", "2026-04-10").await;
    app.post("/api/v1/bank/statements")
        .token(&bank)
        .key("st")
        .json(&json!({"village_id": v.id, "lines": [{"bank_reference": "DDS-1", "value_date": "2026-04-01", "amount": "50000000.00", "direction": "credit"}]}))
        .send()
        .await
        .assert_status(201);
    let (_, page) = app.page(&v.treasurer, "/console/tax-deposits/new").await;
    assert!(page.contains("PPN_amount"), "{page}");
    for report in [
        "cash-book",
        "bank-book",
        "tax-book",
        "realisation",
        "trial-balance",
        "reconciliation",
        "spp-register",
        "wealth",
        "advances",
        "activities",
    ] {
        let r = app.get(&format!("/api/v1/villages/{}/reports/{report}?year=2026", v.id)).token(&v.head).send().await;
        assert!(r.status.is_success(), "{report}: {}", r.body);
    }
    app.get(&format!("/api/v1/payments/{p}")).token(&v.head).send().await.assert_status(200);
    app.get(&format!("/api/v1/villages/{}/transactions", v.id)).token(&v.head).send().await.assert_status(200);
    let inspector = app.inspector(&regency, "inspektur").await;
    for path in ["reports/realisation", "anomalies"] {
        let r = app.get(&format!("/api/v1/regencies/{regency}/{path}?year=2026")).token(&inspector).send().await;
        assert!(r.status.is_success(), "{path}: {}", r.body);
    }
    assert_eq!(app.verify(&v).await["ok"], true);

    let villages = village_tables();
    let statements = STATEMENTS.lock().unwrap().clone();
    assert!(statements.len() > 50, "the hot paths were recorded: {} statements", statements.len());
    if let Ok(path) = std::env::var("KASDESA_TEST_SQL_DUMP") {
        std::fs::write(path, statements.iter().cloned().collect::<Vec<_>>().join("\n")).unwrap();
    }
    let joins = statements.iter().filter(|s| s.to_uppercase().contains(" JOIN ")).count();
    assert!(joins > 0, "some statements join");
    let untied: Vec<String> = statements
        .iter()
        .flat_map(|s| untied_joins(s, &villages).into_iter().map(move |(t, on)| format!("{t} ON {on}\n    in: {s}")))
        .collect();
    assert!(untied.is_empty(), "joins of village tables not tied to one village:\n{}", untied.join("\n"));
}
