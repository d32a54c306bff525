//! Fault injection (results in SECURITY.md): every remote endpoint a provider depends on — JWKS,
//! OIDC discovery, and the authorization backends (WorkOS users API, Clerk memberships API,
//! Google's OAuth token endpoint, Firestore, Supabase GoTrue and PostgREST) — made slow past the
//! timeout, 5xx, HTML, truncated JSON, 50 MB bodies (declared and streamed), redirects to another
//! host, closed connections, stalled bodies and refused connections; and keys rotated under load.
//!
//! Everything goes through the real auth layer over HTTP. Expected: cached keys keep serving; no
//! usable keys because the IdP is unreachable -> 503 with `Retry-After`; an authorization backend
//! down -> 503; never an allow; bodies are capped while read (a 50 MB answer is not buffered).
//!
//! Failures come from [`Hostile`], a raw-TCP server in this file (it can do what an HTTP
//! framework will not: close without answering, stall a body, stream 50 MB with or without a
//! `Content-Length`), so the shared fakes stay as they are; the well-behaved halves of each
//! scenario use the shared fakes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::fakes;
use crate::fakes::google::GoogleTokenFake;
use crate::fakes::jwks::{JwksFake, cert_map, fixture, jwk, jwk_from, now, sign, sign_with};
use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use mastra_auth::google_oauth::DATASTORE_SCOPE;
use mastra_auth::idp_http::IdpClientConfig;
use mastra_auth::keyset::KeySetTiming;
use mastra_auth::providers::clerk::{ClerkConfig, ClerkProvider};
use mastra_auth::providers::firebase::{FirebaseConfig, FirebaseProvider};
use mastra_auth::providers::workos::{WorkosConfig, WorkosProvider};
use mastra_auth::providers::{
    JwksConfig, JwksProvider, OidcConfig, OidcProvider, SupabaseConfig, SupabaseProvider,
};
use mastra_auth::{Auth, AuthProvider, AuthUser};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ISS: &str = "https://issuer.fault.test";
const AUD: &str = "https://api.fault.test";
const MB: usize = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// A hostile HTTP server

/// How [`Hostile`] answers a request.
#[derive(Debug, Clone)]
enum Mode {
    /// `200 application/json` with this document.
    Json(Value),
    /// Waits, then answers as the inner mode.
    Delay(Duration, Box<Mode>),
    /// This status with a short text body.
    Status(u16),
    /// `200 text/html` (a captive portal, a login page).
    Html,
    /// `200 application/json`, cut in the middle of a document.
    Truncated,
    /// `200 application/json` of `bytes` bytes, streamed in 64 KiB writes, with or without a
    /// `Content-Length` (without: the body runs until the connection closes).
    Huge { bytes: usize, declared: bool },
    /// `302` to another URL (another host).
    Redirect(String),
    /// Reads the request and closes the connection without a word.
    Close,
    /// Sends the head and a few bytes of a 100 KB body, then nothing.
    StallBody,
}

impl Mode {
    fn name(&self) -> String {
        match self {
            Mode::Json(_) => "json".into(),
            Mode::Delay(d, m) => format!("delay {d:?} then {}", m.name()),
            Mode::Status(s) => format!("status {s}"),
            Mode::Html => "html".into(),
            Mode::Truncated => "truncated json".into(),
            Mode::Huge { bytes, declared } => format!(
                "{} MB body ({})",
                bytes / MB,
                if *declared {
                    "Content-Length"
                } else {
                    "until close"
                }
            ),
            Mode::Redirect(_) => "redirect to another host".into(),
            Mode::Close => "connection closed without an answer".into(),
            Mode::StallBody => "stalled body".into(),
        }
    }
}

struct HostileState {
    default: Mutex<Mode>,
    by_path: Mutex<HashMap<String, Mode>>,
    requests: AtomicUsize,
    /// Body bytes written to clients by `Huge` answers (what the kernel accepted).
    streamed: AtomicUsize,
}

