//! Laporan Realisasi Pelaksanaan APBDes: budget against realised, per account, per activity and per source; and
//! the class figures the regency's roll-up shares.

use super::{amount_json, meta, Period};
use crate::domain::accounts::{class_of_code, AccountClass};
use crate::reports::table::{col, percent, Cell, Column, Kind, Report, Section};
use crate::store::rows::{BudgetPositionRow, VillageRow};
use crate::store::{Db, SpendingByKey, StoreError};
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The classes the realisation report lists, in its order.
const CLASSES: [AccountClass; 4] = [
    AccountClass::Revenue,
    AccountClass::Expenditure,
    AccountClass::FinancingReceipt,
    AccountClass::FinancingExpenditure,
];

fn class_heading(class: AccountClass) -> &'static str {
    match class {
        AccountClass::Revenue => "Jumlah Pendapatan",
        AccountClass::Expenditure => "Jumlah Belanja",
        AccountClass::FinancingReceipt => "Jumlah Penerimaan Pembiayaan",
        AccountClass::FinancingExpenditure => "Jumlah Pengeluaran Pembiayaan",
        _ => "Jumlah",
    }
}

/// Realised on the account's normal side, from its debit/credit totals.
pub fn realised_amount(class: AccountClass, debit: i64, credit: i64) -> i64 {
    match class.normal_side() {
        crate::domain::accounts::Side::Debit => debit - credit,
        crate::domain::accounts::Side::Credit => credit - debit,
    }
}

fn budget_row(code: &str, name: &str, budget: i64, realised: i64) -> Vec<Cell> {
    vec![
        Cell::text(code),
        Cell::text(name),
        Cell::Money(budget),
        Cell::Money(realised),
        Cell::Money(budget - realised),
        Cell::Percent(percent(realised, budget)),
    ]
}

fn budget_columns(first: (&'static str, &'static str), second: (&'static str, &'static str)) -> Vec<Column> {
    vec![
        col(first.0, first.1, Kind::Text),
        col(second.0, second.1, Kind::Text),
        col("budget", "Anggaran", Kind::Money),
        col("realised", "Realisasi", Kind::Money),
        col("remaining", "Lebih/(Kurang)", Kind::Money),
        col("percent", "Persen (%)", Kind::Percent),
    ]
}

/// Per-village class figures (budget, realised) for the regency roll-up and the village report alike.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClassFigures {
    pub revenue: (i64, i64),
    pub spending: (i64, i64),
    pub financing_in: (i64, i64),
    pub financing_out: (i64, i64),
}

impl ClassFigures {
    pub fn add(&mut self, class: AccountClass, budget: i64, realised: i64) {
        let slot = match class {
            AccountClass::Revenue => &mut self.revenue,
            AccountClass::Expenditure => &mut self.spending,
            AccountClass::FinancingReceipt => &mut self.financing_in,
            AccountClass::FinancingExpenditure => &mut self.financing_out,
            _ => return,
        };
        slot.0 += budget;
        slot.1 += realised;
    }

    /// Revenue less spending, (budget, realised).
    fn surplus(&self) -> (i64, i64) {
        (self.revenue.0 - self.spending.0, self.revenue.1 - self.spending.1)
    }

    /// Financing received less financing spent, (budget, realised).
    fn net_financing(&self) -> (i64, i64) {
        (self.financing_in.0 - self.financing_out.0, self.financing_in.1 - self.financing_out.1)
    }

    /// Sisa Lebih/(Kurang) Pembiayaan Anggaran: the surplus plus the net financing, (budget, realised).
    fn silpa(&self) -> (i64, i64) {
        let (s, n) = (self.surplus(), self.net_financing());
        (s.0 + n.0, s.1 + n.1)
    }

    /// The summary machines read from the report's JSON.
    fn to_json(self) -> Value {
        let pair = |(b, r): (i64, i64)| json!({"budget": amount_json(b), "realised": amount_json(r)});
        json!({
            "revenue": pair(self.revenue),
            "spending": pair(self.spending),
            "surplus": pair(self.surplus()),
            "net_financing": pair(self.net_financing()),
            "silpa": pair(self.silpa()),
        })
    }
}

