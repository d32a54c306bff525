//! `provider = "supabase"`: Supabase Auth (GoTrue) access tokens, and `users.isAdmin` via PostgREST.
//!
//! Authentication, one of:
//! - remote (default, what `@mastra/auth-supabase` does through the SDK): `GET {url}/auth/v1/user`
//!   with `Authorization: Bearer <token>` and `apikey: <anon key>`. 200 with a user object -> the
//!   user (id = `id`, claims = the user object); 401/403/404 -> invalid token; anything else or no
//!   answer -> 503. Successful lookups are cached for at most [`MAX_REMOTE_CACHE_TTL`] and never
//!   past the token's `exp`, which is read from the token *without trusting it*, only to bound the
//!   cache and to skip the call for tokens that are malformed or clearly expired. Concurrent
//!   lookups of one token share a single call.
//! - local with the legacy HS256 `jwt_secret`, and/or local with the project's JWKS
//!   (`{url}/auth/v1/.well-known/jwks.json`, through [`KeySet`]): `iss` = `{url}/auth/v1`, `aud`
//!   = `authenticated`, `exp` required. With both, HS* tokens go to the secret, others to the JWKS.
//!
//! Authorization ([`AuthProvider::authorizes`] every user): PostgREST
//! `GET {url}/rest/v1/users?select=isAdmin&id=eq.{id}` with `apikey` and the *user's* token as
//! bearer (so row-level security applies as that user). `[{"isAdmin": true}]` allows; `[]`,
//! `false` or `null` denies (403); an error status, garbage or no answer is a 503 (Mastra allows on
//! error; we fail closed: an unanswered authorization must never become an allow).
//!
//! The user's token at authorization time is re-read from the request head (`parts`), exactly as
//! the pipeline extracted it (header, then `apiKey` query, then the `sb-access-token` cookie),
//! rather than smuggled through the user's claims; its unverified `sub` must equal the
//! authenticated user's id, or access is denied.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, Url};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::cache::{DEFAULT_CAPACITY, VerifiedTokenCache};
use crate::error::AuthError;
use crate::idp_http::{IdpClient, IdpClientConfig, IdpError};
use crate::jwt::{self, ClaimsPolicy, Rejection, VerifyKey};
use crate::keyset::{KeySet, KeySetConfig};
use crate::pattern::PatternList;
use crate::provider::AuthProvider;
use crate::setting::{fill, fill_secret, non_empty_secret};
use crate::token::TokenExtractor;
use crate::verdict::Verdict;
use crate::{Secret, User};

/// Longest a successful remote lookup is trusted without asking GoTrue again.
pub const MAX_REMOTE_CACHE_TTL: Duration = Duration::from_secs(60);
/// Audience of Supabase user access tokens.
pub const AUDIENCE: &str = "authenticated";
/// Cookie read for a token when the request has no header or query token.
pub const ACCESS_TOKEN_COOKIE: &str = "sb-access-token";
/// Minimum length of the legacy HS256 JWT secret.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

const COOKIES: &[&str] = &[ACCESS_TOKEN_COOKIE];
const HMAC_ALGS: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

/// Characters left as they are in a query value: RFC 3986 unreserved.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Settings of the Supabase provider.
///
/// With the `serde` feature it deserializes from a `[auth.supabase]` table with the keys `name`,
/// `url`, `anon_key`, `jwt_secret`, `verify_locally_with_jwks`, `jwks_uri`, `allow_insecure_http`,
/// `leeway` and `cache_ttl`; unknown keys are errors, the other settings keep their defaults.
#[derive(Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct SupabaseConfig {
    /// Provider name (default `supabase`).
    pub name: String,
    /// Project URL, e.g. `https://xyzcompany.supabase.co` (`SUPABASE_URL`).
    pub url: Option<String>,
    /// The project's anon (publishable) key, sent as `apikey` (`SUPABASE_ANON_KEY`).
    pub anon_key: Option<Secret>,
    /// Legacy HS256 JWT secret for local verification (`SUPABASE_JWT_SECRET`); >= 32 bytes.
    pub jwt_secret: Option<Secret>,
    /// Verify locally with the project's JWKS instead of asking GoTrue.
    pub verify_locally_with_jwks: bool,
    /// Override of the JWKS URL (default `{url}/auth/v1/.well-known/jwks.json`).
    pub jwks_uri: Option<String>,
    /// Permit `http://` to loopback hosts (tests, local Supabase CLI stacks).
    pub allow_insecure_http: bool,
    /// Connect timeout for GoTrue / PostgREST / JWKS calls.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub connect_timeout: Duration,
    /// Total timeout per call.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub timeout: Duration,
    /// Clock-skew allowance.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::config_serde::duration")
    )]
    pub leeway: Duration,
    /// Largest accepted token in bytes.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub max_token_bytes: usize,
    /// How long a remote lookup (or a local verification) is cached; at most
    /// [`MAX_REMOTE_CACHE_TTL`] for remote lookups.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::config_serde::duration")
    )]
    pub cache_ttl: Duration,
    /// Verified-token cache capacity (0 disables the cache).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub cache_capacity: u64,
    /// Provider-specific public paths.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub public: PatternList,
    /// Provider-specific protected paths.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub protected: PatternList,
}

