//! The pure domain core: every rule that decides money, workflow or the chain. No I/O here: the store reads the
//! inputs, calls these functions, and writes what they return.
//!
//! - `money`: exact amounts (integer sen) and their parsing.
//! - `accounts`: the chart, code formats, sources of funds and taxes.
//! - `posting`: what every journal transaction obeys, and the posting plan (numbers, balances, daily totals).
//! - `budget`: budget positions: commit, release, realise, revise.
//! - `workflow`: the payment request's state machine, separation of duties, the request's totals.
//! - `settlement`: what a bank result posts, what a cancel gives back.
//! - `chain`: canonical forms, hashes, digests and the walk of verification.
//! - `ids`: one id type per kind of record (village, payment, transfer, transaction, user).
//! - `roles`: who may do what.
//! - `text`: the text a request carries, parsed once (descriptions, notes, bank and tax identifiers, credentials).

pub mod accounts;
pub mod budget;
pub mod chain;
pub mod ids;
pub mod money;
pub mod posting;
pub mod roles;
pub mod settlement;
pub mod text;
pub mod workflow;

/// The domain's enums print as their stored and wire text (`as_str`).
macro_rules! display_as_str {
    ($($ty:ty),* $(,)?) => {
        $(
            impl std::fmt::Display for $ty {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        )*
    };
}

display_as_str!(
    workflow::PaymentStatus,
    workflow::TransferStatus,
    workflow::Step,
    posting::TxnKind,
    posting::YearStatus,
    accounts::Side,
    accounts::AccountClass,
    roles::Role,
    settlement::PaymentKind,
    budget::BudgetStatus,
);
