//! Whose threads a request may touch, decided once from the authenticated user: the resource id
//! of a signed-in caller comes from a claim of their verified token (`[memory] resource_claim`,
//! `sub` by default), never from the request.

use std::collections::HashSet;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use mastra_auth::User;
use mastra_memory::Scope;
use serde_json::Value;

use super::Memory;
use crate::api::{ApiError, Issue};

/// How callers map to resources (from `[memory]` and whether auth is on).
#[derive(Debug, Clone)]
pub(crate) struct Ownership {
    /// Whether the server authenticates requests (`auth.provider` other than `none`).
    pub(crate) auth: bool,
    /// The claim that holds a signed-in user's resource id.
    pub(crate) claim: String,
    /// User ids allowed to name any resource.
    pub(crate) cross_resource: HashSet<String>,
}

/// The caller as memory sees it: a [`Scope`] for the store, and their own resource id when
/// they have one. Handlers get it as an extractor, so none can reach the store without it.
#[derive(Debug, Clone)]
pub(crate) struct Owner {
    scope: Scope,
    own: Option<String>,
}

/// 403 for naming a resource outside the caller's scope.
pub(super) fn foreign_resource() -> ApiError {
    ApiError::Forbidden("Access denied: resourceId does not match the authenticated user".into())
}

impl Ownership {
    /// The owner of a request made by `user` (`None`: no verified user on the request).
    pub(crate) fn owner(&self, user: Option<&User>) -> Result<Owner, ApiError> {
        if !self.auth {
            // No authentication: Mastra's behaviour, the request names the resource.
            return Ok(Owner {
                scope: Scope::unrestricted(),
                own: None,
            });
        }
        // Auth is on but this route was let through without a user (made public by config):
        // with no identity there is no resource, so nothing is allowed.
        let user = user.ok_or(ApiError::Unauthenticated)?;
        let own = match user.claim(&self.claim) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        if self.cross_resource.contains(&user.id) {
            return Ok(Owner {
                scope: Scope::unrestricted(),
                own,
            });
        }
        let own = own.ok_or_else(|| {
            ApiError::Forbidden(format!(
                "Access denied: the token has no `{}` claim to identify its owner",
                self.claim
            ))
        })?;
        Ok(Owner {
            scope: Scope::resource(own.clone()),
            own: Some(own),
        })
    }
}

impl Owner {
    /// The scope every store call of this request takes.
    pub(crate) fn scope(&self) -> &Scope {
        &self.scope
    }

    /// The resource a request acts for: the caller's own when it names none or names it; a
    /// resource it names when the scope admits it; a 403 for any other; a 400 when there is
    /// none at all (auth off and the request names none).
    pub(crate) fn resource_for(
        &self,
        requested: Option<&str>,
        field: &str,
    ) -> Result<String, ApiError> {
        match (requested.filter(|r| !r.is_empty()), &self.own) {
            (Some(r), _) if self.scope.admits(r) => Ok(r.to_owned()),
            (Some(_), _) => Err(foreign_resource()),
            (None, Some(own)) => Ok(own.clone()),
            (None, None) => Err(ApiError::InvalidBody(vec![Issue::new(
                field,
                "Invalid input: expected string, received undefined",
            )])),
        }
    }

    /// The resource named by a request that lists or reads, checked against the scope (`None`:
    /// it named none).
    pub(crate) fn named_resource(
        &self,
        requested: Option<&str>,
    ) -> Result<Option<String>, ApiError> {
        match requested.filter(|r| !r.is_empty()) {
            Some(r) if self.scope.admits(r) => Ok(Some(r.to_owned())),
            Some(_) => Err(foreign_resource()),
            None => Ok(None),
        }
    }
}

impl FromRequestParts<std::sync::Arc<Memory>> for Owner {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        memory: &std::sync::Arc<Memory>,
    ) -> Result<Self, Self::Rejection> {
        memory.ownership.owner(parts.extensions.get::<User>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(claims: Value) -> User {
        User::from_claims(
            claims.as_object().cloned().unwrap_or_default(),
            "jwt".into(),
        )
    }

    fn ownership(auth: bool) -> Ownership {
        Ownership {
            auth,
            claim: "sub".into(),
            cross_resource: ["ops-bot".to_string()].into_iter().collect(),
        }
    }

    #[test]
    fn a_signed_in_user_owns_only_their_claim() {
        let o = ownership(true)
            .owner(Some(&user(json!({"sub": "alice"}))))
            .unwrap();
        assert_eq!(o.resource_for(None, "resourceId").unwrap(), "alice");
        assert_eq!(
            o.resource_for(Some("alice"), "resourceId").unwrap(),
            "alice"
        );
        let e = o.resource_for(Some("bob"), "resourceId").unwrap_err();
        assert_eq!(e.status(), 403);
        assert_eq!(o.named_resource(Some("bob")).unwrap_err().status(), 403);
        assert!(!o.scope().admits("bob"));
    }

    #[test]
    fn fails_closed_without_a_user_or_claim() {
        let own = ownership(true);
        assert_eq!(own.owner(None).unwrap_err().status(), 401);
        let no_claim = user(json!({"id": "x"}));
        assert_eq!(own.owner(Some(&no_claim)).unwrap_err().status(), 403);
        let number = user(json!({"sub": 7}));
        assert_eq!(own.owner(Some(&number)).unwrap_err().status(), 403);
    }

    #[test]
    fn cross_resource_principals_and_auth_off_name_any_resource() {
        let bot = ownership(true)
            .owner(Some(&user(json!({"sub": "ops-bot"}))))
            .unwrap();
        assert_eq!(
            bot.resource_for(Some("alice"), "resourceId").unwrap(),
            "alice"
        );
        assert_eq!(bot.resource_for(None, "resourceId").unwrap(), "ops-bot");
        let open = ownership(false).owner(None).unwrap();
        assert_eq!(open.resource_for(Some("bob"), "resourceId").unwrap(), "bob");
        assert_eq!(
            open.resource_for(None, "resourceId").unwrap_err().status(),
            400
        );
    }
}
