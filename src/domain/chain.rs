//! The per-village hash chain: `hash = SHA-256(prev_hash ‖ canonical content)`. The canonical content is a JSON
//! document with a fixed field order and amounts as integer sen, so any backend, any language can recompute it.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of a village's first chained record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Serialize)]
pub struct CanonicalEntry<'a> {
    pub account: &'a str,
    pub side: &'a str,
    pub amount_sen: i64,
    pub activity: Option<&'a str>,
    pub source: Option<&'a str>,
}

/// Everything that makes a transaction what it is. Field order is part of the format: do not reorder.
#[derive(Serialize)]
pub struct CanonicalTransaction<'a> {
    pub record: &'static str,
    pub id: &'a str,
    pub village_id: &'a str,
    pub chain_seq: i64,
    pub seq: i64,
    pub fiscal_year: i32,
    pub kind: &'a str,
    pub value_date: String,
    pub description: &'a str,
    pub reverses: Option<&'a str>,
    pub payment_id: Option<&'a str>,
    pub bank_reference: Option<&'a str>,
    pub created_by: &'a str,
    pub created_at: String,
    pub entries: Vec<CanonicalEntry<'a>>,
}

pub fn link_hash(prev_hash: &str, canonical: &impl Serialize) -> String {
    let body = serde_json::to_vec(canonical).expect("canonical records serialise");
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(&body);
    hex::encode(h.finalize())
}

/// One line of a payment request as its digest covers it.
#[derive(Serialize)]
pub struct CanonicalPaymentLine<'a> {
    pub line_no: i32,
    pub account: &'a str,
    pub source: Option<&'a str>,
    pub amount_sen: i64,
    /// (tax, amount in sen)
    pub withholdings: Vec<(&'a str, i64)>,
    /// A tax deposit line's billing code. Left out when there is none, so that the digests of requests made before
    /// lines had billing codes are unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_code: Option<&'a str>,
    /// The receipt a line belongs to, in a request with many receipts (left out otherwise, so that the digests of
    /// requests of one payee are unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_no: Option<i32>,
}

/// One receipt of a request with many, as its digest covers it: who is paid (the status is the trail's).
#[derive(Serialize)]
pub struct CanonicalReceipt<'a> {
    pub receipt_no: i32,
    pub number: &'a str,
    /// (name, bank code, account number, NPWP)
    pub payee: (&'a str, &'a str, &'a str, Option<&'a str>),
    pub description: Option<&'a str>,
    pub net_sen: i64,
}

/// What a payment request asks for (payee, lines, amounts). Field order is part of the format: do not reorder.
#[derive(Serialize)]
pub struct CanonicalPayment<'a> {
    pub id: &'a str,
    pub village_id: &'a str,
    pub kind: &'a str,
    pub fiscal_year: i32,
    pub activity_code: Option<&'a str>,
    pub description: &'a str,
    /// (name, bank code, account number, NPWP)
    pub payee: (&'a str, &'a str, &'a str, Option<&'a str>),
    /// (number, date as YYYY-MM-DD)
    pub invoice: (Option<&'a str>, Option<String>),
    pub billing_code: Option<&'a str>,
    pub gross_sen: i64,
    pub withheld_sen: i64,
    pub net_sen: i64,
    pub lines: Vec<CanonicalPaymentLine<'a>>,
    /// Only in a request with many receipts (left out otherwise: earlier digests are unchanged).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipts: Option<Vec<CanonicalReceipt<'a>>>,
}

/// A digest of what a request asks for: each workflow event records it, so a request edited in the database after
/// the fact no longer matches its trail.
pub fn payment_digest(p: &CanonicalPayment<'_>) -> String {
    hex::encode(Sha256::digest(serde_json::to_vec(p).expect("canonical records serialise")))
}

/// One step of a payment request's workflow, as chained. Field order is part of the format: do not reorder.
#[derive(Serialize)]
pub struct CanonicalEvent<'a> {
    pub record: &'static str,
    pub id: &'a str,
    pub village_id: &'a str,
    pub chain_seq: i64,
    pub payment_id: &'a str,
    pub step: &'a str,
    pub action: &'a str,
    pub actor: &'a str,
    pub actor_name: &'a str,
    pub role: &'a str,
    pub from: Option<&'a str>,
    pub to: &'a str,
    pub note: Option<&'a str>,
    pub at: String,
    pub payment_digest: &'a str,
}

