//! Budgets, the payment approval chain and the bank settling it, as a village lives it.

use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::{json, Value};

async fn accounts(app: &TestApp, v: &Village) -> Vec<Value> {
    app.get(&format!("/api/v1/villages/{}/accounts", v.id))
        .token(&v.treasurer)
        .send()
        .await
        .assert_status(200)
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_village_year_end_to_end() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let inspector = app.inspector(&regency, "inspektorat").await;
    let bank = app.bank(&[&v.id]).await;

    // No adopted budget yet: nothing may be approved.
    app.credit(&bank, &v, "1000000.00", "DDS", "PRE-1").await.assert_status(201);
    let early = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "100000.00", json!([]))).await;
    app.act(&v.implementer, &early, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &early, "verify", None).await.assert_status(200);
    app.act(&v.head, &early, "approve", None).await.assert_problem(422, "fiscal_year_closed");
    app.act(&v.head, &early, "reject", Some("anggaran belum ditetapkan")).await.assert_status(200);

    app.adopt_budget(&v, &standard_budget()).await;
    let budget = app.budget(&v).await;
    assert_eq!(budget["status"], "adopted");
    assert_eq!(line(&budget, "5.2.1.07")["available"], "100000000.00");
    // Adopted: the draft can no longer be replaced, only revised.
    let r = app
        .req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/budgets/{YEAR}", v.id))
        .token(&v.head)
        .json(&standard_budget())
        .send()
        .await;
    r.assert_problem(409, "invalid_transition");

    // Dana Desa tahap I arrives.
    let credit = app.credit(&bank, &v, "299000000.00", "DDS", "DDS-TAHAP-1").await;
    assert_eq!(credit.assert_status(201)["entries"][1]["account_code"], "4.2.1.01");

    // Payment A: materials with PPN and PPh 22, straight through.
    let a = app
        .draft(
            &v,
            &spp(
                "5.2.1.07",
                "02.03.10",
                "DDS",
                "11100000.00",
                json!([{"tax": "PPN", "amount": "1000000.00"}, {"tax": "PPH22", "amount": "166500.00"}]),
            ),
        )
        .await;
    let pa = app.payment(&v, &a).await;
    assert_eq!(
        (pa["gross"].as_str(), pa["withheld"].as_str(), pa["net"].as_str()),
        (Some("11100000.00"), Some("1166500.00"), Some("9933500.00"))
    );
    assert_eq!(pa["status"], "draft");
    assert_eq!(pa["payee"]["npwp"], "012345678901000");
    app.approve_chain(&v, &a).await;
    assert_eq!(line(&app.budget(&v).await, "5.2.1.07")["committed"], "11100000.00");
    let released = app.act(&v.treasurer, &a, "release", None).await;
    assert_eq!(released.assert_status(200)["status"], "released");
    let ta = app.transfer_of(&bank, &a).await;
    assert_eq!(ta["amount"], "9933500.00");
    assert_eq!(ta["debit_account"], "1012345678");
    assert_eq!(ta["payee"]["account_number"], "1009876543");
    let settled = app.bank_result(&bank, ta["id"].as_str().unwrap(), "res-a", &paid("KALBAR-A-1")).await;
    let settled = settled.assert_status(200).clone();
    assert_eq!(settled["payment_status"], "paid");
    let txn = &settled["transaction"];
    assert_eq!(txn["kind"], "disbursement");
    assert_eq!(txn["total"], "11100000.00");
    assert_eq!(txn["bank_reference"], "KALBAR-A-1");
    assert_eq!(txn["entries"][0]["activity_code"], "02.03.10");
    assert_eq!(txn["entries"][0]["source"], "DDS");
    // The bank retries: same key → same answer; new key, same result → same answer; a different result → 409.
    let again = app.bank_result(&bank, ta["id"].as_str().unwrap(), "res-a", &paid("KALBAR-A-1")).await;
    assert_eq!(again.assert_status(200), &settled);
    let again = app.bank_result(&bank, ta["id"].as_str().unwrap(), "res-a-2", &paid("KALBAR-A-1")).await;
    assert_eq!(again.assert_status(200)["transaction"]["id"], txn["id"]);
    app.bank_result(
        &bank,
        ta["id"].as_str().unwrap(),
        "res-a-3",
        &json!({"status": "failed", "bank_reference": "KALBAR-A-1", "value_date": "2026-04-10", "reason": "x"}),
    )
    .await
    .assert_problem(409, "conflict");

    // Payment B: honorarium with PPh 21, returned once and resubmitted, failed once at the bank and re-released.
    let b = app
        .draft(&v, &spp("5.2.2.01", "01.01.04", "ADD", "5000000.00", json!([{"tax": "PPH21", "amount": "250000.00"}])))
        .await;
    app.act(&v.implementer, &b, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &b, "return", None).await.assert_problem(422, "validation_failed");
    app.act(&v.secretary, &b, "return", Some("kuitansi belum ditandatangani")).await.assert_status(200);
    app.act(&v.implementer, &b, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &b, "verify", None).await.assert_status(200);
    app.act(&v.head, &b, "approve", None).await.assert_status(200);
    app.act(&v.treasurer, &b, "release", None).await.assert_status(200);
    let tb = app.transfer_of(&bank, &b).await;
    let failed = app.bank_result(&bank, tb["id"].as_str().unwrap(), "res-b", &json!({"status": "failed", "bank_reference": "KALBAR-B-1", "value_date": "2026-04-11", "reason": "rekening tujuan tidak aktif"})).await;
    assert_eq!(failed.assert_status(200)["payment_status"], "failed");
    assert!(failed.body["transaction"].is_null());
    assert_eq!(app.payment(&v, &b).await["failure_reason"], "rekening tujuan tidak aktif");
    // Still committed while failed; the treasurer releases again.
    assert_eq!(line(&app.budget(&v).await, "5.2.2.01")["committed"], "5000000.00");
    app.act(&v.treasurer, &b, "release", None).await.assert_status(200);
    let tb2 = app.transfer_of(&bank, &b).await;
    assert_eq!(tb2["attempt"], 2);
    app.bank_result(&bank, tb2["id"].as_str().unwrap(), "res-b2", &paid("KALBAR-B-2")).await.assert_status(200);
    let pb = app.payment(&v, &b).await;
    assert_eq!(pb["status"], "paid");
    let trail: Vec<&str> = pb["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        trail,
        vec!["create", "submit", "return", "submit", "verify", "approve", "release", "fail", "release", "pay"]
    );
    assert_eq!(pb["events"][2]["note"], "kuitansi belum ditandatangani");
    assert_eq!(pb["events"][2]["role"], "secretary");
    assert_eq!(pb["transfers"].as_array().unwrap().len(), 2);

    // Payment C: rejected by the head; nothing committed.
    let c = app.draft(&v, &spp("5.3.5.01", "02.03.10", "DDS", "50000000.00", json!([]))).await;
    app.act(&v.implementer, &c, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &c, "verify", None).await.assert_status(200);
    app.act(&v.head, &c, "reject", Some("belum ada RAB")).await.assert_status(200);
    app.act(&v.head, &c, "approve", None).await.assert_problem(409, "invalid_transition");

    // Taxes withheld are owed until deposited.
    let acc = accounts(&app, &v).await;
    assert_eq!(balance_of(&acc, "2.1.3.01"), "1000000.00");
    assert_eq!(balance_of(&acc, "2.1.3.02"), "250000.00");
    assert_eq!(balance_of(&acc, "2.1.3.03"), "166500.00");
    // Depositing more than is owed is refused at approval.
    let too_much = app.post(&format!("/api/v1/villages/{}/tax-deposits", v.id)).token(&v.treasurer).key("dep-x")
        .json(&json!({"description": "Setor PPN", "billing_code": "820261100012345", "lines": [{"tax": "PPN", "amount": "1000000.01"}]})).send().await;
    let x = too_much.assert_status(201)["id"].as_str().unwrap().to_string();
    app.act(&v.treasurer, &x, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &x, "verify", None).await.assert_status(200);
    app.act(&v.head, &x, "approve", None).await.assert_problem(422, "validation_failed");
    app.act(&v.head, &x, "reject", Some("melebihi utang pajak")).await.assert_status(200);

    // The implementer may not deposit tax: the treasurer is the withholding agent.
    let body = json!({"description": "Setor pajak April", "lines": [
        {"tax": "PPN", "amount": "1000000.00", "billing_code": "820261100012345"},
        {"tax": "PPH21", "amount": "250000.00", "billing_code": "411121100012346"},
        {"tax": "PPH22", "amount": "166500.00", "billing_code": "411122100012347"}]});
    app.post(&format!("/api/v1/villages/{}/tax-deposits", v.id))
        .token(&v.implementer)
        .key("dep-i")
        .json(&body)
        .send()
        .await
        .assert_problem(403, "forbidden");
    let dep = app
        .post(&format!("/api/v1/villages/{}/tax-deposits", v.id))
        .token(&v.treasurer)
        .key("dep-1")
        .json(&body)
        .send()
        .await;
    let d = dep.assert_status(201).clone();
    assert_eq!(d["kind"], "tax_deposit");
    assert_eq!(d["net"], "1416500.00");
    assert_eq!(d["lines"][1]["billing_code"], "411121100012346", "each tax its own billing code");
    let d = d["id"].as_str().unwrap().to_string();
    app.deposit_chain(&v, &d).await;
    // The treasurer drafted and submitted it, and releases it: one duty; the secretary and the head are others.
    app.act(&v.treasurer, &d, "release", None).await.assert_status(200);
    let td = app.transfer_of(&bank, &d).await;
    assert_eq!(td["billing_code"], "820261100012345");
    let tid = td["id"].as_str().unwrap().to_string();
    // Paid without the NTPN of every tax: refused, nothing posted.
    let one =
        json!({"status": "paid", "bank_reference": "MPN-1", "value_date": "2026-04-15", "ntpn": "A1B2C3D4E5F6G7H8"});
    app.bank_result(&bank, &tid, "res-d0", &one).await.assert_problem(422, "validation_failed");
    let partial = json!({"status": "paid", "bank_reference": "MPN-1", "value_date": "2026-04-15",
        "ntpns": {"PPN": "A1B2C3D4E5F6G7H8", "PPH21": "B1B2C3D4E5F6G7H8"}});
    app.bank_result(&bank, &tid, "res-d1", &partial).await.assert_problem(422, "validation_failed");
    let all = json!({"status": "paid", "bank_reference": "MPN-1", "value_date": "2026-04-15",
        "ntpns": {"PPN": "A1B2C3D4E5F6G7H8", "PPH21": "B1B2C3D4E5F6G7H8", "PPH22": "c1b2c3d4e5f6g7h8"}});
    let s = app.bank_result(&bank, &tid, "res-d", &all).await;
    assert_eq!(s.assert_status(200)["transaction"]["kind"], "tax_deposit");
    let paid = app.payment(&v, &d).await;
    assert_eq!(paid["ntpn"], "A1B2C3D4E5F6G7H8");
    let ntpns: Vec<&str> = paid["lines"].as_array().unwrap().iter().map(|l| l["ntpn"].as_str().unwrap()).collect();
    assert_eq!(ntpns, ["A1B2C3D4E5F6G7H8", "B1B2C3D4E5F6G7H8", "C1B2C3D4E5F6G7H8"]);

    // Every figure, by hand: bank 1,000,000 + 299,000,000 − 9,933,500 − 4,750,000 − 1,416,500.
    let acc = accounts(&app, &v).await;
    assert_eq!(balance_of(&acc, "1.1.1.02"), "283900000.00");
    assert_eq!(balance_of(&acc, "4.2.1.01"), "300000000.00");
    assert_eq!(balance_of(&acc, "5.2.1.07"), "11100000.00");
    assert_eq!(balance_of(&acc, "5.2.2.01"), "5000000.00");
    for tax in ["2.1.3.01", "2.1.3.02", "2.1.3.03", "2.1.3.04", "2.1.3.05"] {
        assert_eq!(balance_of(&acc, tax), "0.00", "{tax}");
    }
    let budget = app.budget(&v).await;
    let l = line(&budget, "5.2.1.07");
    assert_eq!(
        (l["ceiling"].as_str(), l["committed"].as_str(), l["realised"].as_str(), l["available"].as_str()),
        (Some("100000000.00"), Some("0.00"), Some("11100000.00"), Some("88900000.00"))
    );
    let l = line(&budget, "5.2.2.01");
    assert_eq!(
        (l["committed"].as_str(), l["realised"].as_str(), l["available"].as_str()),
        (Some("0.00"), Some("5000000.00"), Some("15000000.00"))
    );
    let l = line(&budget, "5.3.5.01");
    assert_eq!((l["committed"].as_str(), l["realised"].as_str()), (Some("0.00"), Some("0.00")));

    // Nothing is left for the bank; the inspector reads everything; the chain (transactions and events) verifies.
    let pending = app.get("/api/v1/bank/transfers").token(&bank).send().await;
    assert_eq!(pending.assert_status(200)["items"].as_array().unwrap().len(), 0);
    let list = app.get(&format!("/api/v1/villages/{}/payments?status=paid", v.id)).token(&inspector).send().await;
    assert_eq!(list.assert_status(200)["items"].as_array().unwrap().len(), 3);
    let report = app.verify(&v).await;
    assert_eq!(report["ok"], true, "{report}");
    let last_seq =
        app.get(&format!("/api/v1/villages/{}", v.id)).token(&v.head).send().await.body["last_seq"].as_i64().unwrap();
    assert_eq!(last_seq, 5, "two credits, two disbursements, one tax deposit");
    assert!(report["checked"].as_i64().unwrap() > last_seq, "events are chained too");
}

