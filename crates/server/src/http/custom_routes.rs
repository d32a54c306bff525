//! `[[api_routes]]`: custom routes answering fixed JSON or reverse-proxying to an upstream.
//!
//! Routes use axum path templates (`/other/route/{id}`), so the auth layer can look a matched
//! template up in [`auth_table`] (via axum's `MatchedPath`) and apply its `requires_auth`.
//! Method `ALL` answers any method not claimed by a specific route on the same path.
//!
//! The proxy forwards the method, the normalized path (its decoded segments re-encoded and
//! appended to the upstream URL's path, so a request never leaves the upstream's base path) and
//! query, the headers minus hop-by-hop ones and `Host`, and streams the body both ways. The
//! caller's credentials (`Authorization`, `Cookie`, the `apiKey` query parameter) are stripped
//! unless the route sets `forward_credentials = true`; the client address is appended to
//! `X-Forwarded-For` and `Host` is sent as `X-Forwarded-Host`. An unreachable
//! upstream is 502 `{"error":"Bad gateway"}`; no response head within the response timeout is
//! 504 `{"error":"Request timed out"}`; a request body over the server's limit is 413.

use std::borrow::Cow;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, HttpBody};
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{OriginalUri, Request};
use axum::response::Response;
use axum::routing::{MethodFilter, MethodRouter};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};

use mastra_auth::normalize::{
    NormalizedPath, RequestError, encode_segment_for_upstream, normalize_path,
};

use super::limits::{body_too_large, is_length_limit_error, timed_out};
use super::logging::percent_decode;
use super::{json_error, json_response};
use crate::config::{ApiRouteConfig, MethodOrAll, RouteAction};

/// Error message of a 502 answer.
pub const BAD_GATEWAY: &str = "Bad gateway";

/// Why the custom routes could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CustomRoutesError {
    /// A route's path or method cannot be routed.
    #[error("custom route {method} {path}: {reason}")]
    Route {
        /// The route's method (or `ALL`).
        method: String,
        /// The route's path template.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client for proxy routes could not be created.
    #[error("cannot create the HTTP client for proxy routes: {0}")]
    Client(String),
}

/// Timeouts of the reverse proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyOptions {
    /// Time allowed to connect to the upstream (default 10 s).
    pub connect_timeout: Duration,
    /// Time allowed for the upstream's response head (default 180 s, the server default).
    pub response_timeout: Duration,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            connect_timeout: Duration::from_secs(10),
            response_timeout: Duration::from_secs(180),
        }
    }
}

/// `(method, path template, requires_auth)` for each route, in config order.
pub fn auth_table(routes: &[ApiRouteConfig]) -> Vec<(MethodOrAll, String, bool)> {
    routes
        .iter()
        .map(|r| (r.method.clone(), r.path.clone(), r.requires_auth))
        .collect()
}

/// The `requires_auth` flag for a request matched to `template` with `method`: a route naming
/// the method wins over an `ALL` route on the same template; `None` if no custom route matches.
pub fn requires_auth(
    table: &[(MethodOrAll, String, bool)],
    method: &Method,
    template: &str,
) -> Option<bool> {
    let on_path = || table.iter().filter(|(_, path, _)| path == template);
    on_path()
        .find(|(m, _, _)| matches!(m, MethodOrAll::Method(x) if x == method))
        .or_else(|| {
            // axum answers HEAD with a GET route
            (method == Method::HEAD)
                .then(|| {
                    on_path()
                        .find(|(m, _, _)| matches!(m, MethodOrAll::Method(x) if x == Method::GET))
                })
                .flatten()
        })
        .or_else(|| on_path().find(|(m, _, _)| *m == MethodOrAll::All))
        .map(|(_, _, flag)| *flag)
}

/// Builds the custom routes with default [`ProxyOptions`].
pub fn router<S>(routes: &[ApiRouteConfig]) -> Result<Router<S>, CustomRoutesError>
where
    S: Clone + Send + Sync + 'static,
{
    router_with(routes, ProxyOptions::default())
}

