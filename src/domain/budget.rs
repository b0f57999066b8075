//! Budget control (APBDes): the live position of every budget line and the four things that move it.
//!
//! A line is keyed by (account, activity, source) and holds its `ceiling` (what the adopted budget allows), what
//! approved requests have `committed` and what paid ones have `realised`. The invariant this module keeps, and the
//! database's `CHECK` repeats: `0 ≤ committed`, `0 ≤ realised`, `committed + realised ≤ ceiling`.
//! - [`commit`]: a request is approved; every line it touches must have that much available.
//! - [`release`]: an approved request is cancelled; its commitment goes back.
//! - [`realise`]: the bank paid; the commitment becomes realised spending.
//! - [`revise`]: APBDes Perubahan; no line may go below what it has committed and realised.
//! - [`charge`]: what the bank already took (its fee, the tax on interest) is realised on the line the village
//!   chose, without a commitment first, when the line has that much available.
//!
//! Each returns the new positions (or the shortfalls that refuse it); the store writes them under the village's
//! lock. Pure functions: no I/O, no clock.

use super::money::Amount;
use std::collections::BTreeMap;

text_enum! {
    /// A version of a year's APBDes: the draft being prepared, the adopted one in force, or one a revision replaced.
    pub enum BudgetStatus {
        Draft = "draft",
        Adopted = "adopted",
        Superseded = "superseded",
    }
}

/// A budget line's key. `activity` is empty for lines without an activity (revenue, financing).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineKey {
    pub account: String,
    pub activity: String,
    pub source: String,
}

impl LineKey {
    pub fn new(account: &str, activity: Option<&str>, source: Option<&str>) -> LineKey {
        LineKey {
            account: account.to_string(),
            activity: activity.unwrap_or_default().to_string(),
            source: source.unwrap_or_default().to_string(),
        }
    }
}

/// A line's live position, in sen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub ceiling: i64,
    pub committed: i64,
    pub realised: i64,
}

impl Position {
    pub fn with_ceiling(ceiling: i64) -> Position {
        Position { ceiling, committed: 0, realised: 0 }
    }

    /// What is left to commit: never negative for a position that keeps the invariant.
    pub fn available(&self) -> i64 {
        self.ceiling - self.committed - self.realised
    }

    /// What the line has used, committed or spent: the floor a revision may not go below.
    pub fn used(&self) -> i64 {
        self.committed + self.realised
    }

    /// `0 ≤ committed`, `0 ≤ realised`, `committed + realised ≤ ceiling`.
    pub fn is_sound(&self) -> bool {
        self.committed >= 0
            && self.realised >= 0
            && self.ceiling >= 0
            && i128::from(self.committed) + i128::from(self.realised) <= i128::from(self.ceiling)
    }
}

/// A budget line a request (or a revision) does not fit in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Shortfall {
    pub account_code: String,
    pub activity_code: Option<String>,
    pub source: String,
    #[schema(value_type = String)]
    pub ceiling: Amount,
    #[schema(value_type = String)]
    pub committed: Amount,
    #[schema(value_type = String)]
    pub realised: Amount,
    #[schema(value_type = String)]
    pub available: Amount,
    /// What this request (or this revision's ceiling) asks of the line.
    #[schema(value_type = String)]
    pub requested: Amount,
}

impl Shortfall {
    pub fn of(key: &LineKey, pos: Position, requested: i64) -> Shortfall {
        Shortfall {
            account_code: key.account.clone(),
            activity_code: Some(key.activity.clone()).filter(|a| !a.is_empty()),
            source: key.source.clone(),
            ceiling: Amount(pos.ceiling),
            committed: Amount(pos.committed),
            realised: Amount(pos.realised),
            available: Amount(pos.available()),
            requested: Amount(requested),
        }
    }
}

/// Why a budget movement cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    /// The request does not fit: the lines and what they lack.
    #[error("the budget does not cover this")]
    Exceeded(Vec<Shortfall>),
    /// The positions disagree with the request's history (a release or realisation of more than is committed, or of
    /// a line that has no position): a corrupt store, never a user's mistake.
    #[error("budget positions are inconsistent with the request: {0}")]
    Inconsistent(String),
}

