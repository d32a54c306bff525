//! One normalized view of the request: the router, the auth layer, patterns, rules, CEL and proxy
//! routes all decide on the same path and method. Every case goes through the assembled app
//! (`mastra_server::app::build`) over real HTTP, written byte for byte on a TCP socket (a client
//! library would normalize the very spellings under test).
//!
//! Encoding variant classes: single, double and mixed percent-encoding, hex case, overlong and
//! invalid UTF-8, `%2F` and `%5C` in segments, raw backslashes, `;` parameters, `.`/`..` segments
//! raw and encoded, empty segments, case variants of ids, methods, and `Host`.

use std::sync::{Arc, Mutex};

use mastra_server::app;
use mastra_server::config::Config;
use serde_json::{Value, json};

use crate::support::raw_http::{Raw, send};
use crate::support::{self, serve_with_connect_info};

const SECRET: &str = "normalize-secret-0123456789abcdef0123456789abcdef";

fn token(role: &str) -> String {
    support::hs256_token(
        SECRET.as_bytes(),
        &json!({"sub": format!("{role}-1"), "role": role}),
    )
}

/// What the recording upstream saw: (method, path, query, headers).
type Seen = Arc<Mutex<Vec<(String, String, Option<String>, Vec<(String, String)>)>>>;

/// An upstream that records every request (method, raw path, query, headers) and answers 200.
async fn recording_upstream() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let app = axum::Router::new().fallback(move |req: axum::extract::Request| {
        let s = s.clone();
        async move {
            let headers = req
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                .collect();
            s.lock().unwrap().push((
                req.method().to_string(),
                req.uri().path().to_string(),
                req.uri().query().map(str::to_string),
                headers,
            ));
            axum::Json(json!({"upstream": req.uri().path()}))
        }
    });
    let addr = support::serve(app).await;
    (format!("http://{addr}"), seen)
}

struct App {
    addr: std::net::SocketAddr,
    seen: Seen,
}

async fn start() -> App {
    let (up, seen) = recording_upstream().await;
    let toml = format!(
        r#"
[server]
request_logs = false
[auth]
provider = "jwt"
public = ["/api/agents/demo/*"]
[auth.jwt]
secret = "{SECRET}"

# Only admins may use secretAgent; vaultAgent is guarded by a CEL path condition; the rest is open
# to any user.
[[auth.rules]]
path = ["/api/agents/secretAgent", "/api/agents/secretAgent/*"]
condition = "claims.role == 'admin'"
allow = true
[[auth.rules]]
path = ["/api/agents/secretAgent", "/api/agents/secretAgent/*"]
allow = false
[[auth.rules]]
condition = "path.contains('/vaultAgent') && claims.role != 'admin'"
allow = false
[[auth.rules]]
methods = ["POST"]
condition = "method != 'POST'"
allow = false
[[auth.rules]]
allow = true

[[agents]]
id = "secretAgent"
name = "Secret"
instructions = "secret"
model = "builtin/echo"
tools = ["weatherTool"]
[[agents]]
id = "vaultAgent"
name = "Vault"
instructions = "vault"
model = "builtin/echo"
tools = ["weatherTool"]
[[agents]]
id = "demo"
name = "Demo"
instructions = "demo"
model = "builtin/echo"
[[agents]]
id = "DEMO"
name = "Upper demo"
instructions = "not public"
model = "builtin/echo"

[[api_routes]]
method = "ALL"
path = "/pub/{{*rest}}"
requires_auth = false
proxy = "{up}/pubbase"

[[api_routes]]
method = "ALL"
path = "/priv/{{*rest}}"
proxy = "{up}/privbase"
"#
    );
    let cfg = Config::from_toml_str(&toml, "normalize.toml").unwrap();
    let router = app::build(&cfg).unwrap();
    let addr = serve_with_connect_info(router).await;
    App { addr, seen }
}

/// `method target HTTP/1.1` with `Host: localhost`, an optional bearer token and, for POST, a
/// JSON body any route here accepts.
async fn req(addr: std::net::SocketAddr, method: &str, target: &str, bearer: Option<&str>) -> Raw {
    let mut r = format!("{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(t) = bearer {
        r.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if method.eq_ignore_ascii_case("POST") {
        let body = r#"{"messages":"hi","data":{"location":"Paris"}}"#;
        r.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ));
    } else {
        r.push_str("\r\n");
    }
    send(addr, r.as_bytes()).await
}

/// Spellings of `secretAgent` that decode to it exactly once.
const SECRET_SPELLINGS: [&str; 7] = [
    "secretAgent",
    "%73ecretAgent",
    "secret%41gent",
    "secret%41%67ent",
    "%73%65%63%72%65%74%41%67%65%6E%74",
    "%73%65%63%72%65%74%41%67%65%6e%74",
    "%73ecret%41gen%74",
];

