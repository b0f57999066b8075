//! Verification of a village's chain and books: the walk itself is `domain::chain::ChainWalk`; this file reads the
//! links in bounded batches and compares the stored balances, daily totals and payment requests with what the
//! chained records say.

use super::ledger::{accounts, balances_at, transaction_hash, with_entries};
use super::rows::*;
use super::schema::*;
use super::{Db, DbConn, StoreError};
use crate::domain::chain::{BreakReason, ChainWalk, LinkView};
use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use std::collections::HashMap;

/// How many chained rows verification reads at a time: memory stays bounded whatever the village's history.
const VERIFY_BATCH: i64 = 1000;

/// Where the hash chain (or the balances) first disagree with the rows.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ChainBreak {
    /// The position in the village's chain.
    pub chain_seq: i64,
    /// The transaction's own sequence number, when the broken link is a transaction.
    pub seq: Option<i64>,
    pub transaction_id: Option<String>,
    /// The payment event's id, when the broken link is a workflow event.
    pub payment_event_id: Option<String>,
    /// The fact's id, when the broken link is a chained fact (a budget, user, bank client, setting, closed year or
    /// statement line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fact_id: Option<String>,
    /// `hash_mismatch`, `prev_hash_mismatch`, `missing_link` or `head_mismatch`.
    pub reason: String,
}

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ChainReport {
    pub ok: bool,
    pub checked: i64,
    pub first_broken: Option<ChainBreak>,
    /// Accounts whose stored balance differs from the sum of their entries.
    pub balance_mismatches: Vec<String>,
    /// Payment requests whose stored content no longer matches the digest in their latest chained event.
    pub payment_mismatches: Vec<String>,
    /// Transfers whose amount is not their receipt's (or request's) net: they are neither served nor settled.
    pub transfer_mismatches: Vec<String>,
    /// Budgets, users, bank clients' access, the village's and regency's settings, closed years and statement lines
    /// whose rows no longer say what their latest chained fact says.
    pub fact_mismatches: Vec<crate::domain::facts::FactMismatch>,
    /// Stored idempotent answers (`principal/key`) that claim a posting the chain does not hold: a transaction id
    /// and hash that are not a chained transaction's, or a `transaction_id` not in the village's journal. A retried
    /// request would replay them.
    pub answer_mismatches: Vec<String>,
    /// Budget lines whose stored position is not what the chain gives: the ceiling of the adopted version, and for
    /// a spending line the realised spending the ledger holds (`account/activity/source`).
    pub position_mismatches: Vec<String>,
    /// The chain compared with the signed checkpoints (stored, and any the caller supplied): absent when no
    /// anchor key was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchors: Option<crate::domain::anchor::AnchorReport>,
}

/// What to compare the chain with: the service's public key, and checkpoints a caller kept (an inspector's file).
pub struct Anchors<'a> {
    pub key: &'a ed25519_dalek::VerifyingKey,
    pub supplied: &'a [crate::domain::anchor::Checkpoint],
}

/// One link of a village's chain: a transaction or a payment event.
enum Link {
    Txn(TransactionRecord),
    Event(PaymentEventRow),
    Fact(ChainedFactRow),
}

impl Link {
    fn chain_seq(&self) -> i64 {
        match self {
            Link::Txn(t) => t.txn.chain_seq,
            Link::Event(e) => e.chain_seq,
            Link::Fact(f) => f.chain_seq,
        }
    }

    fn view(&self) -> LinkView {
        match self {
            Link::Txn(t) => LinkView {
                chain_seq: t.txn.chain_seq,
                prev_hash: t.txn.prev_hash.clone(),
                stored_hash: t.txn.hash.clone(),
                recomputed_hash: transaction_hash(&t.txn, &t.entries),
            },
            Link::Event(e) => LinkView {
                chain_seq: e.chain_seq,
                prev_hash: e.prev_hash.clone(),
                stored_hash: e.hash.clone(),
                recomputed_hash: super::payments::event_hash(e),
            },
            Link::Fact(f) => LinkView {
                chain_seq: f.chain_seq,
                prev_hash: f.prev_hash.clone(),
                stored_hash: f.hash.clone(),
                recomputed_hash: super::facts::fact_hash(f),
            },
        }
    }