/// Realised per account of the four realisation classes, on each account's normal side.
fn realised_by_account(totals: Vec<(String, String, i64, i64)>) -> BTreeMap<String, i64> {
    let mut realised = BTreeMap::new();
    for (_, account, debit, credit) in totals {
        if let Some(class) = class_of_code(&account).filter(|c| CLASSES.contains(c)) {
            realised.insert(account, realised_amount(class, debit, credit));
        }
    }
    realised
}

/// The per-account rows: each class's accounts and sub-total (with the surplus after spending), then the net
/// financing and the SiLPA.
fn account_rows(
    chart: &HashMap<String, String>,
    budget: &BTreeMap<String, i64>,
    realised: &BTreeMap<String, i64>,
) -> (Vec<Vec<Cell>>, ClassFigures) {
    let codes: BTreeSet<&String> = budget.keys().chain(realised.keys()).collect();
    let mut rows = Vec::new();
    let mut figures = ClassFigures::default();
    for class in CLASSES {
        let (mut b, mut r) = (0i64, 0i64);
        for code in codes.iter().filter(|c| class_of_code(c) == Some(class)) {
            let (cb, cr) = (*budget.get(*code).unwrap_or(&0), *realised.get(*code).unwrap_or(&0));
            rows.push(budget_row(code, chart.get(*code).map_or("", String::as_str), cb, cr));
            b += cb;
            r += cr;
        }
        figures.add(class, b, r);
        rows.push(budget_row("", class_heading(class), b, r));
        if class == AccountClass::Expenditure {
            let (sb, sr) = figures.surplus();
            rows.push(budget_row("", "Surplus/(Defisit)", sb, sr));
        }
    }
    let (net_b, net_r) = figures.net_financing();
    rows.push(budget_row("", "Pembiayaan Netto", net_b, net_r));
    let (silpa_b, silpa_r) = figures.silpa();
    rows.push(budget_row("", "Sisa Lebih/(Kurang) Pembiayaan Anggaran (SiLPA)", silpa_b, silpa_r));
    (rows, figures)
}

/// The spending sections: budget and realised per activity and per source of funds, each with its total.
fn spending_sections(positions: &[BudgetPositionRow], spent: &[SpendingByKey]) -> [Section; 2] {
    let mut by_activity: BTreeMap<String, (String, i64, i64)> = BTreeMap::new();
    let mut by_source: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for pos in positions.iter().filter(|p| !p.activity_code.is_empty()) {
        let a = by_activity.entry(pos.activity_code.clone()).or_insert((String::new(), 0, 0));
        if a.0.is_empty() {
            a.0 = pos.activity_name.clone().unwrap_or_default();
        }
        a.1 += pos.ceiling;
        by_source.entry(pos.source.clone()).or_insert((0, 0)).0 += pos.ceiling;
    }
    for (_, activity, source, amount) in spent {
        by_activity.entry(activity.clone().unwrap_or_else(|| "-".into())).or_insert((String::new(), 0, 0)).2 += amount;
        by_source.entry(source.clone().unwrap_or_else(|| "-".into())).or_insert((0, 0)).1 += amount;
    }
    let activity_rows = by_activity.iter().map(|(code, (name, b, r))| budget_row(code, name, *b, *r)).collect();
    let (ab, ar) = by_activity.values().fold((0, 0), |acc, (_, b, r)| (acc.0 + b, acc.1 + r));
    let source_rows = by_source.iter().map(|(code, (b, r))| budget_row(code, source_name(code), *b, *r)).collect();
    let (sb, sr) = by_source.values().fold((0, 0), |acc, (b, r)| (acc.0 + b, acc.1 + r));
    [
        Section {
            key: "activities",
            title: "Per Kegiatan".into(),
            columns: budget_columns(("activity_code", "Kode Kegiatan"), ("name", "Nama Kegiatan")),
            rows: activity_rows,
            totals: Some(budget_row("", "Jumlah Belanja", ab, ar)),
        },
        Section {
            key: "sources",
            title: "Per Sumber Dana".into(),
            columns: budget_columns(("source", "Sumber Dana"), ("name", "Uraian")),
            rows: source_rows,
            totals: Some(budget_row("", "Jumlah Belanja", sb, sr)),
        },
    ]
}

