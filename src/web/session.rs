//! Console sessions: login, logout, the session cookie and CSRF tokens.
//!
//! The session cookie holds a token signed by the API's signer (`state.jwt`, HS256, the configured lifetime), so
//! it cannot be forged or altered and it expires like an API token. It is `HttpOnly` (no script reads it),
//! `SameSite=Strict` (no other site's page sends it), `Path=/console`, and `Secure` when the request came over TLS.
//!
//! CSRF: every form carries a token equal to SHA-256 of a fixed label and the session's token. Only someone who
//! holds the cookie can compute it, and no other origin can read the cookie or the pages. The login form, before
//! there is a session, uses a double-submit token in a short-lived cookie of its own.

use super::{layout, page, redirect, Ctx, Form};
use crate::domain::roles::Role;
use crate::http::auth::{dummy_hash, random_token, verify_password, Claims, Principal};
use crate::http::error::ApiError;
use crate::http::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use maud::html;
use sha2::{Digest, Sha256};

pub const SESSION_COOKIE: &str = "kd_session";
const LOGIN_COOKIE: &str = "kd_login";
const LANG_COOKIE: &str = "kd_lang";

/// The signed-in official or inspector.
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
}

impl Session {
    pub fn from_request(req: &HttpRequest, state: &AppState) -> Option<Session> {
        let token = cookie(req, SESSION_COOKIE)?;
        let claims = state.jwt.validate(&token).ok()?;
        // Bank clients use the API only.
        if claims.role == Role::Bank {
            return None;
        }
        Some(Session { principal: Principal(claims), csrf: csrf_for(&token) })
    }

    /// Whether a submitted form's token is this session's (compared in constant time).
    pub fn csrf_ok(&self, form: &Form) -> bool {
        constant_time_eq(form.get("csrf").as_bytes(), self.csrf.as_bytes())
    }

    pub fn name(&self) -> &str {
        &self.principal.0.name
    }
}

fn csrf_for(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"kasdesa-console-csrf\n");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of a cookie of the request (parsed from the `Cookie` header).
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

fn set_cookie(ctx: &Ctx, name: &str, value: &str, path: &str, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if ctx.secure {
        c.push_str("; Secure");
    }
    c
}

pub fn lang_cookie(ctx: &Ctx) -> String {
    set_cookie(ctx, LANG_COOKIE, ctx.lang.code(), "/", Some(365 * 24 * 3600))
}

/// Where a request without a session goes: the login page, coming back here afterwards.
pub fn to_login(req: &HttpRequest) -> HttpResponse {
    let here = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{}", req.path(), q),
    };
    // A form's post cannot be gone back to with a GET: back to the page that holds the form (which the browser
    // refills from what it kept, console.js), not to a "page not found".
    let here = if req.method() == actix_web::http::Method::POST { page_of_post(req.path()) } else { here };
    let next: String = crate::web::percent_encode(&here, b"/");
    redirect(&format!("/console/login?next={next}"))
}

/// The page whose form posts to `path`: the drafting form for a new request, the request's page for its actions
/// and its SPJ.
fn page_of_post(path: &str) -> String {
    if path == "/console/payments" {
        return "/console/payments/new".into();
    }
    if let Some(rest) = path.strip_prefix("/console/payments/") {
        if let Some((id, _action)) = rest.split_once('/') {
            return format!("/console/payments/{id}");
        }
    }
    "/console".into()
}

/// Only a path inside the console is a place to go back to (no other host, no scheme).
fn safe_next(next: &str) -> &str {
    // No control characters either: a CR/LF would split the Location header (and answer 500).
    if next.starts_with("/console")
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.contains("://")
        && !next.chars().any(char::is_control)
    {
        next
    } else {
        "/console"
    }
}

pub async fn login_page(req: HttpRequest) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    if ctx.session.is_some() {
        return redirect("/console");
    }
    let notice = ctx.q("bye").map(|_| ctx.t("logged_out"));
    login_form(&ctx, StatusCode::OK, ctx.q("next").unwrap_or("/console"), "", None, notice)
}

