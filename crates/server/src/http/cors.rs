//! CORS with Mastra's defaults, answering real preflights (204) before anything else runs.
//!
//! tower-http's `CorsLayer` answers *every* `OPTIONS` request as a preflight (with 200), which
//! would let a plain `OPTIONS` skip authentication; only real preflights are exempt from it
//! (`OPTIONS` with `Origin` and `Access-Control-Request-Method`). So this is a small layer of its
//! own: preflights are answered here with 204; every other request (a plain `OPTIONS` included)
//! goes to the inner service and its response gets the CORS headers.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::future::BoxFuture;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use tower::{Layer, Service};

use crate::config::{CorsConfig, CorsOrigin};

/// True for a CORS preflight: `OPTIONS` carrying both `Origin` and
/// `Access-Control-Request-Method` (the auth layer's own definition, so both agree).
pub use mastra_auth::is_preflight;

/// Builds the CORS layer from `[server.cors]` (ignores `enabled`; see [`optional_layer`]).
pub fn layer(config: &CorsConfig) -> CorsLayer {
    CorsLayer {
        policy: Arc::new(Policy::new(config)),
    }
}

/// The CORS layer, or `None` when `[server.cors] enabled = false` (`Option<L>` is a layer).
pub fn optional_layer(config: &CorsConfig) -> Option<CorsLayer> {
    config.enabled.then(|| layer(config))
}

/// Tower layer producing [`Cors`].
#[derive(Debug, Clone)]
pub struct CorsLayer {
    policy: Arc<Policy>,
}

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;

    fn layer(&self, inner: S) -> Cors<S> {
        Cors {
            inner,
            policy: self.policy.clone(),
        }
    }
}

/// The CORS service: answers preflights, decorates other responses.
#[derive(Debug, Clone)]
pub struct Cors<S> {
    inner: S,
    policy: Arc<Policy>,
}

#[derive(Debug)]
enum OriginPolicy {
    /// `*`.
    Any,
    /// Any origin but `null`, echoed (credentials forbid `*`). Config validation refuses this
    /// combination; it remains for layers built from a `CorsConfig` in code.
    Mirror,
    /// Only these, echoed.
    List(Vec<String>),
}

#[derive(Debug)]
struct Policy {
    origin: OriginPolicy,
    credentials: bool,
    allow_methods: HeaderValue,
    allow_headers: HeaderValue,
    expose_headers: Option<HeaderValue>,
    max_age: HeaderValue,
}

/// Joins names with `,`, dropping case-insensitive duplicates; header names and method names
/// are valid header-value text, so the fallback never triggers in practice.
fn join_value<'a>(items: impl Iterator<Item = &'a str>) -> HeaderValue {
    let mut seen: Vec<String> = Vec::new();
    let mut out: Vec<&str> = Vec::new();
    for item in items {
        let lower = item.to_ascii_lowercase();
        if !seen.contains(&lower) {
            seen.push(lower);
            out.push(item);
        }
    }
    HeaderValue::from_str(&out.join(",")).unwrap_or_else(|_| HeaderValue::from_static(""))
}

