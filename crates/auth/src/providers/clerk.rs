//! `provider = "clerk"`: Clerk session tokens verified against the instance's JWKS, with an
//! optional single-organization restriction checked against the Clerk Backend API.
//!
//! What is checked:
//! - signature with the key set at `jwks_uri` (default `{issuer}/.well-known/jwks.json`), RS256
//!   only, the algorithm bound to the key;
//! - `iss` equals the Frontend API URL decoded from the publishable key (`pk_test_`/`pk_live_` +
//!   base64 of `<frontend-api-host>$`), or the explicit `issuer` override; `exp` required, `nbf`
//!   and `iat` honoured with the leeway; `aud` when `audience` is configured;
//! - `azp` must be one of `authorized_parties` when that list is set (a token without `azp` is
//!   refused then; Clerk's SDK lets it through — we fail closed);
//! - session tokens of `pending` sessions (`sts: "pending"`, v2 tokens) are refused unless
//!   `allow_pending_sessions` (Clerk's SDKs treat them as signed out by default);
//! - a non-empty `sub`.
//!
//! Authorization: without an organization restriction the policy decides (any verified user by
//! default). With `organization_id` or `organization_slug` the provider decides: the token's
//! active organization (`org_id`/`org_slug`, or v2 `o.id`/`o.slg`) is a fast path, otherwise the
//! Backend API lists the user's memberships (`GET {api_base}/users/{id}/organization_memberships`,
//! paged by 100, at most [`MAX_MEMBERSHIP_PAGES`] pages). The answer is cached per user for
//! `membership_cache_ttl` (60 s); API failures are a 503 and never an allow.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use http::request::Parts;
use jsonwebtoken::Algorithm;
use reqwest::Url;
use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroizing;

use crate::cache::{DEFAULT_CAPACITY, DEFAULT_MAX_TTL, VerifiedTokenCache};
use crate::error::AuthError;
use crate::idp_http::{IdpClient, IdpClientConfig, IdpError};
use crate::jwt::{self, ClaimsPolicy, Rejection};
use crate::keyset::{KeySet, KeySetConfig};
use crate::pattern::PatternList;
use crate::provider::AuthProvider;
use crate::setting::{fill, fill_secret, non_empty, non_empty_secret};
use crate::verdict::Verdict;
use crate::{Secret, User};

/// Default Clerk Backend API base URL.
pub const DEFAULT_API_BASE: &str = "https://api.clerk.com/v1";
/// The cookie Clerk's frontend SDKs keep the current session token in.
pub const SESSION_COOKIE: &str = "__session";
/// Page size of membership listings.
pub const MEMBERSHIP_PAGE_SIZE: usize = 100;
/// Upper bound on membership pages read for one decision (5 000 memberships).
pub const MAX_MEMBERSHIP_PAGES: usize = 50;
/// Default lifetime of a cached membership answer.
pub const DEFAULT_MEMBERSHIP_CACHE_TTL: Duration = Duration::from_secs(60);

/// Environment variable for [`ClerkConfig::jwks_uri`].
pub const ENV_JWKS_URI: &str = "CLERK_JWKS_URI";
/// Environment variable for [`ClerkConfig::secret_key`].
pub const ENV_SECRET_KEY: &str = "CLERK_SECRET_KEY";
/// Environment variable for [`ClerkConfig::publishable_key`].
pub const ENV_PUBLISHABLE_KEY: &str = "CLERK_PUBLISHABLE_KEY";
/// Environment variable for [`ClerkConfig::organization_id`].
pub const ENV_ORGANIZATION_ID: &str = "CLERK_ORGANIZATION_ID";
/// Environment variable for [`ClerkConfig::organization_slug`].
pub const ENV_ORGANIZATION_SLUG: &str = "CLERK_ORGANIZATION_SLUG";

