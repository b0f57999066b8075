//! Login, bank client tokens, and administration: regencies, villages, users, bank clients.

use super::auth::{dummy_hash, hash_secret, random_token, verify_password, Claims, Principal};
use super::error::{ApiError, Problem};
use super::views::*;
use super::{blocking, load_village, Body, State};
use crate::domain::ids::VillageId;
use crate::domain::roles::Role;
use crate::domain::text::{Name, Password, Username};
use crate::store::rows::{BankClientRow, VillageRow};
use crate::store::{now_micros, VillageFilter};
use actix_web::{web, HttpRequest, HttpResponse};

fn token_response(state: &State, claims: Claims) -> Result<HttpResponse, ApiError> {
    let access_token = state.jwt.issue(claims)?;
    Ok(HttpResponse::Ok().json(TokenResponse { access_token, token_type: "Bearer", expires_in: state.jwt.ttl_secs }))
}

/// The caller's address as the socket sees it (a proxy's X-Forwarded-For is not trusted: it can be forged).
fn client_address(req: &HttpRequest) -> String {
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default()
}

fn bad_credentials() -> ApiError {
    ApiError::unauthorized("invalid username or password")
}

fn blank_claims(sub: String, role: Role, name: String) -> Claims {
    Claims {
        sub,
        role,
        village_id: None,
        regency_id: None,
        village_ids: None,
        name,
        exp: 0,
        iat: 0,
        nbf: 0,
        iss: String::new(),
        aud: String::new(),
        ver: 0,
        signed: false,
    }
}

/// End every session of the caller: their tokens (and console cookies) are refused from the next request on.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "every token of this user is ended"), (status = 401, body = Problem)))]
pub async fn logout(state: State, who: Principal) -> Result<HttpResponse, ApiError> {
    if who.role() == Role::Bank {
        return Err(ApiError::forbidden());
    }
    let db = state.db.clone();
    let id = who.id().to_string();
    blocking(move || db.end_sessions(&id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Log in with a username and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem, description = "unknown user or wrong password: the same answer")))]
pub async fn login(state: State, req: HttpRequest, body: Body<LoginRequest>) -> Result<HttpResponse, ApiError> {
    let LoginRequest { username, password } = body.value;
    // Usernames are kept in lower case (`domain::text::Username`): `Bendahara` signs in as `bendahara`.
    let username = username.trim().to_lowercase();
    let address = client_address(&req);
    super::guard::check(&state, &username, &address).await?;
    if username.len() > 64 || password.len() > 128 {
        super::guard::failed(&state, &username, &address).await?;
        return Err(bad_credentials());
    }
    let db = state.db.clone();
    let name = username.clone();
    let user = blocking(move || db.find_user(&name)).await?;
    // Verify against a dummy hash for unknown users, so timing does not reveal which usernames exist.
    let (hash, user) = match user {
        Some(u) if u.active => (u.password_hash.clone(), Some(u)),
        _ => (dummy_hash().to_string(), None),
    };
    let ok = web::block(move || verify_password(&password, &hash)).await?;
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => {
            super::guard::failed(&state, &username, &address).await?;
            return Err(bad_credentials());
        }
    };
    super::guard::succeeded(&state, &user.username, &address).await?;
    let role = user.role;
    let mut claims = blank_claims(user.id.into(), role, user.username);
    claims.village_id = user.village_id.map(String::from);
    claims.regency_id = user.regency_id;
    claims.ver = user.token_version;
    token_response(&state, claims)
}

