//! CEL rule conditions through the public API: conditions that can never evaluate are refused
//! when the rules are built; at request time a condition that fails (or yields a non-bool) makes
//! a deny rule apply and an allow rule not apply, and is logged at WARN without claim values;
//! `method` is the method as received.

use std::fmt;
use std::sync::{Arc, Mutex};

use http::Method;
use mastra_auth::User;
use mastra_auth::rules::{
    Condition, ConditionError, Rule, RuleConfig, RuleContext, RuleError, Rules,
    deny_rules_on_missing_claims,
};
use serde_json::{Value, json};

const SECRET: &str = "tok-7f3a9c-secret-claim-value";

fn user(claims: Value) -> User {
    let Value::Object(map) = claims else {
        panic!("claims must be an object: {claims}");
    };
    User::from_claims(map, Arc::from("jwt"))
}

fn rules(v: Value) -> Result<Rules, RuleError> {
    let configs: Vec<RuleConfig> = serde_json::from_value(v).expect("rule configs");
    Rules::from_config(configs)
}

fn decide(rules: &Rules, method: &Method, path: &str, u: &User) -> Option<(usize, bool)> {
    rules.decide(&RuleContext {
        path,
        method,
        user: u,
        permission: "",
    })
}

/// Collects the events logged while it is the default subscriber, one line each: the level,
/// then ` name=value` per field.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Line(String);
        impl tracing::field::Visit for Line {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
                self.0.push_str(&format!(" {}={value:?}", field.name()));
            }
        }
        let mut line = Line(event.metadata().level().to_string());
        event.record(&mut line);
        self.0.lock().unwrap().push(line.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn logged<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    let capture = Capture::default();
    let out = tracing::subscriber::with_default(capture.clone(), f);
    let lines = capture.0.lock().unwrap().clone();
    (out, lines)
}

#[test]
fn undeclared_variable_is_refused_when_rules_are_built() {
    let e = rules(json!([
        {"path": "/api/*", "allow": true},
        {"condition": "claimz.role == 'admin'", "allow": false},
    ]))
    .unwrap_err();
    let RuleError::At { index, source } = &e else {
        panic!("{e:?}");
    };
    assert_eq!(*index, 1);
    assert_eq!(
        **source,
        RuleError::UnknownVariable {
            source_text: "claimz.role == 'admin'".into(),
            name: "claimz".into()
        }
    );
    let msg = e.to_string();
    assert!(msg.starts_with("rules[1]: "), "{msg}");
    assert!(msg.contains("unknown variable `claimz`"), "{msg}");
    assert!(
        msg.contains("the variables are user, claims, method, path and permission"),
        "{msg}"
    );

    for (src, name) in [
        ("request.path == '/x'", "request"),
        ("roles.exists(r, r == 'admin')", "roles"),
        ("claims.roles.exists(r, r == role)", "role"),
    ] {
        match Condition::cel(src) {
            Err(RuleError::UnknownVariable { name: n, .. }) => assert_eq!(n, name, "{src}"),
            other => panic!("{src}: {other:?}"),
        }
    }
}

#[test]
fn comprehension_variables_are_accepted() {
    for src in [
        "claims.roles.exists(r, r == 'admin')",
        "claims.roles.all(r, r.startsWith('team-'))",
        "claims.roles.exists_one(r, r == 'owner')",
        "claims.roles.filter(r, r.endsWith('-admin')).size() > 0",
        "claims.groups.map(g, g.name).exists(n, n == 'ops')",
        "claims.exists(k, k.startsWith('x-'))",
        "user.claims.roles.exists(role, role == user.id)",
    ] {
        Condition::cel(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    }
}

#[test]
fn typed_errors_are_refused_when_rules_are_built() {
    for (src, needle) in [
        ("method == 1", "compares a string with an int"),
        (
            "path + 1 == '/x1'",
            "`+` does not apply to a string and an int",
        ),
        ("method > 3", "`>` does not apply to a string and an int"),
        ("lower(method) == 'get'", "no function `lower`"),
        ("path.lower() == '/x'", "no method `lower`"),
        ("user.roles == ['admin']", "`user` has no field `roles`"),
        ("'admin'", "never a bool"),
        ("claims.level * 2", "never a bool"),
    ] {
        let e = rules(json!([{"condition": src}])).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("rules[0]: "), "{msg}");
        assert!(msg.contains("is ill-typed"), "{src}: {msg}");
        assert!(msg.contains(needle), "{src}: {msg}");
    }
}

