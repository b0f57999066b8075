//! Request and response bodies of the API, with their OpenAPI schemas.

use crate::domain::accounts::Side;
use crate::domain::ids::{PaymentId, TransactionId, TransferId, UserId, VillageId};
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
    /// The regency's time zone in minutes east of UTC: 420 (WIB, default), 480 (WITA) or 540 (WIT).
    pub utc_offset_minutes: Option<i32>,
    /// The regency's treasury account (Kas Daerah), where regional tax (PAJAK_DAERAH) is deposited.
    pub treasury: Option<TreasuryAccount>,
}

/// A treasury account: a name, a bank code and an account number.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreasuryAccount {
    #[schema(example = "Kas Daerah Kabupaten Kubu Raya")]
    pub name: String,
    #[schema(example = "123")]
    pub bank_code: String,
    #[schema(example = "1002003004")]
    pub account_number: String,
}

/// Sets or clears a regency's treasury account (admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegencyUpdate {
    /// Absent: unchanged; `null`: cleared.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<TreasuryAccount>)]
    pub treasury: Option<Option<TreasuryAccount>>,
    /// The most one payment may take from cash in hand (`pay-cash`); absent: unchanged; `null`: no cash payments.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "2500000.00")]
    pub cash_payment_limit: Option<Option<AmountInput>>,
}

/// A field that may be absent (the outer `None`, by `default`) or `null` (`Some(None)`): PATCH semantics.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegencyView {
    pub id: String,
    pub code: String,
    pub name: String,
    pub utc_offset_minutes: i32,
    pub created_at: DateTime<Utc>,
    pub treasury: Option<TreasuryAccount>,
    /// The most one payment may take from cash in hand; `null`: no cash payments.
    #[schema(value_type = Option<String>)]
    pub cash_payment_limit: Option<Amount>,
}

