//! The `supabase` provider against a local fake of a Supabase project (GoTrue, its JWKS and
//! PostgREST behind an `apikey` gateway): remote and local verification, the remote-lookup cache,
//! and `users.isAdmin` authorization through the real `Auth` layer over HTTP.

use std::sync::Arc;
use std::time::Duration;

use crate::fakes;
use crate::fakes::supabase::{ANON_KEY, JWT_SECRET, ServiceBehavior, SupabaseFake};
use axum::Router;
use axum::routing::get;
use http::request::Parts;
use mastra_auth::jwt::Rejection;
use mastra_auth::providers::supabase::{
    SupabaseConfig, SupabaseConfigError, SupabaseMode, SupabaseProvider,
};
use mastra_auth::{Auth, AuthError, AuthProvider, AuthUser};
use reqwest::StatusCode;
use serde_json::{Value, json};

const ALICE: &str = "6f1b2c3d-0000-4000-8000-00000000a11c";
const BOB: &str = "6f1b2c3d-0000-4000-8000-000000000b0b";

fn config(fake: &SupabaseFake) -> SupabaseConfig {
    SupabaseConfig {
        allow_insecure_http: true,
        timeout: Duration::from_secs(2),
        ..SupabaseConfig::new(fake.url(), ANON_KEY)
    }
}

fn remote(fake: &SupabaseFake) -> SupabaseProvider {
    SupabaseProvider::new(config(fake)).expect("provider")
}

fn parts() -> Parts {
    http::Request::new(()).into_parts().0
}

fn parts_with_bearer(token: &str) -> Parts {
    http::Request::builder()
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap()
        .into_parts()
        .0
}

async fn fake_with_users() -> SupabaseFake {
    let fake = SupabaseFake::start().await;
    fake.add_user(ALICE, "alice@example.com");
    fake.add_user(BOB, "bob@example.com");
    fake.set_admin(ALICE, json!(true));
    fake.set_admin(BOB, json!(false));
    fake
}

fn invalid(r: Result<Option<mastra_auth::User>, AuthError>) -> Rejection {
    match r {
        Err(AuthError::InvalidToken(r)) => r,
        other => panic!("expected InvalidToken, got {other:?}"),
    }
}

fn unavailable(r: Result<Option<mastra_auth::User>, AuthError>) {
    match r {
        Err(e @ AuthError::Unavailable { .. }) => assert_eq!(e.status(), 503),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Remote mode

#[tokio::test]
async fn remote_accepts_and_returns_the_gotrue_user() {
    let fake = fake_with_users().await;
    let p = remote(&fake);
    assert_eq!(p.mode(), SupabaseMode::Remote);
    let user = p
        .authenticate(&fake.token(ALICE, 600), &parts())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, ALICE);
    assert_eq!(user.claims["email"], "alice@example.com");
    assert_eq!(user.claims["role"], "authenticated");
    assert_eq!(user.claims["app_metadata"]["provider"], "email");
    assert_eq!(&*user.provider, "supabase");
    assert_eq!(fake.user_requests(), 1);
}

#[tokio::test]
async fn remote_rejections() {
    let fake = fake_with_users().await;
    let p = remote(&fake);
    // Signature made with another secret: GoTrue says bad_jwt (401).
    let forged = {
        let claims = fake.claims(json!({"sub": ALICE}));
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-another"),
        )
        .unwrap()
    };
    let r = invalid(p.authenticate(&forged, &parts()).await);
    assert!(
        r.to_string().contains("HTTP 401") && r.to_string().contains("bad_jwt"),
        "{r}"
    );
    // Newer GoTrue answers 403 for the same thing.
    fake.set_bad_jwt_status(403);
    let r = invalid(p.authenticate(&forged, &parts()).await);
    assert!(r.to_string().contains("HTTP 403"), "{r}");
    // A valid token of a deleted user.
    fake.remove_user(BOB);
    let r = invalid(p.authenticate(&fake.token(BOB, 600), &parts()).await);
    assert!(r.to_string().contains("user_not_found"), "{r}");
    // The anon key itself is not a user.
    let r = invalid(p.authenticate(ANON_KEY, &parts()).await);
    assert!(
        matches!(r, Rejection::Malformed(_) | Rejection::Provider(_)),
        "{r}"
    );
    let calls = fake.user_requests();
    // Refused locally, without calling GoTrue: not a JWT, clearly expired, alg none, oversize.
    for t in [
        "not-a-jwt".to_owned(),
        fake.token(ALICE, -3600),
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln".to_owned(),
        "a".repeat(20_000),
    ] {
        invalid(p.authenticate(&t, &parts()).await);
    }
    assert_eq!(
        fake.user_requests(),
        calls,
        "refused tokens must not reach GoTrue"
    );
    // Empty token: no user, no call.
    assert!(p.authenticate("", &parts()).await.unwrap().is_none());
}

