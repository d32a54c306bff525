//! Request-level attacks against the assembled app (`mastra_server::app::build`) over real HTTP
//! (results in SECURITY.md): duplicate credentials, oversize headers, path variants that might
//! slip past the auth decision (case, slashes, dot segments, percent-encoding, matrix parameters,
//! null bytes, unicode), CORS preflight exemption, HEAD, and custom-route precedence.
//!
//! Paths are sent on a raw TCP connection, byte for byte: an HTTP client library would normalize
//! `/api/./agents` or `/api/x/../agents` before sending, which is exactly what an attacker does
//! not do. The invariant checked for every variant: without a valid token, no protected handler
//! answers (no 2xx from a Mastra API route or a `requires_auth` custom route, and the protected
//! reverse proxy's upstream never sees the request); the server stays up throughout.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use mastra_server::app;
use mastra_server::config::Config;
use serde_json::{Value, json};

use crate::support::raw_http::{Raw, send};
use crate::support::{self, serve_with_connect_info};

const SECRET: &str = "attack-secret-0123456789abcdef0123456789abcdef";

fn token(claims: Value) -> String {
    support::hs256_token(SECRET.as_bytes(), &claims)
}

fn good() -> String {
    token(json!({"sub": "u1"}))
}

fn forged() -> String {
    support::hs256_token(
        b"not-the-secret-not-the-secret-not-the-secret",
        &json!({"sub": "u1"}),
    )
}

/// An upstream for the protected proxy route that counts every request reaching it.
async fn upstream() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().fallback(move || {
        let h = h.clone();
        async move {
            h.fetch_add(1, Ordering::SeqCst);
            axum::Json(json!({"upstream": true}))
        }
    });
    let addr = support::serve(app).await;
    (format!("http://{addr}"), hits)
}

struct App {
    addr: std::net::SocketAddr,
    upstream_hits: Arc<AtomicUsize>,
}

async fn start_with(extra: &str) -> App {
    let (up, upstream_hits) = upstream().await;
    let toml = format!(
        r#"
[server]
request_logs = false
openapi = true
[auth]
provider = "jwt"
[auth.jwt]
secret = "{SECRET}"

[[api_routes]]
method = "GET"
path = "/custom/{{id}}"
json = {{ custom = "protected" }}

[[api_routes]]
method = "GET"
path = "/open/{{id}}"
requires_auth = false
json = {{ open = true }}

[[api_routes]]
method = "ALL"
path = "/proxy/{{*rest}}"
proxy = "{up}"
{extra}
"#
    );
    let cfg = Config::from_toml_str(&toml, "attacks.toml").unwrap();
    let router = app::build(&cfg).unwrap();
    let addr = serve_with_connect_info(router).await;
    App {
        addr,
        upstream_hits,
    }
}

async fn start() -> App {
    start_with("").await
}