/// How timestamps appear in canonical forms: RFC 3339, UTC, microseconds (what both backends store).
pub fn canonical_time(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// How dates appear in canonical forms.
pub fn canonical_date(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The hash a transaction shown in an answer (the API's transaction view: every canonical field, its entries and
/// `prev_hash`) gives when recomputed from what the answer shows; `None` when the object is not such a view. A
/// stored answer whose transaction shows the chain's id and hash but another description, date or amount
/// recomputes to another hash, so an edit that keeps every id and hash is still found.
pub fn shown_transaction_hash(v: &serde_json::Value) -> Option<String> {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str());
    let opt = |k: &str| v.get(k).and_then(|x| x.as_str());
    let (entries, prev_hash) = (v.get("entries")?.as_array()?, s("prev_hash")?);
    let created_at = chrono::DateTime::parse_from_rfc3339(s("created_at")?).ok()?.naive_utc();
    let shown: Option<Vec<CanonicalEntry<'_>>> = entries
        .iter()
        .map(|e| {
            let amount = super::money::Money::parse(e.get("amount")?.as_str()?).ok()?;
            Some(CanonicalEntry {
                account: e.get("account_code")?.as_str()?,
                side: e.get("side")?.as_str()?,
                amount_sen: amount.sen(),
                activity: e.get("activity_code").and_then(|x| x.as_str()),
                source: e.get("source").and_then(|x| x.as_str()),
            })
        })
        .collect();
    let canonical = CanonicalTransaction {
        record: "transaction",
        id: s("id")?,
        village_id: s("village_id")?,
        chain_seq: v.get("chain_seq")?.as_i64()?,
        seq: v.get("seq")?.as_i64()?,
        fiscal_year: i32::try_from(v.get("fiscal_year")?.as_i64()?).ok()?,
        kind: s("kind")?,
        value_date: s("value_date")?.to_string(),
        description: s("description")?,
        reverses: opt("reverses"),
        payment_id: opt("payment_id"),
        bank_reference: opt("bank_reference"),
        created_by: s("created_by")?,
        created_at: canonical_time(created_at),
        entries: shown?,
    };
    Some(link_hash(prev_hash, &canonical))
}

/// A chained record as verification sees it: where it says it is, the hash it stores, the hash before it, and the
/// hash recomputed from its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkView {
    pub chain_seq: i64,
    pub prev_hash: String,
    pub stored_hash: String,
    pub recomputed_hash: String,
}

/// Why a chain fails verification at a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakReason {
    /// A record's content no longer gives its stored hash: it was edited.
    HashMismatch,
    /// A record does not point at the hash before it: one was replaced or reordered.
    PrevHashMismatch,
    /// A position of the chain holds no record: one was deleted.
    MissingLink,
    /// The chain and the village's recorded head disagree: the newest records were removed, or records were
    /// added without advancing the head.
    HeadMismatch,
}

impl BreakReason {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakReason::HashMismatch => "hash_mismatch",
            BreakReason::PrevHashMismatch => "prev_hash_mismatch",
            BreakReason::MissingLink => "missing_link",
            BreakReason::HeadMismatch => "head_mismatch",
        }
    }
}

/// The walk of verification over a village's chain, fed in `chain_seq` order in batches of any size: every
/// position from 1 must hold exactly one record that points at the one before it and whose content gives its hash,
/// and the last one must be the village's recorded head.
#[derive(Debug, Clone)]
pub struct ChainWalk {
    expected_seq: i64,
    expected_prev: String,
    checked: i64,
}

impl Default for ChainWalk {
    fn default() -> Self {
        ChainWalk { expected_seq: 1, expected_prev: GENESIS.to_string(), checked: 0 }
    }
}

impl ChainWalk {
    /// The next position the walk expects: where the next batch starts.
    pub fn next_seq(&self) -> i64 {
        self.expected_seq
    }

    /// How many links have been checked and found sound.
    pub fn checked(&self) -> i64 {
        self.checked
    }