#[tokio::test]
async fn remote_backend_failures_are_503() {
    let fake = fake_with_users().await;
    let p = remote(&fake);
    for b in [
        ServiceBehavior::Status(500),
        ServiceBehavior::Status(502),
        ServiceBehavior::Status(429),
        ServiceBehavior::Garbage,
    ] {
        fake.set_auth_behavior(b.clone());
        unavailable(p.authenticate(&fake.token(ALICE, 600), &parts()).await);
    }
    // Slower than the timeout.
    fake.set_auth_behavior(ServiceBehavior::Normal);
    let slow = SupabaseProvider::new(SupabaseConfig {
        timeout: Duration::from_millis(200),
        ..config(&fake)
    })
    .unwrap();
    fake.set_delay(Duration::from_millis(600));
    unavailable(slow.authenticate(&fake.token(ALICE, 600), &parts()).await);
    // Nothing listening.
    let gone = SupabaseProvider::new(SupabaseConfig {
        allow_insecure_http: true,
        ..SupabaseConfig::new("http://127.0.0.1:9", ANON_KEY)
    })
    .unwrap();
    // (A token of that project: a token naming another issuer is refused before any call.)
    let for_gone = fake.token_with(json!({
        "sub": ALICE,
        "exp": super_now() + 600,
        "iss": "http://127.0.0.1:9/auth/v1",
    }));
    unavailable(gone.authenticate(&for_gone, &parts()).await);
    // A failure is not cached: the next call after recovery succeeds.
    fake.set_delay(Duration::ZERO);
    let t = fake.token(ALICE, 600);
    fake.set_auth_behavior(ServiceBehavior::Status(503));
    unavailable(p.authenticate(&t, &parts()).await);
    fake.set_auth_behavior(ServiceBehavior::Normal);
    assert!(p.authenticate(&t, &parts()).await.unwrap().is_some());
}

#[tokio::test]
async fn remote_mode_sends_only_this_projects_tokens_to_gotrue() {
    let fake = fake_with_users().await;
    let p = remote(&fake);
    let t = super_now();
    for (what, token, check) in [
        (
            "another issuer",
            fake.token_with(
                json!({"sub": ALICE, "exp": t + 600, "iss": "https://other.example/auth/v1"}),
            ),
            (|r: &Rejection| matches!(r, Rejection::IssuerMismatch { .. }))
                as fn(&Rejection) -> bool,
        ),
        (
            "no issuer",
            fake.token_with(json!({"sub": ALICE, "exp": t + 600, "iss": null})),
            |r: &Rejection| *r == Rejection::MissingClaim("iss"),
        ),
        (
            "issuer of the wrong type",
            fake.token_with(json!({"sub": ALICE, "exp": t + 600, "iss": 7})),
            |r: &Rejection| *r == Rejection::ClaimType("iss"),
        ),
    ] {
        let r = invalid(p.authenticate(&token, &parts()).await);
        assert!(check(&r), "{what}: {r}");
    }
    assert_eq!(
        fake.user_requests(),
        0,
        "a foreign token was sent to GoTrue"
    );
    assert_eq!(p.issuers(), vec![fake.issuer()]);
}

#[tokio::test]
async fn remote_lookups_are_cached_and_coalesced() {
    let fake = fake_with_users().await;
    let p = Arc::new(remote(&fake));
    let t = fake.token(ALICE, 600);
    for _ in 0..10 {
        p.authenticate(&t, &parts()).await.unwrap().unwrap();
    }
    assert_eq!(fake.user_requests(), 1, "10 requests, 1 GoTrue call");
    // Concurrent first requests for a new token share one call.
    let t2 = fake.token(BOB, 600);
    fake.set_delay(Duration::from_millis(200));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let p = p.clone();
            let t2 = t2.clone();
            tokio::spawn(async move { p.authenticate(&t2, &parts()).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().unwrap().id, BOB);
    }
    assert_eq!(
        fake.user_requests(),
        2,
        "8 concurrent requests, 1 GoTrue call"
    );
    assert_eq!(p.user_endpoint_calls(), 2);
}

