//! Path patterns and authorization rules, compiled once, evaluated per request.
//!
//! - `patterns/defaults_need`: the default policy's decision (protected `/api/*`, public `/api`
//!   and `/health`) for an API path — what every request pays before any credential is read;
//! - `patterns/list100_last`: 100 patterns (`/api/section-N/:id/*`), the path matching the last;
//! - `rules100/paths_last`: 100 path-only rules, decided by the last one;
//! - `rules100/cel25_last`: 100 rules, 25 of them with a CEL condition on the claims, the request
//!   path matching only the last rule (itself CEL);
//! - `rules100/cel100_all_paths`: 100 rules without paths, each with a CEL condition that is
//!   false but the last — the worst case: 100 CEL evaluations per request;
//! - `cel/one`: a single CEL condition.
//!
//! `cargo bench -p mastra-auth --bench rules`

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use http::Method;
use http::request::Parts;
use mastra_auth::User;
use mastra_auth::pattern::{PatternList, RoutePattern};
use mastra_auth::policy::{Need, Policy};
use mastra_auth::rules::{Condition, Rule, RuleContext, Rules};
use serde_json::json;

fn user() -> User {
    let claims = json!({
        "sub": "user-1", "name": "Bench User", "role": "user", "iat": 1, "exp": 2,
        "roles": ["reader", "writer"], "org": "acme",
    });
    User::from_claims(claims.as_object().cloned().unwrap(), Arc::from("jwt"))
}

fn parts(path: &str) -> Parts {
    http::Request::builder()
        .uri(path)
        .body(())
        .unwrap()
        .into_parts()
        .0
}

fn path_rules(cel_every: Option<usize>) -> Rules {
    let mut rules = Rules::default();
    for i in 0..99 {
        let mut r = Rule::allow()
            .with_pattern(&format!("/api/section-{i}/*"))
            .unwrap();
        if let Some(n) = cel_every
            && i % n == 0
        {
            r = r.with_condition(Condition::cel("'admin' in claims.roles").unwrap());
        }
        rules.push(r);
    }
    let mut last = Rule::allow().with_pattern("/api/agents/*").unwrap();
    if cel_every.is_some() {
        last = last
            .with_condition(Condition::cel("claims.role == 'user' && method == 'GET'").unwrap());
    }
    rules.push(last);
    rules
}

fn cel_rules() -> Rules {
    let mut rules: Rules = (0..99)
        .map(|i| {
            Rule::allow()
                .with_condition(Condition::cel(&format!("claims.org == 'org-{i}'")).unwrap())
        })
        .collect();
    rules.push(Rule::allow().with_condition(Condition::cel("claims.org == 'acme'").unwrap()));
    rules
}

fn bench(c: &mut Criterion) {
    let u = user();
    let path = "/api/agents/weatherAgent/generate";

    let mut g = c.benchmark_group("patterns");
    let policy = Policy::with_defaults("/api");
    let p = parts(path);
    assert_eq!(policy.need(p.uri.path(), &p), Need::Authenticate);
    g.bench_function("defaults_need", |b| {
        b.iter(|| policy.need(black_box(p.uri.path()), black_box(&p)))
    });
    let list = PatternList(
        (0..100)
            .map(|i| RoutePattern::path(&format!("/api/section-{i}/:id/*")).unwrap())
            .collect(),
    );
    let last = "/api/section-99/abc/def";
    assert!(list.matches(last, &Method::GET));
    g.bench_function("list100_last", |b| {
        b.iter(|| list.matches(black_box(last), &Method::GET))
    });
    g.finish();

    let ctx = RuleContext {
        path,
        method: &Method::GET,
        user: &u,
        permission: "",
    };
    let mut g = c.benchmark_group("rules100");
    for (name, rules) in [
        ("paths_last", path_rules(None)),
        ("cel25_last", path_rules(Some(4))),
        ("cel100_all_paths", cel_rules()),
    ] {
        assert_eq!(rules.decide(&ctx), Some((99, true)), "{name}");
        g.bench_function(name, |b| b.iter(|| rules.evaluate(black_box(&ctx))));
    }
    g.finish();

    let one = Condition::cel("'writer' in claims.roles && user.id == 'user-1'").unwrap();
    assert!(one.evaluate(&ctx));
    c.bench_function("cel/one", |b| b.iter(|| one.evaluate(black_box(&ctx))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
