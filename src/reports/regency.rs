//! Roll-ups over a regency: realisation per village with regency totals, and anomalies across its villages.

use super::anomalies::{self, AnomalyRules, Flag, PaymentFact, ReleaseFact, SuspenseEntry, TaxMove};
use super::table::{col, percent, Cell, Column, Kind, Report, Section};
use super::village::{realised_amount, ClassFigures, Period};
use crate::domain::accounts::{class_of_code, CASH_IN_HAND, SUSPENSE, TAXES};
use crate::domain::money::Amount;
use crate::store::rows::{RegencyRow, VillageRow};
use crate::store::{Db, StoreError, VillageFilter};
use chrono::NaiveDate;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

fn regency_meta(r: &RegencyRow, p: &Period) -> Vec<(&'static str, &'static str, String)> {
    vec![
        ("regency_id", "ID Kabupaten", r.id.clone()),
        ("regency_code", "Kode Kabupaten", r.code.clone()),
        ("regency_name", "Kabupaten", r.name.clone()),
        ("year", "Tahun Anggaran", p.year.to_string()),
        ("to", "Sampai", p.to.format("%Y-%m-%d").to_string()),
    ]
}

fn realisation_columns() -> Vec<Column> {
    vec![
        col("village_code", "Kode Desa", Kind::Text),
        col("village_name", "Nama Desa", Kind::Text),
        col("revenue_budget", "Anggaran Pendapatan", Kind::Money),
        col("revenue_realised", "Realisasi Pendapatan", Kind::Money),
        col("revenue_percent", "% Pendapatan", Kind::Percent),
        col("spending_budget", "Anggaran Belanja", Kind::Money),
        col("spending_realised", "Realisasi Belanja", Kind::Money),
        col("spending_percent", "% Belanja", Kind::Percent),
        col("surplus", "Surplus/(Defisit)", Kind::Money),
    ]
}

/// A village's (or the regency's) row of the realisation roll-up.
fn realisation_row(code: &str, name: &str, f: &ClassFigures) -> Vec<Cell> {
    vec![
        Cell::text(code),
        Cell::text(name),
        Cell::Money(f.revenue.0),
        Cell::Money(f.revenue.1),
        Cell::Percent(percent(f.revenue.1, f.revenue.0)),
        Cell::Money(f.spending.0),
        Cell::Money(f.spending.1),
        Cell::Percent(percent(f.spending.1, f.spending.0)),
        Cell::Money(f.revenue.1 - f.spending.1),
    ]
}

/// One row per village: revenue and spending, budget and realised, and the surplus; regency totals. Two queries
/// for the whole regency: the budget positions and the daily totals.
pub fn realisation(db: &Db, r: &RegencyRow, p: &Period) -> Result<Report, StoreError> {
    let villages = db.list_villages(VillageFilter::Regency(&r.id))?;
    let ids: Vec<String> = villages.iter().map(|v| v.id.to_string()).collect();
    let mut figures: HashMap<String, ClassFigures> = HashMap::new();
    for pos in db.budget_positions(&ids, p.year)? {
        if let Some(class) = class_of_code(&pos.account_code) {
            figures.entry(pos.village_id.to_string()).or_default().add(class, pos.ceiling, 0);
        }
    }
    for (village, account, debit, credit) in db.period_totals(&ids, Some(p.from), p.to)? {
        if let Some(class) = class_of_code(&account) {
            // ClassFigures::add ignores the balance-sheet classes.
            figures.entry(village).or_default().add(class, 0, realised_amount(class, debit, credit));
        }
    }
    let mut rows = Vec::with_capacity(villages.len());
    let mut total = ClassFigures::default();
    for v in &villages {
        let f = figures.get(v.id.as_str()).copied().unwrap_or_default();
        for (dst, src) in [
            (&mut total.revenue, f.revenue),
            (&mut total.spending, f.spending),
            (&mut total.financing_in, f.financing_in),
            (&mut total.financing_out, f.financing_out),
        ] {
            dst.0 += src.0;
            dst.1 += src.1;
        }
        rows.push(realisation_row(&v.code, &v.name, &f));
    }
    let totals = realisation_row("", "Jumlah Kabupaten", &total);
    let mut extra = serde_json::Map::new();
    extra.insert("village_count".into(), json!(villages.len()));
    Ok(Report {
        key: "regency_realisation",
        title: "Rekapitulasi Realisasi APBDes".into(),
        meta: regency_meta(r, p),
        sections: vec![Section {
            key: "villages",
            title: "Per Desa".into(),
            columns: realisation_columns(),
            rows,
            totals: Some(totals),
        }],
        extra,
    })
}

