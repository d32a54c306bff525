//! `api_keys` and `composite` providers through the real auth layer over HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common_keys::*;
use async_trait::async_trait;
use axum::Router;
use axum::routing::get;
use http::request::Parts;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mastra_auth::jwt::ClaimsPolicy;
use mastra_auth::pattern::{MethodSet, PatternList};
use mastra_auth::providers::api_keys::{ApiKey, ApiKeysProvider, hash_key};
use mastra_auth::providers::composite::CompositeProvider;
use mastra_auth::providers::{JwtProvider, JwtProviderConfig};
use mastra_auth::rules::{Condition, Rule, Rules};
use mastra_auth::{Auth, AuthError, AuthProvider, AuthUser, User};
use serde_json::{Map, Value, json};

const OTHER_SECRET: &str = "other-tenant-secret-0123456789abcdef0123";
const KEY: &str = "sk_test_0123456789abcdefghijklmn";

fn jwt_provider(name: &str, secret: &str, issuer: &str) -> Arc<dyn AuthProvider> {
    Arc::new(
        JwtProvider::new(JwtProviderConfig {
            name: name.into(),
            secret: Some(secret.into()),
            claims: ClaimsPolicy {
                issuers: vec![issuer.into()],
                ..Default::default()
            },
            ..Default::default()
        })
        .unwrap(),
    )
}

fn api_keys() -> Arc<dyn AuthProvider> {
    let mut claims = Map::new();
    claims.insert("role".into(), "service".into());
    Arc::new(
        ApiKeysProvider::new(
            "api_keys",
            vec![ApiKey::from_hash(0, &hash_key(KEY), "svc".into(), claims).unwrap()],
            PatternList::default(),
            PatternList::default(),
        )
        .unwrap(),
    )
}

/// A member that counts calls and whose backend is down (or denies everyone).
struct Counting {
    name: &'static str,
    calls: Arc<AtomicUsize>,
    issuer: &'static str,
    down: bool,
}

#[async_trait]
impl AuthProvider for Counting {
    fn name(&self) -> &str {
        self.name
    }
    async fn authenticate_token(&self, _: &str, _: &Parts) -> Result<Option<User>, AuthError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down {
            Err(AuthError::authentication_unavailable("idp down"))
        } else {
            Ok(None)
        }
    }
    fn issuers(&self) -> Vec<String> {
        vec![self.issuer.into()]
    }
}

fn hs(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn serve(auth: Auth) -> String {
    let app = Router::new()
        .route(
            "/api/me",
            get(|AuthUser(u): AuthUser| async move {
                axum::Json(json!({"id": u.id, "provider": &*u.provider}))
            }),
        )
        .layer(auth.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn get_me(base: &str, token: &str) -> (u16, Value) {
    let res = reqwest::Client::new()
        .get(format!("{base}/api/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn api_keys_provider_over_http() {
    let base = serve(Auth::builder(api_keys()).build()).await;
    let (s, body) = get_me(&base, KEY).await;
    assert_eq!(s, 200);
    assert_eq!(body, json!({"id": "svc", "provider": "api_keys"}));
    let (s, body) = get_me(&base, "sk_test_wrong_key_0000000000000").await;
    assert_eq!(s, 401);
    assert_eq!(body, json!({"error": "Invalid or expired token"}));
    // Also through ?apiKey=, the Mastra way of passing keys.
    let res = reqwest::get(format!("{base}/api/me?apiKey={KEY}"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn first_member_that_authenticates_wins_and_tenants_stay_apart() {
    let composite = CompositeProvider::new(
        "composite",
        vec![
            jwt_provider("tenant-a", SECRET, "https://a.example/"),
            jwt_provider("tenant-b", OTHER_SECRET, "https://b.example/"),
            api_keys(),
        ],
    )
    .unwrap();
    let base = serve(Auth::builder(Arc::new(composite)).build()).await;
    let a = hs(SECRET, json!({"sub": "alice", "iss": "https://a.example/"}));
    assert_eq!(
        get_me(&base, &a).await,
        (200, json!({"id": "alice", "provider": "tenant-a"}))
    );
    let b = hs(
        OTHER_SECRET,
        json!({"sub": "bob", "iss": "https://b.example/"}),
    );
    assert_eq!(
        get_me(&base, &b).await,
        (200, json!({"id": "bob", "provider": "tenant-b"}))
    );
    assert_eq!(get_me(&base, KEY).await.1["provider"], "api_keys");
    // Tenant A's secret with tenant B's issuer: refused (the issuer's own key decides).
    let cross = hs(
        SECRET,
        json!({"sub": "mallory", "iss": "https://b.example/"}),
    );
    assert_eq!(get_me(&base, &cross).await.0, 401);
}

#[tokio::test]
async fn unknown_issuer_refused_before_any_member_runs() {
    let calls = Arc::new(AtomicUsize::new(0));
    let composite = CompositeProvider::new(
        "composite",
        vec![Arc::new(Counting {
            name: "idp",
            calls: calls.clone(),
            issuer: "https://idp.example/",
            down: false,
        })],
    )
    .unwrap();
    let base = serve(Auth::builder(Arc::new(composite)).build()).await;
    let t = hs(
        SECRET,
        json!({"sub": "x", "iss": "https://unknown.example/"}),
    );
    let (s, body) = get_me(&base, &t).await;
    assert_eq!(s, 401);
    assert_eq!(body, json!({"error": "Invalid or expired token"}));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "no member may be consulted"
    );
    let t = hs(SECRET, json!({"sub": "x", "iss": "https://idp.example/"}));
    assert_eq!(get_me(&base, &t).await.0, 401);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn member_down_is_503_unless_another_accepts() {
    let calls = Arc::new(AtomicUsize::new(0));
    let composite = CompositeProvider::new(
        "composite",
        vec![
            Arc::new(Counting {
                name: "down",
                calls: calls.clone(),
                issuer: "https://down.example/",
                down: true,
            }),
            api_keys(),
        ],
    )
    .unwrap();
    let base = serve(Auth::builder(Arc::new(composite)).build()).await;
    let t = hs(SECRET, json!({"sub": "x", "iss": "https://down.example/"}));
    assert_eq!(get_me(&base, &t).await.0, 503);
    // An API key still works while the IdP is down.
    assert_eq!(get_me(&base, KEY).await.0, 200);
}

#[tokio::test]
async fn authorization_belongs_to_the_member_that_authenticated() {
    // Rules allow only role=service: API-key users pass, JWT users without the role do not.
    let rules = Rules(vec![Rule {
        path: None,
        methods: Some(MethodSet::All),
        condition: Some(Condition::cel("claims.role == 'service'").unwrap()),
        allow: true,
    }]);
    let composite = CompositeProvider::new(
        "composite",
        vec![
            jwt_provider("tenant-a", SECRET, "https://a.example/"),
            api_keys(),
        ],
    )
    .unwrap();
    let base = serve(Auth::builder(Arc::new(composite)).rules(rules).build()).await;
    assert_eq!(get_me(&base, KEY).await.0, 200);
    let a = hs(SECRET, json!({"sub": "alice", "iss": "https://a.example/"}));
    assert_eq!(get_me(&base, &a).await.0, 403);
}

#[test]
fn composite_config_errors() {
    assert!(CompositeProvider::new("c", vec![]).is_err());
    let err = CompositeProvider::new("c", vec![api_keys(), api_keys()]).unwrap_err();
    assert!(err.to_string().contains("api_keys"));
}
