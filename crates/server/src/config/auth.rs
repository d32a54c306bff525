//! `[auth]`: which provider verifies credentials, path policy and rules, and one table per
//! provider. The identity-provider tables (`[auth.jwks]`, `[auth.clerk]`, ...) are the auth
//! crate's own config types, read through its `serde` feature; `[auth.jwt]`, `[auth.api_keys]`
//! and `[auth.composite]` are the server's.

use std::fmt;

use mastra_auth::providers::{
    Auth0Config, ClerkConfig, FirebaseConfig, JwksConfig, OidcConfig, SupabaseConfig, WorkosConfig,
};
use mastra_auth::rbac::RbacConfig;
use serde::{Deserialize, Serialize};

use super::units::de_bool;
use super::{ConfigError, FgaConfig, JwtConfig, Secret, SessionConfig, SsoConfig};

/// `[auth]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Which provider verifies credentials (default `jwt`).
    pub provider: AuthProviderKind,
    /// Public path patterns, added to the defaults; raw, converted by `mastra_auth::pattern`.
    pub public: Vec<toml::Value>,
    /// Protected path patterns; raw, converted by `mastra_auth::pattern`.
    pub protected: Vec<toml::Value>,
    /// Accept the token in the `apiKey` query parameter (default true, as Mastra).
    #[serde(deserialize_with = "de_bool")]
    pub api_key_query: bool,
    /// Ordered authorization rules; raw, converted by `mastra_auth::rules`.
    pub rules: Vec<toml::Value>,
    /// `[auth.jwt]`, for provider `jwt` (optional: the secret may come from the environment).
    pub jwt: Option<JwtConfig>,
    /// `[auth.api_keys]`, for provider `api_keys`.
    pub api_keys: Option<ApiKeysConfig>,
    /// `[auth.composite]`, for provider `composite`.
    pub composite: Option<CompositeConfig>,
    /// `[auth.jwks]`.
    pub jwks: Option<JwksConfig>,
    /// `[auth.oidc]`.
    pub oidc: Option<OidcConfig>,
    /// `[auth.auth0]` (`AUTH0_DOMAIN`, `AUTH0_AUDIENCE`).
    pub auth0: Option<Auth0Config>,
    /// `[auth.clerk]` (`CLERK_JWKS_URI`, `CLERK_SECRET_KEY`, `CLERK_PUBLISHABLE_KEY`, ...).
    pub clerk: Option<ClerkConfig>,
    /// `[auth.firebase]` (`FIREBASE_SERVICE_ACCOUNT`, `FIRESTORE_DATABASE_ID`, ...).
    pub firebase: Option<FirebaseConfig>,
    /// `[auth.supabase]` (`SUPABASE_URL`, `SUPABASE_ANON_KEY`, `SUPABASE_JWT_SECRET`).
    pub supabase: Option<SupabaseConfig>,
    /// `[auth.workos]` (`WORKOS_API_KEY`, `WORKOS_CLIENT_ID`, `WORKOS_REDIRECT_URI`).
    pub workos: Option<WorkosConfig>,
    /// `[auth.rbac]`: role-based access control; off when absent.
    pub rbac: Option<RbacConfig>,
    /// `[auth.fga]`: fine-grained authorization; off when absent.
    pub fga: Option<FgaConfig>,
    /// `[auth.session]`: the sealed session cookie of browser sign-in.
    pub session: Option<SessionConfig>,
    /// `[auth.sso]`: browser sign-in at the identity provider.
    pub sso: Option<SsoConfig>,
}

impl AuthConfig {
    /// Whether the provider `kind` is in use: it is `auth.provider`, or a member of the composite.
    pub fn uses(&self, kind: AuthProviderKind) -> bool {
        self.provider == kind
            || (self.provider == AuthProviderKind::Composite
                && self
                    .composite
                    .as_ref()
                    .is_some_and(|c| c.providers.contains(&kind)))
    }

