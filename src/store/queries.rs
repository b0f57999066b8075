// Compiled once per backend (see `mod.rs`): `Conn` is the concrete connection type. No inner attributes or `//!`
// comments here, since this file is `include!`d.

use super::rows::*;
use super::schema::*;
use super::{
    now_micros, Alongside, BackendOps, LockTarget, Locked, Probe, ChainBreak, ChainReport, IdempotencyKey, NewTransaction, StoreError, TxnQuery,
    VillageFilter, Written,
};
use crate::domain::accounts::{Side, BANK_ACCOUNT, STANDARD_CHART};
use crate::domain::chain::{link_hash, CanonicalEntry, CanonicalTransaction, GENESIS};
use crate::domain::posting::{
    check_balanced, check_cash_constraints, net_effects, reversal_entries, EntryDraft, TxnKind,
};
use chrono::{Datelike, NaiveDate};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use std::collections::{BTreeMap, HashMap};

/// How many chained rows verification reads at a time: memory stays bounded whatever the village's history.
const VERIFY_BATCH: i64 = 1000;

pub fn create_regency(c: &mut Conn, code: &str, name: &str, utc_offset_minutes: i32) -> Result<RegencyRow, StoreError> {
    let row = RegencyRow {
        id: uuid::Uuid::now_v7().to_string(),
        code: code.to_string(),
        name: name.to_string(),
        created_at: now_micros(),
        utc_offset_minutes,
    };
    diesel::insert_into(regencies::table).values(&row).execute(c)?;
    Ok(row)
}

pub fn get_regency(c: &mut Conn, id: &str) -> Result<Option<RegencyRow>, StoreError> {
    Ok(regencies::table.find(id).select(RegencyRow::as_select()).first(c).optional()?)
}

pub fn list_regencies(c: &mut Conn) -> Result<Vec<RegencyRow>, StoreError> {
    Ok(regencies::table.order(regencies::code).select(RegencyRow::as_select()).load(c)?)
}

/// Creates the village and seeds the standard chart, in one transaction.
pub fn create_village(c: &mut Conn, v: VillageRow) -> Result<VillageRow, StoreError> {
    c.write_txn(&mut |c| {
        if get_regency(c, &v.regency_id)?.is_none() {
            return Err(StoreError::Validation(format!("regency {} does not exist", v.regency_id)));
        }
        diesel::insert_into(villages::table).values(&v).execute(c)?;
        let chart: Vec<AccountRow> = STANDARD_CHART
            .iter()
            .map(|a| AccountRow {
                village_id: v.id.clone(),
                code: a.code.to_string(),
                name: a.name.to_string(),
                class: a.class.as_str().to_string(),
                normal_side: a.class.normal_side().as_str().to_string(),
                balance: 0,
            })
            .collect();
        diesel::insert_into(accounts::table).values(&chart).execute(c)?;
        Ok(v.clone())
    })
}

pub fn get_village(c: &mut Conn, id: &str) -> Result<Option<VillageRow>, StoreError> {
    Ok(villages::table.find(id).select(VillageRow::as_select()).first(c).optional()?)
}

/// Replaces a village's name, bank account and cash limit.
pub fn update_village(c: &mut Conn, v: &VillageRow) -> Result<VillageRow, StoreError> {
    c.write_txn(&mut |c| {
        c.lock_village(&v.id)?.ok_or(StoreError::NotFound("village"))?;
        diesel::update(villages::table.find(&v.id))
            .set((
                villages::name.eq(&v.name),
                villages::bank_account.eq(&v.bank_account),
                villages::cash_limit.eq(v.cash_limit),
            ))
            .execute(c)?;
        get_village(c, &v.id)?.ok_or(StoreError::NotFound("village"))
    })
}

pub fn find_village_by_code(c: &mut Conn, code: &str) -> Result<Option<VillageRow>, StoreError> {
    Ok(villages::table.filter(villages::code.eq(code)).select(VillageRow::as_select()).first(c).optional()?)
}

pub fn list_villages(c: &mut Conn, filter: VillageFilter<'_>) -> Result<Vec<VillageRow>, StoreError> {
    let mut q = villages::table.select(VillageRow::as_select()).order(villages::code).into_boxed();
    match filter {
        VillageFilter::All => {}
        VillageFilter::Regency(r) => q = q.filter(villages::regency_id.eq(r.to_string())),
        VillageFilter::Ids(ids) => q = q.filter(villages::id.eq_any(ids.to_vec())),
    }
    Ok(q.load(c)?)
}

pub fn create_user(c: &mut Conn, u: UserRow) -> Result<UserRow, StoreError> {
    diesel::insert_into(users::table).values(&u).execute(c)?;
    Ok(u)
}

