//! `workos` provider against a local WorkOS fake (JWKS, User Management users and organization
//! memberships), verification reasons directly and authorization through the real auth layer
//! over HTTP.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::fakes;
use crate::fakes::jwks::{jwk, now, sign, sign_with};
use crate::fakes::workos::WorkosFake;
use axum::Router;
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mastra_auth::jwt::Rejection;
use mastra_auth::providers::workos::{WorkosConfig, WorkosProvider};
use mastra_auth::{Auth, AuthError, AuthProvider, AuthUser, User};
use reqwest::StatusCode;
use serde_json::{Value, json};

const KID: &str = "sso_oidc_key_pair_01";
const CLIENT_ID: &str = "client_01HTEST";
const API_KEY: &str = "sk_test_workos_fake_0123456789";

async fn fake() -> WorkosFake {
    let f = WorkosFake::start(
        CLIENT_ID,
        json!({"keys": [jwk(Algorithm::RS256, KID)]}),
        API_KEY,
    )
    .await;
    f.add_user("user_ada", "ada@example.com", Some("Ada"), Some("Lovelace"));
    f.add_user("user_bob", "bob@example.com", None, None);
    f
}

fn config(fake: &WorkosFake) -> WorkosConfig {
    WorkosConfig {
        api_key: Some(API_KEY.into()),
        client_id: Some(CLIENT_ID.into()),
        api_base: fake.base.clone(),
        allow_insecure_http: true,
        http_timeout: Duration::from_millis(500),
        ..WorkosConfig::default()
    }
}

fn seq() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
}

/// WorkOS access-token claims (the documented shape) for `sub`, valid for 5 minutes.
fn claims(fake: &WorkosFake, sub: &str) -> Value {
    let t = now();
    json!({
        "iss": fake.base, "sub": sub, "sid": "session_01HQ", "jti": format!("jti-{}", seq()),
        "org_id": "org_01ACME", "role": "member", "roles": ["member"],
        "permissions": ["posts:read"], "exp": t + 300, "iat": t - 5
    })
}

