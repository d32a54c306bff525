//! Request logs: one `tracing` span per request (method, redacted URI) and one INFO event per
//! response (status, latency). Credentials never reach the logs: `Authorization`, `Cookie`,
//! `Proxy-Authorization` and `Set-Cookie` are marked sensitive (their `Debug` prints
//! `Sensitive`), and in logged URIs the values of query parameters whose names look
//! credential-bearing (`apiKey`, `api-key`, `access_token[0]`, `sig`, ...) and any JWT-shaped
//! value are replaced by `[redacted]`.

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

/// Words that mark a query parameter as credential-bearing when they occur anywhere in its
/// normalized name (see [`is_credential_param`]). Over-redaction only costs log detail, so the
/// list is deliberately broad (`key` also catches `monkey`).
pub const CREDENTIAL_WORDS: [&str; 15] = [
    "apikey",
    "key",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "auth",
    "session",
    "sig",
    "signature",
    "credential",
    "jwt",
    "code",
    "bearer",
];

/// The text that replaces a redacted value.
pub const REDACTED: &str = "[redacted]";

/// The URI as it may be logged: path and query, with the value of every credential-bearing
/// query parameter ([`is_credential_param`]) and every JWT-shaped value replaced by
/// `[redacted]` (scheme and authority kept when the URI has them, userinfo dropped).
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
        // Servers and frameworks differ on whether `;` separates pairs, so both do here.
        for piece in query.split_inclusive(['&', ';']) {
            let (pair, sep) = match piece.char_indices().last() {
                Some((i, c @ ('&' | ';'))) => (&piece[..i], Some(c)),
                _ => (piece, None),
            };
            redact_pair(pair, &mut out);
            if let Some(sep) = sep {
                out.push(sep);
            }
        }
    }
    out
}

/// Appends one `name=value` pair to `out`, redacted when its name or value calls for it.
fn redact_pair(pair: &str, out: &mut String) {
    let (name, value) = match pair.split_once('=') {
        Some((name, value)) => (name, Some(value)),
        None => (pair, None),
    };
    if looks_like_jwt(name) {
        // a bare token (`?eyJ...`) sits where the name would be
        out.push_str(REDACTED);
    } else if is_credential_param(name) || value.is_some_and(looks_like_jwt) {
        out.push_str(name);
        out.push('=');
        out.push_str(REDACTED);
    } else {
        out.push_str(pair);
    }
}

/// True when a raw (still percent-encoded) query parameter name may carry a credential: the
/// name is percent- and `+`-decoded, lower-cased and stripped of every non-alphanumeric
/// character, so `apiKey[]`, `api-key`, `API%5FKEY`, `apiKey%00` and `access_token[0]` all
/// normalize to a name containing one of [`CREDENTIAL_WORDS`].
pub fn is_credential_param(raw_name: &str) -> bool {
    let normalized: String = percent_decode(raw_name)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    CREDENTIAL_WORDS.iter().any(|w| normalized.contains(w))
}

/// True when `raw` (as written, or percent-decoded) contains a JWS/JWE compact serialization:
/// `eyJ` (base64url of `{"`), base64url characters, `.`, base64url characters, `.`.
fn looks_like_jwt(raw: &str) -> bool {
    contains_jwt(raw) || (raw.contains('%') && contains_jwt(&percent_decode(raw)))
}

fn contains_jwt(s: &str) -> bool {
    let is_b64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    s.match_indices("eyJ").any(|(start, _)| {
        let rest = &s.as_bytes()[start..];
        let header = rest.iter().take_while(|&&b| is_b64url(b)).count();
        let Some(b'.') = rest.get(header) else {
            return false;
        };
        let payload_start = header + 1;
        let payload = rest[payload_start..]
            .iter()
            .take_while(|&&b| is_b64url(b))
            .count();
        rest.get(payload_start + payload) == Some(&b'.')
    })
}