#[test]
fn deny_rule_with_failing_condition_denies_despite_a_later_catch_all() {
    let r = rules(json!([
        {"condition": "claims.banned == true", "allow": false},
        {"allow": true},
    ]))
    .unwrap();
    let g = Method::GET;
    assert_eq!(
        decide(&r, &g, "/api/x", &user(json!({"banned": true}))),
        Some((0, false))
    );
    assert_eq!(
        decide(&r, &g, "/api/x", &user(json!({"banned": false}))),
        Some((1, true))
    );
    // No `banned` claim: the condition fails, the deny rule applies.
    let lacking = user(json!({"sub": SECRET}));
    assert_eq!(decide(&r, &g, "/api/x", &lacking), Some((0, false)));
    assert!(!r.evaluate(&RuleContext {
        path: "/api/x",
        method: &g,
        user: &lacking,
        permission: "",
    }));
    // `config check`'s lint names that rule and claim.
    assert_eq!(
        deny_rules_on_missing_claims(&r),
        vec![(0, vec!["banned".to_owned()])]
    );
}

#[test]
fn allow_rule_with_failing_condition_falls_through_to_the_next_rule() {
    let r = rules(json!([
        {"path": "/api/admin/*", "condition": "claims.level > 3", "allow": true},
        {"path": "/api/admin/*", "condition": "'admin' in claims.roles", "allow": true},
        {"path": "/api/admin/*", "allow": false},
        {"allow": true},
    ]))
    .unwrap();
    let g = Method::GET;
    // `level` is a string: `>` fails; the next rule decides.
    let admin = user(json!({"level": "high", "roles": ["admin"]}));
    assert_eq!(decide(&r, &g, "/api/admin/x", &admin), Some((1, true)));
    // Both conditions fail (no claims): the explicit deny decides.
    let nobody = user(json!({}));
    assert_eq!(decide(&r, &g, "/api/admin/x", &nobody), Some((2, false)));
    let senior = user(json!({"level": 5}));
    assert_eq!(decide(&r, &g, "/api/admin/x", &senior), Some((0, true)));
    // Without a later rule, no match denies.
    let only = rules(json!([{"condition": "claims.level > 3"}])).unwrap();
    assert_eq!(decide(&only, &g, "/", &admin), None);
    assert!(deny_rules_on_missing_claims(&r).is_empty());
}

#[test]
fn non_bool_results_deny_on_deny_rules_and_skip_allow_rules() {
    let g = Method::GET;
    let u = user(json!({"flag": "on", "n": 2}));
    for (src, why) in [
        ("claims.flag", "the result has type string, not bool"),
        ("claims.n", "the result has type int, not bool"),
    ] {
        let deny = rules(json!([{"condition": src, "allow": false}, {"allow": true}])).unwrap();
        assert_eq!(decide(&deny, &g, "/", &u), Some((0, false)), "{src}");
        let allow = rules(json!([{"condition": src, "allow": true}, {"allow": false}])).unwrap();
        assert_eq!(decide(&allow, &g, "/", &u), Some((1, false)), "{src}");
        let c = Condition::cel(src).unwrap();
        let err = c
            .try_evaluate(&RuleContext {
                path: "/",
                method: &g,
                user: &u,
                permission: "",
            })
            .unwrap_err();
        assert!(matches!(err, ConditionError::NotBool(_)), "{src}: {err:?}");
        assert_eq!(err.to_string(), why);
    }
}

