//! [`RoutePattern`]: a path matcher plus the methods it applies to.

use std::fmt;

use http::Method;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::{MethodSet, PathMatcher, PatternError, StringOrList};

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

#[cfg(test)]
mod tests {
    use super::*;

    fn get() -> Method {
        Method::GET
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
    fn display_route_pattern() {
        let p = RoutePattern::with_methods("/x", &["GET", "POST"]).unwrap();
        assert_eq!(p.to_string(), "/x [GET, POST]");
        assert_eq!(
            RoutePattern::regex("^/y").unwrap().to_string(),
            "regex `^/y`"
        );
    }
}
