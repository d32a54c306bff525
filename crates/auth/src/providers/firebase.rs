//! `provider = "firebase"`: Firebase Auth ID tokens, and access from the Firestore document
//! `user_access/{uid}`.
//!
//! Verification follows Firebase's rules for ID tokens (what `verifyIdToken` of the Admin SDK
//! checks): RS256 only; a `kid` that names one of Google's securetoken certificates
//! ([`DEFAULT_CERTS_URL`], a `{kid: PEM certificate}` map cached per `Cache-Control`); `iss` =
//! `https://securetoken.google.com/{project}`; `aud` = the project id (a single string); `sub` a
//! non-empty string of at most 128 characters, which is the uid; `exp` required and in the
//! future; `iat` and `auth_time` numeric and not in the future. As in the Admin SDK's decoded
//! token, the user's claims gain `uid` (= `sub`).
//!
//! Authorization ([`AuthProvider::authorizes`] every user), as `@mastra/auth-firebase`:
//! the document `user_access/{uid}` in the configured Firestore database must exist. Read over
//! the Firestore REST API, `GET {base}/projects/{project}/databases/{db}/documents/user_access/{uid}`,
//! with an OAuth access token minted from the service account ([`crate::google_oauth`]). 200 ->
//! allow; 404 -> deny; anything else (or no answer, or no access token) -> 503, never an allow.
//! A uid that cannot be a Firestore document id (`/`, `.`, `..`, `__name__`-style) is denied
//! without a request: it can name no document in `user_access`.

use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use jsonwebtoken::Algorithm;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, Url};
use serde_json::Value;

use crate::cache::{DEFAULT_CAPACITY, DEFAULT_MAX_TTL, VerifiedTokenCache};
use crate::error::AuthError;
use crate::google_oauth::{
    AccessTokenError, AccessTokenSource, AccessTokenSourceError, DATASTORE_SCOPE, ServiceAccount,
    ServiceAccountError,
};
use crate::idp_http::{IdpClient, IdpClientConfig, IdpError};
use crate::jwt::{self, ClaimsPolicy, Rejection};
use crate::keyset::{KeySet, KeySetConfig};
use crate::pattern::PatternList;
use crate::provider::AuthProvider;
use crate::setting::{fill, fill_secret, non_empty_secret};
use crate::verdict::Verdict;
use crate::{Secret, User};

/// Google's securetoken certificates (`{kid: PEM certificate}`), which sign Firebase ID tokens.
pub const DEFAULT_CERTS_URL: &str =
    "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com";
/// The Firestore REST API.
pub const DEFAULT_FIRESTORE_BASE_URL: &str = "https://firestore.googleapis.com/v1";
/// The database used when none is configured.
pub const DEFAULT_DATABASE_ID: &str = "(default)";
/// Issuer prefix; the project id follows.
pub const ISSUER_PREFIX: &str = "https://securetoken.google.com/";
/// The collection whose documents grant access.
pub const ACCESS_COLLECTION: &str = "user_access";
/// Longest uid Firebase issues (and accepts in `sub`).
pub const MAX_UID_CHARS: usize = 128;

/// Characters left as they are in a path segment: RFC 3986 unreserved plus `(` `)` (so
/// `(default)` reads as Google writes it). Everything else, `/` and `%` included, is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'(')
    .remove(b')');