    /// Checks the next link. On a break, the walk stops there: the reason and the position it names.
    pub fn step(&mut self, link: &LinkView) -> Result<(), (BreakReason, i64)> {
        if link.chain_seq != self.expected_seq {
            return Err((BreakReason::MissingLink, self.expected_seq));
        }
        if link.prev_hash != self.expected_prev {
            return Err((BreakReason::PrevHashMismatch, link.chain_seq));
        }
        if link.recomputed_hash != link.stored_hash {
            return Err((BreakReason::HashMismatch, link.chain_seq));
        }
        self.checked += 1;
        self.expected_prev.clone_from(&link.stored_hash);
        self.expected_seq += 1;
        Ok(())
    }

    /// After the last link: `more_after` says whether records exist past where the walk stopped (a gap), and the
    /// village's head (length, newest hash) must be where the walk ended.
    pub fn finish(&self, more_after: bool, head_len: i64, head_hash: &str) -> Result<(), (BreakReason, i64)> {
        if more_after {
            return Err((BreakReason::MissingLink, self.expected_seq));
        }
        if head_len != self.expected_seq - 1 || head_hash != self.expected_prev {
            return Err((BreakReason::HeadMismatch, self.expected_seq.min(head_len + 1)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<LinkView> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                #[derive(Serialize)]
                struct R {
                    seq: i64,
                }
                let h = link_hash(&prev, &R { seq });
                let l = LinkView {
                    chain_seq: seq,
                    prev_hash: prev.clone(),
                    stored_hash: h.clone(),
                    recomputed_hash: h.clone(),
                };
                prev = h;
                l
            })
            .collect()
    }

    fn walk(links: &[LinkView], head_len: i64, head: &str) -> Result<i64, (BreakReason, i64)> {
        let mut w = ChainWalk::default();
        for l in links {
            w.step(l)?;
        }
        w.finish(false, head_len, head)?;
        Ok(w.checked())
    }

    #[test]
    fn the_walk_names_the_first_break() {
        let links = chain(5);
        let head = links[4].stored_hash.clone();
        assert_eq!(walk(&links, 5, &head), Ok(5));
        let mut edited = links.clone();
        edited[2].recomputed_hash = "x".into();
        assert_eq!(walk(&edited, 5, &head), Err((BreakReason::HashMismatch, 3)));
        let mut gap = links.clone();
        gap.remove(1);
        assert_eq!(walk(&gap, 5, &head), Err((BreakReason::MissingLink, 2)));
        let mut relinked = links.clone();
        relinked[3].prev_hash = GENESIS.into();
        assert_eq!(walk(&relinked, 5, &head), Err((BreakReason::PrevHashMismatch, 4)));
        // The newest link deleted: only the head shows it.
        assert_eq!(walk(&links[..4], 5, &head), Err((BreakReason::HeadMismatch, 5)));
        assert_eq!(walk(&[], 0, GENESIS), Ok(0));
    }

    proptest::proptest! {
        /// Any single edit of any link of a sound chain (its content, its back pointer, or its removal) is found,
        /// at that link or, for the newest one removed, at the head.
        #[test]
        fn every_single_edit_is_found(n in 1i64..30, at in 0usize..30, what in 0u8..3) {
            let mut links = chain(n);
            let head = links.last().unwrap().stored_hash.clone();
            let at = at % links.len();
            let seq = links[at].chain_seq;
            match what {
                0 => links[at].recomputed_hash = "edited".into(),
                1 => links[at].prev_hash = "f".repeat(64),
                _ => { links.remove(at); }
            }
            let found = walk(&links, n, &head);
            proptest::prop_assert!(found.is_err());
            let (_, where_) = found.unwrap_err();
            proptest::prop_assert_eq!(where_, seq);
        }
    }

    #[test]
    fn hash_depends_on_prev_and_content() {
        #[derive(Serialize)]
        struct X {
            a: i64,
        }
        let h1 = link_hash(GENESIS, &X { a: 1 });
        assert_eq!(h1.len(), 64);
        assert_ne!(h1, link_hash(GENESIS, &X { a: 2 }));
        assert_ne!(h1, link_hash(&h1, &X { a: 1 }));
        assert_eq!(h1, link_hash(GENESIS, &X { a: 1 }));
    }
}
