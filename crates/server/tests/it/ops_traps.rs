//! Operational traps, over real HTTP on 127.0.0.1 with the app assembled from TOML:
//! credentials hidden in near-miss query names reaching the request log; CORS credentials with
//! an open origin; `[server] shutdown_timeout`; the proxy's `X-Forwarded-For` on both the plain
//! and the TLS listener of `Server::run`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use http::HeaderMap;
use mastra_server::app::{self, Server};
use mastra_server::config::{Config, ConfigError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Captured, PROCESS_SIGNALS, client, serve_with_connect_info as serve_app};

const SECRET: &str = "ops-traps-secret-0123456789abcdef0123456789";

/// Writes one request target byte for byte (a client library would re-encode `[`, `%00`, ...)
/// and returns the status code.
async fn raw_get(addr: SocketAddr, target: &str) -> u16 {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer))
        .await
        .expect("answer in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line for {target}: {answer}"))
}

// ---------------------------------------------------------------------------------------------
// Request logs

const MARKER: &str = "OPSTRAPMARKER7f3a";

// A single-threaded runtime keeps the server's tasks on this thread, under the subscriber.
#[tokio::test(flavor = "current_thread")]
async fn near_miss_credential_names_never_reach_the_request_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let toml = format!(
        "[server]\nrequest_logs = true\n[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n"
    );
    let cfg = Config::from_toml_str(&toml, "ops.toml").expect("config");
    assert!(cfg.server.request_logs);
    let addr = serve_app(app::build(&cfg).expect("app")).await;

    let jwt = format!("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.{MARKER}");
    // (request target, what the log must show instead)
    let cases = [
        (
            format!("/api/agents?apiKey[]={MARKER}"),
            "/api/agents?apiKey[]=[redacted]".to_string(),
        ),
        (
            format!("/api/agents?x=1;apiKey={MARKER}"),
            "/api/agents?x=1;apiKey=[redacted]".to_string(),
        ),
        (
            format!("/api/agents?api-key={MARKER}"),
            "/api/agents?api-key=[redacted]".to_string(),
        ),
        (
            format!("/api/agents?API%5FKEY={MARKER}"),
            "/api/agents?API%5FKEY=[redacted]".to_string(),
        ),
        (
            format!("/api/agents?apiKey%00={MARKER}"),
            "/api/agents?apiKey%00=[redacted]".to_string(),
        ),
        (
            format!("/api/agents?access_token[0]={MARKER}&page=2"),
            "/api/agents?access_token[0]=[redacted]&page=2".to_string(),
        ),
        (
            format!("/api/agents?apiKey={MARKER}"),
            "/api/agents?apiKey=[redacted]".to_string(),
        ),
        (
            format!("/health?next={jwt}"),
            "/health?next=[redacted]".to_string(),
        ),
    ];
    for (target, _) in &cases {
        let status = raw_get(addr, target).await;
        assert!(
            (200..500).contains(&status),
            "{target}: answered {status}, so the request was parsed and routed"
        );
    }

    let logs = captured.text();
    assert!(
        !logs.contains(MARKER),
        "a credential reached the logs:\n{logs}"
    );
    for (target, shown) in &cases {
        assert!(
            logs.contains(&format!("uri={shown}")),
            "request line for {target} not logged as {shown}:\n{logs}"
        );
    }
    assert!(logs.contains("status=401"), "{logs}");
    assert!(logs.contains("status=200"), "{logs}");
}

// ---------------------------------------------------------------------------------------------
// CORS credentials

fn invalid(toml: &str) -> ConfigError {
    match Config::from_toml_str_with_env(toml, "cors.toml", |_| None) {
        Ok(c) => panic!("accepted:\n{toml}\n{:?}", c.server.cors),
        Err(e) => e,
    }
}

