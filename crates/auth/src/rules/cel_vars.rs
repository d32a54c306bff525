//! A request's CEL variables, converted once per rule list.

use std::collections::HashMap;

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use serde_json::Value as Json;

use super::RuleContext;
use super::cel::cel_env;
use crate::User;

/// A request's CEL variables (`method`, `path`, and `user`/`claims` once a condition asks for
/// them), converted to CEL values: the costly part of evaluating a condition, so a rule list
/// does it at most once per request for all its conditions.
///
/// The values are built straight from the request's JSON claims as cel's own `Val`s, borrowing
/// every string ('v: the request): `add_variable_from_value` would take a `cel::Value` and
/// convert it once more, deep-copying maps and lists, several times slower on a typical user's
/// claims (see BENCHMARKS.md).
pub(super) struct CelVars<'v> {
    context: cel::Context<'v, 'v>,
    user: bool,
    claims: bool,
}

impl<'v> CelVars<'v> {
    /// The context with `method`, `path` and `permission`, and `user`/`claims` when asked for: built on
    /// first use, extended as later conditions need more.
    pub(super) fn ensure<'c>(
        vars: &'c mut Option<CelVars<'v>>,
        ctx: &RuleContext<'v>,
        user: bool,
        claims: bool,
    ) -> &'c cel::Context<'v, 'v> {
        let v = vars.get_or_insert_with(|| {
            let mut context = cel::Context::with_env(cel_env());
            context.add_variable_as_val("method", Box::new(CelString::from(ctx.method.as_str())));
            context.add_variable_as_val("path", Box::new(CelString::from(ctx.path)));
            context.add_variable_as_val("permission", Box::new(CelString::from(ctx.permission)));
            CelVars {
                context,
                user: false,
                claims: false,
            }
        });
        if user && !v.user {
            v.context.add_variable_as_val("user", user_to_val(ctx.user));
            v.user = true;
        }
        if claims && !v.claims {
            v.context
                .add_variable_as_val("claims", json_map_to_val(&ctx.user.claims));
            v.claims = true;
        }
        &v.context
    }
}

/// The user as CEL sees it: `{id, provider, claims}` (as [`User::to_json`]).
fn user_to_val(user: &User) -> Box<dyn Val + '_> {
    let mut map: HashMap<CelMapKey<'_>, Box<dyn Val + '_>> = HashMap::with_capacity(3);
    map.insert("id".into(), Box::new(CelString::from(user.id.as_str())));
    map.insert(
        "provider".into(),
        Box::new(CelString::from(&*user.provider)),
    );
    map.insert("claims".into(), json_map_to_val(&user.claims));
    Box::new(CelMap::from(map))
}

/// Converts JSON to a CEL value; integers that fit `i64` become CEL `int` so that
/// `claims.level == 3` compares like with like.
fn json_to_val(v: &Json) -> Box<dyn Val + '_> {
    match v {
        Json::Null => Box::new(CelNull),
        Json::Bool(b) => Box::new(CelBool::from(*b)),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Box::new(CelInt::from(i))
            } else if let Some(u) = n.as_u64() {
                Box::new(CelUInt::from(u))
            } else {
                Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN)))
            }
        }
        Json::String(s) => Box::new(CelString::from(s.as_str())),
        Json::Array(items) => Box::new(CelList::from(
            items.iter().map(json_to_val).collect::<Vec<_>>(),
        )),
        Json::Object(map) => json_map_to_val(map),
    }
}

