//! The `jwks`, `oidc` and `auth0` providers against the local JWKS / discovery fake: every accept
//! path, every reject reason, backend failures, discovery checks, config errors, and the HTTP
//! pipeline answering 401/403/503.

use std::sync::Arc;
use std::time::Duration;

use crate::fakes;
use crate::fakes::jwks::{Behavior, JwksFake, jwk, jwk_from, now, sign, sign_with};
use axum::Router;
use axum::routing::get;
use http::request::Parts;
use jsonwebtoken::Algorithm;
use mastra_auth::idp_http::IdpClientConfig;
use mastra_auth::jwt::Rejection;
use mastra_auth::keyset::KeySetTiming;
use mastra_auth::providers::auth0::{AUTH0_AUDIENCE_ENV, AUTH0_DOMAIN_ENV};
use mastra_auth::providers::jwks::KeySetProviderError;
use mastra_auth::providers::{
    Auth0Config, Auth0Provider, JwksConfig, JwksProvider, OidcConfig, OidcProvider,
};
use mastra_auth::{Auth, AuthError, AuthProvider, AuthUser, User, Verdict};
use serde_json::{Value, json};

const AUD: &str = "https://api.example.test";

fn http() -> IdpClientConfig {
    IdpClientConfig {
        allow_insecure_http: true,
        timeout: Duration::from_secs(2),
        ..Default::default()
    }
}

fn parts() -> Parts {
    http::Request::builder()
        .uri("/api/agents")
        .body(())
        .unwrap()
        .into_parts()
        .0
}

fn claims(iss: &str) -> Value {
    json!({"sub": "user-1", "iss": iss, "aud": AUD, "exp": now() + 600, "iat": now()})
}

