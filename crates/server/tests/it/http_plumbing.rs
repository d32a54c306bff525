//! HTTP plumbing over real sockets on 127.0.0.1: CORS, body limit, timeout, custom routes and
//! the reverse proxy, health/welcome/OpenAPI, request logs, TLS, shutdown.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode};
use mastra_server::config::{Config, CorsConfig, CorsOrigin, TlsConfig};
use mastra_server::http::{self as plumbing, cors, custom_routes, limits, logging, openapi, tls};
use serde_json::{Value, json};

use crate::support::{Captured, PROCESS_SIGNALS, client, serve_with_connect_info as spawn};

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// A stand-in for the auth layer: anything without `Authorization` is 401.
async fn fake_auth(req: Request, next: Next) -> Response {
    if req.headers().contains_key(http::header::AUTHORIZATION) {
        next.run(req).await
    } else {
        plumbing::json_error(StatusCode::UNAUTHORIZED, "Authentication required")
    }
}

fn cors_app(config: &CorsConfig) -> Router {
    Router::new()
        .route(
            "/api/agents",
            get(|| async { "agents" }).options(|| async { "options handler" }),
        )
        .layer(middleware::from_fn(fake_auth))
        .layer(cors::layer(config))
}

// ---------------------------------------------------------------------------------------------
// CORS

#[tokio::test]
async fn cors_preflight_is_204_with_mastra_defaults() {
    let config = Config::from_toml_str_with_env(
        "[server.cors]\nallow_headers = [\"X-Custom\"]\nexpose_headers = [\"X-Total\"]\n",
        "inline",
        |_| None,
    )
    .expect("config");
    let addr = spawn(cors_app(&config.server.cors)).await;
    let c = client();

    let res = c
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{addr}/api/agents"),
        )
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "authorization,content-type",
        )
        .send()
        .await
        .expect("preflight");
    assert_eq!(res.status(), 204, "preflight answered before auth");
    let h = res.headers().clone();
    assert_eq!(header(&h, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&h, "access-control-allow-methods"),
        Some("GET,POST,PUT,PATCH,DELETE,OPTIONS")
    );
    assert_eq!(
        header(&h, "access-control-allow-headers"),
        Some(
            "Content-Type,Authorization,A2A-Version,x-mastra-client-type,x-mastra-dev-playground,x-custom"
        )
    );
    assert_eq!(header(&h, "access-control-max-age"), Some("3600"));
    assert_eq!(header(&h, "access-control-allow-credentials"), None);
    assert!(res.bytes().await.expect("body").is_empty());

    // a plain OPTIONS (no Access-Control-Request-Method) is not a preflight: auth sees it
    let res = c
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{addr}/api/agents"),
        )
        .header("Origin", "https://app.example")
        .send()
        .await
        .expect("options");
    assert_eq!(res.status(), 401);
    assert_eq!(
        header(res.headers(), "access-control-allow-origin"),
        Some("*")
    );
    let res = c
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{addr}/api/agents"),
        )
        .header("Authorization", "Bearer x")
        .send()
        .await
        .expect("options with token");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), "options handler");

    // actual requests get allow-origin and the exposed headers, errors included
    let res = c
        .get(format!("http://{addr}/api/agents"))
        .header("Origin", "https://app.example")
        .header("Authorization", "Bearer x")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(header(h, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(h, "access-control-expose-headers"),
        Some("Content-Length,X-Requested-With,x-total")
    );
    assert_eq!(header(h, "access-control-allow-methods"), None);
}

