//! Remote key sets (JWKS documents and Google's X.509 certificate maps), fetched, parsed once per
//! refresh, cached and refreshed in the background (ARCHITECTURE.md, verifying tokens).
//!
//! One [`KeySet`] per issuer / URL, never shared across providers or tenants: a token is only
//! ever checked against the keys of the set its provider configured.
//!
//! Behaviour:
//! - Fetched through [`IdpClient`] (HTTPS, or plain HTTP to loopback by explicit opt-in; timeouts;
//!   size cap; no redirects).
//! - Keys are parsed once per refresh into [`VerifyKey`]s bound to the algorithms their
//!   `kty`/`crv`/`alg` allow; `use` other than `sig`, `key_ops` without `verify`, symmetric
//!   keys, RSA moduli under 2048 bits, Ed25519 keys of small order, unknown curves and malformed
//!   members are skipped (logged) without failing the set.
//! - Lifetime: `Cache-Control: max-age` clamped to `[min_ttl, max_ttl]` (`no-store`/`no-cache`
//!   count as `min_ttl`), `default_ttl` otherwise. `ETag`/`If-None-Match` revalidation: a 304
//!   keeps the keys and restarts the lifetime.
//! - Readers load an [`arc_swap`] snapshot and never wait on a lock held across I/O. A cold set
//!   (or one stale past `stale_if_error`) makes exactly one fetch however many callers arrive
//!   (single-flight, run as its own task so a cancelled request does not cancel the fetch).
//! - A background task (holding only a `Weak`, aborted when the set is dropped) refreshes
//!   shortly before expiry and retries failures with backoff.
//! - Unknown `kid`: at most one forced refresh per `refresh_cooldown` (single-flight); kids
//!   still unknown after a refresh are negatively cached for the cooldown.
//! - Stale-if-error: an expired set keeps being served for up to `stale_if_error` past its
//!   expiry while refreshes fail. No usable set and the fetch fails -> 503
//!   ([`AuthError::authentication_unavailable`]), never 401 and never allow.
//! - After a failed fetch, requests that would start another get that failure (503) for
//!   [`FETCH_FAILURE_BACKOFF`] instead.
//!
//! The parts, one module each: `config` (settings, and the lifetime a response gives the keys);
//! `parse`, `jwk` and `x509` (key documents to keys, refusing weak keys with the
//! checks the `jwt` provider also uses); `snapshot` (one generation of
//! keys, which readers verify with); `fetch` (fetching and refreshing, every decision of which is
//! a transition of the one state machine in `refresh_state`); `background` (the refresher);
//! `stats` and `error`.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use crate::error::AuthError;
use crate::idp_http::{IdpClient, IdpError};
use crate::jwt::{self, ClaimsPolicy, VerifyKey};

mod background;
mod config;
mod error;
mod fetch;
mod jwk;
mod parse;
mod refresh_state;
mod snapshot;
mod stats;
mod x509;

pub use crate::weak_keys::{MIN_RSA_BITS, ed25519_key_is_small_order};
pub use config::{
    DEFAULT_TTL, FETCH_FAILURE_BACKOFF, KeyFormat, KeySetConfig, KeySetTiming, MAX_TTL, MIN_TTL,
    REFRESH_COOLDOWN, STALE_IF_ERROR,
};
pub use error::KeySetError;
pub use parse::{ParsedKeys, parse_jwks, parse_x509_map};
pub use snapshot::Verified;
pub use stats::KeySetStats;

use fetch::Inner;

/// A cached, self-refreshing remote key set. Cheap to clone (shared state inside); create one
/// per issuer / URL and never share it across providers or tenants.
#[derive(Clone)]
pub struct KeySet {
    inner: Arc<Inner>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("url", &self.inner.shown_url)
            .field("format", &self.inner.config.format)
            .field("stats", &self.stats())
            .finish()
    }
}

impl KeySet {
    /// A key set fetched from `config.url` with `client`. Vets the URL now (HTTPS, or plain HTTP
    /// to loopback when the client allows it); fetches lazily on first use.
    pub fn new(client: IdpClient, config: KeySetConfig) -> Result<KeySet, IdpError> {
        Ok(KeySet {
            inner: Arc::new(Inner::new(client, config)?),
        })
    }

    /// The document URL (without query).
    pub fn url(&self) -> &str {
        &self.inner.shown_url
    }

    /// The settings.
    pub fn config(&self) -> &KeySetConfig {
        &self.inner.config
    }

    /// Parses the token, selects the key by `kid` and algorithm (one forced refresh on an unknown
    /// `kid`, single-flight, rate-limited, negatively cached), verifies the signature and checks
    /// the claims. Returns the claims and `exp`.
    ///
    /// A refused token is [`AuthError::InvalidToken`] (401); no usable key because the identity
    /// provider is unreachable is [`AuthError::Unavailable`] (503).
    pub async fn verify(
        &self,
        token: &str,
        policy: &ClaimsPolicy,
        max_token_bytes: usize,
    ) -> Result<Verified, AuthError> {
        // Everything refusable without keys is refused before any network or crypto.
        let parsed = jwt::parse(token, max_token_bytes).map_err(AuthError::InvalidToken)?;
        let mut snapshot = self.inner.usable_snapshot().await?;
        if let Some(kid) = &parsed.header.kid
            && !snapshot.has_kid(kid)
        {
            snapshot = self.inner.refresh_for_unknown_kid(kid).await?;
        }
        snapshot.verify(parsed, policy)
    }

    /// [`KeySet::verify`] without awaiting, when it needs no fetch: the token is malformed, or the
    /// current key set is fresh and knows the token's `kid`. `None` = call [`KeySet::verify`]
    /// (a cold or expired set, an unknown `kid`): it decides those exactly as before.
    pub fn verify_now(
        &self,
        token: &str,
        policy: &ClaimsPolicy,
        max_token_bytes: usize,
    ) -> Option<Result<Verified, AuthError>> {
        let parsed = match jwt::parse(token, max_token_bytes) {
            Ok(parsed) => parsed,
            Err(e) => return Some(Err(AuthError::InvalidToken(e))),
        };
        let snapshot = self.inner.snapshot.load_full()?;
        if Instant::now() >= snapshot.expires_at() {
            return None;
        }
        if let Some(kid) = &parsed.header.kid
            && !snapshot.has_kid(kid)
        {
            return None;
        }
        Some(snapshot.verify(parsed, policy))
    }

    /// The current keys (fetching first if the set is cold or stale past `stale_if_error`).
    pub async fn keys(&self) -> Result<Arc<[VerifyKey]>, AuthError> {
        Ok(self.inner.usable_snapshot().await?.keys.clone())
    }

    /// Fetches now (single-flight, honouring `ETag`), regardless of the current lifetime; for
    /// warm-up at startup and for tests. Not rate-limited: do not call per request.
    pub async fn refresh(&self) -> Result<(), KeySetError> {
        self.inner.refresh().await.map(|_| ())
    }

    /// Counters and the state of the current snapshot.
    pub fn stats(&self) -> KeySetStats {
        let c = &self.inner.counters;
        let snap = self.inner.snapshot.load();
        KeySetStats {
            fetches: c.fetches.load(Ordering::Relaxed),
            failures: c.failures.load(Ordering::Relaxed),
            forced_refreshes: c.forced.load(Ordering::Relaxed),
            not_modified: c.not_modified.load(Ordering::Relaxed),
            key_age: snap.as_ref().map(|s| s.validated_at.elapsed()),
            keys: snap.as_ref().map_or(0, |s| s.keys.len()),
            ttl: snap.as_ref().map(|s| s.ttl),
        }
    }
}
