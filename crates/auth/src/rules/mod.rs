//! Ordered authorization rules: the first rule whose path, methods and condition all match
//! decides with its `allow`; no matching rule denies.
//!
//! Unlike Mastra, `allow: false` denies and a condition-bearing rule decides with its `allow`
//! like any other. Conditions are Rust closures ([`Condition::new`]) or CEL expressions
//! ([`Condition::cel`]) over `user` (`{id, provider, claims}`), `claims`, `method` and `path`,
//! e.g. `"admin" in claims.roles`. `method` is the request method exactly as received: methods
//! are case-sensitive (RFC 9110), so `get` is not `GET`. `path` is the decoded, normalized path
//! ([`crate::normalize`]). A rule's `path` patterns match it exactly (case-sensitively, a
//! trailing slash only where written) on an `allow = true` rule, which exempts, and broadly
//! (any case, one optional trailing slash) on an `allow = false` rule, which protects.
//!
//! A CEL condition is checked when it is built, from its syntax tree alone (cel 0.15 has no type
//! checker): refused are an identifier that is none of the four variables, a comprehension
//! macro's own variable (`exists(r, ...)`) or a CEL type name (`int`, `map`, ...); a function or
//! method that does not exist; a field of `user` other than `id`, `provider` and `claims`; an
//! operator, function or field selection whose operands all have known types (literals,
//! `method`, `path`, `user.id`, `user.provider`, `user`, `claims`, and what cel computes from
//! them) and that cel would refuse for those types (`path + 1`, `method > 3`, `path.foo`);
//! `==`/`!=` between known types that are never equal (`method == 1`); `&&`, `||`, `!` or a
//! `? :` condition on a known non-bool; and a condition whose result is known not to be a bool
//! (a literal string, number, list or map, arithmetic at the top). Claims have no known type: an
//! expression on `claims.x` is only checked for unknown names and functions.
//!
//! At request time a CEL condition that fails to evaluate (a missing claim, a type error) or
//! yields a non-boolean never turns a deny into an allow: on an `allow = true` rule it counts as
//! false (the rule does not apply; the next rule is tried), on an `allow = false` rule as true
//! (the rule applies: the request is denied). Each such failure is logged at WARN with the rule's
//! index, the condition and a description that holds no claim value. Closures return a bool and
//! are unaffected.

use http::Method;

use crate::User;
use crate::pattern::PatternError;

#[cfg(feature = "cel")]
mod cel;
mod cel_error;
#[cfg(feature = "cel")]
mod cel_vars;
#[cfg(not(feature = "cel"))]
mod cel_vars {
    /// Without CEL, a request has no CEL variables to build.
    pub(super) struct CelVars<'v>(std::marker::PhantomData<&'v ()>);
}
/// The static check of a CEL condition: what can be told from the syntax tree and the four
/// variables' types, with cel itself deciding which overloads exist (see the module docs).
#[cfg(feature = "cel")]
mod check;
mod condition;
mod config;
/// Which claims a CEL condition reads unguarded (see [`Condition::unguarded_claims`]).
///
/// A read of `claims.k` (or `user.claims.k`, `claims['k']`, deeper paths alike) is guarded when
/// the expression cannot fail on it for a user without `k`: inside `a && b`, a read in one side
/// is guarded by a `has(claims.k)` or `'k' in claims` that must hold for the other side to be
/// true (cel evaluates `error && false` to false, `error || true` to true); inside `c ? t : f`,
/// `t` by what `c` true implies and `f` by what `c` false implies.
#[cfg(feature = "cel")]
mod guards;
mod lint;
mod list;
mod rule;
#[cfg(test)]
#[cfg_attr(not(feature = "cel"), allow(dead_code))]
mod test_support;

pub use cel_error::ConditionError;
pub use condition::Condition;
pub use config::{PathConfig, PathEntryConfig, RuleConfig};
pub use lint::{deny_rules_on_missing_claims, shadowed};
pub use list::Rules;
pub use rule::Rule;

/// What a rule condition sees about the request.
#[derive(Clone, Copy, Debug)]
pub struct RuleContext<'a> {
    /// The request path (the one the router matched).
    pub path: &'a str,
    /// The request method.
    pub method: &'a Method,
    /// The authenticated user.
    pub user: &'a User,
    /// The permission the route needs (`agents:execute`; see [`crate::permission`]), or `""`
    /// when it has none.
    pub permission: &'a str,
}

/// Why a rule or condition could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// A CEL condition does not compile.
    #[error("invalid CEL condition `{source_text}`: {message}")]
    Cel {
        /// The condition as written.
        source_text: String,
        /// The parser's explanation.
        message: String,
    },
    /// A CEL condition names a variable that does not exist, so it could never evaluate.
    #[error(
        "CEL condition `{source_text}`: unknown variable `{name}`; the variables are user, claims, method, path and permission"
    )]
    UnknownVariable {
        /// The condition as written.
        source_text: String,
        /// The unknown identifier.
        name: String,
    },
    /// A CEL condition can never yield a verdict, or applies an operation to operands of types
    /// it never accepts (see the module docs for what is checked).
    #[error("CEL condition `{source_text}` is ill-typed: {message}")]
    CelType {
        /// The condition as written.
        source_text: String,
        /// What is wrong with it.
        message: String,
    },
    /// A CEL condition in a build of this crate without its `cel` feature.
    #[error(
        "CEL condition `{source_text}`: this build has no CEL support (mastra-auth's `cel` feature is off)"
    )]
    CelUnavailable {
        /// The condition as written.
        source_text: String,
    },
    /// A field of a rule from the config file is invalid.
    #[error("rule field `{field}`: {source}")]
    Field {
        /// The field name (`path`, `methods`).
        field: &'static str,
        /// What is wrong with it.
        #[source]
        source: PatternError,
    },
    /// A rule's `path` is an empty list (omit `path` to match every path).
    #[error("rule field `path`: empty list; omit `path` to match every path")]
    EmptyPathList,
    /// A rule's `permission` is an empty list (omit it to match every route).
    #[error("rule field `permission`: empty list; omit `permission` to match every route")]
    EmptyPermissionList,
    /// A rule's `permission` is not `resource:action[:id]`.
    #[error("rule field `permission`: {0}")]
    Permission(crate::permission::PermissionError),
    /// A rule in a list is invalid; `index` counts from 0.
    #[error("rules[{index}]: {source}")]
    At {
        /// Position of the rule in its list.
        index: usize,
        /// What is wrong with it.
        #[source]
        source: Box<RuleError>,
    },
}
