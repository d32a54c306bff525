//! Finding the credential in a request (step 6 of the auth pipeline in ARCHITECTURE.md).
//!
//! Sources, in order: the `Authorization` header (`Bearer <token>`, scheme case-insensitive, or a
//! bare `<token>` with no scheme as Mastra 1.x accepts), the `apiKey` query parameter, a
//! [`SessionToken`] in the request's extensions, then provider cookies. Any other scheme counts as no token. Two different credentials are a 400.

use std::borrow::Cow;

use http::header::{AUTHORIZATION, COOKIE};
use http::request::Parts;
use http::{HeaderMap, HeaderValue};

use crate::error::AuthError;

/// Where the token was found (for logs and `token verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// `Authorization: Bearer <token>`.
    BearerHeader,
    /// `Authorization: <token>` with no scheme.
    BareHeader,
    /// `?apiKey=<token>`.
    QueryApiKey,
    /// A provider cookie.
    Cookie,
    /// A [`SessionToken`] a layer in front of the auth layer took from a session.
    Session,
}

/// The access token of a signed-in browser session, put in the request's extensions by a layer
/// in front of the auth layer (the server's sealed session cookie). It is read after the
/// `Authorization` header and the `apiKey` query parameter (an explicit credential wins) and
/// verified by the same provider, with the same rules, as a bearer token. `Debug` redacts it.
#[derive(Clone)]
pub struct SessionToken(pub std::sync::Arc<str>);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// Extraction settings. The default accepts `?apiKey=`, as Mastra does.
#[derive(Debug, Clone)]
pub struct TokenExtractor {
    /// Accept `?apiKey=` (Mastra compatibility).
    pub api_key_query: bool,
}

impl Default for TokenExtractor {
    fn default() -> Self {
        Self {
            api_key_query: true,
        }
    }
}

impl TokenExtractor {
    /// The request's credential, if any. `cookie_names` are the provider's token cookies.
    pub fn extract(
        &self,
        parts: &Parts,
        cookie_names: &[&str],
    ) -> Result<Option<(String, TokenSource)>, AuthError> {
        Ok(self
            .find(parts, cookie_names)?
            .map(|(t, s)| (t.into_owned(), s)))
    }

    /// Like [`TokenExtractor::extract`], borrowing the token from the request head when it
    /// needs no decoding (the header and cookie cases: no allocation per request).
    pub fn find<'a>(
        &self,
        parts: &'a Parts,
        cookie_names: &[&str],
    ) -> Result<Option<(Cow<'a, str>, TokenSource)>, AuthError> {
        let header = from_header(&parts.headers)?;
        let query = if self.api_key_query {
            api_key_from_query(parts.uri.query())?
        } else {
            None
        };
        match (header, query) {
            (Some((h, _)), Some(q)) if h != q.as_ref() => Err(AuthError::ConflictingTokens(
                "Authorization header and apiKey query parameter differ",
            )),
            (Some((h, source)), _) => Ok(Some((Cow::Borrowed(h), source))),
            (None, Some(q)) => Ok(Some((q, TokenSource::QueryApiKey))),
            (None, None) => {
                if let Some(session) = parts.extensions.get::<SessionToken>() {
                    return Ok(Some((Cow::Borrowed(&*session.0), TokenSource::Session)));
                }
                Ok(from_cookies(&parts.headers, cookie_names)
                    .map(|c| (Cow::Borrowed(c), TokenSource::Cookie)))
            }
        }
    }
}

fn from_header(headers: &HeaderMap) -> Result<Option<(&str, TokenSource)>, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(AuthError::ConflictingTokens(
            "more than one Authorization header",
        ));
    }
    if let Some(token) = plain_bearer(value.as_bytes()) {
        return Ok(Some((token, TokenSource::BearerHeader)));
    }
    let Some(value) = visible_ascii(value) else {
        return Ok(None);
    };
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    // Words are separated by runs of spaces; `value` has none at either end.
    let Some((scheme, rest)) = value.split_once(' ') else {
        return Ok(
            (!value.eq_ignore_ascii_case("bearer") && !value.contains(['\t', ',']))
                .then_some((value, TokenSource::BareHeader)),
        );
    };
    let token = rest.trim_start_matches(' ');
    Ok(
        (scheme.eq_ignore_ascii_case("bearer") && !token.contains(' '))
            .then_some((token, TokenSource::BearerHeader)),
    )
}