/// Every route of the agents API that names an agent, as (method, path after the id).
const AGENT_ROUTES: [(&str, &str); 5] = [
    ("GET", ""),
    ("POST", "/generate"),
    ("POST", "/stream"),
    ("GET", "/tools/weatherTool"),
    ("POST", "/tools/weatherTool/execute"),
];

#[tokio::test]
async fn percent_encoded_agent_ids_meet_the_same_rules() {
    let app = start().await;
    let (user, admin) = (token("user"), token("admin"));
    for spelling in SECRET_SPELLINGS {
        for (method, tail) in AGENT_ROUTES {
            let target = format!("/api/agents/{spelling}{tail}");
            let r = req(app.addr, method, &target, Some(&user)).await;
            assert_eq!(r.status, 403, "user {method} {target}: {r:?}");
            let r = req(app.addr, method, &target, Some(&admin)).await;
            assert_eq!(r.status, 200, "admin {method} {target}: {r:?}");
        }
    }
}

#[tokio::test]
async fn cel_path_sees_the_decoded_path() {
    let app = start().await;
    let (user, admin) = (token("user"), token("admin"));
    for id in [
        "vaultAgent",
        "%76aultAgent",
        "vault%41gent",
        "%76%61%75%6c%74Agent",
    ] {
        for (method, tail) in AGENT_ROUTES {
            let target = format!("/api/agents/{id}{tail}");
            let r = req(app.addr, method, &target, Some(&user)).await;
            assert_eq!(r.status, 403, "user {method} {target}: {r:?}");
            let r = req(app.addr, method, &target, Some(&admin)).await;
            assert_eq!(r.status, 200, "admin {method} {target}: {r:?}");
        }
    }
}

#[tokio::test]
async fn unresolvable_spellings_are_400_whoever_asks() {
    let app = start().await;
    let (user, admin) = (token("user"), token("admin"));
    let refused = [
        // double and mixed double encoding
        "/api/agents/%2573ecretAgent",
        "/api/agents/secret%2541gent",
        "/api/agents/%252573ecretAgent",
        // overlong and invalid UTF-8
        "/api/agents/secret%C0%C1gent",
        "/api/agents/%C0%AEsecretAgent",
        "/api/agents/secretAgent%FF",
        "/api/agents/secretAgent%E2%82",
        // malformed escapes
        "/api/agents/secret%4gent",
        "/api/agents/secretAgent%",
        "/api/agents/secret%zzAgent",
        // `%2F`, `%5C` and raw backslashes
        "/api/agents/x%2F..%2FsecretAgent",
        "/api/agents%2FsecretAgent",
        "/api/agents/secretAgent%2Fgenerate",
        "/api/agents/secretAgent%5Cgenerate",
        "/api/agents/secretAgent\\generate",
        "/api\\agents\\secretAgent",
        // dot segments, raw and encoded
        "/api/agents/x/../secretAgent",
        "/api/agents/./secretAgent",
        "/api/agents/%2e/secretAgent",
        "/api/agents/x/%2E%2E/secretAgent",
        "/api/agents/x/.%2e/secretAgent",
        "/api/agents/x/%2e./secretAgent",
        "/api/agents/secretAgent/generate/..",
        "/api/agents/x/..;/secretAgent",
        "/api/agents/x/%2e%2e;x=1/secretAgent",
        // empty segments
        "/api/agents//secretAgent",
        "//api/agents/secretAgent",
        // control characters
        "/api/agents/secretAgent%00",
        "/api/agents/secret%0AAgent",
    ];
    for target in refused {
        for (method, bearer) in [("GET", None), ("GET", Some(&user)), ("POST", Some(&admin))] {
            let r = req(app.addr, method, target, bearer.map(String::as_str)).await;
            assert_eq!(r.status, 400, "{method} {target}: {r:?}");
            let body: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
            assert!(
                body["error"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("Invalid request path")),
                "{target}: {r:?}"
            );
        }
    }
}

