// Row structs shared by both backends (diesel derives them generically over the backend). Statuses, kinds, sides,
// roles and steps are the domain's enums (stored as text, `store/types.rs`): a row with an unknown value fails to
// read instead of carrying a string nobody checks.

use super::schema::*;
use crate::domain::accounts::{AccountClass, Side};
use crate::domain::budget::BudgetStatus;
use crate::domain::ids::{PaymentId, TransactionId, TransferId, UserId, VillageId};
use crate::domain::posting::{TxnKind, YearStatus};
use crate::domain::roles::Role;
use crate::domain::settlement::PaymentKind;
use crate::domain::workflow::{PaymentStatus, Step, TransferStatus};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = regencies)]
pub struct RegencyRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub created_at: NaiveDateTime,
    /// The regency's time zone (WIB +420, WITA +480, WIT +540).
    pub utc_offset_minutes: i32,
    /// The regency's treasury (Kas Daerah), where regional tax (PAJAK_DAERAH) is deposited.
    pub treasury_name: Option<String>,
    pub treasury_bank_code: Option<String>,
    pub treasury_account_number: Option<String>,
    /// The most one payment may take from cash in hand, in sen; `None`: no cash payments.
    pub cash_payment_limit: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = villages)]
pub struct VillageRow {
    pub id: VillageId,
    pub regency_id: String,
    pub code: String,
    pub name: String,
    pub bank_account: String,
    pub cash_limit: i64,
    pub last_seq: i64,
    pub chain_len: i64,
    pub chain_head: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = accounts)]
pub struct AccountRow {
    pub village_id: VillageId,
    pub code: String,
    pub name: String,
    pub class: AccountClass,
    pub normal_side: Side,
    pub balance: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = fiscal_years)]
pub struct FiscalYearRow {
    pub village_id: VillageId,
    pub year: i32,
    pub status: YearStatus,
    pub closed_at: Option<NaiveDateTime>,
    pub closed_by: Option<String>,
    /// Set when the year is closed (`domain::year_end::silpa`).
    pub silpa: Option<i64>,
    /// The posting that opened the next year with the SiLPA, when it was positive.
    pub silpa_transaction_id: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = transactions, treat_none_as_default_value = false)]
pub struct TransactionRow {
    pub id: TransactionId,
    pub village_id: VillageId,
    pub seq: i64,
    pub chain_seq: i64,
    pub fiscal_year: i32,
    pub kind: TxnKind,
    pub value_date: NaiveDate,
    pub description: String,
    pub reverses: Option<TransactionId>,
    pub payment_id: Option<PaymentId>,
    pub bank_reference: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = entries, treat_none_as_default_value = false)]
pub struct EntryRow {
    pub transaction_id: TransactionId,
    pub line_no: i32,
    pub village_id: VillageId,
    pub account_code: String,
    pub side: Side,
    pub amount: i64,
    pub activity_code: Option<String>,
    pub source: Option<String>,
    pub value_date: NaiveDate,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: UserId,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub village_id: Option<VillageId>,
    pub regency_id: Option<String>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    /// Raised by every role or scope change, deactivation and logout: tokens of an older version are refused.
    pub token_version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bank_clients)]
pub struct BankClientRow {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub secret_hash: String,
    pub active: bool,
    pub created_at: NaiveDateTime,
    /// Carried in its tokens: raised on deactivation, a new secret or a change of villages, which ends them.
    pub token_version: i64,
    /// Its RSA public key (PEM), when it signs its requests (`domain::snap`).
    pub public_key: Option<String>,
    /// Where its events are pushed (`transfer.released`), if it asked for them.
    pub webhook_url: Option<String>,
}

/// An event waiting in (or delivered from) the webhook outbox.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = webhook_outbox)]
pub struct OutboxRow {
    pub id: String,
    pub bank_client_id: String,
    pub village_id: String,
    pub event: String,
    pub transfer_id: String,
    pub payload: String,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
    pub delivered_at: Option<NaiveDateTime>,
}

/// One delivery attempt of an event: the receiver's status, or why there was none.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub outbox_id: String,
    pub attempt: i32,
    pub at: NaiveDateTime,
    pub status: Option<i32>,
    pub error: Option<String>,
}

