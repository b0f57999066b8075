//! Spawns the real application on a random port with its own database, and talks to it over HTTP with real tokens.
//! The backend is SQLite (a temp file) unless KASDESA_TEST_DATABASE_URL points at a PostgreSQL server, in which case
//! each test creates (and drops) a database of its own there.
//!
//! The app logs nothing unless TEST_LOG is set (to anything but `0`): then its logs, filtered by RUST_LOG (default
//! `info`), go to the test's output, which cargo shows for a failing test or with `--nocapture`. Every line logged
//! while answering carries the request's id (`x-request-id`), e.g.
//! `TEST_LOG=1 RUST_LOG=kasdesa=debug cargo test --test api ledger -- --nocapture` shows one line per request.

use diesel::{Connection, PgConnection, RunQueryDsl};
use kasdesa::config::Settings;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const ADMIN_PASSWORD: &str = "admin-password-123";
pub const PASSWORD: &str = "village-password-123";

pub fn pg_base_url() -> Option<String> {
    std::env::var("KASDESA_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// The office's day in the tests (`Settings::clock`): they replay a village year 2026 whose bank answers carry dates
/// from January to June, so the office acts on 2 January 2026 unless a test moves its day (`app.clock.set_day`).
pub const OFFICE_DAY: (i32, u32, u32) = (2026, 1, 2);

pub struct TestApp {
    pub base: String,
    /// The app's office calendar (shared with a second instance): a test moves the day the officials act on.
    pub clock: kasdesa::clock::Clock,
    pub client: reqwest::Client,
    pub admin_token: String,
    pub database_url: String,
    pub data_dir: tempfile::TempDir,
    pg_cleanup: Option<(String, String)>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((base, name)) = self.pg_cleanup.take() {
            if let Ok(mut c) = PgConnection::establish(&base) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut c);
            }
        }
    }
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (without_query, query) = match url.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (url, None),
    };
    let slash = without_query.rfind('/').expect("a postgres URL has a path");
    let mut out = format!("{}/{}", &without_query[..slash], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A fresh, empty database URL for one test.
pub fn fresh_database(dir: &std::path::Path) -> (String, Option<(String, String)>) {
    match pg_base_url() {
        Some(base) => {
            let name = format!("kasdesa_t_{}", uuid::Uuid::new_v4().simple());
            let mut c = PgConnection::establish(&base).expect("connect to the PostgreSQL test server");
            diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut c).expect("create a test database");
            (replace_db_name(&base, &name), Some((base, name)))
        }
        None => (format!("sqlite://{}", dir.join("kasdesa.db").display()), None),
    }
}

/// With TEST_LOG set, one subscriber for the whole test binary, writing through the test harness's capture.
fn init_test_log() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var("TEST_LOG").is_ok_and(|v| !v.is_empty() && v != "0") {
            let filter = tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
        }
    });
}

/// A second instance of the service on `app`'s database and signing key (as behind a load balancer): the base URL
/// of its own server. It stops with the test's runtime.
pub async fn spawn_second_instance(app: &TestApp) -> String {
    let settings = Settings {
        data_dir: app.data_dir.path().to_path_buf(),
        bind: "127.0.0.1:0".into(),
        database_url: app.database_url.clone(),
        pool_size: 4,
        workers: 1,
        clock: app.clock.clone(),
        ..Settings::default()
    };
    let state = kasdesa::app::build_state(settings).expect("the second instance's state builds");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a random port");
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(kasdesa::app::run(listener, state).expect("the second instance starts"));
    format!("http://127.0.0.1:{port}")
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like `spawn_app`, with the settings adjusted first (e.g. a database URL through a fault-injecting proxy).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    init_test_log();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (database_url, pg_cleanup) = fresh_database(data_dir.path());
    let mut settings = Settings {
        data_dir: data_dir.path().to_path_buf(),
        bind: "127.0.0.1:0".into(),
        database_url: database_url.clone(),
        pool_size: 8,
        workers: 2,
        admin_password: Some(ADMIN_PASSWORD.into()),
        ..Settings::default()
    };
    let (y, m, d) = OFFICE_DAY;
    settings.clock.set_day(chrono::NaiveDate::from_ymd_opt(y, m, d)).expect("the office's day is in the past");
    adjust(&mut settings);
    let clock = settings.clock.clone();
    let state = kasdesa::app::build_state(settings).expect("state builds");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a random port");
    let port = listener.local_addr().unwrap().port();
    let server = kasdesa::app::run(listener, state).expect("server starts");
    tokio::spawn(server);
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build().unwrap();
    let mut app = TestApp {
        base: format!("http://127.0.0.1:{port}"),
        clock,
        client,
        admin_token: String::new(),
        database_url,
        data_dir,
        pg_cleanup,
    };
    app.admin_token = app.login("admin", ADMIN_PASSWORD).await;
    app
}