    /// The break at this link, naming the record.
    fn brk(&self, reason: BreakReason) -> ChainBreak {
        let reason = reason.as_str().to_string();
        match self {
            Link::Txn(t) => ChainBreak {
                chain_seq: t.txn.chain_seq,
                seq: Some(t.txn.seq),
                transaction_id: Some(t.txn.id.to_string()),
                payment_event_id: None,
                fact_id: None,
                reason,
            },
            Link::Event(e) => ChainBreak {
                chain_seq: e.chain_seq,
                seq: None,
                transaction_id: None,
                payment_event_id: Some(e.id.clone()),
                fact_id: None,
                reason,
            },
            Link::Fact(f) => ChainBreak {
                chain_seq: f.chain_seq,
                seq: None,
                transaction_id: None,
                payment_event_id: None,
                fact_id: Some(f.id.clone()),
                reason,
            },
        }
    }
}

/// A break at a position that holds no record.
fn positional(reason: BreakReason, chain_seq: i64) -> ChainBreak {
    ChainBreak {
        chain_seq,
        seq: None,
        transaction_id: None,
        payment_event_id: None,
        fact_id: None,
        reason: reason.as_str().into(),
    }
}

/// The links with chain_seq in [from, from + VERIFY_BATCH), in order.
fn chain_batch(c: &mut DbConn, village_id: &str, from: i64) -> Result<Vec<Link>, StoreError> {
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
    let facts: Vec<ChainedFactRow> = chained_facts::table
        .filter(chained_facts::village_id.eq(village_id))
        .filter(chained_facts::chain_seq.ge(from))
        .filter(chained_facts::chain_seq.lt(until))
        .order(chained_facts::chain_seq)
        .select(ChainedFactRow::as_select())
        .load(c)?;
    let mut links: Vec<Link> = with_entries(c, txns)?
        .into_iter()
        .map(Link::Txn)
        .chain(events.into_iter().map(Link::Event))
        .chain(facts.into_iter().map(Link::Fact))
        .collect();
    links.sort_by_key(Link::chain_seq);
    Ok(links)
}

fn chain_has_links_from(c: &mut DbConn, village_id: &str, from: i64) -> Result<bool, StoreError> {
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
    let f: i64 = chained_facts::table
        .filter(chained_facts::village_id.eq(village_id))
        .filter(chained_facts::chain_seq.ge(from))
        .count()
        .get_result(c)?;
    Ok(t + e + f > 0)
}

/// Walks the chain from its start; the first break, if any, and how many links were sound.
fn walk_chain(c: &mut DbConn, village: &VillageRow) -> Result<(i64, Option<ChainBreak>), StoreError> {
    let mut walk = ChainWalk::default();
    loop {
        let links = chain_batch(c, &village.id, walk.next_seq())?;
        if links.is_empty() {
            break;
        }
        for link in &links {
            if let Err((reason, at)) = walk.step(&link.view()) {
                let brk = if reason == BreakReason::MissingLink { positional(reason, at) } else { link.brk(reason) };
                return Ok((walk.checked(), Some(brk)));
            }
        }
    }
    let more_after = chain_has_links_from(c, &village.id, walk.next_seq())?;
    let end = walk.finish(more_after, village.chain_len, &village.chain_head);
    Ok((walk.checked(), end.err().map(|(reason, at)| positional(reason, at))))
}

const SIGNED_SUM: &str = "CAST(COALESCE(SUM(CASE WHEN side = 'debit' THEN amount ELSE -amount END), 0) AS BIGINT)";