/// Settings of the Firebase provider.
///
/// With the `serde` feature it deserializes from a `[auth.firebase]` table with the keys `name`,
/// `project_id`, `service_account`, `database_id`, `certs_url`, `token_uri`, `firestore_base_url`,
/// `allow_insecure_http` and `leeway`; unknown keys are errors, the other settings keep their
/// defaults.
#[derive(Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct FirebaseConfig {
    /// Provider name (default `firebase`).
    pub name: String,
    /// The Firebase project id; defaults to the service account's `project_id`.
    pub project_id: Option<String>,
    /// The service account: the path of its JSON key file, or the JSON text itself
    /// (`FIREBASE_SERVICE_ACCOUNT`, then `GOOGLE_APPLICATION_CREDENTIALS`). Never logged.
    pub service_account: Option<Secret>,
    /// Firestore database (`FIRESTORE_DATABASE_ID`, then `FIREBASE_DATABASE_ID`; default
    /// `(default)`).
    pub database_id: Option<String>,
    /// Override of [`DEFAULT_CERTS_URL`].
    pub certs_url: Option<String>,
    /// Override of the OAuth token endpoint (default: the service account's `token_uri`, else
    /// `https://oauth2.googleapis.com/token`).
    pub token_uri: Option<String>,
    /// Override of [`DEFAULT_FIRESTORE_BASE_URL`].
    pub firestore_base_url: Option<String>,
    /// Permit `http://` to loopback hosts (tests, emulators).
    pub allow_insecure_http: bool,
    /// Connect timeout for Google calls.
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
    /// Verified-token cache capacity (0 disables the cache).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub cache_capacity: u64,
    /// Longest a verified token is trusted from the cache.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub cache_max_ttl: Duration,
    /// Provider-specific public paths.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub public: PatternList,
    /// Provider-specific protected paths.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub protected: PatternList,
}

impl std::fmt::Debug for FirebaseConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirebaseConfig")
            .field("name", &self.name)
            .field("project_id", &self.project_id)
            .field("service_account", &self.service_account)
            .field("database_id", &self.database_id)
            .field("certs_url", &self.certs_url)
            .field("token_uri", &self.token_uri)
            .field("firestore_base_url", &self.firestore_base_url)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for FirebaseConfig {
    fn default() -> Self {
        let http = IdpClientConfig::default();
        Self {
            name: "firebase".into(),
            project_id: None,
            service_account: None,
            database_id: None,
            certs_url: None,
            token_uri: None,
            firestore_base_url: None,
            allow_insecure_http: false,
            connect_timeout: http.connect_timeout,
            timeout: http.timeout,
            leeway: jwt::DEFAULT_LEEWAY,
            max_token_bytes: jwt::DEFAULT_MAX_TOKEN_BYTES,
            cache_capacity: DEFAULT_CAPACITY,
            cache_max_ttl: DEFAULT_MAX_TTL,
            public: PatternList::default(),
            protected: PatternList::default(),
        }
    }
}

impl FirebaseConfig {
    /// Fills unset fields through `lookup`: `service_account` from `FIREBASE_SERVICE_ACCOUNT`,
    /// then `GOOGLE_APPLICATION_CREDENTIALS`; `database_id` from `FIRESTORE_DATABASE_ID`, then
    /// `FIREBASE_DATABASE_ID`. Set fields win; blank variables count as unset.
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        fill_secret(
            &mut self.service_account,
            &lookup,
            &["FIREBASE_SERVICE_ACCOUNT", "GOOGLE_APPLICATION_CREDENTIALS"],
        );
        fill(
            &mut self.database_id,
            &lookup,
            &["FIRESTORE_DATABASE_ID", "FIREBASE_DATABASE_ID"],
        );
    }

    /// [`FirebaseConfig::fill_from_env`], by value.
    pub fn from_env_with(mut self, lookup: impl Fn(&str) -> Option<String>) -> Self {
        self.fill_from_env(lookup);
        self
    }

    /// [`FirebaseConfig::from_env_with`] over the process environment.
    pub fn from_env(self) -> Self {
        self.from_env_with(|k| std::env::var(k).ok())
    }
}

