//! [`Condition`]: the extra test of a rule, a Rust closure or a CEL expression.

use std::fmt;
use std::sync::Arc;

#[cfg(feature = "cel")]
use super::cel::{CelCondition, warn_failed};
use super::cel_error::ConditionError;
#[cfg(feature = "cel")]
use super::guards;
use super::{RuleContext, RuleError};

/// A condition written in Rust.
pub(super) type ClosureFn = dyn Fn(&RuleContext<'_>) -> bool + Send + Sync;

/// A rule condition: a Rust closure or a CEL expression compiled once.
#[derive(Clone)]
pub struct Condition(pub(super) ConditionKind);

/// What a [`Condition`] is made of.
#[derive(Clone)]
pub(super) enum ConditionKind {
    Closure(Arc<ClosureFn>),
    #[cfg(feature = "cel")]
    Cel(Arc<CelCondition>),
}

impl Condition {
    /// A condition from a Rust closure.
    pub fn new<F>(f: F) -> Condition
    where
        F: Fn(&RuleContext<'_>) -> bool + Send + Sync + 'static,
    {
        Condition(ConditionKind::Closure(Arc::new(f)))
    }

    /// Compiles a CEL expression over `user`, `claims`, `method` and `path`, refusing what can
    /// never evaluate (see the [`crate::rules`] docs for what is checked).
    /// Without the `cel` feature every source is refused ([`RuleError::CelUnavailable`]).
    pub fn cel(source: &str) -> Result<Condition, RuleError> {
        #[cfg(feature = "cel")]
        return CelCondition::compile(source).map(|c| Condition(ConditionKind::Cel(Arc::new(c))));
        #[cfg(not(feature = "cel"))]
        Err(RuleError::CelUnavailable {
            source_text: source.to_owned(),
        })
    }

    /// Evaluates the condition on its own: a CEL error or non-boolean result is logged and
    /// counts as false. A rule reads a failure by its `allow` instead
    /// ([`Rule::matches`](super::Rule::matches)).
    pub fn evaluate(&self, ctx: &RuleContext<'_>) -> bool {
        match &self.0 {
            ConditionKind::Closure(f) => f(ctx),
            #[cfg(feature = "cel")]
            ConditionKind::Cel(c) => c.run(&mut None, ctx).unwrap_or_else(|e| {
                warn_failed(None, None, &c.source, &e);
                false
            }),
        }
    }

    /// Evaluates the condition, returning a CEL failure instead of deciding what it means.
    pub fn try_evaluate(&self, ctx: &RuleContext<'_>) -> Result<bool, ConditionError> {
        match &self.0 {
            ConditionKind::Closure(f) => Ok(f(ctx)),
            #[cfg(feature = "cel")]
            ConditionKind::Cel(c) => c.run(&mut None, ctx),
        }
    }

    /// The CEL source, when this is a CEL condition.
    pub fn cel_source(&self) -> Option<&str> {
        match &self.0 {
            ConditionKind::Closure(_) => None,
            #[cfg(feature = "cel")]
            ConditionKind::Cel(c) => Some(&c.source),
        }
    }

    /// The claims a CEL condition reads without a `has()` (or `'k' in claims`) guard, as dotted
    /// paths below `claims` (`banned`, `org.id`): for a user lacking one, evaluation can fail.
    /// Empty for a closure. Syntactic: it follows `&&`, `||`, `!` and `? :`, nothing else.
    pub fn unguarded_claims(&self) -> Vec<String> {
        match &self.0 {
            ConditionKind::Closure(_) => Vec::new(),
            #[cfg(feature = "cel")]
            ConditionKind::Cel(c) => guards::unguarded_claims(c.program.expression()),
        }
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ConditionKind::Closure(_) => f.write_str("Condition(<closure>)"),
            #[cfg(feature = "cel")]
            ConditionKind::Cel(c) => write!(f, "Condition(cel: {:?})", c.source),
        }
    }
}

#[cfg(all(test, feature = "cel"))]
mod tests {
    use super::super::Rules;
    use super::super::test_support::*;
    use super::*;
    use http::Method;
    use serde_json::json;

    #[test]
    fn unknown_variables_are_refused_at_build() {
        for (src, name) in [
            ("claimz.role == 'admin'", "claimz"),
            ("unknown_var == 1", "unknown_var"),
            ("has(claimz.role)", "claimz"),
            ("claims.roles.exists(r, r == x)", "x"),
            // the macro's variable is not bound outside it
            ("claims.roles.exists(r, r == 'a') && r == 'a'", "r"),
            ("request.method == 'GET'", "request"),
            ("nope.of(1)", "nope"),
        ] {
            let e = Condition::cel(src).unwrap_err();
            assert_eq!(
                e,
                RuleError::UnknownVariable {
                    source_text: src.into(),
                    name: name.into()
                },
                "{src}"
            );
            let msg = e.to_string();
            assert!(msg.contains(&format!("`{name}`")), "{msg}");
            assert!(
                msg.contains("the variables are user, claims, method, path and permission"),
                "{msg}"
            );
        }
    }

    #[test]
    fn macro_variables_and_type_names_are_accepted() {
        for src in [
            "claims.roles.exists(r, r == 'admin')",
            "claims.roles.all(r, r.size() > 2)",
            "claims.roles.exists_one(r, r == 'admin')",
            "claims.roles.map(r, r + '!').exists(x, x == 'admin!')",
            "claims.roles.filter(r, r.startsWith('a')).size() > 0",
            "claims.exists(k, k == 'org' && claims[k] == 'acme')",
            "[1, 2].exists(claims, claims == 2)",
            "type(claims) == map && type(claims.roles) == list",
            "optional.of(1).hasValue()",
            "has(claims.org) && has(user.claims.org)",
        ] {
            Condition::cel(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        }
    }

    #[test]
    fn typed_errors_are_refused_at_build() {
        for (src, needle) in [
            ("method == 1", "`==` compares a string with an int"),
            ("path != null", "`!=` compares a string with null"),
            (
                "path + 1 == 'x'",
                "`+` does not apply to a string and an int",
            ),
            ("method > 3", "`>` does not apply to a string and an int"),
            ("size(path) == 'x'", "compares an int with a string"),
            ("method.foo()", "no method `foo`"),
            ("foo(claims.x)", "no function `foo`"),
            ("claims.x.startswith('a')", "no method `startswith`"),
            (
                "map.startsWith('a')",
                "`startsWith` does not apply to a type and a string",
            ),
            ("user.role == 'admin'", "`user` has no field `role`"),
            ("method.x == 'a'", "a string has no fields"),
            ("path.exists(c, c == 'a')", "iterates over a string"),
            ("claims.a && 1", "`&&` takes bools, not an int"),
            ("!path", "`!` takes bools, not a string"),
            ("path ? true : false", "the condition of `? :` is a string"),
            ("'admin'", "it yields a string, never a bool"),
            ("1", "it yields an int"),
            ("[true]", "it yields a list"),
            ("{'a': true}", "it yields a map"),
            ("claims.level + 1", "it yields an arithmetic result"),
            ("-claims.level", "it yields an arithmetic result"),
            ("claims.a ? 'x' : 'y'", "it yields a string"),
            ("claims.roles.map(r, r)", "it yields a list"),
            ("size(claims.roles)", "it yields an int"),
            ("claims.roles.exists(r, r + 1)", "`||` takes bools"),
        ] {
            let e = Condition::cel(src).unwrap_err();
            assert!(matches!(e, RuleError::CelType { .. }), "{src}: {e:?}");
            let msg = e.to_string();
            assert!(msg.contains(needle), "{src}: {msg}");
        }
    }

    #[test]
    fn conditions_on_claims_of_unknown_type_are_accepted() {
        // What cannot be told from the expression is left to request time.
        for src in [
            "claims.role > 5",
            "claims.level + 1 > 2",
            "claims.role",
            "claims.n / 0 == 1",
            "int(claims.n) == 1",
            "claims[claims.k] == 1",
            "claims.org.id == 'x'",
            "method in ['GET', 'POST'] && path.matches('^/api/')",
            "size(path) > 3 && user.id.startsWith('u')",
            "claims.level < 4u + 0u == false",
            "user.claims == claims && user.provider == 'jwt'",
            "1 == 1.0 && 2u == 2",
        ] {
            Condition::cel(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        }
    }

    #[test]
    fn unguarded_claim_reads() {
        let reads = |s: &str| Condition::cel(s).unwrap().unguarded_claims();
        let none: Vec<String> = Vec::new();
        assert_eq!(reads("claims.banned == true"), ["banned"]);
        assert_eq!(reads("user.claims.banned"), ["banned"]);
        assert_eq!(reads("claims['banned'] == true"), ["banned"]);
        assert_eq!(reads("'x' in claims.roles"), ["roles"]);
        assert_eq!(reads("claims.org.id == 'a'"), ["org.id", "org"]);
        assert_eq!(reads("has(claims.banned) && claims.banned == true"), none);
        assert_eq!(reads("claims.banned == true && has(claims.banned)"), none);
        assert_eq!(reads("'banned' in claims && claims.banned"), none);
        assert_eq!(reads("!has(claims.banned) || claims.banned"), none);
        assert_eq!(reads("has(claims.b) ? claims.b : false"), none);
        assert_eq!(reads("!has(claims.b) ? false : claims.b"), none);
        assert_eq!(reads("has(user.claims.b) && claims.b"), none);
        assert_eq!(reads("has(claims.org.id) && claims.org.id == 'a'"), ["org"]);
        assert_eq!(
            reads("has(claims.org) && has(claims.org.id) && claims.org.id == 'a'"),
            none
        );
        // a guard on another claim, or in the wrong polarity, does not count
        assert_eq!(reads("has(claims.a) && claims.b"), ["b"]);
        assert_eq!(reads("has(claims.b) || claims.b"), ["b"]);
        assert_eq!(reads("has(claims.b) ? false : claims.b"), ["b"]);
        // whole-map reads never fail; a shadowing macro variable is not `claims`
        assert_eq!(
            reads("size(claims) > 0 && claims.exists(k, k == 'a')"),
            none
        );
        assert_eq!(reads("[{'a': 1}].exists(claims, claims.a == 1)"), none);
        assert_eq!(reads("method == 'GET'"), none);
        assert_eq!(Condition::new(|_| true).unguarded_claims(), none);

        // cel agrees: an unguarded read fails for a user without the claim, a guarded one not.
        let g = Method::GET;
        let u = user("u", json!({}));
        for src in [
            "claims.banned == true",
            "claims.banned == true && has(claims.banned)",
            "!has(claims.banned) || claims.banned",
            "has(claims.b) ? claims.b : false",
            "has(claims.org.id) && claims.org.id == 'a'",
        ] {
            let failed = try_cel(src, &g, &u).is_err();
            assert_eq!(failed, !reads(src).is_empty(), "{src}");
        }
    }

    #[test]
    fn cel_garbage_is_a_compile_error() {
        for src in [
            "",
            "(((",
            "'unterminated",
            "\"",
            "1 +",
            "a.b.c(",
            "}{",
            "claims..x",
        ] {
            assert!(Condition::cel(src).is_err(), "{src:?}");
        }
    }

    #[test]
    fn cel_compile_errors_are_clear() {
        let e = Condition::cel("claims.role ==").unwrap_err();
        assert!(matches!(e, RuleError::Cel { .. }));
        let msg = e.to_string();
        assert!(
            msg.starts_with("invalid CEL condition `claims.role ==`"),
            "{msg}"
        );
    }

    #[test]
    fn condition_debug() {
        assert_eq!(
            format!("{:?}", Condition::cel("path == '/x'").unwrap()),
            r#"Condition(cel: "path == '/x'")"#
        );
        assert_eq!(
            format!("{:?}", Condition::new(|_| true)),
            "Condition(<closure>)"
        );
        assert_eq!(Condition::cel("true").unwrap().cel_source(), Some("true"));
        assert_eq!(Condition::new(|_| true).cel_source(), None);
    }

    #[test]
    fn conditions_are_send_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Condition>();
        assert_send_sync::<Rules>();
    }
}

#[cfg(all(test, not(feature = "cel")))]
mod without_cel {
    use super::*;

    #[test]
    fn cel_conditions_are_refused_with_the_reason() {
        let e = Condition::cel("claims.role == 'admin'").unwrap_err();
        assert_eq!(
            e,
            RuleError::CelUnavailable {
                source_text: "claims.role == 'admin'".into()
            }
        );
        assert!(e.to_string().contains("`cel` feature"), "{e}");
    }
}