/// The report in the annex's structure (`annex.rs`): revenue and financing per objek, spending per kegiatan and objek.
fn annex_section(
    chart: &HashMap<String, String>,
    budget: &BTreeMap<String, i64>,
    realised: &BTreeMap<String, i64>,
    positions: &[BudgetPositionRow],
    spent: &[SpendingByKey],
) -> Section {
    let mut by_objek: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (code, b) in budget {
        by_objek.entry(code.clone()).or_default().0 += b;
    }
    for (code, r) in realised {
        by_objek.entry(code.clone()).or_default().1 += r;
    }
    by_objek.retain(|code, _| !matches!(class_of_code(code), Some(AccountClass::Expenditure)));
    let mut by_activity: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for pos in positions.iter().filter(|p| !p.activity_code.is_empty()) {
        if matches!(class_of_code(&pos.account_code), Some(AccountClass::Expenditure)) {
            by_activity.entry((pos.activity_code.clone(), pos.account_code.clone())).or_default().0 += pos.ceiling;
        }
    }
    for (account, activity, _, amount) in spent {
        if let Some(a) = activity {
            by_activity.entry((a.clone(), account.clone())).or_default().1 += amount;
        }
    }
    let names: BTreeMap<String, String> = chart.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut columns = vec![col("level", "Tingkat", Kind::Text)];
    columns.extend(budget_columns(("code", "Kode"), ("name", "Uraian")));
    Section {
        key: "structure",
        title: "Struktur Lampiran".into(),
        columns,
        rows: super::annex::annex_rows(&by_objek, &by_activity, &names),
        totals: None,
    }
}

/// Laporan Realisasi APBDes: per account with class sub-totals and surplus/deficit, by activity and by source.
pub fn realisation(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let chart: HashMap<String, String> = db.accounts(&v.id)?.into_iter().map(|a| (a.code, a.name)).collect();
    let positions = db.budget_positions(&[v.id.to_string()], p.year)?;
    let mut budget: BTreeMap<String, i64> = BTreeMap::new();
    for pos in &positions {
        *budget.entry(pos.account_code.clone()).or_insert(0) += pos.ceiling;
    }
    let realised = realised_by_account(db.period_totals(&[v.id.to_string()], Some(p.from), p.to)?);
    let (rows, figures) = account_rows(&chart, &budget, &realised);
    let spent = db.spending_by_key(&v.id, p.from, p.to)?;
    let structure = annex_section(&chart, &budget, &realised, &positions, &spent);
    let [activities, sources] = spending_sections(&positions, &spent);

    let mut extra = serde_json::Map::new();
    extra.insert("summary".into(), figures.to_json());
    let semester = if p.to == NaiveDate::from_ymd_opt(p.year, 6, 30).expect("valid") { "Semester I" } else { "" };
    Ok(Report {
        key: "realisation",
        title: format!("Laporan Realisasi Pelaksanaan APBDes {semester}").trim().to_string(),
        meta: meta(v, p),
        sections: vec![
            Section {
                key: "accounts",
                title: "Per Kode Rekening".into(),
                columns: budget_columns(("account_code", "Kode Rekening"), ("name", "Uraian")),
                rows,
                totals: None,
            },
            structure,
            activities,
            sources,
        ],
        extra,
    })
}

pub fn source_name(code: &str) -> &'static str {
    match code {
        "DDS" => "Dana Desa",
        "ADD" => "Alokasi Dana Desa",
        "PBH" => "Bagi Hasil Pajak dan Retribusi",
        "PAD" => "Pendapatan Asli Desa",
        "PBP" => "Bantuan Keuangan Provinsi",
        "PBK" => "Bantuan Keuangan Kabupaten/Kota",
        "SWD" => "Swadaya Masyarakat",
        "DLL" => "Lain-lain",
        _ => "",
    }
}
