//! [`PathMatcher`]: a path pattern or a raw regular expression.

use std::fmt;

use regex::Regex;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::{PathPattern, PatternError};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