#[tokio::test]
async fn remote_cache_is_bounded_by_ttl_and_token_exp() {
    let fake = fake_with_users().await;
    // The TTL: 1 s here (at most 60 s whatever is configured).
    let p = SupabaseProvider::new(SupabaseConfig {
        cache_ttl: Duration::from_secs(1),
        ..config(&fake)
    })
    .unwrap();
    let t = fake.token(ALICE, 600);
    p.authenticate(&t, &parts()).await.unwrap().unwrap();
    p.authenticate(&t, &parts()).await.unwrap().unwrap();
    assert_eq!(fake.user_requests(), 1);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    p.authenticate(&t, &parts()).await.unwrap().unwrap();
    assert_eq!(fake.user_requests(), 2, "re-asked after the TTL");
    // The token's exp caps the cache: a token expiring in 1 s is not served from the cache after
    // that, even though the TTL (60 s) has not passed; GoTrue then refuses it.
    let p = remote(&fake);
    let short = fake.token(BOB, 1);
    p.authenticate(&short, &parts()).await.unwrap().unwrap();
    let before = fake.user_requests();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = invalid(p.authenticate(&short, &parts()).await);
    assert!(r.to_string().contains("refused"), "{r}");
    assert_eq!(fake.user_requests(), before + 1);
    // A revoked session stays usable for at most the TTL: a deleted user is still served from
    // the cache within it (documented trade-off), and refused once it lapses.
    let ttl = SupabaseProvider::new(SupabaseConfig {
        cache_ttl: Duration::from_millis(500),
        ..config(&fake)
    })
    .unwrap();
    let t = fake.token(ALICE, 600);
    ttl.authenticate(&t, &parts()).await.unwrap().unwrap();
    fake.remove_user(ALICE);
    ttl.authenticate(&t, &parts()).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    invalid(ttl.authenticate(&t, &parts()).await);
}

// ---------------------------------------------------------------------------------------------
// Local modes

fn hs256_local(fake: &SupabaseFake) -> SupabaseProvider {
    SupabaseProvider::new(SupabaseConfig {
        jwt_secret: Some(JWT_SECRET.into()),
        ..config(fake)
    })
    .unwrap()
}

#[tokio::test]
async fn hs256_local_accepts_without_calling_gotrue() {
    let fake = fake_with_users().await;
    let p = hs256_local(&fake);
    assert_eq!(p.mode(), SupabaseMode::LocalSecret);
    let user = p
        .authenticate(&fake.token(ALICE, 600), &parts())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, ALICE);
    assert_eq!(user.claims["role"], "authenticated");
    assert_eq!(user.claims["aud"], "authenticated");
    assert_eq!(fake.user_requests(), 0);
}

#[tokio::test]
async fn hs256_local_rejections() {
    let fake = fake_with_users().await;
    let p = hs256_local(&fake);
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &fake.claims(json!({"sub": ALICE})),
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-another-secret-another"),
    )
    .unwrap();
    assert_eq!(
        invalid(p.authenticate(&forged, &parts()).await),
        Rejection::BadSignature
    );
    let cases = [
        (json!({"iss": "https://evil.supabase.co/auth/v1"}), "issuer"),
        (json!({"aud": "anon"}), "audience"),
        (json!({"aud": null}), "\"aud\" is missing"),
        (json!({"exp": null}), "\"exp\" is missing"),
        (json!({"exp": super_now() - 3600}), "expired"),
        (json!({"exp": "tomorrow"}), "wrong type"),
        (json!({"sub": ""}), "\"sub\" is missing"),
        (json!({"sub": null}), "\"sub\" is missing"),
    ];
    for (extra, want) in cases {
        let r = invalid(
            p.authenticate(&fake.token_with(extra.clone()), &parts())
                .await,
        );
        assert!(r.to_string().contains(want), "{extra}: {r}");
    }
    // An ES256 token with only the secret configured: the algorithm is not accepted.
    let r = invalid(
        p.authenticate(&fake.es256_token(json!({"sub": ALICE})), &parts())
            .await,
    );
    assert!(matches!(r, Rejection::AlgorithmNotAllowed(_)), "{r}");
    assert_eq!(fake.user_requests(), 0);
}

fn super_now() -> i64 {
    fakes::jwks::now()
}

