//! [`LocalChecker`]: fine-grained authorization from relationship tuples held in config, for
//! deployments without WorkOS.

use std::collections::HashMap;

use super::{FgaChecker, Resource};
use crate::User;
use crate::permission::{self, PermissionError};
use crate::verdict::Verdict;

/// One relationship: `subject` holds `permission` on `resource`.
///
/// `subject` is `user:<id>` (the authenticated user's id) or `*` (every authenticated user);
/// `resource` is `<kind>:<id>`, `<kind>:*` (every resource of that kind) or `*`; `permission`
/// is a permission with the usual wildcards (`agents:*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Deserialize),
    serde(deny_unknown_fields)
)]
pub struct Tuple {
    /// `user:<id>` or `*`.
    pub subject: String,
    /// `resource:action`, wildcards allowed.
    pub permission: String,
    /// `<kind>:<id>`, `<kind>:*` or `*`.
    pub resource: String,
}

/// Why a tuple is refused. Messages begin with the field at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TupleError {
    /// The subject is neither `user:<id>` nor `*`.
    #[error("tuples[{0}].subject {1:?}: write `user:<id>` or `*`")]
    Subject(usize, String),
    /// The resource is not `<kind>:<id>`, `<kind>:*` or `*`.
    #[error("tuples[{0}].resource {1:?}: write `<kind>:<id>`, `<kind>:*` or `*`")]
    Resource(usize, String),
    /// The permission is malformed.
    #[error("tuples[{0}].permission: {1}")]
    Permission(usize, PermissionError),
}

/// Answers from a fixed list of tuples, always ready. Tuples are indexed by subject, so a check
/// reads only the user's own tuples and those for everyone.
#[derive(Debug, Clone)]
pub struct LocalChecker {
    by_user: HashMap<String, Vec<Tuple>>,
    everyone: Vec<Tuple>,
}

impl LocalChecker {
    /// Checks every tuple's syntax.
    pub fn new(tuples: Vec<Tuple>) -> Result<Self, TupleError> {
        for (i, t) in tuples.iter().enumerate() {
            let subject_ok = t.subject == "*"
                || t.subject
                    .strip_prefix("user:")
                    .is_some_and(|id| !id.is_empty());
            if !subject_ok {
                return Err(TupleError::Subject(i, t.subject.clone()));
            }
            let resource_ok = t.resource == "*"
                || t.resource
                    .split_once(':')
                    .is_some_and(|(kind, id)| !kind.is_empty() && !id.is_empty());
            if !resource_ok {
                return Err(TupleError::Resource(i, t.resource.clone()));
            }
            permission::validate(&t.permission).map_err(|e| TupleError::Permission(i, e))?;
        }
        let mut by_user: HashMap<String, Vec<Tuple>> = HashMap::new();
        let mut everyone = Vec::new();
        for t in tuples {
            match t.subject.strip_prefix("user:") {
                Some(id) => by_user.entry(id.to_owned()).or_default().push(t),
                None => everyone.push(t),
            }
        }
        Ok(Self { by_user, everyone })
    }

    fn holds(&self, user: &User, required: &str, resource: Resource<'_>) -> bool {
        let own = if user.id.is_empty() {
            None
        } else {
            self.by_user.get(user.id.as_str())
        };
        own.into_iter().flatten().chain(&self.everyone).any(|t| {
            let on = t.resource == "*"
                || t.resource.split_once(':').is_some_and(|(kind, id)| {
                    kind == resource.kind && (id == "*" || id == resource.id)
                });
            on && permission::covers(&t.permission, required)
        })
    }
}

impl FgaChecker for LocalChecker {
    fn check<'a>(
        &'a self,
        user: &'a User,
        permission: &'a str,
        resource: Resource<'a>,
    ) -> Verdict<'a, bool> {
        Verdict::Ready(Ok(self.holds(user, permission, resource)))
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_user as user;
    use super::*;

    fn tuple(subject: &str, permission: &str, resource: &str) -> Tuple {
        Tuple {
            subject: subject.into(),
            permission: permission.into(),
            resource: resource.into(),
        }
    }

    fn holds(c: &LocalChecker, u: &str, p: &str, kind: &str, id: &str) -> bool {
        matches!(
            c.check(&user(u), p, Resource { kind, id }),
            Verdict::Ready(Ok(true))
        )
    }

    #[test]
    fn tuples_grant_by_subject_permission_and_resource() {
        let c = LocalChecker::new(vec![
            tuple("user:alice", "agents:*", "agent:weatherAgent"),
            tuple("user:bob", "agents:read", "agent:*"),
            tuple("*", "tools:read", "tool:calculator"),
        ])
        .unwrap();
        assert!(holds(
            &c,
            "alice",
            "agents:execute",
            "agent",
            "weatherAgent"
        ));
        assert!(!holds(
            &c,
            "alice",
            "agents:execute",
            "agent",
            "secretAgent"
        ));
        assert!(holds(&c, "bob", "agents:read", "agent", "secretAgent"));
        assert!(!holds(&c, "bob", "agents:execute", "agent", "weatherAgent"));
        assert!(holds(&c, "carol", "tools:read", "tool", "calculator"));
        assert!(!holds(&c, "carol", "tools:read", "tool", "other"));
        assert!(!holds(&c, "", "agents:read", "agent", "weatherAgent"));
        // A kind is not an id of another kind.
        assert!(!holds(&c, "alice", "agents:read", "tool", "weatherAgent"));
    }

    #[test]
    fn malformed_tuples_are_refused_naming_the_field() {
        let err = LocalChecker::new(vec![tuple("alice", "agents:read", "agent:x")]).unwrap_err();
        assert!(err.to_string().starts_with("tuples[0].subject"), "{err}");
        let err = LocalChecker::new(vec![tuple("*", "agents:read", "agent")]).unwrap_err();
        assert!(err.to_string().starts_with("tuples[0].resource"), "{err}");
        let err = LocalChecker::new(vec![tuple("*", "agents", "*")]).unwrap_err();
        assert!(err.to_string().starts_with("tuples[0].permission"), "{err}");
    }
}
