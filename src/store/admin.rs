//! Regencies, villages (with their chart), users and bank clients.

use super::facts;
use super::rows::*;
use super::schema::*;
use super::write::{find_idempotent, IdempotencyKey};
use super::{now_micros, Db, DbConn, StoreError};
use crate::domain::accounts::{class_of_code, standard_chart};
use crate::domain::facts::FactKind;
use diesel::prelude::*;

/// The villages a bank client may act for, in id order.
fn client_villages(c: &mut DbConn, id: &str) -> Result<Vec<String>, StoreError> {
    Ok(bank_client_villages::table
        .filter(bank_client_villages::bank_client_id.eq(id))
        .select(bank_client_villages::village_id)
        .order(bank_client_villages::village_id)
        .load(c)?)
}

/// A change to a regency's settings (`write` returns how many rows it changed): a fact in the chain of each of its
/// villages, since the treasury account and the cash-payment limit decide their payments.
fn regency_change(
    c: &mut DbConn,
    id: &str,
    actor: &str,
    write: &mut dyn FnMut(&mut DbConn) -> Result<usize, StoreError>,
) -> Result<RegencyRow, StoreError> {
    c.write_txn(&mut |c| {
        let villages: Vec<String> =
            villages::table.filter(villages::regency_id.eq(id)).select(villages::id).order(villages::id).load(c)?;
        let n = facts::changing(c, &villages, FactKind::Regency, id, actor, write)?;
        if n == 0 {
            return Err(StoreError::NotFound("regency"));
        }
        get_regency(c, id)?.ok_or(StoreError::NotFound("regency"))
    })
}

/// The digest of the standard chart: codes, names and classes, in order.
fn chart_digest() -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for a in standard_chart() {
        h.update(format!("{}\t{}\t{}\n", a.code, a.name, a.class));
    }
    hex::encode(h.finalize())
}

/// A regency's treasury account (Kas Daerah): where regional tax is deposited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Treasury {
    pub name: String,
    pub bank_code: String,
    pub account_number: String,
}

