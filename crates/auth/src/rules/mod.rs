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

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use cel::ExecutionError;
use cel::common::ast::{CallExpr, EntryExpr, Expr, IdedExpr, ListExpr, LiteralValue, operators};
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt, Kind,
};
use cel::common::value::Val;
use http::Method;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;

use crate::User;
use crate::pattern::{MethodSet, PathMatcher, PatternError, StringOrList};

/// What a rule condition sees about the request.
#[derive(Clone, Copy, Debug)]
pub struct RuleContext<'a> {
    /// The request path (the one the router matched).
    pub path: &'a str,
    /// The request method.
    pub method: &'a Method,
    /// The authenticated user.
    pub user: &'a User,
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
        "CEL condition `{source_text}`: unknown variable `{name}`; the variables are user, claims, method and path"
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

type ClosureFn = dyn Fn(&RuleContext<'_>) -> bool + Send + Sync;

/// A rule condition: a Rust closure or a CEL expression compiled once.
#[derive(Clone)]
pub struct Condition(ConditionKind);

#[derive(Clone)]
enum ConditionKind {
    Closure(Arc<ClosureFn>),
    Cel(Arc<CelCondition>),
}

struct CelCondition {
    source: String,
    program: cel::Program,
    uses_user: bool,
    uses_claims: bool,
    /// The identifiers, field and function names and literal strings of the expression, sorted:
    /// an error's key or name is shown only when it is one of these, since a key computed at
    /// request time may be a claim value.
    names: Box<[String]>,
}

/// Why a CEL condition could not decide a request. The descriptions are built from the
/// expression and from value *types* only, never from values: they are logged, and values are
/// claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConditionError {
    /// A map has no such key (a claim the user lacks, a field of `user` that does not exist).
    #[error("no such key `{0}`")]
    NoSuchKey(String),
    /// A map has no such key, and the key was computed at request time (not shown).
    #[error("no such key (computed at request time, not shown)")]
    NoSuchComputedKey,
    /// A name the environment does not know.
    #[error("undeclared reference `{0}`")]
    Undeclared(String),
    /// An operator or function applied to operand types it does not take.
    #[error("no overload of `{function}` for ({types})")]
    NoOverload {
        /// The operator or function.
        function: String,
        /// The operands' types, comma-separated.
        types: String,
    },
    /// Values of these types cannot be ordered against each other.
    #[error("values of types {0} and {1} cannot be compared")]
    NotComparable(&'static str, &'static str),
    /// A value of an unexpected type.
    #[error("expected {want}, got {got}")]
    UnexpectedType {
        /// The type found.
        got: String,
        /// The type needed.
        want: String,
    },
    /// A value of this type cannot be used where it was (as a map key, an index, a target).
    #[error("a value of type {0} cannot be used there")]
    Unsupported(&'static str),
    /// Division or remainder by zero.
    #[error("division by zero")]
    DivisionByZero,
    /// Integer overflow.
    #[error("integer overflow")]
    Overflow,
    /// A list index out of bounds.
    #[error("index out of bounds")]
    IndexOutOfBounds,
    /// A function failed on its arguments (a bad conversion, an invalid regex).
    #[error("function `{0}` failed")]
    FunctionFailed(String),
    /// The condition evaluated to something other than a bool.
    #[error("the result has type {0}, not bool")]
    NotBool(&'static str),
    /// Any other evaluation error.
    #[error("evaluation error")]
    Other,
}

/// The CEL standard environment, built once and shared by every evaluation.
fn cel_env() -> Arc<cel::Env> {
    static ENV: OnceLock<Arc<cel::Env>> = OnceLock::new();
    ENV.get_or_init(|| Arc::new(cel::Env::stdlib())).clone()
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
    /// never evaluate (see the module docs for what is checked).
    pub fn cel(source: &str) -> Result<Condition, RuleError> {
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
        Ok(Condition(ConditionKind::Cel(Arc::new(CelCondition {
            source: source.to_owned(),
            program,
            uses_user,
            uses_claims,
            names: names.into_boxed_slice(),
        }))))
    }

    /// Evaluates the condition on its own: a CEL error or non-boolean result is logged and
    /// counts as false. A rule reads a failure by its `allow` instead ([`Rule::matches`]).
    pub fn evaluate(&self, ctx: &RuleContext<'_>) -> bool {
        match &self.0 {
            ConditionKind::Closure(f) => f(ctx),
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
            ConditionKind::Cel(c) => c.run(&mut None, ctx),
        }
    }

    /// The CEL source, when this is a CEL condition.
    pub fn cel_source(&self) -> Option<&str> {
        match &self.0 {
            ConditionKind::Closure(_) => None,
            ConditionKind::Cel(c) => Some(&c.source),
        }
    }

    /// The claims a CEL condition reads without a `has()` (or `'k' in claims`) guard, as dotted
    /// paths below `claims` (`banned`, `org.id`): for a user lacking one, evaluation can fail.
    /// Empty for a closure. Syntactic: it follows `&&`, `||`, `!` and `? :`, nothing else.
    pub fn unguarded_claims(&self) -> Vec<String> {
        match &self.0 {
            ConditionKind::Closure(_) => Vec::new(),
            ConditionKind::Cel(c) => guards::unguarded_claims(c.program.expression()),
        }
    }
}

impl CelCondition {
    /// The verdict, or why there is none; cheap when the result is a bool.
    fn run<'v>(
        &self,
        vars: &mut Option<CelVars<'v>>,
        ctx: &RuleContext<'v>,
    ) -> Result<bool, ConditionError> {
        let vars = CelVars::ensure(vars, ctx, self.uses_user, self.uses_claims);
        match self.program.execute(vars) {
            Ok(cel::Value::Bool(b)) => Ok(b),
            Ok(other) => Err(ConditionError::NotBool(value_type(&other))),
            Err(e) => Err(self.describe(&e)),
        }
    }

    /// The error as a description without values: keys and names only when the expression
    /// spells them, types instead of values.
    #[cold]
    fn describe(&self, e: &ExecutionError) -> ConditionError {
        let spelled = |name: &str| {
            self.names
                .binary_search_by(|n| n.as_str().cmp(name))
                .is_ok()
        };
        #[allow(deprecated)]
        match e {
            ExecutionError::NoSuchKey(key) if spelled(key) => {
                ConditionError::NoSuchKey(key.to_string())
            }
            ExecutionError::NoSuchKey(_) => ConditionError::NoSuchComputedKey,
            ExecutionError::UndeclaredReference(name) if spelled(name) => {
                ConditionError::Undeclared(name.to_string())
            }
            ExecutionError::NoSuchOverload(o) => ConditionError::NoOverload {
                function: operator_text(o.function()).to_owned(),
                types: o.argument_types().join(", "),
            },
            ExecutionError::UnsupportedBinaryOperator(op, a, b) => ConditionError::NoOverload {
                function: (*op).to_owned(),
                types: format!("{}, {}", value_type(a), value_type(b)),
            },
            ExecutionError::NotSupportedAsMethod { method, target } if spelled(method) => {
                ConditionError::NoOverload {
                    function: method.clone(),
                    types: value_type(target).to_owned(),
                }
            }
            ExecutionError::ValuesNotComparable(a, b) => {
                ConditionError::NotComparable(value_type(a), value_type(b))
            }
            // Both are type names (or a struct type named in the expression).
            ExecutionError::UnexpectedType { got, want } => ConditionError::UnexpectedType {
                got: got.clone(),
                want: want.clone(),
            },
            ExecutionError::UnsupportedTargetType { target } => {
                ConditionError::Unsupported(value_type(target))
            }
            ExecutionError::UnsupportedKeyType(v)
            | ExecutionError::UnsupportedMapIndex(v)
            | ExecutionError::UnsupportedListIndex(v)
            | ExecutionError::UnsupportedIndex(v, _) => ConditionError::Unsupported(value_type(v)),
            ExecutionError::DivisionByZero(_) | ExecutionError::RemainderByZero(_) => {
                ConditionError::DivisionByZero
            }
            ExecutionError::Overflow(..) => ConditionError::Overflow,
            ExecutionError::IndexOutOfBounds(_) => ConditionError::IndexOutOfBounds,
            // The name is the function's; the message may quote an argument (a claim).
            ExecutionError::FunctionError { function, .. } if spelled(function) => {
                ConditionError::FunctionFailed(function.clone())
            }
            _ => ConditionError::Other,
        }
    }
}

/// Logs a condition that could not decide: `rule` is its rule's index in the list and `allow`
/// that rule's decision, when known. Out of line: the success path never comes here.
#[cold]
#[inline(never)]
fn warn_failed(rule: Option<usize>, allow: Option<bool>, source: &str, error: &ConditionError) {
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

/// A value's CEL type name (never the value).
fn value_type(v: &cel::Value) -> &'static str {
    match v.type_of() {
        cel::objects::ValueType::List => "list",
        cel::objects::ValueType::Map => "map",
        cel::objects::ValueType::Function => "function",
        cel::objects::ValueType::Int => "int",
        cel::objects::ValueType::UInt => "uint",
        cel::objects::ValueType::Float => "double",
        cel::objects::ValueType::String => "string",
        cel::objects::ValueType::Bytes => "bytes",
        cel::objects::ValueType::Bool => "bool",
        cel::objects::ValueType::Duration => "duration",
        cel::objects::ValueType::Timestamp => "timestamp",
        cel::objects::ValueType::Opaque => "opaque value",
        cel::objects::ValueType::Null => "null",
        cel::objects::ValueType::Struct => "struct",
    }
}

/// An operator as written (`+`, `in`) rather than cel's internal name (`_+_`, `@in`).
fn operator_text(name: &str) -> &str {
    match name {
        operators::IN => "in",
        operators::INDEX => "[]",
        operators::OPT_INDEX => "[?]",
        operators::OPT_SELECT => ".?",
        operators::CONDITIONAL => "? :",
        operators::LOGICAL_NOT => "!",
        operators::NEGATE => "-",
        _ => name
            .strip_prefix('_')
            .and_then(|n| n.strip_suffix('_'))
            .unwrap_or(name),
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

/// A request's CEL variables (`method`, `path`, and `user`/`claims` once a condition asks for
/// them), converted to CEL values: the costly part of evaluating a condition, so a rule list
/// does it at most once per request for all its conditions.
///
/// The values are built straight from the request's JSON claims as cel's own `Val`s, borrowing
/// every string ('v: the request): `add_variable_from_value` would take a `cel::Value` and
/// convert it once more, deep-copying maps and lists, several times slower on a typical user's
/// claims (see BENCHMARKS.md).
struct CelVars<'v> {
    context: cel::Context<'v, 'v>,
    user: bool,
    claims: bool,
}

impl<'v> CelVars<'v> {
    fn ensure<'c>(
        vars: &'c mut Option<CelVars<'v>>,
        ctx: &RuleContext<'v>,
        user: bool,
        claims: bool,
    ) -> &'c cel::Context<'v, 'v> {
        let v = vars.get_or_insert_with(|| {
            let mut context = cel::Context::with_env(cel_env());
            context.add_variable_as_val("method", Box::new(CelString::from(ctx.method.as_str())));
            context.add_variable_as_val("path", Box::new(CelString::from(ctx.path)));
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

/// The static check of a CEL condition: what can be told from the syntax tree and the four
/// variables' types, with cel itself deciding which overloads exist (see the module docs).
mod check;

/// Which claims a CEL condition reads unguarded (see [`Condition::unguarded_claims`]).
///
/// A read of `claims.k` (or `user.claims.k`, `claims['k']`, deeper paths alike) is guarded when
/// the expression cannot fail on it for a user without `k`: inside `a && b`, a read in one side
/// is guarded by a `has(claims.k)` or `'k' in claims` that must hold for the other side to be
/// true (cel evaluates `error && false` to false, `error || true` to true); inside `c ? t : f`,
/// `t` by what `c` true implies and `f` by what `c` false implies.
mod guards;

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ConditionKind::Closure(_) => f.write_str("Condition(<closure>)"),
            ConditionKind::Cel(c) => write!(f, "Condition(cel: {:?})", c.source),
        }
    }
}

/// One authorization rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Paths the rule applies to (any matches); `None` for every path.
    pub path: Option<Vec<PathMatcher>>,
    /// Methods the rule applies to; `None` for every method.
    pub methods: Option<MethodSet>,
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

    /// Whether path, methods and condition all match this request. A CEL condition that fails
    /// to evaluate (or yields a non-bool) matches on a deny rule and not on an allow rule, so a
    /// failure never lets a request through that the condition was meant to deny; it is logged.
    pub fn matches(&self, ctx: &RuleContext<'_>) -> bool {
        self.matches_with(ctx, &mut None, None)
    }

    /// [`Rule::matches`], with the request's CEL variables built at most once across calls;
    /// `index` is the rule's position in its list, for the log.
    fn matches_with<'v>(
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
        match self.condition.as_ref().map(|c| &c.0) {
            None => true,
            Some(ConditionKind::Closure(f)) => f(ctx),
            Some(ConditionKind::Cel(c)) => c.run(vars, ctx).unwrap_or_else(|e| {
                warn_failed(index, Some(self.allow), &c.source, &e);
                // Fail closed: a deny rule applies, an allow rule does not.
                !self.allow
            }),
        }
    }
}