    /// Checks that every provider table belongs to a provider in use, the composite's members,
    /// and `[auth.jwt]`.
    pub(super) fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let unused = |section: &str, kind: AuthProviderKind| {
            ConfigError::invalid(
                origin,
                format!("auth.{section}"),
                format!(
                    "is set but `auth.provider` is \"{}\" (and no [auth.composite] lists \"{kind}\"): remove [auth.{section}] or use the provider",
                    self.provider
                ),
            )
        };
        for (set, kind) in [
            (self.api_keys.is_some(), AuthProviderKind::ApiKeys),
            (self.jwks.is_some(), AuthProviderKind::Jwks),
            (self.oidc.is_some(), AuthProviderKind::Oidc),
            (self.auth0.is_some(), AuthProviderKind::Auth0),
            (self.clerk.is_some(), AuthProviderKind::Clerk),
            (self.firebase.is_some(), AuthProviderKind::Firebase),
            (self.supabase.is_some(), AuthProviderKind::Supabase),
            (self.workos.is_some(), AuthProviderKind::Workos),
        ] {
            if set && !self.uses(kind) {
                return Err(unused(kind.as_str(), kind));
            }
        }
        if self.composite.is_some() && self.provider != AuthProviderKind::Composite {
            return Err(unused("composite", AuthProviderKind::Composite));
        }
        if self.provider == AuthProviderKind::Composite {
            let members = self
                .composite
                .as_ref()
                .map(|c| c.providers.as_slice())
                .unwrap_or(&[]);
            validate_composite(members, origin)?;
        }
        if let Some(session) = &self.session {
            session.validate(origin)?;
        }
        if let Some(sso) = &self.sso {
            if !matches!(
                self.provider,
                AuthProviderKind::Oidc | AuthProviderKind::Auth0 | AuthProviderKind::Workos
            ) {
                return Err(ConfigError::invalid(
                    origin,
                    "auth.sso",
                    format!(
                        "browser sign-in needs provider \"oidc\", \"auth0\" or \"workos\", not \"{}\"",
                        self.provider
                    ),
                ));
            }
            sso.validate(origin)?;
        }
        if let Some(jwt) = &self.jwt {
            if !self.uses(AuthProviderKind::Jwt) {
                return Err(unused("jwt", AuthProviderKind::Jwt));
            }
            jwt.validate(origin)?;
        }
        Ok(())
    }
}

/// A composite needs members, each a single provider, listed once.
fn validate_composite(members: &[AuthProviderKind], origin: &str) -> Result<(), ConfigError> {
    if members.is_empty() {
        return Err(ConfigError::invalid(
            origin,
            "auth.composite.providers",
            "list the member providers in order, e.g. providers = [\"jwt\", \"api_keys\"]",
        ));
    }
    for (i, m) in members.iter().enumerate() {
        if matches!(m, AuthProviderKind::Composite | AuthProviderKind::None) {
            return Err(ConfigError::invalid(
                origin,
                format!("auth.composite.providers[{i}]"),
                format!("\"{m}\" cannot be a member of a composite"),
            ));
        }
        if members[..i].contains(m) {
            return Err(ConfigError::invalid(
                origin,
                format!("auth.composite.providers[{i}]"),
                format!("\"{m}\" is listed twice"),
            ));
        }
    }
    Ok(())
}

/// `[auth.api_keys]`: static API keys, each mapped to a user.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiKeysConfig {
    /// Provider name recorded on users (default `api_keys`).
    pub name: Option<String>,
    /// `[[auth.api_keys.keys]]` entries.
    pub keys: Vec<ApiKeyEntry>,
}

/// One `[[auth.api_keys.keys]]` entry: exactly one of `sha256` (recommended) or `key`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyEntry {
    /// Hex SHA-256 of the key (`mastra token hash-key KEY` prints it).
    pub sha256: Option<String>,
    /// The key itself (e.g. `"${SERVICE_KEY}"`); hashed at load, never kept.
    pub key: Option<Secret>,
    /// The user id this key stands for.
    pub user: String,
    /// Claims the user carries (for rules), e.g. `{ role = "service" }`.
    #[serde(default)]
    pub claims: serde_json::Map<String, serde_json::Value>,
}

