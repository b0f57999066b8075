//! Laporan Kekayaan Milik Desa, the LPJ's wealth report: what the village owns and owes at the end of the period.
//! The assets bought with capital spending (5.3) and the village's equity participations (6.2.2, penyertaan modal),
//! each objek with what was realised this year, in earlier years and in all; then cash, bank and advances, and the
//! taxes withheld and not yet deposited, at the period's end.
//!
//! Figures come from the journal (capital spending and participations are never closed away: their balances are
//! the cumulative acquisitions); no depreciation or disposal is kept here (kasdesa has no asset register yet).

use super::{balances_at, meta, Period};
use crate::domain::accounts::{BANK_ACCOUNT, CASH_IN_HAND};
use crate::reports::table::{col, Cell, Kind, Report, Section};
use crate::store::rows::VillageRow;
use crate::store::{Db, StoreError};
use std::collections::HashMap;

/// The advances account (panjar not yet accounted for).
const ADVANCES: &str = "1.1.4.01";

fn is_capital(code: &str) -> bool {
    code.starts_with("5.3.")
}

fn is_participation(code: &str) -> bool {
    code.starts_with("6.2.2.")
}

/// One acquisitions section: every objek of the chart matching `which` that has any figure, with this year's,
/// earlier years' and all realisation (debit-positive balances).
fn acquisitions(
    key: &'static str,
    title: &str,
    names: &[(String, String)],
    which: fn(&str) -> bool,
    this_year: &HashMap<String, i64>,
    to_date: &HashMap<String, i64>,
) -> Section {
    let mut rows = Vec::new();
    let (mut now, mut before, mut all) = (0i64, 0i64, 0i64);
    for (code, name) in names.iter().filter(|(c, _)| which(c)) {
        let total = to_date.get(code).copied().unwrap_or(0);
        let year = this_year.get(code).copied().unwrap_or(0);
        if total == 0 && year == 0 {
            continue;
        }
        let earlier = total - year;
        now += year;
        before += earlier;
        all += total;
        rows.push(vec![
            Cell::Int(rows.len() as i64 + 1),
            Cell::text(code),
            Cell::text(name),
            Cell::Money(earlier),
            Cell::Money(year),
            Cell::Money(total),
        ]);
    }
    Section {
        key,
        title: title.to_string(),
        columns: vec![
            col("no", "No", Kind::Int),
            col("account_code", "Kode Rekening", Kind::Text),
            col("account_name", "Uraian", Kind::Text),
            col("earlier_years", "s.d. Tahun Lalu", Kind::Money),
            col("this_year", "Tahun Ini", Kind::Money),
            col("total", "Jumlah", Kind::Money),
        ],
        rows,
        totals: Some(vec![
            Cell::Empty,
            Cell::Empty,
            Cell::text("Jumlah"),
            Cell::Money(before),
            Cell::Money(now),
            Cell::Money(all),
        ]),
    }
}

/// Laporan Kekayaan Milik Desa as at the period's end.
pub fn wealth(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let mut names: Vec<(String, String)> = db.accounts(&v.id)?.into_iter().map(|a| (a.code, a.name)).collect();
    names.sort();
    let to_date = balances_at(db, &v.id, Some(p.to))?;
    let this_year: HashMap<String, i64> = db
        .period_totals(&[v.id.to_string()], Some(p.from), p.to)?
        .into_iter()
        .map(|(_, account, debit, credit)| (account, debit - credit))
        .collect();
    let capital =
        acquisitions("capital_assets", "A. Aset dari Belanja Modal (5.3)", &names, is_capital, &this_year, &to_date);
    let participations = acquisitions(
        "participations",
        "B. Penyertaan Modal Desa (6.2.2)",
        &names,
        is_participation,
        &this_year,
        &to_date,
    );
    // Cash, bank and advances (debit-positive), and taxes owed (credit-positive), at the period's end.
    let name_of = |code: &str| names.iter().find(|(c, _)| c == code).map_or(code.to_string(), |(_, n)| n.clone());
    let mut rows = Vec::new();
    let mut assets = 0i64;
    for code in [CASH_IN_HAND, BANK_ACCOUNT, ADVANCES] {
        let b = to_date.get(code).copied().unwrap_or(0);
        assets += b;
        rows.push(vec![Cell::text(code), Cell::text(name_of(code)), Cell::Money(b)]);
    }
    let mut owed = 0i64;
    for (code, name) in names.iter().filter(|(c, _)| c.starts_with("2.1.3.")) {
        let b = -to_date.get(code).copied().unwrap_or(0);
        if b != 0 {
            owed += b;
            rows.push(vec![Cell::text(code), Cell::text(format!("{name} (kewajiban)")), Cell::Money(-b)]);
        }
    }
    let current = Section {
        key: "current",
        title: format!("C. Kas, Bank, Panjar dan Utang Pajak per {}", p.to.format("%d-%m-%Y")),
        columns: vec![
            col("account_code", "Kode Rekening", Kind::Text),
            col("account_name", "Uraian", Kind::Text),
            col("amount", "Jumlah", Kind::Money),
        ],
        rows,
        totals: Some(vec![Cell::Empty, Cell::text("Jumlah bersih"), Cell::Money(assets - owed)]),
    };
    let mut extra = serde_json::Map::new();
    extra.insert("as_of".into(), serde_json::Value::String(p.to.format("%Y-%m-%d").to_string()));
    Ok(Report {
        key: "wealth",
        title: "Laporan Kekayaan Milik Desa".into(),
        meta: meta(v, p),
        sections: vec![capital, participations, current],
        extra,
    })
}
