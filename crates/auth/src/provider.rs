//! The provider contract: turn a credential into a [`User`], and optionally decide access.

use http::request::Parts;

use crate::User;
use crate::pattern::PatternList;
use crate::verdict::Verdict;

/// An authentication provider (Mastra's `MastraAuthProvider`).
///
/// One method per decision, each answering a [`Verdict`]: [`Verdict::Ready`] when the provider
/// can decide by computation alone (a verified-token cache hit, a locally held key, a claim
/// check), [`Verdict::Pending`] when it needs I/O. A wrapper forwards the verdict as it is, so a
/// member's ready answer stays ready.
///
/// [`AuthProvider::authenticate`] answers `Ok(None)` for "not a user" (401 `Invalid or expired
/// token`) and `Err(AuthError::Unavailable{..})` when a backend is down (503). A provider that
/// decides access itself overrides [`AuthProvider::authorizes`] and [`AuthProvider::authorize`];
/// otherwise the policy's `authorize` callback or rules decide.
///
/// [`AuthError::Unavailable`]: crate::AuthError::Unavailable
pub trait AuthProvider: Send + Sync + 'static {
    /// Provider name, recorded on every user it authenticates.
    fn name(&self) -> &str;

    /// Verifies a credential.
    fn authenticate<'a>(&'a self, token: &'a str, parts: &'a Parts) -> Verdict<'a, Option<User>>;

    /// Whether [`AuthProvider::authorize`] decides for this user (it then takes precedence over
    /// the policy's `authorize` callback, as in Mastra; configured rules still apply on top).
    /// Default: no, the policy decides.
    fn authorizes(&self, _user: &User) -> bool {
        false
    }

    /// Decides whether an authenticated user may proceed; asked only when
    /// [`AuthProvider::authorizes`] is true for that user. Default: any verified user.
    fn authorize<'a>(&'a self, _user: &'a User, _parts: &'a Parts) -> Verdict<'a, bool> {
        Verdict::Ready(Ok(true))
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
    /// [`crate::providers::composite`] uses it to refuse tokens of unknown issuers before crypto,
    /// on every request: keep the list, do not build it here.
    fn issuers(&self) -> &[String] {
        &[]
    }

    /// Whether this provider verifies JWTs at all (an API-key provider does not).
    fn handles_jwt(&self) -> bool {
        true
    }
}
