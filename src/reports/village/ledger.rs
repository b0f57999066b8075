//! The ledger's own reports: Neraca Saldo (trial balance) and Buku Besar (general ledger of one account).

use super::{balances_at, meta, money_or_empty, opening_row, voucher, Period};
use crate::reports::table::{col, Cell, Kind, Report, Section};
use crate::store::rows::VillageRow;
use crate::store::{Db, StoreError};
use chrono::{Datelike, NaiveDate};
use serde_json::json;

/// Neraca saldo: every account's balance at the end of a date, debit or credit, with equal totals.
pub fn trial_balance(db: &Db, v: &VillageRow, at: NaiveDate) -> Result<Report, StoreError> {
    // Classes 4-6 hold only the date's fiscal year; earlier years' results are closed into equity.
    let up_to = |d| -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
        Ok(balances_at(db, &v.id, d)?.into_iter().collect())
    };
    let before = up_to(chrono::NaiveDate::from_ymd_opt(at.year() - 1, 12, 31))?;
    let balances = crate::domain::year_end::close_into_equity(&up_to(Some(at))?, &before);
    let (mut d, mut c) = (0i64, 0i64);
    let mut rows = Vec::new();
    for a in db.accounts(&v.id)? {
        let b = *balances.get(&a.code).unwrap_or(&0);
        if b > 0 {
            d += b;
        } else {
            c -= b;
        }
        rows.push(vec![
            Cell::text(&a.code),
            Cell::text(&a.name),
            if b > 0 { Cell::Money(b) } else { Cell::Money(0) },
            if b < 0 { Cell::Money(-b) } else { Cell::Money(0) },
        ]);
    }
    let mut extra = serde_json::Map::new();
    extra.insert("balanced".into(), json!(d == c));
    Ok(Report {
        key: "trial_balance",
        title: "Neraca Saldo".into(),
        meta: vec![
            ("village_id", "ID Desa", v.id.to_string()),
            ("village_code", "Kode Desa", v.code.clone()),
            ("village_name", "Desa", v.name.clone()),
            ("at", "Per Tanggal", at.format("%Y-%m-%d").to_string()),
        ],
        sections: vec![Section {
            key: "accounts",
            title: "Neraca Saldo".into(),
            columns: vec![
                col("account_code", "Kode Rekening", Kind::Text),
                col("name", "Nama Rekening", Kind::Text),
                col("debit", "Debit", Kind::Money),
                col("credit", "Kredit", Kind::Money),
            ],
            rows,
            totals: Some(vec![Cell::text("Jumlah"), Cell::Empty, Cell::Money(d), Cell::Money(c)]),
        }],
        extra,
    })
}

/// Buku Besar: one account's entries with the running balance on its normal side.
pub fn general_ledger(db: &Db, v: &VillageRow, account: &str, p: &Period) -> Result<Report, StoreError> {
    let numbers = db.payment_numbers(&v.id)?;
    let chart = db.accounts(&v.id)?;
    let a = chart.iter().find(|a| a.code == account).ok_or(StoreError::UnknownAccount(account.to_string()))?;
    let debit_normal = a.normal_side == crate::domain::accounts::Side::Debit;
    let normal = |x: i64| if debit_normal { x } else { -x };
    let opening = normal(*balances_at(db, &v.id, p.day_before_start())?.get(account).unwrap_or(&0));
    let mut balance = opening;
    let (mut td, mut tc) = (0i64, 0i64);
    let mut rows = vec![opening_row(7, 2, p.from, opening)];
    for (i, l) in db.account_lines(&v.id, &[account], p.from, p.to)?.iter().enumerate() {
        balance += normal(l.signed());
        let (d, c) = if l.side == "debit" { (l.amount, 0) } else { (0, l.amount) };
        td += d;
        tc += c;
        rows.push(vec![
            Cell::Int(i as i64 + 1),
            Cell::Date(l.value_date),
            Cell::text(&l.description),
            Cell::text(voucher(l, &numbers)),
            money_or_empty(d),
            money_or_empty(c),
            Cell::Money(balance),
        ]);
    }
    let mut m = meta(v, p);
    m.push(("account_code", "Kode Rekening", a.code.clone()));
    m.push(("account_name", "Nama Rekening", a.name.clone()));
    Ok(Report {
        key: "general_ledger",
        title: "Buku Besar".into(),
        meta: m,
        sections: vec![Section {
            key: "entries",
            title: format!("{} {}", a.code, a.name),
            columns: vec![
                col("no", "No", Kind::Int),
                col("date", "Tanggal", Kind::Date),
                col("description", "Uraian", Kind::Text),
                col("voucher", "Bukti", Kind::Text),
                col("debit", "Debit", Kind::Money),
                col("credit", "Kredit", Kind::Money),
                col("balance", "Saldo", Kind::Money),
            ],
            rows,
            totals: Some(vec![
                Cell::Empty,
                Cell::Empty,
                Cell::text("Jumlah"),
                Cell::Empty,
                Cell::Money(td),
                Cell::Money(tc),
                Cell::Money(balance),
            ]),
        }],
        extra: Default::default(),
    })
}
