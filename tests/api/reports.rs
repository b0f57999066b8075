//! Reports checked to the rupiah on a village year built with known figures; formats parsed back; anomalies planted
//! with a near miss each; scope for inspectors.

use crate::helpers::*;
use crate::workflow_helpers::*;
use serde_json::{json, Value};

struct Year {
    app: TestApp,
    v: Village,
    bank: String,
    inspector: String,
    regency: String,
}

async fn pay(app: &TestApp, v: &Village, bank: &str, body: &Value, reference: &str, value_date: &str) -> String {
    app.pay_through(v, bank, body, reference, value_date).await
}

/// The village year of the module's expectations (see each step's comment).
async fn village_year() -> Year {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let inspector = app.inspector(&regency, "inspektorat").await;
    let bank = app.bank(&[&v.id]).await;
    app.adopt_budget(&v, &standard_budget()).await;
    // 03-02 own revenue 1,500,000 (not budgeted); 03-03 withdraw 1,000,000 to cash in hand.
    app.post_txn(&v, &receipt("1500000.00", "4.1.4.01")).await.assert_status(201);
    app.post_txn(&v, &withdrawal("1000000.00")).await.assert_status(201);
    // 04-01 Dana Desa 300,000,000.
    app.post("/api/v1/bank/credits")
        .token(&bank)
        .key("dds-1")
        .json(&json!({"village_id": v.id, "amount": "300000000.00", "source": "DDS", "bank_reference": "DDS-1",
                      "value_date": "2026-04-01", "description": "Dana Desa tahap I"}))
        .send()
        .await
        .assert_status(201);
    // 04-10 payment A: 11,100,000 gross, PPN 1,000,000, PPh 22 166,500.
    pay(&app, &v, &bank, &materials_spp(), "KALBAR-A", "2026-04-10").await;
    // 04-20 PPN deposited.
    let d = app.post(&format!("/api/v1/villages/{}/tax-deposits", v.id)).token(&v.treasurer).key("dep")
        .json(&json!({"description": "Setor PPN", "billing_code": "820261100012345", "lines": [{"tax": "PPN", "amount": "1000000.00"}]}))
        .send().await;
    let d = d.assert_status(201)["id"].as_str().unwrap().to_string();
    app.deposit_chain(&v, &d).await;
    app.act(&v.treasurer, &d, "release", None).await.assert_status(200);
    let t = app.transfer_of(&bank, &d).await;
    app.bank_result(
        &bank,
        t["id"].as_str().unwrap(),
        "res-dep",
        &json!({"status": "paid", "bank_reference": "MPN-1", "value_date": "2026-04-20", "ntpn": "0A1B2C3D4E5F6G7H"}),
    )
    .await
    .assert_status(200);
    // 06-30 bank interest 12,345.67.
    let mut interest = receipt("12345.67", "4.3.6.01");
    interest["value_date"] = json!("2026-06-30");
    interest["description"] = json!("Bunga bank Juni");
    app.post_txn(&v, &interest).await.assert_status(201);
    // 07-15 payment B: 5,000,000 gross, PPh 21 250,000.
    pay(
        &app,
        &v,
        &bank,
        &spp("5.2.2.01", "01.01.04", "ADD", "5000000.00", json!([{"tax": "PPH21", "amount": "250000.00"}])),
        "KALBAR-B",
        "2026-07-15",
    )
    .await;
    Year { app, v, bank, inspector, regency }
}

fn rows(report: &Value, section: &str) -> Vec<Value> {
    report[section]["rows"].as_array().unwrap_or_else(|| panic!("no section {section}: {report}")).clone()
}

async fn report(y: &Year, path: &str) -> Value {
    y.app
        .get(&format!("/api/v1/villages/{}/reports/{path}", y.v.id))
        .token(&y.inspector)
        .send()
        .await
        .assert_status(200)
        .clone()
}