#[tokio::test]
async fn budget_control_revisions_and_cancellation() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;

    // Over the ceiling: budget_exceeded with the line and its figures.
    let big = app.draft(&v, &spp("5.2.2.01", "01.01.04", "ADD", "15000000.00", json!([]))).await;
    app.approve_chain(&v, &big).await;
    let over = app.draft(&v, &spp("5.2.2.01", "01.01.04", "ADD", "5000000.01", json!([]))).await;
    app.act(&v.implementer, &over, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &over, "verify", None).await.assert_status(200);
    let r = app.act(&v.head, &over, "approve", None).await;
    r.assert_problem(422, "budget_exceeded");
    let e = &r.body["errors"][0];
    assert_eq!(
        (e["account_code"].as_str(), e["activity_code"].as_str(), e["source"].as_str()),
        (Some("5.2.2.01"), Some("01.01.04"), Some("ADD"))
    );
    assert_eq!(
        (e["ceiling"].as_str(), e["committed"].as_str(), e["available"].as_str(), e["requested"].as_str()),
        (Some("20000000.00"), Some("15000000.00"), Some("5000000.00"), Some("5000000.01"))
    );
    // No budget line at all for the key is also budget_exceeded.
    let unbudgeted = app.draft(&v, &spp("5.2.4.01", "01.01.04", "ADD", "1.00", json!([]))).await;
    app.act(&v.implementer, &unbudgeted, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &unbudgeted, "verify", None).await.assert_status(200);
    app.act(&v.head, &unbudgeted, "approve", None).await.assert_problem(422, "budget_exceeded");

    // A revision may not take a line below what it has committed.
    let mut revision = standard_budget();
    revision["lines"][2]["amount"] = json!("14999999.99");
    revision["note"] = json!("Perdes APBDes Perubahan 2026");
    let r = app
        .post(&format!("/api/v1/villages/{}/budgets/{YEAR}/revisions", v.id))
        .token(&v.head)
        .json(&revision)
        .send()
        .await;
    r.assert_problem(422, "budget_exceeded");
    // Dropping a used line is the same as revising it to zero.
    let mut dropped = standard_budget();
    dropped["lines"].as_array_mut().unwrap().remove(2);
    app.post(&format!("/api/v1/villages/{}/budgets/{YEAR}/revisions", v.id))
        .token(&v.head)
        .json(&dropped)
        .send()
        .await
        .assert_problem(422, "budget_exceeded");
    // Raising it works, keeps history, and makes room.
    revision["lines"][2]["amount"] = json!("25000000.00");
    let r = app
        .post(&format!("/api/v1/villages/{}/budgets/{YEAR}/revisions", v.id))
        .token(&v.secretary)
        .json(&revision)
        .send()
        .await;
    r.assert_problem(403, "forbidden");
    let r = app
        .post(&format!("/api/v1/villages/{}/budgets/{YEAR}/revisions", v.id))
        .token(&v.head)
        .json(&revision)
        .send()
        .await;
    let b = r.assert_status(201).clone();
    assert_eq!(b["version"], 2);
    assert_eq!(b["versions"][0]["status"], "superseded");
    assert_eq!(b["versions"][1]["note"], "Perdes APBDes Perubahan 2026");
    assert_eq!(line(&b, "5.2.2.01")["available"], "10000000.00");
    app.act(&v.head, &over, "approve", None).await.assert_status(200);
    assert_eq!(line(&app.budget(&v).await, "5.2.2.01")["available"], "4999999.99");

    // Cancelling an approved request releases its commitment.
    app.act(&v.implementer, &big, "cancel", Some("batal")).await.assert_problem(403, "forbidden");
    app.act(&v.head, &big, "cancel", None).await.assert_problem(422, "validation_failed");
    app.act(&v.head, &big, "cancel", Some("kegiatan ditunda")).await.assert_status(200);
    let l = line(&app.budget(&v).await, "5.2.2.01").clone();
    assert_eq!((l["committed"].as_str(), l["available"].as_str()), (Some("5000000.01"), Some("19999999.99")));
    app.act(&v.head, &big, "cancel", Some("lagi")).await.assert_problem(409, "invalid_transition");

    // A closed year refuses approvals (2025: a year closes once it has ended).
    app.post(&format!("/api/v1/villages/{}/fiscal-years/2025/close", v.id))
        .token(&v.head)
        .send()
        .await
        .assert_status(200);
    let mut late = spp("5.2.1.07", "02.03.10", "DDS", "1.00", json!([]));
    late["fiscal_year"] = json!(2025);
    let late = app.draft(&v, &late).await;
    app.act(&v.implementer, &late, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &late, "verify", None).await.assert_status(200);
    app.act(&v.head, &late, "approve", None).await.assert_problem(422, "fiscal_year_closed");
    assert_eq!(app.verify(&v).await["ok"], true);
}