#[tokio::test]
async fn cors_credentials_mirror_origin_and_lists_filter() {
    let with_credentials = CorsConfig {
        credentials: true,
        ..CorsConfig::default()
    };
    let addr = spawn(cors_app(&with_credentials)).await;
    let c = client();
    let res = c
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{addr}/api/agents"),
        )
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "GET")
        .send()
        .await
        .expect("preflight");
    assert_eq!(res.status(), 204);
    let h = res.headers();
    assert_eq!(
        header(h, "access-control-allow-origin"),
        Some("https://app.example"),
        "`*` is not allowed with credentials: the origin is mirrored"
    );
    assert_eq!(header(h, "access-control-allow-credentials"), Some("true"));
    assert_eq!(header(h, "vary"), Some("Origin"));
    let res = c
        .get(format!("http://{addr}/api/agents"))
        .header("Authorization", "x")
        .send()
        .await
        .expect("no origin");
    assert_eq!(header(res.headers(), "access-control-allow-origin"), None);

    let listed = CorsConfig {
        origin: CorsOrigin::List(vec!["https://good.example".into()]),
        ..CorsConfig::default()
    };
    let addr = spawn(cors_app(&listed)).await;
    for (origin, expected) in [
        ("https://good.example", Some("https://good.example")),
        ("https://evil.example", None),
    ] {
        let res = c
            .get(format!("http://{addr}/api/agents"))
            .header("Origin", origin)
            .header("Authorization", "x")
            .send()
            .await
            .expect("get");
        assert_eq!(
            header(res.headers(), "access-control-allow-origin"),
            expected
        );
        assert_eq!(header(res.headers(), "vary"), Some("Origin"));
    }

    assert!(
        cors::optional_layer(&CorsConfig {
            enabled: false,
            ..CorsConfig::default()
        })
        .is_none()
    );
}

// ---------------------------------------------------------------------------------------------
// Body limit and timeout

fn limited_app(limit: u64) -> Router {
    Router::new()
        .route(
            "/echo",
            post(|body: Bytes| async move { axum::Json(json!({"len": body.len()})) }),
        )
        .route(
            "/json",
            post(|axum::Json(v): axum::Json<Value>| async move { axum::Json(v) }),
        )
        .layer(limits::body_limit_layer(limit))
}

async fn assert_413(res: reqwest::Response) {
    assert_eq!(res.status(), 413);
    assert_eq!(
        header(res.headers(), "content-type"),
        Some("application/json")
    );
    assert_eq!(
        res.text().await.expect("body"),
        r#"{"error":"Request body too large"}"#
    );
}

fn chunked(chunks: usize, size: usize) -> reqwest::Body {
    let stream = futures::stream::iter(
        (0..chunks).map(move |_| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; size]))),
    );
    reqwest::Body::wrap_stream(stream)
}

#[tokio::test]
async fn body_limit_answers_413_json() {
    let addr = spawn(limited_app(1024)).await;
    let c = client();

    // declared Content-Length over the limit
    let res = c
        .post(format!("http://{addr}/echo"))
        .body(vec![b'x'; 2048])
        .send()
        .await
        .expect("post");
    assert_413(res).await;

    // chunked body (no Content-Length) that grows past the limit while read
    let res = c
        .post(format!("http://{addr}/echo"))
        .body(chunked(4, 512))
        .send()
        .await
        .expect("chunked");
    assert_413(res).await;
    let res = c
        .post(format!("http://{addr}/json"))
        .header("content-type", "application/json")
        .body(chunked(4, 512))
        .send()
        .await
        .expect("chunked json");
    assert_413(res).await;

    // under the limit, both ways
    let res = c
        .post(format!("http://{addr}/echo"))
        .body(vec![b'x'; 1024])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.expect("json"),
        json!({"len": 1024})
    );
    let res = c
        .post(format!("http://{addr}/echo"))
        .body(chunked(2, 100))
        .send()
        .await
        .expect("chunked");
    assert_eq!(
        res.json::<Value>().await.expect("json"),
        json!({"len": 200})
    );
}

#[tokio::test]
async fn body_limit_replaces_axums_2mb_default() {
    let addr = spawn(limited_app(3 * 1024 * 1024)).await;
    let res = client()
        .post(format!("http://{addr}/echo"))
        .body(vec![b'x'; 2_500_000])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.expect("json"),
        json!({"len": 2_500_000})
    );
}

