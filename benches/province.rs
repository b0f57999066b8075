//! The province-sized dataset of issue #16 and its figures: V villages (default 5,000) in regencies of R (default
//! 300), each with an adopted APBDes and a year of journal (about L ledger lines a village, default 2,000: 10 million
//! entries in all), built directly in PostgreSQL; then the village books, the transaction list, chain verification
//! of one village, the regency realisation and the anomaly scan of one regency are timed on it. Not a test: it prints
//! the figures docs/scaling.md quotes.
//!
//!   KASDESA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kasdesa_province cargo bench --bench province
//!   KASDESA_PROVINCE_VILLAGES=5000 KASDESA_PROVINCE_REGENCY=300 KASDESA_PROVINCE_LINES=2000
//!   KASDESA_PROVINCE_SAMPLE=100 (villages whose books are timed)   KASDESA_PROVINCE_REUSE=1 (keep a built database)
//!
//! How it is built, and why it can be trusted: regencies, villages (with the annex's chart) and budgets go through
//! the store, as the API would write them (so their chained facts are real). The journal is generated here, a
//! village at a time: receipts of Dana Desa, ADD, tax shares and own revenue, salaries every month, purchases with
//! PPN and PPh withheld, cash drawn and spent within the cash limit, the withheld tax deposited by the 10th of the
//! next month. Each transaction is hashed with the store's own `transaction_hash` onto the village's chain after its
//! budget facts, and the village's balances, daily totals, budget positions and chain head are written from the same
//! entries in the same database transaction. The timing phase then runs the real `verify_chain` on every sampled
//! village and stops if one does not verify: a generated village that does not verify is a bug of this generator.
//!
//! What the dataset does not hold: payment requests and their trails (the journal's disbursements carry no request;
//! the approval chain is what the load generator drives, at regency scale), bank credits and statements. So the SPP
//! register and the approval trail are timed on empty registers.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Date, Text};
use kasdesa::domain::accounts::{Side, BANK_ACCOUNT, CASH_IN_HAND};
use kasdesa::domain::chain::GENESIS;
use kasdesa::domain::ids::{TransactionId, VillageId};
use kasdesa::domain::money::Money;
use kasdesa::domain::posting::TxnKind;
use kasdesa::reports::anomalies::AnomalyRules;
use kasdesa::reports::regency;
use kasdesa::reports::village::{self as books, Period};
use kasdesa::store::rows::{EntryRow, TransactionRow, VillageRow};
use kasdesa::store::schema::{entries, transactions};
use kasdesa::store::{now_micros, transaction_hash, BudgetLineInput, Db, PoolOptions, TxnQuery};
use std::collections::BTreeMap;
use std::time::Instant;

const YEAR: i32 = 2026;
/// Rupiah in sen.
const RP: i64 = 100;
/// The most a village holds in cash (the regency's limit in this dataset).
const CASH_LIMIT: i64 = 10_000_000 * RP;

/// Revenue lines: (account, source, ceiling in rupiah).
const REVENUE: &[(&str, &str, i64)] = &[
    ("4.2.1.01", "DDS", 700_000_000),
    ("4.2.3.01", "ADD", 420_000_000),
    ("4.2.2.01", "PBH", 60_000_000),
    ("4.1.4.01", "PAD", 25_000_000),
];

#[derive(Clone, Copy, PartialEq)]
enum Pattern {
    /// Paid every month to this many people, from the bank, without withholding (PPh 21 below the threshold).
    Monthly(i64),
    /// Bought in small amounts from cash in hand.
    Cash,
    /// Goods from a vendor through the bank: PPN and PPh 22 withheld.
    Goods,
    /// Services through the bank: PPh 23 withheld.
    Services,
}

