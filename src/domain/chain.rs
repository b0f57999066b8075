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

#[cfg(test)]
mod tests {
    use super::*;

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
