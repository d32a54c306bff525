//! Path patterns, method sets and the pattern lists used for public and protected paths.
//!
//! The grammar follows Mastra's (regexparam v3), compiled once into a [`regex::Regex`]:
//!
//! - the pattern is split on `/`; a static segment matches itself literally (regex
//!   metacharacters such as `.` are escaped, unlike regexparam);
//! - `*` matches the rest: zero or more characters, slashes included, after a `/`, so `/api/*`
//!   matches `/api/` and `/api/a/b` but not `/api`; `*?` makes that part optional (`/api/*?`
//!   also matches `/api`); `{*name}` (axum's catch-all) is a synonym of `*`; a static prefix
//!   may precede a final `*` in a segment (`/assets/app-*`);
//! - `:name` or `{name}` matches one non-empty segment; `:name?` or `{name?}` an optional one;
//!   `:name.ext` (or `{name}.ext`) a segment ending in `.ext`, `:name.(a|b)` one ending in `.a`
//!   or `.b`;
//! - matching is anchored, case-insensitive, and allows one trailing slash
//!   ([`PathPattern::matches`], for protections); exemptions use
//!   [`PathPattern::matches_exact`]: case-sensitive, a trailing slash only where written, as the
//!   router matches. Paths are the decoded paths of [`crate::normalize`].
//!
//! A [`RoutePattern`] adds a [`MethodSet`]; a path may also be given as a raw regular expression
//! ([`PathMatcher::Regex`]), which is unanchored unless it anchors itself and case-sensitive as
//! written.

use std::fmt;

use http::Method;
use regex::Regex;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// What is wrong with a path pattern, a regex entry or a method list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The pattern string is empty.
    #[error("empty path pattern: a pattern must start with `/`, e.g. `/api/*`")]
    Empty,
    /// The pattern does not start with `/`.
    #[error("path pattern `{0}` must start with `/` (e.g. `/{0}`)")]
    NoLeadingSlash(String),
    /// The pattern has `//` somewhere other than the end.
    #[error("path pattern `{0}` has an empty segment (`//`); remove the extra `/`")]
    EmptySegment(String),
    /// A parameter (`:name`, `{name}`) has no name.
    #[error(
        "path pattern `{pattern}`: parameter `{segment}` has no name (write e.g. `:id` or `{{id}}`)"
    )]
    EmptyParamName {
        /// The whole pattern.
        pattern: String,
        /// The offending segment.
        segment: String,
    },
    /// A segment is malformed (misplaced `*`, unbalanced braces, bad suffix, ...).
    #[error("path pattern `{pattern}`: segment `{segment}` {reason}")]
    BadSegment {
        /// The whole pattern.
        pattern: String,
        /// The offending segment.
        segment: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A pattern or regex entry does not compile as a regular expression.
    #[error("invalid regex `{pattern}`: {message}")]
    InvalidRegex {
        /// The regex (or the pattern it was compiled from).
        pattern: String,
        /// The regex engine's explanation.
        message: String,
    },
    /// A method name is not one of the supported ones.
    #[error(
        "unknown HTTP method `{0}`: expected GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ALL"
    )]
    UnknownMethod(String),
    /// A method list is empty.
    #[error("empty method list: name at least one method, or ALL for any method")]
    EmptyMethods,
}

/// A compiled regexparam-style path pattern such as `/api/agents/:id` or `/api/*`.
#[derive(Clone)]
pub struct PathPattern {
    source: String,
    regex: Regex,
    /// Case-sensitive, no extra trailing slash: how the router matches (see
    /// [`PathPattern::matches_exact`]).
    exact: Regex,
    /// The same decision without the regex, for the common shapes (see [`Literal`]).
    literal: Option<Literal>,
}

/// A pattern of static segments only, optionally ending in a whole `*` segment (`/api`,
/// `/api/*`, `/health`): the shapes of the default and most configured lists. Its regex is
/// `(?i)^{prefix}(/.*)?/?$`; for an ASCII path, case-insensitive ASCII comparison decides exactly
/// as the regex does (no ASCII letter has a non-ASCII case partner that an ASCII path could
/// contain), so [`PathPattern::matches`] skips the regex engine. Other paths use the regex.
#[derive(Clone, Debug)]
struct Literal {
    /// `/seg/seg`, without a trailing slash; empty for `/` and `/*`.
    prefix: String,
    /// Ends in `/*`.
    star: bool,
    /// Written with a trailing slash (`/api/`): exact matching then requires it.
    trailing_slash: bool,
}

impl Literal {
    fn from_pattern(pattern: &str) -> Option<Literal> {
        let rest = pattern.strip_prefix('/')?;
        let trailing_slash = !rest.is_empty() && rest.ends_with('/');
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (rest, star) = match rest.strip_suffix('*') {
            Some(r) if r.is_empty() => (r, true),
            Some(r) => (r.strip_suffix('/')?, true),
            None => (rest, false),
        };
        let plain = |seg: &str| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'))
        };
        if !rest.is_empty() && !rest.split('/').all(plain) {
            return None;
        }
        let prefix = if rest.is_empty() {
            String::new()
        } else {
            format!("/{rest}")
        };
        Some(Literal {
            prefix,
            star,
            trailing_slash,
        })
    }

    /// The regex's decision for an ASCII `path`.
    fn matches_ascii(&self, path: &str) -> bool {
        let p = self.prefix.len();
        let head_matches =
            path.len() >= p && path.as_bytes()[..p].eq_ignore_ascii_case(self.prefix.as_bytes());
        if !head_matches {
            return false;
        }
        let tail = &path[p..];
        if self.star {
            // `/.*` then `/?`: a slash, then anything but a newline (`.` excludes it).
            tail.starts_with('/') && !tail.contains('\n')
        } else {
            tail.is_empty() || tail == "/"
        }
    }

    /// The exact regex's decision for an ASCII `path`.
    fn matches_exact_ascii(&self, path: &str) -> bool {
        let Some(tail) = path.strip_prefix(self.prefix.as_str()) else {
            return false;
        };
        if self.star {
            tail.starts_with('/') && !tail.contains('\n')
        } else if self.trailing_slash || self.prefix.is_empty() {
            tail == "/"
        } else {
            tail.is_empty()
        }
    }
}

