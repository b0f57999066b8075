//! Property tests of the ledger invariants, on the store directly (no HTTP, so many cases run quickly): any sequence
//! of valid and invalid postings and reversals leaves Σdebits = Σcredits, every balance equal to the sum of its
//! entries and to an independent model, no cash account negative, a gap-free verifying chain; and an edit of any one
//! row directly in the database is reported at exactly that sequence number.

use crate::helpers::fresh_database;
use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use kasdesa::domain::accounts::Side;
use kasdesa::domain::money::Money;
use kasdesa::domain::posting::{EntryDraft, TxnKind};
use kasdesa::store::rows::VillageRow;
use kasdesa::store::{now_micros, Db, NewTransaction, PoolOptions, StoreError, TxnQuery, Written};
use proptest::prelude::*;
use std::collections::BTreeMap;

const CASH_LIMIT: i64 = 500_000; // sen

#[derive(Debug, Clone)]
enum Op {
    Receipt { sen: i64, revenue: usize },
    Withdraw { sen: i64 },
    Deposit { sen: i64 },
    Unbalanced { debit: i64, credit: i64 },
    UnknownAccount { sen: i64 },
    Reverse { pick: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let sen = 1i64..400_000;
    prop_oneof![
        4 => (sen.clone(), 0usize..3).prop_map(|(sen, revenue)| Op::Receipt { sen, revenue }),
        3 => sen.clone().prop_map(|sen| Op::Withdraw { sen }),
        2 => sen.clone().prop_map(|sen| Op::Deposit { sen }),
        1 => (sen.clone(), sen.clone()).prop_map(|(debit, credit)| Op::Unbalanced { debit, credit }),
        1 => sen.prop_map(|sen| Op::UnknownAccount { sen }),
        2 => any::<usize>().prop_map(|pick| Op::Reverse { pick }),
    ]
}

fn e(code: &str, side: Side, sen: i64) -> EntryDraft {
    EntryDraft {
        account_code: code.into(),
        side,
        amount: Money::from_sen(sen).unwrap(),
        activity_code: None,
        source: None,
    }
}

struct Fixture {
    db: Db,
    url: String,
    village: String,
    _dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some((base, name)) = self.pg.take() {
            // Close the pool first so the database can be dropped.
            self.db =
                Db::connect(&format!("sqlite://{}", self._dir.path().join("x.db").display()), &PoolOptions::default())
                    .unwrap();
            if let Ok(mut c) = PgConnection::establish(&base) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg) = fresh_database(dir.path());
    let db = Db::connect(&url, &PoolOptions { max_connections: 2, ..PoolOptions::default() }).unwrap();
    let regency = db.create_regency("61.12", "Kubu Raya", 420, None).unwrap();
    let village = db
        .create_village(
            VillageRow {
                id: kasdesa::domain::ids::VillageId::new(),
                regency_id: regency.id,
                code: "61.12.01.2001".into(),
                name: "Desa Uji".into(),
                bank_account: "1012345678".into(),
                cash_limit: CASH_LIMIT,
                last_seq: 0,
                chain_len: 0,
                chain_head: kasdesa::domain::chain::GENESIS.into(),
                created_at: now_micros(),
            },
            "test",
        )
        .unwrap();
    Fixture { db, url, village: village.id.into(), _dir: dir, pg }
}

fn new_txn(village: &str, kind: TxnKind, entries: Vec<EntryDraft>) -> NewTransaction {
    NewTransaction {
        village_id: village.into(),
        kind,
        value_date: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
        description: "properti".into(),
        entries,
        reverses: None,
        payment_id: None,
        bank_reference: None,
        created_by: "proptest".into(),
    }
}

fn tamper(url: &str, seq: i64) {
    let sql_sqlite = format!(
        "DROP TRIGGER IF EXISTS transactions_no_update; UPDATE transactions SET description = 'dipalsukan' WHERE seq = {seq};"
    );
    let sql_pg = format!(
        "ALTER TABLE transactions DISABLE TRIGGER transactions_immutable; UPDATE transactions SET description = 'dipalsukan' WHERE seq = {seq};"
    );
    if let Some(path) = url.strip_prefix("sqlite://") {
        SqliteConnection::establish(path).unwrap().batch_execute(&sql_sqlite).unwrap();
    } else {
        PgConnection::establish(url).unwrap().batch_execute(&sql_pg).unwrap();
    }
}

fn cases() -> u32 {
    std::env::var("KASDESA_PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ledger_invariants_hold_for_any_sequence(ops in proptest::collection::vec(op(), 1..40), tamper_pick in any::<usize>()) {
        let f = fixture();
        // The village's first facts (its settings and its regency's) come before any transaction.
        let base = f.db.verify_chain(&f.village, None).unwrap().checked;
        let revenues = ["4.1.4.01", "4.2.1.01", "4.2.3.01"];
        let mut model: BTreeMap<&str, i64> = BTreeMap::new();
        let mut posted: Vec<(String, Vec<EntryDraft>, bool)> = Vec::new();
        let render = |_: &kasdesa::store::rows::TransactionRecord| String::new();
        for op in &ops {
            let (kind, entries, reverse_of) = match op {
                Op::Receipt { sen, revenue } => (TxnKind::Receipt, vec![e("1.1.1.02", Side::Debit, *sen), e(revenues[*revenue], Side::Credit, *sen)], None),
                Op::Withdraw { sen } => (TxnKind::Transfer, vec![e("1.1.1.01", Side::Debit, *sen), e("1.1.1.02", Side::Credit, *sen)], None),
                Op::Deposit { sen } => (TxnKind::Transfer, vec![e("1.1.1.02", Side::Debit, *sen), e("1.1.1.01", Side::Credit, *sen)], None),
                Op::Unbalanced { debit, credit } => (TxnKind::Receipt, vec![e("1.1.1.02", Side::Debit, *debit), e("4.1.4.01", Side::Credit, *credit)], None),
                Op::UnknownAccount { sen } => (TxnKind::Receipt, vec![e("1.1.1.02", Side::Debit, *sen), e("4.9.9.99", Side::Credit, *sen)], None),
                Op::Reverse { pick } => {
                    if posted.is_empty() { continue; }
                    let i = pick % posted.len();
                    (TxnKind::Reversal, posted[i].1.iter().map(|d| EntryDraft { side: d.side.opposite(), ..d.clone() }).collect(), Some(i))
                }
            };
            let result = match reverse_of {
                Some(i) => f.db.reverse_transaction(&posted[i].0, NaiveDate::from_ymd_opt(2026, 5, 2).unwrap(), "uji", "proptest", None, &render),
                None => f.db.post_transaction(&new_txn(&f.village, kind, entries.clone()), None, &render),
            };
            // The model: what the ledger must have done.
            let mut next = model.clone();
            for d in &entries {
                *next.entry(if d.account_code == "4.9.9.99" { "?" } else { revenues.iter().chain(["1.1.1.01", "1.1.1.02"].iter()).find(|c| **c == d.account_code).copied().unwrap_or("?") }).or_default() += d.side.signed(d.amount.sen());
            }
            let debits: i64 = entries.iter().filter(|d| d.side == Side::Debit).map(|d| d.amount.sen()).sum();
            let credits: i64 = entries.iter().filter(|d| d.side == Side::Credit).map(|d| d.amount.sen()).sum();
            let model_ok = debits == credits
                && !next.contains_key("?")
                && next.get("1.1.1.01").copied().unwrap_or(0) >= 0
                && next.get("1.1.1.02").copied().unwrap_or(0) >= 0
                && (next.get("1.1.1.01").copied().unwrap_or(0) <= CASH_LIMIT || entries.iter().all(|d| !(d.account_code == "1.1.1.01" && d.side == Side::Debit)))
                && reverse_of.is_none_or(|i| !posted[i].2);
            match result {
                Ok(Written::Fresh(rec)) => {
                    prop_assert!(model_ok, "the ledger accepted what the model refuses: {op:?}");
                    if let Some(i) = reverse_of { posted[i].2 = true; }
                    posted.push((rec.txn.id.to_string(), entries.clone(), reverse_of.is_some()));
                    model = next;
                }
                Ok(Written::Replay { .. }) => prop_assert!(false, "no key, no replay"),
                Err(err) => {
                    prop_assert!(!model_ok, "the ledger refused what the model accepts: {op:?}: {err}");
                    prop_assert!(matches!(err, StoreError::Posting(_) | StoreError::UnknownAccount(_) | StoreError::AlreadyReversed(_) | StoreError::Validation(_)), "{err:?}");
                }
            }
        }

        // Balances: stored = entries (verify) = model; the whole ledger sums to zero.
        let report = f.db.verify_chain(&f.village, None).unwrap();
        prop_assert!(report.ok, "{report:?}");
        prop_assert_eq!(report.checked, base + posted.len() as i64);
        let stored: BTreeMap<String, i64> = f.db.accounts(&f.village).unwrap().into_iter().map(|a| (a.code, a.balance)).collect();
        prop_assert_eq!(stored.values().sum::<i64>(), 0, "Σdebits = Σcredits");
        for (code, bal) in &stored {
            prop_assert_eq!(*bal, model.get(code.as_str()).copied().unwrap_or(0), "account {}", code);
        }
        prop_assert!(stored["1.1.1.01"] >= 0 && stored["1.1.1.02"] >= 0 && stored["1.1.1.01"] <= CASH_LIMIT);
        let seqs: Vec<i64> = f.db.list_transactions(&f.village, &TxnQuery { limit: 1000, ..TxnQuery::default() }).unwrap().iter().map(|t| t.txn.seq).collect();
        prop_assert_eq!(seqs, (1..=posted.len() as i64).collect::<Vec<_>>());

        // Tamper with one row: verification names exactly it.
        if !posted.is_empty() {
            let k = (tamper_pick % posted.len()) as i64 + 1;
            tamper(&f.url, k);
            let report = f.db.verify_chain(&f.village, None).unwrap();
            prop_assert!(!report.ok);
            prop_assert_eq!(report.first_broken.as_ref().and_then(|b| b.seq), Some(k));
            prop_assert_eq!(report.checked, base + k - 1);
        }
    }
}
