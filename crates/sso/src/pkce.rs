//! State, nonce and PKCE (RFC 7636, S256) for one sign-in attempt.

use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::SsoError;

/// 32 bytes from the system RNG, base64url (43 characters): unguessable state, nonce and
/// PKCE verifier (RFC 7636 §4.1 asks for 43 to 128 characters).
pub fn random_token() -> Result<String, SsoError> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| SsoError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The S256 challenge of a verifier: base64url(SHA-256(verifier)).
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()))
}

/// What one sign-in attempt must remember until its callback. `Debug` redacts the values.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// The `state` sent; the callback's must be equal.
    pub state: String,
    /// The `nonce` sent (OpenID); the ID token's must be equal.
    pub nonce: String,
    /// The PKCE verifier; its challenge was sent.
    pub verifier: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginRequest(<redacted>)")
    }
}

impl LoginRequest {
    /// Fresh random state, nonce and verifier.
    pub fn new() -> Result<Self, SsoError> {
        Ok(Self {
            state: random_token()?,
            nonce: random_token()?,
            verifier: random_token()?,
        })
    }

    /// The S256 challenge of [`LoginRequest::verifier`].
    pub fn challenge(&self) -> String {
        code_challenge(&self.verifier)
    }

    /// Whether `state` (from the callback) is this attempt's, compared in constant time.
    pub fn state_matches(&self, state: &str) -> bool {
        constant_time_eq(self.state.as_bytes(), state.as_bytes())
    }
}

/// Equality that does not stop at the first differing byte.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_example() {
        assert_eq!(
            code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn tokens_are_fresh_and_well_formed() {
        let a = LoginRequest::new().unwrap();
        let b = LoginRequest::new().unwrap();
        assert_ne!(a.state, b.state);
        assert_ne!(a.nonce, a.state);
        for t in [&a.state, &a.nonce, &a.verifier] {
            assert_eq!(t.len(), 43);
            assert!(
                t.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            );
        }
        assert_eq!(a.challenge(), code_challenge(&a.verifier));
    }

    #[test]
    fn state_comparison() {
        let r = LoginRequest::new().unwrap();
        assert!(r.state_matches(&r.state.clone()));
        assert!(!r.state_matches(&b_state(&r.state)));
        assert!(!r.state_matches(""));
        assert!(!r.state_matches(&r.state[..42]));
        assert_eq!(format!("{r:?}"), "LoginRequest(<redacted>)");
    }

    fn b_state(s: &str) -> String {
        let mut s = s.to_owned();
        let last = if s.ends_with('A') { "B" } else { "A" };
        s.replace_range(42.., last);
        s
    }
}
