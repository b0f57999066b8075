//! What the bank's answer to a released transfer does, and what a cancellation gives back. Pure: the store reads the
//! request and its transfer under the village's lock, asks here, and writes what it is told.

use super::accounts::{Side, ADVANCES, BANK_ACCOUNT, TAXES};
use super::money::Money;
use super::posting::{EntryDraft, TxnKind};
use super::workflow::PaymentStatus;
use std::collections::BTreeMap;

text_enum! {
    /// A request's kind: a payment (SPP) spends a budget; a tax deposit clears withheld tax.
    pub enum PaymentKind {
        Spp = "spp",
        TaxDeposit = "tax_deposit",
        /// An advance (panjar, SPP UM) to the implementer for self-managed works: committed like an SPP, paid to the
        /// implementer's account, realised only by its accountability (SPJ).
        Advance = "advance",
    }
}

impl PaymentKind {
    /// Whether approving it commits budget.
    pub fn uses_budget(self) -> bool {
        matches!(self, PaymentKind::Spp | PaymentKind::Advance)
    }

    /// Whether the bank's payment realises the commitment (an advance's spending is realised by its SPJ).
    pub fn realises_on_payment(self) -> bool {
        self == PaymentKind::Spp
    }

    /// The kind of transaction its payment posts.
    pub fn transaction_kind(self) -> TxnKind {
        match self {
            PaymentKind::Spp | PaymentKind::Advance => TxnKind::Disbursement,
            PaymentKind::TaxDeposit => TxnKind::TaxDeposit,
        }
    }
}

/// An advance paid out: Dr advances outstanding (1.1.4.01), Cr the bank, for what was transferred.
pub fn advance_entries(net: Money) -> Vec<EntryDraft> {
    vec![
        EntryDraft { account_code: ADVANCES.into(), side: Side::Debit, amount: net, activity_code: None, source: None },
        EntryDraft {
            account_code: BANK_ACCOUNT.into(),
            side: Side::Credit,
            amount: net,
            activity_code: None,
            source: None,
        },
    ]
}

/// The accountability (SPJ) of an advance: what was spent (each receipt's lines, gross, with activity and source),
/// the taxes withheld on those receipts (owed to the state), and the remainder returned to the bank. Σ net of the
/// receipts + `returned` must be the advance, so the advance account is cleared exactly.
pub fn accountability_entries(
    advance: Money,
    spent: &PaidRequest,
    returned: i64,
) -> Result<Vec<EntryDraft>, AccountabilityError> {
    let accounted = spent.net.sen().checked_add(returned).ok_or(AccountabilityError::Overflow)?;
    if accounted != advance.sen() {
        return Err(AccountabilityError::DoesNotClear { advance: advance.sen(), net: spent.net.sen(), returned });
    }
    let mut entries = payment_entries_from(spent, ADVANCES).map_err(|_| AccountabilityError::Overflow)?;
    if let Ok(back) = Money::from_sen(returned) {
        entries.push(EntryDraft {
            account_code: BANK_ACCOUNT.into(),
            side: Side::Debit,
            amount: back,
            activity_code: None,
            source: None,
        });
        entries.push(EntryDraft {
            account_code: ADVANCES.into(),
            side: Side::Credit,
            amount: back,
            activity_code: None,
            source: None,
        });
    }
    Ok(entries)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountabilityError {
    #[error("the receipts' net ({}) plus the amount returned ({}) must equal the advance ({})",
        super::money::Amount(*net), super::money::Amount(*returned), super::money::Amount(*advance))]
    DoesNotClear { advance: i64, net: i64, returned: i64 },
    #[error("the accountability's total exceeds the largest amount the ledger holds")]
    Overflow,
}

text_enum! {
    /// One receipt (kuitansi) of a request with many: each its own payee and transfer.
    pub enum ReceiptStatus {
        /// Not yet released (the request is being approved, or is approved).
        Pending = "pending",
        Released = "released",
        Paid = "paid",
        Failed = "failed",
        /// A failed receipt the head cancelled: its commitment was released.
        Cancelled = "cancelled",
    }
}

/// A released request's status from its receipts' after a bank result: released while any transfer is out; then
/// paid when none failed, partially paid when some were paid and some failed, failed when none was paid.
pub fn status_after(receipts: &[ReceiptStatus]) -> PaymentStatus {
    use ReceiptStatus as R;
    if receipts.iter().any(|r| matches!(r, R::Released | R::Pending)) {
        return PaymentStatus::Released;
    }
    let paid = receipts.contains(&R::Paid);
    let failed = receipts.contains(&R::Failed);
    match (paid, failed) {
        (true, true) => PaymentStatus::PartiallyPaid,
        (false, true) => PaymentStatus::Failed,
        _ => PaymentStatus::Paid,
    }
}

