//! Register SPP (every request of the year with its number, figures and status) and Buku Pembantu Kegiatan (the
//! spending of each activity, entry by entry, with its running total).

use super::{meta, voucher, Period};
use crate::domain::accounts::{class_of_code, AccountClass};
use crate::reports::table::{col, Cell, Kind, Report, Section};
use crate::store::rows::VillageRow;
use crate::store::{Db, PaymentQuery, StoreError};
use std::collections::BTreeMap;

/// Register SPP: the year's requests in the order they were made.
pub fn spp_register(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let query = PaymentQuery { limit: 100_000, ..PaymentQuery::default() };
    let mut rows = Vec::new();
    let (mut gross, mut withheld, mut net) = (0i64, 0i64, 0i64);
    // A request is dated by the regency's day (a request made at 06:00 WIB is that day's, not the UTC day before).
    let offset = db.get_regency(&v.regency_id)?.map_or(420, |r| r.utc_offset_minutes);
    for rec in db.find_payments(&v.id, &query)?.into_iter().filter(|r| r.payment.fiscal_year == p.year) {
        let pay = &rec.payment;
        let created = (pay.created_at + chrono::Duration::minutes(i64::from(offset))).date();
        if created < p.from || created > p.to {
            continue;
        }
        let paid_on = rec.transfers.iter().filter_map(|t| t.value_date).max();
        gross += pay.gross;
        withheld += pay.withheld;
        net += pay.net;
        rows.push(vec![
            Cell::Int(rows.len() as i64 + 1),
            Cell::Date(created),
            Cell::opt(pay.number.clone()),
            Cell::text(pay.kind.as_str()),
            Cell::opt(pay.activity_code.clone()),
            Cell::text(&pay.description),
            Cell::text(if rec.receipts.is_empty() {
                pay.payee_name.clone()
            } else {
                format!("{} penerima", rec.receipts.len())
            }),
            Cell::Money(pay.gross),
            Cell::Money(pay.withheld),
            Cell::Money(pay.net),
            Cell::text(pay.status.as_str()),
            paid_on.map_or(Cell::Empty, Cell::Date),
        ]);
    }
    Ok(Report {
        key: "spp_register",
        title: "Register SPP".into(),
        meta: meta(v, p),
        sections: vec![Section {
            key: "requests",
            title: "Register SPP".into(),
            columns: vec![
                col("no", "No", Kind::Int),
                col("date", "Tanggal", Kind::Date),
                col("number", "Nomor SPP", Kind::Text),
                col("kind", "Jenis", Kind::Text),
                col("activity_code", "Kegiatan", Kind::Text),
                col("description", "Uraian", Kind::Text),
                col("payee", "Penerima", Kind::Text),
                col("gross", "Bruto", Kind::Money),
                col("withheld", "Potongan", Kind::Money),
                col("net", "Neto", Kind::Money),
                col("status", "Status", Kind::Text),
                col("paid_on", "Tanggal Bayar", Kind::Date),
            ],
            rows,
            totals: Some(vec![
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::text("Jumlah"),
                Cell::Empty,
                Cell::Money(gross),
                Cell::Money(withheld),
                Cell::Money(net),
                Cell::Empty,
                Cell::Empty,
            ]),
        }],
        extra: serde_json::Map::new(),
    })
}

/// Buku Pembantu Kegiatan: every spending entry of the period by activity, with each activity's running total.
pub fn activities_book(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let chart = db.accounts(&v.id)?;
    let spending: Vec<&str> = chart
        .iter()
        .filter(|a| matches!(class_of_code(&a.code), Some(AccountClass::Expenditure)))
        .map(|a| a.code.as_str())
        .collect();
    let names: BTreeMap<&str, &str> = chart.iter().map(|a| (a.code.as_str(), a.name.as_str())).collect();
    let numbers = db.payment_numbers(&v.id)?;
    let mut by_activity: BTreeMap<String, Vec<crate::store::LedgerLine>> = BTreeMap::new();
    for l in db.account_lines(&v.id, &spending, p.from, p.to)? {
        by_activity.entry(l.activity_code.clone().unwrap_or_default()).or_default().push(l);
    }
    let mut rows = Vec::new();
    let mut total = 0i64;
    for (activity, lines) in by_activity {
        let name = crate::domain::catalogue::activity(&activity).map(|a| a.name().to_string()).unwrap_or_default();
        let mut running = 0i64;
        for l in lines {
            let amount = l.signed();
            running += amount;
            total += amount;
            rows.push(vec![
                Cell::text(&activity),
                Cell::text(&name),
                Cell::Date(l.value_date),
                Cell::text(voucher(&l, &numbers)),
                Cell::text(&l.account_code),
                Cell::text(names.get(l.account_code.as_str()).copied().unwrap_or_default()),
                Cell::text(&l.description),
                Cell::Money(amount),
                Cell::Money(running),
            ]);
        }
    }
    Ok(Report {
        key: "activities",
        title: "Buku Pembantu Kegiatan".into(),
        meta: meta(v, p),
        sections: vec![Section {
            key: "entries",
            title: "Belanja per Kegiatan".into(),
            columns: vec![
                col("activity_code", "Kode Kegiatan", Kind::Text),
                col("activity_name", "Nama Kegiatan", Kind::Text),
                col("date", "Tanggal", Kind::Date),
                col("voucher", "No Bukti", Kind::Text),
                col("account_code", "Kode Rekening", Kind::Text),
                col("account_name", "Uraian Rekening", Kind::Text),
                col("description", "Uraian", Kind::Text),
                col("amount", "Jumlah", Kind::Money),
                col("cumulative", "Kumulatif Kegiatan", Kind::Money),
            ],
            rows,
            totals: Some(vec![
                Cell::text("Jumlah"),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Money(total),
                Cell::Empty,
            ]),
        }],
        extra: serde_json::Map::new(),
    })
}
