//! The `jwt` provider: every accept path and every reject reason.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::common_keys::*;
use jsonwebtoken::Algorithm;
use mastra_auth::jwt::{ClaimsPolicy, Rejection};
use mastra_auth::providers::jwt::{JwtConfigError, JwtProvider, JwtProviderConfig};
use serde_json::json;

fn hs() -> JwtProvider {
    JwtProvider::new(JwtProviderConfig::with_secret(SECRET)).unwrap()
}

fn pem(name: &str) -> JwtProvider {
    JwtProvider::new(JwtProviderConfig {
        public_key_pem: Some(fixture(name)),
        ..Default::default()
    })
    .unwrap()
}

fn with_claims(policy: ClaimsPolicy) -> JwtProvider {
    JwtProvider::new(JwtProviderConfig {
        secret: Some(SECRET.into()),
        claims: policy,
        cache_capacity: 0,
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn seed_token_without_exp_is_accepted() {
    // jwt.io's default token shape: HS256, sub/name/iat, no exp.
    let t = sign(
        Algorithm::HS256,
        &json!({"sub": "1234567890", "name": "John Doe", "iat": 1516239022}),
    );
    let u = hs().verify(&t).unwrap();
    assert_eq!(u.id, "1234567890");
    assert_eq!(u.claims["name"], "John Doe");
    assert_eq!(&*u.provider, "jwt");
}

#[test]
fn every_hmac_and_public_key_algorithm_verifies() {
    let claims = json!({"sub": "u", "exp": now() + 60});
    for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
        assert!(hs().verify(&sign(alg, &claims)).is_ok(), "{alg:?}");
    }
    for alg in [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
    ] {
        assert!(
            pem("rsa2048.pub").verify(&sign(alg, &claims)).is_ok(),
            "{alg:?}"
        );
    }
    assert!(
        pem("p256.pub")
            .verify(&sign(Algorithm::ES256, &claims))
            .is_ok()
    );
    assert!(
        pem("p384.pub")
            .verify(&sign(Algorithm::ES384, &claims))
            .is_ok()
    );
    assert!(
        pem("ed25519.pub")
            .verify(&sign(Algorithm::EdDSA, &claims))
            .is_ok()
    );
}

#[test]
fn algorithm_is_bound_to_the_key() {
    let claims = json!({"sub": "u"});
    // HS token against a public-key-only provider.
    assert_eq!(
        pem("rsa2048.pub")
            .verify(&sign(Algorithm::HS256, &claims))
            .unwrap_err(),
        Rejection::AlgorithmNotAllowed("HS256".into())
    );
    // RS token against an HMAC-only provider.
    assert_eq!(
        hs().verify(&sign(Algorithm::RS256, &claims)).unwrap_err(),
        Rejection::AlgorithmNotAllowed("RS256".into())
    );
    // ES384 token against a P-256 key.
    assert_eq!(
        pem("p256.pub")
            .verify(&sign(Algorithm::ES384, &claims))
            .unwrap_err(),
        Rejection::AlgorithmNotAllowed("ES384".into())
    );
    // Algorithm confusion: HS256 signed with the RSA public key PEM as the secret.
    let pub_pem = fixture("rsa2048.pub");
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(pub_pem.as_bytes()),
    )
    .unwrap();
    assert!(pem("rsa2048.pub").verify(&forged).is_err());
}

#[test]
fn configured_algorithms_restrict() {
    let p = JwtProvider::new(JwtProviderConfig {
        secret: Some(SECRET.into()),
        algorithms: Some(vec![Algorithm::HS512]),
        ..Default::default()
    })
    .unwrap();
    assert!(p.verify(&sign(Algorithm::HS512, &json!({}))).is_ok());
    assert_eq!(
        p.verify(&sign(Algorithm::HS256, &json!({}))).unwrap_err(),
        Rejection::AlgorithmNotAllowed("HS256".into())
    );
    let err = JwtProvider::new(JwtProviderConfig {
        secret: Some(SECRET.into()),
        algorithms: Some(vec![Algorithm::RS256]),
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(err, JwtConfigError::AlgorithmWithoutKey(_)));
}

#[test]
fn wrong_secret_is_bad_signature() {
    let other = JwtProvider::new(JwtProviderConfig::with_secret(
        "another-secret-that-is-long-enough-000000",
    ))
    .unwrap();
    assert_eq!(
        other
            .verify(&sign(Algorithm::HS256, &json!({"sub": "u"})))
            .unwrap_err(),
        Rejection::BadSignature
    );
}

#[test]
fn tampered_payload_is_bad_signature() {
    let t = sign(Algorithm::HS256, &json!({"sub": "user"}));
    let mut parts: Vec<&str> = t.split('.').collect();
    use base64::Engine;
    let admin = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#);
    parts[1] = &admin;
    assert_eq!(
        hs().verify(&parts.join(".")).unwrap_err(),
        Rejection::BadSignature
    );
}

#[test]
fn alg_none_in_any_casing() {
    for alg in ["none", "None", "NONE", "nOnE"] {
        let t = raw_hs256(
            &format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#),
            r#"{"sub":"u"}"#,
        );
        assert_eq!(hs().verify(&t).unwrap_err(), Rejection::AlgNone, "{alg}");
    }
}

#[test]
fn unknown_alg_crit_and_b64_refused() {
    let t = raw_hs256(r#"{"alg":"HS999"}"#, r#"{}"#);
    assert_eq!(
        hs().verify(&t).unwrap_err(),
        Rejection::UnsupportedAlgorithm("HS999".into())
    );
    let t = raw_hs256(r#"{"alg":"HS256","crit":["exp"]}"#, r#"{}"#);
    assert_eq!(
        hs().verify(&t).unwrap_err(),
        Rejection::UnsupportedHeader("crit")
    );
    let t = raw_hs256(r#"{"alg":"HS256","b64":false}"#, r#"{}"#);
    assert_eq!(
        hs().verify(&t).unwrap_err(),
        Rejection::UnsupportedHeader("b64")
    );
}

#[test]
fn malformed_shapes() {
    let good = sign(Algorithm::HS256, &json!({"sub": "u"}));
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let cases = [
        "".to_string(),
        "abc".to_string(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.x.y"),
        format!("{h}.{p}."),
        format!("{h}..{s}"),
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/") + "+/"),
        format!("{}.{p}.{s}", base64_of("not json")),
        format!("{}.{p}.{s}", base64_of("[1,2]")),
        format!("{h}.{}.{s}", base64_of("\"string\"")),
    ];
    for c in cases {
        assert!(
            matches!(hs().verify(&c).unwrap_err(), Rejection::Malformed(_)),
            "{c:?}"
        );
    }
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn duplicate_members_refused() {
    let t = raw_hs256(r#"{"alg":"HS256","alg":"none"}"#, r#"{}"#);
    assert!(matches!(
        hs().verify(&t).unwrap_err(),
        Rejection::Malformed(_)
    ));
    let t = raw_hs256(r#"{"alg":"HS256"}"#, r#"{"sub":"a","sub":"admin"}"#);
    assert!(matches!(
        hs().verify(&t).unwrap_err(),
        Rejection::Malformed(_)
    ));
}

#[test]
fn oversize_token_refused_before_parsing() {
    let big = "a".repeat(20_000);
    assert!(matches!(
        hs().verify(&big).unwrap_err(),
        Rejection::TooLarge { .. }
    ));
}

#[test]
fn expiry_with_leeway_boundaries() {
    let p = with_claims(ClaimsPolicy::default());
    let n = now();
    assert!(
        p.verify(&sign(Algorithm::HS256, &json!({"exp": n - 29})))
            .is_ok()
    );
    assert!(matches!(
        p.verify(&sign(Algorithm::HS256, &json!({"exp": n - 32})))
            .unwrap_err(),
        Rejection::Expired { .. }
    ));
    assert!(
        p.verify(&sign(Algorithm::HS256, &json!({"nbf": n + 29})))
            .is_ok()
    );
    assert!(matches!(
        p.verify(&sign(Algorithm::HS256, &json!({"nbf": n + 32})))
            .unwrap_err(),
        Rejection::NotYetValid { .. }
    ));
    assert!(matches!(
        p.verify(&sign(Algorithm::HS256, &json!({"iat": n + 3600})))
            .unwrap_err(),
        Rejection::IssuedInFuture { .. }
    ));
    let strict = with_claims(ClaimsPolicy {
        leeway: Duration::ZERO,
        ..Default::default()
    });
    assert!(matches!(
        strict
            .verify(&sign(Algorithm::HS256, &json!({"exp": n - 2})))
            .unwrap_err(),
        Rejection::Expired { .. }
    ));
}

#[test]
fn require_exp() {
    let p = with_claims(ClaimsPolicy {
        require_exp: true,
        ..Default::default()
    });
    assert_eq!(
        p.verify(&sign(Algorithm::HS256, &json!({"sub": "u"})))
            .unwrap_err(),
        Rejection::MissingClaim("exp")
    );
    assert!(
        p.verify(&sign(Algorithm::HS256, &json!({"exp": now() + 60})))
            .is_ok()
    );
}

#[test]
fn typed_claims() {
    let p = hs();
    for (claims, name) in [
        (json!({"exp": "9999999999"}), "exp"),
        (json!({"nbf": true}), "nbf"),
        (json!({"iat": [1]}), "iat"),
        (json!({"iss": 5}), "iss"),
        (json!({"aud": 5}), "aud"),
        (json!({"aud": ["a", 5]}), "aud"),
        (json!({"sub": {"x": 1}}), "sub"),
    ] {
        assert_eq!(
            p.verify(&sign(Algorithm::HS256, &claims)).unwrap_err(),
            Rejection::ClaimType(name),
            "{claims}"
        );
    }
    // Fractional NumericDate values are valid numbers.
    assert!(
        p.verify(&sign(
            Algorithm::HS256,
            &json!({"exp": now() as f64 + 60.5})
        ))
        .is_ok()
    );
    assert!(matches!(
        p.verify(&sign(Algorithm::HS256, &json!({"exp": -1})))
            .unwrap_err(),
        Rejection::Expired { .. }
    ));
    assert!(
        p.verify(&sign(Algorithm::HS256, &json!({"exp": 1e300})))
            .is_ok()
    );
}

#[test]
fn issuer_and_audience() {
    let p = with_claims(ClaimsPolicy {
        issuers: vec!["https://issuer.example/".into()],
        audiences: vec!["api://mastra".into()],
        ..Default::default()
    });
    let ok = json!({"iss": "https://issuer.example/", "aud": "api://mastra"});
    assert!(p.verify(&sign(Algorithm::HS256, &ok)).is_ok());
    let ok_arr = json!({"iss": "https://issuer.example/", "aud": ["x", "api://mastra"]});
    assert!(p.verify(&sign(Algorithm::HS256, &ok_arr)).is_ok());
    assert!(matches!(
        p.verify(&sign(
            Algorithm::HS256,
            &json!({"iss": "https://evil/", "aud": "api://mastra"})
        ))
        .unwrap_err(),
        Rejection::IssuerMismatch { .. }
    ));
    assert_eq!(
        p.verify(&sign(Algorithm::HS256, &json!({"aud": "api://mastra"})))
            .unwrap_err(),
        Rejection::MissingClaim("iss")
    );
    assert!(matches!(
        p.verify(&sign(
            Algorithm::HS256,
            &json!({"iss": "https://issuer.example/", "aud": ["x", "y"]})
        ))
        .unwrap_err(),
        Rejection::AudienceMismatch { .. }
    ));
    assert_eq!(
        p.verify(&sign(
            Algorithm::HS256,
            &json!({"iss": "https://issuer.example/"})
        ))
        .unwrap_err(),
        Rejection::MissingClaim("aud")
    );
}

#[test]
fn short_secret_and_bad_keys_refused_at_construction() {
    let err = JwtProvider::new(JwtProviderConfig::with_secret("short")).unwrap_err();
    assert!(matches!(err, JwtConfigError::ShortSecret(5)));
    assert!(err.to_string().contains("MASTRA_JWT_SECRET"));
    assert!(matches!(
        JwtProvider::new(JwtProviderConfig::default()).unwrap_err(),
        JwtConfigError::NoKey
    ));
    let weak = JwtProvider::new(JwtProviderConfig {
        public_key_pem: Some(fixture("rsa1024.pub")),
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(weak, JwtConfigError::WeakRsaKey(1024)));
    let garbage = JwtProvider::new(JwtProviderConfig {
        public_key_pem: Some("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(garbage, JwtConfigError::BadPublicKey(_)));
}

#[test]
fn debug_never_shows_the_secret() {
    let cfg = JwtProviderConfig::with_secret(SECRET);
    assert!(!format!("{cfg:?}").contains(SECRET));
    assert!(!format!("{:?}", hs()).contains(SECRET));
}

#[test]
fn cache_serves_repeat_tokens_and_rechecks_expiry() {
    let p = hs();
    let t = sign(Algorithm::HS256, &json!({"sub": "u", "exp": now() + 60}));
    // Cached from its second verification on (the first sight only passes the doorkeeper).
    let a = p.verify(&t).unwrap();
    let b = p.verify(&t).unwrap();
    let c = p.verify(&t).unwrap();
    assert!(
        !std::sync::Arc::ptr_eq(&a, &b),
        "a first-seen token is not cached"
    );
    assert!(
        std::sync::Arc::ptr_eq(&b, &c),
        "third verify should come from the cache"
    );
    // A forged token never hits the cache entry of a good one: not with another signature, and
    // not with the cached signature under other claims (the cache is keyed by the signature).
    let forged = format!("{}x", &t[..t.len() - 1]);
    assert!(p.verify(&forged).is_err());
    let (input, signature) = t.rsplit_once('.').unwrap();
    let (header, _) = input.split_once('.').unwrap();
    let admin = URL_SAFE_NO_PAD.encode(json!({"sub": "admin", "exp": now() + 60}).to_string());
    for other in [
        format!("{header}.{admin}.{signature}"),
        format!(".{signature}"),
        signature.to_owned(),
    ] {
        for _ in 0..3 {
            assert!(p.verify(&other).is_err(), "{other}");
        }
    }
    assert_eq!(p.verify(&t).unwrap().id, "u");
}
