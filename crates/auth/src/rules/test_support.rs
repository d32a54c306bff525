//! What the unit tests of the rule modules share: users, request contexts, method sets and
//! one-line CEL evaluation.

use http::Method;
use serde_json::Value as Json;

use super::{Condition, ConditionError, RuleContext};
use crate::User;
use crate::pattern::MethodSet;

/// A user `id` with these claims (a JSON object), from provider `test`.
pub(super) fn user(id: &str, claims: Json) -> User {
    User {
        id: id.to_owned(),
        claims: claims.as_object().cloned().unwrap().into(),
        provider: "test".into(),
    }
}

/// The context of a request to `path` with `method` by `user`.
pub(super) fn ctx<'a>(path: &'a str, method: &'a Method, user: &'a User) -> RuleContext<'a> {
    RuleContext {
        path,
        method,
        user,
        permission: "",
    }
}

/// A method set from names that parse.
pub(super) fn methods(names: &[&str]) -> MethodSet {
    MethodSet::parse(names).unwrap()
}

/// A CEL condition that compiles, evaluated alone on `method path` by `u`.
pub(super) fn cel(src: &str, path: &str, method: &Method, u: &User) -> bool {
    Condition::cel(src).unwrap().evaluate(&ctx(path, method, u))
}

/// A CEL condition that compiles, evaluated on `method /` by `u`, failures returned.
pub(super) fn try_cel(src: &str, method: &Method, u: &User) -> Result<bool, ConditionError> {
    Condition::cel(src)
        .unwrap()
        .try_evaluate(&ctx("/", method, u))
}
