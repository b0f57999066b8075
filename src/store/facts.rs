//! Chained facts as stored (`domain::facts` says what they are and compares them): each subject's canonical state
//! built from its rows, the facts appended to a village's chain after the service changes a subject, the check that
//! a subject is as its latest fact says before the service changes it, and verification's comparison of every
//! subject with its latest fact.
//!
//! A fact is a link of the chain, like a transaction: it is appended (and a subject checked before a change) under
//! the village's lock; verification reads them as any other link.

use super::rows::*;
use super::schema::*;
use super::{now_micros, DbConn, StoreError};
use crate::domain::chain::{canonical_date, canonical_time, link_hash};
use crate::domain::facts::{self, FactKey, FactKind, FactMismatch};
use diesel::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What the chain says of a fact row.
pub(super) fn fact_hash(f: &ChainedFactRow) -> String {
    link_hash(
        &f.prev_hash,
        &facts::CanonicalFact {
            record: "fact",
            id: &f.id,
            village_id: f.village_id.as_str(),
            chain_seq: f.chain_seq,
            kind: f.kind.as_str(),
            subject: &f.subject,
            state: &f.state,
            actor: &f.actor,
            at: canonical_time(f.at),
        },
    )
}

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The states of a kind's subjects for the village (only `subject`'s, when given), from their rows.
fn states(
    c: &mut DbConn,
    village_id: &str,
    kind: FactKind,
    subject: Option<&str>,
) -> Result<BTreeMap<String, String>, StoreError> {
    let mut out = BTreeMap::new();
    match kind {
        FactKind::Budget => {
            let mut q = budgets::table.filter(budgets::village_id.eq(village_id)).into_boxed();
            let mut lq = budget_lines::table.filter(budget_lines::village_id.eq(village_id)).into_boxed();
            if let Some(s) = subject {
                let year: i32 = s.parse().map_err(|_| StoreError::internal(format!("budget subject {s}")))?;
                q = q.filter(budgets::year.eq(year));
                lq = lq.filter(budget_lines::year.eq(year));
            }
            let versions: Vec<BudgetRow> =
                q.order((budgets::year, budgets::version)).select(BudgetRow::as_select()).load(c)?;
            let lines: Vec<BudgetLineRow> = lq
                .order((budget_lines::year, budget_lines::version, budget_lines::line_no))
                .select(BudgetLineRow::as_select())
                .load(c)?;
            let mut years: BTreeMap<i32, Vec<facts::BudgetVersionState>> = BTreeMap::new();
            for v in &versions {
                years.entry(v.year).or_default().push(facts::BudgetVersionState {
                    version: v.version,
                    status: v.status.as_str(),
                    note: v.note.as_deref(),
                    created_by: &v.created_by,
                    adopted_by: v.adopted_by.as_deref(),
                    lines: lines
                        .iter()
                        .filter(|l| l.year == v.year && l.version == v.version)
                        .map(|l| {
                            (
                                l.line_no,
                                l.account_code.as_str(),
                                l.activity_code.as_str(),
                                l.activity_name.as_deref(),
                                l.source.as_str(),
                                l.ceiling,
                            )
                        })
                        .collect(),
                });
            }
            for (year, versions) in years {
                out.insert(year.to_string(), facts::state_text(&facts::BudgetState { versions }));
            }
        }
        FactKind::User => {
            let mut q = users::table.filter(users::village_id.eq(village_id)).into_boxed();
            if let Some(s) = subject {
                q = q.filter(users::id.eq(s.to_string()));
            }
            for u in q.select(UserRow::as_select()).load::<UserRow>(c)? {
                let state = facts::UserState {
                    username: &u.username,
                    role: u.role.as_str(),
                    village_id: u.village_id.as_ref().map(|v| v.as_str()),
                    regency_id: u.regency_id.as_deref(),
                    active: u.active,
                    password_digest: digest(&u.password_hash),
                };
                out.insert(u.id.to_string(), facts::state_text(&state));
            }
        }
        FactKind::BankClient => {
            let mut q = bank_client_villages::table
                .inner_join(bank_clients::table.on(bank_clients::id.eq(bank_client_villages::bank_client_id)))
                .filter(bank_client_villages::village_id.eq(village_id))
                .into_boxed();
            if let Some(s) = subject {
                q = q.filter(bank_clients::id.eq(s.to_string()));
            }
            for b in q.select(BankClientRow::as_select()).load::<BankClientRow>(c)? {
                let state = facts::BankClientState {
                    client_id: &b.client_id,
                    name: &b.name,
                    active: b.active,
                    secret_digest: digest(&b.secret_hash),
                    public_key: b.public_key.as_deref(),
                    webhook_url: b.webhook_url.as_deref(),
                };
                out.insert(b.id.clone(), facts::state_text(&state));
            }
        }
        FactKind::Village => {
            let v: Option<VillageRow> =
                villages::table.find(village_id).select(VillageRow::as_select()).first(c).optional()?;
            if let Some(v) = v.filter(|v| subject.is_none_or(|s| s == v.id.as_str())) {
                let state = facts::VillageState {
                    code: &v.code,
                    regency_id: &v.regency_id,
                    bank_account: &v.bank_account,
                    cash_limit_sen: v.cash_limit,
                };
                out.insert(v.id.to_string(), facts::state_text(&state));
            }
        }
        FactKind::Regency => {
            let regency: Option<String> =
                villages::table.find(village_id).select(villages::regency_id).first(c).optional()?;
            let r: Option<RegencyRow> = match regency {
                Some(id) => regencies::table.find(id).select(RegencyRow::as_select()).first(c).optional()?,
                None => None,
            };
            if let Some(r) = r.filter(|r| subject.is_none_or(|s| s == r.id)) {
                let treasury = match (&r.treasury_name, &r.treasury_bank_code, &r.treasury_account_number) {
                    (Some(n), Some(b), Some(a)) => Some((n.as_str(), b.as_str(), a.as_str())),
                    _ => None,
                };
                let state = facts::RegencyState {
                    code: &r.code,
                    utc_offset_minutes: r.utc_offset_minutes,
                    treasury,
                    cash_payment_limit_sen: r.cash_payment_limit,
                };
                out.insert(r.id.clone(), facts::state_text(&state));
            }
        }
        FactKind::FiscalYear => {
            let mut q = fiscal_years::table
                .filter(fiscal_years::village_id.eq(village_id))
                .filter(fiscal_years::status.eq(crate::domain::posting::YearStatus::Closed))
                .into_boxed();
            if let Some(s) = subject {
                let year: i32 = s.parse().map_err(|_| StoreError::internal(format!("fiscal year subject {s}")))?;
                q = q.filter(fiscal_years::year.eq(year));
            }
            for y in q.select(FiscalYearRow::as_select()).load::<FiscalYearRow>(c)? {
                let state = facts::FiscalYearState {
                    status: y.status.as_str(),
                    closed_by: y.closed_by.as_deref(),
                    silpa_sen: y.silpa,
                    silpa_transaction_id: y.silpa_transaction_id.as_deref(),
                };
                out.insert(y.year.to_string(), facts::state_text(&state));
            }
        }
        FactKind::ChargeLine => {
            let mut q = bank_entry_lines::table.filter(bank_entry_lines::village_id.eq(village_id)).into_boxed();
            if let Some(s) = subject {
                q = q.filter(bank_entry_lines::kind.eq(s.to_string()));
            }
            for l in q.select(BankEntryLineRow::as_select()).load::<BankEntryLineRow>(c)? {
                let state =
                    facts::ChargeLineState { account: &l.account_code, activity: &l.activity_code, source: &l.source };
                out.insert(l.kind.as_str().to_string(), facts::state_text(&state));
            }
        }
        FactKind::StatementLine => {
            let mut q = statement_lines::table.filter(statement_lines::village_id.eq(village_id)).into_boxed();
            if let Some(s) = subject {
                q = q.filter(statement_lines::id.eq(s.to_string()));
            }
            for l in q.select(StatementLineRow::as_select()).load::<StatementLineRow>(c)? {
                let state = facts::StatementLineState {
                    bank_reference: &l.bank_reference,
                    value_date: canonical_date(l.value_date),
                    amount_sen: l.amount,
                    direction: &l.direction,
                    client_id: &l.client_id,
                    balance_sen: l.balance,
                };
                out.insert(l.id.clone(), facts::state_text(&state));
            }
        }
    }
    Ok(out)
}

