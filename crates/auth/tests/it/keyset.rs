//! The key-set engine against a local JWKS fake: caching, single-flight, rotation, rate limits,
//! stale-if-error, Cache-Control, ETag, formats, tenant isolation.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::fakes::jwks::{
    Behavior, JwksFake, cert_map, jwk, jwk_from, now, sign, sign_with, without_alg,
};
use jsonwebtoken::Algorithm;
use mastra_auth::AuthError;
use mastra_auth::idp_http::{IdpClient, IdpClientConfig};
use mastra_auth::jwt::{ClaimsPolicy, Rejection};
use mastra_auth::keyset::{KeySet, KeySetConfig, MAX_TTL, MIN_TTL};
use serde_json::{Value, json};

const ISS: &str = "https://issuer.test/";
const AUD: &str = "api://test";
const MAX: usize = 16 * 1024;

fn client() -> IdpClient {
    IdpClient::new(IdpClientConfig {
        allow_insecure_http: true,
        timeout: Duration::from_secs(2),
        ..Default::default()
    })
}

fn policy() -> ClaimsPolicy {
    ClaimsPolicy {
        issuers: vec![ISS.into()],
        audiences: vec![AUD.into()],
        require_exp: true,
        ..Default::default()
    }
}

fn claims() -> Value {
    json!({"sub": "user-1", "iss": ISS, "aud": AUD, "exp": now() + 600, "iat": now()})
}

fn token(kid: &str) -> String {
    sign(Algorithm::RS256, Some(kid), &claims())
}

fn set(url: String) -> KeySet {
    KeySet::new(client(), KeySetConfig::jwks(url)).unwrap()
}

fn set_with(url: String, f: impl FnOnce(&mut KeySetConfig)) -> KeySet {
    let mut c = KeySetConfig::jwks(url);
    f(&mut c);
    KeySet::new(client(), c).unwrap()
}

fn is_unavailable(e: &AuthError) -> bool {
    matches!(e, AuthError::Unavailable { .. }) && e.status() == 503
}

fn rejection(e: AuthError) -> Rejection {
    match e {
        AuthError::InvalidToken(r) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn accepts_and_caches_within_ttl() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let ks = set(fake.jwks_url());
    for _ in 0..20 {
        let (claims, exp) = ks.verify(&token("k1"), &policy(), MAX).await.unwrap();
        assert_eq!(claims["sub"], "user-1");
        assert!(exp.is_some());
    }
    assert_eq!(fake.requests(), 1);
    let st = ks.stats();
    assert_eq!((st.fetches, st.failures, st.keys), (1, 0, 1));
    assert!(st.key_age.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_start_makes_one_fetch() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    fake.set_delay(Duration::from_millis(300));
    let ks = set(fake.jwks_url());
    let t = Arc::new(token("k1"));
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let (ks, t) = (ks.clone(), t.clone());
            tokio::spawn(async move { ks.verify(&t, &policy(), MAX).await.map(|_| ()) })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(
        fake.requests(),
        1,
        "single-flight: one fetch for 64 cold callers"
    );
}

#[tokio::test]
async fn rotation_is_picked_up_through_unknown_kid() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "old")]).await;
    let ks = set(fake.jwks_url());
    ks.verify(&token("old"), &policy(), MAX).await.unwrap();
    // The IdP rotates to a new key and starts signing with it.
    fake.set_keys(vec![
        jwk_from("rsa2048-b.key", Algorithm::RS256, "new"),
        jwk(Algorithm::RS256, "old"),
    ]);
    let t = sign_with("rsa2048-b.key", Algorithm::RS256, Some("new"), &claims());
    ks.verify(&t, &policy(), MAX).await.unwrap();
    assert_eq!(fake.requests(), 2);
    assert_eq!(ks.stats().forced_refreshes, 1);
    // Both keys are now known: no further fetch.
    ks.verify(&t, &policy(), MAX).await.unwrap();
    ks.verify(&token("old"), &policy(), MAX).await.unwrap();
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn kid_spraying_is_bounded_by_the_cooldown() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let ks = set(fake.jwks_url());
    ks.verify(&token("k1"), &policy(), MAX).await.unwrap();
    for i in 0..200 {
        let e = ks
            .verify(&token(&format!("spray-{i}")), &policy(), MAX)
            .await
            .unwrap_err();
        assert!(matches!(rejection(e), Rejection::UnknownKid(_)));
    }
    // One cold fetch plus at most one forced refresh per 30 s cooldown.
    assert_eq!(fake.requests(), 2);
    assert_eq!(ks.stats().forced_refreshes, 1);
    // A kid refused after a refresh is negatively cached: no new fetch even for a repeat.
    let e = ks
        .verify(&token("spray-0"), &policy(), MAX)
        .await
        .unwrap_err();
    assert!(matches!(rejection(e), Rejection::UnknownKid(_)));
    assert_eq!(fake.requests(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_unknown_kids_share_one_forced_refresh() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let ks = set(fake.jwks_url());
    ks.verify(&token("k1"), &policy(), MAX).await.unwrap();
    fake.set_delay(Duration::from_millis(200));
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let ks = ks.clone();
            tokio::spawn(async move { ks.verify(&token(&format!("x{i}")), &policy(), MAX).await })
        })
        .collect();
    for t in tasks {
        assert!(matches!(
            rejection(t.await.unwrap().unwrap_err()),
            Rejection::UnknownKid(_)
        ));
    }
    assert_eq!(fake.requests(), 2);
}

