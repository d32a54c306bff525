//! `provider = "workos"`: WorkOS AuthKit access tokens verified against the client's JWKS, the
//! user read from the User Management API, organization memberships on request.
//!
//! What is checked:
//! - signature with the key set at `jwks_uri` (default `{api_base}/sso/jwks/{client_id}`, what
//!   `userManagement.getJwksUrl(clientId)` returns), RS256 only, the algorithm bound to the key;
//! - `exp` required, `nbf`/`iat` with the leeway; `aud` when `audience` is configured;
//! - `iss`: the configured `issuer`, else one of `{api_base}` (the value WorkOS documents for
//!   access tokens, `https://api.workos.com`) and `{api_base}/user_management/{client_id}` (the
//!   per-client issuer AuthKit environments use). Mastra checks no issuer at all; the key set is
//!   per client already, the issuer check is defence in depth. Set `issuer` for a custom
//!   authentication domain.
//!
//! Unless `trust_jwt_claims`, the user is read with `GET {api_base}/user_management/users/{sub}`
//! (cached per user for `user_cache_ttl`, 60 s): 404 is an invalid token (401), other failures a
//! 503. With `trust_jwt_claims` the user is built from the token alone, through `jwt_claims`.
//! `fetch_memberships` adds `claims.memberships` from
//! `GET {api_base}/user_management/organization_memberships?user_id=…` (paged by `after`, cached
//! 60 s per user). The provider always authorizes: the user needs an `id` and a `workos_id`, and
//! with `require_admin_role` an active membership whose role slug is `admin`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http::request::Parts;
use jsonwebtoken::Algorithm;
use reqwest::Url;
use serde::Deserialize;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::clerk::SingleFlightCache;
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

/// Default WorkOS API base URL.
pub const DEFAULT_API_BASE: &str = "https://api.workos.com";
/// Page size of membership listings.
pub const MEMBERSHIP_PAGE_SIZE: usize = 100;
/// Upper bound on membership pages read per user (5 000 memberships).
pub const MAX_MEMBERSHIP_PAGES: usize = 50;
/// Default lifetime of cached users and membership lists.
pub const DEFAULT_USER_CACHE_TTL: Duration = Duration::from_secs(60);

/// Environment variable for [`WorkosConfig::api_key`].
pub const ENV_API_KEY: &str = "WORKOS_API_KEY";
/// Environment variable for [`WorkosConfig::client_id`].
pub const ENV_CLIENT_ID: &str = "WORKOS_CLIENT_ID";
/// Environment variable for [`WorkosConfig::redirect_uri`].
pub const ENV_REDIRECT_URI: &str = "WORKOS_REDIRECT_URI";

/// The `jwt_claims` keys with a meaning of their own; any other key copies the value at its path
/// into the user's claims under that key.
pub const MAPPED_KEYS: [&str; 6] = [
    "user_id",
    "workos_id",
    "email",
    "name",
    "organization_id",
    "organization_membership_id",
];

/// Settings of the WorkOS provider.
///
/// With the `serde` feature it deserializes from a `[auth.workos]` table with the keys `name`,
/// `api_key`, `client_id`, `redirect_uri`, `api_base`, `jwks_uri`, `issuer`, `audience` (a string
/// or a list), `fetch_memberships`, `trust_jwt_claims`, `jwt_claims`, `require_admin_role`,
/// `allow_insecure_http` and `leeway`; unknown keys are errors, the other settings keep their
/// defaults.
#[derive(Clone, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct WorkosConfig {
    /// Provider name (default `workos`).
    pub name: String,
    /// API key (`WORKOS_API_KEY`); needed unless `trust_jwt_claims` with no membership lookups.
    pub api_key: Option<Secret>,
    /// Client id (`WORKOS_CLIENT_ID`); selects the JWKS.
    pub client_id: Option<String>,
    /// Redirect URI (`WORKOS_REDIRECT_URI`); kept for login flows, unused for verification.
    pub redirect_uri: Option<String>,
    /// API base URL (default [`DEFAULT_API_BASE`]).
    pub api_base: String,
    /// JWKS URL override (default `{api_base}/sso/jwks/{client_id}`).
    pub jwks_uri: Option<String>,
    /// Accepted issuer (default: `{api_base}` or `{api_base}/user_management/{client_id}`).
    pub issuer: Option<String>,
    /// Accepted `aud` values; empty = not checked.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::config_serde::one_or_many")
    )]
    pub audience: Vec<String>,
    /// Read the user's organization memberships into `claims.memberships`.
    pub fetch_memberships: bool,
    /// Build the user from the token claims alone (no User Management API call).
    pub trust_jwt_claims: bool,
    /// Claim mapping, target key -> dot path in the token (see [`MAPPED_KEYS`]); defaults:
    /// `user_id = "sub"`, `email = "email"`, `name = "name"`, `organization_id = "org_id"`.
    pub jwt_claims: BTreeMap<String, String>,
    /// Require an active membership with role slug `admin` (the older Mastra check).
    pub require_admin_role: bool,
    /// Permit plain HTTP to loopback hosts (tests, local fakes).
    pub allow_insecure_http: bool,
    /// Total timeout of each call to WorkOS (key set and API).
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
    /// Verified-token cache capacity (0 disables it); caches the verified claims only.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub cache_capacity: u64,
    /// Longest a verified token is trusted from the cache.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub cache_max_ttl: Duration,
    /// How long a user record and a membership list are reused.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub user_cache_ttl: Duration,
    /// Provider-specific public paths.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub public: PatternList,
    /// Provider-specific protected paths.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub protected: PatternList,
}

