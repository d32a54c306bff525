//! One normalized view of a request, shared by the router, the auth layer, patterns, rules, CEL
//! and reverse proxies, so that every security decision is made on exactly what is served.
//!
//! The path is split on `/` and each segment percent-decoded once. What cannot be read one way
//! only is refused (400) before anything matches:
//!
//! - malformed escapes (`%zz`, `%4`) and decoded bytes that are not UTF-8 (overlong forms such as
//!   `%C0%AE` included);
//! - `%2F` (a slash inside a segment) and backslashes, raw or `%5C` (some servers read them as
//!   `/`);
//! - dot segments, raw or encoded (`.`, `..`, `%2e%2E`), segments of dots only (`...`), and dots
//!   before a `;` parameter (`..;x`, which Java servers read as `..`);
//! - empty segments (`//`) other than one trailing slash;
//! - control characters (`%00`-`%1F`, `%7F`);
//! - double encoding: a decoded segment that still holds an escape (`%252e` -> `%2e`).
//!
//! The *decoded* path (segments decoded, joined with `/`) is what patterns, rules and CEL see. The
//! *canonical* path (each decoded segment re-encoded, escaping exactly what a path segment cannot
//! hold raw) is what the router routes: [`NormalizeLayer`] rewrites the request to it, so
//! `/api/%61gents` is served as `/api/agents` and decided as `/api/agents`. The two are a
//! bijection: a decoded path has one canonical spelling.
//!
//! Methods are case-sensitive (RFC 9110 §9.1): a method with a lower-case letter (`get`) is
//! refused rather than treated as `GET` by one part and as an unknown method by another. A
//! request must carry exactly one valid `Host` (RFC 9112 §3.2; HTTP/2 and HTTP/1.0 may omit it).

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::{Ready, ready};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::Response;
use futures::future::Either;
use http::request::Parts;
use http::uri::PathAndQuery;
use http::{HeaderMap, Method, Request, StatusCode, Uri, Version, header};
use tower::{Layer, Service};

/// Why a request cannot be normalized; rendered as 400 with [`RequestError::message`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The path does not start with `/` (asterisk-form `*`, or empty).
    #[error("the path must start with `/`")]
    NotAbsolute,
    /// `%` not followed by two hex digits.
    #[error("malformed percent-encoding")]
    BadEscape,
    /// A decoded segment is not UTF-8 (overlong and truncated sequences included).
    #[error("a path segment is not UTF-8 once decoded")]
    NotUtf8,
    /// `%2F` inside a segment.
    #[error("encoded slash (%2F) in a path segment")]
    EncodedSlash,
    /// A backslash, raw or `%5C`.
    #[error("backslash in the path")]
    Backslash,
    /// `.`, `..` (raw or encoded), dots only, or dots before a `;` parameter.
    #[error("dot segment in the path")]
    DotSegment,
    /// `//` (an empty segment other than one trailing slash).
    #[error("empty path segment (`//`)")]
    EmptySegment,
    /// A control character (decoded `%00`-`%1F`, `%7F`).
    #[error("control character in the path")]
    ControlCharacter,
    /// A decoded segment still holds a percent escape.
    #[error("double percent-encoding in the path")]
    DoubleEncoding,
    /// The path is valid but not in canonical form, and nothing rewrote it (the auth layer runs
    /// without [`NormalizeLayer`] in front of the router).
    #[error("the path is not in normalized form")]
    NotNormalized,
    /// A method with a lower-case letter.
    #[error("methods are case-sensitive")]
    MethodCase,
    /// No `Host` on an HTTP/1.1 request.
    #[error("missing Host header")]
    MissingHost,
    /// More than one `Host` field line.
    #[error("more than one Host header")]
    DuplicateHost,
    /// A `Host` that is not `host[:port]`.
    #[error("invalid Host header")]
    InvalidHost,
}

impl RequestError {
    /// The stable client-facing message (`{"error": message}`).
    pub fn message(&self) -> &'static str {
        match self {
            RequestError::MethodCase => "Invalid request method: methods are case-sensitive",
            RequestError::MissingHost => "Missing Host header",
            RequestError::DuplicateHost => "More than one Host header",
            RequestError::InvalidHost => "Invalid Host header",
            RequestError::NotAbsolute => "Invalid request path: it must start with /",
            RequestError::BadEscape => "Invalid request path: malformed percent-encoding",
            RequestError::NotUtf8 => "Invalid request path: not UTF-8 once decoded",
            RequestError::EncodedSlash => "Invalid request path: encoded slash in a segment",
            RequestError::Backslash => "Invalid request path: backslash",
            RequestError::DotSegment => "Invalid request path: dot segment",
            RequestError::EmptySegment => "Invalid request path: empty segment",
            RequestError::ControlCharacter => "Invalid request path: control character",
            RequestError::DoubleEncoding => "Invalid request path: double percent-encoding",
            RequestError::NotNormalized => "Invalid request path: not in normalized form",
        }
    }

    /// The 400 response for this error: `{"error": message}`.
    pub fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.message() }).to_string();
        let mut res = Response::new(Body::from(body));
        *res.status_mut() = StatusCode::BAD_REQUEST;
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        res
    }
}