impl std::fmt::Debug for SupabaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupabaseConfig")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("anon_key", &self.anon_key)
            .field("jwt_secret", &self.jwt_secret)
            .field("verify_locally_with_jwks", &self.verify_locally_with_jwks)
            .field("jwks_uri", &self.jwks_uri)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("timeout", &self.timeout)
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

impl Default for SupabaseConfig {
    fn default() -> Self {
        let http = IdpClientConfig::default();
        Self {
            name: "supabase".into(),
            url: None,
            anon_key: None,
            jwt_secret: None,
            verify_locally_with_jwks: false,
            jwks_uri: None,
            allow_insecure_http: false,
            connect_timeout: http.connect_timeout,
            timeout: http.timeout,
            leeway: jwt::DEFAULT_LEEWAY,
            max_token_bytes: jwt::DEFAULT_MAX_TOKEN_BYTES,
            cache_ttl: MAX_REMOTE_CACHE_TTL,
            cache_capacity: DEFAULT_CAPACITY,
            public: PatternList::default(),
            protected: PatternList::default(),
        }
    }
}

impl SupabaseConfig {
    /// A config with the two required settings.
    pub fn new(url: impl Into<String>, anon_key: impl Into<String>) -> Self {
        Self {
            url: Some(url.into()),
            anon_key: Some(Secret::new(anon_key)),
            ..Self::default()
        }
    }

    /// Fills unset fields through `lookup`: `url` from `SUPABASE_URL`, `anon_key` from
    /// `SUPABASE_ANON_KEY`, `jwt_secret` from `SUPABASE_JWT_SECRET`. Set fields win; blank
    /// variables count as unset.
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        fill(&mut self.url, &lookup, &["SUPABASE_URL"]);
        fill_secret(&mut self.anon_key, &lookup, &["SUPABASE_ANON_KEY"]);
        fill_secret(&mut self.jwt_secret, &lookup, &["SUPABASE_JWT_SECRET"]);
    }

    /// [`SupabaseConfig::fill_from_env`], by value.
    pub fn from_env_with(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        self.fill_from_env(lookup);
        self
    }

    /// [`SupabaseConfig::from_env_with`] over the process environment.
    pub fn from_env(self) -> Self {
        self.from_env_with(|k| std::env::var(k).ok())
    }
}

/// Why a Supabase provider could not be built. Each message begins with the name of the field at fault, so an application can put its own path (a config key) in front.
#[derive(Debug, thiserror::Error)]
pub enum SupabaseConfigError {
    /// No project URL.
    #[error("url (SUPABASE_URL) is required")]
    MissingUrl,
    /// No anon key.
    #[error("anon_key (SUPABASE_ANON_KEY) is required")]
    MissingAnonKey,
    /// The project URL is not usable.
    #[error("url: {0}")]
    BadUrl(String),
    /// The JWKS URL is not usable.
    #[error("jwks_uri: {0}")]
    BadJwksUri(String),
    /// The legacy secret is too short.
    #[error(
        "jwt_secret (SUPABASE_JWT_SECRET) is {0} bytes; at least {MIN_JWT_SECRET_BYTES} are required"
    )]
    ShortSecret(usize),
    /// A header value cannot be sent (control characters in the anon key).
    #[error("anon_key contains characters not allowed in an HTTP header")]
    BadAnonKey,
}