#[test]
fn credentials_with_any_origin_are_refused() {
    for toml in [
        "[server.cors]\ncredentials = true\n",
        "[server.cors]\ncredentials = true\norigin = \"*\"\n",
        "[server.cors]\ncredentials = true\norigin = [\"*\"]\n",
    ] {
        let err = invalid(toml);
        assert_eq!(err.key(), Some("server.cors.credentials"), "{err}");
        let msg = err.to_string();
        assert!(msg.contains("cors.toml"), "{msg}");
        assert!(msg.contains("server.cors.credentials"), "{msg}");
        assert!(msg.contains("list the allowed origins explicitly"), "{msg}");
    }

    // also from a file, and when the combination is made after loading (CLI flags re-validate)
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mastra.toml");
    std::fs::write(&path, "[server.cors]\ncredentials = true\n").expect("write");
    let err = Config::load_with_env(&path, |_| None).expect_err("file refused");
    assert_eq!(err.key(), Some("server.cors.credentials"), "{err}");
    let mut cfg = Config::default();
    cfg.validate("defaults").expect("defaults are valid");
    cfg.server.cors.credentials = true;
    let err = cfg.validate("flags").expect_err("re-validation refuses");
    assert_eq!(err.key(), Some("server.cors.credentials"), "{err}");
}

#[test]
fn null_origin_with_credentials_is_refused() {
    let err = invalid(
        "[server.cors]\ncredentials = true\norigin = [\"https://app.example\", \"null\"]\n",
    );
    assert_eq!(err.key(), Some("server.cors.origin[1]"), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("server.cors.credentials"), "{msg}");
    assert!(msg.contains("null"), "{msg}");
    let err = invalid("[server.cors]\ncredentials = true\norigin = \"null\"\n");
    assert_eq!(err.key(), Some("server.cors.origin[0]"), "{err}");
}

#[test]
fn cors_combinations_that_stay_valid() {
    for toml in [
        "[server.cors]\ncredentials = true\norigin = [\"https://app.example\"]\n",
        "[server.cors]\ncredentials = true\norigin = \"http://localhost:3000\"\n",
        "[server.cors]\norigin = \"*\"\n",
        "[server.cors]\norigin = [\"null\"]\n",
        // CORS off: nothing is served with these settings
        "[server.cors]\nenabled = false\ncredentials = true\n",
    ] {
        Config::from_toml_str_with_env(toml, "cors.toml", |_| None)
            .unwrap_or_else(|e| panic!("refused:\n{toml}\n{e}"));
    }
}