fn patched(base: Value, patch: Value) -> Value {
    let mut c = base;
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

fn rejection(e: AuthError) -> Rejection {
    match e {
        AuthError::InvalidToken(r) => r,
        other => panic!("expected 401, got {other:?}"),
    }
}

fn is_503(e: &AuthError) -> bool {
    matches!(e, AuthError::Unavailable { .. }) && e.status() == 503
}

/// Runs every verification reject reason (signature, registered claims and their types, `kid`,
/// algorithm binding) through `verify` for a provider whose tokens are `RS256` with kid `k1` and
/// issuer `iss`.
async fn assert_reject_reasons<F, Fut>(iss: &str, verify: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Arc<User>, AuthError>>,
{
    let good = claims(iss);
    let t = |c: &Value| sign(Algorithm::RS256, Some("k1"), c);
    // Signature: the other RSA key under the same kid; and a tampered payload.
    let forged = sign_with("rsa2048-b.key", Algorithm::RS256, Some("k1"), &good);
    assert_eq!(
        rejection(verify(forged).await.unwrap_err()),
        Rejection::BadSignature
    );
    let ok = t(&good);
    let evil = t(&patched(good.clone(), json!({"sub": "admin"})));
    let tampered = format!(
        "{}.{}.{}",
        ok.split('.').next().unwrap(),
        evil.split('.').nth(1).unwrap(),
        ok.split('.').nth(2).unwrap()
    );
    assert_eq!(
        rejection(verify(tampered).await.unwrap_err()),
        Rejection::BadSignature
    );
    let cases: Vec<(&str, Value)> = vec![
        ("iss", json!({"iss": "https://evil.example/"})),
        ("iss missing", json!({"iss": null})),
        ("aud", json!({"aud": "https://other.example"})),
        ("aud missing", json!({"aud": null})),
        ("exp", json!({"exp": now() - 3600})),
        ("exp missing", json!({"exp": null})),
        ("nbf", json!({"nbf": now() + 3600})),
        ("exp type", json!({"exp": "later"})),
    ];
    for (what, patch) in cases {
        let r = rejection(verify(t(&patched(good.clone(), patch))).await.unwrap_err());
        let fits = match what {
            "iss" => matches!(r, Rejection::IssuerMismatch { .. }),
            "iss missing" => r == Rejection::MissingClaim("iss"),
            "aud" => matches!(r, Rejection::AudienceMismatch { .. }),
            "aud missing" => r == Rejection::MissingClaim("aud"),
            "exp" => matches!(r, Rejection::Expired { .. }),
            "exp missing" => r == Rejection::MissingClaim("exp"),
            "nbf" => matches!(r, Rejection::NotYetValid { .. }),
            "exp type" => r == Rejection::ClaimType("exp"),
            _ => unreachable!(),
        };
        assert!(fits, "{what}: {r:?}");
    }
    // Wrong kid.
    let r = rejection(
        verify(sign(Algorithm::RS256, Some("nope"), &good))
            .await
            .unwrap_err(),
    );
    assert!(matches!(r, Rejection::UnknownKid(_)), "{r:?}");
    // Wrong algorithm for the key (the JWK pins RS256).
    let r = rejection(
        verify(sign(Algorithm::PS256, Some("k1"), &good))
            .await
            .unwrap_err(),
    );
    assert!(matches!(r, Rejection::AlgorithmNotAllowed(_)), "{r:?}");
    // HS256 with a kid of the set (algorithm confusion) and alg none.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some("k1".into()),
            ..jsonwebtoken::Header::new(Algorithm::HS256)
        },
        &good,
        &jsonwebtoken::EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
    )
    .unwrap();
    assert!(matches!(
        rejection(verify(hs).await.unwrap_err()),
        Rejection::AlgorithmNotAllowed(_)
    ));
    let none = format!(
        "{}.{}.",
        base64_url(r#"{"alg":"none","kid":"k1"}"#),
        ok.split('.').nth(1).unwrap()
    );
    assert!(verify(none).await.is_err());
}

fn base64_url(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

// ---------------------------------------------------------------------------------------------
// jwks

fn jwks_provider(fake: &JwksFake, iss: &str) -> JwksProvider {
    JwksProvider::new(JwksConfig {
        http: http(),
        ..JwksConfig::new(fake.jwks_url(), iss, AUD)
    })
    .unwrap()
}

#[tokio::test]
async fn jwks_accepts_valid_tokens_of_every_key_type() {
    let fake = JwksFake::with_keys(vec![
        jwk(Algorithm::RS256, "k1"),
        jwk(Algorithm::ES256, "k2"),
        jwk(Algorithm::ES384, "k3"),
        jwk(Algorithm::EdDSA, "k4"),
    ])
    .await;
    let iss = "https://issuer.example/";
    let p = jwks_provider(&fake, iss);
    for (alg, kid) in [
        (Algorithm::RS256, "k1"),
        (Algorithm::ES256, "k2"),
        (Algorithm::ES384, "k3"),
        (Algorithm::EdDSA, "k4"),
    ] {
        let user = p
            .authenticate(&sign(alg, Some(kid), &claims(iss)), &parts())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.id, "user-1");
        assert_eq!(&*user.provider, "jwks");
    }
    assert!(!p.authorizes(&User::from_claims(Default::default(), "jwks".into())));
    assert_eq!(p.issuers(), vec![iss.to_owned()]);
    assert_eq!(fake.requests(), 1);
    // Audience arrays are accepted when they contain the audience.
    let t = sign(
        Algorithm::RS256,
        Some("k1"),
        &patched(claims(iss), json!({"aud": ["x", AUD]})),
    );
    p.verify(&t).await.unwrap();
}

#[tokio::test]
async fn jwks_rejects_every_reason() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let iss = "https://issuer.example/";
    let p = jwks_provider(&fake, iss);
    assert_reject_reasons(iss, |t| {
        let p = &p;
        async move { p.verify(&t).await }
    })
    .await;
}

#[tokio::test]
async fn jwks_backend_down_is_503() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    fake.set_behavior(Behavior::Status(500));
    let iss = "https://issuer.example/";
    let p = jwks_provider(&fake, iss);
    let e = p
        .authenticate(&sign(Algorithm::RS256, Some("k1"), &claims(iss)), &parts())
        .await
        .unwrap_err();
    assert!(is_503(&e), "{e:?}");
    assert_eq!(e.message(), "Authentication service unavailable");
}