#[tokio::test]
async fn semicolons_and_case_variants_are_other_resources() {
    let app = start().await;
    let user = token("user");
    // `;` is data: the router looks up an agent named `secretAgent;x=1`, which does not exist,
    // and the rules did not treat it as secretAgent: 404, never 200.
    for target in [
        "/api/agents/secretAgent;x=1",
        "/api/agents/secretAgent;",
        "/api/agents/secretAgent%3Bx=1",
    ] {
        let r = req(app.addr, "GET", target, Some(&user)).await;
        assert_eq!(r.status, 404, "{target}: {r:?}");
    }
    // Ids are case-sensitive: `SECRETAGENT` is no agent. The deny rule on secretAgent matches
    // broadly (any case: a protection may be wider than the route), so it answers first.
    let r = req(app.addr, "GET", "/api/agents/SECRETAGENT", Some(&user)).await;
    assert_eq!(r.status, 403, "{r:?}");
    let r = req(app.addr, "GET", "/api/agents/SECRETAGENT", None).await;
    assert_eq!(r.status, 401, "{r:?}");
    let r = req(app.addr, "GET", "/api/agents/weatherAgenT", Some(&user)).await;
    assert_eq!(r.status, 404, "{r:?}");
}

#[tokio::test]
async fn public_exemptions_match_case_sensitively_as_the_router() {
    let app = start().await;
    // `public = ["/api/agents/demo/*"]`: the agent `demo` is open, `DEMO` is not.
    for target in ["/api/agents/demo/generate", "/api/agents/%64emo/generate"] {
        let r = req(app.addr, "POST", target, None).await;
        assert_eq!(r.status, 200, "{target}: {r:?}");
    }
    for target in [
        "/api/agents/DEMO/generate",
        "/api/agents/Demo/generate",
        "/api/agents/%44EMO/generate",
        "/API/agents/demo/generate",
    ] {
        let r = req(app.addr, "POST", target, None).await;
        assert_eq!(r.status, 401, "{target}: {r:?}");
    }
    let r = req(
        app.addr,
        "POST",
        "/api/agents/DEMO/generate",
        Some(&token("u")),
    )
    .await;
    assert_eq!(r.status, 200, "with a token DEMO runs: {r:?}");
    assert!(r.body.contains("\"text\""), "{r:?}");
}

#[tokio::test]
async fn methods_are_case_sensitive() {
    let app = start().await;
    let user = token("user");
    for method in ["get", "gEt", "Get", "post", "pOST", "options", "delete"] {
        for target in [
            "/api/agents",
            "/api/agents/secretAgent",
            "/health",
            "/pub/a",
            "/priv/a",
        ] {
            let before = app.seen.lock().unwrap().len();
            let r = req(app.addr, method, target, Some(&user)).await;
            assert_eq!(r.status, 400, "{method} {target}: {r:?}");
            assert!(r.body.contains("case-sensitive"), "{r:?}");
            assert_eq!(
                app.seen.lock().unwrap().len(),
                before,
                "{method} {target} reached the upstream"
            );
        }
    }
    // The rule `methods = ["POST"]` with `method != 'POST'` never matches a real POST: CEL sees
    // the method as sent, and a real POST goes through.
    let r = req(app.addr, "POST", "/api/agents/demo/generate", Some(&user)).await;
    assert_eq!(r.status, 200, "{r:?}");
}

