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
pub const RESERVED_PATHS: [&str; 1] = ["/health"];

/// Paths the server serves together with everything below them (the built-in page's files);
/// custom routes may take neither the path nor anything under it, whether the page is on or not,
/// so turning it on never breaks a config.
pub const RESERVED_TREES: [&str; 1] = ["/ui"];

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
    /// The permission the route needs under `[auth.rbac]`, instead of the derived one.
    pub permission: Option<String>,
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
    permission: Option<String>,
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
        if let Some(p) = &raw.permission {
            mastra_auth::permission::validate(p).map_err(|e| format!("`permission`: {e}"))?;
        }
        Ok(ApiRouteConfig {
            method: raw.method,
            path: raw.path,
            requires_auth: raw.requires_auth,
            permission: raw.permission,
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

/// Why a custom route (`[[api_routes]]`, or one added with [`crate::ServerBuilder::route`])
/// cannot be served. The messages say what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The path does not start with `/`.
    #[error("`{path}` must start with `/`")]
    NoLeadingSlash {
        /// The path as given.
        path: String,
    },
    /// The path is the API prefix or under it.
    #[error(
        "`{path}` is under the API prefix `{prefix}`, which is reserved for the server's own \
         routes (as in Mastra): choose a path outside it"
    )]
    UnderApiPrefix {
        /// The path as given.
        path: String,
        /// The configured API prefix.
        prefix: String,
    },
    /// The route's permission is not `resource:action[:id]`.
    #[error("permission: {0}")]
    Permission(#[from] mastra_auth::permission::PermissionError),
    /// The path is one the server serves itself ([`RESERVED_PATHS`], [`RESERVED_TREES`]).
    #[error("`{path}` is served by the server itself: choose another path")]
    Reserved {
        /// The path as given.
        path: String,
    },
    /// A segment uses the `:name` / `*name` syntax of older routers.
    #[error(
        "segment `{segment}` uses the old `:name`/`*name` syntax: write `{{name}}` or \
         `{{*name}}` (axum path templates)"
    )]
    OldSyntax {
        /// The offending segment.
        segment: String,
    },
    /// The router cannot take the template (bad parameter syntax, or a conflict with a route
    /// added before it).
    #[error("`{path}` is not a usable route template: {reason}")]
    Template {
        /// The path as given.
        path: String,
        /// The router's reason.
        reason: String,
    },
    /// Another route already answers this method on this template.
    #[error("{method} `{path}` duplicates {first} ({method} `{first_path}`): remove one")]
    Duplicate {
        /// The method (or `ALL`).
        method: String,
        /// The path as given.
        path: String,
        /// Which route came first (`api_routes[0]`, `route GET /x`).
        first: String,
        /// The first route's path.
        first_path: String,
    },
    /// The route names no method.
    #[error("the route names no method: give at least one")]
    NoMethods,
    /// The OpenAPI description given for the route is not a JSON object.
    #[error("the `openapi` description must be a JSON object (an OpenAPI operation object)")]
    Operation,
    /// The router cannot dispatch on this method (an extension method).
    #[error("method `{method}` cannot be routed: use one of {}", MethodOrAll::NAMES.join(", "))]
    Method {
        /// The method as given.
        method: String,
    },
}

/// The custom routes accepted so far, to check the next one against: each path outside the API
/// prefix and the reserved paths, in axum template syntax, not conflicting with another template,
/// and no two routes for the same method and template.
#[derive(Debug)]
pub struct RouteSet {
    prefix: String,
    matcher: matchit::Router<()>,
    inserted: HashSet<String>,
    /// `(method, template without parameter names)` -> (label, path) of the route that took it.
    seen: HashMap<(String, String), (String, String)>,
}

impl RouteSet {
    /// An empty set for routes outside `prefix`.
    pub fn new(prefix: &str) -> Self {
        RouteSet {
            prefix: prefix.to_string(),
            matcher: matchit::Router::new(),
            inserted: HashSet::new(),
            seen: HashMap::new(),
        }
    }

    /// Checks a route with `method` on `path` and adds it; `label` names it in a later
    /// [`RouteError::Duplicate`].
    pub fn add(&mut self, method: &MethodOrAll, path: &str, label: &str) -> Result<(), RouteError> {
        self.check_path(path)?;
        self.record(method, path, label)
    }

    /// Adds a route whose path was checked elsewhere (a loaded config's): only its template and
    /// method are checked against the routes before it, so the routes after it cannot collide.
    pub fn record(
        &mut self,
        method: &MethodOrAll,
        path: &str,
        label: &str,
    ) -> Result<(), RouteError> {
        self.add_template(path)?;
        let method = method.to_string();
        let key = (method.clone(), normalize_template(path));
        if let Some((first, first_path)) = self.seen.get(&key) {
            return Err(RouteError::Duplicate {
                method,
                path: path.into(),
                first: first.clone(),
                first_path: first_path.clone(),
            });
        }
        self.seen.insert(key, (label.into(), path.into()));
        Ok(())
    }

