//! Checkpoints of the chain heads, as stored (`domain::anchor` signs them and compares a chain with them): the heads
//! to sign, the signed rows, and the chain's stored hash at a position for the comparison.

use super::rows::CheckpointRow;
use super::schema::*;
use super::{Db, DbConn, StoreError};
use crate::domain::anchor::{ChainView, Checkpoint};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// A village's head now, and the newest position a checkpoint of the key already covers.
#[derive(Debug, Clone)]
pub struct Head {
    pub village_id: String,
    pub chain_len: i64,
    pub chain_head: String,
    pub anchored_seq: Option<i64>,
}

impl From<CheckpointRow> for Checkpoint {
    fn from(r: CheckpointRow) -> Checkpoint {
        Checkpoint {
            village_id: r.village_id,
            chain_seq: r.chain_seq,
            hash: r.hash,
            at: r.at,
            key_id: r.key_id,
            signature: r.signature,
        }
    }
}

/// The chain as stored, for `domain::anchor::compare`: a position's hash is read when a checkpoint asks for it.
pub(super) struct StoredChain<'a> {
    pub c: &'a mut DbConn,
    pub village_id: &'a str,
    pub len: i64,
}

impl ChainView for StoredChain<'_> {
    fn chain_len(&self) -> i64 {
        self.len
    }

    fn hash_at(&mut self, chain_seq: i64) -> Option<String> {
        let t: Option<String> = transactions::table
            .filter(transactions::village_id.eq(self.village_id))
            .filter(transactions::chain_seq.eq(chain_seq))
            .select(transactions::hash)
            .first(self.c)
            .optional()
            .ok()
            .flatten();
        t.or_else(|| {
            payment_events::table
                .filter(payment_events::village_id.eq(self.village_id))
                .filter(payment_events::chain_seq.eq(chain_seq))
                .select(payment_events::hash)
                .first(self.c)
                .optional()
                .ok()
                .flatten()
        })
        .or_else(|| {
            chained_facts::table
                .filter(chained_facts::village_id.eq(self.village_id))
                .filter(chained_facts::chain_seq.eq(chain_seq))
                .select(chained_facts::hash)
                .first(self.c)
                .optional()
                .ok()
                .flatten()
        })
    }
}

pub(super) fn village_checkpoints(c: &mut DbConn, village_id: &str) -> Result<Vec<Checkpoint>, StoreError> {
    Ok(checkpoints::table
        .filter(checkpoints::village_id.eq(village_id))
        .order((checkpoints::chain_seq, checkpoints::at))
        .select(CheckpointRow::as_select())
        .load(c)?
        .into_iter()
        .map(Checkpoint::from)
        .collect())
}

impl Db {
    /// Every village's head (of one regency, or all), with the newest position `key_id` already signed.
    pub fn chain_heads(&self, regency_id: Option<&str>, key_id: &str) -> Result<Vec<Head>, StoreError> {
        self.read("chain_heads", |c| {
            let mut q = villages::table.select((villages::id, villages::chain_len, villages::chain_head)).into_boxed();
            if let Some(r) = regency_id {
                q = q.filter(villages::regency_id.eq(r.to_string()));
            }
            let heads: Vec<(String, i64, String)> = q.order(villages::id).load(c)?;
            let anchored: std::collections::HashMap<String, i64> = checkpoints::table
                .filter(checkpoints::key_id.eq(key_id))
                .group_by(checkpoints::village_id)
                .select((checkpoints::village_id, diesel::dsl::max(checkpoints::chain_seq)))
                .load::<(String, Option<i64>)>(c)?
                .into_iter()
                .filter_map(|(v, s)| s.map(|s| (v, s)))
                .collect();
            Ok(heads
                .into_iter()
                .map(|(village_id, chain_len, chain_head)| Head {
                    anchored_seq: anchored.get(&village_id).copied(),
                    village_id,
                    chain_len,
                    chain_head,
                })
                .collect())
        })
    }

    /// Stores signed checkpoints; one that exists already (same village, position and key) is kept as it was.
    pub fn insert_checkpoints(&self, cps: &[Checkpoint], now: NaiveDateTime) -> Result<usize, StoreError> {
        self.write("insert_checkpoints", |c| {
            let mut added = 0;
            // `chain_heads` leaves out the heads already signed; a race with another instance is the insert's.
            for cp in cps {
                let row = CheckpointRow {
                    village_id: cp.village_id.clone(),
                    chain_seq: cp.chain_seq,
                    hash: cp.hash.clone(),
                    at: cp.at.clone(),
                    key_id: cp.key_id.clone(),
                    signature: cp.signature.clone(),
                    created_at: now,
                };
                // One there already (another instance signed the same head) is kept as it was.
                if super::error::inserted(diesel::insert_into(checkpoints::table).values(&row).execute(c))? {
                    added += 1;
                }
            }
            Ok(added)
        })
    }

    /// The checkpoints of a regency's villages, oldest first; from `since` on, or only each village's newest.
    pub fn regency_checkpoints(
        &self,
        regency_id: &str,
        since: Option<NaiveDateTime>,
        latest_only: bool,
    ) -> Result<Vec<Checkpoint>, StoreError> {
        self.read("regency_checkpoints", |c| {
            let ids: Vec<String> =
                villages::table.filter(villages::regency_id.eq(regency_id)).select(villages::id).load(c)?;
            let mut q = checkpoints::table
                .filter(checkpoints::village_id.eq_any(&ids))
                .order((checkpoints::village_id, checkpoints::chain_seq, checkpoints::at))
                .select(CheckpointRow::as_select())
                .into_boxed();
            if let Some(t) = since {
                q = q.filter(checkpoints::created_at.ge(t));
            }
            let rows: Vec<Checkpoint> = q.load(c)?.into_iter().map(Checkpoint::from).collect();
            if !latest_only {
                return Ok(rows);
            }
            let mut newest: Vec<Checkpoint> = Vec::new();
            for cp in rows {
                match newest.last_mut() {
                    Some(last) if last.village_id == cp.village_id => *last = cp,
                    _ => newest.push(cp),
                }
            }
            Ok(newest)
        })
    }
}
