//! `jwt::PreparedKey` (keys made ready for aws-lc-rs once) decides exactly as
//! `jsonwebtoken::crypto::verify` does: same accepts, same refusals, same reasons, for every
//! algorithm, both RSA key encodings (DER from PEM, n/e from a JWK) and misbound keys.

use crate::common_keys::*;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use mastra_auth::jwt::{self, VerifyKey};
use mastra_auth::providers::jwt::public_key_from_pem;
use serde_json::json;

const ALL: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

fn key_sets() -> Vec<(&'static str, Vec<VerifyKey>)> {
    let hmac = VerifyKey {
        kid: None,
        algorithms: vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512],
        key: DecodingKey::from_secret(SECRET.as_bytes()),
    };
    let pem = |f: &str| public_key_from_pem(fixture(f).as_bytes()).unwrap();
    let rsa_der = pem("rsa2048.pub");
    let rsa_from_jwk = |file: &str, kid: &str| {
        let enc = EncodingKey::from_rsa_pem(fixture(file).as_bytes()).unwrap();
        let jwk = Jwk::from_encoding_key(&enc, Algorithm::RS256).unwrap();
        VerifyKey {
            kid: Some(kid.into()),
            algorithms: rsa_der.algorithms.clone(),
            key: DecodingKey::from_jwk(&jwk).unwrap(),
        }
    };
    let rsa_ne = rsa_from_jwk("rsa2048.key", "rsa-ne");
    let other_rsa = rsa_from_jwk("rsa2048-b.key", "rsa-b");
    // Misbound on purpose: an HMAC secret offered for RS256, an EC key for EdDSA.
    let misbound = vec![
        VerifyKey {
            kid: None,
            algorithms: vec![Algorithm::RS256],
            key: DecodingKey::from_secret(SECRET.as_bytes()),
        },
        VerifyKey {
            kid: None,
            algorithms: vec![Algorithm::EdDSA, Algorithm::ES384],
            key: pem("p256.pub").key,
        },
    ];
    vec![
        (
            "all",
            vec![
                hmac.clone(),
                rsa_der.clone(),
                pem("p256.pub"),
                pem("p384.pub"),
                pem("ed25519.pub"),
            ],
        ),
        ("rsa n/e", vec![rsa_ne]),
        ("rsa two keys", vec![other_rsa, rsa_der]),
        ("hmac", vec![hmac]),
        ("misbound", misbound),
    ]
}

/// The token, the same with another payload, with a flipped signature byte, and signed by
/// another key of the same type where there is one.
fn variants(alg: Algorithm) -> Vec<String> {
    let claims = json!({"sub": "u", "exp": now() + 600});
    let t = sign(alg, &claims);
    let mut out = vec![t.clone()];
    let (head, rest) = t.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let other_payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"v"}"#);
    out.push(format!("{head}.{other_payload}.{sig}"));
    let mut raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let mid = raw.len() / 2;
    raw[mid] ^= 0x01;
    out.push(format!(
        "{head}.{}.{}",
        rest.split_once('.').unwrap().0,
        URL_SAFE_NO_PAD.encode(&raw)
    ));
    out.push(format!(
        "{head}.{}.{}",
        rest.split_once('.').unwrap().0,
        &sig[..sig.len() / 2]
    ));
    if matches!(alg, Algorithm::RS256 | Algorithm::PS256) {
        let enc = EncodingKey::from_rsa_pem(fixture("rsa2048-b.key").as_bytes()).unwrap();
        out.push(jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), &claims, &enc).unwrap());
    }
    out
}

#[test]
fn prepared_and_jsonwebtoken_agree_on_every_case() {
    let mut accepted = 0;
    for (name, keys) in key_sets() {
        let prepared = jwt::prepare(&keys);
        assert_eq!(prepared.len(), keys.len());
        for alg in ALL {
            for token in variants(alg) {
                let Ok(parsed) = jwt::parse(&token, jwt::DEFAULT_MAX_TOKEN_BYTES) else {
                    continue;
                };
                let plain = jwt::verify_signature(&parsed, &keys);
                let fast = jwt::verify_signature_prepared(&parsed, &keys, &prepared);
                assert_eq!(plain, fast, "{name} {alg:?} {token}");
                // A partial preparation list falls back for the rest.
                let partial = jwt::verify_signature_prepared(&parsed, &keys, &prepared[..1]);
                assert_eq!(plain, partial, "{name} {alg:?} partial");
                accepted += usize::from(fast.is_ok());
            }
        }
    }
    // Every algorithm verifies its own valid token in the "all" set (12), plus RSA n/e (6), RSA
    // two keys (6, and the RS256/PS256 tokens of the second key: 2) and hmac (3); the misbound
    // keys accept nothing.
    assert_eq!(accepted, 12 + 6 + 8 + 3);
}

#[test]
fn misbound_keys_prepare_nothing() {
    let (_, misbound) = key_sets().pop().unwrap();
    for p in jwt::prepare(&misbound) {
        assert_eq!(format!("{p:?}"), "PreparedKey { algorithms: [] }");
    }
}
