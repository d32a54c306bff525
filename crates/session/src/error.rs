//! Typed failures of keys, sealing and opening. None of them carries key material or payload.

/// Why a secret cannot be used as a session key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The secret is shorter than [`crate::MIN_SECRET_LEN`] bytes.
    #[error(
        "the session secret is {len} bytes long; use at least {min} random bytes (e.g. `openssl rand -base64 32`)"
    )]
    TooShort {
        /// Its length.
        len: usize,
        /// The minimum.
        min: usize,
    },
    /// A sealer needs at least one key.
    #[error("no session key configured")]
    NoKeys,
}

/// Why a value could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The value did not serialize to JSON.
    #[error("the session value cannot be serialized: {0}")]
    Serialize(String),
    /// The sealed value would exceed [`crate::MAX_SEALED_LEN`]; store less in the session.
    #[error("the sealed session would be {len} bytes, more than the {max} a cookie can carry")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The random number generator or the cipher failed.
    #[error("sealing failed in the crypto library")]
    Crypto,
}

/// Why a sealed value was refused. Every variant means "no session".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// Longer than [`crate::MAX_SEALED_LEN`]; refused before any crypto.
    #[error("sealed value too long")]
    TooLarge,
    /// Not base64url, too short to hold a nonce and a tag, or an unknown format version.
    #[error("sealed value malformed")]
    Malformed,
    /// No key opens it: tampered with, sealed by another key, or sealed for another purpose.
    #[error("sealed value not authentic")]
    Unauthentic,
    /// Authentic but its expiry has passed.
    #[error("session expired")]
    Expired,
    /// Authentic but the payload is not the expected shape (an older or newer server wrote it).
    #[error("sealed payload has an unexpected shape")]
    Payload,
}