/// Exchange a bank client's credentials for a token with role `bank`.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth", request_body = ClientTokenRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = Problem)))]
pub async fn client_token(
    state: State,
    req: HttpRequest,
    body: Body<ClientTokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let ClientTokenRequest { client_id, client_secret } = body.value;
    let address = client_address(&req);
    super::guard::check(&state, &client_id, &address).await?;
    if client_id.len() > 100 || client_secret.len() > 200 {
        super::guard::failed(&state, &client_id, &address).await?;
        return Err(ApiError::unauthorized("invalid client credentials"));
    }
    let db = state.db.clone();
    let id = client_id.clone();
    let found = blocking(move || db.find_bank_client(&id)).await?;
    let presented = hash_secret(&client_secret);
    let Some((client, villages)) =
        found.filter(|(c, _)| c.active && constant_time_eq(presented.as_bytes(), c.secret_hash.as_bytes()))
    else {
        super::guard::failed(&state, &client_id, &address).await?;
        return Err(ApiError::unauthorized("invalid client credentials"));
    };
    super::guard::succeeded(&state, &client.client_id, &address).await?;
    let mut claims = blank_claims(client.client_id, Role::Bank, client.name);
    claims.village_ids = Some(villages);
    claims.ver = client.token_version;
    claims.signed = client.public_key.is_some();
    token_response(&state, claims)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn code_field(name: &str, value: &str) -> Result<String, ApiError> {
    let v = value.trim();
    if v.is_empty() || v.len() > 32 || !v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)) {
        return Err(ApiError::validation(format!("{name} must be 1 to 32 letters, digits, '.', '_' or '-'")));
    }
    Ok(v.to_string())
}

/// Create a regency (admin).
#[utoipa::path(post, path = "/api/v1/regencies", tag = "administration", request_body = NewRegency,
    security(("bearer" = [])),
    responses((status = 201, body = RegencyView), (status = 409, body = Problem, description = "code exists")))]
pub async fn create_regency(state: State, who: Principal, body: Body<NewRegency>) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let code = code_field("code", &body.value.code)?;
    let name = Name::parse("name", &body.value.name)?.into_string();
    let offset = body.value.utc_offset_minutes.unwrap_or(420);
    if ![420, 480, 540].contains(&offset) {
        return Err(ApiError::validation("utc_offset_minutes must be 420 (WIB), 480 (WITA) or 540 (WIT)"));
    }
    let treasury = body.value.treasury.as_ref().map(parse_treasury).transpose()?;
    let db = state.db.clone();
    let row = blocking(move || db.create_regency(&code, &name, offset, treasury.as_ref())).await?;
    Ok(HttpResponse::Created().json(RegencyView::from(row)))
}

fn parse_treasury(t: &TreasuryAccount) -> Result<crate::store::Treasury, ApiError> {
    Ok(crate::store::Treasury {
        name: Name::parse("treasury.name", &t.name)?.into_string(),
        bank_code: crate::domain::text::BankCode::parse("treasury.bank_code", &t.bank_code)?.into_string(),
        account_number: crate::domain::text::AccountNumber::parse("treasury.account_number", &t.account_number)?
            .into_string(),
    })
}

/// Set or clear a regency's treasury account (admin): where its villages deposit regional tax.
#[utoipa::path(patch, path = "/api/v1/regencies/{id}", tag = "administration", request_body = RegencyUpdate,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = RegencyView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_regency(
    state: State,
    who: Principal,
    id: web::Path<String>,
    body: Body<RegencyUpdate>,
) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let u = body.value;
    let treasury = match &u.treasury {
        Some(t) => Some(t.as_ref().map(parse_treasury).transpose()?),
        None => None,
    };
    let limit = match &u.cash_payment_limit {
        Some(Some(a)) => Some(Some(a.money().map_err(|e| ApiError::amount("cash_payment_limit", e))?.sen())),
        Some(None) => Some(None),
        None => None,
    };
    let db = state.db.clone();
    let id = id.into_inner();
    let actor = who.id().to_string();
    let row = blocking(move || {
        let mut row = db.get_regency(&id)?.ok_or(crate::store::StoreError::NotFound("regency"))?;
        if let Some(t) = treasury {
            row = db.set_regency_treasury(&id, t.as_ref(), &actor)?;
        }
        if let Some(l) = limit {
            row = db.set_regency_cash_payment_limit(&id, l, &actor)?;
        }
        Ok(row)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RegencyView::from(row)))
}