/// A request's amounts per budget line: its lines grouped by key, summed. `None` if a sum overflows.
pub fn request_amounts<'a>(
    lines: impl IntoIterator<Item = (LineKey, i64)> + 'a,
) -> Result<BTreeMap<LineKey, i64>, BudgetError> {
    let mut out: BTreeMap<LineKey, i64> = BTreeMap::new();
    for (key, amount) in lines {
        if amount <= 0 {
            return Err(BudgetError::Inconsistent(format!("a line of {} sen", amount)));
        }
        let slot = out.entry(key).or_insert(0);
        *slot = slot.checked_add(amount).ok_or_else(|| BudgetError::Inconsistent("the request overflows".into()))?;
    }
    Ok(out)
}

/// The new positions of the lines a request touches, in key order.
pub type Moves = Vec<(LineKey, Position)>;

/// Approval: every line the request touches must exist in the adopted budget and have `amount` available. All or
/// nothing: the shortfalls of every line that lacks are reported together.
pub fn commit(positions: &BTreeMap<LineKey, Position>, request: &BTreeMap<LineKey, i64>) -> Result<Moves, BudgetError> {
    let mut short = Vec::new();
    let mut moves = Vec::with_capacity(request.len());
    for (key, &amount) in request {
        match positions.get(key) {
            None => short.push(Shortfall::of(key, Position::default(), amount)),
            Some(pos) if amount > pos.available() => short.push(Shortfall::of(key, *pos, amount)),
            Some(pos) => moves.push((key.clone(), Position { committed: pos.committed + amount, ..*pos })),
        }
    }
    if !short.is_empty() {
        return Err(BudgetError::Exceeded(short));
    }
    Ok(moves)
}

/// Cancellation of a request that holds its commitment: the commitment goes back.
pub fn release(
    positions: &BTreeMap<LineKey, Position>,
    request: &BTreeMap<LineKey, i64>,
) -> Result<Moves, BudgetError> {
    move_committed(positions, request, false)
}

/// Payment: the commitment becomes realised spending.
pub fn realise(
    positions: &BTreeMap<LineKey, Position>,
    request: &BTreeMap<LineKey, i64>,
) -> Result<Moves, BudgetError> {
    move_committed(positions, request, true)
}

/// A charge the bank already made: realised at once on each line that has the amount available; the lines that
/// lack are reported (the caller then books it to suspense: a bank fact is never refused).
pub fn charge(positions: &BTreeMap<LineKey, Position>, request: &BTreeMap<LineKey, i64>) -> Result<Moves, BudgetError> {
    let mut short = Vec::new();
    let mut moves = Vec::with_capacity(request.len());
    for (key, &amount) in request {
        match positions.get(key) {
            Some(pos) if amount <= pos.available() => {
                moves.push((key.clone(), Position { realised: pos.realised + amount, ..*pos }))
            }
            pos => short.push(Shortfall::of(key, pos.copied().unwrap_or_default(), amount)),
        }
    }
    if !short.is_empty() {
        return Err(BudgetError::Exceeded(short));
    }
    Ok(moves)
}

/// An advance accounted for (SPJ): its whole commitment (`committed`, per line) is released and what was spent
/// (`spent`, per line, gross) is realised. What was spent on a line may exceed what the advance committed there only
/// within what the line has available; the shortfalls of every line that lacks are reported together.
pub fn account_for(
    positions: &BTreeMap<LineKey, Position>,
    committed: &BTreeMap<LineKey, i64>,
    spent: &BTreeMap<LineKey, i64>,
) -> Result<Moves, BudgetError> {
    let mut short = Vec::new();
    let mut moves = Vec::new();
    let keys: std::collections::BTreeSet<&LineKey> = committed.keys().chain(spent.keys()).collect();
    for key in keys {
        let (c, s) = (committed.get(key).copied().unwrap_or(0), spent.get(key).copied().unwrap_or(0));
        let Some(pos) = positions.get(key) else {
            short.push(Shortfall::of(key, Position::default(), s));
            continue;
        };
        if pos.committed < c {
            return Err(BudgetError::Inconsistent(format!(
                "line {} has {} sen committed, not the {} sen of this advance",
                key.account, pos.committed, c
            )));
        }
        let after = Position { committed: pos.committed - c, realised: pos.realised + s, ..*pos };
        if !after.is_sound() {
            short.push(Shortfall::of(key, Position { committed: pos.committed - c, ..*pos }, s));
            continue;
        }
        moves.push((key.clone(), after));
    }
    if !short.is_empty() {
        return Err(BudgetError::Exceeded(short));
    }
    Ok(moves)
}