/// What the anomaly scan judges by: its thresholds, the tax rules (deadlines), and the anchor key the chain's
/// checkpoints are checked with.
#[derive(Clone, Copy)]
pub struct Rulebook<'a> {
    pub anomalies: &'a AnomalyRules,
    pub tax: &'a crate::domain::tax::TaxRules,
    pub anchor: &'a ed25519_dalek::VerifyingKey,
}

/// Every anomaly of one village for the period, as of `as_of` (for the tax deadline).
pub fn village_anomalies(
    db: &Db,
    v: &VillageRow,
    utc_offset_minutes: i32,
    p: &Period,
    as_of: NaiveDate,
    book: &Rulebook<'_>,
) -> Result<Vec<Flag>, StoreError> {
    let (rules, tax) = (book.anomalies, book.tax);
    let ids = [v.id.to_string()];
    let payments = payment_facts(db, &ids, p)?;
    let mut flags = anomalies::split_payments(&payments, rules);
    flags.extend(anomalies::duplicate_payments(&payments, rules));
    flags.extend(cash_flags(db, v, &ids, p)?);
    flags.extend(anomalies::tax_not_deposited(&tax_moves(db, v, &ids, p, as_of)?, as_of, tax));
    flags.extend(personnel_flags(db, v, &ids, p, rules)?);
    let releases: Vec<ReleaseFact> = db
        .transfers_released(&ids, p.from, p.to)?
        .into_iter()
        .map(|t| ReleaseFact { transfer_id: t.id.into(), payment_id: t.payment_id.into(), released_at: t.released_at })
        .collect();
    flags.extend(anomalies::released_outside_hours(&releases, utc_offset_minutes, rules));
    flags.extend(budget_flags(db, v, &ids, p)?);
    flags.extend(suspense_flags(db, v, p, as_of)?);
    flags.extend(anomalies::cash_payments(&db.cash_payments(&v.id, p.from, p.to)?));
    let advances: Vec<anomalies::AdvanceFact> = db
        .outstanding_advances(&v.id)?
        .into_iter()
        .filter(|(_, paid_on)| *paid_on >= p.from && *paid_on <= p.to)
        .map(|(pay, paid_on)| anomalies::AdvanceFact {
            payment_id: pay.id.to_string(),
            number: pay.number.unwrap_or_default(),
            payee: pay.payee_name,
            amount: pay.net,
            paid_on,
        })
        .collect();
    flags.extend(anomalies::advances_not_accounted(&advances, as_of, rules, tax));
    flags.extend(chain_flag(db, v, book.anchor)?);
    Ok(flags)
}

/// The bank's charges of the period left in suspense, while the suspense account is not cleared as of `as_of`.
fn suspense_flags(db: &Db, v: &VillageRow, p: &Period, as_of: NaiveDate) -> Result<Vec<Flag>, StoreError> {
    let in_suspense: Vec<SuspenseEntry> = db
        .bank_entries_of(&v.id)?
        .into_iter()
        .filter(|e| e.suspense && e.value_date >= p.from && e.value_date <= p.to)
        .map(|e| SuspenseEntry {
            bank_reference: e.bank_reference,
            kind: e.kind.as_str(),
            amount: e.amount,
            date: e.value_date,
            transaction_id: e.transaction_id.into(),
        })
        .collect();
    if in_suspense.is_empty() {
        return Ok(Vec::new());
    }
    let outstanding = db.balances_at(&v.id, as_of)?.into_iter().find(|(a, _)| a == SUSPENSE).map_or(0, |(_, b)| b);
    Ok(anomalies::bank_entries_in_suspense(&in_suspense, outstanding, as_of))
}

/// The approved payments of the period, as the split and duplicate rules see them.
fn payment_facts(db: &Db, ids: &[String], p: &Period) -> Result<Vec<PaymentFact>, StoreError> {
    Ok(db
        .approved_payments(ids, p.from, p.to)?
        .into_iter()
        .map(|p| PaymentFact {
            id: p.id.into(),
            payee: format!("{}/{}", p.payee_bank_code, p.payee_account_number),
            gross: p.gross,
            at: p.created_at,
        })
        .collect())
}

/// Days the cash in hand went over the village's cash limit.
fn cash_flags(db: &Db, v: &VillageRow, ids: &[String], p: &Period) -> Result<Vec<Flag>, StoreError> {
    let before: i64 = match p.from.pred_opt() {
        Some(d) => db
            .period_totals(ids, None, d)?
            .into_iter()
            .filter(|(_, a, _, _)| a == CASH_IN_HAND)
            .map(|(_, _, debit, credit)| debit - credit)
            .sum(),
        None => 0,
    };
    let days = db.account_days(&v.id, CASH_IN_HAND, p.from, p.to)?;
    Ok(anomalies::cash_over_limit(before, &days, v.cash_limit))
}