impl PathPattern {
    /// Compiles a pattern; see the module documentation for the grammar.
    pub fn parse(pattern: &str) -> Result<PathPattern, PatternError> {
        let body = compile_pattern(pattern)?;
        let full = format!("(?i)^{body}/?$");
        let compile = |re: &str| {
            Regex::new(re).map_err(|e| PatternError::InvalidRegex {
                pattern: pattern.to_owned(),
                message: e.to_string(),
            })
        };
        let regex = compile(&full)?;
        // `/` and `/*` compile to an empty body and `/.*`; a written trailing slash is kept.
        let slash = if body.is_empty() || (pattern.len() > 1 && pattern.ends_with('/')) {
            "/"
        } else {
            ""
        };
        let exact = compile(&format!("^{body}{slash}$"))?;
        Ok(PathPattern {
            source: pattern.to_owned(),
            regex,
            exact,
            literal: Literal::from_pattern(pattern),
        })
    }

    /// Whether `path` (the decoded request path, without query) matches the pattern as Mastra
    /// matches: case-insensitively, with one optional trailing slash. Used for protections, which
    /// may be broader than what the router serves.
    pub fn matches(&self, path: &str) -> bool {
        match &self.literal {
            Some(literal) if path.is_ascii() => literal.matches_ascii(path),
            _ => self.regex.is_match(path),
        }
    }

    /// Whether `path` matches the way the router matches: case-sensitively, and with a trailing
    /// slash only where the pattern has one. Used for exemptions (public paths, allow rules),
    /// which must never be wider than what the router would route there.
    pub fn matches_exact(&self, path: &str) -> bool {
        match &self.literal {
            Some(literal) if path.is_ascii() => literal.matches_exact_ascii(path),
            _ => self.exact.is_match(path),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Debug for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PathPattern").field(&self.source).finish()
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for PathPattern {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for PathPattern {}

impl std::str::FromStr for PathPattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PathPattern::parse(s)
    }
}

/// Translates a pattern into the body of a regex (without anchors and flags).
fn compile_pattern(pattern: &str) -> Result<String, PatternError> {
    if pattern.is_empty() {
        return Err(PatternError::Empty);
    }
    let Some(rest) = pattern.strip_prefix('/') else {
        return Err(PatternError::NoLeadingSlash(pattern.to_owned()));
    };
    // One trailing slash in the pattern is the same as none: matching allows one anyway.
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut out = String::with_capacity(pattern.len() * 2);
    if rest.is_empty() {
        return Ok(out);
    }
    let bad = |segment: &str, reason: &'static str| PatternError::BadSegment {
        pattern: pattern.to_owned(),
        segment: segment.to_owned(),
        reason,
    };
    for segment in rest.split('/') {
        if segment.is_empty() {
            return Err(PatternError::EmptySegment(pattern.to_owned()));
        }
        if let Some(after) = segment.strip_prefix('*') {
            match after {
                "" => out.push_str("/.*"),
                "?" => out.push_str("(?:/.*)?"),
                _ => {
                    return Err(bad(
                        segment,
                        "has characters after `*`; `*` must end a segment",
                    ));
                }
            }
        } else if let Some(param) = segment.strip_prefix(':') {
            let (name_part, ext) = match param.find('.') {
                Some(i) => (&param[..i], Some(&param[i..])),
                None => (param, None),
            };
            let (name, optional) = match name_part.strip_suffix('?') {
                Some(n) => (n, true),
                None => (name_part, false),
            };
            push_param(&mut out, pattern, segment, name, optional, ext)?;
        } else if let Some(inner) = segment.strip_prefix('{') {
            let Some(close) = inner.find('}') else {
                return Err(bad(segment, "opens `{` without closing it"));
            };
            let (name_part, tail) = (&inner[..close], &inner[close + 1..]);
            if let Some(catch_all) = name_part.strip_prefix('*') {
                if catch_all.is_empty() {
                    return Err(PatternError::EmptyParamName {
                        pattern: pattern.to_owned(),
                        segment: segment.to_owned(),
                    });
                }
                if !tail.is_empty() {
                    return Err(bad(segment, "has characters after a `{*name}` catch-all"));
                }
                out.push_str("/.*");
                continue;
            }
            let ext = if tail.is_empty() {
                None
            } else if tail.starts_with('.') {
                Some(tail)
            } else {
                return Err(bad(segment, "may only have a `.ext` suffix after `}`"));
            };
            let (name, optional) = match name_part.strip_suffix('?') {
                Some(n) => (n, true),
                None => (name_part, false),
            };
            push_param(&mut out, pattern, segment, name, optional, ext)?;
        } else {
            if segment.contains(['{', '}']) {
                return Err(bad(
                    segment,
                    "has a brace that is not a whole `{name}` parameter",
                ));
            }
            match segment.find('*') {
                None => {
                    out.push('/');
                    out.push_str(&regex::escape(segment));
                }
                Some(i) if i == segment.len() - 1 => {
                    out.push('/');
                    out.push_str(&regex::escape(&segment[..i]));
                    out.push_str(".*");
                }
                Some(_) => {
                    return Err(bad(
                        segment,
                        "has characters after `*`; `*` must end a segment",
                    ));
                }
            }
        }
    }
    Ok(out)
}

/// Appends one parameter segment (`:name`, `{name}`, optional, with an optional suffix).
fn push_param(
    out: &mut String,
    pattern: &str,
    segment: &str,
    name: &str,
    optional: bool,
    ext: Option<&str>,
) -> Result<(), PatternError> {
    if name.is_empty() {
        return Err(PatternError::EmptyParamName {
            pattern: pattern.to_owned(),
            segment: segment.to_owned(),
        });
    }
    if name.contains(['?', '*', '{', '}', ':']) {
        return Err(PatternError::BadSegment {
            pattern: pattern.to_owned(),
            segment: segment.to_owned(),
            reason: "has a parameter name with `?`, `*`, `:` or braces in it",
        });
    }
    match ext {
        None if optional => out.push_str("(?:/[^/]+)?"),
        None => out.push_str("/[^/]+"),
        Some(ext) => {
            // regexparam: `/:name.ext` is `/([^/]+?)\.ext`; with `?` the name part is optional.
            out.push_str(if optional { "/[^/]*?" } else { "/[^/]+?" });
            out.push_str(&compile_suffix(pattern, segment, ext)?);
        }
    }
    Ok(())
}

/// Compiles a `.ext` or `.(a|b)` suffix, escaping everything literal.
fn compile_suffix(pattern: &str, segment: &str, ext: &str) -> Result<String, PatternError> {
    let bad = |reason| PatternError::BadSegment {
        pattern: pattern.to_owned(),
        segment: segment.to_owned(),
        reason,
    };
    let rest = &ext[1..];
    if rest.is_empty() {
        return Err(bad("ends in `.` with no suffix after it"));
    }
    if let Some(group) = rest.strip_prefix('(') {
        let Some(alts) = group.strip_suffix(')') else {
            return Err(bad(
                "has a `.(` suffix group that is not closed by a final `)`",
            ));
        };
        let alts: Vec<&str> = alts.split('|').collect();
        if alts
            .iter()
            .any(|a| a.is_empty() || a.contains(['(', ')', '/']))
        {
            return Err(bad(
                "has an empty or malformed alternative in its `.(a|b)` suffix",
            ));
        }
        let escaped: Vec<String> = alts.iter().map(|a| regex::escape(a)).collect();
        return Ok(format!(r"\.(?:{})", escaped.join("|")));
    }
    if rest.contains(['(', ')', '*', '?', '{', '}']) {
        return Err(bad("has a suffix with `(`, `)`, `*`, `?` or braces in it"));
    }
    Ok(regex::escape(ext))
}

/// The HTTP methods a pattern or rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodSet {
    /// Any method (`ALL`).
    All,
    /// Exactly these methods (a `GET` entry also covers `HEAD`, which the router serves with the
    /// `GET` handler).
    Only(Vec<Method>),
}