/// The receipts a release sends to the bank: those not yet sent, and those the bank failed.
pub fn releasable(r: ReceiptStatus) -> bool {
    matches!(r, ReceiptStatus::Pending | ReceiptStatus::Failed)
}

/// One line of a request, as the settlement posts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledLine {
    pub account: String,
    pub activity: Option<String>,
    pub source: Option<String>,
    pub amount: Money,
}

/// What a request amounts to when the bank pays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidRequest {
    pub lines: Vec<SettledLine>,
    /// What the bank transferred.
    pub net: Money,
    /// (tax code, amount) per withholding, in any order.
    pub withholdings: Vec<(String, Money)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettlementError {
    #[error("unknown tax {0}")]
    UnknownTax(String),
    #[error("the withholdings of one tax exceed the largest amount the ledger holds")]
    Overflow,
}

/// The disbursement: Dr each line's account (gross, with activity and source), Cr the bank (net), Cr each tax's
/// liability (what was withheld, one entry per tax). A tax deposit has no withholdings: Dr each liability, Cr the
/// bank. Balanced whenever the request's totals are (gross = net + withheld), which `workflow::totals` ensures.
pub fn payment_entries(req: &PaidRequest) -> Result<Vec<EntryDraft>, SettlementError> {
    payment_entries_from(req, BANK_ACCOUNT)
}

/// [`payment_entries`] paid from `account`: the bank (a transfer) or cash in hand (`pay-cash`).
pub fn payment_entries_from(req: &PaidRequest, account: &str) -> Result<Vec<EntryDraft>, SettlementError> {
    let mut entries: Vec<EntryDraft> = req
        .lines
        .iter()
        .map(|l| EntryDraft {
            account_code: l.account.clone(),
            side: Side::Debit,
            amount: l.amount,
            activity_code: l.activity.clone(),
            source: l.source.clone(),
        })
        .collect();
    entries.push(EntryDraft {
        account_code: account.into(),
        side: Side::Credit,
        amount: req.net,
        activity_code: None,
        source: None,
    });
    let mut by_tax: BTreeMap<&str, i64> = BTreeMap::new();
    for (tax, amount) in &req.withholdings {
        let slot = by_tax.entry(tax.as_str()).or_insert(0);
        *slot = slot.checked_add(amount.sen()).ok_or(SettlementError::Overflow)?;
    }
    for (tax, sen) in by_tax {
        let account = liability_of(tax).ok_or_else(|| SettlementError::UnknownTax(tax.to_string()))?;
        entries.push(EntryDraft {
            account_code: account.into(),
            side: Side::Credit,
            amount: Money::from_sen(sen).map_err(|_| SettlementError::Overflow)?,
            activity_code: None,
            source: None,
        });
    }
    Ok(entries)
}

/// The bank's value date of a paid request must fall in the request's fiscal year: its spending is that year's
/// (a 2027 request is not posted into 2026 against 2026's budget, nor a payment dated 2021 into a year long past).
/// And it may not lie before the day the transfer was released (`released_on`, the office's day in WIB): a bank
/// pays what it was sent, so a value date before the release would book the money out of the account before anyone
/// let it go. A transfer released before the release day was kept has none, and only the year is checked.
/// `not_before` is that day and what happened on it ("the transfer was released", "the advance was paid out").
pub fn check_value_date(
    value_date: chrono::NaiveDate,
    fiscal_year: i32,
    not_before: Option<(chrono::NaiveDate, &str)>,
) -> Result<(), String> {
    use chrono::Datelike;
    if value_date.year() != fiscal_year {
        return Err(format!(
            "the value date {value_date} is not in the request's fiscal year {fiscal_year}; a request is paid in its own year"
        ));
    }
    if let Some((day, what)) = not_before.filter(|(day, _)| value_date < *day) {
        return Err(format!("the value date {value_date} is before {what} on {day}"));
    }
    Ok(())
}

/// A payment from cash in hand: allowed up to the regency's per-payment limit (its regulation on small cash
/// payments: meeting food, builders' daily wages); with no limit set the regency allows none (non-cash is the rule).
pub fn check_cash_payment(net: i64, limit: Option<i64>) -> Result<(), super::posting::PostingError> {
    match limit {
        Some(l) if net <= l => Ok(()),
        _ => Err(super::posting::PostingError::CashPaymentOverLimit {
            amount: super::money::Amount(net),
            limit: limit.map(super::money::Amount),
        }),
    }
}

/// The tax a liability account is owed on (the reverse of [`liability_of`]).
pub fn tax_of(account: &str) -> Option<&'static str> {
    TAXES.iter().find(|(_, a)| *a == account).map(|(t, _)| *t)
}

