//! Signed bank requests in Bank Indonesia's SNAP conventions (the contract's "Signed bank requests"): what is
//! signed, how the signature and the headers are judged. A bank client that registered an RSA public key must send,
//! with its bearer token:
//! - `X-TIMESTAMP`: ISO 8601 with an offset, within `MAX_SKEW_SECS` of the server's clock;
//! - `X-PARTNER-ID`: its `client_id`;
//! - `X-EXTERNAL-ID`: 1–36 visible characters, never used again by that client on the same day (WIB);
//! - `X-SIGNATURE`: base64 of SHA256withRSA (PKCS#1 v1.5) over
//!   `METHOD:PATH:lowercase(hex(SHA-256(body))):X-TIMESTAMP` (PATH with its query string, body the exact bytes).

use base64::Engine;
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey;
use rsa::signature::Verifier;
use rsa::traits::PublicKeyParts;
use rsa::RsaPublicKey;
use sha2::{Digest, Sha256};

/// How far a request's timestamp may be from the server's clock.
pub const MAX_SKEW_SECS: i64 = 300;
/// The smallest RSA key accepted.
pub const MIN_KEY_BITS: usize = 2048;
/// The longest `X-EXTERNAL-ID`.
pub const MAX_EXTERNAL_ID: usize = 36;

/// Why a signed request is refused (each is `401`, except a reused external id: `409`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapError {
    #[error("the {0} header is required for a client with a registered key")]
    Missing(&'static str),
    #[error("X-TIMESTAMP must be ISO 8601 with an offset, e.g. 2026-04-10T09:30:00+07:00")]
    BadTimestamp,
    #[error("X-TIMESTAMP is more than 5 minutes from the server's clock")]
    StaleTimestamp,
    #[error("X-PARTNER-ID is not this client's id")]
    WrongPartner,
    #[error("X-EXTERNAL-ID must be 1 to 36 visible characters")]
    BadExternalId,
    #[error("X-SIGNATURE does not verify over METHOD:PATH:hex(SHA-256(body)):X-TIMESTAMP with the client's key")]
    BadSignature,
}

/// The text that is signed.
pub fn string_to_sign(method: &str, path_and_query: &str, body: &[u8], timestamp: &str) -> String {
    format!("{}:{}:{}:{}", method.to_ascii_uppercase(), path_and_query, hex::encode(Sha256::digest(body)), timestamp)
}

/// A bank client's public key from PEM (SubjectPublicKeyInfo `BEGIN PUBLIC KEY`, or PKCS#1 `BEGIN RSA PUBLIC KEY`),
/// at least `MIN_KEY_BITS` bits.
pub fn parse_public_key(pem: &str) -> Result<RsaPublicKey, String> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    let pem = pem.trim();
    let key = RsaPublicKey::from_public_key_pem(pem).or_else(|_| RsaPublicKey::from_pkcs1_pem(pem)).map_err(|_| {
        "public_key must be an RSA public key in PEM (BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY)".to_string()
    })?;
    let bits = key.n().bits();
    if bits < MIN_KEY_BITS {
        return Err(format!("public_key has {bits} bits; at least {MIN_KEY_BITS} are required"));
    }
    Ok(key)
}

/// The request's timestamp, judged against `now`.
pub fn check_timestamp(timestamp: &str, now: DateTime<Utc>) -> Result<DateTime<FixedOffset>, SnapError> {
    let t = DateTime::parse_from_rfc3339(timestamp.trim()).map_err(|_| SnapError::BadTimestamp)?;
    if (now - t.with_timezone(&Utc)).num_seconds().abs() > MAX_SKEW_SECS {
        return Err(SnapError::StaleTimestamp);
    }
    Ok(t)
}

/// An `X-EXTERNAL-ID`: 1–36 visible ASCII characters.
pub fn check_external_id(id: &str) -> Result<&str, SnapError> {
    let ok = !id.is_empty() && id.len() <= MAX_EXTERNAL_ID && id.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(id)
    } else {
        Err(SnapError::BadExternalId)
    }
}