/// Why a Firebase provider could not be built. Each message begins with the name of the field at fault, so an application can put its own path (a config key) in front.
#[derive(Debug, thiserror::Error)]
pub enum FirebaseConfigError {
    /// No service account.
    #[error(
        "service_account (FIREBASE_SERVICE_ACCOUNT) is required: a service-account key file (path or JSON) whose credentials read Firestore's user_access collection"
    )]
    MissingServiceAccount,
    /// The service account could not be loaded.
    #[error("service_account: {0}")]
    ServiceAccount(#[from] ServiceAccountError),
    /// No project id anywhere.
    #[error("project_id is required (the service account has no project_id either)")]
    MissingProjectId,
    /// The project id is not a plain identifier.
    #[error("project_id {0:?} is not a valid project id")]
    BadProjectId(String),
    /// The database id is not a plain identifier.
    #[error("database_id {0:?} is not a valid Firestore database id")]
    BadDatabaseId(String),
    /// A URL setting is unusable.
    #[error("{setting}: {message}")]
    BadUrl {
        /// Which setting.
        setting: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// The `firebase` provider.
pub struct FirebaseProvider {
    name: Arc<str>,
    project_id: String,
    database_id: String,
    keys: KeySet,
    policy: ClaimsPolicy,
    max_token_bytes: usize,
    cache: Option<VerifiedTokenCache>,
    client: IdpClient,
    firestore_base: String,
    tokens: AccessTokenSource,
    public: PatternList,
    protected: PatternList,
}

impl std::fmt::Debug for FirebaseProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirebaseProvider")
            .field("name", &self.name)
            .field("project_id", &self.project_id)
            .field("database_id", &self.database_id)
            .field("keys", &self.keys)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

fn valid_project_id(p: &str) -> bool {
    // Project ids are lower-case letters, digits and hyphens; legacy domain-scoped ones carry
    // `domain.tld:`. Nothing that could change a URL path.
    !p.is_empty()
        && p.len() <= 100
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':'))
}