impl From<RegencyRow> for RegencyView {
    fn from(r: RegencyRow) -> Self {
        let treasury = r.treasury().map(|t| TreasuryAccount {
            name: t.name,
            bank_code: t.bank_code,
            account_number: t.account_number,
        });
        RegencyView {
            treasury,
            cash_payment_limit: r.cash_payment_limit.map(Amount),
            id: r.id,
            code: r.code,
            name: r.name,
            utc_offset_minutes: r.utc_offset_minutes,
            created_at: utc(r.created_at),
        }
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VillageUpdate {
    pub name: Option<String>,
    pub bank_account: Option<String>,
    /// A new cash limit (the regency's regulation changed).
    #[schema(value_type = Option<String>, example = "5000000.00")]
    pub cash_limit: Option<AmountInput>,
    /// The name printed under "Kepala Desa" in signature blocks; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "H. Abdul Rahman")]
    pub head_name: Option<Option<String>>,
    /// The name printed under "Kaur Keuangan"; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "Siti Aminah")]
    pub treasurer_name: Option<Option<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VillageView {
    pub id: VillageId,
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub role: Option<Role>,
    pub village_id: Option<String>,
    pub regency_id: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub username: String,
    pub role: Role,
    pub active: bool,
    pub village_id: Option<String>,
    pub regency_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<UserRow> for UserView {
    fn from(u: UserRow) -> Self {
        UserView {
            id: u.id,
            username: u.username,
            role: u.role,
            active: u.active,
            village_id: u.village_id.map(String::from),
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
    /// An RSA public key (PEM, at least 2048 bits): the client must then sign every request (SNAP conventions).
    #[serde(default)]
    pub public_key: Option<String>,
    /// Where kasdesa pushes `transfer.released` events (https, or http on 127.0.0.1).
    #[serde(default)]
    pub webhook_url: Option<String>,
}

/// A change to a bank client (admin): each field given replaces the current one. Every change ends the client's
/// current tokens at once.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankClientUpdate {
    pub name: Option<String>,
    /// `false` deactivates the client: its tokens stop working on the next request, and it gets no new ones.
    pub active: Option<bool>,
    pub village_ids: Option<Vec<String>>,
    /// A new RSA public key (PEM, at least 2048 bits); `null` removes it (back to the plain bearer flow).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub public_key: Option<Option<String>>,
    /// Where events are pushed; `null` stops the pushes (events already waiting stay in the outbox).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub webhook_url: Option<Option<String>>,
}

/// A bank client as administrators see it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct BankClientView {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub active: bool,
    pub village_ids: Vec<String>,
    pub created_at: String,
    /// Whether it signs its requests (it registered a public key), and the key.
    pub signs_requests: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

impl From<(crate::store::rows::BankClientRow, Vec<String>)> for BankClientView {
    fn from((r, village_ids): (crate::store::rows::BankClientRow, Vec<String>)) -> Self {
        BankClientView {
            id: r.id,
            client_id: r.client_id,
            name: r.name,
            active: r.active,
            village_ids,
            created_at: crate::domain::chain::canonical_time(r.created_at),
            signs_requests: r.public_key.is_some(),
            public_key: r.public_key,
            webhook_url: r.webhook_url,
        }
    }
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
    pub class: crate::domain::accounts::AccountClass,
    pub normal_side: Side,
    /// On the account's normal side: positive is the usual case.
    #[schema(value_type = String, example = "1500000.00")]
    pub balance: Amount,
}

impl AccountView {
    pub fn new(a: &AccountRow, debit_positive: i64) -> Self {
        let normal = a.normal_side;
        let balance = if normal == Side::Debit { debit_positive } else { -debit_positive };
        AccountView {
            code: a.code.clone(),
            name: a.name.clone(),
            class: a.class,
            normal_side: normal,
            balance: Amount(balance),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BalancesView {
    pub village_id: VillageId,
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
    pub id: TransactionId,
    pub village_id: VillageId,
    /// Gap-free per village.
    pub seq: i64,
    pub kind: crate::domain::posting::TxnKind,
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
    pub reverses: Option<TransactionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reversed_by: Option<TransactionId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<PaymentId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_reference: Option<String>,
}

impl From<&TransactionRecord> for TransactionView {
    fn from(r: &TransactionRecord) -> Self {
        let t = &r.txn;
        let total = r.entries.iter().filter(|e| e.side == Side::Debit).map(|e| e.amount).sum();
        TransactionView {
            id: t.id.clone(),
            village_id: t.village_id.clone(),
            seq: t.seq,
            kind: t.kind,
            fiscal_year: t.fiscal_year,
            value_date: t.value_date,
            description: t.description.clone(),
            entries: r
                .entries
                .iter()
                .map(|e| EntryView {
                    line_no: e.line_no,
                    account_code: e.account_code.clone(),
                    side: e.side,
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
    pub status: crate::domain::posting::YearStatus,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    /// Once closed: cash + bank at 31 December less taxes owed, carried into the next year as 6.1.1.01.
    #[schema(value_type = Option<String>)]
    pub silpa: Option<Amount>,
    /// The posting that opened the next year with the SiLPA.
    pub silpa_transaction_id: Option<String>,
}

impl From<crate::store::rows::FiscalYearRow> for FiscalYearView {
    fn from(f: crate::store::rows::FiscalYearRow) -> Self {
        FiscalYearView {
            year: f.year,
            status: f.status,
            closed_at: f.closed_at.map(utc),
            closed_by: f.closed_by,
            silpa: f.silpa.map(Amount),
            silpa_transaction_id: f.silpa_transaction_id,
        }
    }
}

// ---- budgets ----------------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetLineRequest {
    #[schema(example = "5.2.1.07")]
    pub account_code: String,
    /// Required on spending lines (5.x, 6.2.x): `BB.SS.KK`.
    #[schema(example = "02.03.10")]
    pub activity_code: Option<String>,
    #[schema(example = "Pembangunan/Rehabilitasi Jalan Desa")]
    pub activity_name: Option<String>,
    #[schema(example = "DDS")]
    pub source: String,
    /// The ceiling (pagu).
    #[schema(value_type = String, example = "250000000.00")]
    pub amount: AmountInput,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    pub lines: Vec<BudgetLineRequest>,
    /// For revisions: the regulation or reason (e.g. "Perdes 5/2026 tentang APBDes Perubahan").
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetLineView {
    pub account_code: String,
    pub activity_code: Option<String>,
    pub activity_name: Option<String>,
    pub source: String,
    #[schema(value_type = String)]
    pub ceiling: Amount,
    #[schema(value_type = String)]
    pub committed: Amount,
    #[schema(value_type = String)]
    pub realised: Amount,
    /// ceiling − committed − realised.
    #[schema(value_type = String)]
    pub available: Amount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetVersionView {
    pub version: i32,
    pub status: crate::domain::budget::BudgetStatus,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub adopted_at: Option<DateTime<Utc>>,
    pub adopted_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetView {
    pub village_id: VillageId,
    pub year: i32,
    pub version: i32,
    /// `draft` or `adopted`.
    pub status: crate::domain::budget::BudgetStatus,
    pub lines: Vec<BudgetLineView>,
    pub versions: Vec<BudgetVersionView>,
}

impl From<&crate::store::rows::BudgetRecord> for BudgetView {
    fn from(b: &crate::store::rows::BudgetRecord) -> Self {
        let lines = if b.current.status == crate::domain::budget::BudgetStatus::Adopted {
            b.positions
                .iter()
                .map(|p| BudgetLineView {
                    account_code: p.account_code.clone(),
                    activity_code: Some(p.activity_code.clone()).filter(|a| !a.is_empty()),
                    activity_name: p.activity_name.clone(),
                    source: p.source.clone(),
                    ceiling: Amount(p.ceiling),
                    committed: Amount(p.committed),
                    realised: Amount(p.realised),
                    available: Amount(p.ceiling - p.committed - p.realised),
                })
                .collect()
        } else {
            b.lines
                .iter()
                .map(|l| BudgetLineView {
                    account_code: l.account_code.clone(),
                    activity_code: Some(l.activity_code.clone()).filter(|a| !a.is_empty()),
                    activity_name: l.activity_name.clone(),
                    source: l.source.clone(),
                    ceiling: Amount(l.ceiling),
                    committed: Amount(0),
                    realised: Amount(0),
                    available: Amount(l.ceiling),
                })
                .collect()
        };
        BudgetView {
            village_id: b.current.village_id.clone(),
            year: b.current.year,
            version: b.current.version,
            status: b.current.status,
            lines,
            versions: b
                .versions
                .iter()
                .map(|v| BudgetVersionView {
                    version: v.version,
                    status: v.status,
                    note: v.note.clone(),
                    created_at: utc(v.created_at),
                    adopted_at: v.adopted_at.map(utc),
                    adopted_by: v.adopted_by.clone(),
                })
                .collect(),
        }
    }
}

// ---- payments ---------------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Payee {
    #[schema(example = "CV Maju Bersama")]
    pub name: String,
    /// The payee bank's 3-digit code (e.g. 123) or its BIC.
    #[schema(example = "123")]
    pub bank_code: String,
    /// Digits only, 6 to 20.
    #[schema(example = "1009876543")]
    pub account_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub npwp: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithholdingRequest {
    /// PPN, PPH21, PPH22, PPH23, PPH4_2 or PAJAK_DAERAH.
    #[schema(example = "PPN")]
    pub tax: String,
    #[schema(value_type = String, example = "1100000.00")]
    pub amount: AmountInput,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentLineRequest {
    #[schema(example = "5.2.1.07")]
    pub account_code: String,
    #[schema(example = "DDS")]
    pub source: String,
    #[schema(value_type = String, example = "10000000.00")]
    pub amount: AmountInput,
    #[serde(default)]
    pub withholdings: Vec<WithholdingRequest>,
    /// What the line buys, for the tax calculator (`POST /tax/calculate`) to propose its withholdings: when given
    /// and `withholdings` is empty, the proposal is used; when both are given and differ, the request is drafted as
    /// entered and its trail records the override.
    #[serde(default)]
    pub tax_basis: Option<TaxBasis>,
}

/// A line's purchase, as the tax calculator needs it (the date is the invoice's, or today).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxBasis {
    pub kind: crate::domain::tax::PurchaseKind,
    /// Whether the line's amount includes PPN (default true: an invoice's total).
    #[serde(default = "yes")]
    pub includes_vat: bool,
    pub vendor_vat_registered: bool,
    /// Default: whether the payee has an NPWP.
    pub vendor_has_npwp: Option<bool>,
    pub contractor_qualification: Option<crate::domain::tax::Qualification>,
    #[serde(default)]
    pub exempt_goods: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    #[schema(example = "02.03.10")]
    pub activity_code: String,
    #[schema(example = "Pembelian semen dan pasir, rehabilitasi jalan dusun II")]
    pub description: String,
    /// `spp` (default) or `advance` (panjar to the implementer for self-managed works: one payee, the lines it is
    /// for, no withholdings; realised by its accountability).
    pub kind: Option<String>,
    /// The one payee, with `lines`; or leave both out and give `receipts`.
    pub payee: Option<Payee>,
    #[serde(default)]
    pub lines: Vec<PaymentLineRequest>,
    /// One SPP for many payees (monthly salaries, allowances, daily wages): 1 to 500 receipts, each its own payee,
    /// lines and withholdings, paid by its own transfer.
    pub receipts: Option<Vec<ReceiptRequest>>,
    pub invoice_number: Option<String>,
    pub invoice_date: Option<NaiveDate>,
    /// Defaults to the current year (Asia/Jakarta).
    pub fiscal_year: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountabilityReceiptRequest {
    /// Who was paid (the shop, the builder).
    #[schema(example = "Toko Bangunan Sinar")]
    pub payee: String,
    pub npwp: Option<String>,
    pub description: Option<String>,
    pub lines: Vec<PaymentLineRequest>,
}

/// The accountability (SPJ) of a paid advance: the receipts of what it was spent on and the remainder returned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountabilityRequest {
    pub receipts: Vec<AccountabilityReceiptRequest>,
    /// Returned to the village account; Σ net of the receipts + returned = the advance.
    #[schema(value_type = String, example = "1500000.00")]
    pub returned: String,
    /// Default today (WIB); in the advance's fiscal year.
    pub value_date: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptRequest {
    pub payee: Payee,
    /// What this receipt pays for (the request's description if left out).
    pub description: Option<String>,
    pub lines: Vec<PaymentLineRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxDepositLineRequest {
    #[schema(example = "PPN")]
    pub tax: String,
    #[schema(value_type = String, example = "1100000.00")]
    pub amount: AmountInput,
    /// This tax's billing code (kode billing), 15 digits: each tax type is paid under its own.
    #[schema(example = "820261100012345")]
    pub billing_code: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxDepositRequest {
    /// Defaults to "Setor pajak" and the taxes deposited.
    #[schema(example = "Setor PPN dan PPh Oktober")]
    pub description: Option<String>,
    /// The billing code of every line that gives none (a deposit of one tax may give it here).
    #[schema(example = "820261100012345")]
    pub billing_code: Option<String>,
    /// One line per tax type. State taxes and regional tax (PAJAK_DAERAH, paid to the regency's treasury) go to
    /// different treasuries, so they are deposited separately.
    pub lines: Vec<TaxDepositLineRequest>,
    pub fiscal_year: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// Required to return, reject or cancel.
    pub note: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayCashRequest {
    /// The day the payee was paid (in the request's fiscal year, not in the future); default today (WIB).
    pub value_date: Option<NaiveDate>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WithholdingView {
    pub tax: String,
    #[schema(value_type = String)]
    pub amount: Amount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentLineView {
    pub line_no: i32,
    pub account_code: String,
    pub activity_code: Option<String>,
    pub source: Option<String>,
    #[schema(value_type = String)]
    pub amount: Amount,
    pub withholdings: Vec<WithholdingView>,
    /// A tax deposit's line: the tax, its billing code and, once paid, its NTPN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ntpn: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    pub chain_seq: i64,
    pub action: String,
    pub actor: String,
    pub actor_name: String,
    pub role: Role,
    pub from: Option<crate::domain::workflow::PaymentStatus>,
    pub to: crate::domain::workflow::PaymentStatus,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
    pub hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferView {
    pub id: TransferId,
    pub payment_id: PaymentId,
    pub village_id: VillageId,
    pub attempt: i32,
    /// The net amount to transfer.
    #[schema(value_type = String)]
    pub amount: Amount,
    pub status: crate::domain::workflow::TransferStatus,
    pub payee: Payee,
    pub description: String,
    /// The receipt (kuitansi) it pays, of a request with many receipts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<String>,
    pub released_at: DateTime<Utc>,
    /// The office's day of the release (WIB): the earliest value date the bank's result may give.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released_on: Option<NaiveDate>,
    /// The village account to debit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debit_account: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_code: Option<String>,
    /// Who at the bank executed it, as the bank's result said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed_by: Option<String>,
}

impl TransferView {
    /// `receipt`: the receipt it pays, of a request with many (its payee is the transfer's).
    pub fn new(
        t: &crate::store::rows::TransferRow,
        p: &crate::store::rows::PaymentRow,
        receipt: Option<&crate::store::rows::ReceiptRow>,
        debit_account: Option<String>,
    ) -> Self {
        TransferView {
            id: t.id.clone(),
            payment_id: t.payment_id.clone(),
            village_id: t.village_id.clone(),
            attempt: t.attempt,
            amount: Amount(t.amount),
            status: t.status,
            payee: receipt.map_or_else(|| payee_of(p), receipt_payee),
            description: receipt.and_then(|r| r.description.clone()).unwrap_or_else(|| p.description.clone()),
            receipt_number: receipt.map(|r| r.number.clone()),
            released_at: utc(t.released_at),
            released_on: t.released_on,
            debit_account,
            bank_reference: t.bank_reference.clone(),
            value_date: t.value_date,
            reason: t.reason.clone(),
            billing_code: p.billing_code.clone(),
            executed_by: t.executed_by.clone(),
        }
    }
}

fn receipt_payee(r: &crate::store::rows::ReceiptRow) -> Payee {
    Payee {
        name: r.payee_name.clone(),
        bank_code: r.payee_bank_code.clone(),
        account_number: r.payee_account_number.clone(),
        npwp: r.payee_npwp.clone(),
    }
}

fn payee_of(p: &crate::store::rows::PaymentRow) -> Payee {
    Payee {
        name: p.payee_name.clone(),
        bank_code: p.payee_bank_code.clone(),
        account_number: p.payee_account_number.clone(),
        npwp: p.payee_npwp.clone(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptView {
    pub receipt_no: i32,
    /// Gap-free per village and year: `0012/KW/61.12.01.2001/2026`.
    pub number: String,
    pub payee: Payee,
    pub description: Option<String>,
    #[schema(value_type = String)]
    pub gross: Amount,
    #[schema(value_type = String)]
    pub withheld: Amount,
    #[schema(value_type = String)]
    pub net: Amount,
    pub status: crate::domain::settlement::ReceiptStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: PaymentId,
    /// Gap-free per village, fiscal year and kind: `0007/SPP/61.12.01.2001/2026` (`SSP` for a tax deposit).
    #[schema(example = "0007/SPP/61.12.01.2001/2026")]
    pub number: Option<String>,
    pub village_id: VillageId,
    /// `spp` (a payment request) or `tax_deposit`.
    pub kind: crate::domain::settlement::PaymentKind,
    pub fiscal_year: i32,
    pub status: crate::domain::workflow::PaymentStatus,
    pub activity_code: Option<String>,
    pub description: String,
    pub payee: Payee,
    pub invoice_number: Option<String>,
    pub invoice_date: Option<NaiveDate>,
    pub billing_code: Option<String>,
    pub lines: Vec<PaymentLineView>,
    #[schema(value_type = String)]
    pub gross: Amount,
    #[schema(value_type = String)]
    pub withheld: Amount,
    #[schema(value_type = String)]
    pub net: Amount,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub bank_reference: Option<String>,
    pub ntpn: Option<String>,
    pub transaction_id: Option<TransactionId>,
    pub failure_reason: Option<String>,
    pub events: Vec<EventView>,
    pub transfers: Vec<TransferView>,
    /// Of a request with many payees: each receipt with its payee, figures and status (empty for one payee).
    pub receipts: Vec<ReceiptView>,
}

impl From<&crate::store::rows::PaymentRecord> for PaymentView {
    fn from(r: &crate::store::rows::PaymentRecord) -> Self {
        let p = &r.payment;
        PaymentView {
            id: p.id.clone(),
            number: p.number.clone(),
            village_id: p.village_id.clone(),
            kind: p.kind,
            fiscal_year: p.fiscal_year,
            status: p.status,
            activity_code: p.activity_code.clone(),
            description: p.description.clone(),
            payee: payee_of(p),
            invoice_number: p.invoice_number.clone(),
            invoice_date: p.invoice_date,
            billing_code: p.billing_code.clone(),
            lines: r
                .lines
                .iter()
                .map(|l| PaymentLineView {
                    line_no: l.line_no,
                    account_code: l.account_code.clone(),
                    activity_code: l.activity_code.clone(),
                    source: l.source.clone(),
                    amount: Amount(l.amount),
                    withholdings: r
                        .withholdings
                        .iter()
                        .filter(|w| w.line_no == l.line_no)
                        .map(|w| WithholdingView { tax: w.tax.clone(), amount: Amount(w.amount) })
                        .collect(),
                    tax: (p.kind == crate::domain::settlement::PaymentKind::TaxDeposit)
                        .then(|| crate::domain::settlement::tax_of(&l.account_code))
                        .flatten(),
                    billing_code: l.billing_code.clone(),
                    ntpn: l.ntpn.clone(),
                })
                .collect(),
            gross: Amount(p.gross),
            withheld: Amount(p.withheld),
            net: Amount(p.net),
            created_by: p.created_by.clone(),
            created_at: utc(p.created_at),
            updated_at: utc(p.updated_at),
            bank_reference: p.bank_reference.clone(),
            ntpn: p.ntpn.clone(),
            transaction_id: p.transaction_id.clone(),
            failure_reason: p.failure_reason.clone(),
            events: r
                .events
                .iter()
                .map(|e| EventView {
                    id: e.id.clone(),
                    chain_seq: e.chain_seq,
                    action: e.action.clone(),
                    actor: e.actor.clone(),
                    actor_name: e.actor_name.clone(),
                    role: e.role,
                    from: e.from_status,
                    to: e.to_status,
                    at: utc(e.at),
                    note: e.note.clone(),
                    hash: e.hash.clone(),
                })
                .collect(),
            transfers: r
                .transfers
                .iter()
                .map(|t| TransferView::new(t, p, r.receipts.iter().find(|x| x.receipt_no == t.receipt_no), None))
                .collect(),
            receipts: r
                .receipts
                .iter()
                .map(|x| ReceiptView {
                    receipt_no: x.receipt_no,
                    number: x.number.clone(),
                    payee: receipt_payee(x),
                    description: x.description.clone(),
                    gross: Amount(x.gross),
                    withheld: Amount(x.withheld),
                    net: Amount(x.net),
                    status: x.status,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentPage {
    pub items: Vec<PaymentView>,
    pub next_cursor: Option<String>,
}

// ---- bank -------------------------------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct TransferPage {
    pub items: Vec<TransferView>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    Paid,
    Failed,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferResultRequest {
    pub status: ResultStatus,
    #[schema(example = "KALBAR-20261124-000123")]
    pub bank_reference: String,
    pub value_date: NaiveDate,
    /// Required when `failed`.
    pub reason: Option<String>,
    /// For a tax deposit of one tax: its NTPN (16 characters).
    pub ntpn: Option<String>,
    /// For a tax deposit: the NTPN of each tax, `{"PPN": "...", "PPH22": "..."}`. A `paid` deposit without the
    /// NTPN of every tax in it is `422 validation_failed`.
    pub ntpns: Option<std::collections::BTreeMap<String, String>>,
    /// Who at the bank executed the transfer (the bank's user: the village head in a CMS that asks for one); kept
    /// on the transfer and in the request's chained trail.
    #[schema(example = "H. Abdul Rahman (Kepala Desa)")]
    pub executed_by: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SettlementView {
    pub transfer: TransferView,
    pub payment_status: crate::domain::workflow::PaymentStatus,
    /// The disbursement (or tax deposit) posted on `paid`.
    pub transaction: Option<TransactionView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditRequest {
    pub village_id: String,
    #[schema(value_type = String, example = "285000000.00")]
    pub amount: AmountInput,
    /// DDS, ADD, PBH, PAD, PBP, PBK, SWD or DLL; anything else lands in suspense (2.1.9.99).
    #[schema(example = "DDS")]
    pub source: String,
    pub bank_reference: String,
    pub value_date: NaiveDate,
    #[schema(example = "Penyaluran Dana Desa tahap I")]
    pub description: String,
}

/// Up to 1,000 credits in one request (`POST /bank/credits/batch`): each is posted or refused alone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditBatchRequest {
    pub items: Vec<serde_json::Value>,
}

/// What became of one credit of a batch: `status` as `POST /bank/credits` would have answered it (201 posted; 404,
/// 409, 422 refused, with `code`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreditBatchResult {
    pub bank_reference: Option<String>,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CreditBatchAnswer {
    pub results: Vec<CreditBatchResult>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementLineRequest {
    pub bank_reference: String,
    pub value_date: NaiveDate,
    #[schema(value_type = String)]
    pub amount: AmountInput,
    pub direction: Side,
    /// The bank's balance after this line (signed, zero allowed); reconciliation compares it with the ledger.
    #[schema(value_type = Option<String>, example = "152500000.00")]
    pub balance: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankEntryRequest {
    pub kind: crate::domain::bank_entry::BankEntryKind,
    #[schema(value_type = String, example = "6500.00")]
    pub amount: AmountInput,
    pub bank_reference: String,
    pub value_date: NaiveDate,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankEntriesRequest {
    pub village_id: String,
    /// 1 to 1,000 lines.
    pub lines: Vec<BankEntryRequest>,
}

/// One line's outcome: `status` is what a single call would answer (`201` posted, `200` posted before under this
/// reference with the same figures, else the error's status with its `code`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BankEntryResult {
    pub bank_reference: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<TransactionId>,
    /// The account the entry was posted against besides the bank: 4.3.6.01, the chosen line's, or 2.1.9.99.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_code: Option<String>,
    /// True when a charge went to suspense (for the treasurer to clear).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspense: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspense_reason: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct BankEntriesAnswer {
    pub results: Vec<BankEntryResult>,
}

/// The budget line a kind of bank charge goes to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargeLineView {
    #[schema(example = "5.2.5.90")]
    pub account_code: String,
    #[schema(example = "01.01.04")]
    pub activity_code: String,
    #[schema(example = "ADD")]
    pub source: String,
}

/// Where the bank's charges go; `null` (or absent) for a kind: to suspense until a line is chosen.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BankEntryLinesView {
    #[serde(default)]
    pub interest_tax: Option<ChargeLineView>,
    #[serde(default)]
    pub admin_fee: Option<ChargeLineView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementRequest {
    pub village_id: String,
    pub lines: Vec<StatementLineRequest>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementReceipt {
    pub stored: usize,
    /// Lines received before with the same figures (ignored).
    pub duplicates: usize,
}