/// The calendar day (WIB, UTC+7) an external id counts in: the day the server received it.
pub fn external_id_day(now: DateTime<Utc>) -> NaiveDate {
    (now + chrono::Duration::hours(7)).date_naive()
}

/// Whether `signature` (base64) is the key's SHA256withRSA signature over `text`.
pub fn verify_signature(key: &RsaPublicKey, text: &str, signature: &str) -> Result<(), SnapError> {
    let raw =
        base64::engine::general_purpose::STANDARD.decode(signature.trim()).map_err(|_| SnapError::BadSignature)?;
    let sig = Signature::try_from(raw.as_slice()).map_err(|_| SnapError::BadSignature)?;
    VerifyingKey::<Sha256>::new(key.clone()).verify(text.as_bytes(), &sig).map_err(|_| SnapError::BadSignature)
}

/// The headers of a signed request, as received.
#[derive(Debug, Clone, Default)]
pub struct SignedHeaders<'a> {
    pub timestamp: Option<&'a str>,
    pub partner_id: Option<&'a str>,
    pub external_id: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// Judges a signed request of client `client_id` with key `key` (everything but the external id's reuse, which
/// needs the database): its external id and the day it counts in.
pub fn check_request<'a>(
    h: &SignedHeaders<'a>,
    client_id: &str,
    key: &RsaPublicKey,
    method: &str,
    path_and_query: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(&'a str, NaiveDate), SnapError> {
    let timestamp = h.timestamp.ok_or(SnapError::Missing("X-TIMESTAMP"))?;
    let partner = h.partner_id.ok_or(SnapError::Missing("X-PARTNER-ID"))?;
    let external = h.external_id.ok_or(SnapError::Missing("X-EXTERNAL-ID"))?;
    let signature = h.signature.ok_or(SnapError::Missing("X-SIGNATURE"))?;
    check_timestamp(timestamp, now)?;
    if partner != client_id {
        return Err(SnapError::WrongPartner);
    }
    let external = check_external_id(external)?;
    verify_signature(key, &string_to_sign(method, path_and_query, body, timestamp), signature)?;
    Ok((external, external_id_day(now)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};

    const VECTOR: &str = include_str!("../../tests/fixtures/snap-vector.json");
    const PUBLIC: &str = include_str!("../../tests/fixtures/snap-test-bank.pub");
    const PRIVATE: &str = include_str!("../../tests/fixtures/snap-test-bank.key");

    fn vector() -> serde_json::Value {
        serde_json::from_str(VECTOR).unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn the_openssl_vector_verifies() {
        let v = vector();
        let key = parse_public_key(PUBLIC).unwrap();
        let text = string_to_sign(
            v["method"].as_str().unwrap(),
            v["path"].as_str().unwrap(),
            v["body"].as_str().unwrap().as_bytes(),
            v["timestamp"].as_str().unwrap(),
        );
        assert_eq!(text, v["string_to_sign"].as_str().unwrap(), "the string to sign, byte for byte");
        assert!(text.contains(v["body_sha256"].as_str().unwrap()));
        verify_signature(&key, &text, v["signature"].as_str().unwrap()).expect("OpenSSL's signature verifies");
        let h = SignedHeaders {
            timestamp: v["timestamp"].as_str(),
            partner_id: Some("bank_x"),
            external_id: Some("ext-0001"),
            signature: v["signature"].as_str(),
        };
        let now = at("2026-04-10T09:32:00+07:00");
        let body = v["body"].as_str().unwrap().as_bytes();
        let ok = check_request(&h, "bank_x", &key, "POST", "/api/v1/bank/credits", body, now);
        assert_eq!(ok, Ok(("ext-0001", NaiveDate::from_ymd_opt(2026, 4, 10).unwrap())));
        // One byte of the body, the path, the method or the timestamp changed: refused.
        let mut other = body.to_vec();
        other[10] ^= 1;
        assert_eq!(
            check_request(&h, "bank_x", &key, "POST", "/api/v1/bank/credits", &other, now),
            Err(SnapError::BadSignature)
        );
        assert_eq!(
            check_request(&h, "bank_x", &key, "POST", "/api/v1/bank/credits?x=1", body, now),
            Err(SnapError::BadSignature)
        );
        assert_eq!(
            check_request(&h, "bank_x", &key, "PUT", "/api/v1/bank/credits", body, now),
            Err(SnapError::BadSignature)
        );
        let late = SignedHeaders { timestamp: Some("2026-04-10T09:30:01+07:00"), ..h.clone() };
        assert_eq!(
            check_request(&late, "bank_x", &key, "POST", "/api/v1/bank/credits", body, now),
            Err(SnapError::BadSignature)
        );
        assert_eq!(
            check_request(&h, "bank_y", &key, "POST", "/api/v1/bank/credits", body, now),
            Err(SnapError::WrongPartner)
        );
        let stale = at("2026-04-10T09:35:01+07:00");
        assert_eq!(
            check_request(&h, "bank_x", &key, "POST", "/api/v1/bank/credits", body, stale),
            Err(SnapError::StaleTimestamp)
        );
        let missing = SignedHeaders { signature: None, ..h.clone() };
        assert_eq!(
            check_request(&missing, "bank_x", &key, "POST", "/api/v1/bank/credits", body, now),
            Err(SnapError::Missing("X-SIGNATURE"))
        );
    }

    #[test]
    fn keys_timestamps_and_external_ids_are_judged() {
        assert!(parse_public_key("not a key").is_err());
        let small = include_str!("../../tests/fixtures/snap-too-small-1024.pub");
        assert!(parse_public_key(small).unwrap_err().contains("1024 bits"));
        assert_eq!(check_timestamp("2026-04-10 09:30", Utc::now()), Err(SnapError::BadTimestamp));
        assert_eq!(
            check_timestamp("2026-04-10T09:30:00", Utc::now()),
            Err(SnapError::BadTimestamp),
            "an offset is required"
        );
        assert_eq!(check_external_id(""), Err(SnapError::BadExternalId));
        assert_eq!(check_external_id(&"a".repeat(37)), Err(SnapError::BadExternalId));
        assert_eq!(check_external_id("id dengan spasi"), Err(SnapError::BadExternalId));
        assert_eq!(check_external_id("20260410-000001"), Ok("20260410-000001"));
        // The WIB day: 17:00 UTC is already the next day in Jakarta.
        assert_eq!(external_id_day(at("2026-04-10T17:00:00Z")), NaiveDate::from_ymd_opt(2026, 4, 11).unwrap());
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 16, ..Default::default() })]
        /// A signature made by the key holder verifies; any change to what it covers does not.
        #[test]
        fn any_change_breaks_the_signature(body in proptest::collection::vec(proptest::num::u8::ANY, 0..200), flip in 0usize..200) {
            let private = rsa::RsaPrivateKey::from_pkcs8_pem(PRIVATE).unwrap();
            let key = parse_public_key(PUBLIC).unwrap();
            let ts = "2026-04-10T09:30:00+07:00";
            let text = string_to_sign("POST", "/api/v1/bank/entries", &body, ts);
            let sig = rsa::pkcs1v15::SigningKey::<Sha256>::new(private).sign(text.as_bytes());
            let b64 = base64::engine::general_purpose::STANDARD.encode(sig.to_bytes());
            proptest::prop_assert!(verify_signature(&key, &text, &b64).is_ok());
            if !body.is_empty() {
                let mut other = body.clone();
                let i = flip % other.len();
                other[i] ^= 0x80;
                let changed = string_to_sign("POST", "/api/v1/bank/entries", &other, ts);
                proptest::prop_assert_eq!(verify_signature(&key, &changed, &b64), Err(SnapError::BadSignature));
            }
        }
    }
}