#[tokio::test]
async fn forbidden_transitions_roles_and_separation_of_duties() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let inspector = app.inspector(&regency, "inspektorat").await;
    let bank = app.bank(&[&v.id]).await;
    app.adopt_budget(&v, &standard_budget()).await;
    app.credit(&bank, &v, "50000000.00", "DDS", "CR-1").await.assert_status(201);
    let p = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "1000000.00", json!([]))).await;

    let tokens = [
        ("implementer", v.implementer.clone()),
        ("secretary", v.secretary.clone()),
        ("head", v.head.clone()),
        ("treasurer", v.treasurer.clone()),
        ("inspector", inspector.clone()),
        ("bank", bank.clone()),
        ("admin", app.admin_token.clone()),
    ];
    let actions = ["submit", "verify", "return", "approve", "reject", "release", "cancel"];
    // Walk the request through every state and try every action by every role in each; only the contract's pairs
    // may succeed, a wrong role is 403 and a wrong state 409.
    let allowed = |state: &str, action: &str, role: &str| -> bool {
        matches!(
            (state, action, role),
            ("draft" | "returned", "submit", "implementer")
                | ("submitted", "verify", "secretary")
                | ("submitted" | "verified", "return", "secretary")
                | ("verified", "approve" | "reject", "head")
                | ("approved" | "failed", "release", "treasurer")
                | ("draft" | "returned", "cancel", "implementer")
                | ("approved" | "failed", "cancel", "head")
        )
    };
    let role_may = |action: &str, role: &str| -> bool {
        matches!(
            (action, role),
            ("submit", "implementer")
                | ("verify" | "return", "secretary")
                | ("approve" | "reject", "head")
                | ("release", "treasurer")
                | ("cancel", "implementer" | "head")
        )
    };
    let path = ["draft", "submitted", "verified", "approved", "released"];
    let mut cells = 0;
    for (i, state) in path.iter().enumerate() {
        assert_eq!(app.payment(&v, &p).await["status"], *state);
        for action in actions {
            for (role, token) in &tokens {
                if allowed(state, action, role) {
                    continue; // the walk below takes the allowed step
                }
                let r = app.act(token, &p, action, Some("uji")).await;
                if role_may(action, role)
                    && !(action == "cancel" && ["approved", "failed", "draft", "returned"].contains(state))
                {
                    r.assert_problem(409, "invalid_transition");
                } else {
                    r.assert_problem(403, "forbidden");
                }
                cells += 1;
            }
        }
        match i {
            0 => app.act(&v.implementer, &p, "submit", None).await.assert_status(200),
            1 => app.act(&v.secretary, &p, "verify", None).await.assert_status(200),
            2 => app.act(&v.head, &p, "approve", None).await.assert_status(200),
            3 => app.act(&v.treasurer, &p, "release", None).await.assert_status(200),
            _ => &serde_json::Value::Null,
        };
    }
    assert_eq!(app.payment(&v, &p).await["status"], "released");
    eprintln!("workflow matrix: {cells} cells checked");

    // Separation of duties: the secretary who verified becomes acting head (Plt.) and may not approve it.
    let q = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "1000.00", json!([]))).await;
    app.act(&v.implementer, &q, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &q, "verify", None).await.assert_status(200);
    let secretary_id = app.payment(&v, &q).await["events"][2]["actor"].as_str().unwrap().to_string();
    let slug = v.code.to_lowercase().replace('.', "-");
    app.req(reqwest::Method::PATCH, &format!("/api/v1/users/{secretary_id}"))
        .token(&app.admin_token)
        .json(&json!({"role": "head", "village_id": v.id}))
        .send()
        .await
        .assert_status(200);
    let acting_head = app.login(&format!("secretary-{slug}"), PASSWORD).await;
    let r = app.act(&acting_head, &q, "approve", None).await;
    r.assert_problem(403, "separation_of_duties");
    // The real head may; and the acting head may approve a request they never touched.
    app.act(&v.head, &q, "approve", None).await.assert_status(200);
    let fresh = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "1000.00", json!([]))).await;
    app.act(&v.implementer, &fresh, "submit", None).await.assert_status(200);
    app.create_user("sekdes-baru", "secretary", Some(&v.id), None).await;
    let new_secretary = app.login("sekdes-baru", PASSWORD).await;
    app.act(&new_secretary, &fresh, "verify", None).await.assert_status(200);
    app.act(&acting_head, &fresh, "approve", None).await.assert_status(200);
    // Back to treasurer's duty, the former implementer cannot release what they drafted either.
    // (The secretary's old token ended with the change of role: the head reads.)
    let read = app.get(&format!("/api/v1/payments/{fresh}")).token(&v.head).send().await;
    let implementer_id = read.assert_status(200)["events"][0]["actor"].as_str().unwrap().to_string();
    app.req(reqwest::Method::PATCH, &format!("/api/v1/users/{implementer_id}"))
        .token(&app.admin_token)
        .json(&json!({"role": "treasurer", "village_id": v.id}))
        .send()
        .await
        .assert_status(200);
    let former_implementer = app.login(&format!("implementer-{slug}"), PASSWORD).await;
    app.act(&former_implementer, &fresh, "release", None).await.assert_problem(403, "separation_of_duties");
    app.act(&v.treasurer, &fresh, "release", None).await.assert_status(200);
    // A deactivated user cannot log in.
    app.req(reqwest::Method::PATCH, &format!("/api/v1/users/{implementer_id}"))
        .token(&app.admin_token)
        .json(&json!({"active": false}))
        .send()
        .await
        .assert_status(200);
    app.post("/api/v1/auth/login")
        .json(&json!({"username": format!("implementer-{slug}"), "password": PASSWORD}))
        .send()
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(app.verify(&v).await["ok"], true);
}

