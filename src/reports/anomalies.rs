//! The regency's anomaly rules, as pure functions over the data the store reads. Thresholds are configuration
//! (`[anomalies]` in the config file).

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike, Weekday};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnomalyRules {
    /// Payments at or above this gross (sen) need more scrutiny: splitting to stay under it is flagged.
    pub approval_threshold_sen: i64,
    pub split_window_days: i64,
    pub duplicate_window_days: i64,
    pub tax_deposit_days: i64,
    /// Working hours, local time of the regency: [start, end).
    pub work_start_hour: u32,
    pub work_end_hour: u32,
}

impl Default for AnomalyRules {
    fn default() -> Self {
        AnomalyRules {
            approval_threshold_sen: 5_000_000_000, // Rp 50,000,000.00
            split_window_days: 7,
            duplicate_window_days: 30,
            tax_deposit_days: 30,
            work_start_hour: 8,
            work_end_hour: 16,
        }
    }
}

/// One flagged item: the rule, a sentence, and the evidence (ids and figures).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Flag {
    pub rule: &'static str,
    pub description: String,
    pub evidence: Value,
}

/// A payment as the rules see it.
#[derive(Debug, Clone)]
pub struct PaymentFact {
    pub id: String,
    pub payee: String,
    pub gross: i64,
    pub at: NaiveDateTime,
}

fn amount(sen: i64) -> String {
    crate::domain::money::Amount(sen).to_string()
}

/// Payments to one payee inside the window, each under the threshold, that together reach it.
pub fn split_payments(payments: &[PaymentFact], rules: &AnomalyRules) -> Vec<Flag> {
    let mut by_payee: BTreeMap<&str, Vec<&PaymentFact>> = BTreeMap::new();
    for p in payments.iter().filter(|p| p.gross < rules.approval_threshold_sen) {
        by_payee.entry(&p.payee).or_default().push(p);
    }
    let mut flags = Vec::new();
    for (payee, mut ps) in by_payee {
        ps.sort_by_key(|p| p.at);
        let mut i = 0;
        while i < ps.len() {
            let start = ps[i].at;
            let mut j = i;
            while j + 1 < ps.len() && (ps[j + 1].at - start).num_days() < rules.split_window_days {
                j += 1;
            }
            let group = &ps[i..=j];
            let total: i64 = group.iter().map(|p| p.gross).sum();
            if group.len() >= 2 && total >= rules.approval_threshold_sen {
                flags.push(Flag {
                    rule: "split_payments",
                    description: format!(
                        "{} payments to {} within {} days total {}, each under the threshold of {}",
                        group.len(),
                        payee,
                        rules.split_window_days,
                        amount(total),
                        amount(rules.approval_threshold_sen)
                    ),
                    evidence: json!({
                        "payee": payee,
                        "total": amount(total),
                        "payments": group.iter().map(|p| json!({"id": p.id, "gross": amount(p.gross), "at": p.at.and_utc()})).collect::<Vec<_>>(),
                    }),
                });
                i = j + 1;
            } else {
                i += 1;
            }
        }
    }
    flags
}

/// The same payee and the same amount twice within the window.
pub fn duplicate_payments(payments: &[PaymentFact], rules: &AnomalyRules) -> Vec<Flag> {
    let mut by_key: BTreeMap<(&str, i64), Vec<&PaymentFact>> = BTreeMap::new();
    for p in payments {
        by_key.entry((&p.payee, p.gross)).or_default().push(p);
    }
    let mut flags = Vec::new();
    for ((payee, gross), mut ps) in by_key {
        ps.sort_by_key(|p| p.at);
        for w in ps.windows(2) {
            if (w[1].at - w[0].at).num_days() < rules.duplicate_window_days {
                flags.push(Flag {
                    rule: "duplicate_payment",
                    description: format!(
                        "{} paid twice to {} within {} days",
                        amount(gross),
                        payee,
                        rules.duplicate_window_days
                    ),
                    evidence: json!({"payee": payee, "gross": amount(gross), "payments": [w[0].id, w[1].id]}),
                });
            }
        }
    }
    flags
}

/// End-of-day cash in hand above the limit. `days` is (date, debit, credit) in date order, `opening` the balance
/// before the first.
pub fn cash_over_limit(opening: i64, days: &[(NaiveDate, i64, i64)], limit: i64) -> Vec<Flag> {
    let mut balance = opening;
    let mut over = Vec::new();
    for (date, debit, credit) in days {
        balance += debit - credit;
        if balance > limit {
            over.push(json!({"date": date, "balance": amount(balance)}));
        }
    }
    if over.is_empty() {
        return Vec::new();
    }
    vec![Flag {
        rule: "cash_over_limit",
        description: format!("cash in hand above the limit of {} on {} day(s)", amount(limit), over.len()),
        evidence: json!({"limit": amount(limit), "days": over}),
    }]
}

/// A tax movement: withheld (a credit to the liability) or deposited (a debit).
#[derive(Debug, Clone)]
pub struct TaxMove {
    pub tax: String,
    pub date: NaiveDate,
    pub withheld: i64,
    pub deposited: i64,
    pub transaction_id: String,
}