/// Settings of the Clerk provider.
///
/// With the `serde` feature it deserializes from a `[auth.clerk]` table with the keys `name`,
/// `jwks_uri`, `secret_key`, `publishable_key`, `issuer`, `authorized_parties` (a string or a
/// list), `organization_id`, `organization_slug`, `api_base`, `allow_insecure_http` and `leeway`;
/// unknown keys are errors, the other settings keep their defaults.
#[derive(Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct ClerkConfig {
    /// Provider name (default `clerk`).
    pub name: String,
    /// JWKS URL (`CLERK_JWKS_URI`); default `{issuer}/.well-known/jwks.json`.
    pub jwks_uri: Option<String>,
    /// Backend API secret key (`CLERK_SECRET_KEY`); required with an organization restriction.
    pub secret_key: Option<Secret>,
    /// Publishable key (`CLERK_PUBLISHABLE_KEY`); the issuer is decoded from it.
    pub publishable_key: Option<String>,
    /// Explicit issuer, overriding the one decoded from the publishable key (tests, proxies).
    pub issuer: Option<String>,
    /// Accepted `aud` values; empty = not checked (Clerk session tokens carry none by default).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub audience: Vec<String>,
    /// Accepted `azp` values (origins of your frontends); empty = not checked.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::config_serde::one_or_many")
    )]
    pub authorized_parties: Vec<String>,
    /// Restrict access to members of this organization id (`CLERK_ORGANIZATION_ID`).
    pub organization_id: Option<String>,
    /// Restrict access to members of the organization with this slug (`CLERK_ORGANIZATION_SLUG`).
    pub organization_slug: Option<String>,
    /// Accept tokens of sessions still in the `pending` state (default false).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub allow_pending_sessions: bool,
    /// Backend API base URL (default [`DEFAULT_API_BASE`]).
    pub api_base: String,
    /// Permit plain HTTP to loopback hosts (tests, local fakes).
    pub allow_insecure_http: bool,
    /// Total timeout of each call to Clerk (key set and Backend API).
    #[cfg_attr(feature = "serde", serde(skip))]
    pub http_timeout: Duration,
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
    /// How long a membership answer is reused per user.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub membership_cache_ttl: Duration,
    /// Provider-specific public paths.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub public: PatternList,
    /// Provider-specific protected paths.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub protected: PatternList,
}

impl Default for ClerkConfig {
    fn default() -> Self {
        Self {
            name: "clerk".into(),
            jwks_uri: None,
            secret_key: None,
            publishable_key: None,
            issuer: None,
            audience: Vec::new(),
            authorized_parties: Vec::new(),
            organization_id: None,
            organization_slug: None,
            allow_pending_sessions: false,
            api_base: DEFAULT_API_BASE.into(),
            allow_insecure_http: false,
            http_timeout: crate::idp_http::DEFAULT_TIMEOUT,
            leeway: jwt::DEFAULT_LEEWAY,
            max_token_bytes: jwt::DEFAULT_MAX_TOKEN_BYTES,
            cache_capacity: DEFAULT_CAPACITY,
            cache_max_ttl: DEFAULT_MAX_TTL,
            membership_cache_ttl: DEFAULT_MEMBERSHIP_CACHE_TTL,
            public: PatternList::default(),
            protected: PatternList::default(),
        }
    }
}

impl std::fmt::Debug for ClerkConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClerkConfig")
            .field("name", &self.name)
            .field("jwks_uri", &self.jwks_uri)
            .field("secret_key", &self.secret_key)
            .field("publishable_key", &self.publishable_key)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("authorized_parties", &self.authorized_parties)
            .field("organization_id", &self.organization_id)
            .field("organization_slug", &self.organization_slug)
            .field("allow_pending_sessions", &self.allow_pending_sessions)
            .field("api_base", &self.api_base)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish_non_exhaustive()
    }
}

impl ClerkConfig {
    /// The defaults with unset fields filled from `CLERK_JWKS_URI`, `CLERK_SECRET_KEY`,
    /// `CLERK_PUBLISHABLE_KEY`, `CLERK_ORGANIZATION_ID` and `CLERK_ORGANIZATION_SLUG`.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut cfg = Self::default();
        cfg.fill_from_env(lookup);
        cfg
    }

    /// Fills fields left unset (or empty) through `lookup`: `jwks_uri` from `CLERK_JWKS_URI`,
    /// `secret_key` from `CLERK_SECRET_KEY`, `publishable_key` from `CLERK_PUBLISHABLE_KEY`, and,
    /// only when neither is set, `organization_id` from `CLERK_ORGANIZATION_ID` and
    /// `organization_slug` from `CLERK_ORGANIZATION_SLUG`. Set fields win; blank variables count
    /// as unset.
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        fill(&mut self.jwks_uri, &lookup, &[ENV_JWKS_URI]);
        fill_secret(&mut self.secret_key, &lookup, &[ENV_SECRET_KEY]);
        fill(&mut self.publishable_key, &lookup, &[ENV_PUBLISHABLE_KEY]);
        // The organization restriction comes from the environment only when neither is set in
        // config, so a config choosing one is not turned into "both set" by the environment.
        if self.organization_id.is_none() && self.organization_slug.is_none() {
            fill(&mut self.organization_id, &lookup, &[ENV_ORGANIZATION_ID]);
            fill(
                &mut self.organization_slug,
                &lookup,
                &[ENV_ORGANIZATION_SLUG],
            );
        }
    }
}