/// Result of one remote lookup, shareable between concurrent callers.
#[derive(Clone)]
enum Outcome {
    User(Arc<User>),
    Invalid(Rejection),
    Unavailable(String),
}

/// The `supabase` provider.
pub struct SupabaseProvider {
    name: Arc<str>,
    client: IdpClient,
    anon_key: Zeroizing<String>,
    user_url: Url,
    rest_users_url: String,
    secret_key: Option<VerifyKey>,
    jwks: Option<KeySet>,
    policy: ClaimsPolicy,
    max_token_bytes: usize,
    cache: Option<VerifiedTokenCache>,
    in_flight: Mutex<HashMap<[u8; 32], Arc<tokio::sync::OnceCell<Outcome>>>>,
    user_calls: AtomicU64,
    rest_calls: AtomicU64,
    public: PatternList,
    protected: PatternList,
}

impl std::fmt::Debug for SupabaseProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SupabaseProvider")
            .field("name", &self.name)
            .field("user_url", &self.user_url.as_str())
            .field("mode", &self.mode())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// How tokens are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SupabaseMode {
    /// `GET /auth/v1/user` for every (uncached) token.
    Remote,
    /// HS256 with the legacy secret.
    LocalSecret,
    /// The project's JWKS.
    LocalJwks,
    /// The secret for HS* tokens, the JWKS for the rest.
    LocalSecretAndJwks,
}

impl SupabaseProvider {
    /// Builds the provider.
    pub fn new(cfg: SupabaseConfig) -> Result<Self, SupabaseConfigError> {
        let url = cfg
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or(SupabaseConfigError::MissingUrl)?
            .trim_end_matches('/')
            .to_owned();
        let anon_key = Zeroizing::new(
            non_empty_secret(&cfg.anon_key)
                .ok_or(SupabaseConfigError::MissingAnonKey)?
                .to_owned(),
        );
        if http::HeaderValue::from_str(&anon_key).is_err() {
            return Err(SupabaseConfigError::BadAnonKey);
        }
        let client = IdpClient::new(IdpClientConfig {
            allow_insecure_http: cfg.allow_insecure_http,
            connect_timeout: cfg.connect_timeout,
            timeout: cfg.timeout,
            ..IdpClientConfig::default()
        });
        let base = client
            .url(&url)
            .map_err(|e| SupabaseConfigError::BadUrl(e.to_string()))?;
        if base.query().is_some() || base.fragment().is_some() {
            return Err(SupabaseConfigError::BadUrl(
                "must not have a query or fragment".into(),
            ));
        }
        let user_url = client
            .url(&format!("{url}/auth/v1/user"))
            .map_err(|e| SupabaseConfigError::BadUrl(e.to_string()))?;
        let secret_key = match cfg.jwt_secret.as_ref().map(Secret::expose) {
            None => None,
            Some(s) if s.len() < MIN_JWT_SECRET_BYTES => {
                return Err(SupabaseConfigError::ShortSecret(s.len()));
            }
            Some(s) => Some(VerifyKey {
                kid: None,
                algorithms: HMAC_ALGS.to_vec(),
                key: DecodingKey::from_secret(s.as_bytes()),
            }),
        };
        let jwks = if cfg.verify_locally_with_jwks {
            let jwks_url = cfg
                .jwks_uri
                .clone()
                .unwrap_or_else(|| format!("{url}/auth/v1/.well-known/jwks.json"));
            let set = KeySet::new(client.clone(), KeySetConfig::jwks(jwks_url))
                .map_err(|e| SupabaseConfigError::BadJwksUri(e.to_string()))?;
            Some(set)
        } else {
            None
        };
        let remote = secret_key.is_none() && jwks.is_none();
        let ttl = if remote {
            cfg.cache_ttl.min(MAX_REMOTE_CACHE_TTL)
        } else {
            cfg.cache_ttl
        };
        Ok(Self {
            name: cfg.name.into(),
            rest_users_url: format!("{url}/rest/v1/users"),
            client,
            anon_key,
            user_url,
            secret_key,
            jwks,
            policy: ClaimsPolicy {
                issuers: vec![format!("{url}/auth/v1")],
                audiences: vec![AUDIENCE.into()],
                require_exp: true,
                leeway: cfg.leeway,
            },
            max_token_bytes: cfg.max_token_bytes,
            cache: (cfg.cache_capacity > 0 && !ttl.is_zero())
                .then(|| VerifiedTokenCache::new(cfg.cache_capacity, ttl)),
            in_flight: Mutex::new(HashMap::new()),
            user_calls: AtomicU64::new(0),
            rest_calls: AtomicU64::new(0),
            public: cfg.public,
            protected: cfg.protected,
        })
    }