fn login_form(
    ctx: &Ctx,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<&str>,
    notice: Option<&str>,
) -> HttpResponse {
    let token = random_token(24);
    let body = html! {
        section.card.narrow {
            h1 { (ctx.t("login_title")) }
            p { (ctx.t("login_intro")) }
            @if let Some(n) = notice { p.notice role="status" { (n) } }
            @if let Some(e) = error { div.alert role="alert" { p { (e) } } }
            form method="post" action="/console/login" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(safe_next(next));
                p {
                    label for="username" { (ctx.t("username")) }
                    input #username type="text" name="username" value=(username) required autocomplete="username"
                        autocapitalize="none" maxlength="64" autofocus;
                }
                p {
                    label for="password" { (ctx.t("password")) }
                    input #password type="password" name="password" required autocomplete="current-password"
                        maxlength="128";
                }
                p { button.primary type="submit" { (ctx.t("login")) } }
            }
            details #forgot {
                summary { (ctx.t("forgot_password")) }
                p { (ctx.t("forgot_password_text")) }
            }
        }
    };
    let mut resp = page(ctx, status, ctx.t("login_title"), body);
    if let Ok(v) = header::HeaderValue::from_str(&set_cookie(ctx, LOGIN_COOKIE, &token, "/console/login", Some(1800))) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

pub async fn login(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let form = Form::parse(&body);
    let next = safe_next(form.get("next")).to_string();
    let username = form.trimmed("username").to_string();
    let password = form.get("password").to_string();
    // Double-submit: the form's token must match the cookie set with the form.
    let expected = cookie(&req, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.get("csrf").as_bytes()) {
        return login_form(&ctx, StatusCode::FORBIDDEN, &next, &username, Some(ctx.t("csrf_login")), None);
    }
    if username.is_empty() || password.is_empty() {
        return login_form(
            &ctx,
            StatusCode::UNPROCESSABLE_ENTITY,
            &next,
            &username,
            Some(ctx.t("login_missing")),
            None,
        );
    }
    let address = req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    match crate::http::guard::wait_secs(&state, &username, &address).await {
        Ok(0) => {}
        Ok(secs) => {
            let msg = ctx.t("login_wait").replace("{n}", &wait_words(&ctx, secs));
            let mut page = login_form(&ctx, StatusCode::TOO_MANY_REQUESTS, &next, &username, Some(&msg), None);
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&secs.to_string()) {
                page.headers_mut().insert(actix_web::http::header::RETRY_AFTER, v);
            }
            return page;
        }
        Err(e) => return super::api_error_page(&ctx, &e),
    }
    let bad = async |ctx: &Ctx| {
        // From the third failure on, say how many are left before attempts from here must wait.
        let left = crate::http::guard::failed(&state, &username, &address).await.ok().flatten();
        let msg = match left {
            Some(n) if n <= crate::domain::throttle::FREE_PER_PAIR - 3 => {
                format!("{} {}", ctx.t("login_bad"), ctx.t("login_warn").replace("{n}", &n.to_string()))
            }
            _ => ctx.t("login_bad").to_string(),
        };
        login_form(ctx, StatusCode::UNAUTHORIZED, &next, &username, Some(&msg), None)
    };
    if username.len() > 64 || password.len() > 128 {
        return bad(&ctx).await;
    }
    let db = state.db.clone();
    // Usernames are kept in lower case (`domain::text::Username`): `Bendahara` signs in as `bendahara`.
    let name = username.to_lowercase();
    let user = match super::blocking(move || db.find_user(&name)).await {
        Ok(u) => u,
        Err(e) => return super::api_error_page(&ctx, &e),
    };
    // As the API does: verify against a dummy hash for unknown users, so timing reveals nothing.
    let (hash, user) = match user {
        Some(u) if u.active => (u.password_hash.clone(), Some(u)),
        _ => (dummy_hash().to_string(), None),
    };
    let ok = web::block(move || verify_password(&password, &hash)).await.unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else { return bad(&ctx).await };
    if let Err(e) = crate::http::guard::succeeded(&state, &user.username, &address).await {
        return super::api_error_page(&ctx, &e);
    }
    let role = user.role;
    match issue_session(&state, user, role) {
        Ok(token) => signed_in(&ctx, &next, &token),
        Err(e) => super::api_error_page(&ctx, &e),
    }
}

