//! Compiling and running one CEL condition.

use std::sync::{Arc, OnceLock};

use cel::common::ast::{EntryExpr, Expr, IdedExpr, LiteralValue};

use super::cel_error::{ConditionError, value_type};
use super::cel_vars::CelVars;
use super::{RuleContext, RuleError, check};

/// A CEL condition compiled once, with what evaluating it needs.
pub(super) struct CelCondition {
    /// The expression as written.
    pub(super) source: String,
    /// The compiled expression.
    pub(super) program: cel::Program,
    /// Whether it reads `user`.
    uses_user: bool,
    /// Whether it reads `claims`.
    uses_claims: bool,
    /// The identifiers, field and function names and literal strings of the expression, sorted:
    /// an error's key or name is shown only when it is one of these, since a key computed at
    /// request time may be a claim value.
    names: Box<[String]>,
}

/// The CEL standard environment, built once and shared by every evaluation.
pub(super) fn cel_env() -> Arc<cel::Env> {
    static ENV: OnceLock<Arc<cel::Env>> = OnceLock::new();
    ENV.get_or_init(|| Arc::new(cel::Env::stdlib())).clone()
}

impl CelCondition {
    /// Compiles `source`, refusing what can never evaluate (see the module docs of
    /// [`crate::rules`]).
    pub(super) fn compile(source: &str) -> Result<CelCondition, RuleError> {
        let program = cel_env().compile(source).map_err(|e| RuleError::Cel {
            source_text: source.to_owned(),
            message: e.to_string(),
        })?;
        check::condition(program.expression()).map_err(|e| match e {
            check::Refusal::UnknownVariable(name) => RuleError::UnknownVariable {
                source_text: source.to_owned(),
                name,
            },
            check::Refusal::Type(message) => RuleError::CelType {
                source_text: source.to_owned(),
                message,
            },
        })?;
        let refs = program.references();
        let (uses_user, uses_claims) = (refs.has_variable("user"), refs.has_variable("claims"));
        let mut names = Vec::new();
        collect_names(program.expression(), &mut names);
        names.sort_unstable();
        names.dedup();
        Ok(CelCondition {
            source: source.to_owned(),
            program,
            uses_user,
            uses_claims,
            names: names.into_boxed_slice(),
        })
    }

    /// The verdict, or why there is none; cheap when the result is a bool.
    pub(super) fn run<'v>(
        &self,
        vars: &mut Option<CelVars<'v>>,
        ctx: &RuleContext<'v>,
    ) -> Result<bool, ConditionError> {
        let vars = CelVars::ensure(vars, ctx, self.uses_user, self.uses_claims);
        match self.program.execute(vars) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(ConditionError::NotBool(value_type(&other))),
            Err(e) => Err(ConditionError::describe(&e, |name| self.spells(name))),
        }
    }

    /// Whether the expression spells `name` (as an identifier, field, function or literal
    /// string): only such names may appear in an error description.
    fn spells(&self, name: &str) -> bool {
        self.names
            .binary_search_by(|n| n.as_str().cmp(name))
            .is_ok()
    }
}

/// Logs a condition that could not decide: `rule` is its rule's index in the list and `allow`
/// that rule's decision, when known. Out of line: the success path never comes here.
#[cold]
#[inline(never)]
pub(super) fn warn_failed(
    rule: Option<usize>,
    allow: Option<bool>,
    source: &str,
    error: &ConditionError,
) {
    let outcome = match allow {
        Some(true) => "the allow rule does not apply",
        Some(false) => "the deny rule applies: request denied",
        None => "counts as false",
    };
    match rule {
        Some(index) => tracing::warn!(
            rule = index,
            condition = source,
            error = %error,
            outcome,
            "authorization rule condition failed to evaluate"
        ),
        None => tracing::warn!(
            condition = source,
            error = %error,
            outcome,
            "authorization rule condition failed to evaluate"
        ),
    }
}

