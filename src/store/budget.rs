//! Budgets (APBDes): versions, lines and the live positions. What moves a position is decided by `domain::budget`;
//! this file reads the positions under the village's lock and writes what the domain returns.

use super::facts;
use super::ledger::ensure_year_open;
use super::rows::*;
use super::schema::*;
use super::{now_micros, Db, DbConn, StoreError};
use crate::domain::budget::{self, BudgetError, BudgetStatus, LineKey, Moves, Position};
use crate::domain::facts::FactKind;
use crate::domain::money::Money;
use crate::domain::workflow::WorkflowError;
use diesel::prelude::*;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct BudgetLineInput {
    pub account_code: String,
    /// Empty for lines without an activity.
    pub activity_code: String,
    pub activity_name: Option<String>,
    pub source: String,
    pub ceiling: Money,
}

impl BudgetLineInput {
    fn key(&self) -> LineKey {
        LineKey {
            account: self.account_code.clone(),
            activity: self.activity_code.clone(),
            source: self.source.clone(),
        }
    }
}

impl BudgetPositionRow {
    pub fn key(&self) -> LineKey {
        LineKey {
            account: self.account_code.clone(),
            activity: self.activity_code.clone(),
            source: self.source.clone(),
        }
    }

    pub fn position(&self) -> Position {
        Position { ceiling: self.ceiling, committed: self.committed, realised: self.realised }
    }
}

impl From<BudgetError> for StoreError {
    fn from(e: BudgetError) -> Self {
        match e {
            BudgetError::Exceeded(short) => StoreError::BudgetExceeded(short),
            BudgetError::Inconsistent(msg) => StoreError::internal(msg),
        }
    }
}

fn budget_versions(c: &mut DbConn, village_id: &str, year: i32) -> Result<Vec<BudgetRow>, StoreError> {
    Ok(budgets::table
        .filter(budgets::village_id.eq(village_id))
        .filter(budgets::year.eq(year))
        .order(budgets::version)
        .select(BudgetRow::as_select())
        .load(c)?)
}

/// Refuses the first code that is not in the village's chart.
pub(super) fn ensure_accounts_exist(c: &mut DbConn, village_id: &str, codes: &[String]) -> Result<(), StoreError> {
    let mut wanted = codes.to_vec();
    wanted.sort();
    wanted.dedup();
    let found: Vec<String> = accounts::table
        .filter(accounts::village_id.eq(village_id))
        .filter(accounts::code.eq_any(&wanted))
        .select(accounts::code)
        .load(c)?;
    match wanted.into_iter().find(|w| !found.contains(w)) {
        Some(missing) => Err(StoreError::UnknownAccount(missing)),
        None => Ok(()),
    }
}

fn insert_budget_lines(
    c: &mut DbConn,
    village_id: &str,
    year: i32,
    version: i32,
    lines: &[BudgetLineInput],
) -> Result<(), StoreError> {
    let rows: Vec<BudgetLineRow> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| BudgetLineRow {
            village_id: village_id.into(),
            year,
            version,
            line_no: i32::try_from(i + 1).expect("line count is bounded"),
            account_code: l.account_code.clone(),
            activity_code: l.activity_code.clone(),
            activity_name: l.activity_name.clone(),
            source: l.source.clone(),
            ceiling: l.ceiling.sen(),
        })
        .collect();
    c.insert_all(budget_lines::table, &rows)?;
    Ok(())
}

fn version_lines(c: &mut DbConn, village_id: &str, year: i32, version: i32) -> Result<Vec<BudgetLineRow>, StoreError> {
    Ok(budget_lines::table
        .filter(budget_lines::village_id.eq(village_id))
        .filter(budget_lines::year.eq(year))
        .filter(budget_lines::version.eq(version))
        .order(budget_lines::line_no)
        .select(BudgetLineRow::as_select())
        .load(c)?)
}

fn positions(c: &mut DbConn, village_id: &str, year: i32) -> Result<Vec<BudgetPositionRow>, StoreError> {
    Ok(budget_positions::table
        .filter(budget_positions::village_id.eq(village_id))
        .filter(budget_positions::year.eq(year))
        .order((budget_positions::account_code, budget_positions::activity_code, budget_positions::source))
        .select(BudgetPositionRow::as_select())
        .load(c)?)
}

fn load_budget(c: &mut DbConn, village_id: &str, year: i32) -> Result<Option<BudgetRecord>, StoreError> {
    let versions = budget_versions(c, village_id, year)?;
    let Some(current) = versions.last().cloned() else {
        return Ok(None);
    };
    let lines = version_lines(c, village_id, year, current.version)?;
    let positions = if current.status == BudgetStatus::Adopted { positions(c, village_id, year)? } else { Vec::new() };
    Ok(Some(BudgetRecord { current, lines, positions, versions }))
}

