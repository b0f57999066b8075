//! The idempotent write skeleton every write shares: lock the village (reading the caller's stored answer with the
//! lock), replay a known key or refuse it with another request, else run the write and store its answer in the same
//! database transaction.

use super::backend::{ClientState, LockTarget, Locked, Probe};
use super::rows::IdempotencyRow;
use super::schema::idempotency_keys;
use super::{now_micros, DbConn, StoreError};
use diesel::prelude::*;

/// A retried write's identity: who sent it, the key they chose, and a hash of what they asked.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub principal: String,
    pub key: String,
    pub request_hash: String,
}

/// A bank client's token, checked by the write itself with its village lock, in the same statement (a round trip
/// less than a read before it): the client must be active, at the token's version, and without a registered key
/// (the request was not signed). Checked before anything else, a stored answer's replay included.
#[derive(Debug, Clone)]
pub struct ClientCheck {
    pub client_id: String,
    pub version: i64,
}

/// The result of an idempotent write: done now, or the stored response of the first attempt.
#[derive(Debug)]
pub enum Written<T> {
    Fresh(T),
    Replay { status: u16, body: String },
}

/// The stored answer to an idempotency key: (request hash, status, body).
pub type StoredAnswer = (String, i32, String);

/// The stored answer (request hash, status, body) for a key, if any.
pub(super) fn find_idempotent_row(c: &mut DbConn, idem: &IdempotencyKey) -> Result<Option<StoredAnswer>, StoreError> {
    let row: Option<IdempotencyRow> = idempotency_keys::table
        .find((&idem.principal, &idem.key))
        .select(IdempotencyRow::as_select())
        .first(c)
        .optional()?;
    Ok(row.map(|r| (r.request_hash, r.status, r.body)))
}

pub(super) fn find_idempotent(c: &mut DbConn, idem: &IdempotencyKey) -> Result<Option<(u16, String)>, StoreError> {
    let stored = find_idempotent_row(c, idem)?;
    checked_replay(c, replay_of(idem, stored)?)
}

/// A replay goes out only if what it claims was posted is the chain's: an answer edited in the database (another
/// transaction id, another hash) is refused, not replayed to the bank as if it were the service's.
fn checked_replay(c: &mut DbConn, replay: Option<(u16, String)>) -> Result<Option<(u16, String)>, StoreError> {
    match replay {
        Some((_, body)) if !super::chain::answer_holds(c, &body)? => Err(StoreError::Integrity(
            "the stored answer to this Idempotency-Key was changed outside kasdesa: it is not replayed; the chain's \
             verification names it"
                .into(),
        )),
        other => Ok(other),
    }
}

/// A stored answer replays only for the same request; the same key with another request is a conflict.
fn replay_of(idem: &IdempotencyKey, stored: Option<StoredAnswer>) -> Result<Option<(u16, String)>, StoreError> {
    match stored {
        None => Ok(None),
        Some((hash, status, body)) if hash == idem.request_hash => {
            let status = u16::try_from(status).map_err(|_| StoreError::internal(format!("stored status {status}")))?;
            Ok(Some((status, body)))
        }
        Some(_) => Err(StoreError::IdempotencyConflict),
    }
}

fn idempotency_row(idem: &IdempotencyKey, village_id: &str, status: u16, body: String) -> IdempotencyRow {
    IdempotencyRow {
        principal: idem.principal.clone(),
        key: idem.key.clone(),
        request_hash: idem.request_hash.clone(),
        village_id: Some(village_id.into()),
        status: i32::from(status),
        body,
        created_at: now_micros(),
    }
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

/// A write run by [`idempotent_write_probed`].
pub(super) type ProbedWrite<'w, T> = dyn FnMut(&mut DbConn, &mut WriteCtx<'_, T>) -> Result<T, StoreError> + 'w;

/// Replay if the key is known (checked under the village lock), else run `write` and store its rendered response
/// (with `status`) in the same database transaction.
pub(super) fn idempotent_write<T>(
    c: &mut DbConn,
    village_id: &str,
    idem: Option<&IdempotencyKey>,
    status: u16,
    render: &dyn Fn(&T) -> String,
    write: &mut dyn FnMut(&mut DbConn, &mut super::rows::VillageRow) -> Result<T, StoreError>,
) -> Result<Written<T>, StoreError> {
    idempotent_write_probed(
        c,
        LockTarget::Village(village_id),
        idem,
        &Probe::default(),
        status,
        render,
        &mut |c, ctx| write(c, &mut ctx.locked.village),
    )
}

/// [`idempotent_write`] for a write that reads more with its lock (`probe`) and may store its answer itself.
pub(super) fn idempotent_write_probed<T>(
    c: &mut DbConn,
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
        if probe.client.is_some() {
            match locked.client {
                Some(ClientState { current: true, has_key: false }) => {}
                Some(ClientState { current: true, has_key: true }) => {
                    return Err(StoreError::ClientRefused { signs: true })
                }
                _ => return Err(StoreError::ClientRefused { signs: false }),
            }
        }
        if let Some(idem) = idem {
            if let Some((status, body)) = checked_replay(c, replay_of(idem, locked.stored.take())?)? {
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

impl super::Db {
    /// Stores the answer to a request that is not one village's write (a batch across villages): `Ok(None)` once
    /// stored, or the answer already stored under the key by a concurrent retry of the same request.
    pub fn store_answer(
        &self,
        idem: &IdempotencyKey,
        status: u16,
        body: &str,
    ) -> Result<Option<(u16, String)>, StoreError> {
        self.write("store_answer", |c| {
            let row = IdempotencyRow {
                principal: idem.principal.clone(),
                key: idem.key.clone(),
                request_hash: idem.request_hash.clone(),
                village_id: None,
                status: i32::from(status),
                body: body.to_string(),
                created_at: now_micros(),
            };
            if super::error::inserted(diesel::insert_into(idempotency_keys::table).values(&row).execute(c))? {
                Ok(None)
            } else {
                find_idempotent(c, idem)
            }
        })
    }
}
