//! Every endpoint × every role × own and other village/regency: the exact status. Outside the caller's scope a
//! resource is 404; inside it, a role that may not act gets 403.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};

struct Caller {
    name: &'static str,
    role: &'static str,
    token: String,
    /// Which of the two villages (0 = A, 1 = B) the caller can see.
    sees: [bool; 2],
}

#[tokio::test]
async fn access_matrix() {
    let app = spawn_app().await;
    let r1 = app.create_regency("61.12").await;
    let r2 = app.create_regency("61.04").await;
    let a = app.create_village(&r1, "61.12.01.2001", "5000000.00").await;
    let b = app.create_village(&r2, "61.04.01.2001", "5000000.00").await;
    let inspector = app.inspector(&r1, "inspektorat-kkr").await;
    let bank = app.bank(&[&a.id]).await;
    let mut txn = Vec::new();
    let mut pay = Vec::new();
    for v in [&a, &b] {
        let r = app.post_txn(v, &receipt("100000.00", "4.1.4.01")).await;
        txn.push(r.assert_status(201)["id"].as_str().unwrap().to_string());
        app.adopt_budget(v, &crate::workflow_helpers::standard_budget()).await;
        pay.push(app.draft(v, &crate::workflow_helpers::spp("5.2.1.07", "02.03.10", "DDS", "10.00", json!([]))).await);
    }
    let budget = crate::workflow_helpers::standard_budget();
    let spp = crate::workflow_helpers::spp("5.2.1.07", "02.03.10", "DDS", "10.00", json!([]));
    let deposit =
        json!({"description": "Setor", "billing_code": "820261100012345", "lines": [{"tax": "PPN", "amount": "1.00"}]});

    let callers = vec![
        Caller { name: "implementer A", role: "implementer", token: a.implementer.clone(), sees: [true, false] },
        Caller { name: "secretary A", role: "secretary", token: a.secretary.clone(), sees: [true, false] },
        Caller { name: "head A", role: "head", token: a.head.clone(), sees: [true, false] },
        Caller { name: "treasurer A", role: "treasurer", token: a.treasurer.clone(), sees: [true, false] },
        Caller { name: "inspector R1", role: "inspector", token: inspector, sees: [true, false] },
        Caller { name: "bank of A", role: "bank", token: bank, sees: [true, false] },
        Caller { name: "admin", role: "admin", token: app.admin_token.clone(), sees: [true, true] },
    ];
    let readers = ["implementer", "secretary", "head", "treasurer", "inspector"];
    let everyone = ["implementer", "secretary", "head", "treasurer", "inspector", "bank", "admin"];

    // (method, path template, body, roles allowed). {v} is the village, {t} a transaction of it.
    let village_endpoints: Vec<(Method, &str, Option<Value>, &[&str])> = vec![
        (Method::GET, "/api/v1/villages/{v}", None, &everyone),
        (Method::GET, "/api/v1/villages/{v}/accounts", None, &readers),
        (Method::GET, "/api/v1/villages/{v}/balances?at=2026-06-30", None, &readers),
        (Method::GET, "/api/v1/villages/{v}/transactions", None, &readers),
        (Method::GET, "/api/v1/villages/{v}/fiscal-years", None, &readers),
        (Method::GET, "/api/v1/villages/{v}/audit/verify", None, &readers),
        (Method::GET, "/api/v1/transactions/{t}", None, &readers),
        (Method::POST, "/api/v1/villages/{v}/transactions", Some(receipt("1.00", "4.1.4.01")), &["treasurer"]),
        (Method::POST, "/api/v1/transactions/{t}/reverse", Some(json!({"reason": "uji akses"})), &["treasurer"]),
        (Method::POST, "/api/v1/villages/{v}/fiscal-years/2024/close", None, &["head"]),
        (Method::GET, "/api/v1/villages/{v}/budgets/2026", None, &readers),
        (Method::PUT, "/api/v1/villages/{v}/budgets/2027", Some(budget.clone()), &["treasurer", "head"]),
        (Method::POST, "/api/v1/villages/{v}/budgets/2027/adopt", None, &["head"]),
        (Method::POST, "/api/v1/villages/{v}/budgets/2026/revisions", Some(budget.clone()), &["head"]),
        (Method::GET, "/api/v1/villages/{v}/payments", None, &readers),
        (Method::POST, "/api/v1/villages/{v}/payments", Some(spp.clone()), &["implementer"]),
        (Method::POST, "/api/v1/villages/{v}/tax-deposits", Some(deposit.clone()), &["treasurer"]),
        (Method::GET, "/api/v1/payments/{p}", None, &readers),
        (Method::POST, "/api/v1/payments/{p}/submit", None, &["implementer"]),
    ];
    let mut cells = 0;
    for (method, template, body, allowed) in &village_endpoints {
        for c in &callers {
            for (i, v) in [&a, &b].iter().enumerate() {
                let path = template.replace("{v}", &v.id).replace("{t}", &txn[i]).replace("{p}", &pay[i]);
                let mut req = app.req(method.clone(), &path).token(&c.token).key(&uuid::Uuid::new_v4().to_string());
                if let Some(b) = body {
                    req = req.json(b);
                }
                let r = req.send().await;
                let status = r.status.as_u16();
                if !c.sees[i] {
                    assert_eq!(status, 404, "{} {} as {}: {}", method, template, c.name, r.body);
                    assert_eq!(r.code(), "not_found");
                } else if allowed.contains(&c.role) {
                    assert!(
                        ![401, 403, 404].contains(&status),
                        "{} {} as {}: {} {}",
                        method,
                        template,
                        c.name,
                        status,
                        r.body
                    );
                } else {
                    assert_eq!(status, 403, "{} {} as {}: {}", method, template, c.name, r.body);
                    assert_eq!(r.code(), "forbidden");
                }
                cells += 1;
            }
        }
    }

    // Administration: admin only; everyone else is refused whatever the body.
    let admin_endpoints: Vec<(&str, Value)> = vec![
        ("/api/v1/regencies", json!({"code": "61.99", "name": "X"})),
        (
            "/api/v1/villages",
            json!({"code": "X.1", "name": "X", "regency_id": r1, "bank_account": "123456", "cash_limit": "1.00"}),
        ),
        ("/api/v1/users", json!({"username": "x-user", "password": PASSWORD, "role": "treasurer", "village_id": a.id})),
        ("/api/v1/bank-clients", json!({"name": "X", "village_ids": [a.id]})),
    ];
    for (path, body) in &admin_endpoints {
        for c in &callers {
            let r = app.post(path).token(&c.token).json(body).send().await;
            if c.role == "admin" {
                assert_eq!(r.status.as_u16(), 201, "{path}: {}", r.body);
            } else {
                r.assert_problem(403, "forbidden");
            }
            cells += 1;
        }
    }

    // Regencies: an inspector sees their own only; village roles and banks see none.
    for c in &callers {
        let own = app.get(&format!("/api/v1/regencies/{r1}")).token(&c.token).send().await;
        let other = app.get(&format!("/api/v1/regencies/{r2}")).token(&c.token).send().await;
        let list = app.get("/api/v1/regencies").token(&c.token).send().await;
        match c.role {
            "admin" => {
                own.assert_status(200);
                other.assert_status(200);
                assert_eq!(list.assert_status(200).as_array().unwrap().len(), 3);
            }
            "inspector" => {
                own.assert_status(200);
                other.assert_problem(404, "not_found");
                assert_eq!(list.assert_status(200).as_array().unwrap().len(), 1);
            }
            _ => {
                own.assert_problem(404, "not_found");
                other.assert_problem(404, "not_found");
                list.assert_problem(403, "forbidden");
            }
        }
        // The village list never shows another scope's villages.
        let villages = app.get("/api/v1/villages").token(&c.token).send().await;
        let ids: Vec<String> = villages
            .assert_status(200)
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.contains(&b.id), c.role == "admin", "{}", c.name);
        cells += 4;
    }
    // The bank API: only banks, only their villages.
    let credit = |vid: &str| json!({"village_id": vid, "amount": "1.00", "source": "DDS", "bank_reference": uuid::Uuid::new_v4().to_string(), "value_date": "2026-04-01", "description": "x"});
    let statement = |vid: &str| json!({"village_id": vid, "lines": [{"bank_reference": uuid::Uuid::new_v4().to_string(), "value_date": "2026-04-01", "amount": "1.00", "direction": "credit"}]});
    for c in &callers {
        for (i, v) in [&a, &b].iter().enumerate() {
            for (path, body) in [("/api/v1/bank/credits", credit(&v.id)), ("/api/v1/bank/statements", statement(&v.id))]
            {
                let r = app.post(path).token(&c.token).key(&uuid::Uuid::new_v4().to_string()).json(&body).send().await;
                match (c.role, i) {
                    ("bank", 0) => assert_eq!(r.status.as_u16(), 201, "{path}: {}", r.body),
                    ("bank", _) => r.assert_problem(404, "not_found"),
                    _ => r.assert_problem(403, "forbidden"),
                }
                cells += 1;
            }
        }
        let r = app.get("/api/v1/bank/transfers").token(&c.token).send().await;
        if c.role == "bank" {
            r.assert_status(200);
        } else {
            r.assert_problem(403, "forbidden");
        }
        cells += 1;
    }
    eprintln!("access matrix: {cells} cells checked");
    assert!(cells >= 350, "{cells}");
}