impl RegencyRow {
    pub fn treasury(&self) -> Option<Treasury> {
        match (&self.treasury_name, &self.treasury_bank_code, &self.treasury_account_number) {
            (Some(name), Some(bank_code), Some(account_number)) => Some(Treasury {
                name: name.clone(),
                bank_code: bank_code.clone(),
                account_number: account_number.clone(),
            }),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum VillageFilter<'a> {
    All,
    Regency(&'a str),
    Ids(&'a [String]),
}

fn get_regency(c: &mut DbConn, id: &str) -> Result<Option<RegencyRow>, StoreError> {
    Ok(regencies::table.find(id).select(RegencyRow::as_select()).first(c).optional()?)
}

pub(super) fn get_village(c: &mut DbConn, id: &str) -> Result<Option<VillageRow>, StoreError> {
    Ok(villages::table.find(id).select(VillageRow::as_select()).first(c).optional()?)
}

fn get_user(c: &mut DbConn, id: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(users::table.find(id).select(UserRow::as_select()).first(c).optional()?)
}

/// A change to a bank client: each `Some` replaces the current value (`public_key: Some(None)` removes the key).
#[derive(Debug, Clone, Default)]
pub struct BankClientChange {
    pub name: Option<String>,
    pub active: Option<bool>,
    pub village_ids: Option<Vec<String>>,
    pub public_key: Option<Option<String>>,
    pub webhook_url: Option<Option<String>>,
}

impl Db {
    pub fn create_regency(
        &self,
        code: &str,
        name: &str,
        utc_offset_minutes: i32,
        treasury: Option<&Treasury>,
    ) -> Result<RegencyRow, StoreError> {
        let row = RegencyRow {
            id: uuid::Uuid::now_v7().to_string(),
            code: code.to_string(),
            name: name.to_string(),
            created_at: now_micros(),
            utc_offset_minutes,
            treasury_name: treasury.map(|t| t.name.clone()),
            treasury_bank_code: treasury.map(|t| t.bank_code.clone()),
            treasury_account_number: treasury.map(|t| t.account_number.clone()),
            cash_payment_limit: None,
        };
        self.write("create_regency", |c| {
            diesel::insert_into(regencies::table).values(&row).execute(c)?;
            Ok(row)
        })
    }

    /// Sets (or clears) the regency's treasury account.
    pub fn set_regency_treasury(
        &self,
        id: &str,
        treasury: Option<&Treasury>,
        actor: &str,
    ) -> Result<RegencyRow, StoreError> {
        self.write("set_regency_treasury", |c| {
            regency_change(c, id, actor, &mut |c| {
                Ok(diesel::update(regencies::table.find(id))
                    .set((
                        regencies::treasury_name.eq(treasury.map(|t| t.name.clone())),
                        regencies::treasury_bank_code.eq(treasury.map(|t| t.bank_code.clone())),
                        regencies::treasury_account_number.eq(treasury.map(|t| t.account_number.clone())),
                    ))
                    .execute(c)?)
            })
        })
    }

    /// Sets (or with `None` removes) the most one payment may take from cash in hand.
    pub fn set_regency_cash_payment_limit(
        &self,
        id: &str,
        limit: Option<i64>,
        actor: &str,
    ) -> Result<RegencyRow, StoreError> {
        self.write("set_regency_cash_payment_limit", |c| {
            regency_change(c, id, actor, &mut |c| {
                Ok(diesel::update(regencies::table.find(id)).set(regencies::cash_payment_limit.eq(limit)).execute(c)?)
            })
        })
    }

    pub fn get_regency(&self, id: &str) -> Result<Option<RegencyRow>, StoreError> {
        self.read("get_regency", |c| get_regency(c, id))
    }

    pub fn list_regencies(&self) -> Result<Vec<RegencyRow>, StoreError> {
        self.read("list_regencies", |c| {
            Ok(regencies::table.order(regencies::code).select(RegencyRow::as_select()).load(c)?)
        })
    }

    /// Creates the village and seeds the standard chart, in one transaction.
    pub fn create_village(&self, v: VillageRow, actor: &str) -> Result<VillageRow, StoreError> {
        self.write("create_village", |c| {
            c.write_txn(&mut |c| {
                if get_regency(c, &v.regency_id)?.is_none() {
                    return Err(StoreError::Validation(format!("regency {} does not exist", v.regency_id)));
                }
                diesel::insert_into(villages::table).values(&v).execute(c)?;
                let chart: Vec<AccountRow> = standard_chart()
                    .iter()
                    .map(|a| AccountRow {
                        village_id: v.id.clone(),
                        code: a.code.to_string(),
                        name: a.name.to_string(),
                        class: a.class,
                        normal_side: a.class.normal_side(),
                        balance: 0,
                    })
                    .collect();
                c.insert_all(accounts::table, &chart)?;
                // The new village's first links: its settings and its regency's, as facts.
                facts::baseline(c, v.id.as_str(), actor)?;
                get_village(c, v.id.as_str())?.ok_or_else(|| StoreError::internal("the village just made is missing"))
            })
        })
    }

    /// Brings every village's chart up to the standard chart, once per change of the chart: each village gets the
    /// accounts it lacks, and the codes it holds take the annex's names. Codes no longer in the annex (4.3.9.01 and
    /// 5.2.9.01 of earlier versions) stay where a village has them, with their postings; amounts, balances and
    /// hashes are never touched (the chain covers codes, not names). One transaction per village. Returns the
    /// number of villages changed.
    pub fn sync_charts(&self) -> Result<usize, StoreError> {
        let digest = chart_digest();
        let stored: Option<String> = self.read("chart_digest", |c| {
            Ok(meta::table.find("chart_digest").select(meta::value).first(c).optional()?)
        })?;
        if stored.as_deref() == Some(digest.as_str()) {
            return Ok(0);
        }
        let ids: Vec<String> = self.read("village_ids", |c| Ok(villages::table.select(villages::id).load(c)?))?;
        let mut changed = 0;
        for id in ids {
            let touched = self.write("sync_chart", |c| {
                c.write_txn(&mut |c| {
                    c.lock_village(&id)?;
                    let held: Vec<(String, String)> = accounts::table
                        .filter(accounts::village_id.eq(&id))
                        .select((accounts::code, accounts::name))
                        .load(c)?;
                    let held: std::collections::HashMap<String, String> = held.into_iter().collect();
                    let mut touched = false;
                    let missing: Vec<AccountRow> = standard_chart()
                        .iter()
                        .filter(|a| !held.contains_key(a.code))
                        .map(|a| AccountRow {
                            village_id: id.as_str().into(),
                            code: a.code.to_string(),
                            name: a.name.to_string(),
                            class: a.class,
                            normal_side: a.class.normal_side(),
                            balance: 0,
                        })
                        .collect();
                    if !missing.is_empty() {
                        c.insert_all(accounts::table, &missing)?;
                        touched = true;
                    }
                    for a in standard_chart().iter().filter(|a| held.get(a.code).is_some_and(|n| n != a.name)) {
                        diesel::update(accounts::table.find((&id, a.code)))
                            .set(accounts::name.eq(a.name))
                            .execute(c)?;
                        touched = true;
                    }
                    Ok(touched)
                })
            })?;
            changed += usize::from(touched);
        }
        self.write("chart_digest", |c| {
            c.write_txn(&mut |c| {
                diesel::delete(meta::table.find("chart_digest")).execute(c)?;
                diesel::insert_into(meta::table)
                    .values((meta::key.eq("chart_digest"), meta::value.eq(&digest)))
                    .execute(c)?;
                Ok(())
            })
        })?;
        Ok(changed)
    }

    /// Adds a village's own objek (a 90–99 slot of an annex jenis, checked by the caller against the catalogue).
    /// `Conflict` when the village already holds the code.
    pub fn add_account(&self, village_id: &str, code: &str, name: &str) -> Result<AccountRow, StoreError> {
        let class = class_of_code(code).ok_or_else(|| StoreError::Validation(format!("{code} has no class")))?;
        self.write("add_account", |c| {
            c.write_txn(&mut |c| {
                c.lock_village(village_id)?.ok_or(StoreError::NotFound("village"))?;
                let exists = accounts::table.find((village_id, code)).count().get_result::<i64>(c)? > 0;
                if exists {
                    return Err(StoreError::Conflict(format!("the chart already holds {code}")));
                }
                let row = AccountRow {
                    village_id: village_id.into(),
                    code: code.to_string(),
                    name: name.to_string(),
                    class,
                    normal_side: class.normal_side(),
                    balance: 0,
                };
                c.insert_all(accounts::table, std::slice::from_ref(&row))?;
                Ok(row)
            })
        })
    }

    /// The names printed in the village's signature blocks: (head, treasurer).
    pub fn village_officials(&self, village_id: &str) -> Result<(Option<String>, Option<String>), StoreError> {
        self.read("village_officials", |c| {
            let rows: Vec<(String, String)> = village_officials::table
                .filter(village_officials::village_id.eq(village_id))
                .select((village_officials::office, village_officials::name))
                .load(c)?;
            let of = |office: &str| rows.iter().find(|(o, _)| o == office).map(|(_, n)| n.clone());
            Ok((of("head"), of("treasurer")))
        })
    }

    /// Records (or with `None` removes) the name printed for an office (`head` or `treasurer`).
    pub fn set_village_official(&self, village_id: &str, office: &str, name: Option<&str>) -> Result<(), StoreError> {
        self.write("set_village_official", |c| {
            c.write_txn(&mut |c| {
                c.lock_village(village_id)?.ok_or(StoreError::NotFound("village"))?;
                diesel::delete(village_officials::table.find((village_id, office))).execute(c)?;
                if let Some(n) = name {
                    diesel::insert_into(village_officials::table)
                        .values((
                            village_officials::village_id.eq(village_id),
                            village_officials::office.eq(office),
                            village_officials::name.eq(n),
                        ))
                        .execute(c)?;
                }
                Ok(())
            })
        })
    }

    pub fn get_village(&self, id: &str) -> Result<Option<VillageRow>, StoreError> {
        self.read("get_village", |c| get_village(c, id))
    }

    /// Replaces a village's name, bank account and cash limit.
    pub fn update_village(&self, v: &VillageRow, actor: &str) -> Result<VillageRow, StoreError> {
        self.write("update_village", |c| {
            c.write_txn(&mut |c| {
                c.lock_village(&v.id)?.ok_or(StoreError::NotFound("village"))?;
                let ids = [v.id.to_string()];
                facts::changing(c, &ids, FactKind::Village, v.id.as_str(), actor, &mut |c| {
                    Ok(diesel::update(villages::table.find(&v.id))
                        .set((
                            villages::name.eq(&v.name),
                            villages::bank_account.eq(&v.bank_account),
                            villages::cash_limit.eq(v.cash_limit),
                        ))
                        .execute(c)?)
                })?;
                get_village(c, &v.id)?.ok_or(StoreError::NotFound("village"))
            })
        })
    }

    pub fn find_village_by_code(&self, code: &str) -> Result<Option<VillageRow>, StoreError> {
        self.read("find_village_by_code", |c| {
            Ok(villages::table.filter(villages::code.eq(code)).select(VillageRow::as_select()).first(c).optional()?)
        })
    }

    pub fn list_villages(&self, filter: VillageFilter<'_>) -> Result<Vec<VillageRow>, StoreError> {
        self.read("list_villages", |c| {
            let mut q = villages::table.select(VillageRow::as_select()).order(villages::code).into_boxed();
            match filter {
                VillageFilter::All => {}
                VillageFilter::Regency(r) => q = q.filter(villages::regency_id.eq(r.to_string())),
                VillageFilter::Ids(ids) => q = q.filter(villages::id.eq_any(ids.to_vec())),
            }
            Ok(q.load(c)?)
        })
    }

    /// Creates a user; a village's user is also the first fact of them in the village's chain.
    pub fn create_user(&self, u: UserRow, actor: &str) -> Result<UserRow, StoreError> {
        self.write("create_user", |c| {
            c.write_txn(&mut |c| {
                let villages: Vec<String> = u.village_id.iter().map(|v| v.to_string()).collect();
                facts::changing(c, &villages, FactKind::User, u.id.as_str(), actor, &mut |c| {
                    Ok(diesel::insert_into(users::table).values(&u).execute(c)?)
                })?;
                Ok(u.clone())
            })
        })
    }

    pub fn get_user(&self, id: &str) -> Result<Option<UserRow>, StoreError> {
        self.read("get_user", |c| get_user(c, id))
    }

    /// Replaces a user's role, scope and active flag.
    /// The change is a fact in the chain of the user's village before and after it (both, when the user moves).
    pub fn update_user(&self, u: &UserRow, actor: &str) -> Result<UserRow, StoreError> {
        self.write("update_user", |c| {
            c.write_txn(&mut |c| {
                let before = get_user(c, u.id.as_str())?.ok_or(StoreError::NotFound("user"))?;
                let villages: Vec<String> =
                    before.village_id.iter().chain(u.village_id.iter()).map(|v| v.to_string()).collect();
                facts::changing(c, &villages, FactKind::User, u.id.as_str(), actor, &mut |c| {
                    Ok(diesel::update(users::table.find(&u.id))
                        .set((
                            users::role.eq(&u.role),
                            users::village_id.eq(&u.village_id),
                            users::regency_id.eq(&u.regency_id),
                            users::active.eq(u.active),
                            // Every change ends the user's current sessions: their tokens say what no longer holds.
                            users::token_version.eq(users::token_version + 1),
                        ))
                        .execute(c)?)
                })?;
                get_user(c, &u.id)?.ok_or(StoreError::NotFound("user"))
            })
        })
    }

    /// A new password for the user (its hash), ending their sessions at once; for a village user it is a fact of
    /// the village's chain (the password's digest is part of the user's state).
    pub fn reset_password(&self, user_id: &str, password_hash: &str, actor: &str) -> Result<UserRow, StoreError> {
        self.write("reset_password", |c| {
            c.write_txn(&mut |c| {
                let user = get_user(c, user_id)?.ok_or(StoreError::NotFound("user"))?;
                let villages: Vec<String> = user.village_id.iter().map(|v| v.to_string()).collect();
                facts::changing(c, &villages, FactKind::User, user_id, actor, &mut |c| {
                    Ok(diesel::update(users::table.find(user_id))
                        .set((
                            users::password_hash.eq(password_hash),
                            users::token_version.eq(users::token_version + 1),
                        ))
                        .execute(c)?)
                })?;
                get_user(c, user_id)?.ok_or(StoreError::NotFound("user"))
            })
        })
    }

    /// Ends every session of the user (logout): their current tokens are refused from the next request on.
    pub fn end_sessions(&self, user_id: &str) -> Result<(), StoreError> {
        self.write("end_sessions", |c| {
            diesel::update(users::table.find(user_id))
                .set(users::token_version.eq(users::token_version + 1))
                .execute(c)?;
            Ok(())
        })
    }

    pub fn find_user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        self.read("find_user", |c| {
            Ok(users::table.filter(users::username.eq(username)).select(UserRow::as_select()).first(c).optional()?)
        })
    }

    pub fn count_users(&self) -> Result<i64, StoreError> {
        self.read("count_users", |c| Ok(users::table.count().get_result(c)?))
    }

    /// Creates a bank client; its access is a fact in the chain of each of its villages.
    pub fn create_bank_client(
        &self,
        row: BankClientRow,
        village_ids: &[String],
        actor: &str,
    ) -> Result<(), StoreError> {
        self.write("create_bank_client", |c| {
            c.write_txn(&mut |c| {
                facts::changing(c, village_ids, FactKind::BankClient, &row.id, actor, &mut |c| {
                    diesel::insert_into(bank_clients::table).values(&row).execute(c)?;
                    for v in village_ids {
                        diesel::insert_into(bank_client_villages::table)
                            .values((
                                bank_client_villages::bank_client_id.eq(&row.id),
                                bank_client_villages::village_id.eq(v),
                            ))
                            .execute(c)?;
                    }
                    Ok(())
                })
            })
        })
    }

    pub fn find_bank_client(&self, client_id: &str) -> Result<Option<(BankClientRow, Vec<String>)>, StoreError> {
        self.read("find_bank_client", |c| {
            let Some(row) = bank_clients::table
                .filter(bank_clients::client_id.eq(client_id))
                .select(BankClientRow::as_select())
                .first(c)
                .optional()?
            else {
                return Ok(None);
            };
            let villages = bank_client_villages::table
                .filter(bank_client_villages::bank_client_id.eq(&row.id))
                .select(bank_client_villages::village_id)
                .order(bank_client_villages::village_id)
                .load(c)?;
            Ok(Some((row, villages)))
        })
    }

    /// Changes a bank client (its name, whether it is active, its villages: `None` keeps each) and raises its token
    /// version, which ends its current tokens at once. The client and its villages after the change.
    pub fn update_bank_client(
        &self,
        id: &str,
        change: &BankClientChange,
        actor: &str,
    ) -> Result<(BankClientRow, Vec<String>), StoreError> {
        let (name, active, village_ids) = (change.name.as_deref(), change.active, change.village_ids.as_deref());
        self.write("update_bank_client", |c| {
            c.write_txn(&mut |c| {
                let mut touched = client_villages(c, id)?;
                touched.extend(village_ids.unwrap_or_default().iter().cloned());
                facts::changing(c, &touched, FactKind::BankClient, id, actor, &mut |c| {
                    let found: Option<BankClientRow> =
                        bank_clients::table.find(id).select(BankClientRow::as_select()).first(c).optional()?;
                    let mut row = found.ok_or(StoreError::NotFound("bank client"))?;
                    if let Some(n) = name {
                        row.name = n.to_string();
                    }
                    if let Some(a) = active {
                        row.active = a;
                    }
                    if let Some(key) = &change.public_key {
                        row.public_key.clone_from(key);
                    }
                    if let Some(url) = &change.webhook_url {
                        row.webhook_url.clone_from(url);
                    }
                    row.token_version += 1;
                    diesel::update(bank_clients::table.find(id))
                        .set((
                            bank_clients::name.eq(&row.name),
                            bank_clients::active.eq(row.active),
                            bank_clients::token_version.eq(row.token_version),
                            bank_clients::public_key.eq(&row.public_key),
                            bank_clients::webhook_url.eq(&row.webhook_url),
                        ))
                        .execute(c)?;
                    if let Some(ids) = village_ids {
                        diesel::delete(bank_client_villages::table.filter(bank_client_villages::bank_client_id.eq(id)))
                            .execute(c)?;
                        for v in ids {
                            if get_village(c, v)?.is_none() {
                                return Err(StoreError::Validation(format!("village {v} does not exist")));
                            }
                            diesel::insert_into(bank_client_villages::table)
                                .values((
                                    bank_client_villages::bank_client_id.eq(id),
                                    bank_client_villages::village_id.eq(v),
                                ))
                                .execute(c)?;
                        }
                    }
                    let villages = client_villages(c, id)?;
                    Ok((row.clone(), villages))
                })
            })
        })
    }

    /// A new secret for a bank client (its hash), ending its current tokens.
    pub fn rotate_bank_secret(
        &self,
        id: &str,
        secret_hash: &str,
        actor: &str,
    ) -> Result<(BankClientRow, Vec<String>), StoreError> {
        self.write("rotate_bank_secret", |c| {
            c.write_txn(&mut |c| {
                let touched = client_villages(c, id)?;
                facts::changing(c, &touched, FactKind::BankClient, id, actor, &mut |c| {
                    let n = diesel::update(bank_clients::table.find(id))
                        .set((
                            bank_clients::secret_hash.eq(secret_hash),
                            bank_clients::token_version.eq(bank_clients::token_version + 1),
                        ))
                        .execute(c)?;
                    if n == 0 {
                        return Err(StoreError::NotFound("bank client"));
                    }
                    Ok(())
                })
            })
        })?;
        let row: BankClientRow = self.read("get_bank_client", |c| {
            Ok(bank_clients::table.find(id).select(BankClientRow::as_select()).first(c)?)
        })?;
        let found = self.find_bank_client(&row.client_id)?.ok_or(StoreError::NotFound("bank client"))?;
        Ok(found)
    }

    /// Every bank client with its villages (no secrets: only their hashes are stored, and those are not shown).
    pub fn list_bank_clients(&self) -> Result<Vec<(BankClientRow, Vec<String>)>, StoreError> {
        self.read("list_bank_clients", |c| {
            let rows: Vec<BankClientRow> =
                bank_clients::table.order(bank_clients::created_at).select(BankClientRow::as_select()).load(c)?;
            let links: Vec<(String, String)> = bank_client_villages::table
                .select((bank_client_villages::bank_client_id, bank_client_villages::village_id))
                .order((bank_client_villages::bank_client_id, bank_client_villages::village_id))
                .load(c)?;
            Ok(rows
                .into_iter()
                .map(|r| {
                    let v = links.iter().filter(|(b, _)| *b == r.id).map(|(_, v)| v.clone()).collect();
                    (r, v)
                })
                .collect())
        })
    }

    /// Whether a bank client's token of `version` still holds (the client exists, is active, and its version is
    /// that one), and the client's public key when it signs its requests: one indexed read on every bank request.
    pub fn bank_client_current(&self, client_id: &str, version: i64) -> Result<Option<Option<String>>, StoreError> {
        self.read("bank_client_current", |c| {
            let found = find_client_state(c, client_id)?;
            Ok(found.filter(|(active, v, _)| *active && *v == version).map(|(_, _, key)| key))
        })
    }

    /// Records a signed request's `X-EXTERNAL-ID` for its client and day; `Conflict` if it was used already.
    pub fn use_external_id(
        &self,
        client_id: &str,
        day: chrono::NaiveDate,
        external_id: &str,
    ) -> Result<(), StoreError> {
        self.write("use_external_id", |c| {
            let row = (
                bank_external_ids::client_id.eq(client_id),
                bank_external_ids::day.eq(day),
                bank_external_ids::external_id.eq(external_id),
                bank_external_ids::created_at.eq(super::now_micros()),
            );
            if super::error::inserted(diesel::insert_into(bank_external_ids::table).values(row).execute(c))? {
                Ok(())
            } else {
                Err(StoreError::Conflict(format!("X-EXTERNAL-ID {external_id} was used already today (WIB)")))
            }
        })
    }

    /// The stored answer for a key: replayed if the request is the same, a conflict if not.
    pub fn find_idempotent(&self, idem: &IdempotencyKey) -> Result<Option<(u16, String)>, StoreError> {
        self.read("find_idempotent", |c| find_idempotent(c, idem))
    }
}

/// A bank client's (active, token version, public key), by its client id.
pub(super) fn find_client_state(
    c: &mut DbConn,
    client_id: &str,
) -> Result<Option<(bool, i64, Option<String>)>, StoreError> {
    Ok(bank_clients::table
        .filter(bank_clients::client_id.eq(client_id))
        .select((bank_clients::active, bank_clients::token_version, bank_clients::public_key))
        .first(c)
        .optional()?)
}