#[tokio::test]
async fn jwks_local_accepts_es256_and_fails_closed() {
    let fake = fake_with_users().await;
    let p = SupabaseProvider::new(SupabaseConfig {
        verify_locally_with_jwks: true,
        ..config(&fake)
    })
    .unwrap();
    assert_eq!(p.mode(), SupabaseMode::LocalJwks);
    let user = p
        .authenticate(&fake.es256_token(json!({"sub": ALICE})), &parts())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, ALICE);
    assert_eq!(fake.jwks_requests(), 1);
    assert_eq!(fake.user_requests(), 0);
    // HS256 tokens need the secret, which is not configured.
    let r = invalid(p.authenticate(&fake.token(ALICE, 600), &parts()).await);
    assert!(matches!(r, Rejection::AlgorithmNotAllowed(_)), "{r}");
    // Wrong issuer through the JWKS path.
    let r = invalid(
        p.authenticate(
            &fake.es256_token(json!({"sub": ALICE, "iss": "https://other/auth/v1"})),
            &parts(),
        )
        .await,
    );
    assert!(matches!(r, Rejection::IssuerMismatch { .. }), "{r}");
    // JWKS unreachable on a cold key set: 503, not 401.
    let cold = SupabaseProvider::new(SupabaseConfig {
        verify_locally_with_jwks: true,
        ..config(&fake)
    })
    .unwrap();
    fake.set_auth_behavior(ServiceBehavior::Status(503));
    unavailable(
        cold.authenticate(&fake.es256_token(json!({"sub": BOB})), &parts())
            .await,
    );
}

#[tokio::test]
async fn secret_and_jwks_together_route_by_algorithm() {
    let fake = fake_with_users().await;
    let p = SupabaseProvider::new(SupabaseConfig {
        jwt_secret: Some(JWT_SECRET.into()),
        verify_locally_with_jwks: true,
        ..config(&fake)
    })
    .unwrap();
    assert_eq!(p.mode(), SupabaseMode::LocalSecretAndJwks);
    let a = p
        .authenticate(&fake.token(ALICE, 600), &parts())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.id, ALICE);
    assert_eq!(fake.jwks_requests(), 0, "HS256 never touches the JWKS");
    let b = p
        .authenticate(&fake.es256_token(json!({"sub": BOB})), &parts())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.id, BOB);
    assert_eq!(fake.jwks_requests(), 1);
}

// ---------------------------------------------------------------------------------------------
// Authorization through the real pipeline over HTTP