/// Spending lines: (account, activity as the API writes it, source, ceiling in rupiah, how it is spent). Sub-bidang
/// 1.1 (the officials' pay and the office's running costs) stays under its 30% cap, as a village's APBDes must.
const SPENDING: &[(&str, &str, &str, i64, Pattern)] = &[
    ("5.1.1.01", "01.01.01", "ADD", 36_000_000, Pattern::Monthly(1)),
    ("5.1.1.02", "01.01.01", "ADD", 12_000_000, Pattern::Monthly(1)),
    ("5.1.2.01", "01.01.02", "ADD", 90_000_000, Pattern::Monthly(6)),
    ("5.1.2.02", "01.01.02", "ADD", 36_000_000, Pattern::Monthly(6)),
    ("5.1.4.01", "01.01.05", "ADD", 30_000_000, Pattern::Monthly(5)),
    ("5.2.2.02", "01.01.04", "ADD", 24_000_000, Pattern::Monthly(2)),
    ("5.2.1.01", "01.01.04", "ADD", 20_000_000, Pattern::Cash),
    ("5.2.1.04", "01.01.04", "ADD", 12_000_000, Pattern::Cash),
    ("5.3.2.03", "01.02.01", "ADD", 30_000_000, Pattern::Goods),
    ("5.2.2.01", "02.02.02", "PBH", 45_000_000, Pattern::Monthly(10)),
    ("5.2.1.06", "02.02.02", "DDS", 40_000_000, Pattern::Cash),
    ("5.2.1.07", "02.03.10", "DDS", 330_000_000, Pattern::Goods),
    ("5.2.2.01", "02.03.10", "DDS", 60_000_000, Pattern::Services),
    ("5.2.1.07", "02.02.09", "DDS", 150_000_000, Pattern::Goods),
    ("5.2.2.01", "02.01.01", "DDS", 48_000_000, Pattern::Monthly(4)),
    ("5.2.1.03", "01.01.04", "PAD", 20_000_000, Pattern::Cash),
];

const PPN: &str = "2.1.3.01";
const PPH22: &str = "2.1.3.03";
const PPH23: &str = "2.1.3.04";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// SplitMix64: a small deterministic generator, so a village's year is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// A day of the year between the two (inclusive).
    fn day(&mut self, from: NaiveDate, to: NaiveDate) -> NaiveDate {
        from + chrono::Duration::days(self.below((to - from).num_days() as u64 + 1) as i64)
    }
}

fn date(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(YEAR, m, d).expect("a valid date")
}

