//! Every provider from `mastra.toml`: missing settings are named, and the JWKS-based providers
//! work end to end against a local JWKS on loopback (the production code path; only the base URL
//! differs).

use axum::Router;
use axum::routing::get;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mastra_server::app;
use mastra_server::config::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{self, start_app as start};

fn rsa_key() -> EncodingKey {
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../auth/tests/fixtures/rsa2048.key"
    ))
    .unwrap();
    EncodingKey::from_rsa_pem(&pem).unwrap()
}

fn sign(claims: Value) -> String {
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("k1".into());
    jsonwebtoken::encode(&h, &claims, &rsa_key()).unwrap()
}

fn now() -> u64 {
    mastra_auth::jwt::now_secs()
}

/// A JWKS server at `/.well-known/jwks.json` and `/jwks`.
async fn jwks_server() -> String {
    let mut jwk =
        serde_json::to_value(Jwk::from_encoding_key(&rsa_key(), Algorithm::RS256).unwrap())
            .unwrap();
    jwk["kid"] = json!("k1");
    jwk["use"] = json!("sig");
    let doc = json!({"keys": [jwk]});
    let d1 = doc.clone();
    let router = Router::new()
        .route(
            "/.well-known/jwks.json",
            get(move || async move { axum::Json(d1) }),
        )
        .route("/jwks", get(move || async move { axum::Json(doc) }));
    format!("http://{}", support::serve(router).await)
}

async fn status(base: &str, token: &str) -> StatusCode {
    reqwest::Client::new()
        .get(format!("{base}/api/agents"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn jwks_provider_from_config() {
    let idp = jwks_server().await;
    let base = start(&format!(
        r#"
[server]
request_logs = false
[auth]
provider = "jwks"
[auth.jwks]
jwks_uri = "{idp}/jwks"
issuer = "https://issuer.example/"
audience = "api://agents"
allow_insecure_http = true
"#
    ))
    .await;
    let good = sign(
        json!({"sub": "u", "iss": "https://issuer.example/", "aud": "api://agents", "exp": now() + 60}),
    );
    assert_eq!(status(&base, &good).await, StatusCode::OK);
    let wrong_aud = sign(
        json!({"sub": "u", "iss": "https://issuer.example/", "aud": "other", "exp": now() + 60}),
    );
    assert_eq!(status(&base, &wrong_aud).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn auth0_provider_from_config_with_base_url_override() {
    let idp = jwks_server().await;
    let base = start(&format!(
        r#"
[server]
request_logs = false
[auth]
provider = "auth0"
[auth.auth0]
domain = "tenant.example.auth0.com"
audience = "https://api.example.com"
base_url = "{idp}"
allow_insecure_http = true
"#
    ))
    .await;
    let good = sign(json!({
        "sub": "auth0|123",
        "iss": "https://tenant.example.auth0.com/",
        "aud": "https://api.example.com",
        "exp": now() + 60
    }));
    assert_eq!(status(&base, &good).await, StatusCode::OK);
    let other_tenant = sign(json!({
        "sub": "auth0|123",
        "iss": "https://other.auth0.com/",
        "aud": "https://api.example.com",
        "exp": now() + 60
    }));
    assert_eq!(status(&base, &other_tenant).await, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unreachable_jwks_is_503() {
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = dead.local_addr().unwrap();
    drop(dead);
    let base = start(&format!(
        r#"
[server]
request_logs = false
[auth]
provider = "jwks"
[auth.jwks]
jwks_uri = "http://{addr}/jwks"
issuer = "https://issuer.example/"
audience = "api://agents"
allow_insecure_http = true
"#
    ))
    .await;
    let t = sign(
        json!({"sub": "u", "iss": "https://issuer.example/", "aud": "api://agents", "exp": now() + 60}),
    );
    assert_eq!(status(&base, &t).await, StatusCode::SERVICE_UNAVAILABLE);
}

#[test]
fn plain_http_jwks_refused_without_opt_in() {
    let cfg = Config::from_toml_str(
        "[auth]\nprovider = \"jwks\"\n[auth.jwks]\njwks_uri = \"http://idp.example/jwks\"\nissuer = \"https://i/\"\naudience = \"a\"\n",
        "t.toml",
    )
    .unwrap();
    let err = app::build(&cfg).unwrap_err().to_string();
    assert!(err.contains("auth.jwks"), "{err}");
    assert!(err.to_lowercase().contains("http"), "{err}");
}

#[test]
fn missing_settings_are_named() {
    for (provider, needle) in [
        ("jwks", "jwks_uri"),
        ("oidc", "issuer"),
        ("auth0", "domain"),
        ("clerk", "publishable_key"),
        ("firebase", "service_account"),
        ("supabase", "url"),
        ("workos", "client_id"),
    ] {
        let cfg = Config::from_toml_str(
            &format!("[auth]\nprovider = \"{provider}\"\n[auth.{provider}]\n"),
            "t.toml",
        )
        .unwrap();
        // The environment could fill these; the test names variables that CI never sets.
        let err = match app::build(&cfg) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{provider}: built without required settings"),
        };
        assert!(
            err.contains(&format!("auth.{provider}")),
            "{provider}: {err}"
        );
        assert!(err.contains(needle), "{provider}: {err}");
    }
}

#[test]
fn unknown_keys_in_provider_tables_are_errors() {
    let err = Config::from_toml_str(
        "[auth]\nprovider = \"auth0\"\n[auth.auth0]\ndomian = \"x\"\n",
        "t.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("domian"), "{err}");
}

#[tokio::test]
async fn rules_apply_on_top_of_a_provider_that_authorizes_by_itself() {
    // auth0 decides by itself (has `sub`, not expired); a deny rule must still deny.
    let idp = jwks_server().await;
    let base = start(&format!(
        r#"
[server]
request_logs = false
[auth]
provider = "auth0"
[auth.auth0]
domain = "tenant.example.auth0.com"
audience = "https://api.example.com"
base_url = "{idp}"
allow_insecure_http = true

[[auth.rules]]
path = "/api/agents"
condition = "!has(claims.role) || claims.role != 'admin'"
allow = false
[[auth.rules]]
allow = true
"#
    ))
    .await;
    let token = |role: &str| {
        sign(json!({
            "sub": "auth0|123",
            "role": role,
            "iss": "https://tenant.example.auth0.com/",
            "aud": "https://api.example.com",
            "exp": now() + 60
        }))
    };
    assert_eq!(status(&base, &token("admin")).await, StatusCode::OK);
    assert_eq!(status(&base, &token("user")).await, StatusCode::FORBIDDEN);
}
