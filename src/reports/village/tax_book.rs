//! Buku Pembantu Pajak: the taxes withheld and deposited.

use super::{balances_at, meta, money_or_empty, opening_row, voucher, Period};
use crate::domain::accounts::TAXES;
use crate::reports::table::{col, Cell, Column, Kind, Report, Section};
use crate::store::rows::VillageRow;
use crate::store::{Db, LedgerLine, StoreError};
use chrono::NaiveDate;

fn columns() -> Vec<Column> {
    vec![
        col("no", "No", Kind::Int),
        col("date", "Tanggal", Kind::Date),
        col("description", "Uraian", Kind::Text),
        col("voucher", "Bukti", Kind::Text),
        col("withheld", "Pemotongan", Kind::Money),
        col("deposited", "Penyetoran", Kind::Money),
        col("balance", "Saldo", Kind::Money),
        col("billing_code", "Kode Billing", Kind::Text),
        col("ntpn", "NTPN", Kind::Text),
    ]
}

/// A deposit's billing code and NTPN per (payment, liability account).
type DepositProofs = std::collections::HashMap<(String, String), (Option<String>, Option<String>)>;

/// One tax's figures over the period: owed at the start, withheld, deposited, owed at the end.
#[derive(Default, Clone, Copy)]
struct Figures {
    opening: i64,
    withheld: i64,
    deposited: i64,
    closing: i64,
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.opening += o.opening;
        self.withheld += o.withheld;
        self.deposited += o.deposited;
        self.closing += o.closing;
    }
}

fn section_key(tax: &str) -> &'static str {
    match tax {
        "PPN" => "ppn",
        "PPH21" => "pph21",
        "PPH22" => "pph22",
        "PPH23" => "pph23",
        "PPH4_2" => "pph4_2",
        _ => "pajak_daerah",
    }
}

/// One tax's section: its entries with the running balance owed (a tax account is credit-normal, so `opening` is
/// what was owed at the start).
fn tax_section(
    tax: &str,
    account: &str,
    opening: i64,
    from: NaiveDate,
    lines: &[LedgerLine],
    proofs: &DepositProofs,
    numbers: &std::collections::HashMap<String, String>,
) -> (Section, Figures) {
    let mut f = Figures { opening, closing: opening, ..Figures::default() };
    let mut first = opening_row(7, 2, from, opening);
    first.extend([Cell::Empty, Cell::Empty]);
    let mut rows = vec![first];
    for (i, l) in lines.iter().filter(|l| l.account_code == account).enumerate() {
        let (w, d) = if l.side == "credit" { (l.amount, 0) } else { (0, l.amount) };
        f.withheld += w;
        f.deposited += d;
        f.closing += w - d;
        let (billing, ntpn) = l
            .payment_id
            .as_ref()
            .and_then(|p| proofs.get(&(p.clone(), account.to_string())))
            .cloned()
            .unwrap_or_default();
        rows.push(vec![
            Cell::Int(i as i64 + 1),
            Cell::Date(l.value_date),
            Cell::text(&l.description),
            Cell::text(voucher(l, numbers)),
            money_or_empty(w),
            money_or_empty(d),
            Cell::Money(f.closing),
            billing.map_or(Cell::Empty, Cell::Text),
            ntpn.map_or(Cell::Empty, Cell::Text),
        ]);
    }
    let section = Section {
        key: section_key(tax),
        title: format!("{tax} ({account})"),
        columns: columns(),
        rows,
        totals: Some(vec![
            Cell::Empty,
            Cell::Empty,
            Cell::text("Jumlah"),
            Cell::Empty,
            Cell::Money(f.withheld),
            Cell::Money(f.deposited),
            Cell::Money(f.closing),
            Cell::Empty,
            Cell::Empty,
        ]),
    };
    (section, f)
}

fn figure_cells(f: &Figures) -> [Cell; 4] {
    [Cell::Money(f.opening), Cell::Money(f.withheld), Cell::Money(f.deposited), Cell::Money(f.closing)]
}

/// The summary section: one row per tax and the totals.
fn summary_section(per_tax: &[(&str, &str, Figures)]) -> Section {
    let mut total = Figures::default();
    let mut rows = Vec::new();
    for (tax, account, f) in per_tax {
        total.add(f);
        let mut row = vec![Cell::text(*tax), Cell::text(*account)];
        row.extend(figure_cells(f));
        rows.push(row);
    }
    let mut totals = vec![Cell::text("Jumlah"), Cell::Empty];
    totals.extend(figure_cells(&total));
    Section {
        key: "summary",
        title: "Ringkasan".into(),
        columns: vec![
            col("tax", "Jenis Pajak", Kind::Text),
            col("account_code", "Kode Rekening", Kind::Text),
            col("opening", "Saldo Awal", Kind::Money),
            col("withheld", "Pemotongan", Kind::Money),
            col("deposited", "Penyetoran", Kind::Money),
            col("balance", "Saldo Akhir", Kind::Money),
        ],
        rows,
        totals: Some(totals),
    }
}

/// Buku Pembantu Pajak: per tax, what was withheld and deposited, and the running balance owed.
pub fn tax_book(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let numbers = db.payment_numbers(&v.id)?;
    let opening_map = balances_at(db, &v.id, p.day_before_start())?;
    let codes: Vec<&str> = TAXES.iter().map(|(_, a)| *a).collect();
    let lines = db.account_lines(&v.id, &codes, p.from, p.to)?;
    // The deposits' billing codes and NTPNs, per line: a deposit is proven by them.
    let mut proofs = DepositProofs::new();
    let deposits: std::collections::BTreeSet<&String> =
        lines.iter().filter(|l| l.kind == "tax_deposit").filter_map(|l| l.payment_id.as_ref()).collect();
    for id in deposits {
        if let Some(rec) = db.get_payment(id)? {
            for l in rec.lines {
                proofs.insert((id.clone(), l.account_code), (l.billing_code, l.ntpn));
            }
        }
    }
    let mut sections = Vec::new();
    let mut per_tax = Vec::new();
    for (tax, account) in TAXES {
        let opening = -opening_map.get(*account).unwrap_or(&0); // owed: credit-normal
        let (section, figures) = tax_section(tax, account, opening, p.from, &lines, &proofs, &numbers);
        sections.push(section);
        per_tax.push((*tax, *account, figures));
    }
    sections.insert(0, summary_section(&per_tax));
    Ok(Report {
        key: "tax_book",
        title: "Buku Pembantu Pajak".into(),
        meta: meta(v, p),
        sections,
        extra: Default::default(),
    })
}