fn position_row(village_id: &str, year: i32, key: &LineKey, name: Option<&str>, pos: Position) -> BudgetPositionRow {
    BudgetPositionRow {
        village_id: village_id.into(),
        year,
        account_code: key.account.clone(),
        activity_code: key.activity.clone(),
        source: key.source.clone(),
        activity_name: name.map(str::to_string),
        ceiling: pos.ceiling,
        committed: pos.committed,
        realised: pos.realised,
    }
}

/// The positions of `keys` in the village's budget for `year`, as they stand under the lock.
pub(super) fn positions_of(
    c: &mut DbConn,
    village_id: &str,
    year: i32,
    keys: impl Iterator<Item = LineKey>,
) -> Result<BTreeMap<LineKey, Position>, StoreError> {
    let mut out = BTreeMap::new();
    for key in keys {
        let row: Option<BudgetPositionRow> = budget_positions::table
            .find((village_id, year, &key.account, &key.activity, &key.source))
            .select(BudgetPositionRow::as_select())
            .first(c)
            .optional()?;
        if let Some(row) = row {
            out.insert(key, row.position());
        }
    }
    Ok(out)
}

/// Writes the domain's new positions (committed and realised; the ceiling moves only by revision).
pub(super) fn write_moves(c: &mut DbConn, village_id: &str, year: i32, moves: &Moves) -> Result<(), StoreError> {
    for (key, pos) in moves {
        let target = budget_positions::table.find((village_id, year, &key.account, &key.activity, &key.source));
        let n = diesel::update(target)
            .set((budget_positions::committed.eq(pos.committed), budget_positions::realised.eq(pos.realised)))
            .execute(c)?;
        if n != 1 {
            return Err(StoreError::internal(format!("budget position {} updated {n} rows", key.account)));
        }
    }
    Ok(())
}

/// The adopted budget of `year` must exist for a request to commit against it.
pub(super) fn require_adopted_budget(c: &mut DbConn, village_id: &str, year: i32) -> Result<(), StoreError> {
    ensure_year_open(c, village_id, year)?;
    let adopted: i64 = budgets::table
        .filter(budgets::village_id.eq(village_id))
        .filter(budgets::year.eq(year))
        .filter(budgets::status.eq(BudgetStatus::Adopted))
        .count()
        .get_result(c)?;
    if adopted == 0 {
        return Err(StoreError::NoAdoptedBudget(year));
    }
    Ok(())
}

/// Writes what a revision does to the positions: kept lines get their new ceiling (and activity name), dropped ones
/// go, new ones are inserted.
fn write_revision(
    c: &mut DbConn,
    village_id: &str,
    year: i32,
    revision: &budget::Revision,
    names: &BTreeMap<LineKey, Option<&str>>,
) -> Result<(), StoreError> {
    let find = |key: &LineKey| {
        budget_positions::table.find((
            village_id.to_string(),
            year,
            key.account.clone(),
            key.activity.clone(),
            key.source.clone(),
        ))
    };
    for (key, pos) in &revision.kept {
        diesel::update(find(key))
            .set((
                budget_positions::ceiling.eq(pos.ceiling),
                budget_positions::activity_name.eq(names.get(key).copied().flatten()),
            ))
            .execute(c)?;
    }
    for key in &revision.dropped {
        diesel::delete(find(key)).execute(c)?;
    }
    let added: Vec<BudgetPositionRow> = revision
        .added
        .iter()
        .map(|(key, pos)| position_row(village_id, year, key, names.get(key).copied().flatten(), *pos))
        .collect();
    if !added.is_empty() {
        c.insert_all(budget_positions::table, &added)?;
    }
    Ok(())
}

/// Revenue (4) and financing receipts (6.1): lines money comes in on.
fn is_received(account: &str) -> bool {
    matches!(
        crate::domain::accounts::class_of_code(account),
        Some(crate::domain::accounts::AccountClass::Revenue | crate::domain::accounts::AccountClass::FinancingReceipt)
    )
}

/// 1 January and 31 December of `year`.
fn year_dates(year: i32) -> Result<(chrono::NaiveDate, chrono::NaiveDate), StoreError> {
    let bad = || StoreError::Validation(format!("year {year}"));
    let from = chrono::NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(bad)?;
    let to = chrono::NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(bad)?;
    Ok((from, to))
}

