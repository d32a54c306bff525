//! Role-based access control: a user's roles from their claims, a role → permissions mapping with
//! wildcards, and whether the user holds the permission a route needs ([`crate::permission`]).
//!
//! Roles come from claim paths (`roles`, Clerk's `org_role`, `o.rol`, WorkOS's `role`); granted
//! permissions may also come straight from a claim (Auth0's and WorkOS's `permissions`). A role
//! the mapping does not name, and a user with no role at all, get the `_default` role's
//! permissions. Checking needs no allocation: roles are looked up as they are read.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::User;
use crate::permission::{self, PermissionError};

/// The mapping key whose permissions apply to unmapped roles and to users without roles.
pub const DEFAULT_ROLE: &str = "_default";

/// Settings of role-based access control (`[auth.rbac]` with the `serde` feature).
#[derive(Clone, Debug, Default, PartialEq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields, default)
)]
pub struct RbacConfig {
    /// Claim paths holding the user's roles (a string or a list at each); `a.b` reads claim `b`
    /// of object claim `a`, and a claim whose own name contains dots is read whole first.
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::config_serde::one_or_many")
    )]
    pub roles_claim: Vec<String>,
    /// Claim paths holding permissions granted directly (Auth0 and WorkOS put them in
    /// `permissions`).
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "crate::config_serde::one_or_many")
    )]
    pub permissions_claim: Vec<String>,
    /// Role → permissions (`resource:action[:id]`, `*` wildcards); [`DEFAULT_ROLE`] for the rest.
    pub roles: BTreeMap<String, Vec<String>>,
}

/// Why an RBAC config is refused. Messages begin with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RbacConfigError {
    /// A mapped permission is not `resource:action[:id]`.
    #[error("roles.{role}: {source}")]
    Permission {
        /// The role whose list holds it.
        role: String,
        /// What is wrong.
        #[source]
        source: PermissionError,
    },
    /// Nothing says where roles or permissions come from.
    #[error("roles_claim is empty and so is permissions_claim: name the claim that holds roles")]
    NoSource,
    /// A claim path is blank.
    #[error("{0}: a claim path must not be blank")]
    BlankClaim(&'static str),
}

/// What a user resolves to: their roles and every permission they hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// Roles read from the claims, in claim order, without duplicates.
    pub roles: Vec<String>,
    /// Permissions from the mapping (or `_default`) and from the permissions claims, without
    /// duplicates.
    pub permissions: Vec<String>,
}

/// Role-based access control, built once from an [`RbacConfig`].
#[derive(Clone, Debug)]
pub struct Rbac {
    roles_claim: Vec<String>,
    permissions_claim: Vec<String>,
    roles: BTreeMap<String, Vec<String>>,
}

impl Rbac {
    /// Checks every permission's syntax and that roles come from somewhere.
    pub fn new(cfg: RbacConfig) -> Result<Self, RbacConfigError> {
        if cfg.roles_claim.is_empty() && cfg.permissions_claim.is_empty() {
            return Err(RbacConfigError::NoSource);
        }
        if cfg.roles_claim.iter().any(|c| c.trim().is_empty()) {
            return Err(RbacConfigError::BlankClaim("roles_claim"));
        }
        if cfg.permissions_claim.iter().any(|c| c.trim().is_empty()) {
            return Err(RbacConfigError::BlankClaim("permissions_claim"));
        }
        for (role, permissions) in &cfg.roles {
            for p in permissions {
                permission::validate(p).map_err(|source| RbacConfigError::Permission {
                    role: role.clone(),
                    source,
                })?;
            }
        }
        Ok(Self {
            roles_claim: cfg.roles_claim,
            permissions_claim: cfg.permissions_claim,
            roles: cfg.roles,
        })
    }

    /// The role → permissions mapping.
    pub fn mapping(&self) -> &BTreeMap<String, Vec<String>> {
        &self.roles
    }