/// Withheld tax still not deposited more than `tax_deposit_days` after it was withheld, as of `as_of`. Deposits
/// clear the oldest withholdings first.
pub fn tax_not_deposited(moves: &[TaxMove], as_of: NaiveDate, rules: &AnomalyRules) -> Vec<Flag> {
    let mut by_tax: BTreeMap<&str, Vec<&TaxMove>> = BTreeMap::new();
    for m in moves {
        by_tax.entry(&m.tax).or_default().push(m);
    }
    let mut flags = Vec::new();
    for (tax, ms) in by_tax {
        let mut open: VecDeque<(NaiveDate, i64, &str)> = VecDeque::new();
        for m in ms {
            if m.withheld > 0 {
                open.push_back((m.date, m.withheld, &m.transaction_id));
            }
            let mut pay = m.deposited;
            while pay > 0 {
                let Some(front) = open.front_mut() else { break };
                let take = pay.min(front.1);
                front.1 -= take;
                pay -= take;
                if front.1 == 0 {
                    open.pop_front();
                }
            }
        }
        let late: Vec<Value> = open
            .iter()
            .filter(|(date, _, _)| (as_of - *date).num_days() > rules.tax_deposit_days)
            .map(|(date, left, txn)| json!({"transaction_id": txn, "withheld_on": date, "outstanding": amount(*left)}))
            .collect();
        if !late.is_empty() {
            flags.push(Flag {
                rule: "tax_not_deposited",
                description: format!(
                    "{tax} withheld more than {} days before {as_of} is still not deposited",
                    rules.tax_deposit_days
                ),
                evidence: json!({"tax": tax, "withholdings": late}),
            });
        }
    }
    flags
}

/// A transfer as the rules see it.
#[derive(Debug, Clone)]
pub struct ReleaseFact {
    pub transfer_id: String,
    pub payment_id: String,
    pub released_at: NaiveDateTime,
}

/// Releases on a weekend or outside working hours in the regency's local time.
pub fn released_outside_hours(releases: &[ReleaseFact], utc_offset_minutes: i32, rules: &AnomalyRules) -> Vec<Flag> {
    releases
        .iter()
        .filter_map(|r| {
            let local = r.released_at + chrono::Duration::minutes(i64::from(utc_offset_minutes));
            let weekend = matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
            let hour = local.hour();
            if weekend || hour < rules.work_start_hour || hour >= rules.work_end_hour {
                Some(Flag {
                    rule: "released_outside_working_hours",
                    description: format!("payment released at {} local time", local.format("%A %Y-%m-%d %H:%M")),
                    evidence: json!({"payment_id": r.payment_id, "transfer_id": r.transfer_id,
                                     "released_at_local": local.format("%Y-%m-%dT%H:%M:%S").to_string()}),
                })
            } else {
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: u32, hour: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 3, day).unwrap().and_hms_opt(hour, 0, 0).unwrap()
    }

    fn pay(id: &str, payee: &str, rupiah: i64, day: u32) -> PaymentFact {
        PaymentFact { id: id.into(), payee: payee.into(), gross: rupiah * 100, at: at(day, 3) }
    }

    #[test]
    fn splits_are_flagged_and_near_misses_are_not() {
        let rules = AnomalyRules::default();
        let ps = vec![
            pay("a1", "A", 30_000_000, 2),
            pay("a2", "A", 25_000_000, 5),
            // near miss: together under the threshold
            pay("b1", "B", 20_000_000, 2),
            pay("b2", "B", 29_999_999, 3),
            // near miss: far apart
            pay("c1", "C", 30_000_000, 1),
            pay("c2", "C", 30_000_000, 20),
        ];
        let flags = split_payments(&ps, &rules);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].evidence["payee"], "A");
    }

    #[test]
    fn duplicates_inside_the_window_only() {
        let rules = AnomalyRules::default();
        let ps =
            vec![pay("x", "A", 1_000, 1), pay("y", "A", 1_000, 20), pay("z", "B", 1_000, 1), pay("w", "B", 1_001, 2)];
        let flags = duplicate_payments(&ps, &rules);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].evidence["payments"], json!(["x", "y"]));
    }

    #[test]
    fn taxes_clear_oldest_first() {
        let rules = AnomalyRules::default();
        let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let mv = |date, w, dep, id: &str| TaxMove {
            tax: "PPN".into(),
            date,
            withheld: w,
            deposited: dep,
            transaction_id: id.into(),
        };
        let moves = vec![mv(d(1, 5), 100, 0, "t1"), mv(d(2, 1), 50, 0, "t2"), mv(d(2, 10), 0, 100, "t3")];
        assert!(tax_not_deposited(&moves, d(3, 1), &rules).is_empty()); // t2 is 28 days old
        let flags = tax_not_deposited(&moves, d(3, 10), &rules);
        assert_eq!(flags[0].evidence["withholdings"][0]["transaction_id"], "t2");
    }

    #[test]
    fn working_hours_in_local_time() {
        let rules = AnomalyRules::default();
        let r =
            |h: u32, day: u32| ReleaseFact { transfer_id: "t".into(), payment_id: "p".into(), released_at: at(day, h) };
        // 2026-03-02 is a Monday. 01:00 UTC = 08:00 WIB (inside); 09:00 UTC = 16:00 WIB (outside).
        assert!(released_outside_hours(&[r(1, 2)], 420, &rules).is_empty());
        assert_eq!(released_outside_hours(&[r(9, 2)], 420, &rules).len(), 1);
        assert_eq!(released_outside_hours(&[r(3, 7)], 420, &rules).len(), 1); // Saturday
    }
}
