//! The webhook delivery worker: takes the due events of the outbox (`store/webhooks.rs`), claims each (so that
//! several instances do not send the same attempt), POSTs it to the bank client's URL signed with the service's
//! webhook key (Ed25519), and records the attempt. A 2xx answer delivers it; anything else is tried again after
//! 1 s, 2 s, 4 s … up to an hour, and the events after it in the same village wait (order per village and client).
//!
//! What a receiver gets: the event's JSON as the body, and
//! - `X-Kasdesa-Event`: `transfer.released`;
//! - `X-Kasdesa-Delivery`: the event's id (the same on every attempt: deduplicate on it);
//! - `X-Kasdesa-Timestamp`: when this attempt was signed (RFC 3339, UTC);
//! - `X-Kasdesa-Signature`: base64 Ed25519 signature over `<timestamp>.<body>`, verifiable with the public key of
//!   `GET /api/v1/webhooks/key` (`X-Kasdesa-Key-Id` names it).

use crate::anchor::AnchorKey;
use crate::store::webhooks::Due;
use crate::store::{now_micros, Db};
use base64::Engine;
use ed25519_dalek::Signer;
use std::time::Duration;

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed attempt is another worker's before it may be tried again (a worker that died mid-attempt).
const LEASE_SECS: i64 = 60;
/// The longest wait between attempts.
const MAX_BACKOFF_SECS: i64 = 3600;

/// The wait before the attempt after `attempts` failed ones: 1 s, 2 s, 4 s … up to an hour.
pub fn backoff_secs(attempts: i32) -> i64 {
    let doublings = u32::try_from(attempts.clamp(1, 31) - 1).unwrap_or(0);
    (1i64 << doublings).min(MAX_BACKOFF_SECS)
}

/// The signature headers' value over `timestamp.body`.
pub fn sign(key: &AnchorKey, timestamp: &str, body: &str) -> String {
    let sig = key.signing_key().sign(format!("{timestamp}.{body}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sig.to_bytes())
}

fn deliver(client: &reqwest::blocking::Client, key: &AnchorKey, due: &Due) -> (Option<u16>, Option<String>) {
    let timestamp = crate::domain::chain::canonical_time(now_micros());
    let e = &due.event;
    let sent = client
        .post(&due.url)
        .header("content-type", "application/json")
        .header("x-kasdesa-event", &e.event)
        .header("x-kasdesa-delivery", &e.id)
        .header("x-kasdesa-timestamp", &timestamp)
        .header("x-kasdesa-key-id", key.key_id())
        .header("x-kasdesa-signature", sign(key, &timestamp, &e.payload))
        .body(e.payload.clone())
        .send();
    match sent {
        Ok(r) => (Some(r.status().as_u16()), None),
        Err(err) => (None, Some(err.to_string())),
    }
}

/// One round: every due event tried once. How many were delivered.
pub fn run_once(
    db: &Db,
    key: &AnchorKey,
    client: &reqwest::blocking::Client,
) -> Result<usize, crate::store::StoreError> {
    let now = now_micros();
    let mut delivered = 0;
    for due in db.due_webhooks(now)? {
        let lease = now + chrono::Duration::seconds(LEASE_SECS);
        if !db.claim_webhook(&due.event, lease)? {
            continue;
        }
        let (status, error) = deliver(client, key, &due);
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        let retry_at = now_micros() + chrono::Duration::seconds(backoff_secs(due.event.attempts + 1));
        let error = error.or_else(|| (!ok).then(|| format!("the receiver answered {}", status.unwrap_or(0))));
        db.record_webhook_attempt(&due.event, status, error.as_deref(), ok, retry_at)?;
        if ok {
            delivered += 1;
        } else {
            tracing::warn!(event = %due.event.id, client = %due.event.bank_client_id, ?status, "webhook not delivered; will retry");
        }
    }
    Ok(delivered)
}

/// Delivers the outbox every `poll`, for as long as the service's state lives (a thread of its own, which ends
/// when the server that owns the state is gone). Safe on several instances at once: each attempt is claimed first.
pub fn spawn_worker(state: std::sync::Weak<crate::http::AppState>, poll: Duration) {
    let started = std::thread::Builder::new().name("webhooks".into()).spawn(move || {
        let client = match reqwest::blocking::Client::builder().timeout(ATTEMPT_TIMEOUT).build() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "no HTTP client for webhooks: none will be delivered");
                return;
            }
        };
        loop {
            let Some(state) = state.upgrade() else { return };
            if let Err(e) = run_once(&state.db, &state.webhook_key, &client) {
                tracing::warn!(error = %e, "webhook round failed; trying again");
            }
            drop(state);
            std::thread::sleep(poll);
        }
    });
    if let Err(e) = started {
        tracing::error!(error = %e, "could not start the webhook worker");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_an_hour() {
        assert_eq!((1..=5).map(backoff_secs).collect::<Vec<_>>(), vec![1, 2, 4, 8, 16]);
        assert_eq!(backoff_secs(13), 3600);
        assert_eq!(backoff_secs(1000), 3600);
    }
}