/// The latest fact's state of one subject, if any fact records it.
fn latest_of(c: &mut DbConn, village_id: &str, kind: FactKind, subject: &str) -> Result<Option<String>, StoreError> {
    Ok(chained_facts::table
        .filter(chained_facts::village_id.eq(village_id))
        .filter(chained_facts::kind.eq(kind))
        .filter(chained_facts::subject.eq(subject))
        .order(chained_facts::chain_seq.desc())
        .select(chained_facts::state)
        .first(c)
        .optional()?)
}

/// Refuses to change a subject whose rows no longer say what its latest fact says: the service would otherwise
/// record a change made outside it as its own.
pub(super) fn ensure_intact(c: &mut DbConn, village_id: &str, kind: FactKind, subject: &str) -> Result<(), StoreError> {
    let latest = latest_of(c, village_id, kind, subject)?;
    let current = states(c, village_id, kind, Some(subject))?.remove(subject);
    match facts::judge(latest.as_deref(), current.as_deref()) {
        None => Ok(()),
        Some(finding) => Err(StoreError::Integrity(format!(
            "the {} {subject} of village {village_id} was changed outside kasdesa ({}): nothing was done; the \
             chain's verification names it",
            kind.as_str().replace('_', " "),
            finding.as_str()
        ))),
    }
}

