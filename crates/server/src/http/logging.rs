//! Request logs: one `tracing` span per request (method, redacted URI) and one INFO event per
//! response (status, latency). Credentials never reach the logs: `Authorization`, `Cookie`,
//! `Proxy-Authorization` and `Set-Cookie` are marked sensitive (their `Debug` prints
//! `Sensitive`), and token-bearing query parameters (`apiKey`, ...) are replaced by
//! `[redacted]` in logged URIs.

use std::time::Duration;

use http::{Request, Response, Uri, header};
use tower::Layer;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeaders, SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeaders,
    SetSensitiveResponseHeadersLayer,
};
use tower_http::trace::{MakeSpan, OnResponse, Trace, TraceLayer};
use tracing::Span;

/// Query parameters whose values are replaced by `[redacted]` in logs (compared
/// case-insensitively after percent-decoding).
pub const REDACTED_QUERY_PARAMS: [&str; 4] = ["apikey", "api_key", "access_token", "token"];

/// The text that replaces a redacted value.
pub const REDACTED: &str = "[redacted]";

/// The URI as it may be logged: path and query, with the values of [`REDACTED_QUERY_PARAMS`]
/// replaced by `[redacted]` (scheme and authority kept when the URI has them).
pub fn redact_uri(uri: &Uri) -> String {
    let mut out = String::new();
    if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
        out.push_str(scheme);
        out.push_str("://");
        // userinfo never belongs in a log
        let host = authority.as_str().rsplit('@').next().unwrap_or("");
        out.push_str(host);
    }
    out.push_str(uri.path());
    if let Some(query) = uri.query() {
        out.push('?');
        let parts: Vec<String> = query
            .split('&')
            .map(|pair| {
                let name = pair.split('=').next().unwrap_or("");
                if is_redacted_name(name) {
                    format!("{name}={REDACTED}")
                } else {
                    pair.to_string()
                }
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

fn is_redacted_name(raw: &str) -> bool {
    let decoded = percent_decode(raw).to_ascii_lowercase();
    REDACTED_QUERY_PARAMS.contains(&decoded.as_str())
}

/// Decodes `%XX` and `+` (form encoding) leniently; invalid escapes are kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Makes the per-request span: `request{method=GET uri=/api/agents?apiKey=[redacted]}`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeRequestSpan;

impl<B> MakeSpan<B> for MakeRequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        tracing::info_span!(
            "request",
            method = %request.method(),
            uri = %redact_uri(request.uri()),
        )
    }
}

/// Logs each response at INFO: status and latency in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogResponse;

impl<B> OnResponse<B> for LogResponse {
    fn on_response(self, response: &Response<B>, latency: Duration, _span: &Span) {
        tracing::info!(
            status = response.status().as_u16(),
            latency_ms = latency.as_secs_f64() * 1000.0,
            "response"
        );
    }
}

/// The trace layer this module configures.
pub type RequestTraceLayer =
    TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeRequestSpan, (), LogResponse>;

/// The service [`RequestLogLayer`] produces.
pub type RequestLog<S> = SetSensitiveRequestHeaders<
    Trace<
        SetSensitiveResponseHeaders<S>,
        SharedClassifier<ServerErrorsAsFailures>,
        MakeRequestSpan,
        (),
        LogResponse,
    >,
>;

/// The request-log layer (see [`layer`]).
#[derive(Debug, Clone)]
pub struct RequestLogLayer {
    request_headers: SetSensitiveRequestHeadersLayer,
    trace: RequestTraceLayer,
    response_headers: SetSensitiveResponseHeadersLayer,
}

impl<S> Layer<S> for RequestLogLayer {
    type Service = RequestLog<S>;

    fn layer(&self, inner: S) -> RequestLog<S> {
        self.request_headers
            .layer(self.trace.layer(self.response_headers.layer(inner)))
    }
}

/// The request-log layer: marks credentials sensitive, then traces each request.
pub fn layer() -> RequestLogLayer {
    RequestLogLayer {
        request_headers: SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            header::PROXY_AUTHORIZATION,
            header::COOKIE,
        ]),
        trace: TraceLayer::new_for_http()
            .make_span_with(MakeRequestSpan)
            .on_request(())
            .on_response(LogResponse),
        response_headers: SetSensitiveResponseHeadersLayer::new([header::SET_COOKIE]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("api%4Bey"), "apiKey");
        assert_eq!(percent_decode("a+b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }
}