/// What was withheld and deposited per tax, from the period's start to `as_of`; what was owed at the start counts
/// as withheld on the first day.
fn tax_moves(
    db: &Db,
    v: &VillageRow,
    ids: &[String],
    p: &Period,
    as_of: NaiveDate,
) -> Result<Vec<TaxMove>, StoreError> {
    let tax_accounts: Vec<&str> = TAXES.iter().map(|(_, a)| *a).collect();
    let tax_of: HashMap<&str, &str> = TAXES.iter().map(|(t, a)| (*a, *t)).collect();
    let mut moves: Vec<TaxMove> = Vec::new();
    if let Some(d) = p.from.pred_opt() {
        for (_, account, debit, credit) in db.period_totals(ids, None, d)? {
            if let Some(tax) = tax_of.get(account.as_str()) {
                if credit > debit {
                    moves.push(TaxMove {
                        tax: tax.to_string(),
                        date: p.from,
                        withheld: credit - debit,
                        deposited: 0,
                        transaction_id: "opening".into(),
                    });
                }
            }
        }
    }
    for l in db.account_lines(&v.id, &tax_accounts, p.from, as_of.max(p.from))? {
        let tax = tax_of.get(l.account_code.as_str()).copied().unwrap_or("?");
        let (w, d) = if l.side == "credit" { (l.amount, 0) } else { (0, l.amount) };
        moves.push(TaxMove {
            tax: tax.into(),
            date: l.value_date,
            withheld: w,
            deposited: d,
            transaction_id: l.txn_id,
        });
    }
    Ok(moves)
}

/// Spending over a line's ceiling: impossible through the service, so a sign of tampering. Flagged from the
/// budget's own figures, and from the ledger's spending per line where the budget's figures do not show it.
fn budget_flags(db: &Db, v: &VillageRow, ids: &[String], p: &Period) -> Result<Vec<Flag>, StoreError> {
    let positions = db.budget_positions(ids, p.year)?;
    let mut flags = Vec::new();
    let mut ceilings: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    let mut flagged = std::collections::BTreeSet::new();
    for pos in &positions {
        if pos.committed + pos.realised > pos.ceiling {
            flagged.insert((pos.account_code.clone(), pos.activity_code.clone(), pos.source.clone()));
            flags.push(Flag {
                rule: "budget_over_ceiling",
                description: format!("budget line {} {} {} is used beyond its ceiling", pos.account_code, pos.activity_code, pos.source),
                evidence: json!({"account_code": pos.account_code, "activity_code": pos.activity_code, "source": pos.source,
                    "ceiling": Amount(pos.ceiling).to_string(), "committed": Amount(pos.committed).to_string(),
                    "realised": Amount(pos.realised).to_string()}),
            });
        }
        ceilings.insert((pos.account_code.clone(), pos.activity_code.clone(), pos.source.clone()), pos.ceiling);
    }
    if positions.is_empty() {
        return Ok(flags);
    }
    let year_start = NaiveDate::from_ymd_opt(p.year, 1, 1).expect("valid");
    let year_end = NaiveDate::from_ymd_opt(p.year, 12, 31).expect("valid");
    for (account, activity, source, spent) in db.spending_by_key(&v.id, year_start, year_end)? {
        let key = (account.clone(), activity.clone().unwrap_or_default(), source.clone().unwrap_or_default());
        let ceiling = ceilings.get(&key).copied().unwrap_or(0);
        if spent > ceiling && !flagged.contains(&key) {
            flags.push(Flag {
                rule: "budget_over_ceiling",
                description: format!(
                    "the ledger shows {} spent on {} {} {}, above its ceiling of {}",
                    Amount(spent),
                    key.0,
                    key.1,
                    key.2,
                    Amount(ceiling)
                ),
                evidence: json!({"account_code": key.0, "activity_code": key.1, "source": key.2,
                    "ceiling": Amount(ceiling).to_string(), "ledger_realised": Amount(spent).to_string()}),
            });
        }
    }
    Ok(flags)
}