/// An ordered list of rules.
#[derive(Clone, Debug, Default)]
pub struct Rules(pub Vec<Rule>);

impl Rules {
    /// The first matching rule decides with its `allow`; no match denies.
    pub fn evaluate(&self, ctx: &RuleContext<'_>) -> bool {
        self.decide(ctx).is_some_and(|(_, allow)| allow)
    }

    /// The index and decision of the first matching rule, if any (for logs and explanations).
    pub fn decide(&self, ctx: &RuleContext<'_>) -> Option<(usize, bool)> {
        let mut vars = None;
        self.0
            .iter()
            .enumerate()
            .find(|(i, r)| r.matches_with(ctx, &mut vars, Some(*i)))
            .map(|(i, r)| (i, r.allow))
    }

    /// Builds rules from config entries; errors say which rule and field is wrong.
    pub fn from_config(configs: Vec<RuleConfig>) -> Result<Rules, RuleError> {
        configs
            .into_iter()
            .enumerate()
            .map(|(index, c)| {
                Rule::try_from(c).map_err(|e| RuleError::At {
                    index,
                    source: Box::new(e),
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Rules)
    }

    /// Appends a rule.
    pub fn push(&mut self, rule: Rule) {
        self.0.push(rule);
    }

    /// The rules in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Rule> {
        self.0.iter()
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no rules.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Rule> for Rules {
    fn from_iter<T: IntoIterator<Item = Rule>>(iter: T) -> Self {
        Rules(iter.into_iter().collect())
    }
}

/// Rules that can never match: `(shadowed_index, by_index)` where an earlier rule without a
/// condition covers every path of the later one (no `path`; the same matcher; a pattern matching
/// the later rule's static path, as `/api/*` or `/api/agents/:id` cover `/api/agents/x`; or a
/// `<static>/*` pattern below which the later pattern lies) and a superset of its methods.
/// Conservative: it reports only certain shadowing.
pub fn shadowed(rules: &Rules) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (j, later) in rules.0.iter().enumerate() {
        let by = rules.0[..j].iter().position(|earlier| {
            earlier.condition.is_none()
                && match (&earlier.path, &later.path) {
                    (None, _) => true,
                    // An allow rule's paths match exactly, a deny rule's broadly.
                    (Some(a), Some(b)) => covers_paths(a, earlier.allow, b, later.allow),
                    (Some(_), None) => false,
                }
                && match (&earlier.methods, &later.methods) {
                    (None, _) => true,
                    (Some(a), Some(b)) => a.is_superset_of(b),
                    (Some(a), None) => *a == MethodSet::All,
                }
        });
        if let Some(i) = by {
            out.push((j, i));
        }
    }
    out
}

/// Deny rules (`allow = false`) whose CEL condition reads a claim without a `has()` guard, as
/// `(rule_index, claim_paths)` ([`Condition::unguarded_claims`]): for a user lacking such a claim
/// the condition can fail to evaluate, and a failing condition makes a deny rule apply.
pub fn deny_rules_on_missing_claims(rules: &Rules) -> Vec<(usize, Vec<String>)> {
    rules
        .0
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.allow)
        .filter_map(|(i, r)| {
            let claims = r.condition.as_ref()?.unguarded_claims();
            (!claims.is_empty()).then_some((i, claims))
        })
        .collect()
}

/// Whether every path the matchers `b` match is matched by one of `a`; `*_exact`: whether the
/// patterns of that side match exactly (an allow rule) or broadly (a deny rule).
fn covers_paths(a: &[PathMatcher], a_exact: bool, b: &[PathMatcher], b_exact: bool) -> bool {
    b.iter().all(|later| {
        a.iter()
            .any(|earlier| covers(earlier, a_exact, later, b_exact))
    })
}

/// Whether `earlier` matches every path `later` matches (certain cases only).
fn covers(earlier: &PathMatcher, e_exact: bool, later: &PathMatcher, l_exact: bool) -> bool {
    // A broad later pattern also matches other cases and a trailing slash, which an exact
    // earlier pattern does not; an exact later one matches a subset of its broad self.
    if e_exact && !l_exact && matches!(later, PathMatcher::Pattern(_)) {
        return false;
    }
    if earlier == later {
        return true;
    }
    let (PathMatcher::Pattern(e), PathMatcher::Pattern(l)) = (earlier, later) else {
        // A regex is case-sensitive and arbitrary: only an identical one is certain.
        return false;
    };
    let dynamic = |s: &str| s.contains([':', '{', '}', '*', '?']);
    let l_src = l.as_str();
    if !dynamic(l_src) {
        if l_exact {
            // An exact static pattern matches exactly its own text.
            return if e_exact {
                e.matches_exact(l_src)
            } else {
                e.matches(l_src)
            };
        }
        // A broad static pattern matches itself in any case, with or without one trailing
        // slash; `earlier` is broad here too (above), so case-insensitive as well.
        let bare = l_src.trim_end_matches('/');
        let bare = if bare.is_empty() { "/" } else { bare };
        return e.matches(bare) && e.matches(&format!("{}/", bare.trim_end_matches('/')));
    }
    // `earlier` = `<static>/*` matches everything below `<static>/`; a later pattern whose text
    // starts with `<static>/` (and has no optional part, which could match `<static>` itself)
    // only matches paths below it.
    match e.as_str().strip_suffix("/*") {
        Some(prefix) if !dynamic(prefix) && !l_src.contains('?') => {
            let prefix = format!("{prefix}/");
            if e_exact {
                l_src.starts_with(&prefix)
            } else {
                l_src
                    .to_ascii_lowercase()
                    .starts_with(&prefix.to_ascii_lowercase())
            }
        }
        _ => false,
    }
}

/// A rule as written in a config file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// A pattern, `{ regex = "..." }`, or a list of them; absent for every path.
    #[serde(default)]
    pub path: Option<PathConfig>,
    /// Method names (or `ALL`); absent for every method.
    #[serde(default, deserialize_with = "de_methods")]
    pub methods: Option<Vec<String>>,
    /// A CEL expression over `user`, `claims`, `method`, `path`.
    #[serde(default)]
    pub condition: Option<String>,
    /// The decision when the rule matches (default true).
    #[serde(default = "default_allow")]
    pub allow: bool,
}

fn default_allow() -> bool {
    true
}

fn de_methods<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    StringOrList::deserialize(d).map(|s| Some(s.into_vec()))
}

