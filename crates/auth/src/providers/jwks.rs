//! `provider = "jwks"`: tokens signed by the keys of a JWKS document, with a required issuer
//! and (unless explicitly waived) a required audience. Default authorization: any verified user.
//!
//! Also home of [`KeySetVerifier`], the verification core shared by every key-set provider
//! (`jwks`, `oidc`, `auth0`): one [`KeySet`], one claims policy, one verified-token cache.

use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use jsonwebtoken::Algorithm;

use crate::User;
use crate::cache::{CacheSlot, DEFAULT_CAPACITY, DEFAULT_MAX_TTL, VerifiedTokenCache};
use crate::error::AuthError;
use crate::idp_http::{IdpClient, IdpClientConfig, IdpError};
use crate::jwt::{self, ClaimsPolicy};
use crate::keyset::{KeySet, KeySetConfig, KeySetStats, KeySetTiming};
use crate::pattern::PatternList;
use crate::provider::AuthProvider;
use crate::setting::non_empty;
use crate::verdict::Verdict;

/// The algorithms a key set may ever serve (asymmetric only: a key set never holds HMAC keys).
pub const ASYMMETRIC_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Verification against one remote key set: the key set, the claims policy and a cache of
/// already-verified tokens (so a repeated token skips the crypto). Shared by the key-set
/// providers; one per provider instance, never shared across providers or tenants.
#[derive(Clone)]
pub struct KeySetVerifier {
    name: Arc<str>,
    key_set: KeySet,
    policy: ClaimsPolicy,
    max_token_bytes: usize,
    cache: Option<VerifiedTokenCache>,
}

impl std::fmt::Debug for KeySetVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySetVerifier")
            .field("name", &self.name)
            .field("key_set", &self.key_set)
            .field("policy", &self.policy)
            .field("max_token_bytes", &self.max_token_bytes)
            .finish_non_exhaustive()
    }
}

impl KeySetVerifier {
    /// Combines a key set and a claims policy; `cache_capacity == 0` disables the token cache.
    pub fn new(
        name: Arc<str>,
        key_set: KeySet,
        policy: ClaimsPolicy,
        max_token_bytes: usize,
        cache_capacity: u64,
        cache_max_ttl: Duration,
    ) -> Self {
        Self {
            name,
            key_set,
            policy,
            max_token_bytes,
            cache: (cache_capacity > 0)
                .then(|| VerifiedTokenCache::for_jws(cache_capacity, cache_max_ttl)),
        }
    }

    /// [`AuthProvider::authenticate`] for a provider built on this verifier: ready on a cache
    /// hit or when the token can be verified without a fetch ([`KeySet::verify_now`]), else
    /// pending on [`KeySetVerifier::verify`].
    pub fn authenticate<'a>(&'a self, token: &'a str) -> Verdict<'a, Option<User>> {
        let slot = CacheSlot::new(self.cache.as_ref(), token);
        if let Some(user) = slot.get(jwt::now_secs(), self.policy.leeway) {
            return Verdict::Ready(Ok(Some((*user).clone())));
        }
        match self
            .key_set
            .verify_now(token, &self.policy, self.max_token_bytes)
        {
            Some(verified) => Verdict::Ready(
                verified.map(|(claims, exp)| Some((*self.remember(slot, claims, exp)).clone())),
            ),
            None => {
                Verdict::pending(
                    async move { self.verify(token).await.map(|u| Some((*u).clone())) },
                )
            }
        }
    }

    /// Verifies a token (cache first) and returns the user. Refused tokens are
    /// [`AuthError::InvalidToken`]; an unreachable key set without usable keys is
    /// [`AuthError::Unavailable`].
    pub async fn verify(&self, token: &str) -> Result<Arc<User>, AuthError> {
        let slot = CacheSlot::new(self.cache.as_ref(), token);
        if let Some(user) = slot.get(jwt::now_secs(), self.policy.leeway) {
            return Ok(user);
        }
        let (claims, exp) = self
            .key_set
            .verify(token, &self.policy, self.max_token_bytes)
            .await?;
        Ok(self.remember(slot, claims, exp))
    }

    /// The user of freshly verified claims, remembered in the token's cache slot.
    fn remember(
        &self,
        slot: CacheSlot<'_>,
        claims: serde_json::Map<String, serde_json::Value>,
        exp: Option<f64>,
    ) -> Arc<User> {
        let user = Arc::new(User::from_claims(claims, self.name.clone()));
        slot.insert(user.clone(), exp);
        user
    }

    /// The key set.
    pub fn key_set(&self) -> &KeySet {
        &self.key_set
    }

    /// The claims policy.
    pub fn policy(&self) -> &ClaimsPolicy {
        &self.policy
    }
}

/// Settings of the generic JWKS provider.
///
/// With the `serde` feature it deserializes from a `[auth.jwks]` table with the keys `name`,
/// `jwks_uri`, `issuer`, `audience`, `allow_any_audience`, `algorithms`, `leeway` and
/// `allow_insecure_http` (for `http.allow_insecure_http`); unknown keys are errors, the other
/// settings keep their defaults.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct JwksConfig {
    /// Provider name (default `jwks`).
    pub name: String,
    /// Where the JWK Set lives (HTTPS; plain HTTP only to loopback with
    /// `http.allow_insecure_http`).
    pub jwks_uri: String,
    /// The exact `iss` tokens must carry. Required.
    pub issuer: Option<String>,
    /// An `aud` value tokens must carry. Required unless `allow_any_audience`.
    pub audience: Option<String>,
    /// Accept tokens of any audience (only when the key set is dedicated to this service).
    pub allow_any_audience: bool,
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

