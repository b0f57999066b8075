//! Anchored chain heads over HTTP: the public key, a regency's signed checkpoints (exported as a file for its
//! inspector to keep, or made on demand), and verification of a village's chain against a kept file.

use super::auth::{Principal, READERS};
use super::error::{ApiError, Problem};
use super::{blocking, load_village, Body, State};
use crate::domain::anchor::{public_key_pem, Checkpoint, MESSAGE_HEADER};
use crate::domain::roles::Role;
use crate::store::rows::RegencyRow;
use crate::store::{now_micros, Anchors, ChainReport};
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// The most checkpoints a supplied file may hold.
const MAX_SUPPLIED: usize = 200_000;

/// The service's anchor key, for inspectors to record (and to check checkpoints with `openssl` without kasdesa).
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnchorKeyView {
    pub algorithm: &'static str,
    pub key_id: String,
    /// The 32-byte public key, base64.
    pub public_key: String,
    pub public_key_pem: String,
    /// How the signed message is formed from a checkpoint's fields (each line ends with a newline).
    pub message_format: String,
}

/// A file of signed checkpoints: what `GET /regencies/{id}/checkpoints` exports and what
/// `POST /villages/{id}/audit/verify` takes back (only `checkpoints` is read; the rest describes the file).
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckpointFile {
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub regency_id: String,
    #[serde(default)]
    pub exported_at: String,
    #[serde(default)]
    pub key_id: String,
    #[serde(default)]
    pub public_key_pem: String,
    pub checkpoints: Vec<Checkpoint>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CheckpointQuery {
    /// Only checkpoints made on or after this date (UTC).
    pub since: Option<chrono::NaiveDate>,
    /// Only each village's newest checkpoint (it anchors everything before it).
    #[serde(default)]
    pub latest: bool,
}

fn key_view(state: &State) -> AnchorKeyView {
    let key = state.anchor.verifying();
    AnchorKeyView {
        algorithm: "Ed25519",
        key_id: state.anchor.key_id(),
        public_key: base64::engine::general_purpose::STANDARD.encode(key.as_bytes()),
        public_key_pem: public_key_pem(&key),
        message_format: format!("{MESSAGE_HEADER}\\n<village_id>\\n<chain_seq>\\n<hash>\\n<at>\\n"),
    }
}

/// The public key that signs the checkpoints (public: it proves nothing by itself).
#[utoipa::path(get, path = "/api/v1/audit/anchor-key", tag = "audit", responses((status = 200, body = AnchorKeyView)))]
pub async fn anchor_key(state: State) -> HttpResponse {
    HttpResponse::Ok().json(key_view(&state))
}

/// A regency, for its inspectors and administrators (`404` for everyone else).
async fn regency_for(state: &State, who: &Principal, id: &str) -> Result<RegencyRow, ApiError> {
    match who.role() {
        Role::Inspector if who.0.regency_id.as_deref() == Some(id) => {}
        Role::Admin => {}
        _ => return Err(ApiError::not_found()),
    }
    let db = state.db.clone();
    let id = id.to_string();
    blocking(move || db.get_regency(&id)).await?.ok_or_else(ApiError::not_found)
}

fn file(
    state: &State,
    r: &RegencyRow,
    checkpoints: Vec<Checkpoint>,
    status: actix_web::http::StatusCode,
) -> HttpResponse {
    let view = key_view(state);
    let now = now_micros();
    let body = CheckpointFile {
        format: "kasdesa-checkpoints/v1".into(),
        regency_id: r.id.clone(),
        exported_at: crate::domain::chain::canonical_time(now),
        key_id: view.key_id,
        public_key_pem: view.public_key_pem,
        checkpoints,
    };
    let name = format!("checkpoints-{}-{}.json", r.code, now.format("%Y%m%dT%H%M%SZ"));
    HttpResponse::build(status)
        .insert_header((header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")))
        .json(body)
}

/// The regency's signed checkpoints, as a file for its inspector to keep.
#[utoipa::path(get, path = "/api/v1/regencies/{id}/checkpoints", tag = "audit", security(("bearer" = [])),
    params(("id" = String, Path), CheckpointQuery),
    responses((status = 200, body = CheckpointFile), (status = 404, body = Problem)))]
pub async fn list(
    state: State,
    who: Principal,
    id: web::Path<String>,
    q: web::Query<CheckpointQuery>,
) -> Result<HttpResponse, ApiError> {
    let r = regency_for(&state, &who, &id).await?;
    let db = state.db.clone();
    let rid = r.id.clone();
    let since = q.since.map(|d| d.and_time(chrono::NaiveTime::MIN));
    let latest = q.latest;
    let cps = blocking(move || db.regency_checkpoints(&rid, since, latest)).await?;
    Ok(file(&state, &r, cps, actix_web::http::StatusCode::OK))
}

/// Checkpoint every village of the regency whose head moved, now; answers each village's newest checkpoint.
#[utoipa::path(post, path = "/api/v1/regencies/{id}/checkpoints", tag = "audit", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 201, body = CheckpointFile), (status = 404, body = Problem)))]
pub async fn create(state: State, who: Principal, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let r = regency_for(&state, &who, &id).await?;
    let db = state.db.clone();
    let key = state.anchor.clone();
    let rid = r.id.clone();
    let cps = blocking(move || {
        key.checkpoint(&db, Some(&rid))?;
        db.regency_checkpoints(&rid, None, true)
    })
    .await?;
    Ok(file(&state, &r, cps, actix_web::http::StatusCode::CREATED))
}

/// Verify the village's chain as `GET …/audit/verify` does, and also against the checkpoints of a kept file (an
/// inspector's export): a history rewritten before any of them, even with every hash recomputed, is found.
#[utoipa::path(post, path = "/api/v1/villages/{id}/audit/verify", tag = "audit", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CheckpointFile,
    responses((status = 200, body = ChainReport), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn verify_with(
    state: State,
    who: Principal,
    id: web::Path<String>,
    body: Body<CheckpointFile>,
) -> Result<HttpResponse, ApiError> {
    let village = load_village(&state, &id).await?;
    who.require(&village, READERS)?;
    let supplied = body.value.checkpoints;
    if supplied.len() > MAX_SUPPLIED {
        return Err(ApiError::validation(format!("a file may hold at most {MAX_SUPPLIED} checkpoints")));
    }
    let db = state.db.clone();
    let key = state.anchor.verifying();
    let report =
        blocking(move || db.verify_chain(&village.id, Some(Anchors { key: &key, supplied: &supplied }))).await?;
    Ok(HttpResponse::Ok().json(report))
}
