//! A JWKS / OpenID-discovery / X.509-certificate-map server on loopback, for key-set tests.
//!
//! It serves one key document (a JWK Set or a Google-style `{kid: PEM certificate}` map) at
//! `/jwks`, `/.well-known/jwks.json` and `/certs`, and an OpenID discovery document at
//! `/.well-known/openid-configuration`. Tests can rotate keys, set `Cache-Control` and `ETag`
//! (honouring `If-None-Match` with 304), slow it down, make it fail (5xx, HTML, truncated JSON,
//! huge bodies) and count the requests it answered.
//!
//! Keys come from the fixture files in `tests/fixtures/` (see [`jwk`], [`jwk_from`], [`sign`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// How the key-document endpoints answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Behavior {
    /// The document, with the configured `Cache-Control` / `ETag`.
    Normal,
    /// This status with a short text body.
    Status(u16),
    /// `200 text/html` (a captive portal, a login page).
    Html,
    /// `200 application/json` cut in the middle.
    Truncated,
    /// `200 application/json` of this many bytes (a JSON string padded with spaces).
    Huge(usize),
}

struct Inner {
    doc: Mutex<Value>,
    cache_control: Mutex<Option<String>>,
    etag: Mutex<Option<String>>,
    behavior: Mutex<Behavior>,
    delay: Mutex<Duration>,
    discovery_issuer: Mutex<Option<String>>,
    discovery_jwks_uri: Mutex<Option<String>>,
    base: String,
    requests: AtomicUsize,
    not_modified: AtomicUsize,
    discovery_requests: AtomicUsize,
}

