//! The server's configuration file, `mastra.toml`.
//!
//! Loading runs in four steps, each with an error that names the file, the key and the fix:
//! 1. parse the TOML text;
//! 2. substitute `${VAR}` inside string values (on the parsed tree, so a value cannot inject
//!    TOML syntax; `$${` is a literal `${`);
//! 3. deserialize into [`Config`] — every table denies unknown keys;
//! 4. validate across keys (port, prefix, TLS files, custom routes, agents) and resolve relative
//!    file paths against the config file's directory.
//!
//! [`Config::fill_from_env`] then fills provider fields left unset (the JWT secret) from the
//! documented environment variables. CLI flags are applied by the caller after loading.

mod env;
mod providers;
mod units;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method, StatusCode};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

pub use providers::{
    Auth0Section, ClerkSection, FirebaseSection, JwksSection, OidcSection, SupabaseSection,
    WorkosSection,
};
pub use units::{ByteSize, parse_byte_size, parse_duration};

use units::{de_bool, de_duration, de_port, de_u64, de_usize};

/// The file name `mastra serve` looks for when no `--config` is given.
pub const DEFAULT_CONFIG_FILE: &str = "mastra.toml";

/// Environment variables consulted, in order, for an unset JWT secret.
pub const JWT_SECRET_ENV_VARS: [&str; 2] = ["MASTRA_JWT_SECRET", "JWT_AUTH_SECRET"];

/// JWS algorithm names accepted in `[auth.jwt] algorithms`.
pub const JWT_ALGORITHMS: [&str; 12] = [
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

/// Paths the server itself serves outside the API prefix; custom routes may not take them.
pub const RESERVED_PATHS: [&str; 2] = ["/health", "/swagger-ui"];

// ---------------------------------------------------------------------------------------------
// Errors

/// Why a configuration could not be loaded; every variant names the file (`origin`) and, where
/// there is one, the key, and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source} (check the path given with --config)", path.display())]
    Read {
        /// The path that was tried.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML (the message carries line and column).
    #[error("{origin}: invalid TOML: {message}")]
    Syntax {
        /// The file name (or other origin) of the text.
        origin: String,
        /// toml's message, with the location.
        message: String,
    },
    /// A key is unknown, missing, or has a value of the wrong type or form.
    #[error("{origin}: `{key}`: {message}\n  fix: {hint}")]
    Schema {
        /// The file name (or other origin) of the text.
        origin: String,
        /// Dotted key path, e.g. `server.cors.max_age` (`.` for the top level).
        key: String,
        /// What is wrong (toml's message, with the location when it can be found).
        message: String,
        /// What to do about it.
        hint: String,
    },
    /// `${VAR}` referenced an environment variable that is not set.
    #[error(
        "{origin}: `{key}`: environment variable `{var}` is not set: set it, or write `$${{` for a literal `${{`"
    )]
    MissingEnv {
        /// The file name (or other origin) of the text.
        origin: String,
        /// Dotted key path of the string holding the reference.
        key: String,
        /// The variable name.
        var: String,
    },
    /// A malformed `${...}` reference.
    #[error("{origin}: `{key}`: {message}")]
    Substitution {
        /// The file name (or other origin) of the text.
        origin: String,
        /// Dotted key path of the string holding the reference.
        key: String,
        /// What is wrong and how to write it.
        message: String,
    },
    /// The values parse but do not make sense together (or a referenced file is missing).
    #[error("{origin}: `{key}`: {message}")]
    Invalid {
        /// The file name (or other origin) of the text.
        origin: String,
        /// Dotted key path of the offending value.
        key: String,
        /// What is wrong and what to do.
        message: String,
    },
}

