//! The pure domain core: every rule that decides money, workflow or the chain. No I/O here: the store reads the
//! inputs, calls these functions, and writes what they return.
//!
//! - `money`: exact amounts (integer sen) and their parsing.
//! - `catalogue`: the annex of Permendagri 20/2018 (accounts and activities) as data, and its 90–99 slots.
//! - `accounts`: the chart, code formats, sources of funds and taxes.
//! - `posting`: what every journal transaction obeys, and the posting plan (numbers, balances, daily totals).
//! - `budget`: budget positions: commit, release, realise, revise.
//! - `workflow`: the payment request's state machine, separation of duties, the request's totals.
//! - `bank_entry`: the bank's own entries (interest, its tax, the fee): revenue, the chosen line, or suspense.
//! - `year_end`: when a year closes, its SiLPA, and the closing of classes 4–6 into equity in the books.
//! - `settlement`: what a bank result posts, what a cancel gives back.
//! - `snap`: signed bank requests (SNAP): what is signed, the headers and the signature judged.
//! - `tax`: PPN and PPh on a purchase from date-effective rates, the rounding, deposit deadlines.
//! - `chain`: canonical forms, hashes, digests and the walk of verification.
//! - `facts`: chained facts (budgets, users, bank clients, settings, closed years, statements) and their comparison
//!   with the stored rows.
//! - `anchor`: signed checkpoints of the chain heads, and comparing a chain with them.
//! - `throttle`: how long a login must wait after failures (per user and address, growing, never a hard lock).
//! - `ids`: one id type per kind of record (village, payment, transfer, transaction, user).
//! - `roles`: who may do what.
//! - `text`: the text a request carries, parsed once (descriptions, notes, bank and tax identifiers, credentials).

/// Declares an enum whose every value is a fixed text: how it is stored (a text column, read and written in
/// `store/types.rs`), sent (serde and the OpenAPI schema) and printed (`Display`). It gets `ALL` (every value, in
/// order), `as_str` and `parse` (`None` for any other text), so the text of each value is written once, here.
macro_rules! text_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
            diesel::deserialize::FromSqlRow, diesel::expression::AsExpression,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.into_iter().find(|x| x.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod accounts;
pub mod anchor;
pub mod bank_entry;
pub mod budget;
pub mod catalogue;
pub mod chain;
pub mod facts;
pub mod ids;
pub mod money;
pub mod numbering;
pub mod posting;
pub mod roles;
pub mod settlement;
pub mod snap;
pub mod tax;
pub mod text;
pub mod throttle;
pub mod workflow;
pub mod year_end;