#[tokio::test]
async fn forced_refresh_again_after_the_cooldown() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let ks = set_with(fake.jwks_url(), |c| {
        c.refresh_cooldown = Duration::from_millis(200)
    });
    ks.verify(&token("k1"), &policy(), MAX).await.unwrap();
    assert!(ks.verify(&token("k2"), &policy(), MAX).await.is_err());
    assert_eq!(fake.requests(), 2);
    fake.set_keys(vec![
        jwk(Algorithm::RS256, "k1"),
        jwk(Algorithm::ES256, "k2"),
    ]);
    let es = sign(Algorithm::ES256, Some("k2"), &claims());
    // Within the cooldown (and negatively cached): refused without a fetch.
    assert!(ks.verify(&es, &policy(), MAX).await.is_err());
    assert_eq!(fake.requests(), 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    ks.verify(&es, &policy(), MAX).await.unwrap();
    assert_eq!(fake.requests(), 3);
}

#[tokio::test]
async fn idp_down_with_cached_keys_still_accepts() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let ks = set_with(fake.jwks_url(), |c| {
        c.default_ttl = Duration::from_millis(100);
        c.min_ttl = Duration::ZERO;
    });
    ks.verify(&token("k1"), &policy(), MAX).await.unwrap();
    fake.set_behavior(Behavior::Status(503));
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Expired, the refreshes fail: the last good set keeps being served.
    for _ in 0..5 {
        ks.verify(&token("k1"), &policy(), MAX).await.unwrap();
    }
    let st = ks.stats();
    assert!(st.failures >= 1, "{st:?}");
    assert_eq!(st.keys, 1);
    // An unknown kid cannot be looked up while the IdP is down: 503, not 401.
    let e = ks
        .verify(&token("other"), &policy(), MAX)
        .await
        .unwrap_err();
    assert!(is_unavailable(&e), "{e:?}");
    // A bad token is still a 401.
    let e = ks
        .verify(
            &sign(Algorithm::RS256, Some("k1"), &json!({"iss": ISS})),
            &policy(),
            MAX,
        )
        .await
        .unwrap_err();
    assert!(matches!(rejection(e), Rejection::MissingClaim("exp")));
}