    /// The checks on the path alone: leading `/`, outside the API prefix and the reserved paths,
    /// axum template syntax.
    fn check_path(&self, path: &str) -> Result<(), RouteError> {
        if !path.starts_with('/') {
            return Err(RouteError::NoLeadingSlash { path: path.into() });
        }
        let lower = path.to_ascii_lowercase();
        let lower_prefix = self.prefix.to_ascii_lowercase();
        if lower == lower_prefix || lower.starts_with(&format!("{lower_prefix}/")) {
            return Err(RouteError::UnderApiPrefix {
                path: path.into(),
                prefix: self.prefix.clone(),
            });
        }
        let trimmed = lower.trim_end_matches('/');
        let in_tree = RESERVED_TREES
            .iter()
            .any(|tree| trimmed == *tree || lower.starts_with(&format!("{tree}/")));
        if RESERVED_PATHS.contains(&trimmed) || in_tree {
            return Err(RouteError::Reserved { path: path.into() });
        }
        if let Some(seg) = path
            .split('/')
            .find(|seg| seg.starts_with(':') || seg.starts_with('*'))
        {
            return Err(RouteError::OldSyntax {
                segment: seg.into(),
            });
        }
        Ok(())
    }

    /// Registers a template the server routes by itself (outside custom routes), so that a
    /// custom route conflicting with it is refused instead of panicking in the router.
    pub fn reserve_template(&mut self, path: &str) -> Result<(), RouteError> {
        self.add_template(path)
    }

    fn add_template(&mut self, path: &str) -> Result<(), RouteError> {
        if self.inserted.insert(path.to_string()) {
            self.matcher
                .insert(path, ())
                .map_err(|e| RouteError::Template {
                    path: path.into(),
                    reason: e.to_string(),
                })?;
        }
        Ok(())
    }
}

/// Checks every route with a [`RouteSet`], naming the offending `api_routes[i].path`.
pub(super) fn validate_routes(
    routes: &[ApiRouteConfig],
    prefix: &str,
    origin: &str,
) -> Result<(), ConfigError> {
    let mut set = RouteSet::new(prefix);
    for (i, route) in routes.iter().enumerate() {
        let label = format!("api_routes[{i}]");
        set.add(&route.method, &route.path, &label)
            .map_err(|e| ConfigError::invalid(origin, format!("{label}.path"), e.to_string()))?;
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
    fn route_set_checks_added_routes_and_records_checked_ones() {
        let get = MethodOrAll::Method(Method::GET);
        let mut set = RouteSet::new("/api");
        // a loaded config's route is recorded as it is
        set.record(&get, "/api/legacy", "api_routes[0]").unwrap();
        set.add(&get, "/x/{id}", "first").unwrap();
        set.add(&MethodOrAll::Method(Method::POST), "/x/{id}", "second")
            .unwrap();
        set.add(&MethodOrAll::All, "/x/{id}", "third").unwrap();
        assert_eq!(
            set.add(&get, "/x/{id}", "fourth"),
            Err(RouteError::Duplicate {
                method: "GET".into(),
                path: "/x/{id}".into(),
                first: "first".into(),
                first_path: "/x/{id}".into(),
            })
        );
        assert!(matches!(
            set.add(&get, "/x/{other}", "fifth"),
            Err(RouteError::Template { .. })
        ));
        assert!(matches!(
            set.add(&get, "/api/new", "sixth"),
            Err(RouteError::UnderApiPrefix { .. })
        ));
        assert!(matches!(
            set.record(&get, "/api/legacy", "seventh"),
            Err(RouteError::Duplicate { .. })
        ));
        set.reserve_template("/health").unwrap();
        assert!(matches!(
            set.add(&get, "/Health/", "eighth"),
            Err(RouteError::Reserved { .. })
        ));
        for path in ["/ui", "/UI/", "/ui/app.js", "/ui/{*rest}"] {
            assert!(
                matches!(
                    set.add(&get, path, "ninth"),
                    Err(RouteError::Reserved { .. })
                ),
                "{path}"
            );
        }
        set.add(&get, "/uix", "tenth").unwrap();
    }

    #[test]
    fn normalizes_templates() {
        assert_eq!(normalize_template("/a/{id}/b"), "/a/{}/b");
        assert_eq!(normalize_template("/a/{*rest}"), "/a/{*}");
    }
}
