//! The annex of Permendagri 20/2018 (`domain::catalogue`) for clients, and a village's own objek in the 90–99 slots.

use super::auth::Principal;
use super::error::{ApiError, Problem};
use super::views::AccountView;
use super::{blocking, load_village, Body, State};
use crate::domain::catalogue::{catalogue, is_own_account_slot, Item};
use crate::domain::roles::Role;
use crate::domain::text::Name;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

/// The revenue, spending and financing accounts of the annex, akun → kelompok → jenis → objek, in the annex's order.
#[utoipa::path(get, path = "/api/v1/catalogue/accounts", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = Vec<Item>), (status = 401, body = Problem)))]
pub async fn accounts(_who: Principal) -> HttpResponse {
    HttpResponse::Ok().json(&catalogue().accounts)
}

/// The activities of the annex, bidang → sub_bidang → kegiatan, in the annex's order. The annex's codes (`2.3.10`);
/// payments and budgets write them `02.03.10`.
#[utoipa::path(get, path = "/api/v1/catalogue/activities", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, body = Vec<Item>), (status = 401, body = Problem)))]
pub async fn activities(_who: Principal) -> HttpResponse {
    HttpResponse::Ok().json(&catalogue().activities)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// A 90–99 slot of an annex jenis that has a "lain-lain" slot, e.g. `4.1.1.91`.
    #[schema(example = "4.1.1.91")]
    pub code: String,
    #[schema(example = "Hasil Usaha Air Bersih Desa")]
    pub name: String,
}

/// Adds a village's own objek. Any code but a 90–99 slot of an annex jenis is `422 validation_failed`; a code the
/// chart already holds is `409 conflict`.
#[utoipa::path(post, path = "/api/v1/villages/{id}/accounts", tag = "ledger", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewAccount,
    responses((status = 201, body = AccountView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn add_account(
    state: State,
    who: Principal,
    id: web::Path<String>,
    body: Body<NewAccount>,
) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, &[Role::Treasurer, Role::Admin])?;
    let NewAccount { code, name } = body.value;
    if !is_own_account_slot(&code) {
        return Err(ApiError::validation(format!(
            "code {code} is not a 90-99 slot of an annex jenis with a lain-lain slot (e.g. 4.1.1.91)"
        )));
    }
    let name = Name::parse("name", &name)?.into_string();
    let db = state.db.clone();
    let row = blocking(move || db.add_account(&village.id, &code, &name)).await?;
    Ok(HttpResponse::Created().json(AccountView::new(&row, 0)))
}