pub fn get_user(c: &mut Conn, id: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table.find(id).select(UserRow::as_select()).first(c).optional()?)
}

/// Replaces a user's role, scope and active flag.
pub fn update_user(c: &mut Conn, u: &UserRow) -> Result<UserRow, StoreError> {
    diesel::update(users::table.find(&u.id))
        .set((
            users::role.eq(&u.role),
            users::village_id.eq(&u.village_id),
            users::regency_id.eq(&u.regency_id),
            users::active.eq(u.active),
        ))
        .execute(c)?;
    get_user(c, &u.id)?.ok_or(StoreError::NotFound("user"))
}

pub fn find_user(c: &mut Conn, username: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table.filter(users::username.eq(username)).select(UserRow::as_select()).first(c).optional()?)
}

pub fn count_users(c: &mut Conn) -> Result<i64, StoreError> {
    Ok(users::table.count().get_result(c)?)
}

pub fn create_bank_client(c: &mut Conn, row: BankClientRow, village_ids: &[String]) -> Result<(), StoreError> {
    c.write_txn(&mut |c| {
        diesel::insert_into(bank_clients::table).values(&row).execute(c)?;
        for v in village_ids {
            if get_village(c, v)?.is_none() {
                return Err(StoreError::Validation(format!("village {v} does not exist")));
            }
            diesel::insert_into(bank_client_villages::table)
                .values((bank_client_villages::bank_client_id.eq(&row.id), bank_client_villages::village_id.eq(v)))
                .execute(c)?;
        }
        Ok(())
    })
}

pub fn find_bank_client(c: &mut Conn, client_id: &str) -> Result<Option<(BankClientRow, Vec<String>)>, StoreError> {
    let Some(row) = bank_clients::table
        .filter(bank_clients::client_id.eq(client_id))
        .select(BankClientRow::as_select())
        .first(c)
        .optional()?
    else {
        return Ok(None);
    };
    let villages = bank_client_villages::table
        .filter(bank_client_villages::bank_client_id.eq(&row.id))
        .select(bank_client_villages::village_id)
        .order(bank_client_villages::village_id)
        .load(c)?;
    Ok(Some((row, villages)))
}

pub fn find_idempotent(c: &mut Conn, idem: &IdempotencyKey) -> Result<Option<(u16, String)>, StoreError> {
    let stored = find_idempotent_row(c, idem)?;
    replay_of(idem, stored)
}

/// The stored answer (request hash, status, body) for a key, if any.
pub(super) fn find_idempotent_row(
    c: &mut Conn,
    idem: &IdempotencyKey,
) -> Result<Option<super::StoredAnswer>, StoreError> {
    let row: Option<IdempotencyRow> = idempotency_keys::table
        .find((&idem.principal, &idem.key))
        .select(IdempotencyRow::as_select())
        .first(c)
        .optional()?;
    Ok(row.map(|r| (r.request_hash, r.status, r.body)))
}

/// A stored answer replays only for the same request; the same key with another request is a conflict.
fn replay_of(idem: &IdempotencyKey, stored: Option<super::StoredAnswer>) -> Result<Option<(u16, String)>, StoreError> {
    match stored {
        None => Ok(None),
        Some((hash, status, body)) if hash == idem.request_hash => Ok(Some((u16::try_from(status).unwrap_or(200), body))),
        Some(_) => Err(StoreError::IdempotencyConflict),
    }
}

/// The generic (SQLite) way of [`BackendOps::lock_for_write`]: one statement per question.
#[allow(dead_code)] // PostgreSQL asks everything in one statement (pg_posting.rs)
pub(super) fn lock_for_write_rows(
    c: &mut Conn,
    target: LockTarget<'_>,
    idem: Option<&IdempotencyKey>,
    probe: &Probe<'_>,
) -> Result<Option<Locked>, StoreError> {
    let village_id = match target {
        LockTarget::Village(id) => id.to_string(),
        LockTarget::PaymentOf(payment_id) => {
            let Some(id) = workflow::payment_village_id(c, payment_id)? else { return Ok(None) };
            id
        }
    };
    let village_id = village_id.as_str();
    let Some(village) = c.lock_village(village_id)? else { return Ok(None) };
    let stored = match idem {
        Some(k) => find_idempotent_row(c, k)?,
        None => None,
    };
    let bank_credit = match probe.bank_reference {
        Some(r) => find_bank_credit(c, village_id, r)?,
        None => None,
    };
    // Balances are not read ahead here: the posting reads them with the same two statements (the year, the
    // accounts), and on SQLite a statement costs no round trip.
    Ok(Some(Locked { village, stored, bank_credit, open_year_balances: None }))
}