#[tokio::test]
async fn stale_past_stale_if_error_is_503() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let ks = set_with(fake.jwks_url(), |c| {
        c.default_ttl = Duration::from_millis(100);
        c.min_ttl = Duration::ZERO;
        c.stale_if_error = Duration::from_millis(200);
    });
    ks.verify(&token("k1"), &policy(), MAX).await.unwrap();
    fake.set_behavior(Behavior::Status(500));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let e = ks.verify(&token("k1"), &policy(), MAX).await.unwrap_err();
    assert!(is_unavailable(&e), "{e:?}");
    // The IdP comes back: served again once the 1 s failure backoff has run out.
    fake.set_behavior(Behavior::Normal);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        match ks.verify(&token("k1"), &policy(), MAX).await {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => assert!(is_unavailable(&e), "{e:?}"),
            Err(e) => panic!("not recovered: {e:?}"),
        }
    }
}

#[tokio::test]
async fn idp_down_and_no_keys_is_503_never_401() {
    for behavior in [
        Behavior::Status(500),
        Behavior::Status(404),
        Behavior::Html,
        Behavior::Truncated,
        Behavior::Huge(2 * 1024 * 1024),
    ] {
        let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
        fake.set_behavior(behavior.clone());
        let ks = set(fake.jwks_url());
        let e = ks.verify(&token("k1"), &policy(), MAX).await.unwrap_err();
        assert!(is_unavailable(&e), "{behavior:?}: {e:?}");
        assert!(ks.keys().await.is_err());
        assert_eq!(ks.stats().keys, 0);
    }
}

