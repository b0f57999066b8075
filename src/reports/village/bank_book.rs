//! Buku Bank: the village bank account's book.

use super::{amount_json, balances_at, meta, opening_row, voucher, Period};
use crate::domain::accounts::BANK_ACCOUNT;
use crate::domain::bank_entry::{BankEntryKind, INTEREST_ACCOUNT};
use crate::reports::table::{col, Cell, Column, Kind, Report, Section};
use crate::store::rows::VillageRow;
use crate::store::{Db, LedgerLine, StoreError};

fn columns() -> Vec<Column> {
    vec![
        col("no", "No", Kind::Int),
        col("date", "Tanggal", Kind::Date),
        col("description", "Uraian", Kind::Text),
        col("voucher", "Bukti", Kind::Text),
        col("deposits", "Pemasukan: Setoran", Kind::Money),
        col("interest", "Pemasukan: Bunga Bank", Kind::Money),
        col("withdrawals", "Pengeluaran: Penarikan", Kind::Money),
        col("taxes", "Pengeluaran: Pajak", Kind::Money),
        col("charges", "Pengeluaran: Biaya Administrasi", Kind::Money),
        col("balance", "Saldo", Kind::Money),
    ]
}

/// Which of the five money columns (deposits, interest, withdrawals, taxes, charges) a bank line goes in: the
/// bank's own entries by their kind, other receipts into interest when they credit bank interest (4.3.6.01), tax
/// deposits into taxes, everything else paid out into withdrawals. An older database's bank charges on 5.2.9.01 (an
/// account the annex does not have) still count as charges.
fn slot(l: &LedgerLine, entry: Option<BankEntryKind>, has: impl Fn(&str) -> bool) -> usize {
    match entry {
        Some(BankEntryKind::Interest) => return 1,
        Some(BankEntryKind::InterestTax) => return 3,
        Some(BankEntryKind::AdminFee) => return 4,
        None => {}
    }
    if l.side == "debit" {
        if has(INTEREST_ACCOUNT) {
            1
        } else {
            0
        }
    } else if l.kind == "tax_deposit" {
        3
    } else if has("5.2.9.01") {
        4
    } else {
        2
    }
}

/// Buku Bank: every movement of the village bank account, receipts split into deposits and interest, payments into
/// withdrawals, taxes and bank charges.
pub fn bank_book(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let numbers = db.payment_numbers(&v.id)?;
    let opening = *balances_at(db, &v.id, p.day_before_start())?.get(BANK_ACCOUNT).unwrap_or(&0);
    let lines = db.account_lines(&v.id, &[BANK_ACCOUNT], p.from, p.to)?;
    let touches = db.transaction_accounts_touching(&v.id, BANK_ACCOUNT, p.from, p.to)?;
    let entries: std::collections::HashMap<String, BankEntryKind> =
        db.bank_entries_of(&v.id)?.into_iter().map(|e| (e.transaction_id.into(), e.kind)).collect();
    let mut rows = vec![opening_row(10, 2, p.from, opening)];
    let mut sums = [0i64; 5];
    let mut balance = opening;
    for (i, l) in lines.iter().enumerate() {
        let accounts = touches.get(&l.txn_id);
        let slot = slot(l, entries.get(&l.txn_id).copied(), |code| accounts.is_some_and(|a| a.contains(code)));
        sums[slot] += l.amount;
        balance += l.signed();
        let mut r = vec![
            Cell::Int(i as i64 + 1),
            Cell::Date(l.value_date),
            Cell::text(&l.description),
            Cell::text(voucher(l, &numbers)),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Money(balance),
        ];
        r[4 + slot] = Cell::Money(l.amount);
        rows.push(r);
    }
    let mut totals = vec![Cell::Empty, Cell::Empty, Cell::text("Jumlah"), Cell::Empty];
    totals.extend(sums.iter().map(|s| Cell::Money(*s)));
    totals.push(Cell::Money(balance));
    let mut extra = serde_json::Map::new();
    extra.insert("opening_balance".into(), amount_json(opening));
    extra.insert("closing_balance".into(), amount_json(balance));
    Ok(Report {
        key: "bank_book",
        title: "Buku Bank".into(),
        meta: meta(v, p),
        sections: vec![Section {
            key: "entries",
            title: format!("Buku Bank {}", p.label()),
            columns: columns(),
            rows,
            totals: Some(totals),
        }],
        extra,
    })
}