/// One HTTP answer: status, headers and the JSON body (Null when there is none).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// Asserts a problem+json error with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.code(), code, "body: {}", self.body);
        let ct = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
        assert_eq!(ct, "application/problem+json");
        assert_eq!(self.body["status"].as_u64(), Some(u64::from(status)));
        assert!(self.body["title"].is_string() && self.body["detail"].is_string() && self.body["type"].is_string());
    }

    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        &self.body
    }
}

pub struct Req<'a> {
    app: &'a TestApp,
    builder: reqwest::RequestBuilder,
}

impl<'a> Req<'a> {
    pub fn token(mut self, token: &str) -> Self {
        self.builder = self.builder.bearer_auth(token);
        self
    }
    pub fn key(mut self, key: &str) -> Self {
        self.builder = self.builder.header("Idempotency-Key", key);
        self
    }
    pub fn json(mut self, body: &Value) -> Self {
        self.builder = self.builder.json(body);
        self
    }
    pub fn raw(mut self, body: impl Into<reqwest::Body>, content_type: &str) -> Self {
        self.builder = self.builder.header("content-type", content_type).body(body);
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.builder = self.builder.header(name, value);
        self
    }
    pub async fn send(self) -> Resp {
        let _ = self.app;
        let r = self.builder.send().await.expect("the server answers");
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body =
            serde_json::from_str(&text).unwrap_or(if text.is_empty() { Value::Null } else { Value::String(text) });
        Resp { status, headers, body }
    }
}

pub struct Village {
    pub id: String,
    pub code: String,
    pub regency_id: String,
    pub treasurer: String,
    pub head: String,
    pub secretary: String,
    pub implementer: String,
    /// The village's chain length once set up: its first facts (the village, its regency, its four officials)
    /// come before any transaction.
    pub base: i64,
}

