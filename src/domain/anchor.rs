//! Anchored chain heads: a checkpoint says "village V's chain had N links and its newest hash was H at time T",
//! signed with an Ed25519 key that is not in the database. Whoever keeps a checkpoint (the regency's inspector, in a
//! file exported from `GET /regencies/{id}/checkpoints`) can later prove that the chain up to N is the one that
//! existed at T: rewriting any link at or before N, even with every hash recomputed, changes the hash at N.
//!
//! The signed message is plain text, so that an inspector can check a checkpoint without kasdesa
//! (`openssl pkeyutl -verify -pubin -inkey anchor.pub.pem -rawin -in message -sigfile signature`):
//!
//! ```text
//! kasdesa-checkpoint/v1
//! <village id>
//! <chain length>
//! <head hash, 64 hex>
//! <time, RFC 3339 UTC with microseconds>
//! ```
//!
//! (each line ends with `\n`). What this file decides: the message, signing and checking one checkpoint, and
//! comparing a chain with a set of checkpoints (`compare`), naming the first divergence as narrowly as the
//! checkpoints allow.

use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The first line of every signed message: a version, so that the format can change without ambiguity.
pub const MESSAGE_HEADER: &str = "kasdesa-checkpoint/v1";

/// A village's chain head at a moment, with the signature over its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checkpoint {
    pub village_id: String,
    /// How many links the chain had (the newest link's `chain_seq`).
    pub chain_seq: i64,
    /// The newest link's hash (`GENESIS` for an empty chain).
    pub hash: String,
    /// When it was taken, RFC 3339 UTC with microseconds (part of the signed message, as written).
    pub at: String,
    /// Which key signed it: the first 16 hex digits of SHA-256 over the raw public key.
    pub key_id: String,
    /// The Ed25519 signature over `message()`, base64 (standard alphabet, padded).
    pub signature: String,
}

impl Checkpoint {
    /// The text that is signed.
    pub fn message(village_id: &str, chain_seq: i64, hash: &str, at: &str) -> String {
        format!("{MESSAGE_HEADER}\n{village_id}\n{chain_seq}\n{hash}\n{at}\n")
    }

    /// Signs a head with `key`.
    pub fn sign(key: &SigningKey, village_id: &str, chain_seq: i64, hash: &str, at: &str) -> Checkpoint {
        let sig = key.sign(Self::message(village_id, chain_seq, hash, at).as_bytes());
        Checkpoint {
            village_id: village_id.to_string(),
            chain_seq,
            hash: hash.to_string(),
            at: at.to_string(),
            key_id: key_id(&key.verifying_key()),
            signature: base64::engine::general_purpose::STANDARD.encode(sig.to_bytes()),
        }
    }

    /// Whether `key` signed exactly this checkpoint.
    pub fn is_signed_by(&self, key: &VerifyingKey) -> bool {
        if self.key_id != key_id(key) {
            return false;
        }
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(&self.signature) else { return false };
        let Ok(sig) = Signature::from_slice(&raw) else { return false };
        let msg = Self::message(&self.village_id, self.chain_seq, &self.hash, &self.at);
        key.verify(msg.as_bytes(), &sig).is_ok()
    }
}

/// The id of a public key: the first 16 hex digits of SHA-256 over its 32 raw bytes.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// What comparing the chain with one checkpoint found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    /// The chain's link at the checkpoint's position has the hash the checkpoint signed.
    Matches,
    /// The chain's link at that position has another hash: history at or before it was rewritten.
    HashDiffers,
    /// The chain is shorter than the checkpoint: links the checkpoint saw were removed.
    LinksRemoved,
    /// The signature is not this service's key's over this content: forged or altered (it proves nothing).
    BadSignature,
    /// The checkpoint is of another village (in a file supplied for this one).
    OtherVillage,
}

/// The chain's side of a comparison: its length and the stored hash of a position.
pub trait ChainView {
    fn chain_len(&self) -> i64;
    /// The stored hash of the link at `chain_seq` (1..=len), or `None` if the position holds no link.
    fn hash_at(&mut self, chain_seq: i64) -> Option<String>;
}

/// One checkpoint's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CheckpointResult {
    pub chain_seq: i64,
    pub at: String,
    pub finding: Finding,
}

/// Where the chain first parts from the signed history: somewhere in `after_seq + 1 ..= at_or_before_seq`. The
/// checkpoints cannot say which link inside that range was rewritten (every hash after it was recomputed), only that
/// one was; the closer the checkpoints, the narrower the range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Divergence {
    /// The newest checkpoint before the divergence that still matches (0 if none does).
    pub after_seq: i64,
    /// The oldest checkpoint that no longer matches.
    pub at_or_before_seq: i64,
    pub finding: Finding,
}

