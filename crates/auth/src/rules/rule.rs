//! [`Rule`]: one authorization rule and how it matches a request.

use super::RuleContext;
#[cfg(feature = "cel")]
use super::cel::warn_failed;
use super::cel_vars::CelVars;
use super::condition::{Condition, ConditionKind};
use crate::pattern::{MethodSet, PathMatcher, PatternError};

/// One authorization rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Paths the rule applies to (any matches); `None` for every path.
    pub path: Option<Vec<PathMatcher>>,
    /// Methods the rule applies to; `None` for every method.
    pub methods: Option<MethodSet>,
    /// Route permissions the rule applies to (one must cover the route's, as `agents:*` covers
    /// `agents:execute`); `None` for every route.
    pub permissions: Option<Vec<String>>,
    /// Extra condition; `None` always holds.
    pub condition: Option<Condition>,
    /// The decision when the rule matches.
    pub allow: bool,
}

impl Rule {
    /// A rule that matches every request and allows it (narrow it with the `with_*` methods).
    pub fn allow() -> Rule {
        Rule {
            path: None,
            methods: None,
            permissions: None,
            condition: None,
            allow: true,
        }
    }

    /// A rule that matches every request and denies it (narrow it with the `with_*` methods).
    pub fn deny() -> Rule {
        Rule {
            allow: false,
            ..Rule::allow()
        }
    }

    /// Adds a path matcher (the rule applies when any of its matchers matches).
    pub fn with_path(mut self, path: PathMatcher) -> Rule {
        self.path.get_or_insert_with(Vec::new).push(path);
        self
    }

    /// Adds a path pattern such as `/api/admin/*`.
    pub fn with_pattern(self, pattern: &str) -> Result<Rule, PatternError> {
        Ok(self.with_path(PathMatcher::pattern(pattern)?))
    }

    /// Restricts the rule to these methods.
    pub fn with_methods(mut self, methods: MethodSet) -> Rule {
        self.methods = Some(methods);
        self
    }

    /// Restricts the rule to routes whose permission `permission` covers (`agents:*`); may be
    /// called again to add more.
    pub fn with_permission(mut self, permission: impl Into<String>) -> Rule {
        self.permissions
            .get_or_insert_with(Vec::new)
            .push(permission.into());
        self
    }

    /// Sets the condition.
    pub fn with_condition(mut self, condition: Condition) -> Rule {
        self.condition = Some(condition);
        self
    }

    /// Sets a closure as the condition.
    pub fn when<F>(self, f: F) -> Rule
    where
        F: Fn(&RuleContext<'_>) -> bool + Send + Sync + 'static,
    {
        self.with_condition(Condition::new(f))
    }

    /// Whether path, methods, permissions and condition all match this request. A CEL condition that fails
    /// to evaluate (or yields a non-bool) matches on a deny rule and not on an allow rule, so a
    /// failure never lets a request through that the condition was meant to deny; it is logged.
    pub fn matches(&self, ctx: &RuleContext<'_>) -> bool {
        self.matches_with(ctx, &mut None, None)
    }

    /// [`Rule::matches`], with the request's CEL variables built at most once across calls;
    /// `index` is the rule's position in its list, for the log.
    #[cfg_attr(not(feature = "cel"), allow(unused_variables))]
    pub(super) fn matches_with<'v>(
        &self,
        ctx: &RuleContext<'v>,
        vars: &mut Option<CelVars<'v>>,
        index: Option<usize>,
    ) -> bool {
        // An allow rule is an exemption: it matches the way the router routes. A deny rule is a
        // protection and may match more (any case, one optional trailing slash).
        if let Some(paths) = &self.path
            && !paths.iter().any(|p| {
                if self.allow {
                    p.matches_exact(ctx.path)
                } else {
                    p.matches(ctx.path)
                }
            })
        {
            return false;
        }
        if let Some(methods) = &self.methods
            && !methods.contains(ctx.method)
        {
            return false;
        }
        // A route without a permission is matched by no permission list.
        if let Some(permissions) = &self.permissions
            && (ctx.permission.is_empty()
                || !permissions
                    .iter()
                    .any(|p| crate::permission::covers(p, ctx.permission)))
        {
            return false;
        }
        match self.condition.as_ref().map(|c| &c.0) {
            None => true,
            Some(ConditionKind::Closure(f)) => f(ctx),
            #[cfg(feature = "cel")]
            Some(ConditionKind::Cel(c)) => c.run(vars, ctx).unwrap_or_else(|e| {
                warn_failed(index, Some(self.allow), &c.source, &e);
                // Fail closed: a deny rule applies, an allow rule does not.
                !self.allow
            }),
        }
    }
}

