//! Rules as written in a config file, and their compilation into [`Rule`]s.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Condition, Rule, RuleError};
use crate::pattern::{MethodSet, PathMatcher, PatternError, StringOrList};

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
    /// Route permissions (`agents:*`, `memory:write`); absent for every route. The rule
    /// applies when one of them covers the permission of the route the request is for.
    #[serde(default, deserialize_with = "de_methods")]
    pub permission: Option<Vec<String>>,
    /// A CEL expression over `user`, `claims`, `method`, `path`, `permission`.
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
        if let Some(list) = &c.permission {
            if list.is_empty() {
                return Err(RuleError::EmptyPermissionList);
            }
            for p in list {
                crate::permission::validate(p).map_err(RuleError::Permission)?;
            }
        }
        let condition = c.condition.as_deref().map(Condition::cel).transpose()?;
        Ok(Rule {
            permissions: c.permission,
            path,
            methods,
            condition,
            allow: c.allow,
        })
    }
}

#[cfg(test)]
// Most of these tests are of CEL conditions.
#[cfg_attr(not(feature = "cel"), allow(unused_imports, dead_code))]
mod tests {
    use super::super::Rules;
    use super::super::test_support::*;
    use super::*;
    use http::Method;
    use serde_json::{Value as Json, json};

    fn configs(v: Json) -> Vec<RuleConfig> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    #[cfg(feature = "cel")]
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
                permission: None,
                condition: None,
                allow: true
            }
        );
        let r = Rule::try_from(c).unwrap();
        assert!(r.path.is_none() && r.methods.is_none() && r.condition.is_none() && r.allow);
    }

    #[test]
    #[cfg(feature = "cel")]
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
}