/// The NTPN of each line of a paid tax deposit, in line order: a deposit is finished only when every tax type in it
/// has the proof of payment the bank got for it. `by_tax` gives them per tax; `single` may stand for the one line of
/// a deposit of one tax.
pub fn line_ntpns(
    taxes: &[&str],
    single: Option<&str>,
    by_tax: &BTreeMap<String, String>,
) -> Result<Vec<String>, String> {
    if let Some(extra) = by_tax.keys().find(|t| !taxes.contains(&t.as_str())) {
        return Err(format!("ntpns names {extra}, which this deposit does not hold"));
    }
    taxes
        .iter()
        .map(|tax| match (by_tax.get(*tax), single) {
            (Some(n), _) => Ok(n.clone()),
            (None, Some(n)) if taxes.len() == 1 => Ok(n.to_string()),
            _ => Err(format!("a paid tax deposit needs the NTPN of each tax: {tax} has none (ntpns.{tax})")),
        })
        .collect()
}

/// The liability account a withheld tax is owed on.
pub fn liability_of(tax: &str) -> Option<&'static str> {
    TAXES.iter().find(|(t, _)| *t == tax).map(|(_, a)| *a)
}

/// The bank's answer to a transfer, as far as deciding what to do with it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankAnswer<'a> {
    pub paid: bool,
    pub bank_reference: &'a str,
    pub value_date: chrono::NaiveDate,
}

/// A transfer as stored: released and waiting, or settled with the bank's earlier answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferState<'a> {
    Released,
    Settled(BankAnswer<'a>),
}

/// What a bank's answer does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Paid: post the payment's transaction and, for a budgeted request, realise its commitment.
    Post { kind: TxnKind, realise_budget: bool },
    /// Failed: record the reason; the commitment stays (the treasurer may release again, the head may cancel).
    RecordFailure,
    /// The same answer again (a retry): answer as the first time, write nothing.
    Replay,
    /// A different answer for a settled transfer: refused, the bank must reconcile.
    Conflict,
}

/// Decides what the bank's `answer` does to a transfer in `state`, for a request of `kind`.
pub fn settle(kind: PaymentKind, state: &TransferState<'_>, answer: &BankAnswer<'_>) -> Settle {
    match state {
        TransferState::Settled(earlier) if earlier == answer => Settle::Replay,
        TransferState::Settled(_) => Settle::Conflict,
        TransferState::Released if answer.paid => {
            Settle::Post { kind: kind.transaction_kind(), realise_budget: kind.realises_on_payment() }
        }
        TransferState::Released => Settle::RecordFailure,
    }
}

