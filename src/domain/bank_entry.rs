//! The bank's own entries on the village account: the month's interest, the tax the bank deducted from it and its
//! administration fee. They already happened, so they are never refused for budget reasons: interest is revenue
//! (4.3.6.01); the tax and the fee are realised on the budget line the village chose for each, and when that line
//! is not set, not in the adopted budget or cannot absorb the amount, they go to suspense (2.1.9.99) for the
//! treasurer to clear, and the regency sees them there.

use super::accounts::{Side, BANK_ACCOUNT, SUSPENSE};
use super::budget::{charge, LineKey, Position};
use super::money::Money;
use super::posting::EntryDraft;
use std::collections::BTreeMap;

/// Bank interest (Jasa Giro / Bunga Bank) is revenue 4.3.6.01.
pub const INTEREST_ACCOUNT: &str = "4.3.6.01";
/// The source of funds interest is received under: other lawful revenue.
pub const INTEREST_SOURCE: &str = "DLL";

text_enum! {
    pub enum BankEntryKind {
        Interest = "interest",
        InterestTax = "interest_tax",
        AdminFee = "admin_fee",
    }
}

impl BankEntryKind {
    /// The words a book shows for it.
    pub fn label(self) -> &'static str {
        match self {
            BankEntryKind::Interest => "Bunga bank",
            BankEntryKind::InterestTax => "Pajak atas bunga bank",
            BankEntryKind::AdminFee => "Biaya administrasi bank",
        }
    }

    /// Whether the bank takes it from the account (the tax and the fee) rather than adds it (interest).
    pub fn is_charge(self) -> bool {
        self != BankEntryKind::Interest
    }
}

/// Where the village charges a kind of bank charge: a spending budget line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeLine {
    pub account: String,
    pub activity: String,
    pub source: String,
}

impl ChargeLine {
    pub fn key(&self) -> LineKey {
        LineKey::new(&self.account, Some(&self.activity), Some(&self.source))
    }
}

/// Why a charge went to suspense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuspenseReason {
    /// The village has not chosen a line for this kind.
    NoLine,
    /// The chosen line is not in the adopted budget of the entry's year (or the year has none).
    NotBudgeted,
    /// The line has less available than the charge.
    LineExhausted { available: i64 },
}

impl SuspenseReason {
    pub fn describe(&self) -> String {
        match self {
            SuspenseReason::NoLine => "belum ada baris anggaran untuk jenis ini".into(),
            SuspenseReason::NotBudgeted => "baris anggarannya tidak ada di APBDes yang berlaku".into(),
            SuspenseReason::LineExhausted { available } => {
                format!("sisa baris anggaran Rp {} tidak cukup", super::money::Amount(*available))
            }
        }
    }
}

/// What one bank entry posts and what it does to the budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankEntryPlan {
    pub entries: Vec<EntryDraft>,
    /// The charged line's new position, when the charge was realised on it.
    pub budget_move: Option<(LineKey, Position)>,
    /// Set when the charge went to suspense.
    pub suspense: Option<SuspenseReason>,
}

/// Plans one bank entry. `line` is the village's chosen line for the kind (charges only), `position` that line's
/// live position in the adopted budget of the entry's year (`None` if the line or the budget is not there).
pub fn plan(
    kind: BankEntryKind,
    amount: Money,
    line: Option<&ChargeLine>,
    position: Option<Position>,
) -> BankEntryPlan {
    let entry = |account: &str, side, activity: Option<&str>, source: Option<&str>| EntryDraft {
        account_code: account.to_string(),
        side,
        amount,
        activity_code: activity.map(str::to_string),
        source: source.map(str::to_string),
    };
    if !kind.is_charge() {
        return BankEntryPlan {
            entries: vec![
                entry(BANK_ACCOUNT, Side::Debit, None, None),
                entry(INTEREST_ACCOUNT, Side::Credit, None, Some(INTEREST_SOURCE)),
            ],
            budget_move: None,
            suspense: None,
        };
    }
    let to_suspense = |reason| BankEntryPlan {
        entries: vec![entry(SUSPENSE, Side::Debit, None, None), entry(BANK_ACCOUNT, Side::Credit, None, None)],
        budget_move: None,
        suspense: Some(reason),
    };
    let Some(line) = line else { return to_suspense(SuspenseReason::NoLine) };
    let Some(pos) = position else { return to_suspense(SuspenseReason::NotBudgeted) };
    let key = line.key();
    let positions: BTreeMap<LineKey, Position> = [(key.clone(), pos)].into_iter().collect();
    let request: BTreeMap<LineKey, i64> = [(key, amount.sen())].into_iter().collect();
    match charge(&positions, &request) {
        Ok(mut moves) => BankEntryPlan {
            entries: vec![
                entry(&line.account, Side::Debit, Some(&line.activity), Some(&line.source)),
                entry(BANK_ACCOUNT, Side::Credit, None, None),
            ],
            budget_move: moves.pop(),
            suspense: None,
        },
        Err(_) => to_suspense(SuspenseReason::LineExhausted { available: pos.available() }),
    }
}

