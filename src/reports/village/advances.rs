//! Buku Pembantu Panjar: every advance of the year per implementer, paid out and accounted for (spent by SPJ and
//! returned), with the running balance each implementer still owes an accountability for. It balances to zero when
//! every advance is accounted for.

use super::{meta, Period};
use crate::reports::table::{col, Cell, Column, Kind, Report, Section};
use crate::store::rows::VillageRow;
use crate::store::{Db, StoreError};
use std::collections::BTreeMap;

fn columns() -> Vec<Column> {
    vec![
        col("implementer_name", "Pelaksana", Kind::Text),
        col("no", "No", Kind::Int),
        col("date", "Tanggal", Kind::Date),
        col("voucher", "No Bukti", Kind::Text),
        col("description", "Uraian", Kind::Text),
        col("advanced", "Panjar", Kind::Money),
        col("accounted", "SPJ", Kind::Money),
        col("returned", "Pengembalian", Kind::Money),
        col("balance", "Saldo", Kind::Money),
    ]
}

pub fn advances_book(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let mut by_implementer: BTreeMap<String, Vec<crate::store::AdvanceBookEntry>> = BTreeMap::new();
    for a in db.advance_book(&v.id, p.year)? {
        by_implementer.entry(a.implementer.clone()).or_default().push(a);
    }
    let mut rows = Vec::new();
    let (mut owed_total, mut advanced, mut accounted, mut returned) = (0i64, 0i64, 0i64, 0i64);
    for (implementer, advances) in by_implementer {
        // Each advance is a movement out on the day it was paid and, once accounted for, one back on that day.
        let mut moves: Vec<(chrono::NaiveDate, Vec<Cell>, i64)> = Vec::new();
        for a in &advances {
            let number = a.payment.number.clone().unwrap_or_default();
            if let Some(paid) = a.paid_on.filter(|d| *d >= p.from && *d <= p.to) {
                moves.push((
                    paid,
                    vec![
                        Cell::text(&number),
                        Cell::text(format!("Panjar: {}", a.payment.description)),
                        Cell::Money(a.payment.net),
                        Cell::Empty,
                        Cell::Empty,
                    ],
                    a.payment.net,
                ));
            }
            if let (Some(on), Some(spent)) = (a.accounted_on.filter(|d| *d >= p.from && *d <= p.to), a.spent) {
                moves.push((
                    on,
                    vec![
                        Cell::text(&number),
                        Cell::text(format!("SPJ: {}", a.payment.description)),
                        Cell::Empty,
                        Cell::Money(spent),
                        Cell::Money(a.payment.net - spent),
                    ],
                    -a.payment.net,
                ));
            }
        }
        moves.sort_by_key(|m| m.0);
        let mut balance = 0i64;
        for (i, (date, cells, delta)) in moves.into_iter().enumerate() {
            balance += delta;
            for (slot, sum) in [(2, &mut advanced), (3, &mut accounted), (4, &mut returned)] {
                if let Cell::Money(m) = cells[slot] {
                    *sum += m;
                }
            }
            let mut row = vec![Cell::text(&implementer), Cell::Int(i as i64 + 1), Cell::Date(date)];
            row.extend(cells);
            row.push(Cell::Money(balance));
            rows.push(row);
        }
        owed_total += balance;
    }
    let sections = vec![Section {
        key: "advances",
        title: "Buku Pembantu Panjar".into(),
        columns: columns(),
        rows,
        totals: Some(vec![
            Cell::text("Jumlah"),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Money(advanced),
            Cell::Money(accounted),
            Cell::Money(returned),
            Cell::Money(owed_total),
        ]),
    }];
    let mut extra = serde_json::Map::new();
    extra.insert("outstanding".into(), super::amount_json(owed_total));
    Ok(Report { key: "advances", title: "Buku Pembantu Panjar".into(), meta: meta(v, p), sections, extra })
}