/// Every account whose stored balance, or whose daily totals, differ from the sum of its entries (computed in the
/// database, not in memory).
fn balance_mismatches(c: &mut DbConn, village_id: &str) -> Result<Vec<String>, StoreError> {
    let sums: HashMap<String, i64> = entries::table
        .filter(entries::village_id.eq(village_id))
        .group_by(entries::account_code)
        .select((entries::account_code, sql::<BigInt>(SIGNED_SUM)))
        .load::<(String, i64)>(c)?
        .into_iter()
        .collect();
    let daily: HashMap<String, i64> =
        balances_at(c, village_id, NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date"))?.into_iter().collect();
    Ok(accounts(c, village_id)?
        .into_iter()
        .filter(|a| {
            let entries_sum = sums.get(&a.code).copied().unwrap_or(0);
            entries_sum != a.balance || daily.get(&a.code).copied().unwrap_or(0) != entries_sum
        })
        .map(|a| a.code)
        .collect())
}

/// One link a stored answer says was chained: its id, the hash it shows (none for a bare `transaction_id`), and
/// whether what it shows gives that hash (a transaction shown whole is recomputed; any other link is taken as
/// shown).
struct Claim {
    id: String,
    hash: Option<String>,
    consistent: bool,
}

/// What a stored answer says was chained: every (id, hash) of a transaction or workflow event it shows, and every
/// `transaction_id`.
fn claimed_postings(v: &serde_json::Value, claims: &mut Vec<Claim>) {
    match v {
        serde_json::Value::Object(m) => {
            if let (Some(serde_json::Value::String(id)), Some(serde_json::Value::String(hash))) =
                (m.get("id"), m.get("hash"))
            {
                // A transaction shown whole must give its hash from what it shows: an answer edited to show
                // another description, date or amount under the chain's id and hash is not the chain's.
                let consistent = crate::domain::chain::shown_transaction_hash(v).is_none_or(|h| h == *hash);
                claims.push(Claim { id: id.clone(), hash: Some(hash.clone()), consistent });
            }
            if let Some(serde_json::Value::String(id)) = m.get("transaction_id") {
                claims.push(Claim { id: id.clone(), hash: None, consistent: true });
            }
            m.values().for_each(|x| claimed_postings(x, claims));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| claimed_postings(x, claims)),
        _ => {}
    }
}

/// The stored hash of a chained link by id (`true`: of a transaction only).
type HashOf<'a> = dyn FnMut(&str, bool) -> Result<Option<String>, StoreError> + 'a;

/// Whether every posting a stored answer claims is the chain's: an (id, hash) must be a transaction's or a workflow
/// event's with that hash (and a transaction shown whole must recompute to it), a `transaction_id` a transaction's. `hash_of(id, transactions_only)` is the stored hash
/// of that link, if there is one. An answer that is not JSON claims nothing.
fn claims_hold(body: &str, hash_of: &mut HashOf<'_>) -> Result<bool, StoreError> {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(body) else { return Ok(true) };
    let mut claims = Vec::new();
    claimed_postings(&json, &mut claims);
    for claim in claims {
        if !claim.consistent {
            return Ok(false);
        }
        match (hash_of(&claim.id, claim.hash.is_none())?, claim.hash) {
            (None, _) => return Ok(false),
            (Some(stored), Some(claimed)) if stored != claimed => return Ok(false),
            _ => {}
        }
    }
    Ok(true)
}

/// Whether a stored answer's claims are the chain's (checked before it is replayed): `Ok(false)` for an answer
/// edited in the database.
pub(super) fn answer_holds(c: &mut DbConn, body: &str) -> Result<bool, StoreError> {
    claims_hold(body, &mut |id, transactions_only| {
        let txn: Option<String> = transactions::table.find(id).select(transactions::hash).first(c).optional()?;
        if txn.is_some() || transactions_only {
            return Ok(txn);
        }
        Ok(payment_events::table.find(id).select(payment_events::hash).first(c).optional()?)
    })
}

/// Every stored answer of the village whose claimed postings are not the chain's (see [`ChainReport`]), read in
/// bounded batches.
fn answer_mismatches(c: &mut DbConn, village_id: &str) -> Result<Vec<String>, StoreError> {
    // The links an answer may show with their hash: transactions, and the workflow events in a request's trail.
    let txns: HashMap<String, String> = transactions::table
        .filter(transactions::village_id.eq(village_id))
        .select((transactions::id, transactions::hash))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect();
    let events: HashMap<String, String> = payment_events::table
        .filter(payment_events::village_id.eq(village_id))
        .select((payment_events::id, payment_events::hash))
        .load::<(String, String)>(c)?
        .into_iter()
        .collect();
    let mut hash_of = |id: &str, transactions_only: bool| {
        Ok(txns.get(id).or_else(|| if transactions_only { None } else { events.get(id) }).cloned())
    };
    let mut out = Vec::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let mut q = idempotency_keys::table
            .filter(idempotency_keys::village_id.eq(village_id))
            .order((idempotency_keys::principal, idempotency_keys::key))
            .select((idempotency_keys::principal, idempotency_keys::key, idempotency_keys::body))
            .limit(VERIFY_BATCH)
            .into_boxed();
        if let Some((p, k)) = &after {
            q = q.filter(
                idempotency_keys::principal
                    .gt(p.clone())
                    .or(idempotency_keys::principal.eq(p.clone()).and(idempotency_keys::key.gt(k.clone()))),
            );
        }
        let batch: Vec<(String, String, String)> = q.load(c)?;
        let Some(last) = batch.last() else { break };
        after = Some((last.0.clone(), last.1.clone()));
        for (principal, key, body) in &batch {
            if !claims_hold(body, &mut hash_of)? {
                out.push(format!("{principal}/{key}"));
            }
        }
    }
    Ok(out)
}

