//! Chained facts: what decides where a village's money may go, or how much, without being a transaction or a step of
//! a request. A budget year's versions and ceilings, a village user's role, village and active flag, a bank client's
//! access to the village (and its keys), the village's bank account and cash limit, the regency's treasury account and
//! cash-payment limit, a closed fiscal year, a line of the bank's statement.
//!
//! Each change the service makes appends a fact to the village's hash chain: the subject and its whole canonical
//! state after the change. Verification then compares every subject's stored rows with its latest fact
//! ([`compare`]): a row edited, inserted or deleted outside the service no longer matches, and the chain (anchored
//! by signed checkpoints) keeps the facts themselves from being rewritten. Before changing a kind of fact the
//! service checks that kind against the chain ([`compare`] again), so a tampered row is refused rather than
//! recorded as if the service had made it.
//!
//! Pure: the store builds the states from its rows with the `*State` forms below and hands both maps here.

use serde::Serialize;
use std::collections::BTreeMap;

text_enum! {
    /// What a chained fact is about.
    pub enum FactKind {
        /// A budget year: every version with its status and lines (subject: the year).
        Budget = "budget",
        /// A user of the village (subject: the user's id).
        User = "user",
        /// A bank client's access to the village (subject: the client's id).
        BankClient = "bank_client",
        /// The village's own settings (subject: the village's id).
        Village = "village",
        /// The regency's settings as they bind the village (subject: the regency's id).
        Regency = "regency",
        /// A closed fiscal year (subject: the year; an open year is the default and needs no fact).
        FiscalYear = "fiscal_year",
        /// A line of the bank's statement (subject: the line's id).
        StatementLine = "statement_line",
        /// The budget line a kind of bank charge is realised on (subject: the kind, `admin_fee` or `interest_tax`).
        ChargeLine = "charge_line",
    }
}

/// The state of a subject that no longer exists for the village (a user moved away, a bank client's access ended):
/// its latest fact says so, and then no row may stand for it.
pub const ABSENT: &str = "null";

/// A subject of a village's facts.
pub type FactKey = (FactKind, String);

/// A chained fact as hashed. Field order is part of the format: do not reorder.
#[derive(Serialize)]
pub struct CanonicalFact<'a> {
    pub record: &'static str,
    pub id: &'a str,
    pub village_id: &'a str,
    pub chain_seq: i64,
    pub kind: &'a str,
    pub subject: &'a str,
    /// The subject's canonical state, as the JSON text stored in the fact.
    pub state: &'a str,
    pub actor: &'a str,
    pub at: String,
}

/// A subject's state as its fact stores it: canonical JSON (fields in declaration order, amounts in sen).
pub fn state_text(state: &impl Serialize) -> String {
    serde_json::to_string(state).expect("fact states serialise")
}

/// A budget line as its fact records it: (line no, account, activity, activity name, source, ceiling in sen).
pub type BudgetLineState<'a> = (i32, &'a str, &'a str, Option<&'a str>, &'a str, i64);

/// One version of a budget year. Field order is part of the format.
#[derive(Serialize)]
pub struct BudgetVersionState<'a> {
    pub version: i32,
    pub status: &'a str,
    pub note: Option<&'a str>,
    pub created_by: &'a str,
    pub adopted_by: Option<&'a str>,
    pub lines: Vec<BudgetLineState<'a>>,
}

#[derive(Serialize)]
pub struct BudgetState<'a> {
    pub versions: Vec<BudgetVersionState<'a>>,
}

/// A village user. The password is covered by a digest of its stored hash (an attacker who writes a hash of a
/// password they know is found).
#[derive(Serialize)]
pub struct UserState<'a> {
    pub username: &'a str,
    pub role: &'a str,
    pub village_id: Option<&'a str>,
    pub regency_id: Option<&'a str>,
    pub active: bool,
    pub password_digest: String,
}

/// A bank client with access to the village: who it is, whether it may act, and the keys it proves itself with.
#[derive(Serialize)]
pub struct BankClientState<'a> {
    pub client_id: &'a str,
    pub name: &'a str,
    pub active: bool,
    pub secret_digest: String,
    pub public_key: Option<&'a str>,
    pub webhook_url: Option<&'a str>,
}

#[derive(Serialize)]
pub struct VillageState<'a> {
    pub code: &'a str,
    pub regency_id: &'a str,
    pub bank_account: &'a str,
    pub cash_limit_sen: i64,
}

#[derive(Serialize)]
pub struct RegencyState<'a> {
    pub code: &'a str,
    pub utc_offset_minutes: i32,
    /// (name, bank code, account number) of the regency's treasury, where regional tax is paid.
    pub treasury: Option<(&'a str, &'a str, &'a str)>,
    pub cash_payment_limit_sen: Option<i64>,
}

#[derive(Serialize)]
pub struct FiscalYearState<'a> {
    pub status: &'a str,
    pub closed_by: Option<&'a str>,
    pub silpa_sen: Option<i64>,
    pub silpa_transaction_id: Option<&'a str>,
}