fn valid_database_id(d: &str) -> bool {
    d == DEFAULT_DATABASE_ID
        || (!d.is_empty()
            && d.len() <= 63
            && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// Whether `id` can be a Firestore document id: non-empty, at most 1500 bytes, no `/`, not `.`
/// or `..`, not of the reserved form `__.*__`.
pub fn valid_document_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 1500
        && !id.contains('/')
        && id != "."
        && id != ".."
        && !(id.len() >= 4 && id.starts_with("__") && id.ends_with("__"))
}

impl FirebaseProvider {
    /// Builds the provider: loads the service account, vets every URL.
    pub fn new(cfg: FirebaseConfig) -> Result<Self, FirebaseConfigError> {
        let sa_value = non_empty_secret(&cfg.service_account)
            .ok_or(FirebaseConfigError::MissingServiceAccount)?;
        let account = ServiceAccount::load(sa_value)?;
        let project_id = cfg
            .project_id
            .clone()
            .filter(|p| !p.trim().is_empty())
            .or_else(|| account.project_id.clone().filter(|p| !p.is_empty()))
            .ok_or(FirebaseConfigError::MissingProjectId)?;
        if !valid_project_id(&project_id) {
            return Err(FirebaseConfigError::BadProjectId(project_id));
        }
        let database_id = cfg
            .database_id
            .clone()
            .filter(|d| !d.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_DATABASE_ID.to_owned());
        if !valid_database_id(&database_id) {
            return Err(FirebaseConfigError::BadDatabaseId(database_id));
        }
        let client = IdpClient::new(IdpClientConfig {
            allow_insecure_http: cfg.allow_insecure_http,
            connect_timeout: cfg.connect_timeout,
            timeout: cfg.timeout,
            ..IdpClientConfig::default()
        });
        let bad = |setting: &'static str| {
            move |e: IdpError| FirebaseConfigError::BadUrl {
                setting,
                message: e.to_string(),
            }
        };
        let certs_url = cfg.certs_url.as_deref().unwrap_or(DEFAULT_CERTS_URL);
        let mut key_config = KeySetConfig::x509_pem_map(certs_url);
        key_config.allowed_algorithms = Some(vec![Algorithm::RS256]);
        let keys = KeySet::new(client.clone(), key_config).map_err(bad("certs_url"))?;
        let token_uri = cfg
            .token_uri
            .clone()
            .unwrap_or_else(|| account.token_uri().to_owned());
        let tokens = AccessTokenSource::new(client.clone(), &account, &token_uri, DATASTORE_SCOPE)
            .map_err(|e| match e {
                AccessTokenSourceError::Account(a) => FirebaseConfigError::ServiceAccount(a),
                AccessTokenSourceError::Url(u) => bad("token_uri")(u),
            })?;
        let firestore_base = cfg
            .firestore_base_url
            .as_deref()
            .unwrap_or(DEFAULT_FIRESTORE_BASE_URL)
            .trim_end_matches('/')
            .to_owned();
        let base = client
            .url(&firestore_base)
            .map_err(bad("firestore_base_url"))?;
        if base.query().is_some() || base.fragment().is_some() {
            return Err(FirebaseConfigError::BadUrl {
                setting: "firestore_base_url",
                message: "must not have a query or fragment".into(),
            });
        }
        Ok(Self {
            name: cfg.name.into(),
            policy: ClaimsPolicy {
                issuers: vec![format!("{ISSUER_PREFIX}{project_id}")],
                audiences: vec![project_id.clone()],
                require_exp: true,
                leeway: cfg.leeway,
            },
            project_id,
            database_id,
            keys,
            max_token_bytes: cfg.max_token_bytes,
            cache: (cfg.cache_capacity > 0)
                .then(|| VerifiedTokenCache::new(cfg.cache_capacity, cfg.cache_max_ttl)),
            client,
            firestore_base,
            tokens,
            public: cfg.public,
            protected: cfg.protected,
        })
    }

    /// The Firebase project id.
    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    /// The Firestore database id.
    pub fn database_id(&self) -> &str {
        &self.database_id
    }

    /// The securetoken certificate set.
    pub fn key_set(&self) -> &KeySet {
        &self.keys
    }

    /// The service-account access-token source (for metrics and tests).
    pub fn access_tokens(&self) -> &AccessTokenSource {
        &self.tokens
    }

    /// Verifies an ID token: `Err(InvalidToken)` with the precise reason when refused,
    /// `Err(Unavailable)` when no certificate can be had.
    pub async fn verify(&self, token: &str) -> Result<Arc<User>, AuthError> {
        let now = jwt::now_secs();
        if let Some(cache) = &self.cache
            && let Some(user) = cache.get(token, now, self.policy.leeway)
        {
            return Ok(user);
        }
        let invalid = AuthError::InvalidToken;
        // Header rules first: no network and no crypto for tokens that cannot be Firebase's.
        let parsed = jwt::parse(token, self.max_token_bytes).map_err(invalid)?;
        if parsed.header.alg != Algorithm::RS256 {
            return Err(invalid(Rejection::AlgorithmNotAllowed(format!(
                "{:?}",
                parsed.header.alg
            ))));
        }
        if parsed.header.kid.as_deref().is_none_or(str::is_empty) {
            return Err(invalid(Rejection::Provider(
                "Firebase ID token has no \"kid\" header".into(),
            )));
        }
        let (mut claims, exp) = self
            .keys
            .verify(token, &self.policy, self.max_token_bytes)
            .await?;
        check_firebase_claims(&claims, &self.project_id, self.policy.leeway, now)
            .map_err(invalid)?;
        let uid = claims
            .get("sub")
            .cloned()
            .unwrap_or_else(|| Value::String(String::new()));
        claims.insert("uid".into(), uid);
        let user = Arc::new(User::from_claims(claims, self.name.clone()));
        if let Some(cache) = &self.cache {
            cache.insert(token, user.clone(), exp);
        }
        Ok(user)
    }

    /// The REST URL of `user_access/{uid}`, or `None` when `uid` cannot be a document id.
    pub fn access_document_url(&self, uid: &str) -> Option<Url> {
        if !valid_document_id(uid) {
            return None;
        }
        let url = format!(
            "{}/projects/{}/databases/{}/documents/{ACCESS_COLLECTION}/{}",
            self.firestore_base,
            utf8_percent_encode(&self.project_id, SEGMENT),
            utf8_percent_encode(&self.database_id, SEGMENT),
            utf8_percent_encode(uid, SEGMENT),
        );
        let parsed = self.client.url(&url).ok()?;
        // Belt and braces: the parsed path must end with exactly the segment we wrote.
        let last = parsed.path_segments()?.next_back()?;
        (last == utf8_percent_encode(uid, SEGMENT).to_string()).then_some(parsed)
    }

    /// Whether the document `user_access/{uid}` exists: `Ok(true)` / `Ok(false)`, or
    /// `Err(Unavailable)` when Firestore or the token endpoint cannot answer.
    pub async fn has_access(&self, uid: &str) -> Result<bool, AuthError> {
        let Some(url) = self.access_document_url(uid) else {
            return Ok(false);
        };
        let unavailable = AuthError::authorization_unavailable;
        let expected_name = format!(
            "projects/{}/databases/{}/documents/{ACCESS_COLLECTION}/{uid}",
            self.project_id, self.database_id
        );
        for attempt in 0..2 {
            let token = self.tokens.token().await.map_err(|e: AccessTokenError| {
                unavailable(format!("firebase: no Google access token: {e}"))
            })?;
            let bearer = format!("Bearer {token}");
            let headers = [
                ("authorization", bearer.as_str()),
                ("accept", "application/json"),
            ];
            match self.client.send(Method::GET, &url, &headers, None).await {
                Ok(res) if res.status == http::StatusCode::OK => {
                    // A 200 counts only if it is the document asked for (not a proxy's page).
                    let doc: Value = res
                        .json(&url)
                        .map_err(|e| unavailable(format!("firestore: {e}")))?;
                    return match doc.get("name").and_then(Value::as_str) {
                        Some(name) if name == expected_name => Ok(true),
                        _ => Err(unavailable(
                            "firestore: 200 answer is not the requested document".into(),
                        )),
                    };
                }
                Ok(res) => {
                    return Err(unavailable(format!(
                        "firestore: unexpected HTTP {}",
                        res.status
                    )));
                }
                Err(IdpError::Status {
                    status: 404, body, ..
                }) => {
                    return match firestore_error(&body) {
                        Some((_, message)) if message.contains("does not exist for project") => {
                            Err(unavailable(format!(
                                "firestore: database {} not found",
                                self.database_id
                            )))
                        }
                        _ => Ok(false),
                    };
                }
                // The access token was revoked or expired early: mint a new one, once.
                Err(IdpError::Status { status: 401, .. }) if attempt == 0 => {
                    self.tokens.invalidate(&token);
                }
                Err(e) => {
                    let status = match &e {
                        IdpError::Status { body, .. } => firestore_error(body)
                            .map(|(s, _)| format!(" ({s})"))
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    return Err(unavailable(format!("firestore: {e}{status}")));
                }
            }
        }
        Err(unavailable(
            "firestore: refused a freshly minted access token".into(),
        ))
    }
}

/// `(status, message)` of a Google API error body `{"error":{"code","message","status"}}`.
fn firestore_error(body: &str) -> Option<(String, String)> {
    let v: Value = serde_json::from_str(body).ok()?;
    let e = v.get("error")?;
    let status = e.get("status").and_then(Value::as_str).unwrap_or_default();
    let message = e.get("message").and_then(Value::as_str).unwrap_or_default();
    Some((
        status.chars().take(64).collect(),
        message.chars().take(256).collect(),
    ))
}

/// The Firebase-specific claim rules on top of the generic ones (signature, `iss`, `aud`
/// membership, `exp`/`nbf`/`iat` times, which [`KeySet::verify`] already checked).
pub fn check_firebase_claims(
    claims: &serde_json::Map<String, Value>,
    project_id: &str,
    leeway: Duration,
    now: u64,
) -> Result<(), Rejection> {
    // `aud` must be the project id itself, not an array containing it.
    match claims.get("aud") {
        Some(Value::String(a)) if a == project_id => {}
        Some(Value::String(a)) => {
            return Err(Rejection::AudienceMismatch {
                found: vec![a.clone()],
                expected: vec![project_id.to_owned()],
            });
        }
        Some(_) => return Err(Rejection::ClaimType("aud")),
        None => return Err(Rejection::MissingClaim("aud")),
    }
    match claims.get("sub") {
        Some(Value::String(s)) if s.is_empty() => {
            return Err(Rejection::Provider(
                "Firebase ID token has an empty \"sub\"".into(),
            ));
        }
        Some(Value::String(s)) if s.chars().count() > MAX_UID_CHARS => {
            return Err(Rejection::Provider(format!(
                "Firebase ID token has a \"sub\" longer than {MAX_UID_CHARS} characters"
            )));
        }
        Some(Value::String(_)) => {}
        Some(_) => return Err(Rejection::ClaimType("sub")),
        None => return Err(Rejection::MissingClaim("sub")),
    }
    let limit = (now + leeway.as_secs()) as f64;
    for name in ["iat", "auth_time"] {
        match claims.get(name) {
            None => return Err(Rejection::MissingClaim(name)),
            Some(Value::Number(n)) => match n.as_f64() {
                Some(t) if t.is_finite() && t <= limit => {}
                Some(t) if t.is_finite() => {
                    return Err(Rejection::Provider(format!(
                        "Firebase ID token {name:?} is in the future ({t}, now {now})"
                    )));
                }
                _ => return Err(Rejection::ClaimType(name)),
            },
            Some(_) => return Err(Rejection::ClaimType(name)),
        }
    }
    Ok(())
}

impl AuthProvider for FirebaseProvider {
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

    fn authorize<'a>(&'a self, user: &'a User, _parts: &'a Parts) -> Verdict<'a, bool> {
        Verdict::pending(async move {
            if user.id.is_empty() {
                return Ok(false);
            }
            self.has_access(&user.id).await
        })
    }

    fn public(&self) -> PatternList {
        self.public.clone()
    }

    fn protected(&self) -> PatternList {
        self.protected.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn document_ids() {
        for ok in ["abc", "a.b", "a..b", "x y", "ü", "_a_", "__a"] {
            assert!(valid_document_id(ok), "{ok}");
        }
        for bad in ["", ".", "..", "a/b", "/", "__name__", "____"] {
            assert!(!valid_document_id(bad), "{bad}");
        }
    }

    #[test]
    fn firebase_claim_rules() {
        let now = 1_000_000;
        let ok = json!({"aud": "p", "sub": "u", "iat": now - 10, "auth_time": now - 20});
        let m = |v: Value| v.as_object().cloned().unwrap();
        let check = |v: Value| check_firebase_claims(&m(v), "p", Duration::from_secs(30), now);
        assert!(check(ok.clone()).is_ok());
        let mut v = ok.clone();
        v["aud"] = json!(["p"]);
        assert_eq!(check(v), Err(Rejection::ClaimType("aud")));
        let mut v = ok.clone();
        v["sub"] = json!("");
        assert!(check(v).is_err());
        let mut v = ok.clone();
        v["sub"] = json!("x".repeat(129));
        assert!(check(v).is_err());
        let mut v = ok.clone();
        v["auth_time"] = json!(now + 3600);
        assert!(check(v).is_err());
        let mut v = ok.clone();
        v["auth_time"] = json!("yesterday");
        assert_eq!(check(v), Err(Rejection::ClaimType("auth_time")));
        let mut v = ok.clone();
        v.as_object_mut().unwrap().remove("auth_time");
        assert_eq!(check(v), Err(Rejection::MissingClaim("auth_time")));
        let mut v = ok;
        v.as_object_mut().unwrap().remove("iat");
        assert_eq!(check(v), Err(Rejection::MissingClaim("iat")));
    }

    #[test]
    fn env_order() {
        let env = |k: &str| match k {
            "GOOGLE_APPLICATION_CREDENTIALS" => Some("/adc.json".to_owned()),
            "FIREBASE_DATABASE_ID" => Some("second".to_owned()),
            "FIRESTORE_DATABASE_ID" => Some("first".to_owned()),
            _ => None,
        };
        let c = FirebaseConfig::default().from_env_with(env);
        assert_eq!(
            c.service_account.as_ref().map(Secret::expose),
            Some("/adc.json")
        );
        assert_eq!(c.database_id.as_deref(), Some("first"));
        let c = FirebaseConfig {
            service_account: Some("/mine.json".into()),
            database_id: Some("mine".into()),
            ..FirebaseConfig::default()
        }
        .from_env_with(|k| (k == "FIREBASE_SERVICE_ACCOUNT").then(|| "/env.json".to_owned()));
        assert_eq!(
            c.service_account.as_ref().map(Secret::expose),
            Some("/mine.json")
        );
        assert_eq!(c.database_id.as_deref(), Some("mine"));
    }

    #[test]
    fn missing_service_account_names_the_setting() {
        let e = FirebaseProvider::new(FirebaseConfig::default()).unwrap_err();
        assert!(e.to_string().starts_with("service_account"), "{e}");
        let e = FirebaseProvider::new(FirebaseConfig {
            service_account: Some("/nonexistent/sa.json".into()),
            ..FirebaseConfig::default()
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("service_account"), "{e}");
    }
}
