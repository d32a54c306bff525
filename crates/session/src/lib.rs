//! Sealed, stateless browser sessions.
//!
//! A [`Sealer`] turns any serializable value into a cookie value that only the server can read
//! or forge ([`Sealer::seal`]) and back ([`Sealer::open`]). Nothing is stored on the server, so
//! replicas sharing the keys serve the same sessions.
//!
//! - **Cipher**: AES-256-GCM (aws-lc-rs) with a fresh random 96-bit nonce per seal. The key is
//!   derived from a configured secret with HKDF-SHA256, so a secret of any shape (at least
//!   [`MIN_SECRET_LEN`] bytes) yields a uniform key.
//! - **Rotation**: a sealer holds keys newest first; it seals with the first and opens with any,
//!   so a new secret can be put in front while sessions sealed with the old one keep working.
//! - **Purpose**: every value is sealed for a purpose (a cookie name), authenticated as
//!   associated data: a value sealed for one cookie never opens as another.
//! - **Expiry**: the expiry time is sealed with the value and checked on every open.
//! - **Size**: a sealed value longer than [`MAX_SEALED_LEN`] is refused when sealing (browsers
//!   drop cookies over 4 KiB) and when opening (before any crypto).
//!
//! Format of a sealed value: base64url without padding of `version (1) || nonce (12) ||
//! ciphertext || tag (16)`.

mod error;
mod key;
mod sealer;

pub use error::{KeyError, OpenError, SealError};
pub use key::{MIN_SECRET_LEN, SessionKey};
pub use sealer::{MAX_SEALED_LEN, Sealer, unix_now};
