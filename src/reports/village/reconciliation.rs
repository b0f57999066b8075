//! Rekonsiliasi Bank: the bank's statement against the village's bank book.

use super::{amount_json, meta, Period};
use crate::reports::table::{col, Cell, Kind, Report, Section};
use crate::store::rows::{StatementLineRow, VillageRow};
use crate::store::{Db, LedgerLine, StoreError};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::json;
use std::collections::BTreeMap;

/// The bank's side of a ledger entry: money into the account is a credit on the bank's statement and a debit in
/// the village's books.
fn statement_direction(l: &LedgerLine) -> &'static str {
    if l.side == "debit" {
        "credit"
    } else {
        "debit"
    }
}

/// The rows of the three sections: matched pairs, statement lines without an entry, entries without a line.
struct Matching {
    matched: Vec<Vec<Cell>>,
    unmatched_statement: Vec<Vec<Cell>>,
    unmatched_ledger: Vec<Vec<Cell>>,
}

/// Pairs each statement line with the first open ledger entry of the same bank reference, direction and amount.
fn match_lines(statement: &[StatementLineRow], ledger: &[LedgerLine]) -> Matching {
    let mut open: BTreeMap<(String, &str, i64), Vec<&LedgerLine>> = BTreeMap::new();
    for l in ledger {
        let reference = l.bank_reference.clone().unwrap_or_default();
        open.entry((reference, statement_direction(l), l.amount)).or_default().push(l);
    }
    let mut matched = Vec::new();
    let mut unmatched_statement = Vec::new();
    for s in statement {
        let key = (s.bank_reference.clone(), s.direction.as_str(), s.amount);
        let line =
            [Cell::Date(s.value_date), Cell::text(&s.bank_reference), Cell::text(&s.direction), Cell::Money(s.amount)];
        match open.get_mut(&key).and_then(|v| if v.is_empty() { None } else { Some(v.remove(0)) }) {
            Some(l) => {
                let mut row = line.to_vec();
                row.extend([Cell::Int(l.seq), Cell::Date(l.value_date)]);
                matched.push(row);
            }
            None => unmatched_statement.push(line.to_vec()),
        }
    }
    let mut unmatched_ledger: Vec<Vec<Cell>> = open
        .into_values()
        .flatten()
        .map(|l| {
            vec![
                Cell::Int(l.seq),
                Cell::Date(l.value_date),
                Cell::opt(l.bank_reference.clone()),
                Cell::text(statement_direction(l)),
                Cell::Money(l.amount),
                Cell::text(&l.description),
            ]
        })
        .collect();
    unmatched_ledger.sort_by_key(|r| if let Cell::Int(s) = r[0] { s } else { 0 });
    Matching { matched, unmatched_statement, unmatched_ledger }
}

/// The bank's balance against the ledger's, per statement date that carries one: the bank's is that of the day's
/// line received last, the ledger's the bank account's balance at the end of that date. Rows: date, bank, ledger,
/// difference; and the number of dates that differ.
fn balance_rows(statement: &[StatementLineRow], ledger: &[LedgerLine], opening: i64) -> (Vec<Vec<Cell>>, usize) {
    let mut bank_by_day: BTreeMap<NaiveDate, (&NaiveDateTime, &str, i64)> = BTreeMap::new();
    for s in statement {
        let Some(balance) = s.balance else { continue };
        let candidate = (&s.received_at, s.id.as_str(), balance);
        let slot = bank_by_day.entry(s.value_date).or_insert(candidate);
        if (candidate.0, candidate.1) > (slot.0, slot.1) {
            *slot = candidate;
        }
    }
    let mut ledger_by_day: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for l in ledger {
        *ledger_by_day.entry(l.value_date).or_insert(0) += l.signed();
    }
    let mut rows = Vec::new();
    let mut differing = 0;
    for (day, (_, _, bank)) in bank_by_day {
        let ours = opening + ledger_by_day.range(..=day).map(|(_, v)| v).sum::<i64>();
        if ours != bank {
            differing += 1;
        }
        rows.push(vec![Cell::Date(day), Cell::Money(bank), Cell::Money(ours), Cell::Money(bank - ours)]);
    }
    (rows, differing)
}