/// Builds the custom routes; errors instead of panicking on paths axum would refuse.
pub fn router_with<S>(
    routes: &[ApiRouteConfig],
    options: ProxyOptions,
) -> Result<Router<S>, CustomRoutesError>
where
    S: Clone + Send + Sync + 'static,
{
    check(routes)?;
    let client = if routes
        .iter()
        .any(|r| matches!(r.action, RouteAction::Proxy { .. }))
    {
        Some(
            reqwest::Client::builder()
                .connect_timeout(options.connect_timeout)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .map_err(|e| CustomRoutesError::Client(e.to_string()))?,
        )
    } else {
        None
    };

    // one MethodRouter per path, in first-appearance order
    let mut order: Vec<&str> = Vec::new();
    for r in routes {
        if !order.contains(&r.path.as_str()) {
            order.push(&r.path);
        }
    }
    let mut router = Router::new();
    for path in order {
        let mut method_router: MethodRouter<S> = MethodRouter::new();
        for route in routes.iter().filter(|r| r.path == path) {
            let handler = make_handler(route, client.as_ref(), options);
            let call = move |req: Request| {
                let handler = handler.clone();
                async move { handler(req).await }
            };
            method_router = match &route.method {
                MethodOrAll::All => method_router.fallback(call),
                MethodOrAll::Method(m) => {
                    let filter = MethodFilter::try_from(m.clone()).map_err(|e| {
                        CustomRoutesError::Route {
                            method: m.to_string(),
                            path: path.to_string(),
                            reason: e.to_string(),
                        }
                    })?;
                    method_router.on(filter, call)
                }
            };
        }
        router = router.route(path, method_router);
    }
    Ok(router)
}

/// Rejects what `Router::route`/`MethodRouter::on` would panic on.
fn check(routes: &[ApiRouteConfig]) -> Result<(), CustomRoutesError> {
    let mut matcher = matchit::Router::new();
    let mut templates: HashSet<&str> = HashSet::new();
    let mut seen: HashSet<(String, &str)> = HashSet::new();
    for r in routes {
        let err = |reason: String| CustomRoutesError::Route {
            method: r.method.to_string(),
            path: r.path.clone(),
            reason,
        };
        if !r.path.starts_with('/') {
            return Err(err("the path must start with `/`".into()));
        }
        if r.path
            .split('/')
            .any(|seg| seg.starts_with(':') || seg.starts_with('*'))
        {
            return Err(err(
                "use `{name}` / `{*name}` for parameters, not `:name` / `*name`".into(),
            ));
        }
        if templates.insert(&r.path) {
            matcher
                .insert(r.path.as_str(), ())
                .map_err(|e| err(e.to_string()))?;
        }
        if !seen.insert((r.method.to_string(), &r.path)) {
            return Err(err("defined twice".into()));
        }
    }
    Ok(())
}

type HandlerFn =
    Box<dyn Fn(Request) -> futures::future::BoxFuture<'static, Response> + Send + Sync>;

fn make_handler(
    route: &ApiRouteConfig,
    client: Option<&reqwest::Client>,
    options: ProxyOptions,
) -> Arc<HandlerFn> {
    match (&route.action, client) {
        (RouteAction::Json { status, body }, _) => {
            let status = *status;
            let body = Arc::new(body.clone());
            Arc::new(Box::new(move |_req: Request| {
                let body = body.clone();
                Box::pin(async move { json_response(status, &body) })
            }))
        }
        (
            RouteAction::Proxy {
                upstream,
                forward_credentials,
            },
            Some(client),
        ) => {
            let proxy = Arc::new(Proxy {
                client: client.clone(),
                upstream: upstream.clone(),
                response_timeout: options.response_timeout,
                forward_credentials: *forward_credentials,
            });
            Arc::new(Box::new(move |req: Request| {
                let proxy = proxy.clone();
                Box::pin(async move { proxy.forward(req).await })
            }))
        }
        (RouteAction::Proxy { .. }, None) => Arc::new(Box::new(|_req: Request| {
            Box::pin(async { json_error(StatusCode::BAD_GATEWAY, BAD_GATEWAY) })
        })),
    }
}

