//! Creating a user: one path for the API (`POST /users`), the command line (`kasdesa user create`) and the first
//! start (the administrator). The role decides the scope the user needs, and the scope must exist.

use crate::domain::roles::Role;
use crate::domain::text::{Password, Username};
use crate::store::rows::UserRow;
use crate::store::{now_micros, Db, StoreError};

/// A user to create, parsed: the username and password have passed their rules.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: Username,
    pub password: Password,
    pub role: Role,
    pub village_id: Option<String>,
    pub regency_id: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The role and the scope do not go together, or the scope does not exist.
    #[error("{0}")]
    Scope(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the password could not be hashed")]
    Hash,
}

/// Checks that the role comes with exactly the scope it needs.
pub fn check_scope(role: Role, village_id: Option<&str>, regency_id: Option<&str>) -> Result<(), UserError> {
    let refuse = |m: &str| Err(UserError::Scope(m.to_string()));
    match role {
        r if r.is_village_role() => match (village_id, regency_id) {
            (None, _) => refuse("village_id is required for this role"),
            (Some(_), Some(_)) => refuse("a village role has a village_id, not a regency_id"),
            (Some(_), None) => Ok(()),
        },
        Role::Inspector => match (village_id, regency_id) {
            (_, None) => refuse("regency_id is required for an inspector"),
            (Some(_), Some(_)) => refuse("an inspector has a regency_id, not a village_id"),
            (None, Some(_)) => Ok(()),
        },
        Role::Admin if village_id.is_some() || regency_id.is_some() => {
            refuse("an administrator has no village or regency")
        }
        Role::Admin => Ok(()),
        _ => refuse("banks are registered with POST /bank-clients"),
    }
}

/// [`check_scope`], and the scope exists: for creating a user and for changing one's role or scope.
pub fn resolve_scope(db: &Db, role: Role, village_id: Option<&str>, regency_id: Option<&str>) -> Result<(), UserError> {
    check_scope(role, village_id, regency_id)?;
    if let Some(v) = village_id {
        if db.get_village(v)?.is_none() {
            return Err(UserError::Scope(format!("village {v} does not exist")));
        }
    }
    if let Some(r) = regency_id {
        if db.get_regency(r)?.is_none() {
            return Err(UserError::Scope(format!("regency {r} does not exist")));
        }
    }
    Ok(())
}

/// Creates the user: scope checked (and found), password hashed (argon2id), row written. Blocking: argon2 takes
/// tens of milliseconds on purpose, so async callers run this on the blocking pool.
/// `actor` is who creates the user (its id, or `system`/`cli`), as the village's chain records it.
pub fn create_user(db: &Db, new: NewUser, actor: &str) -> Result<UserRow, UserError> {
    resolve_scope(db, new.role, new.village_id.as_deref(), new.regency_id.as_deref())?;
    let password_hash = crate::http::auth::hash_password(new.password.expose()).map_err(|_| UserError::Hash)?;
    Ok(db.create_user(
        UserRow {
            id: crate::domain::ids::UserId::new(),
            username: new.username.into_string(),
            password_hash,
            role: new.role,
            village_id: new.village_id.map(Into::into),
            regency_id: new.regency_id,
            active: true,
            created_at: now_micros(),
            token_version: 0,
        },
        actor,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_scopes() {
        assert!(check_scope(Role::Treasurer, Some("v"), None).is_ok());
        assert!(check_scope(Role::Treasurer, None, None).is_err());
        assert!(check_scope(Role::Treasurer, Some("v"), Some("r")).is_err());
        assert!(check_scope(Role::Inspector, None, Some("r")).is_ok());
        assert!(check_scope(Role::Inspector, Some("v"), Some("r")).is_err());
        assert!(check_scope(Role::Admin, None, None).is_ok());
        assert!(check_scope(Role::Admin, Some("v"), None).is_err());
        assert!(check_scope(Role::Bank, None, None).is_err());
    }
}
