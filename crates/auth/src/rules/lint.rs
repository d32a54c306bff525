//! Lints over a rule list: rules that can never match, deny rules that apply when a claim is
//! missing.

use super::Rules;
use crate::pattern::{MethodSet, PathMatcher};

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
                && match (&earlier.permissions, &later.permissions) {
                    (None, _) => true,
                    // Every permission the later rule matches is matched by the earlier one.
                    (Some(a), Some(b)) => b
                        .iter()
                        .all(|q| a.iter().any(|p| crate::permission::covers(p, q))),
                    (Some(_), None) => false,
                }
        });
        if let Some(i) = by {
            out.push((j, i));
        }
    }
    out
}

/// Deny rules (`allow = false`) whose CEL condition reads a claim without a `has()` guard, as
/// `(rule_index, claim_paths)`
/// ([`Condition::unguarded_claims`](super::Condition::unguarded_claims)): for a user lacking such
/// a claim the condition can fail to evaluate, and a failing condition makes a deny rule apply.
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

#[cfg(test)]
// Most of these tests are of CEL conditions.
#[cfg_attr(not(feature = "cel"), allow(unused_imports, dead_code))]
mod tests {
    use super::super::test_support::*;
    use super::super::{Condition, Rule};
    use super::*;

    #[test]
    #[cfg(feature = "cel")]
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

    #[test]
    fn permission_lists_narrow_what_a_rule_shadows() {
        let rules = Rules(vec![
            /* 0 */ Rule::deny().with_permission("memory:*"),
            /* 1 */ Rule::deny().with_permission("memory:write"),
            /* 2 */ Rule::deny().with_permission("agents:read"),
            /* 3 */ Rule::allow(),
            /* 4 */ Rule::allow().with_permission("tools:read"),
        ]);
        // 1 is inside 0; 2 is not; everything after the unrestricted 3 is shadowed.
        assert_eq!(shadowed(&rules), vec![(1, 0), (4, 3)]);
    }
}
