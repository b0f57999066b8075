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
    /// The most of a year's spending that sub-bidang 1.1 (fixed income, allowances and the running of the village
    /// government) may take, in percent (PP 11/2019: 30).
    pub personnel_share_cap_percent: i64,
    /// Working days after an advance is paid within which its accountability (SPJ) is due.
    pub spj_due_working_days: u32,
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
            personnel_share_cap_percent: 30,
            spj_due_working_days: 10,
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

/// The same payee and the same amount twice within the window, in the same calendar month. A payee paid the same
/// amount month after month (salaries, allowances, RT/RW incentives, rent) is how a village pays, not a duplicate.
pub fn duplicate_payments(payments: &[PaymentFact], rules: &AnomalyRules) -> Vec<Flag> {
    let mut by_key: BTreeMap<(&str, i64), Vec<&PaymentFact>> = BTreeMap::new();
    for p in payments {
        by_key.entry((&p.payee, p.gross)).or_default().push(p);
    }
    let mut flags = Vec::new();
    for ((payee, gross), mut ps) in by_key {
        ps.sort_by_key(|p| p.at);
        for w in ps.windows(2) {
            let same_month = (w[0].at.year(), w[0].at.month()) == (w[1].at.year(), w[1].at.month());
            if same_month && (w[1].at - w[0].at).num_days() < rules.duplicate_window_days {
                flags.push(Flag {
                    rule: "duplicate_payment",
                    description: format!(
                        "{} paid twice to {} in one month, within {} days",
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

/// Payments made from cash in hand: allowed within the regency's limit, and a signal the regency watches (non-cash
/// is the rule). Facts: (payment id, amount, date, transaction id).
pub fn cash_payments(payments: &[(String, i64, NaiveDate, String)]) -> Vec<Flag> {
    payments
        .iter()
        .map(|(payment, sen, date, txn)| Flag {
            rule: "cash_payment",
            description: format!("payment {payment} of {} was paid from cash in hand on {date}", amount(*sen)),
            evidence: json!({"payment_id": payment, "amount": amount(*sen), "value_date": date, "transaction_id": txn}),
        })
        .collect()
}

/// An advance paid and not yet accounted for.
#[derive(Debug, Clone)]
pub struct AdvanceFact {
    pub payment_id: String,
    pub number: String,
    pub payee: String,
    pub amount: i64,
    pub paid_on: NaiveDate,
}

/// Advances whose accountability (SPJ) is overdue as of `as_of`: due `spj_due_working_days` working days after the
/// bank paid them (the calendar of `[tax] holidays`).
pub fn advances_not_accounted(
    advances: &[AdvanceFact],
    as_of: NaiveDate,
    rules: &AnomalyRules,
    calendar: &crate::domain::tax::TaxRules,
) -> Vec<Flag> {
    advances
        .iter()
        .filter_map(|a| {
            let due = calendar.add_working_days(a.paid_on, rules.spj_due_working_days);
            (as_of > due).then(|| Flag {
                rule: "advance_not_accounted",
                description: format!(
                    "advance {} of {} to {} paid on {} has no accountability (SPJ); it was due on {}",
                    a.number,
                    amount(a.amount),
                    a.payee,
                    a.paid_on,
                    due
                ),
                evidence: json!({"payment_id": a.payment_id, "number": a.number, "amount": amount(a.amount),
                                 "paid_on": a.paid_on, "due": due}),
            })
        })
        .collect()
}

/// A bank charge the service put in suspense because its budget line could not take it.
#[derive(Debug, Clone)]
pub struct SuspenseEntry {
    pub bank_reference: String,
    pub kind: &'static str,
    pub amount: i64,
    pub date: NaiveDate,
    pub transaction_id: String,
}

/// Bank charges in suspense (2.1.9.99) as of a date, while the suspense account still holds unexplained money out
/// (`outstanding`, its debit-positive balance at that date): each is a charge the treasurer has yet to clear (by a
/// revision and an adjustment to its line).
pub fn bank_entries_in_suspense(entries: &[SuspenseEntry], outstanding: i64, as_of: NaiveDate) -> Vec<Flag> {
    if outstanding <= 0 {
        return Vec::new();
    }
    entries
        .iter()
        .filter(|e| e.date <= as_of)
        .map(|e| Flag {
            rule: "bank_entry_in_suspense",
            description: format!(
                "the bank's {} of {} on {} ({}) sits in suspense: its budget line could not take it",
                e.kind,
                amount(e.amount),
                e.date,
                e.bank_reference
            ),
            evidence: json!({"bank_reference": e.bank_reference, "kind": e.kind, "amount": amount(e.amount),
                             "value_date": e.date, "transaction_id": e.transaction_id,
                             "suspense_outstanding": amount(outstanding)}),
        })
        .collect()
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

/// Withheld tax still not deposited after its deadline (`domain::tax`: the 15th of the following month, or the next
/// working day), as of `as_of`. Deposits clear the oldest withholdings first.
pub fn tax_not_deposited(moves: &[TaxMove], as_of: NaiveDate, tax: &crate::domain::tax::TaxRules) -> Vec<Flag> {
    let mut by_tax: BTreeMap<&str, Vec<&TaxMove>> = BTreeMap::new();
    for m in moves {
        by_tax.entry(&m.tax).or_default().push(m);
    }
    let mut flags = Vec::new();
    for (by, ms) in by_tax {
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
            .filter(|(date, _, _)| as_of > tax.deposit_deadline(*date))
            .map(|(date, left, txn)| {
                json!({"transaction_id": txn, "withheld_on": date, "deadline": tax.deposit_deadline(*date),
                    "outstanding": amount(*left)})
            })
            .collect();
        if !late.is_empty() {
            flags.push(Flag {
                rule: "tax_not_deposited",
                description: format!(
                    "{name} withheld is still not deposited after its deadline, as of {as_of}",
                    name = by
                ),
                evidence: json!({"tax": by, "withholdings": late}),
            });
        }
    }
    flags
}

/// The share of the year's spending that sub-bidang 1.1 (activities `01.01.*`: fixed income, allowances and the
/// running of the village government) takes, budgeted and realised, above the cap. `budget` and `realised` are
/// (activity code, amount in sen) of the spending lines (class 5).
pub fn personnel_share(budget: &[(String, i64)], realised: &[(String, i64)], rules: &AnomalyRules) -> Vec<Flag> {
    let share = |lines: &[(String, i64)]| -> Option<(i128, i128)> {
        let total: i128 = lines.iter().map(|(_, a)| i128::from(*a)).sum();
        let personnel: i128 =
            lines.iter().filter(|(act, _)| act.starts_with("01.01.")).map(|(_, a)| i128::from(*a)).sum();
        (total > 0).then_some((personnel, total))
    };
    let cap = i128::from(rules.personnel_share_cap_percent);
    let mut flags = Vec::new();
    for (what, lines) in [("budgeted", budget), ("realised", realised)] {
        let Some((personnel, total)) = share(lines) else { continue };
        if personnel * 100 > cap * total {
            // Two decimals, rounded down: the evidence shows what the rule compared.
            let percent_hundredths = personnel * 10_000 / total;
            flags.push(Flag {
                rule: "personnel_share_over_cap",
                description: format!(
                    "sub-bidang 1.1 takes {}.{:02}% of the {what} spending, above the cap of {}%",
                    percent_hundredths / 100,
                    percent_hundredths % 100,
                    rules.personnel_share_cap_percent
                ),
                evidence: json!({"basis": what, "sub_bidang": "01.01",
                    "personnel": amount(i64::try_from(personnel).unwrap_or(i64::MAX)),
                    "total_spending": amount(i64::try_from(total).unwrap_or(i64::MAX)),
                    "cap_percent": rules.personnel_share_cap_percent}),
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
    fn monthly_payments_of_one_amount_are_not_duplicates() {
        let rules = AnomalyRules::default();
        // The head's fixed income, the same amount on the 25th of each month, and once again in one month.
        let at = |m: u32, day: u32| NaiveDate::from_ymd_opt(2026, m, day).unwrap().and_hms_opt(3, 0, 0).unwrap();
        let mut ps: Vec<PaymentFact> = (1..=12)
            .map(|m| PaymentFact { id: format!("m{m}"), payee: "kades".into(), gross: 400_000_000, at: at(m, 25) })
            .collect();
        assert!(duplicate_payments(&ps, &rules).is_empty(), "twelve monthly salaries");
        ps.push(PaymentFact { id: "again".into(), payee: "kades".into(), gross: 400_000_000, at: at(5, 28) });
        let flags = duplicate_payments(&ps, &rules);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].evidence["payments"], json!(["m5", "again"]));
    }

    #[test]
    fn sub_bidang_1_1_above_the_cap() {
        let rules = AnomalyRules::default();
        let lines =
            |personnel: i64, other: i64| vec![("01.01.01".to_string(), personnel), ("02.03.10".to_string(), other)];
        assert!(personnel_share(&lines(30, 70), &lines(30, 70), &rules).is_empty(), "30% exactly is allowed");
        let flags = personnel_share(&lines(3001, 6999), &lines(10, 90), &rules);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].evidence["basis"], "budgeted");
        assert!(flags[0].description.contains("30.01%"), "{}", flags[0].description);
        assert!(personnel_share(&[], &[], &rules).is_empty());
    }

    #[test]
    fn an_advance_is_flagged_the_day_after_its_spj_was_due() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 5, day).unwrap();
        let a = AdvanceFact {
            payment_id: "p".into(),
            number: "0001/SPP-UM/x/2026".into(),
            payee: "Budi".into(),
            amount: 1,
            paid_on: d(8),
        };
        let cal = crate::domain::tax::TaxRules::default();
        let rules = AnomalyRules::default();
        // Friday 8 May + 10 working days = Friday 22 May.
        assert!(advances_not_accounted(std::slice::from_ref(&a), d(22), &rules, &cal).is_empty());
        assert_eq!(advances_not_accounted(std::slice::from_ref(&a), d(23), &rules, &cal).len(), 1);
    }

    #[test]
    fn suspense_charges_are_flagged_until_cleared() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 4, day).unwrap();
        let e = SuspenseEntry {
            bank_reference: "ADM-04".into(),
            kind: "admin_fee",
            amount: 1_500_000,
            date: d(30),
            transaction_id: "t".into(),
        };
        assert_eq!(bank_entries_in_suspense(std::slice::from_ref(&e), 1_500_000, d(30)).len(), 1);
        assert!(bank_entries_in_suspense(std::slice::from_ref(&e), 0, d(30)).is_empty(), "cleared");
        assert!(bank_entries_in_suspense(std::slice::from_ref(&e), 1_500_000, d(29)).is_empty(), "not yet");
    }

    #[test]
    fn taxes_clear_oldest_first() {
        let rules = crate::domain::tax::TaxRules::default();
        let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let mv = |date, w, dep, id: &str| TaxMove {
            tax: "PPN".into(),
            date,
            withheld: w,
            deposited: dep,
            transaction_id: id.into(),
        };
        let moves = vec![mv(d(1, 5), 100, 0, "t1"), mv(d(2, 1), 50, 0, "t2"), mv(d(2, 10), 0, 100, "t3")];
        // t2 (withheld in February) is due on 2026-03-16: the 15th is a Sunday.
        assert!(tax_not_deposited(&moves, d(3, 16), &rules).is_empty());
        let flags = tax_not_deposited(&moves, d(3, 17), &rules);
        assert_eq!(flags[0].evidence["withholdings"][0]["transaction_id"], "t2");
        assert_eq!(flags[0].evidence["withholdings"][0]["deadline"], "2026-03-16");
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
