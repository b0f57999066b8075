//! The OpenAPI document, generated from the handlers' annotations, and Swagger UI at `/docs` (assets vendored into
//! the binary, nothing downloaded at build or run time).

use super::error::{ErrorCode, Problem};
use super::views::*;
use super::{admin, anchors, bank, catalogue, ledger, ops, payments, reports, tax};
use crate::domain::accounts::Side;
use crate::domain::posting::TxnKind;
use crate::domain::roles::Role;
use crate::domain::workflow::PaymentStatus;
use crate::store::{ChainBreak, ChainReport, Shortfall};
use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(title = "kasdesa", description = "Village treasury ledger: double-entry ledger, non-cash payment approvals, regency audit, bank API. Money is a decimal string with at most two decimals; errors are application/problem+json with a stable `code`."),
    paths(
        admin::login, admin::logout, admin::client_token, admin::create_regency, admin::update_regency, admin::list_regencies, admin::get_regency,
        admin::create_village, admin::update_village, admin::list_villages, admin::get_village, admin::create_user, admin::update_user, admin::reset_password, admin::create_bank_client, admin::list_bank_clients, admin::update_bank_client, admin::rotate_bank_secret, admin::webhook_deliveries, admin::webhook_key,
        ledger::accounts, catalogue::accounts, catalogue::activities, catalogue::add_account, ledger::balances, ledger::create_transaction, ledger::list_transactions,
        ledger::get_transaction, ledger::reverse_transaction, ledger::fiscal_years, ledger::close_fiscal_year,
        ledger::verify_chain, anchors::verify_with, anchors::anchor_key, anchors::list, anchors::create, ops::live, ops::ready, ops::metrics,
        payments::put_budget, payments::get_budget, payments::adopt_budget, payments::revise_budget,
        payments::create_payment, payments::create_tax_deposit, payments::list_payments, payments::get_payment, payments::edit_payment,
        payments::submit, payments::verify, payments::return_, payments::approve, payments::reject, payments::release,
        payments::cancel, payments::pay_cash, payments::accountability, bank::list_transfers, bank::transfer_result, bank::credit, bank::credit_batch, bank::statements, bank::bank_entries, bank::get_bank_entry_lines, bank::put_bank_entry_lines, bank::clear_suspended_charge,
        reports::cash_book, reports::advances_book, reports::activities_book, reports::spp_register, reports::wealth, reports::bank_book, reports::tax_book, reports::realisation, reports::reconciliation,
        reports::trial_balance, reports::general_ledger, reports::payment_trail, reports::payment_document, reports::regency_realisation,
        reports::regency_anomalies, tax::calculate_tax,
    ),
    components(schemas(
        Problem, ErrorCode, Role, Side, TxnKind, tax::TaxQuery, tax::TaxLine, tax::TaxCalculation, LoginRequest, ClientTokenRequest, TokenResponse, NewRegency,
        RegencyView, TreasuryAccount, RegencyUpdate, NewVillage, VillageUpdate, VillageView, NewUser, UserUpdate, UserView, NewBankClient, BankClientCreated, BankClientUpdate, BankClientView, AccountView,
        BalancesView, EntryRequest, TransactionRequest, ReverseRequest, EntryView, TransactionView, TransactionPage,
        FiscalYearView, ChainReport, ChainBreak, BudgetLineRequest, BudgetRequest, BudgetLineView, BudgetVersionView,
        BudgetView, Payee, WithholdingRequest, PaymentLineRequest, PaymentRequest, TaxDepositLineRequest,
        TaxDepositRequest, TransitionRequest, WithholdingView, PaymentLineView, EventView, TransferView, PaymentView,
        PaymentPage, TransferPage, ResultStatus, TransferResultRequest, SettlementView, CreditRequest,
        CreditBatchRequest, CreditBatchResult, CreditBatchAnswer, StatementLineRequest, StatementRequest, StatementReceipt, Shortfall, PaymentStatus,
        anchors::AnchorKeyView, anchors::CheckpointFile, crate::domain::anchor::Checkpoint,
        crate::domain::anchor::AnchorReport, crate::domain::anchor::Divergence, crate::domain::anchor::CheckpointResult,
        crate::domain::anchor::Finding,
    )),
    modifiers(&BearerAuth, &NotJson),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Every operation that takes a body can answer `400 validation_failed` when the body is not JSON at all; one place
/// says so instead of every handler's annotation.
struct NotJson;

impl Modify for NotJson {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let response = ResponseBuilder::new()
            .description("validation_failed: the body is not JSON (a well-formed body that breaks a rule is 422)")
            .content(
                "application/problem+json",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build(),
            )
            .build();
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.post, &mut item.put, &mut item.patch].into_iter().flatten() {
                if op.request_body.is_some() {
                    op.responses.responses.entry("400".into()).or_insert_with(|| response.clone().into());
                }
            }
        }
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// `GET /docs`: the UI lives at `/docs/` (its assets are relative to that), so the bare path redirects there.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header((actix_web::http::header::LOCATION, "/docs/")).finish()
}

pub fn swagger_ui() -> SwaggerUi {
    // The document is served by the API route above; the UI only points at it.
    SwaggerUi::new("/docs/{_:.*}").url("/api/v1/openapi.json", document())
}