impl Db {
    /// Walks the village's chain in bounded batches and checks every link, then every stored balance and every
    /// payment request against its trail.
    ///
    /// With `anchors`, the chain is also compared with every signed checkpoint of the village (stored ones and
    /// supplied ones): a history rewritten before a checkpoint, even with every hash recomputed, fails there.
    pub fn verify_chain(&self, village_id: &str, anchors: Option<Anchors<'_>>) -> Result<ChainReport, StoreError> {
        self.read("verify_chain", |c| {
            let village = super::admin::get_village(c, village_id)?.ok_or(StoreError::NotFound("village"))?;
            let (checked, first_broken) = walk_chain(c, &village)?;
            let balance_mismatches = balance_mismatches(c, village_id)?;
            let (payment_mismatches, transfer_mismatches) = super::payments::payment_mismatches(c, village_id)?;
            let fact_mismatches = super::facts::mismatches(c, village_id)?;
            let position_mismatches = super::budget::position_mismatches(c, village_id)?;
            let answer_mismatches = answer_mismatches(c, village_id)?;
            let anchors = match anchors {
                None => None,
                Some(a) => {
                    let mut all = super::anchor::village_checkpoints(c, village_id)?;
                    all.extend(a.supplied.iter().filter(|cp| cp.village_id == village_id).cloned());
                    let mut chain = super::anchor::StoredChain { c, village_id, len: village.chain_len };
                    Some(crate::domain::anchor::compare(village_id, a.key, &all, &mut chain))
                }
            };
            Ok(ChainReport {
                ok: first_broken.is_none()
                    && balance_mismatches.is_empty()
                    && payment_mismatches.is_empty()
                    && transfer_mismatches.is_empty()
                    && fact_mismatches.is_empty()
                    && position_mismatches.is_empty()
                    && answer_mismatches.is_empty()
                    && anchors.as_ref().is_none_or(|a| a.ok()),
                checked,
                first_broken,
                balance_mismatches,
                payment_mismatches,
                transfer_mismatches,
                fact_mismatches,
                position_mismatches,
                answer_mismatches,
                anchors,
            })
        })
    }
}