/// A running fake; stops when dropped.
pub struct JwksFake {
    inner: Arc<Inner>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for JwksFake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl JwksFake {
    /// Starts a fake serving an empty JWK Set.
    pub async fn start() -> JwksFake {
        Self::start_with(json!({"keys": []})).await
    }

    /// Starts a fake serving a JWK Set of these keys.
    pub async fn with_keys(keys: Vec<Value>) -> JwksFake {
        Self::start_with(json!({ "keys": keys })).await
    }

    /// Starts a fake serving this document as is.
    pub async fn start_with(doc: Value) -> JwksFake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let inner = Arc::new(Inner {
            doc: Mutex::new(doc),
            cache_control: Mutex::new(None),
            etag: Mutex::new(None),
            behavior: Mutex::new(Behavior::Normal),
            delay: Mutex::new(Duration::ZERO),
            discovery_issuer: Mutex::new(None),
            discovery_jwks_uri: Mutex::new(None),
            base: format!("http://{addr}"),
            requests: AtomicUsize::new(0),
            not_modified: AtomicUsize::new(0),
            discovery_requests: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/jwks", get(key_doc))
            .route("/.well-known/jwks.json", get(key_doc))
            .route("/certs", get(key_doc))
            .route("/.well-known/openid-configuration", get(discovery))
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        JwksFake { inner, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.inner.base
    }

    /// The key-document URL (`{base}/jwks`).
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.inner.base)
    }

    /// The key-document URL under the certificate path (`{base}/certs`).
    pub fn certs_url(&self) -> String {
        format!("{}/certs", self.inner.base)
    }

    /// Replaces the JWK Set (key rotation).
    pub fn set_keys(&self, keys: Vec<Value>) {
        *self.inner.doc.lock().unwrap() = json!({ "keys": keys });
    }

    /// Replaces the served document with any JSON (e.g. a certificate map).
    #[allow(dead_code)] // part of the fake's API (see `google.rs`), unused by the current tests
    pub fn set_document(&self, doc: Value) {
        *self.inner.doc.lock().unwrap() = doc;
    }

    /// Sets (or removes) the `Cache-Control` header of key-document answers.
    pub fn set_cache_control(&self, value: Option<&str>) {
        *self.inner.cache_control.lock().unwrap() = value.map(str::to_owned);
    }

    /// Sets (or removes) the `ETag`; while set, a matching `If-None-Match` gets 304.
    pub fn set_etag(&self, value: Option<&str>) {
        *self.inner.etag.lock().unwrap() = value.map(str::to_owned);
    }

    /// How key-document requests are answered.
    pub fn set_behavior(&self, behavior: Behavior) {
        *self.inner.behavior.lock().unwrap() = behavior;
    }

    /// Delay before every answer (key document and discovery).
    pub fn set_delay(&self, delay: Duration) {
        *self.inner.delay.lock().unwrap() = delay;
    }

    /// The `issuer` the discovery document announces (default: the base URL).
    pub fn set_discovery_issuer(&self, issuer: Option<&str>) {
        *self.inner.discovery_issuer.lock().unwrap() = issuer.map(str::to_owned);
    }

    /// The `jwks_uri` the discovery document announces (default: `{base}/jwks`).
    #[allow(dead_code)] // part of the fake's API, unused by the current tests
    pub fn set_discovery_jwks_uri(&self, uri: Option<&str>) {
        *self.inner.discovery_jwks_uri.lock().unwrap() = uri.map(str::to_owned);
    }

    /// Key-document requests received (any answer).
    pub fn requests(&self) -> usize {
        self.inner.requests.load(Ordering::SeqCst)
    }

    /// Key-document requests answered 304.
    pub fn not_modified(&self) -> usize {
        self.inner.not_modified.load(Ordering::SeqCst)
    }

    /// Discovery requests received.
    pub fn discovery_requests(&self) -> usize {
        self.inner.discovery_requests.load(Ordering::SeqCst)
    }
}

async fn key_doc(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    s.requests.fetch_add(1, Ordering::SeqCst);
    let delay = *s.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let behavior = s.behavior.lock().unwrap().clone();
    match behavior {
        Behavior::Normal => {}
        Behavior::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, "fake failure").into_response();
        }
        Behavior::Html => {
            return (
                [(header::CONTENT_TYPE, "text/html")],
                "<html><body>Please log in</body></html>",
            )
                .into_response();
        }
        Behavior::Truncated => {
            let full = s.doc.lock().unwrap().to_string();
            let cut = full[..full.len() / 2].to_owned();
            return ([(header::CONTENT_TYPE, "application/json")], cut).into_response();
        }
        Behavior::Huge(n) => {
            let mut body = String::with_capacity(n);
            body.push('"');
            body.extend(std::iter::repeat_n(' ', n.saturating_sub(2)));
            body.push('"');
            return ([(header::CONTENT_TYPE, "application/json")], body).into_response();
        }
    }
    let etag = s.etag.lock().unwrap().clone();
    let cache_control = s.cache_control.lock().unwrap().clone();
    let mut res = if let Some(tag) = &etag
        && headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == tag))
    {
        s.not_modified.fetch_add(1, Ordering::SeqCst);
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = s.doc.lock().unwrap().to_string();
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    if let Some(tag) = etag {
        res.headers_mut()
            .insert(header::ETAG, tag.parse().expect("etag header"));
    }
    if let Some(cc) = cache_control {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            cc.parse().expect("cache-control header"),
        );
    }
    res
}

async fn discovery(State(s): State<Arc<Inner>>) -> Response {
    s.discovery_requests.fetch_add(1, Ordering::SeqCst);
    let delay = *s.delay.lock().unwrap();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Behavior::Status(code) = *s.behavior.lock().unwrap() {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, "fake failure").into_response();
    }
    let issuer = s
        .discovery_issuer
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| s.base.clone());
    let jwks_uri = s
        .discovery_jwks_uri
        .lock()
        .unwrap()
        .clone()
        .unwrap_or_else(|| format!("{}/jwks", s.base));
    axum::Json(json!({
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "authorization_endpoint": format!("{}/authorize", s.base),
        "token_endpoint": format!("{}/token", s.base),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
    }))
    .into_response()
}

