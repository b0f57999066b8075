//! Helpers for the budget, payment and bank tests.

use crate::helpers::*;
use serde_json::{json, Value};

pub const YEAR: i32 = 2026;

/// The budget used by the workflow tests: DDS revenue plus three spending lines.
pub fn standard_budget() -> Value {
    json!({"lines": [
        {"account_code": "4.2.1.01", "source": "DDS", "amount": "500000000.00"},
        {"account_code": "5.2.1.07", "activity_code": "02.03.10", "activity_name": "Rehabilitasi Jalan Desa", "source": "DDS", "amount": "100000000.00"},
        {"account_code": "5.2.2.01", "activity_code": "01.01.04", "activity_name": "Operasional Pemerintah Desa", "source": "ADD", "amount": "20000000.00"},
        {"account_code": "5.3.5.01", "activity_code": "02.03.10", "source": "DDS", "amount": "200000000.00"}
    ]})
}

impl TestApp {
    pub async fn adopt_budget(&self, v: &Village, budget: &Value) {
        self.req(reqwest::Method::PUT, &format!("/api/v1/villages/{}/budgets/{YEAR}", v.id))
            .token(&v.treasurer)
            .json(budget)
            .send()
            .await
            .assert_status(200);
        self.post(&format!("/api/v1/villages/{}/budgets/{YEAR}/adopt", v.id))
            .token(&v.head)
            .send()
            .await
            .assert_status(200);
    }

    pub async fn budget(&self, v: &Village) -> Value {
        self.get(&format!("/api/v1/villages/{}/budgets/{YEAR}", v.id))
            .token(&v.secretary)
            .send()
            .await
            .assert_status(200)
            .clone()
    }

    pub async fn credit(&self, bank: &str, v: &Village, amount: &str, source: &str, reference: &str) -> Resp {
        self.post("/api/v1/bank/credits")
            .token(bank)
            .key(&format!("credit-{reference}"))
            .json(&json!({"village_id": v.id, "amount": amount, "source": source, "bank_reference": reference,
                          "value_date": "2026-04-01", "description": "Penyaluran dana"}))
            .send()
            .await
    }

    pub async fn draft(&self, v: &Village, body: &Value) -> String {
        let r = self
            .post(&format!("/api/v1/villages/{}/payments", v.id))
            .token(&v.implementer)
            .key(&uuid::Uuid::new_v4().to_string())
            .json(body)
            .send()
            .await;
        r.assert_status(201)["id"].as_str().unwrap().to_string()
    }

    pub async fn act(&self, token: &str, payment: &str, action: &str, note: Option<&str>) -> Resp {
        let mut req = self.post(&format!("/api/v1/payments/{payment}/{action}")).token(token);
        if let Some(n) = note {
            req = req.json(&json!({"note": n}));
        }
        req.send().await
    }

    /// submit → verify → approve, each by its role; asserts every step succeeds.
    pub async fn approve_chain(&self, v: &Village, payment: &str) {
        for (token, action) in [(&v.implementer, "submit"), (&v.secretary, "verify"), (&v.head, "approve")] {
            let r = self.act(token, payment, action, None).await;
            assert_eq!(r.status.as_u16(), 200, "{action}: {}", r.body);
        }
    }

    /// A tax deposit's chain up to approval: the treasurer (who drafted it) submits.
    pub async fn deposit_chain(&self, v: &Village, deposit: &str) {
        for (token, action) in [(&v.treasurer, "submit"), (&v.secretary, "verify"), (&v.head, "approve")] {
            let r = self.act(token, deposit, action, None).await;
            assert_eq!(r.status.as_u16(), 200, "{action}: {}", r.body);
        }
    }

    pub async fn payment(&self, v: &Village, payment: &str) -> Value {
        self.get(&format!("/api/v1/payments/{payment}")).token(&v.secretary).send().await.assert_status(200).clone()
    }

    /// The released transfer of a payment, as the bank sees it.
    pub async fn transfer_of(&self, bank: &str, payment: &str) -> Value {
        let r = self.get("/api/v1/bank/transfers?status=released").token(bank).send().await;
        r.assert_status(200)["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["payment_id"] == payment)
            .cloned()
            .expect("released transfer")
    }

    pub async fn bank_result(&self, bank: &str, transfer: &str, key: &str, body: &Value) -> Resp {
        self.post(&format!("/api/v1/bank/transfers/{transfer}/result")).token(bank).key(key).json(body).send().await
    }
}

pub fn spp(account: &str, activity: &str, source: &str, amount: &str, withholdings: Value) -> Value {
    json!({
        "activity_code": activity,
        "description": "Belanja kegiatan",
        "payee": {"name": "CV Maju Bersama", "bank_code": "123", "account_number": "1009876543", "npwp": "01.234.567.8-901.000"},
        "lines": [{"account_code": account, "source": source, "amount": amount, "withholdings": withholdings}],
        "invoice_number": "INV-001", "invoice_date": "2026-04-02"
    })
}

/// The module's standard purchase: materials for Rp 11,100,000 with PPN 1,000,000 and PPh 22 166,500 withheld by hand.
pub fn materials_spp() -> Value {
    spp(
        "5.2.1.07",
        "02.03.10",
        "DDS",
        "11100000.00",
        json!([{"tax": "PPN", "amount": "1000000.00"}, {"tax": "PPH22", "amount": "166500.00"}]),
    )
}

impl TestApp {
    /// A payment drafted, approved, released and paid by the bank on `value_date`.
    pub async fn pay_through(
        &self,
        v: &Village,
        bank: &str,
        body: &Value,
        reference: &str,
        value_date: &str,
    ) -> String {
        // The office works the request through on the day the bank pays it, then its day is as it was.
        let before = self.clock.today();
        self.office_day(value_date);
        let p = self.draft(v, body).await;
        self.approve_chain(v, &p).await;
        self.act(&v.treasurer, &p, "release", None).await.assert_status(200);
        let t = self.transfer_of(bank, &p).await;
        let result = json!({"status": "paid", "bank_reference": reference, "value_date": value_date});
        self.bank_result(bank, t["id"].as_str().unwrap(), &format!("res-{reference}"), &result)
            .await
            .assert_status(200);
        self.clock.set_day(Some(before)).unwrap();
        p
    }

    /// Moves the office's day (`YYYY-MM-DD`): the officials act on it from now on.
    pub fn office_day(&self, day: &str) {
        self.clock.set_day(Some(day.parse().expect("a date"))).expect("a day in the past");
    }
}

pub fn paid(reference: &str) -> Value {
    json!({"status": "paid", "bank_reference": reference, "value_date": "2026-04-10"})
}

pub fn balance_of(accounts: &[Value], code: &str) -> String {
    accounts.iter().find(|a| a["code"] == code).unwrap()["balance"].as_str().unwrap().to_string()
}

pub fn line<'a>(budget: &'a Value, account: &str) -> &'a Value {
    budget["lines"].as_array().unwrap().iter().find(|l| l["account_code"] == account).unwrap()
}
