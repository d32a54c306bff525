//! Verify cost per algorithm: first-seen tokens (full parse + crypto + claims) and repeated
//! tokens (served by the verified-token cache).
//!
//! `cargo bench -p mastra-auth --bench verify`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
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
        secret: c.secret.map(str::to_owned),
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
        p.verify(&t).unwrap();
        cached.bench_with_input(
            BenchmarkId::from_parameter(format!("{:?}", case.alg)),
            &t,
            |b, t| b.iter(|| p.verify(black_box(t)).unwrap()),
        );
    }
    cached.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