impl ConfigError {
    /// The dotted key path the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Read { .. } | ConfigError::Syntax { .. } => None,
            ConfigError::Schema { key, .. }
            | ConfigError::MissingEnv { key, .. }
            | ConfigError::Substitution { key, .. }
            | ConfigError::Invalid { key, .. } => Some(key),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Schema

/// The whole `mastra.toml`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[server]`: listener, limits, CORS, TLS, OpenAPI, logs.
    pub server: ServerConfig,
    /// `[auth]`: provider, path policy, rules.
    pub auth: AuthConfig,
    /// `[[api_routes]]`: custom routes (fixed JSON or reverse proxy).
    pub api_routes: Vec<ApiRouteConfig>,
    /// `[[agents]]`: agents served under `{api_prefix}/agents`.
    pub agents: Vec<AgentConfig>,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Bind host (default `localhost`).
    pub host: String,
    /// Bind port (default 4111).
    #[serde(deserialize_with = "de_port")]
    pub port: u16,
    /// Time allowed to produce a response head (default 180 s); past it, 504.
    #[serde(deserialize_with = "de_duration")]
    pub timeout: Duration,
    /// After SIGINT/SIGTERM, how long open requests (streams included) may run before the
    /// server stops without them (default 10 s; `0s` stops at once).
    #[serde(deserialize_with = "de_duration")]
    pub shutdown_timeout: Duration,
    /// Largest accepted request body (default 4.5 MiB); past it, 413.
    pub body_limit: ByteSize,
    /// Prefix of the Mastra API routes (default `/api`).
    pub api_prefix: String,
    /// Serve `{api_prefix}/openapi.json` and `/swagger-ui` (default false).
    #[serde(deserialize_with = "de_bool")]
    pub openapi: bool,
    /// Log one line per request (default true).
    #[serde(deserialize_with = "de_bool")]
    pub request_logs: bool,
    /// `[server.cors]`.
    pub cors: CorsConfig,
    /// `[server.tls]`: serve HTTPS when present.
    pub tls: Option<TlsConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "localhost".to_string(),
            port: 4111,
            timeout: Duration::from_secs(180),
            shutdown_timeout: Duration::from_secs(10),
            body_limit: ByteSize::DEFAULT_BODY_LIMIT,
            api_prefix: "/api".to_string(),
            openapi: false,
            request_logs: true,
            cors: CorsConfig::default(),
            tls: None,
        }
    }
}

/// `[server.cors]`, with Mastra's defaults.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorsConfig {
    /// CORS on (default true).
    #[serde(deserialize_with = "de_bool")]
    pub enabled: bool,
    /// Allowed origins (default `*`).
    pub origin: CorsOrigin,
    /// Allowed methods (default GET POST PUT PATCH DELETE OPTIONS); replaces the default list.
    #[serde(deserialize_with = "de_methods")]
    pub methods: Vec<Method>,
    /// Extra allowed request headers, appended to the fixed defaults.
    #[serde(deserialize_with = "de_header_names")]
    pub allow_headers: Vec<HeaderName>,
    /// Extra exposed response headers, appended to the fixed defaults.
    #[serde(deserialize_with = "de_header_names")]
    pub expose_headers: Vec<HeaderName>,
    /// Preflight cache lifetime in seconds (default 3600).
    #[serde(deserialize_with = "de_u64")]
    pub max_age: u64,
    /// Send `Access-Control-Allow-Credentials: true` (default false).
    #[serde(deserialize_with = "de_bool")]
    pub credentials: bool,
}

impl CorsConfig {
    /// Request headers always allowed (Mastra's list).
    pub const DEFAULT_ALLOW_HEADERS: [&'static str; 5] = [
        "Content-Type",
        "Authorization",
        "A2A-Version",
        "x-mastra-client-type",
        "x-mastra-dev-playground",
    ];
    /// Response headers always exposed (Mastra's list).
    pub const DEFAULT_EXPOSE_HEADERS: [&'static str; 2] = ["Content-Length", "X-Requested-With"];

    /// The default allowed methods.
    pub fn default_methods() -> Vec<Method> {
        vec![
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ]
    }
}

impl Default for CorsConfig {
    fn default() -> Self {
        CorsConfig {
            enabled: true,
            origin: CorsOrigin::Any,
            methods: CorsConfig::default_methods(),
            allow_headers: Vec::new(),
            expose_headers: Vec::new(),
            max_age: 3600,
            credentials: false,
        }
    }
}

/// `origin = "*"`, `origin = "https://a.example"` or `origin = ["https://a.example", ...]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CorsOrigin {
    /// Any origin (`*`); config validation refuses it together with `credentials = true`.
    #[default]
    Any,
    /// Exactly these origins (`scheme://host[:port]`).
    List(Vec<String>),
}

impl<'de> Deserialize<'de> for CorsOrigin {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            One(String),
            Many(Vec<String>),
        }
        let raw = Raw::deserialize(d).map_err(|_| {
            de::Error::custom("expected \"*\", an origin string, or a list of origin strings")
        })?;
        let list = match raw {
            Raw::One(s) => vec![s],
            Raw::Many(v) => v,
        };
        if list.iter().any(|o| o == "*") {
            if list.len() > 1 {
                return Err(de::Error::custom(
                    "\"*\" allows every origin and cannot be combined with other origins",
                ));
            }
            return Ok(CorsOrigin::Any);
        }
        Ok(CorsOrigin::List(list))
    }
}

