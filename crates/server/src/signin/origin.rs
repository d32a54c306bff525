//! The request's own origin, `redirect_to` targets and the cross-site check of
//! cookie-authenticated requests.

use http::header::{HOST, ORIGIN};
use http::{HeaderMap, Uri};

/// The host the request was sent to: the `Host` header (validated by the normalization layer),
/// else the request target's authority (HTTP/2 sends `:authority` instead of `Host`).
pub(crate) fn request_host<'a>(headers: &'a HeaderMap, uri: &'a Uri) -> Option<&'a str> {
    match headers.get(HOST) {
        Some(h) => h.to_str().ok(),
        None => uri.authority().map(|a| a.as_str()),
    }
}

/// `scheme://host[:port]` of the server as this request reached it: `https` when the server
/// terminates TLS or a proxy says so (`X-Forwarded-Proto: https`), and [`request_host`].
pub(crate) fn request_origin(headers: &HeaderMap, uri: &Uri, tls: bool) -> Option<String> {
    let host = request_host(headers, uri)?;
    let forwarded_https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    let scheme = if tls || forwarded_https {
        "https"
    } else {
        "http"
    };
    Some(format!("{scheme}://{host}"))
}

/// Whether the request's host is a loopback address (cookies are `Secure` everywhere else).
pub(crate) fn is_loopback_host(headers: &HeaderMap, uri: &Uri) -> bool {
    let Some(host) = request_host(headers, uri) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Whether `target` may follow sign-in: a path on this server (`/...`, not `//` or `/\`, no
/// control characters), or an absolute URL on this server's origin or an allowed origin.
pub(crate) fn redirect_allowed(target: &str, own: Option<&str>, allowed: &[String]) -> bool {
    if target.bytes().any(|b| b.is_ascii_control() || b == b'\\') {
        return false;
    }
    if let Some(rest) = target.strip_prefix('/') {
        return !rest.starts_with('/');
    }
    let Some(origin) = origin_of(target) else {
        return false;
    };
    own == Some(origin) || allowed.iter().any(|a| a == origin)
}

/// `scheme://authority` of an absolute http(s) URL.
fn origin_of(url: &str) -> Option<&str> {
    let scheme_len = if url.starts_with("https://") {
        8
    } else if url.starts_with("http://") {
        7
    } else {
        return None;
    };
    let end = url[scheme_len..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_len + i);
    let authority = &url[scheme_len..end];
    (!authority.is_empty() && !authority.contains('@')).then_some(&url[..end])
}

/// Whether a request that changes state and is authenticated by the session cookie alone comes
/// from this server's pages or an allowed origin: its `Origin` is the server's own or an allowed
/// one, or (browsers that send no `Origin`) `Sec-Fetch-Site: same-origin`. No evidence is a no.
pub(crate) fn same_origin_request(
    headers: &HeaderMap,
    uri: &Uri,
    tls: bool,
    allowed: &[String],
) -> bool {
    match headers.get(ORIGIN).map(|v| v.to_str()) {
        Some(Ok(origin)) => {
            let own = request_origin(headers, uri, tls);
            own.as_deref() == Some(origin) || allowed.iter().any(|a| a == origin)
        }
        Some(Err(_)) => false,
        None => headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"same-origin"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn root() -> Uri {
        Uri::from_static("/")
    }

    #[test]
    fn http2_authority_without_host() {
        let uri = Uri::from_static("https://agents.example.com/api/agents");
        assert_eq!(
            request_origin(&HeaderMap::new(), &uri, true).as_deref(),
            Some("https://agents.example.com")
        );
        assert!(!is_loopback_host(&HeaderMap::new(), &uri));
        assert!(is_loopback_host(
            &HeaderMap::new(),
            &Uri::from_static("http://localhost:4111/")
        ));
    }

    #[test]
    fn redirect_targets() {
        let own = Some("http://127.0.0.1:4111");
        let allowed = vec!["https://app.example.com".to_owned()];
        for ok in [
            "/",
            "/ui/",
            "/ui/?tab=1#x",
            "http://127.0.0.1:4111/ui/",
            "https://app.example.com",
            "https://app.example.com/after",
        ] {
            assert!(redirect_allowed(ok, own, &allowed), "{ok}");
        }
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "https://app.example.com.evil.example/",
            "https://app.example.com@evil.example/",
            "http://127.0.0.1:4112/",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/ui/\r\nSet-Cookie: x=1",
        ] {
            assert!(!redirect_allowed(bad, own, &allowed), "{bad:?}");
        }
    }

    #[test]
    fn cross_site_check() {
        let host = ("host", "127.0.0.1:4111");
        assert!(same_origin_request(
            &headers(&[host, ("origin", "http://127.0.0.1:4111")]),
            &root(),
            false,
            &[]
        ));
        assert!(!same_origin_request(
            &headers(&[host, ("origin", "https://127.0.0.1:4111")]),
            &root(),
            false,
            &[]
        ));
        assert!(!same_origin_request(
            &headers(&[host, ("origin", "https://evil.example")]),
            &root(),
            false,
            &[]
        ));
        assert!(same_origin_request(
            &headers(&[host, ("origin", "https://app.example.com")]),
            &root(),
            false,
            &["https://app.example.com".into()]
        ));
        assert!(!same_origin_request(
            &headers(&[host, ("origin", "null")]),
            &root(),
            false,
            &[]
        ));
        assert!(same_origin_request(
            &headers(&[host, ("sec-fetch-site", "same-origin")]),
            &root(),
            false,
            &[]
        ));
        assert!(!same_origin_request(
            &headers(&[host, ("sec-fetch-site", "cross-site")]),
            &root(),
            false,
            &[]
        ));
        assert!(!same_origin_request(&headers(&[host]), &root(), false, &[]));
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost:4111",
            "127.0.0.1:1",
            "[::1]:4111",
            "localhost",
            "127.0.0.2",
        ] {
            assert!(is_loopback_host(&headers(&[("host", h)]), &root()), "{h}");
        }
        for h in [
            "example.com",
            "10.0.0.1:4111",
            "localhost.example.com",
            "[::2]:1",
        ] {
            assert!(!is_loopback_host(&headers(&[("host", h)]), &root()), "{h}");
        }
    }
}
