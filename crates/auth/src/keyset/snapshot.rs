//! One parsed, immutable generation of a key set, and verifying a token with it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::error::AuthError;
use crate::jwt::{self, ClaimsPolicy, PreparedKey, VerifyKey};

/// A verified token's claims and `exp`.
pub type Verified = (Map<String, Value>, Option<f64>);

/// One parsed, immutable generation of the key set.
pub(super) struct Snapshot {
    /// The usable keys.
    pub(super) keys: Arc<[VerifyKey]>,
    /// `keys`, made ready for the crypto backend once per refresh (index for index).
    pub(super) prepared: Arc<[PreparedKey]>,
    /// The `kid`s of `keys`.
    pub(super) kids: HashSet<String>,
    /// Whether some key has no `kid` (it then matches any token kid).
    pub(super) has_kidless: bool,
    /// The document's `ETag`, for revalidation.
    pub(super) etag: Option<String>,
    /// When the keys were last fetched or revalidated.
    pub(super) validated_at: Instant,
    /// How long they are fresh from `validated_at`.
    pub(super) ttl: Duration,
}

impl Snapshot {
    /// When the keys stop being fresh.
    pub(super) fn expires_at(&self) -> Instant {
        self.validated_at + self.ttl
    }

    /// The signature with these keys, then the claims.
    pub(super) fn verify(
        &self,
        parsed: jwt::ParsedToken<'_>,
        policy: &ClaimsPolicy,
    ) -> Result<Verified, AuthError> {
        jwt::verify_signature_prepared(&parsed, &self.keys, &self.prepared)
            .map_err(AuthError::InvalidToken)?;
        let exp = jwt::check_claims(&parsed.claims, policy, jwt::now_secs())
            .map_err(AuthError::InvalidToken)?;
        Ok((parsed.claims, exp))
    }

    /// Whether a key may have this `kid`.
    pub(super) fn has_kid(&self, kid: &str) -> bool {
        // A key without `kid` matches any token kid (see `jwt::verify_signature`).
        self.has_kidless || self.kids.contains(kid)
    }
}