/// A session token for a user who signed in, from the API's signer (so it is an API token too).
/// The wait in words: "12 detik", "3 menit".
fn wait_words(ctx: &Ctx, secs: i64) -> String {
    if secs < 120 {
        ctx.t("unit_seconds").replace("{n}", &secs.to_string())
    } else {
        ctx.t("unit_minutes").replace("{n}", &((secs + 59) / 60).to_string())
    }
}

fn issue_session(state: &AppState, user: crate::store::rows::UserRow, role: Role) -> Result<String, ApiError> {
    state.jwt.issue(Claims {
        sub: user.id.into(),
        role,
        village_id: user.village_id.map(String::from),
        regency_id: user.regency_id,
        village_ids: None,
        name: user.username,
        exp: 0,
        iat: 0,
        nbf: 0,
        iss: String::new(),
        aud: String::new(),
        ver: user.token_version,
        signed: false,
    })
}

/// The answer to a successful login: the session cookie set, the login form's cookie cleared, on to `next`.
fn signed_in(ctx: &Ctx, next: &str, token: &str) -> HttpResponse {
    let mut resp = redirect(next);
    for c in [
        set_cookie(ctx, SESSION_COOKIE, token, "/console", None),
        set_cookie(ctx, LOGIN_COOKIE, "", "/console/login", Some(0)),
    ] {
        if let Ok(v) = header::HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

pub async fn logout(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let form = Form::parse(&body);
    match &ctx.session {
        Some(s) if !s.csrf_ok(&form) => return csrf_refused(&ctx),
        // Signing out ends the session everywhere: the cookie's token is refused even if it was copied.
        Some(s) => {
            let db = state.db.clone();
            let id = s.principal.0.sub.clone();
            if let Err(e) = super::blocking(move || db.end_sessions(&id)).await {
                return super::api_error_page(&ctx, &e);
            }
        }
        None => {}
    }
    let mut resp = redirect("/console/login?bye=1");
    if let Ok(v) = header::HeaderValue::from_str(&set_cookie(&ctx, SESSION_COOKIE, "", "/console", Some(0))) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// Whether the request's session cookie belongs to a session that has ended: signed out, or the account was
/// deactivated, moved or given another role since (the same check as the API's, `http::auth::still_current`).
pub async fn session_ended(ctx: &Ctx, state: &web::Data<AppState>) -> bool {
    match &ctx.session {
        Some(s) => crate::http::auth::still_current(state, &s.principal.0).await.is_err(),
        None => false,
    }
}

/// The answer to a form whose CSRF token is missing or wrong: nothing is done.
pub fn csrf_refused(ctx: &Ctx) -> HttpResponse {
    page(ctx, StatusCode::FORBIDDEN, ctx.t("csrf_title"), layout::message(ctx, ctx.t("csrf_title"), ctx.t("csrf_text")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_inside_the_console() {
        assert_eq!(safe_next("/console/payments/1"), "/console/payments/1");
        assert_eq!(safe_next("https://evil.example/console"), "/console");
        assert_eq!(safe_next("//evil.example"), "/console");
        assert_eq!(safe_next("/api/v1/regencies"), "/console");
        assert_eq!(safe_next("/console\r\nSet-Cookie: kd_session=x"), "/console", "a CR/LF would split the header");
        assert_eq!(safe_next("/console/inbox\u{0}"), "/console");
    }

    #[test]
    fn cookies_are_read_from_the_header() {
        let req = actix_web::test::TestRequest::default()
            .insert_header((header::COOKIE, "a=1; kd_session=tok.en.sig; kd_lang=en"))
            .to_http_request();
        assert_eq!(cookie(&req, "kd_session").as_deref(), Some("tok.en.sig"));
        assert_eq!(cookie(&req, "kd_lang").as_deref(), Some("en"));
        assert_eq!(cookie(&req, "missing"), None);
    }

    #[test]
    fn csrf_depends_on_the_session() {
        assert_ne!(csrf_for("a"), csrf_for("b"));
        assert_eq!(csrf_for("a").len(), 64);
    }
}