#[tokio::test]
async fn a_line_on_an_unknown_account_is_answered_before_anything_else() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let path = format!("/api/v1/villages/{}/payments", v.id);
    let unknown = |source: &str| spp("5.9.9.99", "02.03.10", source, "1.00", json!([]));
    let cases: Vec<(&str, Value)> = vec![
        ("nothing else", unknown("DDS")),
        ("bad source", unknown("XYZ")),
        ("bad activity", {
            let mut b = unknown("DDS");
            b["activity_code"] = json!("99.99.99");
            b
        }),
        ("bad payee", {
            let mut b = unknown("DDS");
            b["payee"]["bank_code"] = json!("1");
            b
        }),
        ("bad amount", {
            let mut b = unknown("DDS");
            b["lines"][0]["amount"] = json!("1.005");
            b
        }),
        ("unknown field", {
            let mut b = unknown("DDS");
            b["lines"][0]["iban"] = json!("x");
            b
        }),
        ("wrong type", {
            let mut b = unknown("DDS");
            b["lines"][0]["withholdings"] = json!("none");
            b
        }),
        ("second line", {
            let mut b = spp("5.2.1.07", "02.03.10", "XYZ", "1.00", json!([]));
            b["lines"]
                .as_array_mut()
                .unwrap()
                .push(json!({"account_code": "5.9.9.99", "source": "DDS", "amount": "1.00"}));
            b
        }),
    ];
    for (what, body) in &cases {
        let r = app.post(&path).token(&v.implementer).key(&uuid::Uuid::new_v4().to_string()).json(body).send().await;
        r.assert_problem(422, "unknown_account");
        assert_eq!(r.body["errors"][0]["account_code"], "5.9.9.99", "{what}");
    }
    // Without an Idempotency-Key too; but the scope and the role come first.
    app.post(&path).token(&v.implementer).json(&cases[1].1).send().await.assert_problem(422, "unknown_account");
    let other = app.create_village(&regency, "61.12.01.2002", "10000000.00").await;
    app.post(&path).token(&other.implementer).key("k").json(&cases[1].1).send().await.assert_problem(404, "not_found");
    app.post(&path).token(&v.treasurer).key("k").json(&cases[1].1).send().await.assert_problem(403, "forbidden");
    // An account in the chart that may not be spent from keeps its own answer.
    let revenue = spp("4.2.1.01", "02.03.10", "XYZ", "1.00", json!([]));
    app.post(&path)
        .token(&v.implementer)
        .key("k2")
        .json(&revenue)
        .send()
        .await
        .assert_problem(422, "validation_failed");
    let list = app.get(&path).token(&v.implementer).send().await;
    assert_eq!(list.assert_status(200)["items"].as_array().unwrap().len(), 0, "nothing was drafted");
}