/// Whether cancelling a request of `kind` that is `from` gives its commitment back: only a budgeted request that
/// holds one (approved, or released and failed).
pub fn cancel_releases_commitment(kind: PaymentKind, from: PaymentStatus) -> bool {
    kind.uses_budget() && from.holds_commitment()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::posting::check_balanced;
    use proptest::prelude::*;

    fn m(sen: i64) -> Money {
        Money::from_sen(sen).unwrap()
    }

    #[test]
    fn a_request_with_many_receipts_is_settled_by_all_of_them() {
        use ReceiptStatus as R;
        assert_eq!(status_after(&[R::Paid, R::Released]), PaymentStatus::Released);
        assert_eq!(status_after(&[R::Paid, R::Paid]), PaymentStatus::Paid);
        assert_eq!(status_after(&[R::Paid, R::Failed]), PaymentStatus::PartiallyPaid);
        assert_eq!(status_after(&[R::Failed, R::Failed]), PaymentStatus::Failed);
        assert_eq!(status_after(&[R::Paid, R::Cancelled]), PaymentStatus::Paid);
        assert!(releasable(R::Failed) && releasable(R::Pending) && !releasable(R::Paid) && !releasable(R::Released));
    }

    #[test]
    fn a_paid_request_posts_gross_net_and_each_tax_once() {
        let req = PaidRequest {
            lines: vec![
                SettledLine {
                    account: "5.2.1.07".into(),
                    activity: Some("02.03.10".into()),
                    source: Some("DDS".into()),
                    amount: m(1_110_000_000),
                },
                SettledLine {
                    account: "5.2.1.01".into(),
                    activity: None,
                    source: Some("DDS".into()),
                    amount: m(100_000),
                },
            ],
            net: m(1_110_100_000 - 110_000_000 - 15_000_000),
            withholdings: vec![
                ("PPN".into(), m(100_000_000)),
                ("PPH22".into(), m(15_000_000)),
                ("PPN".into(), m(10_000_000)),
            ],
        };
        let entries = payment_entries(&req).unwrap();
        assert_eq!(check_balanced(&entries).unwrap(), m(1_110_100_000));
        let ppn = entries.iter().filter(|e| Some(e.account_code.as_str()) == liability_of("PPN")).collect::<Vec<_>>();
        assert_eq!(ppn.len(), 1);
        assert_eq!(ppn[0].amount, m(110_000_000));
        assert_eq!(entries[2].account_code, BANK_ACCOUNT);
        let bad = PaidRequest { withholdings: vec![("VAT".into(), m(1))], ..req };
        assert_eq!(payment_entries(&bad), Err(SettlementError::UnknownTax("VAT".into())));
    }

    #[test]
    fn answers() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        let paid = BankAnswer { paid: true, bank_reference: "R1", value_date: d };
        let failed = BankAnswer { paid: false, ..paid.clone() };
        use PaymentKind::*;
        assert_eq!(
            settle(Spp, &TransferState::Released, &paid),
            Settle::Post { kind: TxnKind::Disbursement, realise_budget: true }
        );
        assert_eq!(
            settle(TaxDeposit, &TransferState::Released, &paid),
            Settle::Post { kind: TxnKind::TaxDeposit, realise_budget: false }
        );
        assert_eq!(settle(Spp, &TransferState::Released, &failed), Settle::RecordFailure);
        assert_eq!(settle(Spp, &TransferState::Settled(paid.clone()), &paid), Settle::Replay);
        assert_eq!(settle(Spp, &TransferState::Settled(paid.clone()), &failed), Settle::Conflict);
        let other_ref = BankAnswer { bank_reference: "R2", ..paid.clone() };
        assert_eq!(settle(Spp, &TransferState::Settled(paid), &other_ref), Settle::Conflict);
        assert!(cancel_releases_commitment(Spp, PaymentStatus::Failed));
        assert!(!cancel_releases_commitment(Spp, PaymentStatus::Draft));
        assert!(!cancel_releases_commitment(TaxDeposit, PaymentStatus::Approved));
    }

    #[test]
    fn a_paid_deposit_has_an_ntpn_per_tax() {
        let by: BTreeMap<String, String> = [("PPN".to_string(), "A".repeat(16))].into_iter().collect();
        assert_eq!(line_ntpns(&["PPN"], None, &by).unwrap(), vec!["A".repeat(16)]);
        assert!(line_ntpns(&["PPN", "PPH22"], None, &by).is_err(), "PPh 22 has none");
        assert!(line_ntpns(&["PPN", "PPH22"], Some("B"), &by).is_err(), "one NTPN cannot stand for two taxes");
        assert_eq!(line_ntpns(&["PPH23"], Some("B"), &BTreeMap::new()).unwrap(), vec!["B".to_string()]);
        assert!(line_ntpns(&["PPH23"], None, &by).is_err(), "an NTPN for a tax the deposit does not hold");
        assert_eq!(tax_of("2.1.3.06"), Some("PPH4_2"));
    }

    proptest! {
        /// A value date is accepted exactly when it is in the request's year and not before the release day.
        #[test]
        fn a_value_date_is_in_the_year_and_not_before_the_release(
            value in 0i64..800, released in proptest::option::of(0i64..800), year in 2025i32..2028,
        ) {
            let day = |n: i64| chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Duration::days(n);
            let (v, r) = (day(value), released.map(day));
            let ok = chrono::Datelike::year(&v) == year && r.is_none_or(|r| v >= r);
            prop_assert_eq!(check_value_date(v, year, r.map(|r| (r, "the release"))).is_ok(), ok);
        }
    }

    proptest! {
        /// Whatever the lines and withholdings (net = gross − withheld), the disbursement balances, credits the bank
        /// exactly the net, and credits each tax's liability exactly what was withheld for it.
        #[test]
        fn disbursements_balance(
            lines in proptest::collection::vec(1_000i64..10_000_000, 1..10),
            taxes in proptest::collection::vec((0usize..4, 1i64..500), 0..10),
        ) {
            let codes = ["PPN", "PPH21", "PPH22", "PPH23"];
            let gross: i64 = lines.iter().sum();
            let withheld: i64 = taxes.iter().map(|(_, a)| a).sum();
            let req = PaidRequest {
                lines: lines.iter().map(|a| SettledLine { account: "5.2.1.01".into(), activity: None, source: None, amount: m(*a) }).collect(),
                net: m(gross - withheld),
                withholdings: taxes.iter().map(|(t, a)| (codes[*t].to_string(), m(*a))).collect(),
            };
            let entries = payment_entries(&req).unwrap();
            prop_assert_eq!(check_balanced(&entries).unwrap().sen(), gross);
            let bank: i64 = entries.iter().filter(|e| e.account_code == BANK_ACCOUNT).map(|e| e.amount.sen()).sum();
            prop_assert_eq!(bank, gross - withheld);
            for (i, code) in codes.iter().enumerate() {
                let owed: i64 = taxes.iter().filter(|(t, _)| *t == i).map(|(_, a)| a).sum();
                let posted: i64 = entries.iter().filter(|e| Some(e.account_code.as_str()) == liability_of(code)).map(|e| e.amount.sen()).sum();
                prop_assert_eq!(posted, owed);
            }
        }
    }
}