#[tokio::test]
async fn timeout_answers_504_json_but_spares_started_streams() {
    let app = Router::new()
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                "late"
            }),
        )
        .route(
            "/stream",
            get(|| async {
                let chunks = futures::stream::unfold(0u8, |i| async move {
                    if i == 3 {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(120)).await;
                    Some((Ok::<_, std::io::Error>(Bytes::from(vec![b'a' + i])), i + 1))
                });
                Body::from_stream(chunks)
            }),
        )
        .route("/fast", get(|| async { "fast" }))
        .layer(limits::timeout_layer(Duration::from_millis(150)));
    let addr = spawn(app).await;
    let c = client();

    let started = std::time::Instant::now();
    let res = c
        .get(format!("http://{addr}/slow"))
        .send()
        .await
        .expect("slow");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(res.status(), 504);
    assert_eq!(
        header(res.headers(), "content-type"),
        Some("application/json")
    );
    assert_eq!(
        res.text().await.expect("body"),
        r#"{"error":"Request timed out"}"#
    );

    let res = c
        .get(format!("http://{addr}/stream"))
        .send()
        .await
        .expect("stream");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.text().await.expect("body"),
        "abc",
        "360 ms stream outlives a 150 ms timeout"
    );

    let res = c
        .get(format!("http://{addr}/fast"))
        .send()
        .await
        .expect("fast");
    assert_eq!(res.text().await.expect("body"), "fast");
}

// ---------------------------------------------------------------------------------------------
// Custom routes and the reverse proxy

/// An upstream that reports what it received.
async fn upstream() -> SocketAddr {
    let app = Router::new().fallback(|req: Request| async move {
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let headers: serde_json::Map<String, Value> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    Value::String(v.to_str().unwrap_or("").to_string()),
                )
            })
            .collect();
        let report = json!({
            "method": parts.method.as_str(),
            "path": parts.uri.path(),
            "query": parts.uri.query(),
            "body": String::from_utf8_lossy(&body),
            "headers": headers,
        });
        let mut res = (StatusCode::CREATED, axum::Json(report)).into_response();
        res.headers_mut()
            .insert("x-upstream", http::HeaderValue::from_static("yes"));
        res
    });
    spawn(app).await
}

async fn dead_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    l.local_addr().expect("addr").port()
}

async fn custom_app(limit: u64) -> (SocketAddr, SocketAddr) {
    let up = upstream().await;
    let dead = dead_port().await;
    let text = format!(
        r#"
[[api_routes]]
method = "GET"
path = "/other/route/{{id}}"
requires_auth = false
json = {{ ok = true, route = "other" }}

[[api_routes]]
method = "ALL"
path = "/any"
json = {{ any = true }}
status = 202

[[api_routes]]
method = "GET"
path = "/any"
json = {{ get = true }}

[[api_routes]]
method = "ALL"
path = "/proxy/{{*rest}}"
proxy = "http://{up}/base"

[[api_routes]]
method = "ALL"
path = "/proxy-creds/{{*rest}}"
proxy = "http://{up}/base"
forward_credentials = true

[[api_routes]]
method = "POST"
path = "/down"
proxy = "http://127.0.0.1:{dead}"
"#
    );
    let config = Config::from_toml_str_with_env(&text, "inline", |_| None).expect("config");
    let router: Router = custom_routes::router(&config.api_routes).expect("router");
    let app = router.layer(limits::body_limit_layer(limit));
    (spawn(app).await, up)
}

#[tokio::test]
async fn custom_json_routes() {
    let (addr, _) = custom_app(1 << 20).await;
    let c = client();

    let res = c
        .get(format!("http://{addr}/other/route/test"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(res.headers(), "content-type"),
        Some("application/json")
    );
    assert_eq!(
        res.json::<Value>().await.expect("json"),
        json!({"ok": true, "route": "other"})
    );
    let res = c
        .post(format!("http://{addr}/other/route/test"))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 405, "GET-only route");

    for method in ["PUT", "DELETE", "PATCH", "POST"] {
        let res = c
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
                format!("http://{addr}/any"),
            )
            .send()
            .await
            .expect("any");
        assert_eq!(res.status(), 202, "{method}");
        assert_eq!(
            res.json::<Value>().await.expect("json"),
            json!({"any": true})
        );
    }
    let res = c
        .get(format!("http://{addr}/any"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200, "a specific method wins over ALL");
    assert_eq!(
        res.json::<Value>().await.expect("json"),
        json!({"get": true})
    );

    let res = c
        .get(format!("http://{addr}/nope"))
        .send()
        .await
        .expect("404");
    assert_eq!(res.status(), 404);
}