#[tokio::test]
async fn unreachable_and_slow_idp_is_503() {
    // Nothing listens here.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let ks = set(format!("http://{addr}/jwks"));
    let e = ks.verify(&token("k1"), &policy(), MAX).await.unwrap_err();
    assert!(is_unavailable(&e), "{e:?}");

    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    fake.set_delay(Duration::from_secs(5));
    let slow = KeySet::new(
        IdpClient::new(IdpClientConfig {
            allow_insecure_http: true,
            timeout: Duration::from_millis(300),
            ..Default::default()
        }),
        KeySetConfig::jwks(fake.jwks_url()),
    )
    .unwrap();
    let started = Instant::now();
    let e = slow.verify(&token("k1"), &policy(), MAX).await.unwrap_err();
    assert!(is_unavailable(&e), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn failure_backoff_limits_fetches_while_down() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    fake.set_behavior(Behavior::Status(502));
    let ks = set(fake.jwks_url());
    for _ in 0..50 {
        assert!(is_unavailable(
            &ks.verify(&token("k1"), &policy(), MAX).await.unwrap_err()
        ));
    }
    assert_eq!(fake.requests(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_do_not_wait_for_a_refresh_of_a_stale_set() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let ks = set_with(fake.jwks_url(), |c| {
        c.default_ttl = Duration::from_millis(100);
        c.min_ttl = Duration::ZERO;
    });
    ks.verify(&token("k1"), &policy(), MAX).await.unwrap();
    fake.set_delay(Duration::from_secs(3));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let started = Instant::now();
    for _ in 0..10 {
        ks.verify(&token("k1"), &policy(), MAX).await.unwrap();
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "readers waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn cache_control_sets_the_lifetime_clamped() {
    let cases = [
        (None, Duration::from_secs(600)),
        (Some("public, max-age=5"), MIN_TTL),
        (Some("max-age=7200"), Duration::from_secs(7200)),
        (Some("public, max-age=31536000"), MAX_TTL),
        (Some("no-store"), MIN_TTL),
    ];
    for (cc, want) in cases {
        let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
        fake.set_cache_control(cc);
        let ks = set(fake.jwks_url());
        ks.keys().await.unwrap();
        assert_eq!(ks.stats().ttl, Some(want), "{cc:?}");
    }
}

#[tokio::test]
async fn etag_revalidation_keeps_keys_on_304() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    fake.set_etag(Some("\"v1\""));
    fake.set_cache_control(Some("max-age=120"));
    let ks = set(fake.jwks_url());
    ks.verify(&token("k1"), &policy(), MAX).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let age_before = ks.stats().key_age.unwrap();
    ks.refresh().await.unwrap();
    let st = ks.stats();
    assert_eq!(
        (fake.requests(), fake.not_modified(), st.not_modified),
        (2, 1, 1)
    );
    assert!(
        st.key_age.unwrap() < age_before,
        "304 restarts the lifetime"
    );
    assert_eq!(st.ttl, Some(Duration::from_secs(120)));
    ks.verify(&token("k1"), &policy(), MAX).await.unwrap();
    // A changed document (new ETag) replaces the keys.
    fake.set_etag(Some("\"v2\""));
    fake.set_keys(vec![jwk(Algorithm::ES256, "k2")]);
    ks.refresh().await.unwrap();
    assert_eq!(fake.not_modified(), 1);
    assert!(ks.verify(&token("k1"), &policy(), MAX).await.is_err());
    ks.verify(
        &sign(Algorithm::ES256, Some("k2"), &claims()),
        &policy(),
        MAX,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn background_refresh_before_expiry_and_dies_with_the_set() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let ks = set_with(fake.jwks_url(), |c| {
        c.default_ttl = Duration::from_millis(200);
        c.min_ttl = Duration::ZERO;
    });
    ks.keys().await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let n = fake.requests();
    assert!(n >= 3, "background refreshes: {n}");
    // Keys rotated in the background are used without any forced refresh.
    fake.set_keys(vec![jwk(Algorithm::EdDSA, "ed")]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    ks.verify(
        &sign(Algorithm::EdDSA, Some("ed"), &claims()),
        &policy(),
        MAX,
    )
    .await
    .unwrap();
    assert_eq!(ks.stats().forced_refreshes, 0);
    drop(ks);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let after_drop = fake.requests();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        fake.requests(),
        after_drop,
        "the refresher died with the set"
    );
}

#[tokio::test]
async fn two_tenants_reusing_a_kid_do_not_accept_each_others_tokens() {
    let a = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "shared")]).await;
    let b = JwksFake::with_keys(vec![jwk_from("rsa2048-b.key", Algorithm::RS256, "shared")]).await;
    let (ks_a, ks_b) = (set(a.jwks_url()), set(b.jwks_url()));
    let ta = token("shared");
    let tb = sign_with("rsa2048-b.key", Algorithm::RS256, Some("shared"), &claims());
    ks_a.verify(&ta, &policy(), MAX).await.unwrap();
    ks_b.verify(&tb, &policy(), MAX).await.unwrap();
    assert_eq!(
        rejection(ks_a.verify(&tb, &policy(), MAX).await.unwrap_err()),
        Rejection::BadSignature
    );
    assert_eq!(
        rejection(ks_b.verify(&ta, &policy(), MAX).await.unwrap_err()),
        Rejection::BadSignature
    );
}

#[tokio::test]
async fn keys_are_bound_to_their_algorithms() {
    let mut enc = jwk(Algorithm::ES384, "enc");
    enc["use"] = json!("enc");
    let fake = JwksFake::with_keys(vec![
        jwk(Algorithm::RS256, "pinned"),
        without_alg(jwk(Algorithm::RS256, "any-rsa")),
        jwk(Algorithm::ES256, "es"),
        jwk(Algorithm::EdDSA, "ed"),
        enc,
        jwk_from("rsa1024.key", Algorithm::RS256, "weak"),
        json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}),
        json!({"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"}),
    ])
    .await;
    let ks = set(fake.jwks_url());
    assert_eq!(
        ks.keys().await.unwrap().len(),
        4,
        "unusable keys are skipped"
    );
    let ok = |alg, kid: &str| sign(alg, Some(kid), &claims());
    ks.verify(&ok(Algorithm::RS256, "pinned"), &policy(), MAX)
        .await
        .unwrap();
    ks.verify(&ok(Algorithm::PS256, "any-rsa"), &policy(), MAX)
        .await
        .unwrap();
    ks.verify(&ok(Algorithm::RS512, "any-rsa"), &policy(), MAX)
        .await
        .unwrap();
    ks.verify(&ok(Algorithm::ES256, "es"), &policy(), MAX)
        .await
        .unwrap();
    ks.verify(&ok(Algorithm::EdDSA, "ed"), &policy(), MAX)
        .await
        .unwrap();
    // The key says RS256: a PS256 token with the same key and kid is refused.
    let e = ks
        .verify(&ok(Algorithm::PS256, "pinned"), &policy(), MAX)
        .await;
    assert!(matches!(
        rejection(e.unwrap_err()),
        Rejection::AlgorithmNotAllowed(_)
    ));
    // An HS256 token naming the (skipped) symmetric key, or an RSA key, never verifies.
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some("pinned".into()),
            ..jsonwebtoken::Header::new(Algorithm::HS256)
        },
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(b"secretsecretsecretsecret"),
    )
    .unwrap();
    let e = ks.verify(&hs, &policy(), MAX).await.unwrap_err();
    assert!(matches!(rejection(e), Rejection::AlgorithmNotAllowed(_)));
    // Weak and `use: enc` keys were skipped: their kids are unknown.
    for kid in ["weak", "enc"] {
        let alg = if kid == "enc" {
            Algorithm::ES384
        } else {
            Algorithm::RS256
        };
        // (The crypto backend cannot even sign with a 1024-bit key; the kid decides here.)
        let t = sign(alg, Some(kid), &claims());
        let e = ks.verify(&t, &policy(), MAX).await.unwrap_err();
        assert!(matches!(rejection(e), Rejection::UnknownKid(_)), "{kid}");
    }
}