/// Why a publishable key could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishableKeyError {
    /// Does not start with `pk_test_` or `pk_live_`.
    #[error("expected it to start with pk_test_ or pk_live_")]
    Prefix,
    /// The rest is not base64.
    #[error("the part after pk_test_/pk_live_ is not base64")]
    Base64,
    /// The decoded text does not end with `$`.
    #[error("the decoded value does not end with '$'")]
    NoTerminator,
    /// The decoded host is empty or not a host name.
    #[error("the decoded Frontend API host is not a valid host name")]
    Host,
}

/// Decodes the Frontend API host from a publishable key: strip `pk_test_`/`pk_live_`,
/// base64-decode (padding optional), require and drop the trailing `$`.
pub fn frontend_api_host(publishable_key: &str) -> Result<String, PublishableKeyError> {
    let key = publishable_key.trim();
    let rest = key
        .strip_prefix("pk_test_")
        .or_else(|| key.strip_prefix("pk_live_"))
        .ok_or(PublishableKeyError::Prefix)?;
    const FORGIVING: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let decoded = FORGIVING
        .decode(rest)
        .map_err(|_| PublishableKeyError::Base64)?;
    let text = String::from_utf8(decoded).map_err(|_| PublishableKeyError::Host)?;
    let host = text
        .strip_suffix('$')
        .ok_or(PublishableKeyError::NoTerminator)?;
    if !valid_host(host) {
        return Err(PublishableKeyError::Host);
    }
    Ok(host.to_ascii_lowercase())
}

/// The issuer (`https://<frontend-api-host>`) of tokens for a publishable key.
pub fn issuer_from_publishable_key(publishable_key: &str) -> Result<String, PublishableKeyError> {
    frontend_api_host(publishable_key).map(|h| format!("https://{h}"))
}

/// `host` or `host:port`, host made of DNS labels (letters, digits, `-`), at least one dot
/// unless it is `localhost`.
fn valid_host(s: &str) -> bool {
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (s, None),
    };
    if let Some(p) = port
        && (p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if host.is_empty() || host.len() > 253 {
        return false;
    }
    let labels_ok = host.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    labels_ok && (host.contains('.') || host.eq_ignore_ascii_case("localhost"))
}

/// Why a Clerk provider could not be built. Each message begins with the name of the field at fault, so an application can put its own path (a config key) in front.
#[derive(Debug, thiserror::Error)]
pub enum ClerkConfigError {
    /// Neither a publishable key nor an explicit issuer.
    #[error(
        "publishable_key (or CLERK_PUBLISHABLE_KEY) is required to know the issuer; `issuer` may override it"
    )]
    MissingPublishableKey,
    /// The publishable key does not decode.
    #[error("publishable_key (CLERK_PUBLISHABLE_KEY) is not a Clerk publishable key: {0}")]
    BadPublishableKey(#[source] PublishableKeyError),
    /// Both organization settings.
    #[error(
        "organization_id (CLERK_ORGANIZATION_ID) and organization_slug (CLERK_ORGANIZATION_SLUG) are both set: configure only one to restrict access to a single Clerk organization"
    )]
    BothOrganizations,
    /// An organization restriction without the key to ask the Backend API.
    #[error(
        "secret_key (CLERK_SECRET_KEY) is required with organization_id / organization_slug (memberships are read from the Clerk Backend API)"
    )]
    MissingSecretKey,
    /// A URL setting is unusable (malformed, or plain HTTP without `allow_insecure_http`).
    #[error("{setting}: {source}")]
    Url {
        /// The setting (`jwks_uri`, `api_base`, `issuer`).
        setting: &'static str,
        /// Why.
        #[source]
        source: IdpError,
    },
    /// An empty string where a value is needed.
    #[error("{0} must not be empty")]
    Empty(&'static str),
}

#[derive(Debug, Clone)]
enum OrgRestriction {
    Id(String),
    Slug(String),
}

