//! Google service-account credentials and OAuth 2.0 access tokens minted from them.
//!
//! The JWT-bearer grant of RFC 7523 as Google implements it: an RS256 assertion signed with the
//! service account's `private_key` (header `kid` = `private_key_id`; claims `iss` =
//! `client_email`, `aud` = the token URI, `scope`, `iat`, `exp` = `iat` + 3600) is posted as
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=...` to the token URI, which
//! answers `{"access_token", "expires_in", "token_type"}`. Like Google's own libraries
//! (firebase-admin, google-auth) the assertion carries no `sub`: `sub` means domain-wide
//! delegation to another account.
//!
//! [`AccessTokenSource`] caches the token until [`REFRESH_MARGIN`] before it expires; readers
//! take a snapshot without waiting, and only one caller at a time refreshes (single flight).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, Url};
use serde::Deserialize;

use crate::idp_http::{IdpClient, IdpError, RequestBody};
use crate::jwt::now_secs;

/// Google's OAuth 2.0 token endpoint (used when the service account names none).
pub const DEFAULT_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// The scope Firestore (Cloud Datastore) calls need.
pub const DATASTORE_SCOPE: &str = "https://www.googleapis.com/auth/datastore";
/// The `grant_type` of the JWT-bearer grant.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// A cached access token is replaced this long before it expires.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// After a failed refresh, callers get that failure without a new request for this long.
pub const FAILURE_COOLDOWN: Duration = Duration::from_secs(1);
/// Lifetime of the signed assertion (Google's maximum).
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(3600);

/// A Google service-account key file (`type: "service_account"`), as downloaded from the console.
#[derive(Clone, Deserialize)]
pub struct ServiceAccount {
    /// `type`; must be `service_account` when present.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The Google Cloud / Firebase project.
    #[serde(default)]
    pub project_id: Option<String>,
    /// Id of the key pair; sent as the assertion's `kid`.
    #[serde(default)]
    pub private_key_id: Option<String>,
    /// PEM PKCS#8 RSA private key. Never logged.
    pub private_key: String,
    /// The service account's e-mail, the assertion's issuer.
    pub client_email: String,
    /// Token endpoint; [`DEFAULT_TOKEN_URI`] when absent.
    #[serde(default)]
    pub token_uri: Option<String>,
}

impl Drop for ServiceAccount {
    /// Wipes the private key text; the signing key parsed from it lives in the token source.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.private_key);
    }
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("private_key", &"<redacted>")
            .field("token_uri", &self.token_uri)
            .finish()
    }
}

/// Why a service account could not be loaded. Messages never include key material.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceAccountError {
    /// The file could not be read.
    #[error("cannot read service account file {path:?}: {message}")]
    Read {
        /// The path given.
        path: String,
        /// The I/O error.
        message: String,
    },
    /// Not a JSON object of the expected shape.
    #[error("service account is not valid JSON of the expected shape: {0}")]
    Json(String),
    /// `type` is something other than `service_account` (e.g. `authorized_user`).
    #[error("service account has type {0:?}; a \"service_account\" key file is required")]
    WrongType(String),
    /// A required field is empty.
    #[error("service account field {0:?} is empty")]
    EmptyField(&'static str),
    /// `private_key` is not a PEM RSA private key.
    #[error("service account private_key is not a PEM RSA private key")]
    BadPrivateKey,
}

impl ServiceAccount {
    /// Parses the JSON text of a key file.
    pub fn from_json(text: &str) -> Result<Self, ServiceAccountError> {
        // Every field is a string, so serde's messages name fields and positions, never values.
        let sa: ServiceAccount = serde_json::from_str(text).map_err(|e| {
            ServiceAccountError::Json(match e.classify() {
                serde_json::error::Category::Data => e.to_string(),
                _ => format!("syntax error at line {} column {}", e.line(), e.column()),
            })
        })?;
        if let Some(kind) = &sa.kind
            && kind != "service_account"
        {
            return Err(ServiceAccountError::WrongType(kind.clone()));
        }
        if sa.client_email.trim().is_empty() {
            return Err(ServiceAccountError::EmptyField("client_email"));
        }
        if sa.private_key.trim().is_empty() {
            return Err(ServiceAccountError::EmptyField("private_key"));
        }
        Ok(sa)
    }

    /// Loads from JSON text (a value starting with `{`) or from the path of a key file.
    pub fn load(value: &str) -> Result<Self, ServiceAccountError> {
        if value.trim_start().starts_with('{') {
            return Self::from_json(value);
        }
        let text = zeroize::Zeroizing::new(std::fs::read_to_string(value).map_err(|e| {
            ServiceAccountError::Read {
                path: value.to_owned(),
                message: e.kind().to_string(),
            }
        })?);
        Self::from_json(&text)
    }

    /// The token endpoint: `token_uri`, else [`DEFAULT_TOKEN_URI`].
    pub fn token_uri(&self) -> &str {
        self.token_uri
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(DEFAULT_TOKEN_URI)
    }
}

/// Why no access token could be obtained. Never contains the assertion or the token.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AccessTokenError {
    /// Signing the assertion failed.
    #[error("signing the service-account assertion failed")]
    Sign,
    /// The token endpoint could not be reached or answered unusably.
    #[error("token endpoint: {0}")]
    Idp(IdpError),
    /// The token endpoint refused the grant (`{"error": "invalid_grant", ...}`).
    #[error("token endpoint refused the grant: HTTP {status}, error {error:?}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The OAuth `error` code, if the body had one.
        error: String,
    },
    /// The answer has no usable `access_token` / `expires_in`.
    #[error("token endpoint answer has no usable access_token")]
    Malformed,
}

impl From<IdpError> for AccessTokenError {
    fn from(e: IdpError) -> Self {
        match e {
            IdpError::Status { status, body, .. } if (400..500).contains(&status) => {
                let error = serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                    .unwrap_or_default();
                AccessTokenError::Refused { status, error }
            }
            other => AccessTokenError::Idp(other),
        }
    }
}

#[derive(Clone)]
struct Cached {
    token: Arc<str>,
    refresh_at: Instant,
}

/// Mints and caches OAuth 2.0 access tokens for one service account and scope.
pub struct AccessTokenSource {
    client: IdpClient,
    client_email: String,
    key_id: Option<String>,
    key: EncodingKey,
    token_url: Url,
    scope: String,
    current: RwLock<Option<Cached>>,
    refresh: tokio::sync::Mutex<()>,
    /// Completed refresh attempts (success or failure).
    attempts: AtomicU64,
    /// The last failure: attempt number, when, what.
    last_failure: RwLock<Option<(u64, Instant, AccessTokenError)>>,
    requests: AtomicU64,
}

impl std::fmt::Debug for AccessTokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokenSource")
            .field("client_email", &self.client_email)
            .field("token_url", &self.token_url.as_str())
            .field("scope", &self.scope)
            .field("token_requests", &self.token_requests())
            .finish_non_exhaustive()
    }
}

/// Why an [`AccessTokenSource`] could not be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AccessTokenSourceError {
    /// The private key is unusable.
    #[error(transparent)]
    Account(#[from] ServiceAccountError),
    /// The token URL is invalid or not allowed.
    #[error("token URI: {0}")]
    Url(#[from] IdpError),
}

impl AccessTokenSource {
    /// A source for `account` and `scope`, posting to `token_uri` (which must pass the client's
    /// HTTPS/loopback rule).
    pub fn new(
        client: IdpClient,
        account: &ServiceAccount,
        token_uri: &str,
        scope: impl Into<String>,
    ) -> Result<Self, AccessTokenSourceError> {
        let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|_| ServiceAccountError::BadPrivateKey)?;
        let token_url = client.url(token_uri)?;
        Ok(Self {
            client,
            client_email: account.client_email.clone(),
            key_id: account.private_key_id.clone().filter(|k| !k.is_empty()),
            key,
            token_url,
            scope: scope.into(),
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            attempts: AtomicU64::new(0),
            last_failure: RwLock::new(None),
            requests: AtomicU64::new(0),
        })
    }

    /// Number of requests sent to the token endpoint so far.
    pub fn token_requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn fresh(&self) -> Option<Arc<str>> {
        let guard = self.current.read().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
            .map(|c| c.token.clone())
    }

    /// The last failure, if it happened after attempt `seen` or within [`FAILURE_COOLDOWN`].
    fn recent_failure(&self, seen: u64) -> Option<AccessTokenError> {
        let guard = self.last_failure.read().unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .filter(|(n, at, _)| *n > seen || at.elapsed() < FAILURE_COOLDOWN)
            .map(|(_, _, e)| e.clone())
    }

    /// A valid access token: the cached one, or a new one. One refresh at a time: callers that
    /// waited for a refresh share its result, success or failure, instead of retrying in turn.
    pub async fn token(&self) -> Result<Arc<str>, AccessTokenError> {
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        let seen = self.attempts.load(Ordering::Acquire);
        if let Some(e) = self.recent_failure(u64::MAX) {
            return Err(e);
        }
        let _guard = self.refresh.lock().await;
        if let Some(t) = self.fresh() {
            return Ok(t);
        }
        if let Some(e) = self.recent_failure(seen) {
            return Err(e);
        }
        let result = self.fetch().await;
        let attempt = self.attempts.fetch_add(1, Ordering::AcqRel) + 1;
        let (token, lifetime) = match result {
            Ok(ok) => {
                *self.last_failure.write().unwrap_or_else(|p| p.into_inner()) = None;
                ok
            }
            Err(e) => {
                *self.last_failure.write().unwrap_or_else(|p| p.into_inner()) =
                    Some((attempt, Instant::now(), e.clone()));
                return Err(e);
            }
        };
        let token: Arc<str> = token.into();
        let refresh_at = Instant::now() + lifetime.saturating_sub(REFRESH_MARGIN);
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(Cached {
            token: token.clone(),
            refresh_at,
        });
        Ok(token)
    }

    /// Drops the cached token if it is `stale` (the API refused it), so the next call mints anew.
    pub fn invalidate(&self, stale: &str) {
        let mut guard = self.current.write().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_some_and(|c| &*c.token == stale) {
            *guard = None;
        }
    }

    /// The signed assertion for a grant issued at `iat`.
    pub fn assertion(&self, iat: u64) -> Result<String, AccessTokenError> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = self.key_id.clone();
        let claims = serde_json::json!({
            "iss": self.client_email,
            "scope": self.scope,
            "aud": self.token_url.as_str(),
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME.as_secs(),
        });
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|_| AccessTokenError::Sign)
    }

    async fn fetch(&self) -> Result<(String, Duration), AccessTokenError> {
        #[derive(Deserialize)]
        struct Answer {
            access_token: Option<String>,
            expires_in: Option<serde_json::Number>,
            token_type: Option<String>,
        }
        let assertion = self.assertion(now_secs())?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        let res = self
            .client
            .send(
                Method::POST,
                &self.token_url,
                &[("accept", "application/json")],
                Some(RequestBody::Form(vec![
                    ("grant_type".into(), JWT_BEARER_GRANT.into()),
                    ("assertion".into(), assertion),
                ])),
            )
            .await?;
        let answer: Answer = res.json(&self.token_url)?;
        let token = answer
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or(AccessTokenError::Malformed)?;
        if answer
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
        {
            return Err(AccessTokenError::Malformed);
        }
        // Google always sends expires_in (3599); without it, assume the assertion lifetime.
        let lifetime = match answer.expires_in {
            None => ASSERTION_LIFETIME,
            Some(n) => match n.as_f64() {
                Some(s) if s.is_finite() && s > 0.0 => Duration::from_secs_f64(s.min(86_400.0)),
                _ => return Err(AccessTokenError::Malformed),
            },
        };
        Ok((token, lifetime))
    }
}