#[test]
fn auth_table_flags_templates() {
    let config = Config::from_toml_str_with_env(
        "[[api_routes]]\nmethod = \"GET\"\npath = \"/other/route/{id}\"\nrequires_auth = false\njson = 1\n\
         [[api_routes]]\nmethod = \"ALL\"\npath = \"/other/route/{id}\"\njson = 2\n",
        "inline",
        |_| None,
    )
    .expect("config");
    let table = custom_routes::auth_table(&config.api_routes);
    assert_eq!(table.len(), 2);
    assert_eq!(table[0].1, "/other/route/{id}");
    assert!(!table[0].2);
    assert_eq!(
        custom_routes::requires_auth(&table, &http::Method::GET, "/other/route/{id}"),
        Some(false)
    );
    assert_eq!(
        custom_routes::requires_auth(&table, &http::Method::POST, "/other/route/{id}"),
        Some(true)
    );
}

#[tokio::test]
async fn proxy_forwards_method_path_query_headers_body() {
    let (addr, up) = custom_app(1 << 20).await;
    let c = client();

    let res = c
        .put(format!("http://{addr}/proxy/a/b?x=1&y=two"))
        .header("x-custom", "hello")
        .header("authorization", "Bearer tok")
        .header("content-type", "text/plain")
        .body("payload")
        .send()
        .await
        .expect("proxied");
    assert_eq!(res.status(), 201, "upstream status passes through");
    assert_eq!(header(res.headers(), "x-upstream"), Some("yes"));
    let seen: Value = res.json().await.expect("json");
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["path"], "/base/proxy/a/b");
    assert_eq!(seen["query"], "x=1&y=two");
    assert_eq!(seen["body"], "payload");
    assert_eq!(seen["headers"]["x-custom"], "hello");
    assert_eq!(
        seen["headers"].get("authorization"),
        None,
        "credentials are stripped unless the route forwards them"
    );
    assert_eq!(seen["headers"]["content-type"], "text/plain");
    assert_eq!(
        seen["headers"]["host"],
        up.to_string(),
        "Host is the upstream's"
    );
    assert_eq!(seen["headers"]["x-forwarded-host"], addr.to_string());
    assert_eq!(seen["headers"]["x-forwarded-for"], "127.0.0.1");

    // `forward_credentials = true`: Authorization, cookies and apiKey pass
    let res = c
        .get(format!("http://{addr}/proxy-creds/a?apiKey=k1&x=1"))
        .header("authorization", "Bearer tok")
        .header("cookie", "sid=abc")
        .send()
        .await
        .expect("proxied");
    let seen: Value = res.json().await.expect("json");
    assert_eq!(seen["headers"]["authorization"], "Bearer tok");
    assert_eq!(seen["headers"]["cookie"], "sid=abc");
    assert_eq!(seen["query"], "apiKey=k1&x=1");
    // default: all three stripped
    let res = c
        .get(format!("http://{addr}/proxy/a?apiKey=k1&x=1;api_key=k2"))
        .header("authorization", "Bearer tok")
        .header("cookie", "sid=abc")
        .send()
        .await
        .expect("proxied");
    let seen: Value = res.json().await.expect("json");
    assert_eq!(seen["headers"].get("authorization"), None);
    assert_eq!(seen["headers"].get("cookie"), None);
    assert_eq!(seen["query"], "x=1");

    // streamed (chunked) request body, and a body-less GET
    let res = c
        .post(format!("http://{addr}/proxy/stream"))
        .body(chunked(3, 4))
        .send()
        .await
        .expect("chunked");
    let seen: Value = res.json().await.expect("json");
    assert_eq!(seen["body"], "xxxxxxxxxxxx");
    let res = c
        .get(format!("http://{addr}/proxy/plain"))
        .send()
        .await
        .expect("get");
    let seen: Value = res.json().await.expect("json");
    assert_eq!(seen["method"], "GET");
    assert_eq!(seen["path"], "/base/proxy/plain");
    assert_eq!(seen["headers"].get("transfer-encoding"), None);
}

