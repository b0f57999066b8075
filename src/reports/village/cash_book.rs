//! Buku Kas Umum (BKU): the treasury's general cash book.

use super::{amount_json, balances_at, meta, money_or_empty, opening_row, voucher, Period};
use crate::domain::accounts::{BANK_ACCOUNT, CASH_IN_HAND};
use crate::reports::table::{col, Cell, Column, Kind, Report, Section};
use crate::store::rows::VillageRow;
use crate::store::{Db, StoreError};

fn columns() -> Vec<Column> {
    vec![
        col("no", "No", Kind::Int),
        col("date", "Tanggal", Kind::Date),
        col("account_code", "Kode Rekening", Kind::Text),
        col("description", "Uraian", Kind::Text),
        col("receipts", "Penerimaan", Kind::Money),
        col("payments", "Pengeluaran", Kind::Money),
        col("voucher", "No Bukti", Kind::Text),
        col("cumulative_payments", "Jumlah Pengeluaran Kumulatif", Kind::Money),
        col("balance", "Saldo", Kind::Money),
    ]
}

/// Buku Kas Umum: every transaction that moves the treasury's money (bank or cash), one row per counter entry —
/// a payment shows its gross as spending and each tax withheld as a receipt, as Permendagri's BKU does — with the
/// cumulative spending and the running balance.
pub fn cash_book(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let numbers = db.payment_numbers(&v.id)?;
    let opening_map = balances_at(db, &v.id, p.day_before_start())?;
    let opening = opening_map.get(CASH_IN_HAND).unwrap_or(&0) + opening_map.get(BANK_ACCOUNT).unwrap_or(&0);
    let lines = db.cash_counter_lines(&v.id, p.from, p.to)?;
    let mut first = opening_row(9, 3, p.from, opening);
    first[7] = Cell::Money(0);
    let mut rows = vec![first];
    let (mut balance, mut cumulative, mut total_in, mut total_out) = (opening, 0i64, 0i64, 0i64);
    for (i, l) in lines.iter().enumerate() {
        // The counter entry's credit is money in (revenue, tax withheld); its debit is money out.
        let (inflow, outflow) = if l.side == "credit" { (l.amount, 0) } else { (0, l.amount) };
        balance += inflow - outflow;
        cumulative += outflow;
        total_in += inflow;
        total_out += outflow;
        rows.push(vec![
            Cell::Int(i as i64 + 1),
            Cell::Date(l.value_date),
            Cell::text(&l.account_code),
            Cell::text(&l.description),
            money_or_empty(inflow),
            money_or_empty(outflow),
            Cell::text(voucher(l, &numbers)),
            Cell::Money(cumulative),
            Cell::Money(balance),
        ]);
    }
    let totals = vec![
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::text("Jumlah"),
        Cell::Money(total_in),
        Cell::Money(total_out),
        Cell::Empty,
        Cell::Money(cumulative),
        Cell::Money(balance),
    ];
    let mut extra = serde_json::Map::new();
    extra.insert("opening_balance".into(), amount_json(opening));
    extra.insert("closing_balance".into(), amount_json(balance));
    Ok(Report {
        key: "cash_book",
        title: "Buku Kas Umum".into(),
        meta: meta(v, p),
        sections: vec![Section {
            key: "entries",
            title: format!("BKU {}", p.label()),
            columns: columns(),
            rows,
            totals: Some(totals),
        }],
        extra,
    })
}