#[test]
fn runtime_failures_are_logged_at_warn_without_claim_values() {
    let r = rules(json!([
        {"path": "/public/*", "allow": true},
        {"condition": "claims.tier == 'gold'", "allow": true},
        {"condition": "claims[claims.sub] == 1", "allow": false},
        {"condition": "claims.sub > 10", "allow": false},
        {"allow": true},
    ]))
    .unwrap();
    let g = Method::GET;
    // `tier` missing, `claims[<sub>]` missing (a key computed from a claim), `sub > 10` a type
    // error: three failures, the first deny rule decides.
    let u = user(json!({"sub": SECRET}));
    let (decision, logs) = logged(|| decide(&r, &g, "/api/x", &u));
    assert_eq!(decision, Some((2, false)));
    assert_eq!(logs.len(), 2, "{logs:#?}");
    for line in &logs {
        assert!(line.starts_with("WARN "), "{line}");
        assert!(!line.contains(SECRET), "a claim value was logged: {line}");
        assert!(
            !line.contains("tok-"),
            "part of a claim value was logged: {line}"
        );
    }
    assert!(logs[0].contains("rule=1"), "{}", logs[0]);
    assert!(logs[0].contains("claims.tier == 'gold'"), "{}", logs[0]);
    assert!(logs[0].contains("no such key `tier`"), "{}", logs[0]);
    assert!(logs[0].contains("does not apply"), "{}", logs[0]);
    assert!(logs[1].contains("rule=2"), "{}", logs[1]);
    assert!(logs[1].contains("claims[claims.sub] == 1"), "{}", logs[1]);
    assert!(logs[1].contains("computed at request time"), "{}", logs[1]);
    assert!(logs[1].contains("request denied"), "{}", logs[1]);

    // The type error of rule 3, reached once rule 2's lookup succeeds.
    let u = user(json!({"sub": SECRET, SECRET: 0, "tier": "silver"}));
    let (decision, logs) = logged(|| decide(&r, &g, "/api/x", &u));
    assert_eq!(decision, Some((3, false)));
    assert_eq!(logs.len(), 1, "{logs:#?}");
    assert!(logs[0].contains("rule=3"), "{}", logs[0]);
    assert!(
        logs[0].contains("no overload of `>` for (string, int)"),
        "{}",
        logs[0]
    );
    assert!(!logs[0].contains(SECRET), "{}", logs[0]);

    // Conditions that evaluate log nothing; neither do rules before the deciding one.
    let ok = user(json!({"sub": "x", "x": 1, "tier": "gold"}));
    let (decision, logs) = logged(|| {
        (
            decide(&r, &g, "/api/x", &ok),
            decide(&r, &g, "/public/a", &u),
        )
    });
    assert_eq!(decision, (Some((1, true)), Some((0, true))));
    assert!(logs.is_empty(), "{logs:#?}");
}

#[test]
fn cel_method_is_case_sensitive() {
    let r = rules(json!([
        {"condition": "method == 'GET'", "allow": true},
        {"condition": "method == 'get'", "allow": false},
    ]))
    .unwrap();
    let u = user(json!({}));
    let lower = Method::from_bytes(b"get").unwrap();
    assert_eq!(decide(&r, &Method::GET, "/", &u), Some((0, true)));
    assert_eq!(decide(&r, &lower, "/", &u), Some((1, false)));
    let post = Method::POST;
    assert_eq!(decide(&r, &post, "/", &u), None);
}

#[test]
fn closures_are_unaffected() {
    let r = Rules(vec![
        Rule::deny().when(|c| c.user.claim("banned").is_some()),
        Rule::allow(),
    ]);
    let g = Method::GET;
    let (d, logs) = logged(|| {
        (
            decide(&r, &g, "/", &user(json!({}))),
            decide(&r, &g, "/", &user(json!({"banned": 1}))),
        )
    });
    assert_eq!(d, (Some((1, true)), Some((0, false))));
    assert!(logs.is_empty(), "{logs:#?}");
    assert!(deny_rules_on_missing_claims(&r).is_empty());
}

