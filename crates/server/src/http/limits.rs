//! Request body size limit (413) and request timeout (504), both answering JSON.
//!
//! The body limit rejects a declared `Content-Length` over the limit before the handler runs,
//! and caps a body of unknown length (chunked) while it is read: a handler's extractor then fails
//! with 413, which this layer rewrites to the JSON body. It also lifts axum's own 2 MB extractor
//! default so the configured limit is the only one. The timeout covers producing the response
//! head; a streaming body, once started, is not cut off.

use std::convert::Infallible;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request};
use axum::response::Response;
use futures::future::BoxFuture;
use http::{StatusCode, header};
use tower::{Layer, Service};

use super::json_error;

/// Error message of a 413 answer.
pub const BODY_TOO_LARGE: &str = "Request body too large";

/// Error message of a 504 answer.
pub const TIMED_OUT: &str = "Request timed out";

/// The 413 response: `{"error":"Request body too large"}`.
pub fn body_too_large() -> Response {
    json_error(StatusCode::PAYLOAD_TOO_LARGE, BODY_TOO_LARGE)
}

/// The 504 response: `{"error":"Request timed out"}`.
pub fn timed_out() -> Response {
    json_error(StatusCode::GATEWAY_TIMEOUT, TIMED_OUT)
}

/// True when `err` or any error in its source chain is a body-length-limit error (used by
/// handlers that stream the body elsewhere, such as the reverse proxy).
pub fn is_length_limit_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}

/// Layer limiting request bodies to `limit` bytes.
pub fn body_limit_layer(limit: u64) -> BodyLimitLayer {
    BodyLimitLayer { limit }
}

/// Tower layer producing [`BodyLimit`].
#[derive(Debug, Clone, Copy)]
pub struct BodyLimitLayer {
    limit: u64,
}

impl<S> Layer<S> for BodyLimitLayer {
    type Service = BodyLimit<S>;

    fn layer(&self, inner: S) -> BodyLimit<S> {
        BodyLimit {
            inner,
            limit: self.limit,
        }
    }
}

/// The body-limit service (see the module docs).
#[derive(Debug, Clone)]
pub struct BodyLimit<S> {
    inner: S,
    limit: u64,
}

impl<S> Service<Request> for BodyLimit<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|len| len > self.limit) {
            return Box::pin(async { Ok(body_too_large()) });
        }
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let (parts, body) = req.into_parts();
        let mut req =
            Request::from_parts(parts, Body::new(http_body_util::Limited::new(body, limit)));
        DefaultBodyLimit::disable().apply(&mut req);
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await?;
            Ok(
                if res.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&res) {
                    body_too_large()
                } else {
                    res
                },
            )
        })
    }
}

fn is_json(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"))
}

/// Layer answering 504 JSON when the inner service takes longer than `timeout` to produce a
/// response head.
pub fn timeout_layer(timeout: Duration) -> TimeoutLayer {
    TimeoutLayer { timeout }
}

/// Tower layer producing [`Timeout`].
#[derive(Debug, Clone, Copy)]
pub struct TimeoutLayer {
    timeout: Duration,
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            timeout: self.timeout,
        }
    }
}

/// The timeout service (see [`timeout_layer`]).
#[derive(Debug, Clone)]
pub struct Timeout<S> {
    inner: S,
    timeout: Duration,
}

impl<S, B> Service<http::Request<B>> for Timeout<S>
where
    S: Service<http::Request<B>, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let fut = self.inner.call(req);
        let timeout = self.timeout;
        Box::pin(async move {
            match tokio::time::timeout(timeout, fut).await {
                Ok(res) => res,
                Err(_) => Ok(timed_out()),
            }
        })
    }
}