/// `[auth.composite]`: providers tried in order; each is configured by its own `[auth.<name>]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CompositeConfig {
    /// Member providers, in order (e.g. `["jwt", "api_keys"]`).
    pub providers: Vec<AuthProviderKind>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            provider: AuthProviderKind::default(),
            public: Vec::new(),
            protected: Vec::new(),
            api_key_query: true,
            rules: Vec::new(),
            jwt: None,
            api_keys: None,
            composite: None,
            jwks: None,
            oidc: None,
            auth0: None,
            clerk: None,
            firebase: None,
            supabase: None,
            workos: None,
            rbac: None,
            fga: None,
            session: None,
            sso: None,
        }
    }
}

/// `auth.provider`: the names accepted in the config file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuthProviderKind {
    /// Shared-secret (HS*) or PEM public-key JWT.
    #[default]
    Jwt,
    /// Any issuer publishing a JWKS.
    Jwks,
    /// OpenID Connect discovery.
    Oidc,
    /// Auth0.
    Auth0,
    /// Clerk.
    Clerk,
    /// Firebase Authentication (+ Firestore access list).
    Firebase,
    /// Supabase Auth.
    Supabase,
    /// WorkOS AuthKit.
    Workos,
    /// Static API keys.
    ApiKeys,
    /// Several providers in order.
    Composite,
    /// No authentication at all.
    None,
}

impl AuthProviderKind {
    /// Every provider name, in the order they are documented.
    pub const ALL: &'static [AuthProviderKind] = &[
        AuthProviderKind::Jwt,
        AuthProviderKind::Jwks,
        AuthProviderKind::Oidc,
        AuthProviderKind::Auth0,
        AuthProviderKind::Clerk,
        AuthProviderKind::Firebase,
        AuthProviderKind::Supabase,
        AuthProviderKind::Workos,
        AuthProviderKind::ApiKeys,
        AuthProviderKind::Composite,
        AuthProviderKind::None,
    ];

    /// The name as written in `mastra.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthProviderKind::Jwt => "jwt",
            AuthProviderKind::Jwks => "jwks",
            AuthProviderKind::Oidc => "oidc",
            AuthProviderKind::Auth0 => "auth0",
            AuthProviderKind::Clerk => "clerk",
            AuthProviderKind::Firebase => "firebase",
            AuthProviderKind::Supabase => "supabase",
            AuthProviderKind::Workos => "workos",
            AuthProviderKind::ApiKeys => "api_keys",
            AuthProviderKind::Composite => "composite",
            AuthProviderKind::None => "none",
        }
    }
}

impl fmt::Display for AuthProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use jsonwebtoken::Algorithm;

    use crate::config::{Config, ConfigError};

    fn load(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml_str_with_env(text, "t.toml", |_| None)
    }

    const ALL: &str = r#"