/// `[server.tls]`: both files required when the table is present.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain; a relative path is resolved against the config file's directory.
    pub cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1); relative paths as for `cert`.
    pub key: PathBuf,
}

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
    pub jwks: Option<JwksSection>,
    /// `[auth.oidc]`.
    pub oidc: Option<OidcSection>,
    /// `[auth.auth0]`.
    pub auth0: Option<Auth0Section>,
    /// `[auth.clerk]`.
    pub clerk: Option<ClerkSection>,
    /// `[auth.firebase]`.
    pub firebase: Option<FirebaseSection>,
    /// `[auth.supabase]`.
    pub supabase: Option<SupabaseSection>,
    /// `[auth.workos]`.
    pub workos: Option<WorkosSection>,
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

/// A secret string whose `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself; do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Drop for Secret {
    /// Wipes the value, so a dropped config leaves no copy of the secret in freed memory.
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// `[auth.jwt]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JwtConfig {
    /// Shared HMAC secret; unset -> `MASTRA_JWT_SECRET`, then `JWT_AUTH_SECRET` (see
    /// [`Config::fill_from_env`]).
    pub secret: Option<Secret>,
    /// Accepted algorithms (names from [`JWT_ALGORITHMS`]); empty = the provider's default.
    #[serde(deserialize_with = "de_algorithms")]
    pub algorithms: Vec<String>,
    /// PEM public key: written as PEM text or a path to a PEM file; after loading, always the
    /// PEM text.
    pub public_key: Option<String>,
    /// Required `iss`, when set.
    pub issuer: Option<String>,
    /// Accepted `aud` values (a string or a list); empty = not checked.
    #[serde(deserialize_with = "de_one_or_many")]
    pub audience: Vec<String>,
    /// Reject tokens without `exp` (default false).
    #[serde(deserialize_with = "de_bool")]
    pub require_exp: bool,
    /// Clock leeway for `exp`/`nbf` (default 30 s).
    #[serde(deserialize_with = "de_duration")]
    pub leeway: Duration,
    /// Largest accepted token in bytes (default 16384).
    #[serde(deserialize_with = "de_usize")]
    pub max_token_bytes: usize,
    /// Entries in the verified-token cache (default 10000; 0 disables it).
    #[serde(deserialize_with = "de_u64")]
    pub cache_capacity: u64,
}

impl Default for JwtConfig {
    fn default() -> Self {
        JwtConfig {
            secret: None,
            algorithms: Vec::new(),
            public_key: None,
            issuer: None,
            audience: Vec::new(),
            require_exp: false,
            leeway: Duration::from_secs(30),
            max_token_bytes: 16 * 1024,
            cache_capacity: 10_000,
        }
    }
}

/// A custom route's method: one HTTP method, or `ALL` for any.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MethodOrAll {
    /// Any method (`"ALL"`).
    All,
    /// Exactly this method.
    Method(Method),
}

impl MethodOrAll {
    /// Names accepted in `api_routes.method`.
    pub const NAMES: [&'static str; 8] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ALL",
    ];

    /// Parses a name from [`Self::NAMES`] (case-insensitive).
    pub fn parse(name: &str) -> Result<Self, String> {
        let upper = name.trim().to_ascii_uppercase();
        if upper == "ALL" {
            return Ok(MethodOrAll::All);
        }
        if Self::NAMES.contains(&upper.as_str())
            && let Ok(m) = Method::from_bytes(upper.as_bytes())
        {
            return Ok(MethodOrAll::Method(m));
        }
        Err(format!(
            "unknown method `{name}`: expected one of {}",
            Self::NAMES.join(", ")
        ))
    }

    /// True when a request with `method` is handled by this route.
    pub fn matches(&self, method: &Method) -> bool {
        match self {
            MethodOrAll::All => true,
            MethodOrAll::Method(m) => m == method,
        }
    }
}

impl fmt::Display for MethodOrAll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MethodOrAll::All => f.write_str("ALL"),
            MethodOrAll::Method(m) => f.write_str(m.as_str()),
        }
    }
}

impl<'de> Deserialize<'de> for MethodOrAll {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        MethodOrAll::parse(&s).map_err(de::Error::custom)
    }
}