#[tokio::test]
async fn host_must_be_present_once_and_valid() {
    let app = start().await;
    let head = |host_lines: &str, version: &str| {
        format!("GET /health {version}\r\n{host_lines}Connection: close\r\n\r\n").into_bytes()
    };
    let r = send(app.addr, head("", "HTTP/1.1")).await;
    assert_eq!(r.status, 400, "no Host: {r:?}");
    let r = send(app.addr, head("Host: a\r\nHost: a\r\n", "HTTP/1.1")).await;
    assert_eq!(r.status, 400, "two Host lines: {r:?}");
    let r = send(app.addr, head("Host: a\r\nHost: b\r\n", "HTTP/1.1")).await;
    assert_eq!(r.status, 400, "two Host values: {r:?}");
    for bad in ["u@h", "h:x", "h:99999", "h/x", "h:+1", "[::1"] {
        let r = send(app.addr, head(&format!("Host: {bad}\r\n"), "HTTP/1.1")).await;
        assert_eq!(r.status, 400, "Host {bad:?}: {r:?}");
    }
    for good in ["localhost", "localhost:4111", "127.0.0.1:1", "[::1]:4111"] {
        let r = send(app.addr, head(&format!("Host: {good}\r\n"), "HTTP/1.1")).await;
        assert_eq!(r.status, 200, "Host {good:?}: {r:?}");
    }
    let r = send(app.addr, head("", "HTTP/1.0")).await;
    assert_eq!(r.status, 200, "HTTP/1.0 may omit Host: {r:?}");
    // The proxy never builds X-Forwarded-Host from a refused Host.
    let before = app.seen.lock().unwrap().len();
    let r = send(
        app.addr,
        b"GET /pub/a HTTP/1.1\r\nHost: a\r\nHost: evil\r\nConnection: close\r\n\r\n".to_vec(),
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
    assert_eq!(app.seen.lock().unwrap().len(), before);
}

#[tokio::test]
async fn proxy_routes_never_leave_their_base_path() {
    let app = start().await;
    let user = token("user");
    // Walks from the public proxy into the protected one's upstream base, and back out.
    let walks = [
        "/pub/%2e%2e/%2e%2e/privbase/priv/secret",
        "/pub/../../privbase/priv/secret",
        "/pub/.%2E/.%2E/privbase/priv/secret",
        "/pub/%2E%2E/%2E%2E/privbase/priv/secret",
        "/pub/%2e./%2e./privbase/priv/secret",
        "/pub/..%5C..%5Cprivbase%5Cpriv%5Csecret",
        "/pub/..\\..\\privbase\\priv\\secret",
        "/pub/%2e%2e%2f%2e%2e%2fprivbase/priv/secret",
        "/pub/..;/..;/privbase/priv/secret",
        "/pub/%252e%252e/%252e%252e/privbase/priv/secret",
        "/pub/%c0%ae%c0%ae/%c0%ae%c0%ae/privbase/priv/secret",
        "/pub/a/../../../privbase/priv/secret",
        "/pub/./../privbase/priv/secret",
        "/pub//../privbase/priv/secret",
        "/priv/%2e%2e/%2e%2e/pubbase/pub/x",
        "/priv/../../pubbase/pub/x",
    ];
    for target in walks {
        for bearer in [None, Some(user.as_str())] {
            for method in ["GET", "POST", "DELETE"] {
                let before = app.seen.lock().unwrap().len();
                let r = req(app.addr, method, target, bearer).await;
                assert_eq!(r.status, 400, "{method} {target}: {r:?}");
                assert_eq!(
                    app.seen.lock().unwrap().len(),
                    before,
                    "{method} {target} reached the upstream"
                );
            }
        }
    }
    // What does reach the upstream stays under the route's base, one spelling per path.
    let cases = [
        ("/pub/a", "/pubbase/pub/a", None),
        ("/pub/a/", "/pubbase/pub/a/", None),
        ("/pub/%61", "/pubbase/pub/a", None),
        ("/pub/a%20b/c", "/pubbase/pub/a%20b/c", None),
        ("/pub/x;y=1", "/pubbase/pub/x%3By=1", None),
        ("/pub/caf%c3%a9", "/pubbase/pub/caf%C3%A9", None),
        ("/pub/...a/b..", "/pubbase/pub/...a/b..", None),
        ("/pub/a?q=1", "/pubbase/pub/a", Some("q=1")),
        ("/priv/s", "/privbase/priv/s", None),
    ];
    for (target, want, query) in cases {
        let r = req(app.addr, "GET", target, Some(&user)).await;
        assert_eq!(r.status, 200, "{target}: {r:?}");
        let last = app.seen.lock().unwrap().last().cloned().unwrap();
        assert_eq!(last.1, want, "{target}");
        assert_eq!(last.2.as_deref(), query, "{target}");
    }
    let r = req(app.addr, "GET", "/priv/s", None).await;
    assert_eq!(r.status, 401, "{r:?}");
    for (_, path, _, _) in app.seen.lock().unwrap().iter() {
        assert!(
            path.starts_with("/pubbase/pub/") || path.starts_with("/privbase/priv/"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn proxy_strips_credentials_by_default_and_appends_the_client_address() {
    let app = start().await;
    let user = token("user");
    let r = send(
        app.addr,
        format!(
            "GET /priv/a?x=1&apiKey={user}&apiKey[]=k;api_key=k2 HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {user}\r\nCookie: sid=1\r\nX-Forwarded-For: 203.0.113.7\r\n\
             Connection: close\r\n\r\n"
        )
        .into_bytes(),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    let (_, path, query, headers) = app.seen.lock().unwrap().last().cloned().unwrap();
    assert_eq!(path, "/privbase/priv/a");
    assert_eq!(query.as_deref(), Some("x=1"));
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("authorization"), None);
    assert_eq!(get("cookie"), None);
    assert_eq!(get("x-forwarded-for"), Some("203.0.113.7, 127.0.0.1"));
    assert_eq!(get("x-forwarded-host"), Some("localhost"));
    // The public route strips them too (a token meant for this server is not the upstream's).
    let r = req(app.addr, "GET", "/pub/b", Some(&user)).await;
    assert_eq!(r.status, 200, "{r:?}");
    let (_, _, _, headers) = app.seen.lock().unwrap().last().cloned().unwrap();
    assert!(!headers.iter().any(|(k, _)| k == "authorization"));
}