/// Regencies: all for an administrator, one's own for an inspector.
#[utoipa::path(get, path = "/api/v1/regencies", tag = "administration", security(("bearer" = [])),
    responses((status = 200, body = Vec<RegencyView>)))]
pub async fn list_regencies(state: State, who: Principal) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let rows = match who.role() {
        Role::Admin => blocking(move || db.list_regencies()).await?,
        Role::Inspector => {
            let id = who.0.regency_id.clone().unwrap_or_default();
            blocking(move || db.get_regency(&id)).await?.into_iter().collect()
        }
        _ => return Err(ApiError::forbidden()),
    };
    Ok(HttpResponse::Ok().json(rows.into_iter().map(RegencyView::from).collect::<Vec<_>>()))
}

#[utoipa::path(get, path = "/api/v1/regencies/{id}", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = RegencyView), (status = 404, body = Problem)))]
pub async fn get_regency(state: State, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let visible = match who.role() {
        Role::Admin => true,
        Role::Inspector => who.0.regency_id.as_deref() == Some(id.as_str()),
        _ => false,
    };
    if !visible {
        return Err(ApiError::not_found());
    }
    let db = state.db.clone();
    let row = blocking(move || db.get_regency(&id)).await?.ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(RegencyView::from(row)))
}

/// Create a village and seed its standard chart of accounts (admin).
#[utoipa::path(post, path = "/api/v1/villages", tag = "administration", request_body = NewVillage,
    security(("bearer" = [])),
    responses((status = 201, body = VillageView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_village(state: State, who: Principal, body: Body<NewVillage>) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let v = body.value;
    let cash_limit = v.cash_limit.money().map_err(|e| ApiError::amount("cash_limit", e))?;
    let account = bank_account(&v.bank_account)?;
    let row = VillageRow {
        id: VillageId::new(),
        regency_id: v.regency_id.trim().to_string(),
        code: code_field("code", &v.code)?,
        name: Name::parse("name", &v.name)?.into_string(),
        bank_account: account,
        cash_limit: cash_limit.sen(),
        last_seq: 0,
        chain_len: 0,
        chain_head: crate::domain::chain::GENESIS.to_string(),
        created_at: now_micros(),
    };
    let db = state.db.clone();
    let actor = who.id().to_string();
    let row = blocking(move || db.create_village(row, &actor)).await?;
    Ok(HttpResponse::Created().json(VillageView::from(row)))
}

fn bank_account(a: &str) -> Result<String, ApiError> {
    let account = a.trim().to_string();
    if !(6..=20).contains(&account.len()) || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::validation("bank_account must be 6 to 20 digits"));
    }
    Ok(account)
}

/// Change a village's name, bank account or cash limit (admin). A lowered cash limit applies to postings from
/// now on; cash already above it is reported by the regency's anomalies.
#[utoipa::path(patch, path = "/api/v1/villages/{id}", tag = "administration", request_body = VillageUpdate,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = VillageView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_village(
    state: State,
    who: Principal,
    id: web::Path<String>,
    body: Body<VillageUpdate>,
) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let mut v = load_village(&state, &id).await?;
    let u = body.value;
    if let Some(name) = &u.name {
        v.name = Name::parse("name", name)?.into_string();
    }
    if let Some(account) = &u.bank_account {
        v.bank_account = bank_account(account)?;
    }
    if let Some(limit) = &u.cash_limit {
        v.cash_limit = limit.money().map_err(|e| ApiError::amount("cash_limit", e))?.sen();
    }
    let parse_name = |field: &str, n: &Option<Option<String>>| -> Result<Option<Option<String>>, ApiError> {
        Ok(match n {
            Some(Some(n)) => Some(Some(Name::parse(field, n)?.into_string())),
            Some(None) => Some(None),
            None => None,
        })
    };
    let officials = [
        ("head", parse_name("head_name", &u.head_name)?),
        ("treasurer", parse_name("treasurer_name", &u.treasurer_name)?),
    ];
    let db = state.db.clone();
    let actor = who.id().to_string();
    let row = blocking(move || {
        let row = db.update_village(&v, &actor)?;
        for (office, name) in &officials {
            if let Some(name) = name {
                db.set_village_official(&row.id, office, name.as_deref())?;
            }
        }
        Ok(row)
    })
    .await?;
    Ok(HttpResponse::Ok().json(VillageView::from(row)))
}

