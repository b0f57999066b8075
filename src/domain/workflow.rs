//! The payment request (SPP) state machine, who may take each step, separation of duties, and the request's
//! arithmetic (gross, withheld, net). Pure: the store applies these under the village's lock.

use super::roles::Role;
use super::settlement::PaymentKind;
use serde::{Deserialize, Serialize};

text_enum! {
    pub enum PaymentStatus {
        Draft = "draft",
        Submitted = "submitted",
        Verified = "verified",
        Approved = "approved",
        Released = "released",
        Paid = "paid",
        Returned = "returned",
        Rejected = "rejected",
        Cancelled = "cancelled",
        Failed = "failed",
        /// Some receipts paid, the others failed: the failed ones may be released again or cancelled.
        PartiallyPaid = "partially_paid",
        /// A paid advance whose accountability (SPJ) realised its spending and returned the rest.
        Accounted = "accounted",
    }
}

impl PaymentStatus {
    /// While committed, the request's lines hold budget: from approval until paid (realised) or cancelled.
    pub fn holds_commitment(self) -> bool {
        matches!(
            self,
            PaymentStatus::Approved | PaymentStatus::Released | PaymentStatus::Failed | PaymentStatus::PartiallyPaid
        )
    }
}

text_enum! {
    /// A transfer the treasurer released to the bank: waiting, or settled by the bank's result.
    pub enum TransferStatus {
        /// Waiting for the bank's result; its amount is reserved from the bank account.
        Released = "released",
        /// The bank executed it; the payment is posted.
        Paid = "paid",
        /// The bank could not execute it; the request may be released again or cancelled.
        Failed = "failed",
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    Verify,
    Return,
    Approve,
    Reject,
    Release,
    Cancel,
    /// The bank confirms the transfer.
    Pay,
    /// The bank reports the transfer failed.
    Fail,
    /// The treasurer pays an approved request from cash in hand.
    PayCash,
    /// The implementer accounts for a paid advance (SPJ).
    Account,
    /// The drafter changes what a draft or returned request asks for; it is a draft again, to be submitted anew.
    Edit,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::Verify => "verify",
            Action::Return => "return",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Release => "release",
            Action::Cancel => "cancel",
            Action::Pay => "pay",
            Action::Fail => "fail",
            Action::PayCash => "pay_cash",
            Action::Account => "account",
            Action::Edit => "edit",
        }
    }
}

