//! The rules every journal transaction obeys, as pure functions: balanced, at least two entries, leaf accounts of the
//! village's chart, cash accounts never negative, cash in hand within its limit, and which kinds a treasurer may post
//! by hand. The store layer calls these inside the database transaction that holds the village's lock.

use super::accounts::{is_cash_account, Side, CASH_IN_HAND};
use super::money::{Amount, Money};
use chrono::NaiveDate;

use std::collections::{BTreeMap, HashMap};

/// Explicit bounds: a village transaction with more lines than this is a mistake, not a journal.
pub const MAX_ENTRIES: usize = 200;

text_enum! {
    pub enum TxnKind {
        Receipt = "receipt",
        Disbursement = "disbursement",
        TaxWithholding = "tax_withholding",
        TaxDeposit = "tax_deposit",
        Transfer = "transfer",
        OpeningBalance = "opening_balance",
        Reversal = "reversal",
        Adjustment = "adjustment",
        /// The bank's own entry: interest, the tax on it, its fee (`domain::bank_entry`).
        BankEntry = "bank_entry",
    }
}

text_enum! {
    /// A village's fiscal year: open from its first posting, closed by the head (nothing more is posted in it).
    pub enum YearStatus {
        Open = "open",
        Closed = "closed",
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
    #[error("{}", match limit {
        Some(l) => format!("a cash payment of {amount} is above the regency's limit of {l} per payment"),
        None => "the regency allows no payments from cash in hand".to_string(),
    })]
    CashPaymentOverLimit { amount: Amount, limit: Option<Amount> },
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
            if entries.iter().any(|e| {
                matches!(
                    super::accounts::class_of_code(&e.account_code),
                    Some(
                        super::accounts::AccountClass::Expenditure
                            | super::accounts::AccountClass::FinancingExpenditure
                    )
                )
            }) {
                return rule("an adjustment may not move spending (5.x, 6.2.x): spending is realised only through an approved request within its budget line");
            }
            Ok(())
        }
        TxnKind::BankEntry => rule("the bank's own entries are posted by the bank with POST /bank/entries"),
        TxnKind::Disbursement | TxnKind::TaxDeposit | TxnKind::TaxWithholding => {
            rule("disbursements and tax deposits are posted by the payment workflow when the bank confirms them")
        }
        TxnKind::Reversal => rule("reversals are made with POST /transactions/{id}/reverse"),
    }
}

/// Whether an official may reverse a posting by hand. A fact the bank reported (a disbursement or tax deposit it
/// executed, a credit it received, its own entry) is not undone by one official: the bank corrects it (a returned
/// transfer, a bank reversal) or, for a credit in suspense, the treasurer reclassifies it with an adjustment. A
/// reversal is not reversed again (post the original anew).
pub fn check_reversible_by_hand(kind: TxnKind, reported_by_bank: bool) -> Result<(), PostingError> {
    let refuse = |why: &str| Err(PostingError::KindRule(why.to_string()));
    match kind {
        TxnKind::Reversal => refuse("a reversal cannot itself be reversed; post the original again instead"),
        TxnKind::Disbursement | TxnKind::TaxDeposit | TxnKind::TaxWithholding | TxnKind::BankEntry => {
            refuse("the bank executed or reported this; it is corrected by the bank (a returned transfer, a bank reversal), not reversed by hand")
        }
        _ if reported_by_bank => refuse(
            "the bank reported this credit; it is corrected by the bank, or reclassified from suspense with an adjustment",
        ),
        _ => Ok(()),
    }
}

/// Whether a posting of this kind must leave the bank money released to transfers untouched. A bank entry does
/// not: the bank already took its fee, whatever it still has to pay out.
pub fn respects_reservation(kind: TxnKind) -> bool {
    kind != TxnKind::BankEntry
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

/// What a posting needs to know of its village, read under the village's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VillageHead {
    /// The last transaction's sequence number (gap-free per village).
    pub last_seq: i64,
    /// The chain's length and newest hash (transactions and workflow events share it).
    pub chain_len: i64,
    pub chain_head: String,
    /// The most cash in hand the village may hold, in sen.
    pub cash_limit: i64,
}