#[tokio::test]
async fn payment_validation_and_release_funds() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let bank = app.bank(&[&v.id]).await;
    app.adopt_budget(&v, &standard_budget()).await;
    let path = format!("/api/v1/villages/{}/payments", v.id);
    let good = spp("5.2.1.07", "02.03.10", "DDS", "1000.00", json!([]));
    let cases: Vec<(&str, Value, &str)> = vec![
        ("revenue account", spp("4.2.1.01", "02.03.10", "DDS", "1.00", json!([])), "validation_failed"),
        ("bad activity", spp("5.2.1.07", "07.01.01", "DDS", "1.00", json!([])), "validation_failed"),
        ("bad source", spp("5.2.1.07", "02.03.10", "XYZ", "1.00", json!([])), "validation_failed"),
        ("bad amount", spp("5.2.1.07", "02.03.10", "DDS", "1.005", json!([])), "invalid_amount"),
        (
            "bad tax",
            spp("5.2.1.07", "02.03.10", "DDS", "100.00", json!([{"tax": "VAT", "amount": "1.00"}])),
            "validation_failed",
        ),
        (
            "tax twice",
            spp(
                "5.2.1.07",
                "02.03.10",
                "DDS",
                "100.00",
                json!([{"tax": "PPN", "amount": "1.00"}, {"tax": "PPN", "amount": "1.00"}]),
            ),
            "validation_failed",
        ),
        (
            "withholding ≥ amount",
            spp("5.2.1.07", "02.03.10", "DDS", "100.00", json!([{"tax": "PPN", "amount": "100.00"}])),
            "invalid_amount",
        ),
        (
            "bad withholding amount",
            spp("5.2.1.07", "02.03.10", "DDS", "100.00", json!([{"tax": "PPN", "amount": -1}])),
            "invalid_amount",
        ),
        ("unknown chart account", spp("5.9.9.99", "02.03.10", "DDS", "1.00", json!([])), "unknown_account"),
        (
            "no lines",
            {
                let mut b = good.clone();
                b["lines"] = json!([]);
                b
            },
            "validation_failed",
        ),
        (
            "bad bank code",
            {
                let mut b = good.clone();
                b["payee"]["bank_code"] = json!("12");
                b
            },
            "validation_failed",
        ),
        (
            "bad account number",
            {
                let mut b = good.clone();
                b["payee"]["account_number"] = json!("12-34");
                b
            },
            "validation_failed",
        ),
        (
            "short account number",
            {
                let mut b = good.clone();
                b["payee"]["account_number"] = json!("12345");
                b
            },
            "validation_failed",
        ),
        (
            "bad npwp",
            {
                let mut b = good.clone();
                b["payee"]["npwp"] = json!("123");
                b
            },
            "validation_failed",
        ),
        (
            "empty payee",
            {
                let mut b = good.clone();
                b["payee"]["name"] = json!("");
                b
            },
            "validation_failed",
        ),
        (
            "unknown field",
            {
                let mut b = good.clone();
                b["payee"]["iban"] = json!("x");
                b
            },
            "validation_failed",
        ),
        (
            "year far off",
            {
                let mut b = good.clone();
                b["fiscal_year"] = json!(2099);
                b
            },
            "validation_failed",
        ),
    ];
    for (what, body, code) in cases {
        let r = app.post(&path).token(&v.implementer).key(&uuid::Uuid::new_v4().to_string()).json(&body).send().await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (
                if code == "unknown_account" || code == "invalid_amount" || code == "validation_failed" {
                    422
                } else {
                    0
                },
                code
            ),
            "{what}: {}",
            r.body
        );
    }
    app.post(&path).token(&v.implementer).json(&good).send().await.assert_problem(422, "validation_failed");
    app.post(&path).token(&v.treasurer).key("k").json(&good).send().await.assert_problem(403, "forbidden");
    // Idempotent drafting.
    let r1 = app.post(&path).token(&v.implementer).key("spp-1").json(&good).send().await;
    let r2 = app.post(&path).token(&v.implementer).key("spp-1").json(&good).send().await;
    assert_eq!(r1.assert_status(201), r2.assert_status(201));

    // Release needs the money: bank balance less what is already released and unsettled.
    app.credit(&bank, &v, "1500.00", "DDS", "CR-1").await.assert_status(201);
    let p1 = r1.body["id"].as_str().unwrap().to_string();
    let p2 = app.draft(&v, &good).await;
    app.approve_chain(&v, &p1).await;
    app.approve_chain(&v, &p2).await;
    app.act(&v.treasurer, &p1, "release", None).await.assert_status(200);
    let r = app.act(&v.treasurer, &p2, "release", None).await;
    r.assert_problem(422, "insufficient_funds");
    assert_eq!(r.body["errors"]["balance"], "500.00");
    // Money promised to the bank cannot be withdrawn to cash either.
    app.post_txn(&v, &withdrawal("500.01")).await.assert_problem(422, "insufficient_funds");
    app.post_txn(&v, &withdrawal("500.00")).await.assert_status(201);
    // Settling it spends the reservation, not twice.
    let t = app.transfer_of(&bank, &p1).await;
    app.bank_result(&bank, t["id"].as_str().unwrap(), "r1", &paid("REF-1")).await.assert_status(200);
    assert_eq!(app.balance(&v, "1.1.1.02").await, "0.00");
    assert_eq!(app.verify(&v).await["ok"], true);
}