    /// How this provider verifies tokens.
    pub fn mode(&self) -> SupabaseMode {
        match (&self.secret_key, &self.jwks) {
            (None, None) => SupabaseMode::Remote,
            (Some(_), None) => SupabaseMode::LocalSecret,
            (None, Some(_)) => SupabaseMode::LocalJwks,
            (Some(_), Some(_)) => SupabaseMode::LocalSecretAndJwks,
        }
    }

    /// Calls made to `GET /auth/v1/user` so far.
    pub fn user_endpoint_calls(&self) -> u64 {
        self.user_calls.load(Ordering::Relaxed)
    }

    /// Calls made to PostgREST so far.
    pub fn rest_calls(&self) -> u64 {
        self.rest_calls.load(Ordering::Relaxed)
    }

    /// The JWKS key set, when verifying locally with it.
    pub fn key_set(&self) -> Option<&KeySet> {
        self.jwks.as_ref()
    }

    /// Verifies a token: `Err(InvalidToken)` for a refused token, `Err(Unavailable)` when
    /// GoTrue (or the JWKS) cannot be reached.
    pub async fn verify(&self, token: &str) -> Result<Arc<User>, AuthError> {
        let remote = self.mode() == SupabaseMode::Remote;
        let now = jwt::now_secs();
        // Remote results are trusted to the second of `exp`: GoTrue has no leeway.
        let cache_leeway = if remote {
            Duration::ZERO
        } else {
            self.policy.leeway
        };
        if let Some(cache) = &self.cache
            && let Some(user) = cache.get(token, now, cache_leeway)
        {
            return Ok(user);
        }
        let (user, exp) = if remote {
            self.verify_remote(token, now).await?
        } else {
            self.verify_local(token).await?
        };
        if let Some(cache) = &self.cache {
            cache.insert(token, user.clone(), exp);
        }
        Ok(user)
    }