impl OrgRestriction {
    fn matches(&self, id: Option<&str>, slug: Option<&str>) -> bool {
        match self {
            OrgRestriction::Id(want) => id == Some(want.as_str()),
            OrgRestriction::Slug(want) => slug == Some(want.as_str()),
        }
    }
}

struct BackendApi {
    client: IdpClient,
    base: Url,
    secret_key: Zeroizing<String>,
}

/// The `clerk` provider.
pub struct ClerkProvider {
    name: Arc<str>,
    issuer: String,
    keys: KeySet,
    claims: ClaimsPolicy,
    max_token_bytes: usize,
    authorized_parties: Vec<String>,
    allow_pending_sessions: bool,
    org: Option<OrgRestriction>,
    api: Option<BackendApi>,
    memberships: SingleFlightCache<bool>,
    token_cache: Option<VerifiedTokenCache>,
    public: PatternList,
    protected: PatternList,
}

impl std::fmt::Debug for ClerkProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClerkProvider")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("authorized_parties", &self.authorized_parties)
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

impl ClerkProvider {
    /// Builds the provider; an error begins with the name of the field to fix.
    pub fn new(cfg: ClerkConfig) -> Result<Self, ClerkConfigError> {
        let decoded = match non_empty(&cfg.publishable_key) {
            Some(pk) => {
                Some(issuer_from_publishable_key(pk).map_err(ClerkConfigError::BadPublishableKey)?)
            }
            None => None,
        };
        let issuer = match (non_empty(&cfg.issuer), decoded) {
            (Some(explicit), _) => explicit.to_owned(),
            (None, Some(decoded)) => decoded,
            (None, None) => return Err(ClerkConfigError::MissingPublishableKey),
        };
        let client = IdpClient::new(IdpClientConfig {
            allow_insecure_http: cfg.allow_insecure_http,
            timeout: cfg.http_timeout,
            ..IdpClientConfig::default()
        });
        client
            .url(&issuer)
            .map_err(|source| ClerkConfigError::Url {
                setting: "issuer",
                source,
            })?;
        let jwks_uri = match non_empty(&cfg.jwks_uri) {
            Some(u) => u.to_owned(),
            None => format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')),
        };
        client
            .url(&jwks_uri)
            .map_err(|source| ClerkConfigError::Url {
                setting: "jwks_uri",
                source,
            })?;
        let org = match (
            non_empty(&cfg.organization_id),
            non_empty(&cfg.organization_slug),
        ) {
            (Some(_), Some(_)) => return Err(ClerkConfigError::BothOrganizations),
            (Some(id), None) => Some(OrgRestriction::Id(id.to_owned())),
            (None, Some(slug)) => Some(OrgRestriction::Slug(slug.to_owned())),
            (None, None) => None,
        };
        let api = match (non_empty_secret(&cfg.secret_key), &org) {
            (Some(secret), _) => {
                let base =
                    client
                        .url(cfg.api_base.trim())
                        .map_err(|source| ClerkConfigError::Url {
                            setting: "api_base",
                            source,
                        })?;
                if base.cannot_be_a_base() {
                    return Err(ClerkConfigError::Url {
                        setting: "api_base",
                        source: IdpError::BadUrl(cfg.api_base.clone()),
                    });
                }
                Some(BackendApi {
                    client: client.clone(),
                    base,
                    secret_key: Zeroizing::new(secret.to_owned()),
                })
            }
            (None, Some(_)) => return Err(ClerkConfigError::MissingSecretKey),
            (None, None) => None,
        };
        if cfg.authorized_parties.iter().any(|p| p.trim().is_empty()) {
            return Err(ClerkConfigError::Empty("authorized_parties"));
        }
        let mut ks = KeySetConfig::jwks(jwks_uri);
        ks.allowed_algorithms = Some(vec![Algorithm::RS256]);
        let keys = KeySet::new(client, ks).map_err(|source| ClerkConfigError::Url {
            setting: "jwks_uri",
            source,
        })?;
        Ok(Self {
            name: cfg.name.into(),
            claims: ClaimsPolicy {
                issuers: vec![issuer.clone()],
                audiences: cfg.audience,
                require_exp: true,
                leeway: cfg.leeway,
            },
            issuer,
            keys,
            max_token_bytes: cfg.max_token_bytes,
            authorized_parties: cfg.authorized_parties,
            allow_pending_sessions: cfg.allow_pending_sessions,
            org,
            api,
            memberships: SingleFlightCache::new(100_000, cfg.membership_cache_ttl),
            token_cache: (cfg.cache_capacity > 0)
                .then(|| VerifiedTokenCache::new(cfg.cache_capacity, cfg.cache_max_ttl)),
            public: cfg.public,
            protected: cfg.protected,
        })
    }

