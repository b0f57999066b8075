//! The bank's own entries (interest, the tax on it, the administration fee): posted once per bank reference, never
//! refused for budget reasons (the chosen line, or suspense), shown in the bank book's columns, flagged while in
//! suspense; and statement balances compared with the ledger's.

use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::{json, Value};

struct World {
    app: TestApp,
    v: Village,
    bank: String,
}

async fn world() -> World {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let bank = app.bank(&[&v.id]).await;
    let mut budget = standard_budget();
    budget["lines"].as_array_mut().unwrap().push(json!(
        {"account_code": "5.2.5.90", "activity_code": "01.01.04", "source": "ADD", "amount": "20000.00"}));
    app.adopt_budget(&v, &budget).await;
    app.credit(&bank, &v, "10000000.00", "DDS", "DDS-1").await.assert_status(201);
    World { app, v, bank }
}

async fn entries(w: &World, key: &str, lines: Value) -> Resp {
    w.app
        .post("/api/v1/bank/entries")
        .token(&w.bank)
        .key(key)
        .json(&json!({"village_id": w.v.id, "lines": lines}))
        .send()
        .await
}

fn line(kind: &str, amount: &str, reference: &str, date: &str) -> Value {
    json!({"kind": kind, "amount": amount, "bank_reference": reference, "value_date": date})
}

fn results(r: &Resp) -> Vec<Value> {
    r.body["results"].as_array().unwrap().clone()
}