/// The villages in the caller's scope.
#[utoipa::path(get, path = "/api/v1/villages", tag = "administration", security(("bearer" = [])),
    responses((status = 200, body = Vec<VillageView>)))]
pub async fn list_villages(state: State, who: Principal) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let c = who.0.clone();
    let rows = blocking(move || match c.role {
        Role::Admin => db.list_villages(VillageFilter::All),
        Role::Inspector => db.list_villages(VillageFilter::Regency(c.regency_id.as_deref().unwrap_or(""))),
        Role::Bank => db.list_villages(VillageFilter::Ids(c.village_ids.as_deref().unwrap_or(&[]))),
        _ => db.list_villages(VillageFilter::Ids(&[c.village_id.clone().unwrap_or_default()])),
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(VillageView::from).collect::<Vec<_>>()))
}

#[utoipa::path(get, path = "/api/v1/villages/{id}", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = VillageView), (status = 404, body = Problem)))]
pub async fn get_village(state: State, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let v = load_village(&state, &id).await?;
    if !who.sees_village(&v) {
        return Err(ApiError::not_found());
    }
    Ok(HttpResponse::Ok().json(VillageView::from(v)))
}

/// Create a user (admin). Village roles need `village_id`, inspectors `regency_id`.
#[utoipa::path(post, path = "/api/v1/users", tag = "administration", request_body = NewUser,
    security(("bearer" = [])),
    responses((status = 201, body = UserView), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create_user(state: State, who: Principal, body: Body<NewUser>) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let u = body.value;
    let new = crate::users::NewUser {
        username: Username::parse("username", &u.username)?,
        password: Password::parse("password", &u.password)?,
        role: u.role,
        village_id: u.village_id,
        regency_id: u.regency_id,
    };
    let db = state.db.clone();
    let actor = who.id().to_string();
    let row = blocking(move || Ok(crate::users::create_user(&db, new, &actor))).await??;
    Ok(HttpResponse::Created().json(UserView::from(row)))
}

/// A new password for a user who lost theirs (admin): generated, shown once in the answer, for the administrator
/// to hand over; the old password and every current session of the user stop working at once.
#[utoipa::path(post, path = "/api/v1/users/{id}/password", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = PasswordReset), (status = 404, body = Problem)))]
pub async fn reset_password(state: State, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let password = random_token(12);
    let hash = crate::http::auth::hash_password(&password)?;
    let db = state.db.clone();
    let actor = who.id().to_string();
    let row = blocking(move || db.reset_password(&id, &hash, &actor)).await?;
    Ok(HttpResponse::Ok().json(PasswordReset { user: UserView::from(row), password }))
}

/// A user's new password, shown once.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct PasswordReset {
    pub user: UserView,
    pub password: String,
}

/// Change a user's role or scope, or deactivate them (admin). An acting village head (Plt.) is the village's
/// secretary given the head's role: separation of duties still keeps them from approving what they verified.
/// The change applies from the user's next login.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "administration", request_body = UserUpdate,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_user(
    state: State,
    who: Principal,
    id: web::Path<String>,
    body: Body<UserUpdate>,
) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let db = state.db.clone();
    let uid = id.clone();
    let mut user = blocking(move || db.get_user(&uid)).await?.ok_or_else(ApiError::not_found)?;
    let u = body.value;
    let role = u.role.unwrap_or(user.role);
    // A new role brings its own scope; otherwise the given fields replace the current ones.
    let rescoped = u.role.is_some() || u.village_id.is_some() || u.regency_id.is_some();
    let (village, regency) = if rescoped {
        (u.village_id, u.regency_id)
    } else {
        (user.village_id.as_deref().map(str::to_string), user.regency_id.clone())
    };
    let db = state.db.clone();
    let (v, r) = (village.clone(), regency.clone());
    blocking(move || Ok(crate::users::resolve_scope(&db, role, v.as_deref(), r.as_deref()))).await??;
    let (village_id, regency_id) = (village, regency);
    user.role = role;
    user.village_id = village_id.map(VillageId::from);
    user.regency_id = regency_id;
    if let Some(active) = u.active {
        user.active = active;
    }
    let db = state.db.clone();
    let actor = who.id().to_string();
    let row = blocking(move || db.update_user(&user, &actor)).await?;
    Ok(HttpResponse::Ok().json(UserView::from(row)))
}

