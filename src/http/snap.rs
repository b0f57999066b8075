//! Signed bank requests over HTTP (the rules are `domain::snap`): for a request carrying a signed client's token (or
//! a signature), the client is checked once here (active, its token's version, so a deactivated or changed client is
//! refused at once), and a client that registered a public key must have signed the request. Other bank requests are
//! checked by `auth::Principal` or, for a write that takes a `ClientCheck`, under the write's lock. The body is read here for the
//! signature and handed on unchanged. Refusals are `401` (`409` for a reused `X-EXTERNAL-ID`), logged without the
//! token or the signature.

use super::error::{ApiError, ErrorCode};
use super::{blocking, AppState};
use crate::domain::roles::Role;
use crate::domain::snap::{self, SignedHeaders};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage};

/// Put in the request's extensions once the bank client behind its token was found current (so the handler's
/// `Principal` does not read it again).
#[derive(Debug, Clone)]
pub struct CheckedBankClient {
    pub client_id: String,
    pub version: i64,
}

fn header<'a>(req: &'a ServiceRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The most a signed request's body may hold while it is read for its signature (the route's own limit then
/// applies to what is handed on).
const MAX_SIGNED_BODY: usize = 32 * 1024 * 1024;

async fn read_body(req: &mut ServiceRequest) -> Result<web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut payload = req.take_payload();
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| ApiError::validation("the request body could not be read"))?;
        if buf.len() + chunk.len() > MAX_SIGNED_BODY {
            return Err(ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large"));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

pub async fn verify(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else { return next.call(req).await };
    let token = header(&req, "authorization")
        .and_then(|t| t.strip_prefix("Bearer ").or_else(|| t.strip_prefix("bearer ")))
        .map(str::trim);
    // Not a valid bank token: nothing to check here (the handler's extractor answers for it).
    let Some(claims) = token.and_then(|t| state.jwt.validate(t).ok()).filter(|c| c.role == Role::Bank) else {
        return next.call(req).await;
    };
    // A token issued to a client without a key, on a request that carries no signature: nothing to verify here.
    // The client is checked later, in the same round trip as the work where the write can (`ClientCheck`), else by
    // the handler's `Principal`; either refuses it if it has a key now (an unsigned request of a client with a key
    // is never served) or is no longer current.
    if !claims.signed && header(&req, "x-signature").is_none() {
        return next.call(req).await;
    }
    let db = state.db.clone();
    let (client_id, version) = (claims.sub.clone(), claims.ver);
    let current = blocking(move || db.bank_client_current(&client_id, version)).await?;
    let Some(key) = current else {
        tracing::warn!(client = %claims.sub, "bank token refused: the client was deactivated or changed");
        return Err(ApiError::unauthorized(
            "this token has ended (the client was deactivated or changed): get a new one",
        )
        .into());
    };
    if let Some(pem) = key {
        let body = read_body(&mut req).await?;
        let key = snap::parse_public_key(&pem).map_err(|e| {
            tracing::error!(client = %claims.sub, error = %e, "a stored bank client key does not parse");
            ApiError::internal()
        })?;
        let path = req.uri().path_and_query().map_or_else(|| req.path().to_string(), |p| p.as_str().to_string());
        let headers = SignedHeaders {
            timestamp: header(&req, "x-timestamp"),
            partner_id: header(&req, "x-partner-id"),
            external_id: header(&req, "x-external-id"),
            signature: header(&req, "x-signature"),
        };
        let checked =
            snap::check_request(&headers, &claims.sub, &key, req.method().as_str(), &path, &body, chrono::Utc::now());
        let (external_id, day) = match checked {
            Ok((id, day)) => (id.to_string(), day),
            Err(e) => {
                tracing::warn!(client = %claims.sub, method = %req.method(), path = %req.path(), reason = %e, "signed bank request refused");
                return Err(ApiError::unauthorized(e.to_string()).into());
            }
        };
        let db = state.db.clone();
        let client = claims.sub.clone();
        let used = blocking(move || db.use_external_id(&client, day, &external_id)).await;
        if let Err(e) = used {
            if e.code == ErrorCode::Conflict {
                tracing::warn!(client = %claims.sub, "signed bank request refused: X-EXTERNAL-ID used again");
            }
            return Err(e.into());
        }
        req.set_payload(actix_web::dev::Payload::from(body));
    }
    req.extensions_mut().insert(CheckedBankClient { client_id: claims.sub.clone(), version: claims.ver });
    next.call(req).await
}
