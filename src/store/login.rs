//! The login throttle's counters (`domain::throttle` decides the waits): failures per (name, address), per name
//! and per address, and the pairs that have signed in. In the database, so every instance applies the same waits.

use super::schema::*;
use super::{Db, DbConn, StoreError};
use crate::domain::throttle::{self, Attempt, Counter};
use chrono::NaiveDateTime;
use diesel::prelude::*;

fn pair_key(name: &str, address: &str) -> String {
    format!("p:{name}\u{1f}{address}")
}
fn user_key(name: &str) -> String {
    format!("u:{name}")
}
fn address_key(address: &str) -> String {
    format!("a:{address}")
}

fn counter(c: &mut DbConn, key: &str) -> Result<Option<Counter>, StoreError> {
    Ok(login_throttle::table
        .find(key)
        .select((login_throttle::failures, login_throttle::last_failure))
        .first::<(i64, NaiveDateTime)>(c)
        .optional()?
        .map(|(failures, last_failure)| Counter { failures, last_failure }))
}

fn window_start(now: NaiveDateTime) -> NaiveDateTime {
    now - chrono::Duration::seconds(throttle::MAX_WAIT_SECS)
}

/// One more failure on `key`: an increment in one statement (concurrent failures on several instances each count),
/// or the counter's first row. (The multi-backend DSL has no `ON CONFLICT`: a lost race to insert is retried as
/// the increment.)
fn count_failure(c: &mut DbConn, key: &str, now: NaiveDateTime) -> Result<(), StoreError> {
    let bump = |c: &mut DbConn| {
        diesel::update(login_throttle::table.find(key))
            .set((login_throttle::failures.eq(login_throttle::failures + 1), login_throttle::last_failure.eq(now)))
            .execute(c)
    };
    if bump(c)? > 0 {
        return Ok(());
    }
    let inserted = diesel::insert_into(login_throttle::table)
        .values((login_throttle::key.eq(key), login_throttle::failures.eq(1i64), login_throttle::last_failure.eq(now)))
        .execute(c);
    if !super::error::inserted(inserted)? {
        bump(c)?;
    }
    Ok(())
}

impl Db {
    /// What the wait of an attempt by `name` from `address` depends on.
    pub fn login_attempt(&self, name: &str, address: &str) -> Result<Attempt, StoreError> {
        self.read("login_attempt", |c| {
            let known: i64 = login_known::table
                .filter(login_known::username.eq(name))
                .filter(login_known::address.eq(address))
                .count()
                .get_result(c)?;
            Ok(Attempt {
                pair: counter(c, &pair_key(name, address))?,
                user: counter(c, &user_key(name))?,
                address: counter(c, &address_key(address))?,
                known_pair: known > 0,
            })
        })
    }

    /// Counts a failure of `name` from `address` (each counter restarts once its window passed); the pair's
    /// counter after it.
    pub fn login_failed(&self, name: &str, address: &str, now: NaiveDateTime) -> Result<Option<Counter>, StoreError> {
        let keys = [pair_key(name, address), user_key(name), address_key(address)];
        self.write("login_failed", |c| {
            diesel::delete(
                login_throttle::table
                    .filter(login_throttle::key.eq_any(&keys))
                    .filter(login_throttle::last_failure.lt(window_start(now))),
            )
            .execute(c)?;
            for key in &keys {
                count_failure(c, key, now)?;
            }
            counter(c, &keys[0])
        })
    }

    /// A sign-in of `name` from `address` succeeded: the pair's failures are forgotten and the pair is known from
    /// now on (others' failures never slow it). Counters whose window passed are dropped on the way.
    pub fn login_succeeded(&self, name: &str, address: &str, now: NaiveDateTime) -> Result<(), StoreError> {
        self.write("login_succeeded", |c| {
            diesel::delete(login_throttle::table.find(pair_key(name, address))).execute(c)?;
            diesel::delete(login_throttle::table.filter(login_throttle::last_failure.lt(window_start(now))))
                .execute(c)?;
            let seen = diesel::update(login_known::table.find((name, address)))
                .set(login_known::last_success.eq(now))
                .execute(c)?;
            if seen == 0 {
                let first = diesel::insert_into(login_known::table)
                    .values((
                        login_known::username.eq(name),
                        login_known::address.eq(address),
                        login_known::last_success.eq(now),
                    ))
                    .execute(c);
                // Signed in at the same moment on another instance: known either way.
                super::error::inserted(first)?;
            }
            Ok(())
        })
    }
}