#[tokio::test]
async fn bank_entries_post_once_to_revenue_their_line_or_suspense() {
    let w = world().await;
    let (app, v) = (&w.app, &w.v);
    // The fee goes to an operational line; the tax on interest has no line yet.
    let put = app
        .req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/bank-entry-lines", v.id))
        .token(&v.treasurer)
        .json(&json!({"admin_fee": {"account_code": "5.2.5.90", "activity_code": "01.01.04", "source": "ADD"}}))
        .send()
        .await;
    assert_eq!(put.assert_status(200)["admin_fee"]["account_code"], "5.2.5.90");
    assert!(put.body["interest_tax"].is_null());
    let bad = app
        .req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/bank-entry-lines", v.id))
        .token(&v.treasurer)
        .json(&json!({"admin_fee": {"account_code": "4.3.6.01", "activity_code": "01.01.04", "source": "ADD"}}))
        .send()
        .await;
    bad.assert_problem(422, "validation_failed");
    app.req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/bank-entry-lines", v.id))
        .token(&v.implementer)
        .json(&json!({}))
        .send()
        .await
        .assert_problem(403, "forbidden");

    let april = json!([
        line("interest", "125000.00", "INT-2026-04", "2026-04-30"),
        line("interest_tax", "25000.00", "TAX-2026-04", "2026-04-30"),
        line("admin_fee", "15000.00", "ADM-2026-04", "2026-04-30"),
    ]);
    let r = entries(&w, "april", april.clone()).await;
    r.assert_status(200);
    let first = results(&r);
    let summary: Vec<(u64, &str, bool)> = first
        .iter()
        .map(|x| (x["status"].as_u64().unwrap(), x["account_code"].as_str().unwrap(), x["suspense"].as_bool().unwrap()))
        .collect();
    assert_eq!(summary, [(201, "4.3.6.01", false), (201, "2.1.9.99", true), (201, "5.2.5.90", false)]);
    assert!(first[1]["suspense_reason"].as_str().unwrap().contains("belum ada baris anggaran"));
    // 10,000,000 + 125,000 - 25,000 - 15,000.
    assert_eq!(app.balance(v, "1.1.1.02").await, "10085000.00");
    assert_eq!(app.balance(v, "4.3.6.01").await, "125000.00");
    assert_eq!(app.balance(v, "5.2.5.90").await, "15000.00");
    assert_eq!(app.balance(v, "2.1.9.99").await, "-25000.00", "suspense holds the unbudgeted charge (a debit)");
    let budget = app.budget(v).await;
    let fee_line = crate::workflow_helpers::line(&budget, "5.2.5.90");
    assert_eq!((fee_line["realised"].as_str(), fee_line["available"].as_str()), (Some("15000.00"), Some("5000.00")));

    // The same key replays; a new key finds every reference posted: 200, the same transactions, nothing new.
    let replay = entries(&w, "april", april.clone()).await;
    assert_eq!(replay.headers.get("idempotent-replayed").map(|h| h.to_str().unwrap()), Some("true"));
    let again = entries(&w, "april-retry", april).await;
    let again = results(&again);
    for (a, b) in again.iter().zip(&first) {
        assert_eq!(a["status"], 200);
        assert_eq!(a["transaction_id"], b["transaction_id"]);
        assert_eq!(a["suspense"], b["suspense"]);
    }
    assert_eq!(app.balance(v, "1.1.1.02").await, "10085000.00");

    // Each line alone: a reference posted with other figures is refused, the next fee exceeds the line's Rp 5,000
    // and goes to suspense, and a third line posts.
    let may = entries(
        &w,
        "may",
        json!([
            line("admin_fee", "15500.00", "ADM-2026-04", "2026-04-30"),
            line("admin_fee", "15000.00", "ADM-2026-05", "2026-05-31"),
            line("interest", "120000.00", "INT-2026-05", "2026-05-31"),
        ]),
    )
    .await;
    let may = results(&may);
    assert_eq!((may[0]["status"].as_u64(), may[0]["code"].as_str()), (Some(409), Some("conflict")));
    assert_eq!((may[1]["status"].as_u64(), may[1]["suspense"].as_bool()), (Some(201), Some(true)));
    assert!(
        may[1]["suspense_reason"].as_str().unwrap().contains("5.000,00")
            || may[1]["suspense_reason"].as_str().unwrap().contains("5000.00"),
        "{}",
        may[1]
    );
    assert_eq!(may[2]["status"], 201);
    // 10,085,000 - 15,000 + 120,000.
    assert_eq!(app.balance(v, "1.1.1.02").await, "10190000.00");
    assert_eq!(app.balance(v, "2.1.9.99").await, "-40000.00");

    // The bank book puts them in their columns.
    let book =
        app.get(&format!("/api/v1/villages/{}/reports/bank-book?year=2026", v.id)).token(&v.secretary).send().await;
    let totals = book.assert_status(200)["entries"]["totals"].clone();
    assert_eq!(
        (
            totals["interest"].as_str(),
            totals["taxes"].as_str(),
            totals["charges"].as_str(),
            totals["deposits"].as_str()
        ),
        (Some("245000.00"), Some("25000.00"), Some("30000.00"), Some("10000000.00")),
        "{totals}"
    );
    assert_eq!(totals["balance"], "10190000.00");

    // The regency sees what sits in suspense.
    let inspector = app.inspector(&v.regency_id, "inspektur").await;
    let flags = app
        .get(&format!("/api/v1/regencies/{}/anomalies?year=2026&as_of=2026-06-30", v.regency_id))
        .token(&inspector)
        .send()
        .await;
    let flags = flags.assert_status(200)["items"].as_array().unwrap().clone();
    let suspense: Vec<&Value> = flags.iter().filter(|f| f["rule"] == "bank_entry_in_suspense").collect();
    assert_eq!(suspense.len(), 2, "{flags:?}");
    assert_eq!(app.verify(v).await["ok"], true);
}

