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
use super::{api_error_page, error_page, Ctx, Form};
use crate::domain::roles::Role;
use crate::http::auth::{random_token, Principal};
use crate::http::{load_village, AppState};
use crate::store::rows::VillageRow;
use crate::store::IdempotencyKey;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

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

/// [`official`], who must hold `role` (the API's rule for the page); anyone else is told `refusal`.
async fn official_as(
    req: &HttpRequest,
    ctx: &Ctx,
    state: &State,
    role: Role,
    refusal: &'static str,
) -> Result<(Principal, VillageRow), HttpResponse> {
    let (who, village) = official(req, ctx, state).await?;
    if who.role() != role {
        return Err(error_page(ctx, StatusCode::FORBIDDEN, ctx.t("error_title"), ctx.t(refusal)));
    }
    Ok((who, village))
}

/// A console form's idempotency key (sending the form twice makes one write), or a fresh one when it has none:
/// `prefix` and the form's `idem` (the console's keys are its own, within the one rule for keys). The request's hash
/// is `endpoint` and the form's content (every field but the CSRF token), so the same form sent again replays and a
/// changed one under the same key is a conflict, as in the API.
fn form_key(form: &Form, who: &Principal, prefix: &str, endpoint: &str) -> IdempotencyKey {
    let key = match crate::domain::text::IdemKey::parse("idem", &format!("{prefix}{}", form.trimmed("idem"))) {
        Ok(k) if !form.trimmed("idem").is_empty() => k.into_string(),
        _ => random_token(18),
    };
    let mut h = Sha256::new();
    h.update(format!("{endpoint}\n").as_bytes());
    for (name, value) in form.fields().filter(|(name, _)| *name != "csrf") {
        h.update(format!("{name}={}\n", value.trim()).as_bytes());
    }
    IdempotencyKey { principal: who.id().to_string(), key, request_hash: hex::encode(h.finalize()) }
}