#[tokio::test]
async fn proxy_errors_are_json() {
    let (addr, _) = custom_app(1024).await;
    let c = client();

    let res = c
        .post(format!("http://{addr}/down"))
        .body("x")
        .send()
        .await
        .expect("down");
    assert_eq!(res.status(), 502);
    assert_eq!(
        header(res.headers(), "content-type"),
        Some("application/json")
    );
    assert_eq!(
        res.text().await.expect("body"),
        r#"{"error":"Bad gateway"}"#
    );

    // a streamed body over the limit while being forwarded
    let res = c
        .post(format!("http://{addr}/proxy/big"))
        .body(chunked(4, 512))
        .send()
        .await
        .expect("big");
    assert_413(res).await;
}

// ---------------------------------------------------------------------------------------------
// Health, welcome, OpenAPI

#[tokio::test]
async fn health_welcome_and_openapi() {
    let app: Router = Router::new()
        .merge(plumbing::health_router("/api"))
        .merge(openapi::router("/api"));
    let addr = spawn(app).await;
    let c = client();

    let res = c
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), r#"{"success":true}"#);
    let res = c
        .post(format!("http://{addr}/health"))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), 405);

    let res = c
        .get(format!("http://{addr}/api"))
        .send()
        .await
        .expect("welcome");
    assert_eq!(
        header(res.headers(), "content-type"),
        Some("application/json")
    );
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["name"], "mastra-rs");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("/api/agents"))
    );

    let res = c
        .get(format!("http://{addr}/api/openapi.json"))
        .send()
        .await
        .expect("openapi");
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"],
        json!({"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    );
    assert_eq!(doc["security"], json!([{"bearerAuth": []}]));
    for path in [
        "/health",
        "/api",
        "/api/agents",
        "/api/agents/{agentId}",
        "/api/agents/{agentId}/generate",
        "/api/agents/{agentId}/stream",
        "/api/tools",
        "/api/tools/{toolId}",
        "/api/tools/{toolId}/execute",
    ] {
        assert!(doc["paths"].get(path).is_some(), "missing {path}");
    }
    assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([]));
    // every $ref resolves
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/").skip(1) {
        let target = part.split('"').next().unwrap_or("");
        let pointer = format!("/{target}");
        assert!(doc.pointer(&pointer).is_some(), "dangling $ref {target}");
    }
}

// ---------------------------------------------------------------------------------------------
// Request logs

#[test]
fn redact_uri_hides_tokens() {
    let cases = [
        ("/api/agents", "/api/agents"),
        (
            "/api/agents?apiKey=abc.def.ghi",
            "/api/agents?apiKey=[redacted]",
        ),
        ("/x?a=1&apiKey=secret&b=2", "/x?a=1&apiKey=[redacted]&b=2"),
        ("/x?APIKEY=s", "/x?APIKEY=[redacted]"),
        ("/x?api%4Bey=s", "/x?api%4Bey=[redacted]"),
        (
            "/x?access_token=s&token=t",
            "/x?access_token=[redacted]&token=[redacted]",
        ),
        ("/x?apiKey", "/x?apiKey=[redacted]"),
        ("/x?apiKeyish=keep", "/x?apiKeyish=[redacted]"),
        ("/x?", "/x?"),
        (
            "http://user:pw@host:1/p?apiKey=s",
            "http://host:1/p?apiKey=[redacted]",
        ),
    ];
    for (input, expected) in cases {
        let uri: http::Uri = input.parse().expect("uri");
        assert_eq!(logging::redact_uri(&uri), expected, "{input}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn request_logs_carry_status_and_no_credentials() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = Router::new()
        .route(
            "/secret",
            get(|headers: HeaderMap| async move {
                tracing::info!(headers = ?headers, "handler saw");
                "ok"
            }),
        )
        .layer(logging::layer());
    let addr = spawn(app).await;
    let res = client()
        .get(format!("http://{addr}/secret?apiKey=QUERYSECRET&x=1"))
        .header("Authorization", "Bearer HEADERSECRET")
        .header("Cookie", "session=COOKIESECRET")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), "ok");

    let logs = String::from_utf8(captured.0.lock().expect("lock").clone()).expect("utf8");
    assert!(logs.contains("method=GET"), "{logs}");
    assert!(logs.contains("uri=/secret?apiKey=[redacted]&x=1"), "{logs}");
    assert!(logs.contains("status=200"), "{logs}");
    assert!(logs.contains("latency_ms="), "{logs}");
    assert!(
        logs.contains("Sensitive"),
        "headers marked sensitive: {logs}"
    );
    for secret in ["QUERYSECRET", "HEADERSECRET", "COOKIESECRET"] {
        assert!(!logs.contains(secret), "{secret} leaked: {logs}");
    }
}

