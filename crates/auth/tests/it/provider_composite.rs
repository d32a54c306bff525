//! `api_keys` and `composite` providers through the real auth layer over HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common_keys::*;
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
use mastra_auth::{Auth, AuthError, AuthProvider, AuthUser, User, Verdict};
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
    issuers: Vec<String>,
    down: bool,
}

impl Counting {
    fn new(name: &'static str, calls: &Arc<AtomicUsize>, issuer: &str, down: bool) -> Self {
        Self {
            name,
            calls: calls.clone(),
            issuers: vec![issuer.into()],
            down,
        }
    }
}

impl AuthProvider for Counting {
    fn name(&self) -> &str {
        self.name
    }
    // Awaited, as a remote identity provider is; counted when it runs.
    fn authenticate<'a>(&'a self, _: &'a str, _: &'a Parts) -> Verdict<'a, Option<User>> {
        Verdict::pending(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.down {
                Err(AuthError::authentication_unavailable("idp down"))
            } else {
                Ok(None)
            }
        })
    }
    fn issuers(&self) -> &[String] {
        &self.issuers
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
    let base = serve(Auth::mastra_defaults(api_keys()).build()).await;
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
    let base = serve(Auth::mastra_defaults(Arc::new(composite)).build()).await;
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
        vec![Arc::new(Counting::new(
            "idp",
            &calls,
            "https://idp.example/",
            false,
        ))],
    )
    .unwrap();
    let base = serve(Auth::mastra_defaults(Arc::new(composite)).build()).await;
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
            Arc::new(Counting::new("down", &calls, "https://down.example/", true)),
            api_keys(),
        ],
    )
    .unwrap();
    let base = serve(Auth::mastra_defaults(Arc::new(composite)).build()).await;
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
        permissions: None,
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
    let base = serve(
        Auth::mastra_defaults(Arc::new(composite))
            .rules(rules)
            .build(),
    )
    .await;
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

/// A member that answers as scripted, ready or pending, accepting any issuer; counts the times
/// its answer was computed.
struct Scripted {
    name: &'static str,
    pending: bool,
    answer: fn(&str) -> Result<Option<User>, AuthError>,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(
        name: &'static str,
        pending: bool,
        answer: fn(&str) -> Result<Option<User>, AuthError>,
    ) -> Arc<Self> {
        Arc::new(Self {
            name,
            pending,
            answer,
            calls: AtomicUsize::new(0),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn answer(&self) -> Result<Option<User>, AuthError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        (self.answer)(self.name)
    }
}

impl AuthProvider for Scripted {
    fn name(&self) -> &str {
        self.name
    }
    fn authenticate<'a>(&'a self, _: &'a str, _: &'a Parts) -> Verdict<'a, Option<User>> {
        if self.pending {
            Verdict::pending(async move { self.answer() })
        } else {
            Verdict::Ready(self.answer())
        }
    }
}

fn accepts(name: &str) -> Result<Option<User>, AuthError> {
    Ok(Some(User::from_claims(Map::new(), name.into())))
}

fn no_user(_: &str) -> Result<Option<User>, AuthError> {
    Ok(None)
}

fn down(_: &str) -> Result<Option<User>, AuthError> {
    Err(AuthError::authentication_unavailable("idp down"))
}

fn composite(members: &[Arc<Scripted>]) -> CompositeProvider {
    let members = members
        .iter()
        .map(|m| m.clone() as Arc<dyn AuthProvider>)
        .collect();
    CompositeProvider::new("composite", members).unwrap()
}

fn head(token: &str) -> Parts {
    http::Request::builder()
        .uri("/api/me")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap()
        .into_parts()
        .0
}

fn who(answer: Result<Option<User>, AuthError>) -> String {
    match answer {
        Ok(Some(user)) => user.provider.to_string(),
        Ok(None) => "nobody".into(),
        Err(e) => format!("refused: {e}"),
    }
}