/// A request path in its two agreeing forms (see the module documentation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NormalizedPath<'a> {
    canonical: Cow<'a, str>,
    decoded: Cow<'a, str>,
}

impl<'a> NormalizedPath<'a> {
    /// The decoded path: what patterns, rules and CEL `path` match.
    pub fn decoded(&self) -> &str {
        &self.decoded
    }

    /// The canonical path: what the router routes once [`NormalizeLayer`] has rewritten it.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The decoded segments (a trailing slash yields a final empty segment).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.decoded[1..].split('/')
    }

    /// The decoded path, owned.
    pub fn into_decoded(self) -> Cow<'a, str> {
        self.decoded
    }
}

/// Bytes a path segment holds raw in canonical form: RFC 3986 `pchar` minus `%` (unreserved,
/// sub-delims, `:` and `@`). Every other byte is percent-encoded.
const fn is_segment_byte(b: u8) -> bool {
    matches!(b,
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9'
        | b'-' | b'.' | b'_' | b'~'
        | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
        | b':' | b'@')
}

/// [`is_segment_byte`] or `/`, by byte value.
static SEGMENT_OR_SLASH: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b == b'/' as usize || is_segment_byte(b as u8);
        b += 1;
    }
    table
};

/// Normalizes a request path (no query). See the module documentation for what is refused.
pub fn normalize_path(raw: &str) -> Result<NormalizedPath<'_>, RequestError> {
    let Some(rest) = raw.strip_prefix('/') else {
        return Err(RequestError::NotAbsolute);
    };
    // Fast path: nothing to decode or encode, so both forms are the input itself. One pass over
    // the bytes; only a segment starting with `.` or empty (after a `/`) needs a closer look.
    let mut plain = true;
    let mut suspect = false;
    let mut prev = b'/';
    for &b in raw.as_bytes()[1..].iter() {
        plain &= SEGMENT_OR_SLASH[usize::from(b)];
        suspect |= prev == b'/' && (b == b'/' || b == b'.');
        prev = b;
    }
    if plain {
        if suspect {
            check_segments(rest.split('/'))?;
        }
        return Ok(NormalizedPath {
            canonical: Cow::Borrowed(raw),
            decoded: Cow::Borrowed(raw),
        });
    }
    let mut decoded = String::with_capacity(raw.len());
    let mut canonical = String::with_capacity(raw.len() + 8);
    let mut buf: Vec<u8> = Vec::new();
    for seg in rest.split('/') {
        if raw_backslash(seg) {
            return Err(RequestError::Backslash);
        }
        buf.clear();
        decode_into(seg, &mut buf)?;
        let text = std::str::from_utf8(&buf).map_err(|_| RequestError::NotUtf8)?;
        for b in text.bytes() {
            match b {
                b'/' => return Err(RequestError::EncodedSlash),
                b'\\' => return Err(RequestError::Backslash),
                0..=0x1f | 0x7f => return Err(RequestError::ControlCharacter),
                _ => {}
            }
        }
        if has_escape(text) {
            return Err(RequestError::DoubleEncoding);
        }
        decoded.push('/');
        decoded.push_str(text);
        canonical.push('/');
        encode_into(text, &mut canonical);
    }
    check_segments(decoded[1..].split('/'))?;
    let canonical = if canonical == raw {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(canonical)
    };
    Ok(NormalizedPath {
        canonical,
        decoded: Cow::Owned(decoded),
    })
}

fn raw_backslash(seg: &str) -> bool {
    seg.as_bytes().contains(&b'\\')
}