/// A signed checkpoint of a village's chain head (`domain::anchor`), as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = checkpoints)]
pub struct CheckpointRow {
    pub village_id: String,
    pub chain_seq: i64,
    pub hash: String,
    pub at: String,
    pub key_id: String,
    pub signature: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = idempotency_keys, treat_none_as_default_value = false)]
pub struct IdempotencyRow {
    pub principal: String,
    pub key: String,
    pub request_hash: String,
    pub village_id: Option<VillageId>,
    pub status: i32,
    pub body: String,
    pub created_at: NaiveDateTime,
}

/// A transaction with its entries, as stored.
#[derive(Debug, Clone)]
pub struct TransactionRecord {
    pub txn: TransactionRow,
    pub entries: Vec<EntryRow>,
    pub reversed_by: Option<TransactionId>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budgets)]
pub struct BudgetRow {
    pub village_id: VillageId,
    pub year: i32,
    pub version: i32,
    pub status: BudgetStatus,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub adopted_by: Option<String>,
    pub adopted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budget_lines)]
pub struct BudgetLineRow {
    pub village_id: VillageId,
    pub year: i32,
    pub version: i32,
    pub line_no: i32,
    pub account_code: String,
    pub activity_code: String,
    pub activity_name: Option<String>,
    pub source: String,
    pub ceiling: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = budget_positions)]
pub struct BudgetPositionRow {
    pub village_id: VillageId,
    pub year: i32,
    pub account_code: String,
    pub activity_code: String,
    pub source: String,
    pub activity_name: Option<String>,
    pub ceiling: i64,
    pub committed: i64,
    pub realised: i64,
}

// Deserialize: PostgreSQL reads a whole request in one statement, as JSON (store/pg.rs).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: PaymentId,
    pub village_id: VillageId,
    pub kind: PaymentKind,
    pub fiscal_year: i32,
    pub status: PaymentStatus,
    pub activity_code: Option<String>,
    pub description: String,
    pub payee_name: String,
    pub payee_bank_code: String,
    pub payee_account_number: String,
    pub payee_npwp: Option<String>,
    pub invoice_number: Option<String>,
    pub invoice_date: Option<NaiveDate>,
    pub billing_code: Option<String>,
    pub gross: i64,
    pub withheld: i64,
    pub net: i64,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub bank_reference: Option<String>,
    pub ntpn: Option<String>,
    pub transaction_id: Option<TransactionId>,
    pub failure_reason: Option<String>,
    /// The human number, gap-free per village, year and kind (`domain::numbering`).
    pub number: Option<String>,
}

// Deserialize: PostgreSQL reads a whole request in one statement, as JSON (store/pg.rs).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = payment_lines)]
pub struct PaymentLineRow {
    pub payment_id: PaymentId,
    pub line_no: i32,
    pub village_id: VillageId,
    pub account_code: String,
    pub activity_code: Option<String>,
    pub source: Option<String>,
    pub amount: i64,
    /// A tax deposit's line: the billing code it is paid under, and the NTPN the bank returned for it.
    pub billing_code: Option<String>,
    pub ntpn: Option<String>,
    /// The receipt the line belongs to (1 for a request of one payee).
    pub receipt_no: i32,
}

// Deserialize: PostgreSQL reads a whole request in one statement, as JSON (store/pg.rs).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = payment_withholdings)]
pub struct WithholdingRow {
    pub payment_id: PaymentId,
    pub line_no: i32,
    pub seq_no: i32,
    pub village_id: VillageId,
    pub tax: String,
    pub amount: i64,
}

// Deserialize: PostgreSQL reads a whole request in one statement, as JSON (store/pg.rs).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = payment_events)]
pub struct PaymentEventRow {
    pub id: String,
    pub village_id: VillageId,
    pub payment_id: PaymentId,
    pub chain_seq: i64,
    pub step: Step,
    pub action: String,
    pub actor: String,
    pub actor_name: String,
    pub role: Role,
    pub from_status: Option<PaymentStatus>,
    pub to_status: PaymentStatus,
    pub note: Option<String>,
    pub at: NaiveDateTime,
    pub payment_digest: String,
    pub prev_hash: String,
    pub hash: String,
}

