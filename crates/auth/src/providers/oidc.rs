//! `provider = "oidc"`: any OpenID Connect provider, found by discovery.
//!
//! On first use, `GET {issuer}/.well-known/openid-configuration` (once, single-flight; retried
//! after a failure, at most once per [`FETCH_FAILURE_BACKOFF`]); the document's `issuer` must
//! equal the configured issuer exactly (OpenID Connect Discovery §4.3), else nothing is accepted
//! (503 naming the mismatch); its `jwks_uri` becomes the provider's [`KeySet`]. Tokens must carry
//! that issuer, an audience (the configured `audience` or `client_id`) and `exp`.
//! Default authorization: the user has a non-empty id (`sub`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::request::Parts;
use jsonwebtoken::Algorithm;
use tokio::sync::OnceCell;

use crate::User;
use crate::cache::{DEFAULT_CAPACITY, DEFAULT_MAX_TTL};
use crate::error::AuthError;
use crate::idp_http::{IdpClient, IdpClientConfig};
use crate::jwt::{self, ClaimsPolicy};
use crate::keyset::{FETCH_FAILURE_BACKOFF, KeySet, KeySetConfig, KeySetStats, KeySetTiming};
use crate::pattern::PatternList;
use crate::provider::AuthProvider;
use crate::providers::jwks::{KeySetProviderError, KeySetVerifier, check_algorithms};
use crate::setting::non_empty;
use crate::verdict::Verdict;

/// The discovery path appended to the issuer.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// Settings of the OIDC provider.
///
/// With the `serde` feature it deserializes from a `[auth.oidc]` table with the keys `name`,
/// `issuer`, `audience`, `client_id`, `jwks_uri`, `discovery_url`, `algorithms`, `leeway` and
/// `allow_insecure_http` (for `http.allow_insecure_http`); unknown keys are errors, the other
/// settings keep their defaults.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct OidcConfig {
    /// Provider name (default `oidc`).
    pub name: String,
    /// The issuer identifier, exactly as the provider's tokens and discovery document spell it.
    pub issuer: String,
    /// An `aud` value accepted (an API identifier / resource indicator).
    pub audience: Option<String>,
    /// The client id, accepted as `aud` (ID tokens carry it). `audience` or `client_id` is required.
    pub client_id: Option<String>,
    /// Overrides the discovered `jwks_uri` (discovery is then skipped).
    pub jwks_uri: Option<String>,
    /// Overrides where the discovery document is fetched from (default
    /// `{issuer}/.well-known/openid-configuration`); the issuer check still applies.
    pub discovery_url: Option<String>,
    /// Restricts the accepted algorithms (default: whatever each key's type allows).
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::config_serde::algorithms")
    )]
    pub algorithms: Option<Vec<Algorithm>>,
    /// Clock-skew allowance for `exp`/`nbf`/`iat`.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::config_serde::duration")
    )]
    pub leeway: Duration,
    /// Largest accepted token in bytes.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub max_token_bytes: usize,
    /// Verified-token cache capacity (0 disables it).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub cache_capacity: u64,
    /// Longest a verified token is trusted from the cache.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub cache_max_ttl: Duration,
    /// HTTP client settings (timeouts, size cap, `allow_insecure_http`).
    #[cfg_attr(
        feature = "serde",
        serde(
            rename = "allow_insecure_http",
            deserialize_with = "crate::config_serde::insecure_http"
        )
    )]
    pub http: IdpClientConfig,
    /// Key-set lifetimes and refresh limits.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub key_set: KeySetTiming,
    /// Provider-specific public paths.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub public: PatternList,
    /// Provider-specific protected paths.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub protected: PatternList,
}

