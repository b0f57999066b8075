//! The rules every journal transaction obeys, as pure functions: balanced, at least two entries, leaf accounts of the
//! village's chart, cash accounts never negative, cash in hand within its limit, and which kinds a treasurer may post
//! by hand. The store layer calls these inside the database transaction that holds the village's lock.

use super::accounts::{is_cash_account, Side, CASH_IN_HAND};
use super::money::{Amount, Money};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Explicit bounds: a village transaction with more lines than this is a mistake, not a journal.
pub const MAX_ENTRIES: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TxnKind {
    Receipt,
    Disbursement,
    TaxWithholding,
    TaxDeposit,
    Transfer,
    OpeningBalance,
    Reversal,
    Adjustment,
}

impl TxnKind {
    pub const ALL: [TxnKind; 8] = [
        TxnKind::Receipt,
        TxnKind::Disbursement,
        TxnKind::TaxWithholding,
        TxnKind::TaxDeposit,
        TxnKind::Transfer,
        TxnKind::OpeningBalance,
        TxnKind::Reversal,
        TxnKind::Adjustment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TxnKind::Receipt => "receipt",
            TxnKind::Disbursement => "disbursement",
            TxnKind::TaxWithholding => "tax_withholding",
            TxnKind::TaxDeposit => "tax_deposit",
            TxnKind::Transfer => "transfer",
            TxnKind::OpeningBalance => "opening_balance",
            TxnKind::Reversal => "reversal",
            TxnKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(s: &str) -> Option<TxnKind> {
        TxnKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDraft {
    pub account_code: String,
    pub side: Side,
    pub amount: Money,
    pub activity_code: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostingError {
    #[error("a transaction needs at least two entries")]
    TooFewEntries,
    #[error("a transaction may have at most {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("debits {debits} do not equal credits {credits}")]
    Unbalanced { debits: Amount, credits: Amount },
    #[error("the sum of one side exceeds the largest amount the ledger holds")]
    Overflow,
    #[error("{0}")]
    KindRule(String),
    #[error("account {account} would go negative: balance {balance}, this transaction takes {needed}")]
    InsufficientFunds { account: String, balance: Amount, needed: Amount },
    #[error("cash in hand would be {would_be}, above the village's cash limit of {limit}")]
    CashLimitExceeded { would_be: Amount, limit: Amount },
}

/// Σdebits = Σcredits and the entry count bounds. Returns the transaction's total (one side).
pub fn check_balanced(entries: &[EntryDraft]) -> Result<Money, PostingError> {
    if entries.len() < 2 {
        return Err(PostingError::TooFewEntries);
    }
    if entries.len() > MAX_ENTRIES {
        return Err(PostingError::TooManyEntries);
    }
    let (mut debits, mut credits) = (0i64, 0i64);
    for e in entries {
        let total = match e.side {
            Side::Debit => &mut debits,
            Side::Credit => &mut credits,
        };
        *total = total.checked_add(e.amount.sen()).ok_or(PostingError::Overflow)?;
    }
    if debits != credits {
        return Err(PostingError::Unbalanced { debits: Amount(debits), credits: Amount(credits) });
    }
    Money::from_sen(debits).map_err(|_| PostingError::Overflow)
}

/// The net debit-positive change each account sees from these entries.
pub fn net_effects(entries: &[EntryDraft]) -> Result<BTreeMap<String, i64>, PostingError> {
    let mut effects: BTreeMap<String, i64> = BTreeMap::new();
    for e in entries {
        let slot = effects.entry(e.account_code.clone()).or_insert(0);
        *slot = slot.checked_add(e.side.signed(e.amount.sen())).ok_or(PostingError::Overflow)?;
    }
    Ok(effects)
}

/// Cash accounts may not go negative, and cash in hand may not exceed the village's limit. `balance_before` gives
/// the debit-positive balance of an account before this transaction.
pub fn check_cash_constraints(
    effects: &BTreeMap<String, i64>,
    balance_before: impl Fn(&str) -> i64,
    cash_limit_sen: i64,
) -> Result<(), PostingError> {
    // Missing money is reported before the cash limit: it is the more fundamental refusal.
    for (code, delta) in effects.iter().filter(|(code, _)| is_cash_account(code)) {
        let before = balance_before(code);
        let after = before.checked_add(*delta).ok_or(PostingError::Overflow)?;
        // A posting that adds money is never refused for lack of it.
        if *delta < 0 && after < 0 {
            return Err(PostingError::InsufficientFunds {
                account: code.clone(),
                balance: Amount(before),
                needed: Amount(-delta),
            });
        }
    }
    if let Some(delta) = effects.get(CASH_IN_HAND) {
        let after = balance_before(CASH_IN_HAND).checked_add(*delta).ok_or(PostingError::Overflow)?;
        // Only an increase is refused: a limit lowered by the regency must not block spending the excess down.
        if *delta > 0 && after > cash_limit_sen {
            return Err(PostingError::CashLimitExceeded { would_be: Amount(after), limit: Amount(cash_limit_sen) });
        }
    }
    Ok(())
}

/// The kinds a treasurer may post through `POST /villages/{id}/transactions`, and what each may touch. Money leaves
/// the bank account only through an approved payment, so no manual kind may credit it except a withdrawal to cash in
/// hand (`transfer`), which the cash limit bounds.
pub fn check_manual_kind(kind: TxnKind, entries: &[EntryDraft]) -> Result<(), PostingError> {
    let rule = |msg: &str| Err(PostingError::KindRule(msg.to_string()));
    let touches_cash = entries.iter().any(|e| is_cash_account(&e.account_code));
    let credits_cash = entries.iter().any(|e| is_cash_account(&e.account_code) && e.side == Side::Credit);
    match kind {
        TxnKind::Receipt => {
            if !entries.iter().any(|e| is_cash_account(&e.account_code) && e.side == Side::Debit) {
                return rule("a receipt debits cash in hand (1.1.1.01) or the village bank account (1.1.1.02)");
            }
            if credits_cash {
                return rule("a receipt may not credit a cash account");
            }
            Ok(())
        }
        TxnKind::Transfer => {
            if !entries.iter().all(|e| is_cash_account(&e.account_code)) {
                return rule("a transfer moves money between cash in hand and the bank account only");
            }
            Ok(())
        }
        TxnKind::OpeningBalance => {
            if credits_cash {
                return rule("an opening balance may not credit a cash account");
            }
            Ok(())
        }
        TxnKind::Adjustment => {
            if touches_cash {
                return rule("an adjustment reclassifies between non-cash accounts; cash moves through receipts, transfers and payments");
            }
            Ok(())
        }
        TxnKind::Disbursement | TxnKind::TaxDeposit | TxnKind::TaxWithholding => {
            rule("disbursements and tax deposits are posted by the payment workflow when the bank confirms them")
        }
        TxnKind::Reversal => rule("reversals are made with POST /transactions/{id}/reverse"),
    }
}

/// The entries of a reversal: the same lines, sides swapped.
pub fn reversal_entries(original: &[EntryDraft]) -> Vec<EntryDraft> {
    original.iter().map(|e| EntryDraft { side: e.side.opposite(), ..e.clone() }).collect()
}

/// A value date is refused when it lies after the latest "today" anywhere in Indonesia (WIT, UTC+9): a journal
/// records what happened, not what is planned.
pub fn latest_allowed_value_date(now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    (now + chrono::Duration::hours(9)).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::BANK_ACCOUNT;

    fn e(code: &str, side: Side, sen: i64) -> EntryDraft {
        EntryDraft {
            account_code: code.into(),
            side,
            amount: Money::from_sen(sen).unwrap(),
            activity_code: None,
            source: None,
        }
    }

    #[test]
    fn balance_and_counts() {
        assert_eq!(check_balanced(&[e(BANK_ACCOUNT, Side::Debit, 5)]), Err(PostingError::TooFewEntries));
        assert!(matches!(
            check_balanced(&[e(BANK_ACCOUNT, Side::Debit, 5), e("4.2.1.01", Side::Credit, 4)]),
            Err(PostingError::Unbalanced { .. })
        ));
        assert_eq!(
            check_balanced(&[e(BANK_ACCOUNT, Side::Debit, 5), e("4.2.1.01", Side::Credit, 5)]).unwrap().sen(),
            5
        );
        let many: Vec<_> = (0..=MAX_ENTRIES).map(|_| e(BANK_ACCOUNT, Side::Debit, 1)).collect();
        assert_eq!(check_balanced(&many), Err(PostingError::TooManyEntries));
    }

    #[test]
    fn cash_rules() {
        let fx = net_effects(&[e(CASH_IN_HAND, Side::Debit, 100), e(BANK_ACCOUNT, Side::Credit, 100)]).unwrap();
        assert!(matches!(check_cash_constraints(&fx, |_| 50, 1_000), Err(PostingError::InsufficientFunds { .. })));
        assert!(matches!(
            check_cash_constraints(&fx, |c| if c == BANK_ACCOUNT { 500 } else { 950 }, 1_000),
            Err(PostingError::CashLimitExceeded { .. })
        ));
        assert!(check_cash_constraints(&fx, |c| if c == BANK_ACCOUNT { 500 } else { 900 }, 1_000).is_ok());
    }

    #[test]
    fn manual_kinds() {
        let receipt = [e(BANK_ACCOUNT, Side::Debit, 5), e("4.1.4.01", Side::Credit, 5)];
        assert!(check_manual_kind(TxnKind::Receipt, &receipt).is_ok());
        assert!(check_manual_kind(TxnKind::Adjustment, &receipt).is_err());
        assert!(check_manual_kind(TxnKind::Disbursement, &receipt).is_err());
        let spend = [e("5.2.1.01", Side::Debit, 5), e(BANK_ACCOUNT, Side::Credit, 5)];
        assert!(check_manual_kind(TxnKind::Receipt, &spend).is_err());
        assert!(check_manual_kind(TxnKind::OpeningBalance, &spend).is_err());
        assert!(check_manual_kind(TxnKind::Transfer, &spend).is_err());
        let reclass = [e(super::super::accounts::SUSPENSE, Side::Debit, 5), e("4.2.1.01", Side::Credit, 5)];
        assert!(check_manual_kind(TxnKind::Adjustment, &reclass).is_ok());
    }
}