/// The common shape `Bearer <token>` (any case, spaces before the token) whose token is all
/// visible ASCII without spaces: the answer of the general rules below in one pass over the
/// token. Anything else (`None`) takes the general rules.
fn plain_bearer(value: &[u8]) -> Option<&str> {
    let (scheme, rest) = value.split_at_checked(7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let start = rest.iter().position(|&b| b != b' ')?;
    let token = &rest[start..];
    let plain = token
        .iter()
        .fold(true, |plain, &b| plain & (b'!'..=b'~').contains(&b));
    if !plain {
        return None;
    }
    std::str::from_utf8(token).ok()
}

/// The header value as text when every byte is visible ASCII or a tab: exactly the values
/// `HeaderValue::to_str` accepts, checked without stopping at each byte so that the compiler
/// can vectorize it: the check runs on every authenticated request (see BENCHMARKS.md).
fn visible_ascii(value: &HeaderValue) -> Option<&str> {
    let bytes = value.as_bytes();
    let invalid = bytes.iter().fold(false, |invalid, &b| {
        invalid | (!(b' '..=b'~').contains(&b) & (b != b'\t'))
    });
    if invalid {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// The `apiKey` query parameter. The query is split on `&` only (`;` is data) and each pair at
/// its first `=`; a pair counts when its key is exactly `apiKey` as written (`api%4Bey` and
/// `apikey` are other parameters), and its value is decoded by [`percent_decode`]. Empty values
/// are no token; one value given twice is one token, two different values a conflict (400).
///
/// Not `url::form_urlencoded::parse`: it decodes keys too, which would make `api%4Bey=` a
/// credential, and it decodes some malformed escapes differently (see [`percent_decode`]).
fn api_key_from_query(query: Option<&str>) -> Result<Option<Cow<'_, str>>, AuthError> {
    let Some(query) = query else { return Ok(None) };
    let mut found: Option<Cow<'_, str>> = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if k != "apiKey" {
            continue;
        }
        let v = percent_decode(v);
        if v.is_empty() {
            continue;
        }
        match &found {
            Some(prev) if *prev != v => {
                return Err(AuthError::ConflictingTokens(
                    "apiKey given twice with different values",
                ));
            }
            _ => found = Some(v),
        }
    }
    Ok(found)
}

fn from_cookies<'a>(headers: &'a HeaderMap, names: &[&str]) -> Option<&'a str> {
    if names.is_empty() {
        return None;
    }
    for value in headers.get_all(COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=')
                && names.contains(&k)
                && !v.is_empty()
            {
                return Some(v);
            }
        }
    }
    None
}

