//! The village books and statements (Permendagri 20/2018 and 113/2014 layouts as Siskeudes keeps them), one module
//! per book or report; this module holds what they share: the period a report covers, the heading fields, the
//! opening balances and the voucher of an entry.

mod advances;
mod annex;
mod bank_book;
mod cash_book;
mod document;
mod ledger;
mod realisation;
mod reconciliation;
mod registers;
mod tax_book;
mod trail;
mod wealth;

pub use advances::advances_book;
pub use bank_book::bank_book;
pub use cash_book::cash_book;
pub use document::spp_document;
pub use ledger::{general_ledger, trial_balance};
pub use realisation::{realisation, realised_amount, source_name, ClassFigures};
pub use reconciliation::reconciliation;
pub use registers::{activities_book, spp_register};
pub use tax_book::tax_book;
pub use trail::approval_trail_at;
pub use wealth::wealth;

use super::table::Cell;
use crate::store::rows::VillageRow;
use crate::store::{Db, LedgerLine, StoreError};
use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};
use std::collections::HashMap;

/// The dates a report covers: inside one fiscal year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub year: i32,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(year: i32, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Period, String> {
        let start = NaiveDate::from_ymd_opt(year, 1, 1).ok_or("year out of range")?;
        let end = NaiveDate::from_ymd_opt(year, 12, 31).ok_or("year out of range")?;
        let from = from.unwrap_or(start);
        let to = to.unwrap_or(end);
        if from.year() != year || to.year() != year {
            return Err(format!("from and to must lie in {year}"));
        }
        if from > to {
            return Err("from is after to".into());
        }
        Ok(Period { year, from, to })
    }

    fn label(&self) -> String {
        format!("{} s.d. {}", self.from.format("%d-%m-%Y"), self.to.format("%d-%m-%Y"))
    }

    fn day_before_start(&self) -> Option<NaiveDate> {
        self.from.pred_opt()
    }
}

/// The heading fields of a village report over a period.
fn meta(v: &VillageRow, p: &Period) -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("village_id", "ID Desa", v.id.to_string()),
        ("village_code", "Kode Desa", v.code.clone()),
        ("village_name", "Desa", v.name.clone()),
        ("year", "Tahun Anggaran", p.year.to_string()),
        ("from", "Dari", p.from.format("%Y-%m-%d").to_string()),
        ("to", "Sampai", p.to.format("%Y-%m-%d").to_string()),
    ]
}

/// Debit-positive balance of each account at the end of `at` (None: before anything).
fn balances_at(db: &Db, village: &str, at: Option<NaiveDate>) -> Result<HashMap<String, i64>, StoreError> {
    let Some(at) = at else { return Ok(HashMap::new()) };
    Ok(db
        .period_totals(&[village.to_string()], None, at)?
        .into_iter()
        .map(|(_, account, debit, credit)| (account, debit - credit))
        .collect())
}

/// The voucher (No Bukti) of an entry: the kuitansi it pays (one receipt of a request of many), else the number of
/// the request it pays, else its bank reference, else its position in the village's journal. `numbers` is
/// `Db::payment_numbers`.
fn voucher(l: &LedgerLine, numbers: &HashMap<String, String>) -> String {
    if let Some(n) = numbers.get(&format!("txn:{}", l.txn_id)) {
        return n.clone();
    }
    if let Some(n) = l.payment_id.as_ref().and_then(|p| numbers.get(p)) {
        return n.clone();
    }
    l.bank_reference.clone().unwrap_or_else(|| format!("#{}", l.seq))
}

/// An amount as the JSON of the reports has it (a decimal string).
fn amount_json(sen: i64) -> Value {
    json!(crate::domain::money::Amount(sen).to_string())
}

/// A money cell, empty for nothing (the books leave the other side of a row blank).
fn money_or_empty(sen: i64) -> Cell {
    if sen > 0 {
        Cell::Money(sen)
    } else {
        Cell::Empty
    }
}

/// The first row of a running book: the opening balance on the period's first day, in the last column of
/// `width`, with "Saldo awal" in column `label_at`.
fn opening_row(width: usize, label_at: usize, from: NaiveDate, balance: i64) -> Vec<Cell> {
    let mut r = vec![Cell::Empty; width];
    r[1] = Cell::Date(from);
    r[label_at] = Cell::text("Saldo awal");
    r[width - 1] = Cell::Money(balance);
    r
}
