//! Shared pieces of the auth benches: keys, token minting, a local JWKS server, routers.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use http::Request;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mastra_auth::idp_http::IdpClientConfig;
use mastra_auth::providers::{JwksConfig, JwksProvider, JwtProvider, JwtProviderConfig};
use mastra_auth::{Auth, AuthProvider};
use serde_json::{Value, json};

pub const SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";
pub const ISSUER: &str = "https://issuer.bench.test/";
pub const AUDIENCE: &str = "api://bench";

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A signing key for one algorithm, with its public side as PEM and JWK.
pub struct Signer {
    pub alg: Algorithm,
    pub encoding: EncodingKey,
    pub kid: Option<String>,
}

impl Signer {
    pub fn hs256() -> Signer {
        Signer {
            alg: Algorithm::HS256,
            encoding: EncodingKey::from_secret(SECRET.as_bytes()),
            kid: None,
        }
    }

    /// RS256 (`rsa2048.key`), ES256 (`p256.key`) or EdDSA (`ed25519.key`), with `kid`.
    pub fn asymmetric(alg: Algorithm) -> Signer {
        let encoding = match alg {
            Algorithm::RS256 | Algorithm::PS256 => {
                EncodingKey::from_rsa_pem(fixture("rsa2048.key").as_bytes()).unwrap()
            }
            Algorithm::ES256 => EncodingKey::from_ec_pem(fixture("p256.key").as_bytes()).unwrap(),
            Algorithm::EdDSA => {
                EncodingKey::from_ed_pem(fixture("ed25519.key").as_bytes()).unwrap()
            }
            a => panic!("no fixture for {a:?}"),
        };
        Signer {
            alg,
            encoding,
            kid: Some(format!("bench-{alg:?}")),
        }
    }

    pub fn public_pem(&self) -> String {
        fixture(match self.alg {
            Algorithm::RS256 | Algorithm::PS256 => "rsa2048.pub",
            Algorithm::ES256 => "p256.pub",
            Algorithm::EdDSA => "ed25519.pub",
            a => panic!("no fixture for {a:?}"),
        })
    }

    pub fn jwk(&self) -> Value {
        let mut jwk =
            serde_json::to_value(Jwk::from_encoding_key(&self.encoding, self.alg).unwrap())
                .unwrap();
        jwk["kid"] = json!(self.kid);
        jwk["use"] = json!("sig");
        jwk
    }

    /// A token for user `n`: sub, name, role, iat, exp (+1 h), and iss/aud when `idp`.
    pub fn mint(&self, n: u64, idp: bool) -> String {
        let now = mastra_auth::jwt::now_secs();
        let mut claims = json!({
            "sub": format!("user-{n}"), "name": "Bench User", "role": "user",
            "iat": now, "exp": now + 3600,
        });
        if idp {
            claims["iss"] = json!(ISSUER);
            claims["aud"] = json!(AUDIENCE);
        }
        let mut header = Header::new(self.alg);
        header.kid = self.kid.clone();
        jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap()
    }

    /// `count` distinct tokens, minted on all cores.
    pub fn mint_many(&self, start: u64, count: u64, idp: bool) -> Vec<String> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        let per = count.div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let from = start + t * per;
                    let to = (from + per).min(start + count);
                    s.spawn(move || (from..to).map(|n| self.mint(n, idp)).collect::<Vec<_>>())
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        })
    }
}

/// The `jwt` provider for a signer (secret for HS256, PEM public key otherwise).
pub fn jwt_provider(s: &Signer, cache_capacity: u64) -> Arc<dyn AuthProvider> {
    let mut cfg = JwtProviderConfig {
        cache_capacity,
        ..Default::default()
    };
    if s.alg == Algorithm::HS256 {
        cfg.secret = Some(SECRET.into());
    } else {
        cfg.public_key_pem = Some(s.public_pem());
    }
    Arc::new(JwtProvider::new(cfg).unwrap())
}

/// The `jwks` provider against a local JWKS URL.
pub fn jwks_provider(url: &str, cache_capacity: u64) -> Arc<JwksProvider> {
    Arc::new(
        JwksProvider::new(JwksConfig {
            cache_capacity,
            http: IdpClientConfig {
                allow_insecure_http: true,
                timeout: Duration::from_secs(5),
                ..Default::default()
            },
            ..JwksConfig::new(url, ISSUER, AUDIENCE)
        })
        .unwrap(),
    )
}

/// A JWKS document served on loopback; counts the fetches.
pub struct JwksServer {
    pub url: String,
    pub hits: Arc<AtomicUsize>,
}

impl JwksServer {
    /// Starts serving `{"keys": keys}` at `/jwks` on the current tokio runtime.
    pub async fn start(keys: Vec<Value>) -> JwksServer {
        let doc = Arc::new(json!({ "keys": keys }).to_string());
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        let app = Router::new().route(
            "/jwks",
            get(move || {
                let doc = doc.clone();
                h.fetch_add(1, Ordering::Relaxed);
                async move {
                    (
                        [
                            (http::header::CONTENT_TYPE, "application/json"),
                            (http::header::CACHE_CONTROL, "max-age=600"),
                        ],
                        (*doc).clone(),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        JwksServer { url, hits }
    }
}

/// The routes the pipeline bench calls: a cheap GET and a small JSON POST under `/api`.
pub fn router(auth: Option<Auth>) -> Router {
    let app = Router::new()
        .route("/api/ping", get(|| async { "pong" }))
        .route(
            "/api/agents/{id}/generate",
            post(|body: String| async move { body.len().to_string() }),
        );
    match auth {
        Some(a) => app.layer(a.layer()),
        None => app,
    }
}

/// `GET /api/ping`, with `Authorization: Bearer <token>` when given.
pub fn ping(token: Option<&str>) -> Request<Body> {
    let mut b = Request::builder().uri("/api/ping");
    if let Some(t) = token {
        b = b.header(http::header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b.body(Body::empty()).unwrap()
}
