//! `provider = "auth0"` (Mastra's `@mastra/auth-auth0`): access tokens of an Auth0 tenant.
//!
//! Keys from `https://{domain}/.well-known/jwks.json`, issuer `https://{domain}/`, the configured
//! audience, RS256 only, `exp` required. Default authorization (as Mastra's `authorizeUser`): the
//! user has an id (`sub`, else `id`) and the token is not expired.
//! Settings come from the config or the environment (`AUTH0_DOMAIN`, `AUTH0_AUDIENCE`).

use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use jsonwebtoken::Algorithm;
use serde_json::Value;

use crate::User;
use crate::cache::{DEFAULT_CAPACITY, DEFAULT_MAX_TTL};
use crate::error::AuthError;
use crate::idp_http::{IdpClient, IdpClientConfig};
use crate::jwt::{self, ClaimsPolicy};
use crate::keyset::{KeySet, KeySetConfig, KeySetStats, KeySetTiming};
use crate::pattern::PatternList;
use crate::provider::AuthProvider;
use crate::providers::jwks::{KeySetProviderError, KeySetVerifier};
use crate::setting::non_empty;
use crate::verdict::Verdict;

/// Environment variable for [`Auth0Config::domain`].
pub const AUTH0_DOMAIN_ENV: &str = "AUTH0_DOMAIN";
/// Environment variable for [`Auth0Config::audience`].
pub const AUTH0_AUDIENCE_ENV: &str = "AUTH0_AUDIENCE";

/// Settings of the Auth0 provider.
///
/// With the `serde` feature it deserializes from a `[auth.auth0]` table with the keys `name`,
/// `domain`, `audience`, `jwks_uri`, `base_url`, `leeway` and `allow_insecure_http` (for
/// `http.allow_insecure_http`); unknown keys are errors, the other settings keep their defaults.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct Auth0Config {
    /// Provider name (default `auth0`).
    pub name: String,
    /// The tenant domain, e.g. `my-tenant.eu.auth0.com` (`https://` and a trailing `/` are
    /// accepted and dropped). Env `AUTH0_DOMAIN`.
    pub domain: String,
    /// The API identifier tokens must carry in `aud`. Env `AUTH0_AUDIENCE`.
    pub audience: String,
    /// Overrides the JWKS URL (default `https://{domain}/.well-known/jwks.json`).
    pub jwks_uri: Option<String>,
    /// Overrides `https://{domain}` as the base of HTTP calls (a proxy, a local fake); the
    /// issuer stays `https://{domain}/`.
    pub base_url: Option<String>,
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

impl Default for Auth0Config {
    fn default() -> Self {
        Self {
            name: "auth0".into(),
            domain: String::new(),
            audience: String::new(),
            jwks_uri: None,
            base_url: None,
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

impl Auth0Config {
    /// A config for a tenant domain and API audience.
    pub fn new(domain: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            domain: domain.into(),
            audience: audience.into(),
            ..Self::default()
        }
    }

    /// Defaults filled from the process environment (`AUTH0_DOMAIN`, `AUTH0_AUDIENCE`).
    pub fn from_env() -> Self {
        Self::from_env_with(|k| std::env::var(k).ok())
    }

    /// Defaults filled through `lookup` (an environment, a test map).
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut c = Self::default();
        c.fill_from_env(lookup);
        c
    }

    /// Same as [`Auth0Config::fill_from_env`].
    pub fn fill_from_env_with(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        self.fill_from_env(lookup);
    }

    /// Fills the settings left empty (or blank) through `lookup`: `domain` from `AUTH0_DOMAIN`,
    /// `audience` from `AUTH0_AUDIENCE`, both trimmed; settings already set win, blank
    /// variables count as unset.
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        let get = |k: &str| {
            lookup(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if self.domain.trim().is_empty()
            && let Some(d) = get(AUTH0_DOMAIN_ENV)
        {
            self.domain = d;
        }
        if self.audience.trim().is_empty()
            && let Some(a) = get(AUTH0_AUDIENCE_ENV)
        {
            self.audience = a;
        }
    }
}

/// Normalizes a tenant domain: drops `https://` and a trailing `/`; refuses other schemes,
/// paths, queries and credentials. Returns `host[:port]`.
pub fn normalize_domain(domain: &str) -> Result<String, String> {
    let d = domain.trim();
    let lower = d.to_ascii_lowercase();
    let d = if lower.starts_with("https://") {
        &d["https://".len()..]
    } else if lower.contains("://") {
        return Err("Auth0 is reached over HTTPS only; give the domain without a scheme".into());
    } else {
        d
    };
    let d = d.trim_end_matches('/');
    if d.is_empty() {
        return Err("empty domain".into());
    }
    let url = reqwest::Url::parse(&format!("https://{d}/"))
        .map_err(|_| format!("{d:?} is not a host name"))?;
    if url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(format!(
            "{d:?} is not a bare domain (no path, query or credentials)"
        ));
    }
    let host = url.host_str().ok_or_else(|| format!("{d:?} has no host"))?;
    Ok(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    })
}

/// The `auth0` provider.
pub struct Auth0Provider {
    name: Arc<str>,
    domain: String,
    issuer: String,
    leeway: Duration,
    verifier: KeySetVerifier,
    public: PatternList,
    protected: PatternList,
}

