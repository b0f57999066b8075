//! Year end: when a fiscal year may be closed, its SiLPA, and how the books read across the year boundary.
//!
//! - A year is closed once it has ended (31 December has passed in WIB), and never while a transfer of that year is
//!   released to the bank and unsettled: the bank's result would then be refused.
//! - SiLPA (Sisa Lebih Perhitungan Anggaran) = cash in hand + the bank account at 31 December − taxes withheld and
//!   not yet deposited (third parties' money). The next year opens with it as SiLPA Tahun Sebelumnya (6.1.1.01),
//!   realised, ready to be budgeted: Dr 3.1.1.01 Ekuitas Dana, Cr 6.1.1.01, dated 1 January.
//! - Revenue, spending and financing (classes 4, 5, 6) are closed into equity: a trial balance at a date holds only
//!   that date's fiscal year for those classes, and every earlier year's result sits in 3.1.1.01. kasdesa computes
//!   this closing when it reads the books ([`close_into_equity`]); it posts no closing entries, so every report of
//!   a year keeps reading that year's entries as they were posted.

use super::accounts::{class_of_code, AccountClass, BANK_ACCOUNT, CASH_IN_HAND, TAXES};
use chrono::{Datelike, NaiveDate};
use std::collections::BTreeMap;

/// The equity account every closed year's result goes to.
pub const EQUITY: &str = "3.1.1.01";
/// SiLPA Tahun Sebelumnya: the financing receipt that carries a year's SiLPA into the next.
pub const SILPA_ACCOUNT: &str = "6.1.1.01";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloseError {
    #[error("fiscal year {year} has not ended yet (today is {today})")]
    NotEnded { year: i32, today: NaiveDate },
    #[error("{count} transfer(s) of fiscal year {year} are released to the bank and not yet settled")]
    TransfersInFlight { year: i32, count: i64 },
    #[error("fiscal year {next} is already closed; close the years in order")]
    NextYearClosed { next: i32 },
    #[error("{count} advance(s) of fiscal year {year} are paid and not yet accounted for (SPJ)")]
    AdvancesUnaccounted { year: i32, count: i64 },
}

/// Whether `year` may be closed today: it has ended, no transfer of it is in flight, the next year is not closed.
pub fn check_close(
    year: i32,
    today: NaiveDate,
    transfers_in_flight: i64,
    advances_unaccounted: i64,
    next_closed: bool,
) -> Result<(), CloseError> {
    if today.year() <= year {
        return Err(CloseError::NotEnded { year, today });
    }
    if transfers_in_flight > 0 {
        return Err(CloseError::TransfersInFlight { year, count: transfers_in_flight });
    }
    if advances_unaccounted > 0 {
        return Err(CloseError::AdvancesUnaccounted { year, count: advances_unaccounted });
    }
    if next_closed {
        return Err(CloseError::NextYearClosed { next: year + 1 });
    }
    Ok(())
}

/// SiLPA from the debit-positive balances at 31 December: cash + bank − the taxes owed (liabilities are
/// credit-normal, so their debit-positive balances are negative and are added). May be zero or negative (a village
/// that spent withheld tax); only a positive SiLPA is carried into the next year.
pub fn silpa(balances: &BTreeMap<String, i64>) -> i64 {
    let at = |code: &str| balances.get(code).copied().unwrap_or(0);
    at(CASH_IN_HAND) + at(BANK_ACCOUNT) + TAXES.iter().map(|(_, account)| at(account)).sum::<i64>()
}

/// The last day of a fiscal year and the first of the next.
pub fn year_bounds(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((NaiveDate::from_ymd_opt(year, 12, 31)?, NaiveDate::from_ymd_opt(year + 1, 1, 1)?))
}

/// Whether an account's balance is closed at year end (revenue, spending, financing).
pub fn is_closed_at_year_end(code: &str) -> bool {
    matches!(
        class_of_code(code),
        Some(
            AccountClass::Revenue
                | AccountClass::Expenditure
                | AccountClass::FinancingReceipt
                | AccountClass::FinancingExpenditure
        )
    )
}

/// The balances a trial balance shows at a date: `at` (debit-positive, everything up to the date) with the
/// accounts of classes 4–6 holding only the date's fiscal year, and every earlier year's result (`before`: the
/// balances at the end of the previous year) moved into equity 3.1.1.01. The sum of all balances is unchanged
/// (zero for books that balance).
pub fn close_into_equity(at: &BTreeMap<String, i64>, before: &BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    let mut out = at.clone();
    let mut carried = 0i64;
    for (code, b) in before.iter().filter(|(code, _)| is_closed_at_year_end(code)) {
        *out.entry(code.clone()).or_insert(0) -= b;
        carried += b;
    }
    *out.entry(EQUITY.to_string()).or_insert(0) += carried;
    out
}