#[tokio::test]
async fn jwks_repeat_tokens_hit_the_cache_but_expiry_is_rechecked() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let iss = "https://issuer.example/";
    let p = JwksProvider::new(JwksConfig {
        http: http(),
        leeway: Duration::ZERO,
        ..JwksConfig::new(fake.jwks_url(), iss, AUD)
    })
    .unwrap();
    let t = sign(
        Algorithm::RS256,
        Some("k1"),
        &patched(claims(iss), json!({"exp": now() + 2})),
    );
    // Cached from the second verification on (the first sight only passes the doorkeeper).
    let a = p.verify(&t).await.unwrap();
    let b = p.verify(&t).await.unwrap();
    let c = p.verify(&t).await.unwrap();
    assert!(!Arc::ptr_eq(&a, &b), "a first-seen token is not cached");
    assert!(
        Arc::ptr_eq(&b, &c),
        "third verification came from the cache"
    );
    // The cache is keyed by the signature: the cached one under other claims is a forgery.
    let (input, signature) = t.rsplit_once('.').unwrap();
    let (header, _) = input.split_once('.').unwrap();
    let other = sign(Algorithm::RS256, Some("k1"), &claims(iss));
    let (other_input, _) = other.rsplit_once('.').unwrap();
    let (_, other_payload) = other_input.split_once('.').unwrap();
    let forged = format!("{header}.{other_payload}.{signature}");
    for _ in 0..3 {
        assert!(matches!(
            rejection(p.verify(&forged).await.unwrap_err()),
            Rejection::BadSignature
        ));
    }
    assert!(Arc::ptr_eq(&c, &p.verify(&t).await.unwrap()));
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert!(matches!(
        rejection(p.verify(&t).await.unwrap_err()),
        Rejection::Expired { .. }
    ));
}

#[tokio::test]
async fn jwks_config_errors_name_the_setting() {
    let err = |c: JwksConfig| JwksProvider::new(c).unwrap_err().to_string();
    let base = JwksConfig::new("https://idp.example/jwks", "https://idp.example/", AUD);
    assert!(
        err(JwksConfig {
            issuer: None,
            ..base.clone()
        })
        .contains("issuer")
    );
    assert!(
        err(JwksConfig {
            audience: None,
            ..base.clone()
        })
        .contains("audience")
    );
    assert!(
        JwksProvider::new(JwksConfig {
            audience: None,
            allow_any_audience: true,
            ..base.clone()
        })
        .is_ok()
    );
    assert!(
        err(JwksConfig {
            jwks_uri: String::new(),
            ..base.clone()
        })
        .contains("jwks_uri")
    );
    let e = err(JwksConfig {
        jwks_uri: "http://idp.example/jwks".into(),
        ..base.clone()
    });
    assert!(e.contains("jwks_uri") && e.contains("HTTPS"), "{e}");
    let e = err(JwksConfig {
        algorithms: Some(vec![Algorithm::HS256]),
        ..base.clone()
    });
    assert!(e.contains("algorithms"), "{e}");
    // Debug shows no more than settings (there are no secrets here, but no key material either).
    let p = JwksProvider::new(base).unwrap();
    let dbg = format!("{p:?}");
    assert!(
        dbg.contains("JwksProvider") && dbg.contains("idp.example"),
        "{dbg}"
    );
}

#[tokio::test]
async fn jwks_any_audience_when_waived() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let iss = "https://issuer.example/";
    let p = JwksProvider::new(JwksConfig {
        http: http(),
        audience: None,
        allow_any_audience: true,
        ..JwksConfig::new(fake.jwks_url(), iss, AUD)
    })
    .unwrap();
    let t = sign(
        Algorithm::RS256,
        Some("k1"),
        &patched(claims(iss), json!({"aud": null})),
    );
    p.verify(&t).await.unwrap();
}