impl Policy {
    fn new(config: &CorsConfig) -> Self {
        let origin = match (&config.origin, config.credentials) {
            (CorsOrigin::Any, false) => OriginPolicy::Any,
            (CorsOrigin::Any, true) => OriginPolicy::Mirror,
            (CorsOrigin::List(list), _) => {
                OriginPolicy::List(list.iter().map(|o| o.to_ascii_lowercase()).collect())
            }
        };
        let allow_headers = join_value(
            CorsConfig::DEFAULT_ALLOW_HEADERS
                .iter()
                .copied()
                .chain(config.allow_headers.iter().map(HeaderName::as_str)),
        );
        let expose: Vec<&str> = CorsConfig::DEFAULT_EXPOSE_HEADERS
            .iter()
            .copied()
            .chain(config.expose_headers.iter().map(HeaderName::as_str))
            .collect();
        Policy {
            origin,
            credentials: config.credentials,
            allow_methods: join_value(config.methods.iter().map(Method::as_str)),
            allow_headers,
            expose_headers: (!expose.is_empty()).then(|| join_value(expose.into_iter())),
            max_age: HeaderValue::from(config.max_age),
        }
    }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if any.
    fn allow_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        match &self.origin {
            OriginPolicy::Any => Some(HeaderValue::from_static("*")),
            // `null` is sent by sandboxed iframes and `file:` pages of any site, so echoing it
            // with credentials would hand them the user's answers.
            OriginPolicy::Mirror => origin
                .filter(|o| !o.as_bytes().eq_ignore_ascii_case(b"null"))
                .cloned(),
            OriginPolicy::List(list) => origin
                .filter(|o| {
                    o.to_str()
                        .is_ok_and(|o| list.iter().any(|allowed| allowed.eq_ignore_ascii_case(o)))
                })
                .cloned(),
        }
    }

    /// Headers sent on every answer (preflight or not).
    fn common(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        if let Some(value) = self.allow_origin(origin) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        }
        if self.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if !matches!(self.origin, OriginPolicy::Any) {
            add_vary_origin(headers);
        }
    }

    fn preflight<B: Default>(&self, origin: Option<&HeaderValue>) -> Response<B> {
        let mut res = Response::new(B::default());
        *res.status_mut() = StatusCode::NO_CONTENT;
        let headers = res.headers_mut();
        self.common(origin, headers);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            self.allow_methods.clone(),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            self.allow_headers.clone(),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, self.max_age.clone());
        res
    }

    fn decorate(&self, origin: Option<&HeaderValue>, headers: &mut HeaderMap) {
        self.common(origin, headers);
        if let Some(expose) = &self.expose_headers {
            headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
    }
}

fn add_vary_origin(headers: &mut HeaderMap) {
    let already = headers.get_all(header::VARY).iter().any(|v| {
        v.to_str().is_ok_and(|s| {
            s.split(',')
                .any(|part| part.trim().eq_ignore_ascii_case("origin") || part.trim() == "*")
        })
    });
    if !already {
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Cors<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<ResBody>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let origin = req.headers().get(header::ORIGIN).cloned();
        if is_preflight(req.method(), req.headers()) {
            let res = self.policy.preflight(origin.as_ref());
            return Box::pin(async move { Ok(res) });
        }
        let policy = self.policy.clone();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut res = fut.await?;
            policy.decorate(origin.as_ref(), res.headers_mut());
            Ok(res)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preflight_detection() {
        let mut h = HeaderMap::new();
        assert!(!is_preflight(&Method::OPTIONS, &h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://a.example"),
        );
        assert!(!is_preflight(&Method::OPTIONS, &h));
        h.insert(
            header::ACCESS_CONTROL_REQUEST_METHOD,
            HeaderValue::from_static("POST"),
        );
        assert!(is_preflight(&Method::OPTIONS, &h));
        assert!(!is_preflight(&Method::POST, &h));
    }

    #[test]
    fn origin_policies() {
        let o = HeaderValue::from_static("https://A.example");
        let any = Policy::new(&CorsConfig::default());
        assert_eq!(
            any.allow_origin(None).as_ref().map(|v| v.as_bytes()),
            Some(&b"*"[..])
        );
        let mirror = Policy::new(&CorsConfig {
            credentials: true,
            ..CorsConfig::default()
        });
        assert_eq!(mirror.allow_origin(Some(&o)), Some(o.clone()));
        assert_eq!(mirror.allow_origin(None), None);
        assert_eq!(
            mirror.allow_origin(Some(&HeaderValue::from_static("null"))),
            None
        );
        let list = Policy::new(&CorsConfig {
            origin: CorsOrigin::List(vec!["https://a.example".into()]),
            ..CorsConfig::default()
        });
        assert_eq!(list.allow_origin(Some(&o)), Some(o.clone()));
        assert_eq!(
            list.allow_origin(Some(&HeaderValue::from_static("https://b.example"))),
            None
        );
    }
}