impl Default for OidcConfig {
    fn default() -> Self {
        Self {
            name: "oidc".into(),
            issuer: String::new(),
            audience: None,
            client_id: None,
            jwks_uri: None,
            discovery_url: None,
            algorithms: None,
            leeway: jwt::DEFAULT_LEEWAY,
            max_token_bytes: jwt::DEFAULT_MAX_TOKEN_BYTES,
            cache_capacity: DEFAULT_CAPACITY,
            cache_max_ttl: DEFAULT_MAX_TTL,
            http: IdpClientConfig::default(),
            key_set: KeySetTiming::default(),
            public: PatternList::default(),
            protected: PatternList::default(),
        }
    }
}

impl OidcConfig {
    /// A config with an issuer and an audience.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: Some(audience.into()),
            ..Self::default()
        }
    }

    /// Reads no environment variable: every setting of this provider comes from its config.
    /// Present so that every provider config is completed the same way.
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        let _ = lookup;
    }
}

/// The `oidc` provider.
pub struct OidcProvider {
    name: Arc<str>,
    issuer: String,
    discovery_url: Option<reqwest::Url>,
    client: IdpClient,
    config: OidcConfig,
    policy: ClaimsPolicy,
    verifier: OnceCell<KeySetVerifier>,
    last_failure: Mutex<Option<(Instant, String)>>,
}

impl std::fmt::Debug for OidcProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcProvider")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("policy", &self.policy)
            .field("verifier", &self.verifier.get())
            .finish_non_exhaustive()
    }
}

impl OidcProvider {
    /// Builds the provider; nothing is fetched until the first token (or [`Self::discover`]).
    pub fn new(cfg: OidcConfig) -> Result<Self, KeySetProviderError> {
        const P: &str = "oidc";
        let issuer = cfg.issuer.trim().to_owned();
        if issuer.is_empty() {
            return Err(KeySetProviderError::Missing {
                provider: P,
                setting: "issuer",
            });
        }
        let audiences: Vec<String> = [non_empty(&cfg.audience), non_empty(&cfg.client_id)]
            .into_iter()
            .flatten()
            .map(str::to_owned)
            .collect();
        if audiences.is_empty() {
            return Err(KeySetProviderError::Missing {
                provider: P,
                setting: "audience or client_id",
            });
        }
        check_algorithms(P, &cfg.algorithms)?;
        let client = IdpClient::new(cfg.http.clone());
        let url_err = |setting| {
            move |source| KeySetProviderError::Url {
                provider: P,
                setting,
                source,
            }
        };
        let discovery_url = match (non_empty(&cfg.jwks_uri), non_empty(&cfg.discovery_url)) {
            (Some(jwks), _) => {
                client.url(jwks).map_err(url_err("jwks_uri"))?;
                None
            }
            (None, Some(d)) => Some(client.url(d).map_err(url_err("discovery_url"))?),
            (None, None) => Some(
                client
                    .url(&format!("{}{DISCOVERY_PATH}", issuer.trim_end_matches('/')))
                    .map_err(url_err("issuer"))?,
            ),
        };
        let policy = ClaimsPolicy {
            issuers: vec![issuer.clone()],
            audiences,
            require_exp: true,
            leeway: cfg.leeway,
        };
        Ok(Self {
            name: cfg.name.clone().into(),
            issuer,
            discovery_url,
            client,
            config: cfg,
            policy,
            verifier: OnceCell::new(),
            last_failure: Mutex::new(None),
        })
    }

    /// Runs discovery now (if not done yet) and returns the key set's URL. For startup checks
    /// and warm-up; errors are 503-class ([`AuthError::Unavailable`]) with the reason.
    pub async fn discover(&self) -> Result<String, AuthError> {
        Ok(self.verifier().await?.key_set().url().to_owned())
    }

    /// Verifies a token and returns the user.
    pub async fn verify(&self, token: &str) -> Result<Arc<User>, AuthError> {
        if let Some(v) = self.verifier.get() {
            return v.verify(token).await;
        }
        // Malformed tokens are refused before any discovery or key fetch.
        jwt::parse(token, self.config.max_token_bytes).map_err(AuthError::InvalidToken)?;
        self.verifier().await?.verify(token).await
    }