    /// Whether `user` holds `required`.
    pub fn allows(&self, user: &User, required: &str) -> bool {
        let covered = |list: &[String]| list.iter().any(|g| permission::covers(g, required));
        let mut any_role = false;
        let mut default_checked = false;
        let mut found = false;
        for_each_string(user, &self.roles_claim, |role| {
            any_role = true;
            match self.roles.get(role) {
                Some(list) => found = found || covered(list),
                None if !default_checked => {
                    default_checked = true;
                    found = found || self.default_covers(required);
                }
                None => {}
            }
        });
        if found {
            return true;
        }
        if !any_role && self.default_covers(required) {
            return true;
        }
        let mut direct = false;
        for_each_string(user, &self.permissions_claim, |granted| {
            direct = direct || permission::covers(granted, required);
        });
        direct
    }

    fn default_covers(&self, required: &str) -> bool {
        self.roles
            .get(DEFAULT_ROLE)
            .is_some_and(|list| list.iter().any(|g| permission::covers(g, required)))
    }

    /// The user's roles and permissions, for display (`token verify`, `/api/auth/me`).
    pub fn grants(&self, user: &User) -> Grants {
        let mut grants = Grants::default();
        let mut unmapped = false;
        for_each_string(user, &self.roles_claim, |role| {
            push_unique(&mut grants.roles, role);
        });
        for role in &grants.roles {
            match self.roles.get(role.as_str()) {
                Some(list) => list
                    .iter()
                    .for_each(|p| push_unique(&mut grants.permissions, p)),
                None => unmapped = true,
            }
        }
        if (unmapped || grants.roles.is_empty())
            && let Some(list) = self.roles.get(DEFAULT_ROLE)
        {
            list.iter()
                .for_each(|p| push_unique(&mut grants.permissions, p));
        }
        for_each_string(user, &self.permissions_claim, |p| {
            push_unique(&mut grants.permissions, p);
        });
        grants
    }
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    if !list.iter().any(|v| v == value) {
        list.push(value.to_owned());
    }
}

/// Calls `f` with every string found at any of `paths` in the user's claims.
fn for_each_string(user: &User, paths: &[String], mut f: impl FnMut(&str)) {
    for path in paths {
        match user.claims.get(path.as_str()) {
            Some(v) => visit(v, &[], &mut f),
            None => {
                let mut steps = path.split('.');
                if let Some(first) = steps.next()
                    && let Some(v) = user.claims.get(first)
                {
                    let rest: Vec<&str> = steps.collect();
                    visit(v, &rest, &mut f);
                }
            }
        }
    }
}