#[tokio::test]
async fn listed_origin_with_credentials_works_over_http() {
    let toml = format!(
        "[server]\nrequest_logs = false\n[server.cors]\ncredentials = true\norigin = [\"https://app.example\"]\n[auth]\nprovider = \"jwt\"\n[auth.jwt]\nsecret = \"{SECRET}\"\n"
    );
    let cfg = Config::from_toml_str(&toml, "ops.toml").expect("config");
    let addr = serve_app(app::build(&cfg).expect("app")).await;
    let c = client();

    let res = c
        .request(
            reqwest::Method::OPTIONS,
            format!("http://{addr}/api/agents"),
        )
        .header("Origin", "https://app.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .expect("preflight");
    assert_eq!(res.status(), 204);
    let h = res.headers();
    assert_eq!(
        h.get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://app.example")
    );
    assert_eq!(
        h.get("access-control-allow-credentials")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );

    for (origin, allowed) in [
        ("https://app.example", Some("https://app.example")),
        ("https://evil.example", None),
        ("null", None),
    ] {
        let res = c
            .get(format!("http://{addr}/health"))
            .header("Origin", origin)
            .send()
            .await
            .expect("get");
        assert_eq!(res.status(), 200, "{origin}");
        assert_eq!(
            res.headers()
                .get("access-control-allow-origin")
                .and_then(|v| v.to_str().ok()),
            allowed,
            "{origin}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// shutdown_timeout

#[test]
fn shutdown_timeout_setting() {
    let cfg = Config::from_toml_str_with_env("", "t.toml", |_| None).expect("empty config");
    assert_eq!(cfg.server.shutdown_timeout, Duration::from_secs(10));
    let cfg = Config::from_toml_str_with_env(
        "[server]\nshutdown_timeout = \"1500ms\"\n",
        "t.toml",
        |_| None,
    )
    .expect("custom");
    assert_eq!(cfg.server.shutdown_timeout, Duration::from_millis(1500));
    let cfg =
        Config::from_toml_str_with_env("[server]\nshutdown_timeout = \"0s\"\n", "t.toml", |_| None)
            .expect("zero");
    assert_eq!(cfg.server.shutdown_timeout, Duration::ZERO);
    for bad in ["shutdown_timeout = 5", "shutdown_timeout = \"soon\""] {
        let err = Config::from_toml_str_with_env(&format!("[server]\n{bad}\n"), "t.toml", |_| None)
            .expect_err(bad);
        assert_eq!(err.key(), Some("server.shutdown_timeout"), "{err}");
    }
}

// ---------------------------------------------------------------------------------------------
// X-Forwarded-For through Server::run

/// An upstream that records the `X-Forwarded-For` of every request (`None`: header absent).
async fn recording_upstream() -> (String, Arc<Mutex<Vec<Option<String>>>>) {
    let seen: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let sink = seen.clone();
    let app = Router::new().fallback(move |headers: HeaderMap| {
        let sink = sink.clone();
        async move {
            let xff = headers
                .get_all("x-forwarded-for")
                .iter()
                .map(|v| v.to_str().unwrap_or("<non-ascii>").to_string())
                .collect::<Vec<_>>();
            sink.lock()
                .expect("lock")
                .push((!xff.is_empty()).then(|| xff.join(" | ")));
            "upstream"
        }
    });
    let addr = serve_app(app).await;
    (format!("http://{addr}"), seen)
}

fn proxy_toml(upstream: &str, extra: &str) -> String {
    format!(
        r#"
[server]
host = "127.0.0.1"
request_logs = false
{extra}
[auth]
provider = "none"

[[api_routes]]
method = "GET"
path = "/up/{{*rest}}"
requires_auth = false
proxy = "{upstream}"
"#
    )
}

/// Sends one request with and one without `X-Forwarded-For` and checks what the upstream saw.
async fn assert_forwarded_for(
    client: &reqwest::Client,
    base: &str,
    seen: &Mutex<Vec<Option<String>>>,
) {
    let res = client
        .get(format!("{base}/up/a"))
        .header("X-Forwarded-For", "203.0.113.7")
        .send()
        .await
        .expect("proxied with header");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), "upstream");
    let res = client
        .get(format!("{base}/up/b"))
        .send()
        .await
        .expect("proxied without header");
    assert_eq!(res.status(), 200);
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        seen,
        vec![
            Some("203.0.113.7, 127.0.0.1".to_string()),
            Some("127.0.0.1".to_string())
        ]
    );
}

#[tokio::test]
async fn server_run_appends_the_client_address_on_plain_http() {
    // the SIGTERM test of `http_plumbing` would stop this `Server::run`
    let _signals = PROCESS_SIGNALS.lock().await;
    let (upstream, seen) = recording_upstream().await;
    let mut cfg = Config::from_toml_str(&proxy_toml(&upstream, ""), "xff.toml").expect("config");
    // as `mastra serve --port 0` does: a free port, set after validation
    cfg.server.port = 0;
    let server = Server::bind(&cfg).await.expect("bind");
    assert!(!server.is_tls());
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.run());
    assert_forwarded_for(&client(), &format!("http://{addr}"), &seen).await;
}

#[tokio::test]
async fn server_run_appends_the_client_address_on_tls() {
    // the SIGTERM test of `http_plumbing` would stop this `Server::run`
    let _signals = PROCESS_SIGNALS.lock().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
        .expect("self-signed cert");
    let cert_pem = certified.cert.pem();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, &cert_pem).expect("write cert");
    std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write key");

    let (upstream, seen) = recording_upstream().await;
    let tls = format!(
        "[server.tls]\ncert = {:?}\nkey = {:?}\n",
        cert.display().to_string(),
        key.display().to_string()
    );
    let toml = proxy_toml(&upstream, "").replace("[auth]", &format!("{tls}[auth]"));
    let mut cfg = Config::from_toml_str(&toml, "xff.toml").expect("config");
    cfg.server.port = 0;
    let server = Server::bind(&cfg).await.expect("bind");
    assert!(server.is_tls());
    let addr = server.local_addr().expect("addr");
    tokio::spawn(server.run());
    let https = reqwest::Client::builder()
        .no_proxy()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("cert"))
        .resolve("localhost", addr)
        .build()
        .expect("client");
    assert_forwarded_for(&https, &format!("https://localhost:{}", addr.port()), &seen).await;
}