#[cfg(test)]
// Most of these tests are of CEL conditions.
#[cfg_attr(not(feature = "cel"), allow(unused_imports, dead_code))]
mod tests {
    use super::super::Rules;
    use super::super::test_support::*;
    use super::*;
    use crate::User;
    use http::Method;
    use serde_json::json;
    use std::fmt;
    use std::sync::Arc;

    #[test]
    fn path_matches_rule_forms() {
        let u = user("u", json!({}));
        let g = Method::GET;
        // undefined -> applies to all paths
        assert!(Rule::allow().matches(&ctx("/anything", &g, &u)));
        // string
        let s = Rule::allow().with_pattern("/api/users/:id").unwrap();
        assert!(s.matches(&ctx("/api/users/1", &g, &u)));
        assert!(!s.matches(&ctx("/api/posts/1", &g, &u)));
        // regex
        let r = Rule::allow().with_path(PathMatcher::regex(r"^\/api\/users\/\d+$").unwrap());
        assert!(r.matches(&ctx("/api/users/123", &g, &u)));
        assert!(!r.matches(&ctx("/api/users/abc", &g, &u)));
        // array: any matches
        let a = Rule::allow()
            .with_pattern("/api/a/*")
            .unwrap()
            .with_pattern("/api/b")
            .unwrap();
        assert!(a.matches(&ctx("/api/a/x", &g, &u)));
        assert!(a.matches(&ctx("/api/b", &g, &u)));
        assert!(!a.matches(&ctx("/api/c", &g, &u)));
    }

    #[test]
    fn closure_sees_path_method_user() {
        let u = user("u1", json!({}));
        let rule =
            Rule::allow().when(|c| c.user.id == "u1" && *c.method == Method::PUT && c.path == "/p");
        assert!(rule.matches(&ctx("/p", &Method::PUT, &u)));
        assert!(!rule.matches(&ctx("/p", &Method::GET, &u)));
    }

