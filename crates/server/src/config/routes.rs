//! `[[api_routes]]`: custom routes answering fixed JSON or proxying to an upstream, and the
//! checks that keep them off the server's own paths and apart from each other.

use std::collections::{HashMap, HashSet};
use std::fmt;

use http::{Method, StatusCode};
use serde::Deserialize;
use serde::de::{self, Deserializer};

use super::ConfigError;
use super::units::de_bool;

/// Paths the server itself serves outside the API prefix; custom routes may not take them.
pub const RESERVED_PATHS: [&str; 2] = ["/health", "/swagger-ui"];

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

/// Checks every route: a path outside the API prefix and the reserved paths, axum template
/// syntax, and no two routes for the same method and template.
pub(super) fn validate_routes(
    routes: &[ApiRouteConfig],
    prefix: &str,
    origin: &str,
) -> Result<(), ConfigError> {
    let invalid = |key: &str, message: String| ConfigError::invalid(origin, key, message);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_templates() {
        assert_eq!(normalize_template("/a/{id}/b"), "/a/{}/b");
        assert_eq!(normalize_template("/a/{*rest}"), "/a/{*}");
    }
}