/// Clearing a charge held in suspense onto its budget line, once the line is in the adopted budget and can take it:
/// the plan the charge would have had when the bank charged it, with suspense credited instead of the bank account
/// (the money left the bank then). While the charge would still go to suspense, the reason it would.
pub fn clearing_plan(
    kind: BankEntryKind,
    amount: Money,
    line: Option<&ChargeLine>,
    position: Option<Position>,
) -> Result<BankEntryPlan, SuspenseReason> {
    let mut p = plan(kind, amount, line, position);
    if let Some(reason) = p.suspense.take() {
        return Err(reason);
    }
    for e in p.entries.iter_mut().filter(|e| e.account_code == BANK_ACCOUNT) {
        e.account_code = SUSPENSE.to_string();
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::posting::check_balanced;
    use proptest::prelude::*;

    fn fee_line() -> ChargeLine {
        ChargeLine { account: "5.2.5.90".into(), activity: "01.01.04".into(), source: "ADD".into() }
    }

    #[test]
    fn interest_is_revenue() {
        let p = plan(BankEntryKind::Interest, Money::from_sen(125_000).unwrap(), None, None);
        assert_eq!(p.entries[0].account_code, BANK_ACCOUNT);
        assert_eq!((p.entries[1].account_code.as_str(), p.entries[1].side), (INTEREST_ACCOUNT, Side::Credit));
        assert!(p.budget_move.is_none() && p.suspense.is_none());
    }

    #[test]
    fn a_charge_is_realised_on_its_line_or_goes_to_suspense() {
        let fee = Money::from_sen(1_500_000).unwrap();
        let p = plan(BankEntryKind::AdminFee, fee, Some(&fee_line()), Some(Position::with_ceiling(2_000_000)));
        assert_eq!(p.entries[0].account_code, "5.2.5.90");
        assert_eq!(p.entries[0].activity_code.as_deref(), Some("01.01.04"));
        assert_eq!(p.budget_move.unwrap().1, Position { ceiling: 2_000_000, committed: 0, realised: 1_500_000 });

        let full = Position { ceiling: 2_000_000, committed: 1_000_000, realised: 0 };
        let p = plan(BankEntryKind::AdminFee, fee, Some(&fee_line()), Some(full));
        assert_eq!(p.suspense, Some(SuspenseReason::LineExhausted { available: 1_000_000 }));
        assert_eq!((p.entries[0].account_code.as_str(), p.entries[1].account_code.as_str()), (SUSPENSE, BANK_ACCOUNT));
        assert_eq!(plan(BankEntryKind::InterestTax, fee, None, None).suspense, Some(SuspenseReason::NoLine));
        assert_eq!(
            plan(BankEntryKind::InterestTax, fee, Some(&fee_line()), None).suspense,
            Some(SuspenseReason::NotBudgeted)
        );
    }

    proptest! {
        /// Whatever the line's position, a charge always posts (balanced, the bank credited by the amount), and it
        /// is realised on the line exactly when the line can absorb it.
        #[test]
        fn a_charge_always_posts_and_never_overspends(
            amount in 1i64..5_000_000, ceiling in 0i64..5_000_000, used in 0i64..5_000_000, configured: bool,
        ) {
            let committed = used.min(ceiling);
            let pos = Position { ceiling, committed, realised: 0 };
            let line = fee_line();
            let p = plan(BankEntryKind::AdminFee, Money::from_sen(amount).unwrap(), configured.then_some(&line), Some(pos));
            prop_assert!(check_balanced(&p.entries).is_ok());
            prop_assert!(p.entries.iter().any(|e| e.account_code == BANK_ACCOUNT && e.side == Side::Credit && e.amount.sen() == amount));
            let fits = configured && amount <= ceiling - committed;
            prop_assert_eq!(p.budget_move.is_some(), fits);
            prop_assert_eq!(p.suspense.is_none(), fits);
            if let Some((_, after)) = p.budget_move {
                prop_assert!(after.is_sound());
                prop_assert_eq!(after.realised, amount);
            }
        }
    }

    #[test]
    fn a_charge_in_suspense_clears_onto_its_line_from_suspense_not_the_bank() {
        let line = ChargeLine { account: "5.1.3.04".into(), activity: "01.01.04".into(), source: "ADD".into() };
        let fee = Money::from_sen(1_500_000).unwrap();
        let room = Position { ceiling: 10_000_000, committed: 0, realised: 0 };
        let p = clearing_plan(BankEntryKind::AdminFee, fee, Some(&line), Some(room)).unwrap();
        assert_eq!(check_balanced(&p.entries).unwrap(), fee);
        assert!(p.entries.iter().any(|e| e.account_code == SUSPENSE && e.side == Side::Credit && e.amount == fee));
        assert!(p.entries.iter().any(|e| e.account_code == "5.1.3.04" && e.side == Side::Debit));
        assert!(
            !p.entries.iter().any(|e| e.account_code == BANK_ACCOUNT),
            "the bank account moved when it was charged"
        );
        assert!(p.budget_move.is_some(), "the line is realised");
        let full = Position { ceiling: 1_000_000, committed: 0, realised: 0 };
        assert!(matches!(
            clearing_plan(BankEntryKind::AdminFee, fee, Some(&line), Some(full)),
            Err(SuspenseReason::LineExhausted { .. })
        ));
        assert_eq!(clearing_plan(BankEntryKind::AdminFee, fee, None, None).err(), Some(SuspenseReason::NoLine));
    }
}