fn token(claims: &Value) -> String {
    sign(Algorithm::RS256, Some(KID), claims)
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

async fn serve(provider: Arc<dyn AuthProvider>) -> String {
    let app =
        Router::new()
            .route(
                "/api/me",
                get(|u: AuthUser| async move {
                    axum::Json(json!({"id": u.0.id, "claims": u.0.claims}))
                }),
            )
            .layer(Auth::mastra_defaults(provider).build().layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

struct Reply {
    status: StatusCode,
    retry_after: Option<String>,
    body: Value,
}

async fn bearer(base: &str, t: &str) -> Reply {
    let res = reqwest::Client::new()
        .get(format!("{base}/api/me"))
        .header("authorization", format!("Bearer {t}"))
        .send()
        .await
        .unwrap();
    let status = res.status();
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = res.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        retry_after,
        body,
    }
}

/// A refused token: what it exercises, the token, and the expected reason.
type Case = (&'static str, String, fn(&Rejection) -> bool);

fn rejection(e: AuthError) -> Rejection {
    match e {
        AuthError::InvalidToken(r) => r,
        other => panic!("expected an invalid token, got {other:?}"),
    }
}

fn parts() -> http::request::Parts {
    http::Request::new(()).into_parts().0
}

// ---------------------------------------------------------------------------------------------
// Construction

#[test]
fn config_from_env_and_errors() {
    let cfg = WorkosConfig::from_env_with(|k| match k {
        "WORKOS_API_KEY" => Some(API_KEY.into()),
        "WORKOS_CLIENT_ID" => Some(CLIENT_ID.into()),
        "WORKOS_REDIRECT_URI" => Some("https://app.example/auth/callback".into()),
        _ => None,
    });
    assert!(!format!("{cfg:?}").contains(API_KEY));
    let p = WorkosProvider::new(cfg).unwrap();
    assert_eq!(p.client_id(), CLIENT_ID);
    assert_eq!(p.redirect_uri(), Some("https://app.example/auth/callback"));
    assert_eq!(
        p.key_set().url(),
        format!("https://api.workos.com/sso/jwks/{CLIENT_ID}")
    );
    assert_eq!(
        p.accepted_issuers(),
        [
            "https://api.workos.com".to_string(),
            format!("https://api.workos.com/user_management/{CLIENT_ID}")
        ]
    );
    // Trusted claims need no API key; anything reading the API does.
    WorkosProvider::new(WorkosConfig {
        client_id: Some(CLIENT_ID.into()),
        trust_jwt_claims: true,
        ..WorkosConfig::default()
    })
    .unwrap();
    let err = WorkosProvider::new(WorkosConfig {
        client_id: Some(CLIENT_ID.into()),
        trust_jwt_claims: true,
        require_admin_role: true,
        ..WorkosConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().starts_with("api_key"), "{err}");
    let err = WorkosProvider::new(WorkosConfig {
        api_key: Some(API_KEY.into()),
        ..WorkosConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().starts_with("client_id"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Verification

#[tokio::test]
async fn accepts_and_normalizes_the_user() {
    let fake = fake().await;
    let base = serve(Arc::new(WorkosProvider::new(config(&fake)).unwrap())).await;
    let r = bearer(&base, &token(&claims(&fake, "user_ada"))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["id"], "user_ada");
    let c = &r.body["claims"];
    assert_eq!(c["workos_id"], "user_ada");
    assert_eq!(c["email"], "ada@example.com");
    assert_eq!(c["name"], "Ada Lovelace");
    assert_eq!(c["email_verified"], true);
    assert_eq!(c["organization_id"], "org_01ACME");
    assert_eq!(c["organization_membership_id"], Value::Null);
    // Token claims stay available to rules and handlers.
    assert_eq!(c["role"], "member");
    assert_eq!(c["permissions"], json!(["posts:read"]));
    assert_eq!(c["sid"], "session_01HQ");
    // Memberships are not fetched by default.
    assert!(c.get("memberships").is_none());
    assert_eq!(fake.membership_requests(), 0);
    // `claims.memberships` never comes from the token.
    let t = token(&with(
        claims(&fake, "user_ada"),
        json!({"memberships": [{"role": "admin", "status": "active"}]}),
    ));
    let r = bearer(&base, &t).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["claims"].get("memberships").is_none());
    // Name falls back to the email.
    let r = bearer(&base, &token(&claims(&fake, "user_bob"))).await;
    assert_eq!(r.body["claims"]["name"], "bob@example.com");
    // The per-client issuer AuthKit environments use is accepted too.
    let t = token(&with(
        claims(&fake, "user_ada"),
        json!({"iss": format!("{}/user_management/{CLIENT_ID}", fake.base)}),
    ));
    assert_eq!(bearer(&base, &t).await.status, StatusCode::OK);
}

#[tokio::test]
async fn each_rejection_reason() {
    let fake = fake().await;
    let provider = WorkosProvider::new(config(&fake)).unwrap();
    let with_audience = WorkosProvider::new(WorkosConfig {
        audience: vec![CLIENT_ID.into()],
        ..config(&fake)
    })
    .unwrap();
    let t = now();
    let good = claims(&fake, "user_ada");
    provider.verify_claims(&token(&good)).await.unwrap();

    let forged = sign_with("rsa2048-b.key", Algorithm::RS256, Some(KID), &good);
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.into());
    let confused = jsonwebtoken::encode(
        &header,
        &good,
        &EncodingKey::from_secret(fakes::jwks::fixture("rsa2048.pub").as_bytes()),
    )
    .unwrap();
    let cases: Vec<Case> = vec![
        ("signature by another key", forged, |r| {
            matches!(r, Rejection::BadSignature)
        }),
        (
            "issuer of another service",
            token(&with(good.clone(), json!({"iss": "https://evil.example"}))),
            |r| matches!(r, Rejection::IssuerMismatch { .. }),
        ),
        (
            "issuer of another client",
            token(&with(
                good.clone(),
                json!({"iss": format!("{}/user_management/client_OTHER", fake.base)}),
            )),
            |r| matches!(r, Rejection::IssuerMismatch { .. }),
        ),
        (
            "expired",
            token(&with(good.clone(), json!({"exp": t - 60, "iat": t - 400}))),
            |r| matches!(r, Rejection::Expired { .. }),
        ),
        (
            "no exp",
            token(&with(good.clone(), json!({"exp": null}))),
            |r| matches!(r, Rejection::MissingClaim("exp")),
        ),
        (
            "not yet valid",
            token(&with(good.clone(), json!({"nbf": t + 300}))),
            |r| matches!(r, Rejection::NotYetValid { .. }),
        ),
        (
            "unknown kid",
            sign(Algorithm::RS256, Some("sso_oidc_key_pair_OLD"), &good),
            |r| matches!(r, Rejection::UnknownKid(_)),
        ),
        (
            "EC token under the RSA kid",
            sign(Algorithm::ES256, Some(KID), &good),
            |r| matches!(r, Rejection::AlgorithmNotAllowed(_)),
        ),
        ("HS256 keyed with the RSA public key", confused, |r| {
            matches!(r, Rejection::AlgorithmNotAllowed(_))
        }),
    ];
    for (what, tok, check) in &cases {
        let r = rejection(provider.verify_claims(tok).await.unwrap_err());
        assert!(check(&r), "{what}: {r:?}");
    }
    // Audience when configured.
    with_audience
        .verify_claims(&token(&with(good.clone(), json!({"aud": CLIENT_ID}))))
        .await
        .unwrap();
    assert!(matches!(
        rejection(
            with_audience
                .verify_claims(&token(&with(good.clone(), json!({"aud": "client_OTHER"}))))
                .await
                .unwrap_err()
        ),
        Rejection::AudienceMismatch { .. }
    ));
    // A token without `sub` cannot name a WorkOS user.
    assert!(matches!(
        rejection(
            provider
                .authenticate(&token(&with(good.clone(), json!({"sub": null}))), &parts())
                .await
                .unwrap_err()
        ),
        Rejection::MissingClaim("sub")
    ));

    let base = serve(Arc::new(provider)).await;
    for (what, tok, _) in &cases {
        let r = bearer(&base, tok).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(
            r.body,
            json!({"error": "Invalid or expired token"}),
            "{what}"
        );
    }
    assert_eq!(fake.user_requests(), 0, "no API call for refused tokens");
}

#[tokio::test]
async fn explicit_issuer_replaces_the_defaults() {
    let fake = fake().await;
    let provider = WorkosProvider::new(WorkosConfig {
        issuer: Some("https://auth.example.com".into()),
        ..config(&fake)
    })
    .unwrap();
    let custom = token(&with(
        claims(&fake, "user_ada"),
        json!({"iss": "https://auth.example.com"}),
    ));
    provider.verify_claims(&custom).await.unwrap();
    assert!(matches!(
        rejection(
            provider
                .verify_claims(&token(&claims(&fake, "user_ada")))
                .await
                .unwrap_err()
        ),
        Rejection::IssuerMismatch { .. }
    ));
}

// ---------------------------------------------------------------------------------------------
// The User Management API

#[tokio::test]
async fn unknown_user_is_401_and_api_failures_are_503() {
    let fake = fake().await;
    let base = serve(Arc::new(WorkosProvider::new(config(&fake)).unwrap())).await;
    let r = bearer(&base, &token(&claims(&fake, "user_deleted"))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, json!({"error": "Invalid or expired token"}));

    fake.set_down(true);
    let r = bearer(&base, &token(&claims(&fake, "user_ada"))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        r.body,
        json!({"error": "Authentication service unavailable"})
    );
    assert!(r.retry_after.is_some());
    fake.set_down(false);
    // Not cached: back up, back in.
    assert_eq!(
        bearer(&base, &token(&claims(&fake, "user_ada")))
            .await
            .status,
        StatusCode::OK
    );

    fake.set_delay(Duration::from_millis(1500));
    let r = bearer(&base, &token(&claims(&fake, "user_bob"))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    fake.set_delay(Duration::ZERO);

    // A wrong API key (WorkOS 401): a 503 for the client, not a 401.
    let wrong = serve(Arc::new(
        WorkosProvider::new(WorkosConfig {
            api_key: Some("sk_test_wrong".into()),
            ..config(&fake)
        })
        .unwrap(),
    ))
    .await;
    assert_eq!(
        bearer(&wrong, &token(&claims(&fake, "user_bob")))
            .await
            .status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn users_are_cached_per_user() {
    let fake = fake().await;
    let base = serve(Arc::new(WorkosProvider::new(config(&fake)).unwrap())).await;
    for _ in 0..5 {
        // A fresh token each time (new jti): the token cache cannot answer, the user cache does.
        let r = bearer(&base, &token(&claims(&fake, "user_ada"))).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_eq!(r.body["claims"]["email"], "ada@example.com");
    }
    assert_eq!(fake.user_requests(), 1);
    bearer(&base, &token(&claims(&fake, "user_bob"))).await;
    assert_eq!(fake.user_requests(), 2);

    // Expiry, with a short TTL.
    let short = serve(Arc::new(
        WorkosProvider::new(WorkosConfig {
            user_cache_ttl: Duration::from_millis(300),
            ..config(&fake)
        })
        .unwrap(),
    ))
    .await;
    bearer(&short, &token(&claims(&fake, "user_ada"))).await;
    bearer(&short, &token(&claims(&fake, "user_ada"))).await;
    assert_eq!(fake.user_requests(), 3);
    tokio::time::sleep(Duration::from_millis(450)).await;
    bearer(&short, &token(&claims(&fake, "user_ada"))).await;
    assert_eq!(fake.user_requests(), 4);
}

#[tokio::test]
async fn user_id_is_percent_encoded_in_the_path() {
    let fake = fake().await;
    let odd = "user_x/../../organizations?x=1";
    fake.add_user(odd, "odd@example.com", None, None);
    let base = serve(Arc::new(WorkosProvider::new(config(&fake)).unwrap())).await;
    let r = bearer(&base, &token(&claims(&fake, odd))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["id"], odd);
    assert_eq!(*fake.state.user_ids.lock().unwrap(), vec![odd.to_string()]);
}

// ---------------------------------------------------------------------------------------------
// Trusted claims and mapping

#[tokio::test]
async fn trusted_claims_with_a_mapping_make_no_api_call() {
    let fake = fake().await;
    let mapping: BTreeMap<String, String> = [
        ("email", "profile.email"),
        ("name", "profile.display"),
        ("organization_id", "org.id"),
        ("organization_membership_id", "org.membership"),
        ("team", "custom.team"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let provider = WorkosProvider::new(WorkosConfig {
        api_key: None,
        trust_jwt_claims: true,
        jwt_claims: mapping,
        ..config(&fake)
    })
    .unwrap();
    let base = serve(Arc::new(provider)).await;
    let t = token(&with(
        claims(&fake, "svc_automation"),
        json!({
            "org_id": null,
            "profile": {"email": "bot@example.com", "display": "Automation"},
            "org": {"id": "org_01BOT", "membership": "om_01BOT"},
            "custom": {"team": ["platform"]}
        }),
    ));
    let r = bearer(&base, &t).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["id"], "svc_automation");
    let c = &r.body["claims"];
    assert_eq!(c["workos_id"], "svc_automation");
    assert_eq!(c["email"], "bot@example.com");
    assert_eq!(c["name"], "Automation");
    assert_eq!(c["organization_id"], "org_01BOT");
    assert_eq!(c["organization_membership_id"], "om_01BOT");
    assert_eq!(c["team"], json!(["platform"]));
    assert_eq!(fake.user_requests(), 0);
    assert_eq!(fake.membership_requests(), 0);

    // Without a display name: email, then id.
    let t = token(&claims(&fake, "svc_plain"));
    let r = bearer(&base, &t).await;
    assert_eq!(r.body["claims"]["name"], "svc_plain");
    assert_eq!(r.body["claims"]["organization_id"], Value::Null);
}

// ---------------------------------------------------------------------------------------------
// Memberships and authorization

#[tokio::test]
async fn memberships_are_paged_cached_and_put_in_claims() {
    let fake = fake().await;
    let mut ms: Vec<(String, &str, &str)> = (0..130)
        .map(|i| (format!("org_{i:03}"), "member", "active"))
        .collect();
    ms[110] = ("org_01ACME".into(), "admin", "active");
    let refs: Vec<(&str, &str, &str)> = ms.iter().map(|(o, r, s)| (o.as_str(), *r, *s)).collect();
    fake.set_memberships("user_ada", &refs);
    fake.set_memberships("user_bob", &[("org_01SOLO", "member", "active")]);
    let base = serve(Arc::new(
        WorkosProvider::new(WorkosConfig {
            fetch_memberships: true,
            ..config(&fake)
        })
        .unwrap(),
    ))
    .await;
    let r = bearer(&base, &token(&claims(&fake, "user_ada"))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let list = r.body["claims"]["memberships"].as_array().unwrap();
    assert_eq!(list.len(), 130);
    assert_eq!(list[110]["organization_id"], "org_01ACME");
    assert_eq!(list[110]["role"], "admin");
    assert_eq!(list[110]["status"], "active");
    // The token's organization selects the membership id.
    assert_eq!(r.body["claims"]["organization_id"], "org_01ACME");
    assert_eq!(
        r.body["claims"]["organization_membership_id"],
        list[110]["id"]
    );
    let cursors = fake.cursors();
    assert_eq!(cursors.len(), 2);
    assert_eq!(cursors[0], None);
    assert_eq!(cursors[1].as_deref(), Some("om_user_ada_0099"));
    // Cached: another token of the same user makes no membership call.
    bearer(&base, &token(&claims(&fake, "user_ada"))).await;
    assert_eq!(fake.membership_requests(), 2);

    // No organization in the token and a single membership: that organization.
    let r = bearer(
        &base,
        &token(&with(claims(&fake, "user_bob"), json!({"org_id": null}))),
    )
    .await;
    assert_eq!(r.body["claims"]["organization_id"], "org_01SOLO");

    // The membership API down while fetch_memberships is on: 503, not a user without them.
    fake.set_memberships("user_carol", &[]);
    fake.add_user("user_carol", "carol@example.com", None, None);
    let fresh = serve(Arc::new(
        WorkosProvider::new(WorkosConfig {
            fetch_memberships: true,
            trust_jwt_claims: true,
            ..config(&fake)
        })
        .unwrap(),
    ))
    .await;
    fake.set_down(true);
    let r = bearer(&fresh, &token(&claims(&fake, "user_carol"))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    fake.set_down(false);
}

#[tokio::test]
async fn default_authorization_needs_id_and_workos_id() {
    let fake = fake().await;
    let provider = WorkosProvider::new(config(&fake)).unwrap();
    let user = |id: &str, claims: Value| User {
        id: id.into(),
        claims: claims.as_object().unwrap().clone().into(),
        provider: "workos".into(),
    };
    assert!(provider.authorizes(&user("user_ada", json!({}))));
    let p = parts();
    assert!(
        provider
            .authorize(&user("user_ada", json!({"workos_id": "user_ada"})), &p)
            .await
            .unwrap()
    );
    assert!(
        !provider
            .authorize(&user("user_ada", json!({})), &p)
            .await
            .unwrap()
    );
    assert!(
        !provider
            .authorize(&user("user_ada", json!({"workos_id": ""})), &p)
            .await
            .unwrap()
    );
    assert!(
        !provider
            .authorize(&user("", json!({"workos_id": "user_ada"})), &p)
            .await
            .unwrap()
    );
    // Through the layer: any existing WorkOS user.
    let base = serve(Arc::new(provider)).await;
    assert_eq!(
        bearer(&base, &token(&claims(&fake, "user_bob")))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn require_admin_role() {
    let fake = fake().await;
    fake.add_user("user_member", "m@example.com", None, None);
    fake.add_user("user_inactive", "i@example.com", None, None);
    fake.add_user("user_big", "b@example.com", None, None);
    fake.set_memberships("user_ada", &[("org_01ACME", "admin", "active")]);
    fake.set_memberships("user_member", &[("org_01ACME", "member", "active")]);
    fake.set_memberships("user_inactive", &[("org_01ACME", "admin", "inactive")]);
    let mut big: Vec<(String, &str, &str)> = (0..120)
        .map(|i| (format!("org_{i:03}"), "member", "active"))
        .collect();
    big[119] = ("org_01ACME".into(), "admin", "active");
    let refs: Vec<(&str, &str, &str)> = big.iter().map(|(o, r, s)| (o.as_str(), *r, *s)).collect();
    fake.set_memberships("user_big", &refs);
    let base = serve(Arc::new(
        WorkosProvider::new(WorkosConfig {
            require_admin_role: true,
            ..config(&fake)
        })
        .unwrap(),
    ))
    .await;
    assert_eq!(
        bearer(&base, &token(&claims(&fake, "user_ada")))
            .await
            .status,
        StatusCode::OK
    );
    let r = bearer(&base, &token(&claims(&fake, "user_member"))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body, json!({"error": "Access denied"}));
    assert_eq!(
        bearer(&base, &token(&claims(&fake, "user_inactive")))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // No memberships at all.
    assert_eq!(
        bearer(&base, &token(&claims(&fake, "user_bob")))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The admin membership on page 2.
    assert_eq!(
        bearer(&base, &token(&claims(&fake, "user_big")))
            .await
            .status,
        StatusCode::OK
    );
    // Cached for the next request of the same user.
    let before = fake.membership_requests();
    bearer(&base, &token(&claims(&fake, "user_big"))).await;
    assert_eq!(fake.membership_requests(), before);

    // Memberships unreachable during authorization: 503, never an allow. Trusted claims keep the
    // user lookup out of the way, so the failure is the authorizer's.
    let trusted = serve(Arc::new(
        WorkosProvider::new(WorkosConfig {
            require_admin_role: true,
            trust_jwt_claims: true,
            ..config(&fake)
        })
        .unwrap(),
    ))
    .await;
    fake.set_down(true);
    let r = bearer(&trusted, &token(&claims(&fake, "user_ada"))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        r.body,
        json!({"error": "Authorization service unavailable"})
    );
    fake.set_down(false);
    assert_eq!(
        bearer(&trusted, &token(&claims(&fake, "user_ada")))
            .await
            .status,
        StatusCode::OK
    );
}