/// Empty segments (except a final one) and dot segments, on decoded segments.
fn check_segments<'s>(segments: impl Iterator<Item = &'s str>) -> Result<(), RequestError> {
    let mut segments = segments.peekable();
    while let Some(seg) = segments.next() {
        let last = segments.peek().is_none();
        if seg.is_empty() {
            // `/` alone, or one trailing slash
            if last {
                return Ok(());
            }
            return Err(RequestError::EmptySegment);
        }
        let before_param = seg.split(';').next().unwrap_or(seg);
        if seg.bytes().all(|b| b == b'.')
            || (!before_param.is_empty() && before_param.bytes().all(|b| b == b'.'))
        {
            return Err(RequestError::DotSegment);
        }
    }
    Ok(())
}

/// Percent-decodes one segment into `out`; a malformed escape is an error.
fn decode_into(seg: &str, out: &mut Vec<u8>) -> Result<(), RequestError> {
    let bytes = seg.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| hex(*b));
            let lo = bytes.get(i + 2).and_then(|b| hex(*b));
            match (hi, lo) {
                (Some(h), Some(l)) => out.push(h << 4 | l),
                _ => return Err(RequestError::BadEscape),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(())
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Whether decoded text still holds `%XX`.
fn has_escape(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'%'
            && b.get(i + 1).and_then(|x| hex(*x)).is_some()
            && b.get(i + 2).and_then(|x| hex(*x)).is_some()
    })
}

/// Appends `text` percent-encoded: [`is_segment_byte`] raw, everything else `%XX` (upper hex).
fn encode_into(text: &str, out: &mut String) {
    percent_encode_into(text, out, is_segment_byte);
}

/// Encodes a decoded segment for an upstream server: only unreserved bytes and the sub-delims no
/// server reads as structure (`!$&'()*+,=:@`) stay raw; `;` is escaped, so that an upstream that
/// strips `;` parameters (`..;x` in Java servers) sees data, not a parameter.
pub fn encode_segment_for_upstream(segment: &str, out: &mut String) {
    percent_encode_into(segment, out, |b| b != b';' && is_segment_byte(b));
}

fn percent_encode_into(text: &str, out: &mut String, raw: impl Fn(u8) -> bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        if raw(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
}

/// A method must not hold a lower-case letter (RFC 9110 §9.1: `get` is not `GET`).
pub fn check_method(method: &Method) -> Result<(), RequestError> {
    if method.as_str().bytes().any(|b| b.is_ascii_lowercase()) {
        return Err(RequestError::MethodCase);
    }
    Ok(())
}

/// Exactly one valid `Host` (`host[:port]`, no userinfo); HTTP/1.0 and HTTP/2+ may omit it.
pub fn check_host(version: Version, headers: &HeaderMap) -> Result<(), RequestError> {
    let mut hosts = headers.get_all(header::HOST).iter();
    let Some(host) = hosts.next() else {
        return match version {
            Version::HTTP_11 => Err(RequestError::MissingHost),
            _ => Ok(()),
        };
    };
    if hosts.next().is_some() {
        return Err(RequestError::DuplicateHost);
    }
    let text = host.to_str().map_err(|_| RequestError::InvalidHost)?;
    if valid_host(text) {
        Ok(())
    } else {
        Err(RequestError::InvalidHost)
    }
}

/// RFC 9110 §7.2 `Host = uri-host [ ":" port ]`: a bracketed IPv6 literal or a non-empty
/// reg-name / IPv4 address, and an optional port of 1-5 digits up to 65535. Checked by hand:
/// `http::uri::Authority` would copy the value on every request.
fn valid_host(text: &str) -> bool {
    let (host_ok, after) = match text.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, after)) => (
                !v6.is_empty()
                    && v6.contains(':')
                    && v6
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.'),
                after,
            ),
            None => return false,
        },
        None => {
            let (host, after) = match text.find(':') {
                Some(i) => text.split_at(i),
                None => (text, ""),
            };
            let reg_name = |b: u8| {
                b.is_ascii_alphanumeric()
                    || matches!(
                        b,
                        b'-' | b'.'
                            | b'_'
                            | b'~'
                            | b'!'
                            | b'$'
                            | b'&'
                            | b'\''
                            | b'('
                            | b')'
                            | b'*'
                            | b'+'
                            | b','
                            | b';'
                            | b'='
                            | b'%'
                    )
            };
            (!host.is_empty() && host.bytes().all(reg_name), after)
        }
    };
    if !host_ok {
        return false;
    }
    match after.strip_prefix(':') {
        None => after.is_empty(),
        Some(port) => {
            !port.is_empty()
                && port.len() <= 5
                && port.bytes().all(|b| b.is_ascii_digit())
                && port.parse::<u16>().is_ok()
        }
    }
}

