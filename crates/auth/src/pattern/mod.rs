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

mod grammar;
mod list;
mod literal;
mod matcher;
mod methods;
mod path;
mod route;

pub use list::PatternList;
pub use matcher::PathMatcher;
pub use methods::MethodSet;
pub(crate) use methods::StringOrList;
pub use path::PathPattern;
pub use route::RoutePattern;

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
