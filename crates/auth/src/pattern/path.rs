//! [`PathPattern`]: one compiled path pattern and its two ways of matching, broad (protections)
//! and exact (exemptions).

use std::fmt;

use regex::Regex;

use super::PatternError;
use super::grammar::compile_pattern;
use super::literal::Literal;

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
    fn as_str_and_display_keep_the_source() {
        let p = PathPattern::parse("/API/:id").unwrap();
        assert_eq!(p.as_str(), "/API/:id");
        assert_eq!(p.to_string(), "/API/:id");
        assert_eq!(format!("{p:?}"), "PathPattern(\"/API/:id\")");
    }
}
