//! The web console: server-rendered pages for village officials and regency inspectors, served by `kasdesa serve`
//! under `/console`.
//!
//! - Pages are `maud` templates (compiled and HTML-escaped at compile time); the CSS and the few lines of JS are
//!   embedded with `include_str!`, so there is no build step and no CDN.
//! - A session is a signed, HttpOnly, SameSite=Strict cookie holding a token issued by the API's own signer
//!   (`state.jwt`), so the console and the API accept the same accounts with the same scopes. Every form carries a
//!   CSRF token derived from the session (synchronizer pattern, see `session`).
//! - Every write goes through the API's own handlers and store functions, so the console has exactly the API's
//!   rules; their error codes are turned into plain-language messages (`i18n`).
//! - Bahasa Indonesia by default, English with `?lang=en` (remembered in a cookie).

mod banks;
mod downloads;
mod i18n;
mod inspector;
mod layout;
mod officials;
mod session;
pub mod zone;

use crate::http::error::{ApiError, ErrorCode};
use crate::http::AppState;
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use i18n::Lang;
use maud::Markup;
use std::collections::HashMap;

pub use session::Session;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");
const FAVICON: &str = include_str!("assets/favicon.svg");

/// The Content-Security-Policy of every console page: nothing from elsewhere, no inline script or style.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
                       form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Registers the console's routes (before the API's problem+json default service answers anything else).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root))
        // Browsers ask for /favicon.ico on every cold load: answered instead of a 404.
        .route("/favicon.ico", web::get().to(favicon))
        .service(
            web::scope("/console")
                .route("", web::get().to(home))
                .route("/", web::get().to(home))
                .route("/assets/console.css", web::get().to(css))
                .route("/assets/console.js", web::get().to(js))
                .route("/assets/favicon.svg", web::get().to(favicon))
                .route("/login", web::get().to(session::login_page))
                .route("/login", web::post().to(session::login))
                .route("/logout", web::post().to(session::logout))
                .route("/inbox", web::get().to(officials::inbox))
                .route("/payments/new", web::get().to(officials::new_payment))
                .route("/payments", web::post().to(officials::create_payment))
                .route("/payments/{id}", web::get().to(officials::payment))
                .route("/payments/{id}/accountability", web::post().to(officials::account))
                .route("/payments/{id}/edit", web::get().to(officials::edit_payment))
                .route("/payments/{id}/edit", web::post().to(officials::save_edit))
                .route("/payments/{id}/{action}", web::post().to(officials::act))
                .route("/budget", web::get().to(officials::budget))
                .route("/budget/edit", web::get().to(officials::edit_budget))
                .route("/budget/edit", web::post().to(officials::save_budget))
                .route("/budget/adopt", web::post().to(officials::adopt_budget))
                .route("/books", web::get().to(officials::books))
                .route("/cash", web::get().to(officials::cash))
                .route("/cash", web::post().to(officials::record_cash))
                .route("/tax-deposits/new", web::get().to(officials::new_deposit))
                .route("/tax-deposits", web::post().to(officials::create_deposit))
                .route("/dashboard", web::get().to(inspector::dashboard))
                .route("/villages/{id}", web::get().to(inspector::village))
                .route("/download", web::get().to(downloads::download))
                .default_service(web::to(not_found)),
        );
}

async fn root() -> HttpResponse {
    redirect("/console")
}

/// `/console`: where each role starts.
async fn home(req: HttpRequest) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    let Some(s) = &ctx.session else { return session::to_login(&req) };
    use crate::domain::roles::Role;
    match s.principal.role() {
        r if r.is_village_role() => redirect("/console/inbox"),
        Role::Inspector => redirect("/console/dashboard"),
        _ => page(
            &ctx,
            StatusCode::OK,
            ctx.t("no_console"),
            layout::message(&ctx, ctx.t("no_console"), ctx.t("no_console_text")),
        ),
    }
}

async fn css() -> HttpResponse {
    asset(CSS, "text/css; charset=utf-8")
}

async fn favicon() -> HttpResponse {
    asset(FAVICON, "image/svg+xml")
}

async fn js() -> HttpResponse {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    let ctx = Ctx::from_request(&req);
    error_page(&ctx, StatusCode::NOT_FOUND, ctx.t("not_found_title"), ctx.t("not_found_text"))
}

/// What every page needs: the language, the session if there is one, and whether the connection is TLS.
pub struct Ctx {
    pub lang: Lang,
    /// Set when `?lang=` chose a language: the answer remembers it in a cookie.
    pub lang_chosen: bool,
    pub session: Option<Session>,
    pub secure: bool,
    /// The path and query of this request (for `next=` after login and the language links).
    pub here: String,
    pub query: HashMap<String, String>,
}

