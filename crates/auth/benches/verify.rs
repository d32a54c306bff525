//! Verify cost per algorithm: first-seen tokens (full parse + crypto + claims), repeated
//! tokens (served by the verified-token cache), and the raw signature check alone — the
//! baseline of the first-seen target in BENCHMARKS.md (auth cost against the raw crypto):
//!
//! - `raw_crypto/<alg>`: aws-lc-rs with the key parsed once (`hmac::Key` / `ParsedPublicKey`),
//!   signature already base64-decoded — the floor any verifier on this backend can reach;
//! - `raw_jsonwebtoken/<alg>`: `jsonwebtoken::crypto::verify` (base64-decodes the signature and
//!   builds the backend key on every call).
//!
//! `cargo bench -p mastra-auth --bench verify`

use std::hint::black_box;

use aws_lc_rs::{hmac, signature};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use mastra_auth::providers::jwt::{JwtProvider, JwtProviderConfig};
use serde_json::json;

const SECRET: &str = "bench-secret-0123456789abcdef0123456789abcdef";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

struct Case {
    alg: Algorithm,
    encoding: EncodingKey,
    secret: Option<&'static str>,
    public_pem: Option<String>,
}

fn cases() -> Vec<Case> {
    let pem = |alg, key: &str, public: &str| Case {
        alg,
        encoding: match alg {
            Algorithm::ES256 | Algorithm::ES384 => {
                EncodingKey::from_ec_pem(fixture(key).as_bytes()).unwrap()
            }
            Algorithm::EdDSA => EncodingKey::from_ed_pem(fixture(key).as_bytes()).unwrap(),
            _ => EncodingKey::from_rsa_pem(fixture(key).as_bytes()).unwrap(),
        },
        secret: None,
        public_pem: Some(fixture(public)),
    };
    vec![
        Case {
            alg: Algorithm::HS256,
            encoding: EncodingKey::from_secret(SECRET.as_bytes()),
            secret: Some(SECRET),
            public_pem: None,
        },
        pem(Algorithm::RS256, "rsa2048.key", "rsa2048.pub"),
        pem(Algorithm::PS256, "rsa2048.key", "rsa2048.pub"),
        pem(Algorithm::ES256, "p256.key", "p256.pub"),
        pem(Algorithm::ES384, "p384.key", "p384.pub"),
        pem(Algorithm::EdDSA, "ed25519.key", "ed25519.pub"),
    ]
}

fn provider(c: &Case, cache_capacity: u64) -> JwtProvider {
    JwtProvider::new(JwtProviderConfig {
        secret: c.secret.map(mastra_auth::Secret::from),
        public_key_pem: c.public_pem.clone(),
        cache_capacity,
        ..Default::default()
    })
    .unwrap()
}

fn token(c: &Case, n: u64) -> String {
    let now = mastra_auth::jwt::now_secs();
    let claims = json!({"sub": format!("user-{n}"), "name": "Bench User", "iat": now, "exp": now + 3600, "role": "user"});
    jsonwebtoken::encode(&Header::new(c.alg), &claims, &c.encoding).unwrap()
}

fn bench(c: &mut Criterion) {
    let mut first = c.benchmark_group("verify_first_seen");
    for case in cases() {
        // Cache disabled: every verification is a full one.
        let p = provider(&case, 0);
        let t = token(&case, 1);
        first.bench_with_input(
            BenchmarkId::from_parameter(format!("{:?}", case.alg)),
            &t,
            |b, t| b.iter(|| p.verify(black_box(t)).unwrap()),
        );
    }
    first.finish();

    let mut cached = c.benchmark_group("verify_cached");
    for case in cases() {
        let p = provider(&case, 10_000);
        let t = token(&case, 1);
        // Twice: a token is cached from its second verification on.
        p.verify(&t).unwrap();
        p.verify(&t).unwrap();
        cached.bench_with_input(
            BenchmarkId::from_parameter(format!("{:?}", case.alg)),
            &t,
            |b, t| b.iter(|| p.verify(black_box(t)).unwrap()),
        );
    }
    cached.finish();

    let mut raw = c.benchmark_group("raw_crypto");
    for case in cases() {
        let t = token(&case, 1);
        let (message, sig) = t.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        let verify = raw_verifier(&case);
        assert!(verify(message.as_bytes(), &sig), "{:?}", case.alg);
        raw.bench_function(
            BenchmarkId::from_parameter(format!("{:?}", case.alg)),
            |b| b.iter(|| verify(black_box(message.as_bytes()), black_box(&sig))),
        );
    }
    raw.finish();

    let mut jwt = c.benchmark_group("raw_jsonwebtoken");
    for case in cases() {
        let t = token(&case, 1);
        let (message, sig) = t.rsplit_once('.').unwrap();
        let key = decoding_key(&case);
        jwt.bench_function(
            BenchmarkId::from_parameter(format!("{:?}", case.alg)),
            |b| {
                b.iter(|| {
                    jsonwebtoken::crypto::verify(
                        black_box(sig),
                        black_box(message.as_bytes()),
                        &key,
                        case.alg,
                    )
                    .unwrap()
                })
            },
        );
    }
    jwt.finish();
}

fn decoding_key(c: &Case) -> DecodingKey {
    match (c.secret, &c.public_pem, c.alg) {
        (Some(s), _, _) => DecodingKey::from_secret(s.as_bytes()),
        (None, Some(p), Algorithm::ES256 | Algorithm::ES384) => {
            DecodingKey::from_ec_pem(p.as_bytes()).unwrap()
        }
        (None, Some(p), Algorithm::EdDSA) => DecodingKey::from_ed_pem(p.as_bytes()).unwrap(),
        (None, Some(p), _) => DecodingKey::from_rsa_pem(p.as_bytes()).unwrap(),
        _ => unreachable!(),
    }
}

type RawVerify = Box<dyn Fn(&[u8], &[u8]) -> bool>;

/// The signature check on aws-lc-rs directly, key parsed once.
fn raw_verifier(c: &Case) -> RawVerify {
    if let Some(secret) = c.secret {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        return Box::new(move |m, s| hmac::verify(&key, m, s).is_ok());
    }
    let alg: &'static dyn signature::VerificationAlgorithm = match c.alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Algorithm::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Algorithm::EdDSA => &signature::ED25519,
        a => unreachable!("{a:?}"),
    };
    // jsonwebtoken's DecodingKey holds PKCS#1 DER (RSA), the SEC1 point (EC) or the raw key
    // (Ed25519): exactly what aws-lc-rs parses.
    let der = decoding_key(c).try_get_as_bytes().unwrap().to_vec();
    let key = signature::ParsedPublicKey::new(alg, der).unwrap();
    Box::new(move |m, s| key.verify_sig(m, s).is_ok())
}

criterion_group!(benches, bench);
criterion_main!(benches);
