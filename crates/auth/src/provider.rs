//! The provider contract: turn a credential into a [`User`], and optionally decide access.

use async_trait::async_trait;
use http::request::Parts;

use crate::User;
use crate::error::AuthError;
use crate::pattern::PatternList;

/// An authentication provider (Mastra's `MastraAuthProvider`).
///
/// `authenticate_token` returns `Ok(None)` for "not a user" (401 `Invalid or expired token`) and
/// `Err(AuthError::Unavailable{..})` when a backend is down (503). A provider that decides access
/// itself overrides both [`AuthProvider::authorize_user`] and [`AuthProvider::has_authorize_user`];
/// otherwise the policy's `authorize` callback or rules decide.
#[async_trait]
pub trait AuthProvider: Send + Sync + 'static {
    /// Provider name, recorded on every user it authenticates.
    fn name(&self) -> &str;

    /// Verifies a credential.
    async fn authenticate_token(
        &self,
        token: &str,
        parts: &Parts,
    ) -> Result<Option<User>, AuthError>;

    /// Verifies a credential now, without awaiting anything, when this provider can decide by
    /// computation alone (a verified-token cache hit, a locally held key). `None` = not without
    /// I/O: the pipeline then calls [`AuthProvider::authenticate_token`]. When it answers, the
    /// answer must be the one `authenticate_token` would give. Default: `None`.
    fn authenticate_now(
        &self,
        _token: &str,
        _parts: &Parts,
    ) -> Option<Result<Option<User>, AuthError>> {
        None
    }

    /// [`AuthProvider::authorize_user`] without awaiting, when it needs no I/O; `None` = call the
    /// async method. Default: `None`.
    fn authorize_user_now(&self, _user: &User, _parts: &Parts) -> Option<Result<bool, AuthError>> {
        None
    }

    /// Decides whether an authenticated user may proceed. Default: any verified user.
    async fn authorize_user(&self, _user: &User, _parts: &Parts) -> Result<bool, AuthError> {
        Ok(true)
    }

    /// Whether [`AuthProvider::authorize_user`] is a real decision (it then takes precedence over
    /// the policy's `authorize` callback, as in Mastra; configured rules still apply on top).
    fn has_authorize_user(&self) -> bool {
        false
    }

    /// Whether [`AuthProvider::authorize_user`] decides for this particular user; when false the
    /// policy's callback decides. Rules apply either way. Default: [`AuthProvider::has_authorize_user`].
    fn authorizes(&self, _user: &User) -> bool {
        self.has_authorize_user()
    }

    /// Paths this provider adds to the public list.
    fn public(&self) -> PatternList {
        PatternList::default()
    }

    /// Paths this provider adds to the protected list.
    fn protected(&self) -> PatternList {
        PatternList::default()
    }

    /// Cookie names this provider reads a token from, when no header or query token is present.
    fn cookie_names(&self) -> &[&str] {
        &[]
    }

    /// The `iss` values this provider's tokens carry; empty = any (or not a JWT provider).
    /// [`crate::providers::composite`] uses it to refuse tokens of unknown issuers before crypto.
    fn issuers(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether this provider verifies JWTs at all (an API-key provider does not).
    fn handles_jwt(&self) -> bool {
        true
    }
}