impl Ctx {
    pub fn from_request(req: &HttpRequest) -> Ctx {
        let query = parse_pairs(req.query_string()).into_iter().collect::<HashMap<_, _>>();
        let chosen = query.get("lang").and_then(|l| Lang::parse(l));
        let lang = chosen.or_else(|| session::cookie(req, "kd_lang").and_then(|l| Lang::parse(&l))).unwrap_or_default();
        let secure = req.connection_info().scheme() == "https";
        let state = req.app_data::<web::Data<AppState>>();
        let session = state.and_then(|s| Session::from_request(req, s));
        Ctx {
            lang,
            lang_chosen: chosen.is_some(),
            session,
            secure,
            here: match req.query_string() {
                "" => req.path().to_string(),
                q => format!("{}?{}", req.path(), q),
            },
            query,
        }
    }

    pub fn t(&self, key: &'static str) -> &'static str {
        i18n::t(self.lang, key)
    }

    pub fn q(&self, key: &str) -> Option<&str> {
        self.query.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }
}

/// Parses `a=1&b=2` (a query string or a urlencoded form body) into pairs; anything malformed gives nothing.
pub fn parse_pairs(s: &str) -> Vec<(String, String)> {
    web::Query::<Vec<(String, String)>>::from_query(s).map(|q| q.into_inner()).unwrap_or_default()
}

/// A submitted form: the first value of each name, and every value for repeated names.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(std::str::from_utf8(body).map(parse_pairs).unwrap_or_default())
    }
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }
    pub fn trimmed(&self, name: &str) -> &str {
        self.get(name).trim()
    }
    /// Every field, in the order sent.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
    /// The same form with `name` set to `value` (replacing what was sent, if anything).
    pub fn with(mut self, name: &str, value: &str) -> Form {
        self.0.retain(|(k, _)| k != name);
        self.0.push((name.to_string(), value.to_string()));
        self
    }
}

/// A percentage as the language writes it: `56,87 %` in Bahasa Indonesia, `56.87 %` in English.
pub fn percent_text(lang: Lang, p: rust_decimal::Decimal) -> String {
    let text = p.to_string();
    match lang {
        Lang::Id => format!("{} %", text.replace('.', ",")),
        Lang::En => format!("{text} %"),
    }
}

/// Percent-encodes everything but letters, digits, `-`, `_`, `.` and the bytes in `keep` (a path keeps `/`).
pub fn percent_encode(s: &str, keep: &[u8]) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            b if keep.contains(&b) => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A 303 to `to`; a target that is not a valid header value (a control character) goes to the console's start
/// instead of answering 500.
pub fn redirect(to: &str) -> HttpResponse {
    let to = if header::HeaderValue::from_str(to).is_ok() { to } else { "/console" };
    HttpResponse::SeeOther().insert_header((header::LOCATION, to)).finish()
}

/// An HTML page with the console's headers (CSP, language cookie when chosen).
pub fn page(ctx: &Ctx, status: StatusCode, title: &str, body: Markup) -> HttpResponse {
    html(ctx, status, layout::shell(ctx, title, body))
}

pub fn html(ctx: &Ctx, status: StatusCode, markup: Markup) -> HttpResponse {
    let mut r = HttpResponse::build(status);
    r.insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CONTENT_LANGUAGE, ctx.lang.code()));
    if ctx.lang_chosen {
        r.append_header((header::SET_COOKIE, session::lang_cookie(ctx)));
    }
    r.body(markup.into_string())
}

pub fn error_page(ctx: &Ctx, status: StatusCode, title: &str, text: &str) -> HttpResponse {
    page(ctx, status, title, layout::message(ctx, title, text))
}

/// The page for an error of the API's rules: the plain-language message, and the technical detail folded away.
pub fn api_error_page(ctx: &Ctx, e: &ApiError) -> HttpResponse {
    let status = e.problem().status;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    page(ctx, status, ctx.t("error_title"), layout::error_block(ctx, e))
}

/// Runs blocking store work off the async workers, with the API's error mapping.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    crate::http::blocking(f).await
}

/// A year from `?year=`, or the current one; a bad value falls back to the current year instead of failing.
pub fn year_param(ctx: &Ctx) -> i32 {
    use chrono::Datelike;
    let this = crate::http::ledger::today_wib().year();
    ctx.q("year").and_then(|y| y.trim().parse::<i32>().ok()).filter(|y| (2000..=this + 1).contains(y)).unwrap_or(this)
}