/// An account's balance before and after a posting (debit-positive, in sen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceChange {
    pub account: String,
    pub before: i64,
    pub after: i64,
}

/// Everything a checked posting writes besides its own header and entries: the sequence numbers it takes, the
/// fiscal year, each account's new balance and the daily totals the reports sum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingPlan {
    pub seq: i64,
    pub chain_seq: i64,
    pub fiscal_year: i32,
    /// In account order.
    pub balances: Vec<BalanceChange>,
    /// Σdebit and Σcredit per account on the value date, in account order.
    pub daily: BTreeMap<String, (i64, i64)>,
}

/// Why a posting cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Posting(#[from] PostingError),
    /// An entry names an account that is not in the village's chart.
    #[error("account {0} is not in this village's chart")]
    UnknownAccount(String),
}

/// The accounts a posting touches, sorted and without repeats: what the store reads balances for.
pub fn touched_accounts(entries: &[EntryDraft]) -> Vec<String> {
    let mut codes: Vec<String> = entries.iter().map(|e| e.account_code.clone()).collect();
    codes.sort();
    codes.dedup();
    codes
}

/// Whether the posting takes money out of the bank account: only then does the money promised to released
/// transfers (the reservation) matter, and only then does the store read it.
pub fn takes_from_bank(entries: &[EntryDraft]) -> bool {
    let out: i128 = entries
        .iter()
        .filter(|e| e.account_code == super::accounts::BANK_ACCOUNT)
        .map(|e| i128::from(e.side.signed(e.amount.sen())))
        .sum();
    out < 0
}

/// Plans a posting under the village's lock: balanced and within bounds, every account in the chart, cash accounts
/// not negative (the bank account less what released transfers hold, `reserved`), cash in hand within the limit,
/// and no balance past what the ledger holds. `balances` holds the current balance of every account of the chart
/// that the posting touches (an account missing from it is not in the chart).
pub fn plan_posting(
    head: &VillageHead,
    balances: &HashMap<String, i64>,
    reserved: i64,
    value_date: NaiveDate,
    entries: &[EntryDraft],
) -> Result<PostingPlan, PlanError> {
    check_balanced(entries)?;
    if let Some(missing) = entries.iter().find(|e| !balances.contains_key(&e.account_code)) {
        return Err(PlanError::UnknownAccount(missing.account_code.clone()));
    }
    let effects = net_effects(entries)?;
    check_cash_constraints(
        &effects,
        |code| {
            let balance = balances.get(code).copied().unwrap_or(0);
            if code == super::accounts::BANK_ACCOUNT {
                balance.saturating_sub(reserved)
            } else {
                balance
            }
        },
        head.cash_limit,
    )?;
    let mut changes = Vec::with_capacity(effects.len());
    for (code, delta) in &effects {
        let before = balances[code];
        let after = before.checked_add(*delta).ok_or(PostingError::Overflow)?;
        changes.push(BalanceChange { account: code.clone(), before, after });
    }
    let mut daily: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for e in entries {
        let slot = daily.entry(e.account_code.clone()).or_insert((0, 0));
        let side = match e.side {
            Side::Debit => &mut slot.0,
            Side::Credit => &mut slot.1,
        };
        // check_balanced bounded each side's sum, so no account's share of it can overflow.
        *side += e.amount.sen();
    }
    Ok(PostingPlan {
        seq: head.last_seq + 1,
        chain_seq: head.chain_len + 1,
        fiscal_year: chrono::Datelike::year(&value_date),
        balances: changes,
        daily,
    })
}

/// Several postings to one village planned one after the other under one lock, written in one go: each posting is
/// planned by [`plan_posting`] on the balances and the head the one before it left (so each is checked exactly as
/// if it were posted alone, and one refused leaves the others as they are), and [`PlanRun::combined`] gives what
/// the store writes for all of them: each account's balance before the first and after the last, and the daily
/// totals summed per account and value date.
#[derive(Debug, Clone)]
pub struct PlanRun {
    head: VillageHead,
    balances: HashMap<String, i64>,
    /// Each touched account's balance before the run (its first `before`).
    first: BTreeMap<String, i64>,
    daily: BTreeMap<(String, NaiveDate), (i64, i64)>,
    planned: usize,
}

