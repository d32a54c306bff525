//! [`KeySetError`]: why a key-set fetch failed.

use crate::idp_http::IdpError;

/// Why a key-set fetch failed. Never contains tokens or key material.
#[derive(Debug, Clone, thiserror::Error)]
pub enum KeySetError {
    /// The HTTP call failed (transport, timeout, status, size cap).
    #[error(transparent)]
    Idp(#[from] IdpError),
    /// The answer is not a key document of the configured format.
    #[error("{url}: not a usable key document: {message}")]
    Document {
        /// The URL (without query).
        url: String,
        /// What is wrong.
        message: String,
    },
    /// A recent fetch failed and the retry backoff is running.
    #[error("{url}: last fetch failed {ago_ms} ms ago ({cause}); not retrying yet")]
    Backoff {
        /// The URL (without query).
        url: String,
        /// Milliseconds since the failure.
        ago_ms: u128,
        /// The failure.
        cause: String,
    },
    /// The fetch task was cancelled (runtime shutting down).
    #[error("{url}: key-set fetch was cancelled")]
    Cancelled {
        /// The URL (without query).
        url: String,
    },
}