/// Sub-bidang 1.1's share of the year's spending, budgeted (the adopted ceilings) and realised (the ledger).
fn personnel_flags(
    db: &Db,
    v: &VillageRow,
    ids: &[String],
    p: &Period,
    rules: &AnomalyRules,
) -> Result<Vec<Flag>, StoreError> {
    let spending = |code: &str| class_of_code(code) == Some(crate::domain::accounts::AccountClass::Expenditure);
    let budget: Vec<(String, i64)> = db
        .budget_positions(ids, p.year)?
        .into_iter()
        .filter(|pos| spending(&pos.account_code))
        .map(|pos| (pos.activity_code, pos.ceiling))
        .collect();
    let year_start = NaiveDate::from_ymd_opt(p.year, 1, 1).expect("valid");
    let realised: Vec<(String, i64)> = db
        .spending_by_key(&v.id, year_start, p.to)?
        .into_iter()
        .filter(|(account, _, _, _)| spending(account))
        .map(|(_, activity, _, amount)| (activity.unwrap_or_default(), amount))
        .collect();
    Ok(anomalies::personnel_share(&budget, &realised, rules))
}

/// A break in the village's hash chain, or stored figures that disagree with the journal.
fn chain_flag(db: &Db, v: &VillageRow, anchor: &ed25519_dalek::VerifyingKey) -> Result<Option<Flag>, StoreError> {
    let report = db.verify_chain(&v.id, Some(crate::store::Anchors { key: anchor, supplied: &[] }))?;
    if report.ok {
        return Ok(None);
    }
    Ok(Some(Flag {
        rule: "chain_break",
        description: match &report.first_broken {
            Some(b) => format!("the hash chain breaks at position {} ({})", b.chain_seq, b.reason),
            None => match report.anchors.as_ref().and_then(|a| a.first_divergence.as_ref()) {
                Some(d) => format!(
                    "the chain no longer matches its signed checkpoint at position {}: rewritten after position {}",
                    d.at_or_before_seq, d.after_seq
                ),
                None if !report.fact_mismatches.is_empty() => format!(
                    "rows changed outside kasdesa disagree with the chained facts: {}",
                    report
                        .fact_mismatches
                        .iter()
                        .map(|m| format!("{} {} ({})", m.kind.as_str(), m.subject, m.finding.as_str()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None if !report.position_mismatches.is_empty() => {
                    format!("budget positions disagree with the chain: {}", report.position_mismatches.join(", "))
                }
                None => "stored figures disagree with the journal".into(),
            },
        },
        evidence: serde_json::to_value(&report).unwrap_or_default(),
    }))
}

pub fn anomalies(
    db: &Db,
    r: &RegencyRow,
    p: &Period,
    as_of: NaiveDate,
    book: &Rulebook<'_>,
) -> Result<Report, StoreError> {
    let (rules, tax) = (book.anomalies, book.tax);
    let villages = db.list_villages(VillageFilter::Regency(&r.id))?;
    let mut rows = Vec::new();
    let mut items = Vec::new();
    for v in &villages {
        for f in village_anomalies(db, v, r.utc_offset_minutes, p, as_of, book)? {
            rows.push(vec![
                Cell::text(&v.code),
                Cell::text(&v.name),
                Cell::text(f.rule),
                Cell::text(&f.description),
                Cell::text(f.evidence.to_string()),
            ]);
            items.push(json!({"village_id": v.id, "village_code": v.code, "village_name": v.name,
                "rule": f.rule, "description": f.description, "evidence": f.evidence}));
        }
    }
    let mut extra = serde_json::Map::new();
    extra.insert("items".into(), json!(items));
    extra.insert("rules".into(), json!({
        "approval_threshold": Amount(rules.approval_threshold_sen).to_string(),
        "split_window_days": rules.split_window_days,
        "duplicate_window_days": rules.duplicate_window_days,
        "tax_deposit_deadline": format!("day {} of the following month, or the next working day", tax.deposit_day),
        "personnel_share_cap_percent": rules.personnel_share_cap_percent,
        "working_hours": format!("{:02}:00-{:02}:00 UTC{:+}", rules.work_start_hour, rules.work_end_hour, r.utc_offset_minutes / 60),
    }));
    extra.insert("as_of".into(), json!(as_of));
    Ok(Report {
        key: "anomalies",
        title: "Temuan Anomali".into(),
        meta: regency_meta(r, p),
        sections: vec![Section {
            key: "findings",
            title: "Temuan".into(),
            columns: vec![
                col("village_code", "Kode Desa", Kind::Text),
                col("village_name", "Nama Desa", Kind::Text),
                col("rule", "Aturan", Kind::Text),
                col("description", "Keterangan", Kind::Text),
                col("evidence", "Bukti", Kind::Text),
            ],
            rows,
            totals: None,
        }],
        extra,
    })
}
