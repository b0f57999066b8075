//! Request and response bodies of the API, with their OpenAPI schemas.

use crate::domain::accounts::Side;
use crate::domain::money::{Amount, AmountInput};
use crate::domain::posting::TxnKind;
use crate::domain::roles::Role;
use crate::store::rows::{AccountRow, RegencyRow, TransactionRecord, UserRow, VillageRow};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientTokenRequest {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    #[schema(example = 3600)]
    pub expires_in: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRegency {
    #[schema(example = "61.12")]
    pub code: String,
    #[schema(example = "Kabupaten Kubu Raya")]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegencyView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<RegencyRow> for RegencyView {
    fn from(r: RegencyRow) -> Self {
        RegencyView { id: r.id, code: r.code, name: r.name, created_at: utc(r.created_at) }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVillage {
    #[schema(example = "61.12.01.2001")]
    pub code: String,
    #[schema(example = "Desa Sungai Raya")]
    pub name: String,
    pub regency_id: String,
    /// The village's account number at its bank, digits only.
    #[schema(example = "1012345678")]
    pub bank_account: String,
    /// Batas kas tunai: the most cash in hand the village may hold.
    #[schema(value_type = String, example = "10000000.00")]
    pub cash_limit: AmountInput,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VillageView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub regency_id: String,
    pub bank_account: String,
    #[schema(value_type = String, example = "10000000.00")]
    pub cash_limit: Amount,
    /// The last transaction's sequence number.
    pub last_seq: i64,
    /// The hash at the head of the village's chain.
    pub chain_head: String,
    pub created_at: DateTime<Utc>,
}

impl From<VillageRow> for VillageView {
    fn from(v: VillageRow) -> Self {
        VillageView {
            id: v.id,
            code: v.code,
            name: v.name,
            regency_id: v.regency_id,
            bank_account: v.bank_account,
            cash_limit: Amount(v.cash_limit),
            last_seq: v.last_seq,
            chain_head: v.chain_head,
            created_at: utc(v.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(example = "bendahara.sungairaya")]
    pub username: String,
    /// 10 to 128 characters.
    pub password: String,
    pub role: Role,
    pub village_id: Option<String>,
    pub regency_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub role: Role,
    pub village_id: Option<String>,
    pub regency_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            role: Role::parse(&u.role).unwrap_or(Role::Implementer),
            village_id: u.village_id,
            regency_id: u.regency_id,
            created_at: utc(u.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBankClient {
    #[schema(example = "Bank Kalbar CMS")]
    pub name: String,
    pub village_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BankClientCreated {
    pub id: String,
    pub client_id: String,
    /// Shown once; only its hash is stored.
    pub client_secret: String,
    pub name: String,
    pub village_ids: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    #[schema(example = "1.1.1.02")]
    pub code: String,
    pub name: String,
    #[schema(example = "asset")]
    pub class: String,
    pub normal_side: Side,
    /// On the account's normal side: positive is the usual case.
    #[schema(value_type = String, example = "1500000.00")]
    pub balance: Amount,
}

impl AccountView {
    pub fn new(a: &AccountRow, debit_positive: i64) -> Self {
        let normal = Side::parse(&a.normal_side).unwrap_or(Side::Debit);
        let balance = if normal == Side::Debit { debit_positive } else { -debit_positive };
        AccountView {
            code: a.code.clone(),
            name: a.name.clone(),
            class: a.class.clone(),
            normal_side: normal,
            balance: Amount(balance),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalancesView {
    pub village_id: String,
    pub at: NaiveDate,
    pub accounts: Vec<AccountView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryRequest {
    #[schema(example = "1.1.1.02")]
    pub account_code: String,
    pub side: Side,
    #[schema(value_type = String, example = "1500000.00")]
    pub amount: AmountInput,
    #[schema(example = "01.01.04")]
    pub activity_code: Option<String>,
    #[schema(example = "PAD")]
    pub source: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransactionRequest {
    pub kind: TxnKind,
    pub value_date: NaiveDate,
    #[schema(example = "Sewa balai desa, Oktober")]
    pub description: String,
    pub entries: Vec<EntryRequest>,
    /// The bank's reference, when the money moved through the bank.
    pub bank_reference: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseRequest {
    pub reason: String,
    /// Defaults to today (Asia/Jakarta); not before the original's value date.
    pub value_date: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub line_no: i32,
    pub account_code: String,
    pub side: Side,
    #[schema(value_type = String, example = "1500000.00")]
    pub amount: Amount,
    pub activity_code: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionView {
    pub id: String,
    pub village_id: String,
    /// Gap-free per village.
    pub seq: i64,
    pub kind: String,
    pub fiscal_year: i32,
    pub value_date: NaiveDate,
    pub description: String,
    pub entries: Vec<EntryView>,
    /// Σdebits (= Σcredits).
    #[schema(value_type = String, example = "1500000.00")]
    pub total: Amount,
    /// The position of this record in the village's hash chain.
    pub chain_seq: i64,
    pub hash: String,
    pub prev_hash: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverses: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_reference: Option<String>,
}

impl From<&TransactionRecord> for TransactionView {
    fn from(r: &TransactionRecord) -> Self {
        let t = &r.txn;
        let total = r.entries.iter().filter(|e| e.side == "debit").map(|e| e.amount).sum();
        TransactionView {
            id: t.id.clone(),
            village_id: t.village_id.clone(),
            seq: t.seq,
            kind: t.kind.clone(),
            fiscal_year: t.fiscal_year,
            value_date: t.value_date,
            description: t.description.clone(),
            entries: r
                .entries
                .iter()
                .map(|e| EntryView {
                    line_no: e.line_no,
                    account_code: e.account_code.clone(),
                    side: Side::parse(&e.side).unwrap_or(Side::Debit),
                    amount: Amount(e.amount),
                    activity_code: e.activity_code.clone(),
                    source: e.source.clone(),
                })
                .collect(),
            total: Amount(total),
            chain_seq: t.chain_seq,
            hash: t.hash.clone(),
            prev_hash: t.prev_hash.clone(),
            created_by: t.created_by.clone(),
            created_at: utc(t.created_at),
            reverses: t.reverses.clone(),
            reversed_by: r.reversed_by.clone(),
            payment_id: t.payment_id.clone(),
            bank_reference: t.bank_reference.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionPage {
    pub items: Vec<TransactionView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FiscalYearView {
    pub year: i32,
    pub status: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
}