/// What the ledger received in `year` per (revenue or financing-receipt account, source): credits less debits.
fn received_by_key(c: &mut DbConn, village_id: &str, year: i32) -> Result<BTreeMap<(String, String), i64>, StoreError> {
    let (from, to) = year_dates(year)?;
    let mut out = BTreeMap::new();
    for (account, _activity, source, net) in
        super::reports::flows_by_key(c, village_id, from, to, super::reports::Flow::Received)?
    {
        *out.entry((account, source.unwrap_or_default())).or_insert(0) += net;
    }
    Ok(out)
}

/// Every budget position of the village that is not what the chain gives (`domain::budget::position_findings`), as
/// `year:account/activity/source: finding`.
pub(super) fn position_mismatches(c: &mut DbConn, village_id: &str) -> Result<Vec<String>, StoreError> {
    let adopted: Vec<(i32, i32)> = budgets::table
        .filter(budgets::village_id.eq(village_id))
        .filter(budgets::status.eq(BudgetStatus::Adopted))
        .select((budgets::year, budgets::version))
        .load(c)?;
    let mut out = Vec::new();
    for (year, version) in adopted {
        let mut ceilings: BTreeMap<LineKey, i64> = BTreeMap::new();
        for l in version_lines(c, village_id, year, version)? {
            let key = LineKey { account: l.account_code, activity: l.activity_code, source: l.source };
            *ceilings.entry(key).or_insert(0) += l.ceiling;
        }
        let stored: BTreeMap<LineKey, Position> =
            positions(c, village_id, year)?.iter().map(|p| (p.key(), p.position())).collect();
        let (from, to) = year_dates(year)?;
        let mut spent: BTreeMap<LineKey, i64> = BTreeMap::new();
        for (account, activity, source, net) in
            super::reports::flows_by_key(c, village_id, from, to, super::reports::Flow::Spent)?
        {
            *spent.entry(LineKey::new(&account, activity.as_deref(), source.as_deref())).or_insert(0) += net;
        }
        for (key, finding) in budget::position_findings(&ceilings, &spent, &stored, |a| !is_received(a)) {
            out.push(format!("{year}:{}/{}/{}: {}", key.account, key.activity, key.source, finding.as_str()));
        }
    }
    Ok(out)
}

fn invalid(action: &'static str, from: &'static str) -> StoreError {
    StoreError::Workflow(WorkflowError::InvalidTransition { action, from })
}

impl Db {
    pub fn put_budget_draft(
        &self,
        village_id: &str,
        year: i32,
        lines: &[BudgetLineInput],
        actor: &str,
    ) -> Result<BudgetRecord, StoreError> {
        self.write("put_budget_draft", |c| {
            c.write_txn(&mut |c| {
                let (ids, subject) = ([village_id.to_string()], year.to_string());
                facts::changing(c, &ids, FactKind::Budget, &subject, actor, &mut |c| {
                    ensure_year_open(c, village_id, year)?;
                    let versions = budget_versions(c, village_id, year)?;
                    if versions.iter().any(|b| b.status != BudgetStatus::Draft) {
                        return Err(invalid("replace the draft of", "adopted (use POST .../revisions)"));
                    }
                    let codes: Vec<String> = lines.iter().map(|l| l.account_code.clone()).collect();
                    ensure_accounts_exist(c, village_id, &codes)?;
                    diesel::delete(
                        budget_lines::table
                            .filter(budget_lines::village_id.eq(village_id))
                            .filter(budget_lines::year.eq(year)),
                    )
                    .execute(c)?;
                    diesel::delete(
                        budgets::table.filter(budgets::village_id.eq(village_id)).filter(budgets::year.eq(year)),
                    )
                    .execute(c)?;
                    let row = BudgetRow {
                        village_id: village_id.into(),
                        year,
                        version: 1,
                        status: BudgetStatus::Draft,
                        note: None,
                        created_by: actor.to_string(),
                        created_at: now_micros(),
                        adopted_by: None,
                        adopted_at: None,
                    };
                    diesel::insert_into(budgets::table).values(&row).execute(c)?;
                    insert_budget_lines(c, village_id, year, 1, lines)?;
                    load_budget(c, village_id, year)?
                        .ok_or_else(|| StoreError::internal("the draft just written is missing"))
                })
            })
        })
    }

