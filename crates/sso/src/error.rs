//! [`SsoError`]: why a sign-in step failed. Never carries a code, token or secret.

use mastra_auth::idp_http::IdpError;

/// Why a sign-in step failed.
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// A setting is missing or malformed (startup-time).
    #[error("{setting}: {message}")]
    Config {
        /// The setting.
        setting: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The identity provider refused the request (`invalid_grant`: a used, expired or
    /// foreign code, a wrong PKCE verifier, a revoked refresh token).
    #[error("the identity provider refused the request: {0}")]
    Refused(String),
    /// The returned ID token is invalid (signature, issuer, audience, expiry) or its `nonce`
    /// differs from the one sent.
    #[error("the ID token was refused: {0}")]
    IdToken(String),
    /// The identity provider's answer lacks something the flow needs.
    #[error("unexpected answer from the identity provider: {0}")]
    Protocol(String),
    /// The identity provider could not be reached or answered with a server error.
    #[error("the identity provider is unavailable: {0}")]
    Unavailable(String),
    /// The random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

impl SsoError {
    /// Whether the identity provider was unreachable (a 503 at the edge, not a refusal).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, SsoError::Unavailable(_))
    }

    /// Maps a failed call to the identity provider: a 4xx is a refusal (with the OAuth `error`
    /// code when the body has one), anything else unavailability.
    pub(crate) fn from_idp(e: IdpError) -> Self {
        match &e {
            IdpError::Status { status, body, .. } if (400..500).contains(status) => {
                let code = serde_json::from_str::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v.get("error").and_then(|c| c.as_str()).map(str::to_owned))
                    .filter(|c| c.len() <= 64 && c.bytes().all(|b| b.is_ascii_graphic()))
                    .unwrap_or_else(|| format!("HTTP {status}"));
                SsoError::Refused(code)
            }
            IdpError::Insecure { .. } | IdpError::BadUrl(_) => SsoError::Config {
                setting: "url",
                message: e.to_string(),
            },
            IdpError::Decode { .. } => SsoError::Protocol(e.to_string()),
            _ => SsoError::Unavailable(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, body: &str) -> IdpError {
        IdpError::Status {
            url: "https://idp.example/token".into(),
            status,
            body: body.into(),
        }
    }

    #[test]
    fn client_errors_are_refusals_with_the_oauth_code() {
        match SsoError::from_idp(status(
            400,
            r#"{"error":"invalid_grant","error_description":"x"}"#,
        )) {
            SsoError::Refused(code) => assert_eq!(code, "invalid_grant"),
            other => panic!("{other:?}"),
        }
        match SsoError::from_idp(status(401, "not json")) {
            SsoError::Refused(code) => assert_eq!(code, "HTTP 401"),
            other => panic!("{other:?}"),
        }
        // an `error` value that is not a short token is not echoed
        match SsoError::from_idp(status(400, r#"{"error":"a b <script>"}"#)) {
            SsoError::Refused(code) => assert_eq!(code, "HTTP 400"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn server_errors_and_timeouts_are_unavailability() {
        assert!(SsoError::from_idp(status(502, "")).is_unavailable());
        assert!(
            SsoError::from_idp(IdpError::Timeout {
                url: "https://idp.example".into()
            })
            .is_unavailable()
        );
    }
}
