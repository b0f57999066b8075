//! Login throttling over HTTP: the waits are `domain::throttle`'s, the counters the database's (`store/login.rs`),
//! so every instance applies the same. An attempt that must wait is answered `429 rate_limited` with a
//! `Retry-After` of exactly the wait, before its password is checked.

use super::error::{ApiError, ErrorCode};
use super::{blocking, AppState};
use crate::domain::throttle;
use crate::store::now_micros;

/// Seconds the attempt must wait (0: go ahead). Names are compared in lower case.
pub async fn wait_secs(state: &AppState, name: &str, address: &str) -> Result<i64, ApiError> {
    let db = state.db.clone();
    let (name, address) = (name.to_lowercase(), address.to_string());
    let attempt = blocking(move || db.login_attempt(&name, &address)).await?;
    Ok(throttle::wait_secs(&attempt, now_micros()))
}

/// `429` with the wait, in the API's words, when the attempt must wait.
pub async fn check(state: &AppState, name: &str, address: &str) -> Result<(), ApiError> {
    match wait_secs(state, name, address).await? {
        0 => Ok(()),
        secs => Err(ApiError::new(
            ErrorCode::RateLimited,
            format!("too many failed attempts from this address; try again in {}", wait_text(secs)),
        )
        .with_retry_after(secs as u64)),
    }
}

/// "12 seconds", "3 minutes": the wait as the message says it (rounded up, as `Retry-After` is).
pub fn wait_text(secs: i64) -> String {
    if secs < 120 {
        format!("{secs} second{}", if secs == 1 { "" } else { "s" })
    } else {
        format!("{} minutes", (secs + 59) / 60)
    }
}

/// Counts a failure; how many the pair may still fail before its attempts wait, once it has failed.
pub async fn failed(state: &AppState, name: &str, address: &str) -> Result<Option<i64>, ApiError> {
    let db = state.db.clone();
    let (name, address) = (name.to_lowercase(), address.to_string());
    let now = now_micros();
    let pair = blocking(move || db.login_failed(&name, &address, now)).await?;
    Ok(throttle::attempts_left(pair, now))
}

/// A successful sign-in: the pair's failures are forgotten and the pair becomes known.
pub async fn succeeded(state: &AppState, name: &str, address: &str) -> Result<(), ApiError> {
    let db = state.db.clone();
    let (name, address) = (name.to_lowercase(), address.to_string());
    blocking(move || db.login_succeeded(&name, &address, now_micros())).await
}