/// A raw-TCP HTTP/1.1 server answering every request per its [`Mode`]; stops when dropped.
struct Hostile {
    base: String,
    state: Arc<HostileState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    async fn start(mode: Mode) -> Hostile {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(HostileState {
            default: Mutex::new(mode),
            by_path: Mutex::new(HashMap::new()),
            requests: AtomicUsize::new(0),
            streamed: AtomicUsize::new(0),
        });
        let s = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(answer(sock, s.clone()));
            }
        });
        Hostile {
            base: format!("http://{addr}"),
            state,
            task,
        }
    }

    fn set(&self, mode: Mode) {
        *self.state.default.lock().unwrap() = mode;
    }

    fn set_path(&self, path: &str, mode: Mode) {
        self.state
            .by_path
            .lock()
            .unwrap()
            .insert(path.to_owned(), mode);
    }

    fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    fn streamed(&self) -> usize {
        self.state.streamed.load(Ordering::SeqCst)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

async fn answer(mut sock: tokio::net::TcpStream, s: Arc<HostileState>) {
    // Read the head (and a declared body) of one request.
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut have = buf.len() - head_end;
    while have < length {
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => have += n,
        }
    }
    s.requests.fetch_add(1, Ordering::SeqCst);
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .split('?')
        .next()
        .unwrap_or("/")
        .to_owned();
    let mut mode = s
        .by_path
        .lock()
        .unwrap()
        .get(&path)
        .cloned()
        .unwrap_or_else(|| s.default.lock().unwrap().clone());
    while let Mode::Delay(d, inner) = mode {
        tokio::time::sleep(d).await;
        mode = *inner;
    }
    let simple = |status: &str, ctype: &str, body: &str| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let reply = match &mode {
        Mode::Json(v) => simple("200 OK", "application/json", &v.to_string()),
        Mode::Status(code) => simple(&format!("{code} Failure"), "text/plain", "fake failure"),
        Mode::Html => simple(
            "200 OK",
            "text/html",
            "<html><body>Please log in</body></html>",
        ),
        Mode::Truncated => simple(
            "200 OK",
            "application/json",
            r#"{"keys":[{"kty":"RSA","kid":"k1","n":"u1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0"#,
        ),
        Mode::Redirect(to) => format!(
            "HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        ),
        Mode::Close => return,
        Mode::StallBody => {
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{\"keys\":[")
                .await;
            tokio::time::sleep(Duration::from_secs(10)).await;
            return;
        }
        Mode::Huge { bytes, declared } => {
            let head = if *declared {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {bytes}\r\nconnection: close\r\n\r\n"
                )
            } else {
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n"
                    .to_string()
            };
            if sock.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let block = vec![b' '; 64 * 1024];
            let mut sent = 0;
            if sock.write_all(b"\"").await.is_err() {
                return;
            }
            while sent < *bytes {
                let n = block.len().min(bytes - sent);
                if sock.write_all(&block[..n]).await.is_err() {
                    break;
                }
                sent += n;
                s.streamed.fetch_add(n, Ordering::SeqCst);
            }
            return;
        }
        Mode::Delay(..) => unreachable!(),
    };
    let _ = sock.write_all(reply.as_bytes()).await;
    let _ = sock.shutdown().await;
}

/// Every way an endpoint can fail, with a timeout of 500 ms on the client side.
fn failures(elsewhere: &str) -> Vec<Mode> {
    vec![
        Mode::Delay(Duration::from_secs(3), Box::new(Mode::Json(json!({})))),
        Mode::Status(500),
        Mode::Status(502),
        Mode::Status(503),
        Mode::Status(429),
        Mode::Status(401),
        Mode::Html,
        Mode::Truncated,
        Mode::Huge {
            bytes: 50 * MB,
            declared: true,
        },
        Mode::Huge {
            bytes: 50 * MB,
            declared: false,
        },
        Mode::Redirect(format!("{elsewhere}/jwks")),
        Mode::Close,
        Mode::StallBody,
    ]
}