#[tokio::test]
async fn bank_entries_are_the_banks_alone_and_checked() {
    let w = world().await;
    let (app, v) = (&w.app, &w.v);
    let regency = app.create_regency("61.13").await;
    let other = app.create_village(&regency, "61.13.01.2001", "10000000.00").await;
    let one = json!([line("interest", "1.00", "I-1", "2026-04-30")]);
    let r = app
        .post("/api/v1/bank/entries")
        .token(&w.bank)
        .key("o")
        .json(&json!({"village_id": other.id, "lines": one}))
        .send()
        .await;
    r.assert_problem(404, "not_found");
    let r = app
        .post("/api/v1/bank/entries")
        .token(&v.treasurer)
        .key("t")
        .json(&json!({"village_id": v.id, "lines": one}))
        .send()
        .await;
    r.assert_problem(403, "forbidden");
    entries(&w, "empty", json!([])).await.assert_problem(422, "validation_failed");
    entries(
        &w,
        "twice",
        json!([line("interest", "1.00", "I-1", "2026-04-30"), line("admin_fee", "1.00", "I-1", "2026-04-30")]),
    )
    .await
    .assert_problem(422, "validation_failed");
    entries(&w, "kind", json!([line("dividend", "1.00", "I-2", "2026-04-30")]))
        .await
        .assert_problem(422, "validation_failed");
    entries(&w, "zero", json!([line("interest", "0.00", "I-3", "2026-04-30")]))
        .await
        .assert_problem(422, "invalid_amount");
    // A reference that is a credit already is not a bank entry too.
    let r = entries(&w, "credit-ref", json!([line("admin_fee", "1.00", "DDS-1", "2026-04-30")])).await;
    assert_eq!(results(&r)[0]["code"], "conflict");
    // Officials may not post the bank's entries by hand.
    let manual = json!({"kind": "bank_entry", "value_date": "2026-04-30", "description": "Bunga",
        "entries": [{"account_code": "1.1.1.02", "side": "debit", "amount": "1.00"}, {"account_code": "4.3.6.01", "side": "credit", "amount": "1.00", "source": "DLL"}]});
    app.post_txn(v, &manual).await.assert_problem(422, "validation_failed");
    assert_eq!(app.balance(v, "1.1.1.02").await, "10000000.00");
}

#[tokio::test]
async fn statement_balances_are_compared_with_the_ledger() {
    let w = world().await;
    let (app, v) = (&w.app, &w.v);
    let statement = |key: &str, lines: Value| {
        app.post("/api/v1/bank/statements")
            .token(&w.bank)
            .key(key)
            .json(&json!({"village_id": v.id, "lines": lines}))
            .send()
    };
    statement(
        "s1",
        json!([{"bank_reference": "DDS-1", "value_date": "2026-04-01", "amount": "10000000.00",
                            "direction": "credit", "balance": "10000000.00"}]),
    )
    .await
    .assert_status(201);
    let rc = |_: ()| async {
        app.get(&format!("/api/v1/villages/{}/reports/reconciliation?year=2026", v.id)).token(&v.treasurer).send().await
    };
    let r = rc(()).await;
    assert_eq!(r.assert_status(200)["reconciled"], true, "{}", r.body);
    // The bank charged a fee the ledger does not have yet: the line is unmatched and the balances differ by it.
    statement(
        "s2",
        json!([{"bank_reference": "ADM-04", "value_date": "2026-04-30", "amount": "6500.00",
                            "direction": "debit", "balance": "9993500.00"}]),
    )
    .await
    .assert_status(201);
    let r = rc(()).await;
    assert_eq!((r.body["reconciled"].as_bool(), r.body["balance_differences"].as_u64()), (Some(false), Some(1)));
    let balances = r.body["balances"]["rows"].as_array().unwrap().clone();
    assert_eq!(balances.len(), 2);
    assert_eq!(
        (
            balances[1]["bank_balance"].as_str(),
            balances[1]["ledger_balance"].as_str(),
            balances[1]["difference"].as_str()
        ),
        (Some("9993500.00"), Some("10000000.00"), Some("-6500.00"))
    );
    // Once the bank reports the fee, the books agree to the rupiah.
    entries(&w, "fee", json!([line("admin_fee", "6500.00", "ADM-04", "2026-04-30")])).await.assert_status(200);
    let r = rc(()).await;
    assert_eq!(
        (r.body["reconciled"].as_bool(), r.body["balance_differences"].as_u64()),
        (Some(true), Some(0)),
        "{}",
        r.body
    );
    // A balance that is not money is refused.
    statement("s3", json!([{"bank_reference": "X", "value_date": "2026-04-30", "amount": "1.00", "direction": "debit", "balance": "12,5"}]))
        .await
        .assert_problem(422, "invalid_amount");
}