#[tokio::test]
async fn members_that_answer_ready_keep_the_composite_ready() {
    let c = CompositeProvider::new(
        "composite",
        vec![
            jwt_provider("tenant-a", SECRET, "https://a.example/"),
            jwt_provider("tenant-b", OTHER_SECRET, "https://b.example/"),
            api_keys(),
        ],
    )
    .unwrap();
    let a = hs(SECRET, json!({"sub": "alice", "iss": "https://a.example/"}));
    let b = hs(
        OTHER_SECRET,
        json!({"sub": "bob", "iss": "https://b.example/"}),
    );
    let cross = hs(SECRET, json!({"sub": "m", "iss": "https://b.example/"}));
    let unknown = hs(
        SECRET,
        json!({"sub": "x", "iss": "https://unknown.example/"}),
    );
    let parts = head("");
    for (token, expected) in [
        (a.as_str(), "tenant-a"),
        (b.as_str(), "tenant-b"),
        (KEY, "api_keys"),
        (cross.as_str(), "refused: Invalid or expired token"),
        (unknown.as_str(), "refused: Invalid or expired token"),
    ] {
        let verdict = c.authenticate(token, &parts);
        assert!(verdict.is_ready(), "{expected}: {verdict:?}");
        assert_eq!(who(verdict.await), expected);
    }
    // And so is the whole pipeline.
    let auth = Auth::mastra_defaults(Arc::new(c)).build();
    for token in [&a, &b, KEY] {
        assert!(auth.check(&head(token)).is_ready(), "{token}");
    }
}

#[tokio::test]
async fn a_pending_member_keeps_the_order() {
    let t = hs(SECRET, json!({"sub": "x"}));
    let parts = head(&t);
    // The first member that authenticates wins, even when it answers later than the next.
    let (slow, fast) = (
        Scripted::new("slow", true, accepts),
        Scripted::new("fast", false, accepts),
    );
    let c = composite(&[slow.clone(), fast.clone()]);
    let verdict = c.authenticate(&t, &parts);
    assert!(verdict.is_pending());
    assert_eq!(who(verdict.await), "slow");
    assert_eq!((slow.calls(), fast.calls()), (1, 0));
    // Members after the pending one are asked only once it refused, in order.
    let (slow, fast) = (
        Scripted::new("slow", true, no_user),
        Scripted::new("fast", false, accepts),
    );
    let c = composite(&[slow.clone(), fast.clone()]);
    let verdict = c.authenticate(&t, &parts);
    assert!(verdict.is_pending());
    assert_eq!(
        (slow.calls(), fast.calls()),
        (0, 0),
        "nothing runs before it is awaited"
    );
    assert_eq!(who(verdict.await), "fast");
    assert_eq!((slow.calls(), fast.calls()), (1, 1));
    // Ready members before the pending one are asked once, inline.
    let (refuses, slow) = (
        Scripted::new("refuses", false, no_user),
        Scripted::new("slow", true, accepts),
    );
    let c = composite(&[refuses.clone(), slow.clone()]);
    let verdict = c.authenticate(&t, &parts);
    assert_eq!(refuses.calls(), 1);
    assert_eq!(who(verdict.await), "slow");
    assert_eq!((refuses.calls(), slow.calls()), (1, 1));
    // A member's backend down: that error when no member accepts, ready or not.
    for (first, second) in [(true, false), (false, true)] {
        let c = composite(&[
            Scripted::new("down", first, down),
            Scripted::new("none", second, no_user),
        ]);
        let verdict = c.authenticate(&t, &parts);
        assert!(verdict.is_pending());
        assert!(matches!(verdict.await, Err(AuthError::Unavailable { .. })));
    }
    // ... and the user when one does, before or after it.
    let c = composite(&[
        Scripted::new("down", true, down),
        Scripted::new("fast", false, accepts),
    ]);
    assert_eq!(who(c.authenticate(&t, &parts).await), "fast");
}

#[test]
fn the_composite_issuers_are_its_members_known_once() {
    let c = CompositeProvider::new(
        "composite",
        vec![
            jwt_provider("tenant-a", SECRET, "https://a.example/"),
            api_keys(),
            jwt_provider("tenant-b", OTHER_SECRET, "https://b.example/"),
        ],
    )
    .unwrap();
    assert_eq!(c.issuers(), ["https://a.example/", "https://b.example/"]);
    // The same list every time, not one built per call.
    assert!(std::ptr::eq(c.issuers(), c.issuers()));
    // A JWT member that accepts any issuer: the composite does too.
    let any = CompositeProvider::new(
        "composite",
        vec![
            jwt_provider("tenant-a", SECRET, "https://a.example/"),
            Scripted::new("any", false, no_user),
        ],
    )
    .unwrap();
    assert!(any.issuers().is_empty());
}