/// What a custom route answers.
#[derive(Clone, PartialEq)]
pub enum RouteAction {
    /// A fixed JSON body with a status (default 200).
    Json {
        /// Response status.
        status: StatusCode,
        /// Response body.
        body: serde_json::Value,
    },
    /// Forward to an upstream base URL (method, path + query, headers, body).
    Proxy {
        /// Upstream base URL (`http` or `https`); the request path is appended to its path.
        upstream: reqwest::Url,
        /// Forward the caller's `Authorization`, `Cookie` and `apiKey` query parameter (default
        /// false: they are stripped, so a credential meant for this server never leaks upstream).
        forward_credentials: bool,
    },
}

impl fmt::Debug for RouteAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteAction::Json { status, body } => f
                .debug_struct("Json")
                .field("status", status)
                .field("body", body)
                .finish(),
            RouteAction::Proxy {
                upstream,
                forward_credentials,
            } => {
                let mut shown = upstream.clone();
                if shown.password().is_some() {
                    let _ = shown.set_password(Some("redacted"));
                }
                f.debug_struct("Proxy")
                    .field("upstream", &shown.as_str())
                    .field("forward_credentials", forward_credentials)
                    .finish()
            }
        }
    }
}

/// `[[api_routes]]`: a custom route.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawApiRoute")]
pub struct ApiRouteConfig {
    /// Method, or `ALL`.
    pub method: MethodOrAll,
    /// axum path template, e.g. `/custom/{id}`; never under the API prefix.
    pub path: String,
    /// Whether the auth layer requires a verified user (default true).
    pub requires_auth: bool,
    /// The answer: fixed JSON or reverse proxy.
    pub action: RouteAction,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApiRoute {
    method: MethodOrAll,
    path: String,
    #[serde(default = "yes", deserialize_with = "de_bool")]
    requires_auth: bool,
    #[serde(default)]
    json: Option<toml::Value>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    proxy: Option<String>,
    #[serde(default, deserialize_with = "de_opt_bool")]
    forward_credentials: Option<bool>,
}

fn de_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    de_bool(d).map(Some)
}

fn yes() -> bool {
    true
}

impl TryFrom<RawApiRoute> for ApiRouteConfig {
    type Error = String;

    fn try_from(raw: RawApiRoute) -> Result<Self, String> {
        let action = match (raw.json, raw.proxy) {
            (Some(_), Some(_)) => {
                return Err(
                    "route has both `json` and `proxy`: keep exactly one of them".to_string(),
                );
            }
            (None, None) => {
                return Err(
                    "route needs an answer: add `json = <value>` or `proxy = \"http://host:port\"`"
                        .to_string(),
                );
            }
            (Some(json), None) => {
                if raw.forward_credentials.is_some() {
                    return Err("`forward_credentials` applies to `proxy` routes only".to_string());
                }
                let status = match raw.status {
                    None => StatusCode::OK,
                    Some(code) => StatusCode::from_u16(code)
                        .ok()
                        .filter(|_| (100..=599).contains(&code))
                        .ok_or_else(|| {
                            format!("`status` {code} is not an HTTP status (100-599)")
                        })?,
                };
                RouteAction::Json {
                    status,
                    body: toml_to_json(json)?,
                }
            }
            (None, Some(proxy)) => {
                if raw.status.is_some() {
                    return Err(
                        "`status` applies to `json` routes only; a proxy answers with the upstream's status"
                            .to_string(),
                    );
                }
                RouteAction::Proxy {
                    upstream: parse_upstream(&proxy)?,
                    forward_credentials: raw.forward_credentials.unwrap_or(false),
                }
            }
        };
        Ok(ApiRouteConfig {
            method: raw.method,
            path: raw.path,
            requires_auth: raw.requires_auth,
            action,
        })
    }
}

fn parse_upstream(text: &str) -> Result<reqwest::Url, String> {
    let url = reqwest::Url::parse(text).map_err(|e| {
        format!("`proxy` = \"{text}\" is not a URL ({e}): write e.g. \"http://127.0.0.1:9000\"")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "`proxy` = \"{text}\" must be an http:// or https:// URL with a host"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "`proxy` = \"{text}\" must not have a query or fragment: the request's own are forwarded"
        ));
    }
    Ok(url)
}