    /// Key-set counters (`None` before discovery).
    pub fn key_set_stats(&self) -> Option<KeySetStats> {
        self.verifier.get().map(|v| v.key_set().stats())
    }

    async fn verifier(&self) -> Result<&KeySetVerifier, AuthError> {
        if let Some(v) = self.verifier.get() {
            return Ok(v);
        }
        {
            let last = self.last_failure.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, cause)) = last.as_ref()
                && at.elapsed() < FETCH_FAILURE_BACKOFF
            {
                return Err(AuthError::authentication_unavailable(cause.clone()));
            }
        }
        let result = self.verifier.get_or_try_init(|| self.build()).await;
        if let Err(e) = &result {
            let cause = match e {
                AuthError::Unavailable { reason, .. } => reason.clone(),
                other => other.to_string(),
            };
            *self.last_failure.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((Instant::now(), cause));
        }
        result
    }

    /// Discovery (unless `jwks_uri` is configured) and the key set.
    async fn build(&self) -> Result<KeySetVerifier, AuthError> {
        let jwks_uri = match (&self.discovery_url, non_empty(&self.config.jwks_uri)) {
            (_, Some(uri)) => uri.to_owned(),
            (Some(url), None) => self.discover_jwks_uri(url).await?,
            (None, None) => {
                return Err(AuthError::authentication_unavailable(
                    "oidc: neither jwks_uri nor a discovery URL",
                ));
            }
        };
        let key_set = KeySet::new(
            self.client.clone(),
            KeySetConfig::jwks(jwks_uri)
                .with_timing(&self.config.key_set)
                .with_algorithms(self.config.algorithms.clone()),
        )
        .map_err(|e| {
            AuthError::authentication_unavailable(format!("oidc: discovered jwks_uri refused: {e}"))
        })?;
        Ok(KeySetVerifier::new(
            self.name.clone(),
            key_set,
            self.policy.clone(),
            self.config.max_token_bytes,
            self.config.cache_capacity,
            self.config.cache_max_ttl,
        ))
    }

    async fn discover_jwks_uri(&self, url: &reqwest::Url) -> Result<String, AuthError> {
        let unavailable = |m: String| AuthError::authentication_unavailable(format!("oidc: {m}"));
        let doc: serde_json::Value = self
            .client
            .get_json(url, &[("accept", "application/json")])
            .await
            .map_err(|e| unavailable(format!("discovery failed: {e}")))?;
        let found = doc.get("issuer").and_then(|v| v.as_str());
        if found != Some(self.issuer.as_str()) {
            let msg = format!(
                "discovery document at {} announces issuer {:?}, not the configured {:?}; \
                 refusing every token (set `issuer` to the exact issuer)",
                crate::idp_http::display_url(url),
                found.unwrap_or("<none>"),
                self.issuer
            );
            tracing::error!("{msg}");
            return Err(unavailable(msg));
        }
        match doc.get("jwks_uri").and_then(|v| v.as_str()) {
            Some(u) if !u.is_empty() => Ok(u.to_owned()),
            _ => Err(unavailable("discovery document has no jwks_uri".into())),
        }
    }
}

impl AuthProvider for OidcProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn authenticate<'a>(&'a self, token: &'a str, _parts: &'a Parts) -> Verdict<'a, Option<User>> {
        match self.verifier.get() {
            Some(verifier) => verifier.authenticate(token),
            // Discovery first.
            None => {
                Verdict::pending(
                    async move { self.verify(token).await.map(|u| Some((*u).clone())) },
                )
            }
        }
    }

    fn authorizes(&self, _user: &User) -> bool {
        true
    }

    fn authorize<'a>(&'a self, user: &'a User, _parts: &'a Parts) -> Verdict<'a, bool> {
        Verdict::Ready(Ok(!user.id.is_empty()))
    }

    fn public(&self) -> PatternList {
        self.config.public.clone()
    }

    fn protected(&self) -> PatternList {
        self.config.protected.clone()
    }

    fn issuers(&self) -> &[String] {
        std::slice::from_ref(&self.issuer)
    }
}