/// One path entry of a [`RuleConfig`]: a pattern string or a regex.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathEntryConfig {
    /// A regexparam-style pattern.
    Pattern(String),
    /// A raw regular expression (`{ regex = "..." }`).
    Regex(String),
}

/// The `path` of a [`RuleConfig`]: one entry or a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathConfig(pub Vec<PathEntryConfig>);

impl PathEntryConfig {
    fn compile(&self) -> Result<PathMatcher, PatternError> {
        match self {
            PathEntryConfig::Pattern(p) => PathMatcher::pattern(p),
            PathEntryConfig::Regex(r) => PathMatcher::regex(r),
        }
    }
}

const PATH_EXPECTING: &str =
    "a path pattern string, { regex = \"...\" }, or a list of them, e.g. [\"/api/admin/*\"]";

struct EntryVisitor;

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = PathEntryConfig;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(PATH_EXPECTING)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PathEntryConfig::Pattern(v.to_owned()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut regex: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "regex" if regex.is_none() => regex = Some(map.next_value()?),
                "regex" => return Err(de::Error::duplicate_field("regex")),
                other => return Err(de::Error::unknown_field(other, &["regex"])),
            }
        }
        regex
            .map(PathEntryConfig::Regex)
            .ok_or_else(|| de::Error::missing_field("regex"))
    }
}