impl Default for WorkosConfig {
    fn default() -> Self {
        Self {
            name: "workos".into(),
            api_key: None,
            client_id: None,
            redirect_uri: None,
            api_base: DEFAULT_API_BASE.into(),
            jwks_uri: None,
            issuer: None,
            audience: Vec::new(),
            fetch_memberships: false,
            trust_jwt_claims: false,
            jwt_claims: BTreeMap::new(),
            require_admin_role: false,
            allow_insecure_http: false,
            http_timeout: crate::idp_http::DEFAULT_TIMEOUT,
            leeway: jwt::DEFAULT_LEEWAY,
            max_token_bytes: jwt::DEFAULT_MAX_TOKEN_BYTES,
            cache_capacity: DEFAULT_CAPACITY,
            cache_max_ttl: DEFAULT_MAX_TTL,
            user_cache_ttl: DEFAULT_USER_CACHE_TTL,
            public: PatternList::default(),
            protected: PatternList::default(),
        }
    }
}

impl std::fmt::Debug for WorkosConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkosConfig")
            .field("name", &self.name)
            .field("api_key", &self.api_key)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("api_base", &self.api_base)
            .field("jwks_uri", &self.jwks_uri)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("fetch_memberships", &self.fetch_memberships)
            .field("trust_jwt_claims", &self.trust_jwt_claims)
            .field("jwt_claims", &self.jwt_claims)
            .field("require_admin_role", &self.require_admin_role)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish_non_exhaustive()
    }
}

impl WorkosConfig {
    /// The defaults with unset fields filled from `WORKOS_API_KEY`, `WORKOS_CLIENT_ID` and
    /// `WORKOS_REDIRECT_URI`.
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let mut cfg = Self::default();
        cfg.fill_from_env(lookup);
        cfg
    }

    /// Fills fields left unset (or empty) through `lookup`: `api_key` from `WORKOS_API_KEY`,
    /// `client_id` from `WORKOS_CLIENT_ID`, `redirect_uri` from `WORKOS_REDIRECT_URI`. Set fields
    /// win; blank variables count as unset.
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        fill_secret(&mut self.api_key, &lookup, &[ENV_API_KEY]);
        fill(&mut self.client_id, &lookup, &[ENV_CLIENT_ID]);
        fill(&mut self.redirect_uri, &lookup, &[ENV_REDIRECT_URI]);
    }
}

/// Why a WorkOS provider could not be built. Each message begins with the name of the field at fault, so an application can put its own path (a config key) in front.
#[derive(Debug, thiserror::Error)]
pub enum WorkosConfigError {
    /// No client id.
    #[error("client_id (or WORKOS_CLIENT_ID) is required")]
    MissingClientId,
    /// No API key while API calls are needed.
    #[error(
        "api_key (or WORKOS_API_KEY) is required to read users and memberships; only trust_jwt_claims without fetch_memberships/require_admin_role works without it"
    )]
    MissingApiKey,
    /// A URL setting is unusable (malformed, or plain HTTP without `allow_insecure_http`).
    #[error("{setting}: {source}")]
    Url {
        /// The setting (`jwks_uri`, `api_base`).
        setting: &'static str,
        /// Why.
        #[source]
        source: IdpError,
    },
    /// A `jwt_claims` entry with an empty key or path, or the reserved key `memberships`.
    #[error(
        "jwt_claims: {0:?} needs a non-empty claim path (and `memberships` is reserved for fetch_memberships)"
    )]
    BadClaimMapping(String),
}