#[tokio::test]
async fn two_tenants_with_the_same_kid_stay_apart() {
    let a = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let b = JwksFake::with_keys(vec![jwk_from("rsa2048-b.key", Algorithm::RS256, "k1")]).await;
    // Same issuer string on purpose: only the keys tell the tenants apart.
    let iss = "https://shared-issuer.example/";
    let (pa, pb) = (jwks_provider(&a, iss), jwks_provider(&b, iss));
    let ta = sign(Algorithm::RS256, Some("k1"), &claims(iss));
    let tb = sign_with("rsa2048-b.key", Algorithm::RS256, Some("k1"), &claims(iss));
    pa.verify(&ta).await.unwrap();
    pb.verify(&tb).await.unwrap();
    assert_eq!(
        rejection(pa.verify(&tb).await.unwrap_err()),
        Rejection::BadSignature
    );
    assert_eq!(
        rejection(pb.verify(&ta).await.unwrap_err()),
        Rejection::BadSignature
    );
}

// ---------------------------------------------------------------------------------------------
// oidc

fn oidc_provider(fake: &JwksFake) -> OidcProvider {
    OidcProvider::new(OidcConfig {
        http: http(),
        ..OidcConfig::new(fake.base_url(), AUD)
    })
    .unwrap()
}

#[tokio::test]
async fn oidc_discovers_and_accepts() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let p = oidc_provider(&fake);
    assert!(
        p.key_set_stats().is_none(),
        "nothing fetched before first use"
    );
    let iss = fake.base_url().to_owned();
    let user = p
        .authenticate(&sign(Algorithm::RS256, Some("k1"), &claims(&iss)), &parts())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.id, "user-1");
    assert!(p.authorizes(&user));
    assert!(p.authorize(&user, &parts()).await.unwrap());
    let anonymous = User::from_claims(Default::default(), "oidc".into());
    assert!(!p.authorize(&anonymous, &parts()).await.unwrap());
    for _ in 0..5 {
        p.verify(&sign(Algorithm::RS256, Some("k1"), &claims(&iss)))
            .await
            .unwrap();
    }
    assert_eq!((fake.discovery_requests(), fake.requests()), (1, 1));
    assert_eq!(p.issuers(), vec![iss]);
}

#[tokio::test]
async fn oidc_rejects_every_reason() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let p = oidc_provider(&fake);
    let iss = fake.base_url().to_owned();
    assert_reject_reasons(&iss, |t| {
        let p = &p;
        async move { p.verify(&t).await }
    })
    .await;
}

#[tokio::test]
async fn oidc_client_id_is_an_accepted_audience() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let p = OidcProvider::new(OidcConfig {
        http: http(),
        issuer: fake.base_url().into(),
        client_id: Some("my-client".into()),
        ..Default::default()
    })
    .unwrap();
    let iss = fake.base_url();
    let id_token = patched(claims(iss), json!({"aud": "my-client"}));
    p.verify(&sign(Algorithm::RS256, Some("k1"), &id_token))
        .await
        .unwrap();
    let r = rejection(
        p.verify(&sign(Algorithm::RS256, Some("k1"), &claims(iss)))
            .await
            .unwrap_err(),
    );
    assert!(matches!(r, Rejection::AudienceMismatch { .. }));
}

#[tokio::test]
async fn oidc_discovery_issuer_mismatch_refuses_everything() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    fake.set_discovery_issuer(Some("https://impostor.example"));
    let p = oidc_provider(&fake);
    let iss = fake.base_url().to_owned();
    let e = p
        .verify(&sign(Algorithm::RS256, Some("k1"), &claims(&iss)))
        .await
        .unwrap_err();
    assert!(is_503(&e), "{e:?}");
    let AuthError::Unavailable { reason, .. } = &e else {
        unreachable!()
    };
    assert!(
        reason.contains("impostor.example") && reason.contains("issuer"),
        "{reason}"
    );
    assert_eq!(
        fake.requests(),
        0,
        "no keys fetched from a mismatched discovery"
    );
    // Also with a trailing-slash difference: exact match is required.
    let fake2 = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    fake2.set_discovery_issuer(Some(&format!("{}/", fake2.base_url())));
    assert!(is_503(&oidc_provider(&fake2).discover().await.unwrap_err()));
}