/// Register a bank client for a set of villages (admin). The secret is shown once.
#[utoipa::path(post, path = "/api/v1/bank-clients", tag = "administration", request_body = NewBankClient,
    security(("bearer" = [])),
    responses((status = 201, body = BankClientCreated), (status = 422, body = Problem)))]
pub async fn create_bank_client(
    state: State,
    who: Principal,
    body: Body<NewBankClient>,
) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let b = body.value;
    let name = Name::parse("name", &b.name)?.into_string();
    let village_ids = village_list(&b.village_ids)?;
    let public_key = b.public_key.as_deref().map(public_key_field).transpose()?;
    let client_id = format!("bank_{}", random_token(12));
    let secret = random_token(32);
    let row = BankClientRow {
        id: uuid::Uuid::now_v7().to_string(),
        client_id: client_id.clone(),
        name: name.clone(),
        secret_hash: hash_secret(&secret),
        active: true,
        created_at: now_micros(),
        token_version: 0,
        public_key,
        webhook_url: b.webhook_url.as_deref().map(webhook_field).transpose()?,
    };
    let id = row.id.clone();
    let db = state.db.clone();
    let ids = village_ids.clone();
    let actor = who.id().to_string();
    blocking(move || db.create_bank_client(row, &ids, &actor)).await?;
    Ok(HttpResponse::Created().json(BankClientCreated { id, client_id, client_secret: secret, name, village_ids }))
}

/// A webhook URL: `https://…`, or `http://` to this machine only (a receiver beside the service, as in tests).
fn webhook_field(url: &str) -> Result<String, ApiError> {
    let url = url.trim();
    let local = ["http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://[::1]:"];
    let ok = url.len() <= 500
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
        && (url.starts_with("https://") || local.iter().any(|p| url.starts_with(p)));
    if !ok {
        return Err(ApiError::validation(
            "webhook_url must be an https:// URL (or http:// on 127.0.0.1), at most 500 characters",
        ));
    }
    Ok(url.to_string())
}

/// A bank client's public key, checked (RSA, at least 2048 bits) and kept as sent (trimmed).
fn public_key_field(pem: &str) -> Result<String, ApiError> {
    crate::domain::snap::parse_public_key(pem).map_err(ApiError::validation)?;
    Ok(pem.trim().to_string())
}

fn village_list(ids: &[String]) -> Result<Vec<String>, ApiError> {
    if ids.is_empty() || ids.len() > 10_000 {
        return Err(ApiError::validation("village_ids must list 1 to 10000 villages"));
    }
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Every bank client (admin), without secrets.
#[utoipa::path(get, path = "/api/v1/bank-clients", tag = "administration", security(("bearer" = [])),
    responses((status = 200, body = [BankClientView])))]
pub async fn list_bank_clients(state: State, who: Principal) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let db = state.db.clone();
    let rows = blocking(move || db.list_bank_clients()).await?;
    Ok(HttpResponse::Ok().json(rows.into_iter().map(BankClientView::from).collect::<Vec<_>>()))
}