impl<'de> Deserialize<'de> for PathEntryConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(EntryVisitor)
    }
}

impl<'de> Deserialize<'de> for PathConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PathConfig;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(PATH_EXPECTING)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                EntryVisitor.visit_str(v).map(|e| PathConfig(vec![e]))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                EntryVisitor.visit_map(map).map(|e| PathConfig(vec![e]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(e) = seq.next_element::<PathEntryConfig>()? {
                    out.push(e);
                }
                Ok(PathConfig(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl TryFrom<RuleConfig> for Rule {
    type Error = RuleError;

    fn try_from(c: RuleConfig) -> Result<Rule, RuleError> {
        let path = match c.path {
            None => None,
            Some(PathConfig(entries)) => {
                if entries.is_empty() {
                    return Err(RuleError::EmptyPathList);
                }
                let compiled = entries
                    .iter()
                    .map(PathEntryConfig::compile)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|source| RuleError::Field {
                        field: "path",
                        source,
                    })?;
                Some(compiled)
            }
        };
        let methods = c
            .methods
            .map(|names| MethodSet::parse(&names))
            .transpose()
            .map_err(|source| RuleError::Field {
                field: "methods",
                source,
            })?;
        let condition = c.condition.as_deref().map(Condition::cel).transpose()?;
        Ok(Rule {
            path,
            methods,
            condition,
            allow: c.allow,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(id: &str, claims: Json) -> User {
        User {
            id: id.to_owned(),
            claims: claims.as_object().cloned().unwrap().into(),
            provider: "test".into(),
        }
    }

    fn ctx<'a>(path: &'a str, method: &'a Method, user: &'a User) -> RuleContext<'a> {
        RuleContext { path, method, user }
    }

    #[test]
    fn a_rule_list_decides_as_its_conditions_one_by_one() {
        // The list shares one set of CEL variables per request, adding `user` and `claims` only
        // when a condition asks; every condition alone must agree with it.
        let sources = [
            "method == 'POST'",
            "path.startsWith('/api/admin')",
            "claims.role == 'admin'",
            "user.id == 'u2'",
            "'writer' in claims.roles && method == 'GET'",
            "user.claims.org == 'acme' || path == '/x'",
            "claims.missing == 1",
        ];
        let users = [
            user(
                "u1",
                json!({"role": "admin", "roles": ["writer"], "org": "acme"}),
            ),
            user("u2", json!({"role": "user", "roles": [], "org": "other"})),
            user("u3", json!({"role": "user", "roles": ["writer"]})),
        ];
        let conditions: Vec<Condition> =
            sources.iter().map(|s| Condition::cel(s).unwrap()).collect();
        let mut firsts = std::collections::BTreeSet::new();
        for rotate in 0..sources.len() {
            let mut order = conditions.clone();
            order.rotate_left(rotate);
            let rules = Rules(
                order
                    .iter()
                    .map(|c| Rule::allow().with_condition(c.clone()))
                    .collect(),
            );
            for u in &users {
                for (path, method) in [("/api/admin/x", Method::GET), ("/x", Method::POST)] {
                    let c = ctx(path, &method, u);
                    let alone = order.iter().position(|cond| cond.evaluate(&c));
                    firsts.insert(alone);
                    assert_eq!(
                        rules.decide(&c).map(|(i, _)| i),
                        alone,
                        "{rotate} {} {path}",
                        u.id
                    );
                }
            }
        }
    }

    fn methods(names: &[&str]) -> MethodSet {
        MethodSet::parse(names).unwrap()
    }

    /// The `checkRules` fixture of Mastra's own auth middleware tests.
    fn mastra_rules() -> Rules {
        Rules(vec![
            Rule::allow()
                .with_pattern("/api/admin/*")
                .unwrap()
                .with_methods(methods(&["GET"]))
                .when(|c| c.user.claim("role") == Some(&json!("admin"))),
            Rule::allow()
                .with_pattern("/api/users/*")
                .unwrap()
                .with_methods(methods(&["GET", "POST"])),
            Rule::allow().with_path(PathMatcher::regex(r"^\/api\/public\/.*").unwrap()),
        ])
    }

    #[test]
    fn check_rules_admin_get_allowed() {
        let admin = user("a", json!({"role": "admin"}));
        assert!(mastra_rules().evaluate(&ctx("/api/admin/settings", &Method::GET, &admin)));
    }

    #[test]
    fn check_rules_user_on_admin_denied() {
        let u = user("u", json!({"role": "user"}));
        assert!(!mastra_rules().evaluate(&ctx("/api/admin/settings", &Method::GET, &u)));
    }

    #[test]
    fn check_rules_users_path_methods() {
        let u = user("u", json!({"role": "user"}));
        let r = mastra_rules();
        assert!(r.evaluate(&ctx("/api/users/123", &Method::GET, &u)));
        assert!(r.evaluate(&ctx("/api/users/123", &Method::POST, &u)));
        assert!(!r.evaluate(&ctx("/api/users/123", &Method::DELETE, &u)));
    }

    #[test]
    fn check_rules_regex_and_no_match() {
        let u = user("u", json!({"role": "user"}));
        let r = mastra_rules();
        assert!(r.evaluate(&ctx("/api/public/file.jpg", &Method::GET, &u)));
        assert!(!r.evaluate(&ctx("/api/other/resource", &Method::GET, &u)));
    }

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
    fn first_match_decides_and_allow_false_denies() {
        let u = user("u", json!({}));
        let rules = Rules(vec![
            Rule::deny().with_pattern("/api/secret/*").unwrap(),
            Rule::allow(),
        ]);
        assert!(!rules.evaluate(&ctx("/api/secret/x", &Method::GET, &u)));
        assert!(rules.evaluate(&ctx("/api/open", &Method::GET, &u)));
        assert_eq!(
            rules.decide(&ctx("/api/secret/x", &Method::GET, &u)),
            Some((0, false))
        );
        assert_eq!(
            rules.decide(&ctx("/api/open", &Method::GET, &u)),
            Some((1, true))
        );
    }

    #[test]
    fn condition_with_allow_false_denies_when_true() {
        // Mastra would grant here; here the first matching rule decides with its `allow`.
        let banned = user("b", json!({"banned": true}));
        let ok = user("o", json!({}));
        let rules = Rules(vec![
            Rule::deny().when(|c| c.user.claim("banned") == Some(&json!(true))),
            Rule::allow(),
        ]);
        assert!(!rules.evaluate(&ctx("/api/x", &Method::GET, &banned)));
        assert!(rules.evaluate(&ctx("/api/x", &Method::GET, &ok)));
    }

    #[test]
    fn condition_false_skips_to_next_rule() {
        let u = user("u", json!({"role": "user"}));
        let rules = Rules(vec![
            Rule::allow().when(|c| c.user.claim("role") == Some(&json!("admin"))),
            Rule::deny().with_pattern("/api/x").unwrap(),
            Rule::allow(),
        ]);
        assert_eq!(
            rules.decide(&ctx("/api/x", &Method::GET, &u)),
            Some((1, false))
        );
        assert_eq!(
            rules.decide(&ctx("/api/y", &Method::GET, &u)),
            Some((2, true))
        );
    }

    #[test]
    fn no_rule_or_no_match_denies() {
        let u = user("u", json!({}));
        assert!(!Rules::default().evaluate(&ctx("/api/x", &Method::GET, &u)));
        let rules = Rules(vec![Rule::allow().with_methods(methods(&["POST"]))]);
        assert!(!rules.evaluate(&ctx("/api/x", &Method::GET, &u)));
        assert_eq!(rules.decide(&ctx("/api/x", &Method::GET, &u)), None);
    }

    #[test]
    fn closure_sees_path_method_user() {
        let u = user("u1", json!({}));
        let rule =
            Rule::allow().when(|c| c.user.id == "u1" && *c.method == Method::PUT && c.path == "/p");
        assert!(rule.matches(&ctx("/p", &Method::PUT, &u)));
        assert!(!rule.matches(&ctx("/p", &Method::GET, &u)));
    }

    fn cel(src: &str, path: &str, method: &Method, u: &User) -> bool {
        Condition::cel(src).unwrap().evaluate(&ctx(path, method, u))
    }

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

    fn try_cel(src: &str, method: &Method, u: &User) -> Result<bool, ConditionError> {
        Condition::cel(src)
            .unwrap()
            .try_evaluate(&ctx("/", method, u))
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
                msg.contains("the variables are user, claims, method and path"),
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
    fn deny_rules_on_missing_claims_lists_deny_rules_only() {
        let cond = |s: &str| Condition::cel(s).unwrap();
        let rules = Rules(vec![
            Rule::allow().with_condition(cond("claims.role == 'admin'")),
            Rule::deny().with_condition(cond("claims.banned == true")),
            Rule::deny().with_condition(cond("has(claims.banned) && claims.banned")),
            Rule::deny().when(|_| true),
            Rule::deny(),
            Rule::deny().with_condition(cond("claims.a || claims.b")),
        ]);
        assert_eq!(
            deny_rules_on_missing_claims(&rules),
            vec![
                (1, vec!["banned".to_owned()]),
                (5, vec!["a".to_owned(), "b".to_owned()])
            ]
        );
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

    // --- config ---

    fn configs(v: Json) -> Vec<RuleConfig> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn rules_from_config() {
        let rules = Rules::from_config(configs(json!([
            {"path": "/api/admin/*", "methods": ["GET"], "condition": "claims.role == 'admin'"},
            {"path": "/api/admin/*", "allow": false},
            {"path": ["/api/users/*", {"regex": "^/api/people/\\d+$"}], "methods": "get"},
            {"path": {"regex": "^/api/public/"}},
            {"methods": ["DELETE"], "allow": false},
        ])))
        .unwrap();
        assert_eq!(rules.len(), 5);
        let admin = user("a", json!({"role": "admin"}));
        let u = user("u", json!({"role": "user"}));
        let g = Method::GET;
        assert!(rules.evaluate(&ctx("/api/admin/x", &g, &admin)));
        assert!(!rules.evaluate(&ctx("/api/admin/x", &g, &u)));
        assert!(rules.evaluate(&ctx("/api/users/1", &g, &u)));
        assert!(rules.evaluate(&ctx("/api/people/7", &g, &u)));
        assert!(!rules.evaluate(&ctx("/api/people/x", &g, &u)));
        assert!(rules.evaluate(&ctx("/api/public/a", &Method::DELETE, &u)));
        assert!(!rules.evaluate(&ctx("/api/other", &Method::DELETE, &u)));
        assert!(!rules.evaluate(&ctx("/api/other", &g, &u)));
    }

    #[test]
    fn rule_config_defaults() {
        let c: RuleConfig = serde_json::from_value(json!({})).unwrap();
        assert_eq!(
            c,
            RuleConfig {
                path: None,
                methods: None,
                condition: None,
                allow: true
            }
        );
        let r = Rule::try_from(c).unwrap();
        assert!(r.path.is_none() && r.methods.is_none() && r.condition.is_none() && r.allow);
    }

    #[test]
    fn rule_config_errors_name_the_field() {
        let e = serde_json::from_value::<RuleConfig>(json!({"paths": "/x"})).unwrap_err();
        assert!(e.to_string().contains("unknown field `paths`"), "{e}");
        let e = serde_json::from_value::<RuleConfig>(json!({"path": 5})).unwrap_err();
        assert!(e.to_string().contains("path pattern string"), "{e}");
        let e = serde_json::from_value::<RuleConfig>(json!({"path": {"regx": "x"}})).unwrap_err();
        assert!(e.to_string().contains("unknown field `regx`"), "{e}");
        let e = serde_json::from_value::<RuleConfig>(json!({"allow": "yes"})).unwrap_err();
        assert!(e.to_string().contains("bool"), "{e}");

        let e = Rules::from_config(configs(json!([{}, {"path": "api/x"}]))).unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("rules[1]: rule field `path`:"), "{msg}");
        assert!(msg.contains("`api/x`"), "{msg}");
        let e = Rule::try_from(configs(json!([{"path": {"regex": "("}}])).remove(0)).unwrap_err();
        assert!(
            e.to_string()
                .contains("rule field `path`: invalid regex `(`"),
            "{e}"
        );
        let e = Rule::try_from(configs(json!([{"path": []}])).remove(0)).unwrap_err();
        assert_eq!(e, RuleError::EmptyPathList);
        assert!(
            e.to_string().contains("rule field `path`: empty list"),
            "{e}"
        );
        let e =
            Rule::try_from(configs(json!([{"methods": ["GET", "GRAB"]}])).remove(0)).unwrap_err();
        assert!(
            e.to_string()
                .contains("rule field `methods`: unknown HTTP method `GRAB`"),
            "{e}"
        );
        let e = Rule::try_from(configs(json!([{"condition": "claims.("}])).remove(0)).unwrap_err();
        assert!(
            e.to_string().contains("invalid CEL condition `claims.(`"),
            "{e}"
        );
    }

    // --- shadowing lint ---

    #[test]
    fn shadowed_rules() {
        let cond = || Condition::new(|_| true);
        let rules = Rules(vec![
            /* 0 */ Rule::deny().with_pattern("/a/*").unwrap(),
            /* 1 */
            Rule::deny()
                .with_pattern("/a/*")
                .unwrap()
                .with_methods(methods(&["GET"])),
            /* 2 */
            Rule::allow()
                .with_pattern("/b")
                .unwrap()
                .with_condition(cond()),
            /* 3 */ Rule::deny().with_pattern("/b").unwrap(),
            /* 4 */ Rule::allow().with_methods(methods(&["GET", "POST"])),
            /* 5 */
            Rule::deny()
                .with_pattern("/c")
                .unwrap()
                .with_methods(methods(&["POST"])),
            /* 6 */
            Rule::deny()
                .with_pattern("/c")
                .unwrap()
                .with_methods(methods(&["PUT"])),
            /* 7 */ Rule::allow(),
            /* 8 */ Rule::deny().with_pattern("/d").unwrap(),
        ]);
        assert_eq!(shadowed(&rules), vec![(1, 0), (5, 4), (8, 7)]);
    }

    #[test]
    fn shadowing_needs_identical_paths_and_method_superset() {
        let rules = Rules(vec![
            Rule::deny()
                .with_pattern("/x")
                .unwrap()
                .with_pattern("/y")
                .unwrap()
                .with_methods(methods(&["GET", "POST"])),
            Rule::deny()
                .with_pattern("/y")
                .unwrap()
                .with_pattern("/x")
                .unwrap()
                .with_methods(methods(&["GET"])),
            Rule::deny().with_pattern("/x").unwrap(),
            Rule::deny()
                .with_pattern("/x")
                .unwrap()
                .with_pattern("/y")
                .unwrap(),
            Rule::deny().with_methods(methods(&["ALL"])),
            Rule::deny(),
        ]);
        assert_eq!(shadowed(&rules), vec![(1, 0), (5, 4)]);
    }

    #[test]
    fn broader_patterns_shadow_narrower_ones() {
        let p = |pattern: &str| Rule::deny().with_pattern(pattern).unwrap();
        let rules = Rules(vec![
            /* 0 */ p("/api/*"),
            /* 1 */ p("/api/agents"),
            /* 2 */ p("/API/Agents/"),
            /* 3 */ p("/api/agents/:id"),
            /* 4 */ p("/api/agents/*"),
            /* 5 */ p("/api"),
            /* 6 */ p("/api/:id?"),
            /* 7 */ p("/apix/y"),
            /* 8 */ Rule::deny().with_path(PathMatcher::regex("^/api/x$").unwrap()),
        ]);
        assert_eq!(shadowed(&rules), vec![(1, 0), (2, 0), (3, 0), (4, 0)]);
        let rules = Rules(vec![
            /* 0 */ p("/users/:id"),
            /* 1 */ p("/users/me"),
            /* 2 */ p("/users/me/x"),
            /* 3 */ p("/users/:other"),
            /* 4 */ p("/users/*"),
            /* 5 */ p("/files/:name.txt"),
            /* 6 */ p("/files/a.txt"),
            /* 7 */ p("/files/a.txt.bak"),
        ]);
        // `/users/:other` is the same pattern under another name, but not provably: not reported.
        assert_eq!(shadowed(&rules), vec![(1, 0), (6, 5)]);
    }

    #[test]
    fn an_exact_allow_rule_shadows_only_exact_allow_rules() {
        let allow = |pattern: &str| Rule::allow().with_pattern(pattern).unwrap();
        let deny = |pattern: &str| Rule::deny().with_pattern(pattern).unwrap();
        // A later deny rule still matches `/API/agents` and `/api/agents/`.
        let rules = Rules(vec![
            allow("/api/*"),
            deny("/api/agents"),
            deny("/api/agents/:id"),
        ]);
        assert_eq!(shadowed(&rules), vec![]);
        // A later allow rule matches only what an earlier exact pattern covers exactly.
        let rules = Rules(vec![
            /* 0 */ allow("/api/*"),
            /* 1 */ allow("/api/agents"),
            /* 2 */ allow("/api/agents/:id"),
            /* 3 */ allow("/API/agents"),
            /* 4 */ allow("/Api/x/:id"),
        ]);
        assert_eq!(shadowed(&rules), vec![(1, 0), (2, 0)]);
        // A broad deny rule covers a later allow rule in any case.
        let rules = Rules(vec![
            deny("/api/*"),
            allow("/API/agents"),
            allow("/Api/x/:id"),
        ]);
        assert_eq!(shadowed(&rules), vec![(1, 0), (2, 0)]);
    }
}
