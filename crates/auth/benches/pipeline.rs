//! The whole auth pipeline in-process: a request through an axum `Router` with the auth layer
//! (`tower::ServiceExt::oneshot`, no network), against the same router without the layer.
//!
//! - `no_auth`: the route alone (the baseline every other line is compared with);
//! - `missing_token`: the layer refusing a request without a credential (401);
//! - `<provider>_<alg>_repeated`: one token over and over (verified-token cache hits);
//! - `<provider>_<alg>_unique`: every request a token never seen before (full verification,
//!   cache insert included). Tokens are pre-minted; when a pool runs out the router is rebuilt
//!   (untimed) with a fresh provider, so every timed request is first-seen for its cache;
//! - `jwt_HS256_repeated_rules100`: the repeated token plus 100 ordered rules (25 with CEL
//!   conditions), decided by the last one;
//! - `jwt_HS256_repeated_rbac`: the repeated token with role-based access control (the token's
//!   role mapped to the route's permission).
//!
//! Providers: `jwt` (secret / PEM key) and `jwks` (a JWKS served on loopback by this bench).
//!
//! `cargo bench -p mastra-auth --bench pipeline`

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use common::*;
use criterion::{Bencher, Criterion, criterion_group, criterion_main};
use jsonwebtoken::Algorithm;
use mastra_auth::Auth;
use mastra_auth::rbac::{Rbac, RbacConfig};
use mastra_auth::rules::{Condition, Rule, Rules};
use tokio::runtime::Runtime;
use tower::ServiceExt;

fn rt() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn call(app: &Router, token: Option<&str>) -> http::StatusCode {
    app.clone().oneshot(ping(token)).await.unwrap().status()
}

/// Times `iters` requests with the same token (or none).
fn repeated(b: &mut Bencher, rt: &Runtime, app: &Router, token: Option<&str>, expect: u16) {
    rt.block_on(async { assert_eq!(call(app, token).await.as_u16(), expect) });
    b.iter_custom(|iters| {
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                std::hint::black_box(call(app, token).await);
            }
            start.elapsed()
        })
    });
}

/// Times `iters` requests, each with a token the router's provider has not seen.
fn unique(b: &mut Bencher, rt: &Runtime, pool: &[String], warm: &str, make: &dyn Fn() -> Router) {
    b.iter_custom(|iters| {
        rt.block_on(async {
            let mut total = Duration::ZERO;
            let mut done = 0u64;
            while done < iters {
                let app = make();
                // Warm-up outside the timing (fetches the key set of a jwks provider).
                assert_eq!(call(&app, Some(warm)).await.as_u16(), 200);
                let n = (iters - done).min(pool.len() as u64) as usize;
                let start = Instant::now();
                for t in &pool[..n] {
                    std::hint::black_box(call(&app, Some(t)).await);
                }
                total += start.elapsed();
                done += n as u64;
            }
            total
        })
    });
}

fn rules_100() -> Rules {
    let mut rules = Rules::default();
    for i in 0..99 {
        let mut r = Rule::allow()
            .with_pattern(&format!("/api/section-{i}/*"))
            .unwrap();
        if i % 4 == 0 {
            r = r.with_condition(Condition::cel("claims.role == 'admin'").unwrap());
        }
        rules.push(r);
    }
    rules.push(
        Rule::allow()
            .with_pattern("/api/*")
            .unwrap()
            .with_condition(Condition::cel("claims.role == 'user' && method == 'GET'").unwrap()),
    );
    rules
}

fn bench(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("pipeline");

    let plain = router(None);
    g.bench_function("no_auth", |b| repeated(b, &rt, &plain, None, 200));

    let hs = Signer::hs256();
    let app = router(Some(
        Auth::mastra_defaults(jwt_provider(&hs, 10_000)).build(),
    ));
    g.bench_function("missing_token", |b| repeated(b, &rt, &app, None, 401));
    let t = hs.mint(0, false);
    g.bench_function("jwt_HS256_repeated", |b| {
        repeated(b, &rt, &app, Some(&t), 200)
    });
    let ruled = router(Some(
        Auth::mastra_defaults(jwt_provider(&hs, 10_000))
            .rules(rules_100())
            .build(),
    ));
    g.bench_function("jwt_HS256_repeated_rules100", |b| {
        repeated(b, &rt, &ruled, Some(&t), 200)
    });
    // RBAC: the token's `role` mapped to permissions; `GET /api/ping` needs `ping:read`.
    let rbac = Rbac::new(RbacConfig {
        roles_claim: vec!["role".into()],
        permissions_claim: vec!["permissions".into()],
        roles: [
            ("admin", vec!["*"]),
            (
                "user",
                vec!["agents:read", "agents:execute", "memory:*", "ping:read"],
            ),
            ("viewer", vec!["*:read"]),
        ]
        .into_iter()
        .map(|(r, ps)| (r.to_owned(), ps.into_iter().map(str::to_owned).collect()))
        .collect(),
    })
    .unwrap();
    let with_rbac = router(Some(
        Auth::mastra_defaults(jwt_provider(&hs, 10_000))
            .rbac(rbac)
            .build(),
    ));
    g.bench_function("jwt_HS256_repeated_rbac", |b| {
        repeated(b, &rt, &with_rbac, Some(&t), 200)
    });
    let pool = hs.mint_many(1, 200_000, false);
    g.bench_function("jwt_HS256_unique", |b| {
        unique(b, &rt, &pool, &t, &|| {
            router(Some(
                Auth::mastra_defaults(jwt_provider(&hs, 10_000)).build(),
            ))
        })
    });
    drop(pool);

    // Asymmetric pools: 4,096 tokens against a 1,024-entry cache, so inserts also evict.
    for alg in [Algorithm::RS256, Algorithm::ES256] {
        let s = Signer::asymmetric(alg);
        let app = router(Some(
            Auth::mastra_defaults(jwt_provider(&s, 10_000)).build(),
        ));
        let t = s.mint(0, false);
        g.bench_function(format!("jwt_{alg:?}_repeated"), |b| {
            repeated(b, &rt, &app, Some(&t), 200)
        });
        let pool = s.mint_many(1, 4096, false);
        g.bench_function(format!("jwt_{alg:?}_unique"), |b| {
            unique(b, &rt, &pool, &t, &|| {
                router(Some(Auth::mastra_defaults(jwt_provider(&s, 1024)).build()))
            })
        });
    }

    let signers = [
        Signer::asymmetric(Algorithm::RS256),
        Signer::asymmetric(Algorithm::ES256),
    ];
    let jwks = rt.block_on(JwksServer::start(signers.iter().map(Signer::jwk).collect()));
    for s in &signers {
        let alg = s.alg;
        let app = router(Some(
            Auth::mastra_defaults(jwks_provider(&jwks.url, 10_000)).build(),
        ));
        let t = s.mint(0, true);
        g.bench_function(format!("jwks_{alg:?}_repeated"), |b| {
            repeated(b, &rt, &app, Some(&t), 200)
        });
        let pool = s.mint_many(1, 4096, true);
        g.bench_function(format!("jwks_{alg:?}_unique"), |b| {
            unique(b, &rt, &pool, &t, &|| {
                router(Some(
                    Auth::mastra_defaults(jwks_provider(&jwks.url, 1024)).build(),
                ))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