/// A WorkOS user as the User Management API returns it (fields we use).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WorkosUser {
    /// `user_…`.
    pub id: String,
    /// Primary email.
    #[serde(default)]
    pub email: Option<String>,
    /// Given name.
    #[serde(default)]
    pub first_name: Option<String>,
    /// Family name.
    #[serde(default)]
    pub last_name: Option<String>,
    /// Whether the email is verified.
    #[serde(default)]
    pub email_verified: Option<bool>,
    /// Avatar.
    #[serde(default)]
    pub profile_picture_url: Option<String>,
    /// Creation time (ISO 8601).
    #[serde(default)]
    pub created_at: Option<String>,
}

impl WorkosUser {
    /// `first last` when both are set, else the first name, else the email.
    pub fn display_name(&self) -> Option<String> {
        let nz = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        match (nz(&self.first_name), nz(&self.last_name)) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(f), None) => Some(f),
            _ => nz(&self.email),
        }
    }
}

/// One organization membership, normalized (role slugs, not role objects).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkosMembership {
    /// `om_…`.
    pub id: String,
    /// `org_…`.
    pub organization_id: String,
    /// Organization name, when the API includes it.
    pub organization_name: Option<String>,
    /// The role slug (`role.slug`).
    pub role: Option<String>,
    /// All role slugs (`roles[].slug` where the API sends them, else `[role]`).
    pub roles: Vec<String>,
    /// `active`, `inactive` or `pending`.
    pub status: String,
}

impl WorkosMembership {
    /// The membership as it appears in `claims.memberships`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "id": self.id,
            "organization_id": self.organization_id,
            "organization_name": self.organization_name,
            "role": self.role,
            "roles": self.roles,
            "status": self.status,
        })
    }

    /// Active, with role slug `slug`.
    pub fn is_active_with_role(&self, slug: &str) -> bool {
        self.status == "active" && self.roles.iter().any(|r| r == slug)
    }
}

#[derive(Debug, Deserialize)]
struct RoleRef {
    slug: String,
}

#[derive(Debug, Deserialize)]
struct RawMembership {
    id: String,
    organization_id: String,
    #[serde(default)]
    organization_name: Option<String>,
    #[serde(default)]
    role: Option<RoleRef>,
    #[serde(default)]
    roles: Option<Vec<RoleRef>>,
    #[serde(default)]
    status: Option<String>,
}

#[derive(Debug, Deserialize)]
struct MembershipList {
    #[serde(default)]
    data: Vec<RawMembership>,
    #[serde(default)]
    list_metadata: Option<ListMetadata>,
}

#[derive(Debug, Deserialize)]
struct ListMetadata {
    #[serde(default)]
    after: Option<String>,
}

impl From<RawMembership> for WorkosMembership {
    fn from(m: RawMembership) -> Self {
        let role = m.role.map(|r| r.slug);
        let roles = match m.roles {
            Some(rs) if !rs.is_empty() => rs.into_iter().map(|r| r.slug).collect(),
            _ => role.iter().cloned().collect(),
        };
        Self {
            id: m.id,
            organization_id: m.organization_id,
            organization_name: m.organization_name,
            role,
            roles,
            status: m.status.unwrap_or_default(),
        }
    }
}

struct Api {
    client: IdpClient,
    base: Url,
    auth_header: Zeroizing<String>,
}

impl Api {
    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    async fn user(&self, id: &str) -> Result<WorkosUser, IdpError> {
        let url = self.url(&["user_management", "users", id]);
        self.client
            .get_json(
                &url,
                &[
                    ("authorization", self.auth_header.as_str()),
                    ("accept", "application/json"),
                ],
            )
            .await
    }