/// What a run of plans writes, in account order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CombinedPlan {
    pub balances: Vec<BalanceChange>,
    /// Σdebit and Σcredit per (account, value date).
    pub daily: BTreeMap<(String, NaiveDate), (i64, i64)>,
    /// How many postings the run planned.
    pub postings: usize,
}

impl PlanRun {
    pub fn new(head: VillageHead, balances: HashMap<String, i64>) -> Self {
        PlanRun { head, balances, first: BTreeMap::new(), daily: BTreeMap::new(), planned: 0 }
    }

    /// The head the next posting is planned on.
    pub fn head(&self) -> &VillageHead {
        &self.head
    }

    /// Plans the next posting on what the run has planned so far. A refused posting changes nothing.
    pub fn plan(
        &mut self,
        reserved: i64,
        value_date: NaiveDate,
        entries: &[EntryDraft],
    ) -> Result<PostingPlan, PlanError> {
        let plan = plan_posting(&self.head, &self.balances, reserved, value_date, entries)?;
        // The daily totals first: the only step that can fail, so that a refusal leaves the run untouched.
        let mut daily = self.daily.clone();
        for (code, (debit, credit)) in &plan.daily {
            let slot = daily.entry((code.clone(), value_date)).or_insert((0, 0));
            slot.0 = slot.0.checked_add(*debit).ok_or(PostingError::Overflow)?;
            slot.1 = slot.1.checked_add(*credit).ok_or(PostingError::Overflow)?;
        }
        self.daily = daily;
        for b in &plan.balances {
            let now = self.balances.get_mut(&b.account).expect("plan_posting only plans accounts it was given");
            assert_eq!(*now, b.before, "a plan starts from the balance the run left");
            *now = b.after;
            self.first.entry(b.account.clone()).or_insert(b.before);
        }
        self.head.last_seq = plan.seq;
        self.head.chain_len = plan.chain_seq;
        self.planned += 1;
        Ok(plan)
    }

    /// The hash the next posting links to.
    pub fn head_hash(&self) -> &str {
        &self.head.chain_head
    }

    /// Sets the hash the next posting links to, once the caller has hashed the one just planned.
    pub fn linked(&mut self, hash: String) {
        self.head.chain_head = hash;
    }

