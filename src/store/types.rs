//! How the domain's enums are stored: as their `as_str()` text, one column each. The domain declares that an enum
//! is a text column (`#[derive(FromSqlRow, AsExpression)]`); this file says how it reads and writes on any backend.
//! Ids (`domain::ids`) are stored as their text the same way. A stored value that is not one of the enum's is an error when the row is read (it becomes
//! `StoreError::Internal`, a 500 that names the value in the log), never a silent default.

use crate::domain::accounts::{AccountClass, Side};
use crate::domain::bank_entry::BankEntryKind;
use crate::domain::budget::BudgetStatus;
use crate::domain::facts::FactKind;
use crate::domain::ids::{PaymentId, TransactionId, TransferId, UserId, VillageId};
use crate::domain::posting::{TxnKind, YearStatus};
use crate::domain::roles::Role;
use crate::domain::settlement::{PaymentKind, ReceiptStatus};
use crate::domain::workflow::{PaymentStatus, Step, TransferStatus};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// Implements reading and writing a text-column enum (one with `as_str` and `parse`) for every backend.
macro_rules! text_column {
    ($($ty:ty),* $(,)?) => {
        $(
            impl<DB: Backend> FromSql<Text, DB> for $ty
            where
                String: FromSql<Text, DB>,
            {
                fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                    let text = String::from_sql(bytes)?;
                    <$ty>::parse(&text)
                        .ok_or_else(|| format!("{:?} is not a {}", text, stringify!($ty)).into())
                }
            }

            impl<DB: Backend> ToSql<Text, DB> for $ty
            where
                str: ToSql<Text, DB>,
            {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                    self.as_str().to_sql(out)
                }
            }
        )*
    };
}

text_column!(
    PaymentStatus,
    TransferStatus,
    Step,
    TxnKind,
    YearStatus,
    Side,
    AccountClass,
    Role,
    PaymentKind,
    BudgetStatus,
    BankEntryKind,
    ReceiptStatus,
    FactKind
);

/// Implements reading and writing an id (a UUID kept as text) for every backend.
macro_rules! id_column {
    ($($ty:ty),* $(,)?) => {
        $(
            impl<DB: Backend> FromSql<Text, DB> for $ty
            where
                String: FromSql<Text, DB>,
            {
                fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                    Ok(<$ty>::from_stored(String::from_sql(bytes)?))
                }
            }

            impl<DB: Backend> ToSql<Text, DB> for $ty
            where
                str: ToSql<Text, DB>,
            {
                fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                    self.as_str().to_sql(out)
                }
            }
        )*
    };
}

id_column!(VillageId, PaymentId, TransferId, TransactionId, UserId);