    /// The issuer tokens must carry.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key set (for stats and warm-up).
    pub fn key_set(&self) -> &KeySet {
        &self.keys
    }

    /// Verifies a session token: signature, registered claims, `azp`, session status, `sub`.
    pub async fn verify(&self, token: &str) -> Result<Arc<User>, AuthError> {
        if let Some(cache) = &self.token_cache
            && let Some(user) = cache.get(token, jwt::now_secs(), self.claims.leeway)
        {
            return Ok(user);
        }
        let (claims, exp) = self
            .keys
            .verify(token, &self.claims, self.max_token_bytes)
            .await?;
        self.check_clerk_claims(&claims)
            .map_err(AuthError::InvalidToken)?;
        let user = Arc::new(User::from_claims(claims, self.name.clone()));
        if let Some(cache) = &self.token_cache {
            cache.insert(token, user.clone(), exp);
        }
        Ok(user)
    }

    fn check_clerk_claims(&self, claims: &serde_json::Map<String, Value>) -> Result<(), Rejection> {
        match claims.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(Value::String(_)) | None => return Err(Rejection::MissingClaim("sub")),
            Some(_) => return Err(Rejection::ClaimType("sub")),
        }
        if !self.authorized_parties.is_empty() {
            match claims.get("azp") {
                None => return Err(Rejection::MissingClaim("azp")),
                Some(Value::String(azp)) => {
                    if !self.authorized_parties.iter().any(|p| p == azp) {
                        return Err(Rejection::Provider(format!(
                            "authorized party (azp) {azp:?} is not one of {:?}",
                            self.authorized_parties
                        )));
                    }
                }
                Some(_) => return Err(Rejection::ClaimType("azp")),
            }
        }
        if !self.allow_pending_sessions
            && claims.get("sts").and_then(Value::as_str) == Some("pending")
        {
            return Err(Rejection::Provider(
                "the Clerk session is pending (sts=\"pending\")".into(),
            ));
        }
        Ok(())
    }

    /// Whether the token's active organization satisfies the restriction (v1 `org_id`/`org_slug`
    /// or v2 `o.id`/`o.slg`).
    fn claims_match_org(&self, org: &OrgRestriction, user: &User) -> bool {
        fn s(v: Option<&Value>) -> Option<&str> {
            v.and_then(Value::as_str)
        }
        let o = user.claim("o");
        org.matches(s(user.claim("org_id")), s(user.claim("org_slug")))
            || org.matches(
                s(o.and_then(|o| o.get("id"))),
                s(o.and_then(|o| o.get("slg"))),
            )
    }

    /// Pages through the user's memberships until the organization is found or the list ends.
    async fn is_member(
        &self,
        api: &BackendApi,
        org: &OrgRestriction,
        user_id: &str,
    ) -> Result<bool, AuthError> {
        let auth = Zeroizing::new(format!("Bearer {}", api.secret_key.as_str()));
        let headers = [
            ("authorization", auth.as_str()),
            ("accept", "application/json"),
        ];
        let mut offset = 0usize;
        for _ in 0..MAX_MEMBERSHIP_PAGES {
            let mut url = api.base.clone();
            url.path_segments_mut()
                .map_err(|()| {
                    AuthError::authorization_unavailable("Clerk api_base is not a base URL")
                })?
                .pop_if_empty()
                .extend(["users", user_id, "organization_memberships"]);
            url.query_pairs_mut()
                .append_pair("limit", &MEMBERSHIP_PAGE_SIZE.to_string())
                .append_pair("offset", &offset.to_string());
            let page: MembershipPage = match api.client.get_json(&url, &headers).await {
                Ok(page) => page,
                // The user is gone: not a member of anything.
                Err(IdpError::Status { status: 404, .. }) => return Ok(false),
                Err(e) => {
                    tracing::warn!(error = %e, "Clerk organization memberships lookup failed");
                    return Err(AuthError::authorization_unavailable(format!(
                        "Clerk Backend API: {e}"
                    )));
                }
            };
            if page.data.iter().any(|m| {
                m.organization
                    .as_ref()
                    .is_some_and(|o| org.matches(o.id.as_deref(), o.slug.as_deref()))
            }) {
                return Ok(true);
            }
            let n = page.data.len();
            offset += n;
            let done = match page.total_count {
                Some(total) => n == 0 || offset as u64 >= total,
                None => n < MEMBERSHIP_PAGE_SIZE,
            };
            if done {
                return Ok(false);
            }
        }
        tracing::warn!(
            pages = MAX_MEMBERSHIP_PAGES,
            "Clerk membership listing truncated; treating the user as not a member"
        );
        Ok(false)
    }
}