/// The whole check on a request head: method, `Host`, path. The path may need rewriting to its
/// canonical form (see [`NormalizedPath::canonical`]).
pub fn normalize_request(parts: &Parts) -> Result<NormalizedPath<'_>, RequestError> {
    normalize_head(&parts.method, parts.version, &parts.headers, &parts.uri)
}

fn normalize_head<'u>(
    method: &Method,
    version: Version,
    headers: &HeaderMap,
    uri: &'u Uri,
) -> Result<NormalizedPath<'u>, RequestError> {
    check_method(method)?;
    check_host(version, headers)?;
    normalize_path(uri.path())
}

/// The decoded path of a request that must already be in canonical form (as [`NormalizeLayer`]
/// leaves it): what the auth layer decides on. A path the router saw in another spelling is
/// refused ([`RequestError::NotNormalized`]) rather than decided on a spelling it did not route.
/// The method is checked too; `Host` is a transport matter left to [`NormalizeLayer`] (no
/// decision reads it, and in-process requests often have none).
pub fn normalized_view(parts: &Parts) -> Result<Cow<'_, str>, RequestError> {
    check_method(&parts.method)?;
    let path = normalize_path(parts.uri.path())?;
    if path.canonical() != parts.uri.path() {
        return Err(RequestError::NotNormalized);
    }
    Ok(path.into_decoded())
}

/// Tower layer that refuses what cannot be normalized (400) and rewrites the request path to its
/// canonical form, so the router routes exactly what the auth layer decides on. Put it in front
/// of the router (outside `Router::layer`, which runs after routing). It also requires `Host` on
/// HTTP/1.1 requests: give in-process test requests one.
#[derive(Debug, Clone, Copy, Default)]
pub struct NormalizeLayer;

impl<S> Layer<S> for NormalizeLayer {
    type Service = Normalize<S>;

    fn layer(&self, inner: S) -> Normalize<S> {
        Normalize { inner }
    }
}

/// The service of [`NormalizeLayer`].
#[derive(Debug, Clone)]
pub struct Normalize<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for Normalize<S>
where
    S: Service<Request<B>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, Ready<Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let canonical = match normalize_head(req.method(), req.version(), req.headers(), req.uri())
        {
            Err(e) => {
                tracing::debug!(method = %req.method(), error = %e, "request refused");
                return Either::Right(ready(Ok(e.into_response())));
            }
            Ok(path) => match path.canonical {
                Cow::Borrowed(_) => None,
                Cow::Owned(canonical) => Some(canonical),
            },
        };
        if let Some(canonical) = canonical {
            match with_path(req.uri(), &canonical) {
                Some(uri) => *req.uri_mut() = uri,
                None => {
                    return Either::Right(ready(Ok(RequestError::NotNormalized.into_response())));
                }
            }
        }
        Either::Left(self.inner.call(req))
    }
}