#[tokio::test]
async fn oidc_discovery_down_is_503_then_recovers() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    fake.set_behavior(Behavior::Status(503));
    let p = oidc_provider(&fake);
    let iss = fake.base_url().to_owned();
    let t = sign(Algorithm::RS256, Some("k1"), &claims(&iss));
    for _ in 0..10 {
        assert!(is_503(&p.verify(&t).await.unwrap_err()));
    }
    assert_eq!(fake.discovery_requests(), 1, "failure backoff");
    fake.set_behavior(Behavior::Normal);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    p.verify(&t).await.unwrap();
    // Keys unreachable after discovery: 503 too.
    let fake2 = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let p2 = oidc_provider(&fake2);
    p2.discover().await.unwrap();
    fake2.set_behavior(Behavior::Html);
    let iss2 = fake2.base_url().to_owned();
    assert!(is_503(
        &p2.verify(&sign(Algorithm::RS256, Some("k1"), &claims(&iss2)))
            .await
            .unwrap_err()
    ));
}

#[tokio::test]
async fn oidc_jwks_uri_override_skips_discovery() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let p = OidcProvider::new(OidcConfig {
        http: http(),
        jwks_uri: Some(fake.jwks_url()),
        ..OidcConfig::new("https://login.example.com", AUD)
    })
    .unwrap();
    p.verify(&sign(
        Algorithm::RS256,
        Some("k1"),
        &claims("https://login.example.com"),
    ))
    .await
    .unwrap();
    assert_eq!(fake.discovery_requests(), 0);
}

#[tokio::test]
async fn oidc_config_errors_name_the_setting() {
    let e = OidcProvider::new(OidcConfig {
        issuer: "https://idp.example".into(),
        ..Default::default()
    })
    .unwrap_err();
    assert!(e.to_string().contains("audience or client_id"), "{e}");
    let e = OidcProvider::new(OidcConfig::new("", AUD)).unwrap_err();
    assert!(matches!(
        e,
        KeySetProviderError::Missing {
            setting: "issuer",
            ..
        }
    ));
    let e = OidcProvider::new(OidcConfig::new("http://idp.example", AUD)).unwrap_err();
    assert!(e.to_string().contains("issuer"), "{e}");
    // Malformed tokens are refused without any network call.
    let fake = JwksFake::start().await;
    let p = oidc_provider(&fake);
    assert!(matches!(
        p.verify("not-a-jwt").await,
        Err(AuthError::InvalidToken(_))
    ));
    assert_eq!(fake.discovery_requests(), 0);
}

// ---------------------------------------------------------------------------------------------
// auth0

const DOMAIN: &str = "tenant.auth0.test";
const AUTH0_ISS: &str = "https://tenant.auth0.test/";

fn auth0_provider(fake: &JwksFake) -> Auth0Provider {
    Auth0Provider::new(Auth0Config {
        http: http(),
        base_url: Some(fake.base_url().into()),
        ..Auth0Config::new(format!("https://{DOMAIN}/"), AUD)
    })
    .unwrap()
}

#[tokio::test]
async fn auth0_accepts_and_authorizes() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let p = auth0_provider(&fake);
    assert_eq!(p.domain(), DOMAIN);
    assert_eq!(p.issuer(), AUTH0_ISS);
    assert_eq!(p.issuers(), vec![AUTH0_ISS.to_owned()]);
    let user = p
        .authenticate(
            &sign(Algorithm::RS256, Some("k1"), &claims(AUTH0_ISS)),
            &parts(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user.id.as_str(), &*user.provider), ("user-1", "auth0"));
    assert!(p.authorizes(&user));
    assert!(p.authorize(&user, &parts()).await.unwrap());
    // Mastra's authorizeUser: no sub/id -> false; expired -> false.
    let no_id = User::from_claims(Default::default(), "auth0".into());
    assert!(!p.authorize(&no_id, &parts()).await.unwrap());
    let expired = User::from_claims(
        json!({"sub": "u", "exp": now() - 3600})
            .as_object()
            .cloned()
            .unwrap(),
        "auth0".into(),
    );
    assert!(!p.authorize(&expired, &parts()).await.unwrap());
    assert_eq!(fake.requests(), 1);
}

