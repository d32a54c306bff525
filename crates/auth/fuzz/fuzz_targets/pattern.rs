//! Path pattern compiler and matcher, raw-regex matchers and method lists.
//!
//! Input: the first line is a pattern, every further line a request path. Invariants besides
//! "no panic, no hang": matching allows one trailing slash, and is ASCII case-insensitive.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mastra_auth::pattern::{MethodSet, PathMatcher, PathPattern, RoutePattern};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let pattern = lines.next().unwrap_or_default();
    let paths: Vec<&str> = lines.take(16).collect();
    if let Ok(p) = PathPattern::parse(pattern) {
        for path in &paths {
            let m = p.matches(path);
            if m && !path.ends_with('/') {
                assert!(p.matches(&format!("{path}/")), "{pattern:?} {path:?}/");
            }
            assert_eq!(
                m,
                p.matches(&path.to_ascii_uppercase()),
                "case: {pattern:?} {path:?}"
            );
            assert_eq!(
                m,
                p.matches(&path.to_ascii_lowercase()),
                "case: {pattern:?} {path:?}"
            );
        }
        assert_eq!(p.as_str(), pattern);
    }
    if let Ok(r) = PathMatcher::regex(pattern) {
        for path in &paths {
            let _ = r.matches(path);
        }
    }
    let methods: Vec<&str> = paths
        .first()
        .map(|m| m.split(',').collect())
        .unwrap_or_default();
    if let Ok(set) = MethodSet::parse(&methods) {
        let _ = set.contains(&http::Method::GET);
        if let Ok(rp) = RoutePattern::with_methods(pattern, &methods) {
            for path in &paths {
                let _ = rp.matches(path, &http::Method::POST);
            }
        }
    }
});