text_enum! {
    /// The duties that separation of duties keeps apart: one user performs at most one of them on a request.
    pub enum Step {
        Draft = "draft",
        Verify = "verify",
        Approve = "approve",
        Release = "release",
        Settle = "settle",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    #[error("a {role} may not {action} a payment request")]
    Forbidden { role: &'static str, action: &'static str },
    #[error("cannot {action} a payment request that is {from}")]
    InvalidTransition { action: &'static str, from: &'static str },
    #[error("you already performed the {done} step of this request; the {step} step must be someone else's")]
    SeparationOfDuties { done: &'static str, step: &'static str },
}

/// Who drafts a request of `kind`, and the duty drafting belongs to: the implementer drafts a payment (SPP); the
/// treasurer, as the village's withholding agent, drafts a tax deposit, and drafting, submitting and releasing it are
/// one duty (the treasurer's), kept apart from the secretary's verification and the head's approval.
pub fn drafter(kind: PaymentKind) -> (Role, Step) {
    match kind {
        PaymentKind::Spp | PaymentKind::Advance => (Role::Implementer, Step::Draft),
        PaymentKind::TaxDeposit => (Role::Treasurer, Step::Release),
    }
}

/// Checks role then state for a request of `kind`. Returns the new status and the duty this action belongs to.
pub fn transition(
    kind: PaymentKind,
    from: PaymentStatus,
    action: Action,
    role: Role,
) -> Result<(PaymentStatus, Step), WorkflowError> {
    use PaymentStatus as S;
    let forbidden = || WorkflowError::Forbidden { role: role.as_str(), action: action.as_str() };
    let invalid = || WorkflowError::InvalidTransition { action: action.as_str(), from: from.as_str() };
    let (drafting_role, drafting_step) = drafter(kind);
    let (allowed_role, step) = match action {
        Action::Submit => (drafting_role, drafting_step),
        Action::Verify | Action::Return => (Role::Secretary, Step::Verify),
        Action::Approve | Action::Reject => (Role::Head, Step::Approve),
        Action::Release | Action::PayCash => (Role::Treasurer, Step::Release),
        Action::Pay | Action::Fail => (Role::Bank, Step::Settle),
        // The SPJ is the drafter's: the implementer who drew the advance accounts for it.
        Action::Account | Action::Edit => (drafting_role, drafting_step),
        Action::Cancel => {
            // The drafter withdraws their own unsubmitted request; the head cancels an approved one.
            return match from {
                S::Draft | S::Returned if role == drafting_role => Ok((S::Cancelled, drafting_step)),
                S::Approved | S::Failed if role == Role::Head => Ok((S::Cancelled, Step::Approve)),
                // The failed receipts are cancelled (their commitment released); what was paid stays paid.
                S::PartiallyPaid if role == Role::Head => Ok((S::Paid, Step::Approve)),
                S::Draft | S::Returned | S::Approved | S::Failed | S::PartiallyPaid
                    if role == drafting_role || role == Role::Head =>
                {
                    Err(forbidden())
                }
                _ if role == drafting_role || role == Role::Head => Err(invalid()),
                _ => Err(forbidden()),
            };
        }
    };
    if role != allowed_role {
        return Err(forbidden());
    }
    let to = match (action, from) {
        (Action::Submit, S::Draft | S::Returned) => S::Submitted,
        (Action::Verify, S::Submitted) => S::Verified,
        (Action::Return, S::Submitted | S::Verified) => S::Returned,
        (Action::Approve, S::Verified) => S::Approved,
        (Action::Reject, S::Verified) => S::Rejected,
        (Action::Release, S::Approved | S::Failed | S::PartiallyPaid) => S::Released,
        (Action::Pay, S::Released) => S::Paid,
        (Action::Fail, S::Released) => S::Failed,
        // Taxes are paid with a billing code through the bank, never in cash.
        (Action::PayCash, S::Approved | S::Failed) if kind == PaymentKind::Spp => S::Paid,
        (Action::Account, S::Paid) if kind == PaymentKind::Advance => S::Accounted,
        // What was verified or approved is no longer the drafter's to change; a tax deposit is drafted anew.
        (Action::Edit, S::Draft | S::Returned) if kind != PaymentKind::TaxDeposit => S::Draft,
        _ => return Err(invalid()),
    };
    Ok((to, step))
}

/// Separation of duties: `actor` may take `step` only if every step they already took on this request is the same.
pub fn check_separation(history: &[(String, Step)], actor: &str, step: Step) -> Result<(), WorkflowError> {
    match history.iter().find(|(who, done)| who == actor && *done != step) {
        Some((_, done)) => Err(WorkflowError::SeparationOfDuties { done: done.as_str(), step: step.as_str() }),
        None => Ok(()),
    }
}

/// A line's gross and the sum of its withholdings; the request's totals. Net must stay positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub gross: i64,
    pub withheld: i64,
    pub net: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotalsError {
    #[error("line {line}: withholdings {withheld} sen are not less than the line's amount {amount} sen")]
    WithholdingTooLarge { line: usize, amount: i64, withheld: i64 },
    #[error("the request's total exceeds the largest amount the ledger holds")]
    Overflow,
}

/// `lines` is (amount, [withholding amounts]) in sen.
pub fn totals(lines: &[(i64, Vec<i64>)]) -> Result<Totals, TotalsError> {
    let (mut gross, mut withheld) = (0i64, 0i64);
    for (i, (amount, taxes)) in lines.iter().enumerate() {
        let line_withheld = taxes.iter().try_fold(0i64, |acc, t| acc.checked_add(*t)).ok_or(TotalsError::Overflow)?;
        if line_withheld >= *amount {
            return Err(TotalsError::WithholdingTooLarge { line: i, amount: *amount, withheld: line_withheld });
        }
        gross = gross.checked_add(*amount).ok_or(TotalsError::Overflow)?;
        withheld = withheld.checked_add(line_withheld).ok_or(TotalsError::Overflow)?;
    }
    if gross > super::money::Money::MAX_SEN {
        return Err(TotalsError::Overflow);
    }
    Ok(Totals { gross, withheld, net: gross - withheld })
}

#[cfg(test)]
mod tests {
    use super::*;
    use PaymentStatus as S;

    #[test]
    fn the_happy_path() {
        let steps = [
            (S::Draft, Action::Submit, Role::Implementer, S::Submitted),
            (S::Submitted, Action::Verify, Role::Secretary, S::Verified),
            (S::Verified, Action::Approve, Role::Head, S::Approved),
            (S::Approved, Action::Release, Role::Treasurer, S::Released),
            (S::Released, Action::Pay, Role::Bank, S::Paid),
        ];
        for (from, action, role, to) in steps {
            assert_eq!(transition(PaymentKind::Spp, from, action, role).unwrap().0, to);
        }
    }

    #[test]
    fn every_other_pair_is_refused() {
        let roles = Role::ALL;
        let actions = [
            Action::Submit,
            Action::Verify,
            Action::Return,
            Action::Approve,
            Action::Reject,
            Action::Release,
            Action::Cancel,
            Action::Pay,
            Action::Fail,
            Action::PayCash,
            Action::Edit,
        ];
        let mut allowed = 0;
        for from in PaymentStatus::ALL {
            for action in actions {
                for role in roles {
                    if transition(PaymentKind::Spp, from, action, role).is_ok() {
                        allowed += 1;
                    }
                }
            }
        }
        // submit×2, verify, return×2, approve, reject, release×3, pay, fail, cancel×5, pay_cash×2, edit×2 = 21
        assert_eq!(allowed, 21);
        // Only the drafter edits, and only before verification; a tax deposit is not edited.
        assert_eq!(transition(PaymentKind::Spp, S::Returned, Action::Edit, Role::Implementer).unwrap().0, S::Draft);
        assert!(matches!(
            transition(PaymentKind::Spp, S::Submitted, Action::Edit, Role::Implementer),
            Err(WorkflowError::InvalidTransition { .. })
        ));
        assert!(matches!(
            transition(PaymentKind::Spp, S::Returned, Action::Edit, Role::Secretary),
            Err(WorkflowError::Forbidden { .. })
        ));
        assert!(transition(PaymentKind::TaxDeposit, S::Draft, Action::Edit, Role::Treasurer).is_err());
        assert!(matches!(
            transition(PaymentKind::TaxDeposit, S::Approved, Action::PayCash, Role::Treasurer),
            Err(WorkflowError::InvalidTransition { .. })
        ));
        assert!(matches!(
            transition(PaymentKind::Spp, S::Paid, Action::Cancel, Role::Head),
            Err(WorkflowError::InvalidTransition { .. })
        ));
        assert!(matches!(
            transition(PaymentKind::Spp, S::Approved, Action::Cancel, Role::Implementer),
            Err(WorkflowError::Forbidden { .. })
        ));
        assert!(matches!(
            transition(PaymentKind::Spp, S::Draft, Action::Verify, Role::Secretary),
            Err(WorkflowError::InvalidTransition { .. })
        ));
        assert!(matches!(
            transition(PaymentKind::Spp, S::Submitted, Action::Verify, Role::Head),
            Err(WorkflowError::Forbidden { .. })
        ));
    }

    #[test]
    fn the_treasurer_drafts_and_releases_a_tax_deposit_as_one_duty() {
        use PaymentKind::TaxDeposit as T;
        let steps = [
            (S::Draft, Action::Submit, Role::Treasurer, S::Submitted, Step::Release),
            (S::Submitted, Action::Verify, Role::Secretary, S::Verified, Step::Verify),
            (S::Verified, Action::Approve, Role::Head, S::Approved, Step::Approve),
            (S::Approved, Action::Release, Role::Treasurer, S::Released, Step::Release),
        ];
        let mut history = Vec::new();
        for (from, action, role, to, step) in steps {
            assert_eq!(transition(T, from, action, role).unwrap(), (to, step));
            let who = role.as_str().to_string();
            assert!(check_separation(&history, &who, step).is_ok(), "{action:?}");
            history.push((who, step));
        }
        assert!(matches!(
            transition(T, S::Draft, Action::Submit, Role::Implementer),
            Err(WorkflowError::Forbidden { .. })
        ));
        assert_eq!(transition(T, S::Draft, Action::Cancel, Role::Treasurer).unwrap().0, S::Cancelled);
        assert!(matches!(
            transition(T, S::Draft, Action::Cancel, Role::Implementer),
            Err(WorkflowError::Forbidden { .. })
        ));
        // The head who approved still may not release, and the treasurer may not approve.
        assert!(transition(T, S::Verified, Action::Approve, Role::Treasurer).is_err());
        assert_eq!(drafter(T), (Role::Treasurer, Step::Release));
    }

    #[test]
    fn separation_of_duties() {
        let history = vec![("ani".to_string(), Step::Draft), ("budi".to_string(), Step::Verify)];
        assert!(check_separation(&history, "ani", Step::Draft).is_ok());
        assert!(check_separation(&history, "budi", Step::Approve).is_err());
        assert!(check_separation(&history, "citra", Step::Approve).is_ok());
    }

    #[test]
    fn arithmetic() {
        let t = totals(&[(100_000, vec![11_000, 2_000]), (50_000, vec![])]).unwrap();
        assert_eq!(t, Totals { gross: 150_000, withheld: 13_000, net: 137_000 });
        assert!(totals(&[(100, vec![100])]).is_err());
    }
}