/// The comparison of a chain with a set of checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AnchorReport {
    /// Checkpoints with a valid signature that were compared.
    pub compared: usize,
    /// Checkpoints that name another key (made before the key was changed, or made up): neither compared nor held
    /// against the chain. Check an older file against the public key it names.
    pub other_key: usize,
    /// The newest position the chain is anchored at (a matching checkpoint), 0 if none.
    pub anchored_seq: i64,
    pub first_divergence: Option<Divergence>,
    /// Every checkpoint that does not match, with why (bad signatures included), oldest first.
    pub problems: Vec<CheckpointResult>,
}

impl AnchorReport {
    pub fn ok(&self) -> bool {
        self.first_divergence.is_none() && self.problems.is_empty()
    }
}

/// Compares `chain` with `checkpoints` of `village_id` signed by `key` (in any order, duplicates allowed).
pub fn compare(
    village_id: &str,
    key: &VerifyingKey,
    checkpoints: &[Checkpoint],
    chain: &mut dyn ChainView,
) -> AnchorReport {
    let mut sorted: Vec<&Checkpoint> = checkpoints.iter().collect();
    sorted.sort_by(|a, b| a.chain_seq.cmp(&b.chain_seq).then_with(|| a.at.cmp(&b.at)));
    sorted.dedup_by(|a, b| a == b);
    let len = chain.chain_len();
    let mut report =
        AnchorReport { compared: 0, other_key: 0, anchored_seq: 0, first_divergence: None, problems: Vec::new() };
    let ours = key_id(key);
    let mut last_match = 0;
    for cp in sorted {
        if cp.key_id != ours {
            report.other_key += 1;
            continue;
        }
        let finding = if cp.village_id != village_id {
            Finding::OtherVillage
        } else if !cp.is_signed_by(key) {
            Finding::BadSignature
        } else if cp.chain_seq > len {
            Finding::LinksRemoved
        } else if cp.chain_seq < 1 {
            // An empty chain's checkpoint: nothing to compare but the genesis it names.
            if cp.hash == super::chain::GENESIS {
                Finding::Matches
            } else {
                Finding::HashDiffers
            }
        } else if chain.hash_at(cp.chain_seq).as_deref() == Some(cp.hash.as_str()) {
            Finding::Matches
        } else {
            Finding::HashDiffers
        };
        if matches!(finding, Finding::OtherVillage) {
            continue;
        }
        if !matches!(finding, Finding::BadSignature) {
            report.compared += 1;
        }
        match finding {
            Finding::Matches => {
                if report.first_divergence.is_none() {
                    last_match = cp.chain_seq;
                    report.anchored_seq = cp.chain_seq;
                }
            }
            Finding::BadSignature => {
                report.problems.push(CheckpointResult { chain_seq: cp.chain_seq, at: cp.at.clone(), finding })
            }
            _ => {
                if report.first_divergence.is_none() {
                    report.first_divergence =
                        Some(Divergence { after_seq: last_match, at_or_before_seq: cp.chain_seq, finding });
                }
                report.problems.push(CheckpointResult { chain_seq: cp.chain_seq, at: cp.at.clone(), finding });
            }
        }
    }
    report
}

/// A public key as PEM (SubjectPublicKeyInfo), for `openssl`.
pub fn public_key_pem(key: &VerifyingKey) -> String {
    use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
    use ed25519_dalek::pkcs8::EncodePublicKey;
    key.to_public_key_pem(LineEnding::LF).expect("an Ed25519 public key encodes")
}

