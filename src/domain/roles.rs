//! Who may do what: the roles of the domain reference and the scope a token carries.

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    diesel::deserialize::FromSqlRow,
    diesel::expression::AsExpression,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Role {
    Implementer,
    Secretary,
    Head,
    Treasurer,
    Inspector,
    Bank,
    Admin,
}

impl Role {
    pub const ALL: [Role; 7] =
        [Role::Implementer, Role::Secretary, Role::Head, Role::Treasurer, Role::Inspector, Role::Bank, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Implementer => "implementer",
            Role::Secretary => "secretary",
            Role::Head => "head",
            Role::Treasurer => "treasurer",
            Role::Inspector => "inspector",
            Role::Bank => "bank",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.iter().copied().find(|r| r.as_str() == s)
    }

    /// The roles that belong to exactly one village.
    pub fn is_village_role(self) -> bool {
        matches!(self, Role::Implementer | Role::Secretary | Role::Head | Role::Treasurer)
    }
}