#[tokio::test]
async fn a_retried_step_with_its_key_is_answered_as_before() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let p = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "1000.00", json!([]))).await;
    let submit =
        |key: &'static str| app.post(&format!("/api/v1/payments/{p}/submit")).token(&v.implementer).key(key).send();
    let first = submit("submit-1").await;
    first.assert_status(200);
    let again = submit("submit-1").await;
    assert_eq!(again.assert_status(200), &first.body);
    assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
    // Without the key (or with a new one) a repeated step is a state conflict, as before.
    app.act(&v.implementer, &p, "submit", None).await.assert_problem(409, "invalid_transition");
    submit("submit-2").await.assert_problem(409, "invalid_transition");
    // The same key on another step is a different request.
    app.post(&format!("/api/v1/payments/{p}/verify"))
        .token(&v.implementer)
        .key("submit-1")
        .send()
        .await
        .assert_problem(409, "idempotency_conflict");
    let events = app.payment(&v, &p).await["events"].as_array().unwrap().len();
    assert_eq!(events, 2, "create and one submit");
}

/// Every step answers from the rows it wrote rather than reading them back: the answer must be exactly what a read
/// returns afterwards, at every step of a chain with withholdings, and for the bank's settlement.
#[tokio::test]
async fn every_step_answers_what_a_read_returns_afterwards() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2002", "10000000.00").await;
    let bank = app.bank(&[&v.id]).await;
    app.adopt_budget(&v, &standard_budget()).await;
    app.credit(&bank, &v, "50000000.00", "DDS", "CR-READBACK").await.assert_status(201);
    let withholdings = json!([{"tax": "PPH23", "amount": "20000.00"}, {"tax": "PPN", "amount": "110000.00"}]);
    let drafted = app
        .post(&format!("/api/v1/villages/{}/payments", v.id))
        .token(&v.implementer)
        .key("draft-readback")
        .json(&spp("5.2.1.07", "02.03.10", "DDS", "1000000.00", withholdings))
        .send()
        .await;
    let p = drafted.assert_status(201)["id"].as_str().unwrap().to_string();
    assert_eq!(drafted.body, app.payment(&v, &p).await, "draft");
    for (token, action) in
        [(&v.implementer, "submit"), (&v.secretary, "verify"), (&v.head, "approve"), (&v.treasurer, "release")]
    {
        let r = app.act(token, &p, action, None).await;
        assert_eq!(r.assert_status(200), &app.payment(&v, &p).await, "{action}");
    }
    let transfer = app.transfer_of(&bank, &p).await;
    let tid = transfer["id"].as_str().unwrap();
    let settled = app.bank_result(&bank, tid, "result-readback-1", &paid("BNK-READBACK")).await;
    let settled = settled.assert_status(200).clone();
    // The same result under a new key is answered by reading the settled rows back.
    let reread = app.bank_result(&bank, tid, "result-readback-2", &paid("BNK-READBACK")).await;
    assert_eq!(reread.assert_status(200), &settled, "settlement");
    let txn_id = settled["transaction"]["id"].as_str().unwrap();
    let txn = app.get(&format!("/api/v1/transactions/{txn_id}")).token(&v.secretary).send().await;
    assert_eq!(txn.assert_status(200), &settled["transaction"], "posted disbursement");
    assert_eq!(settled["payment_status"], app.payment(&v, &p).await["status"]);
}