/// Change a bank client (admin): rename, deactivate or reactivate, change its villages, register, rotate or remove its
/// public key. Its current tokens end at once (on every instance: the version is in the database).
#[utoipa::path(patch, path = "/api/v1/bank-clients/{id}", tag = "administration", request_body = BankClientUpdate,
    security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = BankClientView), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_bank_client(
    state: State,
    who: Principal,
    id: web::Path<String>,
    body: Body<BankClientUpdate>,
) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let b = body.value;
    let name = b.name.as_deref().map(|n| Name::parse("name", n)).transpose()?.map(|n| n.into_string());
    let villages = b.village_ids.as_deref().map(village_list).transpose()?;
    let key = match b.public_key {
        Some(Some(pem)) => Some(Some(public_key_field(&pem)?)),
        other => other,
    };
    let webhook_url = match b.webhook_url {
        Some(Some(url)) => Some(Some(webhook_field(&url)?)),
        other => other,
    };
    let change =
        crate::store::BankClientChange { name, active: b.active, village_ids: villages, public_key: key, webhook_url };
    let db = state.db.clone();
    let actor = who.id().to_string();
    let row = blocking(move || db.update_bank_client(&id, &change, &actor)).await?;
    Ok(HttpResponse::Ok().json(BankClientView::from(row)))
}

/// A new secret for a bank client (admin), shown once; the old secret and every current token stop working.
#[utoipa::path(post, path = "/api/v1/bank-clients/{id}/secret", tag = "administration", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = BankClientCreated), (status = 404, body = Problem)))]
pub async fn rotate_bank_secret(state: State, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    who.require_admin()?;
    let secret = random_token(32);
    let hash = hash_secret(&secret);
    let db = state.db.clone();
    let actor = who.id().to_string();
    let (row, village_ids) = blocking(move || db.rotate_bank_secret(&id, &hash, &actor)).await?;
    Ok(HttpResponse::Ok().json(BankClientCreated {
        id: row.id,
        client_id: row.client_id,
        client_secret: secret,
        name: row.name,
        village_ids,
    }))
}

/// The public key webhook deliveries are signed with (no token: it proves nothing by itself).
#[utoipa::path(get, path = "/api/v1/webhooks/key", tag = "bank", responses((status = 200, description = "the key")))]
pub async fn webhook_key(state: State) -> HttpResponse {
    use base64::Engine;
    let key = state.webhook_key.verifying();
    HttpResponse::Ok().json(serde_json::json!({
        "algorithm": "Ed25519",
        "key_id": state.webhook_key.key_id(),
        "public_key": base64::engine::general_purpose::STANDARD.encode(key.as_bytes()),
        "public_key_pem": crate::domain::anchor::public_key_pem(&key),
        "signed": "<X-Kasdesa-Timestamp>.<body>",
    }))
}

/// A bank client's webhook events, newest first, with every attempt (admin, or the client itself).
#[utoipa::path(get, path = "/api/v1/bank-clients/{id}/deliveries", tag = "bank", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, description = "events and attempts"), (status = 404, body = Problem)))]
pub async fn webhook_deliveries(state: State, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let cid = id.clone();
    let client = blocking(move || db.get_bank_client(&cid)).await?.ok_or_else(ApiError::not_found)?;
    let allowed = who.role() == Role::Admin || (who.role() == Role::Bank && who.id() == client.client_id);
    if !allowed {
        return Err(ApiError::not_found());
    }
    let db = state.db.clone();
    let rows = blocking(move || db.webhook_deliveries(&client.id, 200)).await?;
    let items: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|(e, attempts)| {
            serde_json::json!({
                "id": e.id, "event": e.event, "village_id": e.village_id, "transfer_id": e.transfer_id,
                "created_at": crate::domain::chain::canonical_time(e.created_at),
                "delivered_at": e.delivered_at.map(crate::domain::chain::canonical_time),
                "next_attempt_at": e.delivered_at.is_none().then(|| crate::domain::chain::canonical_time(e.next_attempt_at)),
                "attempts": attempts.iter().map(|a| serde_json::json!({
                    "attempt": a.attempt, "at": crate::domain::chain::canonical_time(a.at), "status": a.status, "error": a.error,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "items": items })))
}