    pub fn adopt_budget(&self, village_id: &str, year: i32, actor: &str) -> Result<BudgetRecord, StoreError> {
        self.write("adopt_budget", |c| {
            c.write_txn(&mut |c| {
                let (ids, subject) = ([village_id.to_string()], year.to_string());
                facts::changing(c, &ids, FactKind::Budget, &subject, actor, &mut |c| {
                    ensure_year_open(c, village_id, year)?;
                    let versions = budget_versions(c, village_id, year)?;
                    let draft = match versions.last() {
                        None => return Err(StoreError::NotFound("budget")),
                        Some(b) if b.status == BudgetStatus::Draft => b.clone(),
                        Some(b) => return Err(invalid("adopt", b.status.as_str())),
                    };
                    let now = now_micros();
                    diesel::update(budgets::table.find((village_id, year, draft.version)))
                        .set((
                            budgets::status.eq(BudgetStatus::Adopted),
                            budgets::adopted_by.eq(Some(actor)),
                            budgets::adopted_at.eq(Some(now)),
                        ))
                        .execute(c)?;
                    let lines = version_lines(c, village_id, year, draft.version)?;
                    let rows: Vec<BudgetPositionRow> = lines
                        .iter()
                        .map(|l| {
                            let key = LineKey {
                                account: l.account_code.clone(),
                                activity: l.activity_code.clone(),
                                source: l.source.clone(),
                            };
                            position_row(
                                village_id,
                                year,
                                &key,
                                l.activity_name.as_deref(),
                                Position::with_ceiling(l.ceiling),
                            )
                        })
                        .collect();
                    c.insert_all(budget_positions::table, &rows)?;
                    load_budget(c, village_id, year)?
                        .ok_or_else(|| StoreError::internal("the budget just adopted is missing"))
                })
            })
        })
    }

    /// APBDes Perubahan: a new adopted version (`domain::budget::revise` decides what each line may become).
    pub fn revise_budget(
        &self,
        village_id: &str,
        year: i32,
        lines: &[BudgetLineInput],
        note: Option<&str>,
        actor: &str,
    ) -> Result<BudgetRecord, StoreError> {
        self.write("revise_budget", |c| {
            c.write_txn(&mut |c| {
                let (ids, subject) = ([village_id.to_string()], year.to_string());
                facts::changing(c, &ids, FactKind::Budget, &subject, actor, &mut |c| {
                    ensure_year_open(c, village_id, year)?;
                    let versions = budget_versions(c, village_id, year)?;
                    let current = match versions.last() {
                        Some(b) if b.status == BudgetStatus::Adopted => b.clone(),
                        Some(_) => return Err(invalid("revise", "a draft (adopt it first)")),
                        None => return Err(StoreError::NotFound("budget")),
                    };
                    let codes: Vec<String> = lines.iter().map(|l| l.account_code.clone()).collect();
                    ensure_accounts_exist(c, village_id, &codes)?;
                    let existing: BTreeMap<LineKey, Position> =
                        positions(c, village_id, year)?.iter().map(|p| (p.key(), p.position())).collect();
                    let ceilings: BTreeMap<LineKey, i64> = lines.iter().map(|l| (l.key(), l.ceiling.sen())).collect();
                    let names: BTreeMap<LineKey, Option<&str>> =
                        lines.iter().map(|l| (l.key(), l.activity_name.as_deref())).collect();
                    let revision = budget::revise(&existing, &ceilings)?;

                    let version = current.version + 1;
                    let now = now_micros();
                    diesel::update(budgets::table.find((village_id, year, current.version)))
                        .set(budgets::status.eq(BudgetStatus::Superseded))
                        .execute(c)?;
                    diesel::insert_into(budgets::table)
                        .values(&BudgetRow {
                            village_id: village_id.into(),
                            year,
                            version,
                            status: BudgetStatus::Adopted,
                            note: note.map(str::to_string),
                            created_by: actor.to_string(),
                            created_at: now,
                            adopted_by: Some(actor.to_string()),
                            adopted_at: Some(now),
                        })
                        .execute(c)?;
                    insert_budget_lines(c, village_id, year, version, lines)?;
                    write_revision(c, village_id, year, &revision, &names)?;
                    load_budget(c, village_id, year)?
                        .ok_or_else(|| StoreError::internal("the revised budget is missing"))
                })
            })
        })
    }

    /// The budget with its positions. A spending line's `realised` is what its paid requests realised; a revenue or
    /// financing-receipt line's is what the ledger received on it in the year (a receipt is not a request: nothing
    /// commits it), so the budget and the realisation report show the same figure.
    pub fn get_budget(&self, village_id: &str, year: i32) -> Result<Option<BudgetRecord>, StoreError> {
        self.read("get_budget", |c| {
            let Some(mut b) = load_budget(c, village_id, year)? else { return Ok(None) };
            let received = received_by_key(c, village_id, year)?;
            for p in &mut b.positions {
                if is_received(&p.account_code) {
                    p.realised = received.get(&(p.account_code.clone(), p.source.clone())).copied().unwrap_or(0);
                }
            }
            Ok(Some(b))
        })
    }
}