impl Default for JwksConfig {
    fn default() -> Self {
        Self {
            name: "jwks".into(),
            jwks_uri: String::new(),
            issuer: None,
            audience: None,
            allow_any_audience: false,
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

impl JwksConfig {
    /// A config with the three settings that matter.
    pub fn new(
        jwks_uri: impl Into<String>,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        Self {
            jwks_uri: jwks_uri.into(),
            issuer: Some(issuer.into()),
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

/// Why a key-set provider could not be built. Each message begins with the name of the field at fault, so an application can put its own path (a config key) in front.
#[derive(Debug, thiserror::Error)]
pub enum KeySetProviderError {
    /// A required setting is missing or empty.
    #[error("{setting} is required")]
    Missing {
        /// Provider kind (`jwks`, `oidc`, `auth0`).
        provider: &'static str,
        /// The setting, as written in the config (and its environment variable).
        setting: &'static str,
    },
    /// A setting has an unusable value.
    #[error("{setting} is invalid: {reason}")]
    Invalid {
        /// Provider kind.
        provider: &'static str,
        /// The setting.
        setting: &'static str,
        /// Why.
        reason: String,
    },
    /// A URL setting is refused by the HTTP rules (HTTPS, loopback opt-in).
    #[error("{setting}: {source}")]
    Url {
        /// Provider kind.
        provider: &'static str,
        /// The setting.
        setting: &'static str,
        /// The refusal.
        #[source]
        source: IdpError,
    },
}

/// Validates an `algorithms` setting: asymmetric algorithms only, not empty.
pub(crate) fn check_algorithms(
    provider: &'static str,
    algorithms: &Option<Vec<Algorithm>>,
) -> Result<(), KeySetProviderError> {
    if let Some(algs) = algorithms {
        if algs.is_empty() {
            return Err(KeySetProviderError::Invalid {
                provider,
                setting: "algorithms",
                reason: "empty list".into(),
            });
        }
        if let Some(a) = algs.iter().find(|a| !ASYMMETRIC_ALGORITHMS.contains(a)) {
            return Err(KeySetProviderError::Invalid {
                provider,
                setting: "algorithms",
                reason: format!("{a:?} cannot be verified with a public key set"),
            });
        }
    }
    Ok(())
}

/// The `jwks` provider.
pub struct JwksProvider {
    name: Arc<str>,
    verifier: KeySetVerifier,
    public: PatternList,
    protected: PatternList,
}

impl std::fmt::Debug for JwksProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksProvider")
            .field("name", &self.name)
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl JwksProvider {
    /// Builds the provider; fetches nothing yet (the key set is fetched on first use).
    pub fn new(cfg: JwksConfig) -> Result<Self, KeySetProviderError> {
        const P: &str = "jwks";
        if cfg.jwks_uri.trim().is_empty() {
            return Err(KeySetProviderError::Missing {
                provider: P,
                setting: "jwks_uri",
            });
        }
        let issuer = non_empty(&cfg.issuer).ok_or(KeySetProviderError::Missing {
            provider: P,
            setting: "issuer",
        })?;
        let audiences = match non_empty(&cfg.audience) {
            Some(a) => vec![a.to_owned()],
            None if cfg.allow_any_audience => Vec::new(),
            None => {
                return Err(KeySetProviderError::Missing {
                    provider: P,
                    setting: "audience (or allow_any_audience = true)",
                });
            }
        };
        check_algorithms(P, &cfg.algorithms)?;
        let client = IdpClient::new(cfg.http.clone());
        let key_set = KeySet::new(
            client,
            KeySetConfig::jwks(cfg.jwks_uri.trim())
                .with_timing(&cfg.key_set)
                .with_algorithms(cfg.algorithms.clone()),
        )
        .map_err(|source| KeySetProviderError::Url {
            provider: P,
            setting: "jwks_uri",
            source,
        })?;
        let name: Arc<str> = cfg.name.into();
        let policy = ClaimsPolicy {
            issuers: vec![issuer.to_owned()],
            audiences,
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
            public: cfg.public,
            protected: cfg.protected,
        })
    }

    /// Verifies a token and returns the user.
    pub async fn verify(&self, token: &str) -> Result<Arc<User>, AuthError> {
        self.verifier.verify(token).await
    }

    /// Key-set counters.
    pub fn key_set_stats(&self) -> KeySetStats {
        self.verifier.key_set().stats()
    }

    /// The verification core (key set and claims policy).
    pub fn verifier(&self) -> &KeySetVerifier {
        &self.verifier
    }
}

impl AuthProvider for JwksProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn authenticate<'a>(&'a self, token: &'a str, _parts: &'a Parts) -> Verdict<'a, Option<User>> {
        self.verifier.authenticate(token)
    }

    fn public(&self) -> PatternList {
        self.public.clone()
    }

    fn protected(&self) -> PatternList {
        self.protected.clone()
    }

    fn issuers(&self) -> &[String] {
        &self.verifier.policy().issuers
    }
}
