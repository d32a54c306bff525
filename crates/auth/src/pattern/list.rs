//! [`PatternList`]: the ordered public and protected lists.

use http::Method;
use serde::Deserialize;

use super::{PatternError, RoutePattern};

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

    fn get() -> Method {
        Method::GET
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
}
