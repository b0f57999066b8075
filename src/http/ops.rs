//! Health, readiness, metrics and the fallback for unknown routes.

use super::error::ApiError;
use super::{blocking, State};
use actix_web::HttpResponse;
use std::sync::atomic::Ordering;

#[utoipa::path(get, path = "/health/live", tag = "operations", responses((status = 200, description = "the process is up")))]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

#[utoipa::path(get, path = "/health/ready", tag = "operations",
    responses((status = 200, description = "the database answers"), (status = 503, description = "it does not")))]
pub async fn ready(state: State) -> Result<HttpResponse, ApiError> {
    let db = state.db.clone();
    let backend = db.backend_name();
    blocking(move || db.ping()).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready", "database": backend})))
}

/// Prometheus text format. Open unless `metrics_token` is configured; then a scraper sends it as a bearer token.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text"), (status = 401, description = "metrics_token is set and was not sent")))]
pub async fn metrics(state: State, req: actix_web::HttpRequest) -> Result<HttpResponse, ApiError> {
    let token = &state.settings.metrics_token;
    if !token.is_empty() {
        let sent =
            req.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let ok = sent.is_some_and(|s| {
            use sha2::Digest;
            // Compared as digests: the comparison takes as long whatever the guess.
            sha2::Sha256::digest(s.as_bytes()) == sha2::Sha256::digest(token.as_bytes())
        });
        if !ok {
            return Err(ApiError::unauthorized("metrics need the configured metrics token"));
        }
    }
    let m = &state.metrics;
    let mut body = format!(
        "# TYPE kasdesa_http_requests_total counter\nkasdesa_http_requests_total {}\n\
         # TYPE kasdesa_http_client_errors_total counter\nkasdesa_http_client_errors_total {}\n\
         # TYPE kasdesa_http_server_errors_total counter\nkasdesa_http_server_errors_total {}\n\
         # TYPE kasdesa_transactions_posted_total counter\nkasdesa_transactions_posted_total {}\n\
         # TYPE kasdesa_idempotent_replays_total counter\nkasdesa_idempotent_replays_total {}\n\
         # TYPE kasdesa_replica_reads_total counter\nkasdesa_replica_reads_total {}\n",
        m.requests.load(Ordering::Relaxed),
        m.client_errors.load(Ordering::Relaxed),
        m.server_errors.load(Ordering::Relaxed),
        m.transactions_posted.load(Ordering::Relaxed),
        m.idempotent_replays.load(Ordering::Relaxed),
        m.replica_reads.load(Ordering::Relaxed),
    );
    if let Some(g) = state.db.group_stats() {
        // SQLite's one writer (store/group_commit.rs): commits, the writes they held (their ratio is the mean
        // group), and how long writes and commits held the connection.
        body.push_str(&format!(
            "# TYPE kasdesa_sqlite_group_commits_total counter\nkasdesa_sqlite_group_commits_total {}\n\
             # TYPE kasdesa_sqlite_group_writes_total counter\nkasdesa_sqlite_group_writes_total {}\n\
             # TYPE kasdesa_sqlite_writer_busy_seconds_total counter\nkasdesa_sqlite_writer_busy_seconds_total {:.6}\n",
            g.commits,
            g.committed_writes,
            g.held_micros as f64 / 1e6
        ));
    }
    if let Some(g) = state.db.credit_group_stats() {
        // PostgreSQL's single credits, coalesced (store/coalesce.rs): groups, and the credits they held.
        body.push_str(&format!(
            "# TYPE kasdesa_pg_credit_groups_total counter\nkasdesa_pg_credit_groups_total {}\n\
             # TYPE kasdesa_pg_credit_group_writes_total counter\nkasdesa_pg_credit_group_writes_total {}\n\
             # TYPE kasdesa_pg_credit_group_alone_total counter\nkasdesa_pg_credit_group_alone_total {}\n",
            g.groups, g.writes, g.alone
        ));
    }
    Ok(HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body))
}

pub async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found())
}