/// Converts a TOML value into JSON (datetimes become their TOML text).
fn toml_to_json(value: toml::Value) -> Result<serde_json::Value, String> {
    Ok(match value {
        toml::Value::String(s) => serde_json::Value::String(s),
        toml::Value::Integer(i) => serde_json::Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(serde_json::Value::Number)
            .ok_or_else(|| format!("`json` contains {f}, which JSON cannot represent"))?,
        toml::Value::Boolean(b) => serde_json::Value::Bool(b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(items) => serde_json::Value::Array(
            items
                .into_iter()
                .map(toml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(table) => serde_json::Value::Object(
            table
                .into_iter()
                .map(|(k, v)| Ok((k, toml_to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// `[[agents]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// Agent id, used in URLs (`/api/agents/{id}`).
    pub id: String,
    /// Display name (default: the id).
    #[serde(default)]
    pub name: String,
    /// Description (default empty).
    #[serde(default)]
    pub description: String,
    /// System instructions.
    pub instructions: String,
    /// Model, `provider/model` (default `builtin/echo`).
    #[serde(default = "default_model")]
    pub model: String,
    /// Tool names (checked by the assembler against the registered tools).
    #[serde(default)]
    pub tools: Vec<String>,
}

fn default_model() -> String {
    "builtin/echo".to_string()
}

// ---------------------------------------------------------------------------------------------
// Field deserializers

fn de_methods<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Method>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    names
        .iter()
        .map(|n| {
            let upper = n.trim().to_ascii_uppercase();
            match MethodOrAll::parse(&upper) {
                Ok(MethodOrAll::Method(m)) => Ok(m),
                _ => Err(de::Error::custom(format!(
                    "unknown method `{n}`: expected GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS"
                ))),
            }
        })
        .collect()
}

fn de_header_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<HeaderName>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    names
        .iter()
        .map(|n| {
            HeaderName::from_bytes(n.trim().as_bytes())
                .map_err(|_| de::Error::custom(format!("`{n}` is not a valid header name")))
        })
        .collect()
}

fn de_algorithms<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let names = Vec::<String>::deserialize(d)?;
    for n in &names {
        if !JWT_ALGORITHMS.contains(&n.as_str()) {
            return Err(de::Error::custom(format!(
                "unknown algorithm `{n}`: expected one of {}",
                JWT_ALGORITHMS.join(", ")
            )));
        }
    }
    Ok(names)
}

fn de_one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    match Raw::deserialize(d)
        .map_err(|_| de::Error::custom("expected a string or a list of strings"))?
    {
        Raw::One(s) => Ok(vec![s]),
        Raw::Many(v) => Ok(v),
    }
}

// ---------------------------------------------------------------------------------------------
// Loading

impl Config {
    /// Loads and validates a config file, substituting `${VAR}` from the process environment.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        Self::load_with_env(path, |name| std::env::var(name).ok())
    }

    /// Like [`Config::load`], with `${VAR}` looked up through `lookup`.
    pub fn load_with_env(
        path: impl AsRef<Path>,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().filter(|p| !p.as_os_str().is_empty());
        Self::parse(&text, &path.display().to_string(), base, &lookup)
    }

    /// Parses and validates config text; `origin` names it in errors; relative paths are
    /// resolved against the current directory; `${VAR}` comes from the process environment.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Self, ConfigError> {
        Self::from_toml_str_with_env(text, origin, |name| std::env::var(name).ok())
    }

    /// Like [`Config::from_toml_str`], with `${VAR}` looked up through `lookup`.
    pub fn from_toml_str_with_env(
        text: &str,
        origin: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        Self::parse(text, origin, None, &lookup)
    }

    fn parse(
        text: &str,
        origin: &str,
        base: Option<&Path>,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            origin: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let mut value = toml::Value::Table(table);
        env::substitute_tree(&mut value, &mut String::new(), lookup).map_err(
            |(key, err)| match err {
                env::SubstError::Missing(var) => ConfigError::MissingEnv {
                    origin: origin.to_string(),
                    key,
                    var,
                },
                env::SubstError::Malformed(message) => ConfigError::Substitution {
                    origin: origin.to_string(),
                    key,
                    message,
                },
            },
        )?;
        let mut config: Config =
            serde_path_to_error::deserialize(value).map_err(|e| schema_error(text, origin, e))?;
        config.resolve_files(origin, base)?;
        config.fill_defaults();
        config.validate(origin)?;
        Ok(config)
    }

    /// Fills derived defaults (an agent's name defaults to its id).
    fn fill_defaults(&mut self) {
        for agent in &mut self.agents {
            if agent.name.is_empty() {
                agent.name = agent.id.clone();
            }
        }
    }

    /// Resolves relative TLS paths against `base` and reads `public_key` files.
    fn resolve_files(&mut self, origin: &str, base: Option<&Path>) -> Result<(), ConfigError> {
        let resolve = |p: &Path| match base {
            Some(dir) if p.is_relative() => dir.join(p),
            _ => p.to_path_buf(),
        };
        if let Some(tls) = &mut self.server.tls {
            tls.cert = resolve(&tls.cert);
            tls.key = resolve(&tls.key);
        }
        if let Some(jwt) = &mut self.auth.jwt
            && let Some(key) = &jwt.public_key
            && !key.contains("-----BEGIN")
        {
            let path = resolve(Path::new(key.trim()));
            let pem = std::fs::read_to_string(&path).map_err(|e| ConfigError::Invalid {
                origin: origin.to_string(),
                key: "auth.jwt.public_key".to_string(),
                message: format!(
                    "is neither PEM text nor a readable file: {}: {e}; give the PEM \
                     text or the path of a PEM file",
                    path.display()
                ),
            })?;
            if !pem.contains("-----BEGIN") {
                return Err(ConfigError::Invalid {
                    origin: origin.to_string(),
                    key: "auth.jwt.public_key".to_string(),
                    message: format!(
                        "file {} holds no PEM block (`-----BEGIN ...`); give a PEM \
                         public key",
                        path.display()
                    ),
                });
            }
            jwt.public_key = Some(pem);
        }
        Ok(())
    }

    /// Checks rules that span keys; run again by callers that change the config after loading
    /// (CLI flags), with `origin` naming where the values came from.
    pub fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            origin: origin.to_string(),
            key: key.to_string(),
            message,
        };
        let s = &self.server;
        if s.host.trim().is_empty() {
            return Err(invalid(
                "server.host",
                "must not be empty: use e.g. \"localhost\" or \"0.0.0.0\"".into(),
            ));
        }
        if s.port == 0 {
            return Err(invalid("server.port", "must be between 1 and 65535".into()));
        }
        if s.timeout.is_zero() {
            return Err(invalid(
                "server.timeout",
                "must be longer than zero, e.g. \"180s\"".into(),
            ));
        }
        if s.body_limit.as_u64() == 0 {
            return Err(invalid(
                "server.body_limit",
                "must be larger than zero, e.g. \"4.5MB\"".into(),
            ));
        }
        validate_prefix(&s.api_prefix).map_err(|m| invalid("server.api_prefix", m))?;
        if let CorsOrigin::List(origins) = &s.cors.origin {
            for (i, o) in origins.iter().enumerate() {
                validate_origin(o).map_err(|m| invalid(&format!("server.cors.origin[{i}]"), m))?;
            }
        }
        if s.cors.enabled && s.cors.credentials {
            validate_cors_credentials(&s.cors.origin, &invalid)?;
        }
        if let Some(tls) = &s.tls {
            for (key, path) in [("server.tls.cert", &tls.cert), ("server.tls.key", &tls.key)] {
                if !path.is_file() {
                    return Err(invalid(
                        key,
                        format!(
                            "file {} does not exist (relative paths are resolved against the \
                             config file's directory)",
                            path.display()
                        ),
                    ));
                }
            }
        }

        let a = &self.auth;
        let unused = |section: &str, kind: AuthProviderKind| {
            invalid(
                &format!("auth.{section}"),
                format!(
                    "is set but `auth.provider` is \"{}\" (and no [auth.composite] lists \"{kind}\"): remove [auth.{section}] or use the provider",
                    a.provider
                ),
            )
        };
        for (set, kind) in [
            (a.api_keys.is_some(), AuthProviderKind::ApiKeys),
            (a.jwks.is_some(), AuthProviderKind::Jwks),
            (a.oidc.is_some(), AuthProviderKind::Oidc),
            (a.auth0.is_some(), AuthProviderKind::Auth0),
            (a.clerk.is_some(), AuthProviderKind::Clerk),
            (a.firebase.is_some(), AuthProviderKind::Firebase),
            (a.supabase.is_some(), AuthProviderKind::Supabase),
            (a.workos.is_some(), AuthProviderKind::Workos),
        ] {
            if set && !a.uses(kind) {
                return Err(unused(kind.as_str(), kind));
            }
        }
        if a.composite.is_some() && a.provider != AuthProviderKind::Composite {
            return Err(unused("composite", AuthProviderKind::Composite));
        }
        if a.provider == AuthProviderKind::Composite {
            let members = a
                .composite
                .as_ref()
                .map(|c| c.providers.as_slice())
                .unwrap_or(&[]);
            if members.is_empty() {
                return Err(invalid(
                    "auth.composite.providers",
                    "list the member providers in order, e.g. providers = [\"jwt\", \"api_keys\"]"
                        .into(),
                ));
            }
            for (i, m) in members.iter().enumerate() {
                if matches!(m, AuthProviderKind::Composite | AuthProviderKind::None) {
                    return Err(invalid(
                        &format!("auth.composite.providers[{i}]"),
                        format!("\"{m}\" cannot be a member of a composite"),
                    ));
                }
                if members[..i].contains(m) {
                    return Err(invalid(
                        &format!("auth.composite.providers[{i}]"),
                        format!("\"{m}\" is listed twice"),
                    ));
                }
            }
        }
        if let Some(jwt) = &a.jwt {
            if !a.uses(AuthProviderKind::Jwt) {
                return Err(unused("jwt", AuthProviderKind::Jwt));
            }
            if jwt.secret.as_ref().is_some_and(|s| s.expose().is_empty()) {
                return Err(invalid(
                    "auth.jwt.secret",
                    "must not be empty: set a secret or remove the key to use MASTRA_JWT_SECRET"
                        .into(),
                ));
            }
            if jwt.max_token_bytes == 0 {
                return Err(invalid(
                    "auth.jwt.max_token_bytes",
                    "must be larger than zero (default 16384)".into(),
                ));
            }
        }

        validate_routes(&self.api_routes, &s.api_prefix, &invalid)?;

        let mut ids = HashSet::new();
        for (i, agent) in self.agents.iter().enumerate() {
            let key = format!("agents[{i}].id");
            if agent.id.is_empty()
                || !agent
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                return Err(invalid(
                    &key,
                    format!(
                        "`{}` is not a usable agent id: use letters, digits, `_`, `-` or `.`",
                        agent.id
                    ),
                ));
            }
            if !ids.insert(agent.id.as_str()) {
                return Err(invalid(
                    &key,
                    format!(
                        "agent id `{}` is defined twice: ids must be unique",
                        agent.id
                    ),
                ));
            }
            if agent.model.trim().is_empty() {
                return Err(invalid(
                    &format!("agents[{i}].model"),
                    "must not be empty: use e.g. \"builtin/echo\" or \"openai/gpt-4o-mini\"".into(),
                ));
            }
        }
        Ok(())
    }

    /// Fills provider fields left unset from the documented environment variables: for the
    /// `jwt` provider, `secret` from `MASTRA_JWT_SECRET`, then `JWT_AUTH_SECRET`.
    pub fn fill_from_env(&mut self, lookup: impl Fn(&str) -> Option<String>) {
        if self.auth.uses(AuthProviderKind::Jwt) {
            let has_secret = self
                .auth
                .jwt
                .as_ref()
                .is_some_and(|jwt| jwt.secret.is_some());
            if !has_secret {
                let found = JWT_SECRET_ENV_VARS
                    .iter()
                    .find_map(|name| lookup(name).filter(|v| !v.is_empty()));
                if let Some(secret) = found {
                    self.auth.jwt.get_or_insert_with(JwtConfig::default).secret =
                        Some(Secret::new(secret));
                }
            }
        }
    }
}

