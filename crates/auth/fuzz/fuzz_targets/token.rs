//! Token parser + signature binding + claims validation.
//!
//! Input: the token text, exactly as it would follow `Bearer `. Invariants checked besides "no
//! panic, no hang":
//! - the prepared-key path (`jwt::prepare` + `verify_signature_prepared`, what the providers use)
//!   and the plain `verify_signature` (jsonwebtoken) agree;
//! - a token verifies only if its signed part (`header.payload`) is one a real key holder
//!   produced (the seeds below); for the deterministic, non-malleable algorithms (HS*, RS*,
//!   EdDSA) the whole token must be byte-identical to the one the signer made, so no alternative
//!   base64 spelling or altered signature is ever accepted;
//! - `check_claims` accepting a token implies every policy requirement holds.
#![no_main]

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use libfuzzer_sys::fuzz_target;
use mastra_auth::jwt::{self, ClaimsPolicy, VerifyKey};
use mastra_auth::providers::jwt::public_key_from_pem;
use serde_json::{Value, json};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test-secret";

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../tests/fixtures/", $name))
    };
}

struct World {
    keys: Vec<VerifyKey>,
    prepared: Vec<jwt::PreparedKey>,
    /// signing input -> the canonical token (for deterministic algorithms) or `None`.
    signed: HashMap<String, Option<String>>,
    policies: Vec<ClaimsPolicy>,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let mut keys = vec![VerifyKey {
        kid: None,
        algorithms: vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
        key: jsonwebtoken::DecodingKey::from_secret(SECRET),
    }];
    for pem in [
        &fixture!("rsa2048.pub")[..],
        &fixture!("p256.pub")[..],
        &fixture!("ed25519.pub")[..],
    ] {
        keys.push(public_key_from_pem(pem).expect("fixture public key"));
    }
    let claims = [
        json!({"sub": "u", "iss": "https://issuer.test/", "aud": "api", "exp": 2_000_000_000u64, "iat": 1_700_000_000u64}),
        json!({"sub": "1234567890", "name": "John Doe", "iat": 1516239022}),
    ];
    let enc = |alg: Algorithm| match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => EncodingKey::from_secret(SECRET),
        Algorithm::RS256 | Algorithm::PS256 => {
            EncodingKey::from_rsa_pem(fixture!("rsa2048.key")).unwrap()
        }
        Algorithm::ES256 => EncodingKey::from_ec_pem(fixture!("p256.key")).unwrap(),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(fixture!("ed25519.key")).unwrap(),
        _ => unreachable!(),
    };
    let mut signed = HashMap::new();
    for c in &claims {
        for (alg, deterministic) in [
            (Algorithm::HS256, true),
            (Algorithm::HS512, true),
            (Algorithm::RS256, true),
            (Algorithm::PS256, false),
            (Algorithm::ES256, false),
            (Algorithm::EdDSA, true),
        ] {
            let token = jsonwebtoken::encode(&Header::new(alg), c, &enc(alg)).unwrap();
            if let Some(dir) = std::env::var_os("MASTRA_FUZZ_WRITE_SEEDS") {
                // Seeds must come from this very build (the signed bytes are the invariant).
                let path = std::path::Path::new(&dir).join(format!("signed-{}", signed.len()));
                std::fs::write(path, &token).unwrap();
            }
            let input = token.rsplit_once('.').unwrap().0.to_owned();
            signed.insert(input, deterministic.then_some(token));
        }
    }
    let policies = vec![
        ClaimsPolicy::default(),
        ClaimsPolicy {
            issuers: vec!["https://issuer.test/".into()],
            audiences: vec!["api".into()],
            require_exp: true,
            leeway: Duration::from_secs(30),
        },
    ];
    World {
        prepared: jwt::prepare(&keys),
        keys,
        signed,
        policies,
    }
});

fn check(token: &str) {
    let w = &*WORLD;
    let Ok(parsed) = jwt::parse(token, jwt::DEFAULT_MAX_TOKEN_BYTES) else {
        return;
    };
    // The production path (keys prepared once) and the jsonwebtoken path must agree.
    let verified = jwt::verify_signature_prepared(&parsed, &w.keys, &w.prepared);
    assert_eq!(
        verified.is_ok(),
        jwt::verify_signature(&parsed, &w.keys).is_ok(),
        "prepared keys and jsonwebtoken disagree"
    );
    if verified.is_ok() {
        match w.signed.get(parsed.signing_input) {
            None => panic!("forged token verified: {token:?}"),
            Some(Some(canonical)) => assert_eq!(
                token, canonical,
                "a second spelling of a deterministic signature verified"
            ),
            Some(None) => {}
        }
    }
    for policy in &w.policies {
        for now in [0u64, 1_700_000_000, 4_000_000_000, u64::MAX] {
            let Ok(exp) = jwt::check_claims(&parsed.claims, policy, now) else {
                continue;
            };
            let leeway = policy.leeway.as_secs() as f64;
            if policy.require_exp {
                assert!(exp.is_some(), "exp required but not returned");
            }
            if let Some(exp) = exp {
                assert!(exp + leeway >= now as f64, "expired token accepted");
            }
            if !policy.issuers.is_empty() {
                let iss = parsed.claims.get("iss").and_then(Value::as_str);
                assert!(iss.is_some_and(|i| policy.issuers.iter().any(|p| p == i)));
            }
            if !policy.audiences.is_empty() {
                let ok = match parsed.claims.get("aud") {
                    Some(Value::String(a)) => policy.audiences.contains(a),
                    Some(Value::Array(a)) => a.iter().any(|v| {
                        v.as_str()
                            .is_some_and(|s| policy.audiences.iter().any(|p| p == s))
                    }),
                    _ => false,
                };
                assert!(ok, "audience accepted without a match");
            }
            for name in ["nbf", "iat"] {
                if let Some(v) = parsed.claims.get(name) {
                    let v = v.as_f64().expect("numeric");
                    assert!(v <= now as f64 + leeway, "{name} in the future accepted");
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(token) = std::str::from_utf8(data) {
        check(token);
    }
});