#[derive(Debug, Deserialize)]
struct MembershipPage {
    #[serde(default)]
    data: Vec<Membership>,
    #[serde(default)]
    total_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Membership {
    #[serde(default)]
    organization: Option<OrganizationRef>,
}

#[derive(Debug, Deserialize)]
struct OrganizationRef {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    slug: Option<String>,
}

impl AuthProvider for ClerkProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn authenticate<'a>(&'a self, token: &'a str, _parts: &'a Parts) -> Verdict<'a, Option<User>> {
        Verdict::pending(async move { self.verify(token).await.map(|u| Some((*u).clone())) })
    }

    /// Only with an organization restriction; otherwise the policy decides.
    fn authorizes(&self, _user: &User) -> bool {
        self.org.is_some()
    }

    fn authorize<'a>(&'a self, user: &'a User, _parts: &'a Parts) -> Verdict<'a, bool> {
        Verdict::pending(async move {
            if user.id.is_empty() {
                return Ok(false);
            }
            let Some(org) = &self.org else {
                return Ok(true);
            };
            if self.claims_match_org(org, user) {
                return Ok(true);
            }
            let Some(api) = &self.api else {
                // Unreachable by construction (a restriction requires the secret key); fail closed.
                return Err(AuthError::authorization_unavailable(
                    "Clerk Backend API not configured",
                ));
            };
            self.memberships
                .get_or_fetch(&user.id, || self.is_member(api, org, &user.id))
                .await
        })
    }

    fn public(&self) -> PatternList {
        self.public.clone()
    }

    fn protected(&self) -> PatternList {
        self.protected.clone()
    }

    fn cookie_names(&self) -> &[&str] {
        &[SESSION_COOKIE]
    }

    fn issuers(&self) -> &[String] {
        std::slice::from_ref(&self.issuer)
    }
}

/// A TTL cache of remote answers keyed by user id, with one fetch in flight per key: concurrent
/// misses for the same key wait for the first fetch instead of calling the API again. Errors are
/// not cached.
pub(crate) struct SingleFlightCache<V> {
    values: moka::sync::Cache<String, V>,
    inflight: moka::sync::Cache<String, Arc<tokio::sync::Mutex<()>>>,
}

