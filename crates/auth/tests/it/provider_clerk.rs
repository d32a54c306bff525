//! `clerk` provider against a local Clerk fake (Frontend API JWKS + Backend API memberships),
//! verification reasons directly and authorization through the real auth layer over HTTP.

use std::sync::Arc;
use std::time::Duration;

use crate::fakes;
use crate::fakes::clerk::ClerkFake;
use crate::fakes::jwks::{jwk, now, sign, sign_with};
use axum::Router;
use axum::routing::get;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mastra_auth::jwt::Rejection;
use mastra_auth::providers::clerk::{
    ClerkConfig, ClerkProvider, PublishableKeyError, frontend_api_host, issuer_from_publishable_key,
};
use mastra_auth::{Auth, AuthError, AuthProvider, AuthUser};
use reqwest::StatusCode;
use serde_json::{Value, json};

const KID: &str = "ins_test_key_1";
const SECRET_KEY: &str = "sk_test_fake_backend_key_0123456789";
const FAPI_HOST: &str = "clerk.test.example";
const ISSUER: &str = "https://clerk.test.example";
const APP: &str = "https://app.example.com";

fn publishable_key() -> String {
    format!(
        "pk_test_{}",
        base64::engine::general_purpose::STANDARD.encode(format!("{FAPI_HOST}$"))
    )
}

async fn fake() -> ClerkFake {
    ClerkFake::start(json!({"keys": [jwk(Algorithm::RS256, KID)]}), SECRET_KEY).await
}

fn config(fake: &ClerkFake) -> ClerkConfig {
    ClerkConfig {
        publishable_key: Some(publishable_key()),
        jwks_uri: Some(fake.jwks_uri()),
        secret_key: Some(SECRET_KEY.into()),
        api_base: fake.api_base(),
        allow_insecure_http: true,
        http_timeout: Duration::from_millis(500),
        ..ClerkConfig::default()
    }
}

/// Clerk session-token claims (v1 shape) for `sub`, valid for 10 minutes.
fn claims(sub: &str) -> Value {
    let t = now();
    json!({
        "azp": APP, "exp": t + 600, "iat": t - 5, "iss": ISSUER, "nbf": t - 10,
        "sid": "sess_123", "sub": sub, "jti": format!("{sub}-{}", rand_suffix())
    })
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::SeqCst)
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

