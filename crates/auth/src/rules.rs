//! Ordered authorization rules: the first rule whose path, methods and condition all match
//! decides with its `allow`; no matching rule denies.
//!
//! Unlike Mastra, `allow: false` denies and a condition-bearing rule decides with its `allow`
//! like any other. Conditions are Rust closures ([`Condition::new`]) or CEL expressions
//! ([`Condition::cel`]) over `user` (`{id, provider, claims}`), `claims`, `method` (upper case)
//! and `path`, e.g. `"admin" in claims.roles`. A condition that fails to evaluate (a missing
//! claim, a type error) or yields a non-boolean counts as false.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, OnceLock};

use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
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

    /// Compiles a CEL expression over `user`, `claims`, `method` and `path`.
    pub fn cel(source: &str) -> Result<Condition, RuleError> {
        let program = cel_env().compile(source).map_err(|e| RuleError::Cel {
            source_text: source.to_owned(),
            message: e.to_string(),
        })?;
        let refs = program.references();
        let (uses_user, uses_claims) = (refs.has_variable("user"), refs.has_variable("claims"));
        Ok(Condition(ConditionKind::Cel(Arc::new(CelCondition {
            source: source.to_owned(),
            program,
            uses_user,
            uses_claims,
        }))))
    }

    /// Evaluates the condition; CEL errors and non-boolean results are false.
    pub fn evaluate(&self, ctx: &RuleContext<'_>) -> bool {
        match &self.0 {
            ConditionKind::Closure(f) => f(ctx),
            ConditionKind::Cel(c) => c.evaluate(ctx),
        }
    }

    /// The CEL source, when this is a CEL condition.
    pub fn cel_source(&self) -> Option<&str> {
        match &self.0 {
            ConditionKind::Closure(_) => None,
            ConditionKind::Cel(c) => Some(&c.source),
        }
    }
}

impl CelCondition {
    fn evaluate(&self, ctx: &RuleContext<'_>) -> bool {
        self.evaluate_in(&mut None, ctx)
    }

    fn evaluate_in<'v>(&self, vars: &mut Option<CelVars<'v>>, ctx: &RuleContext<'v>) -> bool {
        let vars = CelVars::ensure(vars, ctx, self.uses_user, self.uses_claims);
        matches!(self.program.execute(vars), Ok(cel::Value::Bool(true)))
    }
}

/// A request's CEL variables (`method`, `path`, and `user`/`claims` once a condition asks for
/// them), converted to CEL values: the costly part of evaluating a condition, so a rule list
/// does it at most once per request for all its conditions.
///
/// The values are built straight from the request's JSON claims as cel's own `Val`s, borrowing
/// every string ('v: the request): `add_variable_from_value` would take a `cel::Value` and
/// convert it once more, deep-copying maps and lists (one condition on a typical user: 4.1 µs
/// that way, 0.97 µs this way; BENCHMARKS.md).
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
            context.add_variable_as_val(
                "method",
                Box::new(CelString::from(ctx.method.as_str().to_ascii_uppercase())),
            );
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

    /// Whether path, methods and condition all match this request.
    pub fn matches(&self, ctx: &RuleContext<'_>) -> bool {
        self.matches_with(ctx, &mut None)
    }

    /// [`Rule::matches`], with the request's CEL variables built at most once across calls.
    fn matches_with<'v>(&self, ctx: &RuleContext<'v>, vars: &mut Option<CelVars<'v>>) -> bool {
        if let Some(paths) = &self.path
            && !paths.iter().any(|p| p.matches(ctx.path))
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
            Some(ConditionKind::Cel(c)) => c.evaluate_in(vars, ctx),
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
            .find(|(_, r)| r.matches_with(ctx, &mut vars))
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
                    (Some(a), Some(b)) => covers_paths(a, b),
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

/// Whether every path the matchers `b` match is matched by one of `a`.
fn covers_paths(a: &[PathMatcher], b: &[PathMatcher]) -> bool {
    b.iter()
        .all(|later| a.iter().any(|earlier| covers(earlier, later)))
}

/// Whether `earlier` matches every path `later` matches (certain cases only).
fn covers(earlier: &PathMatcher, later: &PathMatcher) -> bool {
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
        // A static pattern matches itself, case-insensitively, with or without one trailing
        // slash; `earlier` is case-insensitive too.
        let bare = l_src.trim_end_matches('/');
        let bare = if bare.is_empty() { "/" } else { bare };
        return e.matches(bare) && e.matches(&format!("{}/", bare.trim_end_matches('/')));
    }
    // `earlier` = `<static>/*` matches everything below `<static>/`; a later pattern whose text
    // starts with `<static>/` (and has no optional part, which could match `<static>` itself)
    // only matches paths below it.
    match e.as_str().strip_suffix("/*") {
        Some(prefix) if !dynamic(prefix) && !l_src.contains('?') => {
            let prefix = format!("{prefix}/").to_ascii_lowercase();
            l_src.to_ascii_lowercase().starts_with(&prefix)
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

    /// The checkRules fixture of reference §5.1 / §5.3.
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
        // Mastra would grant here; DESIGN §4 says the rule decides with its `allow`.
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
        context.add_variable_from_value("method", c.method.as_str().to_ascii_uppercase());
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

    #[test]
    fn cel_errors_and_non_bool_are_false() {
        let u = user("u", json!({"role": "user", "n": 1}));
        let g = Method::GET;
        assert!(
            !cel(r#""admin" in claims.roles"#, "/", &g, &u),
            "missing claim"
        );
        assert!(!cel("claims.missing == 'x'", "/", &g, &u));
        assert!(!cel("claims.role > 5", "/", &g, &u), "type error");
        assert!(!cel("claims.n / 0 == 1", "/", &g, &u), "division by zero");
        assert!(!cel("claims.role", "/", &g, &u), "non-bool result");
        assert!(!cel("unknown_var == 1", "/", &g, &u), "undeclared variable");
        // `has()` guards make missing claims explicit.
        assert!(!cel(
            "has(claims.roles) && 'admin' in claims.roles",
            "/",
            &g,
            &u
        ));
        assert!(cel("!has(claims.roles)", "/", &g, &u));
        assert!(!cel("[1][5] == 1", "/", &g, &u), "index out of bounds");
        assert!(!cel("int('x') == 1", "/", &g, &u), "bad conversion");
        assert!(!cel(
            "size(claims) > 1 && claims.role.matches('(')",
            "/",
            &g,
            &u
        ));
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
            /* 0 */ Rule::allow().with_pattern("/a/*").unwrap(),
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
            Rule::allow()
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
            /* 0 */ Rule::allow().with_pattern("/api/*").unwrap(),
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
            /* 0 */ Rule::allow().with_pattern("/users/:id").unwrap(),
            /* 1 */ p("/users/me"),
            /* 2 */ p("/users/me/x"),
            /* 3 */ p("/users/:other"),
            /* 4 */ p("/users/*"),
            /* 5 */ Rule::allow().with_pattern("/files/:name.txt").unwrap(),
            /* 6 */ p("/files/a.txt"),
            /* 7 */ p("/files/a.txt.bak"),
        ]);
        // `/users/:other` is the same pattern under another name, but not provably: not reported.
        assert_eq!(shadowed(&rules), vec![(1, 0), (6, 5)]);
    }
}