/// Walks `steps` into `value`, through arrays element by element, and hands every string at the
/// end (or in an array at the end) to `f`.
fn visit(value: &Value, steps: &[&str], f: &mut impl FnMut(&str)) {
    match (value, steps.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|v| visit(v, steps, f)),
        (Value::String(s), None) => f(s),
        (Value::Object(map), Some((step, rest))) => {
            if let Some(v) = map.get(*step) {
                visit(v, rest, f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;

    fn user(claims: Value) -> User {
        let Value::Object(map) = claims else {
            panic!("claims must be an object")
        };
        User::from_claims(map, Arc::from("test"))
    }

    fn rbac(roles_claim: &[&str], permissions_claim: &[&str], roles: &[(&str, &[&str])]) -> Rbac {
        Rbac::new(RbacConfig {
            roles_claim: roles_claim.iter().map(|s| (*s).to_owned()).collect(),
            permissions_claim: permissions_claim.iter().map(|s| (*s).to_owned()).collect(),
            roles: roles
                .iter()
                .map(|(r, ps)| {
                    (
                        (*r).to_owned(),
                        ps.iter().map(|p| (*p).to_owned()).collect(),
                    )
                })
                .collect(),
        })
        .expect("valid rbac")
    }

    #[test]
    fn roles_map_to_permissions_with_wildcards() {
        let r = rbac(
            &["roles"],
            &[],
            &[
                ("admin", &["*"]),
                ("member", &["*:read", "agents:execute"]),
                ("viewer", &["*:read"]),
            ],
        );
        let member = user(json!({"sub": "m", "roles": ["member"]}));
        assert!(r.allows(&member, "agents:execute"));
        assert!(r.allows(&member, "memory:read"));
        assert!(!r.allows(&member, "memory:write"));
        let viewer = user(json!({"sub": "v", "roles": "viewer"}));
        assert!(r.allows(&viewer, "agents:read"));
        assert!(!r.allows(&viewer, "agents:execute"));
        let admin = user(json!({"sub": "a", "roles": ["viewer", "admin"]}));
        assert!(r.allows(&admin, "memory:write"));
    }

    #[test]
    fn the_default_role_covers_unmapped_roles_and_users_without_roles() {
        let r = rbac(
            &["roles"],
            &[],
            &[("admin", &["*"]), ("_default", &["agents:read"])],
        );
        let none = user(json!({"sub": "n"}));
        assert!(r.allows(&none, "agents:read"));
        assert!(!r.allows(&none, "agents:execute"));
        let unknown = user(json!({"sub": "u", "roles": ["intern"]}));
        assert!(r.allows(&unknown, "agents:read"));
        assert!(!r.allows(&unknown, "tools:read"));
        let without_default = rbac(&["roles"], &[], &[("admin", &["*"])]);
        assert!(!without_default.allows(&none, "agents:read"));
        assert!(!without_default.allows(&unknown, "agents:read"));
    }

    #[test]
    fn roles_and_permissions_come_from_nested_and_namespaced_claims() {
        let r = rbac(
            &[
                "org_role",
                "o.rol",
                "https://example.com/roles",
                "memberships.roles",
            ],
            &["permissions"],
            &[
                ("org:admin", &["*"]),
                ("editor", &["agents:write"]),
                ("ops", &["tools:*"]),
            ],
        );
        assert!(r.allows(&user(json!({"org_role": "org:admin"})), "memory:write"));
        assert!(r.allows(&user(json!({"o": {"rol": "editor"}})), "agents:write"));
        assert!(r.allows(
            &user(json!({"https://example.com/roles": ["editor"]})),
            "agents:write"
        ));
        assert!(r.allows(
            &user(json!({"memberships": [{"roles": ["viewer"]}, {"roles": ["ops"]}]})),
            "tools:execute"
        ));
        let direct = user(json!({"permissions": ["memory:read"]}));
        assert!(r.allows(&direct, "memory:read"));
        assert!(!r.allows(&direct, "memory:write"));
        // Non-string values are not roles.
        assert!(!r.allows(
            &user(json!({"org_role": {"x": "org:admin"}})),
            "memory:read"
        ));
        assert!(!r.allows(&user(json!({"org_role": 7})), "memory:read"));
    }

    #[test]
    fn grants_list_roles_and_the_permissions_they_resolve_to() {
        let r = rbac(
            &["roles"],
            &["permissions"],
            &[("member", &["*:read"]), ("_default", &["agents:read"])],
        );
        let g = r.grants(&user(
            json!({"roles": ["member", "member", "ghost"], "permissions": ["tools:execute", "*:read"]}),
        ));
        assert_eq!(g.roles, ["member", "ghost"]);
        assert_eq!(g.permissions, ["*:read", "agents:read", "tools:execute"]);
    }

    #[test]
    fn bad_configs_are_refused_naming_the_field() {
        let err = Rbac::new(RbacConfig::default()).unwrap_err();
        assert!(err.to_string().starts_with("roles_claim is empty"), "{err}");
        let err = Rbac::new(RbacConfig {
            roles_claim: vec!["roles".into()],
            roles: [("admin".to_owned(), vec!["agents".to_owned()])].into(),
            ..RbacConfig::default()
        })
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("roles.admin: \"agents\" is not a permission"),
            "{err}"
        );
        let err = Rbac::new(RbacConfig {
            roles_claim: vec![" ".into()],
            ..RbacConfig::default()
        })
        .unwrap_err();
        assert!(
            err.to_string().starts_with("roles_claim: a claim path"),
            "{err}"
        );
    }
}