#[tokio::test]
async fn auth0_rejects_every_reason_and_non_rs256() {
    let fake = JwksFake::with_keys(vec![
        jwk(Algorithm::RS256, "k1"),
        jwk(Algorithm::ES256, "ec"),
        fakes::jwks::without_alg(jwk_from("rsa2048-b.key", Algorithm::RS256, "any")),
    ])
    .await;
    let p = auth0_provider(&fake);
    assert_reject_reasons(AUTH0_ISS, |t| {
        let p = &p;
        async move { p.verify(&t).await }
    })
    .await;
    // RS256 only: an ES256 key is not even loaded, PS256 on an RSA key without alg is refused.
    let r = rejection(
        p.verify(&sign(Algorithm::ES256, Some("ec"), &claims(AUTH0_ISS)))
            .await
            .unwrap_err(),
    );
    assert!(matches!(r, Rejection::UnknownKid(_)), "{r:?}");
    let ps = sign_with(
        "rsa2048-b.key",
        Algorithm::PS256,
        Some("any"),
        &claims(AUTH0_ISS),
    );
    let r = rejection(p.verify(&ps).await.unwrap_err());
    assert!(matches!(r, Rejection::AlgorithmNotAllowed(_)), "{r:?}");
    let rs = sign_with(
        "rsa2048-b.key",
        Algorithm::RS256,
        Some("any"),
        &claims(AUTH0_ISS),
    );
    p.verify(&rs).await.unwrap();
}

#[tokio::test]
async fn auth0_backend_down_is_503() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    fake.set_behavior(Behavior::Truncated);
    let p = auth0_provider(&fake);
    let e = p
        .verify(&sign(Algorithm::RS256, Some("k1"), &claims(AUTH0_ISS)))
        .await
        .unwrap_err();
    assert!(is_503(&e), "{e:?}");
}

#[tokio::test]
async fn auth0_config_from_env_and_errors() {
    let env = |k: &str| match k {
        AUTH0_DOMAIN_ENV => Some("https://env-tenant.auth0.com".to_owned()),
        AUTH0_AUDIENCE_ENV => Some("https://env-api".to_owned()),
        _ => None,
    };
    let p = Auth0Provider::new(Auth0Config::from_env_with(env)).unwrap();
    assert_eq!(p.issuer(), "https://env-tenant.auth0.com/");
    let e = Auth0Provider::new(Auth0Config::from_env_with(|_| None))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("AUTH0_DOMAIN") && e.contains("AUTH0_AUDIENCE"),
        "{e}"
    );
    let e = Auth0Provider::new(Auth0Config::new("t.auth0.com", ""))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("AUTH0_AUDIENCE") && !e.contains("AUTH0_DOMAIN"),
        "{e}"
    );
    let e = Auth0Provider::new(Auth0Config::new("http://t.auth0.com", "a"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("domain"), "{e}");
    // Production default: the JWKS URL is HTTPS on the tenant domain.
    let p = Auth0Provider::new(Auth0Config::new("t.auth0.com", "a")).unwrap();
    assert!(format!("{p:?}").contains("https://t.auth0.com/.well-known/jwks.json"));
    // jwks_uri override wins over base_url.
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let p = Auth0Provider::new(Auth0Config {
        http: http(),
        jwks_uri: Some(fake.jwks_url()),
        base_url: Some("http://127.0.0.1:1".into()),
        ..Auth0Config::new(DOMAIN, AUD)
    })
    .unwrap();
    p.verify(&sign(Algorithm::RS256, Some("k1"), &claims(AUTH0_ISS)))
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Through the HTTP pipeline: 200, 401, 403 and 503 with Retry-After.

async fn serve(provider: Arc<dyn AuthProvider>) -> String {
    let app = Router::new()
        .route(
            "/api/agents",
            get(|u: AuthUser| async move { axum::Json(json!({"user": u.0.id})) }),
        )
        .layer(Auth::mastra_defaults(provider).build().layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn pipeline_statuses() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let p = Auth0Provider::new(Auth0Config {
        http: http(),
        base_url: Some(fake.base_url().into()),
        key_set: KeySetTiming {
            default_ttl: Duration::from_millis(100),
            min_ttl: Duration::ZERO,
            stale_if_error: Duration::ZERO,
            ..Default::default()
        },
        ..Auth0Config::new(DOMAIN, AUD)
    })
    .unwrap();
    let base = serve(Arc::new(p)).await;
    let c = reqwest::Client::new();
    let get = |t: Option<String>| {
        let mut r = c.get(format!("{base}/api/agents"));
        if let Some(t) = t {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let ok = sign(Algorithm::RS256, Some("k1"), &claims(AUTH0_ISS));
    let res = get(Some(ok.clone())).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"user": "user-1"})
    );
    assert_eq!(get(None).await.unwrap().status(), 401);
    let bad = sign_with(
        "rsa2048-b.key",
        Algorithm::RS256,
        Some("k1"),
        &claims(AUTH0_ISS),
    );
    let res = get(Some(bad)).await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    // A verified token without `sub` is refused by the provider's authorization: 403.
    let no_sub = sign(
        Algorithm::RS256,
        Some("k1"),
        &patched(claims(AUTH0_ISS), json!({"sub": null})),
    );
    assert_eq!(get(Some(no_sub)).await.unwrap().status(), 403);
    // The IdP goes down and the set expires (no stale serving configured): 503 + Retry-After.
    fake.set_behavior(Behavior::Status(500));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fresh = sign(
        Algorithm::RS256,
        Some("k1"),
        &patched(claims(AUTH0_ISS), json!({"jti": "another"})),
    );
    let res = get(Some(fresh)).await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Authentication service unavailable"})
    );
}

