//! `POST /tax/calculate`: what a purchase bears in PPN and PPh, from the configured date-effective rates
//! (`domain::tax`), for the payment forms to propose withholdings.

use super::error::{ApiError, ErrorCode, Problem};
use super::{Body, State};
use crate::domain::money::{Amount, AmountInput};
use crate::domain::tax::{calculate, Purchase, PurchaseKind, Qualification, TaxError};
use crate::http::auth::Principal;
use actix_web::HttpResponse;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxQuery {
    /// The invoice's date: the rates in force on it apply.
    pub date: NaiveDate,
    pub kind: PurchaseKind,
    #[schema(value_type = String, example = "11100000.00")]
    pub amount: AmountInput,
    /// Whether `amount` includes PPN.
    pub includes_vat: bool,
    /// A VAT-registered vendor (PKP) charges PPN, which the village collects.
    pub vendor_vat_registered: bool,
    /// Without an NPWP, PPh 22 and 23 are doubled.
    pub vendor_has_npwp: bool,
    /// For construction: the contractor's certificate.
    pub contractor_qualification: Option<Qualification>,
    /// Fuel, electricity, gas, drinking water or postage: no PPh 22.
    #[serde(default)]
    pub exempt_goods: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaxLine {
    /// `PPN`, `PPH22`, `PPH23` or `PPH4_2`: the code a payment line's withholding takes.
    #[schema(example = "PPH22")]
    pub tax: &'static str,
    /// Percent.
    #[schema(example = "1.5")]
    pub rate: String,
    #[schema(value_type = String, example = "10000000.00")]
    pub base: Amount,
    #[schema(value_type = String, example = "150000.00")]
    pub amount: Amount,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaxCalculation {
    /// The price before PPN (DPP).
    #[schema(value_type = String, example = "10000000.00")]
    pub dpp: Amount,
    pub withholdings: Vec<TaxLine>,
    /// What the vendor is paid: the price with PPN less every tax.
    #[schema(value_type = String, example = "9850000.00")]
    pub net: Amount,
}

/// The taxes on a purchase: DPP, each tax with its rate and base, and the vendor's net. Every tax is rounded down
/// to the whole rupiah (the tax office's count).
#[utoipa::path(post, path = "/api/v1/tax/calculate", tag = "tax", request_body = TaxQuery, security(("bearer" = [])),
    responses((status = 200, body = TaxCalculation), (status = 422, body = Problem)))]
pub async fn calculate_tax(state: State, who: Principal, body: Body<TaxQuery>) -> Result<HttpResponse, ApiError> {
    let q = body.value;
    let amount = q.amount.money().map_err(|e| ApiError::amount("amount", e))?;
    let purchase = Purchase {
        date: q.date,
        kind: q.kind,
        amount,
        includes_vat: q.includes_vat,
        vendor_vat_registered: q.vendor_vat_registered,
        vendor_has_npwp: q.vendor_has_npwp,
        contractor_qualification: q.contractor_qualification,
        exempt_goods: q.exempt_goods,
        regency: caller_regency(&state, &who).await?,
    };
    let c = calculate(&state.settings.tax, &purchase).map_err(|e| match e {
        TaxError::Overflow => ApiError::new(ErrorCode::InvalidAmount, e.to_string()),
        _ => ApiError::validation(e.to_string()),
    })?;
    Ok(HttpResponse::Ok().json(TaxCalculation {
        dpp: Amount(c.dpp),
        withholdings: c
            .withholdings
            .iter()
            .map(|w| TaxLine {
                tax: w.tax,
                rate: w.rate.normalize().to_string(),
                base: Amount(w.base),
                amount: Amount(w.amount),
            })
            .collect(),
        net: Amount(c.net),
    }))
}

/// The code of the caller's regency (a village's, or an inspector's), for the regency's own rates.
async fn caller_regency(state: &State, who: &Principal) -> Result<Option<String>, ApiError> {
    let db = state.db.clone();
    let (village, regency) = (who.0.village_id.clone(), who.0.regency_id.clone());
    super::blocking(move || {
        let rid = match (village, regency) {
            (Some(v), _) => db.get_village(&v)?.map(|v| v.regency_id),
            (None, r) => r,
        };
        Ok(match rid {
            Some(r) => db.get_regency(&r)?.map(|r| r.code),
            None => None,
        })
    })
    .await
}
