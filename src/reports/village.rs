//! The village books and statements (Permendagri 20/2018 and 113/2014 layouts as Siskeudes keeps them).

use super::table::{col, percent, Cell, Column, Kind, Report, Section};
use crate::domain::accounts::{class_of_code, AccountClass, BANK_ACCOUNT, CASH_IN_HAND, TAXES};
use crate::store::rows::VillageRow;
use crate::store::{Db, LedgerLine, StoreError};
use chrono::{Datelike, NaiveDate};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};

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

fn meta(v: &VillageRow, p: &Period) -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("village_id", "ID Desa", v.id.clone()),
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

fn voucher(l: &LedgerLine) -> String {
    l.bank_reference.clone().unwrap_or_else(|| format!("#{}", l.seq))
}

/// Buku Kas Umum: every transaction that moves the treasury's money (bank or cash), one row per counter entry —
/// a payment shows its gross as spending and each tax withheld as a receipt, as Permendagri's BKU does — with the
/// cumulative spending and the running balance.
pub fn cash_book(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let opening_map = balances_at(db, &v.id, p.day_before_start())?;
    let opening = opening_map.get(CASH_IN_HAND).unwrap_or(&0) + opening_map.get(BANK_ACCOUNT).unwrap_or(&0);
    let lines = db.cash_counter_lines(&v.id, p.from, p.to)?;
    let columns = vec![
        col("no", "No", Kind::Int),
        col("date", "Tanggal", Kind::Date),
        col("account_code", "Kode Rekening", Kind::Text),
        col("description", "Uraian", Kind::Text),
        col("receipts", "Penerimaan", Kind::Money),
        col("payments", "Pengeluaran", Kind::Money),
        col("voucher", "No Bukti", Kind::Text),
        col("cumulative_payments", "Jumlah Pengeluaran Kumulatif", Kind::Money),
        col("balance", "Saldo", Kind::Money),
    ];
    let mut rows = vec![vec![
        Cell::Empty,
        Cell::Date(p.from),
        Cell::Empty,
        Cell::text("Saldo awal"),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Money(0),
        Cell::Money(opening),
    ]];
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
            if inflow > 0 { Cell::Money(inflow) } else { Cell::Empty },
            if outflow > 0 { Cell::Money(outflow) } else { Cell::Empty },
            Cell::text(voucher(l)),
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
    extra.insert("opening_balance".into(), json!(crate::domain::money::Amount(opening).to_string()));
    extra.insert("closing_balance".into(), json!(crate::domain::money::Amount(balance).to_string()));
    Ok(Report {
        key: "cash_book",
        title: "Buku Kas Umum".into(),
        meta: meta(v, p),
        sections: vec![Section {
            key: "entries",
            title: format!("BKU {}", p.label()),
            columns,
            rows,
            totals: Some(totals),
        }],
        extra,
    })
}