#[tokio::test]
async fn a_charge_in_suspense_is_cleared_onto_its_line_by_the_head_once_the_budget_takes_it() {
    let w = world().await;
    let (app, v) = (&w.app, &w.v);
    let set_line = || {
        app.req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/bank-entry-lines", v.id))
            .token(&v.treasurer)
            .json(&json!({"admin_fee": {"account_code": "5.2.5.90", "activity_code": "01.01.04", "source": "ADD"}}))
            .send()
    };
    // No line chosen when the bank charged 15,000 in April: suspense.
    let r = entries(&w, "fee-04", json!([line("admin_fee", "15000.00", "ADM-04", "2026-04-30")])).await;
    r.assert_status(200);
    assert_eq!(results(&r)[0]["suspense"], true);
    let clear = |who: &str, key: &str| {
        app.post(&format!("/api/v1/villages/{}/bank-entries/ADM-04/clear", v.id))
            .token(who)
            .key(key)
            .json(&json!({"note": "baris biaya bank ditetapkan"}))
            .send()
    };
    // Still no line: it cannot leave suspense, and says why.
    let early = clear(&v.head, "c0").await;
    early.assert_problem(422, "validation_failed");
    assert!(early.body["detail"].as_str().unwrap().contains("belum ada baris anggaran"), "{}", early.body);
    set_line().await.assert_status(200);
    // The treasurer chose the line; the head moves spending onto it (the treasurer alone may not).
    clear(&v.treasurer, "c1").await.assert_problem(403, "forbidden");
    let before_bank = app.balance(v, "1.1.1.02").await;
    let done = clear(&v.head, "c2").await;
    let txn = done.assert_status(201).clone();
    assert_eq!(txn["value_date"], "2026-04-30", "dated as the bank charged it");
    assert_eq!(txn["kind"], "bank_entry");
    let entries_of: Vec<(String, String, String)> = txn["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["account_code"].as_str().unwrap().into(),
                e["side"].as_str().unwrap().into(),
                e["amount"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        entries_of,
        vec![
            ("5.2.5.90".into(), "debit".into(), "15000.00".into()),
            ("2.1.9.99".into(), "credit".into(), "15000.00".into())
        ]
    );
    assert_eq!(app.balance(v, "2.1.9.99").await, "0.00", "suspense is empty");
    assert_eq!(app.balance(v, "1.1.1.02").await, before_bank, "the bank account moved once, when the bank charged");
    let budget = app.get(&format!("/api/v1/villages/{}/budgets/2026", v.id)).token(&v.head).send().await;
    let fee_line = budget.assert_status(200)["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["account_code"] == "5.2.5.90")
        .unwrap()
        .clone();
    assert_eq!(fee_line["realised"], "15000.00", "{fee_line}");
    // A retry replays; a second clearing is refused; the anomaly is gone and the chain holds.
    assert!(clear(&v.head, "c2").await.headers.get("idempotent-replayed").is_some());
    clear(&v.head, "c3").await.assert_problem(409, "conflict");
    assert_eq!(app.verify(v).await["ok"], true);
    let inspector = app.inspector(&v.regency_id, "inspektur").await;
    let flags = app
        .get(&format!("/api/v1/regencies/{}/anomalies?year=2026&as_of=2026-06-30", v.regency_id))
        .token(&inspector)
        .send()
        .await;
    let flags = flags.assert_status(200)["items"].as_array().unwrap().clone();
    assert!(!flags.iter().any(|f| f["rule"] == "bank_entry_in_suspense"), "nothing left in suspense: {flags:?}");
    // A charge beyond what the line has left stays in suspense when cleared: 20,000 budgeted, 15,000 realised.
    let r = entries(&w, "fee-05", json!([line("admin_fee", "9000.00", "ADM-05", "2026-05-31")])).await;
    r.assert_status(200);
    assert_eq!(results(&r)[0]["suspense"], true);
    let over =
        app.post(&format!("/api/v1/villages/{}/bank-entries/ADM-05/clear", v.id)).token(&v.head).key("c4").send().await;
    over.assert_problem(422, "validation_failed");
    assert_eq!(app.balance(v, "2.1.9.99").await, "-9000.00", "still in suspense (a debit on a credit-normal account)");
}