async fn serve(provider: Arc<dyn AuthProvider>) -> String {
    let router = Router::new()
        .route(
            "/api/agents",
            get(|u: AuthUser| async move { axum::Json(json!({"user": u.0.id})) }),
        )
        .layer(Auth::mastra_defaults(provider).build().layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn get_agents(base: &str, token: Option<&str>) -> (StatusCode, Option<String>, Value) {
    let mut req = reqwest::Client::new().get(format!("{base}/api/agents"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = res.json().await.unwrap_or(Value::Null);
    (status, retry, body)
}

#[tokio::test]
async fn authorization_allow_deny_and_unavailable_over_http() {
    let fake = fake_with_users().await;
    let carol = "6f1b2c3d-0000-4000-8000-0000000ca401";
    let dave = "6f1b2c3d-0000-4000-8000-000000000da5";
    fake.add_user(carol, "carol@example.com"); // no row in `users`
    fake.add_user(dave, "dave@example.com");
    fake.set_admin(dave, Value::Null);
    let base = serve(Arc::new(remote(&fake))).await;
    let alice = fake.token(ALICE, 600);

    let (s, _, body) = get_agents(&base, Some(&alice)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body, json!({"user": ALICE}));
    // PostgREST was asked with the anon key and the user's own token, for exactly this id.
    let (query, bearer) = fake.rest_queries().pop().unwrap();
    assert_eq!(
        query,
        vec![
            ("select".to_owned(), "isAdmin".to_owned()),
            ("id".to_owned(), format!("eq.{ALICE}")),
        ]
    );
    assert_eq!(bearer, alice);

    for who in [BOB, carol, dave] {
        let (s, _, body) = get_agents(&base, Some(&fake.token(who, 600))).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
        assert_eq!(body, json!({"error": "Access denied"}));
    }

    for b in [
        ServiceBehavior::Status(500),
        ServiceBehavior::Status(503),
        ServiceBehavior::Garbage,
        ServiceBehavior::NoTable,
    ] {
        fake.set_rest_behavior(b.clone());
        let (s, retry, body) = get_agents(&base, Some(&alice)).await;
        assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{b:?}");
        assert_eq!(retry.as_deref(), Some("5"));
        assert_eq!(body, json!({"error": "Authorization service unavailable"}));
    }
    fake.set_rest_behavior(ServiceBehavior::Normal);

    // Authentication failures stay 401 / 503 before authorization.
    let (s, _, _) = get_agents(&base, Some("garbage")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    fake.set_auth_behavior(ServiceBehavior::Status(500));
    let (s, _, body) = get_agents(&base, Some(&fake.token(BOB, 601))).await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, json!({"error": "Authentication service unavailable"}));
}

#[tokio::test]
async fn authorization_uses_the_token_from_query_or_cookie() {
    let fake = fake_with_users().await;
    let base = serve(Arc::new(remote(&fake))).await;
    let alice = fake.token(ALICE, 600);
    let res = reqwest::get(format!("{base}/api/agents?apiKey={alice}"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(fake.rest_queries().pop().unwrap().1, alice);
    let res = reqwest::Client::new()
        .get(format!("{base}/api/agents"))
        .header("cookie", format!("theme=dark; sb-access-token={alice}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(fake.rest_queries().pop().unwrap().1, alice);
}

#[tokio::test]
async fn authorization_denies_when_the_request_token_is_not_the_users() {
    let fake = fake_with_users().await;
    let p = remote(&fake);
    let alice = p
        .authenticate(&fake.token(ALICE, 600), &parts())
        .await
        .unwrap()
        .unwrap();
    // No token in the request head at all.
    assert!(!p.authorize(&alice, &parts()).await.unwrap());
    // Bob's token with Alice's user: never query with someone else's token.
    let bobs = parts_with_bearer(&fake.token(BOB, 600));
    assert!(!p.authorize(&alice, &bobs).await.unwrap());
    assert_eq!(fake.rest_requests(), 0);
    // The right token.
    let own = parts_with_bearer(&fake.token(ALICE, 600));
    assert!(p.authorize(&alice, &own).await.unwrap());
}

#[tokio::test]
async fn user_id_is_encoded_as_one_filter_value() {
    let fake = fake_with_users().await;
    let p = hs256_local(&fake);
    let evil = "x&isAdmin=is.true&id=neq.nobody#/../ %";
    fake.set_admin(evil, json!(false));
    let token = fake.token_with(json!({"sub": evil}));
    let user = p.authenticate(&token, &parts()).await.unwrap().unwrap();
    assert_eq!(user.id, evil);
    assert!(
        !p.authorize(&user, &parts_with_bearer(&token))
            .await
            .unwrap()
    );
    let (query, _) = fake.rest_queries().pop().unwrap();
    assert_eq!(
        query,
        vec![
            ("select".to_owned(), "isAdmin".to_owned()),
            ("id".to_owned(), format!("eq.{evil}")),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Configuration

#[test]
fn config_from_env_and_errors() {
    let env = |k: &str| match k {
        "SUPABASE_URL" => Some("https://abc.supabase.co".to_owned()),
        "SUPABASE_ANON_KEY" => Some("anon".to_owned()),
        _ => None,
    };
    let p = SupabaseProvider::new(SupabaseConfig::default().from_env_with(env)).unwrap();
    assert_eq!(p.mode(), SupabaseMode::Remote);
    assert_eq!(p.cookie_names(), &["sb-access-token"]);
    assert!(matches!(
        SupabaseProvider::new(SupabaseConfig::default().from_env_with(|_| None)),
        Err(SupabaseConfigError::MissingUrl)
    ));
    let e = SupabaseProvider::new(SupabaseConfig {
        jwt_secret: Some("too-short".into()),
        ..SupabaseConfig::new("https://abc.supabase.co", "anon")
    })
    .unwrap_err();
    assert!(e.to_string().starts_with("jwt_secret"), "{e}");
    // Plain HTTP only to loopback, and only when allowed.
    let e =
        SupabaseProvider::new(SupabaseConfig::new("http://127.0.0.1:54321", "anon")).unwrap_err();
    assert!(e.to_string().starts_with("url"), "{e}");
    let e = SupabaseProvider::new(SupabaseConfig {
        allow_insecure_http: true,
        ..SupabaseConfig::new("http://abc.supabase.co", "anon")
    })
    .unwrap_err();
    assert!(e.to_string().contains("loopback"), "{e}");
    let e = SupabaseProvider::new(SupabaseConfig {
        verify_locally_with_jwks: true,
        jwks_uri: Some("ftp://x/jwks".into()),
        ..SupabaseConfig::new("https://abc.supabase.co", "anon")
    })
    .unwrap_err();
    assert!(e.to_string().starts_with("jwks_uri"), "{e}");
}