/// The signing key from its stored form: the 32-byte seed as 64 hex digits (whitespace around it ignored).
pub fn parse_seed(text: &str) -> Result<SigningKey, String> {
    let raw = hex::decode(text.trim()).map_err(|_| "the anchor key is not hex".to_string())?;
    let seed: [u8; 32] = raw.try_into().map_err(|_| "the anchor key must be 32 bytes (64 hex digits)".to_string())?;
    Ok(SigningKey::from_bytes(&seed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chain::{link_hash, GENESIS};

    fn key(n: u8) -> SigningKey {
        SigningKey::from_bytes(&[n; 32])
    }

    /// A chain of `n` links whose content is `contents[i]`, hashed as the real chain is.
    struct Chain(Vec<String>);

    impl Chain {
        fn of(contents: &[i64]) -> Chain {
            let mut prev = GENESIS.to_string();
            Chain(
                contents
                    .iter()
                    .map(|c| {
                        prev = link_hash(&prev, c);
                        prev.clone()
                    })
                    .collect(),
            )
        }
    }

    impl ChainView for Chain {
        fn chain_len(&self) -> i64 {
            self.0.len() as i64
        }
        fn hash_at(&mut self, seq: i64) -> Option<String> {
            self.0.get(usize::try_from(seq - 1).ok()?).cloned()
        }
    }

    fn checkpoints(k: &SigningKey, chain: &Chain, at: &[i64]) -> Vec<Checkpoint> {
        at.iter()
            .map(|&s| {
                Checkpoint::sign(k, "v1", s, &chain.0[(s - 1) as usize], &format!("2026-12-01T0{s}:00:00.000000Z"))
            })
            .collect()
    }

    #[test]
    fn a_signature_covers_every_field_and_the_key() {
        let k = key(7);
        let cp = Checkpoint::sign(&k, "v1", 3, &"a".repeat(64), "2026-12-01T00:00:00.000000Z");
        assert!(cp.is_signed_by(&k.verifying_key()));
        assert!(!cp.is_signed_by(&key(8).verifying_key()));
        for edit in 0..4 {
            let mut c = cp.clone();
            match edit {
                0 => c.village_id = "v2".into(),
                1 => c.chain_seq = 4,
                2 => c.hash = "b".repeat(64),
                _ => c.at = "2026-12-01T00:00:01.000000Z".into(),
            }
            assert!(!c.is_signed_by(&k.verifying_key()), "edit {edit} passed");
        }
        let mut c = cp.clone();
        c.signature = "not base64!".into();
        assert!(!c.is_signed_by(&k.verifying_key()));
    }

    #[test]
    fn the_message_is_the_documented_text() {
        assert_eq!(Checkpoint::message("v", 2, "ab", "t"), "kasdesa-checkpoint/v1\nv\n2\nab\nt\n");
        let pem = public_key_pem(&key(1).verifying_key());
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        assert_eq!(parse_seed(&hex::encode([1u8; 32])).unwrap().verifying_key(), key(1).verifying_key());
        assert!(parse_seed("abc").is_err());
        assert!(parse_seed(&"ab".repeat(31)).is_err());
    }

    #[test]
    fn links_removed_after_a_checkpoint_are_named() {
        let k = key(1);
        let mut chain = Chain::of(&[1, 2, 3, 4, 5]);
        let cps = checkpoints(&k, &chain, &[2, 5]);
        let r = compare("v1", &k.verifying_key(), &cps, &mut chain);
        assert!(r.ok());
        assert_eq!((r.compared, r.anchored_seq), (2, 5));
        let mut short = Chain(chain.0[..4].to_vec());
        let r = compare("v1", &k.verifying_key(), &cps, &mut short);
        assert_eq!(
            r.first_divergence,
            Some(Divergence { after_seq: 2, at_or_before_seq: 5, finding: Finding::LinksRemoved })
        );
    }

    #[test]
    fn checkpoints_of_another_key_are_counted_apart() {
        let mut chain = Chain::of(&[1, 2, 3]);
        let old = checkpoints(&key(9), &chain, &[2, 3]);
        let r = compare("v1", &key(1).verifying_key(), &old, &mut chain);
        assert!(r.ok());
        assert_eq!((r.compared, r.other_key, r.anchored_seq), (0, 2, 0));
    }

    #[test]
    fn a_forged_checkpoint_is_a_problem_not_an_anchor() {
        let k = key(1);
        let mut chain = Chain::of(&[1, 2, 3]);
        let mut cps = checkpoints(&key(9), &chain, &[3]);
        cps[0].key_id = key_id(&k.verifying_key());
        let r = compare("v1", &k.verifying_key(), &cps, &mut chain);
        assert_eq!(r.anchored_seq, 0);
        assert_eq!(r.problems[0].finding, Finding::BadSignature);
        assert!(!r.ok());
    }

    proptest::proptest! {
        /// Rewriting any link with every later hash recomputed is found by any checkpoint at or after it, and the
        /// divergence names the range between the checkpoints around it.
        #[test]
        fn a_recomputed_rewrite_before_a_checkpoint_is_found(
            n in 1usize..40, at in 0usize..40, marks in proptest::collection::vec(1i64..40, 1..6)
        ) {
            let contents: Vec<i64> = (0..n as i64).collect();
            let mut chain = Chain::of(&contents);
            let k = key(3);
            let marks: Vec<i64> = marks.into_iter().filter(|&m| m <= n as i64).collect();
            let cps = checkpoints(&k, &chain, &marks);
            let at = at % n;
            let mut edited = contents.clone();
            edited[at] += 1000;
            let mut rewritten = Chain::of(&edited);
            let r = compare("v1", &k.verifying_key(), &cps, &mut rewritten);
            let edited_seq = at as i64 + 1;
            let covering = marks.iter().filter(|&&m| m >= edited_seq).min().copied();
            match covering {
                None => proptest::prop_assert!(r.ok()),
                Some(c) => {
                    let d = r.first_divergence.clone().expect("found");
                    proptest::prop_assert_eq!(d.at_or_before_seq, c);
                    proptest::prop_assert!(d.after_seq < edited_seq);
                    proptest::prop_assert_eq!(d.finding, Finding::HashDiffers);
                }
            }
            proptest::prop_assert!(compare("v1", &k.verifying_key(), &cps, &mut chain).ok());
        }
    }
}