/// Buku Bank: every movement of the village bank account, receipts split into deposits and interest, payments into
/// withdrawals, taxes and bank charges.
pub fn bank_book(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let opening = *balances_at(db, &v.id, p.day_before_start())?.get(BANK_ACCOUNT).unwrap_or(&0);
    let lines = db.account_lines(&v.id, &[BANK_ACCOUNT], p.from, p.to)?;
    let ids: Vec<String> = lines.iter().map(|l| l.txn_id.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let touches = db.transaction_accounts(&ids)?;
    let columns = vec![
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
    ];
    let mut rows = vec![{
        let mut r = vec![Cell::Empty; 10];
        r[1] = Cell::Date(p.from);
        r[2] = Cell::text("Saldo awal");
        r[9] = Cell::Money(opening);
        r
    }];
    let mut sums = [0i64; 5];
    let mut balance = opening;
    for (i, l) in lines.iter().enumerate() {
        let accounts = touches.get(&l.txn_id);
        let has = |code: &str| accounts.is_some_and(|a| a.contains(code));
        let slot = if l.side == "debit" {
            if has("4.3.6.01") {
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
        };
        sums[slot] += l.amount;
        balance += l.signed();
        let mut r = vec![
            Cell::Int(i as i64 + 1),
            Cell::Date(l.value_date),
            Cell::text(&l.description),
            Cell::text(voucher(l)),
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
    extra.insert("opening_balance".into(), json!(crate::domain::money::Amount(opening).to_string()));
    extra.insert("closing_balance".into(), json!(crate::domain::money::Amount(balance).to_string()));
    Ok(Report {
        key: "bank_book",
        title: "Buku Bank".into(),
        meta: meta(v, p),
        sections: vec![Section {
            key: "entries",
            title: format!("Buku Bank {}", p.label()),
            columns,
            rows,
            totals: Some(totals),
        }],
        extra,
    })
}

/// Buku Pembantu Pajak: per tax, what was withheld and deposited, and the running balance owed.
pub fn tax_book(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let opening_map = balances_at(db, &v.id, p.day_before_start())?;
    let codes: Vec<&str> = TAXES.iter().map(|(_, a)| *a).collect();
    let lines = db.account_lines(&v.id, &codes, p.from, p.to)?;
    let columns = || {
        vec![
            col("no", "No", Kind::Int),
            col("date", "Tanggal", Kind::Date),
            col("description", "Uraian", Kind::Text),
            col("voucher", "Bukti", Kind::Text),
            col("withheld", "Pemotongan", Kind::Money),
            col("deposited", "Penyetoran", Kind::Money),
            col("balance", "Saldo", Kind::Money),
        ]
    };
    let mut sections = Vec::new();
    let mut summary_rows = Vec::new();
    let (mut s_open, mut s_with, mut s_dep, mut s_close) = (0i64, 0i64, 0i64, 0i64);
    for (tax, account) in TAXES {
        let opening = -opening_map.get(*account).unwrap_or(&0); // owed: credit-normal
        let mut balance = opening;
        let (mut withheld, mut deposited) = (0i64, 0i64);
        let mut rows = vec![vec![
            Cell::Empty,
            Cell::Date(p.from),
            Cell::text("Saldo awal"),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Money(opening),
        ]];
        for (i, l) in lines.iter().filter(|l| l.account_code == *account).enumerate() {
            let (w, d) = if l.side == "credit" { (l.amount, 0) } else { (0, l.amount) };
            withheld += w;
            deposited += d;
            balance += w - d;
            rows.push(vec![
                Cell::Int(i as i64 + 1),
                Cell::Date(l.value_date),
                Cell::text(&l.description),
                Cell::text(voucher(l)),
                if w > 0 { Cell::Money(w) } else { Cell::Empty },
                if d > 0 { Cell::Money(d) } else { Cell::Empty },
                Cell::Money(balance),
            ]);
        }
        summary_rows.push(vec![
            Cell::text(*tax),
            Cell::text(*account),
            Cell::Money(opening),
            Cell::Money(withheld),
            Cell::Money(deposited),
            Cell::Money(balance),
        ]);
        s_open += opening;
        s_with += withheld;
        s_dep += deposited;
        s_close += balance;
        sections.push(Section {
            key: match *tax {
                "PPN" => "ppn",
                "PPH21" => "pph21",
                "PPH22" => "pph22",
                "PPH23" => "pph23",
                _ => "pajak_daerah",
            },
            title: format!("{tax} ({account})"),
            columns: columns(),
            rows,
            totals: Some(vec![
                Cell::Empty,
                Cell::Empty,
                Cell::text("Jumlah"),
                Cell::Empty,
                Cell::Money(withheld),
                Cell::Money(deposited),
                Cell::Money(balance),
            ]),
        });
    }
    sections.insert(
        0,
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
            rows: summary_rows,
            totals: Some(vec![
                Cell::text("Jumlah"),
                Cell::Empty,
                Cell::Money(s_open),
                Cell::Money(s_with),
                Cell::Money(s_dep),
                Cell::Money(s_close),
            ]),
        },
    );
    Ok(Report {
        key: "tax_book",
        title: "Buku Pembantu Pajak".into(),
        meta: meta(v, p),
        sections,
        extra: Default::default(),
    })
}

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
}

/// Laporan Realisasi APBDes: per account with class sub-totals and surplus/deficit, by activity and by source.
pub fn realisation(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let chart: HashMap<String, String> = db.accounts(&v.id)?.into_iter().map(|a| (a.code, a.name)).collect();
    let positions = db.budget_positions(std::slice::from_ref(&v.id), p.year)?;
    let mut budget: BTreeMap<String, i64> = BTreeMap::new();
    for pos in &positions {
        *budget.entry(pos.account_code.clone()).or_insert(0) += pos.ceiling;
    }
    let mut realised: BTreeMap<String, i64> = BTreeMap::new();
    for (_, account, debit, credit) in db.period_totals(std::slice::from_ref(&v.id), Some(p.from), p.to)? {
        if let Some(class) = class_of_code(&account) {
            if matches!(
                class,
                AccountClass::Revenue
                    | AccountClass::Expenditure
                    | AccountClass::FinancingReceipt
                    | AccountClass::FinancingExpenditure
            ) {
                realised.insert(account, realised_amount(class, debit, credit));
            }
        }
    }
    let codes: BTreeSet<String> = budget.keys().chain(realised.keys()).cloned().collect();
    let mut rows = Vec::new();
    let mut figures = ClassFigures::default();
    for class in [
        AccountClass::Revenue,
        AccountClass::Expenditure,
        AccountClass::FinancingReceipt,
        AccountClass::FinancingExpenditure,
    ] {
        let (mut b, mut r) = (0i64, 0i64);
        for code in codes.iter().filter(|c| class_of_code(c) == Some(class)) {
            let (cb, cr) = (*budget.get(code).unwrap_or(&0), *realised.get(code).unwrap_or(&0));
            rows.push(budget_row(code, chart.get(code).map_or("", String::as_str), cb, cr));
            b += cb;
            r += cr;
        }
        figures.add(class, b, r);
        rows.push(budget_row("", class_heading(class), b, r));
        if class == AccountClass::Expenditure {
            let (sb, sr) = (figures.revenue.0 - figures.spending.0, figures.revenue.1 - figures.spending.1);
            rows.push(budget_row("", "Surplus/(Defisit)", sb, sr));
        }
    }
    let net_b = figures.financing_in.0 - figures.financing_out.0;
    let net_r = figures.financing_in.1 - figures.financing_out.1;
    rows.push(budget_row("", "Pembiayaan Netto", net_b, net_r));
    let silpa_b = figures.revenue.0 - figures.spending.0 + net_b;
    let silpa_r = figures.revenue.1 - figures.spending.1 + net_r;
    rows.push(budget_row("", "Sisa Lebih/(Kurang) Pembiayaan Anggaran (SiLPA)", silpa_b, silpa_r));

    // By activity and by source: the spending lines.
    let spent = db.spending_by_key(&v.id, p.from, p.to)?;
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
    for (_, activity, source, amount) in &spent {
        by_activity.entry(activity.clone().unwrap_or_else(|| "-".into())).or_insert((String::new(), 0, 0)).2 += amount;
        by_source.entry(source.clone().unwrap_or_else(|| "-".into())).or_insert((0, 0)).1 += amount;
    }
    let activity_rows: Vec<Vec<Cell>> =
        by_activity.iter().map(|(code, (name, b, r))| budget_row(code, name, *b, *r)).collect();
    let (ab, ar) = by_activity.values().fold((0, 0), |acc, (_, b, r)| (acc.0 + b, acc.1 + r));
    let source_rows: Vec<Vec<Cell>> =
        by_source.iter().map(|(code, (b, r))| budget_row(code, source_name(code), *b, *r)).collect();
    let (sb, sr) = by_source.values().fold((0, 0), |acc, (b, r)| (acc.0 + b, acc.1 + r));

    let mut extra = serde_json::Map::new();
    let amount = |x: i64| json!(crate::domain::money::Amount(x).to_string());
    extra.insert(
        "summary".into(),
        json!({
            "revenue": {"budget": amount(figures.revenue.0), "realised": amount(figures.revenue.1)},
            "spending": {"budget": amount(figures.spending.0), "realised": amount(figures.spending.1)},
            "surplus": {"budget": amount(figures.revenue.0 - figures.spending.0), "realised": amount(figures.revenue.1 - figures.spending.1)},
            "net_financing": {"budget": amount(net_b), "realised": amount(net_r)},
            "silpa": {"budget": amount(silpa_b), "realised": amount(silpa_r)},
        }),
    );
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

/// Neraca saldo: every account's balance at the end of a date, debit or credit, with equal totals.
pub fn trial_balance(db: &Db, v: &VillageRow, at: NaiveDate) -> Result<Report, StoreError> {
    let balances = balances_at(db, &v.id, Some(at))?;
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
            ("village_id", "ID Desa", v.id.clone()),
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
    let chart = db.accounts(&v.id)?;
    let a = chart.iter().find(|a| a.code == account).ok_or(StoreError::UnknownAccount(account.to_string()))?;
    let debit_normal = a.normal_side == "debit";
    let normal = |x: i64| if debit_normal { x } else { -x };
    let opening = normal(*balances_at(db, &v.id, p.day_before_start())?.get(account).unwrap_or(&0));
    let mut balance = opening;
    let (mut td, mut tc) = (0i64, 0i64);
    let mut rows = vec![vec![
        Cell::Empty,
        Cell::Date(p.from),
        Cell::text("Saldo awal"),
        Cell::Empty,
        Cell::Empty,
        Cell::Empty,
        Cell::Money(opening),
    ]];
    for (i, l) in db.account_lines(&v.id, &[account], p.from, p.to)?.iter().enumerate() {
        balance += normal(l.signed());
        let (d, c) = if l.side == "debit" { (l.amount, 0) } else { (0, l.amount) };
        td += d;
        tc += c;
        rows.push(vec![
            Cell::Int(i as i64 + 1),
            Cell::Date(l.value_date),
            Cell::text(&l.description),
            Cell::text(voucher(l)),
            if d > 0 { Cell::Money(d) } else { Cell::Empty },
            if c > 0 { Cell::Money(c) } else { Cell::Empty },
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

/// Bank reconciliation: statement lines against ledger entries on the bank account, matched by bank reference,
/// direction and amount; the unmatched on both sides.
pub fn reconciliation(db: &Db, v: &VillageRow, p: &Period) -> Result<Report, StoreError> {
    let statement = db.statement_lines(&v.id, p.from, p.to)?;
    let ledger = db.account_lines(&v.id, &[BANK_ACCOUNT], p.from, p.to)?;
    // Money into the account is a credit on the bank's statement and a debit in the village's books.
    let mut open: BTreeMap<(String, &str, i64), Vec<&LedgerLine>> = BTreeMap::new();
    for l in &ledger {
        let direction = if l.side == "debit" { "credit" } else { "debit" };
        let reference = l.bank_reference.clone().unwrap_or_default();
        open.entry((reference, direction, l.amount)).or_default().push(l);
    }
    let mut matched = Vec::new();
    let mut unmatched_statement = Vec::new();
    for s in &statement {
        let key = (s.bank_reference.clone(), s.direction.as_str(), s.amount);
        match open.get_mut(&key).and_then(|v| if v.is_empty() { None } else { Some(v.remove(0)) }) {
            Some(l) => matched.push(vec![
                Cell::Date(s.value_date),
                Cell::text(&s.bank_reference),
                Cell::text(&s.direction),
                Cell::Money(s.amount),
                Cell::Int(l.seq),
                Cell::Date(l.value_date),
            ]),
            None => unmatched_statement.push(vec![
                Cell::Date(s.value_date),
                Cell::text(&s.bank_reference),
                Cell::text(&s.direction),
                Cell::Money(s.amount),
            ]),
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
                Cell::text(if l.side == "debit" { "credit" } else { "debit" }),
                Cell::Money(l.amount),
                Cell::text(&l.description),
            ]
        })
        .collect();
    unmatched_ledger.sort_by_key(|r| if let Cell::Int(s) = r[0] { s } else { 0 });
    let statement_net: i64 = statement.iter().map(|s| if s.direction == "credit" { s.amount } else { -s.amount }).sum();
    let ledger_net: i64 = ledger.iter().map(LedgerLine::signed).sum();
    let mut extra = serde_json::Map::new();
    let amount = |x: i64| json!(crate::domain::money::Amount(x).to_string());
    extra.insert("statement_net".into(), amount(statement_net));
    extra.insert("ledger_net".into(), amount(ledger_net));
    extra.insert("difference".into(), amount(statement_net - ledger_net));
    extra.insert("reconciled".into(), json!(unmatched_ledger.is_empty() && unmatched_statement.is_empty()));
    Ok(Report {
        key: "reconciliation",
        title: "Rekonsiliasi Bank".into(),
        meta: meta(v, p),
        sections: vec![
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
                rows: matched,
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
                rows: unmatched_statement,
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
                rows: unmatched_ledger,
                totals: None,
            },
        ],
        extra,
    })
}

/// The approval trail of a payment request: every transition, who, in which role, when, with the note and hash.
pub fn approval_trail(rec: &crate::store::rows::PaymentRecord, village_code: &str) -> Report {
    let rows = rec
        .events
        .iter()
        .map(|e| {
            vec![
                Cell::Int(e.chain_seq),
                Cell::text(e.at.and_utc().to_rfc3339()),
                Cell::text(&e.action),
                Cell::opt(e.from_status.clone()),
                Cell::text(&e.to_status),
                Cell::text(&e.actor_name),
                Cell::text(&e.role),
                Cell::opt(e.note.clone()),
                Cell::text(&e.hash),
            ]
        })
        .collect();
    let p = &rec.payment;
    Report {
        key: "approval_trail",
        title: "Jejak Persetujuan SPP".into(),
        meta: vec![
            ("payment_id", "ID SPP", p.id.clone()),
            ("village_code", "Kode Desa", village_code.to_string()),
            ("description", "Uraian", p.description.clone()),
            ("gross", "Jumlah Bruto", crate::domain::money::Amount(p.gross).to_string()),
            ("net", "Jumlah Neto", crate::domain::money::Amount(p.net).to_string()),
            ("status", "Status", p.status.clone()),
        ],
        sections: vec![Section {
            key: "events",
            title: "Jejak".into(),
            columns: vec![
                col("chain_seq", "No Rantai", Kind::Int),
                col("at", "Waktu (UTC)", Kind::Text),
                col("action", "Tindakan", Kind::Text),
                col("from", "Dari Status", Kind::Text),
                col("to", "Ke Status", Kind::Text),
                col("actor", "Pelaku", Kind::Text),
                col("role", "Peran", Kind::Text),
                col("note", "Catatan", Kind::Text),
                col("hash", "Hash", Kind::Text),
            ],
            rows,
            totals: None,
        }],
        extra: Default::default(),
    }
}
