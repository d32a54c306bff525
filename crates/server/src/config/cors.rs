//! `[server.cors]`: which origins may call the API from a browser, with Mastra's defaults.

use http::{HeaderName, HeaderValue, Method};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::ConfigError;
use super::routes::MethodOrAll;
use super::units::{de_bool, de_u64};

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

    /// Checks the listed origins, and that credentials are not offered to any origin.
    pub(super) fn validate(&self, origin: &str) -> Result<(), ConfigError> {
        if let CorsOrigin::List(origins) = &self.origin {
            for (i, o) in origins.iter().enumerate() {
                validate_origin(o).map_err(|m| {
                    ConfigError::invalid(origin, format!("server.cors.origin[{i}]"), m)
                })?;
            }
        }
        if self.enabled && self.credentials {
            validate_credentials(&self.origin, origin)?;
        }
        Ok(())
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
        let list = mastra_auth::config_serde::one_or_many(d).map_err(|_| {
            de::Error::custom("expected \"*\", an origin string, or a list of origin strings")
        })?;
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

/// With credentials on, every allowed origin can read authenticated answers, so "any origin"
/// (which must be served by echoing the caller's `Origin`) and `null` (sent by sandboxed
/// iframes, `file:` pages and some redirects, so any site can produce it) are refused.
fn validate_credentials(allowed: &CorsOrigin, origin: &str) -> Result<(), ConfigError> {
    match allowed {
        CorsOrigin::Any => Err(ConfigError::invalid(
            origin,
            "server.cors.credentials",
            "is true while server.cors.origin is \"*\" (the default): every website could send \
             credentialed requests and read the answers; list the allowed origins explicitly, \
             e.g. origin = [\"https://app.example.com\"], or set credentials = false",
        )),
        CorsOrigin::List(list) => match list.iter().position(|o| o == "null") {
            Some(i) => Err(ConfigError::invalid(
                origin,
                format!("server.cors.origin[{i}]"),
                "\"null\" cannot be allowed with server.cors.credentials = true: sandboxed \
                 iframes and file: pages of any site send `Origin: null`; remove it and list \
                 the allowed origins explicitly",
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