/// Decodes `%XX` escapes and `+` (form encoding) in a query value; bad escapes stay literal and
/// bytes that are not UTF-8 become U+FFFD. The two characters after `%` are read as a number in
/// base 16, which may carry a sign: `%+1` is the byte 1 (`form_urlencoded` keeps `% 1`).
fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)], uri: &str) -> Parts {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn get(
        headers: &[(&str, &str)],
        uri: &str,
    ) -> Result<Option<(String, TokenSource)>, AuthError> {
        TokenExtractor::default().extract(&parts(headers, uri), &["session"])
    }

    #[test]
    fn bearer_any_case() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let v = format!("{scheme} abc");
            assert_eq!(
                get(&[("authorization", &v)], "/").unwrap(),
                Some(("abc".into(), TokenSource::BearerHeader))
            );
        }
    }

    #[test]
    fn bare_token_accepted() {
        assert_eq!(
            get(&[("authorization", "abc.def.ghi")], "/").unwrap(),
            Some(("abc.def.ghi".into(), TokenSource::BareHeader))
        );
    }

    #[test]
    fn other_schemes_and_shapes_are_no_token() {
        for v in [
            "Basic abc",
            "NotBearer abc",
            "Bearer",
            "Bearer a b",
            "a b",
            "",
            "   ",
        ] {
            assert_eq!(get(&[("authorization", v)], "/").unwrap(), None, "{v:?}");
        }
    }

    #[test]
    fn header_words_as_before() {
        // The word rules: runs of spaces separate, tabs do not, surrounding whitespace is trimmed.
        let cases: &[(&str, Option<(&str, TokenSource)>)] = &[
            ("Bearer    abc  ", Some(("abc", TokenSource::BearerHeader))),
            ("\tBearer abc\t", Some(("abc", TokenSource::BearerHeader))),
            ("Bearer a\tb", Some(("a\tb", TokenSource::BearerHeader))),
            ("Bearer\tabc", None),
            ("Bearer abc ,", None),
            ("bearer", None),
            ("  abc  ", Some(("abc", TokenSource::BareHeader))),
            ("a,b", None),
            ("Bearer\u{7f}x", None),
        ];
        for (v, want) in cases {
            let Ok(value) = HeaderValue::from_bytes(v.as_bytes()) else {
                continue;
            };
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, value);
            assert_eq!(from_header(&h).unwrap(), *want, "{v:?}");
        }
    }

    #[test]
    fn visible_ascii_accepts_what_to_str_accepts() {
        let mut accepted = 0;
        for b in 0..=255u8 {
            for v in [
                vec![b],
                vec![b'a', b, b'z'],
                [b"x".repeat(40), vec![b]].concat(),
            ] {
                // Only valid header values can be built (safely); compare on all of them.
                let Ok(value) = HeaderValue::from_bytes(&v) else {
                    continue;
                };
                assert_eq!(visible_ascii(&value), value.to_str().ok(), "{v:?}");
                accepted += usize::from(value.to_str().is_ok());
            }
        }
        // 95 visible ASCII bytes and the tab, in three shapes each (a lone tab trims to "").
        assert_eq!(accepted, 96 * 3);
    }

    /// The word-splitting rules in their plainest form (the oracle for the faster `from_header`).
    fn reference_from_header(value: &HeaderValue) -> Option<(&str, TokenSource)> {
        let value = value.to_str().ok()?.trim();
        let mut words = value.split(' ').filter(|w| !w.is_empty());
        match (words.next(), words.next(), words.next()) {
            (Some(scheme), Some(token), None) if scheme.eq_ignore_ascii_case("bearer") => {
                Some((token, TokenSource::BearerHeader))
            }
            (Some(token), None, None)
                if !token.eq_ignore_ascii_case("bearer") && !token.contains(['\t', ',']) =>
            {
                Some((token, TokenSource::BareHeader))
            }
            _ => None,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]
        #[test]
        fn from_header_matches_the_reference(
            pieces in proptest::collection::vec(
                proptest::sample::select(vec![
                    "Bearer", "bEARER", "Basic", " ", "  ", "\t", ",", "a", "eyJ.x-_.s", "\u{e9}", "\u{7f}",
                ]),
                0..7,
            )
        ) {
            let v = pieces.concat();
            if let Ok(value) = HeaderValue::from_bytes(v.as_bytes()) {
                let mut h = HeaderMap::new();
                h.insert(AUTHORIZATION, value.clone());
                proptest::prop_assert_eq!(from_header(&h).unwrap(), reference_from_header(&value));
            }
        }
    }

    #[test]
    fn query_api_key() {
        assert_eq!(
            get(&[], "/api/x?a=1&apiKey=tok%2Ben").unwrap(),
            Some(("tok+en".into(), TokenSource::QueryApiKey))
        );
        assert_eq!(get(&[], "/api/x?apikey=tok").unwrap(), None);
        // The key is matched as written, never decoded.
        assert_eq!(get(&[], "/api/x?api%4Bey=tok").unwrap(), None);
        assert_eq!(
            get(&[], "/api/x?apiKey=a&api%4Bey=b").unwrap(),
            Some(("a".into(), TokenSource::QueryApiKey))
        );
        assert_eq!(get(&[], "/api/x?a=1;apiKey=tok").unwrap(), None);
        assert_eq!(
            get(&[], "/api/x?apiKey=a+b").unwrap(),
            Some(("a b".into(), TokenSource::QueryApiKey))
        );
        assert_eq!(
            get(&[], "/api/x?apiKey&apiKey=&apiKey=t").unwrap(),
            Some(("t".into(), TokenSource::QueryApiKey))
        );
        assert_eq!(get(&[], "/api/x?apiKey=").unwrap(), None);
        let off = TokenExtractor {
            api_key_query: false,
        };
        assert_eq!(off.extract(&parts(&[], "/x?apiKey=t"), &[]).unwrap(), None);
    }

    #[test]
    fn conflicts_are_400() {
        let e = get(&[("authorization", "Bearer a")], "/x?apiKey=b").unwrap_err();
        assert_eq!(e.status(), http::StatusCode::BAD_REQUEST);
        let e = get(
            &[("authorization", "Bearer a"), ("authorization", "Bearer a")],
            "/x",
        )
        .unwrap_err();
        assert_eq!(e.status(), http::StatusCode::BAD_REQUEST);
        assert!(get(&[], "/x?apiKey=a&apiKey=b").is_err());
        // Same value twice is not a conflict.
        assert_eq!(
            get(&[("authorization", "Bearer a")], "/x?apiKey=a").unwrap(),
            Some(("a".into(), TokenSource::BearerHeader))
        );
    }

    #[test]
    fn cookies_last() {
        assert_eq!(
            get(&[("cookie", "x=1; session=tok")], "/").unwrap(),
            Some(("tok".into(), TokenSource::Cookie))
        );
        assert_eq!(
            get(
                &[("cookie", "session=c"), ("authorization", "Bearer h")],
                "/"
            )
            .unwrap(),
            Some(("h".into(), TokenSource::BearerHeader))
        );
        assert_eq!(get(&[("cookie", "other=tok")], "/").unwrap(), None);
    }

    #[test]
    fn session_token_after_header_and_query_before_cookies() {
        let with_session = |headers: &[(&str, &str)], uri: &str| {
            let mut p = parts(headers, uri);
            p.extensions.insert(SessionToken("s".into()));
            TokenExtractor::default().extract(&p, &["session"]).unwrap()
        };
        assert_eq!(
            with_session(&[("cookie", "session=c")], "/"),
            Some(("s".into(), TokenSource::Session))
        );
        assert_eq!(
            with_session(&[("authorization", "Bearer h")], "/"),
            Some(("h".into(), TokenSource::BearerHeader))
        );
        assert_eq!(
            with_session(&[], "/?apiKey=q"),
            Some(("q".into(), TokenSource::QueryApiKey))
        );
        assert_eq!(
            format!("{:?}", SessionToken("secret".into())),
            "SessionToken(<redacted>)"
        );
    }

    #[test]
    fn percent_decoding_is_total() {
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("a%20b"), "a b");
    }
}
