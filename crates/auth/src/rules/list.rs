//! [`Rules`]: the ordered list; the first rule that matches decides.

use super::config::RuleConfig;
use super::{Rule, RuleContext, RuleError};

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

#[cfg(test)]
// Most of these tests are of CEL conditions.
#[cfg_attr(not(feature = "cel"), allow(unused_imports, dead_code))]
mod tests {
    use super::super::Condition;
    use super::super::test_support::*;
    use super::*;
    use crate::pattern::PathMatcher;
    use http::Method;
    use serde_json::json;

    #[test]
    #[cfg(feature = "cel")]
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
}