/// Where a bank fact (a credit, the bank's own entry) dated in a closed year is booked: the money has moved, so it
/// is never refused; it goes on the first day of the first year after it that is not closed, and its description
/// says the bank's date. `closed` are the village's closed years. `None`: its own date (its year is open).
pub fn carried_date(value_date: NaiveDate, closed: &[i32]) -> Option<NaiveDate> {
    let mut year = value_date.year();
    if !closed.contains(&year) {
        return None;
    }
    while closed.contains(&year) {
        year += 1;
    }
    NaiveDate::from_ymd_opt(year, 1, 1)
}

/// The description of a carried bank fact.
pub fn carried_description(bank_date: NaiveDate, description: &str) -> String {
    format!("[tanggal bank {}, tahunnya sudah ditutup] {description}", bank_date.format("%d-%m-%Y"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bank_fact_in_a_closed_year_goes_to_the_next_open_one() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(carried_date(d(2026, 12, 31), &[]), None);
        assert_eq!(carried_date(d(2026, 12, 31), &[2025]), None);
        assert_eq!(carried_date(d(2026, 12, 31), &[2026]), Some(d(2027, 1, 1)));
        assert_eq!(carried_date(d(2025, 6, 30), &[2025, 2026]), Some(d(2027, 1, 1)));
        assert!(carried_description(d(2026, 12, 31), "Bunga").starts_with("[tanggal bank 31-12-2026"));
    }
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_year_closes_once_ended_and_settled() {
        assert!(matches!(check_close(2026, d(2026, 12, 31), 0, 0, false), Err(CloseError::NotEnded { .. })));
        assert!(matches!(
            check_close(2026, d(2027, 1, 2), 2, 0, false),
            Err(CloseError::TransfersInFlight { count: 2, .. })
        ));
        assert!(matches!(check_close(2025, d(2027, 1, 2), 0, 0, true), Err(CloseError::NextYearClosed { next: 2026 })));
        assert!(matches!(
            check_close(2026, d(2027, 1, 2), 0, 1, false),
            Err(CloseError::AdvancesUnaccounted { count: 1, .. })
        ));
        assert!(check_close(2026, d(2027, 1, 1), 0, 0, false).is_ok());
    }

    #[test]
    fn silpa_is_cash_and_bank_less_taxes_owed() {
        let b: BTreeMap<String, i64> = [
            ("1.1.1.01", 50_000),
            ("1.1.1.02", 10_000_000),
            ("2.1.3.01", -400_000),
            ("2.1.3.03", -100_000),
            ("2.1.9.99", -7),
            ("4.2.1.01", -20_000_000),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(silpa(&b), 50_000 + 10_000_000 - 400_000 - 100_000);
    }

    fn code() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["1.1.1.02", "2.1.3.01", "3.1.1.01", "4.2.1.01", "5.2.1.07", "6.1.1.01", "6.2.2.01"])
            .prop_map(str::to_string)
    }

    proptest! {
        /// Balanced books before and during the year: the trial balance still balances, classes 4–6 hold exactly
        /// the current year's movements, and the balance-sheet accounts other than equity are untouched.
        #[test]
        fn closing_into_equity_keeps_the_books_balanced(
            before in proptest::collection::vec((code(), code(), 1i64..1_000_000), 0..20),
            during in proptest::collection::vec((code(), code(), 1i64..1_000_000), 0..20),
        ) {
            let post = |m: &mut BTreeMap<String, i64>, moves: &[(String, String, i64)]| {
                for (dr, cr, a) in moves {
                    *m.entry(dr.clone()).or_insert(0) += a;
                    *m.entry(cr.clone()).or_insert(0) -= a;
                }
            };
            let mut prior = BTreeMap::new();
            post(&mut prior, &before);
            let mut at = prior.clone();
            post(&mut at, &during);
            let mut year = BTreeMap::new();
            post(&mut year, &during);
            let tb = close_into_equity(&at, &prior);
            prop_assert_eq!(tb.values().sum::<i64>(), 0);
            for (code, b) in &tb {
                if is_closed_at_year_end(code) {
                    prop_assert_eq!(*b, year.get(code).copied().unwrap_or(0), "{}", code);
                } else if code != EQUITY {
                    prop_assert_eq!(*b, at.get(code).copied().unwrap_or(0), "{}", code);
                }
            }
        }
    }
}
