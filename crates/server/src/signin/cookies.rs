//! Reading the session and sign-in cookies, and writing their `Set-Cookie` headers.

use std::time::Duration;

use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};

/// The value of cookie `name` (the first, if sent twice).
pub(crate) fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name && !v.is_empty()).then_some(v)
        })
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Secure` unless `secure` is false
/// (loopback hosts, where browsers keep plain-HTTP cookies).
pub(crate) fn set(
    name: &str,
    value: &str,
    path: &str,
    max_age: Duration,
    secure: bool,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        max_age.as_secs()
    );
    // Names are checked by the config and values are base64url: always a valid header value.
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A `Set-Cookie` value that deletes cookie `name` at `path`.
pub(crate) fn clear(name: &str, path: &str, secure: bool) -> HeaderValue {
    set(name, "", path, Duration::ZERO, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_cookie() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, "a=1; mastra_session=abc; b=2".parse().unwrap());
        assert_eq!(read(&h, "mastra_session"), Some("abc"));
        assert_eq!(read(&h, "b"), Some("2"));
        assert_eq!(read(&h, "mastra"), None);
    }

    #[test]
    fn set_cookie_attributes() {
        let v = set("s", "v", "/", Duration::from_secs(60), true);
        assert_eq!(v, "s=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
        let v = clear("s", "/api/auth/sso", false);
        assert_eq!(
            v,
            "s=; Path=/api/auth/sso; Max-Age=0; HttpOnly; SameSite=Lax"
        );
    }
}
