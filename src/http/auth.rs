//! Authentication: argon2id password hashes, HS256 JWTs validated strictly, and the caller's scope.

use super::error::ApiError;
use super::AppState;
use crate::domain::roles::Role;
use crate::store::rows::VillageRow;
use actix_web::{dev::Payload, http::header, web, FromRequest, HttpMessage, HttpRequest};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub village_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regency_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub village_ids: Option<Vec<String>>,
    /// The username or bank client name, for audit trails.
    pub name: String,
    pub exp: u64,
    pub iat: u64,
    pub nbf: u64,
    pub iss: String,
    pub aud: String,
    /// The user's (`users.token_version`) or bank client's (`bank_clients.token_version`) version when it was issued.
    #[serde(default)]
    pub ver: i64,
    /// A bank client's token: the client had a public key when it was issued, so its requests are signed and the
    /// signature middleware checks the client as they arrive. A hint only (a key registered later raises the
    /// version, which ends the token; a client with a key is refused an unsigned request whatever its token says).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub signed: bool,
}

/// Signs and validates tokens. The algorithm is pinned to HS256; anything else (including `none`) is refused.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub issuer: String,
    pub audience: String,
    pub ttl_secs: u64,
}

impl JwtKeys {
    pub fn new(secret: &[u8], issuer: &str, audience: &str, ttl_secs: u64) -> JwtKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.validate_exp = true;
        validation.leeway = 30;
        JwtKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.into(),
            audience: audience.into(),
            ttl_secs,
        }
    }

    /// Reads the signing key from `data_dir/jwt.key`, creating it (64 random bytes, mode 0600) on first start.
    pub fn load_or_create_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join("jwt.key");
        if path.exists() {
            let key = std::fs::read(&path)?;
            anyhow::ensure!(key.len() >= 32, "{} is shorter than 32 bytes", path.display());
            return Ok(key);
        }
        let mut key = vec![0u8; 64];
        getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        use std::io::Write;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&path)?;
        f.write_all(&key)?;
        f.sync_all()?;
        Ok(key)
    }

    pub fn issue(&self, mut claims: Claims) -> Result<String, ApiError> {
        let now = now_secs();
        claims.iat = now;
        claims.nbf = now;
        claims.exp = now + self.ttl_secs;
        claims.iss = self.issuer.clone();
        claims.aud = self.audience.clone();
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "signing a token failed");
            ApiError::internal()
        })
    }

    pub fn validate(&self, token: &str) -> Result<Claims, ApiError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| ApiError::unauthorized(format!("invalid token: {}", describe_jwt_error(&e))))?;
        let c = data.claims;
        let scoped = match c.role {
            r if r.is_village_role() => c.village_id.is_some(),
            Role::Inspector => c.regency_id.is_some(),
            Role::Bank => c.village_ids.is_some(),
            _ => true,
        };
        if !scoped {
            return Err(ApiError::unauthorized("invalid token: its scope does not fit its role"));
        }
        Ok(c)
    }
}

fn describe_jwt_error(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "expired",
        ErrorKind::ImmatureSignature => "not yet valid",
        ErrorKind::InvalidIssuer => "wrong issuer",
        ErrorKind::InvalidAudience => "wrong audience",
        ErrorKind::InvalidAlgorithm => "algorithm not allowed",
        ErrorKind::InvalidSignature => "bad signature",
        ErrorKind::MissingRequiredClaim(_) => "a required claim is missing",
        _ => "malformed",
    }
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let mut salt_bytes = [0u8; 16];
    getrandom::fill(&mut salt_bytes).map_err(|_| ApiError::internal())?;
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|_| ApiError::internal())?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|_| ApiError::internal())
}

/// A real hash of a random password: verifying against it when the user does not exist takes as long as a real
/// check, so response time does not tell which usernames exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&uuid::Uuid::new_v4().to_string()).expect("argon2 hashes"))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Bank client secrets are 256 random bits, so a fast hash is enough (no dictionary to guess from).
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).expect("the OS provides randomness");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The authenticated caller, from a validated bearer token.
#[derive(Debug, Clone)]
pub struct Principal(pub Claims);

impl Principal {
    pub fn role(&self) -> Role {
        self.0.role
    }
    pub fn id(&self) -> &str {
        &self.0.sub
    }