/// Hop-by-hop headers (RFC 9110 §7.6.1) plus `Host`, never forwarded.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Copies `from` minus hop-by-hop headers, `Host`, and headers named in `Connection`.
fn end_to_end_headers(from: &HeaderMap) -> HeaderMap {
    let named: Vec<String> = from
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(from.len());
    for (name, value) in from {
        let n = name.as_str();
        if n == "host" || HOP_BY_HOP.contains(&n) || named.iter().any(|x| x == n) {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

struct Proxy {
    client: reqwest::Client,
    upstream: reqwest::Url,
    response_timeout: Duration,
    forward_credentials: bool,
}

impl Proxy {
    /// Upstream URL: the upstream's path joined with the request's decoded segments, each
    /// re-encoded, plus the request query. Dot segments, encoded slashes and backslashes were
    /// refused by the normalizer, so the result stays under the upstream's base path; `None` if
    /// it would not.
    fn target(&self, path: &NormalizedPath<'_>, query: Option<&str>) -> Option<reqwest::Url> {
        let mut url = self.upstream.clone();
        let base = url.path().trim_end_matches('/').to_string();
        let mut joined = base.clone();
        for segment in path.segments() {
            joined.push('/');
            encode_segment_for_upstream(segment, &mut joined);
        }
        url.set_path(&joined);
        url.set_query(query);
        // The URL parser resolves dot segments, encoded ones included; nothing may have moved.
        (url.path() == joined && url.path().starts_with(&format!("{base}/"))).then_some(url)
    }

    async fn forward(&self, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        // The router may have stripped a prefix from `parts.uri`; the original is whole. The
        // normalizer is idempotent, so this is the view the auth layer decided on.
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(&parts.uri, |o| &o.0);
        let path = match normalize_path(uri.path()) {
            Ok(path) => path,
            Err(e) => return e.into_response(),
        };
        let query = match uri.query() {
            Some(q) if !self.forward_credentials => strip_api_key(q),
            other => other.map(Cow::Borrowed),
        };
        let Some(url) = self.target(&path, query.as_deref()) else {
            return RequestError::NotNormalized.into_response();
        };

        let mut headers = end_to_end_headers(&parts.headers);
        if !self.forward_credentials {
            headers.remove(header::AUTHORIZATION);
            headers.remove(header::COOKIE);
        }
        if let Some(host) = parts.headers.get(header::HOST) {
            headers.insert(HeaderName::from_static("x-forwarded-host"), host.clone());
        }
        if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            let xff = HeaderName::from_static("x-forwarded-for");
            let mut value = String::new();
            for prev in parts.headers.get_all(&xff) {
                if let Ok(prev) = prev.to_str() {
                    value.push_str(prev);
                    value.push_str(", ");
                }
            }
            value.push_str(&addr.ip().to_string());
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(xff, v);
            }
        }

        let mut request = self
            .client
            .request(parts.method.clone(), url)
            .headers(headers);
        if !body.is_end_stream() {
            request = request.body(reqwest::Body::wrap_stream(body.into_data_stream()));
        }

        let sent = tokio::time::timeout(self.response_timeout, request.send()).await;
        let upstream = match sent {
            Err(_) => {
                tracing::warn!(upstream = %self.upstream_for_log(), "proxy upstream timed out");
                return timed_out();
            }
            Ok(Err(e)) => {
                if is_length_limit_error(&e) {
                    return body_too_large();
                }
                tracing::warn!(upstream = %self.upstream_for_log(), error = %e, "proxy upstream failed");
                return json_error(StatusCode::BAD_GATEWAY, BAD_GATEWAY);
            }
            Ok(Ok(res)) => res,
        };

        let status = upstream.status();
        let headers = end_to_end_headers(upstream.headers());
        let mut res = Response::new(Body::from_stream(upstream.bytes_stream()));
        *res.status_mut() = status;
        *res.headers_mut() = headers;
        res
    }

    /// Scheme, host and port of the upstream, for logs.
    fn upstream_for_log(&self) -> String {
        let u = &self.upstream;
        match u.port() {
            Some(port) => format!("{}://{}:{port}", u.scheme(), u.host_str().unwrap_or("")),
            None => format!("{}://{}", u.scheme(), u.host_str().unwrap_or("")),
        }
    }
}

/// The query without `apiKey` parameters (the auth layer's query credential), in any spelling an
/// upstream might read as it: names compared case-insensitively after percent-decoding and
/// dropping non-alphanumerics (`api_key`, `apiKey[]`, `API%5FKEY`), pairs split on `&` and `;`.
fn strip_api_key(query: &str) -> Option<Cow<'_, str>> {
    let is_api_key = |pair: &str| {
        let name = percent_decode(pair.split('=').next().unwrap_or(""));
        let folded: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        folded == "apikey"
    };
    if !query.split(['&', ';']).any(is_api_key) {
        return Some(Cow::Borrowed(query));
    }
    let kept: Vec<&str> = query
        .split(['&', ';'])
        .filter(|pair| !pair.is_empty() && !is_api_key(pair))
        .collect();
    (!kept.is_empty()).then(|| Cow::Owned(kept.join("&")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: MethodOrAll, path: &str, requires_auth: bool) -> ApiRouteConfig {
        ApiRouteConfig {
            method,
            path: path.to_string(),
            requires_auth,
            permission: None,
            action: RouteAction::Json {
                status: StatusCode::OK,
                body: serde_json::json!({}),
            },
        }
    }

    #[test]
    fn auth_lookup_prefers_specific_method() {
        let routes = [
            route(MethodOrAll::All, "/x/{id}", true),
            route(MethodOrAll::Method(Method::GET), "/x/{id}", false),
        ];
        let table = auth_table(&routes);
        assert_eq!(requires_auth(&table, &Method::GET, "/x/{id}"), Some(false));
        assert_eq!(requires_auth(&table, &Method::HEAD, "/x/{id}"), Some(false));
        assert_eq!(requires_auth(&table, &Method::POST, "/x/{id}"), Some(true));
        assert_eq!(requires_auth(&table, &Method::POST, "/y"), None);
    }

    #[test]
    fn rejects_unroutable() {
        let bad = [route(MethodOrAll::All, "/a/:id", true)];
        assert!(router::<()>(&bad).is_err());
        let conflict = [
            route(MethodOrAll::All, "/a/{x}", true),
            route(MethodOrAll::Method(Method::GET), "/a/{y}", true),
        ];
        assert!(router::<()>(&conflict).is_err());
        let dup = [
            route(MethodOrAll::Method(Method::GET), "/a", true),
            route(MethodOrAll::Method(Method::GET), "/a", true),
        ];
        assert!(router::<()>(&dup).is_err());
    }

    fn proxy(base: &str) -> Proxy {
        Proxy {
            client: reqwest::Client::new(),
            upstream: reqwest::Url::parse(base).unwrap(),
            response_timeout: Duration::from_secs(1),
            forward_credentials: false,
        }
    }

    fn target(p: &Proxy, path: &str, query: Option<&str>) -> String {
        let path = normalize_path(path).unwrap();
        p.target(&path, query).unwrap().to_string()
    }

    #[test]
    fn target_urls() {
        let p = proxy("http://127.0.0.1:9/base/");
        assert_eq!(
            target(&p, "/x/y", Some("a=1&b=2")),
            "http://127.0.0.1:9/base/x/y?a=1&b=2"
        );
        assert_eq!(target(&p, "/x/", None), "http://127.0.0.1:9/base/x/");
        assert_eq!(
            target(&p, "/x/%73ecret/a;b/caf%c3%a9", None),
            "http://127.0.0.1:9/base/x/secret/a%3Bb/caf%C3%A9"
        );
        let root = proxy("http://127.0.0.1:9");
        assert_eq!(target(&root, "/x", None), "http://127.0.0.1:9/x");
    }

    #[test]
    fn api_key_parameters_are_stripped_in_every_spelling() {
        assert_eq!(strip_api_key("a=1&b=2").as_deref(), Some("a=1&b=2"));
        assert_eq!(strip_api_key("apiKey=t").as_deref(), None);
        for q in [
            "a=1&apiKey=t",
            "a=1&apikey=t",
            "a=1&api_key=t",
            "a=1&API-KEY=t",
            "a=1&apiKey[]=t",
            "a=1;apiKey=t",
            "a=1&api%4Bey=t",
            "a=1&API%5FKEY=t",
        ] {
            assert_eq!(strip_api_key(q).as_deref(), Some("a=1"), "{q}");
        }
        assert_eq!(
            strip_api_key("keyword=x&apiKeys=y").as_deref(),
            Some("keyword=x&apiKeys=y")
        );
    }
}
