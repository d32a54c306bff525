//! What a code exchange or refresh returns.

use serde::{Deserialize, Serialize};

/// Who signed in, for display (`/api/auth/me`): from the ID token or the provider's user object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// The user's id at the identity provider (`sub`).
    pub id: String,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

/// Tokens from the identity provider. `Debug` shows which are present, never their values.
#[derive(Clone, Default)]
pub struct TokenSet {
    /// The access token (a JWT the server's auth provider verifies).
    pub access_token: String,
    /// The refresh token, when the provider issued one.
    pub refresh_token: Option<String>,
    /// Seconds until the access token expires, when the provider said (`expires_in`).
    pub expires_in: Option<u64>,
    /// Who signed in: the verified ID token's claims (OIDC) or the user object (WorkOS); `None`
    /// when a refresh returned neither.
    pub profile: Option<Profile>,
    /// The provider's session id, for its logout URL (WorkOS: the access token's `sid`).
    pub session_id: Option<String>,
    /// The organization the session is for (WorkOS `organization_id`).
    pub organization_id: Option<String>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_in", &self.expires_in)
            .field("profile", &self.profile)
            .field("organization_id", &self.organization_id)
            .finish_non_exhaustive()
    }
}

/// The standard token endpoint answer (RFC 6749 §5.1, OpenID Core §3.1.3.3).
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    #[serde(default)]
    pub(crate) refresh_token: Option<String>,
    #[serde(default)]
    pub(crate) id_token: Option<String>,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_tokens() {
        let t = TokenSet {
            access_token: "secret-access".into(),
            refresh_token: Some("secret-refresh".into()),
            ..TokenSet::default()
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