/// The method names accepted in method lists, besides `ALL`.
const KNOWN_METHODS: [Method; 7] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
    Method::HEAD,
    Method::OPTIONS,
];

impl MethodSet {
    /// Parses method names case-insensitively; `ALL` anywhere makes the set [`MethodSet::All`].
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<MethodSet, PatternError> {
        if names.is_empty() {
            return Err(PatternError::EmptyMethods);
        }
        let mut methods: Vec<Method> = Vec::with_capacity(names.len());
        let mut all = false;
        for name in names {
            let name = name.as_ref();
            let trimmed = name.trim();
            if trimmed.eq_ignore_ascii_case("ALL") {
                all = true;
                continue;
            }
            let method = KNOWN_METHODS
                .iter()
                .find(|m| m.as_str().eq_ignore_ascii_case(trimmed))
                .ok_or_else(|| PatternError::UnknownMethod(name.to_owned()))?;
            if !methods.contains(method) {
                methods.push(method.clone());
            }
        }
        Ok(if all {
            MethodSet::All
        } else {
            MethodSet::Only(methods)
        })
    }

    /// A set of the given methods.
    pub fn only(methods: impl IntoIterator<Item = Method>) -> MethodSet {
        let mut set: Vec<Method> = Vec::new();
        for m in methods {
            if !set.contains(&m) {
                set.push(m);
            }
        }
        MethodSet::Only(set)
    }

    /// Whether `method` is in the set (`HEAD` counts as `GET`).
    pub fn contains(&self, method: &Method) -> bool {
        match self {
            MethodSet::All => true,
            MethodSet::Only(set) => {
                set.contains(method) || (*method == Method::HEAD && set.contains(&Method::GET))
            }
        }
    }

    /// Whether every method this set admits is also admitted by `self`.
    pub fn is_superset_of(&self, other: &MethodSet) -> bool {
        match (self, other) {
            (MethodSet::All, _) => true,
            (MethodSet::Only(_), MethodSet::All) => false,
            (MethodSet::Only(_), MethodSet::Only(theirs)) => {
                theirs.iter().all(|m| self.contains(m))
            }
        }
    }
}

impl<'de> Deserialize<'de> for MethodSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = StringOrList::deserialize(deserializer)?.into_vec();
        MethodSet::parse(&names).map_err(de::Error::custom)
    }
}

/// A string or a list of strings, as accepted for `methods`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StringOrList(pub(crate) Vec<String>);

impl StringOrList {
    pub(crate) fn into_vec(self) -> Vec<String> {
        self.0
    }
}

