//! The auth pipeline (steps 1-8 in ARCHITECTURE.md), step by step, over real HTTP through the
//! tower layer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common_keys::*;
use axum::Router;
use axum::routing::{get, post};
use http::request::Parts;
use jsonwebtoken::Algorithm;
use mastra_auth::pattern::{MethodSet, RoutePattern};
use mastra_auth::policy::RouteFlag;
use mastra_auth::providers::{JwtProvider, JwtProviderConfig};
use mastra_auth::rules::{Condition, Rule, Rules};
use mastra_auth::{
    Auth, AuthError, AuthProvider, AuthUser, Authorizer, AuthzRequest, User, Verdict,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn flag(method: &str, template: &str, requires_auth: bool) -> RouteFlag {
    RouteFlag {
        methods: MethodSet::parse(&[method]).unwrap(),
        template: template.into(),
        pattern: RoutePattern::with_methods(template, &[method]).unwrap(),
        requires_auth,
        permission: None,
    }
}

fn app(auth: Auth) -> Router {
    Router::new()
        .route(
            "/health",
            get(|| async { axum::Json(json!({"success": true})) }),
        )
        .route(
            "/api",
            get(|| async { axum::Json(json!({"name": "test"})) }),
        )
        .route(
            "/api/agents",
            get(|user: Option<AuthUser>| async move {
                axum::Json(json!({"user": user.map(|u| u.0.id)}))
            }),
        )
        .route(
            "/api/agents/{id}/generate",
            post(|user: AuthUser| async move { axum::Json(json!({"user": user.0.id})) }),
        )
        .route("/other/route/{id}", get(|| async { "public custom" }))
        .route(
            "/secure/{id}",
            get(|user: Option<AuthUser>| async move {
                axum::Json(json!({"user": user.map(|u| u.0.id)}))
            }),
        )
        .route("/site/page", get(|| async { "page" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "404 Not Found") })
        .layer(auth.layer())
}

fn jwt() -> Arc<dyn AuthProvider> {
    Arc::new(JwtProvider::new(JwtProviderConfig::with_secret(SECRET)).unwrap())
}

fn default_auth() -> Auth {
    Auth::mastra_defaults(jwt())
        .route(flag("GET", "/other/route/{id}", false))
        .route(flag("GET", "/secure/{id}", true))
        .build()
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

fn token(sub: &str) -> String {
    sign(
        Algorithm::HS256,
        &json!({"sub": sub, "role": "user", "exp": now() + 600}),
    )
}

async fn call(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Option<String>, String) {
    let client = reqwest::Client::new();
    let mut req = client.request(method.parse().unwrap(), format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let www = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, www, res.text().await.unwrap())
}

fn bearer(t: &str) -> String {
    format!("Bearer {t}")
}

#[tokio::test]
async fn defaults_public_and_protected() {
    let base = serve(app(default_auth())).await;
    assert_eq!(call(&base, "GET", "/health", &[]).await.0, StatusCode::OK);
    assert_eq!(call(&base, "GET", "/api", &[]).await.0, StatusCode::OK);
    // The public `/api` is an exemption and matches as the router does: not `/api/`, which is
    // under the protected `/api/*`.
    assert_eq!(
        call(&base, "GET", "/api/", &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
    // Outside the API prefix and not a custom route: not protected.
    assert_eq!(
        call(&base, "GET", "/site/page", &[]).await.0,
        StatusCode::OK
    );
    let (s, www, body) = call(&base, "GET", "/api/agents", &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(www.as_deref(), Some("Bearer"));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"error": "Authentication required"})
    );
}

#[tokio::test]
async fn valid_token_reaches_handler_with_user() {
    let base = serve(app(default_auth())).await;
    let t = token("alice");
    let (s, _, body) = call(
        &base,
        "GET",
        "/api/agents",
        &[("authorization", &bearer(&t))],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"user": "alice"})
    );
    // Lower-case scheme, bare token and the apiKey query all work.
    let lower = format!("bearer {t}");
    assert_eq!(
        call(&base, "GET", "/api/agents", &[("authorization", &lower)])
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&base, "GET", "/api/agents", &[("authorization", &t)])
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(&base, "GET", &format!("/api/agents?apiKey={t}"), &[])
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn invalid_token_401_with_invalid_token_challenge() {
    let base = serve(app(default_auth())).await;
    for h in ["Bearer garbage", "Bearer a.b.c", "garbage"] {
        let (s, www, body) = call(&base, "GET", "/api/agents", &[("authorization", h)]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{h}");
        assert_eq!(www.as_deref(), Some("Bearer error=\"invalid_token\""));
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({"error": "Invalid or expired token"})
        );
        assert!(!body.contains("garbage"));
    }
    let expired = sign(Algorithm::HS256, &json!({"sub": "a", "exp": now() - 3600}));
    let (s, _, _) = call(
        &base,
        "GET",
        "/api/agents",
        &[("authorization", &bearer(&expired))],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn other_schemes_are_no_token() {
    let base = serve(app(default_auth())).await;
    let t = token("a");
    for h in [format!("Basic {t}"), format!("NotBearer {t}")] {
        let (s, _, body) = call(&base, "GET", "/api/agents", &[("authorization", &h)]).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert!(body.contains("Authentication required"));
    }
}

#[tokio::test]
async fn conflicting_credentials_are_400() {
    let base = serve(app(default_auth())).await;
    let (a, b) = (token("a"), token("b"));
    let (s, _, _) = call(
        &base,
        "GET",
        &format!("/api/agents?apiKey={b}"),
        &[("authorization", &bearer(&a))],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Two Authorization headers.
    let res = reqwest::Client::new()
        .get(format!("{base}/api/agents"))
        .header("authorization", bearer(&a))
        .header("authorization", bearer(&a))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn neutral_defaults_protect_everything_and_ignore_the_query() {
    let auth = Auth::builder(jwt())
        .public(RoutePattern::path("/health").unwrap())
        .build();
    let base = serve(app(auth)).await;
    let t = token("a");
    // Only what was opened is public; everything else the layer wraps needs a token.
    assert_eq!(call(&base, "GET", "/health", &[]).await.0, StatusCode::OK);
    for p in ["/", "/api", "/site/page", "/api/agents", "/nope"] {
        assert_eq!(
            call(&base, "GET", p, &[]).await.0,
            StatusCode::UNAUTHORIZED,
            "{p}"
        );
    }
    // `?apiKey=` is Mastra's, not a default: the query token is not a credential.
    assert_eq!(
        call(&base, "GET", &format!("/site/page?apiKey={t}"), &[])
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(
            &base,
            "GET",
            "/site/page",
            &[("authorization", &bearer(&t))]
        )
        .await
        .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn mastra_defaults_accept_the_api_key_query() {
    let base = serve(app(Auth::mastra_defaults(jwt()).build())).await;
    let (status, _, body) = call(
        &base,
        "GET",
        &format!("/api/agents?apiKey={}", token("a")),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"user": "a"})
    );
}

#[tokio::test]
async fn api_key_query_can_be_turned_off() {
    let auth = Auth::mastra_defaults(jwt()).api_key_query(false).build();
    let base = serve(app(auth)).await;
    let t = token("a");
    assert_eq!(
        call(&base, "GET", &format!("/api/agents?apiKey={t}"), &[])
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn unknown_api_route_401_without_token_404_with() {
    let base = serve(app(default_auth())).await;
    assert_eq!(
        call(&base, "GET", "/api/nope", &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
    let t = token("a");
    assert_eq!(
        call(&base, "GET", "/api/nope", &[("authorization", &bearer(&t))])
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // Path variants never reach a protected handler unauthenticated.
    for p in [
        "/API/agents",
        "/api/agents/",
        "/api//agents",
        "/api/./agents",
        "/api/%61gents",
    ] {
        let s = call(&base, "GET", p, &[]).await.0;
        assert!(
            s == StatusCode::UNAUTHORIZED
                || s == StatusCode::NOT_FOUND
                || s == StatusCode::BAD_REQUEST,
            "{p}: {s}"
        );
        assert_ne!(s, StatusCode::OK, "{p}");
    }
}

#[tokio::test]
async fn custom_route_flags() {
    let base = serve(app(default_auth())).await;
    // requires_auth = false on a template applies to a concrete path.
    assert_eq!(
        call(&base, "GET", "/other/route/test", &[]).await.0,
        StatusCode::OK
    );
    // requires_auth = true outside /api is protected.
    assert_eq!(
        call(&base, "GET", "/secure/x", &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
    let t = token("bob");
    let (s, _, body) = call(&base, "GET", "/secure/x", &[("authorization", &bearer(&t))]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"user": "bob"})
    );
}

#[tokio::test]
async fn requires_auth_true_beats_public_pattern() {
    let auth = Auth::mastra_defaults(jwt())
        .public(RoutePattern::path("/secure/*").unwrap())
        .route(flag("GET", "/secure/{id}", true))
        .build();
    let base = serve(app(auth)).await;
    assert_eq!(
        call(&base, "GET", "/secure/x", &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn configured_public_paths_with_methods() {
    let auth = Auth::mastra_defaults(jwt())
        .public(RoutePattern::with_methods("/api/agents", &["GET"]).unwrap())
        .build();
    let base = serve(app(auth)).await;
    let (s, _, body) = call(&base, "GET", "/api/agents", &[]).await;
    // Public: the handler runs without a user.
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"user": null})
    );
    assert_eq!(
        call(&base, "POST", "/api/agents/x/generate", &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn preflight_passes_plain_options_does_not() {
    let base = serve(app(default_auth())).await;
    let (s, _, _) = call(
        &base,
        "OPTIONS",
        "/api/agents",
        &[
            ("origin", "http://x"),
            ("access-control-request-method", "GET"),
        ],
    )
    .await;
    assert_ne!(s, StatusCode::UNAUTHORIZED);
    let (s, _, _) = call(&base, "OPTIONS", "/api/agents", &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn no_dev_playground_bypass() {
    let base = serve(app(default_auth())).await;
    let (s, _, _) = call(
        &base,
        "GET",
        "/api/agents",
        &[("x-mastra-dev-playground", "true")],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rules_decide_first_match_and_deny_by_default() {
    let rules = Rules(vec![
        Rule {
            path: None,
            methods: Some(MethodSet::parse(&["GET"]).unwrap()),
            permissions: None,
            // `has()` first: a deny rule whose condition errors (no `role` claim) denies.
            condition: Some(Condition::cel("has(claims.role) && claims.role == 'banned'").unwrap()),
            allow: false,
        },
        Rule {
            path: None,
            methods: Some(MethodSet::parse(&["GET"]).unwrap()),
            permissions: None,
            condition: None,
            allow: true,
        },
        Rule {
            path: None,
            methods: Some(MethodSet::parse(&["POST"]).unwrap()),
            permissions: None,
            condition: Some(Condition::cel("\"admin\" in claims.roles").unwrap()),
            allow: true,
        },
    ]);
    let auth = Auth::mastra_defaults(jwt()).rules(rules).build();
    let base = serve(app(auth)).await;
    let user = sign(Algorithm::HS256, &json!({"sub": "u", "roles": ["user"]}));
    let admin = sign(Algorithm::HS256, &json!({"sub": "a", "roles": ["admin"]}));
    let banned = sign(Algorithm::HS256, &json!({"sub": "b", "role": "banned"}));
    assert_eq!(
        call(
            &base,
            "GET",
            "/api/agents",
            &[("authorization", &bearer(&user))]
        )
        .await
        .0,
        StatusCode::OK
    );
    let (s, _, body) = call(
        &base,
        "GET",
        "/api/agents",
        &[("authorization", &bearer(&banned))],
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({"error": "Access denied"})
    );
    assert_eq!(
        call(
            &base,
            "POST",
            "/api/agents/x/generate",
            &[("authorization", &bearer(&user))]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(
            &base,
            "POST",
            "/api/agents/x/generate",
            &[("authorization", &bearer(&admin))]
        )
        .await
        .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn authorize_callback_and_override_precedence() {
    let auth = Auth::mastra_defaults(jwt())
        .authorize(|r: &AuthzRequest<'_>| r.method == http::Method::GET)
        .build();
    let base = serve(app(auth)).await;
    let t = token("u");
    assert_eq!(
        call(
            &base,
            "GET",
            "/api/agents",
            &[("authorization", &bearer(&t))]
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(
            &base,
            "POST",
            "/api/agents/x/generate",
            &[("authorization", &bearer(&t))]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    // The authorize_user override wins over authorize; rules apply on top of it.
    let auth = Auth::mastra_defaults(jwt())
        .authorize(|_: &AuthzRequest<'_>| false)
        .rules(Rules(vec![Rule::allow()]))
        .authorize_user(|r: &AuthzRequest<'_>| r.user.id == "vip")
        .build();
    let base = serve(app(auth)).await;
    assert_eq!(
        call(
            &base,
            "GET",
            "/api/agents",
            &[("authorization", &bearer(&token("vip")))]
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        call(
            &base,
            "GET",
            "/api/agents",
            &[("authorization", &bearer(&token("nobody")))]
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
}

/// A provider whose authorization backend is down, and which counts calls.
struct DownBackend {
    calls: AtomicUsize,
}

impl AuthProvider for DownBackend {
    fn name(&self) -> &str {
        "down"
    }
    // Awaited, as a remote identity provider is; counted when it runs.
    fn authenticate<'a>(&'a self, token: &'a str, _: &'a Parts) -> Verdict<'a, Option<User>> {
        Verdict::pending(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            match token {
                "authn-down" => Err(AuthError::authentication_unavailable("jwks unreachable")),
                "nobody" => Ok(None),
                _ => Ok(Some(User::from_claims(Default::default(), "down".into()))),
            }
        })
    }
    fn authorizes(&self, _: &User) -> bool {
        true
    }
    fn authorize<'a>(&'a self, _: &'a User, _: &'a Parts) -> Verdict<'a, bool> {
        Verdict::pending(async { Err(AuthError::authorization_unavailable("connection refused")) })
    }
}

#[tokio::test]
async fn backend_down_is_503_never_allow() {
    let provider = Arc::new(DownBackend {
        calls: AtomicUsize::new(0),
    });
    let auth = Auth::mastra_defaults(provider.clone()).build();
    let base = serve(app(auth)).await;
    let res = reqwest::Client::new()
        .get(format!("{base}/api/agents"))
        .header("authorization", "Bearer anything")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Authorization service unavailable"})
    );
    let (s, _, body) = call(
        &base,
        "GET",
        "/api/agents",
        &[("authorization", "Bearer authn-down")],
    )
    .await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        !body.contains("jwks"),
        "operator detail must not leak: {body}"
    );
    let (s, _, body) = call(
        &base,
        "GET",
        "/api/agents",
        &[("authorization", "Bearer nobody")],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("Invalid or expired token"));
    assert_eq!(provider.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn custom_api_prefix_moves_the_defaults() {
    let auth = Auth::mastra_defaults(jwt()).api_prefix("/v2").build();
    let router = Router::new()
        .route("/v2/agents", get(|| async { "ok" }))
        .route("/api/agents", get(|| async { "ok" }))
        .layer(auth.layer());
    let base = serve(router).await;
    assert_eq!(
        call(&base, "GET", "/v2/agents", &[]).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(&base, "GET", "/api/agents", &[]).await.0,
        StatusCode::OK
    );
}

/// The JWT provider without its synchronous fast path: every check takes the awaited route.
struct AwaitOnly(Arc<dyn AuthProvider>);

impl AuthProvider for AwaitOnly {
    fn name(&self) -> &str {
        self.0.name()
    }
    fn authenticate<'a>(&'a self, token: &'a str, parts: &'a Parts) -> Verdict<'a, Option<User>> {
        Verdict::pending(async move { self.0.authenticate(token, parts).await })
    }
}

/// An `authorize` callback that awaits, as one asking a remote service does: denies `banned`.
struct AwaitedCallback;

impl Authorizer for AwaitedCallback {
    fn authorize<'a>(&'a self, req: AuthzRequest<'a>) -> Verdict<'a, bool> {
        Verdict::pending(async move { Ok(req.user.claims.get("role") != Some(&json!("banned"))) })
    }
}

fn head(method: &str, path: &str, authorization: Option<&str>) -> Parts {
    let mut b = http::Request::builder().method(method).uri(path);
    if let Some(a) = authorization {
        b = b.header("authorization", a);
    }
    b.body(()).unwrap().into_parts().0
}

fn outcome(r: &Result<Option<User>, AuthError>) -> String {
    match r {
        Ok(None) => "pass".into(),
        Ok(Some(u)) => format!("user {}", u.id),
        Err(e) => format!("refused: {e}"),
    }
}

#[tokio::test]
async fn decided_without_awaiting_exactly_as_when_awaited() {
    let rules = || {
        Rules(vec![
            Rule {
                path: None,
                methods: None,
                permissions: None,
                // `has()` first: a deny rule whose condition errors (no `role` claim) denies.
                condition: Some(
                    Condition::cel("has(claims.role) && claims.role == 'banned'").unwrap(),
                ),
                allow: false,
            },
            Rule {
                path: None,
                methods: None,
                permissions: None,
                condition: None,
                allow: true,
            },
        ])
    };
    let banned = sign(
        Algorithm::HS256,
        &json!({"sub": "b", "role": "banned", "exp": now() + 600}),
    );
    let expired = sign(Algorithm::HS256, &json!({"sub": "e", "exp": now() - 600}));
    let good = token("g");
    let tokens = [
        None,
        Some(bearer(&good)),
        Some(bearer(&banned)),
        Some(bearer(&expired)),
        Some(bearer("not.a.token")),
        Some("Basic dTpw".to_owned()),
    ];
    let fast = Auth::mastra_defaults(jwt()).rules(rules()).build();
    let awaited = Auth::mastra_defaults(Arc::new(AwaitOnly(jwt())))
        .rules(rules())
        .build();
    let callback = Auth::mastra_defaults(jwt())
        .authorize(AwaitedCallback)
        .build();
    let closure = Auth::mastra_defaults(jwt())
        .authorize(|r: &AuthzRequest<'_>| r.user.claims.get("role") != Some(&json!("banned")))
        .build();
    let mut decided_now = 0;
    for (method, path) in [("GET", "/api/agents"), ("GET", "/api"), ("POST", "/x")] {
        for auth in &tokens {
            let parts = head(method, path, auth.as_deref());
            // Twice: the second time the verified-token cache answers.
            for _ in 0..2 {
                let reference = outcome(&awaited.check(&parts).await);
                let now = fast.check(&parts);
                if now.is_ready() {
                    decided_now += 1;
                }
                assert!(!now.is_pending(), "the jwt provider never needs I/O");
                let got = outcome(&now.await);
                assert_eq!(got, reference, "{method} {path} {auth:?}");
                // An awaited authorize callback: the check is pending exactly when it gets that
                // far, with the same decision.
                let cb = callback.check(&parts);
                let authenticated = cb.is_pending();
                assert_eq!(
                    authenticated,
                    reference.starts_with("user") || reference.contains("Access denied"),
                    "{method} {path} {auth:?}: {cb:?}"
                );
                assert_eq!(outcome(&cb.await), reference);
                // A closure callback answers now, with the same decision.
                let sync = closure.check(&parts);
                assert!(sync.is_ready(), "{method} {path} {auth:?}: {sync:?}");
                assert_eq!(outcome(&sync.await), reference);
            }
        }
    }
    assert_eq!(
        decided_now, 36,
        "every jwt decision is made without awaiting"
    );
}

/// A provider that authorizes by itself, as auth0, oidc, firebase, supabase and workos do: users
/// named `allowed` pass its own check, `refused` do not, `down` meet an unreachable backend.
struct SelfAuthorizing;

impl AuthProvider for SelfAuthorizing {
    fn name(&self) -> &str {
        "self"
    }
    fn authenticate<'a>(&'a self, token: &'a str, _: &'a Parts) -> Verdict<'a, Option<User>> {
        Verdict::pending(async move {
            let claims = json!({"sub": token, "role": "user"});
            let Value::Object(map) = claims else {
                unreachable!()
            };
            Ok(Some(User::from_claims(map, "self".into())))
        })
    }
    fn authorizes(&self, _: &User) -> bool {
        true
    }
    fn authorize<'a>(&'a self, user: &'a User, _: &'a Parts) -> Verdict<'a, bool> {
        Verdict::pending(async move {
            match user.id.as_str() {
                "allowed" => Ok(true),
                "down" => Err(AuthError::authorization_unavailable("backend down")),
                _ => Ok(false),
            }
        })
    }
}

#[tokio::test]
async fn rules_apply_on_top_of_a_provider_that_authorizes_by_itself() {
    // Deny POST to agents; allow the rest. Both the provider and the rules must allow.
    let rules = Rules(vec![
        Rule::deny()
            .with_pattern("/api/agents/*")
            .unwrap()
            .with_methods(MethodSet::parse(&["POST"]).unwrap()),
        Rule::allow(),
    ]);
    let auth = Auth::mastra_defaults(Arc::new(SelfAuthorizing))
        .rules(rules)
        .build();
    let base = serve(app(auth)).await;
    let post = |who: &'static str| {
        let base = base.clone();
        async move {
            call(
                &base,
                "POST",
                "/api/agents/a/generate",
                &[("authorization", &bearer(who))],
            )
            .await
            .0
        }
    };
    let get = |who: &'static str| {
        let base = base.clone();
        async move {
            call(
                &base,
                "GET",
                "/api/agents",
                &[("authorization", &bearer(who))],
            )
            .await
            .0
        }
    };
    // The provider allows, a deny rule refuses: 403 (the rule is not ignored).
    assert_eq!(post("allowed").await, StatusCode::FORBIDDEN);
    // The provider allows, the rules allow: 200.
    assert_eq!(get("allowed").await, StatusCode::OK);
    // The rules allow, the provider refuses: 403.
    assert_eq!(get("refused").await, StatusCode::FORBIDDEN);
    // The provider's backend is down: 503 where the rules allow, never 200.
    assert_eq!(get("down").await, StatusCode::SERVICE_UNAVAILABLE);
    // A rule that denies answers first, without asking the backend.
    assert_eq!(post("down").await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn rules_apply_on_top_of_the_authorize_callback() {
    let rules = Rules(vec![
        Rule::deny()
            .with_pattern("/api/agents/*")
            .unwrap()
            .with_methods(MethodSet::parse(&["POST"]).unwrap()),
        Rule::allow(),
    ]);
    let auth = Auth::mastra_defaults(jwt())
        .authorize(|r: &AuthzRequest<'_>| r.user.id != "banned")
        .rules(rules)
        .build();
    let base = serve(app(auth)).await;
    let t = bearer(&token("u1"));
    let b = bearer(&token("banned"));
    let s = |m: &'static str, p: &'static str, h: String| {
        let base = base.clone();
        async move { call(&base, m, p, &[("authorization", &h)]).await.0 }
    };
    assert_eq!(s("GET", "/api/agents", t.clone()).await, StatusCode::OK);
    assert_eq!(
        s("POST", "/api/agents/a/generate", t.clone()).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(s("GET", "/api/agents", b).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_the_normalize_layer_non_canonical_paths_are_refused() {
    // The auth layer runs after routing; a path the router saw in a non-canonical spelling is
    // refused rather than decided on another spelling.
    let base = serve(app(default_auth())).await;
    let t = bearer(&token("u1"));
    for path in ["/api/%61gents", "/api/agents/%61/generate"] {
        let (s, _, body) = call(&base, "GET", path, &[("authorization", &t)]).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path}");
        assert!(body.contains("not in normalized form"), "{body}");
    }
    // Canonical paths with escapes are fine.
    let (s, _, _) = call(&base, "GET", "/secure/caf%C3%A9", &[("authorization", &t)]).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn allow_rule_paths_match_exactly_deny_rule_paths_broadly() {
    // An allow rule exempts only what the router routes there; a deny rule protects any case.
    let rules = Rules(vec![
        Rule::deny().with_pattern("/secure/blocked").unwrap(),
        Rule::allow().with_pattern("/secure/:id").unwrap(),
        Rule::allow().with_pattern("/api/agents").unwrap(),
    ]);
    let auth = Auth::mastra_defaults(jwt())
        .route(flag("GET", "/secure/{id}", true))
        .rules(rules)
        .build();
    let base = serve(app(auth)).await;
    let t = bearer(&token("u1"));
    let status = |p: &'static str| {
        let (base, t) = (base.clone(), t.clone());
        async move { call(&base, "GET", p, &[("authorization", &t)]).await.0 }
    };
    assert_eq!(status("/secure/x").await, StatusCode::OK);
    assert_eq!(status("/api/agents").await, StatusCode::OK);
    // The deny rule matches in any case and with a trailing slash.
    assert_eq!(status("/secure/blocked").await, StatusCode::FORBIDDEN);
    assert_eq!(status("/secure/BLOCKED").await, StatusCode::FORBIDDEN);
    // The allow rule `/api/agents` does not exempt `/API/agents` or `/api/agents/`: no rule
    // matches, which denies.
    assert_eq!(status("/API/agents").await, StatusCode::FORBIDDEN);
    assert_eq!(status("/api/agents/").await, StatusCode::FORBIDDEN);
}

/// The layer's response future, driven directly: a refusal is answered without the inner
/// service, a decision made without awaiting calls the inner service at once (its own future,
/// nothing boxed), and an awaited one calls it only once the pipeline has decided.
#[tokio::test]
async fn response_future_refuses_passes_through_or_checks_first() {
    use axum::body::Body;
    use axum::response::Response;
    use tower::{Layer, Service, ServiceExt};

    let calls = Arc::new(AtomicUsize::new(0));
    let inner = {
        let calls = calls.clone();
        tower::service_fn(move |req: http::Request<Body>| {
            calls.fetch_add(1, Ordering::SeqCst);
            let user = req.extensions().get::<User>().map(|u| u.id.clone());
            async move {
                Ok::<_, std::convert::Infallible>(Response::new(Body::from(format!("{user:?}"))))
            }
        })
    };
    let request = |authorization: Option<String>| {
        let mut b = http::Request::builder().uri("/api/agents");
        if let Some(a) = authorization {
            b = b.header("authorization", a);
        }
        b.body(Body::empty()).unwrap()
    };
    let text = |res: Response| async move {
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    };
    let fast = Auth::mastra_defaults(jwt())
        .build()
        .layer()
        .layer(inner.clone());
    let slow = Auth::mastra_defaults(Arc::new(AwaitOnly(jwt())))
        .build()
        .layer()
        .layer(inner);

    // Refused: answered without the inner service.
    let mut svc = fast.clone();
    let future = svc.ready().await.unwrap().call(request(None));
    assert!(format!("{future:?}").contains("Refused"), "{future:?}");
    let res = future.await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // Decided without awaiting: the inner service is called before the future is polled.
    let future = svc
        .ready()
        .await
        .unwrap()
        .call(request(Some(bearer(&token("fast")))));
    assert!(format!("{future:?}").contains("Inner"), "{future:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(text(future.await.unwrap()).await, "Some(\"fast\")");

    // Awaited: the inner service runs once the pipeline allowed, with the user.
    let mut svc = slow.clone();
    let future = svc
        .ready()
        .await
        .unwrap()
        .call(request(Some(bearer(&token("slow")))));
    assert!(format!("{future:?}").contains("Checking"), "{future:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(text(future.await.unwrap()).await, "Some(\"slow\")");
    assert_eq!(calls.load(Ordering::SeqCst), 2);

    // Awaited and refused: never reaches the inner service.
    let future = svc
        .ready()
        .await
        .unwrap()
        .call(request(Some(bearer("not.a.token"))));
    assert!(format!("{future:?}").contains("Checking"), "{future:?}");
    assert_eq!(future.await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}