fn json_map_to_val(map: &serde_json::Map<String, Json>) -> Box<dyn Val + '_> {
    let entries: HashMap<CelMapKey<'_>, Box<dyn Val + '_>> = map
        .iter()
        .map(|(k, v)| (CelMapKey::from(k.as_str()), json_to_val(v)))
        .collect();
    Box::new(CelMap::from(entries))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use http::Method;
    use serde_json::json;
    use std::sync::Arc;

    /// The variables as cel builds them from `cel::Value`s (`add_variable_from_value`): the
    /// conversion `CelVars` used before it built cel's values directly.
    fn reference_context<'v>(c: &RuleContext<'v>) -> cel::Context<'v, 'v> {
        fn value(v: &Json) -> cel::Value {
            match v {
                Json::Null => cel::Value::Null,
                Json::Bool(b) => cel::Value::Bool(*b),
                Json::Number(n) => match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => cel::Value::Int(i),
                    (None, Some(u)) => cel::Value::UInt(u),
                    _ => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                Json::String(s) => cel::Value::from(s.clone()),
                Json::Array(items) => cel::Value::List(Arc::new(items.iter().map(value).collect())),
                Json::Object(map) => cel::Value::from(
                    map.iter()
                        .map(|(k, v)| (k.clone(), value(v)))
                        .collect::<HashMap<String, cel::Value>>(),
                ),
            }
        }
        let mut context = cel::Context::with_env(cel_env());
        context.add_variable_from_value("method", c.method.as_str().to_owned());
        context.add_variable_from_value("path", c.path.to_owned());
        context.add_variable_from_value("permission", c.permission.to_owned());
        context.add_variable_from_value("user", value(&c.user.to_json()));
        context.add_variable_from_value("claims", value(&Json::Object((*c.user.claims).clone())));
        context
    }

    #[test]
    fn cel_values_built_directly_evaluate_as_cel_would_build_them() {
        let users = [
            user(
                "u1",
                json!({
                    "sub": "u1", "role": "admin", "roles": ["admin", "dev"], "level": 3,
                    "big": 18446744073709551615u64, "neg": -2, "f": 1.5, "ok": true, "none": null,
                    "org": {"id": "acme", "tier": 2, "tags": ["a", {"k": "v"}]}, "empty": {},
                    "list": [], "nested": [[1, 2], [3]], "unicode": "ünï",
                }),
            ),
            user("", json!({"roles": [], "org": "plain"})),
        ];
        let sources = [
            "'admin' in claims.roles",
            "claims.role == 'admin' && method == 'GET'",
            "claims.level == 3 && claims.level < 4u + 0u == false",
            "claims.big == 18446744073709551615u",
            "claims.neg < 0 && claims.f > 1.0 && claims.ok",
            "claims.none == null",
            "claims.org.id == 'acme' && claims.org.tags[1].k == 'v'",
            "has(claims.org.tier) && !has(claims.org.missing)",
            "size(claims) > 3 && size(claims.roles) == 2 && size(claims.empty) == 0",
            "claims.roles.exists(r, r == 'dev') && claims.roles.all(r, r.size() > 2)",
            "claims.roles.map(r, r + '!')[0] == 'admin!'",
            "claims.nested[0][1] == 2 && 3 in claims.nested[1]",
            "'tier' in claims.org && !('x' in claims.org)",
            "claims.exists(k, k == 'unicode') && claims.unicode.size() == 3",
            "claims.org == {'id': 'acme', 'tier': 2, 'tags': ['a', {'k': 'v'}]}",
            "claims.roles == ['admin', 'dev'] && claims.list == []",
            "type(claims) == map && type(claims.roles) == list && type(claims.level) == int",
            "type(claims.big) == uint && type(claims.f) == double && type(claims.role) == string",
            "user.id == 'u1' && user.provider == 'test' && user.claims.sub == 'u1'",
            "user.claims == claims",
            "user == {'id': user.id, 'provider': 'test', 'claims': claims}",
            "path.startsWith('/api/') && path.endsWith('/x') && method in ['GET', 'POST']",
            "claims.org.startsWith('pl')",
            "claims.missing == 1",
            "claims.role > 5",
            "claims.roles[7] == 'x'",
        ];
        let mut outcomes = std::collections::BTreeSet::new();
        for u in &users {
            for (path, method) in [("/api/a/x", Method::GET), ("/other", Method::DELETE)] {
                let c = ctx(path, &method, u);
                let reference = reference_context(&c);
                for src in sources {
                    let program = cel_env().compile(src).unwrap();
                    let expected = program.execute(&reference);
                    let mut vars = None;
                    let context = CelVars::ensure(&mut vars, &c, true, true);
                    let got = program.execute(context);
                    assert_eq!(
                        format!("{got:?}"),
                        format!("{expected:?}"),
                        "{src} for {:?} on {method} {path}",
                        u.id
                    );
                    outcomes.insert(format!("{:?}", got.map_err(|_| "error")));
                }
            }
        }
        // Both verdicts and errors occur: the expressions exercise every path.
        assert!(outcomes.contains("Ok(Bool(true))"), "{outcomes:?}");
        assert!(outcomes.contains("Ok(Bool(false))"), "{outcomes:?}");
        assert!(outcomes.contains("Err(\"error\")"), "{outcomes:?}");
    }
}