fn move_committed(
    positions: &BTreeMap<LineKey, Position>,
    request: &BTreeMap<LineKey, i64>,
    to_realised: bool,
) -> Result<Moves, BudgetError> {
    request
        .iter()
        .map(|(key, &amount)| {
            let pos = positions
                .get(key)
                .ok_or_else(|| BudgetError::Inconsistent(format!("no position for committed line {}", key.account)))?;
            if pos.committed < amount {
                return Err(BudgetError::Inconsistent(format!(
                    "line {} has {} sen committed, not the {} sen of this request",
                    key.account, pos.committed, amount
                )));
            }
            let realised = if to_realised { pos.realised + amount } else { pos.realised };
            Ok((key.clone(), Position { committed: pos.committed - amount, realised, ..*pos }))
        })
        .collect()
}

/// What a revision does to the positions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Revision {
    /// Lines kept, with their new ceiling (committed and realised unchanged).
    pub kept: Moves,
    /// Lines left out of the revision and unused: they go.
    pub dropped: Vec<LineKey>,
    /// Lines new in this revision.
    pub added: Moves,
}

/// APBDes Perubahan: the new ceilings replace the old. A line left out is a line revised to zero; no line may go
/// below what it has committed and realised.
pub fn revise(
    positions: &BTreeMap<LineKey, Position>,
    ceilings: &BTreeMap<LineKey, i64>,
) -> Result<Revision, BudgetError> {
    let mut short = Vec::new();
    let mut plan = Revision::default();
    for (key, pos) in positions {
        let ceiling = ceilings.get(key).copied().unwrap_or(0);
        if ceiling < pos.used() {
            short.push(Shortfall::of(key, *pos, ceiling));
        } else if ceilings.contains_key(key) {
            plan.kept.push((key.clone(), Position { ceiling, ..*pos }));
        } else {
            plan.dropped.push(key.clone());
        }
    }
    if !short.is_empty() {
        return Err(BudgetError::Exceeded(short));
    }
    for (key, &ceiling) in ceilings {
        if ceiling < 0 {
            return Err(BudgetError::Inconsistent(format!("a ceiling of {ceiling} sen")));
        }
        if !positions.contains_key(key) {
            plan.added.push((key.clone(), Position::with_ceiling(ceiling)));
        }
    }
    Ok(plan)
}

/// The positions after applying `moves` (what the store writes, as a map).
pub fn apply(positions: &mut BTreeMap<LineKey, Position>, moves: &Moves) {
    for (key, pos) in moves {
        positions.insert(key.clone(), *pos);
    }
}

/// The positions after a revision.
pub fn apply_revision(positions: &mut BTreeMap<LineKey, Position>, revision: &Revision) {
    apply(positions, &revision.kept);
    apply(positions, &revision.added);
    for key in &revision.dropped {
        positions.remove(key);
    }
}

/// How a stored budget position disagrees with what the chain gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionFinding {
    /// A line of the adopted version has no position, or a position has no line.
    NotInBudget,
    /// The ceiling is not the adopted version's.
    Ceiling,
    /// A spending line's realised amount is not what the ledger spent on it.
    Realised,
    /// `committed + realised` above the ceiling, or either below zero.
    Unsound,
}

impl PositionFinding {
    pub fn as_str(self) -> &'static str {
        match self {
            PositionFinding::NotInBudget => "not_in_budget",
            PositionFinding::Ceiling => "ceiling",
            PositionFinding::Realised => "realised",
            PositionFinding::Unsound => "unsound",
        }
    }
}