/// Appends a fact of the subject's state now (after the service changed it) to the village's chain, unless its
/// latest fact already says so. Whether one was appended.
pub(super) fn record(
    c: &mut DbConn,
    village: &mut VillageRow,
    kind: FactKind,
    subject: &str,
    actor: &str,
) -> Result<bool, StoreError> {
    let latest: BTreeMap<String, String> =
        latest_of(c, village.id.as_str(), kind, subject)?.map(|s| (subject.to_string(), s)).into_iter().collect();
    let current = states(c, village.id.as_str(), kind, Some(subject))?;
    let mut appended = false;
    for (subject, state) in facts::to_record(&latest, &current) {
        append(c, village, kind, &subject, state, actor)?;
        appended = true;
    }
    Ok(appended)
}

fn append(
    c: &mut DbConn,
    village: &mut VillageRow,
    kind: FactKind,
    subject: &str,
    state: String,
    actor: &str,
) -> Result<(), StoreError> {
    let chain_seq = village.chain_len + 1;
    let mut row = ChainedFactRow {
        id: uuid::Uuid::now_v7().to_string(),
        village_id: village.id.clone(),
        chain_seq,
        kind,
        subject: subject.to_string(),
        state,
        actor: actor.to_string(),
        at: now_micros(),
        prev_hash: village.chain_head.clone(),
        hash: String::new(),
    };
    row.hash = fact_hash(&row);
    diesel::insert_into(chained_facts::table).values(&row).execute(c)?;
    diesel::update(villages::table.find(village.id.as_str()))
        .set((villages::chain_len.eq(chain_seq), villages::chain_head.eq(&row.hash)))
        .execute(c)?;
    village.chain_len = chain_seq;
    village.chain_head = row.hash;
    Ok(())
}

/// Runs `write` with every village in `village_ids` locked (in id order, so two such writes cannot deadlock) and
/// each subject checked against its latest fact first; then records each subject's new state in each village.
/// The villages whose subject the write may change must all be named: one whose rows the write leaves untouched
/// gets no fact.
pub(super) fn changing<T>(
    c: &mut DbConn,
    village_ids: &[String],
    kind: FactKind,
    subject: &str,
    actor: &str,
    write: &mut dyn FnMut(&mut DbConn) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut ids: Vec<&String> = village_ids.iter().collect();
    ids.sort();
    ids.dedup();
    let mut locked = Vec::with_capacity(ids.len());
    for id in ids {
        let v = c.lock_village(id)?.ok_or_else(|| StoreError::Validation(format!("village {id} does not exist")))?;
        ensure_intact(c, id, kind, subject)?;
        locked.push(v);
    }
    let out = write(c)?;
    for v in &mut locked {
        record(c, v, kind, subject, actor)?;
    }
    Ok(out)
}

/// Every subject of the village whose rows disagree with its latest fact.
pub(super) fn mismatches(c: &mut DbConn, village_id: &str) -> Result<Vec<FactMismatch>, StoreError> {
    let mut latest: BTreeMap<FactKey, String> = BTreeMap::new();
    let rows: Vec<(FactKind, String, String)> = chained_facts::table
        .filter(chained_facts::village_id.eq(village_id))
        .order(chained_facts::chain_seq)
        .select((chained_facts::kind, chained_facts::subject, chained_facts::state))
        .load(c)?;
    for (kind, subject, state) in rows {
        latest.insert((kind, subject), state);
    }
    let mut current: BTreeMap<FactKey, String> = BTreeMap::new();
    for kind in FactKind::ALL {
        for (subject, state) in states(c, village_id, kind, None)? {
            current.insert((kind, subject), state);
        }
    }
    Ok(facts::compare(&latest, &current))
}

/// Records every subject of the village that no fact records yet (a database from before facts were chained, or a
/// new village): what its rows say now becomes the first fact, by `actor`. How many facts were appended.
pub(super) fn baseline(c: &mut DbConn, village_id: &str, actor: &str) -> Result<usize, StoreError> {
    let mut village = c.lock_village(village_id)?.ok_or(StoreError::NotFound("village"))?;
    let mut n = 0;
    for kind in FactKind::ALL {
        for (subject, state) in states(c, village_id, kind, None)? {
            if latest_of(c, village_id, kind, &subject)?.is_none() {
                append(c, &mut village, kind, &subject, state, actor)?;
                n += 1;
            }
        }
    }
    Ok(n)
}

impl super::Db {
    /// Gives every village whose chain holds no fact yet its first facts (a database from before facts were
    /// chained): what its rows say at this start becomes the record, by `system`. One transaction per village; the
    /// number of villages given facts.
    pub fn baseline_facts(&self) -> Result<usize, StoreError> {
        let ids: Vec<String> = self.read("villages_without_facts", |c| {
            Ok(villages::table
                .filter(diesel::dsl::not(diesel::dsl::exists(
                    chained_facts::table.filter(chained_facts::village_id.eq(villages::id)),
                )))
                .select(villages::id)
                .load(c)?)
        })?;
        for id in &ids {
            self.write("baseline_facts", |c| c.write_txn(&mut |c| baseline(c, id, "system").map(|_| ())))?;
        }
        Ok(ids.len())
    }
}
