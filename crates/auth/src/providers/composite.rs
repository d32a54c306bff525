//! `provider = "composite"`: several providers in order; the first that authenticates wins.
//!
//! Differences from Mastra's `CompositeAuth`, on purpose:
//! - a JWT whose (unverified) `iss` no member accepts is refused before any crypto or network;
//! - authorization is decided by the member that authenticated the user, not by "any member
//!   says yes" (with Mastra, a provider that allows every verified user would authorize users
//!   authenticated by a stricter one);
//! - a member's backend being down is a 503 when no other member accepted the token.

use std::sync::Arc;

use async_trait::async_trait;
use http::request::Parts;

use crate::User;
use crate::error::AuthError;
use crate::jwt::{self, Rejection};
use crate::pattern::PatternList;
use crate::provider::AuthProvider;

/// An ordered list of providers acting as one.
pub struct CompositeProvider {
    name: String,
    members: Vec<Arc<dyn AuthProvider>>,
    cookie_names: Vec<&'static str>,
}

impl std::fmt::Debug for CompositeProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompositeProvider")
            .field("name", &self.name)
            .field(
                "members",
                &self
                    .members
                    .iter()
                    .map(|m| m.name().to_owned())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Composite construction errors.
#[derive(Debug, thiserror::Error)]
pub enum CompositeError {
    /// No members.
    #[error("auth.composite.providers is empty: list at least one provider")]
    Empty,
    /// Two members with one name (users record the provider name, so it must be unique).
    #[error("auth.composite.providers: two providers are named {0:?}; give each a distinct `name`")]
    DuplicateName(String),
}

impl CompositeProvider {
    /// Combines providers; names must be unique.
    pub fn new(
        name: impl Into<String>,
        members: Vec<Arc<dyn AuthProvider>>,
    ) -> Result<Self, CompositeError> {
        if members.is_empty() {
            return Err(CompositeError::Empty);
        }
        let mut seen = std::collections::HashSet::new();
        for m in &members {
            if !seen.insert(m.name().to_owned()) {
                return Err(CompositeError::DuplicateName(m.name().to_owned()));
            }
        }
        // Cookie names live as long as the members; collect them once, leaked into 'static
        // because the trait hands out `&[&str]` and providers are built once at startup.
        let mut cookie_names: Vec<&'static str> = Vec::new();
        for m in &members {
            for c in m.cookie_names() {
                if !cookie_names.contains(c) {
                    cookie_names.push(Box::leak(c.to_string().into_boxed_str()));
                }
            }
        }
        Ok(Self {
            name: name.into(),
            members,
            cookie_names,
        })
    }

    fn member_of(&self, user: &User) -> Option<&Arc<dyn AuthProvider>> {
        self.members.iter().find(|m| m.name() == &*user.provider)
    }

    /// The members that may verify this token: for a JWT with an `iss`, those that accept that
    /// issuer (or any issuer), plus non-JWT providers; otherwise all.
    fn candidates(&self, token: &str) -> Vec<&Arc<dyn AuthProvider>> {
        let iss = jwt::parse(token, jwt::DEFAULT_MAX_TOKEN_BYTES)
            .ok()
            .and_then(|t| {
                t.claims
                    .get("iss")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            });
        match iss {
            None => self.members.iter().collect(),
            Some(iss) => self
                .members
                .iter()
                .filter(|m| {
                    if !m.handles_jwt() {
                        return true;
                    }
                    let issuers = m.issuers();
                    issuers.is_empty() || issuers.iter().any(|i| i == &iss)
                })
                .collect(),
        }
    }
}

#[async_trait]
impl AuthProvider for CompositeProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn authenticate_token(
        &self,
        token: &str,
        parts: &Parts,
    ) -> Result<Option<User>, AuthError> {
        let candidates = self.candidates(token);
        if candidates.is_empty() {
            return Err(AuthError::InvalidToken(Rejection::Provider(
                "no configured provider accepts this token's issuer".into(),
            )));
        }
        let mut unavailable = None;
        let mut last = None;
        for m in candidates {
            match m.authenticate_token(token, parts).await {
                Ok(Some(user)) => return Ok(Some(user)),
                Ok(None) => {}
                Err(e @ AuthError::Unavailable { .. }) => unavailable = Some(e),
                Err(e) => last = Some(e),
            }
        }
        match (unavailable, last) {
            (Some(e), _) => Err(e),
            (None, Some(e)) => Err(e),
            (None, None) => Ok(None),
        }
    }

    async fn authorize_user(&self, user: &User, parts: &Parts) -> Result<bool, AuthError> {
        match self.member_of(user) {
            Some(m) => m.authorize_user(user, parts).await,
            // A user no member authenticated: never allow.
            None => Ok(false),
        }
    }

    fn has_authorize_user(&self) -> bool {
        self.members.iter().any(|m| m.has_authorize_user())
    }

    /// The member that authenticated the user decides; members without their own authorizer
    /// leave the decision to the policy (callback or rules).
    fn authorizes(&self, user: &User) -> bool {
        self.member_of(user).is_none_or(|m| m.authorizes(user))
    }

    fn public(&self) -> PatternList {
        self.members.iter().flat_map(|m| m.public()).collect()
    }

    fn protected(&self) -> PatternList {
        self.members.iter().flat_map(|m| m.protected()).collect()
    }

    fn cookie_names(&self) -> &[&str] {
        &self.cookie_names
    }

    fn issuers(&self) -> Vec<String> {
        if self
            .members
            .iter()
            .any(|m| m.handles_jwt() && m.issuers().is_empty())
        {
            return Vec::new();
        }
        self.members.iter().flat_map(|m| m.issuers()).collect()
    }
}