fn schema_error(
    text: &str,
    origin: &str,
    err: serde_path_to_error::Error<toml::de::Error>,
) -> ConfigError {
    let key = err.path().to_string();
    let inner = err.into_inner();
    let core = inner.message().trim_end().to_string();
    // Substitution only rewrites string contents, so the same error on the raw text carries a
    // line/column snippet; use it when it is the same error.
    let message = match toml::from_str::<Config>(text) {
        Err(raw) if raw.message().trim_end() == core && raw.span().is_some() => {
            raw.to_string().trim_end().to_string()
        }
        _ => core.clone(),
    };
    let hint = if core.starts_with("unknown field") {
        "remove the key or correct its spelling (unknown keys are errors)"
    } else if core.starts_with("missing field") {
        "add the missing key"
    } else if core.starts_with("unknown variant") {
        "use one of the listed values"
    } else {
        "correct the value as described above"
    };
    ConfigError::Schema {
        origin: origin.to_string(),
        key,
        message,
        hint: hint.to_string(),
    }
}

fn validate_prefix(prefix: &str) -> Result<(), String> {
    let ok = prefix.len() > 1
        && prefix.starts_with('/')
        && !prefix.ends_with('/')
        && !prefix.contains("//")
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.' | '~'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{prefix}` is not a usable prefix: it must start with `/`, have no trailing `/`, and \
             use only letters, digits, `-`, `_`, `.`, `~` (e.g. \"/api\")"
        ))
    }
}