/// What the layer does: decide without awaiting where possible, else await.
async fn through_layer(auth: &Auth, token: &str) -> Result<Arc<User>, AuthError> {
    let parts = http::Request::builder()
        .uri("/api/agents")
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap()
        .into_parts()
        .0;
    auth.check(&parts)
        .await
        .map(|u| Arc::new(u.expect("a protected path yields a user")))
}

#[tokio::test]
async fn jwks_decides_without_awaiting_once_the_keys_are_loaded() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let iss = "https://issuer.example/";
    let auth = Auth::mastra_defaults(Arc::new(jwks_provider(&fake, iss))).build();
    let head = |t: &str| {
        http::Request::builder()
            .uri("/api/agents")
            .header("authorization", format!("Bearer {t}"))
            .body(())
            .unwrap()
            .into_parts()
            .0
    };
    // Malformed: refused now, no fetch. Cold key set: awaited.
    let bad = head("not.a.token");
    assert!(matches!(
        auth.check(&bad),
        Verdict::Ready(Err(AuthError::InvalidToken(_)))
    ));
    let first = sign(Algorithm::RS256, Some("k1"), &claims(iss));
    assert!(auth.check(&head(&first)).is_pending());
    assert_eq!(fake.requests(), 0);
    through_layer(&auth, &first).await.unwrap();
    assert_eq!(fake.requests(), 1);
    // Fresh keys: a token never seen before is verified now, and so is a rejection.
    let other = sign(
        Algorithm::RS256,
        Some("k1"),
        &patched(claims(iss), json!({"sub": "user-2"})),
    );
    match auth.check(&head(&other)) {
        Verdict::Ready(Ok(Some(user))) => assert_eq!(user.id, "user-2"),
        other => panic!("expected a user now, got {other:?}"),
    }
    let expired = sign(
        Algorithm::RS256,
        Some("k1"),
        &patched(claims(iss), json!({"exp": now() - 3600})),
    );
    assert!(matches!(
        auth.check(&head(&expired)),
        Verdict::Ready(Err(AuthError::InvalidToken(Rejection::Expired { .. })))
    ));
    // An unknown kid needs the (rate-limited) refresh: awaited.
    let unknown = sign(Algorithm::RS256, Some("k9"), &claims(iss));
    assert!(auth.check(&head(&unknown)).is_pending());
    assert_eq!(fake.requests(), 1);
    // Every reject reason, through the path the layer takes.
    assert_reject_reasons(iss, |t| {
        let auth = &auth;
        async move { through_layer(auth, &t).await }
    })
    .await;
}