mod generated {
    //! Generated conditions: building never panics, and whatever an accepted condition evaluates
    //! to, a deny rule lets a request through only on `false` and an allow rule only on `true`.

    use super::*;
    use proptest::prelude::*;

    const ATOMS: &[&str] = &[
        "claims.a",
        "claims.level",
        "claims.roles",
        "claims.org.id",
        "claims['a']",
        "claims",
        "user",
        "user.id",
        "user.claims.a",
        "method",
        "path",
        "1",
        "2u",
        "1.5",
        "'s'",
        "b'x'",
        "null",
        "true",
        "false",
        "[1, 's']",
        "{'k': 1}",
        "int",
        "map",
        "x",
        "optional.none()",
        "has(claims.a)",
    ];
    const UNARY: &[&str] = &[
        "!", "-", "size(", "int(", "string(", "type(", "dyn(", "foo(",
    ];
    const BINARY: &[&str] = &[
        "+", "-", "*", "/", "%", "==", "!=", "<", ">=", "in", "&&", "||",
    ];
    const SUFFIX: &[&str] = &[
        ".size()",
        ".startsWith('a')",
        ".matches('[')",
        ".exists(r, r == 1)",
        ".all(r, r)",
        ".map(r, r + 1)",
        ".filter(r, r)",
        ".exists_one(claims, claims)",
        ".a",
        "[0]",
        "['a']",
        ".lower()",
    ];

    fn expr() -> impl Strategy<Value = String> {
        let atom = prop::sample::select(ATOMS).prop_map(str::to_owned);
        atom.prop_recursive(4, 24, 2, |inner| {
            prop_oneof![
                (prop::sample::select(UNARY), inner.clone()).prop_map(|(op, e)| {
                    if op.ends_with('(') {
                        format!("{op}{e})")
                    } else {
                        format!("{op}({e})")
                    }
                }),
                (inner.clone(), prop::sample::select(BINARY), inner.clone())
                    .prop_map(|(a, op, b)| format!("({a}) {op} ({b})")),
                (inner.clone(), prop::sample::select(SUFFIX))
                    .prop_map(|(e, s)| format!("({e}){s}")),
                (inner.clone(), inner.clone(), inner)
                    .prop_map(|(c, a, b)| format!("({c}) ? ({a}) : ({b})")),
            ]
        })
    }

    fn users() -> Vec<User> {
        vec![
            user(json!({})),
            user(json!({"a": true, "level": 3, "roles": ["admin"], "org": {"id": "x"}})),
            user(json!({"a": "s", "level": "high", "roles": "admin", "org": 1})),
            user(json!({"a": false, "level": 2.5, "roles": [], "org": {}})),
        ]
    }

    proptest! {
        // About one generated condition in ten is accepted.
        #![proptest_config(ProptestConfig::with_cases(1000))]
        #[test]
        fn accepted_conditions_fail_closed(src in expr()) {
            let Ok(cond) = Condition::cel(&src) else {
                return Ok(());
            };
            let deny = Rules(vec![Rule::deny().with_condition(cond.clone()), Rule::allow()]);
            let allow = Rules(vec![Rule::allow().with_condition(cond.clone()), Rule::deny()]);
            let lower = Method::from_bytes(b"get").unwrap();
            for u in &users() {
                for method in [&Method::GET, &lower] {
                    let ctx = RuleContext { path: "/api/x", method, user: u, permission: "" };
                    let verdict = cond.try_evaluate(&ctx);
                    prop_assert_eq!(deny.evaluate(&ctx), verdict == Ok(false), "{}", src);
                    prop_assert_eq!(allow.evaluate(&ctx), verdict == Ok(true), "{}", src);
                }
            }
        }
    }
}