/// With credentials on, every allowed origin can read authenticated answers, so "any origin"
/// (which must be served by echoing the caller's `Origin`) and `null` (sent by sandboxed
/// iframes, `file:` pages and some redirects, so any site can produce it) are refused.
fn validate_cors_credentials(
    origin: &CorsOrigin,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    match origin {
        CorsOrigin::Any => Err(invalid(
            "server.cors.credentials",
            "is true while server.cors.origin is \"*\" (the default): every website could send \
             credentialed requests and read the answers; list the allowed origins explicitly, \
             e.g. origin = [\"https://app.example.com\"], or set credentials = false"
                .into(),
        )),
        CorsOrigin::List(list) => match list.iter().position(|o| o == "null") {
            Some(i) => Err(invalid(
                &format!("server.cors.origin[{i}]"),
                "\"null\" cannot be allowed with server.cors.credentials = true: sandboxed \
                 iframes and file: pages of any site send `Origin: null`; remove it and list \
                 the allowed origins explicitly"
                    .into(),
            )),
            None => Ok(()),
        },
    }
}

fn validate_origin(origin: &str) -> Result<(), String> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let ok = match rest {
        Some(host) => {
            !host.is_empty() && !host.contains('/') && HeaderValue::from_str(origin).is_ok()
        }
        None => origin == "null",
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{origin}` is not an origin: write scheme://host[:port] without a path or trailing \
             slash, e.g. \"https://app.example.com\", or \"*\""
        ))
    }
}

/// Normalized template for collision checks: parameter names erased.
fn normalize_template(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    let mut wildcard = false;
    for c in path.chars() {
        match c {
            '{' if !in_param => {
                in_param = true;
                wildcard = false;
                out.push('{');
            }
            '*' if in_param => wildcard = true,
            '}' if in_param => {
                in_param = false;
                if wildcard {
                    out.push('*');
                }
                out.push('}');
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn validate_routes(
    routes: &[ApiRouteConfig],
    prefix: &str,
    invalid: &dyn Fn(&str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    let mut matcher = matchit::Router::new();
    let mut inserted: HashSet<&str> = HashSet::new();
    for (i, route) in routes.iter().enumerate() {
        let key = format!("api_routes[{i}].path");
        let path = route.path.as_str();
        if !path.starts_with('/') {
            return Err(invalid(&key, format!("`{path}` must start with `/`")));
        }
        let lower = path.to_ascii_lowercase();
        let lower_prefix = prefix.to_ascii_lowercase();
        if lower == lower_prefix || lower.starts_with(&format!("{lower_prefix}/")) {
            return Err(invalid(
                &key,
                format!(
                    "`{path}` is under the API prefix `{prefix}`, which is reserved for the \
                     server's own routes (as in Mastra): choose a path outside it"
                ),
            ));
        }
        if RESERVED_PATHS.contains(&lower.trim_end_matches('/')) {
            return Err(invalid(
                &key,
                format!("`{path}` is served by the server itself: choose another path"),
            ));
        }
        if let Some(seg) = path
            .split('/')
            .find(|seg| seg.starts_with(':') || seg.starts_with('*'))
        {
            return Err(invalid(
                &key,
                format!(
                    "segment `{seg}` uses the old `:name`/`*name` syntax: write `{{name}}` or \
                     `{{*name}}` (axum path templates)"
                ),
            ));
        }
        if inserted.insert(path)
            && let Err(e) = matcher.insert(path, ())
        {
            return Err(invalid(
                &key,
                format!("`{path}` is not a usable route template: {e}"),
            ));
        }
        let method = route.method.to_string();
        if let Some(first) = seen.insert((method.clone(), normalize_template(path)), i) {
            return Err(invalid(
                &key,
                format!(
                    "{method} `{path}` duplicates api_routes[{first}] ({method} `{}`): remove one",
                    routes[first].path
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_templates() {
        assert_eq!(normalize_template("/a/{id}/b"), "/a/{}/b");
        assert_eq!(normalize_template("/a/{*rest}"), "/a/{*}");
    }

    #[test]
    fn defaults() {
        let c = Config::default();
        assert_eq!(c.server.port, 4111);
        assert_eq!(c.server.body_limit.as_u64(), 4_718_592);
        assert_eq!(c.auth.provider, AuthProviderKind::Jwt);
        assert!(c.auth.api_key_query);
        assert!(c.validate("default").is_ok());
    }
}