#[tokio::test]
async fn allowed_algorithms_restrict_the_keys() {
    let fake = JwksFake::with_keys(vec![
        without_alg(jwk(Algorithm::RS256, "rsa")),
        jwk(Algorithm::ES256, "es"),
    ])
    .await;
    let ks = set_with(fake.jwks_url(), |c| {
        c.allowed_algorithms = Some(vec![Algorithm::RS256])
    });
    assert_eq!(ks.keys().await.unwrap().len(), 1);
    ks.verify(
        &sign(Algorithm::RS256, Some("rsa"), &claims()),
        &policy(),
        MAX,
    )
    .await
    .unwrap();
    let e = ks
        .verify(
            &sign(Algorithm::PS256, Some("rsa"), &claims()),
            &policy(),
            MAX,
        )
        .await
        .unwrap_err();
    assert!(matches!(rejection(e), Rejection::AlgorithmNotAllowed(_)));
}

#[tokio::test]
async fn claims_are_checked_after_the_signature() {
    let fake = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let ks = set(fake.jwks_url());
    let with = |patch: Value| {
        let mut c = claims();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        token_of(&c)
    };
    fn token_of(c: &Value) -> String {
        sign(Algorithm::RS256, Some("k1"), c)
    }
    type Check = fn(&Rejection) -> bool;
    let cases: Vec<(Value, Check)> = vec![
        (json!({"iss": "https://evil.test/"}), |r| {
            matches!(r, Rejection::IssuerMismatch { .. })
        }),
        (json!({"aud": "other"}), |r| {
            matches!(r, Rejection::AudienceMismatch { .. })
        }),
        (json!({"exp": now() - 3600}), |r| {
            matches!(r, Rejection::Expired { .. })
        }),
        (json!({"nbf": now() + 3600}), |r| {
            matches!(r, Rejection::NotYetValid { .. })
        }),
        (json!({"exp": "soon"}), |r| {
            matches!(r, Rejection::ClaimType("exp"))
        }),
    ];
    for (patch, want) in cases {
        let e = ks
            .verify(&with(patch.clone()), &policy(), MAX)
            .await
            .unwrap_err();
        let r = rejection(e);
        assert!(want(&r), "{patch}: {r:?}");
    }
    // A tampered payload fails the signature.
    let t = token("k1");
    let mut parts: Vec<&str> = t.split('.').collect();
    let other = token_of(&json!({"sub": "admin", "iss": ISS, "aud": AUD, "exp": now() + 600}));
    parts[1] = other.split('.').nth(1).unwrap();
    let e = ks
        .verify(&parts.join("."), &policy(), MAX)
        .await
        .unwrap_err();
    assert_eq!(rejection(e), Rejection::BadSignature);
    // Malformed tokens are refused before any fetch.
    let fresh = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let cold = set(fresh.jwks_url());
    for bad in ["", "a.b", "a.b.c", "x".repeat(MAX + 1).as_str()] {
        assert!(matches!(
            cold.verify(bad, &policy(), MAX).await.unwrap_err(),
            AuthError::InvalidToken(_)
        ));
    }
    assert_eq!(fresh.requests(), 0);
}

