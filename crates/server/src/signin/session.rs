//! What the session cookie and the sign-in state cookie hold.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mastra_sso::{LoginRequest, Profile, TokenSet};
use serde::{Deserialize, Serialize};

/// A signed-in browser session: only what requests, refresh and logout need. Short field names
/// keep the cookie small. `Debug` shows no token.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Session {
    /// The access token the pipeline verifies on every request.
    #[serde(rename = "at")]
    pub(super) access_token: String,
    /// The refresh token, when the provider issued one.
    #[serde(rename = "rt", default, skip_serializing_if = "Option::is_none")]
    pub(super) refresh_token: Option<String>,
    /// When the access token expires (Unix seconds).
    #[serde(rename = "ax")]
    pub(super) access_expires_at: u64,
    /// When the session ends, refreshes included (Unix seconds): the sealed expiry.
    #[serde(rename = "end")]
    pub(super) ends_at: u64,
    /// Who signed in, for `/auth/me`.
    #[serde(rename = "u")]
    pub(super) profile: Profile,
    /// The provider's session id, for its logout URL.
    #[serde(rename = "sid", default, skip_serializing_if = "Option::is_none")]
    pub(super) provider_session_id: Option<String>,
    /// The organization (WorkOS), kept across refreshes.
    #[serde(rename = "org", default, skip_serializing_if = "Option::is_none")]
    pub(super) organization_id: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("access_expires_at", &self.access_expires_at)
            .field("ends_at", &self.ends_at)
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The session after a refresh: new tokens, the rest kept unless the provider sent news.
    pub(super) fn refreshed(&self, tokens: TokenSet, now: u64) -> Session {
        Session {
            access_expires_at: access_expiry(&tokens, now),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token.or_else(|| self.refresh_token.clone()),
            ends_at: self.ends_at,
            profile: tokens.profile.unwrap_or_else(|| self.profile.clone()),
            provider_session_id: tokens
                .session_id
                .or_else(|| self.provider_session_id.clone()),
            organization_id: tokens
                .organization_id
                .or_else(|| self.organization_id.clone()),
        }
    }
}

/// When an access token expires: `expires_in` when the provider said, else the token's `exp`
/// (read without verification: it only schedules the refresh; the pipeline verifies), else in
/// five minutes.
pub(super) fn access_expiry(tokens: &TokenSet, now: u64) -> u64 {
    tokens
        .expires_in
        .map(|s| now.saturating_add(s))
        .or_else(|| unverified_claim_u64(&tokens.access_token, "exp"))
        .unwrap_or(now + 300)
}

/// A numeric claim of a JWT's payload, unverified.
pub(super) fn unverified_claim_u64(jwt: &str, claim: &str) -> Option<u64> {
    unverified_payload(jwt)?.get(claim)?.as_u64()
}

fn unverified_payload(jwt: &str) -> Option<serde_json::Value> {
    let payload = jwt.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

/// A sign-in in progress: sealed into the state cookie between login and callback.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct PendingLogin {
    /// State, nonce and PKCE verifier.
    #[serde(rename = "l")]
    pub(super) login: LoginRequest,
    /// Where to send the browser after sign-in (checked at login).
    #[serde(rename = "to")]
    pub(super) redirect_to: String,
    /// The `redirect_uri` sent to the provider (the exchange must repeat it).
    #[serde(rename = "cb")]
    pub(super) callback: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn access_expiry_sources() {
        let mut t = TokenSet {
            access_token: jwt(r#"{"exp":5000,"sid":"s1"}"#),
            expires_in: Some(60),
            ..TokenSet::default()
        };
        assert_eq!(access_expiry(&t, 1000), 1060);
        t.expires_in = None;
        assert_eq!(access_expiry(&t, 1000), 5000);
        t.access_token = "opaque".into();
        assert_eq!(access_expiry(&t, 1000), 1300);
    }

    #[test]
    fn debug_shows_no_token() {
        let s = Session {
            access_token: "secret-at".into(),
            refresh_token: Some("secret-rt".into()),
            access_expires_at: 1,
            ends_at: 2,
            profile: Profile::default(),
            provider_session_id: None,
            organization_id: None,
        };
        assert!(!format!("{s:?}").contains("secret"));
    }
}