    async fn verify_local(&self, token: &str) -> Result<(Arc<User>, Option<f64>), AuthError> {
        let parsed = jwt::parse(token, self.max_token_bytes).map_err(AuthError::InvalidToken)?;
        let hmac = HMAC_ALGS.contains(&parsed.header.alg);
        let (claims, exp) = match (&self.secret_key, &self.jwks) {
            (Some(key), _) if hmac => jwt::verify(
                token,
                std::slice::from_ref(key),
                &self.policy,
                self.max_token_bytes,
                jwt::now_secs(),
            )
            .map_err(AuthError::InvalidToken)?,
            (_, Some(set)) if !hmac => {
                set.verify(token, &self.policy, self.max_token_bytes)
                    .await?
            }
            _ => {
                return Err(AuthError::InvalidToken(Rejection::AlgorithmNotAllowed(
                    format!("{:?}", parsed.header.alg),
                )));
            }
        };
        match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(Value::String(_)) | None => {
                return Err(AuthError::InvalidToken(Rejection::MissingClaim("sub")));
            }
            Some(_) => return Err(AuthError::InvalidToken(Rejection::ClaimType("sub"))),
        }
        Ok((Arc::new(User::from_claims(claims, self.name.clone())), exp))
    }

    async fn verify_remote(
        &self,
        token: &str,
        now: u64,
    ) -> Result<(Arc<User>, Option<f64>), AuthError> {
        // Untrusted decode: refuse what GoTrue would refuse anyway without calling it, and read
        // `exp` to bound the cache.
        let parsed = jwt::parse(token, self.max_token_bytes).map_err(AuthError::InvalidToken)?;
        let exp = match parsed.claims.get("exp") {
            None => None,
            Some(Value::Number(n)) => n.as_f64().filter(|f| f.is_finite()),
            Some(_) => return Err(AuthError::InvalidToken(Rejection::ClaimType("exp"))),
        };
        if let Some(exp) = exp {
            let leeway = self.policy.leeway.as_secs();
            if exp + leeway as f64 <= now as f64 {
                return Err(AuthError::InvalidToken(Rejection::Expired {
                    exp,
                    now,
                    leeway,
                }));
            }
        }
        // GoTrue's tokens name the project (`{url}/auth/v1`). Anything else — another identity
        // provider's token, a composite sibling's, an API key shaped like a JWT — is refused
        // here, so it is never sent to Supabase.
        match parsed.claims.get("iss") {
            Some(Value::String(iss)) if self.policy.issuers.iter().any(|i| i == iss) => {}
            Some(Value::String(iss)) => {
                return Err(AuthError::InvalidToken(Rejection::IssuerMismatch {
                    found: iss.clone(),
                    expected: self.policy.issuers.clone(),
                }));
            }
            Some(_) => return Err(AuthError::InvalidToken(Rejection::ClaimType("iss"))),
            None => return Err(AuthError::InvalidToken(Rejection::MissingClaim("iss"))),
        }
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cell = {
            let mut map = self.in_flight.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key).or_default().clone()
        };
        let _cleanup = InFlightGuard {
            map: &self.in_flight,
            key,
            cell: cell.clone(),
        };
        let outcome = cell.get_or_init(|| self.fetch_user(token)).await.clone();
        match outcome {
            Outcome::User(u) => Ok((u, exp)),
            Outcome::Invalid(r) => Err(AuthError::InvalidToken(r)),
            Outcome::Unavailable(reason) => Err(AuthError::authentication_unavailable(reason)),
        }
    }

    async fn fetch_user(&self, token: &str) -> Outcome {
        self.user_calls.fetch_add(1, Ordering::Relaxed);
        let bearer = Zeroizing::new(format!("Bearer {token}"));
        let headers = [
            ("authorization", bearer.as_str()),
            ("apikey", self.anon_key.as_str()),
            ("accept", "application/json"),
        ];
        let res = match self
            .client
            .send(Method::GET, &self.user_url, &headers, None)
            .await
        {
            Ok(res) => res,
            Err(IdpError::Status { status, body, .. }) if matches!(status, 401 | 403 | 404) => {
                return Outcome::Invalid(Rejection::Provider(format!(
                    "Supabase Auth refused the token (HTTP {status}{})",
                    gotrue_error_code(&body)
                        .map(|c| format!(", {c}"))
                        .unwrap_or_default()
                )));
            }
            Err(e) => return Outcome::Unavailable(format!("supabase auth: {e}")),
        };
        if res.status != http::StatusCode::OK {
            return Outcome::Unavailable(format!(
                "supabase auth: unexpected HTTP {} from /auth/v1/user",
                res.status
            ));
        }
        let user: Map<String, Value> = match res.json(&self.user_url) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Outcome::Unavailable(
                    "supabase auth: /auth/v1/user did not answer a JSON object".into(),
                );
            }
            Err(e) => return Outcome::Unavailable(format!("supabase auth: {e}")),
        };
        let id = match user.get("id") {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            _ => {
                return Outcome::Unavailable(
                    "supabase auth: /auth/v1/user answered a user without an id".into(),
                );
            }
        };
        Outcome::User(Arc::new(User {
            id,
            claims: Arc::new(user),
            provider: self.name.clone(),
        }))
    }

    /// The PostgREST URL asking for `isAdmin` of user `id` (the id percent-encoded, so it can
    /// only ever be the value of the `eq.` filter).
    pub fn is_admin_url(&self, id: &str) -> Result<Url, IdpError> {
        let encoded = utf8_percent_encode(id, QUERY_VALUE);
        self.client.url(&format!(
            "{}?select=isAdmin&id=eq.{encoded}",
            self.rest_users_url
        ))
    }

    /// `users.isAdmin` for `user`, queried with the user's own token.
    pub async fn is_admin(&self, user_id: &str, user_token: &str) -> Result<bool, AuthError> {
        let unavailable = |reason: String| AuthError::authorization_unavailable(reason);
        let url = self
            .is_admin_url(user_id)
            .map_err(|e| unavailable(format!("supabase rest: {e}")))?;
        self.rest_calls.fetch_add(1, Ordering::Relaxed);
        let bearer = Zeroizing::new(format!("Bearer {user_token}"));
        let headers = [
            ("authorization", bearer.as_str()),
            ("apikey", self.anon_key.as_str()),
            ("accept", "application/json"),
        ];
        let res = self
            .client
            .send(Method::GET, &url, &headers, None)
            .await
            .map_err(|e| {
                let code = match &e {
                    IdpError::Status { body, .. } => postgrest_error_code(body)
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                unavailable(format!("supabase rest: {e}{code}"))
            })?;
        if res.status != http::StatusCode::OK {
            return Err(unavailable(format!(
                "supabase rest: unexpected HTTP {}",
                res.status
            )));
        }
        let rows: Value = res
            .json(&url)
            .map_err(|e| unavailable(format!("supabase rest: {e}")))?;
        match rows.as_array().map(Vec::as_slice) {
            Some([]) => Ok(false),
            Some([row]) => match row.get("isAdmin") {
                Some(Value::Bool(b)) => Ok(*b),
                Some(Value::Null) => Ok(false),
                _ => Err(unavailable(
                    "supabase rest: users row has no boolean isAdmin".into(),
                )),
            },
            Some(_) => Err(unavailable(
                "supabase rest: more than one users row for one id".into(),
            )),
            None => Err(unavailable(
                "supabase rest: answer is not a JSON array".into(),
            )),
        }
    }
}