impl<'de> Deserialize<'de> for StringOrList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StringOrList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a method name or a list of method names, e.g. [\"GET\", \"POST\"]")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StringOrList(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(StringOrList(out))
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// How a path is matched: a regexparam-style pattern or a raw regular expression.
#[derive(Clone, Debug)]
pub enum PathMatcher {
    /// A pattern such as `/api/agents/:id` (anchored, case-insensitive).
    Pattern(PathPattern),
    /// A regular expression, unanchored unless it anchors itself, case-sensitive as written.
    Regex(Regex),
}

impl PathMatcher {
    /// Compiles a path pattern.
    pub fn pattern(pattern: &str) -> Result<PathMatcher, PatternError> {
        PathPattern::parse(pattern).map(PathMatcher::Pattern)
    }

    /// Compiles a raw regular expression.
    pub fn regex(regex: &str) -> Result<PathMatcher, PatternError> {
        Regex::new(regex)
            .map(PathMatcher::Regex)
            .map_err(|e| PatternError::InvalidRegex {
                pattern: regex.to_owned(),
                message: e.to_string(),
            })
    }

    /// Whether `path` matches (patterns: case-insensitively, one optional trailing slash).
    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathMatcher::Pattern(p) => p.matches(path),
            PathMatcher::Regex(r) => r.is_match(path),
        }
    }

    /// Whether `path` matches the way the router does (see [`PathPattern::matches_exact`]); a
    /// regex matches as written either way.
    pub fn matches_exact(&self, path: &str) -> bool {
        match self {
            PathMatcher::Pattern(p) => p.matches_exact(path),
            PathMatcher::Regex(r) => r.is_match(path),
        }
    }

    /// The pattern or regex as written.
    pub fn as_str(&self) -> &str {
        match self {
            PathMatcher::Pattern(p) => p.as_str(),
            PathMatcher::Regex(r) => r.as_str(),
        }
    }
}

impl PartialEq for PathMatcher {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PathMatcher::Pattern(a), PathMatcher::Pattern(b)) => a == b,
            (PathMatcher::Regex(a), PathMatcher::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

impl fmt::Display for PathMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathMatcher::Pattern(p) => write!(f, "{p}"),
            PathMatcher::Regex(r) => write!(f, "regex `{}`", r.as_str()),
        }
    }
}

impl<'de> Deserialize<'de> for PathMatcher {
    /// Accepts a pattern string or `{ regex = "..." }`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PathMatcher;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a path pattern string (e.g. \"/api/*\") or { regex = \"...\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                PathMatcher::pattern(v).map_err(E::custom)
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
                let regex = regex.ok_or_else(|| de::Error::missing_field("regex"))?;
                PathMatcher::regex(&regex).map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// A path matcher plus the methods it applies to: one entry of a public or protected list.
#[derive(Clone, Debug, PartialEq)]
pub struct RoutePattern {
    /// Which paths.
    pub path: PathMatcher,
    /// Which methods.
    pub methods: MethodSet,
}

impl RoutePattern {
    /// A path pattern for any method.
    pub fn path(pattern: &str) -> Result<RoutePattern, PatternError> {
        Ok(RoutePattern {
            path: PathMatcher::pattern(pattern)?,
            methods: MethodSet::All,
        })
    }

    /// A path pattern for the given methods (`ALL` for any).
    pub fn with_methods(pattern: &str, methods: &[&str]) -> Result<RoutePattern, PatternError> {
        Ok(RoutePattern {
            path: PathMatcher::pattern(pattern)?,
            methods: MethodSet::parse(methods)?,
        })
    }

    /// A raw regular expression for any method.
    pub fn regex(regex: &str) -> Result<RoutePattern, PatternError> {
        Ok(RoutePattern {
            path: PathMatcher::regex(regex)?,
            methods: MethodSet::All,
        })
    }

    /// Whether the request path and method match (the path as [`PathMatcher::matches`]).
    pub fn matches(&self, path: &str, method: &Method) -> bool {
        self.methods.contains(method) && self.path.matches(path)
    }

    /// Whether the request path and method match, the path as [`PathMatcher::matches_exact`].
    pub fn matches_exact(&self, path: &str, method: &Method) -> bool {
        self.methods.contains(method) && self.path.matches_exact(path)
    }
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.methods {
            MethodSet::All => write!(f, "{}", self.path),
            MethodSet::Only(ms) => {
                let names: Vec<&str> = ms.iter().map(Method::as_str).collect();
                write!(f, "{} [{}]", self.path, names.join(", "))
            }
        }
    }
}

impl<'de> Deserialize<'de> for RoutePattern {
    /// Accepts `"/path"`, `{ path = "...", methods = [...] }` or `{ regex = "...", methods = [...] }`
    /// (`methods` optional, meaning any).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        const FIELDS: &[&str] = &["path", "regex", "methods"];
        impl<'de> Visitor<'de> for V {
            type Value = RoutePattern;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a path pattern string (e.g. \"/api/*\"), { path = \"...\", methods = [...] } \
                     or { regex = \"...\" }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                RoutePattern::path(v).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut path: Option<String> = None;
                let mut regex: Option<String> = None;
                let mut methods: Option<StringOrList> = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "path" if path.is_none() => path = Some(map.next_value()?),
                        "regex" if regex.is_none() => regex = Some(map.next_value()?),
                        "methods" if methods.is_none() => methods = Some(map.next_value()?),
                        "path" => return Err(de::Error::duplicate_field("path")),
                        "regex" => return Err(de::Error::duplicate_field("regex")),
                        "methods" => return Err(de::Error::duplicate_field("methods")),
                        other => return Err(de::Error::unknown_field(other, FIELDS)),
                    }
                }
                let matcher = match (path, regex) {
                    (Some(p), None) => PathMatcher::pattern(&p).map_err(de::Error::custom)?,
                    (None, Some(r)) => PathMatcher::regex(&r).map_err(de::Error::custom)?,
                    (Some(p), Some(r)) => {
                        return Err(de::Error::custom(format!(
                            "pattern has both `path` (`{p}`) and `regex` (`{r}`); give one"
                        )));
                    }
                    (None, None) => {
                        return Err(de::Error::custom(
                            "pattern table needs `path` or `regex` (e.g. { path = \"/api/*\", methods = [\"GET\"] })",
                        ));
                    }
                };
                let methods = match methods {
                    None => MethodSet::All,
                    Some(names) => MethodSet::parse(&names.into_vec()).map_err(|e| {
                        de::Error::custom(format!("pattern `{}`: {e}", matcher.as_str()))
                    })?,
                };
                Ok(RoutePattern {
                    path: matcher,
                    methods,
                })
            }
        }
        deserializer.deserialize_any(V)
    }
}

