//! `[auth.<provider>]` tables for the identity-provider integrations. Every field is optional in
//! the file: unset fields are filled from the documented environment variables, and the
//! provider's constructor names any setting still missing (`auth.clerk.publishable_key`, ...).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::Secret;

fn de_opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    s.map(|s| super::parse_duration(&s).map_err(serde::de::Error::custom))
        .transpose()
}

/// A string or a list of strings.
fn de_opt_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(Option::<OneOrMany>::deserialize(d)?.map(|v| match v {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    }))
}

/// `[auth.jwks]`: any issuer that publishes a JWKS.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwksSection {
    /// Provider name recorded on users.
    pub name: Option<String>,
    /// The JWKS URL (HTTPS).
    pub jwks_uri: Option<String>,
    /// Required `iss`.
    pub issuer: Option<String>,
    /// Required `aud`.
    pub audience: Option<String>,
    /// Accept any audience (not recommended; `config check` warns).
    pub allow_any_audience: Option<bool>,
    /// Accepted algorithms.
    pub algorithms: Option<Vec<String>>,
    /// Clock leeway.
    #[serde(deserialize_with = "de_opt_duration")]
    pub leeway: Option<Duration>,
    /// Plain HTTP to loopback (tests, local IdPs).
    pub allow_insecure_http: Option<bool>,
}

/// `[auth.oidc]`: an OpenID Connect issuer, keys found through discovery.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcSection {
    /// Provider name recorded on users.
    pub name: Option<String>,
    /// The issuer URL; discovery at `{issuer}/.well-known/openid-configuration`.
    pub issuer: Option<String>,
    /// Required `aud`.
    pub audience: Option<String>,
    /// Client id (accepted as audience / `azp`).
    pub client_id: Option<String>,
    /// JWKS URL override (skips discovery of `jwks_uri`).
    pub jwks_uri: Option<String>,
    /// Discovery document URL override.
    pub discovery_url: Option<String>,
    /// Accepted algorithms.
    pub algorithms: Option<Vec<String>>,
    /// Clock leeway.
    #[serde(deserialize_with = "de_opt_duration")]
    pub leeway: Option<Duration>,
    /// Plain HTTP to loopback.
    pub allow_insecure_http: Option<bool>,
}

/// `[auth.auth0]` (`AUTH0_DOMAIN`, `AUTH0_AUDIENCE`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Auth0Section {
    /// Provider name recorded on users.
    pub name: Option<String>,
    /// Tenant domain, e.g. `your-tenant.us.auth0.com`.
    pub domain: Option<String>,
    /// API identifier (required `aud`).
    pub audience: Option<String>,
    /// JWKS URL override.
    pub jwks_uri: Option<String>,
    /// Base URL override (tests, proxies).
    pub base_url: Option<String>,
    /// Clock leeway.
    #[serde(deserialize_with = "de_opt_duration")]
    pub leeway: Option<Duration>,
    /// Plain HTTP to loopback.
    pub allow_insecure_http: Option<bool>,
}

/// `[auth.clerk]` (`CLERK_JWKS_URI`, `CLERK_SECRET_KEY`, `CLERK_PUBLISHABLE_KEY`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClerkSection {
    /// Provider name recorded on users.
    pub name: Option<String>,
    /// JWKS URL.
    pub jwks_uri: Option<String>,
    /// Backend API secret key.
    pub secret_key: Option<Secret>,
    /// Publishable key (the issuer is decoded from it).
    pub publishable_key: Option<String>,
    /// Issuer override.
    pub issuer: Option<String>,
    /// Accepted `azp` values.
    #[serde(deserialize_with = "de_opt_list")]
    pub authorized_parties: Option<Vec<String>>,
    /// Restrict to one organization by id.
    pub organization_id: Option<String>,
    /// Restrict to one organization by slug.
    pub organization_slug: Option<String>,
    /// Backend API base URL override.
    pub api_base: Option<String>,
    /// Clock leeway.
    #[serde(deserialize_with = "de_opt_duration")]
    pub leeway: Option<Duration>,
    /// Plain HTTP to loopback.
    pub allow_insecure_http: Option<bool>,
}

/// `[auth.firebase]` (`FIREBASE_SERVICE_ACCOUNT`, `FIRESTORE_DATABASE_ID` / `FIREBASE_DATABASE_ID`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FirebaseSection {
    /// Provider name recorded on users.
    pub name: Option<String>,
    /// Firebase project id (default: the service account's).
    pub project_id: Option<String>,
    /// Service-account JSON: a file path or the JSON text.
    pub service_account: Option<Secret>,
    /// Firestore database id (default `(default)`).
    pub database_id: Option<String>,
    /// Google certificate URL override.
    pub certs_url: Option<String>,
    /// OAuth token URL override.
    pub token_uri: Option<String>,
    /// Firestore REST base URL override.
    pub firestore_base_url: Option<String>,
    /// Clock leeway.
    #[serde(deserialize_with = "de_opt_duration")]
    pub leeway: Option<Duration>,
    /// Plain HTTP to loopback.
    pub allow_insecure_http: Option<bool>,
}

/// `[auth.supabase]` (`SUPABASE_URL`, `SUPABASE_ANON_KEY`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SupabaseSection {
    /// Provider name recorded on users.
    pub name: Option<String>,
    /// Project URL.
    pub url: Option<String>,
    /// Anon (public) API key.
    pub anon_key: Option<Secret>,
    /// Legacy HS256 JWT secret: verify locally instead of calling `/auth/v1/user`.
    pub jwt_secret: Option<Secret>,
    /// Verify locally with the project's JWKS.
    pub verify_locally_with_jwks: Option<bool>,
    /// JWKS URL override.
    pub jwks_uri: Option<String>,
    /// How long a remote user lookup is reused (default 60 s).
    #[serde(deserialize_with = "de_opt_duration")]
    pub cache_ttl: Option<Duration>,
    /// Clock leeway.
    #[serde(deserialize_with = "de_opt_duration")]
    pub leeway: Option<Duration>,
    /// Plain HTTP to loopback.
    pub allow_insecure_http: Option<bool>,
}

/// `[auth.workos]` (`WORKOS_API_KEY`, `WORKOS_CLIENT_ID`, `WORKOS_REDIRECT_URI`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkosSection {
    /// Provider name recorded on users.
    pub name: Option<String>,
    /// API key.
    pub api_key: Option<Secret>,
    /// Client id (selects the JWKS).
    pub client_id: Option<String>,
    /// Redirect URI (kept for SSO flows; unused for verification).
    pub redirect_uri: Option<String>,
    /// API base URL override.
    pub api_base: Option<String>,
    /// JWKS URL override.
    pub jwks_uri: Option<String>,
    /// Required issuer override.
    pub issuer: Option<String>,
    /// Accepted audiences.
    #[serde(deserialize_with = "de_opt_list")]
    pub audience: Option<Vec<String>>,
    /// Load organization memberships into `claims.memberships`.
    pub fetch_memberships: Option<bool>,
    /// Build the user from the token alone (no user lookup).
    pub trust_jwt_claims: Option<bool>,
    /// Extra claims to copy: normalized name -> dot path in the token.
    pub jwt_claims: Option<BTreeMap<String, String>>,
    /// Require an active `admin` membership (the older Mastra rule).
    pub require_admin_role: Option<bool>,
    /// Clock leeway.
    #[serde(deserialize_with = "de_opt_duration")]
    pub leeway: Option<Duration>,
    /// Plain HTTP to loopback.
    pub allow_insecure_http: Option<bool>,
}