/// One line of a generated transaction: (account, side, amount in sen, activity, source).
type Line = (&'static str, Side, i64, Option<&'static str>, Option<&'static str>);

struct Event {
    date: NaiveDate,
    kind: TxnKind,
    description: String,
    lines: Vec<Line>,
}

impl Event {
    fn new(date: NaiveDate, kind: TxnKind, description: String, lines: Vec<Line>) -> Event {
        debug_assert_eq!(
            lines.iter().filter(|l| l.1 == Side::Debit).map(|l| l.2).sum::<i64>(),
            lines.iter().filter(|l| l.1 == Side::Credit).map(|l| l.2).sum::<i64>(),
            "a generated transaction balances"
        );
        Event { date, kind, description, lines }
    }
    fn bank_delta(&self) -> i64 {
        self.delta(BANK_ACCOUNT)
    }
    fn cash_delta(&self) -> i64 {
        self.delta(CASH_IN_HAND)
    }
    fn delta(&self, account: &str) -> i64 {
        self.lines.iter().filter(|l| l.0 == account).map(|l| if l.1 == Side::Debit { l.2 } else { -l.2 }).sum()
    }
}

/// Whole rupiah.
fn rp(sen: i64) -> i64 {
    sen / RP * RP
}

/// A village's year, in date order, about `lines` ledger lines long; spending on each line stays within 95% of its
/// ceiling, the bank account never goes below zero and cash never above the limit.
fn village_year(seed: u64, lines: usize) -> Vec<Event> {
    let mut rng = Rng(seed);
    let mut planned: Vec<Event> = Vec::new();
    // Revenue into the bank: Dana Desa in three tranches, ADD monthly, the tax share quarterly.
    for (m, share) in [(1, 40), (4, 40), (8, 20)] {
        let amount = REVENUE[0].2 * RP * share / 100;
        let d = rng.day(date(m, 10), date(m, 25));
        planned.push(receipt(d, REVENUE[0], amount, BANK_ACCOUNT, "Penerimaan Dana Desa tahap"));
    }
    for m in 1..=11 {
        let d = rng.day(date(m, 1), date(m, 8));
        planned.push(receipt(d, REVENUE[1], REVENUE[1].2 * RP / 12, BANK_ACCOUNT, "Penerimaan ADD bulan"));
    }
    for m in [3, 6, 9] {
        let d = rng.day(date(m, 15), date(m, 28));
        planned.push(receipt(d, REVENUE[2], REVENUE[2].2 * RP / 4, BANK_ACCOUNT, "Bagi hasil pajak dan retribusi"));
    }
    // Own revenue (market fees, rents) in cash, taken to the bank at the end of each month.
    for m in 1..=11 {
        let mut month = 0;
        for _ in 0..3 {
            let amount = rp((150_000 + rng.below(600_000) as i64) * RP);
            month += amount;
            let d = rng.day(date(m, 1), date(m, 25));
            planned.push(receipt(d, REVENUE[3], amount, CASH_IN_HAND, "Pendapatan asli desa"));
        }
        planned.push(Event::new(
            date(m, 27),
            TxnKind::Transfer,
            "Setoran pendapatan asli desa ke rekening kas desa".into(),
            vec![(BANK_ACCOUNT, Side::Debit, month, None, None), (CASH_IN_HAND, Side::Credit, month, None, None)],
        ));
    }
    // Fixed lines of the year so far; the purchases fill the rest of the target.
    let monthly_payees: i64 = SPENDING.iter().map(|s| if let Pattern::Monthly(n) = s.4 { n } else { 0 }).sum();
    let fixed = planned.len() * 2 + (monthly_payees as usize) * 11 * 2 + 120 * 2 + 30 * 2 + 11 * 4;
    let purchases = (lines.saturating_sub(fixed) / 4).max(10);
    let goods: Vec<usize> = (0..SPENDING.len()).filter(|&i| SPENDING[i].4 == Pattern::Goods).collect();
    let goods_ceiling: i64 = goods.iter().map(|&i| SPENDING[i].3).sum();
    for &(account, activity, source, ceiling, pattern) in SPENDING {
        let budget = ceiling * RP * 95 / 100;
        let spend = |rng: &mut Rng, d: NaiveDate, amount: i64, planned: &mut Vec<Event>| {
            let name = kasdesa::domain::catalogue::catalogue()
                .account(account)
                .map_or(account.to_string(), |a| a.name.clone());
            planned.push(disbursement(d, (account, activity, source), amount, pattern, name, rng));
        };
        match pattern {
            Pattern::Monthly(n) => {
                let each = rp(budget / 11 / n);
                for m in 1..=11 {
                    let d = rng.day(date(m, 20), date(m, 28));
                    for _ in 0..n {
                        spend(&mut rng, d, each, &mut planned);
                    }
                }
            }
            Pattern::Cash => {
                // 120 cash purchases in all, shared by the cash lines.
                let count = 30;
                let each = rp(budget / count);
                for _ in 0..count {
                    let d = rng.day(date(2, 1), date(11, 30));
                    spend(&mut rng, d, each, &mut planned);
                }
            }
            Pattern::Goods => {
                let count = (purchases as i64 * ceiling / goods_ceiling).max(1);
                let each = rp(budget / count);
                for _ in 0..count {
                    let d = rng.day(date(2, 1), date(11, 30));
                    spend(&mut rng, d, each, &mut planned);
                }
            }
            Pattern::Services => {
                let count = 30;
                let each = rp(budget / count);
                for _ in 0..count {
                    let d = rng.day(date(2, 1), date(11, 30));
                    spend(&mut rng, d, each, &mut planned);
                }
            }
        }
    }
    planned.sort_by_key(|e| e.date);

    // Walk the year: draw cash from the bank when a cash purchase needs it, skip what the bank cannot pay, deposit
    // each month's withheld tax by the 10th of the next.
    let mut out = Vec::with_capacity(planned.len() + 40);
    let (mut bank, mut cash) = (0i64, 0i64);
    let mut withheld: BTreeMap<(u32, &'static str), i64> = BTreeMap::new();
    let mut deposited_for = 0u32;
    for e in planned {
        // Deposit each month's withheld tax on the 10th of the next, once the walk reaches that day.
        while deposited_for < 11 && date(deposited_for + 2, 10) <= e.date {
            deposited_for += 1;
            let owed: Vec<(&'static str, i64)> =
                withheld.iter().filter(|((m, _), _)| *m == deposited_for).map(|((_, a), v)| (*a, *v)).collect();
            let total: i64 = owed.iter().map(|o| o.1).sum();
            if total > 0 && total <= bank {
                let mut lines: Vec<Line> = owed.iter().map(|&(a, v)| (a, Side::Debit, v, None, None)).collect();
                lines.push((BANK_ACCOUNT, Side::Credit, total, None, None));
                let d = date(deposited_for + 1, 10);
                out.push(Event::new(
                    d,
                    TxnKind::TaxDeposit,
                    format!("Setoran pajak masa {deposited_for}/{YEAR}"),
                    lines,
                ));
                bank -= total;
            }
        }
        let need_cash = -e.cash_delta();
        if e.kind == TxnKind::Disbursement && need_cash > 0 && cash < need_cash {
            let draw = (CASH_LIMIT - cash).min(bank);
            if draw + cash < need_cash {
                continue;
            }
            out.push(Event::new(
                e.date,
                TxnKind::Transfer,
                "Penarikan dari rekening kas desa ke kas tunai".into(),
                vec![(CASH_IN_HAND, Side::Debit, draw, None, None), (BANK_ACCOUNT, Side::Credit, draw, None, None)],
            ));
            bank -= draw;
            cash += draw;
        }
        if bank + e.bank_delta() < 0 || cash + e.cash_delta() < 0 || cash + e.cash_delta() > CASH_LIMIT {
            continue;
        }
        bank += e.bank_delta();
        cash += e.cash_delta();
        for l in &e.lines {
            if l.0.starts_with("2.1.3.") {
                *withheld.entry((e.date.month(), l.0)).or_insert(0) += l.2;
            }
        }
        out.push(e);
    }
    debug_assert!(out.windows(2).all(|w| w[0].date <= w[1].date), "the walk keeps date order");
    out
}

fn receipt(
    d: NaiveDate,
    line: (&'static str, &'static str, i64),
    amount: i64,
    into: &'static str,
    what: &str,
) -> Event {
    Event::new(
        d,
        TxnKind::Receipt,
        format!("{what} {}", d.format("%m/%Y")),
        vec![(into, Side::Debit, amount, None, None), (line.0, Side::Credit, amount, None, Some(line.1))],
    )
}

fn disbursement(
    d: NaiveDate,
    (account, activity, source): (&'static str, &'static str, &'static str),
    gross: i64,
    pattern: Pattern,
    name: String,
    rng: &mut Rng,
) -> Event {
    let mut lines: Vec<Line> = vec![(account, Side::Debit, gross, Some(activity), Some(source))];
    let from = if pattern == Pattern::Cash { CASH_IN_HAND } else { BANK_ACCOUNT };
    let mut net = gross;
    match pattern {
        Pattern::Goods if gross >= 2_000_000 * RP => {
            // PPN within the price (11/111), PPh 22 at 1.5% of the price before PPN.
            let ppn = rp(gross * 11 / 111);
            let pph = rp((gross - ppn) * 15 / 1000);
            lines.push((PPN, Side::Credit, ppn, None, None));
            lines.push((PPH22, Side::Credit, pph, None, None));
            net -= ppn + pph;
        }
        Pattern::Services => {
            let pph = rp(gross * 2 / 100);
            lines.push((PPH23, Side::Credit, pph, None, None));
            net -= pph;
        }
        _ => {}
    }
    lines.push((from, Side::Credit, net, None, None));
    let ref_no = rng.below(9000) + 1000;
    Event::new(d, TxnKind::Disbursement, format!("{name} (kuitansi {ref_no})"), lines)
}

fn budget_lines() -> Vec<BudgetLineInput> {
    let money = |rupiah: i64| Money::from_sen(rupiah * RP).expect("in range");
    let mut out: Vec<BudgetLineInput> = REVENUE
        .iter()
        .map(|&(account, source, ceiling)| BudgetLineInput {
            account_code: account.into(),
            activity_code: String::new(),
            activity_name: None,
            source: source.into(),
            ceiling: money(ceiling),
        })
        .collect();
    out.extend(SPENDING.iter().map(|&(account, activity, source, ceiling, _)| BudgetLineInput {
        account_code: account.into(),
        activity_code: activity.into(),
        activity_name: None,
        source: source.into(),
        ceiling: money(ceiling),
    }));
    out
}

/// Writes a village's generated year onto its chain, with every figure the store keeps beside the journal, in one
/// database transaction.
fn write_year(c: &mut PgConnection, v: &VillageRow, year: &[Event]) -> anyhow::Result<usize> {
    let mut txns = Vec::with_capacity(year.len());
    let mut lines = Vec::with_capacity(year.len() * 3);
    let (mut seq, mut chain_seq, mut head) = (v.last_seq, v.chain_len, v.chain_head.clone());
    let mut balances: BTreeMap<&str, i64> = BTreeMap::new();
    let mut daily: BTreeMap<(&str, NaiveDate), (i64, i64)> = BTreeMap::new();
    let mut realised: BTreeMap<(&str, &str, &str), i64> = BTreeMap::new();
    for (i, e) in year.iter().enumerate() {
        seq += 1;
        chain_seq += 1;
        let id = TransactionId::new();
        // Recorded in the afternoon of its day, a second apart, in UTC (as the store records).
        let created_at: NaiveDateTime =
            e.date.and_hms_opt(6, 0, 0).expect("valid") + chrono::Duration::seconds(i as i64);
        let rows: Vec<EntryRow> = e
            .lines
            .iter()
            .enumerate()
            .map(|(n, l)| EntryRow {
                transaction_id: id.clone(),
                line_no: n as i32 + 1,
                village_id: v.id.clone(),
                account_code: l.0.into(),
                side: l.1,
                amount: l.2,
                activity_code: l.3.map(Into::into),
                source: l.4.map(Into::into),
                value_date: e.date,
            })
            .collect();
        let mut t = TransactionRow {
            id,
            village_id: v.id.clone(),
            seq,
            chain_seq,
            fiscal_year: YEAR,
            kind: e.kind,
            value_date: e.date,
            description: e.description.clone(),
            reverses: None,
            payment_id: None,
            bank_reference: None,
            created_by: "province-generator".into(),
            created_at,
            prev_hash: head.clone(),
            hash: String::new(),
        };
        t.hash = transaction_hash(&t, &rows);
        head = t.hash.clone();
        for l in &e.lines {
            let signed = if l.1 == Side::Debit { l.2 } else { -l.2 };
            *balances.entry(l.0).or_insert(0) += signed;
            let d = daily.entry((l.0, e.date)).or_insert((0, 0));
            if l.1 == Side::Debit {
                d.0 += l.2
            } else {
                d.1 += l.2
            }
            if let (Some(activity), Some(source)) = (l.3, l.4) {
                *realised.entry((l.0, activity, source)).or_insert(0) += signed;
            }
        }
        txns.push(t);
        lines.extend(rows);
    }
    c.transaction(|c| {
        for chunk in txns.chunks(2000) {
            diesel::insert_into(transactions::table).values(chunk).execute(c)?;
        }
        for chunk in lines.chunks(3000) {
            diesel::insert_into(entries::table).values(chunk).execute(c)?;
        }
        let (codes, sums): (Vec<String>, Vec<i64>) = balances.iter().map(|(k, v)| (k.to_string(), *v)).unzip();
        diesel::sql_query(
            "UPDATE accounts a SET balance = a.balance + u.delta FROM unnest($1::text[], $2::int8[]) AS u(code, delta)
             WHERE a.village_id = $3 AND a.code = u.code",
        )
        .bind::<Array<Text>, _>(&codes)
        .bind::<Array<BigInt>, _>(&sums)
        .bind::<Text, _>(v.id.as_str())
        .execute(c)?;
        let mut cols: (Vec<String>, Vec<NaiveDate>, Vec<i64>, Vec<i64>) = Default::default();
        for ((code, d), (dr, cr)) in &daily {
            cols.0.push(code.to_string());
            cols.1.push(*d);
            cols.2.push(*dr);
            cols.3.push(*cr);
        }
        diesel::sql_query(
            "INSERT INTO account_daily (village_id, account_code, value_date, debit, credit)
             SELECT $1, u.code, u.d, u.dr, u.cr FROM unnest($2::text[], $3::date[], $4::int8[], $5::int8[]) AS u(code, d, dr, cr)",
        )
        .bind::<Text, _>(v.id.as_str())
        .bind::<Array<Text>, _>(&cols.0)
        .bind::<Array<Date>, _>(&cols.1)
        .bind::<Array<BigInt>, _>(&cols.2)
        .bind::<Array<BigInt>, _>(&cols.3)
        .execute(c)?;
        let mut keys: (Vec<String>, Vec<String>, Vec<String>, Vec<i64>) = Default::default();
        for ((a, act, src), amount) in &realised {
            keys.0.push(a.to_string());
            keys.1.push(act.to_string());
            keys.2.push(src.to_string());
            keys.3.push(*amount);
        }
        let moved = diesel::sql_query(
            "UPDATE budget_positions p SET realised = p.realised + u.amount
             FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[]) AS u(account, activity, source, amount)
             WHERE p.village_id = $5 AND p.year = $6 AND p.account_code = u.account AND p.activity_code = u.activity
               AND p.source = u.source",
        )
        .bind::<Array<Text>, _>(&keys.0)
        .bind::<Array<Text>, _>(&keys.1)
        .bind::<Array<Text>, _>(&keys.2)
        .bind::<Array<BigInt>, _>(&keys.3)
        .bind::<Text, _>(v.id.as_str())
        .bind::<diesel::sql_types::Integer, _>(YEAR)
        .execute(c)?;
        anyhow::ensure!(moved == realised.len(), "every spending key has its budget position ({moved} of {})", realised.len());
        diesel::sql_query("UPDATE villages SET last_seq = $1, chain_len = $2, chain_head = $3 WHERE id = $4")
            .bind::<BigInt, _>(seq)
            .bind::<BigInt, _>(chain_seq)
            .bind::<Text, _>(&head)
            .bind::<Text, _>(v.id.as_str())
            .execute(c)?;
        Ok(lines.len())
    })
}

fn build(url: &str, villages: usize, per_regency: usize, lines: usize) -> anyhow::Result<()> {
    let (server, name) = url.rsplit_once('/').expect("a database name in the URL");
    let mut admin = PgConnection::establish(&format!("{server}/postgres"))?;
    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    admin.batch_execute(&format!("CREATE DATABASE {name}"))?;
    // Building is not what is measured: no flush per commit while it runs (reset before the timings).
    admin.batch_execute(&format!("ALTER DATABASE {name} SET synchronous_commit = off"))?;
    let db = Db::connect(url, &PoolOptions { max_connections: 4, ..PoolOptions::default() })?;
    let regencies = villages.div_ceil(per_regency);
    let mut regency_ids = Vec::new();
    for r in 0..regencies {
        let row = db.create_regency(&format!("63.{:02}", r + 1), &format!("Kabupaten Uji {:02}", r + 1), 420, None)?;
        regency_ids.push(row.id);
    }
    let started = Instant::now();
    let budget = budget_lines();
    let workers = env("KASDESA_PROVINCE_WORKERS", 3);
    let written = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| -> anyhow::Result<()> {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let (db, budget, regency_ids, written) = (&db, &budget, &regency_ids, &written);
                s.spawn(move || -> anyhow::Result<()> {
                    let mut c = PgConnection::establish(url)?;
                    for i in (w..villages).step_by(workers) {
                        let (r, j) = (i / per_regency, i % per_regency);
                        let v = db.create_village(
                            VillageRow {
                                id: VillageId::new(),
                                regency_id: regency_ids[r].clone(),
                                code: format!("63.{:02}.{:02}.{:04}", r + 1, j / 20 + 1, 2001 + j),
                                name: format!("Desa Uji {}-{}", r + 1, j + 1),
                                bank_account: format!("10{:08}", i),
                                cash_limit: CASH_LIMIT,
                                last_seq: 0,
                                chain_len: 0,
                                chain_head: GENESIS.into(),
                                created_at: now_micros(),
                            },
                            "province-generator",
                        )?;
                        db.put_budget_draft(v.id.as_str(), YEAR, budget, "province-generator")?;
                        db.adopt_budget(v.id.as_str(), YEAR, "province-generator")?;
                        let v = db.get_village(v.id.as_str())?.expect("the village just made");
                        let n = write_year(&mut c, &v, &village_year(i as u64 + 1, lines))?;
                        let total = written.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
                        if (i + 1) % 250 == 0 {
                            eprintln!(
                                "  {} villages, {total} entries, {:.0} s",
                                i + 1,
                                started.elapsed().as_secs_f64()
                            );
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().expect("a generator thread")?;
        }
        Ok(())
    })?;
    admin.batch_execute(&format!("ALTER DATABASE {name} RESET synchronous_commit"))?;
    PgConnection::establish(url)?.batch_execute("ANALYZE")?;
    println!(
        "built {villages} villages in {regencies} regencies: {} entries in {:.0} s",
        written.into_inner(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Percentiles of timings in milliseconds.
fn summary(times: &mut [f64]) -> String {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    format!("p50 {:7.1} · p99 {:7.1} · max {:7.1} ms (n={})", at(0.5), at(0.99), times[times.len() - 1], times.len())
}

fn timed<T>(f: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(T, f64)> {
    let t = Instant::now();
    let out = f()?;
    Ok((out, t.elapsed().as_secs_f64() * 1000.0))
}

fn main() -> anyhow::Result<()> {
    let url = std::env::var("KASDESA_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/kasdesa_province".into());
    anyhow::ensure!(url.starts_with("postgres"), "the province dataset is built in PostgreSQL");
    let villages = env("KASDESA_PROVINCE_VILLAGES", 5000);
    let per_regency = env("KASDESA_PROVINCE_REGENCY", 300);
    let lines = env("KASDESA_PROVINCE_LINES", 2000);
    let sample = env("KASDESA_PROVINCE_SAMPLE", 100).min(villages);
    let reuse = std::env::var("KASDESA_PROVINCE_REUSE").is_ok_and(|v| v == "1");
    let existing = if reuse {
        Db::connect(&url, &PoolOptions::default())
            .and_then(|db| Ok(db.list_villages(kasdesa::store::VillageFilter::All)?.len()))
            .unwrap_or(0)
    } else {
        0
    };
    if existing == villages {
        println!("reusing the {villages} villages in {url}");
    } else {
        build(&url, villages, per_regency, lines)?;
    }

    let db = Db::connect(&url, &PoolOptions::default())?;
    let all = db.list_villages(kasdesa::store::VillageFilter::All)?;
    let mut size = PgConnection::establish(&url)?;
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let count = |c: &mut PgConnection, sql: &str| -> anyhow::Result<i64> {
        Ok(diesel::sql_query(sql).get_result::<Count>(c)?.n)
    };
    println!(
        "dataset: {} villages · {} transactions · {} entries · database {} MB",
        all.len(),
        count(&mut size, "SELECT count(*) AS n FROM transactions")?,
        count(&mut size, "SELECT count(*) AS n FROM entries")?,
        count(&mut size, "SELECT pg_database_size(current_database()) / 1048576 AS n")?
    );

    // The sampled villages, spread over the province; each is verified first.
    let step = (all.len() / sample.max(1)).max(1);
    let picked: Vec<&VillageRow> = all.iter().step_by(step).take(sample).collect();
    let period = Period::new(YEAR, None, None).map_err(anyhow::Error::msg)?;
    let to = date(12, 31);
    type Book = fn(&Db, &VillageRow, &Period) -> Result<kasdesa::reports::table::Report, kasdesa::store::StoreError>;
    let named: &[(&str, Book)] = &[
        ("cash book (BKU)", books::cash_book),
        ("bank book", books::bank_book),
        ("tax book", books::tax_book),
        ("realisation", books::realisation),
        ("activities book", books::activities_book),
        ("advances book", books::advances_book),
        ("SPP register", books::spp_register),
        ("reconciliation", books::reconciliation),
        ("wealth (LPJ)", books::wealth),
    ];
    let mut times: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut worst: Vec<f64> = Vec::new();
    for v in &picked {
        let (report, ms) = timed(|| Ok(db.verify_chain(v.id.as_str(), None)?))?;
        anyhow::ensure!(report.ok, "village {} does not verify: {}", v.code, serde_json::to_string(&report)?);
        times.entry("verify chain").or_default().push(ms);
        for (name, book) in named {
            let (_, ms) = timed(|| Ok(book(&db, v, &period)?.to_json()))?;
            times.entry(name).or_default().push(ms);
            worst.push(ms);
        }
        let (_, ms) = timed(|| Ok(books::trial_balance(&db, v, to)?.to_json()))?;
        times.entry("trial balance").or_default().push(ms);
        worst.push(ms);
        let (_, ms) = timed(|| Ok(books::general_ledger(&db, v, BANK_ACCOUNT, &period)?.to_json()))?;
        times.entry("general ledger 1.1.1.02").or_default().push(ms);
        worst.push(ms);
        let q = |after_seq| TxnQuery { from: None, to: None, account: None, payment_id: None, after_seq, limit: 100 };
        let (_, ms) = timed(|| Ok(db.list_transactions(v.id.as_str(), &q(0))?))?;
        times.entry("transactions, first page").or_default().push(ms);
        worst.push(ms);
        let (_, ms) = timed(|| Ok(db.list_transactions(v.id.as_str(), &q(v.last_seq / 2))?))?;
        times.entry("transactions, a middle page").or_default().push(ms);
        worst.push(ms);
    }
    println!("per village, {} villages sampled across the province:", picked.len());
    for (name, t) in times.iter_mut() {
        println!("  {name:28} {}", summary(t));
    }
    println!("  {:28} {}", "every village read above", summary(&mut worst));

    let regency = db.list_regencies()?.into_iter().next().expect("a regency");
    let in_regency = db.list_villages(kasdesa::store::VillageFilter::Regency(&regency.id))?.len();
    let runs = env("KASDESA_BENCH_RUNS", 5);
    let mut t = Vec::new();
    for _ in 0..runs {
        t.push(timed(|| Ok(regency::realisation(&db, &regency, &period)?.to_json()))?.1);
    }
    println!("regency realisation ({in_regency} villages):  {}", summary(&mut t));
    let (rules, tax) = (AnomalyRules::default(), kasdesa::domain::tax::TaxRules::default());
    let anchor = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    let book = regency::Rulebook { anomalies: &rules, tax: &tax, anchor: &anchor };
    let (report, ms) = timed(|| Ok(regency::anomalies(&db, &regency, &period, date(12, 1), &book)?.to_json()))?;
    let items = report["items"].as_array().cloned().unwrap_or_default();
    let mut rules: BTreeMap<String, usize> = BTreeMap::new();
    for item in &items {
        *rules.entry(item["rule"].as_str().unwrap_or("?").to_string()).or_insert(0) += 1;
    }
    println!("anomaly scan ({in_regency} villages, each verified): {ms:.0} ms, {} flags {rules:?}", items.len());
    Ok(())
}