/// An ordered list of route patterns; a request matches when any entry does.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(transparent)]
pub struct PatternList(pub Vec<RoutePattern>);

impl PatternList {
    /// An empty list.
    pub fn new() -> PatternList {
        PatternList(Vec::new())
    }

    /// A list of path patterns for any method.
    pub fn paths<S: AsRef<str>>(patterns: &[S]) -> Result<PatternList, PatternError> {
        patterns
            .iter()
            .map(|p| RoutePattern::path(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()
            .map(PatternList)
    }

    /// Whether any entry matches the request path and method (broadly: for protections).
    pub fn matches(&self, path: &str, method: &Method) -> bool {
        self.0.iter().any(|p| p.matches(path, method))
    }

    /// Whether any entry matches the way the router does (exactly: for exemptions).
    pub fn matches_exact(&self, path: &str, method: &Method) -> bool {
        self.0.iter().any(|p| p.matches_exact(path, method))
    }

    /// Appends the entries of another list.
    pub fn extend(&mut self, other: impl IntoIterator<Item = RoutePattern>) {
        self.0.extend(other);
    }

    /// Appends one entry.
    pub fn push(&mut self, pattern: RoutePattern) {
        self.0.push(pattern);
    }

    /// The entries in order.
    pub fn iter(&self) -> std::slice::Iter<'_, RoutePattern> {
        self.0.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list has no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for PatternList {
    type Item = RoutePattern;
    type IntoIter = std::vec::IntoIter<RoutePattern>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a PatternList {
    type Item = &'a RoutePattern;
    type IntoIter = std::slice::Iter<'a, RoutePattern>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<RoutePattern> for PatternList {
    fn from_iter<T: IntoIterator<Item = RoutePattern>>(iter: T) -> Self {
        PatternList(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_shortcut_decides_as_the_regex() {
        let patterns = [
            "/",
            "/*",
            "/api",
            "/api/",
            "/api/*",
            "/api/*/",
            "/Api/Agents",
            "/a.b/c-d_e~f/*",
            "/health",
            "/api*",
            "/api/:id",
            "/api/*?",
            "/x/{*rest}",
        ];
        let paths = [
            "",
            "/",
            "//",
            "/api",
            "/API",
            "/api/",
            "/api//",
            "/api/x",
            "/api/x/",
            "/apix",
            "/ap",
            "/api/x\ny",
            "/api\n",
            "/aPi/AGENTS",
            "/api/agents/",
            "/api/agents//",
            "/a.b/c-d_e~f",
            "/a.b/c-d_e~f/",
            "/a.b/c-d_e~f/z",
            "/axb/c-d_e~f/z",
            "/health/",
            "/healthz",
            "/ſ",
            "/api/ſ",
            "/\u{212a}",
            "/x/y",
            "/x",
        ];
        for pattern in patterns {
            let p = PathPattern::parse(pattern).unwrap();
            for path in paths {
                assert_eq!(
                    p.matches(path),
                    p.regex.is_match(path),
                    "{pattern} on {path:?} (literal: {:?})",
                    p.literal
                );
            }
        }
        assert!(PathPattern::parse("/api/*").unwrap().literal.is_some());
        assert!(PathPattern::parse("/api/:id").unwrap().literal.is_none());
        assert!(PathPattern::parse("/api*").unwrap().literal.is_none());
    }

    fn m(pattern: &str, path: &str) -> bool {
        PathPattern::parse(pattern).unwrap().matches(path)
    }

    fn get() -> Method {
        Method::GET
    }

    // --- Mastra's `pathMatchesPattern` and the cases of its helper tests ---

    #[test]
    fn exact_paths() {
        assert!(m("/api/health", "/api/health"));
        assert!(m("/api", "/api"));
        assert!(!m("/api/health", "/api/healthz"));
        assert!(!m("/api/health", "/api"));
        assert!(!m("/api", "/api/health"));
    }

    #[test]
    fn wildcard_matches_rest_under_its_prefix_only() {
        assert!(m("/api/users/*", "/api/users/123"));
        assert!(m("/api/users/*", "/api/users/123/posts/4"));
        assert!(!m("/api/users/*", "/api/posts/123"));
    }

    #[test]
    fn wildcard_does_not_match_its_parent() {
        assert!(!m("/api/*", "/api"));
        assert!(m("/api/*", "/api/"));
        assert!(m("/api/*", "/api/x/y"));
        assert!(!m("/api/*", "/apix"));
        assert!(!m("/api/*", "/apix/y"));
    }

    #[test]
    fn optional_wildcard_matches_parent_too() {
        assert!(m("/api/*?", "/api"));
        assert!(m("/api/*?", "/api/a/b"));
        assert!(!m("/api/*?", "/apis"));
    }

    #[test]
    fn root_wildcard_matches_everything_with_a_slash() {
        assert!(m("/*", "/"));
        assert!(m("/*", "/anything/at/all"));
        assert!(m("/", "/"));
        assert!(!m("/", "/x"));
    }

    #[test]
    fn single_param() {
        assert!(m("/users/:id", "/users/123"));
        assert!(m("/users/:id", "/users/abc-def"));
        assert!(!m("/users/:id", "/users"));
    }

    #[test]
    fn multiple_params() {
        assert!(m("/api/:version/:id", "/api/v1/42"));
        assert!(m("/users/:userId/posts/:postId", "/users/1/posts/2"));
        assert!(!m("/users/:userId/posts/:postId", "/users/1/posts"));
        assert!(!m("/users/:userId/posts/:postId", "/users/1/comments/2"));
    }

    #[test]
    fn mixed_static_and_dynamic() {
        assert!(m(
            "/api/agents/:agentId/generate",
            "/api/agents/a1/generate"
        ));
        assert!(!m("/api/agents/:agentId/generate", "/api/agents/a1/stream"));
        assert!(!m(
            "/api/agents/:agentId/generate",
            "/api/tools/a1/generate"
        ));
    }

    #[test]
    fn segment_count_differs() {
        assert!(!m("/users/:id", "/users/123/extra"));
        assert!(!m("/users/:id/posts", "/users/123"));
    }

    #[test]
    fn empty_param_values_do_not_match() {
        assert!(!m("/users/:id", "/users/"));
        assert!(!m("/users/:id", "/users//"));
    }

    #[test]
    fn consecutive_params_need_both() {
        assert!(!m("/api/:version/:id", "/api/v1/"));
        assert!(!m("/api/:version/:id", "/api/v1"));
    }

    // --- the rest of the grammar: `{name}` spellings, optional segments, case, slashes ---

    #[test]
    fn braces_are_a_synonym_of_colon() {
        assert!(m("/other/route/{id}", "/other/route/test"));
        assert!(!m("/other/route/{id}", "/other/route"));
        assert!(!m("/other/route/{id}", "/other/route/a/b"));
        assert!(m("/things/{id}/parts/{part}", "/things/1/parts/2"));
    }

    #[test]
    fn axum_catch_all_is_a_wildcard() {
        assert!(m("/files/{*rest}", "/files/a/b/c"));
        assert!(m("/files/{*rest}", "/files/a"));
        assert!(!m("/files/{*rest}", "/filesx"));
    }

    #[test]
    fn optional_segments() {
        for p in ["/users/:id?", "/users/{id?}"] {
            assert!(m(p, "/users"), "{p}");
            assert!(m(p, "/users/"), "{p}");
            assert!(m(p, "/users/7"), "{p}");
            assert!(!m(p, "/users/7/8"), "{p}");
        }
        assert!(m("/a/:x?/b", "/a/b"));
        assert!(m("/a/:x?/b", "/a/1/b"));
    }

    #[test]
    fn suffix_params() {
        assert!(m("/movies/:title.mp4", "/movies/up.mp4"));
        assert!(m("/movies/{title}.mp4", "/movies/up.mp4"));
        assert!(!m("/movies/:title.mp4", "/movies/up.mov"));
        assert!(!m("/movies/:title.mp4", "/movies/.mp4"));
        assert!(!m("/movies/:title.mp4", "/movies/upxmp4"));
        assert!(m("/movies/:title.(mp4|mov)", "/movies/up.mov"));
        assert!(!m("/movies/:title.(mp4|mov)", "/movies/up.avi"));
    }

    #[test]
    fn case_insensitive() {
        assert!(m("/api/Health", "/API/health"));
        assert!(m("/users/:id", "/USERS/x"));
    }

    #[test]
    fn exact_matching_is_case_sensitive_without_a_free_trailing_slash() {
        let cases: &[(&str, &str, bool)] = &[
            ("/api", "/api", true),
            ("/api", "/api/", false),
            ("/api", "/API", false),
            ("/api/", "/api/", true),
            ("/api/", "/api", false),
            ("/", "/", true),
            ("/*", "/", true),
            ("/*", "/x/y/", true),
            ("/api/*", "/api/", true),
            ("/api/*", "/api/a/b/", true),
            ("/api/*", "/API/a", false),
            ("/api/*", "/api", false),
            ("/api/agents/demo/*", "/api/agents/DEMO/generate", false),
            ("/api/agents/demo/*", "/api/agents/demo/generate", true),
            ("/users/:id", "/users/X", true),
            ("/users/:id", "/Users/x", false),
            ("/users/:id", "/users/x/", false),
            ("/users/:id?", "/users", true),
            ("/users/:id?", "/users/x", true),
            ("/files/:name.json", "/files/a.json", true),
            ("/files/:name.json", "/files/a.JSON", false),
            ("/x/caf\u{e9}", "/x/caf\u{e9}", true),
        ];
        for (pattern, path, want) in cases {
            let p = PathPattern::parse(pattern).unwrap();
            assert_eq!(p.matches_exact(path), *want, "{pattern} {path}");
            // An exemption is never wider than the protection the same pattern would be.
            assert!(
                !p.matches_exact(path) || p.matches(path),
                "{pattern} {path}"
            );
            // The literal shortcut and the regex agree.
            assert_eq!(p.exact.is_match(path), *want, "regex: {pattern} {path}");
        }
    }

    #[test]
    fn one_optional_trailing_slash() {
        assert!(m("/api/health", "/api/health/"));
        assert!(!m("/api/health", "/api/health//"));
        assert!(m("/api/health/", "/api/health"));
        assert!(m("/users/:id", "/users/1/"));
    }

    #[test]
    fn static_segments_are_escaped() {
        assert!(m("/assets/app.js", "/assets/app.js"));
        assert!(!m("/assets/app.js", "/assets/appxjs"));
        assert!(m("/a+b", "/a+b"));
        assert!(!m("/a+b", "/aab"));
        assert!(m("/v1(beta)", "/v1(beta)"));
        assert!(m("/x?", "/x?"));
        assert!(!m("/x?", "/"));
    }

    #[test]
    fn prefix_star_in_last_segment() {
        assert!(m("/assets/app-*", "/assets/app-123.js"));
        assert!(m("/assets/app-*", "/assets/app-"));
        assert!(!m("/assets/app-*", "/assets/other.js"));
    }

    #[test]
    fn wildcard_in_the_middle() {
        assert!(m("/api/*/status", "/api/a/b/status"));
        assert!(!m("/api/*/status", "/api/status"));
    }

    #[test]
    fn parse_errors_name_the_pattern() {
        assert_eq!(PathPattern::parse(""), Err(PatternError::Empty));
        let e = PathPattern::parse("api/*").unwrap_err();
        assert_eq!(e, PatternError::NoLeadingSlash("api/*".into()));
        assert!(e.to_string().contains("`api/*`"), "{e}");
        let e = PathPattern::parse("/users/:").unwrap_err();
        assert!(matches!(e, PatternError::EmptyParamName { .. }), "{e:?}");
        assert!(e.to_string().contains("/users/:"), "{e}");
        assert!(matches!(
            PathPattern::parse("/users/{}").unwrap_err(),
            PatternError::EmptyParamName { .. }
        ));
        assert!(matches!(
            PathPattern::parse("/users/:?").unwrap_err(),
            PatternError::EmptyParamName { .. }
        ));
        assert!(matches!(
            PathPattern::parse("/files/{*}").unwrap_err(),
            PatternError::EmptyParamName { .. }
        ));
        assert_eq!(
            PathPattern::parse("/a//b").unwrap_err(),
            PatternError::EmptySegment("/a//b".into())
        );
        for bad in [
            "/a/*x",
            "/a/b*c",
            "/a/{id",
            "/a/x}y",
            "/a/{id}x",
            "/m/:t.",
            "/m/:t.(a|",
        ] {
            let e = PathPattern::parse(bad).unwrap_err();
            assert!(matches!(e, PatternError::BadSegment { .. }), "{bad}: {e:?}");
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn as_str_and_display_keep_the_source() {
        let p = PathPattern::parse("/API/:id").unwrap();
        assert_eq!(p.as_str(), "/API/:id");
        assert_eq!(p.to_string(), "/API/:id");
        assert_eq!(format!("{p:?}"), "PathPattern(\"/API/:id\")");
    }

    // --- methods ---

    #[test]
    fn method_sets() {
        let s = MethodSet::parse(&["get", "Post"]).unwrap();
        assert!(s.contains(&Method::GET));
        assert!(s.contains(&Method::POST));
        assert!(!s.contains(&Method::DELETE));
        assert!(
            s.contains(&Method::HEAD),
            "HEAD is served by the GET handler"
        );
        assert!(!MethodSet::parse(&["HEAD"]).unwrap().contains(&Method::GET));
        let all = MethodSet::parse(&["ALL"]).unwrap();
        assert_eq!(all, MethodSet::All);
        assert!(all.contains(&Method::TRACE));
        assert_eq!(MethodSet::parse(&["get", "all"]).unwrap(), MethodSet::All);
        assert_eq!(
            MethodSet::parse(&["GET", "get"]).unwrap(),
            MethodSet::Only(vec![Method::GET])
        );
        let e = MethodSet::parse(&["GET", "FETCH"]).unwrap_err();
        assert_eq!(e, PatternError::UnknownMethod("FETCH".into()));
        assert!(e.to_string().contains("`FETCH`"));
        assert_eq!(
            MethodSet::parse::<&str>(&[]).unwrap_err(),
            PatternError::EmptyMethods
        );
    }

    #[test]
    fn method_superset() {
        let gp = MethodSet::parse(&["GET", "POST"]).unwrap();
        let g = MethodSet::parse(&["GET"]).unwrap();
        assert!(MethodSet::All.is_superset_of(&gp));
        assert!(gp.is_superset_of(&g));
        assert!(!g.is_superset_of(&gp));
        assert!(!gp.is_superset_of(&MethodSet::All));
        assert!(g.is_superset_of(&MethodSet::parse(&["HEAD"]).unwrap()));
    }

    // --- route patterns (Mastra's `canAccessPublicly` / `matchesOrIncludes` helper tests) ---

    fn public_list() -> PatternList {
        PatternList(vec![
            RoutePattern::path("/api/health").unwrap(),
            RoutePattern::with_methods("/api/login", &["POST"]).unwrap(),
            RoutePattern::regex(r"^/public/.*").unwrap(),
            RoutePattern::with_methods("/api/agents", &["GET", "POST"]).unwrap(),
        ])
    }

    #[test]
    fn can_access_publicly_exact() {
        assert!(public_list().matches("/api/health", &get()));
    }

    #[test]
    fn can_access_publicly_method_tuple() {
        let l = public_list();
        assert!(l.matches("/api/login", &Method::POST));
        assert!(!l.matches("/api/login", &Method::GET));
    }

    #[test]
    fn can_access_publicly_regex() {
        assert!(public_list().matches("/public/file.txt", &get()));
    }

    #[test]
    fn can_access_publicly_non_match() {
        assert!(!public_list().matches("/api/users", &get()));
    }

    #[test]
    fn can_access_publicly_method_array() {
        let l = public_list();
        assert!(l.matches("/api/agents", &Method::GET));
        assert!(l.matches("/api/agents", &Method::POST));
        assert!(!l.matches("/api/agents", &Method::DELETE));
    }

    #[test]
    fn matches_or_includes_single_and_array() {
        let single = RoutePattern::with_methods("/x", &["GET"]).unwrap();
        assert!(single.matches("/x", &Method::GET));
        assert!(!single.matches("/x", &Method::POST));
        let arr = RoutePattern::with_methods("/x", &["GET", "DELETE"]).unwrap();
        assert!(arr.matches("/x", &Method::DELETE));
        assert!(!arr.matches("/x", &Method::PUT));
        let all = RoutePattern::with_methods("/x", &["ALL"]).unwrap();
        assert!(all.matches("/x", &Method::PATCH));
    }

    #[test]
    fn regex_entries_anchor_only_if_written() {
        let unanchored = RoutePattern::regex(r"/public/").unwrap();
        assert!(unanchored.matches("/x/public/y", &get()));
        let anchored = RoutePattern::regex(r"^/public/").unwrap();
        assert!(!anchored.matches("/x/public/y", &get()));
        assert!(anchored.matches("/public/y", &get()));
        let rule = PathMatcher::regex(r"^\/api\/users\/\d+$").unwrap();
        assert!(rule.matches("/api/users/123"));
        assert!(!rule.matches("/api/users/abc"));
        assert!(!rule.matches("/api/users/123/x"));
        // Case-sensitive as written.
        assert!(!anchored.matches("/PUBLIC/y", &get()));
        assert!(
            RoutePattern::regex(r"(?i)^/public/")
                .unwrap()
                .matches("/PUBLIC/y", &get())
        );
    }

    #[test]
    fn invalid_regex_is_an_error_naming_it() {
        let e = RoutePattern::regex("(unclosed").unwrap_err();
        assert!(matches!(e, PatternError::InvalidRegex { .. }));
        assert!(e.to_string().contains("`(unclosed`"), "{e}");
    }

    #[test]
    fn mastra_default_lists() {
        let protected = PatternList::paths(&["/api/*"]).unwrap();
        let public = PatternList::paths(&["/api", "/api/auth/*", "/api/system/*"]).unwrap();
        for p in [
            "/",
            "/agents",
            "/assets/index-abc123.js",
            "/login",
            "/oauth/callback",
        ] {
            assert!(!protected.matches(p, &get()), "{p}");
        }
        for p in ["/api/agents", "/api/agents/123", "/api/memory/threads"] {
            assert!(protected.matches(p, &get()), "{p}");
        }
        assert!(public.matches("/api", &get()));
        assert!(public.matches("/api/", &get()));
        assert!(public.matches("/api/auth/login", &get()));
        assert!(!public.matches("/api/agents", &get()));
    }

    #[test]
    fn pattern_list_extend_iter() {
        let mut l = PatternList::new();
        assert!(l.is_empty());
        l.extend(PatternList::paths(&["/a", "/b"]).unwrap());
        l.push(RoutePattern::path("/c").unwrap());
        assert_eq!(l.len(), 3);
        let names: Vec<&str> = l.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(names, ["/a", "/b", "/c"]);
        assert!(l.matches("/c", &get()));
        assert!(!l.matches("/d", &get()));
    }

    // --- serde ---

    #[test]
    fn deserialize_forms() {
        let l: PatternList = serde_json::from_str(
            r#"["/api/health",
                {"path": "/api/login", "methods": ["post"]},
                {"path": "/api/agents", "methods": "GET"},
                {"path": "/api/any"},
                {"regex": "^/public/.*"},
                {"regex": "^/hooks/", "methods": ["ALL"]}]"#,
        )
        .unwrap();
        assert_eq!(l.len(), 6);
        assert!(l.matches("/api/health", &Method::DELETE));
        assert!(l.matches("/api/login", &Method::POST));
        assert!(!l.matches("/api/login", &Method::GET));
        assert!(l.matches("/api/agents", &Method::GET));
        assert!(!l.matches("/api/agents", &Method::POST));
        assert!(l.matches("/api/any", &Method::PUT));
        assert!(l.matches("/public/x", &Method::GET));
        assert!(l.matches("/hooks/x", &Method::PATCH));
    }

    fn de_err(json: &str) -> String {
        serde_json::from_str::<RoutePattern>(json)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn deserialize_errors_are_clear() {
        let e = de_err(r#"{"path": "/x", "method": ["GET"]}"#);
        assert!(
            e.contains("unknown field `method`") && e.contains("methods"),
            "{e}"
        );
        let e = de_err(r#"{"path": "/x", "methods": ["FETCH"]}"#);
        assert!(e.contains("`FETCH`") && e.contains("/x"), "{e}");
        let e = de_err(r#"{"path": "/x", "methods": []}"#);
        assert!(e.contains("empty method list"), "{e}");
        let e = de_err(r#""api/x""#);
        assert!(
            e.contains("`api/x`") && e.contains("must start with `/`"),
            "{e}"
        );
        let e = de_err(r#"{"regex": "(bad"}"#);
        assert!(e.contains("invalid regex `(bad`"), "{e}");
        let e = de_err(r#"{"path": "/x", "regex": "^/y"}"#);
        assert!(e.contains("both"), "{e}");
        let e = de_err(r#"{"methods": ["GET"]}"#);
        assert!(e.contains("needs `path` or `regex`"), "{e}");
        let e = de_err("42");
        assert!(e.contains("path pattern string"), "{e}");
        let e = de_err(r#"{"path": "/x", "path": "/y"}"#);
        assert!(e.contains("duplicate field `path`"), "{e}");
    }

    #[test]
    fn path_matcher_deserialize() {
        let p: PathMatcher = serde_json::from_str(r#""/a/:id""#).unwrap();
        assert!(p.matches("/a/1"));
        let r: PathMatcher = serde_json::from_str(r#"{"regex": "^/b"}"#).unwrap();
        assert!(r.matches("/b/2"));
        let e = serde_json::from_str::<PathMatcher>(r#"{"path": "/x"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `path`"), "{e}");
    }

    #[test]
    fn display_route_pattern() {
        let p = RoutePattern::with_methods("/x", &["GET", "POST"]).unwrap();
        assert_eq!(p.to_string(), "/x [GET, POST]");
        assert_eq!(
            RoutePattern::regex("^/y").unwrap().to_string(),
            "regex `^/y`"
        );
    }
}