    async fn memberships(&self, user_id: &str) -> Result<Vec<WorkosMembership>, IdpError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_MEMBERSHIP_PAGES {
            let mut url = self.url(&["user_management", "organization_memberships"]);
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("user_id", user_id)
                    .append_pair("limit", &MEMBERSHIP_PAGE_SIZE.to_string());
                if let Some(a) = &after {
                    q.append_pair("after", a);
                }
            }
            let page: MembershipList = self
                .client
                .get_json(
                    &url,
                    &[
                        ("authorization", self.auth_header.as_str()),
                        ("accept", "application/json"),
                    ],
                )
                .await?;
            let n = page.data.len();
            out.extend(page.data.into_iter().map(WorkosMembership::from));
            let next = page
                .list_metadata
                .and_then(|m| m.after)
                .filter(|a| !a.is_empty());
            match next {
                Some(next) if n > 0 && after.as_ref() != Some(&next) => after = Some(next),
                _ => return Ok(out),
            }
        }
        tracing::warn!(
            pages = MAX_MEMBERSHIP_PAGES,
            "WorkOS membership listing truncated"
        );
        Ok(out)
    }
}

/// The `workos` provider.
pub struct WorkosProvider {
    name: Arc<str>,
    client_id: String,
    redirect_uri: Option<String>,
    keys: KeySet,
    claims: ClaimsPolicy,
    max_token_bytes: usize,
    api: Option<Api>,
    fetch_memberships: bool,
    trust_jwt_claims: bool,
    jwt_claims: BTreeMap<String, String>,
    require_admin_role: bool,
    users: SingleFlightCache<Arc<WorkosUser>>,
    memberships: SingleFlightCache<Arc<Vec<WorkosMembership>>>,
    token_cache: Option<VerifiedTokenCache>,
    public: PatternList,
    protected: PatternList,
}

impl std::fmt::Debug for WorkosProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkosProvider")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("issuers", &self.claims.issuers)
            .field("fetch_memberships", &self.fetch_memberships)
            .field("trust_jwt_claims", &self.trust_jwt_claims)
            .field("require_admin_role", &self.require_admin_role)
            .finish_non_exhaustive()
    }
}

/// The value at a dot-separated path (`a.b.c`) of a JSON object.
fn at_path<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = claims.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_object()?.get(p)?;
    }
    Some(cur)
}

