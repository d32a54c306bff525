//! Fine-grained authorization of a list: `Fga::filter` over 1,000 agents for one user.
//!
//! - `local_1000`: relationship tuples from config (100 tuples, the user's among them);
//! - `workos_cached_1000`: WorkOS checks all answered from the cache (a list read again within
//!   the cache's TTL);
//! - `workos_uncached_1000`: every check a `POST` to a WorkOS fake on loopback (cache off), 8 at
//!   a time: the first time a user lists 1,000 agents.
//!
//! `cargo bench -p mastra-auth --bench fga`

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use mastra_auth::User;
use mastra_auth::fga::{Fga, FgaSettings, LocalChecker, Tuple, WorkosChecker, WorkosFgaConfig};
use serde_json::{Map, Value, json};

fn user() -> User {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!("alice"));
    claims.insert("organization_membership_id".into(), json!("om_alice"));
    User::from_claims(claims, Arc::from("bench"))
}

fn ids() -> Vec<String> {
    (0..1000).map(|i| format!("agent-{i}")).collect()
}

async fn workos_fake() -> String {
    // Every other agent is allowed.
    let app = Router::new().route(
        "/authorization/organization_memberships/{m}/check",
        post(|body: axum::Json<Value>| async move {
            let id = body["resource_external_id"].as_str().unwrap_or_default();
            let n: u32 = id.trim_start_matches("agent-").parse().unwrap_or(1);
            axum::Json(json!({"authorized": n.is_multiple_of(2)}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn workos(url: &str, cache_ttl: Duration) -> Fga {
    let checker = WorkosChecker::new(WorkosFgaConfig {
        api_key: Some("sk_bench".into()),
        api_base: url.to_owned(),
        allow_insecure_http: true,
        ..WorkosFgaConfig::default()
    })
    .unwrap();
    Fga::new(
        Arc::new(checker),
        FgaSettings {
            cache_ttl,
            ..FgaSettings::default()
        },
    )
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let u = user();
    let ids = ids();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut g = c.benchmark_group("fga");

    let tuples = (0..100)
        .map(|i| Tuple {
            subject: if i == 99 {
                "user:alice".into()
            } else {
                format!("user:u{i}")
            },
            permission: "agents:read".into(),
            resource: if i == 99 {
                "agent:*".into()
            } else {
                format!("agent:agent-{i}")
            },
        })
        .collect();
    let local = Fga::new(
        Arc::new(LocalChecker::new(tuples).unwrap()),
        FgaSettings {
            cache_ttl: Duration::ZERO,
            ..FgaSettings::default()
        },
    );
    g.bench_function("local_1000", |b| {
        b.iter(|| {
            rt.block_on(local.filter(&u, "agents:read", "agent", &refs))
                .unwrap()
        })
    });

    let url = rt.block_on(workos_fake());
    let cached = workos(&url, Duration::from_secs(3600));
    let warm = rt
        .block_on(cached.filter(&u, "agents:read", "agent", &refs))
        .unwrap();
    assert_eq!(warm.iter().filter(|a| **a).count(), 500);
    g.bench_function("workos_cached_1000", |b| {
        b.iter(|| {
            rt.block_on(cached.filter(&u, "agents:read", "agent", &refs))
                .unwrap()
        })
    });

    let uncached = workos(&url, Duration::ZERO);
    g.sample_size(10);
    g.bench_function("workos_uncached_1000", |b| {
        b.iter(|| {
            rt.block_on(uncached.filter(&u, "agents:read", "agent", &refs))
                .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