// ---------------------------------------------------------------------------------------------
// TLS and shutdown

fn self_signed(dir: &std::path::Path, name: &str) -> (TlsConfig, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("self-signed cert");
    let cert_pem = certified.cert.pem();
    let cert = dir.join(format!("{name}.cert.pem"));
    let key = dir.join(format!("{name}.key.pem"));
    std::fs::write(&cert, &cert_pem).expect("write cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write key");
    (TlsConfig { cert, key }, cert_pem)
}

#[tokio::test]
async fn tls_serves_https_and_shuts_down() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (tls_config, cert_pem) = self_signed(dir.path(), "server");
    let rustls_config = tls::rustls_config(&tls_config).expect("tls config");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let app: Router = plumbing::health_router("/api");
    let server = tokio::spawn(tls::serve(
        listener,
        app,
        rustls_config,
        async {
            let _ = stop_rx.await;
        },
        Some(Duration::from_secs(1)),
    ));

    let https = reqwest::Client::builder()
        .no_proxy()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("cert"))
        .resolve("localhost", addr)
        .build()
        .expect("client");
    let res = https
        .get(format!("https://localhost:{}/health", addr.port()))
        .send()
        .await
        .expect("https request");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), r#"{"success":true}"#);

    // a client that does not trust the certificate is refused
    let untrusting = reqwest::Client::builder()
        .no_proxy()
        .resolve("localhost", addr)
        .build()
        .expect("client");
    assert!(
        untrusting
            .get(format!("https://localhost:{}/health", addr.port()))
            .send()
            .await
            .is_err()
    );

    stop_tx.send(()).expect("stop");
    let finished = tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops after shutdown");
    finished.expect("join").expect("serve result");
}

#[test]
fn tls_errors_name_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (good, _) = self_signed(dir.path(), "a");
    let (other, _) = self_signed(dir.path(), "b");

    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem file").expect("write");
    let err = tls::rustls_config(&TlsConfig {
        cert: garbage.clone(),
        key: good.key.clone(),
    })
    .expect_err("bad cert");
    let msg = err.to_string();
    assert!(
        msg.contains("garbage.pem") && msg.contains("certificate"),
        "{msg}"
    );

    let err = tls::rustls_config(&TlsConfig {
        cert: good.cert.clone(),
        key: garbage.clone(),
    })
    .expect_err("bad key");
    let msg = err.to_string();
    assert!(
        msg.contains("garbage.pem") && msg.contains("private key"),
        "{msg}"
    );

    let err = tls::rustls_config(&TlsConfig {
        cert: good.cert.clone(),
        key: dir.path().join("missing.pem"),
    })
    .expect_err("missing key");
    assert!(err.to_string().contains("missing.pem"), "{err}");

    let err = tls::rustls_config(&TlsConfig {
        cert: good.cert.clone(),
        key: other.key.clone(),
    })
    .expect_err("mismatched pair");
    assert!(err.to_string().contains("a.cert.pem"), "{err}");
}

#[tokio::test]
async fn shutdown_signal_resolves_on_sigterm() {
    // no `Server::run` of another test may see this SIGTERM
    let _signals = PROCESS_SIGNALS.lock().await;
    let mut signal = Box::pin(plumbing::shutdown::signal());
    // first poll installs the handlers
    assert!(futures::poll!(signal.as_mut()).is_pending());
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    tokio::time::timeout(Duration::from_secs(5), signal)
        .await
        .expect("signal() resolves on SIGTERM");
}