/// A fixture file's text (`tests/fixtures/<name>`).
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The fixture private key used for `alg` by default: `rsa2048.key` for RS*/PS*, `p256.key`,
/// `p384.key`, `ed25519.key`.
pub fn default_key_file(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 => "p256.key",
        Algorithm::ES384 => "p384.key",
        Algorithm::EdDSA => "ed25519.key",
        _ => "rsa2048.key",
    }
}

fn encoding_key(file: &str, alg: Algorithm) -> EncodingKey {
    let pem = fixture(file);
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(pem.as_bytes()),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem.as_bytes()),
        _ => EncodingKey::from_rsa_pem(pem.as_bytes()),
    }
    .unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The public JWK of the default fixture key for `alg`, with `kid` and `alg` set.
pub fn jwk(alg: Algorithm, kid: &str) -> Value {
    jwk_from(default_key_file(alg), alg, kid)
}

/// The public JWK of fixture private key `file`, with `kid`, `alg` and `use: sig` set.
/// `rsa1024.key` (which the crypto backend refuses to load) is read from `rsa1024.pub`.
pub fn jwk_from(file: &str, alg: Algorithm, kid: &str) -> Value {
    if file == "rsa1024.key" {
        return rsa_jwk_from_public_pem("rsa1024.pub", alg, kid);
    }
    let key = encoding_key(file, alg);
    let mut jwk =
        serde_json::to_value(Jwk::from_encoding_key(&key, alg).expect("jwk")).expect("jwk json");
    jwk["kid"] = json!(kid);
    jwk["use"] = json!("sig");
    jwk
}

/// The same JWK without its `alg` member (the key then serves every algorithm of its type).
pub fn without_alg(mut jwk: Value) -> Value {
    if let Some(o) = jwk.as_object_mut() {
        o.remove("alg");
    }
    jwk
}

/// Signs `claims` with the default fixture key for `alg`, with header `kid`.
pub fn sign(alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    sign_with(default_key_file(alg), alg, kid, claims)
}

/// Signs `claims` with fixture private key `file`.
pub fn sign_with(file: &str, alg: Algorithm, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &encoding_key(file, alg)).expect("sign")
}

/// A Google-style certificate map from `(kid, fixture certificate file)` pairs.
pub fn cert_map(entries: &[(&str, &str)]) -> Value {
    Value::Object(
        entries
            .iter()
            .map(|(kid, file)| ((*kid).to_owned(), Value::String(fixture(file))))
            .collect(),
    )
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// An RSA JWK built from a public-key PEM fixture (SPKI), parsing the PKCS#1 DER by hand.
pub fn rsa_jwk_from_public_pem(file: &str, alg: Algorithm, kid: &str) -> Value {
    use base64::Engine as _;
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(fixture(file).as_bytes()).expect("rsa pem");
    let der = key.try_get_as_bytes().expect("pkcs1 der");
    fn tlv(b: &[u8]) -> (u8, &[u8], &[u8]) {
        let tag = b[0];
        let (len, hdr) = if b[1] < 0x80 {
            (b[1] as usize, 2)
        } else {
            let n = (b[1] & 0x7f) as usize;
            (
                b[2..2 + n]
                    .iter()
                    .fold(0usize, |a, &x| (a << 8) | x as usize),
                2 + n,
            )
        };
        (tag, &b[hdr..hdr + len], &b[hdr + len..])
    }
    let (_, seq, _) = tlv(der);
    let (_, n, rest) = tlv(seq);
    let (_, e, _) = tlv(rest);
    let strip = |x: &[u8]| {
        x.iter()
            .position(|&b| b != 0)
            .map_or(Vec::new(), |i| x[i..].to_vec())
    };
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    json!({
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": format!("{alg:?}"),
        "n": b64.encode(strip(n)),
        "e": b64.encode(strip(e)),
    })
}