/// The bank credit recorded under a reference: (amount, source, transaction id).
pub(super) fn find_bank_credit(
    c: &mut Conn,
    village_id: &str,
    reference: &str,
) -> Result<Option<(i64, String, String)>, StoreError> {
    Ok(bank_credits::table
        .find((village_id, reference))
        .select((bank_credits::amount, bank_credits::source, bank_credits::transaction_id))
        .first(c)
        .optional()?)
}

fn account_balances(c: &mut Conn, village_id: &str, codes: &[String]) -> Result<HashMap<String, i64>, StoreError> {
    Ok(accounts::table
        .filter(accounts::village_id.eq(village_id))
        .filter(accounts::code.eq_any(codes))
        .select((accounts::code, accounts::balance))
        .load::<(String, i64)>(c)?
        .into_iter()
        .collect())
}

/// The idempotency side of a write, handed to it so that it can store its answer in its own last statement
/// (see [`WriteCtx::answer_row`]); if it does not, [`idempotent_write_probed`] stores it after the write.
pub(super) struct WriteCtx<'a, T> {
    pub locked: Locked,
    idem: Option<&'a IdempotencyKey>,
    status: u16,
    render: &'a dyn Fn(&T) -> String,
    answer_stored: bool,
}

impl<T> WriteCtx<'_, T> {
    /// The idempotency record answering with `result`, for the write to insert with its own rows; the skeleton
    /// then does not store it again. None without a key.
    pub fn answer_row(&mut self, result: &T) -> Option<IdempotencyRow> {
        let idem = self.idem?;
        self.answer_stored = true;
        Some(idempotency_row(idem, &self.locked.village.id, self.status, (self.render)(result)))
    }
}

fn idempotency_row(idem: &IdempotencyKey, village_id: &str, status: u16, body: String) -> IdempotencyRow {
    IdempotencyRow {
        principal: idem.principal.clone(),
        key: idem.key.clone(),
        request_hash: idem.request_hash.clone(),
        village_id: Some(village_id.to_string()),
        status: i32::from(status),
        body,
        created_at: now_micros(),
    }
}

/// The idempotent write skeleton: replay if the key is known (checked under the village lock), else run `write`
/// and store its rendered response (with `status`) in the same database transaction.
pub(super) fn idempotent_write<T>(
    c: &mut Conn,
    village_id: &str,
    idem: Option<&IdempotencyKey>,
    status: u16,
    render: &dyn Fn(&T) -> String,
    write: &mut dyn FnMut(&mut Conn, &mut VillageRow) -> Result<T, StoreError>,
) -> Result<Written<T>, StoreError> {
    idempotent_write_probed(c, LockTarget::Village(village_id), idem, &Probe::default(), status, render, &mut |c, ctx| {
        write(c, &mut ctx.locked.village)
    })
}

/// A write run by [`idempotent_write_probed`].
pub(super) type ProbedWrite<'w, T> = dyn FnMut(&mut Conn, &mut WriteCtx<'_, T>) -> Result<T, StoreError> + 'w;

/// [`idempotent_write`] for a write that reads more with its lock (`probe`) and may store its answer itself.
pub(super) fn idempotent_write_probed<T>(
    c: &mut Conn,
    target: LockTarget<'_>,
    idem: Option<&IdempotencyKey>,
    probe: &Probe<'_>,
    status: u16,
    render: &dyn Fn(&T) -> String,
    write: &mut ProbedWrite<'_, T>,
) -> Result<Written<T>, StoreError> {
    // The key is looked up once, under the village's lock: a replay waits for the first attempt to commit and then
    // sees its stored response (a look-up before the lock too would only add a round trip to every write).
    c.write_txn(&mut |c| {
        let mut locked = c.lock_for_write(target, idem, probe)?.ok_or(match target {
            LockTarget::Village(_) => StoreError::NotFound("village"),
            LockTarget::PaymentOf(_) => StoreError::NotFound("payment"),
        })?;
        if let Some(idem) = idem {
            if let Some((status, body)) = replay_of(idem, locked.stored.take())? {
                return Ok(Written::Replay { status, body });
            }
        }
        let mut ctx = WriteCtx { locked, idem, status, render, answer_stored: false };
        let result = write(c, &mut ctx)?;
        if let (Some(idem), false) = (idem, ctx.answer_stored) {
            // A concurrent request with the same key that committed first makes this a unique violation, which the
            // write loop retries: the retry then finds the stored response and replays it.
            let row = idempotency_row(idem, &ctx.locked.village.id, status, render(&result));
            diesel::insert_into(idempotency_keys::table).values(&row).execute(c)?;
        }
        Ok(Written::Fresh(result))
    })
}