[auth]
provider = "composite"
[auth.composite]
providers = ["jwks", "oidc", "auth0", "clerk", "firebase", "supabase", "workos"]
[auth.jwks]
name = "j"
jwks_uri = "https://idp.example/jwks"
issuer = "https://idp.example/"
audience = "api"
allow_any_audience = false
algorithms = ["RS256", "ES256"]
leeway = "5s"
allow_insecure_http = true
[auth.oidc]
issuer = "https://op.example"
client_id = "c"
discovery_url = "https://op.example/d"
algorithms = ["PS256"]
[auth.auth0]
domain = "t.auth0.com"
audience = "https://api"
base_url = "http://127.0.0.1:9"
leeway = "1m"
[auth.clerk]
publishable_key = "pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"
secret_key = "sk"
authorized_parties = "https://app.example"
organization_slug = "acme"
api_base = "https://clerk.example/v1"
[auth.firebase]
project_id = "p"
service_account = "/sa.json"
database_id = "db"
firestore_base_url = "https://fs.example"
[auth.supabase]
url = "https://x.supabase.co"
anon_key = "anon"
verify_locally_with_jwks = true
cache_ttl = "30s"
[auth.workos]
client_id = "client_1"
audience = ["a", "b"]
trust_jwt_claims = true
jwt_claims = { email = "email", team = "org.team" }
require_admin_role = true
"#;

    #[test]
    fn provider_tables_read_into_the_auth_crate_configs() {
        let c = load(ALL).expect("valid");
        let a = &c.auth;
        let jwks = a.jwks.as_ref().expect("jwks");
        assert_eq!(jwks.name, "j");
        assert_eq!(jwks.audience.as_deref(), Some("api"));
        assert_eq!(
            jwks.algorithms,
            Some(vec![Algorithm::RS256, Algorithm::ES256])
        );
        assert_eq!(jwks.leeway, Duration::from_secs(5));
        assert!(jwks.http.allow_insecure_http);
        let defaults = mastra_auth::providers::JwksConfig::default();
        assert_eq!(jwks.http.timeout, defaults.http.timeout);
        assert_eq!(jwks.max_token_bytes, defaults.max_token_bytes);

        let oidc = a.oidc.as_ref().expect("oidc");
        assert_eq!(oidc.name, "oidc", "unset keys keep the defaults");
        assert_eq!(oidc.algorithms, Some(vec![Algorithm::PS256]));
        assert!(!oidc.http.allow_insecure_http);
        assert_eq!(
            a.auth0.as_ref().expect("auth0").leeway,
            Duration::from_secs(60)
        );

        let clerk = a.clerk.as_ref().expect("clerk");
        assert_eq!(clerk.authorized_parties, vec!["https://app.example"]);
        assert_eq!(
            clerk.secret_key.as_ref().map(crate::config::Secret::expose),
            Some("sk")
        );
        assert_eq!(clerk.organization_slug.as_deref(), Some("acme"));

        let firebase = a.firebase.as_ref().expect("firebase");
        assert_eq!(
            firebase
                .service_account
                .as_ref()
                .map(crate::config::Secret::expose),
            Some("/sa.json")
        );
        let supabase = a.supabase.as_ref().expect("supabase");
        assert!(supabase.verify_locally_with_jwks);
        assert_eq!(supabase.cache_ttl, Duration::from_secs(30));

        let workos = a.workos.as_ref().expect("workos");
        assert_eq!(workos.audience, vec!["a", "b"]);
        assert_eq!(
            workos.jwt_claims,
            BTreeMap::from([
                ("email".to_string(), "email".to_string()),
                ("team".to_string(), "org.team".to_string()),
            ])
        );
        assert!(workos.trust_jwt_claims && workos.require_admin_role);
    }

    #[test]
    fn provider_table_errors_name_the_key() {
        for (table, line, key, needle) in [
            (
                "jwks",
                "max_token_bytes = 1",
                "auth.jwks.max_token_bytes",
                "unknown field",
            ),
            (
                "clerk",
                "audience = \"a\"",
                "auth.clerk.audience",
                "unknown field",
            ),
            ("workos", "http = {}", "auth.workos.http", "unknown field"),
            (
                "oidc",
                "algorithms = [\"RS1\"]",
                "auth.oidc.algorithms",
                "unknown algorithm `RS1`",
            ),
            ("auth0", "leeway = 30", "auth.auth0.leeway", "ambiguous"),
            (
                "supabase",
                "cache_ttl = \"soon\"",
                "auth.supabase.cache_ttl",
                "invalid duration",
            ),
            (
                "jwks",
                "allow_insecure_http = \"yes\"",
                "auth.jwks.allow_insecure_http",
                "boolean",
            ),
            (
                "clerk",
                "authorized_parties = 1",
                "auth.clerk.authorized_parties",
                "a string or a list",
            ),
        ] {
            let text = format!("[auth]\nprovider = \"{table}\"\n[auth.{table}]\n{line}\n");
            let err = load(&text).expect_err(&text);
            assert_eq!(err.key(), Some(key), "{text}: {err}");
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
    }
}