/// One request with `target` as the request-target, verbatim.
async fn raw(addr: std::net::SocketAddr, method: &str, target: &[u8], headers: &[&str]) -> Raw {
    let mut req = Vec::new();
    req.extend_from_slice(method.as_bytes());
    req.push(b' ');
    req.extend_from_slice(target);
    req.extend_from_slice(b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for h in headers {
        req.extend_from_slice(h.as_bytes());
        req.extend_from_slice(b"\r\n");
    }
    if method == "POST" {
        let body = br#"{"messages":"hi","data":{}}"#;
        req.extend_from_slice(
            format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        req.extend_from_slice(body);
    } else {
        req.extend_from_slice(b"\r\n");
    }
    send(addr, &req).await
}

async fn health(addr: std::net::SocketAddr) {
    let r = raw(addr, "GET", b"/health", &[]).await;
    assert_eq!(r.status, 200, "the server must stay up: {r:?}");
}

/// Whether an answer came from a protected handler (anything but the auth layer, the 404
/// fallbacks and hyper's own refusals). `{"open":true}` (13 bytes; HEAD shows only the length)
/// is the open custom route's answer.
fn reached_protected_handler(r: &Raw) -> bool {
    // The one open custom route (`/open/{id}`) answers `{"open":true}`; any other 2xx is a
    // protected handler.
    let open = r.body.contains("\"open\"")
        || (r.body.is_empty() && r.header("content-length") == Some("13"));
    ((200..300).contains(&r.status) && !open)
        || r.body.contains("\"custom\"")
        || r.body.contains("\"upstream\"")
        || r.body.contains("weatherAgent")
        || r.body.contains("\"openapi\"")
}

/// Request-targets that all point (after some normalization or other) at protected resources.
fn variants() -> Vec<Vec<u8>> {
    let text = [
        // the Mastra API
        "/api/agents",
        "/API/agents",
        "/Api/Agents",
        "/api/AGENTS",
        "//api/agents",
        "/api//agents",
        "///api///agents",
        "/api/agents/",
        "/api/agents//",
        "/api/./agents",
        "/./api/agents",
        "/api/agents/.",
        "/api/x/../agents",
        "/x/../api/agents",
        "/health/../api/agents",
        "/api/../api/agents",
        "/api/agents/weatherAgent/..",
        "/api/%61gents",
        "/%61pi/agents",
        "/%2Fapi/agents",
        "/api%2Fagents",
        "/api%2fagents",
        "/api/agents%2F",
        "/api/%2e/agents",
        "/api/%2E%2E/api/agents",
        "/health/%2e%2e/api/agents",
        "/api/agents;x=1",
        "/api;x=1/agents",
        "/api/agents/;",
        "/api/agents%00",
        "/api/agents%00.json",
        "/api/agents%20",
        "/api/agents%09",
        "/api/agents\\",
        "/api\\agents",
        "/api/agents?apiKey=",
        "/api/agents?apiKey",
        "/api/agents/weatherAgent",
        "/api/agents/weatherAgent/",
        "/api/agents/weatherAgent/../weatherAgent",
        "/api/agents/%77eatherAgent",
        "/api/%C3%A4gents",
        "/api/tools",
        "/api/tools/",
        "/api/openapi.json",
        "/api/openapi.json/",
        "/API/openapi.json",
        "http://localhost/api/agents",
        "http://localhost//api/agents",
        "//localhost/api/agents",
        // the protected custom route
        "/custom/1",
        "/CUSTOM/1",
        "/custom/1/",
        "//custom/1",
        "/custom//1",
        "/custom/%31",
        "/custom/1;x=1",
        "/open/../custom/1",
        "/open/1/../../custom/1",
        "/open/%2e%2e/custom/1",
        "/open/1%2F..%2F..%2Fcustom%2F1",
        // the protected reverse proxy
        "/proxy/a",
        "/proxy/",
        "/PROXY/a",
        "//proxy/a",
        "/proxy//a",
        "/open/../proxy/a",
        "/proxy/a;x=1",
        "/proxy/%2e%2e/a",
        "http://localhost/proxy/a",
    ];
    let mut out: Vec<Vec<u8>> = text.iter().map(|t| t.as_bytes().to_vec()).collect();
    // Bytes no client library would send.
    out.push(b"/api/agents\0".to_vec());
    out.push(b"/api/\0agents".to_vec());
    out.push("/api/ägents".as_bytes().to_vec());
    out.push("/api/agents/\u{2025}".as_bytes().to_vec());
    out.push("/\u{FF0F}api/agents".as_bytes().to_vec());
    out.push(b"/api/agents\xff".to_vec());
    out.push(b"/proxy/\xc0\xae\xc0\xae/a".to_vec());
    out
}

#[tokio::test]
async fn path_variants_never_reach_a_protected_handler_without_a_token() {
    let app = start().await;
    let good = good();
    let bad = forged();
    let mut report = Vec::new();
    for target in variants() {
        let shown = String::from_utf8_lossy(&target).into_owned();
        for method in ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"] {
            let hits_before = app.upstream_hits.load(Ordering::SeqCst);
            let creds: [(&str, Vec<String>); 4] = [
                ("none", vec![]),
                ("forged", vec![format!("Authorization: Bearer {bad}")]),
                ("basic", vec!["Authorization: Basic dTpw".to_string()]),
                ("empty bearer", vec!["Authorization: Bearer ".to_string()]),
            ];
            let mut without = 0;
            for (what, headers) in &creds {
                let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
                let r = raw(app.addr, method, &target, &headers).await;
                if *what == "none" {
                    without = r.status;
                }
                assert!(
                    !reached_protected_handler(&r),
                    "{method} {shown:?} with {what} credentials reached a protected handler: {r:?}"
                );
                assert!(
                    r.status != 0 && r.status < 500 || r.status == 502,
                    "{method} {shown:?} ({what}): no answer or a server error: {r:?}"
                );
            }
            assert_eq!(
                app.upstream_hits.load(Ordering::SeqCst),
                hits_before,
                "{method} {shown:?}: the protected proxy's upstream was reached without a valid token"
            );
            // With a valid token, for the record (which variants the router resolves).
            let auth = format!("Authorization: Bearer {good}");
            let with = raw(app.addr, method, &target, &[auth.as_str()]).await;
            report.push(format!(
                "{method} {shown:?}: no token {without}, valid token {}",
                with.status
            ));
        }
    }
    health(app.addr).await;
    // Sanity: the canonical paths do reach their handlers with a token (the test is not vacuous).
    let auth = format!("Authorization: Bearer {good}");
    for (method, target) in [
        ("GET", "/api/agents"),
        ("GET", "/api/agents/weatherAgent"),
        ("POST", "/api/agents/weatherAgent/generate"),
        ("GET", "/custom/1"),
        ("GET", "/proxy/a"),
        ("HEAD", "/api/agents"),
    ] {
        let r = raw(app.addr, method, target.as_bytes(), &[auth.as_str()]).await;
        assert_eq!(r.status, 200, "{method} {target}: {r:?}");
    }
    assert!(app.upstream_hits.load(Ordering::SeqCst) >= 1);
    eprintln!("{}", report.join("\n"));
}

#[tokio::test]
async fn unknown_api_paths_and_their_variants_are_401_without_a_token() {
    let app = start().await;
    for target in [
        "/api/nope",
        "/API/nope",
        "/api/nope/",
        "/api/%6eope",
        "/api/nope;x=1",
    ] {
        let r = raw(app.addr, "GET", target.as_bytes(), &[]).await;
        assert_eq!(r.status, 401, "{target}: {r:?}");
        assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{target}");
    }
    // Ambiguous spellings are refused before anything routes them, token or not.
    for target in ["/api//nope", "/api/./nope"] {
        let r = raw(app.addr, "GET", target.as_bytes(), &[]).await;
        assert_eq!(r.status, 400, "{target}: {r:?}");
    }
}

#[tokio::test]
async fn public_routes_stay_public_and_open_custom_route_is_open() {
    let app = start().await;
    for target in ["/health", "/api", "/open/1"] {
        let r = raw(app.addr, "GET", target.as_bytes(), &[]).await;
        assert_eq!(r.status, 200, "{target}: {r:?}");
    }
    // A public route is not a way to smuggle a protected path through a query string.
    let r = raw(app.addr, "GET", b"/open/1?next=/api/agents", &[]).await;
    assert_eq!(r.status, 200);
    assert!(r.body.contains("\"open\""), "{r:?}");
}

#[tokio::test]
async fn two_authorization_headers_are_400() {
    let app = start().await;
    let g = good();
    let b = forged();
    let cases: [(&str, Vec<String>); 4] = [
        (
            "same valid token twice",
            vec![format!("Bearer {g}"), format!("Bearer {g}")],
        ),
        (
            "valid then forged",
            vec![format!("Bearer {g}"), format!("Bearer {b}")],
        ),
        (
            "forged then valid",
            vec![format!("Bearer {b}"), format!("Bearer {g}")],
        ),
        (
            "valid and empty",
            vec![format!("Bearer {g}"), String::new()],
        ),
    ];
    for (what, values) in cases {
        let headers: Vec<String> = values
            .iter()
            .map(|v| format!("Authorization: {v}"))
            .collect();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let r = raw(app.addr, "GET", b"/api/agents", &headers).await;
        assert_eq!(r.status, 400, "{what}: {r:?}");
        assert!(!r.body.contains(&g[g.len() - 16..]), "token echoed: {r:?}");
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert!(v["error"].is_string(), "{r:?}");
    }
    // Header-name case does not make a second header invisible.
    let a = format!("Authorization: Bearer {g}");
    let b2 = format!("authorization: Bearer {b}");
    let r = raw(app.addr, "GET", b"/api/agents", &[a.as_str(), b2.as_str()]).await;
    assert_eq!(r.status, 400, "{r:?}");
    // One header: fine.
    let r = raw(app.addr, "GET", b"/api/agents", &[a.as_str()]).await;
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test]
async fn header_and_query_tokens_that_differ_are_400() {
    let app = start().await;
    let g = good();
    let b = forged();
    let ah = format!("Authorization: Bearer {g}");
    let bh = format!("Authorization: Bearer {b}");
    for (header, query, expected) in [
        (ah.as_str(), format!("/api/agents?apiKey={b}"), 400),
        (bh.as_str(), format!("/api/agents?apiKey={g}"), 400),
        (ah.as_str(), format!("/api/agents?apiKey={g}"), 200),
        (
            ah.as_str(),
            format!("/api/agents?apiKey={g}&apiKey={b}"),
            400,
        ),
        // Percent-encoded to the same value: not a conflict.
        (
            ah.as_str(),
            format!("/api/agents?apiKey={}", g.replace('.', "%2E")),
            200,
        ),
    ] {
        let r = raw(app.addr, "GET", query.as_bytes(), &[header]).await;
        assert_eq!(r.status, expected, "{query}: {r:?}");
    }
    // Query only, two different values: 400; a forged one: 401; the valid one: 200.
    for (query, expected) in [
        (format!("/api/agents?apiKey={g}&apiKey={b}"), 400),
        (format!("/api/agents?apiKey={b}"), 401),
        (format!("/api/agents?apiKey={g}"), 200),
    ] {
        let r = raw(app.addr, "GET", query.as_bytes(), &[]).await;
        assert_eq!(r.status, expected, "{query}: {r:?}");
    }
}

#[tokio::test]
async fn oversize_headers_are_refused_without_crashing() {
    let app = start().await;
    // An Authorization header over 16 KiB: a token that large is refused (401), not parsed.
    let huge = format!("Authorization: Bearer {}", "A".repeat(17 * 1024));
    let r = raw(app.addr, "GET", b"/api/agents", &[huge.as_str()]).await;
    assert!(matches!(r.status, 401 | 431), "{}", r.status);
    // A JWT-shaped one with a valid signature prefix and 20 KiB of payload.
    let g = good();
    let mut parts = g.split('.');
    let (h, _p, s) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let big = format!("Authorization: Bearer {h}.{}.{s}", "e".repeat(20 * 1024));
    let r = raw(app.addr, "GET", b"/api/agents", &[big.as_str()]).await;
    assert!(matches!(r.status, 401 | 431), "{}", r.status);
    // The same through the query string.
    let q = format!("/api/agents?apiKey={}", "A".repeat(17 * 1024));
    let r = raw(app.addr, "GET", q.as_bytes(), &[]).await;
    assert!(matches!(r.status, 401 | 414 | 431), "{}", r.status);
    // Huge unrelated headers, many headers, one enormous header line: hyper refuses (431) or
    // the request is answered normally; never a crash, never a hang.
    let junk = format!("X-Junk: {}", "j".repeat(64 * 1024));
    let r = raw(app.addr, "GET", b"/api/agents", &[junk.as_str()]).await;
    assert!(matches!(r.status, 401 | 431), "{}", r.status);
    let enormous = format!("X-Junk: {}", "j".repeat(2 * 1024 * 1024));
    let r = raw(app.addr, "GET", b"/api/agents", &[enormous.as_str()]).await;
    assert!(matches!(r.status, 431 | 0 | 400), "{}", r.status);
    let many: Vec<String> = (0..500).map(|i| format!("X-H{i}: v")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = raw(app.addr, "GET", b"/api/agents", &many).await;
    assert!(matches!(r.status, 431 | 0 | 400), "{}", r.status);
    // A cookie header of 1 MiB.
    let cookie = format!("Cookie: session={}", "c".repeat(1024 * 1024));
    let r = raw(app.addr, "GET", b"/api/agents", &[cookie.as_str()]).await;
    assert!(matches!(r.status, 401 | 431 | 0 | 400), "{}", r.status);
    // A request line of 1 MiB.
    let long = format!("/api/{}", "a".repeat(1024 * 1024));
    let r = raw(app.addr, "GET", long.as_bytes(), &[]).await;
    assert!(
        matches!(r.status, 401 | 414 | 431 | 0 | 400),
        "{}",
        r.status
    );
    health(app.addr).await;
}

#[tokio::test]
async fn malformed_authorization_values_are_no_token_or_invalid_never_allowed() {
    let app = start().await;
    let g = good();
    for v in [
        format!("Bearer  {g}"),
        format!("Bearer {g} "),
        format!("bearer {g}"),
        format!("BEARER {g}"),
        g.clone(),
    ] {
        let h = format!("Authorization: {v}");
        let r = raw(app.addr, "GET", b"/api/agents", &[h.as_str()]).await;
        assert_eq!(r.status, 200, "{v:?} is an accepted spelling: {r:?}");
    }
    for v in [
        format!("Bearer {g} extra"),
        format!("Bearer {g},Bearer {g}"),
        format!("Bearer\t{g}"),
        format!("Basic {g}"),
        format!("Bearer {g}\u{0}"),
        format!("Token {g}"),
        format!("Bearer {g}x"),
        format!("Bearer x{g}"),
        format!("Bearer {}", g.to_uppercase()),
        "Bearer".to_string(),
        "Bearer null".to_string(),
        "Bearer undefined".to_string(),
    ] {
        let h = format!("Authorization: {v}");
        let r = raw(app.addr, "GET", b"/api/agents", &[h.as_str()]).await;
        assert!(
            matches!(r.status, 400 | 401),
            "{v:?} must not authenticate: {r:?}"
        );
    }
    // Non-UTF-8 bytes in the header value.
    let mut req = b"GET /api/agents HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer \xff\xfe\r\n\r\n".to_vec();
    let r = send(app.addr, &req).await;
    assert!(matches!(r.status, 400 | 401), "{r:?}");
    // obs-fold (a header continued on the next line) is refused by the parser.
    req = format!(
        "GET /api/agents HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer\r\n {g}\r\n\r\n"
    )
    .into_bytes();
    let r = send(app.addr, &req).await;
    assert!(matches!(r.status, 400 | 401), "{r:?}");
    health(app.addr).await;
}

#[tokio::test]
async fn cors_preflight_exemption_only_for_real_preflights() {
    let app = start().await;
    let bad = format!("Authorization: Bearer {}", forged());
    let origin = "Origin: https://app.example";
    let acrm = "Access-Control-Request-Method: POST";
    let acrh = "Access-Control-Request-Headers: authorization, content-type";
    for target in [
        "/api/agents",
        "/api/agents/weatherAgent/generate",
        "/api/no/such/route",
        "/custom/1",
        "/proxy/a",
        "/nowhere",
    ] {
        // A real preflight: answered by CORS with 204 before auth, on known and unknown routes,
        // with or without a (bad) token; no handler, no upstream.
        for headers in [
            vec![origin, acrm],
            vec![origin, acrm, acrh],
            vec![origin, acrm, bad.as_str()],
        ] {
            let r = raw(app.addr, "OPTIONS", target.as_bytes(), &headers).await;
            assert_eq!(r.status, 204, "{target} {headers:?}: {r:?}");
            assert!(r.body.is_empty(), "{r:?}");
            assert!(r.header("access-control-allow-methods").is_some(), "{r:?}");
        }
        // Not preflights: OPTIONS without Origin or without ACRM, or another method carrying
        // both headers, goes through auth like any request.
        for (method, headers) in [
            ("OPTIONS", vec![]),
            ("OPTIONS", vec![origin]),
            ("OPTIONS", vec![acrm]),
            ("OPTIONS", vec![origin, "Access-Control-Request-Headers: x"]),
            ("GET", vec![origin, acrm]),
            ("POST", vec![origin, acrm]),
            ("HEAD", vec![origin, acrm]),
        ] {
            let r = raw(app.addr, method, target.as_bytes(), &headers).await;
            assert!(!reached_protected_handler(&r), "{method} {target}: {r:?}");
            match target {
                "/nowhere" => assert_eq!(r.status, 404, "{method} {target} {headers:?}: {r:?}"),
                // A method the GET-only custom route does not serve: the router's 405.
                "/custom/1" if matches!(method, "OPTIONS" | "POST") => {
                    assert_eq!(r.status, 405, "{method} {target} {headers:?}: {r:?}")
                }
                _ => assert_eq!(r.status, 401, "{method} {target} {headers:?}: {r:?}"),
            }
        }
    }
    assert_eq!(app.upstream_hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn with_cors_disabled_a_preflight_is_not_an_auth_bypass() {
    // No CORS layer answers preflights: a request shaped like one must be authenticated like
    // any other, or an `ALL` route (here, the reverse proxy) would run for it unauthenticated.
    let app = start_with("[server.cors]\nenabled = false\n").await;
    let bad = format!("Authorization: Bearer {}", forged());
    for target in ["/proxy/a", "/api/agents", "/api/no/such/route"] {
        for headers in [
            vec![
                "Origin: https://app.example",
                "Access-Control-Request-Method: POST",
            ],
            vec![
                "Origin: https://app.example",
                "Access-Control-Request-Method: POST",
                bad.as_str(),
            ],
        ] {
            let r = raw(app.addr, "OPTIONS", target.as_bytes(), &headers).await;
            assert!(
                !reached_protected_handler(&r),
                "OPTIONS {target} {headers:?}: {r:?}"
            );
            assert_eq!(r.status, 401, "OPTIONS {target} {headers:?}: {r:?}");
        }
    }
    assert_eq!(
        app.upstream_hits.load(Ordering::SeqCst),
        0,
        "an unauthenticated OPTIONS reached the proxy's upstream"
    );
}

#[tokio::test]
async fn head_on_protected_routes_needs_a_token() {
    let app = start().await;
    for target in [
        "/api/agents",
        "/api/agents/weatherAgent",
        "/api/tools",
        "/api/openapi.json",
        "/custom/1",
        "/proxy/a",
    ] {
        let r = raw(app.addr, "HEAD", target.as_bytes(), &[]).await;
        assert_eq!(r.status, 401, "HEAD {target}: {r:?}");
        let auth = format!("Authorization: Bearer {}", good());
        let r = raw(app.addr, "HEAD", target.as_bytes(), &[auth.as_str()]).await;
        assert_eq!(r.status, 200, "HEAD {target} with a token: {r:?}");
        assert!(r.body.is_empty(), "HEAD has no body: {r:?}");
    }
}

#[tokio::test]
async fn a_specific_method_route_beats_an_earlier_all_route_for_requires_auth() {
    // The router sends POST to the POST route whatever the order in the file; the auth decision
    // must use that route's flag, not the first route on the template.
    let (up, hits) = upstream().await;
    let toml = format!(
        r#"
[server]
request_logs = false
[auth]
provider = "jwt"
[auth.jwt]
secret = "{SECRET}"
[[api_routes]]
method = "ALL"
path = "/things/{{id}}"
requires_auth = false
json = {{ open = true }}
[[api_routes]]
method = "POST"
path = "/things/{{id}}"
proxy = "{up}"
[[api_routes]]
method = "ALL"
path = "/docs/{{id}}"
requires_auth = false
json = {{ open = true }}
[[api_routes]]
method = "GET"
path = "/docs/{{id}}"
json = {{ custom = "protected" }}
"#
    );
    let cfg = Config::from_toml_str(&toml, "order.toml").unwrap();
    let router = app::build(&cfg).unwrap();
    let addr = serve_with_connect_info(router).await;
    let r = raw(addr, "GET", b"/things/1", &[]).await;
    assert_eq!(r.status, 200, "ALL route is open: {r:?}");
    let r = raw(addr, "POST", b"/things/1", &[]).await;
    assert_eq!(r.status, 401, "POST route requires auth: {r:?}");
    assert_eq!(hits.load(Ordering::SeqCst), 0, "upstream reached");
    let r = raw(addr, "GET", b"/docs/1", &[]).await;
    assert_eq!(r.status, 401, "GET route requires auth: {r:?}");
    let r = raw(addr, "HEAD", b"/docs/1", &[]).await;
    assert_eq!(r.status, 401, "HEAD is served by the GET route: {r:?}");
    let r = raw(addr, "DELETE", b"/docs/1", &[]).await;
    assert_eq!(r.status, 200, "other methods: the open ALL route: {r:?}");
}

#[tokio::test]
async fn pipelined_and_keep_alive_requests_do_not_share_authentication() {
    // A valid request followed on the same connection by one without a token: the second is
    // judged on its own.
    let app = start().await;
    let g = good();
    let req = format!(
        "GET /api/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {g}\r\n\r\n\
         GET /api/agents HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let r = send(app.addr, req.as_bytes()).await;
    let whole = format!("{}\r\n\r\n{}", r.head, r.body);
    let statuses: Vec<&str> = whole
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| &whole[i + 9..i + 12])
        .collect();
    assert_eq!(statuses, ["200", "401"], "{whole}");
}

#[tokio::test]
async fn request_smuggling_shapes_are_refused() {
    let app = start().await;
    // Content-Length and Transfer-Encoding together; a second request hidden in the body.
    let smuggled = "GET /api/agents HTTP/1.1\r\nHost: x\r\n\r\n";
    let req = format!(
        "POST /open/1 HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n{smuggled}",
        5 + smuggled.len()
    );
    let r = send(app.addr, req.as_bytes()).await;
    let whole = format!("{}\r\n\r\n{}", r.head, r.body);
    assert!(
        !whole.contains("weatherAgent"),
        "a smuggled request reached a protected handler: {whole}"
    );
    // Two Content-Length headers that disagree.
    let req = "POST /api/agents/weatherAgent/generate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{}";
    let r = send(app.addr, req.as_bytes()).await;
    assert!(matches!(r.status, 400 | 401), "{r:?}");
    health(app.addr).await;
}