/// `uri` with its path replaced (scheme, authority and query kept).
fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let pq = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(pq).ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> (String, String) {
        let p = normalize_path(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        (p.canonical().to_owned(), p.decoded().to_owned())
    }

    fn err(raw: &str) -> RequestError {
        normalize_path(raw).expect_err(raw)
    }

    #[test]
    fn plain_paths_are_their_own_forms_and_borrowed() {
        for raw in [
            "/",
            "/api",
            "/api/",
            "/api/agents/weatherAgent/generate",
            "/x/a;b=c",
            "/x/a:b@c",
        ] {
            let p = normalize_path(raw).unwrap();
            assert!(matches!(p.canonical, Cow::Borrowed(_)), "{raw}");
            assert!(matches!(p.decoded, Cow::Borrowed(_)), "{raw}");
            assert_eq!(p.decoded(), raw);
        }
    }

    #[test]
    fn encoded_unreserved_and_subdelims_decode_to_one_spelling() {
        assert_eq!(
            ok("/api/agents/%73ecretAgent"),
            (
                "/api/agents/secretAgent".into(),
                "/api/agents/secretAgent".into()
            )
        );
        assert_eq!(ok("/api/%61gents").0, "/api/agents");
        assert_eq!(ok("/x/%3a%40%3B").0, "/x/:@;");
        assert_eq!(ok("/x/a%20b").0, "/x/a%20b");
        assert_eq!(ok("/x/a%20b").1, "/x/a b");
        assert_eq!(ok("/x/caf%c3%a9").0, "/x/caf%C3%A9");
        assert_eq!(ok("/x/caf%c3%a9").1, "/x/café");
        assert_eq!(ok("/x/%3F%23").0, "/x/%3F%23");
        assert_eq!(ok("/x/100%25").1, "/x/100%");
    }

    #[test]
    fn canonical_is_idempotent_and_decodes_back() {
        for raw in [
            "/api/%61gents",
            "/x/caf%c3%a9",
            "/x/a%20b/",
            "/x/%3F",
            "/x/%25z",
        ] {
            let (canon, decoded) = ok(raw);
            let again = normalize_path(&canon).unwrap();
            assert_eq!(again.canonical(), canon);
            assert_eq!(again.decoded(), decoded);
        }
    }

    #[test]
    fn ambiguous_forms_are_refused() {
        use RequestError::*;
        let cases = [
            ("api", NotAbsolute),
            ("*", NotAbsolute),
            ("/x/%zz", BadEscape),
            ("/x/%4", BadEscape),
            ("/x/%", BadEscape),
            ("/x/%c0%ae", NotUtf8),
            ("/x/%ff", NotUtf8),
            ("/x/%e2%82", NotUtf8),
            ("/x/a%2fb", EncodedSlash),
            ("/x/a%2Fb", EncodedSlash),
            ("/x/a\\b", Backslash),
            ("/x/a%5cb", Backslash),
            ("/x/.", DotSegment),
            ("/x/..", DotSegment),
            ("/x/../y", DotSegment),
            ("/./x", DotSegment),
            ("/x/%2e", DotSegment),
            ("/x/%2e%2E/y", DotSegment),
            ("/x/.%2e", DotSegment),
            ("/x/...", DotSegment),
            ("/x/..;a=b", DotSegment),
            ("/x/.;", DotSegment),
            ("//x", EmptySegment),
            ("/x//y", EmptySegment),
            ("/x//", EmptySegment),
            ("/x/%00", ControlCharacter),
            ("/x/a%0ab", ControlCharacter),
            ("/x/%7f", ControlCharacter),
            ("/x/%252e%252e", DoubleEncoding),
            ("/x/%2573ecret", DoubleEncoding),
        ];
        for (raw, want) in cases {
            assert_eq!(err(raw), want, "{raw}");
        }
    }

    #[test]
    fn dots_inside_names_are_data() {
        assert_eq!(ok("/x/a.b").1, "/x/a.b");
        assert_eq!(ok("/x/.well-known").1, "/x/.well-known");
        assert_eq!(ok("/x/..a").1, "/x/..a");
        assert_eq!(ok("/x/a;..").1, "/x/a;..");
    }

    #[test]
    fn upstream_encoding_escapes_semicolons() {
        let mut out = String::new();
        encode_segment_for_upstream("a;b c:é", &mut out);
        assert_eq!(out, "a%3Bb%20c:%C3%A9");
    }

    #[test]
    fn methods_are_case_sensitive() {
        assert!(check_method(&Method::GET).is_ok());
        assert!(check_method(&Method::from_bytes(b"PROPFIND").unwrap()).is_ok());
        for m in ["get", "gEt", "Post", "options"] {
            let method = Method::from_bytes(m.as_bytes()).unwrap();
            assert_eq!(check_method(&method), Err(RequestError::MethodCase), "{m}");
        }
    }

    #[test]
    fn host_rules() {
        let h = |values: &[&str]| {
            let mut map = HeaderMap::new();
            for v in values {
                map.append(header::HOST, http::HeaderValue::from_str(v).unwrap());
            }
            map
        };
        assert_eq!(
            check_host(Version::HTTP_11, &h(&["localhost:4111"])),
            Ok(())
        );
        assert_eq!(check_host(Version::HTTP_11, &h(&["[::1]:80"])), Ok(()));
        assert_eq!(check_host(Version::HTTP_11, &h(&["example.com"])), Ok(()));
        assert_eq!(check_host(Version::HTTP_10, &h(&[])), Ok(()));
        assert_eq!(check_host(Version::HTTP_2, &h(&[])), Ok(()));
        assert_eq!(
            check_host(Version::HTTP_11, &h(&[])),
            Err(RequestError::MissingHost)
        );
        assert_eq!(
            check_host(Version::HTTP_11, &h(&["a", "a"])),
            Err(RequestError::DuplicateHost)
        );
        for bad in [
            "", "u@h", "h:x", "h:+80", "h:", "[]", "[::1]x", "[zz]", "h:1:2", "h\"x", "h:99999",
            "h/x", "h h", "h?x", "[::1", ":80",
        ] {
            assert_eq!(
                check_host(Version::HTTP_11, &h(&[bad])),
                Err(RequestError::InvalidHost),
                "{bad:?}"
            );
        }
    }
}