impl TestApp {
    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        let url = if path.starts_with('/') { format!("{}{}", self.base, path) } else { path.to_string() };
        Req { app: self, builder: self.client.request(method, url) }
    }
    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let r = self.post("/api/v1/auth/login").json(&json!({"username": username, "password": password})).send().await;
        r.assert_status(200)["access_token"].as_str().expect("a token").to_string()
    }

    pub async fn create_regency(&self, code: &str) -> String {
        let r = self
            .post("/api/v1/regencies")
            .token(&self.admin_token)
            .json(&json!({"code": code, "name": format!("Kabupaten {code}")}))
            .send()
            .await;
        r.assert_status(201)["id"].as_str().unwrap().to_string()
    }

    pub async fn create_user(&self, username: &str, role: &str, village: Option<&str>, regency: Option<&str>) {
        let mut body = json!({"username": username, "password": PASSWORD, "role": role});
        if let Some(v) = village {
            body["village_id"] = json!(v);
        }
        if let Some(r) = regency {
            body["regency_id"] = json!(r);
        }
        self.post("/api/v1/users").token(&self.admin_token).json(&body).send().await.assert_status(201);
    }

    /// A village with its four officials logged in. `cash_limit` in rupiah, as the API's decimal string.
    pub async fn create_village(&self, regency_id: &str, code: &str, cash_limit: &str) -> Village {
        let r = self
            .post("/api/v1/villages")
            .token(&self.admin_token)
            .json(&json!({"code": code, "name": format!("Desa {code}"), "regency_id": regency_id,
                          "bank_account": "1012345678", "cash_limit": cash_limit}))
            .send()
            .await;
        let id = r.assert_status(201)["id"].as_str().unwrap().to_string();
        let slug = code.to_lowercase().replace(['.', ' '], "-");
        let mut tokens = Vec::new();
        for role in ["treasurer", "head", "secretary", "implementer"] {
            let username = format!("{role}-{slug}");
            self.create_user(&username, role, Some(&id), None).await;
            tokens.push(self.login(&username, PASSWORD).await);
        }
        let report = self.get(&format!("/api/v1/villages/{id}/audit/verify")).token(&tokens[0]).send().await;
        let base = report.assert_status(200)["checked"].as_i64().unwrap();
        Village {
            base,
            id,
            code: code.to_string(),
            regency_id: regency_id.to_string(),
            treasurer: tokens[0].clone(),
            head: tokens[1].clone(),
            secretary: tokens[2].clone(),
            implementer: tokens[3].clone(),
        }
    }

    pub async fn inspector(&self, regency_id: &str, username: &str) -> String {
        self.create_user(username, "inspector", None, Some(regency_id)).await;
        self.login(username, PASSWORD).await
    }

    /// A bank client for these villages, logged in.
    pub async fn bank(&self, village_ids: &[&str]) -> String {
        let r = self
            .post("/api/v1/bank-clients")
            .token(&self.admin_token)
            .json(&json!({"name": "Bank Kalbar", "village_ids": village_ids}))
            .send()
            .await;
        let b = r.assert_status(201);
        let (id, secret) = (b["client_id"].as_str().unwrap(), b["client_secret"].as_str().unwrap());
        let t = self.post("/api/v1/auth/token").json(&json!({"client_id": id, "client_secret": secret})).send().await;
        t.assert_status(200)["access_token"].as_str().unwrap().to_string()
    }

    /// Posts a manual transaction as the treasurer, with a fresh idempotency key.
    pub async fn post_txn(&self, v: &Village, body: &Value) -> Resp {
        self.post(&format!("/api/v1/villages/{}/transactions", v.id))
            .token(&v.treasurer)
            .key(&uuid::Uuid::new_v4().to_string())
            .json(body)
            .send()
            .await
    }

    pub async fn balance(&self, v: &Village, code: &str) -> String {
        let r = self.get(&format!("/api/v1/villages/{}/accounts", v.id)).token(&v.treasurer).send().await;
        let accounts = r.assert_status(200).as_array().unwrap().clone();
        accounts.iter().find(|a| a["code"] == code).expect("account in chart")["balance"].as_str().unwrap().to_string()
    }

    pub async fn verify(&self, v: &Village) -> Value {
        self.get(&format!("/api/v1/villages/{}/audit/verify", v.id))
            .token(&v.treasurer)
            .send()
            .await
            .assert_status(200)
            .clone()
    }
}

/// A receipt into the bank account, credited to a revenue account.
pub fn receipt(amount: &str, revenue: &str) -> Value {
    json!({
        "kind": "receipt", "value_date": "2026-03-02", "description": "Penerimaan",
        "entries": [
            {"account_code": "1.1.1.02", "side": "debit", "amount": amount},
            {"account_code": revenue, "side": "credit", "amount": amount, "source": "PAD"}
        ]
    })
}

/// A withdrawal of cash from the bank into cash in hand.
pub fn withdrawal(amount: &str) -> Value {
    json!({
        "kind": "transfer", "value_date": "2026-03-03", "description": "Tarik tunai untuk kas kecil",
        "entries": [
            {"account_code": "1.1.1.01", "side": "debit", "amount": amount},
            {"account_code": "1.1.1.02", "side": "credit", "amount": amount}
        ]
    })
}
