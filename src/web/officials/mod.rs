//! Pages of the village officials, one module per page family: the inbox of requests waiting for my step
//! (`inbox`), a request with its figures, budget lines, trail and the actions I may take (`payment`), a new request
//! (`drafting`), the budget with bars (`budget`), the treasurer's receipts and cash (`cash`) and tax deposits (`taxes`), and the balances with the cash book and downloads (`books`).

mod books;
mod budget;
mod cash;
mod drafting;
mod inbox;
mod payment;
mod taxes;

pub use books::{books, village_books};
pub use budget::{adopt_budget, budget, budget_table, edit_budget, save_budget};
pub use cash::{cash, record_cash};
pub use drafting::{create_payment, edit_payment, new_payment, save_edit};
pub use inbox::inbox;
pub use payment::{account, act, payment};
pub use taxes::{create_deposit, new_deposit};

use super::session::to_login;
use super::{api_error_page, error_page, Ctx};
use crate::http::auth::Principal;
use crate::http::{load_village, AppState};
use crate::store::rows::VillageRow;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};

type State = web::Data<AppState>;

/// The signed-in village official and their village, or the answer to give instead.
async fn official(req: &HttpRequest, ctx: &Ctx, state: &State) -> Result<(Principal, VillageRow), HttpResponse> {
    let Some(s) = &ctx.session else { return Err(to_login(req)) };
    if crate::web::session::session_ended(ctx, state).await {
        return Err(to_login(req));
    }
    let p = s.principal.clone();
    if !p.role().is_village_role() {
        return Err(error_page(ctx, StatusCode::FORBIDDEN, ctx.t("error_title"), ctx.t("forbidden_page")));
    }
    let id = p.0.village_id.clone().unwrap_or_default();
    match load_village(state, &id).await {
        Ok(v) => Ok((p, v)),
        Err(e) => Err(api_error_page(ctx, &e)),
    }
}