#[tokio::test]
async fn x509_certificate_maps() {
    let fake = JwksFake::start_with(cert_map(&[
        ("rsa", "rsa2048.crt"),
        ("ec", "p256.crt"),
        ("ed", "ed25519.crt"),
        ("weak", "rsa1024.crt"),
    ]))
    .await;
    let ks = KeySet::new(client(), KeySetConfig::x509_pem_map(fake.certs_url())).unwrap();
    assert_eq!(ks.keys().await.unwrap().len(), 3);
    ks.verify(
        &sign(Algorithm::RS256, Some("rsa"), &claims()),
        &policy(),
        MAX,
    )
    .await
    .unwrap();
    ks.verify(
        &sign(Algorithm::ES256, Some("ec"), &claims()),
        &policy(),
        MAX,
    )
    .await
    .unwrap();
    ks.verify(
        &sign(Algorithm::EdDSA, Some("ed"), &claims()),
        &policy(),
        MAX,
    )
    .await
    .unwrap();
    // The key of certificate `rsa` does not verify a token of the other RSA key.
    let b = sign_with("rsa2048-b.key", Algorithm::RS256, Some("rsa"), &claims());
    assert_eq!(
        rejection(ks.verify(&b, &policy(), MAX).await.unwrap_err()),
        Rejection::BadSignature
    );
    let weak = sign(Algorithm::RS256, Some("weak"), &claims());
    assert!(matches!(
        rejection(ks.verify(&weak, &policy(), MAX).await.unwrap_err()),
        Rejection::UnknownKid(_)
    ));
    // Restricted to RS256 (Firebase): the EC and Ed25519 certificates are not used.
    let rs_only = KeySet::new(
        client(),
        KeySetConfig::x509_pem_map(fake.certs_url()).with_algorithms(Some(vec![Algorithm::RS256])),
    )
    .unwrap();
    assert_eq!(rs_only.keys().await.unwrap().len(), 1);
    // A JWK Set where a certificate map is expected (and vice versa) is not a key set.
    let jwks = JwksFake::with_keys(vec![jwk(Algorithm::RS256, "k1")]).await;
    let wrong = KeySet::new(client(), KeySetConfig::x509_pem_map(jwks.jwks_url())).unwrap();
    assert_eq!(wrong.keys().await.unwrap().len(), 0);
    let wrong = set(fake.certs_url());
    assert!(is_unavailable(&wrong.keys().await.unwrap_err()));
}

#[tokio::test]
async fn urls_are_vetted() {
    let strict = IdpClient::new(IdpClientConfig::default());
    assert!(
        KeySet::new(
            strict.clone(),
            KeySetConfig::jwks("http://127.0.0.1:1/jwks")
        )
        .is_err()
    );
    assert!(KeySet::new(strict.clone(), KeySetConfig::jwks("not a url")).is_err());
    assert!(KeySet::new(strict, KeySetConfig::jwks("https://idp.example/jwks")).is_ok());
    assert!(KeySet::new(client(), KeySetConfig::jwks("http://10.1.2.3/jwks")).is_err());
    assert!(KeySet::new(client(), KeySetConfig::jwks("http://localhost:1/jwks")).is_ok());
}