/// Removes a finished (or abandoned) single-flight cell, so no later caller sees a stale result.
struct InFlightGuard<'a> {
    map: &'a Mutex<HashMap<[u8; 32], Arc<tokio::sync::OnceCell<Outcome>>>>,
    key: [u8; 32],
    cell: Arc<tokio::sync::OnceCell<Outcome>>,
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map
            .get(&self.key)
            .is_some_and(|c| Arc::ptr_eq(c, &self.cell))
        {
            map.remove(&self.key);
        }
    }
}

/// `error_code` of a GoTrue error body (`{"code":401,"error_code":"bad_jwt","msg":"..."}`).
fn gotrue_error_code(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    v.get("error_code")
        .or_else(|| v.get("error"))
        .and_then(Value::as_str)
        .filter(|c| c.len() <= 64)
        .map(str::to_owned)
}

/// `code` of a PostgREST error body (`{"code":"PGRST301","message":...}`).
fn postgrest_error_code(body: &str) -> Option<String> {
    let v: Value = serde_json::from_str(body).ok()?;
    v.get("code")
        .and_then(Value::as_str)
        .filter(|c| c.len() <= 16)
        .map(str::to_owned)
}

/// The token the pipeline authenticated, re-read from the request head with the pipeline's own
/// precedence. With the `apiKey` query turned off in the pipeline, a header and a different
/// query token are not a conflict there: the header token is the one that was authenticated.
fn request_token(parts: &Parts) -> Option<String> {
    let with_query = TokenExtractor {
        api_key_query: true,
    };
    match with_query.extract(parts, COOKIES) {
        Ok(found) => found.map(|(t, _)| t),
        Err(_) => TokenExtractor {
            api_key_query: false,
        }
        .extract(parts, COOKIES)
        .ok()
        .flatten()
        .map(|(t, _)| t),
    }
}