    /// Collects the events logged while it is the default subscriber, one line each.
    #[derive(Clone, Default)]
    struct Capture(Arc<std::sync::Mutex<Vec<String>>>);

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
    #[cfg(feature = "cel")]
    fn failing_conditions_never_turn_a_deny_into_an_allow() {
        let cond = |s: &str| Condition::cel(s).unwrap();
        let rules = Rules(vec![
            Rule::deny().with_condition(cond("claims.banned == true")),
            Rule::allow().with_condition(cond("claims.level > 3")),
            Rule::deny().with_pattern("/api/secret").unwrap(),
            Rule::allow(),
        ]);
        let g = Method::GET;
        let banned = user("b", json!({"banned": true, "level": 9}));
        let fine = user("f", json!({"banned": false, "level": 9}));
        let no_claim = user("n", json!({"level": 9}));
        let wrong_type = user("w", json!({"banned": false, "level": "high"}));
        let d = |u: &User, path: &str| rules.decide(&ctx(path, &g, u));
        assert_eq!(d(&banned, "/x"), Some((0, false)));
        assert_eq!(d(&fine, "/x"), Some((1, true)));
        // The deny rule's condition fails: the rule applies, the catch-all never decides.
        let ((r, allowed), logs) = logged(|| {
            (
                d(&no_claim, "/x"),
                rules.evaluate(&ctx("/x", &g, &no_claim)),
            )
        });
        assert_eq!(r, Some((0, false)));
        assert!(!allowed);
        assert_eq!(logs.len(), 2, "{logs:?}");
        assert!(logs[0].starts_with("WARN"), "{logs:?}");
        assert!(logs[0].contains("rule=0"), "{logs:?}");
        assert!(logs[0].contains("claims.banned == true"), "{logs:?}");
        assert!(logs[0].contains("no such key `banned`"), "{logs:?}");
        assert!(logs[0].contains("request denied"), "{logs:?}");
        // The allow rule's condition fails (a string compared with an int): it does not apply,
        // the next rules decide.
        let (r, logs) = logged(|| (d(&wrong_type, "/x"), d(&wrong_type, "/api/secret")));
        assert_eq!(r, (Some((3, true)), Some((2, false))));
        assert_eq!(logs.len(), 2, "{logs:?}");
        assert!(logs[0].contains("rule=1"), "{logs:?}");
        assert!(logs[0].contains("does not apply"), "{logs:?}");
        assert!(!logs.concat().contains("high"), "{logs:?}");
        // Rule::matches alone reads a failure the same way.
        assert!(rules.0[0].matches(&ctx("/x", &g, &no_claim)));
        assert!(!rules.0[1].matches(&ctx("/x", &g, &wrong_type)));
        // Success logs nothing.
        let (_, logs) = logged(|| d(&fine, "/x"));
        assert!(logs.is_empty(), "{logs:?}");
    }

    #[test]
    #[cfg(feature = "cel")]
    fn non_bool_results_never_turn_a_deny_into_an_allow() {
        let g = Method::GET;
        let u = user("u", json!({"flag": "yes"}));
        let deny = Rules(vec![
            Rule::deny().with_condition(Condition::cel("claims.flag").unwrap()),
            Rule::allow(),
        ]);
        let allow = Rules(vec![
            Rule::allow().with_condition(Condition::cel("claims.flag").unwrap()),
            Rule::deny(),
        ]);
        let (r, logs) = logged(|| {
            (
                deny.decide(&ctx("/", &g, &u)),
                allow.decide(&ctx("/", &g, &u)),
            )
        });
        assert_eq!(r, (Some((0, false)), Some((1, false))));
        assert!(
            logs.iter()
                .all(|l| l.contains("the result has type string, not bool")),
            "{logs:?}"
        );
        assert!(!logs.concat().contains("yes"), "{logs:?}");
        // A bool claim decides as usual.
        let b = user("b", json!({"flag": true}));
        assert_eq!(deny.decide(&ctx("/", &g, &b)), Some((0, false)));
        assert_eq!(allow.decide(&ctx("/", &g, &b)), Some((0, true)));
        let f = user("f", json!({"flag": false}));
        assert_eq!(deny.decide(&ctx("/", &g, &f)), Some((1, true)));
        assert_eq!(allow.decide(&ctx("/", &g, &f)), Some((1, false)));
    }

    #[test]
    fn permission_lists_match_the_routes_they_cover() {
        let u = User::from_claims(serde_json::Map::new(), std::sync::Arc::from("t"));
        let g = Method::GET;
        let at = |permission| RuleContext {
            path: "/api/x",
            method: &g,
            user: &u,
            permission,
        };
        let r = Rule::deny()
            .with_permission("memory:write")
            .with_permission("tools:*");
        assert!(r.matches(&at("memory:write")));
        assert!(r.matches(&at("tools:execute")));
        assert!(!r.matches(&at("memory:read")));
        assert!(!r.matches(&at("agents:execute")));
        // A route with no permission is matched by no list, even `*`.
        assert!(!r.matches(&at("")));
        assert!(!Rule::allow().with_permission("*").matches(&at("")));
        assert!(Rule::allow().matches(&at("")));
    }
}