    /// Whether the village is inside this caller's scope at all. Outside it, everything is `404`.
    pub fn sees_village(&self, v: &VillageRow) -> bool {
        let c = &self.0;
        match c.role {
            Role::Admin => true,
            Role::Inspector => c.regency_id.as_deref() == Some(v.regency_id.as_str()),
            Role::Bank => c.village_ids.as_ref().is_some_and(|ids| ids.iter().any(|i| v.id == *i)),
            _ => c.village_id.as_deref() == Some(v.id.as_str()),
        }
    }

    /// `404` outside the scope, `403` inside it for a role not in `allowed`.
    pub fn require(&self, v: &VillageRow, allowed: &[Role]) -> Result<(), ApiError> {
        if !self.sees_village(v) {
            return Err(ApiError::not_found());
        }
        if !allowed.contains(&self.role()) {
            return Err(ApiError::forbidden());
        }
        Ok(())
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role() == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// The roles that read a village's books.
pub const READERS: &[Role] = &[Role::Implementer, Role::Secretary, Role::Head, Role::Treasurer, Role::Inspector];

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = futures_util::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = principal_from(req);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let checked = req.extensions().get::<super::snap::CheckedBankClient>().cloned();
        Box::pin(async move {
            let principal = principal?;
            let state = state.ok_or_else(ApiError::internal)?;
            let c = &principal.0;
            // The bank client behind this token was found current (and its signature checked) on the way in.
            let seen = checked.is_some_and(|k| c.role == Role::Bank && k.client_id == c.sub && k.version == c.ver);
            if !seen {
                still_current(&state, c).await?;
            }
            Ok(principal)
        })
    }
}

/// A user's token is honoured only while it says what the database says: the user is active, and its role, scope
/// and token version are the user's now. A role or scope change, a deactivation or a logout raises the version, so
/// the old token is refused on the very next request, on every instance that shares the database. A bank client's
/// token likewise carries its client's version: deactivating it, a new secret or new villages end it.
pub async fn still_current(state: &web::Data<AppState>, claims: &Claims) -> Result<(), ApiError> {
    if claims.role == Role::Bank {
        let db = state.db.clone();
        let (client, ver) = (claims.sub.clone(), claims.ver);
        // Reached only for a request the signature middleware did not check: one with no signature.
        return match super::blocking(move || db.bank_client_current(&client, ver)).await? {
            Some(None) => Ok(()),
            Some(Some(_)) => Err(unsigned_refused()),
            None => Err(client_ended()),
        };
    }
    let db = state.db.clone();
    let id = claims.sub.clone();
    let user = super::blocking(move || db.get_user(&id)).await?;
    let current = user.is_some_and(|u| {
        u.active
            && u.role == claims.role
            && u.village_id.as_deref() == claims.village_id.as_deref()
            && u.regency_id == claims.regency_id
            && u.token_version == claims.ver
    });
    if current {
        Ok(())
    } else {
        Err(ApiError::unauthorized("this session has ended (signed out, or the account changed): sign in again"))
    }
}

/// The refusal of a bank token whose client was deactivated or changed since it was issued.
pub fn client_ended() -> ApiError {
    ApiError::unauthorized("this token has ended (the client was deactivated or changed): get a new one")
}

/// The refusal of an unsigned request from a client with a registered key.
pub fn unsigned_refused() -> ApiError {
    ApiError::unauthorized(crate::domain::snap::SnapError::Missing("X-SIGNATURE").to_string())
}

/// A bank client's token as a write checks it under its lock (`store::ClientCheck`) instead of a read of its own
/// before it: for the routes whose handler takes this instead of a [`Principal`]. The client must be active, at the
/// token's version and without a key (a request the signature middleware checked carries the proof instead).
pub struct BankWriter {
    pub principal: Principal,
    /// None when the signature middleware already checked the client on the way in.
    pub check: Option<crate::store::ClientCheck>,
}

impl FromRequest for BankWriter {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let checked = req.extensions().get::<super::snap::CheckedBankClient>().cloned();
        std::future::ready(principal_from(req).and_then(|principal| {
            let c = &principal.0;
            if c.role != Role::Bank {
                return Err(ApiError::forbidden());
            }
            let seen = checked.is_some_and(|k| k.client_id == c.sub && k.version == c.ver);
            let check = (!seen).then(|| crate::store::ClientCheck { client_id: c.sub.clone(), version: c.ver });
            Ok(BankWriter { principal, check })
        }))
    }
}

fn principal_from(req: &HttpRequest) -> Result<Principal, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(ApiError::internal)?;
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("an Authorization: Bearer token is required"))?;
    let text = value.to_str().map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer <token>'"))?;
    Ok(Principal(state.jwt.validate(token.trim())?))
}