pub fn post_transaction(
    c: &mut Conn,
    new: &NewTransaction,
    idem: Option<&IdempotencyKey>,
    render: &dyn Fn(&TransactionRecord) -> String,
) -> Result<Written<TransactionRecord>, StoreError> {
    idempotent_write(c, &new.village_id, idem, 201, render, &mut |c, village| post_locked(c, village, new, None))
}

pub fn reverse_transaction(
    c: &mut Conn,
    original_id: &str,
    value_date: NaiveDate,
    reason: &str,
    actor: &str,
    idem: Option<&IdempotencyKey>,
    render: &dyn Fn(&TransactionRecord) -> String,
) -> Result<Written<TransactionRecord>, StoreError> {
    let original = get_transaction(c, original_id)?.ok_or(StoreError::NotFound("transaction"))?;
    let village_id = original.txn.village_id.clone();
    idempotent_write(c, &village_id, idem, 201, render, &mut |c, village| {
        // Re-read under the lock: a concurrent reversal may have committed since the first read.
        let original = get_transaction(c, original_id)?.ok_or(StoreError::NotFound("transaction"))?;
        if original.txn.kind == TxnKind::Reversal.as_str() {
            return Err(StoreError::Validation(
                "a reversal cannot itself be reversed; post the original again instead".into(),
            ));
        }
        if original.reversed_by.is_some() {
            return Err(StoreError::AlreadyReversed(original.txn.id.clone()));
        }
        if value_date < original.txn.value_date {
            return Err(StoreError::Validation(format!(
                "a reversal cannot be dated before the original's value date {}",
                original.txn.value_date
            )));
        }
        let drafts: Vec<EntryDraft> = original.entries.iter().map(entry_draft).collect::<Result<_, _>>()?;
        let new = NewTransaction {
            village_id: village.id.clone(),
            kind: TxnKind::Reversal,
            value_date,
            description: format!("Pembalikan transaksi #{}: {}", original.txn.seq, reason),
            entries: reversal_entries(&drafts),
            reverses: Some(original.txn.id.clone()),
            payment_id: original.txn.payment_id.clone(),
            bank_reference: None,
            created_by: actor.to_string(),
        };
        post_locked(c, village, &new, None)
    })
}

pub(super) fn entry_draft(e: &EntryRow) -> Result<EntryDraft, StoreError> {
    Ok(EntryDraft {
        account_code: e.account_code.clone(),
        side: Side::parse(&e.side).ok_or_else(|| StoreError::Internal(format!("bad side {}", e.side)))?,
        amount: crate::domain::money::Money::from_sen(e.amount)
            .map_err(|_| StoreError::Internal(format!("bad stored amount {}", e.amount)))?,
        activity_code: e.activity_code.clone(),
        source: e.source.clone(),
    })
}

/// Ensures the value date's fiscal year is open (opening it on first use).
pub(super) fn ensure_year_open(c: &mut Conn, village_id: &str, year: i32) -> Result<(), StoreError> {
    let existing: Option<FiscalYearRow> =
        fiscal_years::table.find((village_id, year)).select(FiscalYearRow::as_select()).first(c).optional()?;
    match existing {
        Some(fy) if fy.status == "closed" => Err(StoreError::FiscalYearClosed(year)),
        Some(_) => Ok(()),
        None => {
            diesel::insert_into(fiscal_years::table)
                .values(&FiscalYearRow {
                    village_id: village_id.to_string(),
                    year,
                    status: "open".into(),
                    closed_at: None,
                    closed_by: None,
                })
                .execute(c)?;
            Ok(())
        }
    }
}