fn sections(m: Matching, balances: Vec<Vec<Cell>>) -> Vec<Section> {
    vec![
        Section {
            key: "matched",
            title: "Cocok".into(),
            columns: vec![
                col("value_date", "Tanggal Rekening Koran", Kind::Date),
                col("bank_reference", "Referensi Bank", Kind::Text),
                col("direction", "Arah", Kind::Text),
                col("amount", "Jumlah", Kind::Money),
                col("seq", "No Transaksi", Kind::Int),
                col("ledger_date", "Tanggal Buku", Kind::Date),
            ],
            rows: m.matched,
            totals: None,
        },
        Section {
            key: "unmatched_statement",
            title: "Di Rekening Koran, Tidak di Buku".into(),
            columns: vec![
                col("value_date", "Tanggal", Kind::Date),
                col("bank_reference", "Referensi Bank", Kind::Text),
                col("direction", "Arah", Kind::Text),
                col("amount", "Jumlah", Kind::Money),
            ],
            rows: m.unmatched_statement,
            totals: None,
        },
        Section {
            key: "unmatched_ledger",
            title: "Di Buku, Tidak di Rekening Koran".into(),
            columns: vec![
                col("seq", "No Transaksi", Kind::Int),
                col("value_date", "Tanggal", Kind::Date),
                col("bank_reference", "Referensi Bank", Kind::Text),
                col("direction", "Arah", Kind::Text),
                col("amount", "Jumlah", Kind::Money),
                col("description", "Uraian", Kind::Text),
            ],
            rows: m.unmatched_ledger,
            totals: None,
        },
        Section {
            key: "balances",
            title: "Saldo Rekening Koran dan Buku Bank".into(),
            columns: vec![
                col("value_date", "Tanggal", Kind::Date),
                col("bank_balance", "Saldo Bank", Kind::Money),
                col("ledger_balance", "Saldo Buku Bank", Kind::Money),
                col("difference", "Selisih", Kind::Money),
            ],
            rows: balances,
            totals: None,
        },
    ]
}

/// Bank reconciliation: statement lines against ledger entries on the bank account, matched by bank reference,
/// direction and amount; the unmatched on both sides.
pub fn reconciliation(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let statement = db.statement_lines(&v.id, p.from, p.to)?;
    let ledger = db.account_lines(&v.id, &[crate::domain::accounts::BANK_ACCOUNT], p.from, p.to)?;
    let matching = match_lines(&statement, &ledger);
    let opening =
        *super::balances_at(db, &v.id, p.day_before_start())?.get(crate::domain::accounts::BANK_ACCOUNT).unwrap_or(&0);
    let (balances, balance_differences) = balance_rows(&statement, &ledger, opening);
    let statement_net: i64 = statement.iter().map(|s| if s.direction == "credit" { s.amount } else { -s.amount }).sum();
    let ledger_net: i64 = ledger.iter().map(LedgerLine::signed).sum();
    let reconciled =
        matching.unmatched_ledger.is_empty() && matching.unmatched_statement.is_empty() && balance_differences == 0;
    let mut extra = serde_json::Map::new();
    extra.insert("statement_net".into(), amount_json(statement_net));
    extra.insert("ledger_net".into(), amount_json(ledger_net));
    extra.insert("difference".into(), amount_json(statement_net - ledger_net));
    extra.insert("balance_differences".into(), json!(balance_differences));
    extra.insert("reconciled".into(), json!(reconciled));
    Ok(Report {
        key: "reconciliation",
        title: "Rekonsiliasi Bank".into(),
        meta: meta(v, p),
        sections: sections(matching, balances),
        extra,
    })
}