/// Rupiah with the language's separators: `Rp 1.234.567,00` or `Rp 1,234,567.00`.
/// The files a report downloads as, with their buttons' names: the CSV for machines, the CSV that an Excel set to
/// Indonesian opens as columns of numbers (`;`, decimal commas, a BOM), the workbook and the printable PDF.
pub const DOWNLOAD_FORMATS: [(&str, &str); 4] =
    [("csv", "CSV"), ("csv-excel", "CSV (Excel)"), ("xlsx", "XLSX"), ("pdf", "PDF")];

pub fn money(lang: Lang, sen: i64) -> String {
    let (thousands, decimal) = match lang {
        Lang::Id => ('.', ','),
        Lang::En => (',', '.'),
    };
    let abs = sen.unsigned_abs();
    let digits = (abs / 100).to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(thousands);
        }
        grouped.push(c);
    }
    let sign = if sen < 0 { "-" } else { "" };
    format!("{sign}Rp {grouped}{decimal}{:02}", abs % 100)
}

/// Reads an amount typed by a person into the API's format (`1500000.00`): accepts `1500000`, `1.500.000`,
/// `1.500.000,50` (Indonesian), `1,500,000.50` (English), with an optional `Rp` and spaces. `None` when it is not a
/// number at all; the API's own parser then judges range and decimals.
pub fn normalise_amount(input: &str) -> Option<String> {
    let s: String =
        input.trim().trim_start_matches("Rp").trim_start_matches("rp").chars().filter(|c| *c != ' ').collect();
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') {
        return None;
    }
    let thousands_groups = |t: &str, sep: char| {
        let mut parts = t.split(sep);
        let first = parts.next().unwrap_or("");
        !first.is_empty() && first.len() <= 3 && parts.clone().count() >= 1 && parts.all(|p| p.len() == 3)
    };
    let out = match (s.rfind(','), s.rfind('.')) {
        // Both: whichever comes last is the decimal mark.
        (Some(c), Some(d)) if c > d => format!("{}.{}", s[..c].replace('.', ""), &s[c + 1..]),
        (Some(_), Some(d)) => format!("{}.{}", s[..d].replace(',', ""), &s[d + 1..]),
        (Some(_), None) if thousands_groups(&s, ',') && s.matches(',').count() > 1 => s.replace(',', ""),
        (Some(c), None) => format!("{}.{}", &s[..c], &s[c + 1..]),
        (None, Some(_)) if thousands_groups(&s, '.') => s.replace('.', ""),
        _ => s,
    };
    if out.matches('.').count() > 1 || out.starts_with('.') || out.ends_with('.') {
        return None;
    }
    Some(out)
}

/// `true` when an error is one of the API's rule errors (shown on the form) rather than an outage.
pub fn is_rule_error(e: &ApiError) -> bool {
    !matches!(e.code, ErrorCode::Internal | ErrorCode::Unavailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_use_the_languages_decimal_mark() {
        let p = rust_decimal::Decimal::new(5687, 2);
        assert_eq!(percent_text(Lang::Id, p), "56,87 %");
        assert_eq!(percent_text(Lang::En, p), "56.87 %");
    }

    #[test]
    fn money_uses_the_languages_separators() {
        assert_eq!(money(Lang::Id, 123456789), "Rp 1.234.567,89");
        assert_eq!(money(Lang::En, 123456789), "Rp 1,234,567.89");
        assert_eq!(money(Lang::Id, 5), "Rp 0,05");
        assert_eq!(money(Lang::Id, -100000), "-Rp 1.000,00");
    }

    #[test]
    fn amounts_typed_by_people_are_read() {
        assert_eq!(normalise_amount("1500000").as_deref(), Some("1500000"));
        assert_eq!(normalise_amount("1.500.000").as_deref(), Some("1500000"));
        assert_eq!(normalise_amount("Rp 1.500.000,50").as_deref(), Some("1500000.50"));
        assert_eq!(normalise_amount("1,500,000.50").as_deref(), Some("1500000.50"));
        assert_eq!(normalise_amount("1500000.5").as_deref(), Some("1500000.5"));
        assert_eq!(normalise_amount("1500,5").as_deref(), Some("1500.5"));
        assert_eq!(normalise_amount("abc"), None);
        assert_eq!(normalise_amount(""), None);
        assert_eq!(normalise_amount("-5"), None);
        assert_eq!(normalise_amount("1.2.3,4.5"), None);
    }
}