/// Every field name, identifier, function name and literal string of `e`.
fn collect_names(e: &IdedExpr, out: &mut Vec<String>) {
    match &e.expr {
        Expr::Unspecified => {}
        Expr::Literal(LiteralValue::String(s)) => out.push(s.inner().to_owned()),
        Expr::Literal(_) => {}
        Expr::Ident(name) => out.push(name.clone()),
        Expr::Select(s) => {
            out.push(s.field.clone());
            collect_names(&s.operand, out);
        }
        Expr::Call(c) => {
            out.push(c.func_name.clone());
            if let Some(t) = &c.target {
                collect_names(t, out);
            }
            c.args.iter().for_each(|a| collect_names(a, out));
        }
        Expr::List(l) => l.elements.iter().for_each(|a| collect_names(a, out)),
        Expr::Map(m) => m.entries.iter().for_each(|entry| match &entry.expr {
            EntryExpr::StructField(f) => collect_names(&f.value, out),
            EntryExpr::MapEntry(m) => {
                collect_names(&m.key, out);
                collect_names(&m.value, out);
            }
        }),
        Expr::Struct(s) => s.entries.iter().for_each(|entry| match &entry.expr {
            EntryExpr::StructField(f) => {
                out.push(f.field.clone());
                collect_names(&f.value, out);
            }
            EntryExpr::MapEntry(m) => {
                collect_names(&m.key, out);
                collect_names(&m.value, out);
            }
        }),
        Expr::Comprehension(c) => {
            for e in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                collect_names(e, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use http::Method;
    use serde_json::json;

    #[test]
    fn cel_examples() {
        let admin = user("u1", json!({"roles": ["admin", "dev"], "role": "admin"}));
        let other = user("u2", json!({"roles": ["dev"], "role": "user"}));
        let g = Method::GET;
        assert!(cel(r#""admin" in claims.roles"#, "/", &g, &admin));
        assert!(!cel(r#""admin" in claims.roles"#, "/", &g, &other));
        assert!(cel("claims.role == 'admin'", "/", &g, &admin));
        assert!(!cel("claims.role == 'admin'", "/", &g, &other));
        assert!(cel("user.id == 'u1' && method == 'GET'", "/", &g, &admin));
        assert!(!cel(
            "user.id == 'u1' && method == 'GET'",
            "/",
            &Method::POST,
            &admin
        ));
        assert!(!cel("user.id == 'u1' && method == 'GET'", "/", &g, &other));
        assert!(cel(
            "path.startsWith('/api/agents')",
            "/api/agents/x",
            &g,
            &other
        ));
        assert!(!cel(
            "path.startsWith('/api/agents')",
            "/api/tools",
            &g,
            &other
        ));
        assert!(cel(
            "user.provider == 'test' && user.claims.role == 'admin'",
            "/",
            &g,
            &admin
        ));
        assert!(cel("claims.roles.exists(r, r == 'dev')", "/", &g, &other));
    }

    #[test]
    fn cel_numbers_compare_as_ints() {
        let u = user(
            "u",
            json!({"level": 3, "big": 18446744073709551615u64, "f": 1.5}),
        );
        let g = Method::GET;
        assert!(cel("claims.level == 3", "/", &g, &u));
        assert!(cel("claims.level >= 2", "/", &g, &u));
        assert!(cel("claims.f > 1.0", "/", &g, &u));
        assert!(cel("claims.big == 18446744073709551615u", "/", &g, &u));
    }

    #[test]
    fn cel_failures_are_reported_without_values() {
        let u = user("u", json!({"role": "s3cr3t-role", "n": 1}));
        let g = Method::GET;
        let cases: [(&str, ConditionError); 9] = [
            (
                r#""admin" in claims.roles"#,
                ConditionError::NoSuchKey("roles".into()),
            ),
            (
                "claims.missing == 'x'",
                ConditionError::NoSuchKey("missing".into()),
            ),
            // the key comes from a claim: not shown
            (
                "claims[claims.role] == 1",
                ConditionError::NoSuchComputedKey,
            ),
            (
                "claims.role > 5",
                ConditionError::NoOverload {
                    function: ">".into(),
                    types: "string, int".into(),
                },
            ),
            ("claims.n / 0 == 1", ConditionError::DivisionByZero),
            ("claims.role", ConditionError::NotBool("string")),
            ("[1][5] == 1", ConditionError::IndexOutOfBounds),
            (
                "int(claims.role) == 1",
                ConditionError::FunctionFailed("int".into()),
            ),
            (
                "claims.role.matches(claims.role + '(')",
                ConditionError::FunctionFailed("matches".into()),
            ),
        ];
        for (src, expected) in cases {
            let got = try_cel(src, &g, &u);
            assert_eq!(got, Err(expected), "{src}");
            let text = got.unwrap_err().to_string();
            assert!(!text.contains("s3cr3t"), "{src}: {text}");
        }
        // Each failure alone counts as false; guards make missing claims explicit.
        assert!(!cel(r#""admin" in claims.roles"#, "/", &g, &u));
        assert!(!cel(
            "has(claims.roles) && 'admin' in claims.roles",
            "/",
            &g,
            &u
        ));
        assert!(cel("!has(claims.roles)", "/", &g, &u));
        assert_eq!(try_cel("claims.n == 1", &g, &u), Ok(true));
    }

    #[test]
    fn cel_method_is_the_method_as_received() {
        let u = user("u", json!({}));
        let lower = Method::from_bytes(b"get").unwrap();
        let custom = Method::from_bytes(b"Purge").unwrap();
        assert!(cel("method == 'GET'", "/", &Method::GET, &u));
        assert!(!cel("method == 'GET'", "/", &lower, &u));
        assert!(cel("method == 'get'", "/", &lower, &u));
        assert!(cel("method == 'Purge'", "/", &custom, &u));
        assert!(!cel("method == 'PURGE'", "/", &custom, &u));
    }
}