impl std::fmt::Debug for Auth0Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth0Provider")
            .field("name", &self.name)
            .field("domain", &self.domain)
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl Auth0Provider {
    /// Builds the provider; the key set is fetched on first use.
    pub fn new(cfg: Auth0Config) -> Result<Self, KeySetProviderError> {
        const P: &str = "auth0";
        let setting = match (cfg.domain.trim().is_empty(), cfg.audience.trim().is_empty()) {
            (true, true) => Some("domain and audience (or AUTH0_DOMAIN and AUTH0_AUDIENCE)"),
            (true, false) => Some("domain (or AUTH0_DOMAIN)"),
            (false, true) => Some("audience (or AUTH0_AUDIENCE)"),
            (false, false) => None,
        };
        if let Some(setting) = setting {
            return Err(KeySetProviderError::Missing {
                provider: P,
                setting,
            });
        }
        let domain =
            normalize_domain(&cfg.domain).map_err(|reason| KeySetProviderError::Invalid {
                provider: P,
                setting: "domain",
                reason,
            })?;
        let issuer = format!("https://{domain}/");
        let (setting, jwks_uri) = match (non_empty(&cfg.jwks_uri), non_empty(&cfg.base_url)) {
            (Some(u), _) => ("jwks_uri", u.to_owned()),
            (None, Some(b)) => (
                "base_url",
                format!("{}/.well-known/jwks.json", b.trim_end_matches('/')),
            ),
            (None, None) => ("domain", format!("https://{domain}/.well-known/jwks.json")),
        };
        let key_set = KeySet::new(
            IdpClient::new(cfg.http.clone()),
            KeySetConfig::jwks(jwks_uri)
                .with_timing(&cfg.key_set)
                .with_algorithms(Some(vec![Algorithm::RS256])),
        )
        .map_err(|source| KeySetProviderError::Url {
            provider: P,
            setting,
            source,
        })?;
        let name: Arc<str> = cfg.name.into();
        let policy = ClaimsPolicy {
            issuers: vec![issuer.clone()],
            audiences: vec![cfg.audience.trim().to_owned()],
            require_exp: true,
            leeway: cfg.leeway,
        };
        Ok(Self {
            verifier: KeySetVerifier::new(
                name.clone(),
                key_set,
                policy,
                cfg.max_token_bytes,
                cfg.cache_capacity,
                cfg.cache_max_ttl,
            ),
            name,
            domain,
            issuer,
            leeway: cfg.leeway,
            public: cfg.public,
            protected: cfg.protected,
        })
    }

    /// The normalized tenant domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The issuer tokens must carry (`https://{domain}/`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Verifies a token and returns the user.
    pub async fn verify(&self, token: &str) -> Result<Arc<User>, AuthError> {
        self.verifier.verify(token).await
    }

    /// Key-set counters.
    pub fn key_set_stats(&self) -> KeySetStats {
        self.verifier.key_set().stats()
    }

    /// Mastra's default decision: an id (`sub`/`id`) and an `exp` not in the past (with leeway).
    pub fn default_authorize(&self, user: &User) -> bool {
        if user.id.is_empty() {
            return false;
        }
        match user.claim("exp").and_then(Value::as_f64) {
            Some(exp) => exp + self.leeway.as_secs() as f64 >= jwt::now_secs() as f64,
            None => true,
        }
    }
}

impl AuthProvider for Auth0Provider {
    fn name(&self) -> &str {
        &self.name
    }

    fn authenticate<'a>(&'a self, token: &'a str, _parts: &'a Parts) -> Verdict<'a, Option<User>> {
        self.verifier.authenticate(token)
    }

    fn authorizes(&self, _user: &User) -> bool {
        true
    }

    fn authorize<'a>(&'a self, user: &'a User, _parts: &'a Parts) -> Verdict<'a, bool> {
        Verdict::Ready(Ok(self.default_authorize(user)))
    }

    fn public(&self) -> PatternList {
        self.public.clone()
    }

    fn protected(&self) -> PatternList {
        self.protected.clone()
    }

    fn issuers(&self) -> &[String] {
        std::slice::from_ref(&self.issuer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains() {
        assert_eq!(normalize_domain("t.auth0.com").unwrap(), "t.auth0.com");
        assert_eq!(
            normalize_domain("https://t.auth0.com/").unwrap(),
            "t.auth0.com"
        );
        assert_eq!(
            normalize_domain(" HTTPS://T.auth0.com ").unwrap(),
            "t.auth0.com"
        );
        assert_eq!(
            normalize_domain("t.auth0.com:8443").unwrap(),
            "t.auth0.com:8443"
        );
        assert!(normalize_domain("http://t.auth0.com").is_err());
        assert!(normalize_domain("t.auth0.com/path").is_err());
        assert!(normalize_domain("user@t.auth0.com").is_err());
        assert!(normalize_domain("https://").is_err());
    }

    #[test]
    fn env_fills_only_empty_settings() {
        let env = |k: &str| match k {
            AUTH0_DOMAIN_ENV => Some("env.auth0.com".to_owned()),
            AUTH0_AUDIENCE_ENV => Some("env-aud".to_owned()),
            _ => None,
        };
        let c = Auth0Config::from_env_with(env);
        assert_eq!(
            (c.domain.as_str(), c.audience.as_str()),
            ("env.auth0.com", "env-aud")
        );
        let mut c = Auth0Config::new("cfg.auth0.com", "");
        c.fill_from_env_with(env);
        assert_eq!(
            (c.domain.as_str(), c.audience.as_str()),
            ("cfg.auth0.com", "env-aud")
        );
    }
}