// Deserialize: PostgreSQL reads a whole request in one statement, as JSON (store/pg.rs).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = transfers)]
pub struct TransferRow {
    pub id: TransferId,
    pub village_id: VillageId,
    pub payment_id: PaymentId,
    pub attempt: i32,
    pub amount: i64,
    pub status: TransferStatus,
    pub released_by: String,
    pub released_at: NaiveDateTime,
    pub result_at: Option<NaiveDateTime>,
    pub bank_reference: Option<String>,
    pub value_date: Option<NaiveDate>,
    pub reason: Option<String>,
    pub ntpn: Option<String>,
    pub settled_by: Option<String>,
    pub transaction_id: Option<TransactionId>,
    /// The receipt it pays (1 for a request of one payee).
    pub receipt_no: i32,
    /// Who at the bank executed it, as the bank's result said (the village head in a CMS that asks for one).
    #[serde(default)]
    pub executed_by: Option<String>,
    /// The office's day of the release (WIB): the bank's value date may not lie before it.
    #[serde(default)]
    pub released_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bank_credits)]
pub struct BankCreditRow {
    pub village_id: VillageId,
    pub bank_reference: String,
    pub amount: i64,
    pub source: String,
    pub transaction_id: TransactionId,
    pub client_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = statement_lines)]
pub struct StatementLineRow {
    pub id: String,
    pub village_id: VillageId,
    pub bank_reference: String,
    pub value_date: NaiveDate,
    pub amount: i64,
    pub direction: String,
    pub client_id: String,
    pub received_at: NaiveDateTime,
    /// The bank's balance after this line, when it sent one.
    pub balance: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bank_entries)]
pub struct BankEntryRow {
    pub village_id: VillageId,
    pub bank_reference: String,
    pub kind: crate::domain::bank_entry::BankEntryKind,
    pub amount: i64,
    pub value_date: NaiveDate,
    pub transaction_id: TransactionId,
    pub suspense: bool,
    pub client_id: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = bank_entry_lines)]
pub struct BankEntryLineRow {
    pub village_id: VillageId,
    pub kind: crate::domain::bank_entry::BankEntryKind,
    pub account_code: String,
    pub activity_code: String,
    pub source: String,
}

// Deserialize: PostgreSQL reads a whole request in one statement, as JSON (store/pg.rs).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Deserialize)]
#[diesel(table_name = receipts)]
pub struct ReceiptRow {
    pub payment_id: PaymentId,
    pub receipt_no: i32,
    pub village_id: VillageId,
    pub number: String,
    pub payee_name: String,
    pub payee_bank_code: String,
    pub payee_account_number: String,
    pub payee_npwp: Option<String>,
    pub description: Option<String>,
    pub gross: i64,
    pub withheld: i64,
    pub net: i64,
    pub status: crate::domain::settlement::ReceiptStatus,
}

/// A payment request with everything that belongs to it.
#[derive(Debug, Clone)]
pub struct PaymentRecord {
    pub payment: PaymentRow,
    /// Empty for a request of one payee (the request's own); else every receipt, in order.
    pub receipts: Vec<ReceiptRow>,
    pub lines: Vec<PaymentLineRow>,
    pub withholdings: Vec<WithholdingRow>,
    pub events: Vec<PaymentEventRow>,
    pub transfers: Vec<TransferRow>,
}

/// An adopted or draft budget: the version's lines, the live positions, and every version's header.
#[derive(Debug, Clone)]
pub struct BudgetRecord {
    pub current: BudgetRow,
    pub lines: Vec<BudgetLineRow>,
    pub positions: Vec<BudgetPositionRow>,
    pub versions: Vec<BudgetRow>,
}

/// What a bank's result did: the transfer as settled and, for `paid`, the transaction posted.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub transfer: TransferRow,
    pub payment: PaymentRow,
    /// The receipt the transfer pays, of a request with many.
    pub receipt: Option<ReceiptRow>,
    pub transaction: Option<TransactionRecord>,
}

/// A chained fact (`domain::facts`): a subject's canonical state after a change the service made.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = chained_facts)]
pub struct ChainedFactRow {
    pub id: String,
    pub village_id: VillageId,
    pub chain_seq: i64,
    pub kind: crate::domain::facts::FactKind,
    pub subject: String,
    pub state: String,
    pub actor: String,
    pub at: NaiveDateTime,
    pub prev_hash: String,
    pub hash: String,
}