/// (account, activity, source) of the budget line a kind of bank charge goes to.
#[derive(Serialize)]
pub struct ChargeLineState<'a> {
    pub account: &'a str,
    pub activity: &'a str,
    pub source: &'a str,
}

#[derive(Serialize)]
pub struct StatementLineState<'a> {
    pub bank_reference: &'a str,
    pub value_date: String,
    pub amount_sen: i64,
    pub direction: &'a str,
    pub client_id: &'a str,
    pub balance_sen: Option<i64>,
}

text_enum! {
    /// How a subject's stored rows disagree with its latest fact.
    pub enum FactFinding {
        /// The rows say something else than the latest fact.
        Changed = "changed",
        /// Rows stand for a subject no fact records (inserted outside the service).
        Unrecorded = "unrecorded",
        /// The latest fact records a subject whose rows are gone (deleted outside the service).
        Removed = "removed",
    }
}

/// A subject whose rows disagree with its latest fact.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FactMismatch {
    pub kind: FactKind,
    pub subject: String,
    pub finding: FactFinding,
}

/// What a subject's rows and its latest fact say of it, compared: `None` when they agree. A subject without rows
/// agrees with no fact and with a fact that says it is [`ABSENT`].
pub fn judge(latest: Option<&str>, current: Option<&str>) -> Option<FactFinding> {
    match (latest, current) {
        (None | Some(ABSENT), None) => None,
        (None | Some(ABSENT), Some(_)) => Some(FactFinding::Unrecorded),
        (Some(_), None) => Some(FactFinding::Removed),
        (Some(l), Some(c)) if l == c => None,
        (Some(_), Some(_)) => Some(FactFinding::Changed),
    }
}

/// Every subject whose stored rows (`current`) disagree with its latest fact (`latest`), in key order.
pub fn compare(latest: &BTreeMap<FactKey, String>, current: &BTreeMap<FactKey, String>) -> Vec<FactMismatch> {
    let mut keys: Vec<&FactKey> = latest.keys().chain(current.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            judge(latest.get(key).map(String::as_str), current.get(key).map(String::as_str))
                .map(|finding| FactMismatch { kind: key.0, subject: key.1.clone(), finding })
        })
        .collect()
}

/// The facts to append after the service changed subjects of a kind: each subject whose state differs from its
/// latest fact, with its new state ([`ABSENT`] for one whose rows are gone). Empty when nothing changed.
pub fn to_record(latest: &BTreeMap<String, String>, current: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (subject, state) in current {
        if latest.get(subject) != Some(state) {
            out.push((subject.clone(), state.clone()));
        }
    }
    for (subject, state) in latest {
        if state != ABSENT && !current.contains_key(subject) {
            out.push((subject.clone(), ABSENT.to_string()));
        }
    }
    out.sort();
    out
}

impl PartialOrd for FactKind {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FactKind {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn states() -> impl Strategy<Value = BTreeMap<String, String>> {
        proptest::collection::btree_map("[a-e]", "[0-3]", 0..6)
    }

    fn keyed(kind: FactKind, m: &BTreeMap<String, String>) -> BTreeMap<FactKey, String> {
        m.iter().map(|(k, v)| ((kind, k.clone()), v.clone())).collect()
    }

    proptest! {
        /// After the service records what `to_record` says, the rows and the facts agree.
        #[test]
        fn recording_the_changes_leaves_nothing_to_find(before in states(), after in states()) {
            let mut latest = before.clone();
            for (subject, state) in to_record(&before, &after) {
                latest.insert(subject, state);
            }
            prop_assert!(compare(&keyed(FactKind::User, &latest), &keyed(FactKind::User, &after)).is_empty());
            prop_assert!(to_record(&latest, &after).is_empty());
        }

        /// Any edit, insertion or deletion of a row after the facts were recorded is named, and only that subject.
        #[test]
        fn an_edit_outside_the_service_is_named(
            recorded in states(),
            subject in "[a-f]",
            edit in proptest::option::of("[0-4]"),
        ) {
            let latest = keyed(FactKind::Budget, &recorded);
            let mut rows = recorded.clone();
            match &edit {
                Some(s) => { rows.insert(subject.clone(), s.clone()); }
                None => { rows.remove(&subject); }
            }
            let found = compare(&latest, &keyed(FactKind::Budget, &rows));
            if rows == recorded {
                prop_assert!(found.is_empty());
            } else {
                prop_assert_eq!(found.len(), 1);
                prop_assert_eq!(&found[0].subject, &subject);
                let expected = match (recorded.contains_key(&subject), edit.is_some()) {
                    (true, true) => FactFinding::Changed,
                    (false, _) => FactFinding::Unrecorded,
                    (true, false) => FactFinding::Removed,
                };
                prop_assert_eq!(found[0].finding, expected);
            }
        }
    }

    #[test]
    fn a_subject_recorded_absent_may_have_no_rows_but_not_new_ones() {
        assert_eq!(judge(Some(ABSENT), None), None);
        assert_eq!(judge(Some(ABSENT), Some("{}")), Some(FactFinding::Unrecorded));
        assert_eq!(judge(None, None), None);
    }
}
