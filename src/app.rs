//! Building the application state and running the HTTP server.

use crate::config::Settings;
use crate::http::auth::JwtKeys;
use crate::http::{configure, AppState, Metrics};
use crate::store::{Db, PoolOptions};
use actix_web::dev::Server;
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpMessage, HttpServer};
use futures_util::FutureExt;
use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder, TracingLogger};

/// The span of every HTTP request: tracing-actix-web's, with its request id (the `x-request-id` of the answer),
/// method, route and status, but at the level ERROR instead of INFO, so that a filter such as `RUST_LOG=warn` keeps
/// it: a warning or an error logged while answering carries the request's id whatever the filter. (A span prints
/// nothing by itself; it is the context of the events inside it.)
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &actix_web::dev::ServiceRequest) -> tracing::Span {
        tracing_actix_web::root_span!(level = tracing::Level::ERROR, request)
    }

    fn on_request_end<B: actix_web::body::MessageBody>(
        span: tracing::Span,
        outcome: &Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>,
    ) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// The database pools as the settings say (the service's, its standby reader's and the command line's).
pub fn pool_options(settings: &Settings) -> PoolOptions {
    PoolOptions {
        max_connections: settings.pool_size,
        connect_timeout: std::time::Duration::from_secs(settings.pool_timeout_secs.max(1)),
        pooled: settings.database_pooled,
        credit_writers: settings.credit_writers,
    }
}

/// Connects the database (running migrations), loads or creates the signing keys (tokens, checkpoints), and creates the first
/// administrator when the database has no users and `admin_password` is set.
pub fn build_state(settings: Settings) -> anyhow::Result<Arc<AppState>> {
    let db = Db::connect(&settings.database_url, &pool_options(&settings))?;
    let secret = JwtKeys::load_or_create_secret(&settings.data_dir)?;
    let jwt = JwtKeys::new(&secret, &settings.jwt_issuer, &settings.jwt_audience, settings.token_ttl_secs);
    if let Some(password) = settings.admin_password.as_deref().filter(|p| !p.is_empty()) {
        if db.count_users()? == 0 {
            let password = crate::domain::text::Password::parse("KASDESA_ADMIN_PASSWORD", password)?;
            let admin = crate::users::NewUser {
                username: crate::domain::text::Username::parse("username", "admin")?,
                password,
                role: crate::domain::roles::Role::Admin,
                village_id: None,
                regency_id: None,
            };
            crate::users::create_user(&db, admin, "system")?;
            tracing::info!("created the administrator 'admin'");
        }
    }
    let anchor = Arc::new(crate::anchor::AnchorKey::load_or_create(&settings.anchor_key_path())?);
    let webhook_key = Arc::new(crate::anchor::AnchorKey::load_or_create(&settings.webhook_key_path())?);
    let replica = match settings.database_read_url.trim() {
        "" => None,
        url => Some(Arc::new(crate::store::Replica::connect(
            url,
            &pool_options(&settings),
            std::time::Duration::from_millis(settings.read_max_lag_ms),
        )?)),
    };
    Ok(Arc::new(AppState { db, jwt, settings, metrics: Metrics::default(), anchor, webhook_key, replica }))
}

/// Starts serving on an already bound listener (tests bind port 0), with the periodic checkpoints of the chain heads.
pub fn run(listener: TcpListener, state: Arc<AppState>) -> std::io::Result<Server> {
    if state.settings.checkpoint_interval_secs > 0 {
        crate::anchor::spawn_periodic(
            Arc::downgrade(&state),
            std::time::Duration::from_secs(state.settings.checkpoint_interval_secs),
        );
    }
    if state.settings.webhook_poll_ms > 0 {
        crate::webhooks::spawn_worker(
            Arc::downgrade(&state),
            std::time::Duration::from_millis(state.settings.webhook_poll_ms),
        );
    }
    let workers = match state.settings.workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let server = HttpServer::new(move || {
        let metrics_state = state.clone();
        App::new()
            .configure(configure(state.clone()))
            .configure(crate::web::configure)
            .wrap(
                DefaultHeaders::new()
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "no-referrer"))
                    .add(("Cache-Control", "no-store")),
            )
            .wrap_fn(move |req, srv| {
                use actix_web::dev::Service;
                let request_id = req.extensions().get::<RequestId>().map(|r| r.to_string());
                let st = metrics_state.clone();
                srv.call(req).map(move |res| {
                    res.map(|mut res| {
                        let m = &st.metrics;
                        m.requests.fetch_add(1, Ordering::Relaxed);
                        let status = res.status();
                        // Inside the request's span: with RUST_LOG=kasdesa=debug, one line per request.
                        tracing::debug!(status = status.as_u16(), "answered");
                        if status.is_client_error() {
                            m.client_errors.fetch_add(1, Ordering::Relaxed);
                        } else if status.is_server_error() {
                            m.server_errors.fetch_add(1, Ordering::Relaxed);
                        }
                        if let Some(id) = request_id.and_then(|id| id.parse().ok()) {
                            res.headers_mut()
                                .insert(actix_web::http::header::HeaderName::from_static("x-request-id"), id);
                        }
                        res
                    })
                })
            })
            // gzip for clients that ask (a year's cash book: 141 KB becomes about 13 KB on a village's slow link).
            .wrap(actix_web::middleware::Compress::default())
            .wrap(TracingLogger::<RequestSpan>::new())
    })
    .workers(workers)
    .listen(listener)?
    .run();
    Ok(server)
}

pub fn init_tracing(format: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if format == "json" { builder.json().try_init() } else { builder.try_init() };
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{test, web, HttpResponse};
    use std::io::Write;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    async fn warns() -> Result<HttpResponse, crate::http::error::ApiError> {
        tracing::warn!("in the handler");
        crate::http::blocking(|| {
            tracing::warn!("in the blocking pool");
            Ok(())
        })
        .await?;
        Ok(HttpResponse::Ok().finish())
    }

    #[actix_web::test]
    async fn warnings_while_answering_carry_the_request_id_under_a_warn_filter() {
        let lines = Lines::default();
        let writer = lines.clone();
        // The only global subscriber of the library's unit tests.
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        let app = test::init_service(
            actix_web::App::new().wrap(TracingLogger::<RequestSpan>::new()).route("/", web::get().to(warns)),
        )
        .await;
        let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert!(res.status().is_success());
        let out = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        let ids: Vec<&str> = out
            .lines()
            .filter(|l| l.contains("in the handler") || l.contains("in the blocking pool"))
            .map(|l| l.split("request_id=").nth(1).and_then(|rest| rest.split([' ', '}']).next()).unwrap_or(""))
            .collect();
        assert_eq!(ids.len(), 2, "{out}");
        assert!(ids[0].len() == 36 && ids[0] == ids[1], "both lines carry the same request id: {out}");
    }
}
