//! Helpers shared by the black-box tests of this crate.

pub mod browser;
pub mod oidc_op;
pub mod raw_http;
pub mod workos_fake;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mastra_server::app;
use mastra_server::config::Config;
use serde_json::Value;

/// Serves `router` with `axum::serve` on a free port of 127.0.0.1 and returns its address.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    addr
}

/// As [`serve`], with `ConnectInfo<SocketAddr>` in every request (the proxy routes read it for
/// `X-Forwarded-For`).
pub async fn serve_with_connect_info(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

/// The app assembled from `toml` (named `test.toml`), served by [`serve`]; returns its base URL.
pub async fn start_app(toml: &str) -> String {
    let cfg = Config::from_toml_str(toml, "test.toml").unwrap();
    let router = app::build(&cfg).unwrap();
    format!("http://{}", serve(router).await)
}

/// A reqwest client that ignores the proxy settings of the environment.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

/// An HS256 JWT with `claims`, signed with `secret`.
pub fn hs256_token(secret: &[u8], claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// [`hs256_token`] with `exp` ten minutes from now added to `claims`.
pub fn hs256_token_valid(secret: &[u8], claims: Value) -> String {
    let mut claims = claims;
    claims["exp"] = Value::from(jsonwebtoken::get_current_timestamp() + 600);
    hs256_token(secret, &claims)
}

/// A `tracing_subscriber` writer that keeps everything written to it.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// Everything written so far, lossily decoded.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

/// SIGTERM is process-wide: with every test in one binary, the test that sends SIGTERM to its
/// own process would also stop any `Server::run` (which listens for it) running in another
/// test at that moment. Those tests hold this lock for their whole body.
pub static PROCESS_SIGNALS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