/// The unverified `sub` of a token (the token was verified moments ago; this only ties it to
/// the user being authorized).
fn unverified_sub(token: &str, max_bytes: usize) -> Option<String> {
    let parsed = jwt::parse(token, max_bytes).ok()?;
    parsed
        .claims
        .get("sub")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

impl AuthProvider for SupabaseProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn authenticate<'a>(&'a self, token: &'a str, _parts: &'a Parts) -> Verdict<'a, Option<User>> {
        Verdict::pending(async move {
            if token.is_empty() {
                return Ok(None);
            }
            self.verify(token).await.map(|u| Some((*u).clone()))
        })
    }

    fn authorizes(&self, _user: &User) -> bool {
        true
    }

    fn authorize<'a>(&'a self, user: &'a User, parts: &'a Parts) -> Verdict<'a, bool> {
        Verdict::pending(async move {
            if user.id.is_empty() {
                return Ok(false);
            }
            let Some(token) = request_token(parts) else {
                tracing::warn!(provider = %self.name, "no user token in the request to query users.isAdmin with; denying");
                return Ok(false);
            };
            if unverified_sub(&token, self.max_token_bytes).as_deref() != Some(user.id.as_str()) {
                tracing::warn!(provider = %self.name, "the request's token does not belong to the user being authorized; denying");
                return Ok(false);
            }
            self.is_admin(&user.id, &token).await
        })
    }

    fn public(&self) -> PatternList {
        self.public.clone()
    }

    fn protected(&self) -> PatternList {
        self.protected.clone()
    }

    fn cookie_names(&self) -> &[&str] {
        COOKIES
    }

    fn issuers(&self) -> &[String] {
        &self.policy.issuers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> SupabaseProvider {
        SupabaseProvider::new(SupabaseConfig::new("https://proj.supabase.co/", "anon")).unwrap()
    }

    #[test]
    fn config_errors_name_the_setting() {
        let e = SupabaseProvider::new(SupabaseConfig::default()).unwrap_err();
        assert!(e.to_string().starts_with("url"), "{e}");
        let e = SupabaseProvider::new(SupabaseConfig {
            url: Some("https://p.supabase.co".into()),
            ..SupabaseConfig::default()
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("anon_key"), "{e}");
        let e =
            SupabaseProvider::new(SupabaseConfig::new("http://p.supabase.co", "k")).unwrap_err();
        assert!(e.to_string().starts_with("url"), "{e}");
        let e = SupabaseProvider::new(SupabaseConfig {
            jwt_secret: Some("short".into()),
            ..SupabaseConfig::new("https://p.supabase.co", "k")
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("jwt_secret"), "{e}");
    }

    #[test]
    fn env_fills_only_unset_fields() {
        let env = |k: &str| match k {
            "SUPABASE_URL" => Some("https://env.supabase.co".to_owned()),
            "SUPABASE_ANON_KEY" => Some("env-anon".to_owned()),
            "SUPABASE_JWT_SECRET" => Some(String::new()),
            _ => None,
        };
        let c = SupabaseConfig {
            url: Some("https://cfg.supabase.co".into()),
            ..SupabaseConfig::default()
        }
        .from_env_with(env);
        assert_eq!(c.url.as_deref(), Some("https://cfg.supabase.co"));
        assert_eq!(c.anon_key.as_ref().map(Secret::expose), Some("env-anon"));
        assert_eq!(c.jwt_secret, None);
    }

    #[test]
    fn debug_redacts_keys() {
        let c = SupabaseConfig {
            jwt_secret: Some("super-secret-value-super-secret-value".into()),
            ..SupabaseConfig::new("https://p.supabase.co", "anon-key-value")
        };
        let s = format!("{c:?}");
        assert!(
            !s.contains("anon-key-value") && !s.contains("super-secret"),
            "{s}"
        );
    }

    #[test]
    fn id_is_encoded_into_one_filter_value() {
        let p = provider();
        let u = p
            .is_admin_url("a&isAdmin=eq.true,or=(id.neq.x)#/../x y")
            .unwrap();
        assert_eq!(
            u.as_str(),
            "https://proj.supabase.co/rest/v1/users?select=isAdmin&id=eq.a%26isAdmin%3Deq.true%2Cor%3D%28id.neq.x%29%23%2F..%2Fx%20y"
        );
        let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        assert_eq!(pairs.len(), 2);
        assert_eq!(pairs[1].1, "eq.a&isAdmin=eq.true,or=(id.neq.x)#/../x y");
        assert_eq!(u.path(), "/rest/v1/users");
    }

    #[test]
    fn mode_and_cookie() {
        let p = provider();
        assert_eq!(p.mode(), SupabaseMode::Remote);
        assert_eq!(p.cookie_names(), &["sb-access-token"]);
        let user = User::from_claims(Default::default(), "supabase".into());
        assert!(p.authorizes(&user));
    }
}
