//! [`SessionKey`]: an AES-256-GCM key derived from a configured secret.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
use aws_lc_rs::hkdf;

use crate::KeyError;

/// The shortest secret accepted, in bytes (as long as the key it becomes).
pub const MIN_SECRET_LEN: usize = 32;

/// Fixed HKDF salt and info: they separate session keys from any other use of the same secret.
const SALT: &[u8] = b"mastra-session";
const INFO: &[u8] = b"mastra-session aes-256-gcm v1";

/// One session key. `Debug` shows nothing of it.
pub struct SessionKey {
    pub(crate) key: LessSafeKey,
}

impl SessionKey {
    /// Derives the key from a secret of at least [`MIN_SECRET_LEN`] bytes (HKDF-SHA256).
    pub fn from_secret(secret: &str) -> Result<Self, KeyError> {
        let len = secret.len();
        if len < MIN_SECRET_LEN {
            return Err(KeyError::TooShort {
                len,
                min: MIN_SECRET_LEN,
            });
        }
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT).extract(secret.as_bytes());
        let info = [INFO];
        // `expand` fails only when asked for more than 255 hash lengths; 32 bytes never are.
        let okm = prk
            .expand(&info, &AES_256_GCM)
            .map_err(|_| KeyError::NoKeys)?;
        Ok(Self {
            key: LessSafeKey::new(UnboundKey::from(okm)),
        })
    }
}

impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(
            SessionKey::from_secret("short").unwrap_err(),
            KeyError::TooShort { len: 5, min: 32 }
        );
        assert!(SessionKey::from_secret(&"x".repeat(31)).is_err());
        assert!(SessionKey::from_secret(&"x".repeat(32)).is_ok());
    }

    #[test]
    fn debug_redacts() {
        let k = SessionKey::from_secret(&"s".repeat(40)).unwrap();
        assert_eq!(format!("{k:?}"), "SessionKey(<redacted>)");
    }
}