fn non_empty_str(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn unavailable_authn(e: &IdpError) -> AuthError {
    tracing::warn!(error = %e, "WorkOS API call failed");
    AuthError::authentication_unavailable(format!("WorkOS API: {e}"))
}

impl WorkosProvider {
    /// Builds the provider; an error begins with the name of the field to fix.
    pub fn new(cfg: WorkosConfig) -> Result<Self, WorkosConfigError> {
        let client_id = non_empty(&cfg.client_id)
            .ok_or(WorkosConfigError::MissingClientId)?
            .to_owned();
        for (k, path) in &cfg.jwt_claims {
            if k.trim().is_empty()
                || k == "memberships"
                || path.trim().is_empty()
                || path.split('.').any(str::is_empty)
            {
                return Err(WorkosConfigError::BadClaimMapping(k.clone()));
            }
        }
        let client = IdpClient::new(IdpClientConfig {
            allow_insecure_http: cfg.allow_insecure_http,
            timeout: cfg.http_timeout,
            ..IdpClientConfig::default()
        });
        let api_base = cfg.api_base.trim().trim_end_matches('/').to_owned();
        let base = client
            .url(&api_base)
            .map_err(|source| WorkosConfigError::Url {
                setting: "api_base",
                source,
            })?;
        if base.cannot_be_a_base() {
            return Err(WorkosConfigError::Url {
                setting: "api_base",
                source: IdpError::BadUrl(api_base),
            });
        }
        let needs_api = !cfg.trust_jwt_claims || cfg.fetch_memberships || cfg.require_admin_role;
        let api = match non_empty_secret(&cfg.api_key) {
            Some(key) => Some(Api {
                client: client.clone(),
                base: base.clone(),
                auth_header: Zeroizing::new(format!("Bearer {key}")),
            }),
            None if needs_api => return Err(WorkosConfigError::MissingApiKey),
            None => None,
        };
        let jwks_uri = match non_empty(&cfg.jwks_uri) {
            Some(u) => u.to_owned(),
            None => {
                let mut u = base.clone();
                if let Ok(mut p) = u.path_segments_mut() {
                    p.pop_if_empty().extend(["sso", "jwks", client_id.as_str()]);
                }
                u.to_string()
            }
        };
        client
            .url(&jwks_uri)
            .map_err(|source| WorkosConfigError::Url {
                setting: "jwks_uri",
                source,
            })?;
        let issuers = match non_empty(&cfg.issuer) {
            Some(i) => vec![i.to_owned()],
            None => vec![
                api_base.clone(),
                format!("{api_base}/user_management/{client_id}"),
            ],
        };
        let mut jwt_claims = cfg.jwt_claims;
        for (k, v) in [
            ("user_id", "sub"),
            ("email", "email"),
            ("name", "name"),
            ("organization_id", "org_id"),
        ] {
            jwt_claims.entry(k.into()).or_insert_with(|| v.into());
        }
        let mut ks = KeySetConfig::jwks(jwks_uri);
        ks.allowed_algorithms = Some(vec![Algorithm::RS256]);
        let keys = KeySet::new(client, ks).map_err(|source| WorkosConfigError::Url {
            setting: "jwks_uri",
            source,
        })?;
        Ok(Self {
            name: cfg.name.into(),
            client_id,
            redirect_uri: non_empty(&cfg.redirect_uri).map(str::to_owned),
            keys,
            claims: ClaimsPolicy {
                issuers,
                audiences: cfg.audience,
                require_exp: true,
                leeway: cfg.leeway,
            },
            max_token_bytes: cfg.max_token_bytes,
            api,
            fetch_memberships: cfg.fetch_memberships,
            trust_jwt_claims: cfg.trust_jwt_claims,
            jwt_claims,
            require_admin_role: cfg.require_admin_role,
            users: SingleFlightCache::new(100_000, cfg.user_cache_ttl),
            memberships: SingleFlightCache::new(100_000, cfg.user_cache_ttl),
            token_cache: (cfg.cache_capacity > 0)
                .then(|| VerifiedTokenCache::new(cfg.cache_capacity, cfg.cache_max_ttl)),
            public: cfg.public,
            protected: cfg.protected,
        })
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The configured redirect URI (login flows; unused for verification).
    pub fn redirect_uri(&self) -> Option<&str> {
        self.redirect_uri.as_deref()
    }

    /// The accepted issuers.
    pub fn accepted_issuers(&self) -> &[String] {
        &self.claims.issuers
    }

    /// The key set (for stats and warm-up).
    pub fn key_set(&self) -> &KeySet {
        &self.keys
    }

    /// Verifies the access token (signature and registered claims) and returns its claims.
    pub async fn verify_claims(&self, token: &str) -> Result<Map<String, Value>, AuthError> {
        if let Some(cache) = &self.token_cache
            && let Some(user) = cache.get(token, jwt::now_secs(), self.claims.leeway)
        {
            return Ok(Map::clone(&user.claims));
        }
        let (claims, exp) = self
            .keys
            .verify(token, &self.claims, self.max_token_bytes)
            .await?;
        if let Some(cache) = &self.token_cache {
            cache.insert(
                token,
                Arc::new(User {
                    id: String::new(),
                    claims: Arc::new(claims.clone()),
                    provider: self.name.clone(),
                }),
                exp,
            );
        }
        Ok(claims)
    }

    fn mapped<'a>(&self, claims: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
        self.jwt_claims.get(key).and_then(|p| at_path(claims, p))
    }

    /// The user record, through the 60 s cache. 404 -> invalid token; other failures -> 503.
    async fn lookup_user(&self, api: &Api, id: &str) -> Result<Arc<WorkosUser>, AuthError> {
        self.users
            .get_or_fetch(id, || async {
                match api.user(id).await {
                    Ok(u) => Ok(Arc::new(u)),
                    Err(IdpError::Status { status: 404, .. }) => Err(AuthError::InvalidToken(
                        Rejection::Provider("the WorkOS user does not exist".into()),
                    )),
                    Err(e) => Err(unavailable_authn(&e)),
                }
            })
            .await
    }

    /// The user's memberships, through the 60 s cache; failures become `unavailable(reason)`
    /// (a 503 of authentication or authorization).
    async fn memberships(
        &self,
        workos_id: &str,
        unavailable: fn(String) -> AuthError,
    ) -> Result<Arc<Vec<WorkosMembership>>, AuthError> {
        let Some(api) = &self.api else {
            // Unreachable by construction (memberships require the API key); fail closed.
            return Err(unavailable("WorkOS API key not configured".into()));
        };
        self.memberships
            .get_or_fetch(workos_id, || async {
                api.memberships(workos_id).await.map(Arc::new).map_err(|e| {
                    tracing::warn!(error = %e, "WorkOS membership lookup failed");
                    unavailable(format!("WorkOS API: {e}"))
                })
            })
            .await
    }

    /// Builds the normalized user from verified claims (and the API, unless trusted claims).
    pub async fn resolve_user(&self, token_claims: Map<String, Value>) -> Result<User, AuthError> {
        let mut claims = token_claims.clone();
        // Other mapped claims are copied under their key, whatever their JSON type.
        for (key, path) in &self.jwt_claims {
            if MAPPED_KEYS.contains(&key.as_str()) {
                continue;
            }
            if let Some(v) = at_path(&token_claims, path) {
                claims.insert(key.clone(), v.clone());
            }
        }
        let s = |key: &str| non_empty_str(self.mapped(&token_claims, key)).map(str::to_owned);
        let mut organization_id = s("organization_id");
        let mut organization_membership_id = s("organization_membership_id");
        let (id, workos_id) = if self.trust_jwt_claims {
            let id = s("user_id").ok_or(AuthError::InvalidToken(Rejection::MissingClaim(
                "sub (jwt_claims.user_id)",
            )))?;
            let workos_id = s("workos_id").unwrap_or_else(|| id.clone());
            let email = s("email");
            let name = s("name").or_else(|| email.clone()).unwrap_or(id.clone());
            if let Some(email) = email {
                claims.insert("email".into(), email.into());
            }
            claims.insert("name".into(), name.into());
            (id, workos_id)
        } else {
            let sub = match token_claims.get("sub") {
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                _ => return Err(AuthError::InvalidToken(Rejection::MissingClaim("sub"))),
            };
            let Some(api) = &self.api else {
                return Err(AuthError::authentication_unavailable(
                    "WorkOS API key not configured",
                ));
            };
            let user = self.lookup_user(api, &sub).await?;
            if user.id != sub {
                return Err(AuthError::InvalidToken(Rejection::Provider(
                    "WorkOS returned a different user than the token's subject".into(),
                )));
            }
            let opt = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
            claims.insert("email".into(), opt(&user.email));
            claims.insert(
                "name".into(),
                Value::String(user.display_name().unwrap_or_else(|| user.id.clone())),
            );
            claims.insert("first_name".into(), opt(&user.first_name));
            claims.insert("last_name".into(), opt(&user.last_name));
            claims.insert(
                "email_verified".into(),
                user.email_verified.map_or(Value::Null, Value::Bool),
            );
            claims.insert("avatar_url".into(), opt(&user.profile_picture_url));
            (user.id.clone(), user.id.clone())
        };
        // `claims.memberships` only ever comes from the API, never from the token.
        claims.remove("memberships");
        if self.fetch_memberships {
            let ms = self
                .memberships(&workos_id, AuthError::authentication_unavailable)
                .await?;
            if organization_id.is_none()
                && let [only] = ms.as_slice()
            {
                organization_id = Some(only.organization_id.clone());
            }
            if organization_membership_id.is_none()
                && let Some(org) = &organization_id
            {
                organization_membership_id = ms
                    .iter()
                    .find(|m| &m.organization_id == org)
                    .map(|m| m.id.clone());
            }
            claims.insert(
                "memberships".into(),
                Value::Array(ms.iter().map(WorkosMembership::to_json).collect()),
            );
        }
        claims.insert("workos_id".into(), Value::String(workos_id));
        claims.insert(
            "organization_id".into(),
            organization_id.map_or(Value::Null, Value::String),
        );
        claims.insert(
            "organization_membership_id".into(),
            organization_membership_id.map_or(Value::Null, Value::String),
        );
        Ok(User {
            id,
            claims: Arc::new(claims),
            provider: self.name.clone(),
        })
    }
}

impl AuthProvider for WorkosProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn authenticate<'a>(&'a self, token: &'a str, _parts: &'a Parts) -> Verdict<'a, Option<User>> {
        Verdict::pending(async move {
            let claims = self.verify_claims(token).await?;
            self.resolve_user(claims).await.map(Some)
        })
    }

    fn authorizes(&self, _user: &User) -> bool {
        true
    }

    fn authorize<'a>(&'a self, user: &'a User, _parts: &'a Parts) -> Verdict<'a, bool> {
        Verdict::pending(async move {
            let Some(workos_id) = non_empty_str(user.claim("workos_id")) else {
                return Ok(false);
            };
            if user.id.is_empty() {
                return Ok(false);
            }
            if !self.require_admin_role {
                return Ok(true);
            }
            let ms = self
                .memberships(workos_id, AuthError::authorization_unavailable)
                .await?;
            Ok(ms.iter().any(|m| m.is_active_with_role("admin")))
        })
    }

    fn public(&self) -> PatternList {
        self.public.clone()
    }

    fn protected(&self) -> PatternList {
        self.protected.clone()
    }

    fn issuers(&self) -> &[String] {
        &self.claims.issuers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dot_paths() {
        let c = json!({"a": {"b": {"c": "x"}}, "sub": "u"});
        let c = c.as_object().unwrap();
        assert_eq!(at_path(c, "a.b.c"), Some(&json!("x")));
        assert_eq!(at_path(c, "sub"), Some(&json!("u")));
        assert_eq!(at_path(c, "a.x"), None);
        assert_eq!(at_path(c, "sub.x"), None);
    }

    #[test]
    fn display_name_falls_back() {
        let mut u = WorkosUser {
            id: "user_1".into(),
            email: Some("a@example.com".into()),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            email_verified: Some(true),
            profile_picture_url: None,
            created_at: None,
        };
        assert_eq!(u.display_name().as_deref(), Some("Ada Lovelace"));
        u.last_name = None;
        assert_eq!(u.display_name().as_deref(), Some("Ada"));
        u.first_name = None;
        assert_eq!(u.display_name().as_deref(), Some("a@example.com"));
    }

    #[test]
    fn membership_roles_prefer_roles_array() {
        let raw: RawMembership = serde_json::from_value(json!({
            "object": "organization_membership", "id": "om_1", "user_id": "user_1",
            "organization_id": "org_1", "role": {"slug": "member"},
            "roles": [{"slug": "member"}, {"slug": "admin"}], "status": "active"
        }))
        .unwrap();
        let m = WorkosMembership::from(raw);
        assert_eq!(m.role.as_deref(), Some("member"));
        assert!(m.is_active_with_role("admin"));
        let raw: RawMembership = serde_json::from_value(json!({
            "id": "om_2", "organization_id": "org_1", "role": {"slug": "admin"}, "status": "inactive"
        }))
        .unwrap();
        assert!(!WorkosMembership::from(raw).is_active_with_role("admin"));
    }

    #[test]
    fn env_fills_and_debug_redacts() {
        let cfg = WorkosConfig::from_env_with(|k| match k {
            ENV_API_KEY => Some("sk_test_workos".into()),
            ENV_CLIENT_ID => Some("client_123".into()),
            ENV_REDIRECT_URI => Some("https://app.example/callback".into()),
            _ => None,
        });
        assert_eq!(cfg.client_id.as_deref(), Some("client_123"));
        assert_eq!(
            cfg.redirect_uri.as_deref(),
            Some("https://app.example/callback")
        );
        assert!(!format!("{cfg:?}").contains("sk_test_workos"));
    }

    #[test]
    fn config_errors_name_the_setting() {
        let err = WorkosProvider::new(WorkosConfig::default()).unwrap_err();
        assert!(err.to_string().starts_with("client_id"), "{err}");
        let err = WorkosProvider::new(WorkosConfig {
            client_id: Some("client_1".into()),
            ..WorkosConfig::default()
        })
        .unwrap_err();
        assert!(err.to_string().starts_with("api_key"), "{err}");
        let err = WorkosProvider::new(WorkosConfig {
            client_id: Some("client_1".into()),
            api_key: Some("sk".into()),
            api_base: "http://api.workos.com".into(),
            ..WorkosConfig::default()
        })
        .unwrap_err();
        assert!(err.to_string().starts_with("api_base"), "{err}");
        let err = WorkosProvider::new(WorkosConfig {
            client_id: Some("client_1".into()),
            api_key: Some("sk".into()),
            jwt_claims: [("email".to_string(), "a..b".to_string())].into(),
            ..WorkosConfig::default()
        })
        .unwrap_err();
        assert!(err.to_string().starts_with("jwt_claims"), "{err}");
    }
}