#[tokio::test]
async fn the_budget_shows_revenue_as_the_ledger_received_it() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "5000000.00").await;
    let bank = app.bank(&[&v.id]).await;
    app.adopt_budget(&v, &standard_budget()).await;
    app.credit(&bank, &v, "300000000.00", "DDS", "DDS-1").await.assert_status(201);
    app.credit(&bank, &v, "50000000.00", "DDS", "DDS-2").await.assert_status(201);
    let b = app.get(&format!("/api/v1/villages/{}/budgets/2026", v.id)).token(&v.head).send().await;
    let b = b.assert_status(200).clone();
    let line = b["lines"].as_array().unwrap().iter().find(|l| l["account_code"] == "4.2.1.01").unwrap().clone();
    assert_eq!(line["realised"], "350000000.00", "Dana Desa received: {line}");
    assert_eq!(line["available"], "150000000.00", "still to be received of the 500,000,000 budgeted");
    // The realisation report says the same.
    let lra = app.get(&format!("/api/v1/villages/{}/reports/realisation?year=2026", v.id)).token(&v.head).send().await;
    assert!(lra.assert_status(200).to_string().contains("350000000.00"));
    // Spending lines are untouched by receipts.
    let spend = b["lines"].as_array().unwrap().iter().find(|l| l["account_code"] == "5.2.1.07").unwrap().clone();
    assert_eq!(spend["realised"], "0.00");
    // The console's budget page: the same figure on the line, and a totals row for revenue apart from spending.
    let (status, page) = app.page(&v.head, "/console/budget?year=2026").await;
    assert_eq!(status, 200);
    let totals = &page[page.find("<tfoot>").expect("a totals row")..];
    let revenue = &totals[totals.find("Jumlah Pendapatan").expect("the revenue total")..];
    let revenue = &revenue[..revenue.find("</tr>").unwrap()];
    assert!(revenue.contains("350.000.000,00"), "revenue received: {revenue}");
    assert!(totals.contains("Jumlah Belanja"), "{totals}");
}