/// Decodes `%XX` and `+` (form encoding) leniently; invalid escapes are kept as written.
pub(crate) fn percent_decode(s: &str) -> String {
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

    fn redacted(input: &str) -> String {
        let uri: Uri = input.parse().expect("test URIs are valid");
        redact_uri(&uri)
    }

    #[test]
    fn near_miss_credential_names_are_redacted() {
        let cases = [
            ("/x?apiKey[]=S", "/x?apiKey[]=[redacted]"),
            ("/x?x=1;apiKey=S", "/x?x=1;apiKey=[redacted]"),
            ("/x?api-key=S", "/x?api-key=[redacted]"),
            ("/x?API%5FKEY=S", "/x?API%5FKEY=[redacted]"),
            ("/x?apiKey%00=S", "/x?apiKey%00=[redacted]"),
            ("/x?access_token[0]=S", "/x?access_token[0]=[redacted]"),
            ("/x?api+key=S", "/x?api+key=[redacted]"),
            ("/x?Api.Key=S&b=2", "/x?Api.Key=[redacted]&b=2"),
            ("/x?%61pi%4b%65y=S", "/x?%61pi%4b%65y=[redacted]"),
            ("/x?X-Amz-Signature=S", "/x?X-Amz-Signature=[redacted]"),
            ("/x?sig=S;code=C", "/x?sig=[redacted];code=[redacted]"),
            ("/x?client_secret=S", "/x?client_secret=[redacted]"),
            (
                "/x?password=S&passwd=S&pwd=S",
                "/x?password=[redacted]&passwd=[redacted]&pwd=[redacted]",
            ),
            ("/x?SESSIONID=S", "/x?SESSIONID=[redacted]"),
            ("/x?authorization=S", "/x?authorization=[redacted]"),
            ("/x?credentials=S", "/x?credentials=[redacted]"),
            ("/x?jwt=S", "/x?jwt=[redacted]"),
            ("/x?bearer=S", "/x?bearer=[redacted]"),
            ("/x?apiKey", "/x?apiKey=[redacted]"),
            ("/x?token=a=b", "/x?token=[redacted]"),
        ];
        for (input, expected) in cases {
            assert_eq!(redacted(input), expected, "{input}");
            assert!(!redacted(input).contains("=S"), "{input}");
        }
    }

    #[test]
    fn jwt_values_are_redacted_under_any_name() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
        let cases = [
            (format!("/x?q={jwt}"), "/x?q=[redacted]".to_string()),
            (
                format!("/x?a=1&next={jwt}&b=2"),
                "/x?a=1&next=[redacted]&b=2".to_string(),
            ),
            (
                // percent-encoded dots still form a JWT once decoded
                format!("/x?q={}", jwt.replace('.', "%2E")),
                "/x?q=[redacted]".to_string(),
            ),
            (
                format!("/x?q=Bearer%20{jwt}"),
                "/x?q=[redacted]".to_string(),
            ),
            (format!("/x?{jwt}"), "/x?[redacted]".to_string()),
            ("/x?q=eyJonly.".to_string(), "/x?q=eyJonly.".to_string()),
            ("/x?q=eyJ".to_string(), "/x?q=eyJ".to_string()),
        ];
        for (input, expected) in cases {
            assert_eq!(redacted(&input), expected, "{input}");
        }
    }

    #[test]
    fn ordinary_params_and_shape_are_kept() {
        let cases = [
            "/api/agents",
            "/x?",
            "/x?a=1&b=2",
            "/x?a=1;b=2",
            "/x?q=hello+world&page=3&limit=10",
            "/x?format=json&lang=en&id=42",
            "/x?a=&b",
            "/x?a=1&&b=2",
        ];
        for input in cases {
            assert_eq!(redacted(input), input, "{input}");
        }
        assert_eq!(
            redacted("http://user:pw@host:1/p?apiKey=s"),
            "http://host:1/p?apiKey=[redacted]"
        );
    }

    #[test]
    fn credential_param_predicate() {
        for name in [
            "apiKey",
            "api_key",
            "API-KEY",
            "apiKey[]",
            "apiKey%00",
            "API%5FKEY",
            "access_token",
            "access_token[0]",
            "token",
            "id_token",
            "refresh%5Ftoken",
            "secret",
            "password",
            "passwd",
            "pwd",
            "auth",
            "session",
            "sig",
            "signature",
            "credential",
            "jwt",
            "code",
            "bearer",
            "a%2Dp%2Di%2Dk%2De%2Dy",
        ] {
            assert!(is_credential_param(name), "{name}");
        }
        for name in [
            "", "a", "q", "page", "limit", "format", "lang", "id", "name", "%zz",
        ] {
            assert!(!is_credential_param(name), "{name}");
        }
    }
}