/// A URL on loopback where nothing listens.
/// A URL whose connections are refused, and the socket that keeps it so: a loopback port held
/// bound but never listened on. A port merely released would go to the next test that binds
/// one, which then answers (the flake this replaced).
fn refused_url(path: &str) -> (String, tokio::net::TcpSocket) {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind");
    let port = socket.local_addr().expect("bound address").port();
    (format!("http://127.0.0.1:{port}{path}"), socket)
}

// ---------------------------------------------------------------------------------------------
// The auth layer over HTTP

fn http() -> IdpClientConfig {
    IdpClientConfig {
        allow_insecure_http: true,
        timeout: Duration::from_millis(500),
        connect_timeout: Duration::from_millis(500),
        ..Default::default()
    }
}

async fn serve(provider: Arc<dyn AuthProvider>) -> String {
    let app = Router::new()
        .route(
            "/api/agents",
            get(|u: AuthUser| async move { axum::Json(json!({"user": u.0.id})) }),
        )
        .layer(Auth::mastra_defaults(provider).build().layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    retry_after: Option<String>,
    body: String,
    took: Duration,
}

async fn call(base: &str, token: &str) -> Reply {
    let started = Instant::now();
    let res = reqwest::Client::new()
        .get(format!("{base}/api/agents"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = res.text().await.unwrap();
    Reply {
        status,
        retry_after,
        body,
        took: started.elapsed(),
    }
}

fn assert_503(r: &Reply, what: &str) {
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{what}: {r:?}");
    assert!(r.retry_after.is_some(), "{what}: 503 without Retry-After");
    assert!(
        r.body.contains("service unavailable"),
        "{what}: body {:?}",
        r.body
    );
    // Bounded by the 500 ms client timeout (plus scheduling), never by the IdP.
    assert!(r.took < Duration::from_secs(3), "{what}: took {:?}", r.took);
}

fn seq() -> u64 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

fn claims(sub: &str) -> Value {
    json!({"sub": sub, "iss": ISS, "aud": AUD, "exp": now() + 600, "iat": now(), "jti": seq()})
}

/// A valid RS256 token for kid `k1` (fixture `rsa2048.key`).
fn valid(sub: &str) -> String {
    sign(Algorithm::RS256, Some("k1"), &claims(sub))
}

/// Signed by another key under kid `k1`.
fn forged(sub: &str) -> String {
    sign_with("rsa2048-b.key", Algorithm::RS256, Some("k1"), &claims(sub))
}

fn expired(sub: &str) -> String {
    let mut c = claims(sub);
    c["exp"] = json!(now() - 3600);
    sign(Algorithm::RS256, Some("k1"), &c)
}

fn jwks_doc() -> Value {
    json!({"keys": [jwk(Algorithm::RS256, "k1")]})
}

fn jwks_provider(url: &str, timing: KeySetTiming) -> Arc<dyn AuthProvider> {
    Arc::new(
        JwksProvider::new(JwksConfig {
            jwks_uri: url.to_owned(),
            issuer: Some(ISS.into()),
            audience: Some(AUD.into()),
            http: http(),
            key_set: timing,
            ..JwksConfig::default()
        })
        .unwrap(),
    )
}

// ---------------------------------------------------------------------------------------------
// Key sets

#[tokio::test]
async fn jwks_unreachable_with_no_cached_keys_is_503_for_every_failure() {
    let elsewhere = Hostile::start(Mode::Json(jwks_doc())).await;
    let mut cases: Vec<(String, String, Option<Hostile>)> = Vec::new();
    for mode in failures(&elsewhere.base) {
        let h = Hostile::start(mode.clone()).await;
        cases.push((mode.name(), h.url("/jwks"), Some(h)));
    }
    let (refused, _held) = refused_url("/jwks");
    cases.push(("connection refused".into(), refused, None));
    for (what, url, _keep) in &cases {
        let base = serve(jwks_provider(url, KeySetTiming::default())).await;
        for token in [valid("u1"), forged("u1"), expired("u1")] {
            let r = call(&base, &token).await;
            assert_503(&r, what);
        }
    }
    assert_eq!(
        elsewhere.requests(),
        0,
        "a redirect was followed to another host"
    );
}

#[tokio::test]
async fn cached_keys_keep_serving_through_every_failure() {
    let elsewhere = Hostile::start(Mode::Json(jwks_doc())).await;
    for mode in failures(&elsewhere.base) {
        let h = Hostile::start(Mode::Json(jwks_doc())).await;
        let base = serve(jwks_provider(&h.url("/jwks"), KeySetTiming::default())).await;
        assert_eq!(call(&base, &valid("warm")).await.status, StatusCode::OK);
        h.set(mode.clone());
        let what = mode.name();
        for i in 0..3 {
            let r = call(&base, &valid(&format!("u{i}"))).await;
            assert_eq!(r.status, StatusCode::OK, "{what}: cached keys must serve");
            let r = call(&base, &forged("u")).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: forged {r:?}");
            let r = call(&base, &expired("u")).await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: expired {r:?}");
        }
        // An unknown kid forces one refresh, which fails: 503 (the IdP may have rotated), and
        // the known keys still serve afterwards.
        let other_kid = sign(Algorithm::RS256, Some("k9"), &claims("u"));
        assert_503(&call(&base, &other_kid).await, &what);
        assert_eq!(call(&base, &valid("after")).await.status, StatusCode::OK);
    }
    assert_eq!(elsewhere.requests(), 0);
}

#[tokio::test]
async fn expired_key_set_is_served_stale_while_the_idp_is_down_then_503() {
    let h = Hostile::start(Mode::Json(jwks_doc())).await;
    let timing = KeySetTiming {
        default_ttl: Duration::from_millis(200),
        min_ttl: Duration::from_millis(200),
        stale_if_error: Duration::from_millis(1500),
        ..KeySetTiming::default()
    };
    let base = serve(jwks_provider(&h.url("/jwks"), timing)).await;
    assert_eq!(call(&base, &valid("u")).await.status, StatusCode::OK);
    h.set(Mode::Status(503));
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Past the lifetime, within stale-if-error: still served.
    assert_eq!(call(&base, &valid("u1")).await.status, StatusCode::OK);
    assert_eq!(
        call(&base, &forged("u1")).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Past stale-if-error: no usable keys, IdP down -> 503.
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_503(
        &call(&base, &valid("u2")).await,
        "stale past stale-if-error",
    );
    assert_503(
        &call(&base, &forged("u2")).await,
        "stale past stale-if-error",
    );
    // Recovery.
    h.set(Mode::Json(jwks_doc()));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let r = call(&base, &valid("u3")).await;
        if r.status == StatusCode::OK {
            break;
        }
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{r:?}");
        assert!(Instant::now() < deadline, "no recovery");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_key_set_that_publishes_no_usable_key_is_401_not_503() {
    // The IdP answers, without the token's key: the token is not valid (401), the IdP is not
    // down (503 would make clients retry forever).
    for doc in [
        json!({"keys": []}),
        json!({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "k1"}]}),
        json!({"keys": [jwk_from("rsa1024.key", Algorithm::RS256, "k1")]}),
    ] {
        let h = Hostile::start(Mode::Json(doc.clone())).await;
        let base = serve(jwks_provider(&h.url("/jwks"), KeySetTiming::default())).await;
        let r = call(&base, &valid("u")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{doc}: {r:?}");
    }
    // A document of the wrong shape is an IdP failure: 503.
    for doc in [json!([]), json!({"keys": "none"}), json!({"no": "keys"})] {
        let h = Hostile::start(Mode::Json(doc.clone())).await;
        let base = serve(jwks_provider(&h.url("/jwks"), KeySetTiming::default())).await;
        assert_503(&call(&base, &valid("u")).await, &doc.to_string());
    }
}

#[tokio::test]
async fn oidc_discovery_failures_are_503() {
    let elsewhere = Hostile::start(Mode::Json(jwks_doc())).await;
    let mut modes = failures(&elsewhere.base);
    // Discovery answering JSON that is not a discovery document, or one for another issuer.
    modes.push(Mode::Json(json!({"keys": []})));
    modes.push(Mode::Json(
        json!({"issuer": "https://evil.example", "jwks_uri": format!("{}/jwks", elsewhere.base)}),
    ));
    for mode in modes {
        let h = Hostile::start(mode.clone()).await;
        // The JWKS itself would be fine: only discovery fails.
        h.set_path("/jwks", Mode::Json(jwks_doc()));
        let provider = OidcProvider::new(OidcConfig {
            issuer: h.base.clone(),
            audience: Some(AUD.into()),
            http: http(),
            ..OidcConfig::default()
        })
        .unwrap();
        let base = serve(Arc::new(provider)).await;
        let mut c = claims("u");
        c["iss"] = json!(h.base);
        let token = sign(Algorithm::RS256, Some("k1"), &c);
        let r = call(&base, &token).await;
        assert_503(&r, &format!("discovery: {}", mode.name()));
    }
    assert_eq!(elsewhere.requests(), 0, "discovery pointed keys elsewhere");
}

#[tokio::test]
async fn oidc_discovery_ok_but_jwks_failing_is_503() {
    let elsewhere = Hostile::start(Mode::Json(jwks_doc())).await;
    for mode in failures(&elsewhere.base) {
        let h = Hostile::start(mode.clone()).await;
        h.set_path(
            "/.well-known/openid-configuration",
            Mode::Json(json!({"issuer": h.base, "jwks_uri": h.url("/jwks")})),
        );
        let provider = OidcProvider::new(OidcConfig {
            issuer: h.base.clone(),
            audience: Some(AUD.into()),
            http: http(),
            ..OidcConfig::default()
        })
        .unwrap();
        let base = serve(Arc::new(provider)).await;
        let mut c = claims("u");
        c["iss"] = json!(h.base);
        let r = call(&base, &sign(Algorithm::RS256, Some("k1"), &c)).await;
        assert_503(&r, &format!("jwks after discovery: {}", mode.name()));
    }
    assert_eq!(elsewhere.requests(), 0);
}

#[tokio::test]
async fn keys_rotated_under_load_never_give_a_wrong_decision() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let provider = jwks_provider(&fake.jwks_url(), KeySetTiming::default());
    let base = serve(provider).await;
    // Phase 0: k1 published. Phase 1: k1 + k2 (k2 = rsa2048-b). Phase 2: k2 only, then the IdP
    // goes down: k1 tokens stay valid from the cached set, k2 ones too.
    let phase = Arc::new(AtomicUsize::new(0));
    let wrong = Arc::new(Mutex::new(Vec::<String>::new()));
    let counts = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..8 {
        let (base, phase, wrong, counts, stop) = (
            base.clone(),
            phase.clone(),
            wrong.clone(),
            counts.clone(),
            stop.clone(),
        );
        workers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0u64;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let p = phase.load(Ordering::SeqCst);
                let sub = format!("w{w}-{i}");
                let (kind, token, expected) = match i % 6 {
                    0 => ("k1 valid", valid(&sub), 200),
                    1 => ("forged", forged(&sub), 401),
                    2 => ("expired", expired(&sub), 401),
                    3 if p >= 1 => (
                        "k2 valid",
                        sign_with("rsa2048-b.key", Algorithm::RS256, Some("k2"), &claims(&sub)),
                        200,
                    ),
                    // Sprayed only once k2 is known: a forced refresh for an unknown kid holds
                    // the 30 s cooldown, during which a newly rotated kid is not fetched either
                    // (rate limit by design; see SECURITY.md).
                    4 if p >= 2 => (
                        "unpublished kid k3",
                        sign(Algorithm::ES256, Some("k3"), &claims(&sub)),
                        // With the IdP down, a refresh for it may fail: 503 is not an allow
                        // either.
                        if p >= 3 { 0 } else { 401 },
                    ),
                    _ => ("no token", String::new(), 401),
                };
                let mut req = client.get(format!("{base}/api/agents"));
                if !token.is_empty() {
                    req = req.bearer_auth(&token);
                }
                let status = req.send().await.unwrap().status().as_u16();
                counts.fetch_add(1, Ordering::SeqCst);
                let ok = match expected {
                    0 => status == 401 || status == 503,
                    e => status == e,
                };
                if !ok {
                    wrong
                        .lock()
                        .unwrap()
                        .push(format!("phase {p} {kind}: {status}, expected {expected}"));
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    fake.set_keys(vec![
        jwk(Algorithm::RS256, "k1"),
        jwk_from("rsa2048-b.key", Algorithm::RS256, "k2"),
    ]);
    phase.store(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(700)).await;
    fake.set_keys(vec![jwk_from("rsa2048-b.key", Algorithm::RS256, "k2")]);
    phase.store(2, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    fake.set_behavior(fakes::jwks::Behavior::Status(503));
    phase.store(3, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.await.unwrap();
    }
    let wrong = wrong.lock().unwrap();
    assert!(
        wrong.is_empty(),
        "{} wrong decisions of {}: {:?}",
        wrong.len(),
        counts.load(Ordering::SeqCst),
        &wrong[..wrong.len().min(20)]
    );
    assert!(counts.load(Ordering::SeqCst) > 100);
    // One initial fetch and one forced refresh for k2; the k3 spray is rate-limited.
    assert!(fake.requests() <= 3, "{} JWKS fetches", fake.requests());
}

// ---------------------------------------------------------------------------------------------
// Memory: a 50 MB answer is never buffered

fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<usize>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

#[tokio::test]
async fn fifty_megabyte_answers_are_capped_not_buffered() {
    let undeclared = Hostile::start(Mode::Huge {
        bytes: 50 * MB,
        declared: false,
    })
    .await;
    let declared = Hostile::start(Mode::Huge {
        bytes: 50 * MB,
        declared: true,
    })
    .await;
    let peak = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                peak.fetch_max(rss_bytes(), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let before = rss_bytes();
    const ROUNDS: usize = 10;
    for h in [&undeclared, &declared] {
        for _ in 0..ROUNDS {
            // A fresh provider each time: every call is a cold fetch of the 50 MB document.
            let base = serve(jwks_provider(&h.url("/jwks"), KeySetTiming::default())).await;
            assert_503(&call(&base, &valid("u")).await, "50 MB");
        }
    }
    stop.store(true, Ordering::SeqCst);
    sampler.join().unwrap();
    let growth = peak.load(Ordering::SeqCst).saturating_sub(before);
    let sent = undeclared.streamed();
    eprintln!(
        "50 MB bodies: {} MB offered in {ROUNDS} rounds, {} MB accepted by the socket, RSS before {} MB, peak growth {} MB",
        ROUNDS * 50,
        sent / MB,
        before / MB,
        growth / MB
    );
    // The client stops reading at its 1 MiB cap: only socket buffers' worth gets written.
    assert!(
        sent < ROUNDS * 20 * MB,
        "{} MB streamed for {ROUNDS} requests",
        sent / MB
    );
    // With a declared length over the cap, the body is not read at all.
    assert!(
        declared.streamed() < ROUNDS * 20 * MB,
        "{} MB streamed",
        declared.streamed() / MB
    );
    assert!(
        growth < 48 * MB,
        "RSS grew {} MB while refusing 50 MB bodies",
        growth / MB
    );
}

// ---------------------------------------------------------------------------------------------
// Authorization backends

/// Runs `scenario` against a [`Hostile`] in each failure mode; every answer must be a 503,
/// except that where a `401` from the backend means "this token is not valid" (GoTrue's
/// `/auth/v1/user`), `status 401` must give a 401.
async fn assert_backend_failures_are_503<F, Fut>(what: &str, elsewhere: &Hostile, mut scenario: F)
where
    F: FnMut(Hostile, u64) -> Fut,
    Fut: std::future::Future<Output = Reply>,
{
    let mut modes: Vec<(String, Option<Mode>)> = failures(&elsewhere.base)
        .into_iter()
        .map(|m| (m.name(), Some(m)))
        .collect();
    modes.push(("connection refused".into(), None));
    for (i, (name, mode)) in modes.into_iter().enumerate() {
        let mut _held = None;
        let h = match mode {
            Some(m) => Hostile::start(m).await,
            None => {
                let h = Hostile::start(Mode::Close).await;
                let (url, socket) = refused_url("");
                _held = Some(socket);
                Hostile {
                    base: url,
                    state: h.state.clone(),
                    task: tokio::spawn(async {}),
                }
            }
        };
        let r = scenario(h, i as u64).await;
        if what.contains("gotrue") && name == "status 401" {
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {name}: {r:?}");
            continue;
        }
        assert_503(&r, &format!("{what}: {name}"));
    }
    assert_eq!(elsewhere.requests(), 0, "{what}: a redirect was followed");
}

#[tokio::test]
async fn workos_user_api_failures_are_503() {
    const CLIENT_ID: &str = "client_01FAULT";
    let keys = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let elsewhere = Hostile::start(Mode::Json(json!({"id": "user_x"}))).await;
    assert_backend_failures_are_503("workos users API", &elsewhere, |h, i| {
        let jwks = keys.jwks_url();
        async move {
            let provider = WorkosProvider::new(WorkosConfig {
                api_key: Some("sk_test_fault_0123456789".into()),
                client_id: Some(CLIENT_ID.into()),
                api_base: h.base.clone(),
                jwks_uri: Some(jwks),
                issuer: Some(ISS.into()),
                allow_insecure_http: true,
                http_timeout: Duration::from_millis(500),
                ..WorkosConfig::default()
            })
            .unwrap();
            let base = serve(Arc::new(provider)).await;
            let c = json!({"sub": format!("user_{i}"), "iss": ISS, "exp": now() + 300, "iat": now(), "jti": seq()});
            let r = call(&base, &sign(Algorithm::RS256, Some("k1"), &c)).await;
            drop(h);
            r
        }
    })
    .await;
}

#[tokio::test]
async fn clerk_memberships_api_failures_are_503() {
    let keys = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let elsewhere = Hostile::start(Mode::Json(json!({"data": []}))).await;
    let host = "clerk.fault.example";
    let pk = format!(
        "pk_test_{}",
        base64::engine::general_purpose::STANDARD.encode(format!("{host}$"))
    );
    assert_backend_failures_are_503("clerk memberships API", &elsewhere, |h, i| {
        let (jwks, pk) = (keys.jwks_url(), pk.clone());
        async move {
            let provider = ClerkProvider::new(ClerkConfig {
                publishable_key: Some(pk),
                jwks_uri: Some(jwks),
                secret_key: Some("sk_test_fault_backend_0123456789".into()),
                api_base: h.base.clone(),
                organization_id: Some("org_acme".into()),
                allow_insecure_http: true,
                http_timeout: Duration::from_millis(500),
                ..ClerkConfig::default()
            })
            .unwrap();
            let base = serve(Arc::new(provider)).await;
            let t = now();
            let c = json!({"sub": format!("user_{i}"), "iss": format!("https://{host}"), "exp": t + 600, "iat": t, "nbf": t - 5, "sid": "sess_1", "jti": seq()});
            let r = call(&base, &sign(Algorithm::RS256, Some("k1"), &c)).await;
            drop(h);
            r
        }
    })
    .await;
}

const PROJECT: &str = "demo-fault";
const CLIENT_EMAIL: &str = "firebase-adminsdk-test@demo-fault.iam.gserviceaccount.com";

fn service_account(token_uri: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": fixture("service-account.key"),
        "client_email": CLIENT_EMAIL,
        "token_uri": token_uri,
    })
    .to_string()
}

fn firebase_token(uid: &str) -> String {
    let t = now();
    let c = json!({
        "iss": format!("https://securetoken.google.com/{PROJECT}"), "aud": PROJECT,
        "auth_time": t - 120, "user_id": uid, "sub": uid, "iat": t - 60, "exp": t + 3000,
    });
    sign_with("rsa2048.key", Algorithm::RS256, Some("fb1"), &c)
}

#[tokio::test]
async fn firebase_oauth_and_firestore_failures_are_503() {
    let certs = JwksFake::start_with(cert_map(&[("fb1", "rsa2048.crt")])).await;
    let oauth = GoogleTokenFake::start(
        &fixture("service-account.pub"),
        CLIENT_EMAIL,
        Some("0123456789abcdef0123456789abcdef01234567"),
        DATASTORE_SCOPE,
    )
    .await;
    let elsewhere = Hostile::start(Mode::Json(json!({"access_token": "x"}))).await;
    // The OAuth token endpoint failing.
    assert_backend_failures_are_503("google oauth token endpoint", &elsewhere, |h, i| {
        let certs_url = certs.certs_url();
        async move {
            let provider = FirebaseProvider::new(FirebaseConfig {
                service_account: Some(service_account(&h.url("/token")).into()),
                certs_url: Some(certs_url),
                firestore_base_url: Some(h.base.clone()),
                allow_insecure_http: true,
                timeout: Duration::from_millis(500),
                connect_timeout: Duration::from_millis(500),
                ..FirebaseConfig::default()
            })
            .unwrap();
            let base = serve(Arc::new(provider)).await;
            let r = call(&base, &firebase_token(&format!("uid{i}"))).await;
            drop(h);
            r
        }
    })
    .await;
    // Firestore failing (the token endpoint works).
    assert_backend_failures_are_503("firestore", &elsewhere, |h, i| {
        let (certs_url, token_uri) = (certs.certs_url(), oauth.token_uri());
        async move {
            let provider = FirebaseProvider::new(FirebaseConfig {
                service_account: Some(service_account(&token_uri).into()),
                certs_url: Some(certs_url),
                firestore_base_url: Some(h.base.clone()),
                allow_insecure_http: true,
                timeout: Duration::from_millis(500),
                connect_timeout: Duration::from_millis(500),
                ..FirebaseConfig::default()
            })
            .unwrap();
            let base = serve(Arc::new(provider)).await;
            let r = call(&base, &firebase_token(&format!("uid{i}"))).await;
            drop(h);
            r
        }
    })
    .await;
}

#[tokio::test]
async fn supabase_gotrue_and_postgrest_failures_are_503() {
    let minting = fakes::supabase::SupabaseFake::start().await;
    let elsewhere = Hostile::start(Mode::Json(json!({"id": "x"}))).await;
    // Remote verification: GoTrue's /auth/v1/user failing.
    assert_backend_failures_are_503("supabase gotrue", &elsewhere, |h, i| {
        let token = minting.token_with(json!({
            "sub": format!("6f1b2c3d-0000-4000-8000-{i:012}"),
            "iss": format!("{}/auth/v1", h.base),
        }));
        async move {
            let provider = SupabaseProvider::new(SupabaseConfig {
                allow_insecure_http: true,
                timeout: Duration::from_millis(500),
                connect_timeout: Duration::from_millis(500),
                ..SupabaseConfig::new(h.base.clone(), fakes::supabase::ANON_KEY)
            })
            .unwrap();
            let base = serve(Arc::new(provider)).await;
            let r = call(&base, &token).await;
            drop(h);
            r
        }
    })
    .await;
    // Local HS256 verification; PostgREST's users.isAdmin lookup failing.
    assert_backend_failures_are_503("supabase postgrest", &elsewhere, |h, i| {
        let token = minting.token_with(json!({
            "sub": format!("6f1b2c3d-0000-4000-8000-{i:012}"),
            "iss": format!("{}/auth/v1", h.base),
        }));
        async move {
            let provider = SupabaseProvider::new(SupabaseConfig {
                jwt_secret: Some(fakes::supabase::JWT_SECRET.into()),
                allow_insecure_http: true,
                timeout: Duration::from_millis(500),
                connect_timeout: Duration::from_millis(500),
                ..SupabaseConfig::new(h.base.clone(), fakes::supabase::ANON_KEY)
            })
            .unwrap();
            let base = serve(Arc::new(provider)).await;
            let r = call(&base, &token).await;
            drop(h);
            r
        }
    })
    .await;
}