async fn get_me(base: &str, headers: &[(&str, String)]) -> Reply {
    let mut req = reqwest::Client::new().get(format!("{base}/api/me"));
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let res = req.send().await.unwrap();
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

async fn bearer(base: &str, t: &str) -> Reply {
    get_me(base, &[("authorization", format!("Bearer {t}"))]).await
}

/// A refused token: what it exercises, the token, and the expected reason.
type Case = (&'static str, String, fn(&Rejection) -> bool);

fn rejection(e: AuthError) -> Rejection {
    match e {
        AuthError::InvalidToken(r) => r,
        other => panic!("expected an invalid token, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Publishable key and construction

#[test]
fn publishable_key_decodes_to_the_frontend_api() {
    assert_eq!(frontend_api_host(&publishable_key()), Ok(FAPI_HOST.into()));
    assert_eq!(
        issuer_from_publishable_key(&publishable_key()),
        Ok(ISSUER.into())
    );
    assert_eq!(
        issuer_from_publishable_key("pk_live_Y2xlcmsubXlhcHAuY29tJA=="),
        Ok("https://clerk.myapp.com".into())
    );
    assert_eq!(
        frontend_api_host("pk_test_bm8tdGVybWluYXRvci5leGFtcGxlLmNvbQ"),
        Err(PublishableKeyError::NoTerminator)
    );
    assert_eq!(
        frontend_api_host("sk_live_Y2xlcmsubXlhcHAuY29tJA=="),
        Err(PublishableKeyError::Prefix)
    );
}

#[tokio::test]
async fn malformed_publishable_key_names_the_setting() {
    let err = ClerkProvider::new(ClerkConfig {
        publishable_key: Some("pk_test_%%%".into()),
        ..ClerkConfig::default()
    })
    .unwrap_err();
    assert!(err.to_string().starts_with("publishable_key"), "{err}");
    let cfg = ClerkConfig::from_env_with(|k| {
        (k == "CLERK_PUBLISHABLE_KEY").then(|| "pk_live_bm90IGEgaG9zdA==".to_string())
    });
    let err = ClerkProvider::new(cfg).unwrap_err();
    assert!(err.to_string().starts_with("publishable_key"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Verification

#[tokio::test]
async fn accepts_bearer_and_session_cookie() {
    let fake = fake().await;
    let provider = Arc::new(ClerkProvider::new(config(&fake)).unwrap());
    let base = serve(provider.clone()).await;
    let t = token(&claims("user_2abc"));
    let r = bearer(&base, &t).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["id"], "user_2abc");
    assert_eq!(r.body["claims"]["sid"], "sess_123");
    let r = get_me(&base, &[("cookie", format!("theme=dark; __session={t}"))]).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["id"], "user_2abc");
    // No token at all.
    let r = get_me(&base, &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.body, json!({"error": "Authentication required"}));
    // Without an organization restriction no Backend API call is made.
    assert_eq!(fake.api_requests(), 0);
    assert_eq!(provider.issuers(), vec![ISSUER.to_string()]);
}

#[tokio::test]
async fn default_jwks_uri_is_derived_from_the_issuer() {
    let fake = fake().await;
    let provider = ClerkProvider::new(ClerkConfig {
        publishable_key: None,
        issuer: Some(fake.base.clone()),
        jwks_uri: None,
        secret_key: None,
        allow_insecure_http: true,
        ..ClerkConfig::default()
    })
    .unwrap();
    assert_eq!(provider.key_set().url(), fake.jwks_uri());
    let t = token(&with(claims("user_1"), json!({"iss": fake.base})));
    provider.verify(&t).await.unwrap();
    assert_eq!(
        fake.state
            .jwks_requests
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn each_rejection_reason() {
    let fake = fake().await;
    let provider = ClerkProvider::new(ClerkConfig {
        authorized_parties: vec![APP.into(), "https://admin.example.com".into()],
        ..config(&fake)
    })
    .unwrap();
    let with_audience = ClerkProvider::new(ClerkConfig {
        audience: vec!["mastra-api".into()],
        ..config(&fake)
    })
    .unwrap();
    let t = now();
    let good = claims("user_1");

    // Sanity: the good token and a second authorized party pass.
    provider.verify(&token(&good)).await.unwrap();
    provider
        .verify(&token(&with(
            good.clone(),
            json!({"azp": "https://admin.example.com"}),
        )))
        .await
        .unwrap();

    // Signature: signed by another key under our kid.
    let forged = sign_with("rsa2048-b.key", Algorithm::RS256, Some(KID), &good);
    assert_eq!(
        rejection(provider.verify(&forged).await.unwrap_err()),
        Rejection::BadSignature
    );
    // Signature: payload swapped after signing.
    let real = token(&good);
    let other = token(&claims("user_admin"));
    let parts: Vec<&str> = real.split('.').collect();
    let other_payload = other.split('.').nth(1).unwrap();
    let spliced = format!("{}.{}.{}", parts[0], other_payload, parts[2]);
    assert_eq!(
        rejection(provider.verify(&spliced).await.unwrap_err()),
        Rejection::BadSignature
    );

    let cases: Vec<Case> = vec![
        (
            "wrong issuer",
            token(&with(
                good.clone(),
                json!({"iss": "https://clerk.evil.example"}),
            )),
            |r| matches!(r, Rejection::IssuerMismatch { .. }),
        ),
        (
            "no issuer",
            token(&with(good.clone(), json!({"iss": null}))),
            |r| matches!(r, Rejection::MissingClaim("iss")),
        ),
        (
            "expired",
            token(&with(good.clone(), json!({"exp": t - 120, "iat": t - 700}))),
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
            sign(Algorithm::RS256, Some("ins_rotated_away"), &good),
            |r| matches!(r, Rejection::UnknownKid(_)),
        ),
        (
            "EC algorithm under the RSA key's kid",
            sign(Algorithm::ES256, Some(KID), &good),
            |r| matches!(r, Rejection::AlgorithmNotAllowed(_)),
        ),
        (
            "RS512 with the RS256 key",
            sign(Algorithm::RS512, Some(KID), &good),
            |r| matches!(r, Rejection::AlgorithmNotAllowed(_)),
        ),
        (
            "azp not authorized",
            token(&with(good.clone(), json!({"azp": "https://evil.example"}))),
            |r| matches!(r, Rejection::Provider(m) if m.contains("azp")),
        ),
        (
            "azp missing",
            token(&with(good.clone(), json!({"azp": null}))),
            |r| matches!(r, Rejection::MissingClaim("azp")),
        ),
        (
            "azp not a string",
            token(&with(
                good.clone(),
                json!({"azp": ["https://app.example.com"]}),
            )),
            |r| matches!(r, Rejection::ClaimType("azp")),
        ),
        (
            "pending session",
            token(&with(good.clone(), json!({"v": 2, "sts": "pending"}))),
            |r| matches!(r, Rejection::Provider(m) if m.contains("pending")),
        ),
        (
            "no sub",
            token(&with(good.clone(), json!({"sub": null}))),
            |r| matches!(r, Rejection::MissingClaim("sub")),
        ),
        (
            "empty sub",
            token(&with(good.clone(), json!({"sub": ""}))),
            |r| matches!(r, Rejection::MissingClaim("sub")),
        ),
    ];
    for (what, tok, check) in &cases {
        let r = rejection(provider.verify(tok).await.unwrap_err());
        assert!(check(&r), "{what}: {r:?}");
    }

    // HS256 "signed" with the RSA public key as an HMAC secret (algorithm confusion).
    let public_pem = fakes::jwks::fixture("rsa2048.pub");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(KID.into());
    let confused = jsonwebtoken::encode(
        &header,
        &good,
        &EncodingKey::from_secret(public_pem.as_bytes()),
    )
    .unwrap();
    assert!(matches!(
        rejection(provider.verify(&confused).await.unwrap_err()),
        Rejection::AlgorithmNotAllowed(_)
    ));

    // Audience, when configured.
    with_audience
        .verify(&token(&with(good.clone(), json!({"aud": "mastra-api"}))))
        .await
        .unwrap();
    assert!(matches!(
        rejection(
            with_audience
                .verify(&token(&with(good.clone(), json!({"aud": "other-api"}))))
                .await
                .unwrap_err()
        ),
        Rejection::AudienceMismatch { .. }
    ));
    assert!(matches!(
        rejection(with_audience.verify(&token(&good)).await.unwrap_err()),
        Rejection::MissingClaim("aud")
    ));

    // Over HTTP every one of them is a 401 with the stable body.
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
    assert_eq!(
        bearer(&base, &forged).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn pending_sessions_can_be_allowed() {
    let fake = fake().await;
    let provider = ClerkProvider::new(ClerkConfig {
        allow_pending_sessions: true,
        ..config(&fake)
    })
    .unwrap();
    let t = token(&with(claims("user_1"), json!({"v": 2, "sts": "pending"})));
    provider.verify(&t).await.unwrap();
}

#[tokio::test]
async fn key_set_unreachable_is_503() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    drop(listener);
    let provider = ClerkProvider::new(ClerkConfig {
        publishable_key: Some(publishable_key()),
        jwks_uri: Some(dead),
        allow_insecure_http: true,
        http_timeout: Duration::from_millis(300),
        ..ClerkConfig::default()
    })
    .unwrap();
    let base = serve(Arc::new(provider)).await;
    let r = bearer(&base, &token(&claims("user_1"))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{:?}", r.body);
    assert_eq!(
        r.body,
        json!({"error": "Authentication service unavailable"})
    );
}

// ---------------------------------------------------------------------------------------------
// Organization restriction (authorization through the layer)

fn org_config(fake: &ClerkFake, id: Option<&str>, slug: Option<&str>) -> ClerkConfig {
    ClerkConfig {
        organization_id: id.map(str::to_owned),
        organization_slug: slug.map(str::to_owned),
        ..config(fake)
    }
}

#[tokio::test]
async fn active_organization_claim_is_a_fast_path() {
    let fake = fake().await;
    let by_id = serve(Arc::new(
        ClerkProvider::new(org_config(&fake, Some("org_acme"), None)).unwrap(),
    ))
    .await;
    let by_slug = serve(Arc::new(
        ClerkProvider::new(org_config(&fake, None, Some("acme"))).unwrap(),
    ))
    .await;
    // v1 claims.
    let v1 = token(&with(
        claims("user_1"),
        json!({"org_id": "org_acme", "org_slug": "acme", "org_role": "org:member"}),
    ));
    assert_eq!(bearer(&by_id, &v1).await.status, StatusCode::OK);
    assert_eq!(bearer(&by_slug, &v1).await.status, StatusCode::OK);
    // v2 claims (`o.id`, `o.slg`).
    let v2 = token(&with(
        claims("user_2"),
        json!({"v": 2, "o": {"id": "org_acme", "slg": "acme", "rol": "member"}}),
    ));
    assert_eq!(bearer(&by_id, &v2).await.status, StatusCode::OK);
    assert_eq!(bearer(&by_slug, &v2).await.status, StatusCode::OK);
    assert_eq!(fake.api_requests(), 0, "the claims decided");
    // The slug of another org in the id claim does not count, and vice versa.
    let crossed = token(&with(
        claims("user_3"),
        json!({"org_id": "acme", "org_slug": "org_acme"}),
    ));
    assert_eq!(bearer(&by_id, &crossed).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn membership_from_the_backend_api_allows_and_denies() {
    let fake = fake().await;
    fake.set_memberships(
        "user_member",
        &[("org_other", "other"), ("org_acme", "acme")],
    );
    fake.set_memberships("user_outsider", &[("org_other", "other")]);
    fake.set_memberships("user_none", &[]);
    let base = serve(Arc::new(
        ClerkProvider::new(org_config(&fake, Some("org_acme"), None)).unwrap(),
    ))
    .await;
    let r = bearer(&base, &token(&claims("user_member"))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = bearer(&base, &token(&claims("user_outsider"))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body, json!({"error": "Access denied"}));
    assert_eq!(
        bearer(&base, &token(&claims("user_none"))).await.status,
        StatusCode::FORBIDDEN
    );
    // Unknown to Clerk (404 resource_not_found): not a member.
    assert_eq!(
        bearer(&base, &token(&claims("user_deleted"))).await.status,
        StatusCode::FORBIDDEN
    );
    // A token whose active org is another one still gets the API check.
    let t = token(&with(
        claims("user_outsider"),
        json!({"org_id": "org_other"}),
    ));
    assert_eq!(bearer(&base, &t).await.status, StatusCode::FORBIDDEN);

    // By slug.
    let by_slug = serve(Arc::new(
        ClerkProvider::new(org_config(&fake, None, Some("acme"))).unwrap(),
    ))
    .await;
    assert_eq!(
        bearer(&by_slug, &token(&claims("user_member")))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        bearer(&by_slug, &token(&claims("user_outsider")))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn membership_on_page_two() {
    let fake = fake().await;
    let orgs: Vec<(String, String)> = (0..150)
        .map(|i| (format!("org_{i:03}"), format!("team-{i:03}")))
        .collect();
    let mut pairs: Vec<(&str, &str)> = orgs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    pairs[120] = ("org_acme", "acme");
    fake.set_memberships("user_big", &pairs);
    let base = serve(Arc::new(
        ClerkProvider::new(org_config(&fake, Some("org_acme"), None)).unwrap(),
    ))
    .await;
    assert_eq!(
        bearer(&base, &token(&claims("user_big"))).await.status,
        StatusCode::OK
    );
    assert_eq!(
        fake.log(),
        vec![("user_big".to_string(), 0), ("user_big".to_string(), 100)]
    );
    // Not in 150 memberships: both pages read, then denied.
    let restricted = serve(Arc::new(
        ClerkProvider::new(org_config(&fake, Some("org_nowhere"), None)).unwrap(),
    ))
    .await;
    assert_eq!(
        bearer(&restricted, &token(&claims("user_big")))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(fake.api_requests(), 4);
}

#[tokio::test]
async fn membership_answers_are_cached_per_user() {
    let fake = fake().await;
    fake.set_memberships("user_member", &[("org_acme", "acme")]);
    fake.set_memberships("user_outsider", &[("org_other", "other")]);
    let base = serve(Arc::new(
        ClerkProvider::new(org_config(&fake, Some("org_acme"), None)).unwrap(),
    ))
    .await;
    // Distinct tokens (fresh jti), same user: one API call.
    for _ in 0..5 {
        assert_eq!(
            bearer(&base, &token(&claims("user_member"))).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(fake.api_requests(), 1);
    // Denials are cached too.
    for _ in 0..3 {
        assert_eq!(
            bearer(&base, &token(&claims("user_outsider"))).await.status,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(fake.api_requests(), 2);

    // Concurrent misses share one call.
    fake.set_memberships("user_burst", &[("org_acme", "acme")]);
    fake.set_delay(Duration::from_millis(150));
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let base = base.clone();
            let t = token(&claims("user_burst"));
            tokio::spawn(async move { bearer(&base, &t).await.status })
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(fake.api_requests(), 3);
}

#[tokio::test]
async fn membership_cache_expires() {
    let fake = fake().await;
    fake.set_memberships("user_member", &[("org_acme", "acme")]);
    let base = serve(Arc::new(
        ClerkProvider::new(ClerkConfig {
            membership_cache_ttl: Duration::from_millis(300),
            ..org_config(&fake, Some("org_acme"), None)
        })
        .unwrap(),
    ))
    .await;
    bearer(&base, &token(&claims("user_member"))).await;
    bearer(&base, &token(&claims("user_member"))).await;
    assert_eq!(fake.api_requests(), 1);
    tokio::time::sleep(Duration::from_millis(450)).await;
    // Membership revoked meanwhile: the next answer comes from the API again.
    fake.set_memberships("user_member", &[]);
    assert_eq!(
        bearer(&base, &token(&claims("user_member"))).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(fake.api_requests(), 2);
}

#[tokio::test]
async fn backend_down_slow_or_refusing_is_503_never_allow() {
    let fake = fake().await;
    fake.set_memberships("user_member", &[("org_acme", "acme")]);
    let base = serve(Arc::new(
        ClerkProvider::new(org_config(&fake, Some("org_acme"), None)).unwrap(),
    ))
    .await;
    fake.set_down(true);
    let r = bearer(&base, &token(&claims("user_member"))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        r.body,
        json!({"error": "Authorization service unavailable"})
    );
    assert!(r.retry_after.is_some());
    // Errors are not cached: once Clerk is back the user gets in.
    fake.set_down(false);
    assert_eq!(
        bearer(&base, &token(&claims("user_member"))).await.status,
        StatusCode::OK
    );

    // Slower than the timeout.
    fake.set_memberships("user_slow", &[("org_acme", "acme")]);
    fake.set_delay(Duration::from_millis(1500));
    let r = bearer(&base, &token(&claims("user_slow"))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    fake.set_delay(Duration::ZERO);

    // A wrong secret key (Clerk answers 401 authentication_invalid): our problem, not the user's.
    let wrong_key = serve(Arc::new(
        ClerkProvider::new(ClerkConfig {
            secret_key: Some("sk_test_wrong".into()),
            ..org_config(&fake, Some("org_acme"), None)
        })
        .unwrap(),
    ))
    .await;
    let r = bearer(&wrong_key, &token(&claims("user_member"))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn user_id_is_percent_encoded_in_the_path() {
    let fake = fake().await;
    let odd = "user_x/../../admin?limit=1#";
    fake.set_memberships(odd, &[("org_acme", "acme")]);
    let base = serve(Arc::new(
        ClerkProvider::new(org_config(&fake, Some("org_acme"), None)).unwrap(),
    ))
    .await;
    assert_eq!(
        bearer(&base, &token(&claims(odd))).await.status,
        StatusCode::OK
    );
    assert_eq!(fake.log(), vec![(odd.to_string(), 0)]);
}
