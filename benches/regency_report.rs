//! Times the regency realisation report over a generated regency: V villages (default 118) with T transactions
//! each (default 10,000), on SQLite or PostgreSQL. Not a test: it prints figures for docs/benchmarks.md.
//!
//!   cargo bench --bench regency_report                               # SQLite in a temp dir
//!   KASDESA_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/kasdesa_bench cargo bench --bench regency_report
//!   KASDESA_BENCH_VILLAGES=118 KASDESA_BENCH_TXNS=10000 KASDESA_BENCH_RUNS=10
//!
//! Villages, charts and budgets go through the store; the journal is generated in bulk by SQL (two entries per
//! transaction and the daily totals the reports read), since posting 1.18 million transactions one by one would
//! take an hour and measures something else (the load generator does that). The generated rows carry no valid
//! hashes: this data set is for timing reports, not for verifying chains.

use diesel::connection::SimpleConnection;
use diesel::Connection;
use kasdesa::reports::regency;
use kasdesa::reports::village::Period;
use kasdesa::store::rows::VillageRow;
use kasdesa::store::{now_micros, BudgetLineInput, Db, PoolOptions};
use std::time::Instant;

/// The same SQL on both backends once the transactions exist: two entries per transaction, their daily totals.
const ENTRIES_AND_TOTALS: &str = "
    INSERT INTO entries (transaction_id, line_no, village_id, account_code, side, amount, value_date)
    SELECT id, 1, village_id, CASE kind WHEN 'receipt' THEN '1.1.1.02' ELSE '5.2.1.07' END, 'debit', 100000 + seq % 1000, value_date FROM transactions;
    INSERT INTO entries (transaction_id, line_no, village_id, account_code, side, amount, value_date)
    SELECT id, 2, village_id, CASE kind WHEN 'receipt' THEN '4.2.1.01' ELSE '1.1.1.02' END, 'credit', 100000 + seq % 1000, value_date FROM transactions;
    INSERT INTO account_daily (village_id, account_code, value_date, debit, credit)
    SELECT village_id, account_code, value_date,
           SUM(CASE WHEN side = 'debit' THEN amount ELSE 0 END), SUM(CASE WHEN side = 'credit' THEN amount ELSE 0 END)
    FROM entries GROUP BY village_id, account_code, value_date;
    ANALYZE;";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    let villages = env("KASDESA_BENCH_VILLAGES", 118);
    let txns = env("KASDESA_BENCH_TXNS", 10_000);
    let runs = env("KASDESA_BENCH_RUNS", 10);
    let dir = tempfile::tempdir()?;
    let url = std::env::var("KASDESA_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let pg = url.starts_with("postgres");
    if pg {
        // A fresh database each run.
        let (server, name) = url.rsplit_once('/').expect("a database name in the URL");
        let mut c = diesel::PgConnection::establish(&format!("{server}/postgres"))?;
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
        c.batch_execute(&format!("CREATE DATABASE {name}"))?;
    }
    let db = Db::connect(&url, &PoolOptions::default())?;
    let regency = db.create_regency("61.12", "Kabupaten Kubu Raya", 420, None)?;
    let started = Instant::now();
    let budget = vec![
        BudgetLineInput {
            account_code: "4.2.1.01".into(),
            activity_code: String::new(),
            activity_name: None,
            source: "DDS".into(),
            ceiling: kasdesa::domain::money::Money::from_sen(200_000_000_000).expect("in range"),
        },
        BudgetLineInput {
            account_code: "5.2.1.07".into(),
            activity_code: "02.03.10".into(),
            activity_name: None,
            source: "DDS".into(),
            ceiling: kasdesa::domain::money::Money::from_sen(150_000_000_000).expect("in range"),
        },
    ];
    for i in 0..villages {
        let v = db.create_village(
            VillageRow {
                id: kasdesa::domain::ids::VillageId::new(),
                regency_id: regency.id.clone(),
                code: format!("61.12.{:02}.{:04}", i / 100, i),
                name: format!("Desa {i}"),
                bank_account: "1012345678".into(),
                cash_limit: 1_000_000_000,
                last_seq: 0,
                chain_len: 0,
                chain_head: kasdesa::domain::chain::GENESIS.into(),
                created_at: now_micros(),
            },
            "bench",
        )?;
        db.put_budget_draft(&v.id, 2026, &budget, "bench")?;
        db.adopt_budget(&v.id, 2026, "bench")?;
    }
    let sql = if pg {
        format!(
            "INSERT INTO transactions (id, village_id, seq, chain_seq, fiscal_year, kind, value_date, description, created_by, created_at, prev_hash, hash)
             SELECT v.id || '-' || g, v.id, g, g, 2026, CASE WHEN g % 2 = 0 THEN 'disbursement' ELSE 'receipt' END,
                    DATE '2026-01-01' + (g % 320), 'bench', 'bench', now(), '', ''
             FROM villages v CROSS JOIN generate_series(1, {txns}) g;
             {ENTRIES_AND_TOTALS}"
        )
    } else {
        format!(
            "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {txns})
             INSERT INTO transactions (id, village_id, seq, chain_seq, fiscal_year, kind, value_date, description, created_by, created_at, prev_hash, hash)
             SELECT v.id || '-' || n, v.id, n, n, 2026, CASE WHEN n % 2 = 0 THEN 'disbursement' ELSE 'receipt' END,
                    date('2026-01-01', '+' || (n % 320) || ' days'), 'bench', 'bench', '2026-11-24 00:00:00', '', ''
             FROM villages v CROSS JOIN g;
             {ENTRIES_AND_TOTALS}"
        )
    };
    let sql_url = url.strip_prefix("sqlite://").map(str::to_string);
    match &sql_url {
        Some(path) => diesel::SqliteConnection::establish(path)?.batch_execute(&sql)?,
        None => diesel::PgConnection::establish(&url)?.batch_execute(&sql)?,
    }
    println!(
        "backend {} · {villages} villages × {txns} transactions ({} entries) generated in {:.1} s",
        if pg { "postgres" } else { "sqlite" },
        villages * txns * 2,
        started.elapsed().as_secs_f64()
    );

    let period = Period::new(2026, None, None).map_err(anyhow::Error::msg)?;
    let mut times = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let report = regency::realisation(&db, &regency, &period)?;
        let json = report.to_json();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        rows = json["villages"]["rows"].as_array().map_or(0, Vec::len);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "regency realisation ({rows} village rows): min {:.1} ms · median {:.1} ms · max {:.1} ms over {runs} runs",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
    Ok(())
}