/// The stored positions of a year against what the chain gives them: the adopted version's ceilings (chained as a
/// budget fact) and, for spending lines (`is_spending`), what the ledger's chained transactions spent per line. A
/// position edited in the database (a realised amount moved from an overspent line to another, a ceiling raised) is
/// named with what is wrong; `committed` is checked only against the invariant.
pub fn position_findings(
    ceilings: &BTreeMap<LineKey, i64>,
    spent: &BTreeMap<LineKey, i64>,
    positions: &BTreeMap<LineKey, Position>,
    is_spending: impl Fn(&str) -> bool,
) -> Vec<(LineKey, PositionFinding)> {
    let mut out = Vec::new();
    for (key, pos) in positions {
        let finding = match ceilings.get(key) {
            None => Some(PositionFinding::NotInBudget),
            Some(c) if *c != pos.ceiling => Some(PositionFinding::Ceiling),
            Some(_) if is_spending(&key.account) && spent.get(key).copied().unwrap_or(0) != pos.realised => {
                Some(PositionFinding::Realised)
            }
            Some(_) if !pos.is_sound() => Some(PositionFinding::Unsound),
            Some(_) => None,
        };
        if let Some(f) = finding {
            out.push((key.clone(), f));
        }
    }
    for key in ceilings.keys().filter(|k| !positions.contains_key(*k)) {
        out.push((key.clone(), PositionFinding::NotInBudget));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Positions kept by the service (ceilings from the budget, realised from the ledger) raise nothing; moving
        /// realised spending from one line to another, or raising a ceiling, names exactly the lines touched.
        #[test]
        fn an_edited_position_is_named(
            lines in proptest::collection::btree_map(1u8..8, (1_000i64..1_000_000, 0i64..1_000), 1..6),
            moved in 1i64..500,
            raise in 1i64..500,
        ) {
            let ceilings: BTreeMap<LineKey, i64> = lines.iter().map(|(n, (c, _))| (key(*n), *c)).collect();
            let spent: BTreeMap<LineKey, i64> = lines.iter().map(|(n, (_, s))| (key(*n), *s)).collect();
            let kept: BTreeMap<LineKey, Position> = lines
                .iter()
                .map(|(n, (c, s))| (key(*n), Position { ceiling: *c, committed: 0, realised: *s }))
                .collect();
            prop_assert!(position_findings(&ceilings, &spent, &kept, |_| true).is_empty());

            let keys: Vec<LineKey> = kept.keys().cloned().collect();
            let mut edited = kept.clone();
            edited.get_mut(&keys[0]).unwrap().ceiling += raise;
            prop_assert_eq!(
                position_findings(&ceilings, &spent, &edited, |_| true),
                vec![(keys[0].clone(), PositionFinding::Ceiling)]
            );
            if keys.len() > 1 {
                let mut edited = kept.clone();
                edited.get_mut(&keys[0]).unwrap().realised += moved;
                edited.get_mut(&keys[1]).unwrap().realised -= moved;
                let found = position_findings(&ceilings, &spent, &edited, |_| true);
                prop_assert_eq!(found.len(), 2);
                prop_assert!(found.iter().all(|(_, f)| *f == PositionFinding::Realised));
            }
        }
    }

    fn key(n: u8) -> LineKey {
        LineKey::new(&format!("5.2.1.0{n}"), Some("01.01.01"), Some("DDS"))
    }

    #[test]
    fn commit_refuses_what_is_not_available_and_names_every_line() {
        let positions: BTreeMap<_, _> =
            [(key(1), Position::with_ceiling(1_000)), (key(2), Position::with_ceiling(500))].into_iter().collect();
        let ok = commit(&positions, &[(key(1), 1_000)].into_iter().collect()).unwrap();
        assert_eq!(ok, vec![(key(1), Position { ceiling: 1_000, committed: 1_000, realised: 0 })]);
        let err = commit(&positions, &[(key(1), 1_001), (key(2), 501), (key(3), 1)].into_iter().collect());
        let Err(BudgetError::Exceeded(short)) = err else { panic!("{err:?}") };
        assert_eq!(short.len(), 3);
        assert_eq!(short[0].available, Amount(1_000));
        assert_eq!(short[2].ceiling, Amount(0), "a line not in the budget has nothing available");
    }

    #[test]
    fn revise_keeps_what_is_used() {
        let positions: BTreeMap<_, _> =
            [(key(1), Position { ceiling: 1_000, committed: 300, realised: 200 })].into_iter().collect();
        assert!(revise(&positions, &[(key(1), 499)].into_iter().collect()).is_err());
        assert!(revise(&positions, &BTreeMap::new()).is_err(), "dropping a used line is revising it to zero");
        let r = revise(&positions, &[(key(1), 500), (key(2), 9)].into_iter().collect()).unwrap();
        assert_eq!(r.kept, vec![(key(1), Position { ceiling: 500, committed: 300, realised: 200 })]);
        assert_eq!(r.added, vec![(key(2), Position::with_ceiling(9))]);
        let unused: BTreeMap<_, _> = [(key(3), Position::with_ceiling(7))].into_iter().collect();
        assert_eq!(revise(&unused, &BTreeMap::new()).unwrap().dropped, vec![key(3)]);
    }

    #[test]
    fn an_advance_accounted_for_releases_its_commitment_and_realises_what_was_spent() {
        let positions: BTreeMap<_, _> = [
            (key(1), Position { ceiling: 2_000, committed: 1_000, realised: 0 }),
            (key(2), Position { ceiling: 500, committed: 0, realised: 100 }),
        ]
        .into_iter()
        .collect();
        let committed: BTreeMap<_, _> = [(key(1), 1_000)].into_iter().collect();
        let spent: BTreeMap<_, _> = [(key(1), 850), (key(2), 100)].into_iter().collect();
        let moves = account_for(&positions, &committed, &spent).unwrap();
        assert_eq!(moves[0].1, Position { ceiling: 2_000, committed: 0, realised: 850 });
        assert_eq!(moves[1].1, Position { ceiling: 500, committed: 0, realised: 200 });
        let too_much: BTreeMap<_, _> = [(key(2), 401)].into_iter().collect();
        assert!(matches!(account_for(&positions, &committed, &too_much), Err(BudgetError::Exceeded(_))));
        let elsewhere: BTreeMap<_, _> = [(key(3), 1)].into_iter().collect();
        assert!(matches!(account_for(&positions, &committed, &elsewhere), Err(BudgetError::Exceeded(_))));
    }

    #[test]
    fn release_and_realise_move_only_what_is_committed() {
        let positions: BTreeMap<_, _> =
            [(key(1), Position { ceiling: 1_000, committed: 300, realised: 0 })].into_iter().collect();
        let req: BTreeMap<_, _> = [(key(1), 300)].into_iter().collect();
        assert_eq!(realise(&positions, &req).unwrap()[0].1, Position { ceiling: 1_000, committed: 0, realised: 300 });
        assert_eq!(release(&positions, &req).unwrap()[0].1, Position { ceiling: 1_000, committed: 0, realised: 0 });
        let too_much: BTreeMap<_, _> = [(key(1), 301)].into_iter().collect();
        assert!(matches!(realise(&positions, &too_much), Err(BudgetError::Inconsistent(_))));
    }

    /// One step of a village's budget year, as the workflow drives it.
    #[derive(Debug, Clone)]
    enum Op {
        /// A new request (lines over keys 0..4) is approved.
        Approve(Vec<(u8, i64)>),
        /// The n-th open request (mod the count) is cancelled.
        Cancel(usize),
        /// The n-th open request is paid.
        Pay(usize),
        /// New ceilings for keys 0..4 (None: the line is left out).
        Revise(Vec<Option<i64>>),
        /// The bank charges an amount to a line, realised at once when it fits.
        Charge(u8, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => proptest::collection::vec((0u8..4, 1i64..400), 1..4).prop_map(Op::Approve),
            1 => any::<usize>().prop_map(Op::Cancel),
            2 => any::<usize>().prop_map(Op::Pay),
            1 => proptest::collection::vec(proptest::option::of(0i64..1_500), 4).prop_map(Op::Revise),
            1 => (0u8..4, 1i64..400).prop_map(|(k, a)| Op::Charge(k, a)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Random approve / cancel / pay / revise sequences against a model that tracks each request's amounts:
        /// after every step every position keeps `committed + realised ≤ ceiling`, `committed` equals the sum of
        /// the open requests, `realised` the sum of the paid ones, and `available` is exactly what is left.
        #[test]
        fn positions_follow_the_model(ops in proptest::collection::vec(op(), 1..60)) {
            let mut positions: BTreeMap<LineKey, Position> =
                (0..4).map(|n| (key(n), Position::with_ceiling(1_000))).collect();
            let mut open: Vec<BTreeMap<LineKey, i64>> = Vec::new();
            let mut paid: Vec<BTreeMap<LineKey, i64>> = Vec::new();
            for op in ops {
                match op {
                    Op::Approve(lines) => {
                        let req = request_amounts(lines.iter().map(|(k, a)| (key(*k), *a))).unwrap();
                        let fits = req.iter().all(|(k, a)| positions.get(k).is_some_and(|p| *a <= p.available()));
                        match commit(&positions, &req) {
                            Ok(moves) => {
                                prop_assert!(fits, "committed a request that does not fit");
                                apply(&mut positions, &moves);
                                open.push(req);
                            }
                            Err(BudgetError::Exceeded(short)) => {
                                prop_assert!(!fits, "refused a request that fits");
                                prop_assert!(!short.is_empty());
                            }
                            Err(e) => prop_assert!(false, "{e}"),
                        }
                    }
                    Op::Cancel(n) if !open.is_empty() => {
                        let req = open.remove(n % open.len());
                        let moves = release(&positions, &req).unwrap();
                        apply(&mut positions, &moves);
                    }
                    Op::Pay(n) if !open.is_empty() => {
                        let req = open.remove(n % open.len());
                        let moves = realise(&positions, &req).unwrap();
                        apply(&mut positions, &moves);
                        paid.push(req);
                    }
                    Op::Charge(k, a) => {
                        let req: BTreeMap<LineKey, i64> = [(key(k), a)].into_iter().collect();
                        let fits = positions.get(&key(k)).is_some_and(|p| a <= p.available());
                        match charge(&positions, &req) {
                            Ok(moves) => {
                                prop_assert!(fits, "charged a line that cannot absorb it");
                                apply(&mut positions, &moves);
                                paid.push(req);
                            }
                            Err(_) => prop_assert!(!fits, "refused a charge that fits"),
                        }
                    }
                    Op::Cancel(_) | Op::Pay(_) => {}
                    Op::Revise(ceilings) => {
                        let new: BTreeMap<LineKey, i64> = ceilings
                            .iter()
                            .enumerate()
                            .filter_map(|(n, c)| c.map(|c| (key(n as u8), c)))
                            .collect();
                        let allowed = positions.iter().all(|(k, p)| new.get(k).copied().unwrap_or(0) >= p.used());
                        match revise(&positions, &new) {
                            Ok(r) => {
                                prop_assert!(allowed, "a revision went below what a line has used");
                                apply_revision(&mut positions, &r);
                            }
                            Err(_) => prop_assert!(!allowed, "refused a revision that keeps every line"),
                        }
                    }
                }
                for (k, p) in &positions {
                    prop_assert!(p.is_sound(), "{k:?}: {p:?}");
                    let committed: i64 = open.iter().filter_map(|r| r.get(k)).sum();
                    let realised: i64 = paid.iter().filter_map(|r| r.get(k)).sum();
                    prop_assert_eq!(p.committed, committed);
                    prop_assert_eq!(p.realised, realised);
                    prop_assert_eq!(p.available(), p.ceiling - committed - realised);
                }
                // Every request still open or paid has its lines in the budget.
                for r in open.iter().chain(&paid) {
                    for k in r.keys() {
                        prop_assert!(positions.contains_key(k));
                    }
                }
            }
        }
    }
}