/// The net amount of transfers released to the bank and not yet settled: money the bank account has promised away.
/// `except` leaves out the transfer being settled.
pub(super) fn reserved_for_transfers(c: &mut Conn, village_id: &str, except: Option<&str>) -> Result<i64, StoreError> {
    let mut q = transfers::table
        .filter(transfers::village_id.eq(village_id.to_string()))
        .filter(transfers::status.eq("released"))
        .select(sql::<BigInt>("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(transfers::id.ne(id.to_string()));
    }
    Ok(q.first(c)?)
}

/// Posts under the village lock: every check, then every write, or nothing. Advances the village's sequence and
/// chain in `village` too, so a caller can append more to the chain in the same database transaction.
/// `settling` names the transfer whose settlement this is (its reservation of bank money is then spent, not held).
pub(super) fn post_locked(
    c: &mut Conn,
    village: &mut VillageRow,
    new: &NewTransaction,
    settling: Option<&str>,
) -> Result<TransactionRecord, StoreError> {
    post_locked_with(c, village, new, settling, None, &mut |_| Alongside::default())
}

/// [`post_locked`], with the balances when they were read with the lock (`prefetched`: the accounts of the
/// posting that exist, the year being open) and rows to write along with it.
pub(super) fn post_locked_with(
    c: &mut Conn,
    village: &mut VillageRow,
    new: &NewTransaction,
    settling: Option<&str>,
    prefetched: Option<HashMap<String, i64>>,
    alongside: &mut dyn FnMut(&TransactionRecord) -> Alongside,
) -> Result<TransactionRecord, StoreError> {
    // The HTTP layer checks this too; the store refuses an unbalanced posting whoever calls it.
    check_balanced(&new.entries)?;
    let year = new.value_date.year();
    let codes: Vec<String> = {
        let mut v: Vec<String> = new.entries.iter().map(|e| e.account_code.clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    // Opens the year on first use, refuses a closed one, and reads the balances of the accounts that exist; unless
    // the lock brought them (the year was open then, and the lock is still held).
    let balances: HashMap<String, i64> = match prefetched {
        Some(b) if codes.iter().all(|code| b.contains_key(code)) => b,
        _ => c.posting_balances(&village.id, year, &codes)?,
    };
    if let Some(missing) = codes.iter().find(|code| !balances.contains_key(*code)) {
        return Err(StoreError::UnknownAccount(missing.clone()));
    }

    let effects: BTreeMap<String, i64> = net_effects(&new.entries)?;
    // Money released to the bank for payments is not available to anything else until the bank settles it.
    let reserved = if effects.get(BANK_ACCOUNT).is_some_and(|d| *d < 0) {
        reserved_for_transfers(c, &village.id, settling)?
    } else {
        0
    };
    check_cash_constraints(
        &effects,
        |code| {
            let balance = balances.get(code).copied().unwrap_or(0);
            if code == BANK_ACCOUNT {
                balance - reserved
            } else {
                balance
            }
        },
        village.cash_limit,
    )?;
    let mut new_balances: Vec<(&String, i64)> = Vec::with_capacity(effects.len());
    for (code, delta) in &effects {
        let after = balances[code].checked_add(*delta).ok_or_else(|| {
            StoreError::Validation(format!("the balance of {code} would exceed what the ledger can hold"))
        })?;
        new_balances.push((code, after));
    }

    let seq = village.last_seq + 1;
    let chain_seq = village.chain_len + 1;
    let id = uuid::Uuid::now_v7().to_string();
    let created_at = now_micros();
    let entry_rows: Vec<EntryRow> = new
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| EntryRow {
            transaction_id: id.clone(),
            line_no: i32::try_from(i + 1).expect("entry count is bounded"),
            village_id: village.id.clone(),
            account_code: e.account_code.clone(),
            side: e.side.as_str().to_string(),
            amount: e.amount.sen(),
            activity_code: e.activity_code.clone(),
            source: e.source.clone(),
            value_date: new.value_date,
        })
        .collect();
    let mut txn = TransactionRow {
        id,
        village_id: village.id.clone(),
        seq,
        chain_seq,
        fiscal_year: year,
        kind: new.kind.as_str().to_string(),
        value_date: new.value_date,
        description: new.description.clone(),
        reverses: new.reverses.clone(),
        payment_id: new.payment_id.clone(),
        bank_reference: new.bank_reference.clone(),
        created_by: new.created_by.clone(),
        created_at,
        prev_hash: village.chain_head.clone(),
        hash: String::new(),
    };
    txn.hash = transaction_hash(&txn, &entry_rows);

    // The daily totals that reports sum, kept in step in the same database transaction.
    let mut daily: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for e in &new.entries {
        let slot = daily.entry(e.account_code.as_str()).or_insert((0, 0));
        match e.side {
            Side::Debit => slot.0 += e.amount.sen(),
            Side::Credit => slot.1 += e.amount.sen(),
        }
    }
    let balance_changes: Vec<(&String, i64, i64)> =
        new_balances.iter().map(|(code, after)| (*code, balances[*code], *after)).collect();
    let record = TransactionRecord { txn, entries: entry_rows, reversed_by: None };
    let along = alongside(&record);
    c.write_posting(&record.txn, &record.entries, &balance_changes, &daily, &along)?;
    village.last_seq = seq;
    village.chain_len = chain_seq;
    village.chain_head = record.txn.hash.clone();
    Ok(record)
}

/// A posting's balances, statement by statement (SQLite's way: its statements cost no round trip).
#[allow(dead_code)] // PostgreSQL does this in one statement (pg_posting.rs)
pub(super) fn posting_balances_rows(
    c: &mut Conn,
    village_id: &str,
    year: i32,
    codes: &[String],
) -> Result<HashMap<String, i64>, StoreError> {
    ensure_year_open(c, village_id, year)?;
    account_balances(c, village_id, codes)
}

/// A posting's rows, statement by statement: the transaction, its entries, the new balances, the daily totals and
/// the village's new sequence and chain head.
#[allow(dead_code)] // PostgreSQL does this in one statement (pg_posting.rs)
pub(super) fn write_posting_rows(
    c: &mut Conn,
    txn: &TransactionRow,
    entry_rows: &[EntryRow],
    balances: &[(&String, i64, i64)],
    daily: &BTreeMap<&str, (i64, i64)>,
    along: &Alongside,
) -> Result<(), StoreError> {
    let village_id = &txn.village_id;
    diesel::insert_into(transactions::table).values(txn).execute(c)?;
    diesel::insert_into(entries::table).values(entry_rows).execute(c)?;
    for (code, _before, after) in balances {
        diesel::update(accounts::table.find((village_id, *code))).set(accounts::balance.eq(after)).execute(c)?;
    }
    for (code, (debit, credit)) in daily {
        diesel::insert_into(account_daily::table)
            .values((
                account_daily::village_id.eq(village_id),
                account_daily::account_code.eq(code),
                account_daily::value_date.eq(txn.value_date),
                account_daily::debit.eq(debit),
                account_daily::credit.eq(credit),
            ))
            .on_conflict((account_daily::village_id, account_daily::account_code, account_daily::value_date))
            .do_update()
            .set((
                account_daily::debit.eq(account_daily::debit + debit),
                account_daily::credit.eq(account_daily::credit + credit),
            ))
            .execute(c)?;
    }
    diesel::update(villages::table.find(village_id))
        .set((villages::last_seq.eq(txn.seq), villages::chain_len.eq(txn.chain_seq), villages::chain_head.eq(&txn.hash)))
        .execute(c)?;
    if let Some(row) = &along.bank_credit {
        diesel::insert_into(bank_credits::table).values(row).execute(c)?;
    }
    if let Some(row) = &along.idempotency {
        diesel::insert_into(idempotency_keys::table).values(row).execute(c)?;
    }
    Ok(())
}

pub fn transaction_hash(txn: &TransactionRow, entries: &[EntryRow]) -> String {
    let canonical = CanonicalTransaction {
        record: "transaction",
        id: &txn.id,
        village_id: &txn.village_id,
        chain_seq: txn.chain_seq,
        seq: txn.seq,
        fiscal_year: txn.fiscal_year,
        kind: &txn.kind,
        value_date: txn.value_date.format("%Y-%m-%d").to_string(),
        description: &txn.description,
        reverses: txn.reverses.as_deref(),
        payment_id: txn.payment_id.as_deref(),
        bank_reference: txn.bank_reference.as_deref(),
        created_by: &txn.created_by,
        created_at: txn.created_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        entries: entries
            .iter()
            .map(|e| CanonicalEntry {
                account: &e.account_code,
                side: &e.side,
                amount_sen: e.amount,
                activity: e.activity_code.as_deref(),
                source: e.source.as_deref(),
            })
            .collect(),
    };
    link_hash(&txn.prev_hash, &canonical)
}

/// Attaches entries and `reversed_by` to a page of transaction rows, with two queries for the whole page.
pub(super) fn with_entries(c: &mut Conn, txns: Vec<TransactionRow>) -> Result<Vec<TransactionRecord>, StoreError> {
    if txns.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = txns.iter().map(|t| t.id.clone()).collect();
    let mut by_txn: HashMap<String, Vec<EntryRow>> = HashMap::new();
    for e in entries::table
        .filter(entries::transaction_id.eq_any(&ids))
        .order((entries::transaction_id, entries::line_no))
        .select(EntryRow::as_select())
        .load(c)?
    {
        by_txn.entry(e.transaction_id.clone()).or_default().push(e);
    }
    let reversals: HashMap<String, String> = transactions::table
        .filter(transactions::reverses.eq_any(&ids))
        .select((transactions::reverses.assume_not_null(), transactions::id))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect();
    Ok(txns
        .into_iter()
        .map(|t| {
            let entries = by_txn.remove(&t.id).unwrap_or_default();
            let reversed_by = reversals.get(&t.id).cloned();
            TransactionRecord { txn: t, entries, reversed_by }
        })
        .collect())
}

pub fn get_transaction(c: &mut Conn, id: &str) -> Result<Option<TransactionRecord>, StoreError> {
    let Some(t) = transactions::table.find(id).select(TransactionRow::as_select()).first(c).optional()? else {
        return Ok(None);
    };
    Ok(with_entries(c, vec![t])?.pop())
}

pub fn list_transactions(
    c: &mut Conn,
    village_id: &str,
    query: &TxnQuery,
) -> Result<Vec<TransactionRecord>, StoreError> {
    let mut q = transactions::table
        .filter(transactions::village_id.eq(village_id.to_string()))
        .filter(transactions::seq.gt(query.after_seq))
        .select(TransactionRow::as_select())
        .order(transactions::seq)
        .limit(query.limit)
        .into_boxed();
    if let Some(from) = query.from {
        q = q.filter(transactions::value_date.ge(from));
    }
    if let Some(to) = query.to {
        q = q.filter(transactions::value_date.le(to));
    }
    if let Some(account) = &query.account {
        q = q.filter(
            transactions::id.eq_any(
                entries::table
                    .filter(entries::village_id.eq(village_id.to_string()))
                    .filter(entries::account_code.eq(account.clone()))
                    .select(entries::transaction_id),
            ),
        );
    }
    let rows = q.load(c)?;
    with_entries(c, rows)
}

pub fn accounts(c: &mut Conn, village_id: &str) -> Result<Vec<AccountRow>, StoreError> {
    Ok(accounts::table
        .filter(accounts::village_id.eq(village_id))
        .order(accounts::code)
        .select(AccountRow::as_select())
        .load(c)?)
}

const SIGNED_SUM: &str = "CAST(COALESCE(SUM(CASE WHEN side = 'debit' THEN amount ELSE -amount END), 0) AS BIGINT)";

pub fn balances_at(c: &mut Conn, village_id: &str, at: NaiveDate) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(account_daily::table
        .filter(account_daily::village_id.eq(village_id))
        .filter(account_daily::value_date.le(at))
        .group_by(account_daily::account_code)
        .select((account_daily::account_code, sql::<BigInt>("CAST(COALESCE(SUM(debit - credit), 0) AS BIGINT)")))
        .load(c)?)
}

pub fn fiscal_years(c: &mut Conn, village_id: &str) -> Result<Vec<FiscalYearRow>, StoreError> {
    Ok(fiscal_years::table
        .filter(fiscal_years::village_id.eq(village_id))
        .order(fiscal_years::year)
        .select(FiscalYearRow::as_select())
        .load(c)?)
}

pub fn close_fiscal_year(c: &mut Conn, village_id: &str, year: i32, actor: &str) -> Result<FiscalYearRow, StoreError> {
    c.write_txn(&mut |c| {
        c.lock_village(village_id)?.ok_or(StoreError::NotFound("village"))?;
        ensure_year_open(c, village_id, year)?;
        let now = now_micros();
        diesel::update(fiscal_years::table.find((village_id, year)))
            .set((
                fiscal_years::status.eq("closed"),
                fiscal_years::closed_at.eq(Some(now)),
                fiscal_years::closed_by.eq(Some(actor)),
            ))
            .execute(c)?;
        Ok(FiscalYearRow {
            village_id: village_id.to_string(),
            year,
            status: "closed".into(),
            closed_at: Some(now),
            closed_by: Some(actor.to_string()),
        })
    })
}

/// One link of a village's chain: a transaction or a payment event.
enum Link {
    Txn(TransactionRecord),
    Event(PaymentEventRow),
}

impl Link {
    fn chain_seq(&self) -> i64 {
        match self {
            Link::Txn(t) => t.txn.chain_seq,
            Link::Event(e) => e.chain_seq,
        }
    }
    fn prev_hash(&self) -> &str {
        match self {
            Link::Txn(t) => &t.txn.prev_hash,
            Link::Event(e) => &e.prev_hash,
        }
    }
    fn hash(&self) -> &str {
        match self {
            Link::Txn(t) => &t.txn.hash,
            Link::Event(e) => &e.hash,
        }
    }
    fn recomputed(&self) -> String {
        match self {
            Link::Txn(t) => transaction_hash(&t.txn, &t.entries),
            Link::Event(e) => workflow::event_hash(e),
        }
    }
    fn brk(&self, reason: &str) -> ChainBreak {
        match self {
            Link::Txn(t) => ChainBreak {
                chain_seq: t.txn.chain_seq,
                seq: Some(t.txn.seq),
                transaction_id: Some(t.txn.id.clone()),
                payment_event_id: None,
                reason: reason.into(),
            },
            Link::Event(e) => ChainBreak {
                chain_seq: e.chain_seq,
                seq: None,
                transaction_id: None,
                payment_event_id: Some(e.id.clone()),
                reason: reason.into(),
            },
        }
    }
}

/// The links with chain_seq in [from, from + VERIFY_BATCH), in order.
fn chain_batch(c: &mut Conn, village_id: &str, from: i64) -> Result<Vec<Link>, StoreError> {
    let until = from + VERIFY_BATCH;
    let txns: Vec<TransactionRow> = transactions::table
        .filter(transactions::village_id.eq(village_id))
        .filter(transactions::chain_seq.ge(from))
        .filter(transactions::chain_seq.lt(until))
        .order(transactions::chain_seq)
        .select(TransactionRow::as_select())
        .load(c)?;
    let events: Vec<PaymentEventRow> = payment_events::table
        .filter(payment_events::village_id.eq(village_id))
        .filter(payment_events::chain_seq.ge(from))
        .filter(payment_events::chain_seq.lt(until))
        .order(payment_events::chain_seq)
        .select(PaymentEventRow::as_select())
        .load(c)?;
    let mut links: Vec<Link> =
        with_entries(c, txns)?.into_iter().map(Link::Txn).chain(events.into_iter().map(Link::Event)).collect();
    links.sort_by_key(Link::chain_seq);
    Ok(links)
}

fn chain_has_links_from(c: &mut Conn, village_id: &str, from: i64) -> Result<bool, StoreError> {
    let t: i64 = transactions::table
        .filter(transactions::village_id.eq(village_id))
        .filter(transactions::chain_seq.ge(from))
        .count()
        .get_result(c)?;
    let e: i64 = payment_events::table
        .filter(payment_events::village_id.eq(village_id))
        .filter(payment_events::chain_seq.ge(from))
        .count()
        .get_result(c)?;
    Ok(t + e > 0)
}

pub fn verify_chain(c: &mut Conn, village_id: &str) -> Result<ChainReport, StoreError> {
    let village = get_village(c, village_id)?.ok_or(StoreError::NotFound("village"))?;
    let mut expected_prev = GENESIS.to_string();
    let mut expected = 1i64;
    let mut checked = 0i64;
    let mut first_broken: Option<ChainBreak> = None;
    'batches: loop {
        let links = chain_batch(c, village_id, expected)?;
        if links.is_empty() {
            if chain_has_links_from(c, village_id, expected)? {
                first_broken = Some(ChainBreak::missing(expected));
            }
            break;
        }
        for link in links {
            if link.chain_seq() != expected {
                first_broken = Some(ChainBreak::missing(expected));
                break 'batches;
            }
            if link.prev_hash() != expected_prev {
                first_broken = Some(link.brk("prev_hash_mismatch"));
                break 'batches;
            }
            if link.recomputed() != link.hash() {
                first_broken = Some(link.brk("hash_mismatch"));
                break 'batches;
            }
            checked += 1;
            expected_prev = link.hash().to_string();
            expected += 1;
        }
    }
    if first_broken.is_none() && (village.chain_len != expected - 1 || village.chain_head != expected_prev) {
        // The newest links were removed, or links were added without advancing the village's chain head.
        let mut b = ChainBreak::missing(expected.min(village.chain_len + 1));
        b.reason = "head_mismatch".into();
        first_broken = Some(b);
    }

    // Every stored balance must equal the sum of its entries (computed in the database, not in memory).
    let sums: HashMap<String, i64> = entries::table
        .filter(entries::village_id.eq(village_id))
        .group_by(entries::account_code)
        .select((entries::account_code, sql::<BigInt>(SIGNED_SUM)))
        .load::<(String, i64)>(c)?
        .into_iter()
        .collect();
    // ... and so must the daily totals the reports read.
    let daily: HashMap<String, i64> =
        balances_at(c, village_id, NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date"))?.into_iter().collect();
    let balance_mismatches = accounts(c, village_id)?
        .into_iter()
        .filter(|a| {
            let entries_sum = sums.get(&a.code).copied().unwrap_or(0);
            entries_sum != a.balance || daily.get(&a.code).copied().unwrap_or(0) != entries_sum
        })
        .map(|a| a.code)
        .collect::<Vec<_>>();
    let payment_mismatches = workflow::payment_mismatches(c, village_id)?;
    Ok(ChainReport {
        ok: first_broken.is_none() && balance_mismatches.is_empty() && payment_mismatches.is_empty(),
        checked,
        first_broken,
        balance_mismatches,
        payment_mismatches,
    })
}