impl<V: Clone + Send + Sync + 'static> SingleFlightCache<V> {
    /// At most `capacity` answers, each reused for `ttl`.
    pub(crate) fn new(capacity: u64, ttl: Duration) -> Self {
        Self {
            values: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(ttl)
                .build(),
            inflight: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(Duration::from_secs(300))
                .build(),
        }
    }

    /// The cached answer for `key`, or the result of `fetch` (cached when `Ok`).
    pub(crate) async fn get_or_fetch<F, Fut, E>(&self, key: &str, fetch: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some(v) = self.values.get(key) {
            return Ok(v);
        }
        let lock = self
            .inflight
            .get_with_by_ref(key, || Arc::new(tokio::sync::Mutex::new(())));
        let _guard = lock.lock().await;
        if let Some(v) = self.values.get(key) {
            return Ok(v);
        }
        let v = fetch().await?;
        self.values.insert(key.to_owned(), v.clone());
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pk(prefix: &str, text: &str) -> String {
        format!(
            "{prefix}{}",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
    }

    #[test]
    fn decodes_test_and_live_keys() {
        assert_eq!(
            issuer_from_publishable_key(&pk("pk_test_", "happy-cat-12.clerk.accounts.dev$")),
            Ok("https://happy-cat-12.clerk.accounts.dev".into())
        );
        assert_eq!(
            issuer_from_publishable_key(&pk("pk_live_", "clerk.example.com$")),
            Ok("https://clerk.example.com".into())
        );
        // Padding optional, surrounding whitespace ignored, host lower-cased.
        let padded = pk("pk_live_", "clerk.example.com$");
        let unpadded = padded.trim_end_matches('=').to_owned();
        assert_eq!(
            frontend_api_host(&format!(" {unpadded}\n")),
            Ok("clerk.example.com".into())
        );
        assert_eq!(
            frontend_api_host(&pk("pk_test_", "Clerk.Example.COM$")),
            Ok("clerk.example.com".into())
        );
        assert_eq!(
            frontend_api_host(&pk("pk_test_", "localhost:3000$")),
            Ok("localhost:3000".into())
        );
        // The documented example key shape.
        assert_eq!(
            frontend_api_host("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"),
            Ok("clerk.example.com".into())
        );
    }

    #[test]
    fn refuses_malformed_keys() {
        use PublishableKeyError::*;
        assert_eq!(frontend_api_host("sk_test_abc"), Err(Prefix));
        assert_eq!(
            frontend_api_host("pk_prod_Y2xlcmsuZXhhbXBsZS5jb20k"),
            Err(Prefix)
        );
        assert_eq!(frontend_api_host(""), Err(Prefix));
        assert_eq!(frontend_api_host("pk_test_!!!"), Err(Base64));
        assert_eq!(
            frontend_api_host(&pk("pk_test_", "clerk.example.com")),
            Err(NoTerminator)
        );
        assert_eq!(frontend_api_host(&pk("pk_test_", "$")), Err(Host));
        for bad in [
            "evil.com/path$",
            "user@evil.com$",
            "a b.com$",
            "-bad.example.com$",
            "example..com$",
            "example.com:$",
            "example.com:123456$",
            "example.com$x$",
            "nodots$",
        ] {
            assert_eq!(frontend_api_host(&pk("pk_live_", bad)), Err(Host), "{bad}");
        }
    }

    #[test]
    fn config_errors_name_the_setting() {
        let err = ClerkProvider::new(ClerkConfig::default()).unwrap_err();
        assert!(err.to_string().starts_with("publishable_key"), "{err}");
        let err = ClerkProvider::new(ClerkConfig {
            publishable_key: Some("pk_test_nope".into()),
            ..ClerkConfig::default()
        })
        .unwrap_err();
        assert!(err.to_string().starts_with("publishable_key"), "{err}");
        let base = ClerkConfig {
            publishable_key: Some(pk("pk_test_", "clerk.example.com$")),
            ..ClerkConfig::default()
        };
        let err = ClerkProvider::new(ClerkConfig {
            organization_id: Some("org_1".into()),
            organization_slug: Some("acme".into()),
            secret_key: Some("sk_test_x".into()),
            ..base.clone()
        })
        .unwrap_err();
        assert!(matches!(err, ClerkConfigError::BothOrganizations), "{err}");
        let err = ClerkProvider::new(ClerkConfig {
            organization_id: Some("org_1".into()),
            ..base.clone()
        })
        .unwrap_err();
        assert!(err.to_string().starts_with("secret_key"), "{err}");
        let err = ClerkProvider::new(ClerkConfig {
            jwks_uri: Some("http://clerk.example.com/jwks".into()),
            ..base.clone()
        })
        .unwrap_err();
        assert!(err.to_string().starts_with("jwks_uri"), "{err}");
        let p = ClerkProvider::new(base).unwrap();
        assert_eq!(p.issuer(), "https://clerk.example.com");
    }

    #[test]
    fn env_fills_unset_fields_and_debug_redacts() {
        let env = |k: &str| match k {
            ENV_SECRET_KEY => Some("sk_test_secret".to_string()),
            ENV_PUBLISHABLE_KEY => Some("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k".to_string()),
            ENV_JWKS_URI => Some(String::new()),
            ENV_ORGANIZATION_SLUG => Some("acme".to_string()),
            _ => None,
        };
        let cfg = ClerkConfig::from_env_with(env);
        assert_eq!(
            cfg.secret_key.as_ref().map(Secret::expose),
            Some("sk_test_secret")
        );
        assert_eq!(cfg.jwks_uri, None);
        assert_eq!(cfg.organization_slug.as_deref(), Some("acme"));
        assert!(!format!("{cfg:?}").contains("sk_test_secret"));
        let mut explicit = ClerkConfig {
            secret_key: Some("sk_config".into()),
            organization_id: Some("org_1".into()),
            ..ClerkConfig::default()
        };
        explicit.fill_from_env(env);
        assert_eq!(
            explicit.secret_key.as_ref().map(Secret::expose),
            Some("sk_config")
        );
        assert_eq!(explicit.organization_slug, None);
    }
}