    pub fn combined(&self) -> CombinedPlan {
        CombinedPlan {
            balances: self
                .first
                .iter()
                .map(|(code, before)| BalanceChange {
                    account: code.clone(),
                    before: *before,
                    after: self.balances[code],
                })
                .collect(),
            daily: self.daily.clone(),
            postings: self.planned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::accounts::BANK_ACCOUNT;

    use proptest::prelude::*;

    /// The four accounts the generated postings touch, with these balances of cash and bank.
    fn chart(cash: i64, bank: i64) -> HashMap<String, i64> {
        [
            (CASH_IN_HAND.to_string(), cash),
            (BANK_ACCOUNT.to_string(), bank),
            ("4.1.4.01".to_string(), 0),
            ("5.2.1.01".to_string(), 0),
        ]
        .into_iter()
        .collect()
    }

    fn head() -> VillageHead {
        VillageHead { last_seq: 7, chain_len: 9, chain_head: "ab".into(), cash_limit: 1_000 }
    }

    #[test]
    fn a_plan_numbers_and_totals_the_posting() {
        let balances: HashMap<String, i64> =
            [(BANK_ACCOUNT.to_string(), 500), ("4.1.4.01".to_string(), -20)].into_iter().collect();
        let date = NaiveDate::from_ymd_opt(2026, 10, 5).unwrap();
        let p = plan_posting(
            &head(),
            &balances,
            0,
            date,
            &[e(BANK_ACCOUNT, Side::Debit, 30), e("4.1.4.01", Side::Credit, 30)],
        )
        .unwrap();
        assert_eq!((p.seq, p.chain_seq, p.fiscal_year), (8, 10, 2026));
        assert_eq!(p.balances[0], BalanceChange { account: BANK_ACCOUNT.into(), before: 500, after: 530 });
        assert_eq!(p.balances[1], BalanceChange { account: "4.1.4.01".into(), before: -20, after: -50 });
        assert_eq!(p.daily[BANK_ACCOUNT], (30, 0));
        let unknown = plan_posting(
            &head(),
            &balances,
            0,
            date,
            &[e(BANK_ACCOUNT, Side::Debit, 1), e("9.9.9.99", Side::Credit, 1)],
        );
        assert_eq!(unknown, Err(PlanError::UnknownAccount("9.9.9.99".into())));
        // The reservation of released transfers is not available to anything else.
        let spend = [e("5.2.1.01", Side::Debit, 400), e(BANK_ACCOUNT, Side::Credit, 400)];
        let mut with_spend = balances.clone();
        with_spend.insert("5.2.1.01".into(), 0);
        assert!(plan_posting(&head(), &with_spend, 100, date, &spend).is_ok());
        assert!(matches!(
            plan_posting(&head(), &with_spend, 101, date, &spend),
            Err(PlanError::Posting(PostingError::InsufficientFunds { .. }))
        ));
        assert!(takes_from_bank(&spend) && !takes_from_bank(&[e(BANK_ACCOUNT, Side::Debit, 1)]));
    }

    fn account() -> impl Strategy<Value = &'static str> {
        prop_oneof![Just(CASH_IN_HAND), Just(BANK_ACCOUNT), Just("4.1.4.01"), Just("5.2.1.01")]
    }

    /// Amounts, often small enough to land exactly on a limit.
    fn sen() -> impl Strategy<Value = i64> {
        prop_oneof![1i64..12, 1i64..1_000]
    }

    /// Postings that balance by construction (pairs of a debit and a credit of one amount), and sometimes one entry
    /// more that unbalances them.
    fn entries() -> impl Strategy<Value = Vec<EntryDraft>> {
        (
            proptest::collection::vec((account(), account(), sen()), 0..4),
            proptest::option::weighted(0.2, (account(), sen())),
        )
            .prop_map(|(pairs, extra)| {
                let mut out: Vec<EntryDraft> = pairs
                    .into_iter()
                    .flat_map(|(dr, cr, sen)| [e(dr, Side::Debit, sen), e(cr, Side::Credit, sen)])
                    .collect();
                out.extend(extra.map(|(code, sen)| e(code, Side::Debit, sen)));
                out
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1_000))]

        /// Whatever the entries and balances: a plan exists only for a balanced posting; its balances move by
        /// exactly the entries' net effect (Σ after − before = 0, the books stay balanced); no cash account ends
        /// below zero (the bank below its reservation) when money left it; cash in hand never rises above the
        /// limit; and the daily totals add up to the entries.
        #[test]
        fn plans_keep_the_ledger_invariants(
            entries in entries(),
            cash in prop_oneof![0i64..1_500, 985i64..1_001], bank in 0i64..1_500, reserved in 0i64..500,
        ) {
            let balances = chart(cash, bank);
            let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
            // The model: what the rules say, computed independently of the plan.
            let net = |code: &str| -> i64 {
                entries.iter().filter(|e| e.account_code == code).map(|e| e.side.signed(e.amount.sen())).sum()
            };
            let (cash_net, bank_net) = (net(CASH_IN_HAND), net(BANK_ACCOUNT));
            let acceptable = check_balanced(&entries).is_ok()
                && (bank_net >= 0 || bank + bank_net >= reserved)
                && (cash_net >= 0 || cash + cash_net >= 0)
                && (cash_net <= 0 || cash + cash_net <= 1_000);
            let planned = plan_posting(&head(), &balances, reserved, date, &entries);
            prop_assert_eq!(planned.is_ok(), acceptable, "{:?}", planned);
            if let Ok(plan) = planned {
                let moved: i64 = plan.balances.iter().map(|b| b.after - b.before).sum();
                prop_assert_eq!(moved, 0);
                for b in &plan.balances {
                    let net: i64 = entries.iter().filter(|e| e.account_code == b.account).map(|e| e.side.signed(e.amount.sen())).sum();
                    prop_assert_eq!(b.after - b.before, net);
                    if b.account == BANK_ACCOUNT && net < 0 {
                        prop_assert!(b.after >= reserved, "bank {} below its reservation {}", b.after, reserved);
                    }
                    if b.account == CASH_IN_HAND {
                        prop_assert!(net >= 0 || b.after >= 0);
                        prop_assert!(net <= 0 || b.after <= 1_000);
                    }
                }
                let (d, c) = plan.daily.values().fold((0, 0), |(d, c), (x, y)| (d + x, c + y));
                prop_assert_eq!(d, c);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// A run of postings planned under one lock writes what posting them one by one would: the same postings
        /// accepted and refused (each checked alone, on the balances the accepted ones before it left), each
        /// account moved by exactly the accepted entries, numbered without gaps, and daily totals that add up to
        /// the accepted entries per account and day.
        #[test]
        fn a_run_of_plans_writes_what_postings_one_by_one_would(
            postings in proptest::collection::vec((entries(), 0u32..3), 1..12),
            cash in 0i64..1_000, bank in 0i64..1_500,
        ) {
            let start = chart(cash, bank);
            let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, 1 + d).unwrap();
            let mut run = PlanRun::new(head(), start.clone());
            // The model: each posting alone, on a copy of the balances and head that the accepted ones advance.
            let (mut balances, mut h) = (start.clone(), head());
            let mut accepted: Vec<(u32, &Vec<EntryDraft>)> = Vec::new();
            for (entries, d) in &postings {
                let alone = plan_posting(&h, &balances, 0, day(*d), entries);
                let in_run = run.plan(0, day(*d), entries);
                prop_assert_eq!(alone.is_ok(), in_run.is_ok());
                if let (Ok(a), Ok(r)) = (alone, in_run) {
                    prop_assert_eq!(&a, &r);
                    for b in &a.balances {
                        balances.insert(b.account.clone(), b.after);
                    }
                    h.last_seq = a.seq;
                    h.chain_len = a.chain_seq;
                    run.linked(format!("h{}", a.seq));
                    h.chain_head = format!("h{}", a.seq);
                    accepted.push((*d, entries));
                }
                prop_assert_eq!(run.head(), &h);
            }
            let combined = run.combined();
            prop_assert_eq!(combined.postings, accepted.len());
            prop_assert_eq!(h.last_seq, head().last_seq + i64::try_from(accepted.len()).unwrap());
            for b in &combined.balances {
                prop_assert_eq!(b.before, start[&b.account]);
                prop_assert_eq!(b.after, balances[&b.account]);
                let net: i64 = accepted
                    .iter()
                    .flat_map(|(_, es)| es.iter())
                    .filter(|e| e.account_code == b.account)
                    .map(|e| e.side.signed(e.amount.sen()))
                    .sum();
                prop_assert_eq!(b.after - b.before, net);
            }
            // Every account that moved is written, and none that was not touched.
            for (code, after) in &balances {
                let written = combined.balances.iter().find(|b| &b.account == code);
                prop_assert!(written.is_some() || *after == start[code]);
            }
            for ((code, date), (debit, credit)) in &combined.daily {
                let sum = |side: Side| -> i64 {
                    accepted
                        .iter()
                        .filter(|(d, _)| day(*d) == *date)
                        .flat_map(|(_, es)| es.iter())
                        .filter(|e| &e.account_code == code && e.side == side)
                        .map(|e| e.amount.sen())
                        .sum()
                };
                prop_assert_eq!(*debit, sum(Side::Debit));
                prop_assert_eq!(*credit, sum(Side::Credit));
            }
        }
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