#[tokio::test]
async fn every_village_report_to_the_rupiah() {
    let y = village_year().await;

    // Buku Kas Umum: counter entries of every cash movement; the running balance is bank + cash in hand.
    let bku = report(&y, "cash-book?year=2026").await;
    let r = rows(&bku, "entries");
    let got: Vec<(String, Value, Value, String)> = r
        .iter()
        .skip(1)
        .map(|x| {
            (
                x["account_code"].as_str().unwrap().into(),
                x["receipts"].clone(),
                x["payments"].clone(),
                x["balance"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = vec![
        ("4.1.4.01", json!("1500000.00"), Value::Null, "1500000.00"),
        ("4.2.1.01", json!("300000000.00"), Value::Null, "301500000.00"),
        ("5.2.1.07", Value::Null, json!("11100000.00"), "290400000.00"),
        ("2.1.3.03", json!("166500.00"), Value::Null, "290566500.00"),
        ("2.1.3.01", json!("1000000.00"), Value::Null, "291566500.00"),
        ("2.1.3.01", Value::Null, json!("1000000.00"), "290566500.00"),
        ("4.3.6.01", json!("12345.67"), Value::Null, "290578845.67"),
        ("5.2.2.01", Value::Null, json!("5000000.00"), "285578845.67"),
        ("2.1.3.02", json!("250000.00"), Value::Null, "285828845.67"),
    ];
    let expected: Vec<(String, Value, Value, String)> =
        expected.into_iter().map(|(a, b, c, d)| (a.to_string(), b, c, d.to_string())).collect();
    assert_eq!(got, expected);
    assert_eq!(r[0]["description"], "Saldo awal");
    let t = &bku["entries"]["totals"];
    assert_eq!(
        (t["receipts"].as_str(), t["payments"].as_str(), t["balance"].as_str()),
        (Some("302928845.67"), Some("17100000.00"), Some("285828845.67"))
    );
    assert_eq!(r.last().unwrap()["cumulative_payments"], "17100000.00");
    // A date range opens with the balance brought forward.
    let q2 = report(&y, "cash-book?year=2026&from=2026-04-15&to=2026-06-30").await;
    assert_eq!(rows(&q2, "entries")[0]["balance"], "291566500.00");
    assert_eq!(q2["entries"]["totals"]["balance"], "290578845.67");

    // Buku Bank.
    let bb = report(&y, "bank-book?year=2026").await;
    let t = &bb["entries"]["totals"];
    assert_eq!(
        (
            t["deposits"].as_str(),
            t["interest"].as_str(),
            t["withdrawals"].as_str(),
            t["taxes"].as_str(),
            t["charges"].as_str(),
            t["balance"].as_str()
        ),
        (
            Some("301500000.00"),
            Some("12345.67"),
            Some("15683500.00"),
            Some("1000000.00"),
            Some("0.00"),
            Some("284828845.67")
        )
    );
    assert_eq!(rows(&bb, "entries").len(), 8, "opening + seven movements");

    // Buku Pembantu Pajak.
    let tb = report(&y, "tax-book?year=2026").await;
    let summary = rows(&tb, "summary");
    let owed = |tax: &str| summary.iter().find(|s| s["tax"] == tax).unwrap()["balance"].as_str().unwrap().to_string();
    assert_eq!(
        (owed("PPN"), owed("PPH21"), owed("PPH22"), owed("PPH23")),
        ("0.00".into(), "250000.00".into(), "166500.00".into(), "0.00".into())
    );
    let t = &tb["summary"]["totals"];
    assert_eq!(
        (t["withheld"].as_str(), t["deposited"].as_str(), t["balance"].as_str()),
        (Some("1416500.00"), Some("1000000.00"), Some("416500.00"))
    );
    assert_eq!(rows(&tb, "ppn").len(), 3);

    // Laporan Realisasi APBDes, full year.
    let lr = report(&y, "realisation?year=2026").await;
    let accounts = rows(&lr, "accounts");
    let find = |name: &str| {
        accounts
            .iter()
            .find(|r| r["account_code"] == name || r["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    let figures = |r: Value| {
        (
            r["budget"].as_str().unwrap().to_string(),
            r["realised"].as_str().unwrap().to_string(),
            r["remaining"].as_str().unwrap().to_string(),
            r["percent"].clone(),
        )
    };
    assert_eq!(
        figures(find("4.2.1.01")),
        ("500000000.00".into(), "300000000.00".into(), "200000000.00".into(), json!("60.00"))
    );
    assert_eq!(figures(find("4.1.4.01")), ("0.00".into(), "1500000.00".into(), "-1500000.00".into(), Value::Null));
    assert_eq!(
        figures(find("Jumlah Pendapatan")),
        ("500000000.00".into(), "301512345.67".into(), "198487654.33".into(), json!("60.30"))
    );
    assert_eq!(
        figures(find("5.2.1.07")),
        ("100000000.00".into(), "11100000.00".into(), "88900000.00".into(), json!("11.10"))
    );
    assert_eq!(figures(find("5.3.5.01")).1, "0.00");
    assert_eq!(figures(find("5.3.5.01")).3, json!("0.00"));
    assert_eq!(
        figures(find("Jumlah Belanja")),
        ("320000000.00".into(), "16100000.00".into(), "303900000.00".into(), json!("5.03"))
    );
    assert_eq!(
        figures(find("Surplus/(Defisit)")),
        ("180000000.00".into(), "285412345.67".into(), "-105412345.67".into(), json!("158.56"))
    );
    assert_eq!(lr["summary"]["silpa"]["realised"], "285412345.67");
    let acts = rows(&lr, "activities");
    assert_eq!(acts.len(), 2);
    assert_eq!(acts[1]["activity_code"], "02.03.10");
    assert_eq!(
        (acts[1]["budget"].as_str(), acts[1]["realised"].as_str(), acts[1]["percent"].as_str()),
        (Some("300000000.00"), Some("11100000.00"), Some("3.70"))
    );
    assert_eq!(acts[1]["name"], "Rehabilitasi Jalan Desa");
    let srcs = rows(&lr, "sources");
    assert_eq!(
        srcs.iter().map(|s| (s["source"].as_str().unwrap(), s["realised"].as_str().unwrap())).collect::<Vec<_>>(),
        vec![("ADD", "5000000.00"), ("DDS", "11100000.00")]
    );
    assert_eq!(lr["sources"]["totals"]["realised"], "16100000.00");
    // Semester I leaves out July.
    let s1 = report(&y, "realisation?year=2026&semester=1").await;
    assert!(s1["title"].as_str().unwrap().contains("Semester I"));
    assert_eq!(s1["summary"]["spending"]["realised"], "11100000.00");
    assert_eq!(s1["summary"]["revenue"]["realised"], "301512345.67");

    // Neraca saldo: balanced, to the sen.
    let nb = report(&y, "trial-balance?at=2026-12-31").await;
    assert_eq!(nb["balanced"], true);
    assert_eq!(
        (nb["accounts"]["totals"]["debit"].as_str(), nb["accounts"]["totals"]["credit"].as_str()),
        (Some("301928845.67"), Some("301928845.67"))
    );
    // Buku besar of cash in hand.
    let gl = report(&y, "general-ledger?year=2026&account=1.1.1.01").await;
    assert_eq!(gl["entries"]["totals"]["balance"], "1000000.00");
    y.app
        .get(&format!("/api/v1/villages/{}/reports/general-ledger?year=2026&account=9.9.9.99", y.v.id))
        .token(&y.inspector)
        .send()
        .await
        .assert_problem(422, "unknown_account");
    y.app
        .get(&format!("/api/v1/villages/{}/reports/general-ledger?year=2026", y.v.id))
        .token(&y.inspector)
        .send()
        .await
        .assert_problem(422, "validation_failed");

    // Reconciliation: two lines match, one bank charge is not booked, five movements are not on the statement.
    y.app
        .post("/api/v1/bank/statements")
        .token(&y.bank)
        .key("st")
        .json(&json!({"village_id": y.v.id, "lines": [
            {"bank_reference": "DDS-1", "value_date": "2026-04-01", "amount": "300000000.00", "direction": "credit"},
            {"bank_reference": "KALBAR-A", "value_date": "2026-04-10", "amount": "9933500.00", "direction": "debit"},
            {"bank_reference": "ADM-06", "value_date": "2026-06-30", "amount": "15000.00", "direction": "debit"}]}))
        .send()
        .await
        .assert_status(201);
    let rc = report(&y, "reconciliation?year=2026").await;
    assert_eq!(
        (rows(&rc, "matched").len(), rows(&rc, "unmatched_statement").len(), rows(&rc, "unmatched_ledger").len()),
        (2, 1, 5)
    );
    assert_eq!(rows(&rc, "unmatched_statement")[0]["bank_reference"], "ADM-06");
    assert_eq!(rc["reconciled"], false);

    // An empty year: every report answers, with zeros.
    let empty = report(&y, "cash-book?year=2025").await;
    assert_eq!(rows(&empty, "entries").len(), 1);
    assert_eq!(empty["entries"]["totals"]["balance"], "0.00");
    let lr25 = report(&y, "realisation?year=2025").await;
    assert_eq!(lr25["summary"]["spending"]["realised"], "0.00");
    assert_eq!(rows(&lr25, "activities").len(), 0);

    // Bad parameters.
    for q in [
        "cash-book?year=1999",
        "cash-book?year=2026&from=2025-12-01",
        "cash-book?format=docx",
        "realisation?semester=2",
        "cash-book?year=2026&from=2026-05-01&to=2026-04-01",
        "cash-book?bogus=1",
    ] {
        let r = y.app.get(&format!("/api/v1/villages/{}/reports/{q}", y.v.id)).token(&y.inspector).send().await;
        r.assert_problem(422, "validation_failed");
    }

    // The approval trail of a payment.
    let paid = y.app.get(&format!("/api/v1/villages/{}/payments?status=paid", y.v.id)).token(&y.inspector).send().await;
    let pid = paid.body["items"][0]["id"].as_str().unwrap().to_string();
    let trail = y.app.get(&format!("/api/v1/payments/{pid}/trail")).token(&y.inspector).send().await;
    let actions: Vec<&str> =
        trail.body["events"]["rows"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["create", "submit", "verify", "approve", "release", "pay"]);
    // Its times in the regency's zone (WIB here): the instant with its offset, never a bare UTC time.
    let at = trail.body["events"]["rows"][0]["at"].as_str().unwrap().to_string();
    assert!(at.ends_with("+07:00"), "{at}");
    let csv = y
        .app
        .client
        .get(format!("{}/api/v1/payments/{pid}/trail?format=csv", y.app.base))
        .bearer_auth(&y.inspector)
        .send()
        .await
        .unwrap();
    let text = csv.text().await.unwrap();
    assert!(text.contains("Waktu (WIB)") && !text.contains("UTC"), "{text}");
}

#[tokio::test]
async fn csv_and_xlsx_parse_back() {
    use calamine::Reader;
    let y = village_year().await;
    let base = format!("/api/v1/villages/{}/reports/realisation?year=2026", y.v.id);
    let csv =
        y.app.client.get(format!("{}{base}&format=csv", y.app.base)).bearer_auth(&y.inspector).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("realisation-61-12-01-2001-2026.csv"));
    let text = csv.text().await.unwrap();
    let lines: Vec<Vec<String>> = text.lines().map(parse_csv_line).collect();
    assert_eq!(lines[0][0], "Laporan Realisasi Pelaksanaan APBDes");
    let header =
        lines.iter().position(|l| l.first().map(String::as_str) == Some("Kode Rekening")).expect("heading row");
    assert_eq!(lines[header], vec!["Kode Rekening", "Uraian", "Anggaran", "Realisasi", "Lebih/(Kurang)", "Persen (%)"]);
    let belanja = lines.iter().find(|l| l.get(1).map(String::as_str) == Some("Jumlah Belanja")).unwrap();
    assert_eq!(belanja[2..], ["320000000.00", "16100000.00", "303900000.00", "5.03"]);
    let desc = lines.iter().find(|l| l.first().map(String::as_str) == Some("4.2.3.01"));
    assert!(desc.is_none(), "accounts with neither budget nor realisation are left out");

    // The same report for Excel in Indonesian: the BOM, semicolons, decimal commas, the same figures.
    let excel = y
        .app
        .client
        .get(format!("{}{base}&format=csv-excel", y.app.base))
        .bearer_auth(&y.inspector)
        .send()
        .await
        .unwrap();
    assert_eq!(excel.status(), 200);
    assert!(excel.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("realisation-61-12-01-2001-2026-excel.csv"));
    let bytes = excel.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.contains("Kode Rekening;Uraian;Anggaran;Realisasi;Lebih/(Kurang);Persen (%)\r\n"), "{text}");
    assert!(text.contains(";Jumlah Belanja;320000000,00;16100000,00;303900000,00;5,03\r\n"), "{text}");

    let xlsx =
        y.app.client.get(format!("{}{base}&format=xlsx", y.app.base)).bearer_auth(&y.inspector).send().await.unwrap();
    assert_eq!(xlsx.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let names = book.sheet_names();
    assert_eq!(names, vec!["Per Kode Rekening", "Struktur Lampiran", "Per Kegiatan", "Per Sumber Dana"]);
    let range = book.worksheet_range("Per Kode Rekening").unwrap();
    let cells: Vec<Vec<calamine::Data>> = range.rows().map(|r| r.to_vec()).collect();
    let heading =
        cells.iter().position(|r| r.first() == Some(&calamine::Data::String("Kode Rekening".into()))).unwrap();
    assert_eq!(cells[heading][2], calamine::Data::String("Anggaran".into()));
    let row = cells.iter().find(|r| r.first() == Some(&calamine::Data::String("4.2.1.01".into()))).unwrap();
    assert_eq!(row[2], calamine::Data::Float(500_000_000.0), "money is a number, not text");
    assert_eq!(row[3], calamine::Data::Float(300_000_000.0));
    assert_eq!(row[5], calamine::Data::Float(60.0));
    let surplus = cells.iter().find(|r| r.get(1) == Some(&calamine::Data::String("Surplus/(Defisit)".into()))).unwrap();
    assert_eq!(surplus[3], calamine::Data::Float(285_412_345.67));

    // The cash book as XLSX too: dates are dates.
    let bku = y
        .app
        .client
        .get(format!("{}/api/v1/villages/{}/reports/cash-book?year=2026&format=xlsx", y.app.base, y.v.id))
        .bearer_auth(&y.inspector)
        .send()
        .await
        .unwrap();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bku.bytes().await.unwrap().to_vec())).unwrap();
    let first = book.sheet_names()[0].clone();
    let range = book.worksheet_range(&first).unwrap();
    assert!(range.rows().any(|r| matches!(r.get(1), Some(calamine::Data::DateTime(_)))));
    assert!(range.rows().any(|r| r.get(8) == Some(&calamine::Data::Float(285_828_845.67))));
}

fn parse_csv_line(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out
}

#[tokio::test]
async fn regency_roll_up_and_inspector_scope() {
    let y = village_year().await;
    let app = &y.app;
    let other = app.create_village(&y.regency, "61.12.01.2002", "5000000.00").await;
    app.adopt_budget(&other, &standard_budget()).await;
    let bank2 = app.bank(&[&other.id]).await;
    app.credit(&bank2, &other, "100000000.00", "DDS", "DDS-2").await.assert_status(201);
    let r = app
        .get(&format!("/api/v1/regencies/{}/reports/realisation?year=2026", y.regency))
        .token(&y.inspector)
        .send()
        .await;
    let r = r.assert_status(200).clone();
    let villages = rows(&r, "villages");
    assert_eq!(villages.len(), 2);
    assert_eq!(
        (villages[0]["revenue_realised"].as_str(), villages[0]["spending_realised"].as_str()),
        (Some("301512345.67"), Some("16100000.00"))
    );
    assert_eq!(
        (villages[1]["revenue_realised"].as_str(), villages[1]["spending_percent"].as_str()),
        (Some("100000000.00"), Some("0.00"))
    );
    let t = &r["villages"]["totals"];
    assert_eq!(
        (
            t["revenue_budget"].as_str(),
            t["revenue_realised"].as_str(),
            t["spending_realised"].as_str(),
            t["surplus"].as_str()
        ),
        (Some("1000000000.00"), Some("401512345.67"), Some("16100000.00"), Some("385412345.67"))
    );

    // Another regency's inspector sees nothing of this one; nobody but inspectors reads regency reports.
    let r2 = app.create_regency("61.04").await;
    let stranger = app.inspector(&r2, "inspektorat-lain").await;
    for path in [
        format!("/api/v1/regencies/{}/reports/realisation", y.regency),
        format!("/api/v1/regencies/{}/anomalies", y.regency),
        format!("/api/v1/villages/{}/reports/cash-book", y.v.id),
        format!("/api/v1/villages/{}/reports/realisation", y.v.id),
    ] {
        app.get(&path).token(&stranger).send().await.assert_problem(404, "not_found");
        app.get(&path).token(&y.bank).send().await;
    }
    app.get(&format!("/api/v1/regencies/{}/reports/realisation", y.regency))
        .token(&y.v.head)
        .send()
        .await
        .assert_problem(404, "not_found");
    app.get(&format!("/api/v1/regencies/{}/reports/realisation", y.regency))
        .token(&app.admin_token)
        .send()
        .await
        .assert_problem(403, "forbidden");
    let own = app.get(&format!("/api/v1/regencies/{r2}/reports/realisation?year=2026")).token(&stranger).send().await;
    assert_eq!(rows(own.assert_status(200), "villages").len(), 0);
    // Inspectors write nothing anywhere.
    for (path, body) in [
        (format!("/api/v1/villages/{}/transactions", y.v.id), receipt("1.00", "4.1.4.01")),
        (format!("/api/v1/villages/{}/payments", y.v.id), spp("5.2.1.07", "02.03.10", "DDS", "1.00", json!([]))),
        (format!("/api/v1/villages/{}/budgets/2026/revisions", y.v.id), standard_budget()),
    ] {
        app.post(&path).token(&y.inspector).key("k").json(&body).send().await.assert_problem(403, "forbidden");
    }
}

#[tokio::test]
async fn the_wealth_report_counts_capital_assets_cash_and_taxes_owed_to_the_rupiah() {
    let y = village_year().await;
    // 08-01 a capital purchase: 20,000,000 on 5.3.5.01, nothing withheld.
    pay(&y.app, &y.v, &y.bank, &spp("5.3.5.01", "02.03.10", "DDS", "20000000.00", json!([])), "KALBAR-C", "2026-08-01")
        .await;
    let w = report(&y, "wealth?year=2026").await;
    let capital = rows(&w, "capital_assets");
    assert_eq!(capital.len(), 1, "{w}");
    assert_eq!(capital[0]["account_code"], "5.3.5.01");
    assert_eq!(
        (capital[0]["earlier_years"].clone(), capital[0]["this_year"].clone(), capital[0]["total"].clone()),
        (json!("0.00"), json!("20000000.00"), json!("20000000.00"))
    );
    assert!(rows(&w, "participations").is_empty());
    // Bank: 1,500,000 − 1,000,000 + 300,000,000 − 9,933,500 − 1,000,000 + 12,345.67 − 4,750,000 − 20,000,000;
    // cash in hand 1,000,000; owed PPh 22 166,500 and PPh 21 250,000.
    let current = rows(&w, "current");
    let amount = |code: &str| {
        current.iter().find(|r| r["account_code"] == code).map(|r| r["amount"].as_str().unwrap().to_string())
    };
    assert_eq!(amount("1.1.1.02").as_deref(), Some("264828845.67"));
    assert_eq!(amount("1.1.1.01").as_deref(), Some("1000000.00"));
    assert_eq!(amount("1.1.4.01").as_deref(), Some("0.00"));
    let owed: Vec<String> = current
        .iter()
        .filter(|r| r["account_name"].as_str().unwrap().contains("kewajiban"))
        .map(|r| r["amount"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(owed.len(), 2, "{current:?}");
    assert!(owed.contains(&"-166500.00".to_string()) && owed.contains(&"-250000.00".to_string()));
    assert_eq!(w["current"]["totals"]["amount"], "265412345.67", "{}", w["current"]);
    // And it prints.
    let pdf = y
        .app
        .get(&format!("/api/v1/villages/{}/reports/wealth?year=2026&format=pdf", y.v.id))
        .token(&y.inspector)
        .send()
        .await;
    assert_eq!(pdf.status.as_u16(), 200);
}

/// The Register SPP dates a request by the regency's day: one made at 06:30 WIB on 1 July (23:30 UTC on 30 June)
/// is a July request, in the July register and not in June's.
#[tokio::test]
async fn the_spp_register_dates_requests_by_the_regency_day() {
    let app = spawn_app().await;
    let regency = app.create_regency("61.12").await;
    let v = app.create_village(&regency, "61.12.01.2001", "10000000.00").await;
    let p = app.draft(&v, &spp("5.2.1.07", "02.03.10", "DDS", "1000000.00", serde_json::json!([]))).await;
    let early = format!("UPDATE payments SET created_at = '2026-06-30 23:30:00' WHERE id = '{p}';");
    crate::chain::raw_sql(&app, &early, &early).unwrap();
    let register = |from: &str, to: &str| {
        app.get(&format!("/api/v1/villages/{}/reports/spp-register?year=2026&from={from}&to={to}", v.id))
            .token(&v.head)
            .send()
    };
    let july = register("2026-07-01", "2026-07-31").await;
    let rows = july.assert_status(200)["requests"]["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["date"], "2026-07-01");
    let june = register("2026-06-01", "2026-06-30").await;
    assert_eq!(june.assert_status(200)["requests"]["rows"].as_array().unwrap().len(), 0);
}
