//! Identifiers: one type per kind of record, so that a payment's id cannot be passed where a village's is wanted.
//! Each is a UUID (v7, time-ordered) kept as its text, which is how both backends store it and how the API shows
//! it; `new` makes a fresh one, `parse` reads one a caller sent (anything that is not a UUID is refused, which the
//! API answers as `404`: no record has that id).

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize, diesel::deserialize::FromSqlRow,
            diesel::expression::AsExpression,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> $name {
                $name(uuid::Uuid::now_v7().to_string())
            }

            /// An id a caller sent: a UUID in its usual text form (kept as sent, in lower case).
            pub fn parse(text: &str) -> Option<$name> {
                uuid::Uuid::try_parse(text).ok().map(|u| $name(u.hyphenated().to_string()))
            }

            /// An id read back from a store, or written by this service: taken as it is.
            pub fn from_stored(text: String) -> $name {
                $name(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::new()
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        /// Trusted text: an id read back from the store or written by this service (callers' ids go through
        /// `parse`).
        impl From<String> for $name {
            fn from(text: String) -> $name {
                $name(text)
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> $name {
                $name(text.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <String as utoipa::PartialSchema>::schema()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

id_type!(
    /// A village (desa).
    VillageId
);
id_type!(
    /// A payment request (SPP or tax deposit).
    PaymentId
);
id_type!(
    /// A transfer released to the bank for a payment request.
    TransferId
);
id_type!(
    /// A journal transaction.
    TransactionId
);
id_type!(
    /// A user (an official, an inspector, an administrator).
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_only_uuids_and_print_as_they_are_stored() {
        let v = VillageId::new();
        assert_eq!(VillageId::parse(v.as_str()), Some(v.clone()));
        assert_eq!(VillageId::parse(&v.to_uppercase()), Some(v.clone()), "case does not make another id");
        assert_eq!(VillageId::parse("61.12.01.2001"), None);
        assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{v}\""));
        assert!(PaymentId::new() > PaymentId::from_stored("00000000-0000-7000-8000-000000000000".into()));
    }
}
