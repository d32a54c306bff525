//! `provider = "composite"`: several providers in order; the first that authenticates wins.
//!
//! Differences from Mastra's `CompositeAuth`, on purpose:
//! - a JWT whose (unverified) `iss` no member accepts is refused before any crypto or network;
//! - authorization is decided by the member that authenticated the user, not by "any member
//!   says yes" (with Mastra, a provider that allows every verified user would authorize users
//!   authenticated by a stricter one);
//! - a member's backend being down is a 503 when no other member accepted the token.

use std::sync::Arc;

use http::request::Parts;
use serde_json::Value;

use crate::User;
use crate::error::AuthError;
use crate::jwt::{self, Rejection};
use crate::pattern::PatternList;
use crate::provider::AuthProvider;
use crate::verdict::Verdict;

/// An ordered list of providers acting as one.
pub struct CompositeProvider {
    name: String,
    members: Vec<Arc<dyn AuthProvider>>,
    cookie_names: Vec<&'static str>,
    issuers: Vec<String>,
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
    #[error("providers is empty: list at least one provider")]
    Empty,
    /// Two members with one name (users record the provider name, so it must be unique).
    #[error("providers: two providers are named {0:?}; give each a distinct `name`")]
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
        // Any issuer as soon as one JWT member accepts any; else the members' issuers.
        let issuers = if members
            .iter()
            .any(|m| m.handles_jwt() && m.issuers().is_empty())
        {
            Vec::new()
        } else {
            members.iter().flat_map(|m| m.issuers()).cloned().collect()
        };
        Ok(Self {
            name: name.into(),
            members,
            cookie_names,
            issuers,
        })
    }

    fn member_of(&self, user: &User) -> Option<&Arc<dyn AuthProvider>> {
        self.members.iter().find(|m| m.name() == &*user.provider)
    }

    /// The members that may verify a token with this (unverified) `iss`, in order: for a JWT
    /// with an `iss`, those that accept that issuer (or any issuer), plus non-JWT providers;
    /// otherwise all.
    fn candidates<'s, 'i>(
        &'s self,
        iss: Option<&'i str>,
    ) -> impl Iterator<Item = &'s Arc<dyn AuthProvider>> + Send + use<'s, 'i> {
        self.members.iter().filter(move |m| match iss {
            None => true,
            Some(iss) => {
                !m.handles_jwt() || m.issuers().is_empty() || m.issuers().iter().any(|i| i == iss)
            }
        })
    }
}

/// The members' answers so far: the first user wins; otherwise a backend being down beats a
/// refusal, so that an outage is a 503 rather than a 401.
#[derive(Default)]
struct Outcome {
    unavailable: Option<AuthError>,
    refused: Option<AuthError>,
}

impl Outcome {
    /// Records a member's answer; `Some` is a user, the composite's answer.
    fn record(&mut self, answer: Result<Option<User>, AuthError>) -> Option<User> {
        match answer {
            Ok(user) => return user,
            Err(e @ AuthError::Unavailable { .. }) => self.unavailable = Some(e),
            Err(e) => self.refused = Some(e),
        }
        None
    }

    /// The answer once every candidate refused.
    fn finish(self) -> Result<Option<User>, AuthError> {
        match (self.unavailable, self.refused) {
            (Some(e), _) | (None, Some(e)) => Err(e),
            (None, None) => Ok(None),
        }
    }
}

impl AuthProvider for CompositeProvider {
    fn name(&self) -> &str {
        &self.name
    }

    /// Asks the candidates in order, inline while they answer ready; from the first that answers
    /// pending on, the rest is one future.
    fn authenticate<'a>(&'a self, token: &'a str, parts: &'a Parts) -> Verdict<'a, Option<User>> {
        let parsed = jwt::parse(token, jwt::DEFAULT_MAX_TOKEN_BYTES).ok();
        let iss = parsed
            .as_ref()
            .and_then(|t| t.claims.get("iss"))
            .and_then(Value::as_str);
        let mut outcome = Outcome::default();
        let mut asked = 0usize;
        for m in self.candidates(iss) {
            asked += 1;
            match m.authenticate(token, parts) {
                Verdict::Ready(answer) => {
                    if let Some(user) = outcome.record(answer) {
                        return Verdict::Ready(Ok(Some(user)));
                    }
                }
                Verdict::Pending(answer) => {
                    let iss = iss.map(str::to_owned);
                    return Verdict::pending(async move {
                        if let Some(user) = outcome.record(answer.await) {
                            return Ok(Some(user));
                        }
                        for m in self.candidates(iss.as_deref()).skip(asked) {
                            if let Some(user) = outcome.record(m.authenticate(token, parts).await) {
                                return Ok(Some(user));
                            }
                        }
                        outcome.finish()
                    });
                }
            }
        }
        if asked == 0 {
            return Verdict::Ready(Err(AuthError::InvalidToken(Rejection::Provider(
                "no configured provider accepts this token's issuer".into(),
            ))));
        }
        Verdict::Ready(outcome.finish())
    }

    /// The member that authenticated the user decides; members without their own authorizer
    /// leave the decision to the policy (callback or rules).
    fn authorizes(&self, user: &User) -> bool {
        self.member_of(user).is_none_or(|m| m.authorizes(user))
    }

    fn authorize<'a>(&'a self, user: &'a User, parts: &'a Parts) -> Verdict<'a, bool> {
        match self.member_of(user) {
            Some(m) => m.authorize(user, parts),
            // A user no member authenticated: never allow.
            None => Verdict::Ready(Ok(false)),
        }
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

    fn issuers(&self) -> &[String] {
        &self.issuers
    }
}