/// A returned request is corrected by its drafter (the same body as a draft), keeps its number, is a draft again
/// and goes through the chain anew; the trail says it was edited and the chain verifies. Once verified it is no
/// longer the drafter's to change.
#[tokio::test]
async fn a_returned_request_is_edited_and_goes_through_the_chain_again() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    app.adopt_budget(&v, &standard_budget()).await;
    let p = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "9500000.00", json!([]))).await;
    let number = app.payment(&v, &p).await["number"].clone();
    app.act(&v.implementer, &p, "submit", None).await.assert_status(200);
    app.act(&v.secretary, &p, "return", Some("nilai melebihi penawaran")).await.assert_status(200);

    let put = |token: &str, body: &Value| {
        app.req(reqwest::Method::PUT, &format!("/api/v1/payments/{p}")).token(token).json(body).send()
    };
    let corrected = spp("5.2.1.07", "02.03.10", "DDS", "5500000.00", json!([]));
    put(&v.secretary, &corrected).await.assert_problem(403, "forbidden");
    let r = put(&v.implementer, &corrected).await;
    let edited = r.assert_status(200).clone();
    assert_eq!(edited["status"], "draft");
    assert_eq!(edited["number"], number, "the request keeps its number");
    assert_eq!(edited["gross"], "5500000.00");
    let events = edited["events"].as_array().unwrap();
    assert_eq!(
        (events.last().unwrap()["action"].as_str(), events.last().unwrap()["from"].as_str()),
        (Some("edit"), Some("returned"))
    );
    // A line that is not spending is refused as in a draft, and nothing changes.
    let mut wrong = corrected.clone();
    wrong["lines"][0]["account_code"] = json!("4.9.9.99");
    put(&v.implementer, &wrong).await.assert_problem(422, "validation_failed");
    assert_eq!(app.payment(&v, &p).await["gross"], "5500000.00");

    app.approve_chain(&v, &p).await;
    assert_eq!(app.payment(&v, &p).await["status"], "approved");
    put(&v.implementer, &corrected).await.assert_problem(409, "invalid_transition");
    let budget = app.budget(&v).await;
    assert_eq!(line(&budget, "5.2.1.07")["committed"], "5500000.00", "the corrected amount is what is committed");
    assert_eq!(app.verify(&v).await["ok"], true);
}
